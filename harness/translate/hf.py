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

from typing import Any

from ..errors import BackendUnavailable, ModelError
from .seq2seq import (
    LocalSeq2SeqBackend,
    check_hf_model_dir,
    length_sorted_batches,
    loaded_once,
    model_family,
    stopped_note,
    tokenizer_class_of,
)

_INSTALL = "the transformers backend needs: pip install transformers torch sentencepiece"


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


class TransformersTranslator(LocalSeq2SeqBackend):
    """A local seq2seq model run with ``model.generate``."""

    name = "transformers"
    engine_package = "transformers"
    tokenizer_install_hint = _INSTALL

    def _check_model_dir(self) -> tuple[dict[str, Any], str]:
        config = check_hf_model_dir(self.model_dir, self.name)
        return config, model_family(config.get("model_type"), tokenizer_class_of(self.tokenizer_dir))

    def load(self, src: str, tgt: str) -> None:
        """Load the tokenizer and the model now (the progress display shows it as its own step)."""
        self.tokenizer, self.model

    @loaded_once
    def model(self) -> Any:
        """The model, loaded on first use onto ``device`` (resolved then)."""
        try:
            import torch
            import transformers
            from transformers import AutoModelForSeq2SeqLM
        except ImportError:
            raise BackendUnavailable(_INSTALL) from None
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
            raise ModelError(f"{self._where()}: cannot be loaded ({self._error_detail(exc)})") from None
        model.to(self.device)
        model.eval()
        return model

    # -- translating --------------------------------------------------------------

    def _max_new_tokens(self) -> int:
        """``max_new_tokens``, but never past the decoder's position table (an
        IndexError deep in torch otherwise, on a runaway repetition)."""
        positions = self.config.get("max_position_embeddings")
        if isinstance(positions, int) and self.family != "t5":
            return max(1, min(self.options.max_new_tokens, positions - 2))
        return self.options.max_new_tokens

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
        lengths = [len(ids) for ids in self._encode([texts[i] for i in todo], plan)]  # also sets src_lang
        inputs = [plan.prefix + texts[i] for i in todo]
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
                    f"{self._where()}: generate() failed ({self._error_detail(exc)}); check num_beams, "
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
                    notes.append(stopped_note(max_new_tokens))
                results[todo[j]] = (text.strip(), notes)
        return results

