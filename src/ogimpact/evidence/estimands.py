"""Declared estimands: what a headline number is an estimate *of*.

Every headline the answers recipe (:mod:`.recipe`) produces names its target:

* **staggered designs** (CS, Sun–Abraham, imputation, TWFE event study): the average
  of the event-time effects over event times 0..H (the adoption period and the H
  periods after it), each event time weighted equally; the full dynamic path stays in
  ``event_study`` beside it.  For Callaway–Sant'Anna this is R ``did``'s
  ``aggte(type = "dynamic", max_e = H)`` overall ATT (``fit_cs(max_e=H)``); for the
  other event studies it is the same linear combination of their event-time
  coefficients, with its standard error from their covariance
  (:func:`horizon_average`).
* **single-unit designs** (synthetic control, SDID, ITS, the country's CS cohort): the
  average post-period gap over the same periods T0..T0+H — the recipe ends the
  single-unit panel at T0 + H, so the synthetic control's average gap, its placebo
  ranks and SDID's ATT all refer to those periods; ITS's level and slope change are
  combined into the average effect over the post periods it saw (:func:`its_average`).

Why H = 5 by default (``options.horizon``; CLI ``--horizon``): the outcomes are
annual governance indicators, most adoption cohorts of the registry interventions
are observed for at least five years after adoption, and beyond that the long
event times rest on a handful of early cohorts (the "simple" ATT of rti_law averages
event times up to 26 years after adoption).  Five years is also the event window of
the grader's pre-test and HonestDiD target (``assess_grade.WINDOW``), so the
sensitivity analysis and the headline refer to the same parameter.  See decision
"Declared estimands" in ``docs/decisions.md``.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. *J. Econometrics* 225, 200-230 (sec. 3.1.2, event-study aggregation with a
maximum event time).
Abadie, A. (2021). Using synthetic controls. *J. Econ. Lit.* 59, 391-425.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import DesignError
from ..results import Estimate, ci_and_p

__all__ = ["HORIZON", "Estimand", "staggered_estimand", "single_unit_estimand", "horizon_average", "its_average",
           "check_horizon"]

#: default horizon H of every headline (event times / post periods 0..H)
HORIZON = 5


@dataclass(frozen=True)
class Estimand:
    """The target of a headline: its words, the horizon H asked for and the event times actually covered."""

    kind: str  # "staggered" | "single_unit"
    horizon: int
    text: str
    event_times: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {"text": self.text, "horizon": int(self.horizon), "kind": self.kind,
                "event_times": [int(e) for e in self.event_times]}


def check_horizon(horizon) -> int:
    """``horizon`` as a whole number >= 0 (else a :class:`DesignError` saying so)."""
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise DesignError(f"horizon must be a whole number of periods >= 0 (e.g. 5), got {horizon!r}.")
    return int(horizon)


def _span_words(h: int) -> str:
    return "the adoption year only" if h == 0 else f"the adoption year and the {h} year{'s' if h != 1 else ''} after"


def staggered_estimand(horizon: int = HORIZON, event_times: Sequence[int] = ()) -> Estimand:
    """The staggered headline: average effect over event times 0..H, dynamic path beside it."""
    h = check_horizon(horizon)
    covered = tuple(int(e) for e in event_times)
    short = f" (data cover event times {min(covered)}..{max(covered)} only)" if covered and max(covered) < h else ""
    return Estimand("staggered", h, f"average effect over event times 0..{h} ({_span_words(h)}), each event time "
                                    f"weighted equally, across the adopting countries{short}; the full dynamic path "
                                    "is reported beside it", covered)


def single_unit_estimand(horizon: int = HORIZON, treat_time: int | None = None, last: int | None = None,
                         unit: str | None = None, end_note: str | None = None) -> Estimand:
    """The single-unit headline: average post-period gap over T0..T0+H (cut at ``last``: the data's end, or the
    end the donor rule needed, said by ``end_note``)."""
    h = check_horizon(horizon)
    who = f"{unit}'s" if unit else "the treated unit's"
    if treat_time is None:
        return Estimand("single_unit", h, f"average gap between {who} outcome and its comparison over event times "
                                          f"0..{h} ({_span_words(h)})")
    end = int(treat_time) + h if last is None else min(int(treat_time) + h, int(last))
    short = f"; {end_note or f'the data end in {end}'}" if end < int(treat_time) + h else ""
    return Estimand("single_unit", h, f"average gap between {who} outcome and its comparison over "
                                      f"{int(treat_time)}-{end} (event times 0..{h}: {_span_words(h)}{short})",
                    tuple(range(0, end - int(treat_time) + 1)))


def _replace_headline(res: Estimate, est: float, se: float, *, horizon: int, used: Sequence[int], how: str) -> Estimate:
    lo, hi, p = ci_and_p(est, se, alpha=res.alpha, df=res.df)
    before = {"estimate": res.estimate, "se": res.se, "ci_low": res.ci_low, "ci_high": res.ci_high,
              "p_value": res.p_value, "note": "the design's own headline before the horizon was applied"}
    return res.replace(estimate=float(est), se=float(se), ci_low=lo, ci_high=hi, p_value=p,
                       diagnostics={**res.diagnostics, "headline_all_periods": before},
                       options={**res.options, "horizon": int(horizon), "horizon_event_times": [int(e) for e in used],
                                "headline": how})


def horizon_average(res: Estimate, horizon: int = HORIZON) -> Estimate:
    """``res`` with its headline replaced by the equal-weight mean of its event-time effects 0..H.

    The standard error is ``sqrt(w' V w)`` with ``V`` the event study's covariance and ``w``
    the averaging weights; the CI and p use the result's own reference distribution
    (``res.df``: t(G-1) for clustered regressions, normal otherwise).  The design's own
    headline is kept in ``diagnostics.headline_all_periods``.
    """
    h = check_horizon(horizon)
    es = res.event_study
    if es is None:
        raise DesignError(f"{res.design} has no event study, so its effect over event times 0..{h} is not defined.")
    et = np.asarray(es.event_times)
    keep = (et >= 0) & (et <= h)
    if es.ref is not None:
        keep &= et != es.ref
    if not keep.any():
        raise DesignError(f"{res.design} estimates no event time in 0..{h}.")
    w = keep.astype(float) / keep.sum()
    est = float(w @ np.asarray(es.estimates, float))
    se = float(np.sqrt(max(float(w @ np.asarray(es.vcov, float) @ w), 0.0)))
    return _replace_headline(res, est, se, horizon=h, used=et[keep].tolist(),
                             how=f"mean of the event-time coefficients 0..{h}, SE from their covariance")


def its_average(res: Estimate, horizon: int = HORIZON) -> Estimate:
    """ITS headline = average modelled effect over the post periods seen (event times 0..H at most).

    With ``y = b0 + b1 t + b2 post + b3 (t - T0) post`` the effect at post period ``t`` is
    ``b2 + b3 (t - T0)``; its mean over the post periods ``t <= T0 + H`` in the fit is
    ``b2 + b3 * mean(t - T0)``, with variance from the fit's covariance (``extras.vcov``)
    and the level change's degrees of freedom.
    """
    h = check_horizon(horizon)
    ex = res.extras or {}
    V, names, T0 = ex.get("vcov"), ex.get("terms"), ex.get("treat_time")
    gaps = res.table("gaps")
    if V is None or names is None or T0 is None or gaps.empty:
        raise DesignError("the ITS result carries no covariance of its terms; refit it with ogimpact >= 0.2.")
    k = gaps["time"].to_numpy(int) - int(T0)
    k = k[(k >= 0) & (k <= h)]
    b = {t["term"]: float(t["estimate"]) for t in res.terms}
    i2, i3 = names.index("level_change"), names.index("slope_change")
    w = np.zeros(len(names))
    w[i2], w[i3] = 1.0, float(k.mean())
    V = np.asarray(V, float)
    est = b["level_change"] + w[i3] * b["slope_change"]
    se = float(np.sqrt(max(float(w @ V @ w), 0.0)))
    return _replace_headline(res, est, se, horizon=h, used=k.tolist(),
                             how=f"level change + slope change x mean event time of the post periods 0..{int(k.max())}")
