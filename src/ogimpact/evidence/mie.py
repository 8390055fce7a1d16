"""The minimum important effect (MIE) of a measure: the one home of its default rule.

A null result is evidence of *no important effect* only when its confidence interval excludes
±MIE, and an effect is *important* only beyond it (Core GRADE 2: Guyatt et al. 2025, *BMJ*
389:e081904), so every graded result needs an MIE.  When the user declares none (``assess
--mie``), the default for a measure of the catalogue is

    MIE = max(sd_fraction × cross-unit SD, se_multiple × median published SE)

with ``sd_fraction`` = 0.2 (Cohen's 1988 "small" standardised difference) and ``se_multiple`` =
1 (an effect smaller than the source's own standard error of one unit-year cannot be told from
measurement error), both in ``grading.yaml`` (section ``mie``).  The cross-unit SD is the median
over years of the SD across units of that year (years with at least ``min_units_per_year``
units), so it measures how far apart units are on the measure's scale, not how the measure
drifts over time; the published SE is the median of the ``se`` column where the source has one
(WGI, TI CPI).  A panel that is not in the catalogue (a user CSV) gets the same rule on its own
outcome column (:func:`mie_from_frame`).  Every :class:`MIE` carries its value, the rule as a
sentence and the numbers it used, and the precision check records them.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import OgimpactError
from .rubric import load_rubric

__all__ = ["MIE", "MeasureScale", "measure_scale", "default_mie", "mie_from_frame", "resolve_mie", "scale_from_frame"]


@dataclass(frozen=True)
class MeasureScale:
    """How spread out a measure is across units, and how precisely its source measures it."""

    cross_unit_sd: float | None
    median_se: float | None
    n_years: int
    source: str

    def to_dict(self) -> dict:
        return {"cross_unit_sd": self.cross_unit_sd, "median_se": self.median_se, "n_years": self.n_years,
                "source": self.source}


@dataclass(frozen=True)
class MIE:
    """A minimum important effect with the rule that produced it."""

    value: float
    rule: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"value": self.value, "rule": self.rule, **dict(self.inputs)}


def scale_from_frame(frame: pd.DataFrame, *, unit: str = "unit", time: str = "year", value: str = "value",
                     se: str | None = "se", min_units: int = 5, source: str = "frame") -> MeasureScale:
    """Cross-unit SD (median over periods of the SD across units) and median SE of a long frame."""
    f = frame[[c for c in (unit, time, value, se) if c and c in frame.columns]].copy()
    f[value] = pd.to_numeric(f[value], errors="coerce")
    f = f[np.isfinite(f[value].to_numpy(float))]
    sds = []
    for _, g in f.groupby(time):
        v = g[value].to_numpy(float)
        if len(v) >= max(2, int(min_units)):
            sds.append(float(np.std(v, ddof=1)))
    sd = float(np.median(sds)) if sds else None
    med_se = None
    if se and se in f.columns:
        s = pd.to_numeric(f[se], errors="coerce").to_numpy(float)
        s = s[np.isfinite(s) & (s > 0)]
        med_se = float(np.median(s)) if len(s) else None
    return MeasureScale(cross_unit_sd=sd if sd and sd > 0 else None, median_se=med_se, n_years=len(sds),
                        source=source)


@lru_cache(maxsize=256)
def _scale_cached(measure: str, min_units: int, data_key: str) -> MeasureScale:
    from .. import measures as ms

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        long = ms.load([measure])
    return scale_from_frame(long, unit="unit", time="year", value="value", se="se", min_units=min_units,
                            source=f"measure catalogue: {measure}, all units and years")


def measure_scale(measure: str, *, rubric=None) -> MeasureScale | None:
    """The scale of a catalogue measure, or None when ``measure`` is not in the catalogue."""
    from .. import measures as ms
    from ..data.paths import data_dir

    if measure not in set(ms.ids()):
        return None
    n = int(load_rubric(rubric).data.get("mie", {}).get("min_units_per_year", 5))
    return _scale_cached(measure, n, str(data_dir()))


def _from_scale(sc: MeasureScale, rubric, what: str) -> MIE | None:
    r = load_rubric(rubric).data.get("mie") or {}
    frac, mult = float(r.get("sd_fraction", 0.2)), float(r.get("se_multiple", 1.0))
    a = None if sc.cross_unit_sd is None else frac * sc.cross_unit_sd
    b = None if sc.median_se is None else mult * sc.median_se
    if a is None and b is None:
        return None
    value = max(v for v in (a, b) if v is not None)
    used = "the source's median published SE" if (b is not None and (a is None or b > a)) else \
        f"{frac:g} x the cross-unit SD"
    rule = (f"default MIE = max({frac:g} x cross-unit SD, {mult:g} x median published SE) of {what}"
            f" = {value:.3g} ({used})")
    return MIE(value=float(value), rule=rule,
               inputs={"kind": "default", "cross_unit_sd": sc.cross_unit_sd, "median_se": sc.median_se,
                       "sd_fraction": frac, "se_multiple": mult, "scale_source": sc.source})


def default_mie(measure: str, *, rubric=None) -> MIE | None:
    """The default MIE of a catalogue measure (module docstring), or None for an unknown measure."""
    sc = measure_scale(measure, rubric=rubric)
    return None if sc is None else _from_scale(sc, rubric, f"measure {measure}")


def mie_from_frame(frame: pd.DataFrame, *, unit: str, time: str, value: str, se: str | None = None,
                   rubric=None, label: str | None = None) -> MIE | None:
    """The default rule applied to a panel's own outcome column (a measure outside the catalogue)."""
    n = int(load_rubric(rubric).data.get("mie", {}).get("min_units_per_year", 5))
    sc = scale_from_frame(frame, unit=unit, time=time, value=value, se=se, min_units=n,
                          source=f"the panel's own outcome {label or value}")
    return _from_scale(sc, rubric, f"the panel's outcome {label or value}")


def resolve_mie(declared: float | MIE | None, measure: str | None, *, pre_sd: float | None = None,
                rubric=None) -> MIE | None:
    """The MIE a check uses: the declared one, else the measure's default, else a fallback on ``pre_sd``.

    ``pre_sd`` (the SD of the outcome over untreated observations of the panel) is the last resort
    for a measure outside the catalogue when no frame is at hand: the same fraction of it.
    """
    if isinstance(declared, MIE):
        return declared
    if declared is not None:
        v = float(declared)
        if not v > 0:
            raise OgimpactError(f"the minimum important effect must be positive, not {v}; declare it in outcome units.")
        return MIE(value=v, rule=f"declared by the user (MIE = {v:g})", inputs={"kind": "declared"})
    if measure:
        try:
            m = default_mie(str(measure), rubric=rubric)
        except Exception:  # noqa: BLE001 - an unreadable source falls through to the panel's own spread
            m = None
        if m is not None:
            return m
    if pre_sd is not None and np.isfinite(pre_sd) and pre_sd > 0:
        frac = float((load_rubric(rubric).data.get("mie") or {}).get("sd_fraction", 0.2))
        v = frac * float(pre_sd)
        return MIE(value=v, rule=(f"default MIE = {frac:g} x the SD of the outcome over the panel's untreated "
                                  f"observations = {v:.3g} (measure not in the catalogue)"),
                   inputs={"kind": "default", "pre_sd": float(pre_sd), "sd_fraction": frac})
    return None
