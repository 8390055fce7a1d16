"""The intervention registry and its timing tables."""
from __future__ import annotations

import pandas as pd
import pytest

from ogimpact import interventions as I
from ogimpact.errors import OgimpactError


def _row(t, unit):
    r = t[t["unit"] == unit]
    assert len(r) == 1, unit
    return r.iloc[0]


def test_registry_complete_and_documented():
    ids = {i.id for i in I.registry()}
    assert {"rti_law", "ogp_member", "ogp_action_plan", "open_up_guide", "brazil_lai_regulation"} <= ids
    for i in I.registry():
        assert i.definition and i.citations and i.default_variant in i.variants
        for v in i.variants:
            t = I.timing(i.id, v)
            assert list(t.columns[: len(I.TIMING_COLUMNS)]) == I.TIMING_COLUMNS
            assert (t["variant"] == v).all()
            assert t["treated"].dtype == bool
            assert (t.loc[~t["treated"], "cohort"] == 0).all()
            assert (t.loc[t["treated"], "cohort"].dropna() > 0).all()


def test_rti_law():
    t = I.timing("rti_law")
    assert (t["treated"] & t["cohort"].notna()).sum() >= 135  # 142 rows less 7 no_statute (PHL, BOL, NER, CHN, MCO, SAU, TLS)
    assert _row(t, "CHL")["cohort"] == 2008
    assert _row(t, "MEX")["cohort"] == 2002
    assert _row(t, "IND")["cohort"] == 2005
    # Cuba: Ley 168/2024 approved by the Asamblea Nacional July 2024 (14ymedio.com); the RTI Rating's 2026 is the Gaceta year
    assert _row(t, "CUB")["adopted"] == 2024
    assert (~t["treated"]).sum() >= 50  # never-treated are explicit rows
    assert "VAT" in t.attrs["excluded"]
    f = I.timing("rti_law", "in_force")
    assert _row(f, "CHL")["cohort"] == 2009 and _row(f, "MEX")["cohort"] == 2003
    assert _row(f, "BRA")["in_force"] == 2012


def test_ogp_member_variants():
    j = I.timing("ogp_member", "join")
    a = I.timing("ogp_member", "first_action_plan")
    assert j["treated"].sum() >= 75 and a["treated"].sum() >= 75
    assert (j["treated"] & j["cohort"].notna()).sum() >= 75
    assert (a["treated"] & a["cohort"].notna()).sum() >= 50
    assert _row(j, "CHL")["cohort"] == 2011 and _row(a, "CHL")["cohort"] == 2012
    # Australia joined 2015; its first action plan is December 2016 (ogpau.pmc.gov.au), not the cohort table's 2014
    assert _row(j, "AUS")["cohort"] == 2015 and _row(a, "AUS")["cohort"] == 2016
    assert len(j) >= 195 and (j["cohort"] == 0).sum() > 100


def test_action_plans_and_open_up_guide():
    ap = I.timing("ogp_action_plan", "plan")
    assert {"plan_no", "start", "end"} <= set(ap.columns)
    assert len(ap[ap.unit == "CHL"]) == 6 and len(ap[ap.unit == "MEX"]) == 4
    assert _row(ap[ap.plan_no == 1], "MEX")["start"] == 2011
    og = I.timing("open_up_guide")
    r = _row(og, "MEX")
    assert r["start"] == "2017-07-17" and r["end"] == "2018-04-30"
    assert r["datasets_released"] == 47 and r["data_resources_identified"] == 72


def test_brazil_regulation_parsing():
    assert I.parse_regulation_dates("12/12/2012 / 22/01/2014") == [pd.Timestamp(2012, 12, 12), pd.Timestamp(2014, 1, 22)]
    assert I.parse_regulation_dates("23/08/2013  /  24/02/2014")[0] == pd.Timestamp(2013, 8, 23)
    assert I.parse_regulation_dates("2013-10-17") == [pd.Timestamp(2013, 10, 17)]
    assert I.parse_regulation_dates("NÃO LOCALIZADO") == []
    t = I.timing("brazil_lai_regulation", "year")
    sp = _row(t, "3550308")  # São Paulo: "12/12/2012 / 22/01/2014" -> earliest
    assert sp["adopted_date"] == pd.Timestamp(2012, 12, 12) and sp["cohort"] == 2012
    assert t["unit"].str.len().eq(7).all()
    assert t["treated"].sum() > 700 and (~t["treated"]).sum() > 1000
    assert isinstance(t.attrs["n_unparseable_rows"], int)
    r = I.timing("brazil_lai_regulation")  # default ebt_round: matches ebt.score's round index
    assert r["variant"].iloc[0] == "ebt_round"
    assert set(r["cohort"].dropna().unique()) <= {0, 1, 2, 3, 4}
    assert _row(r, "3550308")["cohort"] == 1  # regulated 2012, before round 1 (Jan 2015)


def test_unknown_ids():
    with pytest.raises(OgimpactError, match="rti_law"):
        I.get("rti")
    with pytest.raises(OgimpactError, match="join"):
        I.timing("ogp_member", "bogus")
