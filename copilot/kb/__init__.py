"""The knowledge base: import, index (SQLite FTS5), retrieve with reasons, and edit with history."""
