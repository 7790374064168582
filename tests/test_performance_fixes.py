"""Specifications of the performance fixes from the benchmark (BENCHMARKS.md):
how the embedding model's batches are cut and which dtype the transformers
backend picks on a GPU."""

from __future__ import annotations

import pytest

from harness.metrics.embedding import length_batches


def test_length_batches_cover_every_text_once_longest_first():
    lengths = [5, 40, 12, 7, 40, 3, 11, 38]
    batches = length_batches(lengths, batch_size=32)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


def test_a_batch_holds_texts_of_similar_length_and_at_most_batch_size():
    lengths = [100] * 5 + [60] * 3 + [10] * 70
    batches = length_batches(lengths, batch_size=32)
    assert [len(b) for b in batches] == [5, 3, 32, 32, 6]
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert all(longest <= max(1.25 * lengths[i], lengths[i] + 8) for i in batch)


def test_short_texts_a_few_tokens_apart_share_a_batch():
    assert length_batches([4, 6, 9, 11], batch_size=32) == [[3, 2, 1, 0]]


@pytest.mark.slow
def test_the_embedder_still_encodes_a_chunk_in_one_prefetch_with_the_same_vectors():
    np = pytest.importorskip("numpy")
    from harness.metrics.embedding import load_embedder

    embedder = load_embedder("cpu", 32)
    texts = ["Short one.", "A much longer sentence about the budget of the city council and its 12 members.",
             "Mid-sized text here, with a clause.", "Yes."]
    embedder.clear()
    before = embedder.encode_calls
    embedder.prefetch(texts)
    assert embedder.encode_calls == before + 1
    alone = embedder.model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    assert np.allclose(embedder.sentence_vectors(texts), alone, atol=1e-5)
    embedder.clear()


@pytest.mark.parametrize("bf16, expected", [(True, "bfloat16"), (False, "float16")])
def test_auto_dtype_is_bfloat16_on_a_gpu_that_has_it(monkeypatch, bf16, expected):
    torch = pytest.importorskip("torch")
    from harness.translate.hf import resolve_dtype

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert resolve_dtype("auto", "cuda") is getattr(torch, expected)
    assert resolve_dtype("auto", "cuda:1") is getattr(torch, expected)
    assert resolve_dtype("auto", "cpu") is torch.float32
    assert resolve_dtype("float16", "cuda") is torch.float16


def test_releasing_freed_memory_is_safe_to_call_at_any_time():
    from harness.memory import release_freed_memory

    junk = [bytearray(1 << 16) for _ in range(200)]
    del junk
    assert release_freed_memory() is None
    assert release_freed_memory() is None
