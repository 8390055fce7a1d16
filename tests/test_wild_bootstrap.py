"""Restricted wild cluster bootstrap against Stata boottest's unit-test log (tests/reference)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.twfe import fit_twfe
from ogimpact.errors import DesignError
from ogimpact.estimation import estimate
from ogimpact.inference.wild_bootstrap import draw_weights, wild_cluster_bootstrap
from ogimpact.panel import Panel

REF = Path(__file__).parent / "reference" / "wild_bootstrap_boottest"


@pytest.fixture(scope="module")
def refs():
    return {r["id"]: r for r in json.loads((REF / "expected.json").read_text())["references"]}


@pytest.fixture(scope="module")
def collapsed():
    d = pd.read_csv(REF / "data.csv")
    X = np.column_stack([np.ones(len(d)), d.selfemployed, d.post, d.post_self])
    return X, d.hasinsurance.to_numpy(), d.year.to_numpy()


def test_rademacher_enumeration_post_self(collapsed, refs):
    X, y, g = collapsed
    ref = refs["boottest_rademacher_full_enumeration"]
    r = wild_cluster_bootstrap(X, y, g, term=3, null=0.04, B=999, term_name="post_self")
    assert r["enumerated"] and r["draws"] == 256 and r["term"] == "post_self"
    assert abs(r["t"] - ref["t_stat"]) <= 5e-5  # boottest prints 4 dp
    assert r["p_value"] == 19 / 256  # exact: 18 draws beyond |t|, the two ties (v = +1/-1) count half
    assert abs(r["p_value"] - ref["p_value"]) <= 5e-5  # boottest prints 4 dp
    # exact inversion (ties half) is [0.03804, 0.07163]; boottest stops its grid search within 1/256 of
    # alpha, so its printed [0.03874, 0.07098] differs by < 1e-3 (accept.json's tolerance)
    assert abs(r["ci_low"] - ref["ci_95"][0]) <= 1e-3 and abs(r["ci_high"] - ref["ci_95"][1]) <= 1e-3
    # accept.json's exact inversion [0.03804, 0.07163] is quoted on a 1e-5 grid; the p-value jumps from
    # 11/256 to 13/256 at 0.038032 and 0.071631, so agreement is to the grid step
    assert abs(r["ci_low"] - 0.03804) <= 1e-5 and abs(r["ci_high"] - 0.07163) <= 1e-5


def test_rademacher_enumeration_post(collapsed, refs):
    X, y, g = collapsed
    ref = refs["boottest_post_zero"]
    r = wild_cluster_bootstrap(X, y, g, term=2, null=0.0, B=999)
    assert abs(r["t"] - ref["t_stat"]) <= 5e-5  # 4 dp printed
    assert r["p_value"] == 1 / 256  # only the two ties: ties-half rule (boottest printed 0.0000, see accept.json)
    assert abs(r["ci_low"] - ref["ci_95"][0]) <= 1e-3 and abs(r["ci_high"] - ref["ci_95"][1]) <= 1e-3  # grid stop


def test_webb_random(collapsed, refs):
    X, y, g = collapsed
    r = wild_cluster_bootstrap(X, y, g, term=3, null=0.04, B=999, weights="webb", seed=1)
    assert not r["enumerated"] and r["draws"] == 999 and r["seed"] == 1
    assert abs(r["p_value"] - refs["boottest_webb_random"]["p_value"]) <= 0.03  # random draws: expected.json tolerance
    again = wild_cluster_bootstrap(X, y, g, term=3, null=0.04, B=999, weights="webb", seed=1)
    assert again["p_value"] == r["p_value"]  # same seed, same draws


def test_nlsw88_via_fit_panel(refs):
    d = pd.read_csv(REF / "data_nlsw88_xs.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = Panel.from_frame(d, unit="idcode", time="year", outcome="wage", covariates=["tenure", "ttl_exp", "collgrad"],
                             cluster="industry", unique_keys=False, regular_time=False, require_comparison=False)
    res = estimate("panel", p, effects="none", wild_bootstrap=999, test="tenure", seed=1)
    wb = res.to_dict()["wild_bootstrap"]
    ref = refs["nlsw88_tenure_cluster_industry"]
    assert abs(wb["t"] - ref["t_stat"]) <= 5e-5  # deterministic; 4 dp printed
    assert abs(wb["p_value"] - ref["p_value"]) <= 0.03  # 999 random draws (2^12 > 999)
    assert abs(wb["ci_low"] - ref["ci_95"][0]) <= 0.01 and abs(wb["ci_high"] - ref["ci_95"][1]) <= 0.01  # random
    assert res.options["wild_bootstrap"] == 999 and res.options["test"] == "tenure"


def test_fe_partialled_out_matches_dummy_regression():
    """boottest after areg: FE partialled out gives the same t and p as explicit dummies with the same K."""
    rng = np.random.default_rng(11)
    G, T = 9, 6
    unit = np.repeat(np.arange(G), T)
    time = np.tile(np.arange(T), G)
    D = ((unit < 4) & (time >= 3)).astype(float)
    y = rng.normal(size=G)[unit] + 0.2 * time + 0.5 * D + rng.normal(size=G * T)
    df = pd.DataFrame({"u": unit, "t": time, "y": y, "d": D.astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = Panel.from_frame(df, unit="u", time="t", outcome="y", treat="d")
    res = estimate("twfe", p, wild_bootstrap=999)
    wb = res.wild_bootstrap
    assert wb["enumerated"] and wb["draws"] == 512
    assert wb["t"] == pytest.approx(res.estimate / res.se, rel=1e-9)  # same CRV1 t as the analytic result
    Xd = np.column_stack([D, np.eye(G)[unit], np.eye(T)[time][:, 1:]])
    K = 1 + 1 + (T - 1)  # treat + nested unit FE counted as one intercept + time FE
    direct = wild_cluster_bootstrap(Xd, y, unit, term=0, B=999, k=K)
    assert direct["t"] == pytest.approx(wb["t"], rel=1e-8)  # FWL: identical up to rounding
    assert direct["p_value"] == pytest.approx(wb["p_value"], abs=1e-12)


def test_size_under_null_simulation():
    """Few clusters (G = 10), null true: WCR rejects at about the nominal 5% (Cameron et al. 2008)."""
    rng = np.random.default_rng(21)
    G, m = 10, 20
    g = np.repeat(np.arange(G), m)
    rej = 0
    reps = 60
    for _ in range(reps):
        x = rng.normal(size=G)[g] + rng.normal(size=G * m)
        y = rng.normal(size=G)[g] + rng.normal(size=G * m)  # beta = 0
        X = np.column_stack([np.ones(G * m), x])
        rej += wild_cluster_bootstrap(X, y, g, term=1, B=199, seed=_, ci=False)["p_value"] < 0.05
    assert rej / reps <= 0.15  # 60 reps: rejection rate 5% has sd 2.8%; 15% is > 3.5 sd above


def test_weights_and_errors(collapsed):
    V, enum = draw_weights(3, 999, weights="webb", rng=np.random.default_rng(0))
    assert enum and V.shape == (3, 216)  # 6^3 <= 999: Webb enumerated
    V, enum = draw_weights(12, 999, rng=np.random.default_rng(0))
    assert not enum and set(np.unique(V)) == {-1.0, 1.0}
    X, y, g = collapsed
    with pytest.raises(DesignError, match="weights"):
        wild_cluster_bootstrap(X, y, g, term=3, weights="mammen")
    with pytest.raises(DesignError, match="outside"):
        wild_cluster_bootstrap(X, y, g, term=7)
    with pytest.raises(DesignError, match="two clusters"):
        wild_cluster_bootstrap(X, y, np.zeros(len(y)), term=3)
    with pytest.raises(DesignError, match="positive integer"):
        wild_cluster_bootstrap(X, y, g, term=3, B=0)


def test_design_records_the_request_and_inference_runs_it():
    """Designs never import inference (issue 9): the fit records the bootstrap as plain data, and
    ``inference.wild_bootstrap.bootstrap_estimate`` (called by ``estimation.estimate``) runs it."""
    from ogimpact.designs.panel_regression import BOOTSTRAP_REQUEST
    from ogimpact.inference.wild_bootstrap import REQUEST_KEY, bootstrap_estimate

    assert REQUEST_KEY == BOOTSTRAP_REQUEST  # one string, two layers that must not import each other
    rng = np.random.default_rng(5)
    G, T = 8, 5
    unit = np.repeat(np.arange(G), T)
    time = np.tile(np.arange(T), G)
    D = ((unit < 4) & (time >= 2)).astype(int)
    df = pd.DataFrame({"u": unit, "t": time, "y": rng.normal(size=G * T) + 0.3 * D, "d": D})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = Panel.from_frame(df, unit="u", time="t", outcome="y", treat="d")
    fitted = fit_twfe(p, wild_bootstrap=999)
    assert fitted.wild_bootstrap is None and BOOTSTRAP_REQUEST in fitted.extras
    done = bootstrap_estimate(fitted)
    assert BOOTSTRAP_REQUEST not in done.extras and done.wild_bootstrap["enumerated"]  # 2^8 = 256 <= 999
    via = estimate("twfe", p, wild_bootstrap=999)
    assert via.to_dict()["wild_bootstrap"] == done.to_dict()["wild_bootstrap"]
    assert BOOTSTRAP_REQUEST not in via.extras
    plain = fit_twfe(p)
    assert bootstrap_estimate(plain) is plain  # nothing requested: unchanged
