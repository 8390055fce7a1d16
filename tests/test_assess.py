"""Evidence assessment: simulated panels through the real designs, the report hook, the CLI contract."""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.evidence import assess_grade
from ogimpact.evidence.assess import Assessment, AssessmentTable, assess_country_panel, assess_panel
from ogimpact.evidence.assess_map import evidence_map, grade_report_entries
from ogimpact.evidence.grading import load_rubric
from ogimpact.panel import Panel
from ogimpact.reports.context import ReportContext

GRADES = {"High", "Moderate", "Low", "Very low", "Insufficient"}


def staggered_panel(*, seed=1, effect=1.0, pretrend=0.0, n_per=15, T=12) -> Panel:
    """Cohorts 5, 7, 9 and never-treated, n_per units each; unit FE, common trend, N(0, 0.5^2) noise.

    ``pretrend`` adds a differential linear trend (per period, pre and post) to treated units.
    """
    rng = np.random.default_rng(seed)
    rows, u = [], 0
    for g in (5, 7, 9, 0):
        for _ in range(n_per):
            a = rng.normal(0, 1)
            t = np.arange(1, T + 1)
            y = a + 0.1 * t + rng.normal(0, 0.5, T)
            if g:
                y = y + pretrend * (t - g) + effect * (t >= g)
            rows += [(f"u{u:03d}", int(tt), float(yy), g) for tt, yy in zip(t, y)]
            u += 1
    df = pd.DataFrame(rows, columns=["unit", "time", "y", "cohort"])
    return Panel.from_frame(df, unit="unit", time="time", outcome="y", cohort="cohort", min_clusters_warn=0)


@pytest.fixture(scope="module")
def clean():
    return assess_panel(staggered_panel(), mie=0.5, seed=0)


@pytest.fixture(scope="module")
def planted():
    return assess_panel(staggered_panel(pretrend=0.3), mie=0.5, seed=0)


def _check(a: Assessment, domain: str):
    return next(c for c in a.checks if c.domain == domain)


def test_clean_design_keeps_its_grade(clean):
    ran = [d["design"] for d in clean.designs if assess_grade.ok(d)]
    assert set(ran) == {"cs", "sun-abraham", "imputation", "event-study"}
    # effect 1.0; 60 units: the CS dynamic ATT is within 0.25 of the truth (SE ~0.1, i.e. > 2.5 SE)
    assert abs(clean.headline["estimate"] - 1.0) < 0.25
    pt = _check(clean, "parallel_trends")
    assert pt.severity == 0 and pt.inputs["pretest_p"] > 0.05
    assert pt.inputs["breakdown_mbar"] >= load_rubric().data["checks"]["parallel_trends"]["breakdown_min"]
    assert _check(clean, "consistency").severity == 0
    assert _check(clean, "precision").severity == 0
    assert clean.graded.score >= 3 and clean.grade in ("Moderate", "High")
    assert clean.reasons[0].startswith("base 3")


def test_planted_pretrend_lowers_the_grade(clean, planted):
    pt = _check(planted, "parallel_trends")
    assert pt.severity < 0 and pt.inputs["pretest_p"] < 0.05
    assert any(r.startswith("\u22121 parallel_trends") or r.startswith("\u22122 parallel_trends")
               for r in planted.reasons)
    assert planted.graded.score < clean.graded.score
    assert planted.graded.upgrade == 0


def test_checks_have_inputs_and_the_rubric_is_recorded(clean):
    d = clean.to_dict()
    rub = load_rubric()
    assert d["grading_yaml_sha"] == rub.sha256 and d["rubric_version"] == rub.version
    assert d["grade"] in GRADES and d["reasons"]
    doms = [c["domain"] for c in d["checks"]]
    assert doms == ["parallel_trends", "pretrend_power", "few_clusters", "consistency", "precision", "multiplicity"]
    for c in d["checks"]:
        assert {"domain", "passed", "severity", "inputs", "reason"} <= set(c)
        assert c["inputs"]
    pt = d["checks"][0]["inputs"]
    assert pt["source"] == "cs event study" and pt["window"] == [-5, 5]
    assert d["sensitivity"]["method"] == "rm"
    json.dumps(d)  # JSON-safe


def test_few_clusters_runs_the_wild_bootstrap():
    a = assess_panel(staggered_panel(n_per=4, seed=3), mie=0.5, seed=0)
    fc = _check(a, "few_clusters")
    assert fc.inputs["n_clusters"] == 16 and fc.inputs["headline_p"] == "wcb"
    assert fc.inputs["p_wcb"] is not None
    assert a.notes["wild_cluster_bootstrap"]["wild_bootstrap"]["weights"] == "webb"


def test_multiplicity_family_adjustment_and_downgrade(clean):
    fam = assess_grade.family_adjust({"a": 0.01, "b": 0.04, "c": 0.30})
    # Holm: sorted p * (m - rank), running max; BH: p * m / rank, running min from the top (exact arithmetic)
    assert fam["holm"] == pytest.approx({"a": 0.03, "b": 0.08, "c": 0.30}, abs=1e-12)
    assert fam["bh"] == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.30}, abs=1e-12)
    assert fam["romano_wolf"] is None
    docs = {d["design"]: d for d in clean.designs}
    p = clean.headline["p_value"]
    fam = {"family": ["y", "z"], "size": 2, "p_raw": {"y": 0.04, "z": 0.5}, "holm": {"y": 0.08, "z": 0.5},
           "bh": {"y": 0.08, "z": 0.5}, "romano_wolf_note": "n/a"}
    checks, g, _, _ = assess_grade.grade_staggered(docs, measure="y", family=fam, mie=0.5)
    m = next(c for c in checks if c.domain == "multiplicity")
    assert m.severity == -1 and m.inputs["p_adjusted"] == 0.08 and p is not None


def test_honestdid_missing_proceeds_without_breakdown(clean, monkeypatch):
    monkeypatch.setitem(sys.modules, "ogimpact.inference.sensitivity", None)  # import now raises ImportError
    docs = {d["design"]: d for d in clean.designs}
    c, sens = assess_grade.parallel_trends(docs)
    assert sens is None and c.inputs["breakdown_mbar"] is None and c.inputs["pretest_p"] is not None
    assert "HonestDiD is not available" in c.reason


def test_grade_report_entries_grades_recorded_results(clean):
    ctx = ReportContext(None, kind="cross-country", parameters={"seed": 0})
    for d in clean.designs:
        ctx.entries.append({"measure": "sim.y", "design": d["design"], "unit": None, "role": "estimate", "result": d})
    out = grade_report_entries(ctx, country=None, intervention="rti_law")
    assert len(out) == 1
    g = out[0]
    assert g["measure"] == "sim.y" and g["grade"] in GRADES and g["reasons"] and g["checks"]
    assert g["design"] == "cs+sun-abraham+imputation+event-study"


def country_panel(*, seed=2, effect=2.0, J=24, T=20, t0=14):
    """Factor model: y_it = a_i + l_i f_t + e_it; the treated unit's loading is inside the donors' range."""
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 0.3, T))
    lo = rng.uniform(0.5, 1.5, J + 1)
    lo[0] = 1.0
    rows = []
    for i in range(J + 1):
        y = 5 + lo[i] * f + rng.normal(0, 0.1, T)
        if i == 0:
            y = y + effect * (np.arange(1, T + 1) >= t0)
        rows += [("TRT" if i == 0 else f"D{i:02d}", t, float(v)) for t, v in zip(range(1, T + 1), y)]
    df = pd.DataFrame(rows, columns=["unit", "time", "y"])
    return Panel.from_frame(df, unit="unit", time="time", outcome="y", require_comparison=False, min_clusters_warn=0)


def test_country_assessment_on_a_simulated_synthetic_control():
    p = country_panel()
    donors = [u for u in p.frame["unit"].unique() if u != "TRT"]
    a = assess_country_panel(p, "TRT", treat_time=14, donors=donors, seed=0, sdid_reps=20, mie=1.0)
    assert a.graded.design == "synth"
    # effect 2.0 with noise sd 0.1: synth gap within 0.3 of the truth (pre-fit error ~0.1, > 3 SD)
    assert abs(a.headline["estimate"] - 2.0) < 0.3
    pl = _check(a, "placebo")
    assert pl.inputs["n_donors"] == 24 and pl.inputs["in_space_p"] == pytest.approx(1 / 25)  # rank 1 of 25
    assert pl.severity == 0 and not pl.blocks_upgrade
    assert a.context is not None and a.context["scored"] is False
    assert any(d["design"] == "cs_cohort" and d["status"] == "not estimable" for d in a.designs)
    # the report hook grades the same recorded results the same way
    ctx = ReportContext(None, kind="country", parameters={"seed": 0})
    for d in a.designs:
        ctx.entries.append({"measure": "sim.y", "design": d["design"], "unit": "TRT", "role": "estimate", "result": d})
    out = grade_report_entries(ctx, country="TRT", intervention="rti_law")
    assert out[0]["design_kind"] == "synth" and out[0]["context_williamson_eisen"]["scored"] is False
    assert [c["domain"] for c in out[0]["checks"]] == [c.domain for c in a.checks]


@pytest.fixture(scope="module")
def acceptance(tmp_path_factory):
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["assess", "--intervention", "rti_law", "--measures", "wgi.cc,vdem.v2x_partipdem,vdem.v2x_cspart",
                   "--json"])
    return rc, buf.getvalue()


def test_cli_acceptance_json_shape(acceptance):
    rc, out = acceptance
    assert rc == 0
    doc = json.loads(out)
    assert doc["intervention"] == "rti_law"
    assert [a["measure"] for a in doc["assessments"]] == ["wgi.cc", "vdem.v2x_partipdem", "vdem.v2x_cspart"]
    for a in doc["assessments"]:
        assert {"measure", "country", "designs", "checks", "grade", "reasons"} <= set(a)
        assert a["country"] is None and a["grade"] in GRADES and a["reasons"]
        ran = [d for d in a["designs"] if d.get("status") is None and d.get("estimate") is not None]
        assert len(ran) >= 3
        for c in a["checks"]:
            assert {"domain", "passed", "severity", "inputs", "reason"} <= set(c)
        mult = next(c for c in a["checks"] if c["domain"] == "multiplicity")
        assert mult["inputs"]["family"] == ["wgi.cc", "vdem.v2x_partipdem", "vdem.v2x_cspart"]
        _issue12_keys(a)
    assert doc["rubric"]["grading_yaml_sha"] == load_rubric().sha256
    assert doc["headline"].startswith("RTI law adoption, 3 measures graded (")


def _issue12_keys(a, single_unit=False):
    """Issue 12 acceptance keys: headline sentence, grade_target, complete reasons, the design checks."""
    assert isinstance(a["headline"], str) and a["headline"].endswith(".") and "certainty" in a["headline"].lower() \
        or a["headline"].startswith("Insufficient evidence")
    t = a["grade_target"]
    assert t["kind"] in ("effect", "no_effect") and t["threshold"] > 0
    assert t["text"].startswith("certainty that there is " + ("an effect of at least" if t["kind"] == "effect"
                                                             else "no effect larger than"))
    doms = {c["domain"]: c for c in a["checks"]}
    assert "pretrend_power" in doms and "precision" in doms
    prec = doms["precision"]["inputs"]
    assert prec["mie"] > 0 and prec["mie_rule"] and prec["mie"] == pytest.approx(t["threshold"])
    for c in a["checks"]:  # reasons whole: every downgrade's reason appears in full
        if c["severity"] < 0:
            assert any(r.endswith(c["reason"]) for r in a["reasons"])
    if single_unit:
        assert {"pre_fit", "donor_similarity", "effective_donors", "hull", "loo_stability"} <= set(doms)
    assert isinstance(a["diagnostics"]["warnings"], list)


def test_cli_single_country_json_has_the_issue12_keys(capsys):
    assert main(["assess", "--intervention", "rti_law", "--measures", "wgi.cc", "--country", "CHL", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    a = doc["assessments"][0]
    _issue12_keys(a, single_unit=True)
    assert a["headline"].startswith("Insufficient evidence on whether Chile's 2008 RTI law changed WGI Control of "
                                    "Corruption") or "Chile's 2008 RTI law" in a["headline"]
    pf = next(c for c in a["checks"] if c["domain"] == "pre_fit")["inputs"]
    assert pf["cross_unit_sd"] == pytest.approx(1.0, abs=0.02)  # WGI: SD 1 across countries each year


@pytest.mark.parametrize("argv", [
    ["assess", "--intervention", "no_such_thing"],
    ["assess", "--intervention", "rti_law", "--measures", "no.such"],
    ["assess", "--intervention", "rti_law", "--measures", "ebt.score"],       # municipal measure, country intervention
    ["assess", "--intervention", "rti_law", "--country", "XXX"],
    ["assess", "--intervention", "rti_law", "--mie", "-1"],
    ["assess", "--intervention", "rti_law", "--measures", "wgi.cc", "--mie", "wgi.ge=0.1"],
    ["assess", "--intervention", "rti_law", "--years", "2020:2000"],
    ["assess", "--intervention", "rti_law", "--country", "USA", "--measures", "wgi.cc"],  # always treated: no data
    ["assess"],
])
def test_cli_bad_input_exits_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ogimpact: error:") and err.count("\n") == 1


def test_evidence_map_cells_and_pooling():
    em = evidence_map(interventions=["ogp_member", "ogp_local"], measures=["wgi.cc"], seed=0)
    c = em.cells
    assert len(c) == 8 and set(c["status"]) <= {"graded", "gap"}
    assert (c.loc[c["intervention"] == "ogp_local", "status"] == "gap").all()
    row = c[(c["intervention"] == "ogp_member") & (c["measure"] == "wgi.cc")].iloc[0]
    assert row["grade"] in GRADES and row["n_studies"] > 0 and bool(row["synthesised"])
    pooled = em.pooled[(em.pooled["intervention"] == "ogp_member") & (em.pooled["measure"] == "wgi.cc")]
    assert len(pooled) == 1 and pooled["k"].iloc[0] >= 2 and pooled["method"].iloc[0] == "reml"
    assert em.figure is not None


def test_assessment_table_summary(clean):
    t = AssessmentTable(intervention="sim", assessments=(clean,), options={"seed": 0})
    s = t.summary()
    assert "not a verdict" in s and clean.grade in s
    assert list(t.to_frame().columns[:4]) == ["measure", "country", "grade", "score"]
