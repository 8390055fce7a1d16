"""Outcome-only SCM, ridge ASCM, CWZ conformal inference and fit diagnostics of synth.

References: R ``augsynth`` single-unit vignette (Kansas, Ben-Michael, Feller & Rothstein 2021)
through ``tests/reference/kansas_augsynth`` (its accept.json carries each tolerance and source);
Chernozhukov, Wüthrich & Zhu (2021) for the conformal test.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.parallel import one_blas_thread
from ogimpact.designs.ascm import cv_lambda, fit_outcome_model, ridge_weights, scm_weights
from ogimpact.designs.sc_diagnostics import fit_diagnostics, outside_hull
from ogimpact.errors import DesignError
from ogimpact.estimation import estimate, panel_from_csv
from ogimpact.inference.conformal import conformal_p

REF = Path(__file__).parent / "reference" / "kansas_augsynth"


def _get(doc, path):
    m = re.fullmatch(r"(\w+)\[(\w+)=(.+)\]\.(\w+)", path)
    if m:
        key, field, value, leaf = m.groups()
        return next(r for r in doc[key] if str(r[field]) == value)[leaf]
    for part in path.split("."):
        doc = doc[part]
    return doc


@pytest.fixture(scope="module")
def kansas_panel():
    df = pd.read_csv(REF / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return panel_from_csv("synth", df, unit="state", time="time", outcome="lngdpcapita")


@pytest.fixture(scope="module")
def kansas(kansas_panel):
    out = {}
    for aug in ("none", "ridge"):
        out[aug] = estimate("synth", kansas_panel, treated="Kansas", treat_time=90, augment=aug,
                            inference=("conformal",)).to_dict()
    return out


@pytest.mark.parametrize("run", ["scm", "ridge_ascm"])
def test_kansas_accept_checks(kansas, run):
    accept = json.loads((REF / "accept.json").read_text())
    spec = next(r for r in accept["runs"] if r["name"] == run)
    doc = kansas["none" if run == "scm" else "ridge"]
    for c in spec["checks"]:
        # each tolerance is the case's own (vignette print precision or exact-QP / peer agreement)
        assert abs(_get(doc, c["path"]) - c["value"]) <= c["atol"], (run, c["path"])


def test_kansas_lambda_and_bias(kansas):
    d = kansas["ridge"]
    # lambda 0.0786622: R augsynth's CV/min-1se pick as reproduced by pysyncon and augsynth-py (PEERS)
    assert d["options"]["lambda"] == pytest.approx(0.07866222813499747, rel=1e-9)
    # vignette 'Avg Estimated Bias: 0.011' (3 decimals); augsynth-py 0.0106286
    assert d["diagnostics"]["avg_estimated_bias"] == pytest.approx(0.0106286, abs=5e-6)
    w = [r["weight"] for r in d["weights"]]
    assert abs(sum(w) - 1) < 1e-10 and min(w) < 0  # ridge weights sum to one and go negative (Louisiana -0.063)
    assert min(w) == pytest.approx(-0.0631, abs=5e-4)


def test_kansas_conformal_by_time_and_options(kansas):
    for aug in ("none", "ridge"):
        d = kansas[aug]
        rows = d["conformal_by_time"]
        assert [r["time"] for r in rows] == list(range(90, 106))
        for r in rows:  # 89 pre + 1 post: p on the grid k/90 and the CI contains the period's gap
            assert 0 < r["p_value"] <= 1 and round(r["p_value"] * 90, 6) == int(round(r["p_value"] * 90))
            gap = next(g["gap"] for g in d["gaps"] if g["time"] == r["time"])
            assert r["ci_low"] <= gap <= r["ci_high"]
            # test inversion agrees with the p-value at zero
            assert (r["ci_low"] <= 0 <= r["ci_high"]) == (r["p_value"] > 0.05) or "ci_note" in r
        assert d["conformal"]["ci_low"] <= d["estimate"] <= d["conformal"]["ci_high"]
        assert d["options"]["conformal_grid_size"] == 51 and d["options"]["conformal_scheme"] == "moving-block"
        assert d["diagnostics"]["outside_hull"] is True  # Kansas' 89-quarter path is not a donor mixture
        w = np.array([r["weight"] for r in d["weights"]])
        assert d["diagnostics"]["effective_donors"] == pytest.approx(1 / np.sum(w ** 2), rel=1e-12)


def test_kansas_iid_scheme_is_seeded(kansas_panel):
    kw = dict(treated="Kansas", treat_time=90, inference=("conformal",), conformal_scheme="iid", reps=400)
    a = estimate("synth", kansas_panel, seed=3, **kw).conformal
    b = estimate("synth", kansas_panel, seed=3, **kw).conformal
    assert a["p_value"] == b["p_value"]
    # vignette: 0.34 with 1000 unseeded iid draws; diff-diff's 1e5 draws: 0.3245; 400 draws: MC SE 0.024
    assert a["p_value"] == pytest.approx(0.3245, abs=0.08)


def test_fixedeff_and_bad_input(kansas_panel):
    r = estimate("synth", kansas_panel, treated="Kansas", treat_time=90, fixedeff=True)
    assert r.options["fixedeff"] is True and np.isfinite(r.estimate)
    with pytest.raises(DesignError):
        estimate("synth", kansas_panel, treated="Kansas", treat_time=90, lam=0.1)  # lambda without ridge
    with pytest.raises(DesignError):
        estimate("synth", kansas_panel, treated="Kansas", treat_time=90, augment="lasso")
    with pytest.raises(DesignError):
        estimate("synth", kansas_panel, treated="Kansas", treat_time=90, augment="ridge", lam=-1.0)


# ----------------------------------------------------------------------------- pieces
def test_ridge_limits():
    rng = np.random.default_rng(1)
    X0 = rng.normal(size=(12, 6))
    x1 = X0 @ np.array([0.5, 0.5, 0, 0, 0, 0]) + 3.0  # outside the hull
    w = scm_weights(X0, x1)
    # lambda -> infinity: no augmentation; lambda -> 0 with J < T0: weights sum to one either way
    assert np.allclose(ridge_weights(X0, x1, w, 1e12), w, atol=1e-8)
    assert ridge_weights(X0, x1, w, 1e-3).sum() == pytest.approx(1, abs=1e-8)
    cv = cv_lambda(X0, x1)
    assert cv["lambda"] in cv["lambdas"] and len(cv["lambdas"]) == 21
    assert cv["lambdas"][0] == pytest.approx(np.linalg.svd(X0 - X0.mean(1, keepdims=True), compute_uv=False)[0] ** 2)


def test_outside_hull_lp():
    rng = np.random.default_rng(2)
    X0 = rng.normal(size=(5, 8))
    inside = X0 @ rng.dirichlet(np.ones(8))
    assert outside_hull(X0, inside) is False
    assert outside_hull(X0, X0.max(axis=1) + 0.1) is True
    d = fit_diagnostics(inside, X0, np.full(8, 1 / 8), np.zeros(5), measure_se=0.5)
    assert d["effective_donors"] == pytest.approx(8) and d["pre_rmspe_ratio_se"] == 0


def test_conformal_p_moving_block_by_hand():
    u = np.array([0.1, -0.2, 0.3, 0.05, 2.0, -1.5])
    post = np.array([False] * 4 + [True] * 2)
    # cyclic shifts: statistic |u_{t-j}| over the last two positions; by hand only the identity reaches 3.5
    assert conformal_p(u, post) == pytest.approx(1 / 6)
    assert conformal_p(np.ones(6), post) == 1.0


# ----------------------------------------------------------------------------- Monte Carlo
def _factor_panel(rng, J, T0, T1, shift=0.0):
    T = T0 + T1
    f = rng.normal(size=(T, 2)).cumsum(axis=0) * 0.3
    lam = rng.normal(size=(2, J + 1))
    lam[:, 0] += shift
    return f @ lam + rng.normal(size=(T, J + 1))


def test_size_placebo_and_conformal_under_no_effect():
    """Seeded: 400 draws, J = 19 donors, T0 = 17, T1 = 3, exchangeable units and iid noise, no effect.

    Both tests are exact here (placebo: p = rank/(J+1), 1/20 at best; conformal: 20 cyclic
    shifts, 1/20 at best), so rejection at 5% should be 5%; 400 draws give MC SE 1.1%, the band is 3-7%.
    """
    rng = np.random.default_rng(20261202)
    J, T0, T1, n = 19, 17, 3, 400
    pre = np.arange(T0 + T1) < T0
    rej_pl = rej_cf = 0
    with one_blas_thread():
        for _ in range(n):
            Y = _factor_panel(rng, J, T0, T1)
            ratios = []
            for j in range(J + 1):
                others = [k for k in range(J + 1) if k != j]
                w = scm_weights(Y[pre][:, others], Y[pre, j])
                g = Y[:, j] - Y[:, others] @ w
                ratios.append(np.sqrt(np.mean(g[~pre] ** 2)) / np.sqrt(np.mean(g[pre] ** 2)))
            p_pl = np.mean(np.array(ratios) >= ratios[0])
            rej_pl += p_pl <= 0.05
            allm = np.ones(T0 + T1, bool)
            w = fit_outcome_model(Y, allm)["w"]
            rej_cf += conformal_p(Y[:, 0] - Y[:, 1:] @ w, ~pre) <= 0.05 + 1e-12
    assert 0.03 <= rej_pl / n <= 0.07
    assert 0.03 <= rej_cf / n <= 0.07


def test_ascm_reduces_bias_outside_hull():
    """Seeded: treated loadings shifted beyond the donors' (outside the hull), no effect; 40 draws.

    SCM cannot extrapolate, so its post gap is biased; ridge ASCM (augsynth CV) removes part of it
    (Ben-Michael, Feller & Rothstein 2021, sec. 4).
    """
    rng = np.random.default_rng(7)
    J, T0, T1 = 20, 20, 5
    pre = np.arange(T0 + T1) < T0
    with one_blas_thread():
        draws = [_hull_draw(rng, J, T0, T1, pre) for _ in range(40)]
    b_scm, b_ascm = zip(*draws)
    assert abs(np.mean(b_ascm)) < 0.7 * abs(np.mean(b_scm))


def _hull_draw(rng, J, T0, T1, pre):
    """One draw: a common trend whose treated loading (1.6) lies above every donor's (U(0, 1))."""
    T = T0 + T1
    f = np.column_stack([np.linspace(0, 3, T), rng.normal(size=T).cumsum() * 0.2])
    lam = rng.uniform(0, 1, size=(2, J + 1))
    lam[0, 0] = 1.6
    Y = f @ lam + 0.1 * rng.normal(size=(T, J + 1))
    return tuple(np.mean(Y[~pre, 0] - Y[~pre, 1:] @ fit_outcome_model(Y, pre, augment=aug)["w"])
                 for aug in ("none", "ridge"))


def test_v_search_not_converged_warns(monkeypatch):
    """A V search stopped at its iteration limit is an OgimpactWarning('not_converged') with the count."""
    from scipy import optimize as _opt

    import ogimpact.designs.synth as synth_mod
    from ogimpact.errors import OgimpactWarning

    real = _opt.minimize

    def capped(*a, **k):
        k["options"] = {**k.get("options", {}), "maxiter": 3}
        return real(*a, **k)

    monkeypatch.setattr(synth_mod.optimize, "minimize", capped)
    rng = np.random.default_rng(0)
    X, Z = rng.normal(size=(4, 9)), rng.normal(size=(6, 9))
    with pytest.warns(OgimpactWarning) as rec:
        fit = synth_mod.fit_arrays(X, Z, 0, list(range(1, 9)))
    w = next(r.message for r in rec if isinstance(r.message, OgimpactWarning))
    assert w.code == "not_converged" and "iterations" in w.message
    assert fit["converged"] is False and fit["n_iter"] <= 3
    monkeypatch.setattr(synth_mod.optimize, "minimize", real)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OgimpactWarning)
        assert synth_mod.fit_arrays(X, Z, 0, list(range(1, 9)))["converged"] is True


def test_germany_scpi_outcome_only_fit():
    """scpi's simplex SC on the German reunification data (tests/reference/germany_scpi, point checks only).

    The prediction-interval checks of that case belong to --inference prediction-interval.
    """
    ref = Path(__file__).parent / "reference" / "germany_scpi"
    df = pd.read_csv(ref / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = panel_from_csv("synth", df, unit="country", time="year", outcome="gdp")
    doc = estimate("synth", p, treated="West Germany", treat_time=1991).to_dict()
    accept = json.loads((ref / "accept.json").read_text())
    checks = [c for r in accept["runs"] for c in r["checks"]
              if c["path"] == "estimate" or c["path"].startswith(("weights[", "gaps["))]
    assert len(checks) >= 8
    for c in checks:  # tolerances are the case's own (scpi's printed / exported precision)
        assert abs(_get(doc, c["path"]) - c["value"]) <= c["atol"], c["path"]


def test_prop99_outcome_only_matches_augsynth():
    """Prop 99 (cigsale, 38 donors), no predictors: augsynth's SCM ATT -19.514 (quoted in issue 11), 3 decimals."""
    df = pd.read_csv(Path(__file__).parent / "reference" / "prop99_synth_adh" / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = panel_from_csv("synth", df, unit="state", time="year", outcome="cigsale")
    r = estimate("synth", p, treated="California", treat_time=1989)
    assert r.estimate == pytest.approx(-19.514, abs=5e-4)
    assert r.options["standardize"].startswith("none")


def test_sdid_carries_fit_diagnostics():
    """sdid reports the same fit/interpolation names (values checked against their definitions)."""
    df = pd.read_csv(Path(__file__).parent / "reference" / "prop99_synthdid" / "data.csv")
    cols = list(df.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = panel_from_csv("sdid", df, unit=cols[0], time=cols[1], outcome=cols[2])
    r = estimate("sdid", p, treated="California", treat_time=1989)
    d = r.diagnostics
    w = r.table("weights")["weight"].to_numpy()
    assert d["effective_donors"] == pytest.approx(1 / np.sum(w ** 2), rel=1e-12)
    g = r.table("gaps")
    pre = g[g["time"] < 1989]
    assert d["pre_rmspe_ratio_sd"] == pytest.approx(
        np.sqrt(np.mean(pre["gap"] ** 2)) / np.std(pre["treated"], ddof=1), rel=1e-12)
    assert d["outside_hull"] in (True, False)
