"""Evidence map, pooled estimates across countries, and the report hooks of the assessment.

**Evidence map** (3ie-style gap map; Snilstveit et al. 2016): every registry
intervention x outcome domain, one measure per domain (the report's default set at
the intervention's unit level).  Every cell is answered by the answers recipe
(:mod:`.recipe`) and graded by :func:`.assess.grade_questions`, so a cell's grade is
the grade ``ogimpact assess --intervention I --measures <the intervention's domain
measures>`` gives (the domain measures are the multiplicity family), with the same
declared estimand (average effect over event times 0..H, ``horizon``).  Interventions
adopted by at most five units, where no staggered design can run, get each adopter's
country question instead (``assess --country``), and the cell pools their grades
(``grading.pool_grades``).  Each cell states how many country studies it rests on and
which: the adopters in the balanced cross-country sample whose adoption falls inside
the data's years, or the adopters whose single-country designs ran.  Cells with no
estimate are absolute gaps, with the reason.

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
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..parallel import blas_threads
from ..results import Estimate, json_safe
from . import assess_runs as runs
from .assess_grade import family_adjust, grade_country, grade_staggered, ok
from .grading import load_rubric, pool_grades

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


def _adopters(intervention: str, variant) -> list[str]:
    from .. import interventions as iv

    t = iv.timing(intervention, variant=variant)
    return sorted(t.loc[t["cohort"].fillna(0) > 0, "unit"].astype(str))


def _pool_meta(intervention, measure, *, years, variant):
    """REML pooling of the CS cohort ATTs of one cell (heterogeneity; not part of the grade)."""
    try:
        panel = runs.registry_cohort_panel(intervention, measure, years=years, variant=variant)
        cs = runs._fit("cs", runs.robust_panel(panel), control="notyet", aggregate="group")
    except Exception:  # noqa: BLE001 - not pooled
        return None
    return _meta_of(cs, measure) if isinstance(cs, Estimate) else None


def _cells_of(intervention, dm, *, years, variant, seed, mie, rubric, horizon) -> dict[str, dict]:
    """Every domain cell of one intervention, answered by the recipe and graded as ``ogimpact assess`` grades.

    The intervention's domain measures are one multiplicity family, as ``assess --measures`` of them.  With
    more than ``_SINGLE_MAX`` adopters the cell is the staggered question; otherwise each adopter's country
    question is graded (``assess --country``) and the cell pools those grades (``grading.pool_grades``).
    """
    from . import recipe
    from .assess import grade_questions

    measures = list(dm.values())
    adopters = _adopters(intervention, variant)
    cells: dict[str, dict] = {}
    if len(adopters) > _SINGLE_MAX:
        qs = [recipe.staggered_question(intervention, m, years=years, variant=variant, seed=seed, horizon=horizon,
                                        keep_influence=len(measures) >= 2, rubric=rubric) for m in measures]
        graded = grade_questions(qs, mie=mie, seed=seed, rubric=rubric)
        for q, a in zip(qs, graded):
            cells[q.measure] = {"assessments": [a], "questions": [q], "studies": list(q.studies),
                                "grade": a.graded, "headline": a.headline, "estimand": q.estimand,
                                "meta": _pool_meta(intervention, q.measure, years=years, variant=variant),
                                "result": q.results.get(next((n for n in runs.ROBUST if n in q.results), "cs"))}
        return cells
    per: dict[str, list] = {m: [] for m in measures}
    for c in adopters:
        qs = [recipe.country_question(c, intervention, m, years=years, variant=variant, seed=seed, horizon=horizon)
              for m in measures]
        if all(not q.studies for q in qs):
            continue
        for q, a in zip(qs, grade_questions(qs, mie=mie, seed=seed, rubric=rubric)):
            if q.studies:
                per[q.measure].append((q, a))
    for m, got in per.items():
        if not got:
            cells[m] = {"reason": "no adopter's single-country designs could be estimated"}
            continue
        grades = [a.graded for _, a in got]
        pg = grades[0] if len(grades) == 1 else pool_grades(grades, rubric=rubric)
        head = got[0][1].headline if len(got) == 1 else {"design": (got[0][1].headline or {}).get("design")}
        cells[m] = {"assessments": [a for _, a in got], "questions": [q for q, _ in got],
                    "studies": [q.country for q, _ in got], "grade": pg, "headline": head,
                    "estimand": got[0][0].estimand, "meta": None, "result": got[0][0].results.get("synth")}
    return cells


def _map_rows(ids, measures, years, variant, seed, mie, rubric, rows, pooled, metas, results, grades,
              horizon: int = 5) -> None:
    for i in ids:
        dm = _domain_measures(i, measures)
        try:
            cells = _cells_of(i, dm, years=years, variant=variant, seed=seed, mie=mie, rubric=rubric,
                              horizon=horizon) if dm else {}
        except Exception as exc:  # noqa: BLE001 - a gap with its reason
            cells = {m: {"reason": runs.not_available("recipe", exc)["reason"]} for m in dm.values()}
        for dom in MAP_DOMAINS:
            m = dm.get(dom)
            row = {"intervention": i, "domain": dom, "measure": m, "grade": None, "score": None, "n_studies": 0,
                   "studies": "", "design": None, "estimate": None, "ci_low": None, "ci_high": None,
                   "estimand": None, "horizon": horizon, "synthesised": False, "status": "gap",
                   "reason": "no measure of this domain at the intervention's unit level"}
            cell = cells.get(m) if m else None
            if cell is None:
                rows.append(row)
                continue
            results[(i, m)] = cell.get("result")
            hl = cell.get("headline") or {}
            g = cell.get("grade")
            if g is None or not cell.get("studies") or not any(a.headline for a in cell.get("assessments", [])):
                why = cell.get("reason") or "; ".join(g.reasons) if g is not None else cell.get("reason")
                row.update(status="gap", reason=str(why or "not estimable"))
                rows.append(row)
                continue
            meta = cell.get("meta")
            st = cell["studies"]
            row.update(grade=g.grade, score=g.score, n_studies=len(st), studies=",".join(st), design=hl.get("design"),
                       estimate=hl.get("estimate"), ci_low=hl.get("ci_low"), ci_high=hl.get("ci_high"),
                       estimand=cell["estimand"].text, synthesised=meta is not None, status="graded",
                       reason="; ".join(g.reasons))
            rows.append(row)
            for a in cell["assessments"]:
                grades.append(json_safe({**a.to_dict(), "domain": dom, "studies": list(st), "cell_grade": g.grade}))
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
    horizon: int = 5,
) -> EvidenceMap:
    """Screening assessments of every registry intervention x outcome domain, with the gap map.

    Parameters
    ----------
    interventions : ids (default: the whole registry).
    measures : measure ids overriding the default measure of their domain.
    years, variant, seed, mie, rubric : as :func:`ogimpact.evidence.assess.assess`.
    figure : draw the gap map (:func:`ogimpact.plots.evidence.evidence_gap_map`).
    horizon : H of every cell's estimand (as ``assess --horizon``).

    Returns
    -------
    EvidenceMap
        ``cells`` (intervention, domain, measure, grade, score, n_studies, studies (the adopting
        units the cell rests on), design, estimate, ci, estimand, horizon, synthesised, status, reason), ``pooled`` (REML pooling of
        cohort ATTs per intervention x measure), ``figure``.
    """
    from .. import interventions as iv

    t0 = time.perf_counter()
    ids = list(interventions) if interventions else iv.ids()
    for i in ids:
        iv.get(i)
    rows, pooled, metas, results, grades = [], [], {}, {}, []
    with blas_threads(1):
        _map_rows(ids, measures, years, variant, seed, mie, rubric, rows, pooled, metas, results, grades,
                  horizon=horizon)
    cells = pd.DataFrame(rows)
    pooled_f = pd.DataFrame(pooled, columns=["intervention", "measure", "domain", "unit", "k", "method", "estimate",
                                             "se", "ci_low", "ci_high", "tau2", "i2", "q_p", "pi_low", "pi_high"])
    fig = None
    if figure:
        from ..plots.evidence import evidence_gap_map

        fig = evidence_gap_map(cells, interventions=ids, domains=list(MAP_DOMAINS),
                               title="Evidence gap map (grades as ogimpact assess; bubble = country studies)").figure
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


def show_evidence_review(ctx, *, measures: Sequence[str] | None, seed: int = 0, horizon: int = 5) -> EvidenceMap:
    """Evidence-review notebook section: compute the map and pooled estimates, record them, display them."""
    from IPython.display import Markdown, display
    import matplotlib.pyplot as plt

    em = evidence_map(measures=list(measures) if measures else None, seed=int(seed or 0), horizon=int(horizon))
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
        f"Grades (rubric `{rub.data.get('rubric')}` v{rub.version}, sha256 `{rub.sha256[:12]}`) are those of "
        "`ogimpact assess` for the same parameters: every cell is answered by the one recipe "
        "(`ogimpact.evidence.recipe`; staggered designs across countries, or each adopter's single-country "
        "designs when five or fewer countries adopted, their grades pooled). Estimand of every cell: the "
        f"average effect over event times 0..{int(horizon)}. `n_studies` / `studies`: the country studies a "
        "cell rests on. Bubble size = country studies; x = absolute gap; hatching = no synthesis. "
        f"Computed in {em.seconds:.0f} s."))
    if em.figure is not None:
        display(em.figure)
        plt.close(em.figure)
    display(em.cells.drop(columns=["reason", "studies"]))
    for _, c in em.cells.iterrows():
        if c["status"] == "graded":
            display(Markdown(f"**{c['intervention']} × {c['domain']}** (`{c['measure']}`): **{c['grade']}** for the "
                             f"{c['estimand']}; rests on {c['n_studies']} country stud"
                             f"{'y' if c['n_studies'] == 1 else 'ies'}: {c['studies'].replace(',', ', ')}."))
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
