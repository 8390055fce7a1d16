"""Donor pools as stated, checkable rules (ogimpact.donors) on the bundled registry data."""
from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.data import countries
from ogimpact.donors import MIN_DONORS, parse_rule, select_donors
from ogimpact.errors import DesignError, UsageError
from ogimpact.estimation import registry_panel


@pytest.fixture(scope="module")
def cc_rti():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return registry_panel("synth", measure="wgi.cc", intervention="rti_law")


def _cli_json(capsys, argv):
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out)


def test_acceptance_chile_rti_every_donor_satisfies_the_stated_rule(capsys, cc_rti):
    doc = _cli_json(capsys, ["estimate", "synth", "--measure", "wgi.cc", "--intervention", "rti_law",
                             "--treated", "CHL", "--json"])
    rule = doc["options"]["donor_rule"]
    assert rule["name"] == "similar" and rule["min_donors"] == MIN_DONORS
    first, end = rule["window"]
    donors = [w["unit"] for w in doc["weights"]]
    excluded = doc["options"]["excluded_donors"]
    # every unit of the panel is the treated unit, a donor, or excluded with a reason
    units = set(cc_rti.frame["unit"])
    assert set(donors) | {e["unit"] for e in excluded} | {"CHL"} == units
    assert not set(donors) & {e["unit"] for e in excluded}
    assert len(donors) >= MIN_DONORS
    # re-check the rule from the raw data, independently of the module
    f = cc_rti.frame
    cohort = f.groupby("unit")["cohort"].first()
    ref = countries.country_reference().set_index("iso3")
    v = countries.vdem()
    reg = v[v["year"] == 2007].set_index("iso3")["v2x_regime"]
    pre = f[f["year"] < 2008].groupby("unit")["wgi.cc"].mean()
    lo, hi = rule["treated_characteristics"]["band"]
    for u in donors:
        assert not (0 < cohort[u] <= end), u  # untreated inside the window
        assert ref.loc[u, "wb_region"] == ref.loc["CHL", "wb_region"] or \
            ref.loc[u, "wb_income_group"] == ref.loc["CHL", "wb_income_group"], u
        assert (reg[u] >= 2) == (reg["CHL"] >= 2), u  # Chile is a democracy (v2x_regime 3 in 2007)
        assert lo <= pre[u] <= hi, u
    # the panel the synth used ends where the window ends; the post-period gaps stop there
    assert max(g["time"] for g in doc["gaps"]) == end
    assert doc["options"]["treat_time"] == 2008
    # the default predictors: lagged outcome means plus GDP per capita, population and democracy (pre-period means)
    assert doc["options"]["predictors"] == ("wgi.cc(1996-2003),wgi.cc(2004-2007),wgi.cc(2007),gdp_pc_ppp(1996-2007),"
                                            "pop_tot(1996-2007),v2x_polyarchy(1996-2007)")
    assert [b["predictor"] for b in doc["balance"]][3:] == ["gdp_pc_ppp(1996-2007)", "pop_tot(1996-2007)",
                                                            "v2x_polyarchy(1996-2007)"]
    # the old rule's implausible donors (Singapore: electoral autocracy; Eritrea, Samoa) are out, with reasons
    why = {e["unit"]: e["reason"] for e in excluded}
    assert why["SGP"] == "other_regime"
    assert why["ERI"] == why["WSM"] == "missing_predictor"  # no WDI GDP per capita / V-Dem score before 2008


def test_untreated_rule_is_the_adh_window_rule(cc_rti):
    pool = select_donors(cc_rti, treated="CHL", treat_time=2008, rule="untreated")
    f = cc_rti.frame
    cohort = f.groupby("unit")["cohort"].first()
    n = f.groupby("unit")["wgi.cc"].count()
    expect = sorted(u for u in cohort.index if u != "CHL" and not (0 < cohort[u] <= 2023) and n[u] == n.max())
    assert pool.donors == expect and pool.window == (1996, 2023)
    reasons = {e["reason"] for e in pool.excluded}
    assert reasons == {"treated_in_window", "incomplete_series"}


def test_related_intervention_excludes_its_adopters(cc_rti):
    base = select_donors(cc_rti, treated="CHL", treat_time=2008, rule="untreated")
    rel = select_donors(cc_rti, treated="CHL", treat_time=2008, rule="untreated(related=ogp_member)")
    gone = set(base.donors) - set(rel.donors)
    assert gone and set(rel.donors) < set(base.donors)
    assert {e["reason"] for e in rel.excluded if e["unit"] in gone} == {"related_treated:ogp_member"}
    assert rel.options()["donor_rule"]["related"] == ["ogp_member"]


def test_too_few_donors_is_a_design_error_naming_the_minimum(cc_rti):
    with pytest.raises(DesignError, match=r"the minimum is 40"):
        select_donors(cc_rti, treated="CHL", treat_time=2008, rule="similar(min_donors=40)")


def test_fixed_window_end_and_region_rule(cc_rti):
    pool = select_donors(cc_rti, treated="CHL", treat_time=2008, rule="region(window_end=panel,min_donors=2)")
    ref = countries.country_reference().set_index("iso3")
    assert pool.window == (1996, 2023)
    assert all(ref.loc[u, "wb_region"] == "Latin America & Caribbean" for u in pool.donors)


def test_parse_rule_parameters_and_errors():
    r = parse_rule("similar(band=2, min_donors=4, regime=exact, related=ogp_member+open_up_guide)")
    assert r.params["band"] == 2.0 and r.params["min_donors"] == 4 and r.params["regime"] == "exact"
    assert r.params["related"] == ("ogp_member", "open_up_guide")
    assert parse_rule(None).name == "similar"
    for bad, msg in [("nearest", "unknown donor rule"), ("similar(bandwidth=2)", "no parameter"),
                     ("similar(band=-1)", "positive"), ("similar(regime=strict)", "regime takes")]:
        with pytest.raises(UsageError, match=msg):
            parse_rule(bad)


def test_explicit_donors_and_csv_rule_error(capsys, tmp_path):
    doc = _cli_json(capsys, ["estimate", "sdid", "--measure", "wgi.cc", "--intervention", "rti_law", "--treated",
                             "CHL", "--json"])
    assert doc["options"]["donor_rule"]["name"] == "similar"
    assert {w["unit"] for w in doc["weights"]} >= {"LUX"}
    doc = _cli_json(capsys, ["estimate", "synth", "--measure", "wgi.cc", "--intervention", "rti_law", "--treated",
                             "CHL", "--donors", "SGP,BRB,SUR", "--json"])
    assert doc["options"]["donor_rule"] == {"name": "explicit", "donors": ["SGP", "BRB", "SUR"],
                                            "window": [1996, 2023]}
    assert {w["unit"] for w in doc["weights"]} == {"SGP", "BRB", "SUR"}
    doc = _cli_json(capsys, ["estimate", "synth", "--measure", "wgi.cc", "--intervention", "rti_law", "--treated",
                             "CHL", "--predictors", "wgi.cc(1996-2007)", "--json"])
    assert doc["options"]["predictors"] == "wgi.cc(1996-2007)"  # --predictors overrides the default set
    pd.DataFrame({"u": ["a"] * 4 + ["b"] * 4 + ["c"] * 4, "t": [1, 2, 3, 4] * 3,
                  "y": [1.0, 2, 3, 4, 1, 2, 2, 3, 0, 1, 2, 2]}).to_csv(tmp_path / "d.csv", index=False)
    rc = main(["estimate", "synth", "--data", str(tmp_path / "d.csv"), "--outcome", "y", "--unit", "u", "--time", "t",
               "--treated", "a", "--treat-time", "3", "--donor-rule", "similar"])
    assert rc == 2 and "--donor-rule applies to registry runs" in capsys.readouterr().err
