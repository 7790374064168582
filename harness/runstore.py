"""A run's output folder: append-only results while running, atomic files at the end.

Layout of ``runs/<name>/``::

    .harness-run      the marker: this folder holds a harness run (only such a
                      folder is ever cleared by --force)
    run.json          signature + state ("running" / "complete"), written atomically
    results.jsonl     one line per finished passage, appended and fsync'ed per chunk
    results.json      everything, written atomically when the run completes
    report.md, passages/<id>.md, report.html

A run killed at any moment (even SIGKILL) leaves at worst a half-written last
line in ``results.jsonl``; reopening the folder trims it and the rerun
computes only the passages that are missing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .errors import OutputError
from .jsonvalues import plain

RESULTS_JSONL = "results.jsonl"
RUN_JSON = "run.json"
#: The marker file that makes a folder a harness run folder, written when a run
#: takes the folder. ``--force`` clears a non-empty folder only when it holds
#: this marker: never a folder of the user's own files, whatever it contains.
MARKER = ".harness-run"
MARKER_TEXT = "This folder holds a harness run; `harness run --force` may empty it.\n"
LOCK = ".lock"


def _os_error(exc: OSError, path: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(f"{path}: disk full; finished passages are kept, free space and rerun to resume")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"{path}: not writable ({exc.strerror}); choose another folder with --out")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_open(path: Path) -> Iterator[IO[str]]:
    """A text handle whose content replaces ``path`` when the block ends.

    The one way the harness writes an output file: the text goes to a new
    temporary file beside ``path`` (created exclusively, never through a
    link), which is fsync'ed and renamed over ``path``. Readers see the old
    file or the complete new one; a symbolic link planted at ``path`` is
    replaced, its target never written; if the block raises, nothing changes
    and the temporary file is removed."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _os_error(exc, path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            # mkstemp makes the file owner-only; a report gets the usual mode
            os.fchmod(handle.fileno(), 0o666 & ~_UMASK)
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)  # rename(2) replaces a link itself, never its target
    except OSError as exc:
        _unlink_quietly(tmp_name)
        raise _os_error(exc, path) from None
    except BaseException:
        _unlink_quietly(tmp_name)
        raise


def atomic_write(path: Path, chunks: Iterable[str]) -> None:
    """Write text to ``path`` through :func:`atomic_open`: readers see the old
    file or the complete new one, never a partial one, and a link at ``path``
    is replaced, not written through."""
    with atomic_open(path) as handle:
        for chunk in chunks:
            handle.write(chunk)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, [text])


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, strict_json_dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def strict_json_dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that writes strict JSON: a NaN or infinite score (a
    metric with nothing to average) becomes ``null``, which JavaScript, jq
    and every other reader accept; ``NaN`` is not JSON. Numeric arrays read
    back with ``dtype=float`` turn ``null`` into NaN again."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:
        return json.dumps(plain(value), allow_nan=False, **options)


def open_no_follow(path: Path, flags: int, mode: str) -> IO:
    """``open`` for a file the harness keeps open (its lock, its results log),
    refusing a symbolic link at ``path`` instead of writing through it."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666 & ~_UMASK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{path}: is a symbolic link; the harness never writes through links; "
                              f"remove it or choose another --out") from None
        raise
    return os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}))


def _unlink_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


class RunStore:
    """Owns one output folder for the duration of a run (an exclusive lock)."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self._lock: IO | None = None
        self._results: IO | None = None

    # -- lifecycle ---------------------------------------------------------
    def open(self, signature: dict[str, Any], *, force: bool, resume: bool) -> set[str]:
        """Prepare the folder; return the ids of passages already finished.

        An existing folder is resumed when it holds an unfinished run with the
        same signature key; anything else is refused unless ``force``.
        """
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise OutputError(f"{self.out_dir}: exists and is not a folder; choose another --out")
        if not force:
            for name in (LOCK, MARKER, RUN_JSON, RESULTS_JSONL):
                if (self.out_dir / name).is_symlink():
                    raise OutputError(f"{self.out_dir / name}: is a symbolic link; the harness never writes "
                                      f"through links; remove it or choose another --out")
        existing = self.read_run_json()
        if self.out_dir.exists() and any(c.name not in (LOCK, MARKER) for c in self.out_dir.iterdir()):
            ours = self.is_marked()
            same = existing is not None and existing.get("signature", {}).get("key") == signature["key"]
            legacy_resume = resume and not force and same and existing.get("state") != "complete"
            if not ours and not legacy_resume:  # (a run of an older harness, without the marker, still resumes)
                # never advise --force for a folder it will not clear
                raise OutputError(
                    f"{self.out_dir}: exists and is not a harness run (no {MARKER} marker file), so "
                    f"{'--force will not clear it' if force else 'it is left alone'}; choose another --out "
                    f"(or empty the folder yourself)")
            if force:
                self._clear_unless_locked()
            elif not resume:
                raise OutputError(f"{self.out_dir}: already exists; use --force to overwrite it")
            elif existing is None:
                raise OutputError(f"{self.out_dir}: holds a harness run that cannot be resumed (no readable "
                                  f"{RUN_JSON}); use --force to start it again or choose another --out")
            elif not same:
                raise OutputError(
                    f"{self.out_dir}: holds a run of a different pipeline or data "
                    f"(signature {(existing or {}).get('signature', {}).get('key')} != {signature['key']}); "
                    f"use --force to overwrite it or choose another --out"
                )
            elif existing.get("state") == "complete":
                raise OutputError(f"{self.out_dir}: this run is already complete; use --force to run it again")
        with self._released_on_error():
            self.out_dir.mkdir(parents=True, exist_ok=True)
            if self._lock is None:
                self._acquire_lock()
            if not self.is_marked():
                atomic_write_text(self.out_dir / MARKER, MARKER_TEXT)
            passages = self.out_dir / "passages"
            if passages.is_symlink():  # reports go into a folder of the run's own, never through a link
                passages.unlink()
            self._remove_temporaries()
            done = self._recover_results()
            atomic_write_json(self.out_dir / RUN_JSON, {"state": "running", "signature": signature})
            self._results = open_no_follow(self.out_dir / RESULTS_JSONL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, "a")
        return done

    @contextlib.contextmanager
    def _released_on_error(self) -> Iterator[None]:
        """Close files and release the lock if preparing the folder fails."""
        try:
            yield
        except OSError as exc:
            self.close()
            raise _os_error(exc, self.out_dir) from None
        except BaseException:
            self.close()
            raise

    def _acquire_lock(self) -> None:
        self._lock = open_no_follow(self.out_dir / LOCK, os.O_WRONLY | os.O_CREAT, "w")
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise OutputError(f"{self.out_dir}: another harness run is writing to this folder") from None

    def is_marked(self) -> bool:
        """Whether the folder holds a harness run: its marker is a regular file
        (not a link to one) with the marker's text."""
        marker = self.out_dir / MARKER
        try:
            return not marker.is_symlink() and marker.is_file() and \
                marker.read_text(encoding="utf-8").startswith(MARKER_TEXT.split(";")[0])
        except (OSError, UnicodeDecodeError):
            return False

    def _clear_unless_locked(self) -> None:
        """--force: empty the folder, but never one another run is writing to
        (take its lock first, and keep the lock file)."""
        with self._released_on_error():
            lock = self.out_dir / LOCK
            if lock.is_symlink():
                lock.unlink()
            elif lock.exists():
                self._acquire_lock()
            self._clear()

    def _clear(self) -> None:
        for child in self.out_dir.iterdir():
            if child.name == MARKER or (child.name == LOCK and self._lock is not None):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def close(self) -> None:
        if self._results is not None:
            self._results.close()
            self._results = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- results -----------------------------------------------------------
    def read_run_json(self) -> dict | None:
        try:
            with open_no_follow(self.out_dir / RUN_JSON, os.O_RDONLY, "r") as handle:
                value = json.loads(handle.read())
        except (OSError, ValueError, OutputError):
            return None
        return value if isinstance(value, dict) else None

    def _remove_temporaries(self) -> None:
        """Delete what a run killed inside :func:`atomic_write` left behind
        (``.<name>.*.tmp``); safe, since we hold the folder's lock."""
        for folder in (self.out_dir, self.out_dir / "passages"):
            for stale in folder.glob(".*.tmp"):
                _unlink_quietly(str(stale))

    def _recover_results(self) -> set[str]:
        """Trim a torn last line (a kill mid-write) and return the finished ids."""
        path = self.out_dir / RESULTS_JSONL
        if not path.exists():
            return set()
        done: set[str] = set()
        good_bytes = 0
        with open_no_follow(path, os.O_RDONLY, "rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                try:
                    record = json.loads(raw)
                except ValueError:
                    break
                done.add(record["id"])
                good_bytes += len(raw)
        if good_bytes != path.stat().st_size:
            with open_no_follow(path, os.O_RDWR, "r+b") as handle:
                handle.truncate(good_bytes)
        return done

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append finished passages durably (one fsync per call)."""
        assert self._results is not None, "store is not open"
        payload = "".join(strict_json_dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        try:
            self._results.write(payload)
            self._results.flush()
            os.fsync(self._results.fileno())
        except OSError as exc:
            raise _os_error(exc, self.out_dir / RESULTS_JSONL) from None

    def iter_records(self) -> Iterator[dict[str, Any]]:
        path = self.out_dir / RESULTS_JSONL
        if not path.exists():
            return
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.endswith("\n"):
                    yield json.loads(line)

    def mark_complete(self, signature: dict[str, Any], summary: dict[str, Any]) -> None:
        atomic_write_json(self.out_dir / RUN_JSON, {"state": "complete", "signature": signature, "summary": summary})


def find_resumable(runs_root: Path, config_name: str, signature_key: str) -> Path | None:
    """The newest unfinished run of the same pipeline under ``runs_root``, if any:
    so rerunning the same command after an interruption picks up where it stopped."""
    if not runs_root.is_dir():
        return None
    candidates = sorted(runs_root.glob(f"{config_name}-*/{RUN_JSON}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for run_json in candidates:
        try:
            state = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if state.get("state") == "running" and state.get("signature", {}).get("key") == signature_key:
            return run_json.parent
    return None
