"""Running the designs an assessment grades (no grading here).

Cross-country (staggered) runs fit, on one panel with a cohort role:

* ``cs`` — Callaway & Sant'Anna (2021) with not-yet-treated controls, the
  dynamic aggregation and a *universal* base period, so its pre-period
  coefficients are comparable long differences relative to ``e = -1`` (the
  form HonestDiD needs; post-period ATT(g,t) are the same as with a varying
  base);
* ``sun-abraham`` — Sun & Abraham (2021) interaction-weighted event study;
* ``imputation`` — Borusyak, Jaravel & Spiess (2024);
* ``event-study`` — the TWFE event study binned to a window (default −5..5),
  the non-robust comparison of the consistency check.

The heterogeneity-robust designs run on the balanced sub-panel (units observed
in every period, as CS requires) with treated cohorts of fewer than two units
dropped, so all three use the same units; the dropped units are recorded.
With few clusters a restricted wild cluster bootstrap (Webb weights) of the
static TWFE coefficient supplies the WCB p-value of the few-clusters check.
With ``keep_influence`` the CS fit also returns the per-unit influence function
of its headline ATT, from which the assessment draws the joint multiplier
bootstrap of the Romano–Wolf multiplicity adjustment across measures.

Single-country runs fit synthetic control (with in-space placebos), synthetic
DiD (placebo standard error) and ITS on the registry donor pool, plus the
country's adoption cohort from a CS run with the group aggregation.

A design that cannot run comes back as ``{design, status, reason}`` and is
shown, never hidden.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import OgimpactError
from ..panel import Panel
from ..results import Estimate

__all__ = [
    "ROBUST",
    "not_available",
    "robust_panel",
    "treat_panel",
    "run_staggered",
    "run_wild_bootstrap",
    "run_country",
    "pre_period_sd",
    "registry_cohort_panel",
]

#: ITS inference of assessments and reports: AR(1) REML with Satterthwaite df, the interval that covers in
#: short series (decision D15, docs/validity.md); ``ogimpact estimate its`` keeps Newey-West as its default
ITS_SE = "reml-ar1"

#: the answers recipe's settings of each design it runs, beyond the declared defaults
#: (``designs/declarations.py``; tests/test_declarations.py checks every key is a declared option and value)
RECIPE_SETTINGS = {
    "cs": {"control": "notyet", "aggregate": "dynamic", "base": "universal"},  # HonestDiD-ready event study
    "cs_cohort": {"control": "notyet", "aggregate": "group"},  # read by design "cs": the country's cohort ATT
    "synth": {"placebo": ("space",), "n_jobs": 1},
    "its": {"se": ITS_SE},
}

#: heterogeneity-robust staggered designs, in order of preference for the headline
ROBUST = ("cs", "sun-abraham", "imputation")


def not_available(design: str, exc: BaseException) -> dict:
    """``{design, status, reason}`` for a design that could not run (bad input vs failure)."""
    msg = " ".join(str(exc).split())[:400]
    if isinstance(exc, OgimpactError):
        return {"design": design, "status": "not estimable", "reason": msg}
    return {"design": design, "status": "failed", "reason": f"{type(exc).__name__}: {msg}"}


def _fit(design: str, panel: Panel, **opts) -> Estimate | dict:
    from ..estimation import estimate

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimate(design, panel, **opts)
    except Exception as exc:  # noqa: BLE001 - reported in the assessment, never hidden
        return not_available(design, exc)


def _rebuild(panel: Panel, frame: pd.DataFrame, **roles) -> Panel:
    kw = dict(unit=panel.unit, time=panel.time, outcome=panel.outcome, covariates=list(panel.covariates),
              cluster=panel.cluster, regular_time=False)
    kw.update(roles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Panel.from_frame(frame, **kw)
    out.info.update({k: v for k, v in panel.info.items() if k not in out.info})
    return out


def robust_panel(panel: Panel, *, min_cohort_units: int | None = None) -> Panel:
    """Balanced sub-panel with treated cohorts of at least ``min_cohort_units`` units.

    Units missing a period are dropped first (``info['dropped_unbalanced']``),
    then small cohorts (``info['dropped_small_cohorts']``), so no design meets
    a one-unit cohort after its own balancing step.
    """
    from ..estimation import MIN_COHORT_SIZE, drop_small_cohorts

    if not panel.cohort:
        raise OgimpactError("the assessment needs a panel with a cohort column (first treated period, 0 = never).")
    f = panel.frame
    n_per = f[panel.time].nunique()
    counts = f.dropna(subset=[panel.outcome]).groupby(panel.unit)[panel.outcome].size()
    full = counts[counts == n_per].index
    dropped = sorted(map(str, set(f[panel.unit].unique()) - set(full)))
    q = panel.subset_units(full) if dropped else dataclasses.replace(panel, info=dict(panel.info))
    q.info["dropped_unbalanced"] = dropped
    return drop_small_cohorts(q, min_units=MIN_COHORT_SIZE if min_cohort_units is None else min_cohort_units)


def treat_panel(panel: Panel) -> Panel:
    """The panel with a 0/1 ``treat`` column (``time >= cohort > 0``) for static TWFE."""
    f = panel.frame.copy()
    c = f[panel.cohort].to_numpy()
    f["treat"] = ((c > 0) & (f[panel.time].to_numpy() >= c)).astype(int)
    return _rebuild(panel, f, treat="treat", extra=[panel.cohort])


def run_staggered(panel: Panel, *, window: tuple[int, int] = (-5, 5), designs: Sequence[str] | None = None,
                  min_cohort_units: int | None = None, keep_influence: bool = False,
                  horizon: int | None = None) -> dict[str, Estimate | dict]:
    """Fit the cross-country designs on a cohort panel; ``{design: Estimate | not-available dict}``.

    ``horizon`` H: every headline is the average effect over event times 0..H (CS ``max_e = H``; the
    other event studies via :func:`ogimpact.evidence.estimands.horizon_average`); None keeps each
    design's own headline.

    ``keep_influence`` keeps the per-unit influence function of the CS headline ATT in its ``extras``
    (for the Romano–Wolf multiplier bootstrap across a family of measures).
    """
    designs = tuple(designs or (*ROBUST, "event-study"))
    unknown = [d for d in designs if d not in (*ROBUST, "event-study")]
    if unknown:
        raise OgimpactError(f"unknown staggered design(s) {unknown}; use cs, sun-abraham, imputation, event-study.")
    out: dict[str, Estimate | dict] = {}
    rp: Panel | dict | None = None
    if any(d in ROBUST for d in designs):
        try:
            rp = robust_panel(panel, min_cohort_units=min_cohort_units)
        except Exception as exc:  # noqa: BLE001
            rp = not_available("robust-panel", exc)
    for d in designs:
        if d == "event-study":
            out[d] = _horizon(_fit("event-study", panel, window=tuple(window)), horizon)
            continue
        if isinstance(rp, dict):
            out[d] = {**rp, "design": d}
            continue
        if d == "cs":
            out[d] = _fit("cs", rp, **RECIPE_SETTINGS["cs"],
                          keep_influence=bool(keep_influence), **({} if horizon is None else {"max_e": int(horizon)}))
            if horizon is not None and isinstance(out[d], Estimate):
                et = [e for e in out[d].event_study.event_times if 0 <= e <= int(horizon)]
                out[d] = out[d].replace(options={**out[d].options, "horizon": int(horizon), "horizon_event_times": et,
                                                 "headline": f"R did aggte(type='dynamic', max_e={int(horizon)})"})
        else:
            out[d] = _horizon(_fit(d, rp), horizon)
        if isinstance(out[d], Estimate):
            notes = {k: rp.info[k] for k in ("dropped_unbalanced", "dropped_small_cohorts") if rp.info.get(k)}
            if notes:
                out[d] = out[d].replace(options={**out[d].options, "assessment_sample": notes})
    return out


def _horizon(res, horizon):
    """The event study's headline over event times 0..horizon (unchanged when horizon is None)."""
    if horizon is None or not isinstance(res, Estimate):
        return res
    from .estimands import horizon_average

    try:
        return horizon_average(res, int(horizon))
    except OgimpactError as exc:
        return not_available(res.design, exc)


def run_wild_bootstrap(panel: Panel, *, draws: int = 999, seed: int = 0) -> Estimate | dict:
    """Static TWFE with a restricted wild cluster bootstrap (Webb weights) of the treatment coefficient
    (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2018)."""
    try:
        tp = treat_panel(panel)
    except Exception as exc:  # noqa: BLE001
        return not_available("twfe", exc)
    return _fit("twfe", tp, wild_bootstrap=int(draws), bootstrap_weights="webb", seed=int(seed))


def pre_period_sd(panel: Panel, *, treat_time: int | None = None) -> float | None:
    """SD of the outcome over untreated observations (before adoption, or never treated).

    With ``treat_time`` (single-country case): every unit's observations before it.
    """
    f = panel.frame
    y = f[panel.outcome]
    t = f[panel.time]
    if treat_time is not None:
        keep = t < int(treat_time)
    elif panel.cohort:
        c = f[panel.cohort]
        keep = (c == 0) | (t < c)
    elif "cohort" in f.columns:
        c = f["cohort"]
        keep = (c == 0) | (t < c)
    else:
        keep = pd.Series(True, index=f.index)
    v = y[keep].dropna().to_numpy(float)
    return float(np.std(v, ddof=1)) if len(v) > 1 else None


#: cohort-role panels built while a report runs, keyed by (data directory, arguments); None = no reuse
_COHORT_PANELS: dict | None = None


def keep_cohort_panels(on: bool = True) -> None:
    """Reuse :func:`registry_cohort_panel` builds (as copies) until called with ``on=False``.

    A country report asks for the same measure's cohort panel three times (the country's CS cohort, the
    staggered question, its recipe checks); its kernel turns reuse on at the start and off at the end.
    Off by default, so a long-lived process that changes the registry or the data never sees a stale panel.
    """
    global _COHORT_PANELS
    _COHORT_PANELS = {} if on else None


def registry_cohort_panel(intervention: str, measure: str, *, years=None, variant=None) -> Panel:
    """The registry panel of one measure with the intervention's cohort role (no cohort dropped)."""
    from ..data.paths import data_dir
    from ..estimation import registry_panel

    years = tuple(years) if years else None
    key = (str(data_dir()), intervention, measure, years, variant)
    cache = _COHORT_PANELS
    if cache is not None and key in cache:
        return cache[key].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = registry_panel("event-study", measure=measure, intervention=intervention, years=years,
                           variant=variant)
    if cache is not None:
        cache[key] = p.copy()
    return p



def _cohort_row(cs: Estimate, cohort: int) -> dict | None:
    g = cs.table("groups")
    if g.empty or "group" not in g.columns:
        return None
    row = g[g["group"] == cohort]
    if row.empty:
        return None
    r = row.iloc[0].to_dict()
    est, se = float(r["estimate"]), float(r["se"])
    from ..results import ci_and_p

    lo, hi, p = ci_and_p(est, se, alpha=cs.alpha)
    return {"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p}


def run_country(
    panel: Panel,
    country: str,
    *,
    treat_time: int,
    donors: Sequence[str],
    excluded: Mapping[str, Any] | None = None,
    seed: int = 0,
    sdid_reps: int = 50,
    cohort_panel: Panel | None = None,
) -> dict[str, Estimate | dict]:
    """Synth (in-space placebos), SDID (placebo SE), ITS and the country's CS cohort ATT.

    ``panel`` has every unit with the outcome (single-unit roles); ``donors``
    the donor pool (e.g. :func:`ogimpact.donors.select_donors`);
    ``cohort_panel`` a cohort-role panel for the CS group aggregation.
    """
    out: dict[str, Estimate | dict] = {}
    donors = [d for d in donors if d != country]
    extra_opts = {"excluded_donors": list(excluded) if isinstance(excluded, list) else dict(excluded or {})}
    r = _fit("synth", panel, treated=country, treat_time=int(treat_time), donors=donors, placebo=("space",),
             seed=int(seed), n_jobs=1)
    out["synth"] = r.replace(options={**r.options, **extra_opts}) if isinstance(r, Estimate) else r
    try:
        sub = panel.subset_units([country, *donors])
        r = _fit("sdid", sub, treated=country, treat_time=int(treat_time), placebo_reps=int(sdid_reps),
                 seed=int(seed))
    except Exception as exc:  # noqa: BLE001
        r = not_available("sdid", exc)
    out["sdid"] = r.replace(options={**r.options, **extra_opts}) if isinstance(r, Estimate) else r
    try:
        out["its"] = _fit("its", panel.subset_units([country]), treat_time=int(treat_time), se=ITS_SE)
    except Exception as exc:  # noqa: BLE001
        out["its"] = not_available("its", exc)
    out["cs_cohort"] = _cs_cohort(cohort_panel, country, int(treat_time))
    return out


def _cs_cohort(cohort_panel: Panel | None, country: str, cohort: int) -> dict:
    """The country's adoption cohort ATT from CS (group aggregation), as a small result dict."""
    base = {"design": "cs_cohort", "cohort": cohort}
    if cohort_panel is None:
        return {**base, "status": "not estimable", "reason": "no cohort panel was given"}
    try:
        rp = robust_panel(cohort_panel)
    except Exception as exc:  # noqa: BLE001
        return {**not_available("cs_cohort", exc), "cohort": cohort}
    small = rp.info.get("dropped_small_cohorts") or {}
    if str(cohort) in small or country in rp.info.get("dropped_unbalanced", []):
        why = (f"{country}'s cohort {cohort} has a single unit in the balanced panel (no sampling variation)"
               if str(cohort) in small else f"{country} misses a period, so CS (balanced panel) drops it")
        return {**base, "status": "not estimable", "reason": why}
    cs = _fit("cs", rp, **RECIPE_SETTINGS["cs_cohort"])
    if not isinstance(cs, Estimate):
        return {**cs, "design": "cs_cohort", "cohort": cohort}
    row = _cohort_row(cs, cohort)
    if row is None:
        return {**base, "status": "not estimable", "reason": f"cohort {cohort} has no ATT in the CS groups table"}
    members = sorted(map(str, rp.frame.loc[rp.frame[rp.cohort] == cohort, rp.unit].unique()))
    return {**base, "outcome": cs.outcome, **row, "alpha": cs.alpha, "n_units": cs.n_units,
            "n_clusters": cs.n_clusters, "n_treated_units": len(members), "cohort_members": members,
            "options": {"control": "notyet", "aggregate": "group", "base": "varying", "source": "cs groups table"}}
