"""Configuration: typed settings, secrets (the OS keyring) and where the app keeps its files."""
