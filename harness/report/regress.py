"""``harness regress``'s reports: the console text, JUnit XML for CI, and what
a failing pytest shows (the ``harness_regress`` fixture)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from ..runstore import atomic_write_text
from .text import fmt_number, one_line, word_diff

if TYPE_CHECKING:  # pragma: no cover
    from ..regress import CorpusCheck, PassageCheck, RegressReport


def describe_check(check: "CorpusCheck") -> str:
    """``cleaned chrf: 52.10 -> 49.83 (worse by 2.27; margin 1; p=0.001)``."""
    margin = f"margin {check.margin:g}" if check.margin is not None else "not gated"
    if check.dropped_by == 0:
        change = "unchanged"
    else:  # "worse"/"better" in the metric's own direction (a TER rise is worse)
        change = f"{'worse' if check.dropped_by > 0 else 'better'} by {fmt_number(abs(check.dropped_by), missing='n/a')}"
    p_value = check.p_value if check.dropped_by >= 0 else check.improved_p_value
    return (f"{check.stage} {check.metric}: {fmt_number(check.baseline, missing='n/a')} -> "
            f"{fmt_number(check.current, missing='n/a')} ({change}; {margin}; p={p_value:.3g})")


def diff_line(before: str | None, after: str | None, context_words: int = 3) -> str:
    """The changed words only, with a little context: ``… a [-44-]{+-+} b …``."""
    parts: list[str] = []
    opcodes = word_diff(one_line(before), one_line(after))
    for i, (tag, old, new) in enumerate(opcodes):
        if tag == "equal":
            words = old.split()
            keep_head = 0 if i == 0 else context_words  # words after the previous change
            keep_tail = 0 if i == len(opcodes) - 1 else context_words  # words before the next change
            if len(words) > keep_head + keep_tail:
                parts.append(" ".join(words[:keep_head] + ["…"] + (words[-keep_tail:] if keep_tail else [])))
            else:
                parts.append(old)
            continue
        if old:
            parts.append(f"[-{old}-]")
        if new:
            parts.append(f"{{+{new}+}}")
    return " ".join(p for p in parts if p)


def _cleaners_text(cleaners: list[dict[str, str]]) -> str:
    return ", ".join(f"{c.get('name')}@{c.get('version')}" for c in cleaners) or "none"


def _deltas_text(check: "PassageCheck") -> str:
    return ", ".join(f"{m} {fmt_number(old, missing='n/a')}->{fmt_number(new, missing='n/a')}"
                     for m, (old, new) in check.score_deltas.items())


def _passage_lines(check: "PassageCheck", show_text: bool) -> list[str]:
    out = [f"  {check.id} [{check.stage}]"]
    out += [f"    REGRESSED: {reason}" for reason in check.regressions]
    out += [f"    improved:  {reason}" for reason in check.improvements]
    out += [f"    note:      {note}" for note in check.notes]
    if check.score_deltas:
        out.append("    scores:    " + _deltas_text(check))
    if show_text and check.changed:
        out += [f"    before:    {one_line(check.before)}", f"    after:     {one_line(check.after)}",
                f"    changes:   {diff_line(check.before, check.after)}"]
    return out


def format_report(report: "RegressReport", *, show_text: bool = True) -> str:
    """The gate's console output: verdict first, then regressions, improvements, the rest."""
    out: list[str] = []
    verdict = "REGRESSED" if report.regressed else "OK"
    out.append(f"regression gate: {verdict} against {report.baseline_path} (config {report.config_name})")
    out.append(f"  cleaners: baseline {_cleaners_text(report.cleaners_before)}")
    out.append(f"            now      {_cleaners_text(report.cleaners_after)}")

    if report.corpus:
        out += ["", f"corpus (regressed = worse by more than the margin, p < {report.alpha:g} in a one-sided "
                    f"paired bootstrap test):"]
        for check in report.corpus:
            mark = "REGRESSED" if check.regressed else "improved" if check.improved else "ok"
            out.append(f"  {mark:<9} {describe_check(check)}")

    groups = (("regressed passages", [p for p in report.passages if p.status == "regressed"]),
              ("improved passages", [p for p in report.passages if p.status == "improved"]))
    for title, group in groups:
        if group:
            out += ["", f"{title} ({len(group)}):"]
            for check in group:
                out += _passage_lines(check, show_text)
    changed = [p for p in report.passages if p.status == "changed"]
    if changed:
        out += ["", f"changed without a verdict change or a new major finding ({len(changed)}):"]
        for check in changed:
            out.append(f"  {check.id} [{check.stage}] {_deltas_text(check)}".rstrip())
            out += [f"    note:      {note}" for note in check.notes]
            if show_text:
                out.append(f"    changes:   {diff_line(check.before, check.after)}")

    if report.cases:
        counts = {s: sum(1 for c in report.cases if c.status == s)
                  for s in ("passed", "regressed", "good-news", "known-failure")}
        out += ["", "labelled cases: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)]
        for case in report.cases:
            if case.status == "regressed":
                out.append(f"  REGRESSED {case.name} ({case.kind}): {case.message}")
            elif case.status == "good-news":
                out.append(f"  good news {case.name}: known failure now passes; relabel it 'fix'")

    out += [f"note: {note}" for note in report.notes]
    out.append("")
    improvements = report.improvements()
    if improvements:
        out.append(f"IMPROVED: {len(improvements)} improvement(s)")
        out += [f"  + {one_line(line, 300)}" for line in improvements]
    if report.regressed:
        out.append(f"FAILED: {len(report.reasons())} regression(s)")
        out += [f"  - {one_line(line, 300)}" for line in report.reasons()]
    else:
        out.append("PASSED: nothing regressed")
    if report.updated:
        out.append(f"baseline {report.baseline_path} updated to this run")
    return "\n".join(out)


def failure_message(report: "RegressReport", limit: int = 20) -> str:
    """What a failing test shows: every reason, then each regressed passage
    with its before/after text and the changed words."""
    reasons = report.reasons()
    lines = [f"harness regress: {len(reasons)} regression(s) against {report.baseline_path}"]
    lines += [f"  - {one_line(reason, 300)}" for reason in reasons[:limit]]
    if len(reasons) > limit:
        lines.append(f"  … and {len(reasons) - limit} more")
    shown = [p for p in report.passage_regressions if p.changed][:limit]
    if shown:
        lines.append("regressed passages:")
    for check in shown:
        lines += [f"  {check.id} [{check.stage}]", f"    before:  {one_line(check.before, 400)}",
                  f"    after:   {one_line(check.after, 400)}", f"    changes: {diff_line(check.before, check.after)}"]
    return "\n".join(lines)


# Characters XML 1.0 cannot carry even escaped (ElementTree would write them raw).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def junit_tree(report: "RegressReport") -> ET.ElementTree:
    """JUnit XML: one testsuite; a testcase per corpus stage x metric, per
    compared passage x stage and per labelled case; ``<failure>`` for each
    regression. All untrusted text goes through :func:`_xml_text`."""
    suite = ET.Element("testsuite", name="harness.regress")
    counts = {"tests": 0, "failures": 0, "skipped": 0}

    def case(classname: str, name: str) -> ET.Element:
        counts["tests"] += 1
        return ET.SubElement(suite, "testcase", classname=_xml_text(classname), name=_xml_text(name), time="0")

    def fail(element: ET.Element, message: str, body: str = "") -> None:
        counts["failures"] += 1
        node = ET.SubElement(element, "failure", message=_xml_text(message), type="regression")
        node.text = _xml_text(body or message)

    for check in report.corpus:
        element = case(f"corpus.{check.stage}", check.metric)
        if check.regressed:
            fail(element, describe_check(check))
        else:
            ET.SubElement(element, "system-out").text = _xml_text(describe_check(check))
    for check in report.passages:
        element = case(f"passages.{check.stage}", check.id)
        body = "\n".join([*check.regressions, *check.improvements, *check.notes,
                          f"before: {one_line(check.before)}", f"after:  {one_line(check.after)}"])
        if check.regressions:
            fail(element, "; ".join(check.regressions), body)
        else:
            ET.SubElement(element, "system-out").text = _xml_text(body)
    for item in report.cases:
        element = case(f"cases.{item.cleaner}", item.id)
        if item.status == "regressed":
            fail(element, f"{item.kind}: {item.message}")
        elif item.status == "known-failure":
            counts["skipped"] += 1
            ET.SubElement(element, "skipped", message=_xml_text(f"known failure: {item.message}"))
        elif item.status == "good-news":
            ET.SubElement(element, "system-out").text = _xml_text(
                f"known failure now passes; relabel it 'fix'. {item.message}")
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("errors", "0")
    suite.set("time", f"{report.wall_s:.3f}")
    return ET.ElementTree(suite)


def write_junit(report: "RegressReport", path: Path) -> None:
    """Write the JUnit XML file (atomically, UTF-8 with an XML declaration)."""
    tree = junit_tree(report)
    ET.indent(tree)
    text = ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=False)
    atomic_write_text(Path(path), '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")
