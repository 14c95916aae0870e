"""The built-in engine: offline, deterministic and fast. The router's first tier."""

ENGINE = "built-in"
MODEL = "builtin-rules-1"
