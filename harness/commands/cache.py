"""``harness cache info`` / ``harness cache clear``: the translation cache."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import OutputError
from ..terminal import echo

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Cache folder (default: $HARNESS_CACHE_DIR, else the user cache directory).",
)


def _open(cache_dir: Path | None):
    from ..translate.cache import open_cache

    return open_cache(cache_dir, enabled=True)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


@click.group()
def cache() -> None:
    """Inspect or clear the translation and passage cache.

    Every translated sentence is kept, keyed by backend, model files, decoding
    settings, language pair and exact text, so that rerunning a pipeline does
    not translate again; so is every finished passage (its scores), keyed by
    the pipeline, its code and the passage, so that rerunning an unchanged
    pipeline computes nothing. Both are safe to delete at any time.
    """


@cache.command()
@cache_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def info(cache_dir: Path | None, as_json: bool) -> None:
    """Entries (translations and finished passages), size on disk and translations per model."""
    store = _open(cache_dir)
    if store is None:
        raise OutputError("no usable translation cache (see the warning above)")
    with store:
        facts = store.info()
    if as_json:
        echo(json.dumps(facts, indent=2))
        return
    echo(f"cache: {facts['path']}")
    echo(f"entries: {facts['entries']}")
    echo(f"translations: {facts['translations']}")
    echo(f"passages: {facts['passages']} (finished passages of the passage cache)")
    echo(f"size: {_size(facts['size_bytes'])}")
    if facts["by_model"]:
        echo("by model:")
        width = max(len(row["model"]) for row in facts["by_model"])
        for row in facts["by_model"]:
            echo(f"  {row['model']:<{width}}  {row['entries']:>8}  {', '.join(row['languages'])}")


@cache.command()
@cache_dir_option
def clear(cache_dir: Path | None) -> None:
    """Delete every cached translation and finished passage."""
    store = _open(cache_dir)
    if store is None:
        raise OutputError("no usable translation cache (see the warning above)")
    with store:
        removed = store.clear_counts()
        path = store.path
    translations, passages = removed["translations"], removed["passages"]
    echo(f"removed {translations} cached translation{'s' if translations != 1 else ''} and "
               f"{passages} finished passage{'s' if passages != 1 else ''} from {path}")
