"""Support Copilot: a desktop copilot that sits beside any help desk."""

from copilot.threads import cap_native_threads

__version__ = "0.1.0"

cap_native_threads()  # before NumPy or onnxruntime load (every entry point imports this package first)
