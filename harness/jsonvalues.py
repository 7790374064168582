"""The one conversion of Python and numpy values to plain JSON values."""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any, Mapping


def plain(value: Any, decimals: int | None = None) -> Any:
    """``value`` as plain JSON values, recursively: numpy scalars and arrays
    become Python numbers and lists, tuples become lists, paths strings, keys
    strings; NaN and infinities become None (JSON has no NaN). With
    ``decimals``, every float is rounded to that many places (and -0.0 is 0.0),
    so that two runs of the same pipeline compare equal."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, decimals) for v in value]
    if isinstance(value, int):
        return value
    if isinstance(value, PurePath):
        return str(value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist) and not isinstance(value, float):
        return plain(tolist(), decimals)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if decimals is None:
            return value
        rounded = round(value, decimals)
        return 0.0 if rounded == 0 else rounded
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
