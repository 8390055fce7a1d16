"""Checks and grade of one (measure, country) from the result JSON of its designs.

Everything here reads result JSON dicts (``Estimate.to_dict()``, or the
``{design, status, reason}`` of a design that could not run), so the same code
grades fresh runs (:func:`ogimpact.evidence.assess.assess`) and the estimates a
report already recorded (:func:`ogimpact.evidence.assess.grade_report_entries`).

Cross-country (staggered) findings are graded from the heterogeneity-robust
estimators (CS, Sun–Abraham, imputation; the first that ran is the headline):
parallel trends (joint Wald pre-test on the robust event study's pre-period
coefficients in the window, plus the HonestDiD relative-magnitudes breakdown
M̄* of the average post-period effect in the window; Rambachan & Roth 2023),
few clusters (wild cluster bootstrap p when G < 30 or G1 < 6), consistency
(robust estimators vs each other and vs the TWFE event study), precision
against a declared minimum important effect (MIE) and multiplicity across the
declared family of measures (Romano–Wolf on a joint multiplier bootstrap of the
measures' CS ATTs when their influence functions are available, else Holm).  Single-country findings are graded from the
synthetic control (in-space placebo rank p, J < 19 underpowered, pre-RMSPE vs
0.5 SD), SDID and ITS, with the country's CS cohort ATT in the consistency
check.  Thresholds come from the rubric (``grading.yaml``).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from ..results import EventStudy
from .checks import (CheckResult, check_consistency, check_few_clusters, check_parallel_trends, check_placebo, check_precision, grade_target, is_large_effect)
from .design_checks import (check_donor_similarity, check_effective_donors, check_hull, check_loo_stability,
                            check_pre_fit, check_pretrend_power, not_applicable)
from .grading import Grade, grade, load_rubric
from .family import _multiplicity, family_adjust  # noqa: F401 - re-exported (assess, assess_map import them here)
from .mie import MIE, measure_scale, resolve_mie
from ..parse import finite_or_none as _f

__all__ = ["MBAR_GRID", "RW_DRAWS", "WINDOW", "ok", "headline_of", "grade_staggered", "grade_country", "insufficient",
           "parallel_trends", "family_adjust"]

#: bootstrap draws of the Romano–Wolf multiplicity adjustment across measures
RW_DRAWS = 999
#: event-time window of the pre-test and of HonestDiD (binned TWFE event study uses the same)
WINDOW = (-5, 5)
#: M̄ grid of the breakdown search (contains the rubric thresholds 0.5 and 1)
MBAR_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0)
ROBUST = ("cs", "sun-abraham", "imputation")
COUNTRY_ORDER = ("synth", "sdid", "its")


def ok(doc: Any) -> bool:
    """A design result that ran (has a finite estimate and no ``status``)."""
    return isinstance(doc, Mapping) and doc.get("status") in (None, "ok") and doc.get("estimate") is not None \
        and np.isfinite(float(doc["estimate"]))




def headline_of(name: str, doc: Mapping) -> dict:
    """``{design, estimate, se, ci_low, ci_high, p_value}`` of one result."""
    p = doc.get("p_value")
    if name == "synth":
        p = (doc.get("placebo") or {}).get("p_value", p)
    return {"design": name, "estimate": _f(doc.get("estimate")), "se": _f(doc.get("se")),
            "ci_low": _f(doc.get("ci_low")), "ci_high": _f(doc.get("ci_high")), "p_value": _f(p)}


def insufficient(why: str, *, rubric=None) -> Grade:
    """Grade of a finding with no estimate at all."""
    rub = load_rubric(rubric)
    return Grade(design="none", design_label="no estimate", sms="-", base=0, score=0, grade=rub.label(0),
                 reasons=(f"0 (Insufficient): {why}",), checks=(), rubric_version=rub.version,
                 rubric_sha256=rub.sha256)


# ------------------------------------------------------------------ parallel trends
def _window_es(doc: Mapping, window: tuple[int, int], *, drop_ref: bool = True) -> EventStudy:
    es = EventStudy.from_result_json(doc)
    et = np.asarray(es.event_times)
    keep = (et >= window[0]) & (et <= window[1])
    if drop_ref:
        keep &= et != -1
    return EventStudy(event_times=tuple(int(e) for e in et[keep]), estimates=es.estimates[keep],
                      vcov=es.vcov[np.ix_(keep, keep)], ref=-1 if drop_ref else None, estimator=es.estimator,
                      alpha=es.alpha)


def _universal(name: str, doc: Any) -> bool:
    """A robust event study whose pre-period coefficients are long differences relative to e = -1."""
    return ok(doc) and bool(doc.get("event_study")) and doc.get("vcov") is not None and \
        (name != "cs" or (doc.get("options") or {}).get("base") == "universal")


def _pretest_power(es: EventStudy, mie: float | None, alpha: float) -> float | None:
    """Power of the joint pre-test against a linear violation that biases event time 0 by the MIE
    (slope MIE per period, zero at the reference -1); noncentral chi-squared, in the spirit of Roth (2022)."""
    if mie is None or mie <= 0:
        return None
    m = es.pre
    if not m.any():
        return None
    et = np.asarray(es.event_times)[m]
    delta = mie * (et + 1.0)
    V = es.vcov[np.ix_(m, m)]
    k = int(np.linalg.matrix_rank(V))
    if k == 0:
        return None
    lam = float(delta @ np.linalg.pinv(V) @ delta)
    from scipy import stats  # lazy: the noncentral chi-squared is only in scipy.stats

    return float(stats.ncx2.sf(stats.chi2.ppf(1 - alpha, k), k, lam))


def _msg(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _df2(doc: Mapping | None) -> float | None:
    """G - 1: the denominator of the grader's pre-test F(q, G - 1), one convention for every design (D16)."""
    G = _f((doc or {}).get("n_clusters")) or _f((doc or {}).get("n_units"))
    return None if G is None or G < 2 else G - 1


def _horizon(doc: Mapping | None) -> int | None:
    h = ((doc or {}).get("options") or {}).get("horizon")
    try:
        return None if h is None else int(h)
    except (TypeError, ValueError):
        return None


def parallel_trends(docs: Mapping[str, Mapping], *, window=WINDOW, mie: float | None = None, seed: int = 0,
                    rubric=None, estimate: float | None = None, target: Mapping | None = None,
                    horizon: int | None = None) -> tuple[CheckResult, dict | None]:
    """Parallel-trends check of a staggered finding and its HonestDiD summary.

    The event study is the first of CS (universal base) and Sun–Abraham that
    ran; without one the robust estimator's own pre-test p (CS varying-base or
    imputation) is used and M̄* is not computed.  See :func:`parallel_trends_checks`
    for the pre-test power check that goes with it.
    """
    pt, _, sens = parallel_trends_checks(docs, window=window, mie=mie, seed=seed, rubric=rubric, estimate=estimate,
                                         target=target, horizon=horizon)
    return pt, sens


def parallel_trends_checks(docs: Mapping[str, Mapping], *, window=WINDOW, mie: float | None = None, seed: int = 0,
                           rubric=None, estimate: float | None = None, target: Mapping | None = None,
                           horizon: int | None = None) -> tuple[CheckResult, CheckResult, dict | None]:
    """``(parallel_trends, pretrend_power, sensitivity)`` of a staggered finding.

    Parallel trends is assessed for every finding, null or not: the joint pre-test, the
    largest pre-period coefficient against |estimate| (effect target) or the MIE (no-effect
    target), and the HonestDiD breakdown M̄* — "not applicable" (never a number) when the
    target's CI already covers 0.  The power check is Roth's (2022) linear trend on the same
    event study (:func:`ogimpact.evidence.design_checks.check_pretrend_power`).
    """
    src = next((n for n in ("cs", "sun-abraham") if _universal(n, docs.get(n))), None)
    extra: dict[str, Any] = {"window": list(window), "breakdown_grid": list(MBAR_GRID)}
    why = None
    p = power = mbar = None
    sens = None
    es = None
    ref_kind = "MIE" if (target or {}).get("kind") == "no_effect" else "estimate"
    reference = _f(mie) if ref_kind == "MIE" else (None if _f(estimate) is None else abs(_f(estimate)))
    if src is not None:
        extra["source"] = f"{src} event study"
        try:
            es = _window_es(docs[src], window)
        except Exception as exc:  # noqa: BLE001
            why = f"the {src} event study is unusable ({_msg(exc)})"
    else:
        why = "no universal-base robust event study (CS with base='universal' or Sun–Abraham) for HonestDiD"
        cs = docs.get("cs")
        if ok(cs) and cs.get("event_study") and cs.get("vcov") is not None:
            # varying base: every pre-period coefficient (incl. e = -1) is a short-gap placebo; test them jointly
            try:
                pre_es = _window_es(cs, window, drop_ref=False)
                extra["source"] = "cs event study (varying base; pre-test only)"
            except Exception:  # noqa: BLE001
                pre_es = None
            if pre_es is not None:
                wald = pre_es.pretrend_wald(df2=_df2(cs))
                p = wald["p_value"]
                extra.update(pretest_stat=wald["stat"], pretest_df=wald["df"],
                             pre_event_times=[e for e in pre_es.event_times if e < 0])
                extra["max_abs_pre"] = float(np.max(np.abs(pre_es.estimates[pre_es.pre]))) if pre_es.pre.any() else None
        if p is None:
            for name in ROBUST:
                d = docs.get(name)
                if ok(d) and (d.get("diagnostics") or {}).get("pretrend_wald_p") is not None:
                    p = d["diagnostics"]["pretrend_wald_p"]
                    extra["source"] = f"{name} pre-test (diagnostics.pretrend_wald_p)"
                    break
    pw_check = None
    if es is not None:
        wald = es.pretrend_wald(df2=_df2(docs[src]))
        p = wald["p_value"]
        extra.update(pretest_stat=wald["stat"], pretest_df=wald["df"], pretest_test=wald.get("test"),
                     pre_event_times=[e for e in es.event_times if e < 0])
        if es.pre.any():
            extra["max_abs_pre"] = float(np.max(np.abs(es.estimates[es.pre])))
        power = _pretest_power(es, mie, 0.05)
        if power is not None:
            extra["pretest_power_against"] = f"linear trend reaching the MIE ({mie}) at event time 0"
        pw_check = check_pretrend_power(es.event_times, es.estimates, es.vcov, estimate=estimate, target=target,
                                        mie=mie, ref=-1, horizon=horizon, rubric=rubric)
        pw_check = replace(pw_check, inputs={**pw_check.inputs, "source": extra["source"]})
        try:
            from ..inference.sensitivity import honest_did
        except ImportError as exc:
            why = f"HonestDiD is not available in this build ({exc})"
        else:
            try:
                n_post = int(es.post.sum())
                h = honest_did(es, method="rm", grid=MBAR_GRID, l_vec=[1.0 / n_post] * n_post, seed=seed)
                sens = h.to_dict() if hasattr(h, "to_dict") else None
                lo0, hi0 = h.original["ci_low"], h.original["ci_high"]
                extra["target"] = f"average effect over event times 0..{max(es.event_times)}"
                if lo0 <= 0 <= hi0:
                    why = (f"not applicable: the CI already covers 0 (CI [{lo0:.3g}, {hi0:.3g}] under exact parallel "
                           "trends), so there is no significance to break down")
                elif h.breakdown is None:
                    mbar = float(max(MBAR_GRID))
                    extra["breakdown_note"] = f"every robust interval on the grid excludes 0: M̄* >= {mbar}"
                else:
                    mbar = float(h.breakdown)
                    extra["breakdown_note"] = "first grid value whose robust interval covers 0"
            except Exception as exc:  # noqa: BLE001
                why = f"HonestDiD failed ({_msg(exc)})"
    if pw_check is None:
        pw_check = check_pretrend_power(None, None, None, estimate=estimate, target=target, mie=mie, rubric=rubric)
        pw_check = replace(pw_check, reason=pw_check.reason + (
            f" ({why})" if why and not why.startswith("not applicable") else ""))
    c = check_parallel_trends(p, mbar, pretest_power=power, max_pre=extra.get("max_abs_pre"), reference=reference,
                              reference_kind=ref_kind, breakdown_note=why, rubric=rubric)
    if why:
        extra["breakdown_note"] = why
    return replace(c, inputs={**c.inputs, **extra}), pw_check, sens


def _ci_row(doc: Mapping) -> dict:
    return {k: _f(doc.get(k)) for k in ("estimate", "se", "ci_low", "ci_high")}


def _mie_of(mie, measure: str, pre_sd, rubric) -> MIE | None:
    try:
        return resolve_mie(mie, measure, pre_sd=pre_sd, rubric=rubric)
    except Exception:  # noqa: BLE001 - a bad declared MIE is rejected upstream; nothing to resolve here
        return None


def _precision(doc: Mapping | None, m: MIE | None, rubric, source: str | None, *,
               estimate: float | None = None) -> CheckResult:
    """Precision of ``doc``'s CI; the target follows ``estimate`` (the headline's) when given."""
    d = doc or {}
    pr = check_precision(_f(d.get("ci_low")), _f(d.get("ci_high")), None if m is None else m.value,
                         estimate=_f(d.get("estimate")) if estimate is None else estimate,
                         mie_rule=None if m is None else m.rule,
                         mie_inputs=None if m is None else dict(m.inputs), rubric=rubric)
    return replace(pr, inputs={**pr.inputs, "source": source})


def _conflicts(checks, head: Mapping, rubric) -> list[dict]:
    from .headline import conflict_warnings

    return conflict_warnings(checks, head)


# ------------------------------------------------------------------ staggered
def grade_staggered(
    docs: Mapping[str, Mapping],
    *,
    measure: str,
    mie: float | MIE | None = None,
    pre_sd: float | None = None,
    family: Mapping | None = None,
    wcb: Mapping | None = None,
    window=WINDOW,
    seed: int = 0,
    rubric=None,
    horizon: int | None = None,
) -> tuple[tuple[CheckResult, ...], Grade, dict | None, dict | None]:
    """Checks and grade of a cross-country finding; returns ``(checks, grade, headline, sensitivity)``.

    ``docs`` maps design name (cs, sun-abraham, imputation, event-study / twfe)
    to result JSON; ``wcb`` is a static-TWFE result JSON with ``wild_bootstrap``.
    ``mie`` is the declared minimum important effect (a number or an
    :class:`~ogimpact.evidence.mie.MIE`); without one the measure's default
    (:mod:`ogimpact.evidence.mie`) is used, so precision is judged for every
    result.  ``horizon`` is the estimand's last event time [the headline
    design's ``options.horizon``, else every post period of the window].
    """
    primary = next((n for n in ROBUST if ok(docs.get(n))), None)
    twfe_name = next((n for n in ("event-study", "twfe") if ok(docs.get(n))), None)
    if primary is None and twfe_name is None:
        return (), insufficient("no design could be estimated (each design's reason is listed with it)",
                                rubric=rubric), None, None
    head_name = primary or twfe_name
    head = docs[head_name]
    m = _mie_of(mie, measure, pre_sd, rubric)
    mv = None if m is None else m.value
    est = _f(head.get("estimate"))
    target = grade_target(est, mv)
    horizon = _horizon(head) if horizon is None else horizon
    checks: list[CheckResult] = []
    pt, pw, sens = parallel_trends_checks(docs, window=window, mie=mv, seed=seed, rubric=rubric, estimate=est,
                                          target=target, horizon=horizon)
    if primary is None:
        # only the TWFE event study: its own pre-test
        pt = check_parallel_trends((head.get("diagnostics") or {}).get("pretrend_wald_p"), None, rubric=rubric)
    checks += [pt, pw]
    p_crve, p_wcb, wcb_note = _f(head.get("p_value")), None, None
    if wcb is not None and ok(wcb) and wcb.get("wild_bootstrap"):
        p_crve, p_wcb = _f(wcb.get("p_value")), _f(wcb["wild_bootstrap"].get("p_value"))
        wcb_note = "static TWFE coefficient: CRVE p and restricted WCB p (Webb weights)"
    fc = check_few_clusters(head.get("n_clusters"), head.get("n_treated_units"), p_crve=p_crve, p_wcb=p_wcb,
                            rubric=rubric)
    checks.append(replace(fc, inputs={**fc.inputs, "source": head_name, "wcb_source": wcb_note}))
    robust = {n: _ci_row(docs[n]) for n in ROBUST if ok(docs.get(n))}
    tw = {"estimate": _f(docs[twfe_name].get("estimate"))} if twfe_name else None
    cons = check_consistency(robust, twfe=tw, rubric=rubric)
    checks.append(replace(cons, inputs={**cons.inputs, "twfe_design": twfe_name}))
    pr = _precision(head, m, rubric, head_name)
    checks.append(pr)
    checks.append(_multiplicity(measure, family, rubric))
    kind = head_name if primary else "event-study"
    large = is_large_effect(est, pre_sd, rubric=rubric)
    target = pr.inputs.get("target") or target
    hl = {**headline_of(head_name, head), "pre_period_sd": pre_sd, "large_effect": bool(large),
          "mie": None if m is None else m.to_dict(), "horizon": horizon}
    g = grade(kind, checks, large_effect=large, rubric=rubric, target=target,
              warnings=_conflicts(checks, hl, rubric))
    return tuple(checks), g, hl, sens


# ------------------------------------------------------------------ single country
def _top_donor(doc: Mapping) -> str | None:
    w = [r for r in (doc.get("weights") or []) if _f(r.get("weight")) is not None]
    if not w:
        return None
    r = max(w, key=lambda r: float(r["weight"]))
    return f"{r.get('unit')} (weight {float(r['weight']):.2f})"


def _n_pre(doc: Mapping) -> int | None:
    """Observed pre-treatment periods of a single-unit fit: its gap rows before the treatment time."""
    dg = doc.get("diagnostics") or {}
    if _f(dg.get("n_pre")) is not None:
        return int(_f(dg["n_pre"]))
    t0 = _f((doc.get("options") or {}).get("treat_time"))
    gaps = [g for g in (doc.get("gaps") or []) if _f(g.get("time")) is not None and _f(g.get("treated")) is not None]
    if t0 is None or not gaps:
        return None
    return sum(1 for g in gaps if _f(g["time"]) < t0)


def _single_unit_checks(doc: Mapping | None, name: str | None, *, scale, pre_sd, est, target, mv,
                        rubric) -> list[CheckResult]:
    """pre_fit, effective_donors, donor_similarity, hull, loo_stability of the weighting design."""
    if doc is None:
        why = "no synthetic-control-type design ran (ITS only)"
        return [not_applicable(d, why) for d in ("pre_fit", "effective_donors", "donor_similarity", "hull",
                                                  "loo_stability")]
    dg = doc.get("diagnostics") or {}
    sd = (scale.cross_unit_sd if scale is not None and scale.cross_unit_sd else None) or pre_sd
    sd_src = "measure catalogue (median yearly cross-unit SD)" if scale is not None and scale.cross_unit_sd else \
        "SD of the panel's untreated observations"
    se = scale.median_se if scale is not None else None
    out = [check_pre_fit(_f(dg.get("pre_rmspe")), cross_unit_sd=sd, own_sd_ratio=_f(dg.get("pre_rmspe_ratio_sd")),
                         median_se=se, source=name, rubric=rubric, n_pre=_n_pre(doc)),
           check_effective_donors(_f(dg.get("effective_donors")), n_donors=dg.get("n_donors"),
                                  top_donor=_top_donor(doc), rubric=rubric),
           check_donor_similarity(_f(dg.get("donor_distance")), cross_unit_sd=sd, rubric=rubric),
           check_hull(None if dg.get("outside_hull") is None else bool(dg.get("outside_hull")), rubric=rubric),
           check_loo_stability(dg.get("loo_range"), estimate=est, target=target, mie=mv, rubric=rubric)]
    return [replace(c, inputs={**c.inputs, "design": name, "cross_unit_sd_source": sd_src}) for c in out]


def grade_country(
    docs: Mapping[str, Mapping],
    *,
    measure: str,
    mie: float | MIE | None = None,
    pre_sd: float | None = None,
    family: Mapping | None = None,
    rubric=None,
) -> tuple[tuple[CheckResult, ...], Grade, dict | None]:
    """Checks and grade of a single-country finding; returns ``(checks, grade, headline)``.

    ``docs``: ``synth``, ``sdid``, ``its`` result JSON (and ``ascm`` when run) and
    ``cs_cohort`` (the country's cohort ATT).  The graded design is the first of
    synth, sdid, its that ran.  ``pre_sd`` is the SD of the outcome over all
    units before adoption (the large-effect upgrade; the cross-unit SD of a
    measure outside the catalogue).  Checks: placebo (in-space permutation),
    the synthetic comparison (pre_fit, effective_donors, donor_similarity, hull,
    loo_stability; Abadie 2021), agreement of SCM / ASCM / SDID / the CS cohort
    (consistency), precision against the MIE (declared or the measure's
    default), multiplicity; pretrend_power is not applicable (no pre-period
    coefficients with a sampling covariance).  The few-clusters rule is not
    applied: with one treated unit the inference is the in-space permutation.
    """
    head_name = next((n for n in COUNTRY_ORDER if ok(docs.get(n))), None)
    if head_name is None:
        return (), insufficient("no single-country design could be estimated (each design's reason is listed with it)",
                                rubric=rubric), None
    head = docs[head_name]
    m = _mie_of(mie, measure, pre_sd, rubric)
    mv = None if m is None else m.value
    try:
        scale = measure_scale(measure, rubric=rubric)
    except Exception:  # noqa: BLE001 - an unreadable source: the panel's own SD
        scale = None
    checks: list[CheckResult] = []
    syn = docs.get("synth")
    if ok(syn):
        pl = syn.get("placebo") or {}
        c = check_placebo(in_space_p=_f(pl.get("p_value")), n_donors=pl.get("n_placebos"), rubric=rubric)
        c = replace(c, inputs={**c.inputs, "source": "synth"})
    else:
        c = check_placebo(rubric=rubric)
        c = replace(c, inputs={**c.inputs, "source": None})
    checks.append(c)
    # the CI judged: the headline design's own, else the synthetic control's conformal CI (Chernozhukov,
    # Wuthrich & Zhu 2021) when it ran, else the next design with one
    cis = {n: docs[n] for n in (head_name, "sdid", "cs_cohort", "its") if ok(docs.get(n))}
    conf = (syn or {}).get("conformal") if ok(syn) else None
    if conf and _f(conf.get("ci_low")) is not None and _f(conf.get("ci_high")) is not None:
        cis = {head_name: cis[head_name], "synth conformal": {"estimate": _f(syn.get("estimate")),
                                                              "ci_low": conf["ci_low"], "ci_high": conf["ci_high"]},
               **cis}
    src = next((n for n, d in cis.items() if _f(d.get("ci_low")) is not None and _f(d.get("ci_high")) is not None),
               None)
    est = _f(head.get("estimate"))
    pr = _precision(cis[src] if src else None, m, rubric, src, estimate=est)  # target: the headline's side
    target = pr.inputs.get("target") or grade_target(est, mv)
    weighting = next((n for n in ("synth", "ascm", "sdid") if ok(docs.get(n))), None)
    checks += _single_unit_checks(docs.get(weighting) if weighting else None, weighting, scale=scale, pre_sd=pre_sd,
                                  est=_f(docs[weighting].get("estimate")) if weighting else est, target=target, mv=mv,
                                  rubric=rubric)
    robust = {n: _ci_row(docs[n]) for n in ("synth", "ascm", "sdid", "cs_cohort") if ok(docs.get(n))}
    cons = check_consistency(robust, rubric=rubric)
    checks.append(cons)
    checks.append(pr)
    checks.append(not_applicable("pretrend_power", "single-unit designs have no pre-period coefficients with a "
                                 "sampling covariance; the pre-period is judged by pre_fit"))
    checks.append(_multiplicity(measure, family, rubric))
    info = {"n_donors": (head.get("diagnostics") or {}).get("n_donors")} if head_name == "synth" else None
    large = is_large_effect(est, pre_sd, rubric=rubric)
    hl = {**headline_of(head_name, head), "pre_period_sd": pre_sd, "large_effect": bool(large),
          "ci_source": src, "mie": None if m is None else m.to_dict(), "horizon": _horizon(head)}
    if src and src != head_name:
        hl["ci"] = {"ci_low": _f(cis[src].get("ci_low")), "ci_high": _f(cis[src].get("ci_high")),
                    "estimate": _f(cis[src].get("estimate"))}
    g = grade(head_name, checks, large_effect=large, rubric=rubric, design_info=info, target=target,
              warnings=_conflicts(checks, {**hl, **(hl.get("ci") or {}), "estimate": est}, rubric))
    return tuple(checks), g, hl


def family_p(head: Mapping | None) -> float | None:
    """The p-value a finding contributes to the multiplicity family (synth: in-space placebo p)."""
    return None if not head else _f(head.get("p_value"))
