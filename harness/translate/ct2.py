"""A local CTranslate2 model directory (optional extra: ``pip install 'harness[ctranslate2]'``).

Same options as the ``transformers`` backend; ``model`` is the directory
``ct2-transformers-converter`` wrote. Tokenization uses the transformers
tokenizer found in that directory (convert with ``--copy_files`` for the
tokenizer files) or in the ``tokenizer`` directory.
"""

from __future__ import annotations

from typing import Any

from ..errors import BackendUnavailable, ModelError
from .seq2seq import (
    NO_DOWNLOAD,
    LocalSeq2SeqBackend,
    loaded_once,
    model_family,
    stopped_note,
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


class CTranslate2Translator(LocalSeq2SeqBackend):
    """A converted model run by CTranslate2 (fast on CPU, int8 available)."""

    name = "ctranslate2"
    engine_package = "ctranslate2"
    tokenizer_install_hint = "the ctranslate2 backend tokenizes with transformers: pip install transformers sentencepiece"

    def _check_model_dir(self) -> tuple[dict[str, Any], str]:
        # The engine first: a missing install is named before a missing directory.
        self._ct2 = _ctranslate2()
        if not self.model_dir.is_dir():
            raise ModelError(f"{self.name} model directory {self.model_dir} does not exist; {NO_DOWNLOAD}")
        if not (self.model_dir / "model.bin").is_file():
            raise ModelError(
                f"{self.name} model {self.model_dir}: missing model.bin (convert the model with "
                f"ct2-transformers-converter --model <dir> --output_dir <dir> --copy_files ...)"
            )
        if not self.tokenizer_dir.is_dir():
            raise ModelError(f"{self.name} tokenizer directory {self.tokenizer_dir} does not exist; {NO_DOWNLOAD}")
        # The converted directory's config.json is CTranslate2's own, not a
        # transformers config: lengths come from the tokenizer alone.
        return {}, model_family(None, tokenizer_class_of(self.tokenizer_dir))

    def _error_detail(self, exc: BaseException) -> str:
        return str(exc)

    def load(self, src: str, tgt: str) -> None:
        """Load the tokenizer and the model now (the progress display shows it as its own step)."""
        self.tokenizer, self.translator

    @loaded_once
    def translator(self) -> Any:
        """The ``ctranslate2.Translator``, loaded on first use onto ``device`` (resolved then)."""
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
            raise ModelError(f"{self._where()}: cannot be loaded ({self._error_detail(exc)})") from None

    def translate_batch_annotated(self, texts: list[str], src: str, tgt: str) -> list[tuple[str, list[str]]]:
        """Translations, each with a note when it stopped at ``max_new_tokens``."""
        results: list[tuple[str, list[str]]] = [(text, []) for text in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return results
        plan = self.plan(src, tgt)
        translator = self.translator
        sources = [self.tokenizer.convert_ids_to_tokens(ids) for ids in self._encode([texts[i] for i in todo], plan)]
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
            raise ModelError(f"{self._where()}: translate_batch refused the settings ({self._error_detail(exc)})") from None
        for i, output in zip(todo, outputs):
            tokens = output.hypotheses[0]
            hit_limit = len(tokens) >= self.options.max_new_tokens
            if prefix and tokens[:1] == [plan.target_token]:
                tokens = tokens[1:]
            notes = []
            if hit_limit:
                notes.append(stopped_note(self.options.max_new_tokens))
            ids = self.tokenizer.convert_tokens_to_ids(tokens)
            results[i] = (self.tokenizer.decode(ids, skip_special_tokens=True).strip(), notes)
        return results

