"""Flat V objectives: the V closest to equal weights is taken (CONTRACT "Added in 0.2", cv of V).

R ``Synth`` starts its V search at equal weights and returns the start when no V improves the
MSPE; Stata ``synth`` likewise.  When the treated unit is an exact copy of one donor, that donor
alone fits every predictor for every V (W = e_j, MSPE 0), so every V ties and the reported V
must be equal weights, not wherever Nelder-Mead's simplex happened to stop.
"""
from __future__ import annotations

import numpy as np
import pytest

from ogimpact.designs.synth import V_TIE_RTOL, fit_arrays


def _copy_of_donor(seed=0, K=4, N=8, T=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(K, N))
    Z = rng.normal(size=(T, N)).cumsum(axis=0)
    X[:, 0], Z[:, 0] = X[:, 3], Z[:, 3]  # the treated unit (column 0) copies donor 3
    return X, Z


def test_flat_objective_returns_equal_v():
    X, Z = _copy_of_donor()
    fit = fit_arrays(X, Z, 0, list(range(1, X.shape[1])))
    assert fit["loss"] == pytest.approx(0.0, abs=1e-20)
    assert fit["w"][2] == pytest.approx(1.0, abs=1e-12)  # donor 3 is column 3 = the third donor
    assert fit["v"] == pytest.approx(np.full(X.shape[0], 1 / X.shape[0]), abs=1e-12)


def test_plateau_point_of_the_optimiser_is_not_reported(monkeypatch):
    """An optimiser may stop anywhere on a plateau (every V has MSPE 0 here): make Nelder-Mead
    return a drifted V and check that the reported V is still equal weights."""
    import ogimpact.designs.synth as synth_mod

    real = synth_mod.optimize.minimize

    def drifting(fun, x0, **kw):
        res = real(fun, x0, **kw)
        res.x = np.asarray(res.x) + np.linspace(-2.0, 2.0, len(res.x))  # same (zero) loss, other V
        res.fun = float(fun(res.x))
        return res

    monkeypatch.setattr(synth_mod.optimize, "minimize", drifting)
    X, Z = _copy_of_donor(seed=1)
    fit = fit_arrays(X, Z, 0, list(range(1, X.shape[1])))
    assert fit["loss"] == pytest.approx(0.0, abs=1e-20)
    assert fit["v"] == pytest.approx(np.full(X.shape[0], 1 / X.shape[0]), abs=1e-12)
    assert "flat" in fit["method"]


def test_a_strict_improvement_is_not_overridden():
    """A V that beats equal weights by more than the tie tolerance keeps its V (no pull to equal)."""
    rng = np.random.default_rng(5)
    K, N, T = 3, 10, 8
    X = rng.normal(size=(K, N))
    Z = np.vstack([X[0] * (1 + 0.01 * t) for t in range(T)])  # the outcome follows predictor 0 only
    fit = fit_arrays(X, Z, 0, list(range(1, N)))
    eq = fit_arrays(X, Z, 0, list(range(1, N)), fixed_v=np.full(K, 1 / K))
    assert fit["loss"] < eq["loss"] * (1 - 1e3 * V_TIE_RTOL)
    assert fit["v"][0] > 0.5  # the V search moved weight onto the predictor that drives the outcome
