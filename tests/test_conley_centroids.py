"""Conley SEs on registry panels: ISO3 units take the bundled country centroids.

The centroid table is Google DSPL's ``countries.csv`` plus a cited supplement (data/raw/country_centroids/PROVENANCE.md); the
known-facts test checks rows against the values printed in that source file (exact: copied byte for
byte).  The Conley estimator itself is tested in test_vcov_new_kinds.py; here a registry run without
--lat/--lon must equal the same regression with the centroid columns given explicitly (exact identity,
tolerance 1e-12).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from ogimpact.data.centroids import country_centroids
from ogimpact.designs.twfe import fit_twfe
from ogimpact.errors import DesignError
from ogimpact.estimation import registry_panel
from ogimpact.panel import Panel


def test_centroid_rows_are_the_source_values():
    c = country_centroids().set_index("iso3")
    # rows of samples/google/canonical/countries.csv @ google/dspl db79dad
    assert tuple(c.loc["TZA", ["lat", "lon"]]) == (-6.369028, 34.888822)
    assert tuple(c.loc["TUR", ["lat", "lon"]]) == (38.963745, 35.243322)
    assert tuple(c.loc["HUN", ["lat", "lon"]]) == (47.162494, 19.503304)
    assert tuple(c.loc["XKX", ["lat", "lon"]]) == (42.602636, 20.902977)
    assert tuple(c.loc["NAM", ["lat", "lon"]]) == (-22.95764, 18.49041)
    assert c["lat"].between(-90, 90).all() and c["lon"].between(-180, 180).all()
    assert c.index.is_unique


UNITS = ["TZA", "TUR", "HUN", "KEN", "UGA", "RWA", "GHA", "NGA", "ZAF", "BRA", "MEX", "CHL", "ARG", "COL", "PER",
         "DEU", "FRA", "ITA", "ESP", "POL"]


@pytest.fixture(scope="module")
def reg():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return registry_panel("twfe", measure="wgi.va", intervention="ogp_member", units=UNITS)


def test_registry_conley_uses_centroids(reg):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        a = fit_twfe(reg, vcov="conley", cutoff=1500.0)
    assert any("conley_country_centroids" in str(w.message) or getattr(w.message, "code", "") ==
               "conley_country_centroids" for w in rec)
    f = reg.frame.copy()
    c = country_centroids().set_index("iso3")
    f["clat"] = c.loc[f[reg.unit].astype(str), "lat"].to_numpy()
    f["clon"] = c.loc[f[reg.unit].astype(str), "lon"].to_numpy()
    p = Panel.from_frame(f, unit=reg.unit, time=reg.time, outcome=reg.outcome, treat="treat",
                         extra=["clat", "clon", "cohort"], regular_time=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = fit_twfe(p, vcov="conley", cutoff=1500.0, lat="clat", lon="clon")
    assert a.estimate == pytest.approx(b.estimate, abs=1e-12)
    assert a.se == pytest.approx(b.se, abs=1e-12)
    assert np.isfinite(a.se) and a.se > 0


def test_unknown_country_is_one_sentence(reg):
    f = reg.frame.copy()
    f.loc[f[reg.unit] == "TZA", reg.unit] = "QQQ"
    p = Panel.from_frame(f, unit=reg.unit, time=reg.time, outcome=reg.outcome, treat="treat", extra=["cohort"],
                         regular_time=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DesignError, match="QQQ"):
            fit_twfe(p, vcov="conley", cutoff=1500.0)


def test_south_sudan_comes_from_the_cited_supplement():
    """SSD is missing from the DSPL table; supplement.csv gives the CIA World Factbook point (8 00 N, 30 00 E)."""
    c = country_centroids().set_index("iso3")
    assert tuple(c.loc["SSD", ["lat", "lon"]]) == (8.0, 30.0)
    assert c.index.is_unique


def test_default_ogp_registry_panel_runs_conley_without_coordinates():
    """The default ogp_member registry panel includes South Sudan: Conley must run on it without --units."""
    p = registry_panel("twfe", measure="wgi.cc", intervention="ogp_member")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_twfe(p, vcov="conley", cutoff=1500.0)
    assert np.isfinite(r.se) and r.se > 0
