"""Randomization inference by permuting adoption timing across units."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.twfe import fit_twfe
from ogimpact.errors import DesignError
from ogimpact.inference.randomization import permutation_test, permute_timing
from ogimpact.panel import Panel


def _sim(effect, seed, N=30, T=8):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(N), T)
    time = np.tile(np.arange(1, T + 1), N)
    coh = np.array([4, 6, 0])[np.arange(N) % 3][unit]
    D = ((coh > 0) & (time >= coh)).astype(int)
    y = rng.normal(size=N)[unit] + 0.2 * time + effect * D + rng.normal(size=N * T)
    df = pd.DataFrame({"u": unit, "t": time, "y": y, "cohort": coh, "treat": D})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="cohort", treat="treat")


def test_permute_timing_keeps_cohort_sizes():
    p = _sim(0.0, 1)
    q = permute_timing(p, np.random.default_rng(0))
    assert p.cohorts().to_dict() == q.cohorts().to_dict()
    f = q.frame
    assert ((f.treat == 1) == ((f.cohort > 0) & (f.t >= f.cohort))).all()
    assert not (f.cohort.to_numpy() == p.frame.cohort.to_numpy()).all()


def test_detects_effect_and_is_calibrated_under_null():
    fit = lambda panel: fit_twfe(panel)  # noqa: E731
    out = permutation_test(_sim(1.5, 2), fit, reps=99, seed=0)
    assert out["p_value"] == pytest.approx(1 / 100)  # strong effect: no permutation as extreme (minimum p)
    assert out["n_perm"] == 99 and out["seed"] == 0 and out["scheme"] == "timing"
    ps = [permutation_test(_sim(0.0, s), fit, reps=19, seed=s)["p_value"] for s in range(10, 18)]
    # under the null p is uniform on {1/20, ..., 1}: mean 0.525 (sd of the mean of 8 ~0.1), and
    # P(more than 2 of 8 at p <= 0.05) < 0.6%
    assert 0.2 < np.mean(ps) < 0.85 and sum(p <= 0.05 for p in ps) <= 2
    again = permutation_test(_sim(0.0, 10), fit, reps=19, seed=10)
    assert again["p_value"] == ps[0]  # reproducible with the seed


def test_treat_only_panel_and_errors():
    p = _sim(0.5, 3)
    df = p.frame.drop(columns=["cohort"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pt = Panel.from_frame(df, unit="u", time="t", outcome="y", treat="treat")
    out = permutation_test(pt, lambda q: fit_twfe(q), reps=19, seed=1)
    assert 0 < out["p_value"] <= 1 and out["n_perm"] + out["n_failed"] == 19
    with pytest.raises(DesignError, match="scheme"):
        permutation_test(p, lambda q: fit_twfe(q), scheme="units")
    with pytest.raises(DesignError, match="positive"):
        permutation_test(p, lambda q: fit_twfe(q), reps=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pn = Panel.from_frame(df, unit="u", time="t", outcome="y")
    with pytest.raises(DesignError, match="cohort column or a 0/1"):
        permutation_test(pn, lambda q: fit_twfe(q))
