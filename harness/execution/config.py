"""The ``execution:`` section of a run config: where the work runs.

None of it changes a number, so none of it is part of the run signature (a
run with 1 worker, 8 workers or on a Ray cluster has the same signature key
and the same ``results.json``), and baselines do not store it.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EXECUTORS = ("local", "ray")


def available_cores() -> int:
    """The cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class RayOptions(BaseModel):
    """How ``executor: ray`` reaches the cluster and what each actor asks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the cluster to join (``ray://host:10001`` or ``host:6379``, or ``auto``);
    #: None: ``$RAY_ADDRESS`` if set, else a local Ray instance started for the run
    address: str | None = None
    #: CPUs each actor reserves
    num_cpus: float = Field(1.0, gt=0)
    #: GPUs each actor reserves when the pipeline uses a GPU (a translation
    #: backend or the embedding model on ``cuda``); ignored otherwise
    num_gpus: float = Field(1.0, ge=0)
    #: chunks in flight per actor (one computing, one waiting keeps it busy)
    chunks_per_actor: int = Field(2, ge=1, le=16)
    #: how often Ray restarts an actor that died, and retries its chunk
    max_restarts: int = Field(3, ge=0)


class ExecutionConfig(BaseModel):
    """Where a run's work goes; changes no number (left out of the signature)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``local`` (this machine's cores) or ``ray`` (a Ray cluster; ``pip install 'harness[ray]'``)
    executor: Literal["local", "ray"] = "local"
    #: worker processes (local) or actors (ray); None: every core this process
    #: may use (local), every CPU of the cluster divided by ``ray.num_cpus`` (ray)
    workers: int | None = Field(None, ge=1, le=1024)
    ray: RayOptions = Field(default_factory=RayOptions)

    def local_workers(self) -> int:
        return self.workers if self.workers is not None else available_cores()
