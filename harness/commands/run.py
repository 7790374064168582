"""``harness run``: evaluate one transcript with one pipeline config."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import click

from ..pipeline import DEFAULT_RUNS_ROOT, Progress, RunOutcome
from .execution_options import apply_execution, execution_options


class RichProgress(Progress):
    """A passages bar and, while translating, a sentences bar (on stderr);
    while the models load, a line of its own instead of the passages bar."""

    def __init__(self, console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, TextColumn, TimeElapsedColumn

        self.console = console
        self.bars = Bars(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                         TimeElapsedColumn(), console=console, transient=True)
        self.passages = None
        self.sentence_task = None
        self.loading_task = None

    def loading(self, what: str) -> None:
        from ..terminal import safe

        if self.passages is not None:
            self.bars.update(self.passages, visible=False)
        # no total: a pulsing bar and the time it has taken, not 0/N
        self.loading_task = self.bars.add_task(f"loading models: {safe(what, rich=True)}", total=None)

    def loaded(self) -> None:
        if self.loading_task is not None:
            self.bars.remove_task(self.loading_task)
            self.loading_task = None
        if self.passages is not None:
            self.bars.update(self.passages, visible=True)

    def start(self, total_passages: int, already_done: int) -> None:
        if already_done:
            self.console.print(f"resuming: {already_done} of {total_passages} passages already done")
        self.bars.start()
        self.passages = self.bars.add_task("passages", total=total_passages, completed=already_done)

    def step(self, description: str) -> None:
        if self.passages is not None:
            self.bars.update(self.passages, description=f"passages: {description}")

    def sentences(self, total: int) -> Callable[[int], None] | None:
        if self.sentence_task is not None:
            self.bars.remove_task(self.sentence_task)
        self.sentence_task = self.bars.add_task("  round trips", total=total)

        def advance(count: int) -> None:
            self.bars.advance(self.sentence_task, count)

        return advance

    def advance(self, passages: int) -> None:
        self.bars.advance(self.passages, passages)

    def finish(self) -> None:
        self.bars.stop()


def print_summary(console, outcome: RunOutcome, wall_s: float) -> None:
    from rich.table import Table

    from ..metrics.base import info_of, ordered_metrics
    from ..report.text import fmt_number

    header = outcome.header
    infos = header.metrics
    metrics = [m for m in ordered_metrics((m for s in header.stages for m in header.corpus.get(s, {})), infos)
               if "." not in m]
    # the first five metrics fit an 80-column terminal; every metric is in the reports
    shown = metrics[:5]
    table = Table(title="Corpus scores", title_justify="left")
    table.add_column("stage", no_wrap=True)
    for metric in shown:
        table.add_column(f"{_safe(metric)} {info_of(metric, infos).arrow}", justify="right", no_wrap=True)
    table.add_column("✔/▲/✖", justify="right")
    for stage in header.stages:
        values = header.corpus.get(stage, {})
        counts = header.summary.verdicts.get(stage, {})
        table.add_row(_safe(stage), *[fmt_number(values.get(m)) for m in shown],
                      f"{counts.get('preserved', 0)}/{counts.get('degraded', 0)}/{counts.get('lost', 0)}")
    console.print(table)
    if header.failed:
        console.print(f"[red]{len(header.failed)} passage(s) failed[/red]: "
                      + ", ".join(_safe(f"{f.id} ({f.error.message})") for f in header.failed[:3]), soft_wrap=True)
    warnings = header.summary.retranslation_warnings
    if warnings:
        console.print(f"retranslation: {warnings} sentence(s) with a length ratio out of band (dropped or added content?)")
    notes = header.summary.translation_notes
    if notes:
        console.print(f"retranslation: {notes} sentence(s) split to fit the model or stopped at the length limit")
    done = f"{outcome.computed} computed, {outcome.resumed} resumed" if outcome.resumed else f"{outcome.computed} passages"
    console.print(f"signature: {_safe(header.signature.get('key'))}  ({done}, {wall_s:.1f} s)")
    console.print(f"reports: {_safe(outcome.out_dir / 'report.md')}  ·  {_safe(outcome.out_dir / 'passages')}/  ·  "
                  f"{_safe(outcome.out_dir / 'results.json')}  ·  {_safe(outcome.out_dir / 'report.html')}",
                  soft_wrap=True)


def headline_metrics(header) -> list[str]:
    """The run's metrics without their sub-scores (``anchors.numbers_recall``), in display order."""
    from ..metrics.base import ordered_metrics

    return [m for m in ordered_metrics((m for s in header.stages for m in header.corpus.get(s, {})), header.metrics)
            if "." not in m]


def score_line(header) -> str:
    """``--quiet``: the last stage's corpus scores on one line,
    ``retranslated: meaning 97.34, chrf 56.08, bleu 28.05, ...``."""
    from ..report.text import fmt_number

    stage = header.stages[-1]
    values = header.corpus.get(stage, {})
    return f"{stage}: " + ", ".join(f"{m} {fmt_number(values[m])}" for m in headline_metrics(header) if m in values)


def json_summary(outcome: RunOutcome) -> str:
    """``--format json``: corpus scores, verdict counts and signatures (strict
    JSON, ASCII only: no character of the data reaches the terminal raw)."""
    from ..runstore import strict_json_dumps

    header = outcome.header
    summary = header.summary
    return strict_json_dumps({
        "config": header.signature.get("config_name"),
        "stages": list(header.stages),
        "corpus": header.corpus,
        "verdicts": summary.verdicts,
        "passages": summary.passages, "scored": summary.scored, "failed": summary.failed,
        "signature": header.signature_string,
        "signature_key": header.signature.get("key"),
        "metric_signatures": header.metric_signatures,
        "transcript_sha256": header.signature.get("transcript_sha256"),
        "references_sha256": header.signature.get("references_sha256"),
        "out_dir": str(outcome.out_dir),
    }, indent=2, ensure_ascii=True)


def _safe(value) -> str:
    """Untrusted text (a cleaner's error, a path, a metric's name) for rich:
    :func:`harness.terminal.safe` with rich markup escaped."""
    from ..terminal import safe

    return safe(value, rich=True)


@click.command()
@click.option("-c", "--config", "config_path", metavar="CONFIG",
              help="Run config: a shipped config's name (e.g. default, apertium-es, clean-only, raw) or a YAML path. "
                   "Default: default (the shipped configs/default.yaml).")
@click.option("-t", "--transcript", type=click.Path(path_type=Path, allow_dash=True),
              help="Transcript to evaluate, or - for standard input (default: the bundled briefing).")
@click.option("-r", "--references", type=click.Path(path_type=Path), multiple=True,
              help="References: a YAML/JSONL mapping, or one file per reference (repeat the option).")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output folder (default: runs/<config>-<timestamp>).")
@click.option("--runs-dir", type=click.Path(path_type=Path), default=DEFAULT_RUNS_ROOT, show_default=True,
              help="Where default output folders go.")
@click.option("--cleaner", "cleaners", multiple=True, metavar="NAME",
              help="Add a cleaner after the config's chain (built-in name or package.module:function "
                   "marked @harness.plugin; repeatable, in order).")
@click.option("--cleaners-only", is_flag=True, help="Run only the --cleaner cleaners, instead of adding them to the config's chain.")
@click.option("--force", is_flag=True, help="Start again in an output folder that holds a harness run (never clears any other folder).")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Translation cache folder (env HARNESS_CACHE_DIR).")
@click.option("--no-cache", is_flag=True,
              help="Do not read or write the translation cache or the passage cache (finished passages).")
@click.option("-m", "--metric", "metrics", multiple=True, metavar="NAME",
              help="Score with this metric (repeatable, in order) instead of the config's: a built-in "
                   "(chrf, bleu, ter, cosine, bertscore, anchors, semantic, injected, roundtrip, meaning) or a plugin.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: print the corpus scores, verdict counts, signatures and the output folder as JSON "
                   "on standard output (for scripts; progress stays on standard error).")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress bars or summary table; print only the score line (the last stage's corpus scores).")
@execution_options
def run(config_path, transcript, references, out, runs_dir, cleaners, cleaners_only, force, cache_dir, no_cache,
        metrics, output_format, quiet, workers, executor,
        ray_address):
    """Evaluate a transcript: clean, retranslate, score and report every passage.

    With no options, evaluates the bundled briefing with the shipped config 'default'.
    An interrupted run resumes when the same command is run again.

    \b
    harness run -c raw -t hyps.txt -r refs.txt -m chrf -m bleu -q    score system output
    harness run -t - -r refs.txt --format json < hyps.txt             JSON for a script
    """
    from rich.console import Console

    from ..config import load_config, with_cleaners, with_metrics
    from ..pipeline import run_config
    from ..terminal import echo
    from . import check_cleaners_only

    check_cleaners_only(cleaners, cleaners_only)
    config = with_metrics(with_cleaners(load_config(config_path), cleaners, only=cleaners_only), metrics)
    config = apply_execution(config, workers, executor, ray_address)
    console = Console(stderr=True)
    progress = None if quiet else RichProgress(console)
    started = time.perf_counter()
    outcome = run_config(config, transcript=transcript, references=references or None, out_dir=out,
                         runs_root=runs_dir, cache_dir=cache_dir, use_cache=not no_cache, force=force,
                         progress=progress)
    if output_format == "json":
        click.echo(json_summary(outcome))
    elif quiet:
        echo(score_line(outcome.header))
    else:
        print_summary(Console(), outcome, time.perf_counter() - started)
