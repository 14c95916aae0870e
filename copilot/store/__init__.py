"""One SQLite database through sqlite-utils, named forward-only migrations, one writer thread."""

from copilot.store.db import Store, open_database

__all__ = ["Store", "open_database"]
