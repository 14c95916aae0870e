"""Help-desk connectors: one protocol, one module per help desk, and the built-in demo workspace."""
