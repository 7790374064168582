"""A local CTranslate2 model directory (optional extra: ``pip install 'harness[ctranslate2]'``).

Same options as the ``transformers`` backend; ``model`` is the directory
``ct2-transformers-converter`` wrote. Tokenization uses the transformers
tokenizer found in that directory (convert with ``--copy_files`` for the
tokenizer files) or in the ``tokenizer`` directory.
"""

from __future__ import annotations

import threading
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ..errors import BackendUnavailable, ModelError
from .fingerprint import directory_digest, settings_digest, short
from .options import parse_options
from .seq2seq import (
    NO_DOWNLOAD,
    LanguagePlan,
    Seq2SeqOptions,
    check_tokenizer_dir,
    model_family,
    plan_languages,
    tokenizer_class_of,
)

INSTALL_HINT = "pip install 'ctranslate2>=4'"
_COMPUTE_TYPES = {"auto": "default", "float32": "float32", "float16": "float16", "bfloat16": "bfloat16",
                  "int8": "int8", "int8_float16": "int8_float16"}


def _ctranslate2():
    try:
        import ctranslate2
    except ImportError:
        raise BackendUnavailable(f"the ctranslate2 backend is an optional extra: {INSTALL_HINT}") from None
    return ctranslate2


class CTranslate2Translator:
    """A converted model run by CTranslate2 (fast on CPU, int8 available)."""

    name = "ctranslate2"

    def __init__(self, **options: Any):
        self.options = parse_options(Seq2SeqOptions, options, self.name)
        self._ct2 = _ctranslate2()
        self.model_dir = self.options.model.expanduser()
        self.tokenizer_dir = (self.options.tokenizer or self.options.model).expanduser()
        if not self.model_dir.is_dir():
            raise ModelError(f"{self.name} model directory {self.model_dir} does not exist; {NO_DOWNLOAD}")
        if not (self.model_dir / "model.bin").is_file():
            raise ModelError(
                f"{self.name} model {self.model_dir}: missing model.bin (convert the model with "
                f"ct2-transformers-converter --model <dir> --output_dir <dir> --copy_files ...)"
            )
        if not self.tokenizer_dir.is_dir():
            raise ModelError(f"{self.name} tokenizer directory {self.tokenizer_dir} does not exist; {NO_DOWNLOAD}")
        self.family = model_family(None, tokenizer_class_of(self.tokenizer_dir))
        check_tokenizer_dir(self.tokenizer_dir, self.family, self.name)
        self._tokenizer = None
        self._translator = None
        self.device: str | None = None
        self._lock = threading.Lock()
        self._fingerprint: str | None = None

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
            self._fingerprint = "ctranslate2:" + settings_digest(
                {"files": files, "decoding": self._decoding(), "ctranslate2": _version("ctranslate2")}
            )
        return self._fingerprint

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "model": self.model_dir.name,
            "family": self.family,
            "fingerprint": short(self.fingerprint().split(":", 1)[1]),
            "ctranslate2": _version("ctranslate2"),
            **self._decoding(),
        }

    def _where(self) -> str:
        return f"{self.name} model {self.model_dir}"

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    from transformers import AutoTokenizer

                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            self._tokenizer = AutoTokenizer.from_pretrained(str(self.tokenizer_dir), local_files_only=True)
                    except Exception as exc:
                        raise ModelError(f"{self._where()}: the tokenizer cannot be loaded ({exc})") from None
        return self._tokenizer

    @property
    def translator(self):
        if self._translator is None:
            with self._lock:
                if self._translator is None:
                    self._translator = self._load()
        return self._translator

    def _load(self):
        ct2 = self._ct2
        requested = self.options.device
        if requested == "auto":
            self.device = "cuda" if ct2.get_cuda_device_count() > 0 else "cpu"
        elif requested == "cpu" or requested.startswith("cuda"):
            self.device = requested
        else:
            raise ModelError(f"{self.name}: device {requested!r} is not one of auto, cpu, cuda, cuda:N")
        device, _, index = self.device.partition(":")
        try:
            return ct2.Translator(
                str(self.model_dir),
                device=device,
                device_index=int(index or 0),
                compute_type=_COMPUTE_TYPES[self.options.dtype],
                intra_threads=self.options.threads or 0,
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{self._where()}: cannot be loaded ({exc})") from None

    def plan(self, src: str, tgt: str) -> LanguagePlan:
        return plan_languages(self.family, self.tokenizer, src, tgt, self.options, self._where())

    def check_direction(self, src: str, tgt: str) -> None:
        self.plan(src, tgt)

    def max_input_tokens(self, src: str, tgt: str) -> int | None:
        if self.options.max_input_tokens:
            return self.options.max_input_tokens
        stated = getattr(self.tokenizer, "model_max_length", None)
        return stated if isinstance(stated, int) and 0 < stated < 1_000_000 else None

    def _tokens(self, texts: list[str], plan: LanguagePlan) -> list[list[str]]:
        if plan.src_lang is not None:
            self.tokenizer.src_lang = plan.src_lang
        ids = self.tokenizer([plan.prefix + t for t in texts], add_special_tokens=True)["input_ids"]
        return [self.tokenizer.convert_ids_to_tokens(seq) for seq in ids]

    def count_tokens(self, texts: list[str], src: str, tgt: str) -> list[int]:
        return [len(tokens) for tokens in self._tokens(texts, self.plan(src, tgt))]

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return [text for text, _ in self.translate_batch_annotated(texts, src, tgt)]

    def translate_batch_annotated(self, texts: list[str], src: str, tgt: str) -> list[tuple[str, list[str]]]:
        """Translations, each with a note when it stopped at ``max_new_tokens``."""
        results: list[tuple[str, list[str]]] = [(text, []) for text in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return results
        plan = self.plan(src, tgt)
        translator = self.translator
        sources = self._tokens([texts[i] for i in todo], plan)
        prefix = [[plan.target_token] for _ in todo] if plan.target_token else None
        try:
            outputs = translator.translate_batch(
                sources,
                target_prefix=prefix,
                beam_size=self.options.num_beams,
                max_decoding_length=self.options.max_new_tokens,
                max_batch_size=self.options.batch_size,
                **self.options.generation_kwargs,
            )
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{self._where()}: translate_batch refused the settings ({exc})") from None
        for i, output in zip(todo, outputs):
            tokens = output.hypotheses[0]
            hit_limit = len(tokens) >= self.options.max_new_tokens
            if prefix and tokens[:1] == [plan.target_token]:
                tokens = tokens[1:]
            notes = []
            if hit_limit:
                notes.append(f"output stopped at max_new_tokens={self.options.max_new_tokens} before the end of the sentence")
            ids = self.tokenizer.convert_tokens_to_ids(tokens)
            results[i] = (self.tokenizer.decode(ids, skip_special_tokens=True).strip(), notes)
        return results


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
