"""Writers for a finished run: results.json, report.md, passages/<id>.md, report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..runstore import RunStore, atomic_write, atomic_write_text, strict_json_dumps
from .markdown import passage_markdown, run_markdown_head, run_markdown_row


def ordered_records(store: RunStore, order: list[str]) -> Iterator[dict[str, Any]]:
    """Records in transcript order. Runs are processed in order, so this is a
    plain stream unless a resumed run finished passages out of order."""
    position = {pid: i for i, pid in enumerate(order)}
    pending: dict[int, dict[str, Any]] = {}
    expected = 0
    for record in store.iter_records():
        index = position.get(record["id"])
        if index is None or index < expected:
            continue
        pending[index] = record
        while expected in pending:
            yield pending.pop(expected)
            expected += 1
    for index in sorted(pending):
        yield pending[index]


def write_results_json(path: Path, header: dict[str, Any], records: Iterator[dict[str, Any]]) -> None:
    """``results.json``: the header fields, then every passage, streamed."""

    def chunks():
        head = strict_json_dumps(header, ensure_ascii=False, sort_keys=True, indent=1)
        yield head[:-2] + ',\n "passages": [\n'
        first = True
        for record in records:
            yield ("" if first else ",\n") + strict_json_dumps(record, ensure_ascii=False, sort_keys=True)
            first = False
        yield "\n ]\n}\n"

    atomic_write(path, chunks())


def write_reports(store: RunStore, header: dict[str, Any], order: list[str]) -> None:
    out = store.out_dir
    stages = header["stages"]
    write_results_json(out / "results.json", header, ordered_records(store, order))

    rows = []
    (out / "passages").mkdir(exist_ok=True)
    for record in ordered_records(store, order):
        atomic_write_text(out / "passages" / f"{record['id']}.md", passage_markdown(record, stages) + "\n")
        rows.append(run_markdown_row(record, stages))
    atomic_write_text(out / "report.md", "\n".join(run_markdown_head(header) + rows) + "\n")

    try:
        from .html import write_run_html
    except ImportError:  # the HTML report is optional until its module exists
        return
    write_run_html(out / "report.html", header, lambda: ordered_records(store, order))
