"""Writers of what people read: a run's results.json, report.md, passages/<id>.md
and report.html (here); ``compare``'s (:mod:`.compare`) and ``regress``'s
(:mod:`.regress`) reports."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..results import PassageResult, RunHeader, iter_passages, write_results_json
from ..runstore import RunStore, atomic_write_text
from .html import write_run_html
from .markdown import passage_markdown, run_markdown_head, run_markdown_row


def ordered_records(store: RunStore, order: list[str]) -> Iterator[PassageResult]:
    """Records in transcript order. Runs are processed in order, so this is a
    plain stream unless a resumed run finished passages out of order."""
    position = {pid: i for i, pid in enumerate(order)}
    pending: dict[int, PassageResult] = {}
    expected = 0
    for record in iter_passages(store):
        index = position.get(record.id)
        if index is None or index < expected:
            continue
        pending[index] = record
        while expected in pending:
            yield pending.pop(expected)
            expected += 1
    for index in sorted(pending):
        yield pending[index]


def write_reports(store: RunStore, header: RunHeader, order: list[str]) -> None:
    out: Path = store.out_dir
    stages = header.stages
    infos = header.metrics
    write_results_json(out / "results.json", header, ordered_records(store, order))

    rows = []
    (out / "passages").mkdir(exist_ok=True)
    for record in ordered_records(store, order):
        atomic_write_text(out / "passages" / f"{record.id}.md", passage_markdown(record, stages, infos) + "\n")
        rows.append(run_markdown_row(record, stages))
    atomic_write_text(out / "report.md", "\n".join(run_markdown_head(header) + rows) + "\n")
    write_run_html(out / "report.html", header, lambda: ordered_records(store, order))
