"""Parsing of the two argument shapes users type everywhere: comma lists and ``A:B`` spans.

One home for them, so the command line, the Python API, the report parameters
and the assessment read ``"wgi.cc, vdem.v2x_cspart"`` and ``"1996:2023"`` the
same way and fail with the same one-sentence messages.
"""
from __future__ import annotations

import math
from typing import Sequence

from .errors import OgimpactError

__all__ = ["id_list", "span"]


def id_list(x: str | Sequence | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; a sequence -> its items as strings; ``None`` -> ``[]``."""
    if x is None:
        return []
    if isinstance(x, str):
        return [s.strip() for s in x.split(",") if s.strip()]
    return [str(s) for s in x]


def span(x: str | Sequence | None, *, name: str = "years", ordered: bool = False,
         example: str = "1996:2023") -> tuple[int, int] | None:
    """``"A:B"`` (or a pair of integers) -> ``(A, B)``; ``None`` -> ``None``.

    Parameters
    ----------
    name : how the argument is called in messages (``--years``, ``--window`` ...)
    ordered : require ``A <= B`` (a year range)
    example : shown in the message for a malformed value
    """
    if x is None:
        return None
    try:
        a, b = (int(v) for v in (x.split(":") if isinstance(x, str) else x))
    except (TypeError, ValueError):
        raise OgimpactError(f"{name} must be A:B with integers (e.g. {example}), got {x!r}.") from None
    if ordered and a > b:
        raise OgimpactError(f"{name} {a}:{b}: the first year is after the last; give A:B with A <= B.")
    return a, b


def finite_or_none(x) -> float | None:
    """``float(x)`` when it is a finite number, else None (missing, text, NaN, ±inf): the one home of this rule."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
