"""Finished passage records kept across runs, so that rerunning a pipeline on
text it has already scored costs a lookup instead of cleaning, retranslating
and scoring again (the embedding model is then never even loaded).

A record is stored in the translation cache's SQLite file (same locking,
recovery and ``harness cache info/clear``), under a key made of

* the pipeline part of the run signature: config, cleaner versions, each
  hop's translator fingerprint, metric versions and settings, the embedding
  model's weights hash, package versions (everything but the data);
* a digest of the harness's own source and data files, of the source file
  of every plugin the run uses (a cleaner, metric or translator that is not
  part of the harness), and of every module such a file imports, directly
  or through other modules, that is not part of Python or of an installed
  package (imports inside functions and relative imports included; found by
  reading the files, so a helper is covered before it is first imported).
  Editing any of that code never serves an old result. A plugin whose
  imports cannot be followed (``importlib.import_module``, ``__import__``,
  ``exec``...) or whose source is not a file gets no passage cache at all;
* the passage's text and references, and those of every passage of its
  chunk, in order.

A chunk is served whole or not at all. Passages are scored a chunk at a
time, and what a shared model computes for one text depends, in its last
bits, on the batch it was in (the embedding model's matrix products take
another path for another batch shape): a passage computed next to other
neighbours would differ from a fresh run by up to 1e-6 relative. Served
only with the same neighbours, a cached run gives exactly the bytes of an
uncached one. (Rerunning the same transcript, what ``regress`` and
``compare`` do, finds every chunk; a transcript with a passage inserted
recomputes the chunks that moved.)

The passage id and speaker are not part of the key (nothing scored depends
on them); a hit gets the current passage's. Failed passages are not stored,
so a chunk with a failed passage is computed again.
``--no-cache`` turns this cache off together with the translation cache.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import json
import site
import sys
import sysconfig
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


def code_digest(components: Iterable[Any]) -> str | None:
    """A digest of the harness package's files, of the source files that
    define ``components`` (cleaners, metrics, translators) outside it, and of
    the user modules those files reach through imports (see :func:`user_closure`).

    None when some plugin's code cannot be fingerprinted: its source is not
    a file, or a module of its closure imports by computed name or runs code
    from strings; such a pipeline must not use the passage cache."""
    files: dict[str, str] = {"harness": directory_digest(_PACKAGE_DIR)}
    roots: list[Path] = []
    for component in components:
        for obj in (component, type(component), getattr(component, "func", None), getattr(component, "function", None)):
            if obj is None:
                continue
            module = inspect.getmodule(obj)
            if module is None or module.__name__ == "builtins" or _is_harness_module(module):
                continue
            try:
                source = inspect.getsourcefile(obj) or inspect.getfile(obj)
            except TypeError:  # a builtin, or an object without a module file
                if _is_installed_module(module):
                    continue
                return None  # user code defined in __main__ or a string: nothing to hash
            path = Path(source).resolve()
            if not path.is_file():
                if _is_installed_module(module):
                    continue
                return None
            if _PACKAGE_DIR not in path.parents:
                files[str(path)] = file_digest(path)
                roots.append(path)
    closure = user_closure(roots)
    if closure is None:
        return None
    for path in closure:
        files[str(path)] = file_digest(path)
    return hashlib.sha256(canonical_json(files).encode("utf-8")).hexdigest()


def _is_harness_module(module: Any) -> bool:
    return module.__name__ == "harness" or module.__name__.startswith("harness.")


def _installed_roots() -> tuple[Path, ...]:
    """Folders whose modules belong to Python or to installed packages."""
    paths = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.add(Path(value).resolve())
    for value in [*getattr(site, "getsitepackages", lambda: [])(), getattr(site, "getusersitepackages", lambda: "")()]:
        if value:
            paths.add(Path(value).resolve())
    return tuple(paths)


def _is_installed(path: Path) -> bool:
    return _PACKAGE_DIR in path.parents or any(root in path.parents for root in _installed_roots())


def _is_installed_module(module: Any) -> bool:
    file = getattr(module, "__file__", None)
    return file is None or _is_installed(Path(file).resolve())


#: Calls that import or run code whose name is computed at run time: a module
#: using them cannot be followed by reading its imports. As attributes
#: (``importlib.import_module(...)``) and, for the builtins, as bare names
#: (``exec(...)``; ``re.compile`` or ``model.eval()`` are not meant).
_DYNAMIC_ATTRIBUTES = {"import_module", "__import__", "run_path", "run_module", "spec_from_file_location",
                       "spec_from_loader", "module_from_spec", "load_source", "load_module", "SourceFileLoader",
                       "reload"}
_DYNAMIC_NAMES = _DYNAMIC_ATTRIBUTES | {"exec", "eval", "compile"}


def user_closure(files: Iterable[Path]) -> list[Path] | None:
    """Every user module file reachable from ``files`` through import
    statements (anywhere in a file: module level, functions, relative
    imports), transitively, leaving out Python's own modules, installed
    packages and the harness; None if a file of the closure imports by
    computed name or runs code from strings (see ``_DYNAMIC``)."""
    seen: set[Path] = set()
    pending = [(Path(f).resolve(), _module_name_of(Path(f))) for f in files]
    while pending:
        path, name = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            return None
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if (isinstance(func, ast.Attribute) and func.attr in _DYNAMIC_ATTRIBUTES) or \
                        (isinstance(func, ast.Name) and func.id in _DYNAMIC_NAMES):
                    return None
            for target in _imported_names(node, name, is_package):
                found = _module_file(target)
                if found is not None and found not in seen:
                    pending.append((found, target))
    return sorted(seen)


def _imported_names(node: ast.AST, module: str | None, is_package: bool) -> list[str]:
    """The absolute module names an import statement may load (``import a.b``
    loads ``a`` and ``a.b``; ``from .x import y`` loads ``pkg.x`` and maybe ``pkg.x.y``)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            names += [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            if not module:
                return []
            package = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        if not base:
            return []
        parts = base.split(".")
        names += [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
        names += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return names


def _module_name_of(path: Path) -> str | None:
    """The module name a loaded file was imported as."""
    resolved = path.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve() == resolved:
            return name
    return None


def _module_file(name: str) -> Path | None:
    """The source file of module ``name`` when it is user code (not Python's,
    not an installed package's, not the harness's), else None. Looks modules
    up without importing them, except the parent packages of a user's
    dotted module (``find_spec`` needs them); an installed package is never
    imported here."""
    top = name.split(".", 1)[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names or top == "harness":
        return None
    if top != name and _spec_file(top, need_user=False) is None:
        return None  # an installed (or missing) top-level package: nothing of it is user code
    path = _spec_file(name, need_user=True)
    return path


def _spec_file(name: str, need_user: bool) -> Path | None:
    """The file of module ``name`` (None: missing, installed, not a .py file).
    With ``need_user=False`` a user *package* without a file (a namespace
    package) still counts as user code: its folder is returned."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None) if module is not None else None
    locations: list[str] = []
    if file is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            return None  # not importable here (an optional dependency, or a name in a package)
        if spec is None:
            return None
        file = spec.origin if spec.has_location else None
        locations = list(spec.submodule_search_locations or [])
    elif module is not None:
        locations = list(getattr(module, "__path__", []) or [])
    if not file:
        if need_user or not locations:
            return None
        folder = Path(locations[0]).resolve()
        return None if _is_installed(folder / "x") else folder
    path = Path(file).resolve()
    if not path.is_file() or _is_installed(path):
        return None
    if need_user and path.suffix != ".py":
        return None
    return path


class PassageCache:
    """Scored passage records of one pipeline, keyed by text and references."""

    def __init__(self, store: TranslationCache, namespace: str, label: str):
        self.store = store
        self.namespace = namespace
        self.label = label

    @classmethod
    def for_pipeline(cls, store: TranslationCache, signature: dict[str, Any], components: Iterable[Any],
                     label: str) -> "PassageCache | None":
        """The cache of this pipeline; None (no passage cache) when the code
        of one of its plugins cannot be fingerprinted (see :func:`code_digest`)."""
        code = code_digest(components)
        if code is None:
            return None
        pipeline = {k: v for k, v in signature.items() if k not in _NOT_PIPELINE}
        namespace = hashlib.sha256(
            canonical_json({"format": RECORD_FORMAT, "pipeline": pipeline, "code": code}).encode()
        ).hexdigest()
        return cls(store, namespace, label)

    @staticmethod
    def chunk_digest(chunk: Sequence[Any]) -> str:
        """The texts and references of a chunk's passages, in order."""
        return hashlib.sha256(canonical_json([[p.text, list(p.references)] for p in chunk]).encode()).hexdigest()

    def _key(self, passage, chunk: str) -> CacheKey:
        text = canonical_json([passage.text, list(passage.references), chunk])
        return CacheKey(f"passage-record:{self.namespace}", "passage", "record", text, label=self.label)

    def get_chunk(self, chunk: Sequence[Any]) -> dict[str, PassageResult] | None:
        """The stored records of every passage of ``chunk`` (by id), computed
        in this same chunk; None unless every one of them is stored."""
        digest = self.chunk_digest(chunk)
        keys = {passage.id: self._key(passage, digest) for passage in chunk}
        found = self.store.get_many(list(dict.fromkeys(keys.values())))
        records: dict[str, PassageResult] = {}
        for passage in chunk:
            hit = found.get(keys[passage.id])
            if hit is None:
                return None
            try:
                record = PassageResult.from_json(json.loads(hit.text))
            except (ValueError, KeyError, TypeError, AttributeError):  # damaged entry: compute the chunk again
                return None
            record.id, record.speaker, record.references = passage.id, passage.speaker, list(passage.references)
            records[passage.id] = record
        return records

    def put_chunk(self, chunk: Sequence[Any], records: Sequence[PassageResult]) -> None:
        """Store the finished records of a chunk computed together (failed passages are skipped)."""
        digest = self.chunk_digest(chunk)
        self.store.put_many([
            (self._key(passage, digest), CachedTranslation(json.dumps(record.to_json(), sort_keys=True)))
            for passage, record in zip(chunk, records)
            if record.error is None
        ])
