"""``harness regress`` as a CI calls it: its exit codes, and malformed
baselines refused in one line (issue 16 point 3, issue 17 point 9).

0 passed, 1 regressed, 2 bad input or an incompatible baseline, 3 an
internal error: a CI must never read a bug, or a hand-edited baseline, as a
regression. Every malformed baseline here is made from the committed one
(real data, so nothing else would stop it) and refused before anything runs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR

COMMITTED = Path(__file__).resolve().parents[1] / "baselines" / "briefing-clean-only.json"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _mutated(tmp_path: Path, change) -> Path:
    data = json.loads(COMMITTED.read_text(encoding="utf-8"))
    changed = change(copy.deepcopy(data))
    path = tmp_path / "baseline.json"
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed), encoding="utf-8")
    return path


def _set(path: list, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return data
    return change


def _first_stage(data) -> dict:
    return data["passages"][0]["stages"]["cleaned"]


MALFORMED = {
    "verdict band of a wrong type": (lambda d: (_first_stage(d)["verdict"].update(band=5), d)[1], "verdict.band"),
    "verdict score a string": (lambda d: (_first_stage(d)["verdict"].update(score="x"), d)[1], "verdict.score"),
    "verdict reasons a string": (lambda d: (_first_stage(d)["verdict"].update(reasons="y"), d)[1], "verdict.reasons"),
    "verdict a list": (lambda d: (_first_stage(d).update(verdict=[1]), d)[1], "verdict: expected an object"),
    "infinite statistics (Infinity)":
        (lambda d: json.dumps(d).replace('"stats": {', '"stats": {"x": [Infinity], ', 1), "Infinity"),
    "infinite statistics (1e999)":
        (lambda d: json.dumps(d).replace('"stats": {', '"stats": {"x": [1e999], ', 1), "not finite"),
    "NaN in the corpus": (lambda d: json.dumps(d).replace('"corpus": {', '"corpus": {"x": {"y": NaN}, ', 1), "NaN"),
    "a huge integer": (lambda d: json.dumps(d).replace('"stats": {', '"stats": {"x": [' + "9" * 400 + "], ", 1),
                       "not finite"),
    "JSON nested 200k deep":
        (lambda d: json.dumps(d).replace('"inputs": {', '"inputs": {"x": ' + "[" * 200_000 + "]" * 200_000 + ", ", 1),
         "not valid JSON"),
    "JSON nested 900 deep":
        (lambda d: json.dumps(d).replace('"inputs": {', '"inputs": {"x": ' + "[" * 900 + "]" * 900 + ", ", 1),
         "nested more than"),
    "a passage twice": (lambda d: (d["passages"].append(copy.deepcopy(d["passages"][0])), d)[1], "appears twice"),
    "a finding without a kind": (lambda d: (_first_stage(d)["findings"].insert(0, {"change": "lost"}), d)[1],
                                 "findings[0].kind"),
    "a span that is not one": (lambda d: (_first_stage(d)["findings"].append(
        {"kind": "number", "change": "lost", "severity": "major", "label": "3", "why": "x",
         "stage_span": {"start": 5, "end": 2, "text": ""}}), d)[1], "are not a span"),
    "a stage the run does not have": (lambda d: (d["passages"][0]["stages"].update(
        other=_first_stage(d)), d)[1], "not one of the run's stages"),
    "metric signatures of a wrong type": (_set(["signature", "metrics"], 5), "signature.metrics"),
    "cleaners of a wrong type": (_set(["signature", "cleaners"], "spin"), "signature.cleaners"),
    "a passage id with a newline": (lambda d: (d["passages"][0].update(id="p01\n"), d)[1], "not a passage id"),
    "summary counts of a wrong type": (_set(["summary", "scored"], "7"), "summary.scored"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_baseline_is_one_error_line_and_exit_2(tmp_path, name):
    change, expected = MALFORMED[name]
    path = _mutated(tmp_path, change)
    result = invoke("regress", "-b", str(path), "-q", "--no-cache")
    assert result.exit_code == EXIT_BAD_INPUT, (result.exit_code, result.stderr)
    line = _one_error_line(result)
    assert line.startswith(f"error: baseline {path}: ") and expected in line, line
    assert "internal error" not in result.stderr


def test_the_committed_baseline_passes_the_structure_check():
    from harness.baseline import load_baseline

    assert load_baseline(COMMITTED).run.passages


def test_an_internal_error_has_its_own_exit_code(monkeypatch):
    """A bug in the gate exited 1, which a CI reads as "regressed"."""
    import harness.regress

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(harness.regress, "run_regress", broken)
    result = invoke("regress", "-b", str(COMMITTED), "-q")
    assert result.exit_code == EXIT_INTERNAL_ERROR == 3
    assert _one_error_line(result).startswith("internal error: RuntimeError: a bug")


def test_the_exit_codes_are_documented():
    shown = invoke("regress", "--help").output
    for line in ("0  passed", "1  regressed", "2  bad input", "3  internal error"):
        assert line in shown, shown
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "### Exit codes" in readme and "| 3 | internal error" in readme
