"""The headline sentences (evidence/headline.py): every wording rule, and the conflicts said out loud."""
from __future__ import annotations

import pytest

from ogimpact.evidence import checks as ck
from ogimpact.evidence import headline as hd
from ogimpact.evidence.design_checks import check_effective_donors, check_loo_stability
from ogimpact.evidence.grading import grade

M = "\u2212"


def test_the_issue_example_sentence():
    s = hd.finding_sentence(
        grade="Low", target={"kind": "no_effect", "threshold": 0.2}, estimate=-0.03, ci_low=-0.19, ci_high=0.12,
        p_value=0.84, design="synth", measure_label="WGI Control of Corruption", subject="Chile's 2008 RTI law",
        horizon=5, reason="the synthetic comparison relies on dissimilar donors")
    assert s == ("Low-certainty evidence that Chile's 2008 RTI law did not change WGI Control of Corruption by more "
                 f"than 0.2 within five years of adoption ({M}0.03; 95% CI {M}0.19 "
                 "to 0.12; synthetic control, placebo p = 0.84): the synthetic comparison relies on dissimilar donors.")


@pytest.mark.parametrize("est, target, fragment", [
    (0.4, {"kind": "effect", "threshold": 0.2}, "increased y by at least 0.2"),
    (-0.4, {"kind": "effect", "threshold": 0.2}, "decreased y by at least 0.2"),
    (0.4, {"kind": "effect", "threshold": 0.0}, "that X increased y ("),
    (0.01, {"kind": "no_effect", "threshold": 0.2}, "did not change y by more than 0.2"),
])
def test_claim_follows_the_target(est, target, fragment):
    s = hd.finding_sentence(grade="Moderate", target=target, estimate=est, ci_low=est - 0.1, ci_high=est + 0.1,
                            p_value=0.01, design="cs", measure_label="y", subject="X")
    assert fragment in s and s.startswith("Moderate-certainty evidence that X ")
    assert "(the average post-adoption effect: " in s  # default estimand text
    assert s.endswith(".")


def test_insufficient_never_states_a_direction():
    s = hd.finding_sentence(grade="Insufficient", target={"kind": "effect", "threshold": 0.2}, estimate=0.5,
                            ci_low=0.1, ci_high=0.9, p_value=0.01, design="cs", measure_label="y", subject="X",
                            reason="no design could be estimated")
    # an estimate exists: no claim either way, but its numbers are quoted beside the reason
    assert s.startswith("Insufficient evidence on whether X changed y") and "95% CI 0.10 to 0.90" in s
    assert s.endswith(": no design could be estimated.")
    s = hd.finding_sentence(grade="Insufficient", target=None, estimate=None, ci_low=None, ci_high=None,
                            p_value=None, design=None, measure_label="y", subject="X",
                            reason="no design could be estimated")
    assert s == "Insufficient evidence on whether X changed y: no design could be estimated."


def test_numbers_estimand_ci_source_and_p():
    s = hd.finding_sentence(grade="Very low", target={"kind": "no_effect", "threshold": 4.0}, estimate=-1.234,
                            ci_low=-9.87, ci_high=7.4, p_value=0.0004, design="cs", measure_label="TI CPI",
                            subject="RTI law adoption", estimand="the average effect over event times 0..5",
                            horizon=0, ci_source="sdid")
    # the horizon phrase states the estimand, so the numbers stand alone (as in the issue's example)
    # a CI borrowed from another design never sits beside this design's estimate: it follows the design,
    # under the other design's name (with that design's own estimate when known)
    assert f"({M}1.2; Callaway–Sant'Anna, p < 0.001; 95% CI {M}9.9 to 7.4 (synthetic difference-in-" in s
    s3 = hd.finding_sentence(grade="Insufficient", target=None, estimate=0.2293, ci_low=-0.232, ci_high=0.173,
                             p_value=0.46, design="synth", measure_label="WGI", subject="X", horizon=5,
                             ci_source="cs_cohort", ci_estimate=-0.03)
    assert f"(0.23; synthetic control, placebo p = 0.46; Callaway–Sant'Anna cohort ATT {M}0.03, 95% CI {M}0.23 " \
           "to 0.17)" in s3, s3
    s2 = hd.finding_sentence(grade="Very low", target={"kind": "no_effect", "threshold": 4.0}, estimate=-1.234,
                             ci_low=-9.87, ci_high=7.4, p_value=0.0004, design="cs", measure_label="TI CPI",
                             subject="RTI law adoption", estimand="the average effect over event times 0..5")
    assert f"(the average effect over event times 0..5: {M}1.2; 95% CI {M}9.9 to 7.4" in s2
    assert "Callaway–Sant'Anna, p < 0.001)" in s2 and "in the adoption year" in s
    assert hd.fmt_number(-0.0001, 2) == "0.00"  # no negative zero
    assert hd.fmt_number(None, 2) == "n/a"
    assert [hd.fmt_threshold(x) for x in (0.2000001, 0.04837, 3.828, 25.4, 0.22)] == ["0.2", "0.048", "3.8", "25", "0.22"]


def test_strongest_reason_is_the_largest_downgrade():
    g = grade("cs", [ck.check_parallel_trends(0.01, None), ck.check_precision(-1.0, 1.0, 0.2)])
    assert hd.strongest_reason(g).startswith("CI [-1, 1] includes important effects in both directions")
    clean = grade("cs", [ck.check_parallel_trends(0.5, 1.5)])
    assert hd.strongest_reason(clean).startswith("no check lowered the grade")


def test_report_sentence_counts_and_best_finding():
    f = [{"grade": "Low", "headline": "Low-certainty evidence that A."},
         {"grade": "Very low", "headline": "Very low-certainty evidence that B."}]
    s = hd.report_sentence(f, intervention="rti_law", country="CHL", year=2008)
    assert s == "Chile's 2008 RTI law, 2 measures graded (1 Low, 1 Very low); the best supported: Low-certainty evidence that A."
    assert hd.report_sentence([], intervention="rti_law").startswith("No measure could be assessed for RTI law adoption")


def test_conflicts_said_out_loud():
    pt = ck.check_parallel_trends(3e-7, None)
    cons = ck.check_consistency({"cs": {"estimate": 0.3, "se": 0.1, "ci_low": 0.1, "ci_high": 0.5},
                                 "sun-abraham": {"estimate": -0.2, "se": 0.1, "ci_low": -0.4, "ci_high": 0.0}})
    ed = check_effective_donors(1.05, top_donor="Suriname (weight 0.99)")
    head = {"estimate": 0.156, "ci_low": 0.03, "ci_high": 0.28, "p_value": 0.014}
    codes = [w["code"] for w in hd.conflict_warnings([pt, cons, ed], head)]
    assert codes == ["pretrend_conflict", "estimator_sign_conflict", "fragile_donor_pool"]
    # a null: a failed pre-test is not a conflict with a significant number; noise signs are not a conflict
    null = {"estimate": 0.01, "ci_low": -0.2, "ci_high": 0.22, "p_value": 0.9}
    cons0 = ck.check_consistency({"cs": {"estimate": 0.01, "se": 0.1, "ci_low": -0.19, "ci_high": 0.21},
                                  "sun-abraham": {"estimate": -0.02, "se": 0.1, "ci_low": -0.22, "ci_high": 0.18}})
    assert cons0.severity == 0 and not cons0.inputs["sign_disagreement"]
    assert hd.conflict_warnings([pt, cons0], null) == []
    loo = check_loo_stability([-0.1, 0.3], estimate=0.2, target={"kind": "effect", "threshold": 0.1})
    assert [w["code"] for w in hd.conflict_warnings([loo], null)] == ["fragile_donor_pool"]


def test_estimate_flags_a_significant_headline_with_a_failed_pretest():
    """`ogimpact estimate` results carry pretrend_conflict when their own pre-test rejects (issue 12, item 6)."""
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("grade_montecarlo",
                                                  Path(__file__).parents[1] / "benchmarks" / "grade_montecarlo.py")
    mc = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("grade_montecarlo", mc)
    spec.loader.exec_module(mc)
    from ogimpact.estimation import estimate

    bad = estimate("cs", mc.draw_panel(11, slope=0.15))
    assert bad.p_value < 0.05 and bad.diagnostics["pretrend_wald_p"] < 0.05
    w = [x for x in bad.diagnostics["warnings"] if x["code"] == "pretrend_conflict"]
    assert len(w) == 1 and "rejects parallel trends" in w[0]["message"]
    good = estimate("cs", mc.draw_panel(11, effect=1.0))
    assert good.diagnostics["pretrend_wald_p"] >= 0.05
    assert not any(x["code"] == "pretrend_conflict" for x in good.diagnostics["warnings"])
