"""Assessment: run the applicable designs, check them, grade the evidence.

``assess(intervention, measures=..., country=...)`` is what ``ogimpact assess``
prints.  Without ``country`` it assesses the intervention across countries
with the staggered designs (Callaway–Sant'Anna with not-yet-treated controls
and a universal base, Sun–Abraham, the imputation estimator and the TWFE event
study; :mod:`.assess_runs`); with ``country`` it assesses that country's
adoption with synthetic control (+ in-space placebos), synthetic DiD, ITS and
the country's CS cohort ATT.  Each (measure, country) finding gets the checks
of :mod:`.assess_grade` and a grade from the versioned rubric
(``grading.yaml``; its version and sha256 are recorded), with one reason per
line.  Williamson & Eisen's six context questions are attached to country
cases as context, never scored.

The grade is a transparent summary with its reasons, not a verdict.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). *J. Econometrics* 225, 200-230.
Sun, L. & Abraham, S. (2021). *J. Econometrics* 225, 175-199.
Borusyak, K., Jaravel, X. & Spiess, J. (2024). *Rev. Econ. Stud.* 91, 3253-3285.
Rambachan, A. & Roth, J. (2023). *Rev. Econ. Stud.* 90, 2555-2591.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). *JASA* 105, 493-505.
Guyatt, G. H. et al. (2011). GRADE guidelines. *J Clin Epidemiol* 64.
Williamson, V. & Eisen, N. (2016). *The Impact of Open Government: Assessing
the Evidence.* Brookings.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd

from ..errors import OgimpactError
from ..parse import id_list, span
from ..panel import Panel
from ..parallel import blas_threads
from ..results import Estimate, json_safe
from . import assess_runs as runs
from .assess_grade import RW_DRAWS, WINDOW, family_adjust, grade_country, grade_staggered, headline_of, ok
from .checks import CheckResult
from .estimands import HORIZON, check_horizon
from .grading import Grade, load_rubric

__all__ = [
    "Assessment", "AssessmentTable", "assess", "assess_panel", "assess_country_panel", "default_measures",
    "grade_questions",
]


@dataclass(frozen=True)
class Assessment:
    """One graded finding: a measure (and country) with its designs, checks and grade."""

    intervention: str
    measure: str
    country: str | None
    designs: tuple[dict, ...]
    checks: tuple[CheckResult, ...]
    graded: Grade
    headline: Mapping | None = None
    sensitivity: Mapping | None = None
    context: Mapping | None = None
    notes: Mapping = field(default_factory=dict)
    estimand: Mapping | None = None  #: {text, horizon, kind, event_times} (evidence.estimands)

    @property
    def grade(self) -> str:
        return self.graded.grade

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.graded.reasons

    @property
    def grade_target(self) -> dict | None:
        """What the grade is about: ``{kind: effect|no_effect, threshold, text}``."""
        return self.graded.grade_target

    @property
    def headline_text(self) -> str:
        """The quotable sentence of this finding (:mod:`ogimpact.evidence.headline`)."""
        from .headline import headline_for

        return headline_for(self)

    def to_dict(self) -> dict:
        """``{measure, country, designs, checks, grade, reasons, ...}`` (CONTRACT.md ``assess --json``)."""
        g = self.graded
        return json_safe({
            "measure": self.measure, "country": self.country, "intervention": self.intervention,
            "designs": list(self.designs), "checks": [c.to_dict() for c in self.checks],
            "grade": g.grade, "reasons": list(g.reasons), "score": g.score, "design_kind": g.design,
            "design_label": g.design_label, "sms": g.sms, "base": g.base, "upgrade": g.upgrade, "cap": g.cap,
            "domain_totals": dict(g.domain_totals), "wwc_label": g.wwc_label, "headline": self.headline_text,
            "headline_estimate": self.headline, "grade_target": self.grade_target,
            "diagnostics": {"warnings": [dict(w) for w in g.warnings]},
            "sensitivity": self.sensitivity, "context_williamson_eisen": self.context, "notes": dict(self.notes),
            "rubric_version": g.rubric_version, "grading_yaml_sha": g.rubric_sha256,
            "estimand": None if self.estimand is None else dict(self.estimand),
        })


@dataclass(frozen=True)
class AssessmentTable:
    """The graded evidence table of one intervention."""

    intervention: str
    assessments: tuple[Assessment, ...]
    options: Mapping = field(default_factory=dict)

    def to_dict(self) -> dict:
        rub = load_rubric(self.options.get("rubric"))
        return json_safe({"intervention": self.intervention, "headline": self.headline_text,
                          "assessments": [a.to_dict() for a in self.assessments],
                          "rubric": {"name": rub.data.get("rubric"), "version": rub.version,
                                     "grading_yaml_sha": rub.sha256},
                          "options": {k: v for k, v in self.options.items() if k != "rubric"}})

    @property
    def headline_text(self) -> str:
        """One sentence for the whole table (:func:`ogimpact.evidence.headline.report_sentence`)."""
        from .headline import report_sentence

        c = self.options.get("country")
        year = next((a.notes.get("treat_time") for a in self.assessments if a.notes.get("treat_time")), None)
        return report_sentence([{"grade": a.grade, "headline": a.headline_text} for a in self.assessments],
                               intervention=self.intervention, country=c, year=year)

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: measure, country, grade, score, headline estimate and CI, designs run."""
        rows = []
        for a in self.assessments:
            h = a.headline or {}
            rows.append({"measure": a.measure, "country": a.country, "grade": a.grade, "score": a.graded.score,
                         "design": h.get("design"), "estimate": h.get("estimate"), "ci_low": h.get("ci_low"),
                         "ci_high": h.get("ci_high"), "p_value": h.get("p_value"),
                         "designs_run": ",".join(d["design"] for d in a.designs if ok(d)),
                         "not_run": ",".join(d["design"] for d in a.designs if not ok(d))})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Human-readable table with each grade's reasons."""
        rub = load_rubric(self.options.get("rubric"))
        lines = [f"Evidence assessment: {self.intervention} (rubric {rub.data.get('rubric')} v{rub.version}, "
                 f"sha256 {rub.sha256[:12]})", self.headline_text]
        f = self.to_frame()
        if not f.empty:
            with pd.option_context("display.width", 160, "display.max_columns", 20):
                lines.append(f.drop(columns=["not_run"]).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        for a in self.assessments:
            lines.append(f"\n{a.measure}{' / ' + a.country if a.country else ''}: {a.grade} ({a.graded.score}/4)")
            if a.estimand:
                lines.append(f"  estimand (H = {a.estimand.get('horizon')}): {a.estimand.get('text')}")
            lines.append(f"  {a.headline_text}")
            lines.extend(f"  WARNING {w['code']}: {w['message']}" for w in a.graded.warnings)
            lines.extend(f"  {r}" for r in a.reasons)
            for d in a.designs:
                if not ok(d):
                    lines.append(f"  [{d.get('design')} {d.get('status', 'not available')}: {d.get('reason', '')}]")
        lines.append("\nThe grade is a transparent summary with its reasons, not a verdict.")
        return "\n".join(lines)


# ------------------------------------------------------------------ helpers
def default_measures(intervention: str) -> tuple[str, ...]:
    """Domain-balanced default measures at the intervention's unit level.

    Country level: ``measures.DEFAULT_MEASURES``.  Other levels: per
    domain, the measure of that level whose units overlap the intervention's
    timing table most (at least two units), so Brazilian municipal adoption
    is not paired with a Chilean municipal outcome.
    """
    from .. import interventions as iv
    from .. import measures as ms
    from ..measures import DEFAULT_MEASURES

    if iv.get(intervention).measures:
        return tuple(iv.get(intervention).measures)
    level = iv.get(intervention).unit_level
    if level == "country":
        return tuple(DEFAULT_MEASURES)
    units = set(iv.timing(intervention)["unit"].astype(str))
    best: dict[str, tuple[int, str]] = {}
    for m in ms.catalogue():
        if m.unit_level != level:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                n = len(units & set(ms.load([m.id])["unit"].astype(str)))
        except Exception:  # noqa: BLE001 - an unreadable source is simply not a default
            continue
        if n >= 2 and n > best.get(m.domain, (0, ""))[0]:
            best[m.domain] = (n, m.id)
    return tuple(v for _, v in best.values())


def _mie_for(mie, measure: str) -> float | None:
    if mie is None:
        return None
    if isinstance(mie, Mapping):
        v = mie.get(measure)
        return None if v is None else float(v)
    return float(mie)


def _docs(results: Mapping[str, Any]) -> dict[str, dict]:
    out = {}
    for name, r in results.items():
        out[name] = r.to_dict() if isinstance(r, Estimate) else json_safe(dict(r))
        out[name].setdefault("design", name)
    return out


def _validate(intervention, measures, country, years, mie):
    from .. import interventions as iv
    from .. import measures as ms

    it = iv.get(intervention)  # unknown -> OgimpactError listing the ids
    if measures is None:
        measures = default_measures(intervention)
    elif isinstance(measures, str):
        measures = id_list(measures)
    measures = tuple(dict.fromkeys(measures))
    if not measures:
        raise OgimpactError("no measures given; pass measure ids (see `ogimpact measures`).")
    for m in measures:
        mm = ms.get(m)  # unknown -> OgimpactError
        if mm.unit_level != it.unit_level:
            raise OgimpactError(f"measure {m!r} is at {mm.unit_level} level but {intervention!r} at {it.unit_level} "
                                "level; pick measures of the same unit level.")
    if years is not None:
        a, b = span(years, name="years")
        if not a < b:
            raise OgimpactError(f"years {a}:{b} are reversed or empty; give first:last with first < last.")
        years = (a, b)
    if country is not None:
        country = str(country).upper()
        t = iv.timing(intervention)
        row = t[t["unit"] == country]
        if row.empty:
            raise OgimpactError(f"{country!r} has no row in the {intervention!r} timing table; give an ISO3 code "
                                "of a unit in the registry (see `ogimpact interventions`).")
        if not (pd.to_numeric(row["cohort"], errors="coerce").fillna(0) > 0).any():
            raise OgimpactError(f"{country!r} never adopts {intervention!r} in the registry, so there is no "
                                "adoption to assess; pick an adopting country or drop --country.")
    if mie is not None:
        vals = mie.values() if isinstance(mie, Mapping) else [mie]
        if any(float(v) <= 0 for v in vals):
            raise OgimpactError("the minimum important effect must be positive (in the outcome's units).")
    return measures, country, years


# ------------------------------------------------------------------ panel-level runs
def assess_panel(
    panel: Panel,
    *,
    measure: str | None = None,
    intervention: str = "custom",
    mie: float | None = None,
    family: Mapping | None = None,
    window: tuple[int, int] = WINDOW,
    seed: int = 0,
    wcb_draws: int = 999,
    rubric=None,
    designs: Sequence[str] | None = None,
) -> Assessment:
    """Assess a staggered-adoption panel (cohort role) with the cross-country designs.

    Parameters
    ----------
    panel : Panel
        With a cohort role (first treated period, 0 = never treated).
    measure : label of the outcome (default ``panel.outcome``).
    mie : minimum important effect in outcome units (precision check; pre-test power).
    family : output of :func:`ogimpact.evidence.assess_grade.family_adjust` for multiplicity.
    window : event-time window of the pre-test and HonestDiD.
    seed : seed of the HonestDiD draws and the wild cluster bootstrap.
    wcb_draws : WCB draws when clusters are few.
    designs : subset of cs, sun-abraham, imputation, event-study.
    """
    measure = measure or panel.outcome
    with blas_threads(1):
        res = runs.run_staggered(panel, window=window, designs=designs)
        run = _prepare_staggered(panel, res, seed=seed, wcb_draws=wcb_draws, rubric=rubric)
        return _grade_staggered_run(run, measure=measure, intervention=intervention, mie=mie, family=family,
                                    window=window, seed=seed, rubric=rubric)


def _cs_influence(cs: Any) -> dict | None:
    """The CS headline ATT with its per-unit influence function (``extras``; not in the result JSON)."""
    ex = getattr(cs, "extras", None) if isinstance(cs, Estimate) else None
    if not ex or "influence" not in ex:
        return None
    return {"influence": ex["influence"], "influence_scale": ex.get("influence_scale"),
            "estimate": cs.estimate, "se": cs.se}


def _prepare_staggered(panel: Panel, res: Mapping, *, seed: int, wcb_draws: int, rubric, horizon=None) -> dict:
    from .estimands import staggered_estimand
    from .recipe import wild_bootstrap_if_few_clusters

    docs = _docs(res)
    wcb = wild_bootstrap_if_few_clusters(panel, docs, seed=seed, draws=wcb_draws, rubric=rubric)
    est = None if horizon is None else staggered_estimand(horizon).to_dict()
    return {"docs": docs, "wcb": wcb, "pre_sd": runs.pre_period_sd(panel), "influence": _cs_influence(res.get("cs")),
            "estimand": est}


def _grade_staggered_run(run: Mapping, *, measure, intervention, mie, family, window, seed, rubric) -> Assessment:
    checks, g, hl, sens = grade_staggered(run["docs"], measure=measure, mie=mie, pre_sd=run["pre_sd"], family=family,
                                          wcb=run["wcb"], window=window, seed=seed, rubric=rubric)
    designs = list(run["docs"].values())
    notes = {"multiplicity": family} if family else {}
    if run["wcb"] is not None:
        notes["wild_cluster_bootstrap"] = run["wcb"]
    return Assessment(intervention=intervention, measure=measure, country=None, designs=tuple(designs),
                      checks=checks, graded=g, headline=hl, sensitivity=sens, notes=notes,
                      estimand=run.get("estimand"))


def assess_country_panel(
    panel: Panel,
    country: str,
    *,
    treat_time: int,
    donors: Sequence[str],
    measure: str | None = None,
    intervention: str = "custom",
    cohort_panel: Panel | None = None,
    mie: float | None = None,
    family: Mapping | None = None,
    seed: int = 0,
    sdid_reps: int = 50,
    rubric=None,
) -> Assessment:
    """Assess one treated unit's adoption (synth + placebos, SDID, ITS, CS cohort)."""
    measure = measure or panel.outcome
    with blas_threads(1):
        res = runs.run_country(panel, country, treat_time=treat_time, donors=donors, seed=seed, sdid_reps=sdid_reps,
                               cohort_panel=cohort_panel)
    run = {"docs": _docs(res), "pre_sd": runs.pre_period_sd(panel, treat_time=treat_time)}
    return _grade_country_run(run, country=country, measure=measure, intervention=intervention, mie=mie,
                              family=family, rubric=rubric)


def _grade_country_run(run, *, country, measure, intervention, mie, family, rubric) -> Assessment:
    from .context import context_for

    checks, g, hl = grade_country(run["docs"], measure=measure, mie=mie, pre_sd=run["pre_sd"], family=family,
                                  rubric=rubric)
    ctx = context_for(country, intervention).to_dict()
    notes = {"multiplicity": family} if family else {}
    notes.update({k: v for k, v in run.items() if k in ("treat_time", "excluded_donors", "donor_rule")})
    return Assessment(intervention=intervention, measure=measure, country=country,
                      designs=tuple(run["docs"].values()), checks=checks, graded=g, headline=hl, context=ctx,
                      notes=notes, estimand=run.get("estimand"))


def _head_p(docs: Mapping[str, Mapping], country: bool) -> float | None:
    order = ("synth", "sdid", "its") if country else (*runs.ROBUST, "event-study", "twfe")
    for n in order:
        if ok(docs.get(n)):
            return headline_of(n, docs[n])["p_value"]
    return None


# ------------------------------------------------------------------ registry entry point
def assess(
    intervention: str,
    *,
    measures: Sequence[str] | str | None = None,
    country: str | None = None,
    years: tuple[int, int] | str | None = None,
    variant: str | None = None,
    seed: int = 0,
    mie: float | Mapping[str, float] | None = None,
    rubric=None,
    window: tuple[int, int] = WINDOW,
    sdid_reps: int = 50,
    horizon: int = HORIZON,
    donor_rule: str | None = None,
) -> AssessmentTable:
    """Graded evidence table of a registry intervention.

    Parameters
    ----------
    intervention : registry intervention id (``ogimpact interventions``).
    measures : measure ids (default: a domain-balanced set, ``measures.DEFAULT_MEASURES``);
        they form the declared family of the multiplicity check (cross-country: Romano–Wolf on a joint
        multiplier bootstrap of the CS ATTs, B = 999 with ``seed``; Holm and BH are recorded beside it).
    country : ISO3 code; given -> single-country designs for that country's adoption.
    years : (first, last) or "A:B".
    variant : timing variant of the intervention.
    seed : seed of every random step (HonestDiD draws, bootstraps, SDID placebo SE).
    mie : minimum important effect, one value for all measures or ``{measure: value}``.
    rubric : rubric file (default the packaged ``grading.yaml``).
    window : event-time window of the pre-test / HonestDiD / binned TWFE event study.
    sdid_reps : placebo replications of the SDID standard error (R synthdid: 200).
    horizon : H of every headline's estimand (event times / post periods 0..H; :mod:`.estimands`).
    donor_rule : donor rule of the single-country designs [``similar``] (:mod:`ogimpact.donors`).

    Every (measure, country) question is answered by the one recipe (:mod:`.recipe`) that the
    reports also call, then graded by :func:`grade_questions`.

    Returns
    -------
    AssessmentTable
    """
    from . import recipe

    measures, country, years = _validate(intervention, measures, country, years, mie)
    horizon = check_horizon(horizon)
    if donor_rule is not None:
        from ..donors import parse_rule

        parse_rule(donor_rule)  # a bad rule is a usage error before anything runs
    load_rubric(rubric)
    t0 = time.perf_counter()
    questions = []
    timings: dict[str, float] = {}
    with blas_threads(1):
        for m in measures:
            t1 = time.perf_counter()
            questions.append(
                recipe.country_question(country, intervention, m, years=years, variant=variant, seed=seed,
                                        horizon=horizon, sdid_reps=sdid_reps, donor_rule=donor_rule)
                if country else
                recipe.staggered_question(intervention, m, years=years, variant=variant, seed=seed, horizon=horizon,
                                          window=window, keep_influence=len(measures) >= 2, rubric=rubric))
            timings[m] = round(time.perf_counter() - t1, 2)
        errs = [q.panel_error for q in questions]
        if country and all(isinstance(e, OgimpactError) for e in errs):
            raise OgimpactError(f"{country} cannot be assessed on any of the measures: {errs[0]}")
        out = grade_questions(questions, mie=mie, window=window, seed=seed, rubric=rubric)
    opts = {"measures": list(measures), "country": country, "years": list(years) if years else None,
            "variant": variant, "seed": seed, "mie": dict(mie) if isinstance(mie, Mapping) else mie,
            "window": list(window), "sdid_reps": sdid_reps if country else None, "family": list(measures),
            "horizon": horizon, "donor_rule": (donor_rule or recipe.DEFAULT_DONOR_RULE) if country else None,
            "rubric": rubric, "seconds": {"total": round(time.perf_counter() - t0, 2), **timings}}
    return AssessmentTable(intervention=intervention, assessments=tuple(out), options=opts)


def _run_of(q) -> dict:
    """The grader's input of one answered question (:class:`.recipe.Question`)."""
    run = {"docs": q.docs(), "pre_sd": q.pre_sd, "estimand": q.estimand.to_dict()}
    if q.kind == "staggered":
        run.update(wcb=q.wcb, influence=q.influence)
    else:
        run["treat_time"] = q.treat_time
        if q.donors:
            run["excluded_donors"] = q.donors.get("excluded_donors")
            run["donor_rule"] = q.donors.get("donor_rule")
    return run


def grade_questions(questions: Sequence, *, mie=None, window: tuple[int, int] = WINDOW, seed: int = 0,
                    rubric=None) -> list[Assessment]:
    """Grade answered questions of one intervention (one country, or cross-country) as one family.

    ``assess`` and the report notebooks both call this on the questions of :mod:`.recipe`, so the
    same parameters give the same estimates, checks and grades wherever they are asked.  The
    measures of ``questions`` are the declared multiplicity family.  The HonestDiD target of the
    staggered findings is the headline's estimand: event times 0..H of ``window[0]..H``.
    """
    if not questions:
        return []
    country = questions[0].country
    intervention = questions[0].intervention
    prepared = {q.measure: _run_of(q) for q in questions}
    horizon = questions[0].estimand.horizon
    win = (int(window[0]), int(horizon))
    return _grade_all(prepared, intervention=intervention, country=country, mie=mie, window=win, seed=seed,
                      rubric=rubric)


def _grade_all(prepared, *, intervention, country, mie, window, seed, rubric) -> list[Assessment]:
    # cross-country: each measure's CS headline ATT brings its influence function, so Romano–Wolf runs on
    # joint multiplier-bootstrap draws (one weight per country, shared across the measures; B = 999, the seed)
    joint = None if country else {m: r["influence"] for m, r in prepared.items() if r.get("influence")}
    fam = family_adjust({m: _head_p(r["docs"], bool(country)) for m, r in prepared.items()}, joint=joint,
                        B=RW_DRAWS, seed=seed)
    out = []
    for m, run in prepared.items():
        if country:
            out.append(_grade_country_run(run, country=country, measure=m, intervention=intervention,
                                          mie=_mie_for(mie, m), family=fam, rubric=rubric))
        else:
            out.append(_grade_staggered_run(run, measure=m, intervention=intervention, mie=_mie_for(mie, m),
                                            family=fam, window=window, seed=seed, rubric=rubric))
    return out
