"""Reliability with real processes: a run killed part-way (SIGINT, SIGTERM,
SIGKILL, and SIGKILL while the final reports are written) leaves no corrupt
file and the same command resumes it; two runs at once that share one
translation cache both finish correctly and leave the cache intact.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.config import config_from_dict
from harness.pipeline import run_config

REPO = Path(__file__).resolve().parents[1]
PASSAGES = 400
#: fast but multi-chunk: 80 chunks of 5, each appended and fsync'ed
FAST = {"name": "fast", "cleaners": [], "retranslation": {"backend": "none"},
        "metrics": {"use": ["chrf", "bleu", "ter"]}, "chunk_size": 5}
WORDS = ("the minister said budget council bridge families region talks tuesday program taxes "
         "year new fresh port repairs officials confirmed million").split()


def harness_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


def default_ctrl_c() -> None:
    """In the child, before harness starts: Ctrl-C interrupts. A test run started
    in the background of a non-interactive shell (``make test &``, nohup, some CI
    runners) inherits SIGINT *ignored*, and Python then never raises
    KeyboardInterrupt: the run would finish as if no Ctrl-C had come."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """A generated 400-passage corpus, its config, and an uninterrupted run of it."""
    folder = tmp_path_factory.mktemp("corpus")
    transcript, references = folder / "t.jsonl", folder / "r.jsonl"
    with open(transcript, "w", encoding="utf-8") as t, open(references, "w", encoding="utf-8") as r:
        for i in range(PASSAGES):
            words = [WORDS[(i * 7 + j * j * 3 + j) % len(WORDS)] for j in range(18 + i % 9)]
            text = " ".join(words).capitalize() + f" in {1990 + i % 30}."
            t.write(json.dumps({"id": f"q{i:04d}", "text": text}) + "\n")
            r.write(json.dumps({"id": f"q{i:04d}", "references": [text.replace("fresh ", "")]}) + "\n")
    config = folder / "fast.yaml"
    config.write_text(json.dumps(FAST), encoding="utf-8")
    reference_run = folder / "uninterrupted"
    run_config(config_from_dict(FAST), transcript=transcript, references=[references], out_dir=reference_run)
    return {"transcript": transcript, "references": references, "config": config, "uninterrupted": reference_run}


def line_count(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:
        return 0


def kill_part_way(command: list[str], out: Path, signum: int, when: str) -> subprocess.CompletedProcess:
    """Start ``command``; send ``signum`` once results.jsonl has 50+ lines
    (``when="passages"``) or once the final reports are being written
    (``when="reports"``: a temporary file of results.json exists)."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=default_ctrl_c)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if when == "passages" and line_count(out / "results.jsonl") >= 50:
            break
        if when == "reports" and any(out.glob(".results.json.*.tmp")):
            break
        time.sleep(0.002)
    if process.poll() is not None:
        pytest.fail(f"the run ended before it could be interrupted: {process.returncode} {process.stderr.read()}")
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def comparable(results: dict) -> tuple:
    return results["passages"], results["corpus"], results["summary"]["verdicts"], results["signature"]["key"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum, when",
    [(signal.SIGINT, "passages"), (signal.SIGTERM, "passages"), (signal.SIGKILL, "passages"),
     (signal.SIGKILL, "reports")],
    ids=["sigint", "sigterm", "sigkill", "sigkill-while-writing-reports"],
)
def test_a_killed_run_leaves_no_corrupt_file_and_the_same_command_resumes_it(corpus, tmp_path, signum, when):
    out = tmp_path / "run"
    command = harness_command("run", "-c", str(corpus["config"]), "-t", str(corpus["transcript"]),
                              "-r", str(corpus["references"]), "-o", str(out))
    killed = kill_part_way(command, out, signum, when)

    if signum == signal.SIGKILL:
        assert killed.returncode == -signal.SIGKILL
    else:  # Ctrl-C and SIGTERM: closed cleanly, one line, exit code 130
        assert killed.returncode == 130, killed.stderr
        assert killed.stderr.strip().splitlines()[-1] == \
            "interrupted: finished passages are saved; rerun the same command to resume"
        assert "Traceback" not in killed.stderr

    # Nothing corrupt: every complete line parses, at most the last one is torn.
    raw = (out / "results.jsonl").read_bytes()
    lines = raw.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    finished = [json.loads(line) for line in complete]
    if tail:
        with pytest.raises(ValueError):
            json.loads(tail)
    assert len({r["id"] for r in finished}) == len(finished) >= 50
    if (out / "results.json").exists():
        json.loads((out / "results.json").read_text(encoding="utf-8"))
    state = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert state["state"] == "running"
    if when == "reports":
        assert len(finished) == PASSAGES

    # The same command again: resumes, computes only what is missing.
    resumed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    done = len(finished)
    assert f"resuming: {done} of {PASSAGES} passages already done" in resumed.stderr
    assert f"{PASSAGES - done} computed, {done} resumed" in " ".join(resumed.stdout.split())
    assert line_count(out / "results.jsonl") == PASSAGES
    assert json.loads((out / "run.json").read_text())["state"] == "complete"
    assert not list(out.glob(".*.tmp")) and not list((out / "passages").glob(".*.tmp")), "no stale temporaries"

    final = json.loads((out / "results.json").read_text(encoding="utf-8"))
    reference = json.loads((corpus["uninterrupted"] / "results.json").read_text(encoding="utf-8"))
    assert comparable(final) == comparable(reference)
    assert sorted(p.name for p in (out / "passages").iterdir()) == \
        sorted(p.name for p in (corpus["uninterrupted"] / "passages").iterdir())


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_gives_the_terminal_back(corpus, tmp_path):
    """Regression: after Ctrl-C the progress bars were never stopped, so the
    cursor stayed hidden and the message was glued to the last bar."""
    import pty
    import select

    out = tmp_path / "run"
    command = harness_command("run", "-c", str(corpus["config"]), "-t", str(corpus["transcript"]),
                              "-r", str(corpus["references"]), "-o", str(out))
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, cwd=REPO, stdin=follower, stdout=follower, stderr=follower,
                               env={**os.environ, "COLUMNS": "100", "TERM": "xterm"}, preexec_fn=default_ctrl_c)
    os.close(follower)
    screen, sent, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.02)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the process closed the terminal
                break
            if not data:
                break
            screen += data
        if not sent and line_count(out / "results.jsonl") >= 50:
            process.send_signal(signal.SIGINT)
            sent = True
        if process.poll() is not None and not ready:
            break
    os.close(leader)
    assert process.wait(timeout=30) == 130 and sent
    hidden, shown = screen.rfind(b"\x1b[?25l"), screen.rfind(b"\x1b[?25h")
    assert hidden >= 0, "the bars were drawn"
    assert shown > hidden, "the cursor is shown again"
    message = screen.index(b"interrupted: finished passages are saved")
    assert message > shown, "the message comes after the bars are gone"
    assert screen[:message].endswith((b"\n", b"\x1b[2K")), "on a fresh (or erased) line"


# --------------------------------------------------------------------------
# Two runs at once sharing one cache
# --------------------------------------------------------------------------

ROUND_TRIP = {"name": "shared-cache", "cleaners": [], "metrics": {"use": ["chrf", "bleu"]},
              "retranslation": {"backend": "bergamot", "source_lang": "en", "pivots": ["pt"],
                                "options": {"threads": 1}, "split": "sentences"}}


@pytest.mark.slow
def test_two_runs_sharing_one_cache_both_finish_correctly_and_the_cache_stays_intact(tmp_path):
    from harness.config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT

    config = tmp_path / "round-trip.yaml"
    config.write_text(json.dumps(ROUND_TRIP), encoding="utf-8")
    cache = tmp_path / "cache"

    def command(out: Path, *extra: str) -> list[str]:
        return harness_command("run", "-q", "-c", str(config), "-t", str(BUNDLED_TRANSCRIPT),
                               "-r", str(BUNDLED_REFERENCES), "-o", str(out), *extra)

    sequential = subprocess.run(command(tmp_path / "alone", "--no-cache"), cwd=REPO, capture_output=True,
                                text=True, timeout=300)
    assert sequential.returncode == 0, sequential.stderr

    runs = [subprocess.Popen(command(tmp_path / name, "--cache-dir", str(cache)), cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    outputs = [process.communicate(timeout=300) for process in runs]
    for process, (stdout, stderr) in zip(runs, outputs):
        assert process.returncode == 0, stderr

    def texts(out: Path) -> list[tuple[str, str, str]]:
        passages = json.loads((out / "results.json").read_text(encoding="utf-8"))["passages"]
        return [(p["id"], p["stages"]["retranslated"]["hops"][0]["text"], p["stages"]["retranslated"]["text"])
                for p in passages]

    expected = texts(tmp_path / "alone")
    assert len(expected) == 7
    assert texts(tmp_path / "a") == expected
    assert texts(tmp_path / "b") == expected

    info = subprocess.run(harness_command("cache", "info", "--json", "--cache-dir", str(cache)), cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    entries = json.loads(info.stdout)["entries"]
    assert entries > 0
    (database,) = cache.glob("*.sqlite3")
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # A third run is served from the cache: same texts, and no new entries.
    third = subprocess.run(command(tmp_path / "c", "--cache-dir", str(cache)), cwd=REPO, capture_output=True,
                           text=True, timeout=300)
    assert third.returncode == 0, third.stderr
    assert texts(tmp_path / "c") == expected
    again = json.loads(subprocess.run(harness_command("cache", "info", "--json", "--cache-dir", str(cache)),
                                      cwd=REPO, capture_output=True, text=True, timeout=60).stdout)
    assert again["entries"] == entries
