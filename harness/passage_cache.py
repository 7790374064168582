"""Finished passage records kept across runs, so that rerunning a pipeline on
text it has already scored costs a lookup instead of cleaning, retranslating
and scoring again (the embedding model is then never even loaded).

A record is stored in the translation cache's SQLite file (same locking,
recovery and ``harness cache info/clear``), under a key made of

* the pipeline part of the run signature: config, cleaner versions, each
  hop's translator fingerprint, metric versions and settings, the embedding
  model's weights hash, package versions (everything but the data);
* a digest of the harness's own source and data files and of the source
  file of every plugin the run uses (a cleaner, metric or translator that is
  not part of the harness), so editing code never serves an old result;
* the passage's text and references.

The passage id and speaker are not part of the key (nothing scored depends
on them); a hit gets the current passage's. Failed passages are not stored.
``--no-cache`` turns this cache off together with the translation cache.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

from .results import RESULTS_SCHEMA, PassageResult
from .signature import canonical_json
from .translate.cache import CachedTranslation, CacheKey, TranslationCache
from .translate.fingerprint import directory_digest, file_digest

#: Bump when the record layout written by the pipeline changes.
RECORD_FORMAT = RESULTS_SCHEMA
_NOT_PIPELINE = ("transcript_sha256", "references_sha256", "n_passages", "config_name", "key")
_PACKAGE_DIR = Path(__file__).resolve().parent


def code_digest(components: Iterable[Any]) -> str:
    """A digest of the harness package's files and of the source files that
    define ``components`` (cleaners, metrics, translators) outside it."""
    files: dict[str, str] = {"harness": directory_digest(_PACKAGE_DIR)}
    for component in components:
        for obj in (component, type(component), getattr(component, "func", None), getattr(component, "function", None)):
            if obj is None:
                continue
            try:
                source = inspect.getsourcefile(obj) or inspect.getfile(obj)
            except TypeError:  # a builtin, or an object without a module file
                continue
            path = Path(source).resolve()
            if path.is_file() and _PACKAGE_DIR not in path.parents:
                files[str(path)] = file_digest(path)
    return hashlib.sha256(canonical_json(files).encode("utf-8")).hexdigest()


class PassageCache:
    """Scored passage records of one pipeline, keyed by text and references."""

    def __init__(self, store: TranslationCache, namespace: str, label: str):
        self.store = store
        self.namespace = namespace
        self.label = label

    @classmethod
    def for_pipeline(cls, store: TranslationCache, signature: dict[str, Any], components: Iterable[Any],
                     label: str) -> "PassageCache":
        pipeline = {k: v for k, v in signature.items() if k not in _NOT_PIPELINE}
        namespace = hashlib.sha256(
            canonical_json({"format": RECORD_FORMAT, "pipeline": pipeline, "code": code_digest(components)}).encode()
        ).hexdigest()
        return cls(store, namespace, label)

    def _key(self, passage) -> CacheKey:
        text = canonical_json([passage.text, list(passage.references)])
        return CacheKey(f"passage-record:{self.namespace}", "passage", "record", text, label=self.label)

    def get_many(self, passages: Sequence[Any]) -> dict[str, PassageResult]:
        """Stored records of ``passages`` by passage id (the others are absent)."""
        keys = {passage.id: self._key(passage) for passage in passages}
        found = self.store.get_many(list(dict.fromkeys(keys.values())))
        records: dict[str, PassageResult] = {}
        for passage in passages:
            hit = found.get(keys[passage.id])
            if hit is None:
                continue
            try:
                record = PassageResult.from_json(json.loads(hit.text))
            except (ValueError, KeyError, TypeError, AttributeError):  # damaged entry: compute the passage again
                continue
            record.id, record.speaker, record.references = passage.id, passage.speaker, list(passage.references)
            records[passage.id] = record
        return records

    def put_many(self, pairs: Iterable[tuple[Any, PassageResult]]) -> None:
        """Store finished records (failed passages are skipped)."""
        self.store.put_many([
            (self._key(passage), CachedTranslation(json.dumps(record.to_json(), sort_keys=True)))
            for passage, record in pairs
            if record.error is None
        ])
