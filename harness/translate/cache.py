"""Persistent translation cache: SQLite under the user cache directory.

One row per translated sentence, keyed by a digest of (translator
fingerprint, source language, target language, exact text). The translator
fingerprint covers the backend, the model files and every decoding setting,
so any change there is a miss, never a stale hit.

Two harness processes may share the file: WAL journaling lets readers and a
writer work at once and a busy timeout makes a second writer wait instead of
failing. A file that is not a database, or a database that is not ours, is
reported (a logged warning plus a ``<name>.recovered`` note beside it), moved
aside to ``<name>.corrupt`` and rebuilt empty: a cache can cost time, never a
run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import OutputError

logger = logging.getLogger(__name__)

ENV_VAR = "HARNESS_CACHE_DIR"
CACHE_FILE = "translations.sqlite3"
SCHEMA_ID = "harness-translation-cache"
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_MS = 60_000
_QUERY_CHUNK = 500  # below SQLite's limit on bound parameters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    output TEXT NOT NULL,
    notes TEXT NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS translations_label ON translations (label);
"""


def default_cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR`` if set, else the platform's user cache dir for harness."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("harness", appauthor=False))


#: The rows of the passage cache (harness/passage_cache.py): finished passage
#: records stored under the pseudo language pair passage -> record.
_IS_PASSAGE = "src = 'passage' AND tgt = 'record'"


@dataclass(frozen=True)
class CacheKey:
    """What a cached translation depends on. ``label`` only names it in ``info()``."""

    translator: str
    """The translator's fingerprint: backend, model files, decoding settings."""
    src: str
    tgt: str
    text: str
    label: str = field(default="", compare=False)
    """Human-readable ``backend:model`` for ``harness cache info``; not part of the key."""

    def digest(self) -> str:
        blob = json.dumps([self.translator, self.src, self.tgt, self.text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedTranslation:
    text: str
    notes: tuple[str, ...] = ()
    """What happened while translating (e.g. a sentence split to fit the model)."""


class CacheCorrupt(Exception):
    """The file is not a harness translation cache (raised and handled internally)."""


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """An inter-process lock around opening/rebuilding (POSIX; a no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's own locking still applies
        yield
        return
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class TranslationCache(contextlib.AbstractContextManager):
    """A persistent key -> translation store shared by processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open()

    # -- opening and recovery ------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    def _validate_or_create(self, conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "meta" not in tables:
            raise CacheCorrupt(f"a database with other tables ({', '.join(sorted(tables))})")
        if "meta" in tables:
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            if meta.get("schema") != SCHEMA_ID:
                raise CacheCorrupt(f"a database of another program (schema {meta.get('schema')!r})")
            if meta.get("version") != SCHEMA_VERSION:
                raise CacheCorrupt(f"cache format version {meta.get('version')!r}, this harness writes {SCHEMA_VERSION}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('version', ?)", (SCHEMA_ID, SCHEMA_VERSION))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _open(self) -> None:
        with _exclusive(self.path.with_name(self.path.name + ".lock")):
            conn = self._connect()
            try:
                self._validate_or_create(conn)
            except (sqlite3.DatabaseError, CacheCorrupt) as exc:
                conn.close()
                if not (isinstance(exc, CacheCorrupt) or _is_damage(exc)):
                    raise  # locked, read-only, disk full: not the file's fault, so it is kept
                self._set_aside(str(exc))
                conn = self._connect()
                self._validate_or_create(conn)
        self._conn = conn

    def _set_aside(self, reason: str) -> None:
        """Move an unusable file to ``<name>.corrupt``, note why, start afresh."""
        aside = self.path.with_name(self.path.name + ".corrupt")
        note = self.path.with_name(self.path.name + ".recovered")
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                self.path.with_name(self.path.name + suffix).unlink()
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path, aside)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        note.write_text(
            f"{stamp}: {self.path} was not a usable translation cache ({reason}); "
            f"it was moved to {aside.name} and a new empty cache was created.\n",
            encoding="utf-8",
        )
        logger.warning("translation cache %s was unusable (%s); moved to %s and rebuilt", self.path, reason, aside.name)

    def _recover(self, exc: Exception) -> None:
        """A query failed on a damaged file: rebuild so the run can go on."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        with _exclusive(self.path.with_name(self.path.name + ".lock")):
            self._set_aside(f"{type(exc).__name__}: {exc}")
        self._open()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._open()
        assert self._conn is not None
        return self._conn

    # -- reading and writing -----------------------------------------------------

    def get_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CachedTranslation]:
        """The cached translations among ``keys`` (missing keys are absent)."""
        by_digest = {key.digest(): key for key in keys}
        digests = list(by_digest)
        found: dict[CacheKey, CachedTranslation] = {}
        with self._lock:
            try:
                for start in range(0, len(digests), _QUERY_CHUNK):
                    chunk = digests[start : start + _QUERY_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = self.conn.execute(f"SELECT key, output, notes FROM translations WHERE key IN ({marks})", chunk)
                    for digest, output, notes in rows:
                        found[by_digest[digest]] = CachedTranslation(output, tuple(json.loads(notes)))
            except (sqlite3.DatabaseError, ValueError) as exc:
                if _is_damage(exc) or isinstance(exc, ValueError):  # ValueError: notes that are not JSON
                    self._recover(exc)
                else:
                    logger.warning("translation cache %s cannot be read (%s); translating without it", self.path, exc)
                return {}
        return found

    def put_many(self, items: Iterable[tuple[CacheKey, CachedTranslation]]) -> int:
        """Store translations (replacing any under the same key); returns how many."""
        now = time.time()
        rows = [
            (key.digest(), key.label, key.src, key.tgt, value.text, json.dumps(list(value.notes)), now)
            for key, value in items
        ]
        if not rows:
            return 0
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._write(rows)
                    return len(rows)
                except sqlite3.DatabaseError as exc:
                    if attempt == 2 or not _is_damage(exc):
                        logger.warning(
                            "translation cache %s cannot be written (%s); %d results not stored", self.path, exc, len(rows)
                        )
                        return 0
                    self._recover(exc)
        return 0

    def _write(self, rows: list[tuple]) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    # -- maintenance ---------------------------------------------------------------

    def info(self) -> dict:
        """Entries, bytes on disk, translations per model label, and the
        finished passages of the passage cache (kept in the same file), counted apart."""
        with self._lock:
            conn = self.conn
            entries = conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
            passages = conn.execute(f"SELECT COUNT(*) FROM translations WHERE {_IS_PASSAGE}").fetchone()[0]
            by_model = [
                {"model": label or "(unlabelled)", "entries": count, "languages": sorted(set(pairs.split(",")))}
                for label, count, pairs in conn.execute(
                    "SELECT label, COUNT(*), GROUP_CONCAT(DISTINCT src || '-' || tgt) FROM translations "
                    f"WHERE NOT ({_IS_PASSAGE}) GROUP BY label ORDER BY COUNT(*) DESC, label"
                )
            ]
        size = sum(
            p.stat().st_size for p in (self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))) if p.exists()
        )
        return {"path": str(self.path), "entries": entries, "translations": entries - passages, "passages": passages,
                "size_bytes": size, "by_model": by_model}

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        return sum(self.clear_counts().values())

    def clear_counts(self) -> dict[str, int]:
        """Delete every entry; returns how many translations and finished passages there were."""
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                passages = conn.execute(f"SELECT COUNT(*) FROM translations WHERE {_IS_PASSAGE}").fetchone()[0]
                removed = conn.execute("DELETE FROM translations").rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            with contextlib.suppress(sqlite3.OperationalError):  # another process is reading: keep the space
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"translations": removed - passages, "passages": passages}

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __exit__(self, *exc_info) -> None:  # __enter__ (returns the cache): AbstractContextManager's
        self.close()


def _is_damage(exc: Exception) -> bool:
    """A damaged or foreign file (SQLITE_CORRUPT, SQLITE_NOTADB), as opposed to
    a busy, read-only or full one (OperationalError), which is left alone."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, (sqlite3.OperationalError, sqlite3.IntegrityError, sqlite3.ProgrammingError)
    )


def open_cache(cache_dir: Path | None = None, enabled: bool = True) -> TranslationCache | None:
    """The cache to use for a run, or None when disabled (``--no-cache``).

    A directory the user chose (``--cache-dir`` or ``$HARNESS_CACHE_DIR``)
    that cannot be used is an error; the default location failing only costs
    the cache, with a warning.
    """
    if not enabled:
        return None
    explicit = cache_dir is not None or bool(os.environ.get(ENV_VAR))
    directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    try:
        return TranslationCache(directory / CACHE_FILE)
    except (OSError, sqlite3.Error) as exc:
        if explicit:
            raise OutputError(f"translation cache directory {directory} cannot be used: {exc}") from None
        logger.warning("translation cache at %s cannot be used (%s); running without a cache", directory, exc)
        return None
