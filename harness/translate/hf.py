"""Any local sequence-to-sequence model directory, through ``transformers``.

Marian / OPUS-MT, NLLB-200, M2M100, mBART-50 and T5 are recognised from
``config.json`` (and ``tokenizer_config.json``) and told their languages the
way each expects (see ``seq2seq.plan_languages``). One directory per hop
(``directions: {en-pt: {options: {model: ...}}}``), or one multilingual
model for every hop.

torch and transformers are imported when a model is first needed, so that
importing the harness, checking a config and answering from the cache stay
fast. The model directory is checked first: a missing or incomplete one is a
one-line ``ModelError`` naming what is missing; nothing is ever downloaded.
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
    LanguagePlan,
    Seq2SeqOptions,
    check_hf_model_dir,
    check_tokenizer_dir,
    length_sorted_batches,
    model_family,
    model_input_limit,
    plan_languages,
    tokenizer_class_of,
)


def resolve_device(requested: str) -> str:
    """``auto`` -> cuda if torch sees a GPU, else mps (Apple), else cpu."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {requested!r} requested but torch sees no CUDA device; use device: auto or cpu")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelError("device 'mps' requested but this torch has no MPS support; use device: auto or cpu")
    if requested != "cpu" and not requested.startswith(("cuda", "mps")):
        raise ModelError(f"device {requested!r} is not one of auto, cpu, cuda, cuda:N, mps")
    return requested


def resolve_dtype(requested: str, device: str):
    import torch

    if requested in ("int8", "int8_float16"):
        raise ModelError(f"dtype {requested!r} is for the ctranslate2 backend; use float32, float16 or bfloat16")
    if requested == "auto":
        if device.startswith("cuda"):
            # bfloat16 has float32's range: no overflow to inf/NaN in large
            # activations, which float16 is known to hit with some MT models.
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, requested)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


class TransformersTranslator:
    """A local seq2seq model run with ``model.generate``."""

    name = "transformers"

    def __init__(self, **options: Any):
        self.options = parse_options(Seq2SeqOptions, options, self.name)
        self.model_dir = self.options.model.expanduser()
        self.tokenizer_dir = (self.options.tokenizer or self.options.model).expanduser()
        # Checked now, so that a bad path fails before any passage is processed.
        self.config = check_hf_model_dir(self.model_dir, self.name)
        self.family = model_family(self.config.get("model_type"), tokenizer_class_of(self.tokenizer_dir))
        check_tokenizer_dir(self.tokenizer_dir, self.family, self.name)
        self._tokenizer = None
        self._model = None
        self.device: str | None = None
        self._lock = threading.Lock()
        self._fingerprint: str | None = None

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
            self._fingerprint = "transformers:" + settings_digest(
                {"files": files, "decoding": self._decoding(), "transformers": _version("transformers")}
            )
        return self._fingerprint

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "model": self.model_dir.name,
            "family": self.family,
            "fingerprint": short(self.fingerprint().split(":", 1)[1]),
            "transformers": _version("transformers"),
            **self._decoding(),
        }

    # -- loading -----------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.name} model {self.model_dir}"

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._load_tokenizer()
        return self._tokenizer

    def _load_tokenizer(self):
        try:
            from transformers import AutoTokenizer
        except ImportError:
            raise BackendUnavailable("the transformers backend needs: pip install transformers torch sentencepiece") from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses" and the like
                return AutoTokenizer.from_pretrained(str(self.tokenizer_dir), local_files_only=True)
        except Exception as exc:  # transformers raises many types; all mean "cannot use this directory"
            raise ModelError(f"{self._where()}: the tokenizer cannot be loaded ({_first_line(exc)})") from None

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load_model()
        return self._model

    def _load_model(self):
        try:
            import torch
            import transformers
            from transformers import AutoModelForSeq2SeqLM
        except ImportError:
            raise BackendUnavailable("the transformers backend needs: pip install transformers torch sentencepiece") from None
        if self.options.threads:
            torch.set_num_threads(self.options.threads)
        self.device = resolve_device(self.options.device)
        dtype = resolve_dtype(self.options.dtype, self.device)
        # transformers >= 4.56 calls it dtype; older releases torch_dtype.
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_arg = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        transformers.utils.logging.disable_progress_bar()
        try:
            model = AutoModelForSeq2SeqLM.from_pretrained(
                str(self.model_dir), local_files_only=True, **{dtype_arg: dtype}
            )
        except Exception as exc:
            raise ModelError(f"{self._where()}: cannot be loaded ({_first_line(exc)})") from None
        model.to(self.device)
        model.eval()
        return model

    # -- languages and lengths ----------------------------------------------------

    def plan(self, src: str, tgt: str) -> LanguagePlan:
        return plan_languages(self.family, self.tokenizer, src, tgt, self.options, self._where())

    def check_direction(self, src: str, tgt: str) -> None:
        """Language codes are checked against the tokenizer (the model itself is not loaded)."""
        self.plan(src, tgt)

    def max_input_tokens(self, src: str, tgt: str) -> int | None:
        return self.options.max_input_tokens or model_input_limit(self.config, self.tokenizer, self.family)

    def count_tokens(self, texts: list[str], src: str, tgt: str) -> list[int]:
        plan = self.plan(src, tgt)
        self._set_source_language(plan)
        encoded = self.tokenizer([plan.prefix + t for t in texts], add_special_tokens=True)["input_ids"]
        return [len(ids) for ids in encoded]

    def _set_source_language(self, plan: LanguagePlan) -> None:
        if plan.src_lang is not None:
            self.tokenizer.src_lang = plan.src_lang

    def _max_new_tokens(self) -> int:
        """``max_new_tokens``, but never past the decoder's position table (an
        IndexError deep in torch otherwise, on a runaway repetition)."""
        positions = self.config.get("max_position_embeddings")
        if isinstance(positions, int) and self.family != "t5":
            return max(1, min(self.options.max_new_tokens, positions - 2))
        return self.options.max_new_tokens

    # -- translating --------------------------------------------------------------

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return [text for text, _ in self.translate_batch_annotated(texts, src, tgt)]

    def translate_batch_annotated(self, texts: list[str], src: str, tgt: str) -> list[tuple[str, list[str]]]:
        """Translations, each with a note when it stopped at ``max_new_tokens``
        instead of at the end-of-sentence token (the output may be cut)."""
        import torch

        results: list[tuple[str, list[str]]] = [(text, []) for text in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return results
        plan = self.plan(src, tgt)
        model, tokenizer = self.model, self.tokenizer
        self._set_source_language(plan)
        inputs = [plan.prefix + texts[i] for i in todo]
        lengths = [len(ids) for ids in tokenizer(inputs, add_special_tokens=True)["input_ids"]]
        max_new_tokens = self._max_new_tokens()
        generate_args: dict[str, Any] = {"num_beams": self.options.num_beams, "max_new_tokens": max_new_tokens}
        if plan.target_token is not None:
            generate_args["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(plan.target_token)
        generate_args.update(self.options.generation_kwargs)
        pad = model.generation_config.pad_token_id
        for batch in length_sorted_batches(lengths, self.options.batch_size):
            encoded = tokenizer([inputs[j] for j in batch], return_tensors="pt", padding=True, truncation=False)
            encoded = {key: value.to(self.device) for key, value in encoded.items()}
            try:
                with torch.inference_mode():
                    output = model.generate(**encoded, **generate_args)
            except Exception as exc:  # a bad generation_kwargs entry, most often; or out of memory
                raise ModelError(
                    f"{self._where()}: generate() failed ({_first_line(exc)}); check num_beams, "
                    f"max_new_tokens and generation_kwargs"
                ) from None
            # The forced language token is not always registered as special (a
            # tokenizer built without additional_special_tokens): drop it by id.
            forced = generate_args.get("forced_bos_token_id")
            sequences = output.tolist()
            decoded = tokenizer.batch_decode([[i for i in seq if i != forced] for seq in sequences], skip_special_tokens=True)
            for j, seq, text in zip(batch, sequences, decoded):
                notes = []
                # Counted, not looked for an end token: Marian forces one at the limit.
                generated = sum(1 for token in seq[1:] if token != pad)
                if generated >= max_new_tokens:
                    notes.append(f"output stopped at max_new_tokens={max_new_tokens} before the end of the sentence")
                results[todo[j]] = (text.strip(), notes)
        return results


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
