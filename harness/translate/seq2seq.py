"""What the ``transformers`` and ``ctranslate2`` backends share: options, the
check of a local model directory, model families and their language handling,
and ``LocalSeq2SeqBackend``, the base class that holds everything about such a
backend except how its engine checks, loads and runs a model.

Nothing here imports torch or transformers: a config is checked, and a
cached run answered, without loading either.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BackendUnavailable, ConfigError, ModelError
from .fingerprint import directory_digest, settings_digest, short
from .langcodes import code_for
from .options import parse_options

NO_DOWNLOAD = "the harness loads local model directories only and never downloads"

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")

# Tokenizer files each family needs when there is no tokenizer.json.
_TOKENIZER_FILES: dict[str, tuple[str, ...]] = {
    "marian": ("source.spm", "target.spm", "vocab.json"),
    "t5": ("spiece.model",),
    "nllb": ("sentencepiece.bpe.model",),
    "m2m_100": ("sentencepiece.bpe.model", "vocab.json"),
    "mbart": ("sentencepiece.bpe.model",),
}
FAMILIES = ("marian", "nllb", "m2m_100", "mbart", "t5", "generic")


class Seq2SeqOptions(BaseModel):
    """Options of the ``transformers`` and ``ctranslate2`` backends."""

    model_config = ConfigDict(extra="forbid")

    model: Path
    """Local model directory (for ctranslate2: the converted one)."""
    tokenizer: Path | None = None
    """Tokenizer directory, when it is not the model directory."""
    device: str = "auto"
    """auto (CUDA, then MPS, then CPU) | cpu | cuda | cuda:N | mps."""
    dtype: Literal["auto", "float32", "float16", "bfloat16", "int8", "int8_float16"] = "auto"
    """auto: bfloat16 on CUDA (float16 on GPUs without it), float32 elsewhere. int8* are ctranslate2 only."""
    batch_size: int = Field(16, ge=1)
    num_beams: int = Field(4, ge=1)
    max_new_tokens: int = Field(256, ge=1)
    generation_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Passed through to ``generate`` / ``translate_batch`` as they are."""
    lang_codes: dict[str, str] = Field(default_factory=dict)
    """ISO 639-1 -> the model's own code, where the built-in table has none or another is wanted."""
    prefix: str | None = None
    """Text put before every source sentence (T5 task prefix); derived from the languages if unset."""
    max_input_tokens: int | None = Field(None, ge=1)
    """Longest input the model takes; read from the model if unset."""
    threads: int | None = Field(None, ge=1)
    """CPU threads for the engine (torch intra-op / ctranslate2 intra_threads)."""


def model_family(model_type: str | None, tokenizer_class: str | None) -> str:
    """marian | nllb | m2m_100 | mbart | t5 | generic, from config.json and tokenizer_config.json."""
    kind = (model_type or "").lower()
    tok = (tokenizer_class or "").lower()
    if "nllb" in tok:
        return "nllb"
    for family, markers in (
        ("marian", ("marian",)),
        ("m2m_100", ("m2m_100", "m2m100")),
        ("mbart", ("mbart",)),
        ("t5", ("t5", "mt5")),
    ):
        if any(kind == m or kind.startswith(m) for m in markers) or any(m in tok for m in markers):
            return family
    return "generic"


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} cannot be read as JSON ({exc})") from None


def check_tokenizer_dir(directory: Path, family: str, backend: str) -> None:
    """A tokenizer.json, or the family's sentencepiece/vocab files, must be there."""
    if (directory / "tokenizer.json").is_file():
        return
    needed = _TOKENIZER_FILES.get(family)
    if needed is None:
        if not any((directory / name).is_file() for name in ("tokenizer_config.json", "vocab.json", "spiece.model")):
            raise ModelError(f"{backend} model {directory}: no tokenizer files (tokenizer.json or tokenizer_config.json); {NO_DOWNLOAD}")
        return
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing:
        raise ModelError(
            f"{backend} model {directory}: missing tokenizer file {missing[0]} "
            f"(a {family} model needs tokenizer.json or {', '.join(needed)}); {NO_DOWNLOAD}"
        )


def check_hf_model_dir(directory: Path, backend: str = "transformers") -> dict[str, Any]:
    """Check a transformers model directory before loading; return its config.json.

    Raises ModelError naming the first thing missing: the directory,
    config.json, the weights (or a shard an index lists), tokenizer files.
    """
    if not directory.is_dir():
        raise ModelError(f"{backend} model directory {directory} does not exist; {NO_DOWNLOAD}")
    config_file = directory / "config.json"
    if not config_file.is_file():
        raise ModelError(f"{backend} model {directory}: missing config.json; {NO_DOWNLOAD}")
    config = read_json(config_file)
    if not any((directory / name).is_file() for name in _WEIGHT_FILES):
        index = next((directory / name for name in _WEIGHT_INDEXES if (directory / name).is_file()), None)
        if index is None:
            raise ModelError(
                f"{backend} model {directory}: missing weights ({' or '.join(_WEIGHT_FILES)}); {NO_DOWNLOAD}"
            )
        for shard in sorted(set(read_json(index).get("weight_map", {}).values())):
            if not (directory / shard).is_file():
                raise ModelError(f"{backend} model {directory}: missing weight shard {shard} listed in {index.name}")
    return config


def tokenizer_class_of(directory: Path) -> str | None:
    path = directory / "tokenizer_config.json"
    return read_json(path).get("tokenizer_class") if path.is_file() else None


@dataclass(frozen=True)
class LanguagePlan:
    """How one hop's languages are told to the model."""

    prefix: str = ""
    """Prepended to each source text (T5 task prefix, Marian ``>>por<<`` target token)."""
    src_lang: str | None = None
    """Set as ``tokenizer.src_lang`` (NLLB, M2M100, mBART)."""
    target_token: str | None = None
    """Forced first target token (NLLB ``por_Latn``, M2M100 ``__pt__``, mBART ``pt_XX``)."""


def plan_languages(family: str, tokenizer: Any, src: str, tgt: str, options: Seq2SeqOptions, where: str) -> LanguagePlan:
    """The LanguagePlan for ``src -> tgt``; ModelError if the model lacks a language."""
    codes = options.lang_codes
    vocab = tokenizer.get_vocab()

    def require(token: str, lang: str) -> str:
        # Language tokens may sit outside get_vocab() (M2M100 adds them after it).
        token_id = tokenizer.convert_tokens_to_ids(token)
        if token not in vocab and (token_id is None or token_id == tokenizer.unk_token_id):
            raise ModelError(
                f"{where}: the model has no language token {token!r} for {lang!r}; "
                f"set the option lang_codes: {{{lang}: <its code>}}"
            )
        return token

    explicit_prefix = options.prefix
    if family == "t5":
        prefix = explicit_prefix if explicit_prefix is not None else (
            f"translate {code_for(src, 'name', codes)} to {code_for(tgt, 'name', codes)}: "
        )
        return LanguagePlan(prefix=prefix)
    if family == "nllb":
        return LanguagePlan(
            prefix=explicit_prefix or "",
            src_lang=require(code_for(src, "nllb", codes), src),
            target_token=require(code_for(tgt, "nllb", codes), tgt),
        )
    if family == "mbart":
        return LanguagePlan(
            prefix=explicit_prefix or "",
            src_lang=require(code_for(src, "mbart", codes), src),
            target_token=require(code_for(tgt, "mbart", codes), tgt),
        )
    if family == "m2m_100":
        src_code, tgt_code = codes.get(src, src), codes.get(tgt, tgt)
        require(f"__{src_code}__", src)
        return LanguagePlan(prefix=explicit_prefix or "", src_lang=src_code, target_token=require(f"__{tgt_code}__", tgt))
    if family == "marian":
        # Multi-target OPUS-MT models (en-ROMANCE, en-mul) choose the target
        # language by a >>xx<< token at the start of the source.
        targets = sorted(t for t in vocab if re.fullmatch(r">>[\w-]+<<", t))
        if targets and explicit_prefix is None:
            candidates = [codes.get(tgt), tgt, _known_code(tgt, "iso3")]
            for code in filter(None, candidates):
                if f">>{code}<<" in vocab:
                    return LanguagePlan(prefix=f">>{code}<< ")
            raise ModelError(
                f"{where}: a multi-target model with no target token for {tgt!r} "
                f"(it has {', '.join(targets[:8])}{', ...' if len(targets) > 8 else ''}); "
                f"set the option lang_codes: {{{tgt}: <code>}}"
            )
    return LanguagePlan(prefix=explicit_prefix or "")


def _known_code(lang: str, scheme: str) -> str | None:
    try:
        return code_for(lang, scheme)
    except ConfigError:
        return None


def model_input_limit(config: dict[str, Any], tokenizer: Any, family: str) -> int | None:
    """The longest input in tokens: the positional table or the tokenizer's stated limit."""
    limits = []
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and family != "t5":
        limits.append(positions)
    stated = getattr(tokenizer, "model_max_length", None)
    if isinstance(stated, int) and 0 < stated < 1_000_000:
        limits.append(stated)
    return min(limits) if limits else None


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), for less padding."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def stopped_note(max_new_tokens: int) -> str:
    """The note on an output that reached ``max_new_tokens`` (it may be cut)."""
    return f"output stopped at max_new_tokens={max_new_tokens} before the end of the sentence"


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message``: an engine error, short enough for a one-line ModelError."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def package_version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


T = TypeVar("T")


class loaded_once(Generic[T]):
    """A property computed on first use, once, under the instance's ``_lock``.

    ``functools.cached_property`` takes no lock (since Python 3.12), so two
    threads could both load a model of several GB; here the second one waits
    and gets the first one's object. Double-checked: no lock once loaded.
    """

    def __init__(self, load: Callable[[Any], T]):
        self.load = load
        self.__doc__ = load.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = instance.__dict__.get(self.slot)
        if value is None:
            with instance._lock:
                value = instance.__dict__.get(self.slot)
                if value is None:
                    value = instance.__dict__[self.slot] = self.load(instance)
        return value


class LocalSeq2SeqBackend:
    """A backend that runs a local seq2seq model directory with a transformers tokenizer.

    Subclasses set ``name`` (also the fingerprint prefix), ``engine_package``
    (whose version is part of the fingerprint) and ``tokenizer_install_hint``,
    and implement ``_check_model_dir`` (before anything is loaded) and the
    engine itself. Options, the fingerprint, ``describe()``, the tokenizer,
    the language plan and token counting are shared.
    """

    name: ClassVar[str]
    engine_package: ClassVar[str]
    tokenizer_install_hint: ClassVar[str]

    def __init__(self, **options: Any):
        self.options = parse_options(Seq2SeqOptions, options, self.name)
        self.model_dir = self.options.model.expanduser()
        self.tokenizer_dir = (self.options.tokenizer or self.options.model).expanduser()
        # Checked now, so that a bad path fails before any passage is processed.
        self.config, self.family = self._check_model_dir()
        check_tokenizer_dir(self.tokenizer_dir, self.family, self.name)
        self.device: str | None = None
        self._lock = threading.Lock()
        self._fingerprint: str | None = None

    def _check_model_dir(self) -> tuple[dict[str, Any], str]:
        """ModelError unless the model directory can be used; return its
        transformers config (``{}`` when there is none) and model family."""
        raise NotImplementedError

    def _error_detail(self, exc: BaseException) -> str:
        """How an engine's exception is quoted in a ModelError."""
        return first_line(exc)

    # -- what it is ------------------------------------------------------------

    def _decoding(self) -> dict[str, Any]:
        o = self.options
        return {
            "num_beams": o.num_beams,
            "max_new_tokens": o.max_new_tokens,
            "generation_kwargs": o.generation_kwargs,
            "lang_codes": o.lang_codes,
            "prefix": o.prefix,
            "dtype": o.dtype,
            "device": o.device,
        }

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            files = {"model": directory_digest(self.model_dir)}
            if self.tokenizer_dir != self.model_dir:
                files["tokenizer"] = directory_digest(self.tokenizer_dir)
            package = self.engine_package
            self._fingerprint = f"{self.name}:" + settings_digest(
                {"files": files, "decoding": self._decoding(), package: package_version(package)}
            )
        return self._fingerprint

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "model": self.model_dir.name,
            "family": self.family,
            "fingerprint": short(self.fingerprint().split(":", 1)[1]),
            self.engine_package: package_version(self.engine_package),
            **self._decoding(),
        }

    def _where(self) -> str:
        return f"{self.name} model {self.model_dir}"

    # -- tokenizer, languages, lengths -------------------------------------------

    @loaded_once
    def tokenizer(self) -> Any:
        """The transformers tokenizer of ``tokenizer_dir``, loaded on first use."""
        try:
            from transformers import AutoTokenizer
        except ImportError:
            raise BackendUnavailable(self.tokenizer_install_hint) from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses" and the like
                return AutoTokenizer.from_pretrained(str(self.tokenizer_dir), local_files_only=True)
        except Exception as exc:  # transformers raises many types; all mean "cannot use this directory"
            raise ModelError(f"{self._where()}: the tokenizer cannot be loaded ({self._error_detail(exc)})") from None

    def plan(self, src: str, tgt: str) -> LanguagePlan:
        return plan_languages(self.family, self.tokenizer, src, tgt, self.options, self._where())

    def check_direction(self, src: str, tgt: str) -> None:
        """Language codes are checked against the tokenizer (the model itself is not loaded)."""
        self.plan(src, tgt)

    def max_input_tokens(self, src: str, tgt: str) -> int | None:
        return self.options.max_input_tokens or model_input_limit(self.config, self.tokenizer, self.family)

    def _encode(self, texts: list[str], plan: LanguagePlan) -> list[list[int]]:
        """Token ids of each text as the model sees it (prefix, source language, special tokens)."""
        if plan.src_lang is not None:
            self.tokenizer.src_lang = plan.src_lang
        return self.tokenizer([plan.prefix + t for t in texts], add_special_tokens=True)["input_ids"]

    def count_tokens(self, texts: list[str], src: str, tgt: str) -> list[int]:
        return [len(ids) for ids in self._encode(texts, self.plan(src, tgt))]

    # -- translating --------------------------------------------------------------

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return [text for text, _ in self.translate_batch_annotated(texts, src, tgt)]

    def translate_batch_annotated(self, texts: list[str], src: str, tgt: str) -> list[tuple[str, list[str]]]:
        raise NotImplementedError
