"""Thin cohorts as R ``did`` does them (issue 9, item 1).

R ``did`` estimates every cohort with at least one unit and only warns about groups smaller than
``length(covariates) + 5`` (``pre_process_did``: "Be aware that there are some small groups in your
dataset"); ogimpact estimates them too, warns ``small_cohort`` and lists them in
``diagnostics.small_cohorts``; ``--min-cohort-size N`` drops smaller cohorts and records them.

References: ``tests/reference/castle_cs`` (castle-doctrine panel, Florida alone in 2006; csdid 0.4.3,
a port that reproduces R did to ~3e-15, see its SOURCE.md; tolerance 1e-10) and the 2x2 DiD
computed by hand from the raw data (R did's formula for a no-covariate cell: the difference of mean
outcome changes, analytic SE sqrt(sum IF^2)/n with IF = n/n_T (dY - m_T) on the cohort and
-n/n_C (dY - m_C) on the comparison units; tolerance 1e-12, rounding only).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.estimation import drop_small_cohorts, estimate
from ogimpact.panel import Panel

REF = Path(__file__).parent / "reference"
CASTLE = pd.read_csv(REF / "castle_cs" / "data.csv")
CASTLE_EXP = json.loads((REF / "castle_cs" / "expected.json").read_text())
MPDTA = pd.read_csv(REF / "mpdta" / "data.csv")


def _castle_panel(df=CASTLE):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, unit="sid", time="year", outcome="l_homicide", cohort="cohort")


@pytest.mark.parametrize("control,cg", [("never", "nevertreated"), ("notyet", "notyettreated")])
def test_castle_single_state_cohort_matches_the_r_did_port(control, cg):
    exp = CASTLE_EXP["runs"][cg]
    panel = _castle_panel()
    for agg in ("simple", "group", "dynamic", "calendar"):
        r = estimate("cs", panel, control=control, aggregate=agg)
        assert abs(r.estimate - exp["agg"][agg]["overall_att"]) < 1e-10, agg
        assert abs(r.se - exp["agg"][agg]["overall_se"]) < 1e-10, agg
    got = {(c["group"], c["time"]): c for c in r.tables["group_time"]}
    assert len(got) == len(exp["group_time"])
    for row in exp["group_time"]:
        c = got[(row["group"], row["time"])]
        assert abs(c["estimate"] - row["estimate"]) < 1e-10
        assert abs(c["se"] - row["se"]) < 1e-10
    # R did / csdid: "Check groups: 2006,2008,2009,2010" (covariates + 5 = 5 units)
    assert r.diagnostics["small_cohorts"] == [2006, 2008, 2009, 2010]
    codes = [w["code"] for w in r.diagnostics["warnings"]]
    assert "small_cohort" in codes
    msg = next(w["message"] for w in r.diagnostics["warnings"] if w["code"] == "small_cohort")
    for g in ("2006 (1 unit)", "2008", "2009", "2010 (1 unit)"):
        assert g in msg


def test_single_unit_cohort_is_the_hand_computed_2x2():
    df = MPDTA.copy()
    one = df.loc[df["first.treat"] == 0, "countyreal"].iloc[0]
    df.loc[df.countyreal == one, "first.treat"] = 2005
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    r = estimate("cs", panel, control="never")
    wide = df.pivot(index="countyreal", columns="year", values="lemp")
    g = df.groupby("countyreal")["first.treat"].first()
    never = wide[g == 0]
    n = len(wide)
    for t, base in ((2005, 2004), (2006, 2004), (2007, 2004), (2004, 2003)):
        d_t = wide.loc[one, t] - wide.loc[one, base]
        d_c = never[t] - never[base]
        att = d_t - d_c.mean()
        # the single treated unit's influence is n/1 (dY - mean dY) = 0: only the comparison units vary
        se = np.sqrt(np.sum((n / len(d_c) * (d_c - d_c.mean())) ** 2)) / n
        cell = next(c for c in r.tables["group_time"] if c["group"] == 2005 and c["time"] == t)
        assert abs(cell["estimate"] - att) < 1e-12
        assert abs(cell["se"] - se) < 1e-12
    assert 2005 in r.diagnostics["small_cohorts"]


def test_min_cohort_size_drops_and_records():
    panel = _castle_panel()
    for design in ("cs", "sun-abraham", "imputation"):
        r = estimate(design, panel, min_cohort_size=2)
        assert r.options["min_cohort_size"] == 2
        assert r.diagnostics["dropped_small_cohorts"] == {"2006": ["10"], "2010": ["27"]}
        assert r.options["panel"]["dropped_small_cohorts"] == {"2006": ["10"], "2010": ["27"]}
        assert any(w["code"] == "small_cohort_dropped" for w in r.diagnostics["warnings"])
        assert r.n_treated_units == 19
    # default: nothing dropped, recorded as 1
    r = estimate("sun-abraham", panel)
    assert r.options["min_cohort_size"] == 1 and r.diagnostics["dropped_small_cohorts"] == {}
    assert r.n_treated_units == 21
    # the source panel is untouched
    assert "small_cohort_dropped" not in panel.info.get("warning_codes", {}).values()


def test_min_cohort_size_equals_dropping_by_hand():
    keep = CASTLE[~CASTLE.cohort.isin([2006, 2010])]
    a = estimate("cs", _castle_panel(), min_cohort_size=2, control="notyet")
    b = estimate("cs", _castle_panel(keep), control="notyet")
    assert abs(a.estimate - b.estimate) < 1e-14 and abs(a.se - b.se) < 1e-14


def test_min_cohort_size_validation():
    from ogimpact.errors import OgimpactError

    with pytest.raises(OgimpactError, match="min_cohort_size"):
        drop_small_cohorts(_castle_panel(), min_units=0)
    with pytest.raises(OgimpactError, match="min_cohort_size"):
        estimate("twfe", _castle_panel(), min_cohort_size=3)


def test_cli_castle_single_unit_cohort(tmp_path, capsys):
    path = tmp_path / "castle.csv"
    CASTLE.to_csv(path, index=False)
    base = ["estimate", "cs", "--data", str(path), "--outcome", "l_homicide", "--unit", "sid", "--time", "year",
            "--cohort", "cohort"]
    assert main([*base, "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert abs(doc["estimate"] - CASTLE_EXP["runs"]["nevertreated"]["agg"]["simple"]["overall_att"]) < 1e-10
    assert doc["options"]["min_cohort_size"] == 1
    assert doc["diagnostics"]["small_cohorts"] == [2006, 2008, 2009, 2010]
    assert err == ""  # JSON mode: the warnings are in the document
    assert main([*base, "--min-cohort-size", "2"]) == 0
    out, err = capsys.readouterr()
    assert "[small_cohort_dropped]" in err and "[small_cohort]" in err
    assert main([*base, "--min-cohort-size", "0"]) == 2
    capsys.readouterr()


def test_registry_default_keeps_single_unit_cohorts():
    import inspect

    from ogimpact.estimation import MIN_COHORT_SIZE, registry_panel
    from ogimpact.evidence.assess_runs import robust_panel

    assert MIN_COHORT_SIZE == 1
    assert inspect.signature(registry_panel).parameters["min_cohort_units"].default == MIN_COHORT_SIZE
    # assess's robust panel follows the same default: a one-unit cohort stays in
    p = robust_panel(_castle_panel())
    assert p.info["dropped_small_cohorts"] == {}
    assert set(p.frame.groupby("sid")["cohort"].first()) >= {2006, 2010}
