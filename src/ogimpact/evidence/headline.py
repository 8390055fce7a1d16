"""The sentences a reader can quote: the wording rules of every headline, in one place.

One sentence per country × intervention × measure (:func:`finding_sentence`) and one per report
(:func:`report_sentence`), built only from numbers the assessment already holds: the estimate,
its 95% CI, the estimand, the grade, what the grade is about (``grade_target``, Core GRADE 2:
Guyatt et al. 2025, *BMJ* 389:e081904) and the strongest reason.  For example::

    Low-certainty evidence that Chile's 2008 RTI law did not change WGI Control of Corruption by
    more than 0.2 (the average post-adoption effect: −0.03; 95% CI −0.19 to 0.12; synthetic control,
    placebo p = 0.84): the synthetic comparison relies on dissimilar donors.

Rules
-----
* certainty first: "<Grade>-certainty evidence that …"; Insufficient → "Insufficient evidence on
  whether … changed …", never a direction;
* the claim follows the target: effect → "increased/decreased <measure> by at least X"
  (X = 0 → no size is claimed), no effect → "did not change <measure> by more than X";
* the subject is "<Country>'s <year> <intervention>" for one country, "<intervention> adoption"
  across countries; an estimand over event times 0..H adds "within H years of adoption";
* thresholds (the MIE) with two significant digits; numbers: U+2212 minus, decimals chosen from the largest of |estimate|, |CI bounds| (two
  significant digits of it), "95% CI a to b", the design's plain name and its p-value (synthetic
  control: the in-space placebo p); a CI taken from another design is quoted after the headline design,
  with that design's name and its own estimate ("…; Callaway–Sant'Anna cohort ATT −0.03, 95% CI −0.23 to
  0.17"), so no estimate is printed beside an interval that is not its own;
* the reason is the check that lowered the grade most (ties: the first), as the check wrote it;
  with no downgrade, the design is the reason.

:func:`conflict_warnings` turns the conflicts a headline number must not hide (a failed
pre-test, robust estimators of opposite sign, a fragile donor pool) into ``{code, message}``
warnings (codes ``pretrend_conflict``, ``estimator_sign_conflict``, ``fragile_donor_pool``).
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from ..parse import finite_or_none as _f

__all__ = ["finding_sentence", "report_sentence", "headline_for", "strongest_reason", "conflict_warnings",
           "fmt_number", "fmt_threshold", "DESIGN_NAMES", "DEFAULT_ESTIMAND"]

MINUS = "\u2212"
DEFAULT_ESTIMAND = "the average post-adoption effect"

#: plain names of designs in sentences
DESIGN_NAMES = {
    "synth": "synthetic control", "ascm": "augmented synthetic control", "sdid": "synthetic difference-in-differences",
    "its": "interrupted time series", "cs": "Callaway–Sant'Anna", "sun-abraham": "Sun–Abraham",
    "imputation": "imputation (Borusyak–Jaravel–Spiess)", "event-study": "TWFE event study", "twfe": "TWFE",
    "cs_cohort": "Callaway–Sant'Anna cohort ATT", "etwfe": "extended TWFE", "stacked": "stacked DiD",
    "lp-did": "LP-DiD", "dcdh": "de Chaisemartin–D'Haultfœuille",
}

#: short nouns of registry interventions in sentences (others: their label)
_INTERVENTION_NOUNS = {
    "rti_law": "RTI law", "ogp_member": "OGP membership", "ogp_action_plan": "OGP action plan",
    "open_up_guide": "Open Up Guide pilot", "brazil_lai_regulation": "LAI regulation", "ogp_local": "OGP Local membership",
}

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
                 10: "ten"}




def _decimals(*xs) -> int:
    vals = [abs(v) for v in (_f(x) for x in xs) if v is not None and v != 0]
    if not vals:
        return 2
    return int(min(4, max(0, 1 - math.floor(math.log10(max(vals))))))


def fmt_number(x, decimals: int) -> str:
    """``x`` with ``decimals`` decimals and a true minus sign; "n/a" when missing."""
    v = _f(x)
    if v is None:
        return "n/a"
    s = f"{v:.{decimals}f}"
    if float(s) == 0:
        s = s.lstrip("-")
    return s.replace("-", MINUS)


def fmt_threshold(x) -> str:
    """A threshold (the MIE) with two significant digits: 0.2, 0.048, 3.8, 25."""
    v = _f(x)
    if v is None:
        return "n/a"
    if abs(v) >= 10:
        return fmt_number(v, 0)
    d = int(max(0, 1 - math.floor(math.log10(abs(v))))) if v else 0
    t = f"{v:.{d}f}"
    t = t.rstrip("0").rstrip(".") if "." in t else t
    return t.replace("-", MINUS)


def _p(p, synth: bool) -> str | None:
    v = _f(p)
    if v is None:
        return None
    txt = "< 0.001" if v < 0.001 else f"= {v:.3f}" if v < 0.01 else f"= {v:.2f}"
    return ("placebo p " if synth else "p ") + txt


def _horizon_phrase(horizon, time_unit: str = "year") -> str:
    """Event times 0..H: "within H years of adoption" (H = 0: "in the adoption year")."""
    h = None if _f(horizon) is None else int(_f(horizon))
    if h is None or h < 0:
        return ""
    unit = "round" if time_unit == "round" else "year"
    if h == 0:
        return f" in the adoption {unit}"
    return f" within {_NUMBER_WORDS.get(h, str(h))} {unit}{'s' if h != 1 else ''} of adoption"


def finding_sentence(
    *,
    grade: str,
    target: Mapping | None,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    p_value: float | None,
    design: str | None,
    measure_label: str,
    subject: str,
    estimand: str | None = None,
    horizon: int | None = None,
    reason: str | None = None,
    ci_source: str | None = None,
    time_unit: str = "year",
    ci_estimate: float | None = None,
) -> str:
    """One quotable sentence for one finding (module docstring for the rules)."""
    reason = (reason or "").strip().rstrip(".")
    tail = f": {reason}." if reason else "."
    if estimate is None:
        return f"Insufficient evidence on whether {subject} changed {measure_label}{tail}"
    d = _decimals(estimate, ci_low, ci_high)
    nums = [fmt_number(estimate, d)]
    borrowed = None  # a CI of another design is quoted with that design's own estimate, never beside this one's
    if _f(ci_low) is not None and _f(ci_high) is not None:
        ci = f"95% CI {fmt_number(ci_low, d)} to {fmt_number(ci_high, d)}"
        if ci_source and design and ci_source != design:
            if ci_source == f"{design} conformal":
                nums.append(ci + " (conformal)")
            else:
                other = DESIGN_NAMES.get(ci_source, ci_source)
                borrowed = (f"{other} {fmt_number(ci_estimate, d)}, {ci}" if _f(ci_estimate) is not None
                            else f"{ci} ({other})")
        else:
            nums.append(ci)
    dn = DESIGN_NAMES.get(str(design), str(design)) if design else None
    pt = _p(p_value, design == "synth")
    if dn:
        nums.append(dn + (f", {pt}" if pt else ""))
    if borrowed:
        nums.append(borrowed)
    within = _horizon_phrase(horizon, time_unit)
    if within:  # "within five years of adoption" states the estimand; the full text is in `estimand`
        numbers = "(" + "; ".join(nums) + ")"
    else:
        numbers = f"({(estimand or DEFAULT_ESTIMAND).strip()}: " + "; ".join(nums) + ")"
    if grade == "Insufficient":  # no claim either way, but the number a reader would otherwise quote is shown
        return f"Insufficient evidence on whether {subject} changed {measure_label}{within} {numbers}{tail}"
    t = dict(target or {})
    thr = _f(t.get("threshold"))
    if t.get("kind") == "no_effect" and thr is not None:
        claim = f"did not change {measure_label} by more than {fmt_threshold(thr)}{within}"
    else:
        verb = "increased" if (_f(estimate) or 0) > 0 else "decreased" if (_f(estimate) or 0) < 0 else "changed"
        size = f" by at least {fmt_threshold(thr)}" if thr else ""
        claim = f"{verb} {measure_label}{size}{within}"
    return f"{grade}-certainty evidence that {subject} {claim} {numbers}{tail}"


def strongest_reason(graded) -> str | None:
    """The check that lowered the grade most (first on ties), else the design as the reason."""
    checks = list(getattr(graded, "checks", ()) or ())
    neg = [c for c in checks if c.severity < 0]
    if neg:
        c = min(neg, key=lambda c: c.severity)  # min keeps the first of equals
        return c.reason
    caps = [c for c in checks if c.cap is not None]
    if caps:
        return caps[0].reason
    label = getattr(graded, "design_label", None)
    if getattr(graded, "grade", None) == "Insufficient":
        rs = list(getattr(graded, "reasons", ()) or ())
        return rs[0].split(": ", 1)[-1] if rs else None
    return f"no check lowered the grade; the design ({label}) sets it" if label else None


def _subject(intervention: str | None, country: str | None, year) -> str:
    noun = _INTERVENTION_NOUNS.get(str(intervention))
    if noun is None:
        try:
            from .. import interventions as iv

            lab = iv.get(str(intervention)).label
            noun = lab[:1].lower() + lab[1:]
        except Exception:  # noqa: BLE001 - a custom intervention: its id
            noun = str(intervention or "the intervention").replace("_", " ")
    if not country:
        return f"{noun} adoption"
    name = str(country)
    try:
        from ..data import country_reference

        ref = country_reference()
        hit = ref.loc[ref["iso3"] == str(country).upper(), "name"]
        if len(hit):
            name = str(hit.iloc[0])
    except Exception:  # noqa: BLE001 - a sub-national unit: its code
        pass
    y = _f(year)
    return f"{name}'s {int(y)} {noun}" if y is not None else f"{name}'s {noun}"


def _measure(measure: str) -> tuple[str, str]:
    try:
        from .. import measures as ms

        m = ms.get(str(measure))
        return m.label, m.time_unit
    except Exception:  # noqa: BLE001 - a custom outcome column
        return str(measure), "year"


def _estimand_of(a) -> tuple[str | None, int | None]:
    est = getattr(a, "estimand", None)
    if isinstance(est, Mapping):
        h = est.get("horizon")
        return est.get("text"), (None if _f(h) is None else int(_f(h)))
    if isinstance(est, str):
        return est, None
    return None, None


def headline_for(a) -> str:
    """The sentence of one :class:`~ogimpact.evidence.assess.Assessment` (duck-typed)."""
    g = a.graded
    hl = dict(a.headline or {})
    text, horizon = _estimand_of(a)
    label, unit = _measure(a.measure)
    year = (getattr(a, "notes", None) or {}).get("treat_time") if a.country else None
    ci_src = hl.get("ci_source") or hl.get("design")
    ci = hl.get("ci") if ci_src != hl.get("design") and hl.get("ci") else hl
    return finding_sentence(
        grade=g.grade, target=g.grade_target, estimate=hl.get("estimate"),
        ci_low=ci.get("ci_low"), ci_high=ci.get("ci_high"),
        p_value=hl.get("p_value"), design=hl.get("design"), measure_label=label,
        subject=_subject(a.intervention, a.country, year), estimand=text, horizon=horizon,
        reason=strongest_reason(g), ci_source=ci_src, time_unit=unit,
        ci_estimate=ci.get("estimate") if ci is not hl else None)


_ORDER = ("High", "Moderate", "Low", "Very low", "Insufficient")


def report_sentence(findings: Sequence[Mapping[str, Any]], *, intervention: str | None, country: str | None = None,
                    year=None) -> str:
    """One sentence for a report: how many measures, their grades, and the best-supported finding.

    ``findings``: ``{grade, headline}`` per measure (``assess --json`` assessments).
    """
    subject = _subject(intervention, country, year)
    n = len(findings)
    if not n:
        return f"No measure could be assessed for {subject}."
    counts = {g: sum(1 for f in findings if f.get("grade") == g) for g in _ORDER}
    parts = ", ".join(f"{k} {g}" for g, k in counts.items() if k)
    best = min(findings, key=lambda f: _ORDER.index(f.get("grade")) if f.get("grade") in _ORDER else 99)
    first = f"{subject[:1].upper()}{subject[1:]}, {n} measure{'s' if n != 1 else ''} graded ({parts})"
    if best.get("grade") in ("Insufficient", None):
        return first + ": no measure has evidence beyond insufficient."
    return first + f"; the best supported: {best.get('headline')}"


# ------------------------------------------------------------------ conflicts
def conflict_warnings(checks: Iterable, head: Mapping | None, *, alpha: float = 0.05) -> list[dict]:
    """``{code, message}`` for each conflict the headline number sits beside.

    * ``pretrend_conflict`` — the headline is significant (CI excludes 0, or p < alpha) while the
      pre-test rejects parallel trends (p < its alpha), waived or not;
    * ``estimator_sign_conflict`` — the consistency check found a sign disagreement (some CI excludes 0);
    * ``fragile_donor_pool`` — effective donors below the rubric minimum, or leave-one-out refits
      that flip the sign or move the estimate more than the check allows.
    """
    checks = list(checks)
    h = dict(head or {})
    out: list[dict] = []
    est, lo, hi, p = (_f(h.get(k)) for k in ("estimate", "ci_low", "ci_high", "p_value"))
    significant = (lo is not None and hi is not None and (lo > 0 or hi < 0)) or (p is not None and p < alpha)
    by = {}
    for c in checks:
        by.setdefault(c.domain, c)
    pt = by.get("parallel_trends")
    if pt is not None and significant:
        pp, a = _f(pt.inputs.get("pretest_p")), _f(pt.inputs.get("pretest_alpha")) or alpha
        if pp is not None and pp < a:
            out.append({"code": "pretrend_conflict", "message":
                        f"the headline estimate {fmt_number(est, _decimals(est, lo, hi))} is significant but its "
                        f"pre-trend test rejects parallel trends (p = {pp:.2g} < {a:g}); read it as unreliable"})
    cons = by.get("consistency")
    if cons is not None:
        rows = dict(cons.inputs.get("robust") or {})
        signs = {k: (_f(v.get("estimate")) or 0) for k, v in rows.items()}
        if cons.inputs.get("sign_disagreement"):
            out.append({"code": "estimator_sign_conflict", "message":
                        "estimators disagree in sign (" + ", ".join(
                            f"{DESIGN_NAMES.get(k, k)} {fmt_number(v, _decimals(*signs.values()))}"
                            for k, v in signs.items()) + ")"})
    why = []
    ed = by.get("effective_donors")
    if ed is not None and ed.severity < 0:
        why.append(ed.reason)
    loo = by.get("loo_stability")
    if loo is not None and loo.severity < 0:
        why.append(loo.reason)
    if why:
        out.append({"code": "fragile_donor_pool", "message": "fragile donor pool: " + "; ".join(why)})
    return out
