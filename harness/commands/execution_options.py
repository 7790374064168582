"""``--workers``, ``--executor`` and ``--ray-address``: the options of every
command that runs a pipeline (run, compare, baseline save, regress)."""

from __future__ import annotations

from typing import Any, Callable

import click


def execution_options(command: Callable) -> Callable:
    """Add the three options; the command receives ``workers``, ``executor`` and ``ray_address``."""
    command = click.option("--ray-address", metavar="ADDR",
                           help="Ray cluster to run on (implies --executor ray; default: $RAY_ADDRESS, "
                                "else a local Ray instance).")(command)
    command = click.option("--executor", type=click.Choice(["local", "ray"]),
                           help="Where the work runs: this machine's cores (default) or a Ray cluster "
                                "(pip install 'harness[ray]').")(command)
    command = click.option("--workers", type=click.IntRange(min=1), metavar="N",
                           help="Worker processes (local) or actors (ray). Default: every core. "
                                "Changes no number.")(command)
    return command


def apply_execution(config: Any, workers: int | None, executor: str | None, ray_address: str | None) -> Any:
    """``config`` with the options on top of its ``execution:`` section."""
    from ..execution import with_execution

    return with_execution(config, executor=executor, workers=workers, ray_address=ray_address)
