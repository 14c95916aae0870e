"""Support Copilot: a desktop copilot that sits beside any help desk."""

__version__ = "0.1.0"
