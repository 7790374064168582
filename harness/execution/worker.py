"""What runs inside a worker process (:class:`~harness.execution.pool.WorkerPool`).

A worker gets the run config once, builds the cleaner chain and a scorer
from it the first time a task needs them (so the cleaners' data and any
per-process resource load once per worker, not per chunk), then answers
tasks until the pool closes its pipe:

``clean``   one passage through the whole cleaner chain -> text and edits;
``measure`` one stage of one passage through the metrics that run in
            workers (:meth:`~harness.scoring.Scorer.process_metrics`) ->
            ``{(stage, metric): Measurement}``.

Whatever a task does (raise, ``sys.exit``, raise ``KeyboardInterrupt``), the
worker answers with an error and takes the next task; a task that ends the
process (``os._exit``, a crash) or overruns its time is seen by the pool,
which fails only that task and starts a new worker. Ctrl-C is the main
process's business: workers ignore SIGINT, and die with their parent.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import Any

# Imported here so that the fork server loads them once and every worker
# forked from it starts with them (see pool.py).
from .. import config as _config  # noqa: F401


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that started it ends
    (a driver killed with -9 leaves no worker behind)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover
        pass


class WorkerState:
    """The pipeline parts one worker process needs, built on first use."""

    def __init__(self, init: dict[str, Any]):
        from ..config import config_from_dict

        self.config = config_from_dict(init["config"], "worker config")
        self._cleaning = None
        self._scorer = None

    @property
    def cleaning(self):
        if self._cleaning is None:
            from ..pipeline import CleaningStage

            self._cleaning = CleaningStage(self.config, isolate=False)
        return self._cleaning

    @property
    def scorer(self):
        if self._scorer is None:
            from ..scoring import Scorer

            self._scorer = Scorer(self.config.metrics)
        return self._scorer

    def run(self, kind: str, payload: Any) -> Any:
        if kind == "clean":
            passage_id, text = payload
            return self.cleaning.clean_text(passage_id, text)
        if kind == "measure":
            stage, text, refs, source, names = payload
            return self.scorer.measure({stage: [text]}, [list(refs)],
                                       {stage: [source]} if source is not None else None, names)
        if kind == "ping":
            return os.getpid()
        raise ValueError(f"unknown task {kind!r}")


def describe_exception(exc: BaseException) -> tuple[str, str, str, str]:
    """(type name, message, traceback, detail) of an exception, as plain text."""
    return (type(exc).__name__, str(exc), traceback.format_exc(), str(getattr(exc, "detail", "") or ""))


def worker_main(conn, init: dict[str, Any]) -> None:
    """The worker process: answer tasks until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    try:
        os.chdir(init["cwd"])
    except OSError:
        pass
    sys.path[:] = list(init["sys_path"])
    state = WorkerState(init)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, kind, payload = message
        try:
            reply = (task_id, True, state.run(kind, payload))
        except BaseException as exc:  # user code may raise anything, SystemExit and KeyboardInterrupt too
            reply = (task_id, False, describe_exception(exc))
        try:
            conn.send(reply)
        except (EOFError, OSError, BrokenPipeError):
            return
        except Exception as exc:  # a result that cannot be pickled
            conn.send((task_id, False, describe_exception(exc)))
