"""Subcommands of the harness CLI, one module per command (imported lazily)."""

from __future__ import annotations

import click


def check_cleaners_only(cleaners, cleaners_only: bool) -> None:
    """``--cleaners-only`` modifies ``--cleaner``: alone it would mean no cleaners at all."""
    if cleaners_only and not cleaners:
        raise click.UsageError("--cleaners-only needs at least one --cleaner (for no cleaners at all: -c raw)")
