"""``harness compare``: is one system better than another, and is the difference real?"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..pipeline import DEFAULT_RUNS_ROOT
from ..stats import DEFAULT_RESAMPLES, DEFAULT_SEED, DEFAULT_TRIALS
from .execution_options import apply_execution, execution_options


def _is_saved_run(source: str) -> bool:
    path = Path(source)
    return path.is_dir() or (path.is_file() and path.suffix == ".json")


def _default_out_dir(runs_root: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, suffix = runs_root / f"compare-{stamp}", 1
    while candidate.exists():
        suffix += 1
        candidate = runs_root / f"compare-{stamp}-{suffix}"
    return candidate


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="RUN_OR_CONFIG... | -i HYP_FILE...")
@click.option("-i", "--hypotheses", is_flag=True,
              help="The arguments are system output files (hypotheses, plain text or JSONL, one passage per "
                   "reference entry) scored against -r, as sacrebleu -i a b --paired-ar; the first is the baseline.")
@click.option("-c", "--config", "config_path", metavar="CONFIG",
              help="With -i: the pipeline each output file goes through (default: raw, scored as it is; "
                   "clean-only cleans it, default also retranslates it).")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder for compare.md and compare.json (default: <runs-dir>/compare-<timestamp>).")
@click.option("--runs-dir", type=click.Path(path_type=Path), default=DEFAULT_RUNS_ROOT, show_default=True,
              help="Where runs of configs and the default output folder go.")
@click.option("-t", "--transcript", type=click.Path(path_type=Path),
              help="Transcript for the configs (default: each config's, else the bundled briefing).")
@click.option("-r", "--references", type=click.Path(path_type=Path), multiple=True,
              help="References for the configs (repeatable, as for `harness run`).")
@click.option("--n-resamples", type=click.IntRange(min=1), default=DEFAULT_RESAMPLES, show_default=True,
              help="Bootstrap resamples (confidence intervals and the paired bootstrap test).")
@click.option("--n-trials", type=click.IntRange(min=1), default=DEFAULT_TRIALS, show_default=True,
              help="Approximate randomization trials.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed (results are reproducible).")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True,
              help="Significance level (on the approximate randomization p-value).")
@click.option("-m", "--metric", "metrics", multiple=True, metavar="NAME",
              help="Compare on this metric (repeatable); the first is also the one for win/tie/loss and "
                   "disagreements. Configs and -i files are scored with these metrics only. "
                   "Default: every metric the runs have; win/tie/loss on the first in display order.")
@click.option("--tie-tolerance", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Passage score differences up to this are ties.")
@click.option("--top", "top_n", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many most-disagreeing passages to show.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Translation cache folder (env HARNESS_CACHE_DIR).")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the translation cache or the passage cache (finished passages).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: print compare.json (every score, interval, p-value, signature) on standard output.")
@click.option("-q", "--quiet", is_flag=True, help="No tables; print only the output folder.")
@execution_options
def compare(sources, hypotheses, config_path, out, runs_dir, transcript, references, n_resamples, n_trials, seed,
            alpha, metrics, tie_tolerance, top_n, cache_dir, no_cache, output_format, quiet, workers, executor,
            ray_address):
    """Compare systems against a baseline (the first one) with significance tests.

    Writes compare.md, compare.json and compare.html to the output folder.
    Each RUN_OR_CONFIG is a saved run folder (runs/<name>) or a run config
    (YAML path or shipped name), which is run first, reusing the translation
    cache and any finished run of the same pipeline. With -i, the arguments
    are system output files scored against the references given with -r,
    each through the same pipeline (-c; default raw). For every stage and
    metric: corpus score with 95% CI, difference to the baseline with its
    95% CI, p-values from approximate randomization (which decides
    significance) and paired bootstrap; per passage: win/tie/loss and the
    passages where the systems disagree most.

    \b
    harness compare runs/default-20250101-120000 runs/clean-only-20250101-121500
    harness compare configs/default.yaml configs/clean-only.yaml configs/raw.yaml
    harness compare -r refs.txt -i mt-a.txt mt-b.txt -m chrf -m bleu
    harness compare -r refs.txt -i mt-a.txt mt-b.txt -c default   # clean and retranslate them first
    """
    from rich.console import Console

    from ..compare import compare_runs
    from ..report.compare import print_comparison, write_compare_html, write_compare_json, write_compare_markdown
    from ..results import load_results
    from ..terminal import echo, safe

    if len(sources) < 2:
        raise click.UsageError("give at least two runs or configs (or, with -i, system output files): "
                               "the baseline first, then the systems")
    if config_path and not hypotheses:
        raise click.UsageError("-c/--config is for -i (the pipeline of the output files); "
                               "to compare configs, name them as arguments")
    err_console = Console(stderr=True)
    out_dir = out or _default_out_dir(runs_dir)
    files = None
    if hypotheses:
        runs, names, files = _run_hypotheses(sources, config_path, references, metrics, out_dir, cache_dir,
                                             no_cache, quiet or output_format == "json", err_console,
                                             (workers, executor, ray_address))
    else:
        runs, folders = [], []
        for source in sources:
            run_dir = Path(source) if _is_saved_run(source) else _run_config(
                source, transcript, references, runs_dir, cache_dir, no_cache, quiet, err_console, metrics,
                (workers, executor, ray_address))
            runs.append(load_results(run_dir))
            folders.append(run_dir.parent.name if run_dir.is_file() else run_dir.name)
        names = _system_names(runs, folders)

    comparison = compare_runs(runs, names=names, sources=[str(s) for s in sources], n_resamples=n_resamples,
                              n_trials=n_trials, seed=seed, alpha=alpha, only_metrics=list(metrics) or None,
                              tie_tolerance=tie_tolerance, top_n=top_n, hypothesis_files=files)
    json_path = write_compare_json(out_dir / "compare.json", comparison)
    md_path = write_compare_markdown(out_dir / "compare.md", comparison)
    html_path = out_dir / "compare.html"
    write_compare_html(html_path, comparison, runs)
    if output_format == "json":  # compare.json's content, ASCII only: no character of the data raw
        from ..jsonvalues import plain
        from ..runstore import strict_json_dumps

        click.echo(strict_json_dumps(plain(comparison), indent=2, ensure_ascii=True))
        return
    if quiet:
        echo(out_dir)
        return
    print_comparison(Console(), comparison)
    err_console.print("reports: " + "  ·  ".join(safe(p, rich=True) for p in (md_path, json_path, html_path)),
                      soft_wrap=True)


def _system_names(runs: list, folders: list) -> list:
    """Config names when they tell the systems apart, else the run folders' names."""
    config_names = [run.config_name for run in runs]
    if all(config_names) and len(set(config_names)) == len(config_names):
        return config_names
    return folders


def _run_hypotheses(sources, config_path, references, metrics, out_dir: Path, cache_dir, no_cache, quiet, console,
                    execution=(None, None, None)):
    """Score each system output file with the same pipeline against the same
    references, in ``out_dir/systems/``; the runs, their names (the file
    names, made unique) and each file's path and SHA-256."""
    import hashlib
    import re

    from ..compare import system_names
    from ..config import load_config, with_metrics
    from ..errors import InputError
    from ..pipeline import run_config
    from ..results import load_results
    from ..terminal import safe
    from .run import RichProgress

    if not references:
        raise click.UsageError("-i compares system outputs against references: give them with -r")
    if "-" in sources:
        raise click.UsageError("-i reads each system's output from a file (not -)")
    config = apply_execution(with_metrics(load_config(config_path or "raw"), metrics), *execution)
    names = system_names([None] * len(sources), [Path(s).name for s in sources])
    runs, files = [], []
    for k, (source, name) in enumerate(zip(sources, names), start=1):
        path = Path(source)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise InputError(f"system output {source}: cannot read ({exc.strerror or exc})") from None
        folder = out_dir / "systems" / f"{k:02d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', path.stem)[:60] or 'system'}"
        if not quiet:
            console.print(f"scoring {safe(name, rich=True)} ({safe(config.name, rich=True)})")
        # a folder of this compare's own: start again in it when the compare is repeated
        outcome = run_config(config, transcript=path, references=references, out_dir=folder, cache_dir=cache_dir,
                             use_cache=not no_cache, force=True, progress=None if quiet else RichProgress(console))
        runs.append(load_results(outcome.out_dir))
        files.append({"file": str(source), "sha256": digest})
    return runs, names, files


def _run_config(source, transcript, references, runs_dir, cache_dir, no_cache, quiet, console, metrics=(),
                execution=(None, None, None)) -> Path:
    """Run (or resume, or reuse) one config and return its run folder."""
    from ..config import load_config, with_metrics
    from ..pipeline import run_config
    from .run import RichProgress

    config = apply_execution(with_metrics(load_config(source), metrics), *execution)
    if not quiet:
        from ..terminal import safe

        console.print(f"running {safe(config.name, rich=True)} ({safe(source, rich=True)})")
    outcome = run_config(config, transcript=transcript, references=references or None, runs_root=runs_dir,
                         cache_dir=cache_dir, use_cache=not no_cache,
                         progress=None if quiet else RichProgress(console))
    return Path(outcome.out_dir)
