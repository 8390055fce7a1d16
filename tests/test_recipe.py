"""The answers recipe and the declared estimands (issue 12 items 2, 3 and 5).

* estimands: CS ``max_e`` against R ``did``'s published ``aggte(type = "dynamic")`` numbers on mpdta; the
  horizon average of any event study is the same linear combination; ITS's average effect on a noise-free
  series; the words of the estimand;
* recipe: one donor rule (default ``similar``) recorded in every single-unit result, the single-unit panel
  ends at T0 + H, the true reason when the data cannot answer, one design order whoever asks;
* identity: a report's ``results.json`` and ``ogimpact assess --json`` (both as separate processes, as a
  user runs them) hold identical estimates, grades and check inputs for the same parameters — Chile x
  rti_law (country report vs ``assess --country CHL``) and rti_law across countries (cross-country report
  vs ``assess``), two measures each so the multiplicity family is exercised.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.callaway_santanna import fit_cs
from ogimpact.errors import DesignError
from ogimpact.evidence import recipe
from ogimpact.evidence.estimands import (HORIZON, horizon_average, its_average, single_unit_estimand,
                                         staggered_estimand)
from ogimpact.panel import Panel, PanelWarning

ROOT = Path(__file__).resolve().parents[1]
MPDTA = ROOT / "tests" / "reference" / "mpdta"
R_DYNAMIC = json.loads((MPDTA / "expected.json").read_text())["references"][0]["aggte"]["dynamic"]


def _mpdta() -> Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        return Panel.from_frame(pd.read_csv(MPDTA / "data.csv"), unit="countyreal", time="year", outcome="lemp",
                                cohort="first.treat")


# ----------------------------------------------------------------------------- estimands
def test_cs_max_e_reproduces_r_did_dynamic_overall():
    # max_e = 3 keeps every post event time of mpdta, so the headline is R did's dynamic overall ATT and SE
    # (R did 2.x, tests/reference/mpdta; tolerance 1e-6 as the other analytic mpdta references)
    r = fit_cs(_mpdta(), aggregate="dynamic", max_e=3)
    assert r.estimate == pytest.approx(R_DYNAMIC["overall_att"], abs=1e-6)
    assert r.se == pytest.approx(R_DYNAMIC["overall_se"], abs=1e-6)
    # max_e = 1: the mean of R's event-time effects 0 and 1 (the average aggte(max_e = 1) reports)
    by = {row["e_or_g_or_t"]: row["att"] for row in R_DYNAMIC["by"]}
    r1 = fit_cs(_mpdta(), aggregate="dynamic", max_e=1)
    assert r1.estimate == pytest.approx((by[0] + by[1]) / 2, abs=1e-6)
    assert r1.options["max_e"] == 1 and len(r1.event_study.event_times) == len(r.event_study.event_times)
    # the generic horizon average of the event study is the same linear combination (SE from its covariance)
    h = horizon_average(fit_cs(_mpdta(), aggregate="dynamic"), 1)
    assert h.estimate == pytest.approx(r1.estimate, abs=1e-12) and h.se == pytest.approx(r1.se, rel=1e-10)
    assert h.diagnostics["headline_all_periods"]["estimate"] == pytest.approx(R_DYNAMIC["overall_att"], abs=1e-6)
    assert h.options["horizon_event_times"] == [0, 1]
    with pytest.raises(DesignError):
        fit_cs(_mpdta(), aggregate="group", max_e=1)


def test_its_average_effect_on_a_noise_free_series():
    # y = 1 + 0.1 t, then +2 at T0 and +0.5 per period after: the mean effect over k = 0..5 is 2 + 0.5 * 2.5
    t = np.arange(2000, 2016)
    T0 = 2010
    y = 1 + 0.1 * (t - 2000) + (t >= T0) * (2 + 0.5 * (t - T0)) + 1e-6 * np.sin(t)  # tiny noise: a finite SE
    p = Panel.from_frame(pd.DataFrame({"u": "A", "t": t, "y": y}), unit="u", time="t", outcome="y",
                         require_comparison=False, min_clusters_warn=0)
    from ogimpact.estimation import estimate

    r = its_average(estimate("its", p, treat_time=T0), 5)
    assert r.estimate == pytest.approx(3.25, abs=1e-4)
    assert r.options["horizon_event_times"] == [0, 1, 2, 3, 4, 5] and r.se < 1e-3


def test_estimand_words_state_the_horizon():
    s = staggered_estimand(5, [0, 1, 2])
    assert "0..5" in s.text and "data cover event times 0..2 only" in s.text and s.to_dict()["horizon"] == 5
    u = single_unit_estimand(5, 2008, 2010, unit="CHL")
    assert "2008-2010" in u.text and "the data end in 2010" in u.text and u.event_times == (0, 1, 2)
    assert HORIZON == 5
    with pytest.raises(DesignError):
        staggered_estimand(-1)


# ----------------------------------------------------------------------------- recipe
@pytest.fixture(scope="module")
def chile():
    return recipe.country_question("CHL", "rti_law", "wgi.cc")


def test_country_question_records_one_donor_rule_and_ends_at_the_horizon(chile):
    assert list(chile.results) == ["synth", "sdid", "its", "cs_cohort"]
    assert chile.treat_time == 2008 and chile.estimand.horizon == 5
    docs = chile.docs()
    for d in ("synth", "sdid"):
        assert docs[d]["options"]["donor_rule"]["name"] == "similar"  # the default, recorded
        assert docs[d]["options"]["estimand"] == chile.estimand.text
        assert max(g["time"] for g in docs[d]["gaps"]) <= 2008 + 5
    assert max(g["time"] for g in docs["its"]["gaps"]) == 2013
    assert docs["its"]["options"]["horizon_event_times"] == [0, 1, 2, 3, 4, 5]
    assert docs["cs_cohort"]["options"]["horizon"] == 5
    # every excluded unit has its reason, and no kept donor adopted inside the window
    excl = {e["unit"]: e["reason"] for e in chile.donors["excluded_donors"]}
    assert all(excl.values())
    un = recipe.country_question("CHL", "rti_law", "wgi.cc", donor_rule="untreated", designs=("synth",))
    assert un.docs()["synth"]["options"]["donor_rule"]["name"] == "untreated"
    assert len(un.docs()["synth"]["options"]["donors"]) > len(docs["synth"]["options"]["donors"])


def test_country_question_gives_the_true_reason_when_the_data_cannot_answer():
    # a donor rule no unit can pass: synth says why; ITS, which needs no donors, still runs
    q = recipe.country_question("CHL", "rti_law", "wgi.cc", donor_rule="similar(band=0.001,min_donors=50)",
                                designs=("synth", "its"))
    assert q.results["synth"]["status"] == "not estimable" and "too few comparable" in q.results["synth"]["reason"]
    assert q.results["its"].estimate is not None  # ITS needs no donors


def test_staggered_question_has_one_order_and_the_horizon_estimand():
    q = recipe.staggered_question("rti_law", "wgi.cc", designs=("twfe", "cs"), horizon=3)
    assert list(q.results) == ["cs", "event-study"]
    docs = q.docs()
    assert docs["cs"]["options"]["max_e"] == 3 and docs["cs"]["options"]["horizon_event_times"] == [0, 1, 2, 3]
    es = {r["event_time"]: r["estimate"] for r in docs["event-study"]["event_study"]}
    assert docs["event-study"]["estimate"] == pytest.approx(np.mean([es[e] for e in range(4)]), abs=1e-12)
    assert "0..3" in q.estimand.text


# ----------------------------------------------------------------------------- identity of report and assess
def _cli(*argv, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "ogimpact", *argv], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=900, check=True)


def _same(report_grade: dict, assessed: dict) -> None:
    assert report_grade["measure"] == assessed["measure"]
    assert report_grade["grade"] == assessed["grade"] and report_grade["reasons"] == assessed["reasons"]
    assert report_grade["checks"] == assessed["checks"]  # check inputs included
    assert report_grade["estimand"] == assessed["estimand"] and assessed["estimand"]["horizon"] == 5
    assert [d["design"] for d in report_grade["designs"]] == [d["design"] for d in assessed["designs"]]
    for a, b in zip(report_grade["designs"], assessed["designs"]):
        for k in ("estimate", "se", "ci_low", "ci_high", "p_value", "status", "reason", "placebo", "weights"):
            assert a.get(k) == b.get(k), (a["design"], k)
    assert report_grade == {k: v for k, v in assessed.items()}  # the whole assessment, nothing else differs


@pytest.mark.slow
@pytest.mark.parametrize("report,assess_args", [
    (["report", "country", "CHL", "--intervention", "rti_law"], ["--country", "CHL"]),
    (["report", "cross-country", "--intervention", "rti_law"], []),
], ids=["CHL-rti_law", "cross-country-rti_law"])
def test_report_results_json_and_assess_json_are_identical(tmp_path, report, assess_args):
    measures = "wgi.cc,wgi.ge"
    _cli(*report, "--measures", measures, "--out", str(tmp_path), cwd=tmp_path)
    res = json.loads(next(tmp_path.rglob("results.json")).read_text())
    doc = json.loads(_cli("assess", "--intervention", "rti_law", "--measures", measures, *assess_args, "--json",
                          cwd=tmp_path).stdout)
    assert len(res["grades"]) == len(doc["assessments"]) == 2
    for g, a in zip(res["grades"], doc["assessments"]):
        _same(g, a)
    # every graded design result is also a recorded estimate of the report
    recorded = {(e["measure"], e["design"]): e["result"] for e in res["results"]}
    for a in doc["assessments"]:
        for d in a["designs"]:
            assert recorded[(a["measure"], d["design"])]["estimate"] == d.get("estimate")


@pytest.mark.slow
def test_evidence_map_cells_carry_the_assess_grades_the_estimand_and_their_studies():
    from ogimpact.evidence.assess import assess
    from ogimpact.evidence.assess_map import _domain_measures, evidence_map

    em = evidence_map(interventions=["ogp_member"], seed=0, figure=False)
    dm = _domain_measures("ogp_member", None)
    table = assess("ogp_member", measures=list(dm.values()), seed=0)
    by = {a.measure: a for a in table.assessments}
    for _, c in em.cells.iterrows():
        a = by[c["measure"]]
        assert c["grade"] == a.grade and c["reason"] == "; ".join(a.reasons)
        assert c["estimand"] == a.estimand["text"] and c["horizon"] == 5
        studies = c["studies"].split(",")
        assert c["n_studies"] == len(studies) > 10 and all(len(s) == 3 for s in studies)
    g = {x["measure"]: x for x in em.grades}
    for m, a in by.items():
        assert g[m]["checks"] == a.to_dict()["checks"] and g[m]["grade"] == a.grade


def test_a_shorter_donor_window_ends_every_design_there():
    q = recipe.country_question("CHL", "rti_law", "wgi.cc", donor_rule="untreated(window_end=2011)")
    docs = q.docs()
    assert "2008-2011" in q.estimand.text and "the donor rule's window ends in 2011" in q.estimand.text
    for d in ("synth", "sdid", "its"):
        assert max(g["time"] for g in docs[d]["gaps"]) == 2011, d
    assert docs["its"]["options"]["horizon_event_times"] == [0, 1, 2, 3]
    assert "2008..2011" in docs["cs_cohort"]["options"]["window"]
