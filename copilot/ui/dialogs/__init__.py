"""Dialogs, one module per screen; list+form screens share one base."""
