"""Stable fingerprints of model files and settings, for cache keys and run signatures."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

# Files up to this size are hashed whole; larger ones (weights of a few GB)
# by size plus their first and last 8 MiB, which changes whenever a weight
# file is replaced by another one and costs milliseconds instead of seconds.
_FULL_HASH_LIMIT = 64 * 1024 * 1024
_EDGE_BYTES = 8 * 1024 * 1024
_memo: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """sha256 of a file (sampled for very large files), memoised by (path, size, mtime)."""
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    cached = _memo.get(memo_key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if stat.st_size <= _FULL_HASH_LIMIT:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        else:
            digest.update(f"sampled:{stat.st_size}:".encode())
            digest.update(handle.read(_EDGE_BYTES))
            handle.seek(-_EDGE_BYTES, os.SEEK_END)
            digest.update(handle.read(_EDGE_BYTES))
    result = digest.hexdigest()
    _memo[memo_key] = result
    return result


def directory_digest(directory: Path, skip: tuple[str, ...] = (".", "__pycache__")) -> str:
    """A digest of every file below ``directory`` (relative names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if any(part.startswith(skip) for part in relative.split("/")):
            continue
        digest.update(relative.encode() + b"\0" + file_digest(path).encode() + b"\0")
    return digest.hexdigest()


def settings_digest(settings: Any) -> str:
    """A digest of JSON-able settings, independent of dict key order."""
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def short(digest: str, length: int = 12) -> str:
    return digest[:length]
