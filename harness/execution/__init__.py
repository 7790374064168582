"""Where a run's work goes: this machine's cores (the default) or a Ray cluster.

* :mod:`.config` -- the ``execution:`` section of a run config;
* :mod:`.pool` -- worker processes that run GIL-holding work (cleaners,
  TER, anchors) with real timeouts, surviving a worker that dies;
* :mod:`.worker` -- what runs inside a worker process;
* :mod:`.local` -- the local executors (one process, or the pool);
* :mod:`.ray_executor` -- chunks through Ray actors (imports Ray; only when asked for).

Every executor gives the same records for the same passages: the work is cut
into the same pieces whatever the number of workers, and each piece is
computed by the same code.
"""

from __future__ import annotations

from typing import Any

from .config import EXECUTORS, ExecutionConfig, RayOptions, available_cores

__all__ = ["EXECUTORS", "ExecutionConfig", "RayOptions", "available_cores", "check_executor", "with_execution"]

RAY_MISSING = "executor 'ray' needs Ray, which is not installed: pip install 'harness[ray]'"


def check_executor(config: Any) -> None:
    """Refuse, before anything is written, an executor that cannot run here
    (Ray asked for but not installed): one line, exit 2. Imports nothing."""
    import importlib.util

    from ..errors import ConfigError

    if config.execution.executor != "ray":
        return
    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a broken or blocked (sys.modules["ray"] = None) install
        found = False
    if not found:
        raise ConfigError(RAY_MISSING)


def with_execution(config: Any, *, executor: str | None = None, workers: int | None = None,
                   ray_address: str | None = None) -> Any:
    """A copy of a run config with the CLI's ``--executor``, ``--workers`` and
    ``--ray-address`` on top of its ``execution:`` section (None: keep the config's)."""
    execution = config.execution
    update: dict[str, Any] = {}
    if executor is not None:
        update["executor"] = executor
    if workers is not None:
        update["workers"] = workers
    if ray_address is not None:
        update["ray"] = execution.ray.model_copy(update={"address": ray_address})
        update.setdefault("executor", "ray")
    if not update:
        return config
    return config.model_copy(update={"execution": ExecutionConfig.model_validate({**execution.model_dump(), **update})})
