"""TWFE and TWFE event study against fixest / reghdfe / synthdid references, plus simulations."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.event_study import fit_event_study
from ogimpact.designs.twfe import fit_twfe
from ogimpact.errors import DesignError
from ogimpact.estimation import estimate
from ogimpact.panel import Panel
from ogimpact.results import EventStudy

REF = Path(__file__).parent / "reference"


def _panel(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, **kw)


def _es_rows(res):
    return {r["event_time"]: r for r in res.to_dict()["event_study"]}


def test_fixest_base_did_event_study():
    d = pd.read_csv(REF / "event_study_base_did" / "data_cohort.csv")
    ref = json.loads((REF / "event_study_base_did" / "expected.json").read_text())["references"][0]
    p = _panel(d, unit="id", time="period", outcome="y", cohort="cohort", covariates=["x1"], cluster="id")
    res = fit_event_study(p, ref=-1)
    rows = _es_rows(res)
    assert sorted(rows) == [-5, -4, -3, -2, 0, 1, 2, 3, 4] and res.n_obs == 1080 and res.n_clusters == 108
    for period in [1, 2, 3, 4, 6, 7, 8, 9, 10]:
        key = f"period::{period}:treat"
        # fixest walkthrough prints 6 dp: half a unit in the last digit
        assert abs(rows[period - 6]["estimate"] - ref["coef"][key]) <= 5e-7
        assert abs(rows[period - 6]["se"] - ref["se"][key]) <= 5e-7
    x1 = {t["term"]: t for t in res.terms}["x1"]
    assert abs(x1["estimate"] - ref["coef"]["x1"]) <= 5e-7 and abs(x1["se"] - ref["se"]["x1"]) <= 5e-7  # 6 dp
    # headline: mean of the 5 post coefficients, delta-method SE from the event-study vcov
    es = res.event_study
    w = es.post / es.post.sum()
    assert res.estimate == pytest.approx(float(w @ es.estimates), abs=1e-12)  # same arithmetic
    assert res.se == pytest.approx(float(np.sqrt(w @ es.vcov @ w)), abs=1e-12)
    assert res.df == 107 and res.n_treated_units == int(d.loc[d.cohort > 0, "id"].nunique())
    # round trip through the result JSON (what `sensitivity` reads)
    back = EventStudy.from_result_json(res.to_dict())
    np.testing.assert_allclose(back.vcov, es.vcov)
    assert back.ref == -1


def test_reghdfe_ehec_event_study():
    ref = json.loads((REF / "honestdid_ehec" / "expected.json").read_text())["references"][0]
    d = pd.read_csv(REF / "honestdid_ehec" / "data_readme_sample.csv")
    p = _panel(d, unit="stfips", time="year", outcome="dins", cohort="cohort", cluster="stfips")
    res = fit_event_study(p, ref=-1, cluster="stfips")
    rows = _es_rows(res)
    assert res.n_obs == 344 and res.n_clusters == 43 and -1 not in rows
    for year, b in ref["coef"].items():
        e = int(year) - 2014
        # coefficient: 7 dp printed by Stata; 1e-7 because reghdfe's iterative demeaning differs from exact OLS by 5.8e-8
        assert abs(rows[e]["estimate"] - b) <= 1e-7
        assert abs(rows[e]["se"] - ref["se"][year]) <= 5e-7  # SEs printed to 7 dp; tolerance from expected.json
    d2 = pd.read_csv(REF / "honestdid_ehec" / "data_exercise2_sample.csv")
    r2 = fit_event_study(_panel(d2, unit="stfips", time="year", outcome="dins", cohort="cohort"), ref=-1)
    assert r2.n_obs == 304 and sorted(_es_rows(r2)) == [-6, -5, -4, -3, -2, 0, 1]


def test_prop99_twfe_equals_synthdid_did():
    d = pd.read_csv(REF / "prop99_synthdid" / "data.csv")
    p = _panel(d, unit="State", time="Year", outcome="PacksPerCapita", treat="treated")
    res = fit_twfe(p)
    assert abs(res.estimate - (-27.34911)) <= 5e-5  # Stata sdid method(did), 5 dp printed
    assert res.n_clusters == 39 and res.n_treated_units == 1 and res.terms[0]["term"] == "treat"
    assert res.options["cluster"] == "State" and res.df == 38


def _staggered(rng, N=120, T=12, effect=None, cohorts=(5, 8, 0)):
    unit = np.repeat(np.arange(N), T)
    time = np.tile(np.arange(1, T + 1), N)
    coh = np.array(cohorts)[np.arange(N) % len(cohorts)][unit]
    e = np.where(coh > 0, time - coh, -99)
    D = ((coh > 0) & (e >= 0)).astype(float)
    tau = np.where(D == 1, effect(e, coh), 0.0)
    y = rng.normal(size=N)[unit] + 0.3 * time + tau + rng.normal(scale=0.5, size=N * T)
    return pd.DataFrame({"u": unit, "t": time, "y": y, "cohort": coh, "treat": D.astype(int)})


def test_simulated_twfe_recovers_constant_effect():
    df = _staggered(np.random.default_rng(3), effect=lambda e, c: 2.0)
    res = fit_twfe(_panel(df, unit="u", time="t", outcome="y", treat="treat"))
    assert abs(res.estimate - 2.0) < 4 * res.se and res.se < 0.08  # noise sd 0.5, 1,440 obs: SE ~0.04
    assert res.diagnostics["n_negative_weights"] == 0


def test_simulated_event_study_recovers_dynamic_effects():
    df = _staggered(np.random.default_rng(4), effect=lambda e, c: 1.0 + 0.5 * e, cohorts=(5, 0))
    res = fit_event_study(_panel(df, unit="u", time="t", outcome="y", cohort="cohort"))
    es = res.event_study
    truth = np.where(np.array(es.event_times) >= 0, 1.0 + 0.5 * np.array(es.event_times), 0.0)
    z = (es.estimates - truth) / es.se
    assert np.all(np.abs(z) < 4.5)  # 12 coefficients, each within 4.5 SE (false alarm < 1e-4 overall)
    assert res.diagnostics["pretrend_wald_p"] > 1e-3


def test_twfe_bias_under_heterogeneous_staggered_effects():
    """Early cohort's effect grows over time: TWFE's 'forbidden comparisons' bias it.

    Cohorts 3 and 9 of 12 periods, no never-treated units, effect 0.4 * (e + 1).
    The average effect on the treated cells (ATT) is 1.857, while TWFE gives
    -0.23 (SE 0.05): the sign is reversed, a bias of about -2.1 (113% of the
    ATT).  240 of the 840 treated cells (the early cohort's late periods) get
    negative weights summing to -2/3 (de Chaisemartin & D'Haultfœuille 2020).
    """
    df = _staggered(np.random.default_rng(5), effect=lambda e, c: 0.4 * (e + 1), cohorts=(3, 9))
    att = float((0.4 * (df.t - df.cohort + 1))[df.treat == 1].mean())
    res = fit_twfe(_panel(df, unit="u", time="t", outcome="y", treat="treat"))
    bias = res.estimate - att
    assert att == pytest.approx(13 / 7)  # exact: design-determined
    assert bias < -1.5 and res.estimate < 0  # documented above: bias about -2.1 (SE 0.05), sign reversed
    assert res.diagnostics["n_negative_weights"] == 240
    assert res.diagnostics["sum_negative_weights"] == pytest.approx(-2 / 3, abs=1e-9)  # FE algebra only, no noise


def test_window_binning_and_options():
    d = pd.read_csv(REF / "event_study_base_did" / "data_cohort.csv")
    p = _panel(d, unit="id", time="period", outcome="y", cohort="cohort", covariates=["x1"])
    res = fit_event_study(p, window=(-3, 2))
    assert res.event_study.event_times == (-3, -2, 0, 1, 2)
    assert res.options["binned_endpoints"] is True and res.options["window"] == [-3, 2]
    assert "binned" in res.options["binning"]
    full = fit_event_study(p)
    assert full.options["binned_endpoints"] is False and full.options["window"] is None


def test_bootstrap_through_designs():
    d = pd.read_csv(REF / "event_study_base_did" / "data_cohort.csv")
    p = _panel(d, unit="id", time="period", outcome="y", cohort="cohort", covariates=["x1"])
    res = estimate("event-study", p, wild_bootstrap=199, seed=3)
    wb = res.wild_bootstrap
    assert wb["term"] == "event_time::0" and wb["draws"] == 199 and not wb["enumerated"]
    row = _es_rows(res)[0]
    assert wb["t"] == pytest.approx(row["estimate"] / row["se"], rel=1e-9)  # same CRV1 t: rounding only
    res2 = estimate("event-study", p, wild_bootstrap=199, seed=3, test="2")
    assert res2.wild_bootstrap["term"] == "event_time::2"


def test_bad_input():
    d = pd.read_csv(REF / "event_study_base_did" / "data_cohort.csv")
    p = _panel(d, unit="id", time="period", outcome="y", cohort="cohort")
    with pytest.raises(DesignError, match="reference"):
        fit_event_study(p, ref=-9)
    with pytest.raises(DesignError, match="outside --window"):
        fit_event_study(p, window=(0, 3))
    with pytest.raises(DesignError, match="empty"):
        fit_event_study(p, window=(3, 0))
    with pytest.raises(DesignError, match="covariate"):
        fit_event_study(p, covariates=["nope"])
    pn = _panel(d, unit="id", time="period", outcome="y")
    with pytest.raises(DesignError, match="cohort"):
        fit_event_study(pn)
    with pytest.raises(DesignError, match="treatment"):
        fit_twfe(pn)
    pt = _panel(d, unit="id", time="period", outcome="y", treat="post")
    with pytest.raises(DesignError, match="not in the panel"):
        fit_twfe(pt, cluster="nope")
