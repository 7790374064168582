"""Apertium, the rule-based engine packaged by Debian (``apertium eng-spa``).

Each batch is one ``apertium -u <mode>`` process: sentences go in separated
by blank lines, which Apertium's text deformatter treats as paragraph breaks
(no rule reorders words across them), and come out separated the same way.
Should the count ever differ, every sentence of that batch is translated on
its own, so a result is never paired with the wrong sentence.

``-u`` drops the ``*`` that marks unknown words; the ``#`` (generation gap)
and ``@`` (transfer gap) marks are stripped here unless the source text had
them. Apertium drops a subject pronoun that Spanish leaves implicit ("I do
not like it" -> "no me gusta"), leaving a lowercase sentence start; the
source's sentence-initial capital is restored.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BackendUnavailable, ModelError
from .fingerprint import file_digest, settings_digest, short
from .langcodes import code_for
from .options import parse_options

INSTALL_HINT = "apt-get install apertium apertium-eng-spa"
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_MARK = re.compile(r"[#@](?=\w)")
_MODE_FILE_PATH = re.compile(r"'(/[^']+)'")


class ApertiumOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(120.0, gt=0)
    """Time limit of one apertium process (one batch)."""
    batch_size: int = Field(400, ge=1)
    """Sentences per apertium process."""
    modes: dict[str, str] = Field(default_factory=dict)
    """Mode per hop when the default (ISO 639-3 ``eng-spa``) is not wanted: ``{es-en: spa-eng_US}``."""
    binary: str = "apertium"
    datadir: str | None = None
    """Language data directory (``apertium -d``); the system one by default."""
    restore_capital: bool = True


class ApertiumTranslator:
    """Apertium as a subprocess, many sentences per call."""

    name = "apertium"

    def __init__(self, **options: Any):
        self.options = parse_options(ApertiumOptions, options, self.name)

    # -- what is installed -------------------------------------------------------

    def _base_command(self) -> list[str]:
        binary = shutil.which(self.options.binary)
        if binary is None:
            raise BackendUnavailable(f"apertium is not installed: {INSTALL_HINT}")
        command = [binary]
        if self.options.datadir:
            command += ["-d", self.options.datadir]
        return command

    @cached_property
    def installed_modes(self) -> list[str]:
        """Translation modes ``apertium -l`` lists (``eng-spa``, ``spa-eng``, ...)."""
        try:
            listed = subprocess.run(
                [*self._base_command(), "-l"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendUnavailable(f"apertium cannot be run ({exc}): {INSTALL_HINT}") from None
        return sorted(line.strip() for line in listed.stdout.splitlines() if line.strip())

    @cached_property
    def version(self) -> str:
        result = subprocess.run([*self._base_command(), "-V"], capture_output=True, text=True, timeout=30, check=False)
        return (result.stdout or result.stderr).strip() or "unknown"

    def mode_for(self, src: str, tgt: str) -> str:
        """The installed mode for a hop, or BackendUnavailable saying what to install."""
        configured = self.options.modes.get(f"{src}-{tgt}")
        candidates = [configured] if configured else [
            f"{code_for(src, 'iso3')}-{code_for(tgt, 'iso3')}",
            f"{src}-{tgt}",
        ]
        installed = self.installed_modes
        for mode in candidates:
            if mode in installed:
                return mode
        wanted = candidates[0]
        a, _, b = wanted.partition("-")
        raise BackendUnavailable(
            f"apertium has no {wanted} mode (installed: {', '.join(installed) or 'none'}); "
            f"install the language pair, e.g. apt-get install apertium-{a}-{b} or apertium-{b}-{a} "
            f"(apt-cache search apertium- lists them)"
        )

    def check_direction(self, src: str, tgt: str) -> None:
        self.mode_for(src, tgt)

    def _mode_files(self) -> dict[str, str]:
        """Digest of every installed mode file and the data files it runs."""
        roots = [Path(self.options.datadir)] if self.options.datadir else []
        roots += [Path("/usr/share/apertium"), Path("/usr/local/share/apertium")]
        digests: dict[str, str] = {}
        for mode in self.installed_modes:
            for root in roots:
                mode_file = root / "modes" / f"{mode}.mode"
                if mode_file.is_file():
                    digests[mode] = file_digest(mode_file)
                    for data in _MODE_FILE_PATH.findall(mode_file.read_text(errors="replace")):
                        if Path(data).is_file():
                            digests[data] = file_digest(Path(data))
                    break
        return digests

    @cached_property
    def _fingerprint(self) -> str:
        settings = {
            "version": self.version,
            "modes": self.installed_modes,
            "data": self._mode_files(),
            "mode_overrides": self.options.modes,
            "restore_capital": self.options.restore_capital,
        }
        return "apertium:" + settings_digest(settings)

    def fingerprint(self) -> str:
        return self._fingerprint

    def describe(self) -> dict:
        return {
            "backend": self.name,
            "model": ",".join(self.installed_modes),
            "fingerprint": short(self._fingerprint.split(":", 1)[1]),
            "version": self.version,
        }

    # -- translating -------------------------------------------------------------

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        mode = self.mode_for(src, tgt)
        results: list[str] = []
        size = self.options.batch_size
        for start in range(0, len(texts), size):
            results += self._translate_chunk(texts[start : start + size], mode)
        return results

    def _translate_chunk(self, texts: list[str], mode: str) -> list[str]:
        # A newline inside a sentence would let a blank line split it in two.
        flat = [" ".join(t.split()) for t in texts]
        todo = [i for i, t in enumerate(flat) if t]
        out = list(texts)
        if not todo:
            return out
        pieces = _PARAGRAPH_BREAK.split(self._run(mode, "\n\n".join(flat[i] for i in todo)).strip())
        if len(pieces) != len(todo):
            pieces = [self._run(mode, flat[i]).strip() for i in todo]
        for i, piece in zip(todo, pieces):
            out[i] = self._clean(piece, texts[i])
        return out

    def _run(self, mode: str, text: str) -> str:
        command = [*self._base_command(), "-u", mode]
        try:
            done = subprocess.run(
                command, input=text, capture_output=True, text=True, timeout=self.options.timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise ModelError(
                f"apertium {mode} did not finish within {self.options.timeout_s:g} s "
                f"({len(text)} characters); raise the timeout_s option or lower batch_size"
            ) from None
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ModelError(f"apertium {mode} failed with exit code {done.returncode}: {detail}")
        return done.stdout

    def _clean(self, output: str, source: str) -> str:
        output = " ".join(output.split())
        output = _MARK.sub(lambda m: m.group(0) if _kept_mark(m, output, source) else "", output)
        if self.options.restore_capital:
            output = _restore_initial_capital(output, source)
        return output


def _kept_mark(match: re.Match[str], output: str, source: str) -> bool:
    """A ``#``/``@`` that the source had too (a hashtag, a handle) is text, not a mark."""
    word = re.match(r"\w+", output[match.end() :])
    return bool(word) and (match.group(0) + word.group(0)) in source


def _restore_initial_capital(output: str, source: str) -> str:
    src_first = next((c for c in source if c.isalpha()), "")
    for i, char in enumerate(output):
        if char.isalpha():
            if src_first.isupper() and char.islower():
                return output[:i] + char.upper() + output[i + 1 :]
            return output
    return output
