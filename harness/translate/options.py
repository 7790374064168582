"""Validation of backend options (unknown or mistyped options are config errors)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def parse_options(model: type[M], options: dict[str, Any], backend: str) -> M:
    """Validate ``options`` for ``backend`` with ``model``; one-line ConfigError on failure."""
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "options"
            message = "unknown option" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{where}: {message}")
        known = ", ".join(model.model_fields)
        raise ConfigError(f"retranslation backend {backend!r}: {'; '.join(problems)} (options: {known})") from None
