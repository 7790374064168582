"""A passage's text cannot forge the structure of a Markdown report (issue 17, point 3).

Blank lines inside a JSONL passage's text broke out of the blockquote in
``passages/<id>.md`` and forged a heading and a list. The reports are parsed
here with a CommonMark parser (markdown-it, which rich already depends on):
the only headings are the report's own, the whole text of each stage is in
one blockquote, and nothing inside a quote is a heading, list, fence, code
block or table.
"""

from __future__ import annotations

import json

from markdown_it import MarkdownIt

from harness.config import RunConfig
from harness.metrics.config import MetricsConfig
from harness.pipeline import run_config
from harness.report.text import md_quote, md_text

FORGERY = ("First paragraph.\n\n# Forged heading\n\n- forged item\n+ another\n1. forged number\n2) again\n\n"
           "Setext\n===\n\n---\n\n    indented code\n\n~~~\nfenced\n~~~\n\n> nested quote\n\n| a | b |\n|---|---|\n"
           "<script>x</script>\n\nLast paragraph.")
PARSER = MarkdownIt("commonmark").enable("table")
BLOCKS = {"heading_open", "bullet_list_open", "ordered_list_open", "fence", "code_block", "table_open", "hr",
          "html_block"}


def _quoted_blocks(tokens) -> list[str]:
    """Token types found inside blockquotes."""
    depth, found = 0, []
    for token in tokens:
        if token.type == "blockquote_open":
            depth += 1
        elif token.type == "blockquote_close":
            depth -= 1
        elif depth:
            found.append(token.type)
    return found


def test_md_quote_keeps_every_line_inside_one_quote_and_opens_no_block():
    tokens = PARSER.parse("\n".join(md_quote(FORGERY)))
    assert [t.type for t in tokens if t.level == 0] == ["blockquote_open", "blockquote_close"]
    assert not set(_quoted_blocks(tokens)) & BLOCKS
    text = " ".join(t.content for t in tokens if t.type == "inline")
    assert "First paragraph." in text and "Forged heading" in text and "Last paragraph." in text


def test_md_text_is_one_line():
    assert "\n" not in md_text("a\n\n# b\r\nc") and PARSER.parse("x " + md_text("a\n\n# b"))[0].type == "paragraph_open"


def test_a_passage_report_has_only_its_own_structure(tmp_path):
    transcript = tmp_path / "t.jsonl"
    transcript.write_text(json.dumps({"id": "p1", "speaker": "A\n\n# Forged speaker", "text": FORGERY}) + "\n",
                          encoding="utf-8")
    references = tmp_path / "r.jsonl"
    references.write_text(json.dumps({"id": "p1", "references": ["Ref one.\n\n# Forged reference\n\n- item"]})
                          + "\n", encoding="utf-8")
    config = RunConfig(name="md", cleaners=["whitespace"], retranslation={"backend": "none"},
                       metrics=MetricsConfig(use=("chrf",)))
    outcome = run_config(config, transcript=transcript, references=[references], out_dir=tmp_path / "run",
                         use_cache=False)
    page = (outcome.out_dir / "passages" / "p1.md").read_text(encoding="utf-8")
    tokens = PARSER.parse(page)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not any("Forged" in h for h in headings), headings
    assert not set(_quoted_blocks(tokens)) & BLOCKS, page
    quotes = [i for i, t in enumerate(tokens) if t.type == "blockquote_open"]
    assert len(quotes) == 3, page  # the distorted and cleaned texts, the reference
    report = PARSER.parse((outcome.out_dir / "report.md").read_text(encoding="utf-8"))
    report_headings = [report[i + 1].content for i, t in enumerate(report) if t.type == "heading_open"]
    assert not any("Forged" in h for h in report_headings)


def test_the_signature_in_report_md_has_no_literal_backslash():
    """Issue 16: report.md showed ``nrefs:1\\|case:mixed``: ``\\|`` only means
    ``|`` inside a table cell, and the signature line is not one."""
    from harness.report.markdown import run_markdown_head
    from harness.results import RunHeader, RunSummary

    header = RunHeader(signature={"key": "k"}, stages=["distorted"], corpus={"distorted": {}},
                       summary=RunSummary(passages=0), signature_string="chrf|nrefs:1|case:mixed")
    line = next(l for l in run_markdown_head(header) if l.startswith("Signature:"))
    assert line == "Signature: `chrf|nrefs:1|case:mixed`"
    assert md_code_in_table("a|b") == "a\\|b"


def md_code_in_table(text: str) -> str:
    from harness.report.text import md_code

    return md_code(text, table=True)
