"""Subcommands of the harness CLI, one module per command (imported lazily)."""
