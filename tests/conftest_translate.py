"""Helpers for the translation tests: tiny real models and a recording test double.

The tiny models are real transformers models (random weights, a SentencePiece
tokenizer trained here on a few lines) saved with ``save_pretrained`` and
loaded back through the harness's own loading code, so what is tested is the
path a user's OPUS-MT or M2M100 directory takes. Their output is noise; tests
assert on structure (order, counts, languages tokens, errors), never on text.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import harness

TRAINING_LINES = [
    "The United States has provided over $44 billion in security assistance.",
    "Os Estados Unidos forneceram mais de 44 bilhões de dólares em assistência.",
    "We continue to urge our friends in Congress to get the supplemental done.",
    "Continuamos a pedir aos nossos amigos no Congresso que aprovem o suplemento.",
    "Hello world. This is a small test sentence about Ukraine and Georgia.",
    "Olá mundo. Esta é uma pequena frase de teste sobre a Ucrânia e a Geórgia.",
    "Hola mundo. Esta es una pequeña frase de prueba.",
]


def train_sentencepiece(directory: Path, vocab_size: int = 120) -> Path:
    import sentencepiece as spm

    directory.mkdir(parents=True, exist_ok=True)
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(TRAINING_LINES * 4), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(directory / "sp"), vocab_size=vocab_size, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1,
        minloglevel=2,
    )
    return directory / "sp.model"


def build_tiny_marian(directory: Path, target_tokens: tuple[str, ...] = ()) -> Path:
    """A Marian (OPUS-MT layout) model with 16-dim random weights, saved to ``directory``.

    ``target_tokens`` (e.g. ``(">>por<<", ">>spa<<")``) makes it a multi-target
    model that selects the target language by a token before the source.
    """
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    work = directory.parent / (directory.name + "-work")
    sp_model = train_sentencepiece(work)
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for token in target_tokens:
        vocab[token] = len(vocab)
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    shutil.copy(sp_model, work / "source.spm")
    shutil.copy(sp_model, work / "target.spm")
    (work / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses"
        tokenizer = MarianTokenizer(
            source_spm=str(work / "source.spm"), target_spm=str(work / "target.spm"), vocab=str(work / "vocab.json")
        )
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=64, pad_token_id=vocab["<pad>"], eos_token_id=0,
        decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0,
    )
    model = MarianMTModel(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_m2m100(directory: Path) -> Path:
    """An M2M100 model (many-to-many, forced first target token) with random weights."""
    import sentencepiece as spm
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    work = directory.parent / (directory.name + "-work")
    sp_model = train_sentencepiece(work)
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    vocab: dict[str, int] = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(processor.get_piece_size()):
        vocab.setdefault(processor.id_to_piece(i), len(vocab))
    shutil.copy(sp_model, work / "sentencepiece.bpe.model")
    (work / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = M2M100Tokenizer(
        vocab_file=str(work / "vocab.json"), spm_file=str(work / "sentencepiece.bpe.model"),
        src_lang="en", tgt_lang="pt",
    )
    torch.manual_seed(0)
    # Language tokens (__en__, __pt__, ...) get ids after the sentencepiece vocabulary.
    vocab_size = max(tokenizer.lang_token_to_id.values()) + 1
    config = M2M100Config(
        vocab_size=vocab_size, d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=64, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
    )
    model = M2M100ForConditionalGeneration(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@dataclass
@harness.plugin
class RecordingTranslator:
    """A test double for the round-trip machinery (not a model).

    Its "translation" is a visible, reversible transformation (``<tgt>`` tag
    plus the text), so tests can follow each sentence through every hop. It
    records every call; ``drop`` makes it lose the second half of sentences
    containing the word, to exercise the length-ratio check.
    """

    name: str = "recording"
    tag_mode: bool = True
    drop: str | None = None
    limit: int | None = None
    version: str = "1"
    calls: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def fingerprint(self) -> str:
        return f"recording:{self.version}:{self.drop}:{self.limit}"

    def describe(self) -> dict:
        return {"backend": self.name, "model": f"recording-v{self.version}"}

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        self.calls.append((src, tgt, list(texts)))
        out = []
        for text in texts:
            if self.drop and self.drop in text:
                text = text[: len(text) // 3]
            out.append(f"<{tgt}>{text}" if self.tag_mode else text)
        return out

    # Words as tokens, when a limit is set (LengthLimited).
    def max_input_tokens(self, src: str, tgt: str) -> int | None:
        return self.limit

    def count_tokens(self, texts: list[str], src: str, tgt: str) -> list[int]:
        return [len(t.split()) for t in texts]

    @property
    def sentences_translated(self) -> int:
        return sum(len(texts) for _, _, texts in self.calls)


@harness.plugin
class NotATranslator:
    """A marked plugin class that is no translator (no name, fingerprint or translate_batch)."""

    def __init__(self, **options):
        self.options = options
