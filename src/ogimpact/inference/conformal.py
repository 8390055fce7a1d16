"""Conformal inference for synthetic controls (Chernozhukov, Wüthrich & Zhu 2021).

Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021). An exact and robust conformal inference
method for counterfactual and synthetic controls. *JASA* 116(536), 1849-1864.

Under the sharp null ``H0: effect = theta`` in every post period, the treated unit's post
outcomes are replaced by ``y - theta``, the estimator is refitted on **all** periods (pre and
post), and the residuals ``u_t`` are permuted.  The statistic is ``S(u) = sum_{post} |u_t|``
(CWZ's ``q = 1``).  Moving-block permutations are the ``T`` cyclic shifts of ``u`` (the identity
included), iid permutations ``reps`` random orderings (the observed one counted in).  The p-value
is the share of permutations with ``S >= S_observed``; the confidence set is every ``theta`` on
a grid with ``p > alpha`` (reported as its min and max).  The per-period test uses the
pre-periods and that one post period.

``refit(y1, Y0) -> residuals`` is supplied by the design (SCM or ridge ASCM with its lambda
fixed, as augsynth and CWZ do), so the method is estimator-agnostic.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["conformal_p", "conformal_test", "permutations", "SCHEMES"]

SCHEMES = ("moving-block", "iid")
_TIE = 1e-12
#: how often the test-inversion grid is doubled when the confidence set reaches its edge
MAX_WIDEN = 3


def _stat(u: np.ndarray, post: np.ndarray) -> float:
    return float(np.abs(u[post]).sum())


def permutations(T: int, *, scheme: str = "moving-block", reps: int = 1000,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """Index permutations of ``T`` periods: the ``T`` cyclic shifts, or ``reps`` iid draws."""
    if scheme == "moving-block":
        return (np.arange(T)[None, :] + np.arange(T)[:, None]) % T  # row j: shift by j
    rng = rng or np.random.default_rng(0)
    return np.argsort(rng.random((reps, T)), axis=1)


def conformal_p(u: np.ndarray, post: np.ndarray, *, scheme: str = "moving-block", reps: int = 1000,
                rng: np.random.Generator | None = None, perms: np.ndarray | None = None) -> float:
    """Permutation p-value of the residuals ``u`` (all periods) for the post positions ``post``."""
    T = len(u)
    s0 = _stat(u, post)
    a = np.abs(u)
    if perms is None:
        perms = permutations(T, scheme=scheme, reps=reps, rng=rng)
    if scheme == "moving-block":
        s = a[perms][:, post].sum(axis=1)
        return float(np.mean(s >= s0 * (1 - _TIE) - _TIE))
    s = a[perms][:, post].sum(axis=1)
    return float((1 + np.sum(s >= s0 * (1 - _TIE) - _TIE)) / (len(perms) + 1))


def conformal_test(
    y1: np.ndarray,
    Y0: np.ndarray,
    pre: np.ndarray,
    refit: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    gaps: np.ndarray,
    alpha: float = 0.05,
    scheme: str = "moving-block",
    reps: int = 1000,
    seed: int = 0,
    grid_size: int = 51,
    grid_width: float = 4.0,
    by_time: bool = True,
) -> tuple[dict, list[dict], dict]:
    """Joint and per-period conformal tests and confidence sets.

    Parameters
    ----------
    y1 : (T,) treated outcome; Y0 : (T, J) donor outcomes; pre : (T,) bool pre-period mask.
    refit : residuals of the estimator refitted on the periods it is given.
    gaps : (T,) fitted gaps of the original fit (the grid is centred on the post gaps).
    grid_size, grid_width : the test-inversion grid, ``grid_size`` points over
        ``centre +- grid_width * max(pre-RMSPE, max |post gap - centre|)``.

    Returns
    -------
    (joint, by_time rows, grid options)
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown conformal scheme {scheme!r}")
    post_idx = np.flatnonzero(~pre)
    pre_idx = np.flatnonzero(pre)
    rmspe = float(np.sqrt(np.mean(gaps[pre] ** 2)))
    gp = gaps[~pre]

    cache: dict = {}

    def p_at(theta, rows, post_mask, rng_seed):
        yy = y1[rows].copy()
        yy[post_mask] -= theta
        u = refit(yy, Y0[rows])
        key = (len(rows), rng_seed)  # the same draws at every grid point of one test
        if key not in cache:
            cache[key] = permutations(len(rows), scheme=scheme, reps=reps, rng=np.random.default_rng(rng_seed))
        return conformal_p(u, post_mask, scheme=scheme, perms=cache[key])

    def invert(rows, post_mask, centre, spread, rng_seed):
        # the grid covers 0 (so the set agrees with the p-value at 0) and is doubled, up to
        # MAX_WIDEN times, while an end point is still accepted
        half = grid_width * max(rmspe, spread, abs(centre) / grid_width, 1e-12)
        for _ in range(MAX_WIDEN + 1):
            grid = np.linspace(centre - half, centre + half, grid_size)
            ps = np.array([p_at(th, rows, post_mask, rng_seed) for th in grid])
            edge = bool(ps[0] > alpha or ps[-1] > alpha)
            if not edge:
                break
            half *= 2.0
        ok = grid[ps > alpha]
        lo, hi = (float(ok.min()), float(ok.max())) if len(ok) else (float("nan"), float("nan"))
        return lo, hi, half, edge

    rows_all = np.arange(len(y1))
    post_all = ~pre
    centre = float(gp.mean())
    p0 = p_at(0.0, rows_all, post_all, seed)
    lo, hi, half, edge = invert(rows_all, post_all, centre, float(np.abs(gp - centre).max()), seed)
    method = (f"Chernozhukov-Wuthrich-Zhu (2021) conformal test of a constant effect in every post period, "
              f"{scheme} permutations" + (f" ({reps} draws, seed {seed})" if scheme == "iid" else
                                          f" ({len(y1)} cyclic shifts)"))
    joint = {"p_value": p0, "ci_low": lo, "ci_high": hi, "method": method, "statistic": "sum |u| over post periods",
             "scheme": scheme, "n_permutations": len(y1) if scheme == "moving-block" else reps}
    if edge:
        joint["ci_note"] = "the confidence set reaches the edge of the grid; it may be wider"
    rows = []
    halves = [half]
    if by_time:
        for k, t in enumerate(post_idx):
            r = np.concatenate([pre_idx, [t]])
            pm = np.zeros(len(r), bool)
            pm[-1] = True
            pt = p_at(0.0, r, pm, seed + 1 + k)
            lo_t, hi_t, half_t, edge_t = invert(r, pm, float(gaps[t]), 0.0, seed + 1 + k)
            halves.append(half_t)
            row = {"t_index": int(t), "p_value": pt, "ci_low": lo_t, "ci_high": hi_t}
            if edge_t:
                row["ci_note"] = "reaches the edge of the grid"
            rows.append(row)
    grid = {"conformal_grid_size": grid_size,
            "conformal_grid": f"{grid_size} points over centre +- h, h = {grid_width} x max(pre-RMSPE, spread of "
                              f"post gaps about the centre, |centre|/{grid_width}), doubled up to {MAX_WIDEN} times while "
                              f"an end point is accepted; centre = mean post gap (joint) or that period's gap",
            "conformal_grid_halfwidth": half, "conformal_grid_halfwidth_max": float(max(halves))}
    return joint, rows, grid
