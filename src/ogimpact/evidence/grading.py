"""The grader: a pure function of check results and a versioned rubric file.

``grade`` starts from the design's base level (Maryland Scientific Methods
Scale ladder), adds each domain's summed check severities (floored at the
rubric's ``domain_floor``), adds the GRADE large-effect upgrade only when
nothing was downgraded, applies caps, clamps to [0, 4] and maps the score to
High / Moderate / Low / Very low / Insufficient.  Every step is written to
``reasons`` (e.g. ``"−1 parallel_trends: breakdown M̄*=0.4 (<0.5)"``; checks that passed as
``"ok domain: why"``, so the list is complete) and the
grade records the rubric's version and sha256, so a grade can be explained and
reproduced line by line.  ``pool_grades`` grades a body of evidence across
countries.

References
----------
Guyatt, G. H. et al. (2011). GRADE guidelines 9: rating up the quality of
evidence. *J Clin Epidemiol* 64, 1311-1316.
Madaleno, M., Waights, S. (2016). *Guide to scoring methods using the Maryland
Scientific Methods Scale.* What Works Centre for Local Economic Growth.
What Works Clearinghouse (2022). *Procedures and Standards Handbook* v5.0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import OgimpactError
from ..results import json_safe
from .checks import CheckResult, check_precision
from .rubric import DEFAULT_RUBRIC, Rubric, load_rubric

__all__ = ["Rubric", "Grade", "PooledGrade", "load_rubric", "grade", "pool_grades", "DEFAULT_RUBRIC"]

MINUS = "\u2212"


def _signed(x: int) -> str:
    return f"{MINUS}{abs(x)}" if x < 0 else f"+{x}" if x > 0 else "0"


@dataclass(frozen=True)
class Grade:
    """A graded (country, intervention, outcome) finding with its reasons."""

    design: str
    design_label: str
    sms: str
    base: int
    score: int
    grade: str
    reasons: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    domain_totals: Mapping[str, int] = field(default_factory=dict)
    upgrade: int = 0
    cap: int | None = None
    wwc_label: str = ""
    rubric_version: str = ""
    rubric_sha256: str = ""
    target: Mapping[str, Any] | None = None
    warnings: tuple[Mapping[str, str], ...] = ()

    @property
    def grade_target(self) -> dict | None:
        """``{kind, threshold, text}``: what the grade is a certainty about (Core GRADE 2)."""
        if self.target is None:
            return None
        return {k: self.target.get(k) for k in ("kind", "threshold", "direction", "text")}

    def to_dict(self) -> dict:
        return json_safe({
            "grade_target": self.grade_target, "warnings": [dict(w) for w in self.warnings],
            "design": self.design, "design_label": self.design_label, "sms": self.sms, "base": self.base,
            "checks": [c.to_dict() for c in self.checks], "domain_totals": dict(self.domain_totals),
            "upgrade": self.upgrade, "cap": self.cap, "score": self.score, "grade": self.grade,
            "reasons": list(self.reasons), "wwc_label": self.wwc_label,
            "rubric_version": self.rubric_version, "grading_yaml_sha": self.rubric_sha256,
        })

    def summary(self) -> str:
        about = f" — {self.target['text']}" if self.target and self.target.get("text") else ""
        return "\n".join([f"{self.grade} ({self.score}/4){about} — {self.design_label}"]
                         + [f"  {r}" for r in self.reasons]
                         + [f"  WARNING {w['code']}: {w['message']}" for w in self.warnings])


def _design(rub: Rubric, design_kind: str, design_info: Mapping | None) -> tuple[str, dict, int, str | None]:
    kind = str(design_kind).lower().strip()
    kind = str(rub.data.get("aliases", {}).get(kind, kind))
    designs = rub.data["designs"]
    if kind not in designs:
        known = sorted(set(designs) | set(rub.data.get("aliases", {})))
        raise OgimpactError(f"unknown design kind {design_kind!r}; use one of {', '.join(known)}.")
    d = dict(designs[kind])
    base, note = int(d["base"]), None
    info = dict(design_info or {})
    if "min_donors" in d and info.get("n_donors") is not None and info["n_donors"] < d["min_donors"]:
        base = int(d["below_min_base"])
        note = f"{info['n_donors']} donors (<{d['min_donors']})"
    if "min_first_stage_f" in d and info.get("first_stage_f") is not None and info["first_stage_f"] <= d["min_first_stage_f"]:
        base = int(d["below_min_base"])
        note = f"first-stage F={info['first_stage_f']:.3g} (<={d['min_first_stage_f']})"
    return kind, d, base, note


def grade(
    design_kind: str,
    checks: Iterable[CheckResult],
    *,
    large_effect: bool = False,
    rubric: str | Path | Rubric | Mapping | None = None,
    design_info: Mapping[str, Any] | None = None,
    target: Mapping[str, Any] | None = None,
    warnings: Sequence[Mapping[str, str]] = (),
) -> Grade:
    """Grade one finding from its design and check results.

    Parameters
    ----------
    design_kind : str
        A rubric design kind (``rct, rdd, iv, staggered_robust, sdid, synth,
        twfe, twfe_staggered, its, before_after_controls, cross_section``) or an
        ogimpact design name mapped by the rubric's ``aliases`` (``cs``,
        ``sun-abraham``, ``imputation``, ``event-study`` ...).
    checks : iterable of CheckResult
    large_effect : bool
        |effect| >= the rubric's ``large_effect_sd`` x pre-period SD (see
        :func:`ogimpact.evidence.checks.is_large_effect`): +1 when the base is
        at most ``max_base``, nothing was downgraded and no check blocks it.
    rubric : path, Rubric, dict or None
        The rubric (default: the packaged ``grading.yaml``).
    design_info : dict, optional
        ``n_donors`` (synthetic control) or ``first_stage_f`` (IV), which can
        lower the base as the rubric says.
    target : dict, optional
        :func:`ogimpact.evidence.checks.grade_target` of the finding (recorded).
    warnings : sequence of ``{code, message}``
        Conflicts the grade sits beside (:func:`ogimpact.evidence.headline.conflict_warnings`).

    Checks of the domains listed in the rubric's ``domain_groups`` (e.g. ``pretrend_power`` ->
    ``parallel_trends``) are summed with their group before the domain floor.

    Returns
    -------
    Grade
    """
    rub = load_rubric(rubric)
    checks = tuple(checks)
    for c in checks:
        if not isinstance(c, CheckResult):
            raise OgimpactError(f"grade() takes CheckResult objects, got {type(c).__name__}; build them with ogimpact.evidence.checks.")
    kind, d, base, base_note = _design(rub, design_kind, design_info)
    floor = int(rub.data["scale"]["domain_floor"])
    lo, hi = int(rub.data["scale"]["min"]), int(rub.data["scale"]["max"])
    reasons = [f"base {base} ({rub.label(base)}): {d.get('label', kind)} (SMS {d['sms']})"
               + (f"; lowered from {d['base']}: {base_note}" if base_note else "")]
    # domain totals (floored), checks of a grouped domain counted with their group
    groups = dict(rub.data.get("domain_groups") or {})

    def group(c: CheckResult) -> str:
        return str(groups.get(c.domain, c.domain))

    totals: dict[str, int] = {}
    for c in checks:
        totals[group(c)] = totals.get(group(c), 0) + int(c.severity)
    for dom in list(totals):
        totals[dom] = max(floor, totals[dom])
    present = {c.domain for c in checks} | {group(c) for c in checks}
    for req in d.get("requires", []) or []:
        if req not in present:
            sev = int(d.get("missing_required_severity", -1))
            totals[req] = max(floor, totals.get(req, 0) + sev)
            reasons.append(f"{_signed(sev)} {req}: required for {kind} but not run")
    for c in checks:
        if c.severity < 0:
            reasons.append(f"{_signed(c.severity)} {c.domain}: {c.reason}")
    for dom, tot in totals.items():
        raw = sum(c.severity for c in checks if group(c) == dom)
        if raw < floor:
            reasons.append(f"{_signed(tot - raw)} {dom}: domain total {raw} floored at {floor}")
    for c in checks:
        if c.severity == 0 and not c.passed:
            reasons.append(f"0 {c.domain}: {c.reason}")
    for c in checks:  # reasons complete: the checks that raised no concern say why, too
        if c.passed:
            reasons.append(f"ok {c.domain}: {c.reason}")
    down = sum(totals.values())
    up_rules = rub.data["upgrade"]
    upgrade = 0
    if large_effect:
        blockers = [c.domain for c in checks if c.blocks_upgrade]
        if down < 0 or any(c.severity < 0 for c in checks):
            reasons.append("0 large_effect: no upgrade because the evidence was downgraded")
        elif base > int(up_rules["max_base"]):
            reasons.append(f"0 large_effect: no upgrade above base {up_rules['max_base']}")
        elif blockers:
            reasons.append(f"0 large_effect: no upgrade ({', '.join(blockers)} forbids it)")
        else:
            upgrade = int(up_rules["amount"])
            reasons.append(f"{_signed(upgrade)} large_effect: |effect| >= {up_rules['large_effect_sd']} SD of the pre-period outcome, no downgrades")
    score = base + down + upgrade
    caps = [(c.cap, c.domain) for c in checks if c.cap is not None]
    cap = None
    if caps:
        cap, cap_dom = min(caps)
        if score > cap:
            reasons.append(f"cap {cap} ({rub.label(cap)}) {cap_dom}: score {score} capped")
            score = cap
    clamped = min(hi, max(lo, score))
    if clamped != score:
        reasons.append(f"score {score} clamped to [{lo}, {hi}]")
    wwc = rub.data.get("wwc", {})
    be = [c for c in checks if c.domain == "baseline_equivalence"]
    if not be or all(c.reason.startswith("not assessed") for c in be):
        wwc_label = wwc.get("not_assessed", "Not assessed")
    elif all(c.severity == 0 for c in be):
        wwc_label = wwc.get("rct_equivalent" if kind == "rct" else "qed_equivalent", "")
    else:
        wwc_label = wwc.get("not_equivalent", "")
    return Grade(
        design=kind, design_label=str(d.get("label", kind)), sms=str(d["sms"]), base=base, score=int(clamped),
        grade=rub.label(clamped), reasons=tuple(reasons), checks=checks, domain_totals=totals, upgrade=upgrade,
        cap=cap, wwc_label=wwc_label, rubric_version=rub.version, rubric_sha256=rub.sha256,
        target=None if target is None else dict(target), warnings=tuple(dict(w) for w in warnings),
    )


# ------------------------------------------------------------------ body of evidence
@dataclass(frozen=True)
class PooledGrade:
    """Grade of a body of evidence across countries."""

    score: int
    grade: str
    start: int
    country_scores: tuple[int, ...]
    reasons: tuple[str, ...]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    rubric_version: str = ""
    rubric_sha256: str = ""

    def to_dict(self) -> dict:
        return json_safe({"score": self.score, "grade": self.grade, "start": self.start,
                          "country_scores": list(self.country_scores), "reasons": list(self.reasons),
                          "inputs": dict(self.inputs), "rubric_version": self.rubric_version,
                          "grading_yaml_sha": self.rubric_sha256})


def _score_of(g, rub: Rubric) -> int:
    if isinstance(g, Grade):
        return g.score
    if isinstance(g, (int, np.integer)) and not isinstance(g, bool):
        return int(g)
    inv = {v.lower(): k for k, v in rub.data["scale"]["labels"].items()}
    if isinstance(g, str) and g.lower() in inv:
        return inv[g.lower()]
    raise OgimpactError(f"cannot read a grade from {g!r}; pass Grade objects, scores 0-4 or grade labels.")


def pool_grades(
    grades: Sequence[Grade | int | str],
    *,
    meta=None,
    i2: float | None = None,
    country_cis: Sequence[tuple[float, float]] | None = None,
    pooled_ci: tuple[float, float] | None = None,
    mie: float | None = None,
    n_declared: int | None = None,
    n_reported: int | None = None,
    rubric: str | Path | Rubric | Mapping | None = None,
    estimates: Sequence[float] | None = None,
    ses: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
) -> PooledGrade:
    """Grade the body of evidence across countries (rubric section 2.3).

    Start from the (lower) median country grade; -1 if I2 > ``max_i2`` or the
    country CIs point in opposite directions (one entirely above 0, another
    entirely below); -1 if the pooled CI fails the MIE precision rule; -1 for
    selective reporting when fewer runs are reported than were declared.

    Parameters
    ----------
    grades : sequence of Grade, int or label
    meta : MetaResult, optional
        Supplies ``i2``, the country CIs (its study rows) and the pooled CI.
    i2, country_cis, pooled_ci : optional
        Given directly (override ``meta``).
    mie : float, optional
        Minimum important effect on the pooled scale.
    n_declared, n_reported : int, optional
        Runs declared in the manifest vs runs reported.
    estimates, ses, labels : optional
        The country (or cohort) effects themselves: pooled here by REML with a
        Hartung–Knapp–Sidik–Jonkman CI and a t(k−2) prediction interval
        (:func:`ogimpact.evidence.pooling.pool_for_grade`), which supply I², the country
        CIs and the pooled CI unless given directly.
    """
    rub = load_rubric(rubric)
    if len(grades) == 0:
        raise OgimpactError("pool_grades needs at least one country grade.")
    rules = rub.data["body_of_evidence"]
    scores = sorted(_score_of(g, rub) for g in grades)
    start = int(scores[(len(scores) - 1) // 2])  # lower median
    pooled = None
    if estimates is not None and ses is not None and meta is None:
        from .pooling import pool_for_grade

        pooled = pool_for_grade(estimates, ses, labels=labels)
        i2 = pooled["i2"] if i2 is None else i2
        if country_cis is None:
            country_cis = [(r["ci_low"], r["ci_high"]) for r in pooled["studies"]]
        if pooled_ci is None:
            pooled_ci = (pooled["ci_low"], pooled["ci_high"])
    if meta is not None:
        i2 = meta.i2 if i2 is None else i2
        if country_cis is None:
            country_cis = [(s["ci_low"], s["ci_high"]) for s in meta.studies]
        if pooled_ci is None:
            pooled_ci = (meta.ci_low, meta.ci_high)
    reasons = [f"start {start} ({rub.label(start)}): lower median of {len(scores)} country grade(s) {scores}"]
    score = start
    het = []
    if i2 is not None and i2 > rules["max_i2"]:
        het.append(f"I2={i2:.1f}% (>{rules['max_i2']}%)")
    if country_cis:
        above = any(lo > 0 for lo, hi in country_cis)
        below = any(hi < 0 for lo, hi in country_cis)
        if above and below:
            het.append("country CIs point in opposite directions")
    if het:
        sev = int(rules["heterogeneity_severity"])
        score += sev
        reasons.append(f"{_signed(sev)} inconsistency: " + "; ".join(het))
    prec = None
    if pooled_ci is not None:
        prec = check_precision(pooled_ci[0], pooled_ci[1], mie, rubric=rub)
        if prec.severity < 0:
            sev = int(rules["imprecision_severity"])
            score += sev
            reasons.append(f"{_signed(sev)} imprecision: pooled {prec.reason}")
        elif not prec.passed:
            reasons.append(f"0 imprecision: {prec.reason}")
    if n_declared is not None and n_reported is not None and n_reported < n_declared:
        sev = int(rules["selective_reporting_severity"])
        score += sev
        reasons.append(f"{_signed(sev)} selective_reporting: {n_reported} of {n_declared} declared runs reported")
    lo, hi = int(rub.data["scale"]["min"]), int(rub.data["scale"]["max"])
    clamped = min(hi, max(lo, score))
    if clamped != score:
        reasons.append(f"score {score} clamped to [{lo}, {hi}]")
    return PooledGrade(
        score=clamped, grade=rub.label(clamped), start=start, country_scores=tuple(scores), reasons=tuple(reasons),
        inputs={"i2": i2, "pooled_ci": pooled_ci, "mie": mie, "n_declared": n_declared, "n_reported": n_reported,
                "precision": None if prec is None else prec.to_dict(),
                "pooled": None if pooled is None else {k: v for k, v in pooled.items() if k != "studies"}},
        rubric_version=rub.version, rubric_sha256=rub.sha256,
    )
