"""Report sections: the computations a report notebook displays.

Notebooks stay thin: each section here takes validated parameters, calls the
package (registry, panel, designs, evidence) and returns plain data (frames,
figures, :class:`~ogimpact.results.Estimate`).  A design that cannot run on
this input (too few pre-periods, no donors ...) or is not built yet comes back
as a :class:`~ogimpact.reports.context.NotAvailable` with its reason, which the
report shows in a visible "not available" line rather than hiding it.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import OgimpactError
from .context import NotAvailable

__all__ = [
    "intervention_overview",
    "variant_note",
    "country_timing",
    "trend_frame",
    "trend_figure",
    "country_answer",
    "single_country_designs",
    "staggered_answer",
    "staggered_designs",
    "country_cohort_effects",
    "caveats",
    "results_table",
    "cohort_table",
    "heterogeneity",
    "sensitivity",
]

#: country-specific caveats from the bundled data's PROVENANCE notes (cited there)
COUNTRY_CAVEATS = {
    "CHL": [
        "Chile moved from compulsory to voluntary voting with automatic registration in 2012 (Ley 20.568) and back "
        "to compulsory voting in 2022: turnout series break at both dates (idea_turnout PROVENANCE).",
        "Transparency Law 20.285 was adopted in August 2008 and entered into force on 20 April 2009; the registry's "
        "first-law convention codes Chile's cohort as 2008 (ogp_foi_timing/foi_law_dates.csv).",
    ],
    "MEX": [
        "Mexico's access law of 2002 was followed by the 2007 constitutional reform and the 2015 General "
        "Transparency Law; the registry codes the first law (2002) (ogp_foi_timing/foi_law_dates.csv).",
    ],
}


def intervention_overview(intervention: str, *, variant: str | None = None) -> dict:
    """Definition, variants and citations of an intervention."""
    from .. import interventions as iv

    it = iv.get(intervention)
    return {
        "id": it.id,
        "label": it.label,
        "unit_level": it.unit_level,
        "definition": it.definition,
        "variants": dict(it.variants),
        "variant": variant or it.default_variant,
        "citations": list(it.citations),
    }


def variant_note(intervention: str, country: str, *, variant: str | None = None) -> str:
    """One sentence: the country's cohort under the variant used and what each other variant would change."""
    from ..timing_views import country_variant_note

    return country_variant_note(intervention, country, variant)


def country_timing(intervention: str, country: str, *, variant: str | None = None) -> pd.DataFrame:
    """The country's row(s) of the intervention's timing table."""
    from .. import interventions as iv

    t = iv.timing(intervention, variant=variant)
    return t[t["unit"] == country].reset_index(drop=True)


def _region_of(country: str) -> tuple[str | None, pd.Series]:
    from ..data import country_reference

    ref = country_reference()
    col = "wb_region" if "wb_region" in ref.columns else "un_region"
    reg = ref.loc[ref["iso3"] == country, col]
    region = reg.iloc[0] if len(reg) else None
    return region, ref.set_index("iso3")[col]


def trend_frame(measure: str, country: str, intervention: str, *, years=None, variant=None) -> pd.DataFrame:
    """Yearly series of the country, its region's mean, and the donor pool's mean (never/late adopters)."""
    from .. import interventions as iv
    from .. import measures as ms

    long = ms.load([measure], years=tuple(years) if years else None)
    region, regions = _region_of(country)
    t = iv.timing(intervention, variant=variant).set_index("unit")["cohort"]
    last = int(long["year"].max()) if len(long) else 0
    donors = set(t[(t == 0) | (t > last)].index) - {country}
    long = long.assign(region=long["unit"].map(regions))
    out = pd.DataFrame({"year": sorted(long["year"].unique())})
    out[country] = out["year"].map(long[long["unit"] == country].set_index("year")["value"])
    if region is not None:
        reg = long[(long["region"] == region) & (long["unit"] != country)].groupby("year")["value"].mean()
        out[f"{region} mean"] = out["year"].map(reg)
    dn = long[long["unit"].isin(donors)].groupby("year")["value"].mean()
    out["donor pool mean"] = out["year"].map(dn)
    return out


def trend_figure(measure: str, country: str, intervention: str, *, years=None, variant=None, ax=None):
    """Line plot of :func:`trend_frame` with the adoption year marked."""
    from .. import measures as ms
    from ..plots import new_axes

    f = trend_frame(measure, country, intervention, years=years, variant=variant)
    fig, ax = new_axes(ax)
    for c in f.columns[1:]:
        ax.plot(f["year"], f[c], marker="o" if c == country else None, ms=3, lw=2 if c == country else 1.2,
                label=c)
    tt = country_timing(intervention, country, variant=variant)
    if len(tt) and int(tt["cohort"].iloc[0]) > 0:
        ax.axvline(int(tt["cohort"].iloc[0]), color="0.3", ls="--", lw=1, label="adoption")
    m = ms.get(measure)
    ax.set_title(f"{m.label} ({measure})")
    ax.set_xlabel("year")
    ax.legend(frameon=False, fontsize=8)
    return fig


def _result(r):
    """A recipe result for the report: the Estimate, or a NotAvailable with the recipe's reason."""
    from ..results import Estimate

    if isinstance(r, Estimate):
        return r
    if isinstance(r, dict) and r.get("status") is None and r.get("estimate") is not None:
        return r  # a small result dict (the country's CS cohort ATT)
    return NotAvailable(r.get("design", "?"), str(r.get("reason", "")), status=r.get("status", "not available"))


def country_answer(
    country: str,
    intervention: str,
    measure: str,
    *,
    designs: Sequence[str] = ("synth", "sdid", "its", "cs"),
    years=None,
    variant: str | None = None,
    donor_rule: str | None = None,
    placebo: bool = True,
    seed: int = 0,
    sdid_placebo_reps: int = 50,
    horizon: int = 5,
):
    """The answers recipe's country question (:func:`ogimpact.evidence.recipe.country_question`).

    ``designs`` are the report's names: ``cs`` asks for the country's CS cohort ATT (``cs_cohort``).
    """
    from ..evidence import recipe

    want = [d for d in ("synth", "sdid", "its") if d in designs] + (["cs_cohort"] if "cs" in designs else [])
    return recipe.country_question(country, intervention, measure, years=years, variant=variant,
                                   donor_rule=_rule(donor_rule), seed=seed, horizon=horizon,
                                   sdid_reps=sdid_placebo_reps, placebo=placebo, designs=want)


def _rule(donor_rule: str | None) -> str | None:
    # "registry" was the report's name of the ``untreated`` rule before issue 12
    return "untreated" if donor_rule == "registry" else donor_rule


def single_country_designs(country: str, intervention: str, measure: str, **kw) -> dict[str, Any]:
    """``{design: Estimate | NotAvailable}`` of :func:`country_answer` (synth, sdid, its[, cs_cohort])."""
    q = country_answer(country, intervention, measure, **kw)
    return {d: _result(r) for d, r in q.results.items()}


def staggered_answer(intervention: str, measure: str, *, designs: Sequence[str] = ("cs", "sun-abraham", "imputation",
                                                                                  "twfe"),
                     years=None, variant: str | None = None, seed: int = 0, horizon: int = 5,
                     keep_influence: bool = False):
    """The answers recipe's staggered question (:func:`ogimpact.evidence.recipe.staggered_question`)."""
    from ..evidence import recipe

    return recipe.staggered_question(intervention, measure, years=years, variant=variant, seed=seed,
                                     horizon=horizon, designs=designs, keep_influence=keep_influence)


def staggered_designs(intervention: str, measure: str, **kw) -> dict[str, Any]:
    """``{design: Estimate | NotAvailable}`` of :func:`staggered_answer` (the TWFE event study is ``event-study``)."""
    q = staggered_answer(intervention, measure, **kw)
    return {d: _result(r) for d, r in q.results.items()}


def country_cohort_effects(cs_result, cohort: int) -> pd.DataFrame:
    """The ATT(g, t) rows of one cohort from a Callaway–Sant'Anna result."""
    if not hasattr(cs_result, "table"):
        return pd.DataFrame()
    gt = cs_result.table("group_time")
    if gt.empty:
        return gt
    return gt[gt["group"] == cohort].reset_index(drop=True)


def cohort_table(intervention: str, *, variant: str | None = None) -> pd.DataFrame:
    """Number of adopting countries per cohort year (0 = never adopted)."""
    from .. import interventions as iv

    t = iv.timing(intervention, variant=variant)
    c = t.groupby("cohort").size().rename("units").reset_index()
    return c


def heterogeneity(intervention: str, measure: str, *, by: str = "wb_region", years=None, variant=None,
                  min_units: int = 5) -> pd.DataFrame:
    """Callaway–Sant'Anna simple ATT by subgroup (region or income group) of countries."""
    from ..data import country_reference
    from ..estimation import estimate, registry_panel

    ref = country_reference().set_index("iso3")
    if by not in ref.columns:
        raise OgimpactError(f"unknown grouping {by!r}; use wb_region or wb_income_group.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = registry_panel("cs", measure=measure, intervention=intervention,
                               years=tuple(years) if years else None, variant=variant)
    groups = panel.frame[panel.unit].map(ref[by])
    rows = []
    for g in sorted(groups.dropna().unique()):
        units = panel.frame.loc[groups == g, panel.unit].unique()
        if len(units) < min_units:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = estimate("cs", panel.subset_units(units), control="notyet", aggregate="simple")
            rows.append({by: g, "n_units": len(units), "estimate": res.estimate, "se": res.se,
                         "ci_low": res.ci_low, "ci_high": res.ci_high, "status": "ok"})
        except Exception as exc:  # noqa: BLE001
            rows.append({by: g, "n_units": len(units), "estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "status": " ".join(str(exc).split())})
    return pd.DataFrame(rows)


def caveats(country: str | None, measures: Sequence[str]) -> list[str]:
    """Data caveats that bear on the report: measure notes and country-specific regime changes."""
    from .. import measures as ms

    out = []
    for m in measures:
        mm = ms.get(m)
        if getattr(mm, "notes", None):
            out.append(f"{m}: {mm.notes}")
    if country:
        out.extend(COUNTRY_CAVEATS.get(country, []))
    return out


def staggered_with_sensitivity(intervention: str, measure: str, *, years=None, variant: str | None = None,
                               seed: int = 0, horizon: int = 5):
    """Section 4's fits for one measure: the CS staggered question and the HonestDiD sensitivity of its result.

    Returns ``(question, sensitivity)``; ``sensitivity`` is a ``SensitivityResult``, the exception that
    stopped it (shown in the report), or None when the CS result has no event study.
    """
    from ..results import Estimate

    q = staggered_answer(intervention, measure, designs=("cs",), years=years, variant=variant, seed=seed,
                         horizon=horizon)
    r = _result(q.results["cs"])
    sens = None
    if isinstance(r, Estimate) and r.event_study is not None:
        try:
            sens = sensitivity(r, window=sensitivity_window(horizon), method="rm", seed=seed)
        except Exception as exc:  # noqa: BLE001 - the report shows why
            sens = exc
    return q, sens


def results_table(ctx) -> pd.DataFrame:
    """Every estimate recorded in the report context, one row each."""
    f = ctx.summary_frame()
    if f.empty:
        return f
    return f.sort_values(["measure", "design"], kind="mergesort").reset_index(drop=True)


#: first event time of the HonestDiD window a report assesses (its last is the estimand's horizon H)
SENSITIVITY_FIRST_EVENT_TIME = -5


def sensitivity_window(horizon: int) -> tuple[int, int]:
    """The event-time window of a report's HonestDiD sensitivity: -5 to the estimand's horizon."""
    return (SENSITIVITY_FIRST_EVENT_TIME, int(horizon))


def sensitivity(result, *, window: tuple[int, int] = (-5, 5), method: str = "rm", seed: int = 0):  # noqa: D401
    """HonestDiD sensitivity (Rambachan & Roth 2023) of a dynamic result's average post-period effect.

    The event study is cut to ``window`` (the sub-vector and sub-covariance);
    the target is the average of the post-period coefficients in the window,
    as in the grader's parallel-trends check. Returns a ``SensitivityResult``.
    """
    from ..inference.sensitivity import honest_did

    if getattr(result, "event_study", None) is None:
        raise OgimpactError(f"{getattr(result, 'design', 'this')} result has no event study to assess.")
    es = result.event_study.window(*window)
    n_post = int(es.post.sum())
    if n_post == 0 or int(es.pre.sum()) == 0:
        raise OgimpactError(f"the event study needs pre- and post-period coefficients in {window[0]}:{window[1]}.")
    grid = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0] if method == "rm" else None
    return honest_did(es, method=method, grid=grid, l_vec=[1.0 / n_post] * n_post, seed=seed)
