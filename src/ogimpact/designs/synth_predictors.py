"""Predictor SPEC of the synthetic control method (Stata ``synth`` syntax).

A SPEC is a comma-separated list of items (commas *inside* parentheses do not
separate items)::

    VAR             mean of VAR over every pre-treatment period
    VAR(Y)          VAR in period Y
    VAR(A-B)        mean of VAR over periods A..B
    VAR(A/B)        the same (Stata numlist range)
    VAR(A(S)B)      mean over every S-th period from A to B (Stata numlist)
    VAR(Y1 Y2 ...)  several elements, separated by spaces, ``&`` or commas

Means skip missing values, as R ``Synth`` (``mean(..., na.rm = TRUE)``) and
Stata ``synth`` do.  Each item becomes one row of the predictor matrix ``X``
of Abadie, Diamond & Hainmueller (2010, JASA 105:493-505), eq. (2).

The item text, as written, labels the predictor in the ``v_weights`` and
``balance`` tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import DesignError

__all__ = ["Predictor", "split_spec", "parse_spec", "spec_variables", "predictor_matrix", "default_spec"]

_ITEM = re.compile(r"^\s*(?P<var>[^()]+?)\s*(?:\((?P<per>.*)\))?\s*$")
_RANGE = re.compile(r"^(-?\d+)\s*(?:-|/)\s*(-?\d+)$")
_STEP = re.compile(r"^(-?\d+)\s*\(\s*(\d+)\s*\)\s*(-?\d+)$")


@dataclass(frozen=True)
class Predictor:
    """One predictor: a variable averaged over a set of periods.

    ``periods`` is ``None`` for "every pre-treatment period" (resolved at fit time).
    """

    label: str
    var: str
    periods: tuple[int, ...] | None

    def resolved(self, pre_periods: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(p) for p in pre_periods) if self.periods is None else self.periods

    def shifted(self, by: int) -> "Predictor":
        """The same predictor measured ``by`` periods earlier (placebo-in-time backdating)."""
        if self.periods is None:
            return self
        return Predictor(self.label, self.var, tuple(p - by for p in self.periods))


def split_spec(spec: str) -> list[str]:
    """Split a SPEC at top-level commas (commas inside parentheses are kept)."""
    items, depth, cur = [], 0, []
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise DesignError(f"predictor SPEC {spec!r} has an unmatched ')'; balance the parentheses.")
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0:
        raise DesignError(f"predictor SPEC {spec!r} has an unmatched '('; balance the parentheses.")
    items.append("".join(cur))
    return [s.strip() for s in items if s.strip()]


def _numlist(text: str, item: str) -> tuple[int, ...]:
    """Expand a Stata-like numlist (``1980``, ``1980-1988``, ``1980/1988``, ``1961(2)1969``, lists)."""
    # elements are separated by '&', ',' or whitespace, but not inside "A(S)B"
    flat = re.sub(r"\(\s*(\d+)\s*\)", r"<\1>", text.strip())
    parts = [p for p in re.split(r"[\s,&]+", flat.replace(" - ", "-").replace(" / ", "/")) if p]
    out: list[int] = []
    for p in parts:
        p = p.replace("<", "(").replace(">", ")")
        if re.fullmatch(r"-?\d+", p):
            out.append(int(p))
            continue
        m = _STEP.match(p)
        if m:
            a, s, b = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if s <= 0 or b < a:
                raise DesignError(f"predictor {item!r}: the period list {p!r} is empty; write A(S)B with A <= B and S >= 1.")
            out.extend(range(a, b + 1, s))
            continue
        m = _RANGE.match(p)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a:
                raise DesignError(f"predictor {item!r}: the period range {p!r} runs backwards; write A-B with A <= B.")
            out.extend(range(a, b + 1))
            continue
        raise DesignError(
            f"predictor {item!r}: cannot read the periods {text!r}; use VAR(Y), VAR(A-B) or VAR(A(S)B) with integer periods."
        )
    if not out:
        raise DesignError(f"predictor {item!r} has empty parentheses; give periods such as VAR(1980-1988) or drop them.")
    return tuple(dict.fromkeys(out))


def parse_spec(spec: str | Sequence[str]) -> list[Predictor]:
    """Parse a predictor SPEC (string or list of items) into :class:`Predictor` objects.

    Examples
    --------
    >>> [p.periods for p in parse_spec("x(1961(2)1965),y(1980-1982),z")]
    [(1961, 1963, 1965), (1980, 1981, 1982), None]
    """
    items = split_spec(spec) if isinstance(spec, str) else [str(s).strip() for s in spec if str(s).strip()]
    if not items:
        raise DesignError("the predictor SPEC is empty; give at least one predictor, e.g. 'gdp(1980-1988)'.")
    out: list[Predictor] = []
    for it in items:
        m = _ITEM.match(it)
        if not m or not m.group("var").strip():
            raise DesignError(f"cannot read predictor {it!r}; write VAR, VAR(Y), VAR(A-B) or VAR(A(S)B).")
        per = m.group("per")
        periods = None if per is None else _numlist(per, it)
        out.append(Predictor(label=it, var=m.group("var").strip(), periods=periods))
    labels = [p.label for p in out]
    dups = sorted({x for x in labels if labels.count(x) > 1})
    if dups:
        raise DesignError(f"predictor(s) {', '.join(dups)} appear twice in the SPEC; list each once.")
    return out


def spec_variables(spec: str | Sequence[str] | None) -> list[str]:
    """Variables a SPEC reads (in order, unique): the columns a Panel must keep via ``extra=``."""
    if spec is None:
        return []
    return list(dict.fromkeys(p.var for p in parse_spec(spec)))


def default_spec(outcome: str, pre_periods: Sequence[int]) -> list[Predictor]:
    """Default predictors: the outcome in every pre-treatment period (one predictor per lag)."""
    return [Predictor(label=f"{outcome}({int(t)})", var=outcome, periods=(int(t),)) for t in pre_periods]


def predictor_matrix(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    units: Sequence,
    predictors: Sequence[Predictor],
    pre_periods: Sequence[int],
) -> np.ndarray:
    """Predictor matrix ``X`` (K predictors x N units), means skipping missing values.

    Raises
    ------
    DesignError
        A predictor variable is not in the panel, or some unit has no
        non-missing value of a predictor in its periods.
    """
    missing = sorted({p.var for p in predictors if p.var not in frame.columns})
    if missing:
        raise DesignError(
            f"predictor variable(s) {', '.join(missing)} are not in the panel; keep them when building it "
            "(Panel.from_frame(..., extra=[...]), not as covariates, which would drop rows where they are missing)."
        )
    pos = {u: i for i, u in enumerate(units)}
    sub = frame[frame[unit].isin(pos)]
    upos = sub[unit].map(pos).to_numpy()
    tt = sub[time].to_numpy()
    X = np.empty((len(predictors), len(units)))
    for k, p in enumerate(predictors):
        per = p.resolved(pre_periods)
        m = np.isin(tt, np.asarray(per, dtype=tt.dtype))
        v = pd.to_numeric(sub[p.var], errors="coerce").to_numpy(dtype=float)
        ok = m & np.isfinite(v)
        s = np.bincount(upos[ok], weights=v[ok], minlength=len(units))
        c = np.bincount(upos[ok], minlength=len(units))
        if (c == 0).any():
            bad = [str(units[i]) for i in np.flatnonzero(c == 0)]
            raise DesignError(
                f"predictor {p.label!r} has no data in periods {per[0]}..{per[-1]} for "
                f"{', '.join(bad[:6])}{' ...' if len(bad) > 6 else ''}; choose periods where it is observed "
                "or drop those units with donors=."
            )
        X[k] = s / c
    return X
