"""Synthetic control method of Abadie, Diamond & Hainmueller (ADH).

References
----------
Abadie, A. & Gardeazabal, J. (2003). The economic costs of conflict: a case study of the
    Basque Country. *American Economic Review* 93(1), 113-132.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
    case studies: estimating the effect of California's tobacco control program. *JASA*
    105(490), 493-505.
Abadie, A., Diamond, A. & Hainmueller, J. (2011). Synth: an R package for synthetic control
    methods in comparative case studies. *Journal of Statistical Software* 42(13).
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
    control method. *American Journal of Political Science* 59(2), 495-510.

Algorithm (as R ``Synth`` / Stata ``synth ..., nested``)
--------------------------------------------------------
Predictors ``X`` (K x units) are divided by their standard deviation across the treated
and donor units.  For a diagonal ``V`` on the simplex the donor weights solve the
quadratic programme ``W(V) = argmin (X1 - X0 W)' V (X1 - X0 W)`` s.t. ``W >= 0, sum W = 1``
(solved exactly here by an active-set method with a KKT check, where ``Synth`` uses the
interior-point ``ipop``).  The outer problem chooses ``V`` to minimise the outcome MSPE
``|Z1 - Z0 W(V)|^2 / T`` over the optimisation window, with ``V = |p| / sum |p|``,
Nelder-Mead and BFGS each started from equal weights and from ``Synth``'s regression-based
start; the best of the runs wins.  Everything is deterministic.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from scipy import optimize

from ..errors import DesignError, PanelError
from ..panel import Panel
from ..results import Estimate
from .synth_predictors import Predictor, default_spec, parse_spec, predictor_matrix

__all__ = ["fit_synth", "simplex_ls", "solve_w", "fit_arrays", "scale_predictors"]


# ----------------------------------------------------------------------------- inner QP
def _eq_ls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min |A z - b| subject to sum(z) = 1 (unconstrained in sign), min-norm if rank deficient."""
    m = A.shape[1]
    z = np.empty(m)
    if m == 1:
        z[0] = 1.0
        return z
    D = A[:, :-1] - A[:, -1:]
    r = b - A[:, -1]
    y = None
    if m - 1 <= D.shape[0]:
        try:
            y = np.linalg.solve(D.T @ D, D.T @ r)
            if not np.isfinite(y).all() or np.abs(y).max() > 1e8:
                y = None
        except np.linalg.LinAlgError:
            y = None
    if y is None:
        y = np.linalg.lstsq(D, r, rcond=None)[0]
    z[:-1] = y
    z[-1] = 1.0 - y.sum()
    return z


def simplex_ls(
    A: np.ndarray, b: np.ndarray, *, w0: np.ndarray | None = None, tol: float = 1e-11, max_iter: int | None = None
) -> np.ndarray:
    """Exact solution of ``min |A w - b|^2`` s.t. ``w >= 0``, ``sum w = 1``.

    A Lawson-Hanson-type primal active-set method: start at a feasible point (``w0``, e.g.
    the previous solution, or the best single column), solve the equality-constrained
    least squares on the free set, step back to feasibility and drop zeros, then add the
    column with the most negative reduced gradient.  It stops when the KKT conditions
    hold: ``g_j = mu`` on the support, ``g_j >= mu`` off it, where ``g = A'(A w - b)``
    (tolerance relative to the scale of ``A`` and ``b``).
    """
    K, J = A.shape
    if J == 1:
        return np.ones(1)
    eps = tol * max(1.0, float((A * A).sum(axis=0).max()) + float(b @ b))
    if w0 is not None and len(w0) == J and abs(w0.sum() - 1.0) < 1e-9 and w0.min() >= 0:
        w = w0.copy()
        P = np.flatnonzero(w > 0).tolist()
    else:
        w = np.zeros(J)
        j0 = int(np.argmin(((A - b[:, None]) ** 2).sum(axis=0)))
        w[j0] = 1.0
        P = [j0]
    new = -1
    for _ in range(max_iter or 4 * J + 20):
        # equality-constrained LS on the free set, stepping back to feasibility
        for _inner in range(J + 1):
            z = _eq_ls(A[:, P], b)
            if z.min() > 1e-14:
                w[:] = 0.0
                w[P] = z
                break
            wP = w[P]
            neg = z <= 1e-14
            alpha = float((wP[neg] / (wP[neg] - z[neg])).min())
            if alpha <= 0 and _inner == 0 and P[-1] == new:
                return _finish(w)  # numerically no progress: the new column cannot enter
            wP += alpha * (z - wP)
            wP[wP <= 1e-14] = 0.0
            w[:] = 0.0
            w[P] = wP
            P = [p for p in P if w[p] > 0]
        g = A.T @ (A @ w - b)
        red = g - g[P].mean()
        red[P] = np.inf
        new = int(np.argmin(red))
        if not red[new] < -eps:
            break
        P.append(new)
    return _finish(w)


def _finish(w: np.ndarray) -> np.ndarray:
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def solve_w(X1s: np.ndarray, X0s: np.ndarray, v: np.ndarray, *, w0: np.ndarray | None = None) -> np.ndarray:
    """Donor weights for predictor weights ``v`` (diagonal V): the ADH inner problem."""
    sv = np.sqrt(np.clip(v, 0.0, None))[:, None]
    return simplex_ls(sv * X0s, sv[:, 0] * X1s, w0=w0)


def scale_predictors(X: np.ndarray) -> np.ndarray:
    """Divide each predictor (row) by its SD across the columns (treated + donors), as R Synth."""
    sd = np.std(X, axis=1, ddof=1, keepdims=True)
    sd[~np.isfinite(sd) | (sd <= 0)] = 1.0
    return X / sd


# ----------------------------------------------------------------------------- outer V
def _v_of(p: np.ndarray) -> np.ndarray:
    a = np.abs(p)
    s = a.sum()
    return a / s if s > 0 else np.full(len(p), 1.0 / len(p))


def _softmax(t: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(t - t.max(), -40.0, 0.0))
    return e / e.sum()


def fit_arrays(
    X: np.ndarray,
    Z: np.ndarray,
    treated: int,
    donors: Sequence[int],
    *,
    fixed_v: np.ndarray | None = None,
    n_random: int = 4,
    seed: int = 0,
) -> dict:
    """Fit one synthetic control on arrays (the nested ADH optimisation).

    Parameters
    ----------
    X : (K, N) predictors of all units (unscaled); Z : (T, N) outcome in the MSPE window.
    treated : column of the treated unit; donors : columns of the donors.
    fixed_v : skip the outer optimisation and use these predictor weights.
    n_random, seed : extra seeded random (Dirichlet) starting points of the V search.

    Returns
    -------
    dict with ``w`` (donor weights), ``v`` (predictor weights), ``loss`` (window MSPE),
    ``n_eval`` (inner problems solved) and ``method`` (the winning optimiser run).

    Notes
    -----
    The V search runs, in order: (1) R ``Synth``'s own runs, Nelder-Mead and BFGS on
    ``V = |p|/sum|p|`` from equal weights and from the regression-based start; (2)
    Nelder-Mead on a log (softmax) parametrisation, which reaches the nearly degenerate
    corners of the simplex where published solutions often sit (ADH 2010 put almost all
    of V on a few predictors), from equal weights, the regression start, one start near
    each corner and ``n_random`` seeded Dirichlet draws; (3) a restart from the best point.
    The lowest window MSPE wins; ties keep the earlier run, so R ``Synth``'s answer is kept
    unless a strictly better V exists.
    """
    donors = np.asarray(donors, dtype=int)
    cols = np.concatenate([[treated], donors])
    Xs = scale_predictors(X[:, cols])
    X1s, X0s = Xs[:, 0], Xs[:, 1:]
    Z1, Z0 = Z[:, treated], Z[:, donors]
    K = X.shape[0]
    state = {"n": 0, "w": None}

    def loss_v(v):
        state["n"] += 1
        w = solve_w(X1s, X0s, v, w0=state["w"])
        state["w"] = w
        r = Z1 - Z0 @ w
        return float(r @ r) / len(Z1)

    if fixed_v is not None or K == 1:
        v = np.full(K, 1.0 / K) if fixed_v is None else _v_of(np.asarray(fixed_v, float))
        w = solve_w(X1s, X0s, v)
        r = Z1 - Z0 @ w
        return {"w": w, "v": v, "loss": float(r @ r) / len(Z1), "n_eval": 1, "method": "fixed V"}

    starts = {"equal": np.full(K, 1.0 / K)}
    # Synth's regression-based start: V = diag(B B') from regressing the window outcome on the scaled predictors
    D = np.column_stack([np.ones(len(cols)), Xs.T])
    if D.shape[0] > D.shape[1]:
        B, _, rank, _ = np.linalg.lstsq(D, Z[:, cols].T, rcond=None)
        sv2 = (B[1:] ** 2).sum(axis=1)
        if rank == D.shape[1] and sv2.sum() > 0 and np.all(np.isfinite(sv2)):
            starts["regression"] = sv2 / sv2.sum()
    runs: list[tuple[float, np.ndarray, str]] = []

    def keep(val, v, name):
        runs.append((float(val), _v_of(v), name))

    f_abs = lambda p: loss_v(_v_of(p))  # noqa: E731
    f_log = lambda t: loss_v(_softmax(t))  # noqa: E731
    nm = {"maxiter": 200 * K, "xatol": 1e-6, "fatol": 1e-10, "adaptive": K > 5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # (1) R Synth's runs
        for sname, p0 in starts.items():
            res = optimize.minimize(f_abs, p0, method="Nelder-Mead", options=nm)
            keep(res.fun, res.x, f"Nelder-Mead (|p|) from {sname} start")
            res = optimize.minimize(f_abs, p0, method="BFGS", options={"maxiter": 60, "gtol": 1e-8})
            keep(res.fun, res.x, f"BFGS (|p|) from {sname} start")
        # (2) log-parametrised multistart
        lstarts = {f"{k} start": np.log(np.clip(v, 1e-12, None)) for k, v in starts.items()}
        for k in range(K):
            t0 = np.zeros(K)
            t0[k] = np.log(20.0 * K)
            lstarts[f"corner {k + 1} start"] = t0
        rng = np.random.default_rng(seed)
        for r in range(n_random):
            lstarts[f"random start {r + 1}"] = np.log(rng.dirichlet(np.ones(K)))
        nml = {"maxiter": 60 * K, "xatol": 1e-3, "fatol": 1e-9, "adaptive": K > 5}
        for sname, t0 in lstarts.items():
            res = optimize.minimize(f_log, t0, method="Nelder-Mead", options=nml)
            keep(res.fun, _softmax(res.x), f"Nelder-Mead (log V) from {sname}")
        # (3) restart from the best point, in the log parametrisation
        best = min(runs, key=lambda r: r[0])
        res = optimize.minimize(f_log, np.log(np.clip(best[1], 1e-16, None)), method="Nelder-Mead",
                                options={**nml, "maxiter": 200 * K, "xatol": 1e-6})
        keep(res.fun, _softmax(res.x), best[2] + ", restarted")
    # re-evaluate every candidate from a cold start (the reported W must not depend on the path)
    scored = []
    for val, v, name in runs:
        w = solve_w(X1s, X0s, v)
        r = Z1 - Z0 @ w
        scored.append((float(r @ r) / len(Z1), v, w, name))
    lo = min(s_[0] for s_ in scored)
    loss, v, w, name = next(s_ for s_ in scored if s_[0] <= lo * (1 + 1e-9) + 1e-14)
    return {"w": w, "v": v, "loss": loss, "n_eval": state["n"], "method": name}
