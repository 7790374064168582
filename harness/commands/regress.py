"""``harness baseline save`` and ``harness regress``: the regression gate for cleaners.

    harness baseline save --config clean-only --out baselines/mine.json
    harness regress --baseline baselines/mine.json --cleaner mypkg.clean:fix_text

``--cleaner`` adds a cleaner after the chain of the baseline's config (or of
``--config``); ``--cleaners-only`` runs the named cleaners alone.

Exit codes of ``regress``: 0 nothing regressed, 1 something did, 2 bad input
(a missing or malformed baseline, an unknown cleaner) or a baseline made from
another transcript, reference set or metric version, 3 an internal error (a
bug in the harness: never read as a regression).
"""

from __future__ import annotations

from pathlib import Path

import click

from .execution_options import apply_execution, execution_options


def _progress(quiet: bool):
    if quiet:
        return None
    from rich.console import Console

    from .run import RichProgress

    return RichProgress(Console(stderr=True))


@click.group()
def baseline() -> None:
    """Save a baseline for the regression gate (harness regress)."""


@baseline.command("save")
@click.option("-c", "--config", "config_path", metavar="CONFIG",
              help="Run config: a shipped config's name (e.g. default, apertium-es, clean-only, raw) or a YAML path. "
                   "Default: default (the shipped configs/default.yaml).")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Baseline file to write (default: baselines/<config name>.json).")
@click.option("-t", "--transcript", type=click.Path(path_type=Path), help="Transcript (default: the bundled briefing).")
@click.option("-r", "--references", type=click.Path(path_type=Path), multiple=True,
              help="References: a YAML/JSONL mapping, or one file per reference (repeat the option).")
@click.option("--cleaner", "cleaners", multiple=True, metavar="NAME",
              help="Add a cleaner after the config's chain (built-in name or package.module:function "
                   "marked @harness.plugin; repeatable, in order).")
@click.option("--cleaners-only", is_flag=True, help="Run only the --cleaner cleaners, instead of adding them to the config's chain.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Translation cache folder (env HARNESS_CACHE_DIR).")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the translation cache or the passage cache (finished passages).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@execution_options
def save(config_path, out, transcript, references, cleaners, cleaners_only, cache_dir, no_cache, quiet, workers,
         executor, ray_address):
    """Run the pipeline and store every passage's stage texts and scores, the
    corpus scores and the run signature as stable, diff-friendly JSON.

    Saving twice from the same code gives identical bytes.
    """
    from ..baseline import run_baseline, save_baseline
    from ..config import load_config, with_cleaners
    from ..terminal import echo
    from . import check_cleaners_only

    check_cleaners_only(cleaners, cleaners_only)
    config = with_cleaners(load_config(config_path), cleaners, only=cleaners_only)
    config = apply_execution(config, workers, executor, ray_address)
    out = out or Path("baselines") / f"{config.name}.json"
    data = run_baseline(config, transcript=transcript, references=list(references) or None,
                        baseline_dir=out.resolve().parent, cache_dir=cache_dir, use_cache=not no_cache,
                        progress=_progress(quiet))
    save_baseline(out, data)
    echo(f"baseline saved: {out} ({data.run.summary.passages} passages, config {config.name}, "
               f"stages {', '.join(data.run.stages)})")


@click.command()
@click.option("-b", "--baseline", "baseline_path", required=True, type=click.Path(path_type=Path),
              help="Baseline file written by `harness baseline save`.")
@click.option("-c", "--config", "config_path", metavar="CONFIG",
              help="Run this config instead of the one stored in the baseline.")
@click.option("--cleaner", "cleaners", multiple=True, metavar="NAME",
              help="A cleaner under test, added after the chain of the baseline's config (or of --config): "
                   "built-in name or package.module:function marked @harness.plugin; repeatable, in order.")
@click.option("--cleaners-only", is_flag=True,
              help="Run only the --cleaner cleaners, instead of adding them to the config's chain.")
@click.option("--cases", "case_files", multiple=True, type=click.Path(path_type=Path),
              help="Labelled case file (fix / keep / known-failure, as tests/cases/*.yaml) to run "
                   "through its cleaner as well (repeatable).")
@click.option("--margin", "margins", multiple=True, metavar="METRIC=N",
              help="Override a metric's margin, e.g. --margin chrf=1.5, or report it without gating: "
                   "--margin bleu=none (repeatable). Default: each metric's own margin (docs/metrics.md).")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path), help="Also write JUnit XML here.")
@click.option("--update", is_flag=True, help="Rewrite the baseline with this run (after an intended change); exit 0.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Keep the rerun's full run folder here (default: a temporary folder).")
@click.option("--no-text", is_flag=True, help="Do not print before/after passage texts.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Translation cache folder (env HARNESS_CACHE_DIR).")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the translation cache or the passage cache (finished passages).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@execution_options
@click.pass_context
def regress(ctx, baseline_path, config_path, cleaners, cleaners_only, case_files, margins, junit_path, update,
            out_dir, no_text, cache_dir, no_cache, quiet, workers, executor, ray_address):
    """Rerun the baseline's pipeline and fail when meaning dropped.

    A regression is a corpus drop larger than the metric's margin and
    significant (paired bootstrap non-inferiority test), a passage whose
    verdict band got worse or that has a major finding (a lost number, name
    or negation, ...) the baseline did not have, or a labelled case that no
    longer passes.

    \b
    Exit codes:
      0  passed: nothing regressed (or --update rewrote the baseline)
      1  regressed
      2  bad input: a missing or malformed baseline, an unknown cleaner,
         an incompatible baseline (other transcript, references or metrics)
      3  internal error: a bug in the harness (not a regression)
    """
    from ..config import regress_cleaners
    from ..regress import parse_margins, run_regress
    from ..report.regress import format_report, write_junit
    from ..terminal import echo
    from . import check_cleaners_only

    check_cleaners_only(cleaners, cleaners_only)
    chain = regress_cleaners(baseline_path, config_path, cleaners, only=cleaners_only)
    report = run_regress(baseline_path, config=config_path, cleaners=chain,
                         case_files=list(case_files), margins=parse_margins(margins), cache_dir=cache_dir,
                         use_cache=not no_cache, update=update, out_dir=out_dir, progress=_progress(quiet),
                         execution={"workers": workers, "executor": executor, "ray_address": ray_address})
    echo(format_report(report, show_text=not no_text))  # baseline ids, names and texts are data
    if junit_path is not None:
        write_junit(report, junit_path)
        echo(f"junit: {junit_path}")
    ctx.exit(report.exit_code)
