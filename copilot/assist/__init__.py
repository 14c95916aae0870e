"""Use cases as plain async functions: what the CLI and the GUI both call."""
