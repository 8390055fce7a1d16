"""Imputation / two-stage DiD (Borusyak-Jaravel-Spiess 2024; Gardner 2021, R did2s)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.numerics.fe import codes, demean
from ogimpact.designs.imputation import FESolver, fit_imputation
from ogimpact.errors import DesignError, OgimpactError
from ogimpact.panel import Panel

REF = Path(__file__).parent / "reference" / "did2s_df_het"


def _panel(df, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, **kw)


@pytest.fixture(scope="module")
def did2s_panel():
    df = pd.read_csv(REF / "data.csv")
    return _panel(df, unit="unit", time="year", outcome="dep_var", cohort="g", cluster="state", extra=["state"])


@pytest.fixture(scope="module")
def did2s_fit(did2s_panel):
    return fit_imputation(did2s_panel, fe=["state", "year"], cluster="state", se="two-stage")


def _lookup(doc: dict, path: str) -> float:
    if path in ("estimate", "se"):
        return doc[path]
    key, field = path.rsplit(".", 1)
    e = int(key.split("=")[1].rstrip("]"))
    row = next(r for r in doc["event_study"] if r["event_time"] == e)
    return row[field]


# ----------------------------------------------------------------------------- reference: R did2s
def test_did2s_reference_all_checks(did2s_fit):
    doc = did2s_fit.to_dict()
    checks = json.loads((REF / "accept.json").read_text())["runs"][0]["checks"]
    assert len(checks) == 44
    for c in checks:
        # tolerance: accept.json's own atol (1e-6); R did2s output is stored at full double precision
        assert abs(_lookup(doc, c["path"]) - c["value"]) <= c["atol"], c["path"]


def test_did2s_reference_is_exact(did2s_fit):
    expected = json.loads((REF / "expected.json").read_text())["references"][0]
    # 1e-9: the FE normal equations are solved exactly (Schur complement), measured diff ~1e-13 / 1e-15
    assert did2s_fit.estimate == pytest.approx(expected["coef"]["treat"], abs=1e-9)
    assert did2s_fit.se == pytest.approx(expected["se"]["treat"], abs=1e-9)


def test_did2s_result_shape(did2s_fit):
    d = did2s_fit.to_dict()
    assert d["design"] == "imputation"
    assert d["n_obs"] == 46500 and d["n_clusters"] == 40
    assert [r["event_time"] for r in d["event_study"]] == list(range(0, 21))
    assert np.array(d["vcov"]).shape == (21, 21)
    assert d["terms"][0]["term"] == "ATT"
    assert d["options"]["fe"] == ["state", "year"] and d["options"]["se"] == "two-stage"
    assert d["options"]["cluster"] == "state"
    assert did2s_fit.df == 39  # t(G-1) for clustered CIs (contract)
    assert d["diagnostics"]["n_dropped"] == 0
    assert 0 <= d["diagnostics"]["pretrend_wald_p"] <= 1
    assert did2s_fit.event_study.ref is None


def test_bjs_same_point_estimate(did2s_panel, did2s_fit):
    r = fit_imputation(did2s_panel, fe=["state", "year"], cluster="state", se="bjs")
    # 1e-10: identical arithmetic for the point estimate; only the variance differs
    assert r.estimate == pytest.approx(did2s_fit.estimate, abs=1e-10)
    assert r.se > 0 and r.se != pytest.approx(did2s_fit.se, abs=1e-6)


# ----------------------------------------------------------------------------- dense brute-force oracle
def _small(seed=3):
    rng = np.random.default_rng(seed)
    N, T = 40, 8
    unit = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(1, T + 1), N)
    gu = rng.choice([0, 3, 5, 7], N)
    g = gu[unit]
    state = (np.arange(N) % 9)[unit]
    y = rng.normal(size=N)[unit] + 0.2 * t + np.where((g > 0) & (t >= g), 1 + 0.3 * (t - g), 0) + rng.normal(size=N * T)
    df = pd.DataFrame({"id": unit, "t": t, "g": g, "y": y, "state": state})
    df = df.drop(index=rng.choice(len(df), 25, replace=False)).reset_index(drop=True)  # unbalanced
    return df


def _dense(df, fe, cl, se, covs=()):
    X1 = np.column_stack([pd.get_dummies(df[c].astype(str)).to_numpy(float) for c in fe]
                         + [df[c].to_numpy(float)[:, None] for c in covs])  # X1 = [D, W], as did2s's x1
    tr = ((df.g > 0) & (df.t >= df.g)).to_numpy()
    X10 = X1 * (~tr)[:, None]
    P = np.linalg.pinv(X10.T @ X10)
    yv = df.y.to_numpy()
    adj = yv - X1 @ (P @ X10.T @ yv)
    ev = (df.t - df.g).to_numpy()
    hz = np.unique(ev[tr])
    X2 = np.column_stack([tr.astype(float)] + [(tr & (ev == e)).astype(float) for e in hz])
    n = X2.sum(axis=0)
    b = (X2.T @ adj) / n
    Gam = P @ X1.T @ X2
    v = X2 / n - (X10 @ Gam) / n                      # imputation weights (treated rows: x2/n)
    e1 = np.where(tr, 0.0, adj)
    if se == "two-stage":
        r = np.where(X2 > 0, adj[:, None] - b, 0.0)
    else:
        cell = df.g.astype(str) + "|" + pd.Series(ev).astype(str)
        cm = pd.Series(adj).groupby(cell.to_numpy()).transform("mean").to_numpy()
        r = np.repeat((adj - cm)[:, None], X2.shape[1], axis=1) * tr[:, None]
    contrib = np.where(tr[:, None], v * r, v * e1[:, None])
    S = pd.DataFrame(contrib).groupby(df[cl].to_numpy()).sum().to_numpy()
    return b, S.T @ S


@pytest.mark.parametrize("se", ["two-stage", "bjs"])
@pytest.mark.parametrize("fe", [["id", "t"], ["state", "t"]])
def test_matches_dense_oracle(se, fe):
    df = _small()
    p = _panel(df, unit="id", time="t", outcome="y", cohort="g", cluster="state", extra=["state"])
    r = fit_imputation(p, fe=fe, cluster="state", se=se, pretrends=False)
    b, V = _dense(p.frame.rename(columns={}), fe, "state", se)
    # 1e-10: same formulas, sparse exact solve vs dense pseudo-inverse, both double precision
    assert r.estimate == pytest.approx(b[0], abs=1e-10)
    assert r.se == pytest.approx(np.sqrt(V[0, 0]), abs=1e-10)
    np.testing.assert_allclose(r.event_study.estimates, b[1:], atol=1e-10)
    np.testing.assert_allclose(r.event_study.vcov, V[1:, 1:], atol=1e-10)


@pytest.mark.parametrize("nf", [1, 2, 3])
def test_fe_solver_matches_lstsq(nf):
    rng = np.random.default_rng(nf)
    n = 400
    cols = [rng.integers(0, L, n) for L in (30, 7, 5)[:nf]]
    rows = rng.random(n) < 0.7
    y = rng.normal(size=n)
    s = FESolver(cols, rows)
    fit = s.fitted(s.solve(s.totals(y[rows], rows=rows)))[:, 0]
    D = np.column_stack([np.eye(L)[c] for c, L in zip(cols, (30, 7, 5))])
    coef = np.linalg.lstsq(D[rows], y[rows], rcond=None)[0]
    ok = s.identified(np.ones(n, bool))
    # 1e-8: exact (direct/Schur) or CG at rtol 1e-13 on a well-conditioned system
    np.testing.assert_allclose(fit[ok], (D @ coef)[ok], atol=1e-8)


# ----------------------------------------------------------------------------- simulation
def _sim(seed=0, N=300, T=12, never=True):
    rng = np.random.default_rng(seed)
    choices, probs = ([3, 6, 9, 0], [0.3, 0.3, 0.3, 0.1]) if never else ([3, 6, 9], [1 / 3] * 3)
    gu = rng.choice(choices, size=N, p=probs)
    unit = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(1, T + 1), N)
    g = gu[unit]
    post = (g > 0) & (t >= g)
    tau = np.where(post, (1.0 + 0.5 * (t - g)) * np.where(g == 3, 2.0, 1.0), 0.0)  # dynamic, cohort-specific
    y = rng.normal(size=N)[unit] + 0.3 * t + tau + rng.normal(scale=0.5, size=N * T)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y, "tau": tau, "d": post.astype(float)})


def test_simulation_recovers_truth_where_twfe_fails():
    df = _sim()
    p = _panel(df, unit="id", time="t", outcome="y", cohort="g")
    truth = df.loc[df.d == 1, "tau"].mean()
    R = demean(df[["y", "d"]].to_numpy(), [codes(df.id), codes(df.t)])
    twfe = (R[:, 1] @ R[:, 0]) / (R[:, 1] @ R[:, 1])
    for se in ("two-stage", "bjs"):
        r = fit_imputation(p, se=se)
        # 4 SE: a 1-in-15,000 two-sided miss for a correct estimator (seed fixed, measured 0.2-0.7 SE)
        assert abs(r.estimate - truth) < 4 * r.se
        assert abs(twfe - truth) > 20 * r.se  # TWFE is grossly biased here (0.78 vs 4.07)
    tr_e = df[df.d == 1].groupby((df.t - df.g)[df.d == 1])["tau"].mean()
    es = fit_imputation(p).event_study
    assert list(es.event_times) == tr_e.index.tolist()
    # 4 SE per horizon, as above
    assert np.all(np.abs(es.estimates - tr_e.to_numpy()) < 4 * es.se)
    # no anticipation in the DGP: the BJS pre-trend test should not reject at 0.1% (seed fixed)
    assert fit_imputation(p).diagnostics["pretrend_wald_p"] > 0.001


def test_not_imputable_rows_are_dropped_and_reported():
    df = _sim(never=False)  # no never-treated: periods >= 9 have no untreated row
    p = _panel(df, unit="id", time="t", outcome="y", cohort="g")
    r = fit_imputation(p, pretrends=False)
    n_late = int(((df.t >= 9)).sum())
    assert r.diagnostics["n_not_imputable"] == n_late
    assert r.n_obs == len(df) - n_late
    assert "could not be imputed" in r.diagnostics["warnings"][0]["message"]
    assert max(r.event_study.event_times) == 5  # cohort 3 up to t = 8


# ----------------------------------------------------------------------------- bad input
def test_errors():
    df = _small()
    p = _panel(df, unit="id", time="t", outcome="y", cohort="g", extra=["state"])
    with pytest.raises(DesignError, match="se must be"):
        fit_imputation(p, se="hc1")
    with pytest.raises(DesignError, match="not in the panel"):
        fit_imputation(p, fe=["id", "county"])
    with pytest.raises(DesignError, match="cluster column"):
        fit_imputation(p, cluster="county")
    with pytest.raises(DesignError, match="alpha"):
        fit_imputation(p, alpha=1.5)
    with pytest.raises(DesignError, match="at least one"):
        fit_imputation(p, fe=[])
    df1 = df.assign(one=1)
    p1 = _panel(df1, unit="id", time="t", outcome="y", cohort="g", extra=["one"])
    with pytest.raises(DesignError, match="single cluster"):
        fit_imputation(p1, cluster="one")
    pc = _panel(df.assign(x=df.t * 2.0 + 1), unit="id", time="t", outcome="y", cohort="g",
                covariates=["x"])
    with pytest.raises(DesignError, match="'x' are collinear with the first-stage fixed effects"):
        fit_imputation(pc)  # x is a function of the time FE
    pn = _panel(df, unit="id", time="t", outcome="y")
    with pytest.raises(DesignError, match="cohort"):
        fit_imputation(pn)
    assert issubclass(DesignError, OgimpactError)  # CLI turns it into one sentence, exit 2


# ----------------------------------------------------------------------------- first-stage covariates
def _small_cov(seed=5):
    df = _small(seed)
    rng = np.random.default_rng(seed + 100)
    df["x1"] = rng.normal(size=len(df)) + 0.1 * df.t * (df.g > 0)
    df["x2"] = rng.normal(size=len(df)) ** 2
    df["y"] = df.y + 0.7 * df.x1 - 0.4 * df.x2
    return df


@pytest.mark.parametrize("se", ["two-stage", "bjs"])
@pytest.mark.parametrize("fe", [["id", "t"], ["state", "t"], ["id", "t", "state"]])
def test_covariates_match_dense_oracle(se, fe):
    df = _small_cov()
    p = _panel(df, unit="id", time="t", outcome="y", cohort="g", cluster="state", extra=["state"],
               covariates=["x1", "x2"])
    r = fit_imputation(p, fe=fe, cluster="state", se=se, pretrends=False)
    b, V = _dense(p.frame, fe, "state", se, covs=["x1", "x2"])
    # 1e-10: same formulas (did2s IF with X1 = [D, W]; BJS weights v = -X10 (X10'X10)^- X1'X2 / n) by
    # partitioned sparse solves vs one dense pseudo-inverse; measured max diff ~1e-14 (3 FE: CG at rtol 1e-13)
    assert r.estimate == pytest.approx(b[0], abs=1e-10)
    assert r.se == pytest.approx(np.sqrt(V[0, 0]), abs=1e-10)
    np.testing.assert_allclose(r.event_study.estimates, b[1:], atol=1e-10)
    np.testing.assert_allclose(r.event_study.vcov, V[1:, 1:], atol=1e-10)
    assert r.options["covariates"] == ["x1", "x2"]
    assert set(r.extras["first_stage_coefficients"]) == {"x1", "x2"}


def test_covariate_reference_did2s_model3(did2s_panel):
    """R did2s with first_stage = ~ X | state + year, second_stage = ~ i(rel_year, ref = c(-1)).

    SOURCE: https://github.com/py-econometrics/pyfixest tests/data/all_did2s_dfs.csv (rows model3,
    rel_year::0..20; estimate, std.error as printed by broom::tidy of R did2s) @ 219917717fdc4a51ff9125914c50ecfc6b6a383e,
    generated by tests/test_did.py::_get_r_did2s_results with X = np.random.default_rng(12345).normal(size=46500)
    on df_het (the file tests/reference/did2s_df_het/data.csv, same row order).  Only the post-treatment
    coefficients are compared: our event study has no pre-period terms, and did2s's post coefficients
    (mutually exclusive dummies, X2'X2 diagonal) do not depend on them.
    """
    est = [1.3044599781825643, 1.5336855359659451, 1.5966578902856667, 1.718832431349423, 1.846465133198118,
           1.9903092430749385, 2.0790162266806056, 2.1652024488486883, 2.2587755673728105, 2.2778008168985853,
           2.4150120983853722, 2.456204910797995, 2.507027888401586, 2.4811877342097044, 2.626150741967707,
           2.813133261266413, 2.7629443996052907, 2.8109354752160765, 2.7768870747175445, 2.786145655428642,
           2.815352123885333]
    ses = [0.05604622586585433, 0.06430221701358355, 0.056665033778257094, 0.060634442954837116,
           0.047734318668731984, 0.05632012293870206, 0.06442714203775805, 0.05845887971116351,
           0.05805518246918253, 0.05325194434387943, 0.06012314593205441, 0.08190065691574724,
           0.07973152834604127, 0.0845192338954158, 0.06980683543951106, 0.08282186149824643,
           0.0824245309455914, 0.07935420212419238, 0.0818310675193009, 0.09018822272201377,
           0.08312070565023233]
    df = did2s_panel.frame.copy()
    df["X"] = np.random.default_rng(12345).normal(size=len(df))
    p = _panel(df, unit="unit", time="year", outcome="dep_var", cohort="g", cluster="state", extra=["state"],
               covariates=["X"])
    r = fit_imputation(p, fe=["state", "year"], cluster="state", pretrends=False)
    assert list(r.event_study.event_times) == list(range(21))
    # 1e-9: stored at full double precision by pyfixest; measured max diff 3e-13 (estimate), 4e-15 (SE)
    np.testing.assert_allclose(r.event_study.estimates, est, atol=1e-9)
    np.testing.assert_allclose(r.event_study.se, ses, atol=1e-9)


def _sim_confounded(seed=11, N=400, T=10):
    """Time-varying confounder: x trends up for early adopters only and moves y; no effect heterogeneity."""
    rng = np.random.default_rng(seed)
    gu = rng.choice([4, 7, 0], size=N, p=[0.4, 0.3, 0.3])
    unit = np.repeat(np.arange(N), T)
    t = np.tile(np.arange(1, T + 1), N)
    g = gu[unit]
    x = np.where(g == 4, 0.4 * t, 0.0) + rng.normal(size=N * T)
    post = (g > 0) & (t >= g)
    y = rng.normal(size=N)[unit] + 0.2 * t + 1.5 * x + 1.0 * post + rng.normal(scale=0.5, size=N * T)
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y, "x": x})


def test_covariate_removes_confounding_bias():
    df = _sim_confounded()
    p0 = _panel(df, unit="id", time="t", outcome="y", cohort="g")
    p1 = _panel(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"])
    for se in ("two-stage", "bjs"):
        r0 = fit_imputation(p0, se=se)
        r1 = fit_imputation(p1, se=se)
        # 4 SE: a 1-in-15,000 miss for a correct estimator (seed fixed); truth is 1.0 in every treated row
        assert abs(r1.estimate - 1.0) < 4 * r1.se
        assert abs(r0.estimate - 1.0) > 10 * r0.se  # no-covariate estimate is biased by 1.5·Δx (≈ +2)
        # 0.05: x's coefficient 1.5 is estimated on ~2,900 untreated rows with residual sd 0.5
        assert r1.extras["first_stage_coefficients"]["x"] == pytest.approx(1.5, abs=0.05)
    # pre-trends (seed fixed, measured p = 0.004 without x, 0.12 with x): BJS Test 1 flags the
    # confounder at 1% without x and does not reject at 5% once x is in the first stage
    assert fit_imputation(p0).diagnostics["pretrend_wald_p"] < 0.01
    assert fit_imputation(p1).diagnostics["pretrend_wald_p"] > 0.05


def test_collinear_covariates_are_named():
    df = _small_cov()
    df["zero"] = 0.0
    df["unit_const"] = df.id * 3.0
    df["combo"] = df.x1 - 2 * df.x2 + df.t
    mk = lambda covs: _panel(df, unit="id", time="t", outcome="y", cohort="g", extra=["state"],  # noqa: E731
                             covariates=covs)
    with pytest.raises(DesignError, match=r"'zero', 'unit_const' are collinear"):
        fit_imputation(mk(["x1", "zero", "unit_const"]))
    with pytest.raises(DesignError, match=r"covariate\(s\) '(x1|x2|combo)' are collinear"):
        fit_imputation(mk(["x1", "x2", "combo"]))  # jointly collinear once the time FE is out
    # state is constant within unit: collinear with the unit FE, fine with fe=[state, t]
    df["st"] = df.state * 1.0
    with pytest.raises(DesignError, match="'st'"):
        fit_imputation(mk(["st"]))


def test_pretrend_test_with_covariates_matches_dense():
    df = _small_cov()
    p = _panel(df, unit="id", time="t", outcome="y", cohort="g", cluster="state", extra=["state"],
               covariates=["x1", "x2"])
    r = fit_imputation(p, fe=["id", "t"], cluster="state")
    fr = p.frame
    u = fr[~((fr.g > 0) & (fr.t >= fr.g))]
    lead = np.where(u.g > 0, u.t - u.g, 0)
    leads = [x["event_time"] for x in r.extras["pretrends"]]
    L = np.column_stack([(lead == e).astype(float) for e in leads])
    X = np.column_stack([pd.get_dummies(u.id, dtype=float), pd.get_dummies(u.t, dtype=float).iloc[:, 1:],
                         u[["x1", "x2"]], L])
    B = np.linalg.inv(X.T @ X)
    b = B @ X.T @ u.y.to_numpy()
    e = u.y.to_numpy() - X @ b
    S = pd.DataFrame(X * e[:, None]).groupby(u.state.to_numpy()).sum().to_numpy()
    n, K, G = X.shape[0], X.shape[1], u.state.nunique()
    se = np.sqrt(np.diag(G / (G - 1) * (n - 1) / (n - K) * B @ S.T @ S @ B))[-len(leads):]
    # 1e-9: FWL (FE and covariates partialled out) vs the dense dummy regression, CRV1 as fixest
    np.testing.assert_allclose([x["estimate"] for x in r.extras["pretrends"]], b[-len(leads):], atol=1e-9)
    np.testing.assert_allclose([x["se"] for x in r.extras["pretrends"]], se, atol=1e-9)
