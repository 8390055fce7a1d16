"""Relative-magnitudes restriction Delta^RM(Mbar) of Rambachan & Roth (2023).

Confidence sets for ``theta = l' tau_post`` when every post-treatment
first difference of the trend violation is at most ``Mbar`` times the largest
pre-treatment first difference.  Delta^RM is a union of polyhedra, one per
(period ``s`` of the largest pre-period difference, sign); the confidence set is
the union of the ARP conditional-least-favourable hybrid (C-LF) confidence sets
over the polyhedra, each obtained by test inversion over a grid of ``theta``.

The computation follows R ``HonestDiD`` (``computeConditionalCS_DeltaRM``)
step by step: the same constraint matrices, only post-period moments in the
test (``postPeriodMomentsOnly = TRUE``), the change of basis through ``Gamma``
(first row ``l'``), the least-favourable critical value as the ``1 - kappa``
quantile of 1000 simulated LP values (``kappa = alpha / 10``, R's random
numbers with ``seed = 0``), the size-``(alpha - kappa)/(1 - kappa)`` conditional
test, and a grid of ``grid_points`` values on ``[-20, 20] * sd(l'beta_post)``.

References
----------
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends.
*Review of Economic Studies* 90(5), 2555-2591.
Andrews, I., Roth, J. and Pakes, A. (2023). Inference for linear conditional
moment inequalities. *Review of Economic Studies* 90(6), 2763-2791.
"""
from __future__ import annotations

import numpy as np

from ._lp import DualPolytope, r_quantile, r_rmvnorm, truncnorm_ppf

__all__ = ["rm_constraints", "rm_confidence_set", "rm_interval"]


def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, max_positive: bool) -> np.ndarray:
    """Matrix ``A`` with Delta^RM_{s,sign}(Mbar) = {delta : A delta <= 0}.

    Columns are ``delta_{-n_pre..-1}, delta_{1..n_post}`` (HonestDiD's time, the
    reference period 0 dropped).  Rows: ``|delta_t - delta_{t-1}| <=
    Mbar_t * sign * (delta_s - delta_{s-1})`` for every ``t``, with
    ``Mbar_t = 1`` before treatment and ``Mbar`` after.
    """
    K, T = n_pre, n_post
    Atilde = np.zeros((K + T, K + T + 1))
    r = np.arange(K + T)
    Atilde[r, r] = -1.0
    Atilde[r, r + 1] = 1.0
    v = np.zeros(K + T + 1)
    v[K + s - 1] = -1.0
    v[K + s] = 1.0
    if not max_positive:
        v = -v
    A_UB = np.vstack([np.tile(v, (K, 1)), np.tile(mbar * v, (T, 1))])
    A = np.vstack([Atilde - A_UB, -Atilde - A_UB])
    A = A[(A * A).sum(axis=1) > 1e-10]
    return np.delete(A, K, axis=1)


def _construct_gamma(l_vec: np.ndarray) -> np.ndarray:
    """Invertible matrix with ``l'`` as first row (pivot columns of [l, I])."""
    T = len(l_vec)
    B = np.column_stack([l_vec, np.eye(T)])
    cols: list[int] = []
    for j in range(B.shape[1]):
        trial = cols + [j]
        if np.linalg.matrix_rank(B[:, trial]) == len(trial):
            cols = trial
        if len(cols) == T:
            break
    return B[:, cols].T


def _lf_cv_nuisance(poly: DualPolytope, sigma: np.ndarray, kappa: float, sims: int, seed: int) -> float:
    xi = r_rmvnorm(sims, sigma, seed=seed)  # (sims, m)
    eta, _ = poly.eta(xi.T)
    return r_quantile(eta, 1 - kappa)


def _accept_nuisance(
    betahat, sigma, A, rows, l_vec, n_pre, theta, alpha, hybrid, kappa, sims, seed
) -> np.ndarray:
    """ARP (hybrid) test with nuisance parameters over a theta grid (n_post > 1)."""
    K, T = n_pre, len(l_vec)
    Ginv = np.linalg.inv(_construct_gamma(l_vec))
    AG = A[:, K : K + T] @ Ginv
    a1, X = AG[:, 0], AG[:, 1:]
    Y = A @ betahat  # d = 0 for Delta^RM
    SY = A @ sigma @ A.T
    a1, X, Y, SY = a1[rows], X[rows], Y[rows], SY[np.ix_(rows, rows)]
    sd = np.sqrt(np.diag(SY))
    poly = DualPolytope(X, sd)
    n = len(theta)
    if poly.empty:  # LP unbounded for every y: R's solver flags an error and does not reject
        return np.ones(n, dtype=bool)
    Yg = Y[:, None] - np.outer(a1, theta)  # (m, n)
    eta, j = poly.eta(Yg)
    reject = np.zeros(n, dtype=bool)
    if hybrid == "LF":
        lf_cv = _lf_cv_nuisance(poly, SY, kappa, sims, seed)
        first = eta > lf_cv
        reject |= first
        size = (alpha - kappa) / (1 - kappa)
    else:
        lf_cv = np.inf
        first = np.zeros(n, dtype=bool)
        size = alpha
    todo = ~first
    if not todo.any():
        return ~reject
    vlo, vup, s2 = poly.truncation(Yg[:, todo], j[todo], SY)
    eta_t = eta[todo]
    dual = poly.degenerate[j[todo]]
    # R's dual (bisection) branch: bounds beyond its search box are infinite
    sB = np.sqrt(np.clip(s2, 0, None))
    low0 = np.minimum(-100.0, eta_t - 20 * sB)
    high0 = np.maximum(100.0, eta_t + 20 * sB)
    vup = np.where(dual & (vup >= high0), np.inf, vup)
    vlo = np.where(dual & (vlo <= low0), -np.inf, vlo)
    rej = np.zeros(todo.sum(), dtype=bool)
    tiny = dual & (np.abs(s2) < np.finfo(float).eps)
    rej[tiny] = eta_t[tiny] > 0
    ok = ~tiny & (s2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = eta_t / sB
        zlo = vlo / sB
        zup = np.minimum(vup, lf_cv) / sB
    inside = ok & (zlo <= stat) & (stat <= zup)
    if inside.any():
        cval = np.maximum(0.0, truncnorm_ppf(1 - size, zlo[inside], zup[inside]))
        rej[np.flatnonzero(inside)] = stat[inside] > cval
    reject[np.flatnonzero(todo)] = rej
    return ~reject


def _accept_no_nuisance(betahat, sigma, A, n_pre, theta, alpha, hybrid, kappa, sims, seed) -> np.ndarray:
    """ARP (hybrid) test without nuisance parameters (one post period)."""
    SA = A @ sigma @ A.T
    sdt = np.sqrt(np.diag(SA))
    At = A / sdt[:, None]
    e = np.zeros(len(betahat))
    e[n_pre] = 1.0
    Yg = betahat[:, None] - np.outer(e, theta)  # (p, n)
    mom = At @ Yg  # normalized moments (d = 0)
    loc = np.argmax(mom, axis=0)
    mx = mom[loc, np.arange(len(theta))]
    reject = np.zeros(len(theta), dtype=bool)
    if hybrid == "LF":
        xi = r_rmvnorm(sims, SA, seed=seed) / sdt
        lf_cv = r_quantile(xi.max(axis=1), 1 - kappa)
        reject |= mx > lf_cv
        size = (alpha - kappa) / (1 - kappa)
    else:
        size = alpha
    for L in np.unique(loc):
        cols = np.flatnonzero((loc == L) & ~reject)
        if not len(cols):
            continue
        g = At[L]
        Abar = At - g[None, :]
        sg = sigma @ g
        gsg = float(g @ sg)
        c = sg / gsg
        Z = Yg[:, cols] - np.outer(c, g @ Yg[:, cols])
        Ac = Abar @ c
        obj = (-(Abar @ Z)) / np.where(Ac == 0, np.nan, Ac)[:, None]
        neg, pos = Ac < 0, Ac > 0
        vlo = obj[neg].max(axis=0) if neg.any() else np.full(len(cols), -np.inf)
        vup = obj[pos].min(axis=0) if pos.any() else np.full(len(cols), np.inf)
        cval = np.maximum(0.0, truncnorm_ppf(1 - size, vlo, vup, mu=0.0, sd=np.sqrt(gsg)))
        reject[cols] = mx[cols] > cval
    return ~reject


def rm_confidence_set(
    betahat: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    l_vec: np.ndarray,
    mbar: float,
    *,
    alpha: float = 0.05,
    hybrid: str = "LF",
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    sims: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Accepted values of ``theta`` on the grid, union over Delta^RM's polyhedra.

    Returns ``(grid, accept)``; see the module docstring for the algorithm.
    """
    betahat = np.asarray(betahat, float)
    sigma = np.asarray(sigma, float)
    l_vec = np.asarray(l_vec, float)
    K, T = n_pre, len(l_vec)
    kappa = alpha / 10
    sd_theta = float(np.sqrt(l_vec @ sigma[K:, K:] @ l_vec))
    lb = -20 * sd_theta if grid_lb is None else float(grid_lb)
    ub = 20 * sd_theta if grid_ub is None else float(grid_ub)
    theta = np.linspace(lb, ub, grid_points)
    accept = np.zeros(grid_points, dtype=bool)
    for s in range(-(K - 1), 1):
        for pos in (True, False):
            A = rm_constraints(K, T, mbar, s, pos)
            if T > 1:
                rows = np.flatnonzero((A[:, K:] != 0).any(axis=1))
                acc = _accept_nuisance(betahat, sigma, A, rows, l_vec, K, theta, alpha, hybrid, kappa, sims, seed)
            else:
                A = A[A[:, -1] != 0]
                acc = _accept_no_nuisance(betahat, sigma, A, K, theta, alpha, hybrid, kappa, sims, seed)
            accept |= acc
    return theta, accept


def rm_interval(betahat, sigma, n_pre, l_vec, mbar, **kw) -> tuple[float, float, bool]:
    """``(ci_low, ci_high, open_at_grid_end)`` of the C-LF set (NaN if empty)."""
    theta, acc = rm_confidence_set(betahat, sigma, n_pre, l_vec, mbar, **kw)
    if not acc.any():
        return float("nan"), float("nan"), False
    return float(theta[acc].min()), float(theta[acc].max()), bool(acc[0] or acc[-1])
