"""Covariance conventions (ogimpact.numerics.vcov) and FE absorption (numerics.fe)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.numerics.fe import codes, count_fe_levels, demean, nested_in
from ogimpact.errors import DesignError
from ogimpact.numerics.vcov import compute_vcov, dof_k, vcov_matrix

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def grunfeld():
    return pd.read_csv(REF / "grunfeld" / "data.csv")


@pytest.fixture(scope="module")
def base_did():
    return pd.read_csv(REF / "event_study_base_did" / "data.csv")


def _within(df, facs):
    Z = demean(df[["inv", "value", "capital"]].to_numpy(float), facs)
    b = np.linalg.lstsq(Z[:, 1:], Z[:, 0], rcond=None)[0]
    return Z[:, 1:], Z[:, 0] - Z[:, 1:] @ b


def test_demean_one_factor_exact_and_two_factor_matches_dummies():
    rng = np.random.default_rng(1)
    n = 300
    f1, f2 = rng.integers(0, 15, n), rng.integers(0, 7, n)
    X = rng.normal(size=(n, 2))
    D = np.column_stack([np.eye(15)[f1], np.eye(7)[f2][:, 1:]])
    resid = X - D @ np.linalg.lstsq(D, X, rcond=None)[0]
    # alternating projections at tol 1e-12 on a random unbalanced design: agree to ~1e-9
    np.testing.assert_allclose(demean(X, [f1, f2], tol=1e-12), resid, atol=1e-9)
    one = X - pd.DataFrame(X).groupby(f1).transform("mean").to_numpy()
    np.testing.assert_allclose(demean(X, [f1]), one, atol=1e-12)  # exact group means: rounding only
    np.testing.assert_allclose(demean(X[:, 0], []), X[:, 0])  # no factor: unchanged copy (exact)


def test_weighted_demean_is_weighted_projection():
    rng = np.random.default_rng(2)
    f = rng.integers(0, 5, 50)
    x = rng.normal(size=50)
    w = rng.uniform(0.5, 2, 50)
    D = np.eye(5)[f]
    sw = np.sqrt(w)
    b = np.linalg.lstsq(D * sw[:, None], x * sw, rcond=None)[0]
    np.testing.assert_allclose(demean(x, [f], weights=w), x - D @ b, atol=1e-12)  # closed form: rounding only


def test_count_fe_levels_and_nesting():
    unit = np.repeat(np.arange(10), 20)
    time = np.tile(np.arange(20), 10)
    assert count_fe_levels([unit]) == 10
    assert count_fe_levels([unit, time]) == 29  # 10 + 20 - 1 connected component
    assert count_fe_levels([unit, time], exclude=[True, False]) == 20
    assert count_fe_levels([unit], exclude=[True]) == 1  # nested FE keep the absorbed intercept
    # two disconnected blocks: one more redundancy
    u = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    t = np.array([0, 1, 0, 1, 2, 3, 2, 3])
    assert count_fe_levels([u, t]) == 4 + 4 - 2
    assert nested_in(unit, unit) and not nested_in(time, unit)
    assert dof_k(2, [unit], [unit]) == 3 and dof_k(2, [unit, time], [unit]) == 22 and dof_k(2, [unit, time]) == 31


def test_grunfeld_conventions(grunfeld):
    firm, year = codes(grunfeld.firm), codes(grunfeld.year)
    X, e = _within(grunfeld, [firm])
    # plm within (classical): reference printed to 6 dp, tolerance half a unit of the last digit
    se = np.sqrt(np.diag(compute_vcov(X, e, kind="classical", k=dof_k(2, [firm])).V))
    np.testing.assert_allclose(se, [0.011857, 0.017355], atol=5e-7)
    # Stata xtreg, fe vce(cluster firm) / Gretl: 7 significant digits printed
    r = compute_vcov(X, e, kind="cluster", k=dof_k(2, [firm], [firm]), clusters=[firm], cluster_names=["firm"])
    np.testing.assert_allclose(np.sqrt(np.diag(r.V)), [0.0151945, 0.0527518], atol=5e-8)
    assert r.df == 9 and r.n_clusters == 10 and r.name == "CRV1(firm)"
    X2, e2 = _within(grunfeld, [firm, year])
    r2 = compute_vcov(X2, e2, kind="cluster", k=dof_k(2, [firm, year], [firm]), clusters=[firm])
    np.testing.assert_allclose(np.sqrt(np.diag(r2.V)), [0.0108244, 0.0478484], atol=5e-8)  # Gretl 'Model 6', 6 sig. digits
    V, df, desc = vcov_matrix(X, e, kind="robust", k=12)
    assert df == 188 and "HC1" in desc


def test_pooled_cluster_and_panel_newey_west(base_did):
    X = np.column_stack([np.ones(len(base_did)), base_did.x1])
    y = base_did.y.to_numpy()
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    cl = compute_vcov(X, e, kind="cluster", clusters=[codes(base_did.id)])
    # fixest walkthrough prints 6 dp: half a unit of the last digit
    np.testing.assert_allclose(np.sqrt(np.diag(cl.V)), [0.194352, 0.046789], atol=5e-7)
    nw = compute_vcov(X, e, kind="newey-west", unit=base_did.id.to_numpy(), time=base_did.period.to_numpy(), lags=1)
    np.testing.assert_allclose(np.sqrt(np.diag(nw.V)), [0.174111, 0.052699], atol=5e-7)  # fixest NW(1) ~ id + period, 6 dp
    assert nw.ssc["T"] == 10 and nw.name == "NW(1)"


def test_two_way_cluster_is_cgm_combination(base_did):
    X = np.column_stack([np.ones(len(base_did)), base_did.x1])
    y = base_did.y.to_numpy()
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    a, b = codes(base_did.id), codes(base_did.period)
    r = compute_vcov(X, e, kind="cluster", clusters=[a, b])
    assert r.n_clusters == 10 and r.df == 9  # G_min = 10 periods
    # V = V_id + V_period - V_id∩period, each with the same G_min factor (fixest cluster.df = "min")
    f = r.ssc["factor"]
    parts = [compute_vcov(X, e, kind="cluster", clusters=[c]).V / compute_vcov(X, e, kind="cluster", clusters=[c]).ssc["factor"]
             for c in (a, b, codes(base_did.id.astype(str) + "|" + base_did.period.astype(str)))]
    np.testing.assert_allclose(r.V, f * (parts[0] + parts[1] - parts[2]), rtol=1e-10)  # same algebra: rounding only


def test_vcov_bad_input():
    X = np.ones((5, 2))
    with pytest.raises(DesignError, match="unknown covariance"):
        compute_vcov(np.eye(3), np.ones(3), kind="hc7")
    with pytest.raises(DesignError, match="parameters but only"):
        compute_vcov(X[:2], np.ones(2), kind="classical")
    with pytest.raises(DesignError, match="single cluster"):
        compute_vcov(np.random.default_rng(0).normal(size=(5, 1)), np.ones(5), kind="cluster", clusters=[np.zeros(5, int)])
    with pytest.raises(DesignError, match="needs a time"):
        compute_vcov(np.random.default_rng(0).normal(size=(5, 1)), np.ones(5), kind="newey-west")
