"""The HTML report in a real browser (headless Chromium).

Checks what only a browser can: the page renders every passage section, its
one script runs under the Content-Security-Policy (it marks the page
``data-ready``), nothing is logged to the console (no script error, no CSP
violation, no blocked request), the hostile passage's script never ran (the
title is unchanged), and sorting the table works. Saves a screenshot to
``test-artifacts/report.png``.

Skipped where Chromium is not installed; CI installs Debian's ``chromium``.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

try:
    from tests.test_report_html import SCRIPT, write_synthetic_report
except ImportError:  # tests/ collected as a plain folder (rootdir not on sys.path)
    from test_report_html import SCRIPT, write_synthetic_report

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs Debian's chromium)")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def console_messages(stderr: str) -> list[str]:
    """What the page logged: script errors ("Uncaught ..."), CSP violations,
    blocked loads. Chromium writes each as an ``INFO:CONSOLE`` log line."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str | None] = {}
        self.sections = 0
        self.title = ""
        self.table_order: list[str] = []
        self._in_title = False
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.root = attrs
        elif tag == "section" and "passage" in (attrs.get("class") or "").split():
            self.sections += 1
        elif tag == "title" and not self.title:
            self._in_title = True
        elif tag == "table" and attrs.get("id") == "passage-table":
            self._in_table = True
        elif tag == "a" and self._in_table:
            self.table_order.append(attrs["href"].removeprefix("#passage-"))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def dump_dom(tmp_path: Path, page: Path) -> tuple[_Dom, list[str]]:
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = _Dom()
    dom.feed(result.stdout)
    return dom, console_messages(result.stderr)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    path, records = write_synthetic_report(folder / "report.html")
    return folder, path, records


def test_the_report_renders_every_passage_with_no_console_errors(rendered):
    folder, path, records = rendered
    dom, console = dump_dom(folder, path)
    assert console == [], "\n".join(console)
    assert dom.root.get("data-ready") == "1", "the inline script ran under the CSP"
    assert dom.sections == len(records)
    # The hostile config name is in the title; its <script> would have set it to 'pwned'.
    assert dom.title == f"Meaning-preservation report — config {SCRIPT}"


def test_clicking_a_column_header_sorts_the_passage_table(rendered):
    """A copy of the report with one more script (allowed by adding its hash
    to the CSP) that clicks the 'distorted' header twice: descending order,
    passages without a score last."""
    folder, path, _ = rendered
    clicker = ("var b = document.querySelectorAll('#passage-table thead button')[2];"
               "b.click(); b.click();")
    digest = base64.b64encode(hashlib.sha256(clicker.encode()).digest()).decode()
    html = path.read_text(encoding="utf-8")
    assert html.count("script-src ") == 1
    html = html.replace("script-src ", f"script-src &#39;sha256-{digest}&#39; ")  # quotes are escaped in attributes
    html = html.replace("</body>", f"<script>{clicker}</script></body>")
    page = folder / "sorted.html"
    page.write_text(html, encoding="utf-8")
    dom, console = dump_dom(folder, page)
    assert console == [], "\n".join(console)
    # distorted meaning: p01 42, p02 54, p03 66, p04 78, p05 35, p06 failed (no score)
    assert dom.table_order == ["p04", "p03", "p02", "p01", "p05", "p06"]


def test_screenshot_is_saved_as_a_test_artefact(rendered):
    folder, path, _ = rendered
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = chromium(folder, f"--screenshot={shot}", "--window-size=1280,2000", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_comparison_report_renders_side_by_side_with_no_console_errors(tmp_path):
    try:
        from tests.test_report_html_compare import EVIL_NAME, N, write_synthetic_compare
    except ImportError:
        from test_report_html_compare import EVIL_NAME, N, write_synthetic_compare
    path = write_synthetic_compare(tmp_path / "compare.html")
    dom, console = dump_dom(tmp_path, path)
    assert console == [], "\n".join(console)
    assert dom.root.get("data-ready") == "1"
    assert dom.sections == N
    assert dom.title.endswith(EVIL_NAME), "the hostile system name did not run"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "compare.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", path.as_uri())
    assert result.returncode == 0 and console_messages(result.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
