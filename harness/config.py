"""Run configs: YAML files validated by pydantic, every mistake one clear line.

A run config names the whole pipeline: which cleaners, which round trip,
which metrics and thresholds. Each stage's section is owned by its module
(``harness.translate.config``, ``harness.metrics.config``); this module
composes them and turns validation errors into a single line that names the
key and suggests the closest valid one.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .execution.config import ExecutionConfig
from .metrics.config import MetricsConfig
from .translate.config import RetranslationConfig
from .yamlsafe import load_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "default.yaml"
BUNDLED_TRANSCRIPT = REPO_ROOT / "references" / "briefing" / "transcript.txt"
BUNDLED_REFERENCES = REPO_ROOT / "references" / "briefing" / "references.yaml"

#: The default cleaner chain (the only place it is listed). Encoding first
#: (later cleaners match plain ASCII quotes), then spacing; the injected spam
#: goes before ``spin`` so that its removal cannot create or hide a spin
#: signature; ``casing`` last, after ``spin`` has restored "I'd like to".
DEFAULT_CLEANERS = ["unicode", "whitespace", "injected", "spin", "casing"]


class RegressConfig(BaseModel):
    """The ``regress:`` section of a run config: what the gate calls a regression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: margins (metric units) that replace a metric's own default margin
    #: (:attr:`~harness.metrics.base.MetricInfo.margin`); ``null`` reports the
    #: metric without gating on it. A metric with no margin is reported, not gated.
    margins: dict[str, float | None] = Field(default_factory=dict)
    #: one-sided significance level of the non-inferiority test
    alpha: float = Field(0.05, gt=0, lt=0.5)
    #: bootstrap resamples (and seed: the gate is deterministic)
    n_resamples: int = Field(1000, ge=100, le=100_000)
    seed: int = 12345
    #: stages compared (the distorted stage does not depend on the cleaners)
    stages: tuple[str, ...] = ("cleaned", "retranslated")
    #: a band downgrade counts only when the meaning score fell by more than this
    band_tolerance: float = Field(1.0, ge=0)
    #: per-passage checks: a worse band; a major finding the baseline did not have
    check_bands: bool = True
    check_findings: bool = True

    @field_validator("margins")
    @classmethod
    def _non_negative(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        bad = {k: v for k, v in value.items() if v is not None and (not math.isfinite(v) or v < 0)}
        if bad:
            raise ValueError(f"margins must be finite and >= 0, or null (got {bad})")
        return value

    def margin(self, metric: str, default: float | None) -> float | None:
        """The margin the gate uses for ``metric`` (``default``: the metric's own)."""
        return self.margins[metric] if metric in self.margins else default

    def with_margins(self, overrides: Mapping[str, float | None]) -> "RegressConfig":
        """A copy with some margins replaced (``--margin chrf=1.5``); None un-gates a metric."""
        return RegressConfig.model_validate({**self.model_dump(), "margins": {**self.margins, **overrides}})


class CleanerSpec(BaseModel):
    """A cleaner by name (built-in, entry point or ``package.module:name``) with options."""

    model_config = ConfigDict(extra="forbid")

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class RunConfig(BaseModel):
    """One pipeline: load -> clean -> retranslate -> score -> report."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    description: str = ""
    #: input files; relative paths are resolved against the config file's folder
    transcript: Path | None = None
    references: list[Path] | None = None
    cleaners: list[Union[str, CleanerSpec]] = Field(default_factory=lambda: list(DEFAULT_CLEANERS))
    #: a user cleaner that runs longer than this on one passage fails that passage
    cleaner_timeout_s: float = Field(default=30.0, gt=0)
    retranslation: RetranslationConfig = Field(default_factory=RetranslationConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    #: what `harness regress` calls a regression (margins per metric); does not
    #: change a run's numbers, so it is left out of the run signature
    regress: RegressConfig = Field(default_factory=RegressConfig)
    #: where the work runs (local cores or a Ray cluster); changes no number, so
    #: it is left out of the run signature and of baselines
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    #: passages processed (and saved) together: larger batches amortise model calls
    chunk_size: int = Field(default=32, ge=1, le=10_000)
    max_passage_chars: int = Field(default=100_000, ge=100)

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, value: str) -> str:
        from .visible import has_invisible

        if not value or any(c in value for c in "/\\\0") or value in (".", ".."):
            raise ValueError("must be a plain name usable as a folder name")
        if has_invisible(value) or any(c in value for c in "\t\n\r"):
            # it names run folders and systems in reports and on the terminal
            raise ValueError("must not contain control, invisible or direction-changing characters")
        return value

    def cleaner_specs(self) -> list[CleanerSpec]:
        return [CleanerSpec(name=c) if isinstance(c, str) else c for c in self.cleaners]


# --------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------

def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the key at ``loc`` (for suggestions)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        current = _first_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def format_validation_error(exc: ValidationError, label: str, model: type[BaseModel] = RunConfig) -> str:
    """The first problem as one line, with a did-you-mean for unknown keys."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first.get("loc", ()))
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    if first.get("type") == "extra_forbidden":
        owner = _model_at(model, loc)
        valid = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f" (valid keys: {', '.join(valid)})" if valid else ""
        return f"{label}: unknown key {dotted!r}{hint}{listing}{more}"
    if not loc:  # a rule about several keys (a model validator): its message says it all
        return f"{label}: {str(first.get('msg', 'invalid value')).removeprefix('Value error, ')}{more}"
    given = first.get("input")
    shown = repr(given) if not isinstance(given, (dict, list)) else type(given).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{label}: {dotted}: {first.get('msg', 'invalid value')} (got {shown}){more}"


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------

def config_from_dict(data: Any, label: str = "config", base_dir: Path | None = None) -> RunConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping of settings, got {type(data).__name__}")
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, label)) from None
    check_plugins(config, label)
    if base_dir is not None:
        if config.transcript is not None and not config.transcript.is_absolute():
            config.transcript = (base_dir / config.transcript).resolve()
        if config.references:
            config.references = [p if p.is_absolute() else (base_dir / p).resolve() for p in config.references]
    return config


def check_plugins(config: RunConfig, label: str) -> None:
    """Resolve every cleaner, metric and translator ``config`` names, so that a
    missing, unknown or refused one (see :mod:`harness.plugins`) is one
    :class:`ConfigError` naming ``label`` (the config file, the baseline, or
    ``--cleaner``) before anything runs. Nothing is constructed here."""
    from .cleaners import CLEANERS
    from .metrics import METRICS
    from .translate import TRANSLATORS

    names: list[tuple[Any, str]] = [(CLEANERS, spec.name) for spec in config.cleaner_specs()]
    names += [(METRICS, name) for name in config.metrics.metric_names]
    if config.retranslation.enabled:
        names += [(TRANSLATORS, config.retranslation.direction(src, tgt)[0]) for src, tgt in config.retranslation.hops()]
    for registry, name in dict.fromkeys(names):
        try:
            registry.check(name)
        except ConfigError as exc:
            raise ConfigError(f"{label}: {exc}") from None


def with_cleaners(config: RunConfig, cleaners: Sequence[str], *, only: bool = False,
                  label: str = "--cleaner") -> RunConfig:
    """``config`` with the cleaners given on the command line (``--cleaner``).

    By default they are *added* after the config's own chain (a cleaner
    already in the chain is not added twice, so naming the whole chain and
    then yours also works); with ``only`` they *replace* the chain
    (``--cleaners-only``). Every name is checked (see :func:`check_plugins`)."""
    if not cleaners:
        return config
    if only:
        chain: list[Union[str, CleanerSpec]] = list(dict.fromkeys(cleaners))
    else:
        present = {spec.name for spec in config.cleaner_specs()}
        chain = [*config.cleaners, *(name for name in dict.fromkeys(cleaners) if name not in present)]
    updated = config.model_copy(update={"cleaners": chain})
    check_plugins(updated, label)
    return updated


def with_metrics(config: RunConfig, metrics: Sequence[str], label: str = "--metric") -> RunConfig:
    """``config`` scoring exactly ``metrics`` (``-m/--metric``, in that order),
    instead of its ``metrics.use`` and ``metrics.extra``; each name checked."""
    if not metrics:
        return config
    try:
        scoring = MetricsConfig.model_validate({**config.metrics.model_dump(), "use": list(dict.fromkeys(metrics)),
                                                "extra": []})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, label, MetricsConfig)) from None
    updated = config.model_copy(update={"metrics": scoring})
    check_plugins(updated, label)
    return updated


def regress_cleaners(baseline: str | Path, config: Any, cleaners: Sequence[str] | None, *,
                     only: bool = False) -> list[Union[str, CleanerSpec]] | None:
    """The whole chain ``harness regress`` runs when ``cleaners`` are given: the
    chain of ``config`` (a config path or name, a RunConfig) or, without one,
    of the config stored in the baseline, with ``cleaners`` added (or, with
    ``only``, ``cleaners`` alone). None when no cleaners are given."""
    if not cleaners:
        return None
    if only:
        return list(dict.fromkeys(cleaners))
    if isinstance(config, RunConfig):
        base = config
    elif config is not None:
        base = load_config(config)
    else:
        from .baseline import baseline_config, load_baseline

        base = baseline_config(load_baseline(Path(baseline)), f"baseline {baseline}")
    return list(with_cleaners(base, cleaners).cleaners)


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A path, or the name of a shipped config (``apertium-es`` -> configs/apertium-es.yaml)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = CONFIG_DIR / f"{name_or_path}.yaml"
    if shipped.exists() and path.suffix == "":
        return shipped
    known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    close = difflib.get_close_matches(str(name_or_path), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"config {name_or_path}: no such file{hint} (shipped configs: {', '.join(known)})")


def load_config(path: str | Path | None = None) -> RunConfig:
    """Load and validate a run config (the shipped default when ``path`` is None)."""
    path = resolve_config_path(path) if path is not None else DEFAULT_CONFIG
    label = f"config {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: is not valid UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read ({exc.strerror or exc})") from None
    data = load_yaml(text, label, error=ConfigError)
    return config_from_dict(data, label, base_dir=path.resolve().parent)
