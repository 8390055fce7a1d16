"""Checks that judge the design itself: pre-test power and the synthetic comparison.

Like :mod:`.checks`, each function takes plain numbers, reads its thresholds from the rubric
(``grading.yaml``) and returns a :class:`~ogimpact.evidence.checks.CheckResult`.

* :func:`check_pretrend_power` — Roth (2022): the linear pre-trend the pre-test detects with 50%
  and 80% power (:func:`ogimpact.inference.pretrends.pretrends`) and the bias such a trend would
  cause in the estimand (the average over its post periods).  When the trend detected 80% of the
  time would by itself produce the estimate (effect target) or an effect as large as the MIE
  (no-effect target), passing the pre-test says little, and the grade falls.
* single-unit designs (Abadie 2021, *JEL* 59, 391-425, s.7; Abadie & L'Hour 2021, *JASA* 116,
  1817-1834): :func:`check_pre_fit` (pre-period RMSPE against the measure's cross-unit SD, the
  treated unit's own pre-period SD and the source's standard error), :func:`check_effective_donors`
  (1/Σw²), :func:`check_donor_similarity` (weighted RMS pre-period distance of the donors to the
  treated unit), :func:`check_hull` (extrapolation outside the donors' convex hull) and
  :func:`check_loo_stability` (leave-one-donor-out range, ADH 2015).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .checks import CheckResult, _finish, _fmt, _not_assessed, _num, _rules

__all__ = ["check_pretrend_power", "check_pre_fit", "check_effective_donors", "check_donor_similarity",
           "check_hull", "check_loo_stability", "not_applicable"]


def not_applicable(domain: str, why: str, inputs: Mapping | None = None) -> CheckResult:
    """A check that does not apply to this design (severity 0, stated, never silently absent)."""
    return CheckResult(domain, False, 0, dict(inputs or {}), f"not applicable: {why}")


def _reference(target: Mapping | None, estimate: float | None, mie: float | None) -> tuple[float | None, str]:
    """|estimate| for an effect target, the MIE for a no-effect target."""
    if target and target.get("kind") == "no_effect":
        return _num(mie), "MIE"
    e = _num(estimate)
    return (None if e is None else abs(e)), "|estimate|"


# --------------------------------------------------------------------------- pre-test power
def check_pretrend_power(
    event_times: Sequence[int] | None,
    estimates: Sequence[float] | None,
    vcov: Any,
    *,
    estimate: float | None,
    target: Mapping | None = None,
    mie: float | None = None,
    ref: int = -1,
    horizon: int | None = None,
    rubric=None,
) -> CheckResult:
    """Roth (2022) power of the pre-test against a linear trend, and the bias that trend causes.

    Parameters
    ----------
    event_times, estimates, vcov : the event study (reference row absent or present).
    estimate : the headline estimate (the estimand).
    target : :func:`ogimpact.evidence.checks.grade_target` of the finding.
    mie : minimum important effect (the reference of a no-effect target).
    ref : reference period (the trend is zero there) [-1].
    horizon : last post event time of the estimand [every post period of the event study].
    """
    from ..inference.pretrends import pretrends

    r, floor = _rules(rubric, "pretrend_power")
    levels = [float(x) for x in r.get("power_levels", [0.5, 0.8])]
    judged = float(r.get("judged_power", 0.8))
    alpha = float(r.get("alpha", 0.05))
    inputs: dict[str, Any] = {"alpha": alpha, "judged_power": judged, "max_bias_ratio": r["max_bias_ratio"],
                              "ref": ref, "horizon": horizon, "method": "Roth (2022) linear trend; R pretrends"}
    if event_times is None or estimates is None or vcov is None:
        return _not_assessed("pretrend_power", inputs, "no event study with pre-period coefficients and a covariance")
    et = np.asarray(event_times, int)
    b = np.asarray(estimates, float)
    V = np.asarray(vcov, float)
    rows = {}
    try:
        for lv in sorted(set(levels + [judged])):
            res = pretrends(et, b, V, ref=ref, power=lv, alpha=alpha)
            bias = res.bias
            if horizon is not None:
                bias = bias[bias["event_time"] <= int(horizon)]
            rows[lv] = {"power": lv, "slope": res.slope, "bias": float(np.mean(np.abs(bias["trend"]))),
                        "bias_after_pretest": float(np.mean(np.abs(bias["bias"]))),
                        "post_event_times": [int(e) for e in bias["event_time"]]}
    except Exception as exc:  # noqa: BLE001 - the reason is the check's
        return _not_assessed("pretrend_power", inputs, " ".join(str(exc).split()))
    inputs["trends"] = [rows[lv] for lv in sorted(rows)]
    j = rows[judged]
    for lv in levels:
        inputs[f"slope_{int(round(lv * 100))}"] = rows[lv]["slope"]
        inputs[f"bias_{int(round(lv * 100))}"] = rows[lv]["bias"]
    refv, kind = _reference(target, estimate, mie)
    inputs.update(reference=refv, reference_kind=kind)
    pct = int(round(judged * 100))
    txt = (f"a linear pre-trend the pre-test detects with {pct}% power (slope {_fmt(j['slope'])}) would bias the "
           f"estimand by {_fmt(j['bias'])}")
    if refv is None or refv <= 0:
        return _finish("pretrend_power", [(0, txt + "; no reference to compare it with")], floor, inputs, txt)
    ratio = j["bias"] / refv
    inputs["bias_ratio"] = ratio
    parts: list[tuple[int | None, str]] = []
    if ratio >= float(r["max_bias_ratio"]):
        parts.append((int(r["severity"]), f"{txt} = {_fmt(ratio)} x {kind} {_fmt(refv)} (>={r['max_bias_ratio']}): "
                                          "the pre-test could miss a trend that explains the result"))
    return _finish("pretrend_power", parts, floor, inputs, f"{txt} = {_fmt(ratio)} x {kind} {_fmt(refv)}")


# --------------------------------------------------------------------------- single-unit designs
def check_pre_fit(
    pre_rmspe: float | None,
    *,
    cross_unit_sd: float | None,
    own_sd_ratio: float | None = None,
    median_se: float | None = None,
    source: str | None = None,
    rubric=None,
    n_pre: int | None = None,
) -> CheckResult:
    """Pre-period fit of a single-unit design (Abadie 2021 s.7).

    RMSPE > ``max_rmspe_sd`` x the measure's cross-unit SD -> ``level_severity``; RMSPE >=
    ``max_ratio_own_sd`` x the treated unit's own pre-period SD (``own_sd_ratio`` = the result's
    ``diagnostics.pre_rmspe_ratio_sd``) and > ``max_rmspe_se`` x the source's median SE (when
    published) -> ``track_severity``.  Fewer than ``min_pre_periods`` observed pre-treatment periods
    (``n_pre``) -> ``short_severity``: a fit to so few points is close to exact by construction.
    """
    r, floor = _rules(rubric, "pre_fit")
    rm, sd, own, se = _num(pre_rmspe), _num(cross_unit_sd), _num(own_sd_ratio), _num(median_se)
    inputs: dict[str, Any] = {"pre_rmspe": rm, "cross_unit_sd": sd, "pre_rmspe_ratio_own_sd": own, "median_se": se,
                              "max_rmspe_sd": r["max_rmspe_sd"], "max_ratio_own_sd": r["max_ratio_own_sd"],
                              "max_rmspe_se": r["max_rmspe_se"], "source": source}
    inputs["n_pre"] = None if n_pre is None else int(n_pre)
    min_pre = r.get("min_pre_periods")
    inputs["min_pre_periods"] = min_pre
    if rm is None:
        return _not_assessed("pre_fit", inputs, "no pre-period RMSPE")
    parts: list[tuple[int | None, str]] = []
    if n_pre is not None and min_pre is not None and int(n_pre) < int(min_pre):
        parts.append((int(r["short_severity"]),
                      f"only {int(n_pre)} pre-treatment period{'s' if int(n_pre) != 1 else ''} observed (< {min_pre}): "
                      "a comparison fitted to so few points matches them almost by construction, so the fit and "
                      "the placebo ranks say little"))
    if sd is not None and sd > 0:
        inputs["pre_rmspe_ratio_cross_sd"] = rm / sd
        if rm / sd > r["max_rmspe_sd"]:
            parts.append((int(r["level_severity"]), f"pre-period RMSPE {_fmt(rm)} = {_fmt(rm / sd)} x the cross-unit SD "
                                                    f"(>{r['max_rmspe_sd']})"))
    if se is not None and se > 0:
        inputs["pre_rmspe_ratio_se"] = rm / se
    if own is not None and own >= r["max_ratio_own_sd"]:
        beyond_se = se is None or se <= 0 or rm > r["max_rmspe_se"] * se
        if beyond_se:
            parts.append((int(r["track_severity"]),
                          f"the fit tracks the treated unit no better than its own pre-period mean (RMSPE = {_fmt(own)} x "
                          "its pre-period SD)" + (f" and misses by {_fmt(rm / se)} x the source's SE" if se else "")))
        else:
            parts.append((None, f"RMSPE = {_fmt(own)} x the treated unit's pre-period SD but within the source's SE "
                                f"({_fmt(rm / se)} x SE)"))
    ok = f"pre-period RMSPE {_fmt(rm)}" + (f" = {_fmt(rm / sd)} x the cross-unit SD" if sd else "") + \
        (f", {_fmt(rm / se)} x the source's SE" if se else "")
    return _finish("pre_fit", parts, floor, inputs, ok)


def check_effective_donors(effective: float | None, *, n_donors: int | None = None, top_donor: str | None = None,
                           rubric=None) -> CheckResult:
    """1/Σw² below ``min``: the synthetic comparison is essentially one donor -> ``severity``."""
    r, floor = _rules(rubric, "effective_donors")
    e = _num(effective)
    inputs = {"effective_donors": e, "n_donors": n_donors, "top_donor": top_donor, "min": r["min"]}
    if e is None:
        return _not_assessed("effective_donors", inputs, "no donor weights")
    parts = []
    if e < r["min"]:
        parts.append((int(r["severity"]), f"effective number of donors {_fmt(e)} (<{r['min']})"
                                          + (f": the comparison is essentially {top_donor}" if top_donor else "")))
    return _finish("effective_donors", parts, floor, inputs, f"effective number of donors {_fmt(e)}"
                   + (f" of {n_donors}" if n_donors else ""))


def check_donor_similarity(distance: float | None, *, cross_unit_sd: float | None, rubric=None) -> CheckResult:
    """Weighted RMS pre-period distance of the donors to the treated unit, in cross-unit SDs.

    ``distance`` = sqrt(Σ_j w_j mean_t (y_1t - y_jt)²) (the outcome analogue of Abadie & L'Hour's
    2021 interpolation-bias penalty); > ``max_distance_sd`` x SD -> ``severity``: the synthetic
    unit averages donors that are each far from the treated unit.
    """
    r, floor = _rules(rubric, "donor_similarity")
    d, sd = _num(distance), _num(cross_unit_sd)
    inputs = {"donor_distance": d, "cross_unit_sd": sd, "max_distance_sd": r["max_distance_sd"]}
    if d is None or sd is None or sd <= 0:
        return _not_assessed("donor_similarity", inputs, "no donor distance or cross-unit SD")
    ratio = d / sd
    inputs["distance_sd"] = ratio
    parts = []
    if ratio > r["max_distance_sd"]:
        parts.append((int(r["severity"]), f"the synthetic comparison relies on dissimilar donors (weighted RMS pre-period "
                                          f"distance {_fmt(ratio)} cross-unit SD, >{r['max_distance_sd']})"))
    return _finish("donor_similarity", parts, floor, inputs,
                   f"donors close to the treated unit (weighted RMS distance {_fmt(ratio)} cross-unit SD)")


def check_hull(outside: bool | None, *, rubric=None) -> CheckResult:
    """The treated unit's pre-period path outside the donors' convex hull -> ``outside_severity``."""
    r, floor = _rules(rubric, "hull")
    inputs = {"outside_hull": outside}
    if outside is None:
        return _not_assessed("hull", inputs, "convex-hull test not run")
    parts = [(int(r["outside_severity"]), "the treated unit lies outside the donors' convex hull: the comparison "
                                          "extrapolates")] if outside else []
    return _finish("hull", parts, floor, inputs, "the treated unit lies inside the donors' convex hull")


def check_loo_stability(loo_range: Sequence[float] | None, *, estimate: float | None, target: Mapping | None = None,
                        mie: float | None = None, rubric=None) -> CheckResult:
    """Leave-one-donor-out estimates (ADH 2015): their range > ``max_range_ratio`` x the reference
    (|estimate| or MIE), or a sign change -> ``severity``."""
    r, floor = _rules(rubric, "loo_stability")
    rng = None if loo_range is None else [_num(x) for x in loo_range]
    inputs: dict[str, Any] = {"loo_range": rng, "estimate": _num(estimate), "max_range_ratio": r["max_range_ratio"]}
    if not rng or any(x is None for x in rng):
        return _not_assessed("loo_stability", inputs, "leave-one-out refits were not run")
    refv, kind = _reference(target, estimate, mie)
    lo, hi = min(rng), max(rng)
    inputs.update(reference=refv, reference_kind=kind)
    parts = []
    e = _num(estimate)
    if target and target.get("kind") == "effect" and e is not None and e != 0 and (lo * e < 0 or hi * e < 0):
        parts.append((int(r["severity"]), f"dropping one donor flips the sign (leave-one-out range [{_fmt(lo)}, {_fmt(hi)}])"))
    elif refv is not None and refv > 0 and (hi - lo) > r["max_range_ratio"] * refv:
        parts.append((int(r["severity"]), f"leave-one-out range [{_fmt(lo)}, {_fmt(hi)}] spans {_fmt((hi - lo) / refv)} x "
                                          f"{kind} (>{r['max_range_ratio']})"))
    return _finish("loo_stability", parts, floor, inputs, f"leave-one-out range [{_fmt(lo)}, {_fmt(hi)}]")
