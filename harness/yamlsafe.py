"""YAML for untrusted files: safe types only, no anchors or aliases.

PyYAML's ``safe_load`` already refuses arbitrary objects; we also refuse
aliases, because a few lines of nested aliases ("billion laughs") expand to
an object graph that explodes as soon as anything walks it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import InputError


_SURROGATE = re.compile("[\ud800-\udfff]")


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            mark = event.start_mark
            raise InputError(
                f"line {mark.line + 1}: YAML aliases (*{event.anchor}) are not allowed in harness files"
            )
        return super().compose_node(parent, index)

    def construct_scalar(self, node):  # type: ignore[override]
        value = super().construct_scalar(node)
        # "\ud800" in a double-quoted scalar is half a UTF-16 pair: not text
        if isinstance(value, str) and _SURROGATE.search(value):
            raise InputError(f"line {node.start_mark.line + 1}: an unpaired surrogate escape is not a character")
        return value

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        # PyYAML keeps the last of two equal keys silently; in a references
        # file that drops a passage's references without a word.
        # Keys are also compared as text: every harness file reads its keys as
        # strings (a passage id 1 is "1"), so `1:` and `"1":` are one key too.
        seen: dict[Any, int] = {}
        seen_text: dict[str, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:  # (1 and true are one key in a Python dict, so they collide too)
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeConstructor reports it
                continue
            text = str(key) if isinstance(key, (str, int, float)) or key is None else None
            if first is None and text is not None:
                first = seen_text.get(text)
            if first is not None:
                raise InputError(f"line {line}: duplicate key {key!r} (first on line {first})")
            seen[key] = line
            if text is not None:
                seen_text[text] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, label: str, error: type[Exception] = InputError) -> Any:
    """Parse ``text``; any problem is one ``error`` line that names ``label``."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except InputError as exc:
        raise error(f"{label}: {exc}") from None
    except RecursionError:  # "[[[[..." thousands deep exhausts PyYAML's recursive composer
        raise error(f"{label}: invalid YAML (nested too deeply)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{label}{where}: invalid YAML ({problem})") from None
