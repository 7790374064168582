"""The labelled meaning-change set (tests/data/meaning_changes/) as a specification.

Every kind of meaning change (antonym, quantifier, role, entity, modality,
dropped, added, number, negation, name) has its own changes in five splits:
``dev`` (developed against), ``test`` (held out), and ``val``, ``val2`` and
``val3`` (each written later by another writer, blind to the detector: a check
that rules made on dev carry over; ``val`` and ``val2`` are development splits
now, ``val3`` was only measured in the session that added it). A change is *detected*
when the text gets a major finding of its kind; a meaning-preserving
paraphrase is a *false alarm* when its verdict is not ``preserved``.

``expected.yaml`` records the rates the semantic comparison reaches today
(the issue's targets, 90% per kind and at most 5% false alarms, are not
reached yet: ``bench/meaning_changes.py`` prints the table); these tests keep
them from falling. Raise the floors when the comparison gets better.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.findings import KINDS
from harness.semantic.labelled import evaluate, load_items

DATA = Path(__file__).parent / "data" / "meaning_changes"
EXPECTED = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))
SPLITS = ("dev", "test", "val", "val2", "val3")


def test_the_set_is_well_formed():
    ids = set()
    for split in SPLITS:
        items = load_items(DATA / f"{split}.yaml")
        counts = {kind: 0 for kind in KINDS if kind != "injected"}
        paraphrases = 0
        for item in items:
            assert item["id"] not in ids, item["id"]
            ids.add(item["id"])
            assert 1 <= len(item["references"]) <= 3
            paraphrases += len(item["paraphrases"])
            for change in item["changes"]:
                assert change["kind"] in counts, change
                assert change["text"] not in item["references"]
                counts[change["kind"]] += 1
        assert min(counts.values()) >= 10, (split, counts)
        # val, val2, val3: three paraphrases an item and up to five changes (fewer items, as many kinds)
        assert paraphrases >= (0.65 if split.startswith("val") else 1.0) * sum(counts.values()), split


@pytest.fixture(scope="module")
def results():
    return {split: evaluate(load_items(DATA / f"{split}.yaml")) for split in SPLITS}


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "injected"])
def test_each_kind_is_detected_at_least_as_often_as_recorded(results, split, kind):
    floor = EXPECTED[split]["detected"][kind]
    assert results[split].detection(kind) >= floor, results[split].table()


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_changes_are_flagged_and_paraphrases_are_not_at_least_as_recorded(results, split):
    result = results[split]
    changes = sum(result.total.values())
    assert sum(result.flagged.values()) / changes >= EXPECTED[split]["flagged"], result.table()
    assert result.false_alarm_rate <= EXPECTED[split]["false_alarms"], result.table()


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_the_meaning_score_ranks_paraphrases_above_changes_at_least_as_recorded(results, split):
    """The score itself, not only the verdict: findings cost points."""
    result = results[split]
    assert result.separation("meaning") >= EXPECTED[split]["separation"], result.separation_table()
