"""The batched TER (harness/metrics/fast_ter.py) gives sacrebleu's numbers exactly."""

from __future__ import annotations

import random

import pytest
from sacrebleu.metrics import TER, lib_ter

from harness.config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT
from harness.loading import load_dataset
from harness.metrics import fast_ter
from harness.metrics.sacre import reference_streams

WORDS = "the a of to and in is was not 12 million budget minister said taxes year council , .".split()


def generated_pairs(n: int, seed: int = 0):
    rng = random.Random(seed)
    for k in range(n):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(0, 45))]
        hyp = list(ref) if rng.random() < 0.6 else [rng.choice(WORDS) for _ in range(rng.randint(0, 45))]
        for _ in range(rng.randint(0, 8)):  # substitutions, moves, deletions
            if not hyp:
                break
            action = rng.random()
            i = rng.randrange(len(hyp))
            if action < 0.4:
                hyp[i] = rng.choice(WORDS)
            elif action < 0.8:
                hyp.insert(rng.randrange(len(hyp)), hyp.pop(i))
            else:
                del hyp[i]
        if k % 9 == 0:
            hyp = hyp * 4  # very unequal lengths: the beam widens
        if k % 13 == 0:
            ref = ref[: len(ref) // 5]
        yield hyp, ref


def test_it_is_the_fast_one_that_scores():
    assert fast_ter.compatible()
    assert isinstance(fast_ter.make_ter(), fast_ter.FastTER)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edit_counts_equal_sacrebleus_on_generated_texts(seed):
    for hyp, ref in generated_pairs(150, seed):
        assert fast_ter.translation_edit_rate(hyp, ref) == lib_ter.translation_edit_rate(hyp, ref), (hyp, ref)


def test_batch_distances_equal_the_beam_edit_distance():
    for hyp, ref in generated_pairs(80, 7):
        if not hyp or not ref:
            continue
        shifted = [hyp, hyp[::-1], hyp[1:] + hyp[:1]]
        assert fast_ter.batch_distances(shifted, ref) == [lib_ter.BeamEditDistance(ref)(h)[0] for h in shifted]


def test_statistics_equal_sacrebleus_on_the_briefing():
    passages = load_dataset(BUNDLED_TRANSCRIPT, [BUNDLED_REFERENCES])
    hyps = [p.text for p in passages]
    streams = reference_streams([p.references for p in passages])
    assert fast_ter.FastTER()._extract_corpus_statistics(hyps, streams) == \
        TER()._extract_corpus_statistics(hyps, streams)
    fast, slow = fast_ter.FastTER(), TER()
    assert fast.corpus_score(hyps, streams).score == slow.corpus_score(hyps, streams).score
    assert fast.get_signature().format() == slow.get_signature().format()


def test_empty_texts():
    assert fast_ter.translation_edit_rate([], ["a", "b"]) == lib_ter.translation_edit_rate([], ["a", "b"])
    assert fast_ter.translation_edit_rate(["a"], []) == lib_ter.translation_edit_rate(["a"], [])
