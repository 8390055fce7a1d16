"""Readers of the bundled data: known real values, keys, caching, manifest."""
from __future__ import annotations

import math

import pytest

from ogimpact import data
from ogimpact.errors import DataError


def _one(df, **keys):
    sel = df
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"expected one row for {keys}, got {len(sel)}"
    return sel.iloc[0]


def test_data_dir_found_and_manifest_clean():
    assert (data.data_dir() / "raw").is_dir()
    man = data.read_manifest()
    assert list(man.columns) == ["path", "bytes", "sha256", "source"]
    assert man["path"].is_monotonic_increasing
    assert {"raw/wgi/wgi_country_year.csv", "raw/ti_cpi/PROVENANCE.md", "raw/README.md"} <= set(man["path"])
    assert data.verify() == []


def test_data_dir_env_override_must_hold_raw(tmp_path, monkeypatch):
    monkeypatch.setenv("OGIMPACT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="OGIMPACT_DATA_DIR"):
        data.data_dir()


def test_wgi_chile_control_of_corruption():
    w = data.wgi()
    r = _one(w, iso3="CHL", year=2023)
    assert r["cc_est"] == pytest.approx(0.9686, abs=1e-4)
    assert r["cc_se"] > 0
    assert _one(w, iso3="DNK", year=2023)["cc_est"] == pytest.approx(2.38, abs=0.01)
    assert not w.duplicated(["iso3", "year"]).any()
    assert w["iso3"].notna().all()
    assert 1997 not in set(w["year"])


def test_cpi_reshaped_long():
    c = data.ti_cpi()
    assert _one(c, iso3="DNK", year=2024)["score"] == 90
    assert _one(c, iso3="DNK", year=2012)["score"] == 90
    assert _one(c, iso3="CHL", year=2012)["score"] == 72
    assert _one(c, iso3="CHL", year=2024)["score"] == 63
    assert _one(c, iso3="MEX", year=2024)["score"] == 26
    assert set(c["year"]) == set(range(2012, 2025))
    assert "XKX" in set(c["iso3"]) and "KSV" not in set(c["iso3"])
    assert c["se"].notna().all()
    assert not c.duplicated(["iso3", "year"]).any()


def test_cpi_legacy_separate():
    leg = data.ti_cpi_legacy()
    assert leg["year"].max() == 2011
    assert _one(leg, iso3="CHL", year=2008)["score_0_10"] == pytest.approx(6.9)


def test_vdem_keys_and_values():
    v = data.vdem()
    assert _one(v, iso3="CHL", year=2008)["v2x_pubcorr"] == pytest.approx(0.070, abs=0.001)
    assert v["year"].max() == 2023
    assert "v2xme_altinf" in data.vdem_variables()["tag"].tolist()


def test_wjp_wdi_values():
    j = data.wjp()
    r = _one(j, iso3="CHL", year=2024)
    assert r["roli"] == pytest.approx(0.66, abs=0.005) and r["sf32"] == pytest.approx(0.73, abs=0.005)
    w = data.wdi()
    assert _one(w, iso3="CHL", year=2023)["net_users"] == pytest.approx(94.5, abs=0.1)
    assert _one(w, iso3="NAM", year=2020)["iso2"] == "NA"  # Namibia's ISO2 survives


def test_country_reference_namibia():
    ref = data.country_reference()
    assert _one(ref, iso3="NAM")["iso2"] == "NA"
    assert len(data.independent_countries()) == 195


def test_idea_country_year_rule():
    el = data.idea_elections()
    cy = data.idea_country_year()
    assert not cy.duplicated(["iso3", "year"]).any()
    chl = cy[cy["iso3"] == "CHL"].set_index("year")
    assert chl.loc[2009, "election_type"] == "Parliamentary"
    assert chl.loc[2013, "turnout_registered_pct"] == pytest.approx(49.4, abs=0.1)
    # election years only: no value in a year without a national election
    years_with_elections = set(el.loc[(el["iso3"] == "CHL") & (el["election_type"] != "EU Parliament"), "year"])
    assert set(chl.index) == years_with_elections
    # several parliamentary elections in a year -> mean of them
    multi = cy[cy["n_elections"] > 1].iloc[0]
    src = el[(el["iso3"] == multi["iso3"]) & (el["year"] == multi["year"]) & (el["election_type"] == multi["election_type"])]
    assert multi["turnout_vap_pct"] == pytest.approx(src["turnout_vap_pct"].mean()) or math.isnan(multi["turnout_vap_pct"])


def test_subnational_keys():
    cp = data.cplt_scores()
    assert set(cp["measure"]) == {"ta", "dai"}
    assert cp.loc[cp["measure"] == "ta"].groupby("year")["cut_com"].nunique().eq(345).all()
    assert cp.loc[(cp["measure"] == "dai") & (cp["year"] == 2015), "cut_com"].nunique() == 170
    st = data.inai_state_requests()
    assert len(st) == 224 and st["inegi_code"].nunique() == 32
    assert _one(st, state="Chiapas", year=2008)["inegi_code"] == "07"
    fed = data.inai_federal_monthly()
    assert fed.loc[fed["year"] == 2007, "requests"].sum() == 38979
    e = data.ebt_audits()
    assert len(e) == 4488 and (e["score_0_10"].between(0, 10)).all()
    assert (e["unit_level"] == "state").sum() == 81


def test_readers_return_copies():
    a = data.wgi()
    a.loc[:, "cc_est"] = -99.0
    assert (data.wgi()["cc_est"] != -99.0).any()


def test_sources_summary():
    s = data.sources().set_index("id")
    assert len(s) >= 20 and {"rti_laws", "ogp_commitments", "open_budget_survey", "rti_awareness_use",
                             "ogp_membership_timing"} <= set(s.index)
    assert s.loc["rti_laws", "rows"] == 142 + 32  # rti_laws.csv + rti_law_events.csv
    assert s.loc["ti_cpi", "licence"] == "CC BY-ND 4.0"
    assert "no-derivatives" in s.loc["ti_cpi", "licence_flag"]
    assert "non-commercial" in s.loc["rti_rating", "licence_flag"]
    assert s.loc["wgi", "rows"] == 5246
    assert s.loc["ti_cpi", "rows"] == 2112 + 181
    assert s.loc["ti_cpi", "rows"] == len(data.ti_cpi_legacy()) + data.ti_cpi()["iso3"].nunique()


def test_files_read_recorded():
    data.wgi()
    assert "raw/wgi/wgi_country_year.csv" in data.files_read()
