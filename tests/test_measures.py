"""The measure catalogue and its long loader."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ogimpact import measures as M
from ogimpact.errors import OgimpactError

REQUIRED = [
    "wgi.cc", "wgi.ge", "wgi.va", "wgi.rl", "wgi.rq", "wgi.pv", "vdem.v2x_partipdem", "vdem.v2x_cspart",
    "vdem.v2x_corr", "vdem.v2x_pubcorr", "vdem.v2x_polyarchy", "ti.cpi", "ti.cpi_legacy", "idea.turnout_vap",
    "idea.turnout_registered", "wjp.f3_open_government", "wjp.f2_absence_of_corruption", "wjp.roli", "odb.score",
    "godi.score", "wdi.u5_mort", "wdi.elec_acc", "wdi.sec_enrol", "wdi.net_users", "cplt.transparencia_activa",
    "cplt.dai", "chile.egov_index", "inai.requests", "inai.appeals", "ebt.score",
]


def test_catalogue_size_and_domains():
    cat = M.catalogue()
    assert len(cat) >= 35
    assert {m.domain for m in cat} == set(M.DOMAINS)
    for d in M.DOMAINS:
        assert any(m.unit_level == "country" for m in M.catalogue(d)), d
    assert set(REQUIRED) <= {m.id for m in cat}


def test_every_measure_documented():
    for m in M.catalogue():
        assert m.source and m.licence and m.citation and m.label and m.scale, m.id
        assert isinstance(m.higher_is_better, bool)
        assert len(m.years) == 2 and m.years[0] <= m.years[1]
        json.dumps(m.to_dict())


@pytest.mark.parametrize("mid", [m.id for m in M.catalogue()])
def test_load_matches_declared_years(mid):
    m = M.get(mid)
    df = M.load(mid)
    assert list(df.columns) == ["unit", "year", "measure", "value", "se"]
    assert len(df) > 0
    assert (df["year"].min(), df["year"].max()) == tuple(m.years)
    assert not df.duplicated(["unit", "year"]).any()
    assert df["value"].notna().all()
    assert df["se"].notna().any() == m.has_se


def test_load_values_and_filters():
    df = M.load(["wgi.cc", "ti.cpi"], units=["CHL", "DNK"], years=(2023, 2024))
    cc = df[(df.measure == "wgi.cc") & (df.unit == "CHL") & (df.year == 2023)]
    assert cc["value"].iloc[0] == pytest.approx(0.9686, abs=1e-4) and cc["se"].iloc[0] > 0
    assert df[(df.measure == "ti.cpi") & (df.unit == "DNK") & (df.year == 2024)]["value"].iloc[0] == 90
    assert set(df["unit"]) == {"CHL", "DNK"} and set(df["year"]) <= {2023, 2024}
    assert set(M.load("wgi.cc", years="2000:2002")["year"]) == {2000, 2002}
    assert np.isnan(M.load("vdem.v2x_pubcorr", units=["CHL"])["se"]).all()


def test_subnational_units_are_official_codes():
    assert "1101" in set(M.load("cplt.transparencia_activa")["unit"])  # Iquique cut_com
    assert set(M.load("inai.requests")["unit"]) <= {f"{i:02d}" for i in range(1, 33)}
    ebt = M.load("ebt.score")
    assert ebt["unit"].str.len().eq(7).all()


def test_unknown_measure_lists_close_matches():
    with pytest.raises(OgimpactError, match="wgi.cc"):
        M.get("wgi.ccc")
    with pytest.raises(OgimpactError):
        M.catalogue("nonsense")
