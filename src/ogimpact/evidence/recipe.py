"""The answers recipe: one question → the designs that apply, each with its panel, donors, options, diagnostics.

Two questions are asked of the registry, and every entry point asks them here —
``ogimpact assess``, the country and cross-country reports (``reports.sections``,
so the notebooks and ``report batch``), the evidence map, and the registry mode of
``ogimpact estimate`` (which uses the recipe's panel, treatment time and donor steps):

* :func:`country_question` — "did ``country``'s adoption of ``intervention`` change
  ``measure``?": synthetic control (in-space placebos), synthetic DiD (placebo SE), ITS
  (AR(1) REML inference) and the country's adoption cohort from Callaway–Sant'Anna, all on
  one registry panel ended at T0 + H, with one donor pool chosen by one stated donor rule
  (default ``similar``, :mod:`ogimpact.donors`; recorded in every result's
  ``options.donor_rule``).  The estimand is the average post-period gap over T0..T0+H.
* :func:`staggered_question` — "did adopting ``intervention`` change ``measure`` across
  countries?": Callaway–Sant'Anna (not-yet-treated controls, universal base, dynamic
  aggregation with ``max_e = H``), Sun–Abraham and imputation on the balanced registry
  panel, and the TWFE event study (the non-robust comparison), each headline the average
  effect over event times 0..H (:mod:`.estimands`), with the wild cluster bootstrap of the
  static TWFE coefficient when clusters are few.

A design that cannot run comes back as ``{design, status, reason}`` with the true
reason (no post period in the data, too few donors under the rule, a single-unit
cohort ...), never hidden.  The chain — registry panel → treatment time → donors →
design options → fit — is written only here; grading lives in :mod:`.assess_grade`.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import DesignError, OgimpactError
from ..panel import Panel
from ..parallel import blas_threads
from ..results import Estimate, json_safe
from . import assess_runs as runs
from .estimands import HORIZON, Estimand, check_horizon, its_average, single_unit_estimand, staggered_estimand

__all__ = ["DEFAULT_DONOR_RULE", "COUNTRY_DESIGNS", "STAGGERED_DESIGNS", "Question", "country_question",
           "staggered_question", "wild_bootstrap_if_few_clusters", "registry_panel", "treat_time", "donor_pool", "no_post_period"]

#: the donor rule of every single-unit answer unless one is given (the CLI registry default too)
from ..donors import DEFAULT_RULE as DEFAULT_DONOR_RULE  # noqa: E402

#: designs of a country question, in order of preference for the headline
COUNTRY_DESIGNS = ("synth", "sdid", "its", "cs_cohort")
#: designs of the cross-country staggered question (robust first; the TWFE event study last)
STAGGERED_DESIGNS = ("cs", "sun-abraham", "imputation", "event-study")
#: report / user aliases of the staggered designs
_ALIASES = {"twfe": "event-study"}


@dataclass(frozen=True)
class Question:
    """One answered question: its designs' results (result JSON or not-available), estimand and settings."""

    kind: str  # "country" | "staggered"
    intervention: str
    measure: str
    country: str | None
    results: Mapping[str, Any]  # design -> Estimate | {design, status, reason}
    estimand: Estimand
    options: Mapping = field(default_factory=dict)
    pre_sd: float | None = None
    treat_time: int | None = None
    donors: Mapping | None = None  # DonorPool.options() of the single-unit designs
    wcb: Mapping | None = None
    influence: Mapping | None = None
    panel_error: BaseException | None = None
    #: the adopting units the answer rests on ("country studies"): the country itself, or every adopter in the
    #: balanced cross-country sample whose adoption falls inside the data's years
    studies: tuple = ()

    def docs(self) -> dict[str, dict]:
        """``{design: result JSON}`` (what the grader reads and what assess/report record)."""
        out = {}
        for name, r in self.results.items():
            out[name] = r.to_dict() if isinstance(r, Estimate) else json_safe(dict(r))
            out[name].setdefault("design", name)
        return out


# ----------------------------------------------------------------------------- the chain's steps
def registry_panel(design: str, *, measure: str, intervention: str, years=None, units=None, variant=None,
                   covariates: Sequence[str] = ()) -> Panel:
    """The registry panel a design needs (:func:`ogimpact.estimation.registry_panel`, PanelWarnings silenced)."""
    from ..estimation import registry_panel as _rp
    from ..panel import PanelWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        return _rp(design, measure=measure, intervention=intervention, years=tuple(years) if years else None,
                   units=units, variant=variant, covariates=covariates)


def treat_time(panel: Panel, unit) -> int:
    """The unit's adoption period from the registry cohort column (PanelError if never adopted / absent)."""
    from ..estimation import registry_treat_time

    return registry_treat_time(panel, unit)


def donor_pool(panel: Panel, *, treated, treat_time: int, rule=None, donors: Sequence | None = None,
               intervention: str | None = None, variant: str | None = None, require: Sequence[str] = ()):
    """The donor pool of a single-unit design: ``donors`` as given, else the rule [``similar``]."""
    from ..donors import explicit_pool, select_donors

    if donors:
        if rule:
            raise OgimpactError("give either --donors or --donor-rule, not both.")
        return explicit_pool(panel, treated=treated, donors=list(donors), treat_time=treat_time)
    return select_donors(panel, treated=treated, treat_time=int(treat_time), rule=rule or DEFAULT_DONOR_RULE,
                         intervention=intervention, variant=variant, require=require)


def no_post_period(country: str, intervention: str, measure: str, variant: str | None) -> str | None:
    """The reason a country question cannot be answered when the outcome stops before the treatment starts."""
    from .. import interventions, measures

    try:
        t = interventions.timing(intervention, variant)
        coh = t.loc[t["unit"] == country, "cohort"].dropna()
        years = measures.load([measure])["year"]
    except Exception:  # noqa: BLE001 - the original error is shown instead
        return None
    if coh.empty or int(coh.iloc[0]) <= 0 or years.empty:
        return None
    c, last = int(coh.iloc[0]), int(years.max())
    if last < c:
        return (f"{measure} ends in {last}, before {country}'s treatment year {c}: there is no post-treatment "
                "period, so the data cannot answer.")
    return None


def _cut(panel: Panel, end: int) -> Panel:
    """``panel`` with periods after ``end`` removed (the single-unit horizon)."""
    t = panel.frame[panel.time]
    if int(t.max()) <= end:
        return panel
    src = panel._source
    if src is not None:
        src = src[src[panel.time] <= end].reset_index(drop=True)
    return dataclasses.replace(panel, frame=panel.frame[t <= end].reset_index(drop=True), _source=src,
                               info={**panel.info, "horizon_end": int(end)})


def _na(designs, exc_or_reason) -> dict:
    if isinstance(exc_or_reason, BaseException):
        return {d: runs.not_available(d, exc_or_reason) for d in designs}
    return {d: {"design": d, "status": "not estimable", "reason": str(exc_or_reason)} for d in designs}


def _with(res, **opts):
    return res.replace(options={**res.options, **opts}) if isinstance(res, Estimate) else res


# ----------------------------------------------------------------------------- country question
def country_question(
    country: str,
    intervention: str,
    measure: str,
    *,
    years=None,
    variant: str | None = None,
    donor_rule: str | None = None,
    seed: int = 0,
    horizon: int = HORIZON,
    sdid_reps: int = 50,
    placebo: bool = True,
    designs: Sequence[str] = COUNTRY_DESIGNS,
) -> Question:
    """Answer "did ``country``'s adoption change ``measure``?" with the single-unit designs.

    Parameters
    ----------
    country : ISO3 code of an adopter; intervention, measure : registry ids.
    years : (first, last) of the data used; the panel is then ended at T0 + ``horizon``.
    variant : timing variant of the intervention.
    donor_rule : :mod:`ogimpact.donors` rule for synth and SDID [``similar``].
    seed : seed of every random step; sdid_reps : SDID placebo replications (0/None: no SE).
    placebo : synth in-space placebos and the SDID placebo SE.
    designs : subset of :data:`COUNTRY_DESIGNS`.
    """
    h = check_horizon(horizon)
    bad = [d for d in designs if d not in COUNTRY_DESIGNS]
    if bad:
        raise OgimpactError(f"unknown country design(s) {', '.join(bad)}; choose from {', '.join(COUNTRY_DESIGNS)}.")
    designs = tuple(d for d in COUNTRY_DESIGNS if d in designs)  # one order, whoever asks
    with blas_threads(1):  # one BLAS thread: the same bits in assess, reports and batch workers
        return _country(country, intervention, measure, years=years, variant=variant, donor_rule=donor_rule,
                        seed=seed, h=h, sdid_reps=sdid_reps, placebo=placebo, designs=designs)


def _country(country, intervention, measure, *, years, variant, donor_rule, seed, h, sdid_reps, placebo, designs):
    rule = donor_rule or DEFAULT_DONOR_RULE
    opts = {"years": list(years) if years else None, "variant": variant, "donor_rule": rule, "seed": int(seed),
            "horizon": h, "sdid_reps": sdid_reps, "placebo": bool(placebo)}
    base = dict(kind="country", intervention=intervention, measure=measure, country=country, options=opts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = registry_panel("synth", measure=measure, intervention=intervention, years=years, variant=variant)
            t0 = treat_time(full, country)
    except Exception as exc:  # noqa: BLE001 - the true reason, not hidden
        why = no_post_period(country, intervention, measure, variant)
        return Question(**base, results=_na(designs, why or exc), estimand=single_unit_estimand(h, unit=country),
                        panel_error=exc)
    last = int(full.frame[full.time].max())
    if last < t0:
        why = no_post_period(country, intervention, measure, variant) or \
            f"{measure} ends in {last}, before {country}'s treatment year {t0}: there is no post-treatment period."
        return Question(**base, results=_na(designs, why), estimand=single_unit_estimand(h, unit=country),
                        treat_time=t0, panel_error=DesignError(why))
    panel = _cut(full, t0 + h)
    out: dict[str, Any] = {}
    pool, pool_opts, pool_err = None, None, None
    if any(d in ("synth", "sdid") for d in designs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pool = donor_pool(panel, treated=country, treat_time=t0, rule=rule, intervention=intervention,
                                  variant=variant)
            pool_opts = pool.options()
        except Exception as exc:  # noqa: BLE001 - e.g. too few donors under the rule
            pool_err = exc
    end, note = min(last, t0 + h), None
    if pool is not None and int(pool.window[1]) < end:
        # the donor rule ended the window earlier (too few donors untreated later): every design stops there,
        # so all of them estimate the same parameter
        end = int(pool.window[1])
        note = f"the donor rule's window ends in {end}"
        panel = _cut(panel, end)
    est = single_unit_estimand(h, t0, end, unit=country, end_note=note)
    common = {"horizon": h, "estimand": est.text}
    sub = pool.apply(panel) if pool is not None else None
    for d in designs:
        if d in ("synth", "sdid") and pool is None:
            out[d] = runs.not_available(d, pool_err)
            continue
        if d == "synth":
            syn = {**runs.RECIPE_SETTINGS["synth"], **({} if placebo else {"placebo": ()})}
            r = runs._fit("synth", sub, treated=country, treat_time=t0, donors=list(pool.donors), seed=int(seed),
                          **syn)
            out[d] = _with(r, **pool_opts, **common)
        elif d == "sdid":
            r = runs._fit("sdid", sub, treated=country, treat_time=t0, seed=int(seed),
                          placebo_reps=int(sdid_reps) if placebo and sdid_reps else None)
            out[d] = _with(r, **pool_opts, **common)
        elif d == "its":
            r = runs._fit("its", panel.subset_units([country]), treat_time=t0, **runs.RECIPE_SETTINGS["its"])
            if isinstance(r, Estimate):
                try:
                    r = its_average(r, h)
                except OgimpactError as exc:
                    r = runs.not_available("its", exc)
            out[d] = _with(r, estimand=est.text)
        elif d == "cs_cohort":
            out[d] = _cs_cohort(intervention, measure, country, t0, years=years, variant=variant, end=end,
                                estimand=est.text, horizon=h)
    ran = any(isinstance(r, Estimate) or (isinstance(r, dict) and r.get("status") is None) for r in out.values())
    return Question(**base, results=out, estimand=est, pre_sd=runs.pre_period_sd(panel, treat_time=t0),
                    treat_time=t0, donors=pool_opts, studies=(country,) if ran else ())


def _cs_cohort(intervention, measure, country, cohort, *, years, variant, end, estimand, horizon) -> dict:
    """The country's adoption-cohort ATT from CS (not-yet-treated controls, group aggregation) over cohort..end."""
    try:
        if years:
            first, last = int(years[0]), min(int(years[1]), int(end))
        else:
            full = runs.registry_cohort_panel(intervention, measure, variant=variant)
            first, last = int(full.frame[full.time].min()), min(int(full.frame[full.time].max()), int(end))
        # rebuilt (not cut) so cohorts after the horizon are coded never-treated by the panel, as everywhere
        panel = runs.registry_cohort_panel(intervention, measure, years=(first, last), variant=variant)
    except Exception as exc:  # noqa: BLE001
        return {**runs.not_available("cs_cohort", exc), "cohort": cohort}
    d = runs._cs_cohort(panel, country, cohort)
    if d.get("status") is None:
        d["options"] = {**d.get("options", {}), "horizon": horizon, "estimand": estimand,
                        "window": f"cohort {cohort}'s ATT(g,t) for t = {cohort}..{last} (panel ended at T0 + H)"}
    return d


# ----------------------------------------------------------------------------- staggered question
def staggered_question(
    intervention: str,
    measure: str,
    *,
    years=None,
    variant: str | None = None,
    seed: int = 0,
    horizon: int = HORIZON,
    window: tuple[int, int] = (-5, 5),
    designs: Sequence[str] = STAGGERED_DESIGNS,
    keep_influence: bool = False,
    wcb_draws: int = 999,
    rubric=None,
) -> Question:
    """Answer "did adopting ``intervention`` change ``measure`` across countries?" with the staggered set.

    Parameters
    ----------
    years, variant : data years and timing variant.
    seed : seed of the wild cluster bootstrap (and of the grader's HonestDiD draws).
    horizon : H of the headline (average effect over event times 0..H).
    window : event-time window of the pre-test / HonestDiD; the TWFE event study keeps ``window[0]..H+1``
        (event times beyond H + 1 binned into H + 1, so 0..H are separate coefficients).
    designs : subset of :data:`STAGGERED_DESIGNS` (``twfe`` is read as ``event-study``).
    keep_influence : keep the CS headline's influence function (Romano–Wolf across measures).
    wcb_draws : restricted wild cluster bootstrap draws when clusters are few (rubric thresholds).
    """
    h = check_horizon(horizon)
    asked = tuple(dict.fromkeys(_ALIASES.get(d, d) for d in designs))
    bad = [d for d in asked if d not in STAGGERED_DESIGNS]
    if bad:
        raise OgimpactError(f"unknown staggered design(s) {', '.join(bad)}; choose from "
                            f"{', '.join(STAGGERED_DESIGNS)} (or twfe for the event study).")
    names = tuple(d for d in STAGGERED_DESIGNS if d in asked)  # one order, whoever asks
    with blas_threads(1):  # one BLAS thread: the same bits in assess, reports and batch workers
        return _staggered(intervention, measure, years=years, variant=variant, seed=seed, h=h, window=window,
                          names=names, keep_influence=keep_influence, wcb_draws=wcb_draws, rubric=rubric)


def _staggered(intervention, measure, *, years, variant, seed, h, window, names, keep_influence, wcb_draws, rubric):
    opts = {"years": list(years) if years else None, "variant": variant, "seed": int(seed), "horizon": h,
            "window": list(window), "keep_influence": bool(keep_influence)}
    base = dict(kind="staggered", intervention=intervention, measure=measure, country=None, options=opts)
    try:
        panel = runs.registry_cohort_panel(intervention, measure, years=years, variant=variant)
    except Exception as exc:  # noqa: BLE001 - reported as not-available designs
        return Question(**base, results=_na(names, exc), estimand=staggered_estimand(h), panel_error=exc)
    res = runs.run_staggered(panel, window=(int(window[0]), max(int(window[1]), h + 1)), designs=names,
                             keep_influence=keep_influence, horizon=h)
    covered = sorted({e for r in res.values() if isinstance(r, Estimate)
                      for e in r.options.get("horizon_event_times", [])})
    est = staggered_estimand(h, covered)
    res = {k: _with(v, estimand=est.text) for k, v in res.items()}
    docs = {k: (v.to_dict() if isinstance(v, Estimate) else v) for k, v in res.items()}
    wcb = wild_bootstrap_if_few_clusters(panel, docs, seed=seed, draws=wcb_draws, rubric=rubric)
    cs = res.get("cs")
    influence = None
    ex = getattr(cs, "extras", None) if isinstance(cs, Estimate) else None
    if ex and "influence" in ex:
        influence = {"influence": ex["influence"], "influence_scale": ex.get("influence_scale"),
                     "estimate": cs.estimate, "se": cs.se}
    return Question(**base, results=res, estimand=est, pre_sd=runs.pre_period_sd(panel), wcb=wcb,
                    influence=influence, studies=_studies(panel))


def _studies(panel: Panel) -> tuple:
    """Adopters in the balanced sample the robust designs use, adopting after the first period (sorted)."""
    try:
        rp = runs.robust_panel(panel)
    except Exception:  # noqa: BLE001 - no robust sample: no studies
        return ()
    f = rp.frame
    first = f[rp.time].min()
    g = f.groupby(rp.unit)[rp.cohort].first()
    return tuple(sorted(map(str, g[(g > first)].index)))


def wild_bootstrap_if_few_clusters(panel: Panel, docs: Mapping[str, Mapping], *, seed: int, draws: int = 999,
                                   rubric=None) -> dict | None:
    """The restricted WCB of the static TWFE coefficient when the headline's clusters are few (rubric), else None."""
    from .grading import load_rubric

    rub = load_rubric(rubric).data["checks"]["few_clusters"]
    head = next((docs[n] for n in runs.ROBUST if n in docs and _ran(docs[n])), None)
    if head is None:
        return None
    G, G1 = head.get("n_clusters"), head.get("n_treated_units")
    if G is not None and (G < rub["min_clusters"] or (G1 is not None and G1 < rub["min_treated_clusters"])):
        r = runs.run_wild_bootstrap(panel, draws=draws, seed=seed)
        return r.to_dict() if isinstance(r, Estimate) else r
    return None


def _ran(doc) -> bool:
    from .assess_grade import ok

    return ok(doc)
