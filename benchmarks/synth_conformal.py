"""Larger Monte Carlo of the placebo / conformal size and the ASCM-vs-SCM bias, and the ASCM+conformal timing.

Run: PYTHONPATH=src python benchmarks/synth_conformal.py [n_draws]   (the seeded, small version is in
tests/test_ascm_conformal.py). Prints rejection rates at 5% under no effect and mean post-period bias.
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ogimpact.designs.ascm import fit_outcome_model, scm_weights
from ogimpact.parallel import one_blas_thread
from ogimpact.inference.conformal import conformal_p


def size(n: int, seed: int = 1) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    J, T0, T1 = 19, 17, 3
    pre = np.arange(T0 + T1) < T0
    rp = rc = 0
    for _ in range(n):
        T = T0 + T1
        Y = rng.normal(size=(T, 2)).cumsum(0) * 0.3 @ rng.normal(size=(2, J + 1)) + rng.normal(size=(T, J + 1))
        ratios = []
        for j in range(J + 1):
            o = [k for k in range(J + 1) if k != j]
            g = Y[:, j] - Y[:, o] @ scm_weights(Y[pre][:, o], Y[pre, j])
            ratios.append(np.sqrt(np.mean(g[~pre] ** 2) / np.mean(g[pre] ** 2)))
        rp += np.mean(np.array(ratios) >= ratios[0]) <= 0.05
        w = fit_outcome_model(Y, np.ones(T, bool))["w"]
        rc += conformal_p(Y[:, 0] - Y[:, 1:] @ w, ~pre) <= 0.05 + 1e-12
    return rp / n, rc / n


def timing(repeat: int = 3) -> dict:
    from ogimpact.estimation import estimate, panel_from_csv

    df = pd.read_csv(Path(__file__).parents[1] / "tests" / "reference" / "prop99_synthdid" / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = panel_from_csv("synth", df, unit="State", time="Year", outcome="PacksPerCapita")
    out = {}
    for aug in ("none", "ridge"):
        best = np.inf
        for _ in range(repeat):
            t = time.perf_counter()
            estimate("synth", p, treated="California", treat_time=1989, augment=aug, inference=("conformal",))
            best = min(best, time.perf_counter() - t)
        out[aug] = best
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with one_blas_thread():
        t = time.perf_counter()
        print("size at 5%% (placebo, conformal) over %d draws: %s (%.1f s)" % (n, size(n), time.perf_counter() - t))
    print("Prop 99 synth + conformal (best of 3, s):", timing())
