"""Linear panel regression (fit_panel) against plm / Stata / Gretl / fixest (tests/reference)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.panel_regression import fit_panel
from ogimpact.errors import DesignError
from ogimpact.panel import Panel

REF = Path(__file__).parent / "reference"


def _panel(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the CLI's construction for design "panel"
        return Panel.from_frame(df, unique_keys=False, regular_time=False, require_comparison=False, **kw)


@pytest.fixture(scope="module")
def gexp():
    return {r["id"]: r for r in json.loads((REF / "grunfeld" / "expected.json").read_text())["references"]}


@pytest.fixture(scope="module")
def gdata():
    return pd.read_csv(REF / "grunfeld" / "data.csv")


def _terms(res):
    return {t["term"]: t for t in res.terms}


CASES = [
    ("plm_within_individual", dict(effects=("unit",), model="fe"), None),
    ("plm_within_time", dict(effects=("time",), model="fe"), None),
    ("plm_within_twoways", dict(effects=("unit", "time"), model="fe"), None),
    ("plm_pooling", dict(effects=(), model="pooled"), None),
    ("plm_random_swar", dict(effects=("unit",), model="re"), None),
    ("gretl_fe_cluster_firm", dict(effects=("unit",), model="fe"), "firm"),
    ("gretl_twoway_dummies_cluster_firm", dict(effects=("unit", "time"), model="fe"), "firm"),
]


@pytest.mark.parametrize("ref_id, kw, cluster", CASES)
def test_grunfeld_reference(gdata, gexp, ref_id, kw, cluster):
    ref = gexp[ref_id]
    p = _panel(gdata, unit="firm", time="year", outcome="inv", covariates=["value", "capital"], cluster=cluster)
    res = fit_panel(p, **kw)
    tm = _terms(res)
    tol = ref["tolerance"]
    for name in ("value", "capital"):
        # tolerances from expected.json: half a unit in the last printed digit
        assert abs(tm[name]["estimate"] - ref["coef"][name]) <= tol["coef_abs"]
        assert abs(tm[name]["se"] - ref["se"][name]) <= tol["se_abs"]
    if "(Intercept)" in ref["coef"]:
        assert abs(tm["Intercept"]["estimate"] - ref["coef"]["(Intercept)"]) <= tol["coef_abs"]  # printed digits
        assert abs(tm["Intercept"]["se"] - ref["se"]["(Intercept)"]) <= tol["se_abs"]
    assert res.estimate == tm["value"]["estimate"] and res.n_obs == 200 and res.n_units == 10
    if cluster:
        assert res.n_clusters == 10 and res.df == 9 and res.options["vcov"] == "CRV1(firm)"
    if ref_id == "plm_random_swar":
        # theta printed to 4 dp; variance components to 6 significant digits
        assert abs(res.diagnostics["theta"] - ref["extra"]["theta"]) <= 5e-5
        assert abs(res.diagnostics["sigma2_idiosyncratic"] - 2784.46) <= 0.005
        assert abs(res.diagnostics["sigma2_individual"] - 7089.8) <= 0.05
    if ref_id == "plm_within_individual":
        assert abs(res.diagnostics["rss"] / ref["extra"]["rss"] - 1) <= 1e-4  # RSS printed to 5 significant digits
        assert abs(res.diagnostics["r2_within"] - ref["extra"]["r2_within"]) <= 5e-6  # 5 dp printed


def test_fixest_pooled_cluster_and_newey_west():
    d = pd.read_csv(REF / "event_study_base_did" / "data.csv")
    ref = json.loads((REF / "event_study_base_did" / "expected.json").read_text())["references"][1]
    p = _panel(d, unit="id", time="period", outcome="y", covariates=["x1"], cluster="id")
    r = fit_panel(p, effects="none")
    tm = _terms(r)
    for k, rk in (("Intercept", "(Intercept)"), ("x1", "x1")):
        # fixest walkthrough: 6 dp printed
        assert abs(tm[k]["estimate"] - ref["coef"][rk]) <= 5e-7
        assert abs(tm[k]["se"] - ref["se_cluster_id"][rk]) <= 5e-7
    p2 = _panel(d, unit="id", time="period", outcome="y", covariates=["x1"])
    r2 = fit_panel(p2, effects="none", vcov="newey-west", hac_lags=1)
    tm2 = _terms(r2)
    for k, rk in (("Intercept", "(Intercept)"), ("x1", "x1")):
        assert abs(tm2[k]["se"] - ref["se_newey_west_L1"][rk]) <= 5e-7  # fixest NW(1), 6 dp printed
    assert r2.options["vcov"] == "NW(1)" and r2.options["hac_lags"] == 1 and r2.n_clusters is None


def test_robust_is_hc1_and_options_recorded(gdata):
    import statsmodels.api as sm

    p = _panel(gdata, unit="firm", time="year", outcome="inv", covariates=["value", "capital"])
    r = fit_panel(p, effects=(), model="pooled", vcov="robust")
    X = sm.add_constant(gdata[["value", "capital"]])
    ols = sm.OLS(gdata["inv"], X).fit(cov_type="HC1")
    np.testing.assert_allclose([t["se"] for t in r.terms], ols.bse.to_numpy(), rtol=1e-9)  # same formula: rounding only
    for key in ("regressors", "effects", "model", "vcov", "ssc", "cluster", "hac_lags", "alpha", "wild_bootstrap", "seed"):
        assert key in r.options
    d = r.to_dict()
    assert d["design"] == "panel" and [t["term"] for t in d["terms"]] == ["Intercept", "value", "capital"]


def test_simulated_fe_regression_recovers_slope():
    rng = np.random.default_rng(7)
    N, T = 200, 8
    unit = np.repeat(np.arange(N), T)
    time = np.tile(np.arange(T), N)
    a = rng.normal(size=N)[unit] * 3
    x = a + rng.normal(size=N * T)  # correlated with the unit effect: pooled OLS biased
    y = 1.5 * x + a + 0.5 * time + rng.normal(size=N * T)
    df = pd.DataFrame({"u": unit, "t": time, "y": y, "x": x})
    r = fit_panel(_panel(df, unit="u", time="t", outcome="y", covariates=["x"], cluster="u"))
    # 1,600 obs, sd(e)=1: SE ~0.026, so 4 SE ~ 0.1
    assert abs(r.estimate - 1.5) < 4 * r.se and r.se < 0.05
    assert r.ci_low < 1.5 < r.ci_high
    pooled = fit_panel(_panel(df, unit="u", time="t", outcome="y", covariates=["x"]), model="pooled")
    assert pooled.estimate > 1.7  # omitted unit effect biases pooled OLS upward (plim 1.5 + 9/10)


def test_missing_cluster_rows_dropped_and_counted():
    d = pd.read_csv(REF / "wild_bootstrap_boottest" / "data_nlsw88.csv")
    d["year"] = 1988
    p = _panel(d, unit="idcode", time="year", outcome="wage", covariates=["tenure", "ttl_exp", "collgrad"],
               cluster="industry")
    r = fit_panel(p, effects="none")
    assert r.n_obs == len(d) - 15 - 14 + int((d.tenure.isna() & d.industry.isna()).sum())
    assert r.diagnostics["n_dropped_missing_cluster"] > 0 and r.n_clusters == 12


def test_bad_input(gdata):
    p = _panel(gdata, unit="firm", time="year", outcome="inv", covariates=["value", "capital"])
    with pytest.raises(DesignError, match="--model"):
        fit_panel(p, model="gmm")
    with pytest.raises(DesignError, match="exactly one effect"):
        fit_panel(p, model="re")
    with pytest.raises(DesignError, match="unknown effect"):
        fit_panel(p, effects=("country",))
    with pytest.raises(DesignError, match="--vcov"):
        fit_panel(p, vcov="sandwich")
    with pytest.raises(DesignError, match="not in the panel"):
        fit_panel(p, regressors=["nope"])
    with pytest.raises(DesignError, match="not in the panel"):
        fit_panel(p, cluster="nope")
    g2 = gdata.assign(const_firm=gdata.firm * 2.0)
    p2 = _panel(g2, unit="firm", time="year", outcome="inv", covariates=["const_firm", "value"])
    with pytest.raises(DesignError, match="collinear"):
        fit_panel(p2, effects=("unit",))
    with pytest.raises(DesignError, match="--test"):
        fit_panel(p, effects=("unit",), wild_bootstrap=99, test="nope")
