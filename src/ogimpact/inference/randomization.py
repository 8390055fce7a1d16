"""Randomization (permutation) inference by reassigning treatment timing across units.

Under the sharp null of no effect for any unit, and if adoption timing is as
good as randomly assigned across units, permuting the units' cohorts leaves the
distribution of the estimate unchanged (Fisher 1935; for DiD designs see
MacKinnon & Webb 2020, "Randomization inference for difference-in-differences
with few treated clusters", *J. Econometrics* 218(2), and Roth & Sant'Anna 2023
on design-based DiD).  The p-value counts the permuted estimates at least as
large in absolute value as the observed one, the observed assignment included:
``p = (1 + #{|b*| >= |b|}) / (1 + reps)``, which is exact (valid at any level)
for random permutations.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from ..errors import DesignError

__all__ = ["permutation_test", "permute_timing"]

SCHEMES = ("timing",)


def _unit_cohorts(panel) -> tuple[np.ndarray, np.ndarray]:
    """Units and their cohort (first treated period, 0 = never) from the cohort or treat role."""
    f = panel.frame
    if panel.cohort:
        g = f.groupby(panel.unit, sort=True)[panel.cohort].first()
        return g.index.to_numpy(), g.to_numpy()
    if panel.treat:
        tr = f.loc[f[panel.treat] == 1]
        first = tr.groupby(panel.unit)[panel.time].min()
        units = np.sort(f[panel.unit].unique())
        return units, first.reindex(units).fillna(0).to_numpy().astype(np.int64)
    raise DesignError("randomization inference needs a cohort column or a 0/1 treatment column in the panel.")


def permute_timing(panel, rng: np.random.Generator):
    """A copy of ``panel`` whose units' cohorts (and 0/1 treatment) are randomly permuted."""
    units, coh = _unit_cohorts(panel)
    new = dict(zip(units, rng.permutation(coh)))
    f = panel.frame.copy()
    c = f[panel.unit].map(new).to_numpy()
    if panel.cohort:
        f[panel.cohort] = c.astype(np.int64)
    if panel.treat:
        f[panel.treat] = ((c != 0) & (f[panel.time].to_numpy() >= c)).astype(np.int64)
    return dataclasses.replace(panel, frame=f)


def permutation_test(
    panel,
    fit: Callable,
    *,
    reps: int = 999,
    seed: int | None = 0,
    scheme: str = "timing",
) -> dict:
    """Randomization-inference p-value of a design's headline estimate.

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        With a ``cohort`` role (or a 0/1 ``treat`` role whose first treated
        period per unit is taken as the cohort; treatment is assumed absorbing).
    fit : callable Panel -> Estimate
        The design, e.g. ``lambda p: fit_twfe(p)``.
    reps : int
        Number of random permutations.
    seed : int
        Seed of the permutations (reported).
    scheme : {"timing"}
        ``"timing"``: permute the units' cohorts (which units adopt, and when),
        keeping the number of units per cohort.

    Returns
    -------
    dict
        ``{p_value, n_perm, estimate, null_distribution: {mean, sd, q025, q975, min, max},
        n_failed, seed, scheme, statistic}``.
    """
    if scheme not in SCHEMES:
        raise DesignError(f"unknown permutation scheme {scheme!r}; use 'timing'.")
    if reps is None or int(reps) < 1:
        raise DesignError("the number of permutations must be a positive integer (e.g. 999).")
    units, coh = _unit_cohorts(panel)
    if len(np.unique(coh)) < 2:
        raise DesignError("every unit has the same treatment timing, so permuting it changes nothing.")
    obs = float(fit(panel).estimate)
    if not np.isfinite(obs):
        raise DesignError("the design's estimate on the observed assignment is not finite; nothing to test.")
    rng = np.random.default_rng(seed)
    draws = np.full(int(reps), np.nan)
    failed = 0
    from ..errors import OgimpactError

    for r in range(int(reps)):
        try:
            draws[r] = float(fit(permute_timing(panel, rng)).estimate)
        except OgimpactError:
            failed += 1
    ok = draws[np.isfinite(draws)]
    if ok.size == 0:
        raise DesignError("the design failed on every permuted assignment; check the panel's cohorts.")
    tol = 1e-12 * max(1.0, abs(obs))
    p = (1 + int(np.sum(np.abs(ok) >= abs(obs) - tol))) / (1 + ok.size)
    return {
        "p_value": float(p),
        "n_perm": int(ok.size),
        "estimate": obs,
        "null_distribution": {
            "mean": float(ok.mean()), "sd": float(ok.std(ddof=1)) if ok.size > 1 else None,
            "q025": float(np.quantile(ok, 0.025)), "q975": float(np.quantile(ok, 0.975)),
            "min": float(ok.min()), "max": float(ok.max()),
        },
        "n_failed": failed,
        "seed": seed,
        "scheme": scheme,
        "statistic": "two-sided |estimate|, observed assignment counted: (1 + #{|b*| >= |b|}) / (1 + n_perm)",
    }
