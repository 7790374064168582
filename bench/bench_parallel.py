"""Issue 18's benchmarks: every core, and Ray; writes bench/parallel.json and a
Markdown section (stdout) for BENCHMARKS.md.

    python bench/bench_parallel.py --base-commit 7a4b518      # about 25 minutes on 2 busy cores
    python bench/bench_parallel.py --quick                    # smaller corpora, one repeat

1. Cold briefing run (configs/default.yaml, empty cache) of this checkout
   against the same command on ``--base-commit`` (extracted with ``git
   archive`` into a temporary folder and run with this venv's packages),
   alternated, median of the repeats.
2. A 2,000-passage generated corpus with ``-c clean-only`` (bench/scale_corpus.py,
   cache off): ``--workers 1`` against ``--workers 2`` against ``--executor ray
   --workers 2`` (a local Ray instance with 2 CPUs), alternated.
3. Peak memory: every process of the run's tree is polled (``VmHWM`` in
   /proc) every 0.2 s: the driver's peak and each worker's.
4. Driver memory as the corpus grows: ``--workers 2`` on 1,000 and 10,000 passages.

Every ratio compares sides measured in the same run, alternated in time, so
the load of the shared machine falls on all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


def _status(pid: int) -> tuple[str, int] | None:
    """(process name, peak RSS in kB) from /proc."""
    try:
        text = open(f"/proc/{pid}/status").read()
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    hwm = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("VmHWM:")), 0)
    return cmdline, hwm


def measured(command: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``command``; wall time, and the peak RSS of the driver and of every other process of its tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, tuple[str, int]] = {}
    while process.poll() is None:
        for pid in _tree(process.pid):
            status = _status(pid)
            if status is not None:
                name, hwm = status
                peaks[pid] = (name, max(hwm, peaks.get(pid, ("", 0))[1]))
        time.sleep(0.2)
    wall = time.perf_counter() - started
    stderr = process.stderr.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {stderr[-2000:]}")
    driver = peaks.pop(process.pid, ("", 0))[1]
    workers = [hwm for name, hwm in peaks.values() if "harness" in name or "multiprocessing" in name
               or "ray::" in name or "forkserver" in name]
    return {"wall": wall, "driver_mb": driver / 1024, "worker_mb": [w / 1024 for w in workers]}


def alternated(sides: dict[str, callable], repeats: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(repeats):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            sample = sides[name]()
            out[name].append(sample)
            print(f"  {name}: {sample['wall']:.1f} s", file=sys.stderr, flush=True)
    return out


def walls(samples: list[dict]) -> str:
    return ", ".join(f"{x['wall']:.1f}" for x in samples)


def median_wall(samples: list[dict]) -> float:
    return statistics.median(s["wall"] for s in samples)


def harness_cmd(*args: str) -> list[str]:
    return [PYTHON, "-m", "harness.cli", *args]


def bench_briefing(base_commit: str, repeats: int, work: Path) -> dict:
    base = work / "base"
    base.mkdir()
    archive = subprocess.run(["git", "archive", base_commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    counter = iter(range(1000))

    def side(checkout: Path):
        def run() -> dict:
            k = next(counter)
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            return measured(harness_cmd("run", "-q", "--cache-dir", str(work / f"cache-{k}"),
                                        "-o", str(work / f"run-{k}")), checkout, env)
        return run

    samples = alternated({"base": side(base), "this": side(ROOT)}, repeats)
    return {"base_commit": base_commit, "samples": samples,
            "ratio": median_wall(samples["this"]) / median_wall(samples["base"])}


def bench_throughput(passages: int, repeats: int, work: Path) -> dict:
    from scale_corpus import build_corpus

    corpus = work / f"corpus-{passages}"
    build_corpus(passages, corpus, harness=str(Path(PYTHON).parent / "harness"))
    counter = iter(range(1000))

    def side(*extra: str):
        def run() -> dict:
            k = next(counter)
            return measured(harness_cmd("run", "-q", "-c", "clean-only", "-t", str(corpus / "transcript.jsonl"),
                                        "-r", str(corpus / "references.jsonl"), "--no-cache",
                                        "-o", str(work / f"tp-{k}"), *extra), ROOT)
        return run

    samples = alternated({"workers 1": side("--workers", "1"), "workers 2": side("--workers", "2"),
                          "ray, 2 CPUs": side("--executor", "ray", "--workers", "2")}, repeats)
    one = median_wall(samples["workers 1"])
    return {"passages": passages, "samples": samples,
            "speedup_workers_2": one / median_wall(samples["workers 2"]),
            "speedup_ray": one / median_wall(samples["ray, 2 CPUs"])}


def bench_ter(repeats: int) -> dict:
    """sacrebleu's TER against harness.metrics.fast_ter on the briefing's
    distorted passages (7 passages, 21 hypothesis-reference pairs)."""
    from sacrebleu.metrics import TER

    from harness.config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT
    from harness.loading import load_dataset
    from harness.metrics.fast_ter import FastTER
    from harness.metrics.sacre import reference_streams

    passages = load_dataset(BUNDLED_TRANSCRIPT, [BUNDLED_REFERENCES])
    hyps = [p.text for p in passages]
    streams = reference_streams([p.references for p in passages])

    def side(metric):
        def run() -> dict:
            started = time.perf_counter()
            stats = metric()._extract_corpus_statistics(hyps, streams)
            return {"wall": time.perf_counter() - started, "stats": stats}
        return run

    samples = alternated({"sacrebleu": side(TER), "fast_ter": side(FastTER)}, repeats)
    same = all(s["stats"] == samples["sacrebleu"][0]["stats"] for side_ in samples.values() for s in side_)
    return {"samples": {k: [{"wall": x["wall"]} for x in v] for k, v in samples.items()}, "identical": same,
            "ratio": median_wall(samples["fast_ter"]) / median_wall(samples["sacrebleu"])}


def bench_driver_memory(sizes: tuple[int, int], work: Path) -> dict:
    from scale_corpus import build_corpus

    out = {}
    for size in sizes:
        corpus = work / f"mem-{size}"
        build_corpus(size, corpus, harness=str(Path(PYTHON).parent / "harness"))
        out[size] = measured(harness_cmd("run", "-q", "-c", "clean-only", "-t", str(corpus / "transcript.jsonl"),
                                         "-r", str(corpus / "references.jsonl"), "--no-cache", "--workers", "2",
                                         "-o", str(work / f"mem-run-{size}")), ROOT)
        print(f"  {size}: {out[size]['wall']:.1f} s, driver {out[size]['driver_mb']:.0f} MB", file=sys.stderr)
    return out


def markdown(results: dict) -> str:
    lines = ["## 6. Every core, and Ray (issue 18)", ""]
    if "ter" in results:
        t = results["ter"]
        lines += ["### TER", "",
                  "sacrebleu's TER against `harness.metrics.fast_ter` (its shift search, the candidates' edit "
                  "distances batched) on the briefing's 7 distorted passages against their references, alternated:", "",
                  "| side | median wall | runs (s) |", "|---|---:|---|"]
        for name, s in t["samples"].items():
            lines.append(f"| {name} | {median_wall(s):.2f} s | {walls(s)} |")
        lines += ["", f"**fast_ter / sacrebleu: {t['ratio']:.3f}x**; statistics identical: {t['identical']}", ""]
    load = os.getloadavg()
    lines.append(f"`python bench/bench_parallel.py` on {os.cpu_count()} CPUs; load average at the end "
                 f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (other engineers' tests share the cores).")
    lines.append("")
    if "briefing" in results:
        b = results["briefing"]
        lines += ["### Cold run of the bundled briefing", "",
                  f"`harness run -q --cache-dir EMPTY -o OUT` (configs/default.yaml), this checkout against "
                  f"commit {b['base_commit']}, alternated, {len(b['samples']['this'])} runs each.", "",
                  "| side | median wall | runs (s) | driver peak |", "|---|---:|---|---:|"]
        for name in ("base", "this"):
            s = b["samples"][name]
            lines.append(f"| {name} | {median_wall(s):.2f} s | {walls(s)} | "
                         f"{max(x['driver_mb'] for x in s):.0f} MB |")
        lines += ["", f"**this / base: {b['ratio']:.2f}x** (target: at most 0.6x)", ""]
    if "throughput" in results:
        t = results["throughput"]
        lines += [f"### Throughput: {t['passages']:,} generated passages, `-c clean-only --no-cache`", "",
                  "| side | median wall | passages/s | runs (s) | driver peak | peak per worker |",
                  "|---|---:|---:|---|---:|---:|"]
        for name, s in t["samples"].items():
            workers = [w for x in s for w in x["worker_mb"]]
            per_worker = f"{max(workers):.0f} MB (max of {len(workers)})" if workers else "-"
            lines.append(f"| {name} | {median_wall(s):.1f} s | {t['passages'] / median_wall(s):.1f} | "
                         f"{walls(s)} | {max(x['driver_mb'] for x in s):.0f} MB | "
                         f"{per_worker} |")
        lines += ["", f"**workers 2 / workers 1: {t['speedup_workers_2']:.2f}x** (target: at least 1.6x); "
                      f"**ray (2 CPUs) / workers 1: {t['speedup_ray']:.2f}x** (target: at least 1.5x)", ""]
    if "memory" in results:
        m = results["memory"]
        small, large = sorted(m, key=int)
        ratio = m[large]["driver_mb"] / m[small]["driver_mb"]
        lines += ["### Driver memory as the corpus grows (`--workers 2`)", "",
                  "| corpus | wall | driver peak | peak per worker |", "|---|---:|---:|---:|"]
        for size in (small, large):
            w = m[size]["worker_mb"]
            lines.append(f"| {int(size):,} | {m[size]['wall']:.1f} s | {m[size]['driver_mb']:.0f} MB | "
                         f"{max(w) if w else 0:.0f} MB |")
        lines += ["", f"**driver peak {int(large):,} / {int(small):,}: {ratio:.2f}x** (target: within 1.3x)", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-commit", default="main")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="ter,briefing,throughput,memory")
    parser.add_argument("--json", type=Path, default=BENCH / "parallel.json")
    parser.add_argument("--repeats", type=int, default=None, help="runs per side (default 3 briefing, 2 throughput)")
    parser.add_argument("--memory-sizes", default="1000,10000")
    args = parser.parse_args()
    only = set(args.only.split(","))
    results: dict = {}
    work = Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    for part in ("briefing", "throughput", "memory"):
        (work / part).mkdir()
    try:
        if "ter" in only:
            print("ter", file=sys.stderr)
            results["ter"] = bench_ter(args.repeats or 2)
        if "briefing" in only:
            print("cold briefing", file=sys.stderr)
            results["briefing"] = bench_briefing(args.base_commit, args.repeats or (1 if args.quick else 3),
                                                 work / "briefing")
        if "throughput" in only:
            print("throughput", file=sys.stderr)
            results["throughput"] = bench_throughput(400 if args.quick else 2000,
                                                     args.repeats or (1 if args.quick else 2), work / "throughput")
        if "memory" in only:
            print("driver memory", file=sys.stderr)
            small, large = (int(x) for x in args.memory_sizes.split(","))
            results["memory"] = bench_driver_memory((200, 1000) if args.quick else (small, large), work / "memory")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
