"""Evidence checks: one small pure function per rubric domain.

Each function takes plain numbers / dicts (never a whole estimator), reads its
thresholds from the rubric file (``grading.yaml``, see
:func:`ogimpact.evidence.grading.load_rubric`) and returns a
:class:`CheckResult` ``(domain, passed, severity, inputs, reason)``.
Severities are 0, -1 or -2 and a domain's total is floored at the rubric's
``domain_floor``.  A check whose inputs are missing returns severity 0,
``passed=False`` and a reason starting with "not assessed".

Domains follow GRADE's risk-of-bias / inconsistency / imprecision /
indirectness headings (Guyatt et al. 2011, *J Clin Epidemiol* 64, 383-394),
the What Works Clearinghouse baseline-equivalence standard (WWC Procedures
and Standards Handbook v5.0, 2022), Rambachan & Roth (2023, *REStud* 90,
2555-2591) for the breakdown M̄*, Roth (2022, *AER: Insights* 4, 305-322) on
pre-test power, Cameron, Gelbach & Miller (2008) and MacKinnon & Webb (2018)
for few clusters, Abadie, Diamond & Hainmueller (2010) for permutation
placebos and Romano & Wolf (2005) for multiplicity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import OgimpactError
from ..results import json_safe

__all__ = [
    "CheckResult",
    "check_parallel_trends",
    "check_few_clusters",
    "check_placebo",
    "check_consistency",
    "check_baseline_equivalence",
    "check_precision",
    "check_multiplicity",
    "check_indirectness",
    "hedges_g",
    "is_large_effect",
    "grade_target",
    "DOMAINS",
]

DOMAINS = (
    "parallel_trends",
    "few_clusters",
    "placebo",
    "consistency",
    "baseline_equivalence",
    "precision",
    "multiplicity",
    "indirectness",
    "pretrend_power",
    "pre_fit",
    "effective_donors",
    "donor_similarity",
    "hull",
    "loo_stability",
)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one rubric domain check.

    Parameters
    ----------
    domain : str
        Rubric domain (one of :data:`DOMAINS`).
    passed : bool
        True when the check raised no concern.
    severity : int
        0, -1 or -2: the grade change this check asks for.
    inputs : dict
        The numbers the check used (and the thresholds it compared them with).
    reason : str
        One line saying why, e.g. ``"breakdown M̄*=0.4 (<0.5)"``.
    blocks_upgrade : bool
        The check forbids the large-effect upgrade (e.g. an underpowered SC placebo).
    cap : int, optional
        Highest score the grade may take (e.g. 2 = Low when G1 <= 2).
    """

    domain: str
    passed: bool
    severity: int
    inputs: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    blocks_upgrade: bool = False
    cap: int | None = None

    def __post_init__(self):
        if self.severity not in (0, -1, -2):
            raise OgimpactError(f"check severity must be 0, -1 or -2, not {self.severity!r}.")
        object.__setattr__(self, "inputs", dict(self.inputs))

    def to_dict(self) -> dict:
        d = {"domain": self.domain, "passed": bool(self.passed), "severity": int(self.severity),
             "inputs": dict(self.inputs), "reason": self.reason}
        if self.blocks_upgrade:
            d["blocks_upgrade"] = True
        if self.cap is not None:
            d["cap"] = int(self.cap)
        return json_safe(d)


# --------------------------------------------------------------------------- helpers
def _rules(rubric, domain: str) -> tuple[dict, int]:
    from .rubric import load_rubric

    r = load_rubric(rubric)
    try:
        return dict(r.data["checks"][domain]), int(r.data["scale"]["domain_floor"])
    except KeyError as exc:
        raise OgimpactError(f"the rubric has no 'checks.{domain}' section; restore it in grading.yaml.") from exc


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError) as exc:
        raise OgimpactError(f"expected a number, got {x!r}; pass a float or None.") from exc
    return v if np.isfinite(v) else None


def _fmt(x) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def _finish(domain, parts: list[tuple[int | None, str]], floor: int, inputs: dict, ok_reason: str, **kw) -> CheckResult:
    """Combine (severity, text) parts: severity < 0 downgrades, 0 is a flag
    (passed=False, no grade change), None is a note (neither)."""
    sev = max(floor, sum(s for s, _ in parts if s))
    concerns = [t for s, t in parts if s is not None and s < 0]
    flags = [t for s, t in parts if s == 0]
    notes = [t for s, t in parts if s is None]
    reason = "; ".join(concerns + flags + notes) if (concerns or flags) else "; ".join([ok_reason] + notes)
    return CheckResult(domain, sev == 0 and not flags, int(sev), inputs, reason, **kw)


def _not_assessed(domain: str, inputs: dict, why: str) -> CheckResult:
    return CheckResult(domain, False, 0, inputs, f"not assessed: {why}")


# --------------------------------------------------------------------------- domains
def check_parallel_trends(
    pretest_p: float | None,
    breakdown_mbar: float | None,
    *,
    pretest_power: float | None = None,
    max_pre: float | None = None,
    reference: float | None = None,
    reference_kind: str = "estimate",
    breakdown_note: str | None = None,
    rubric=None,
) -> CheckResult:
    """Parallel trends: joint pre-test p, HonestDiD breakdown M̄* and the largest pre-period coefficient.

    p < ``pretest_alpha`` -> -1, waived when M̄* >= ``waive_if_breakdown_at_least``;
    M̄* < ``breakdown_min`` -> -1; the largest |pre-period coefficient| ``max_pre`` at least
    ``max_pre_ratio`` x ``reference`` (|post estimate| for an effect target, the MIE for a
    no-effect target: ``reference_kind``) -> -1, because a post-period violation that large
    (M̄ = 1, Rambachan & Roth 2023) would produce, or hide, the whole effect.
    ``breakdown_note`` says why M̄* is not a number (e.g. "not applicable: the CI already covers
    0"); it is then never reported as one.  ``pretest_power`` is recorded (Roth 2022).
    """
    r, floor = _rules(rubric, "parallel_trends")
    p, m, pw = _num(pretest_p), _num(breakdown_mbar), _num(pretest_power)
    mx, ref = _num(max_pre), _num(reference)
    ratio_min = float(r.get("max_pre_ratio", 1.0))
    inputs = {"pretest_p": p, "breakdown_mbar": m, "pretest_power": pw, "pretest_alpha": r["pretest_alpha"],
              "breakdown_min": r["breakdown_min"], "waive_if_breakdown_at_least": r["waive_if_breakdown_at_least"],
              "max_abs_pre": mx, "max_pre_reference": ref, "max_pre_reference_kind": reference_kind,
              "max_pre_ratio_min": ratio_min}
    if breakdown_note:
        inputs["breakdown"] = breakdown_note
    if p is None and m is None and mx is None:
        return _not_assessed("parallel_trends", inputs, "no pre-trend test or breakdown M̄* (no pre-periods?)")
    parts: list[tuple[int | None, str]] = []
    if p is not None and p < r["pretest_alpha"]:
        if m is not None and m >= r["waive_if_breakdown_at_least"]:
            parts.append((None, f"pre-test p={_fmt(p)} (<{r['pretest_alpha']}) waived: breakdown M̄*={_fmt(m)} "
                             f"(>={r['waive_if_breakdown_at_least']})"))
        else:
            parts.append((int(r["pretest_severity"]), f"pre-test p={_fmt(p)} (<{r['pretest_alpha']})"))
    if m is not None and m < r["breakdown_min"]:
        parts.append((int(r["breakdown_severity"]), f"breakdown M̄*={_fmt(m)} (<{r['breakdown_min']})"))
    if m is None:
        parts.append((None, f"breakdown M̄* {breakdown_note}") if breakdown_note and breakdown_note.startswith(
            "not applicable") else (0, "breakdown M̄* not computed" + (f": {breakdown_note}" if breakdown_note else "")))
    if mx is not None and ref is not None and ref > 0:
        ratio = mx / ref
        inputs["max_pre_ratio"] = ratio
        what = "|post estimate|" if reference_kind == "estimate" else "the MIE"
        if ratio >= ratio_min:
            parts.append((int(r.get("max_pre_severity", -1)),
                          f"largest pre-period coefficient |{_fmt(mx)}| = {_fmt(ratio)} x {what} {_fmt(ref)} "
                          f"(>={ratio_min:g})"))
        else:
            parts.append((None, f"largest pre-period coefficient |{_fmt(mx)}| = {_fmt(ratio)} x {what}"))
    if pw is not None and pw < 0.5:
        parts.append((None, f"pre-test power {_fmt(pw)} is low: a passed pre-test is weak evidence"))
    ok = ", ".join(t for t in (f"pre-test p={_fmt(p)}" if p is not None else "",
                               f"breakdown M̄*={_fmt(m)}" if m is not None else "") if t)
    return _finish("parallel_trends", parts, floor, inputs, ok or "parallel trends not contradicted")


def check_few_clusters(
    n_clusters: int | None,
    n_treated_clusters: int | None,
    *,
    p_crve: float | None = None,
    p_wcb: float | None = None,
    p_permutation: float | None = None,
    rubric=None,
) -> CheckResult:
    """Few clusters: with G < ``min_clusters`` or G1 < ``min_treated_clusters`` the
    wild-cluster-bootstrap p is the headline p; significant under CRVE but not
    under WCB -> -1; G1 <= ``permutation_only_max_treated`` -> permutation /
    randomisation inference only, grade capped at ``permutation_only_cap``.
    ``inputs['headline_p']`` names the p-value to report.
    """
    r, floor = _rules(rubric, "few_clusters")
    G, G1 = _num(n_clusters), _num(n_treated_clusters)
    pc, pw, pp = _num(p_crve), _num(p_wcb), _num(p_permutation)
    inputs = {"n_clusters": G, "n_treated_clusters": G1, "p_crve": pc, "p_wcb": pw, "p_permutation": pp,
              "min_clusters": r["min_clusters"], "min_treated_clusters": r["min_treated_clusters"],
              "alpha": r["alpha"]}
    if G is None:
        return _not_assessed("few_clusters", inputs, "number of clusters unknown")
    few = G < r["min_clusters"] or (G1 is not None and G1 < r["min_treated_clusters"])
    parts: list[tuple[int | None, str]] = []
    cap = None
    a = r["alpha"]
    if G1 is not None and G1 <= r["permutation_only_max_treated"]:
        cap = int(r["permutation_only_cap"])
        inputs["headline_p"] = "permutation"
        parts.append((0, f"G1={int(G1)} treated clusters (<={r['permutation_only_max_treated']}): permutation "
                         f"inference only, grade capped at {cap}"))
        if pp is not None and pc is not None and pc < a <= pp:
            parts.append((int(r["crve_not_wcb_severity"]),
                          f"significant under CRVE (p={_fmt(pc)}) but not by permutation (p={_fmt(pp)})"))
    elif few:
        inputs["headline_p"] = "wcb"
        if pw is None:
            parts.append((int(r["missing_wcb_severity"]),
                          f"G={int(G)}, G1={G1 if G1 is None else int(G1)} (few clusters) and no wild cluster bootstrap p"))
        elif pc is not None and pc < a <= pw:
            parts.append((int(r["crve_not_wcb_severity"]),
                          f"significant under CRVE (p={_fmt(pc)}) but not under WCB (p={_fmt(pw)}) with G={int(G)}"))
    else:
        inputs["headline_p"] = "crve"
    ok = f"G={int(G)}" + (f", G1={int(G1)}" if G1 is not None else "") + f"; headline p: {inputs['headline_p']}"
    res = _finish("few_clusters", parts, floor, inputs, ok, cap=cap)
    return res


def check_placebo(
    *,
    in_time_p: float | None = None,
    in_space_p: float | None = None,
    n_donors: int | None = None,
    pre_rmspe: float | None = None,
    outcome_sd: float | None = None,
    rubric=None,
) -> CheckResult:
    """Placebos: in-time placebo significant -> -1; SC in-space permutation with
    J < ``min_donors_for_5pct`` donors is underpowered (flag, blocks the
    upgrade); pre-treatment RMSPE > ``max_pre_rmspe_sd`` x SD(outcome) -> -1.
    """
    r, floor = _rules(rubric, "placebo")
    pt, ps, J = _num(in_time_p), _num(in_space_p), _num(n_donors)
    rm, sd = _num(pre_rmspe), _num(outcome_sd)
    inputs = {"in_time_p": pt, "in_space_p": ps, "n_donors": J, "pre_rmspe": rm, "outcome_sd": sd,
              "alpha": r["alpha"], "min_donors_for_5pct": r["min_donors_for_5pct"],
              "max_pre_rmspe_sd": r["max_pre_rmspe_sd"]}
    if pt is None and ps is None and J is None and rm is None:
        return _not_assessed("placebo", inputs, "no placebo was run")
    parts: list[tuple[int | None, str]] = []
    blocks = False
    if pt is not None and pt < r["alpha"]:
        parts.append((int(r["significant_severity"]), f"in-time placebo significant (p={_fmt(pt)} <{r['alpha']})"))
    if J is not None and J < r["min_donors_for_5pct"]:
        blocks = True
        parts.append((0, f"in-space permutation underpowered: J={int(J)} donors (<{r['min_donors_for_5pct']}) "
                         f"cannot reach p<=0.05"))
    if rm is not None and sd is not None and sd > 0:
        ratio = rm / sd
        inputs["pre_rmspe_sd_ratio"] = ratio
        if ratio > r["max_pre_rmspe_sd"]:
            parts.append((int(r["pre_rmspe_severity"]),
                          f"pre-treatment RMSPE {_fmt(rm)} = {_fmt(ratio)} SD (>{r['max_pre_rmspe_sd']})"))
    ok = "placebos pass" + (f" (in-time p={_fmt(pt)})" if pt is not None else "")
    return _finish("placebo", parts, floor, inputs, ok, blocks_upgrade=blocks)


def check_consistency(
    robust: Mapping[str, Mapping[str, float]],
    *,
    twfe: Mapping[str, float] | None = None,
    rubric=None,
) -> CheckResult:
    """Consistency across estimators.

    Parameters
    ----------
    robust : dict name -> {estimate, se[, ci_low, ci_high]}
        Heterogeneity-robust estimators (CS, SA, BJS/did2s, SDiD ...).
    twfe : {estimate}, optional
        The TWFE estimate: outside every robust CI -> flagged (heterogeneity
        bias; grade from the robust estimators only).

    Rules: robust signs disagree -> -2 (when ``sign_disagreement_requires_significant``, only if
    some estimator's CI excludes 0: the signs of a null's noise carry no information); spread
    (max - min) > ``max_spread_se`` x the median robust SE -> -1.
    """
    r, floor = _rules(rubric, "consistency")
    rows = {str(k): {kk: _num(vv) for kk, vv in dict(v).items()} for k, v in dict(robust or {}).items()}
    rows = {k: v for k, v in rows.items() if v.get("estimate") is not None}
    tw = None if twfe is None else _num(dict(twfe).get("estimate"))
    inputs: dict[str, Any] = {"robust": rows, "twfe": tw, "max_spread_se": r["max_spread_se"]}
    if not rows:
        return _not_assessed("consistency", inputs, "no heterogeneity-robust estimate")
    est = np.array([v["estimate"] for v in rows.values()])
    ses = np.array([v.get("se") for v in rows.values() if v.get("se") is not None], dtype=float)
    parts: list[tuple[int | None, str]] = []
    signs = set(np.sign(est[est != 0]).tolist())
    # a sign disagreement among nulls is noise: it counts when some estimator's CI excludes 0
    # (estimators without a CI count as significant only when none has one)
    cis = [(v.get("ci_low"), v.get("ci_high")) for v in rows.values()]
    with_ci = [(lo, hi) for lo, hi in cis if lo is not None and hi is not None]
    significant = any(lo > 0 or hi < 0 for lo, hi in with_ci) if with_ci else True
    if not r.get("sign_disagreement_requires_significant", True):
        significant = True
    inputs["sign_disagreement"] = bool(len(signs) > 1 and significant)
    if len(signs) > 1 and not significant:
        parts.append((None, "signs differ but every CI covers 0 (no sign to disagree on)"))
    if len(signs) > 1 and significant:
        parts.append((int(r["sign_disagreement_severity"]),
                      "robust estimators disagree in sign (" + ", ".join(f"{k} {_fmt(v['estimate'])}" for k, v in rows.items()) + ")"))
    if len(est) > 1 and len(ses):
        spread, se_ref = float(est.max() - est.min()), float(np.median(ses))
        inputs.update(spread=spread, se_ref=se_ref)
        if se_ref > 0 and spread > r["max_spread_se"] * se_ref:
            parts.append((int(r["spread_severity"]),
                          f"spread of robust estimates {_fmt(spread)} = {_fmt(spread / se_ref)} SE (>{r['max_spread_se']})"))
    if tw is not None:
        cis = [(v.get("ci_low"), v.get("ci_high")) for v in rows.values()]
        cis = [(lo, hi) for lo, hi in cis if lo is not None and hi is not None]
        if cis and all(not (lo <= tw <= hi) for lo, hi in cis):
            inputs["twfe_outside_robust_ci"] = True
            parts.append((int(r["twfe_outside_ci_severity"]),
                          f"TWFE {_fmt(tw)} outside the robust CIs: heterogeneity bias, graded from robust estimators only"))
        else:
            inputs["twfe_outside_robust_ci"] = False
    ok = f"{len(rows)} robust estimator(s) agree in sign and within {r['max_spread_se']} SE"
    return _finish("consistency", parts, floor, inputs, ok)


def hedges_g(treated: Sequence[float], control: Sequence[float]) -> float:
    """Hedges' g: standardised mean difference with the small-sample correction
    ``1 - 3 / (4 (n1 + n2) - 9)`` (WWC Handbook v5.0, eq. E.1-E.2)."""
    x1 = np.asarray(treated, float)
    x0 = np.asarray(control, float)
    x1, x0 = x1[np.isfinite(x1)], x0[np.isfinite(x0)]
    n1, n0 = len(x1), len(x0)
    if n1 < 2 or n0 < 2:
        raise OgimpactError("Hedges' g needs at least two treated and two control values.")
    sp = np.sqrt(((n1 - 1) * x1.var(ddof=1) + (n0 - 1) * x0.var(ddof=1)) / (n1 + n0 - 2))
    if sp == 0:
        return 0.0 if x1.mean() == x0.mean() else float(np.sign(x1.mean() - x0.mean()) * np.inf)
    return float((1 - 3 / (4 * (n1 + n0) - 9)) * (x1.mean() - x0.mean()) / sp)


def check_baseline_equivalence(
    hedges: float | Mapping[str, float] | None,
    *,
    adjusted: bool,
    unit_fe: bool,
    rubric=None,
) -> CheckResult:
    """Baseline equivalence (WWC): the largest |Hedges' g| over pre-period
    outcome levels and covariates.  <= ``max_g_ok``: equivalent; up to
    ``max_g_adjust``: OK only if the model adjusts (FE or DiD count); above it
    with no unit fixed effects -> -1 (with unit FE: flagged)."""
    r, floor = _rules(rubric, "baseline_equivalence")
    gs = dict(hedges) if isinstance(hedges, Mapping) else ({"outcome": hedges} if hedges is not None else {})
    gs = {k: _num(v) for k, v in gs.items() if _num(v) is not None}
    inputs: dict[str, Any] = {"hedges_g": gs, "adjusted": bool(adjusted), "unit_fe": bool(unit_fe),
                              "max_g_ok": r["max_g_ok"], "max_g_adjust": r["max_g_adjust"]}
    if not gs:
        return _not_assessed("baseline_equivalence", inputs, "no baseline Hedges' g")
    name = max(gs, key=lambda k: abs(gs[k]))
    g = abs(gs[name])
    inputs["max_abs_g"] = g
    parts: list[tuple[int | None, str]] = []
    if g > r["max_g_adjust"]:
        if unit_fe:
            parts.append((0, f"|g|={_fmt(g)} on {name} (>{r['max_g_adjust']}) absorbed only by unit fixed effects"))
        else:
            parts.append((int(r["large_no_fe_severity"]), f"|g|={_fmt(g)} on {name} (>{r['max_g_adjust']}) with no unit FE"))
    elif g > r["max_g_ok"] and not (adjusted or unit_fe):
        parts.append((int(r["unadjusted_severity"]),
                      f"|g|={_fmt(g)} on {name} ({r['max_g_ok']}-{r['max_g_adjust']}) and the model does not adjust"))
    ok = f"max |g|={_fmt(g)} ({name})" + (" with adjustment" if g > r["max_g_ok"] else "")
    return _finish("baseline_equivalence", parts, floor, inputs, ok)


def grade_target(estimate: float | None, mie: float | None) -> dict | None:
    """What a grade is about (Core GRADE 2, Guyatt et al. 2025): the point estimate's side of the MIE.

    |estimate| >= MIE -> ``{"kind": "effect", "threshold": MIE, "direction": "increase"|"decrease"}``:
    "certainty that there is an effect of at least MIE"; otherwise ``"no_effect"``: "certainty that
    there is no effect larger than MIE".  Without an MIE the target is a non-zero effect (threshold 0)
    when the estimate is non-zero.
    """
    e, m = _num(estimate), _num(mie)
    if e is None:
        return None
    direction = "increase" if e > 0 else "decrease" if e < 0 else None
    if m is None or m <= 0:
        return {"kind": "effect", "threshold": 0.0, "direction": direction,
                "text": "certainty that there is an effect (no minimum important effect declared)"}
    if abs(e) >= m:
        return {"kind": "effect", "threshold": m, "direction": direction,
                "text": f"certainty that there is an effect of at least {m:.3g} (an {direction})"
                if direction == "increase" else f"certainty that there is an effect of at least {m:.3g} (a {direction})"}
    return {"kind": "no_effect", "threshold": m, "direction": None,
            "text": f"certainty that there is no effect larger than {m:.3g}"}


def check_precision(ci_low: float | None, ci_high: float | None, mie: float | None, *, estimate: float | None = None,
                    mie_rule: str | None = None, mie_inputs: Mapping | None = None, rubric=None) -> CheckResult:
    """Imprecision against the minimum important effect (MIE > 0), Core GRADE 2 style.

    The target (:func:`grade_target`, from ``estimate`` or the CI midpoint) is "an effect of at
    least MIE" or "no effect larger than MIE".  Effect target: the CI crosses the MIE toward 0 ->
    ``crosses_one_severity``; it also reaches -MIE on the other side -> ``crosses_both_severity``.
    No-effect target: the CI crosses +MIE or -MIE -> ``crosses_one_severity``; both ->
    ``crosses_both_severity``.  A CI wider than ``max_width_mie`` x MIE -> ``width_severity``.
    ``inputs`` carry the MIE, its rule and the target.
    """
    r, floor = _rules(rubric, "precision")
    lo, hi, m = _num(ci_low), _num(ci_high), _num(mie)
    inputs = {"ci_low": lo, "ci_high": hi, "mie": m, "mie_rule": mie_rule, "max_width_mie": r["max_width_mie"]}
    if mie_inputs:
        inputs["mie_inputs"] = dict(mie_inputs)
    if lo is None or hi is None:
        return _not_assessed("precision", inputs, "no confidence interval")
    if m is None:
        return _not_assessed("precision", inputs, "no minimum important effect declared for this outcome")
    if m <= 0:
        raise OgimpactError(f"the minimum important effect must be positive, not {m}; declare |MIE| in the outcome units.")
    est = _num(estimate)
    est = (lo + hi) / 2 if est is None else est
    target = grade_target(est, m)
    inputs["estimate"] = est
    inputs["target"] = target
    width = hi - lo
    inputs["width_mie"] = width / m
    one, both = int(r.get("crosses_one_severity", -1)), int(r.get("crosses_both_severity", -2))
    parts: list[tuple[int | None, str]] = []
    ci = f"CI [{_fmt(lo)}, {_fmt(hi)}]"
    if target["kind"] == "effect":
        s = 1.0 if est > 0 else -1.0
        near, far = (lo, hi) if s > 0 else (-hi, -lo)  # bounds on the side of the estimate
        if near < m:
            if near <= -m:
                parts.append((both, f"{ci} reaches important effects in both directions (MIE {_fmt(m)})"))
            else:
                parts.append((one, f"{ci} includes effects smaller than the MIE {_fmt(m)}"
                                   + (" and no effect" if near <= 0 else "")))
    else:
        up, down = hi >= m, lo <= -m
        if up and down:
            parts.append((both, f"{ci} includes important effects in both directions (beyond ±MIE {_fmt(m)})"))
        elif up or down:
            parts.append((one, f"{ci} includes an important {'increase' if up else 'decrease'} (beyond "
                               f"{'+' if up else '-'}MIE {_fmt(m)})"))
    if width > r["max_width_mie"] * m:
        parts.append((int(r["width_severity"]), f"CI width {_fmt(width)} = {_fmt(width / m)} x MIE (>{r['max_width_mie']})"))
    ok = (f"{ci} excludes effects smaller than the MIE {_fmt(m)}" if target["kind"] == "effect"
          else f"{ci} lies within ±MIE {_fmt(m)}")
    return _finish("precision", parts, floor, inputs, ok)


def check_multiplicity(
    p_raw: float | None, p_adjusted: float | None, *, method: str = "romano-wolf", rubric=None
) -> CheckResult:
    """Multiplicity: significant at ``alpha`` raw but not after the family-wise
    adjustment (Romano–Wolf across the outcome family) -> -1."""
    r, floor = _rules(rubric, "multiplicity")
    p, pa = _num(p_raw), _num(p_adjusted)
    inputs = {"p_raw": p, "p_adjusted": pa, "method": method, "alpha": r["alpha"]}
    if p is None or pa is None:
        return _not_assessed("multiplicity", inputs, "no adjusted p-value (single outcome or family not run)")
    parts = []
    if p < r["alpha"] <= pa:
        parts.append((int(r["severity"]), f"significant raw (p={_fmt(p)}) but not after {method} (p={_fmt(pa)})"))
    return _finish("multiplicity", parts, floor, inputs, f"raw p={_fmt(p)}, {method} p={_fmt(pa)}")


def check_indirectness(
    *, proxy_outcome: bool = False, commitment_not_implementation: bool = False, note: str | None = None, rubric=None
) -> CheckResult:
    """Indirectness as declared in the parameters: the outcome is a proxy, or
    the treatment is the adoption of a commitment rather than its
    implementation -> ``severity`` (once)."""
    r, floor = _rules(rubric, "indirectness")
    inputs = {"proxy_outcome": bool(proxy_outcome), "commitment_not_implementation": bool(commitment_not_implementation),
              "note": note}
    what = [w for w, flag in (("outcome is a proxy", proxy_outcome),
                              ("treatment is commitment adoption, not implementation", commitment_not_implementation)) if flag]
    parts = [(int(r["severity"]), "; ".join(what) + (f" ({note})" if note else ""))] if what else []
    return _finish("indirectness", parts, floor, inputs, "direct outcome and treatment (as declared)")


def is_large_effect(effect: float | None, pre_sd: float | None, *, rubric=None) -> bool:
    """|effect| >= ``upgrade.large_effect_sd`` x SD of the pre-period outcome."""
    from .rubric import load_rubric

    e, sd = _num(effect), _num(pre_sd)
    if e is None or sd is None or sd <= 0:
        return False
    return abs(e) >= float(load_rubric(rubric).data["upgrade"]["large_effect_sd"]) * sd
