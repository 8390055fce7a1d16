"""Evidence map, pooled estimates across countries, and the report hooks of the assessment.

**Evidence map** (3ie-style gap map; Snilstveit et al. 2016): every registry
intervention x outcome domain.  Each cell is a *screening* assessment kept
cheap on purpose: one measure per domain (the report's default set at the
intervention's unit level), one Callaway–Sant'Anna run (not-yet-treated
controls, group aggregation) on the balanced panel, graded with the checks
that need no further fit — the CS pre-test (R ``did``'s Wald test on the
pre-treatment ATT(g,t)), few clusters (with a wild cluster bootstrap of the
static TWFE coefficient when clusters are few), precision (if an MIE is
declared) — so HonestDiD, the cross-estimator consistency and multiplicity are
*not* part of a map grade (each cell says so).  Interventions adopted by at
most five units, where no staggered design can run, get single-country
synthetic controls (with in-space placebos) for each adopter instead.  The
number of "country studies" of a cell is the number of adopting units that
contribute to its estimate.  Cells with no estimate are absolute gaps.

**Pooled estimates** (our choice, documented): the cohort ATTs of the CS group
aggregation, ATT(g) with their influence-function standard errors, pooled by
REML random-effects meta-analysis (:func:`ogimpact.evidence.meta.meta_analysis`,
metafor's ``rma``).  One CS run per cell yields every cohort's effect at
once, which keeps the review fast; a per-country synthetic control for each
of ~140 adopters would not.  Caveats: a cohort groups the countries adopting
in one year (a "study" is a cohort, not a country); cohorts share comparison
units, so their estimates are positively correlated and the pooled SE, which
treats them as independent, is somewhat too small; the pooled mean weights
cohorts by precision, CS's own group aggregate by cohort size.  The point of
the pooling is the heterogeneity it reports (tau², I², prediction interval).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..parallel import blas_threads
from ..results import Estimate, json_safe
from . import assess_runs as runs
from .assess_grade import _multiplicity, family_adjust, grade_country, grade_staggered, headline_of, ok, parallel_trends
from .checks import check_few_clusters, check_parallel_trends, check_precision, is_large_effect
from .grading import grade, load_rubric, pool_grades

__all__ = ["EvidenceMap", "evidence_map", "pooled_estimates", "grade_report_entries", "show_evidence_review",
           "MAP_DOMAINS"]

MAP_DOMAINS = ("participation", "public services", "access to information & corruption", "knowledge/awareness")
_SINGLE_MAX = 5


@dataclass(frozen=True)
class EvidenceMap:
    """Cells of the gap map, pooled estimates, and the figure."""

    cells: pd.DataFrame
    pooled: pd.DataFrame
    figure: Any = None
    meta: Mapping = field(default_factory=dict)
    results: Mapping = field(default_factory=dict)
    grades: tuple = ()
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return json_safe({"cells": self.cells.to_dict(orient="records"),
                          "pooled": self.pooled.to_dict(orient="records"),
                          "grades": list(self.grades), "seconds": self.seconds})


def _domain_measures(intervention: str, measures: Sequence[str] | None) -> dict[str, str]:
    from .. import interventions as iv
    from .. import measures as ms
    from .assess import default_measures

    level = iv.get(intervention).unit_level
    chosen: dict[str, str] = {}
    for m in list(measures or ()) + list(default_measures(intervention)):
        mm = ms.get(m)
        if mm.unit_level == level and mm.domain in MAP_DOMAINS:
            chosen.setdefault(mm.domain, m)
    return chosen


def _meta_of(cs: Estimate, label: str):
    from .meta import meta_analysis

    g = cs.table("groups")
    if g.empty:
        return None
    g = g[np.isfinite(g["estimate"]) & np.isfinite(g["se"]) & (g["se"] > 0)]
    if len(g) < 2:
        return None
    sizes = (cs.extras or {}).get("cohort_sizes", {})
    labels = [f"cohort {int(x)} ({sizes.get(str(int(x)), '?')} units)" for x in g["group"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return meta_analysis(g["estimate"].to_numpy(float), g["se"].to_numpy(float), method="reml", labels=labels,
                             measure=label)


def _screen_checks(cs_doc: Mapping, dyn_doc: Mapping | None, wcb: Mapping | None, mie, seed, rubric):
    if dyn_doc is not None and ok(dyn_doc):
        pt, _ = parallel_trends({"cs": dyn_doc}, mie=mie, seed=seed, rubric=rubric)
    else:
        p = (cs_doc.get("diagnostics") or {}).get("pretrend_wald_p")
        pt = check_parallel_trends(p, None, rubric=rubric)
        pt = replace(pt, reason=pt.reason.replace(
            "breakdown M̄* not computed", "breakdown M̄* not computed: no CS event study (universal base)"),
            inputs={**pt.inputs, "source": "cs pre-test (varying base)"})
    pc, pw = cs_doc.get("p_value"), None
    if wcb is not None and ok(wcb) and wcb.get("wild_bootstrap"):
        pc, pw = wcb.get("p_value"), wcb["wild_bootstrap"].get("p_value")
    fc = check_few_clusters(cs_doc.get("n_clusters"), cs_doc.get("n_treated_units"), p_crve=pc, p_wcb=pw, rubric=rubric)
    pr = check_precision(cs_doc.get("ci_low"), cs_doc.get("ci_high"), mie, rubric=rubric)
    return [pt, fc, pr]


def _staggered_cell(intervention, measure, *, years, variant, seed, mie, rubric, honest: bool = True) -> dict:
    """One screening cell: CS group aggregation (+ CS dynamic/universal for HonestDiD), ungraded checks."""
    panel = runs.registry_cohort_panel(intervention, measure, years=years, variant=variant)
    rp = runs.robust_panel(panel)
    cs = runs._fit("cs", rp, control="notyet", aggregate="group")
    if not isinstance(cs, Estimate):
        return {"result": cs}
    doc = cs.to_dict()
    dyn = runs._fit("cs", rp, control="notyet", aggregate="dynamic", base="universal") if honest else None
    rub = load_rubric(rubric).data["checks"]["few_clusters"]
    wcb = None
    if (doc.get("n_clusters") or 0) < rub["min_clusters"] or (doc.get("n_treated_units") or 0) < rub["min_treated_clusters"]:
        r = runs.run_wild_bootstrap(panel, seed=seed, draws=499)
        wcb = r.to_dict() if isinstance(r, Estimate) else r
    checks = _screen_checks(doc, dyn.to_dict() if isinstance(dyn, Estimate) else None, wcb, mie, seed, rubric)
    large = is_large_effect(cs.estimate, runs.pre_period_sd(rp), rubric=rubric)
    return {"result": cs, "checks": checks, "large": large, "n_studies": int(cs.n_treated_units or 0),
            "meta": _meta_of(cs, measure), "headline": headline_of("cs", doc)}


def _single_cells(intervention, measure, *, years, variant, seed, mie, rubric) -> dict:
    from .. import interventions as iv
    from ..donors import select_donors
    from ..estimation import registry_panel

    t = iv.timing(intervention, variant=variant)
    adopters = sorted(t.loc[t["cohort"] > 0, "unit"].astype(str))
    if not adopters or len(adopters) > _SINGLE_MAX:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = registry_panel("synth", measure=measure, intervention=intervention, years=years, variant=variant)
    grades, heads = [], []
    for c in adopters:
        row = panel.frame.loc[panel.frame[panel.unit] == c, "cohort"]
        if row.empty or int(row.iloc[0]) == 0:
            continue
        tt = int(row.iloc[0])
        donors = select_donors(panel, treated=c, treat_time=tt, rule="untreated").donors
        r = runs._fit("synth", panel, treated=c, treat_time=tt, donors=donors, placebo=("space",), seed=seed, n_jobs=1)
        if not isinstance(r, Estimate):
            continue
        _, g, hl = grade_country({"synth": r.to_dict()}, measure=measure, mie=mie,
                                 pre_sd=runs.pre_period_sd(panel, treat_time=tt), rubric=rubric)
        grades.append(g)
        heads.append({**(hl or {}), "country": c})
    if not grades:
        return {}
    pg = pool_grades(grades, rubric=rubric)
    return {"result": None, "grade": pg, "n_studies": len(grades), "meta": None, "headline": heads[0] if len(heads) == 1
            else {"design": "synth", "countries": [h["country"] for h in heads]}, "single": heads}


def _map_rows(ids, measures, years, variant, seed, mie, rubric, rows, pooled, metas, results, grades) -> None:
    from .assess import _mie_for

    for i in ids:
        dm = _domain_measures(i, measures)
        cells: dict[str, dict] = {}
        for dom in MAP_DOMAINS:
            m = dm.get(dom)
            if m is None:
                continue
            try:
                cell = _staggered_cell(i, m, years=years, variant=variant, seed=seed, mie=_mie_for(mie, m),
                                       rubric=rubric)
                if "checks" not in cell:
                    cell = _single_cells(i, m, years=years, variant=variant, seed=seed, mie=_mie_for(mie, m),
                                         rubric=rubric) or cell
            except Exception as exc:  # noqa: BLE001 - a gap with its reason
                cell = {"result": runs.not_available("cs", exc)}
            cells[dom] = cell
        # multiplicity: the intervention's domain measures are one family
        fam = family_adjust({dm[d]: (c.get("headline") or {}).get("p_value") for d, c in cells.items() if "checks" in c})
        for dom in MAP_DOMAINS:
            m = dm.get(dom)
            row = {"intervention": i, "domain": dom, "measure": m, "grade": None, "score": None, "n_studies": 0,
                   "design": None, "estimate": None, "ci_low": None, "ci_high": None, "synthesised": False,
                   "status": "gap", "reason": "no measure of this domain at the intervention's unit level"}
            cell = cells.get(dom)
            if cell is None:
                rows.append(row)
                continue
            results[(i, m)] = cell.get("result")
            if "checks" in cell:
                cell["grade"] = grade("cs", [*cell["checks"], _multiplicity(m, fam, rubric)],
                                      large_effect=cell["large"], rubric=rubric)
            if "grade" not in cell:
                r = cell.get("result") or {}
                row.update(status="gap", reason=str(r.get("reason", "not estimable"))[:300])
                rows.append(row)
                continue
            g, hl = cell["grade"], cell.get("headline") or {}
            meta = cell.get("meta")
            row.update(grade=g.grade, score=g.score, n_studies=cell["n_studies"], design=hl.get("design"),
                       estimate=hl.get("estimate"), ci_low=hl.get("ci_low"), ci_high=hl.get("ci_high"),
                       synthesised=meta is not None, status="screened", reason="; ".join(g.reasons))
            rows.append(row)
            grades.append(json_safe({"intervention": i, "measure": m, "domain": dom, "design": hl.get("design"),
                                     "grade": g.grade, "score": g.score, "reasons": list(g.reasons),
                                     "checks": [c.to_dict() for c in getattr(g, "checks", ())],
                                     "screening": True}))
            if meta is not None:
                metas[(i, m)] = meta
                pooled.append({"intervention": i, "measure": m, "domain": dom, "unit": "cohort", "k": meta.k,
                               "method": meta.method, "estimate": meta.estimate, "se": meta.se,
                               "ci_low": meta.ci_low, "ci_high": meta.ci_high, "tau2": meta.tau2, "i2": meta.i2,
                               "q_p": meta.q_p, "pi_low": meta.pi_low, "pi_high": meta.pi_high})


def evidence_map(
    *,
    interventions: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    years=None,
    variant: str | None = None,
    seed: int = 0,
    mie: float | Mapping[str, float] | None = None,
    rubric=None,
    figure: bool = True,
) -> EvidenceMap:
    """Screening assessments of every registry intervention x outcome domain, with the gap map.

    Parameters
    ----------
    interventions : ids (default: the whole registry).
    measures : measure ids overriding the default measure of their domain.
    years, variant, seed, mie, rubric : as :func:`ogimpact.evidence.assess.assess`.
    figure : draw the gap map (:func:`ogimpact.plots.evidence.evidence_gap_map`).

    Returns
    -------
    EvidenceMap
        ``cells`` (intervention, domain, measure, grade, score, n_studies,
        estimate, ci, synthesised, status, reason), ``pooled`` (REML pooling of
        cohort ATTs per intervention x measure), ``figure``.
    """
    from .. import interventions as iv

    t0 = time.perf_counter()
    ids = list(interventions) if interventions else iv.ids()
    for i in ids:
        iv.get(i)
    rows, pooled, metas, results, grades = [], [], {}, {}, []
    with blas_threads(1):
        _map_rows(ids, measures, years, variant, seed, mie, rubric, rows, pooled, metas, results, grades)
    cells = pd.DataFrame(rows)
    pooled_f = pd.DataFrame(pooled, columns=["intervention", "measure", "domain", "unit", "k", "method", "estimate",
                                             "se", "ci_low", "ci_high", "tau2", "i2", "q_p", "pi_low", "pi_high"])
    fig = None
    if figure:
        from ..plots.evidence import evidence_gap_map

        fig = evidence_gap_map(cells, interventions=ids, domains=list(MAP_DOMAINS),
                               title="Evidence gap map (screening grades; bubble = adopting units)").figure
    return EvidenceMap(cells=cells, pooled=pooled_f, figure=fig, meta=metas, results=results, grades=tuple(grades),
                       seconds=round(time.perf_counter() - t0, 2))


def pooled_estimates(intervention: str, measures: Sequence[str], *, years=None, variant=None) -> tuple[pd.DataFrame, dict]:
    """REML pooling of the CS cohort ATTs for each measure (see the module docstring for the choice)."""
    rows, metas = [], {}
    for m in measures:
        panel = runs.registry_cohort_panel(intervention, m, years=years, variant=variant)
        cs = runs._fit("cs", runs.robust_panel(panel), control="notyet", aggregate="group")
        meta = _meta_of(cs, m) if isinstance(cs, Estimate) else None
        if meta is None:
            rows.append({"intervention": intervention, "measure": m, "k": 0, "status": "not pooled"})
            continue
        metas[m] = meta
        rows.append({"intervention": intervention, "measure": m, "k": meta.k, "method": meta.method,
                     "estimate": meta.estimate, "se": meta.se, "ci_low": meta.ci_low, "ci_high": meta.ci_high,
                     "tau2": meta.tau2, "i2": meta.i2, "q_p": meta.q_p, "pi_low": meta.pi_low,
                     "pi_high": meta.pi_high, "status": "pooled"})
    return pd.DataFrame(rows), metas


# ------------------------------------------------------------------ report hooks
def _cohort_of(intervention: str, country: str, variant) -> int | None:
    from .. import interventions as iv

    t = iv.timing(intervention, variant=variant)
    r = t.loc[t["unit"] == country, "cohort"]
    return int(r.iloc[0]) if len(r) and int(r.iloc[0]) > 0 else None


def _cohort_from_gt(doc: Mapping, cohort: int | None) -> dict | None:
    rows = [r for r in (doc.get("group_time") or []) if cohort and r.get("group") == cohort
            and r.get("time") is not None and r["time"] >= cohort and r.get("estimate") is not None]
    if not rows:
        return None
    est = float(np.mean([r["estimate"] for r in rows]))
    return {"design": "cs_cohort", "cohort": cohort, "estimate": est, "se": None, "ci_low": None, "ci_high": None,
            "options": {"source": "mean of the cohort's post-period ATT(g,t) in the report's CS result (no SE)"}}


def grade_report_entries(ctx, *, country: str | None, intervention: str) -> list[dict]:
    """Grade the estimates a report already recorded in ``ctx.entries``, per measure, without re-running designs.

    Country reports (``country`` given): synth / sdid / its of that country and
    the country's cohort from the report's CS result.  Cross-country reports:
    cs / sun-abraham / imputation / twfe.  Measures form the multiplicity family.
    """
    params = getattr(ctx, "parameters", {}) or {}
    years, variant = params.get("years"), params.get("variant")
    by: dict[str, dict] = {}
    for e in ctx.entries:
        m, d, r = e.get("measure"), e.get("design"), e.get("result")
        if not m or not d or not isinstance(r, Mapping) or e.get("role", "estimate") != "estimate":
            continue
        if country and d in ("synth", "sdid", "its") and e.get("unit") not in (None, country):
            continue
        by.setdefault(m, {}).setdefault(d, dict(r))
    cohort = _cohort_of(intervention, country, variant) if country else None
    single = bool(country)
    for docs in by.values():
        if single and "cs" in docs and ok(docs["cs"]):
            cc = _cohort_from_gt(docs.pop("cs"), cohort)
            if cc:
                docs["cs_cohort"] = cc
    fam = family_adjust({m: _head_p(docs, single) for m, docs in by.items()})
    out = []
    for m, docs in by.items():
        pre_sd = _report_pre_sd(intervention, m, country, cohort, years, variant)
        if single:
            checks, g, hl = grade_country(docs, measure=m, pre_sd=pre_sd, family=fam)
        else:
            checks, g, hl, _ = grade_staggered(docs, measure=m, pre_sd=pre_sd, family=fam,
                                               seed=int(params.get("seed", 0) or 0))
        doc = {"measure": m, "country": country, "intervention": intervention,
               "design": "+".join(n for n, d in docs.items() if ok(d)) or "none", "grade": g.grade, "score": g.score,
               "design_kind": g.design, "reasons": list(g.reasons), "checks": [c.to_dict() for c in checks],
               "headline": hl, "rubric_version": g.rubric_version, "grading_yaml_sha": g.rubric_sha256}
        if single:
            from .context import context_for

            doc["context_williamson_eisen"] = context_for(country, intervention).to_dict()
        out.append(json_safe(doc))
    return out


def _head_p(docs, single):
    from .assess import _head_p as hp

    return hp(docs, single)


def _report_pre_sd(intervention, measure, country, cohort, years, variant) -> float | None:
    try:
        panel = runs.registry_cohort_panel(intervention, measure, years=years, variant=variant)
        return runs.pre_period_sd(panel, treat_time=cohort) if country and cohort else runs.pre_period_sd(panel)
    except Exception:  # noqa: BLE001 - the large-effect rule is then not applied
        return None


def show_evidence_review(ctx, *, measures: Sequence[str] | None, seed: int = 0) -> EvidenceMap:
    """Evidence-review notebook section: compute the map and pooled estimates, record them, display them."""
    from IPython.display import Markdown, display
    import matplotlib.pyplot as plt

    em = evidence_map(measures=list(measures) if measures else None, seed=int(seed or 0))
    for (i, m), r in em.results.items():
        if r is not None:
            ctx.add(r, measure=m, design=(r.design if isinstance(r, Estimate) else r.get("design", "cs")),
                    role=f"evidence_map:{i}")
    for g in em.grades:
        ctx.add_grade(g)
    ctx.add_table("evidence_map", em.cells)
    ctx.add_table("pooled_estimates", em.pooled)
    rub = load_rubric()
    display(Markdown(
        f"Screening grades (rubric `{rub.data.get('rubric')}` v{rub.version}, sha256 `{rub.sha256[:12]}`): one "
        "measure per outcome domain, Callaway–Sant'Anna (not-yet-treated, group aggregation) graded on its "
        "pre-test, clusters and precision; HonestDiD, cross-estimator consistency and multiplicity need "
        "`ogimpact assess`. Bubble size = adopting units; x = absolute gap; hatching = no synthesis. "
        f"Computed in {em.seconds:.0f} s."))
    if em.figure is not None:
        display(em.figure)
        plt.close(em.figure)
    display(em.cells.drop(columns=["reason"]))
    display(Markdown("**Pooled cohort effects** (REML random effects over the CS cohort ATTs; cohorts share "
                     "comparison units, so the pooled SE is optimistic — read it for heterogeneity: tau², I², "
                     "prediction interval)."))
    display(em.pooled)
    from ..plots.evidence import forest_plot

    for (i, m), meta in list(em.meta.items())[:4]:
        fig = forest_plot(meta, title=f"{i} on {m}: cohort ATTs (k={meta.k}, I²={meta.i2:.0f}%)").figure
        display(fig)
        plt.close(fig)
    return em
