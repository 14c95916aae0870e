"""View-models: the state behind the main window's views, driven by use cases, announced by Qt signals."""
