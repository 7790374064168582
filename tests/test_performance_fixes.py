"""Specifications of the performance fixes from the benchmark (BENCHMARKS.md):
how the embedding model's batches are cut and which dtype the transformers
backend picks on a GPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.metrics.embedding import length_batches


def test_length_batches_cover_every_text_once_longest_first():
    lengths = [5, 40, 12, 7, 40, 3, 11, 38]
    batches = length_batches(lengths, batch_size=32)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


def _cost(batches, lengths, batch_cost=128):
    return sum(batch_cost + max(lengths[i] for i in batch) * len(batch) for batch in batches)


def _contiguous_cuts(n: int, batch_size: int):
    """Every way to cut range(n) into consecutive runs of at most batch_size."""
    if n == 0:
        yield []
        return
    for first in range(1, min(batch_size, n) + 1):
        for rest in _contiguous_cuts(n - first, batch_size):
            yield [first, *rest]


@pytest.mark.parametrize("lengths, batch_size", [
    ([100, 100, 60, 60, 10, 10, 10, 10], 4),
    ([300, 12, 11, 10, 9, 8, 7], 3),
    ([40, 38, 37, 35, 20, 19, 5, 4, 3], 5),
    ([7], 2),
])
def test_the_cuts_cost_the_least_model_work_of_all_cuts(lengths, batch_size):
    batches = length_batches(lengths, batch_size)
    assert all(len(b) <= batch_size for b in batches)
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    cheapest = None
    for sizes in _contiguous_cuts(len(order), batch_size):
        start, option = 0, []
        for size in sizes:
            option.append(order[start:start + size])
            start += size
        cheapest = min(cheapest if cheapest is not None else float("inf"), _cost(option, lengths))
    assert _cost(batches, lengths) == cheapest


def test_a_long_text_does_not_pad_many_short_ones_and_equal_texts_fill_a_batch():
    lengths = [250] + [12] * 40
    batches = length_batches(lengths, batch_size=32)
    assert batches[0] == [0]
    assert [len(b) for b in batches[1:]] == [32, 8] or sorted(len(b) for b in batches[1:]) == [8, 32]


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


def _resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_releasing_freed_memory_gives_the_freed_heap_back_to_the_system():
    from harness.memory import _malloc_trim, release_freed_memory

    if _malloc_trim() is None or not Path("/proc/self/statm").exists():
        pytest.skip("malloc_trim needs Linux with glibc")
    junk = [bytearray(1 << 16) for _ in range(1600)]  # 100 MiB of heap blocks, below the mmap threshold
    pinned = [bytearray(1 << 16) for _ in range(4)]  # allocated after them: the heap top cannot shrink
    del junk
    freed_but_kept = _resident_bytes()
    release_freed_memory()
    release_freed_memory()  # and again: nothing left to give back, no harm
    assert freed_but_kept - _resident_bytes() > 50 * (1 << 20)
    assert len(pinned) == 4
