"""Evidence checks, the grader and its rubric file, body-of-evidence pooling, context, gap map."""
from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from ogimpact.errors import OgimpactError
from ogimpact.evidence import checks as ck
from ogimpact.evidence.checks import CheckResult
from ogimpact.evidence.context import CONTEXT_CASES, QUESTIONS, ContextAnswer, ContextRecord, context_for
from ogimpact.evidence.grading import DEFAULT_RUBRIC, grade, load_rubric, pool_grades

MINUS = "\u2212"


@pytest.fixture()
def rubric_copy(tmp_path):
    """A writable copy of the packaged rubric and a function that edits it."""
    path = tmp_path / "grading.yaml"
    path.write_bytes(DEFAULT_RUBRIC.read_bytes())

    def edit(fn):
        data = yaml.safe_load(path.read_text())
        fn(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return path, edit


# ----------------------------------------------------------------- each rule fires
@pytest.mark.parametrize(
    "check, severity, fragment",
    [
        (lambda: ck.check_parallel_trends(0.01, None), -1, "pre-test p=0.01 (<0.05)"),
        (lambda: ck.check_parallel_trends(0.01, 1.2), 0, "waived"),
        (lambda: ck.check_parallel_trends(0.4, 0.4), -1, "breakdown M̄*=0.4 (<0.5)"),
        (lambda: ck.check_parallel_trends(0.01, 0.3), -2, "breakdown M̄*=0.3"),
        (lambda: ck.check_parallel_trends(0.4, 0.8), 0, "pre-test p=0.4"),
        (lambda: ck.check_few_clusters(12, 8, p_crve=0.01, p_wcb=0.2), -1, "not under WCB"),
        (lambda: ck.check_few_clusters(50, 3, p_crve=0.01, p_wcb=0.03), 0, "headline p: wcb"),
        (lambda: ck.check_few_clusters(12, 8, p_crve=0.01), -1, "no wild cluster bootstrap p"),
        (lambda: ck.check_few_clusters(50, 20, p_crve=0.01), 0, "headline p: crve"),
        (lambda: ck.check_placebo(in_time_p=0.01), -1, "in-time placebo significant"),
        (lambda: ck.check_placebo(pre_rmspe=0.6, outcome_sd=1.0), -1, "RMSPE"),
        (lambda: ck.check_placebo(in_time_p=0.5, pre_rmspe=0.4, outcome_sd=1.0), 0, "placebos pass"),
        (lambda: ck.check_consistency({"cs": {"estimate": 1, "se": 0.5}, "sa": {"estimate": -0.1, "se": 0.5}}), -2, "disagree in sign"),
        (lambda: ck.check_consistency({"cs": {"estimate": 1, "se": 0.2}, "sa": {"estimate": 1.5, "se": 0.2}}), -1, "spread"),
        (lambda: ck.check_consistency({"cs": {"estimate": 1, "se": 0.2}, "sa": {"estimate": 1.1, "se": 0.2}}), 0, "agree"),
        (lambda: ck.check_baseline_equivalence(0.1, adjusted=False, unit_fe=False), -1, "does not adjust"),
        (lambda: ck.check_baseline_equivalence(0.1, adjusted=True, unit_fe=False), 0, "with adjustment"),
        (lambda: ck.check_baseline_equivalence({"y": 0.02, "gdp": -0.4}, adjusted=True, unit_fe=False), -1, "on gdp"),
        (lambda: ck.check_baseline_equivalence(0.03, adjusted=False, unit_fe=False), 0, "max |g|=0.03"),
        (lambda: ck.check_precision(-0.1, 0.3, 0.2), -1, "includes an important increase"),
        (lambda: ck.check_precision(-0.3, 0.3, 0.2), -2, "both directions"),
        (lambda: ck.check_precision(0.1, 0.7, 0.2, estimate=0.4), -1, "smaller than the MIE 0.2"),
        (lambda: ck.check_precision(-0.1, 0.15, 0.2), 0, "within ±MIE"),
        (lambda: ck.check_precision(-1.0, 1.0, 0.2), -2, "x MIE (>4.0)"),
        (lambda: ck.check_precision(0.25, 0.6, 0.2), 0, "excludes effects smaller than the MIE"),
        (lambda: ck.check_multiplicity(0.01, 0.08), -1, "not after romano-wolf"),
        (lambda: ck.check_multiplicity(0.01, 0.03), 0, "raw p=0.01"),
        (lambda: ck.check_indirectness(proxy_outcome=True), -1, "proxy"),
        (lambda: ck.check_indirectness(commitment_not_implementation=True), -1, "commitment"),
        (lambda: ck.check_indirectness(), 0, "direct"),
    ],
)
def test_each_rule_fires(check, severity, fragment):
    c = check()
    assert c.severity == severity
    assert fragment in c.reason, c.reason
    assert c.passed == (severity == 0)  # a waived pre-test is a note, not a flag
    json.dumps(c.to_dict(), allow_nan=False)


def test_flags_and_not_assessed():
    c = ck.check_few_clusters(10, 2, p_crve=0.01, p_permutation=0.2)
    assert c.cap == 2 and c.severity == -1 and c.inputs["headline_p"] == "permutation"
    u = ck.check_placebo(n_donors=12)
    assert u.severity == 0 and u.blocks_upgrade and not u.passed and "underpowered" in u.reason
    tw = ck.check_consistency({"cs": {"estimate": 1, "se": 0.2, "ci_low": 0.6, "ci_high": 1.4}}, twfe={"estimate": 2.0})
    assert tw.severity == 0 and not tw.passed and tw.inputs["twfe_outside_robust_ci"]
    for c in (ck.check_parallel_trends(None, None), ck.check_precision(-1, 1, None), ck.check_multiplicity(0.01, None),
              ck.check_placebo(), ck.check_consistency({}), ck.check_few_clusters(None, None),
              ck.check_baseline_equivalence(None, adjusted=True, unit_fe=True)):
        assert c.severity == 0 and not c.passed and c.reason.startswith("not assessed")


def test_hedges_g_and_large_effect():
    g = ck.hedges_g([1, 2, 3, 4], [0, 1, 2, 3])
    # d = 1 / sd_pooled(1.291) = 0.7746; J = 1 - 3/(4*8-9) = 0.8696
    assert g == pytest.approx((1 - 3 / 23) * 1 / 1.2909944487358056, rel=1e-12)  # closed form
    assert ck.is_large_effect(0.6, 1.0) and not ck.is_large_effect(0.4, 1.0)
    assert not ck.is_large_effect(None, 1.0)


# ----------------------------------------------------------------- the grader
def test_grade_reasons_complete_and_arithmetic():
    checks = [ck.check_parallel_trends(0.3, 0.4), ck.check_precision(-0.1, 0.3, 0.2), ck.check_placebo(n_donors=10)]
    g = grade("cs", checks)
    assert g.base == 3 and g.sms == "3" and g.score == 1 and g.grade == "Very low"
    assert g.reasons[0].startswith("base 3 (Moderate)")
    assert f"{MINUS}1 parallel_trends: breakdown M̄*=0.4 (<0.5)" in g.reasons
    assert any(r.startswith(f"{MINUS}1 precision: CI [") for r in g.reasons)
    assert any(r.startswith("0 placebo: in-space permutation underpowered") for r in g.reasons)
    # every non-passing check appears in the reasons
    assert all(any(c.domain in r for r in g.reasons) for c in checks if not c.passed)
    d = g.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["grading_yaml_sha"] == hashlib.sha256(DEFAULT_RUBRIC.read_bytes()).hexdigest()
    assert d["rubric_version"] == yaml.safe_load(DEFAULT_RUBRIC.read_text())["version"]


def test_domain_floor_clamp_and_cap():
    two = [ck.check_precision(-1, 1, 0.2), ck.check_precision(-0.1, 0.3, 0.2)]  # -2 and -1 in one domain
    g = grade("rct", two)
    assert g.domain_totals["precision"] == -2 and g.score == 2
    assert any("floored at -2" in r for r in g.reasons)
    g = grade("its", [ck.check_parallel_trends(0.01, 0.1), ck.check_multiplicity(0.01, 0.5)])
    assert g.score == 0 and g.grade == "Insufficient" and any("clamped" in r for r in g.reasons)
    g = grade("rct", [ck.check_few_clusters(8, 2, p_permutation=0.01, p_crve=0.001)])
    assert g.score == 2 and g.cap == 2 and any(r.startswith("cap 2 (Low) few_clusters") for r in g.reasons)


def test_upgrade_rules():
    clean = [ck.check_parallel_trends(0.5, 2.0), ck.check_precision(0.3, 0.7, 0.1)]
    assert grade("cs", clean, large_effect=True).score == 4
    assert grade("cs", clean, large_effect=False).score == 3
    assert grade("rct", clean, large_effect=True).score == 4  # base 4 > max_base 3: no upgrade, clamped anyway
    assert grade("twfe", clean, large_effect=True).score == 3
    down = clean + [ck.check_indirectness(proxy_outcome=True)]
    g = grade("cs", down, large_effect=True)
    assert g.score == 2 and g.upgrade == 0 and any("no upgrade because" in r for r in g.reasons)
    blocked = clean + [ck.check_placebo(n_donors=8)]
    g = grade("sdid", blocked, large_effect=True)
    assert g.score == 3 and any("placebo forbids" in r for r in g.reasons)


def test_design_bases_and_requirements():
    assert grade("rdd", []).grade == "Moderate"
    assert grade("sun-abraham", []).design == "staggered_robust"
    assert grade("cross_section", []).grade == "Insufficient"
    g = grade("event-study", [])
    assert g.design == "twfe_staggered" and g.score == 1
    assert f"{MINUS}1 consistency: required for twfe_staggered but not run" in g.reasons
    assert grade("event-study", [ck.check_consistency({"cs": {"estimate": 1, "se": 0.2}})]).score == 2
    few = grade("synth", [], design_info={"n_donors": 8})
    assert few.base == 2 and "8 donors (<10)" in few.reasons[0]
    assert grade("synth", [], design_info={"n_donors": 38}).base == 3
    assert grade("iv", [], design_info={"first_stage_f": 6.0}).base == 1


def test_wwc_label():
    assert grade("cs", [ck.check_baseline_equivalence(0.1, adjusted=True, unit_fe=True)]).wwc_label == "Would meet with reservations"
    assert grade("cs", [ck.check_baseline_equivalence(0.1, adjusted=False, unit_fe=False)]).wwc_label == "Would not meet"
    assert grade("cs", []).wwc_label == "Not assessed"


def test_thresholds_come_from_the_rubric_file(rubric_copy):
    path, edit = rubric_copy
    checks_default = [ck.check_parallel_trends(0.3, 0.4)]
    assert grade("cs", checks_default).score == 2
    # lower the breakdown threshold to 0.3: M̄*=0.4 now passes and the grade moves up
    edit(lambda d: d["checks"]["parallel_trends"].__setitem__("breakdown_min", 0.3))
    c = ck.check_parallel_trends(0.3, 0.4, rubric=path)
    g = grade("cs", [c], rubric=path)
    assert c.severity == 0 and g.score == 3
    assert g.rubric_sha256 == hashlib.sha256(path.read_bytes()).hexdigest() != load_rubric().sha256
    # change the base of a design and the labels
    edit(lambda d: d["designs"]["staggered_robust"].__setitem__("base", 2))
    assert grade("cs", [], rubric=path).score == 2
    edit(lambda d: d["scale"]["labels"].__setitem__(2, "Limited"))
    assert grade("cs", [], rubric=path).grade == "Limited"
    # severity of a rule and the MIE width multiple
    edit(lambda d: d["checks"]["precision"].__setitem__("max_width_mie", 20))
    edit(lambda d: d["checks"]["precision"].__setitem__("crosses_both_severity", -1))
    assert ck.check_precision(-1, 1, 0.2, rubric=path).severity == -1
    edit(lambda d: d.__setitem__("version", "9.9.9"))
    assert grade("cs", [], rubric=path).rubric_version == "9.9.9"


def test_rubric_errors(tmp_path):
    with pytest.raises(OgimpactError, match="not found"):
        load_rubric(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: '1'\nscale: {}\n")
    with pytest.raises(OgimpactError, match="lacks"):
        load_rubric(bad)
    with pytest.raises(OgimpactError, match="unknown design kind"):
        grade("astrology", [])
    with pytest.raises(OgimpactError, match="CheckResult"):
        grade("cs", [{"domain": "x", "severity": -1}])
    with pytest.raises(OgimpactError, match="severity"):
        CheckResult("x", False, -3, {}, "")
    with pytest.raises(OgimpactError, match="positive"):
        ck.check_precision(-1, 1, -0.2)
    with pytest.raises(OgimpactError, match="number"):
        ck.check_parallel_trends("low", None)


# ----------------------------------------------------------------- body of evidence
def test_pool_grades_rules():
    p = pool_grades(["Moderate", "Low", 3, 1])
    assert p.start == 2 and p.score == 2  # lower median of [1, 2, 3, 3]
    p = pool_grades([3, 3, 3], i2=60.0)
    assert p.score == 2 and any("I2=60.0%" in r for r in p.reasons)
    p = pool_grades([3, 3], country_cis=[(0.1, 0.5), (-0.6, -0.1)])
    assert p.score == 2 and any("opposite directions" in r for r in p.reasons)
    p = pool_grades([3, 3], pooled_ci=(-0.1, 0.3), mie=0.2)
    assert p.score == 2 and any("imprecision" in r for r in p.reasons)
    p = pool_grades([3, 3], n_declared=4, n_reported=3)
    assert p.score == 2 and any("selective_reporting" in r for r in p.reasons)
    p = pool_grades([1], i2=80, n_declared=2, n_reported=1)
    assert p.score == 0 and p.grade == "Insufficient"
    with pytest.raises(OgimpactError):
        pool_grades([])
    with pytest.raises(OgimpactError, match="cannot read a grade"):
        pool_grades(["Excellent"])


def test_pool_grades_from_meta_result():
    from ogimpact.evidence.meta import meta_analysis

    m = meta_analysis([0.3, 0.35, 0.28], [0.05, 0.06, 0.05], method="reml")
    g = grade("cs", [])
    p = pool_grades([g, g, 3], meta=m, mie=0.1)
    assert p.score == 3 and p.inputs["i2"] == pytest.approx(m.i2, abs=0)  # homogeneous, precise: no downgrade
    m2 = meta_analysis([0.5, -0.5, 0.45], [0.05, 0.05, 0.05], method="reml")
    assert pool_grades([3, 3, 3], meta=m2).score == 2


# ----------------------------------------------------------------- context (recorded, never scored)
@pytest.mark.parametrize("iso", ["CHL", "MEX"])
def test_context_cases_are_cited_or_not_assessed(iso):
    rec = context_for(iso, "rti_law")
    assert rec is CONTEXT_CASES[(iso, "rti_law")]
    d = rec.to_dict()
    assert d["scored"] is False and rec.scored is False
    for q in QUESTIONS:
        a = d[q]
        assert a["answer"] in ("yes", "partly", "no", "not assessed")
        assert a["answer"] == "not assessed" or len(a["sources"]) >= 1
    assert any(d[q]["answer"] != "not assessed" for q in QUESTIONS)


def test_context_validation():
    with pytest.raises(OgimpactError, match="cited source"):
        ContextAnswer("yes", "claimed without a source")
    with pytest.raises(OgimpactError, match="q1..q6"):
        ContextRecord("CHL", "rti_law", {"q7": ContextAnswer()})
    assert context_for("BRA", "rti_law").to_dict()["q1"]["answer"] == "not assessed"


# ----------------------------------------------------------------- gap map
def test_evidence_gap_map_marks_gaps():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from ogimpact.plots.evidence import evidence_gap_map

    cells = pd.DataFrame([
        {"intervention": "rti_law", "domain": "access to information", "grade": "Low", "n_studies": 3, "synthesised": False},
        {"intervention": "ogp_member", "domain": "participation", "grade": "Very low", "n_studies": 1},
    ])
    ax = evidence_gap_map(cells, interventions=["rti_law", "ogp_member", "open_up_guide"],
                          domains=["participation", "public services", "access to information"])
    gaps = [ln for ln in ax.lines if ln.get_marker() == "x" and len(ln.get_xdata())]
    assert len(gaps) == 9 - 2  # 3 x 3 cells, two with studies
    from ogimpact.plots.style import alt_text

    a = alt_text(ax)  # what the map shows, not "Line chart with shaded bands"
    assert a.startswith("Evidence gap map") and "3 interventions (rows) by 3 outcome domains" in a, a
    assert "rti_law × access to information: 3 studies, grade Low" in a and "7 are absolute gaps" in a, a
    plt.close("all")
    with pytest.raises(OgimpactError, match="columns"):
        evidence_gap_map(pd.DataFrame({"intervention": ["a"]}))
