"""Worker processes for GIL-holding work, robust to what user code does in them.

:class:`WorkerPool` keeps ``size`` worker processes (:mod:`.worker`), each
running one task at a time. :meth:`WorkerPool.submit` returns a
:class:`concurrent.futures.Future`; a thread of the main process hands tasks
to idle workers and collects their answers, so the main process's own work
(translation, the embedding model) goes on meanwhile.

Unlike :class:`concurrent.futures.ProcessPoolExecutor`, where one worker
that dies breaks the whole pool, here:

* a task that raises anything (``SystemExit``, ``KeyboardInterrupt``
  included) fails only its future, with :class:`TaskFailed`;
* a task that ends its process (``os._exit``, a segfault, the OOM killer)
  fails only its future, with :class:`WorkerLost`, or is retried on a fresh
  worker when submitted with ``retries``;
* a task that runs past its ``timeout`` has its worker killed (SIGKILL: a
  real timeout, which no signal handler in user code can ignore) and fails
  with :class:`TaskTimeout`.

A new worker replaces every one that was lost. Workers are forked from a
fork server that has imported the harness once (cheap to start, and no fork
of a process that runs model threads); they ignore Ctrl-C (the main process
handles it and closes the pool) and die with the main process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

#: modules the fork server imports once, so each forked worker starts warm
PRELOAD = ["harness.execution.worker", "harness.execution.warm"]
#: a timed-out worker is killed this long after its task's limit (the task
#: may still end itself with its own, more precise error)
GRACE_S = 1.0


class TaskFailed(Exception):
    """The task raised in its worker."""

    def __init__(self, kind: str, message: str, traceback_text: str = "", detail: str = ""):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message
        self.traceback = traceback_text
        self.detail = detail


class WorkerLost(Exception):
    """The worker process ended while running the task."""

    def __init__(self, exitcode: int | None):
        how = (f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0
               else f"exit code {exitcode}")
        super().__init__(f"the worker process ended ({how})")
        self.exitcode = exitcode


class TaskTimeout(Exception):
    """The task ran past its time limit; its worker was killed."""

    def __init__(self, seconds: float):
        super().__init__(f"took longer than {seconds:g} s")
        self.seconds = seconds


_CONTEXT = None
_STARTING = threading.local()


def _without_main(get_preparation_data):
    """multiprocessing re-imports the main module in each new process (so that
    objects defined there can be unpickled). A worker needs nothing from it,
    and a script that calls the harness without an ``if __name__ ==
    '__main__'`` guard would start its run again in every worker: while the
    pool starts a worker, the main module is left out."""

    def prepared(name):
        data = get_preparation_data(name)
        if getattr(_STARTING, "active", False):
            data.pop("init_main_from_name", None)
            data.pop("init_main_from_path", None)
        return data

    prepared.harness_wrapped = True
    return prepared


def _context():
    """The fork server context, with the harness preloaded (once per process)."""
    global _CONTEXT
    if _CONTEXT is None:
        from multiprocessing import spawn

        if not getattr(spawn.get_preparation_data, "harness_wrapped", False):
            spawn.get_preparation_data = _without_main(spawn.get_preparation_data)
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
        else:  # pragma: no cover - Windows, some macOS setups
            context = multiprocessing.get_context("spawn")
        _CONTEXT = context
    return _CONTEXT


@dataclass
class _Task:
    id: int
    kind: str
    payload: Any
    timeout: float | None
    retries: int
    future: Future = field(default_factory=Future)
    started: bool = False


class _Worker:
    def __init__(self, context, init: dict[str, Any]):
        from .worker import worker_main

        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=worker_main, args=(child, init), daemon=True,
                                       name="harness-worker")
        _STARTING.active = True
        try:
            self.process.start()
        finally:
            _STARTING.active = False
        child.close()
        self.task: _Task | None = None
        self.deadline: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        try:
            self.process.kill()
        except (OSError, ValueError, AttributeError):
            pass
        self.process.join(5)
        self.close_conn()

    def close_conn(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass


class WorkerPool:
    """``size`` worker processes for one run (see the module's docstring).

    ``init`` goes to every worker: the run config (``config``), and the main
    process's working directory and ``sys.path`` so a user's plugin module
    imports there as it does here.
    """

    def __init__(self, size: int, config: dict[str, Any]):
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = size
        self._init = {"config": config, "cwd": os.getcwd(), "sys_path": list(sys.path)}
        self._context = _context()
        self._ids = itertools.count()
        self._queue: deque[_Task] = deque()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._closed = False
        self.started_workers = 0
        self.lost_workers = 0
        self._thread = threading.Thread(target=self._loop, name="harness-pool", daemon=True)
        self._thread.start()

    # -- the caller's side ---------------------------------------------------
    def submit(self, kind: str, payload: Any, *, timeout: float | None = None, retries: int = 0) -> Future:
        """Run ``kind`` (a task of :class:`~harness.execution.worker.WorkerState`)
        on ``payload`` in a worker; ``timeout`` counts from when a worker starts it."""
        task = _Task(next(self._ids), kind, payload, timeout, retries)
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            self._queue.append(task)
        self._wake()
        return task.future

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers if w.pid is not None]

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers: let them finish (``kill=False``), or at once (Ctrl-C)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
        for task in pending:
            task.future.cancel()
        self._wake()
        self._thread.join(30)
        for worker in list(self._workers):
            if kill or worker.task is not None:
                worker.kill()
                continue
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in list(self._workers):
            worker.process.join(5)
            if worker.process.is_alive():
                worker.kill()
            worker.close_conn()
        self._workers.clear()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(kill=exc_type is not None)

    # -- the pool's thread ---------------------------------------------------------
    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    for worker in self._workers:
                        if worker.task is not None and not worker.task.future.done():
                            worker.task.future.cancel()
                    return
            self._dispatch()
            busy = [w for w in self._workers if w.task is not None]
            deadlines = [w.deadline for w in busy if w.deadline is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready = wait([self._wake_r, *(w.conn for w in busy)], timeout)
            if self._wake_r in ready:
                try:
                    os.read(self._wake_r, 4096)
                except (BlockingIOError, OSError):
                    pass
            for worker in busy:
                if worker.conn in ready:
                    self._receive(worker)
            now = time.monotonic()
            for worker in busy:
                if worker.task is not None and worker.deadline is not None and now >= worker.deadline:
                    task = worker.task
                    self._replace(worker)
                    task.future.set_exception(TaskTimeout(task.timeout or 0.0))

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                idle = next((w for w in self._workers if w.task is None), None)
                if idle is None and len(self._workers) >= self.size:
                    return
                task = self._queue.popleft()
            if not task.started:
                if not task.future.set_running_or_notify_cancel():
                    continue
                task.started = True
            if idle is None:
                idle = _Worker(self._context, self._init)
                self.started_workers += 1
                with self._lock:
                    self._workers.append(idle)
            idle.task = task
            idle.deadline = time.monotonic() + task.timeout + GRACE_S if task.timeout is not None else None
            try:
                idle.conn.send((task.id, task.kind, task.payload))
            except (OSError, ValueError, BrokenPipeError):
                self._lost(idle)
            except Exception as exc:  # the payload cannot be pickled: the caller's bug
                idle.task = None
                idle.deadline = None
                task.future.set_exception(exc)

    def _receive(self, worker: _Worker) -> None:
        try:
            task_id, ok, value = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker)
            return
        except Exception as exc:  # an answer that cannot be unpickled
            task = worker.task
            worker.task, worker.deadline = None, None
            if task is not None:
                task.future.set_exception(TaskFailed(type(exc).__name__, str(exc)))
            return
        task = worker.task
        worker.task, worker.deadline = None, None
        if task is None or task.id != task_id:  # pragma: no cover - protocol error
            return
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(TaskFailed(*value))

    def _lost(self, worker: _Worker) -> None:
        """The worker died with a task: retry it on a new worker, or fail it."""
        task = worker.task
        worker.process.join(5)
        exitcode = worker.process.exitcode
        self._replace(worker)
        self.lost_workers += 1
        if task is None:
            return
        if task.retries > 0:
            task.retries -= 1
            with self._lock:
                self._queue.appendleft(task)
            return
        task.future.set_exception(WorkerLost(exitcode))

    def _replace(self, worker: _Worker) -> None:
        """Drop ``worker`` (killing it if needed); a new one starts on the next task."""
        worker.task, worker.deadline = None, None
        worker.kill()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
