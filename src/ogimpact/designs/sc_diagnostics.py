"""Fit and interpolation diagnostics shared by the single-unit weighting designs (synth, sdid).

Abadie (2021, *Journal of Economic Literature* 59(2), 391-425, sec. 7) asks that a synthetic
control report how well it fits the pre-period, how concentrated the weights are and whether
the treated unit is an interpolation of the donors; these are those numbers, under stable
names in ``diagnostics``:

* ``pre_rmspe_ratio_sd`` -- pre-period RMSPE over the treated unit's pre-period outcome SD
  (ddof = 1); ``pre_rmspe_ratio_se`` -- over the measure's mean published standard error
  (``measure_se``: registry runs pass the treated unit's pre-period mean,
  :func:`ogimpact.estimation.registry_measure_se`), when the source publishes one;
* ``effective_donors`` -- ``1 / sum w^2`` (the inverse Herfindahl index of the donor weights);
* ``donor_distance`` -- ``sqrt(sum_j w_j mean_t (x_1t - x_jt)^2)``: the weighted root mean squared
  pre-period distance of each donor to the treated unit (in outcome units), the outcome analogue
  of Abadie & L'Hour's (2021, *JASA* 116, 1817-1834) interpolation-bias penalty: small when the
  weight sits on donors that are each close to the treated unit, large when far-apart donors
  average out to it;
* ``outside_hull`` -- whether the treated unit's pre-period outcome path lies outside the
  convex hull of the donors' paths: the linear programme ``X0 w = x1, w >= 0, sum w = 1`` is
  infeasible (HiGHS, with a feasibility tolerance relative to the outcome's scale).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["outside_hull", "fit_diagnostics"]


def outside_hull(X0: np.ndarray, x1: np.ndarray, *, rtol: float = 1e-7) -> bool:
    """True when no simplex weights reproduce ``x1`` from the columns of ``X0`` (an LP feasibility test)."""
    T, J = X0.shape
    scale = max(float(np.abs(X0).max()), float(np.abs(x1).max()), 1e-300)
    A, b = X0 / scale, x1 / scale
    # minimise the total slack s+ + s- of A w + s+ - s- = b over the simplex: zero iff feasible
    c = np.concatenate([np.zeros(J), np.ones(2 * T)])
    A_eq = np.vstack([np.hstack([A, np.eye(T), -np.eye(T)]),
                      np.concatenate([np.ones(J), np.zeros(2 * T)])[None, :]])
    b_eq = np.concatenate([b, [1.0]])
    res = optimize.linprog(c, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status != 0:
        return True
    return bool(res.fun > rtol * T)


def _donor_distance(x1: np.ndarray, X0: np.ndarray, w: np.ndarray, level_free: bool) -> float:
    if level_free:
        x1, X0 = x1 - x1.mean(), X0 - X0.mean(axis=0)
    return float(np.sqrt(np.sum(w * np.mean((X0 - x1[:, None]) ** 2, axis=0))))


def fit_diagnostics(x1_pre: np.ndarray, X0_pre: np.ndarray, w: np.ndarray, gap_pre: np.ndarray,
                    *, measure_se: float | None = None, level_free: bool = False) -> dict:
    """The fit and interpolation diagnostics of one single-unit fit (see the module docstring).

    ``level_free`` (SDID, whose unit effects absorb level differences): ``donor_distance`` is
    computed on paths demeaned over the pre-period.
    """
    rmspe = float(np.sqrt(np.mean(gap_pre ** 2)))
    sd = float(np.std(x1_pre, ddof=1)) if len(x1_pre) > 1 else float("nan")
    w = np.asarray(w, float)
    out = {
        "pre_rmspe_ratio_sd": rmspe / sd if sd > 0 else float("nan"),
        "effective_donors": float(1.0 / np.sum(w ** 2)),
        "donor_distance": _donor_distance(np.asarray(x1_pre, float), np.asarray(X0_pre, float), w, level_free),
        "outside_hull": outside_hull(X0_pre, x1_pre),
    }
    if measure_se is not None and measure_se > 0:
        out["pre_rmspe_ratio_se"] = rmspe / float(measure_se)
        out["measure_se"] = float(measure_se)
    return out
