"""`python -m copilot` is the same as the `support-copilot` command."""

from copilot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
