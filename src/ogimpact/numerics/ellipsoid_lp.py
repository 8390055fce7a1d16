"""Linear objectives over a shifted simplex cut by an ellipsoid (the in-sample problem of scpi).

For the prediction intervals of Cattaneo, Feng & Titiunik (2021, *JASA* 116(536), 1865-1880,
sec. 4) each simulated draw ``G`` defines the set of weight vectors

    S(G) = { x : sum(x) = 1, x >= lb, (x - b)' Q (x - b) - 2 G'(x - b) <= 0 }

(``b`` the estimated weights, ``Q`` the pre-period Gram matrix over T, ``lb`` the local
geometry's lower bounds), and the bounds of the in-sample error ``p'(b - x)`` are its minimum
and maximum over ``S(G)`` for each post-period row ``p`` of the donor outcomes.  ``b`` is
always in ``S(G)`` (the quadratic is zero there), so both problems are feasible.

Solved here by a log-barrier interior-point method (Boyd & Vandenberghe 2004, *Convex
Optimization*, sec. 11.3) with Newton steps on the equality-constrained barrier problem,
started from a strictly feasible point found once per draw (the barrier minimiser of the
quadratic over the simplex, phase I).  The loops are scalar so numba compiles them; without
numba the same code runs as Python (slow, same numbers).  scpi solves the same convex
programs as second-order cone programs with ECOS.
"""
from __future__ import annotations

import math

import numpy as np

try:  # pragma: no cover - whichever branch the environment takes
    import numba as _nb

    HAVE_NUMBA = True
except Exception:  # ImportError, or a numba/numpy mismatch at import
    _nb = None
    HAVE_NUMBA = False

__all__ = ["HAVE_NUMBA", "ellipsoid_simplex_bounds"]

#: Newton decrement (half squared) at which a centring step stops
DEC_TOL = 1e-8
#: factor by which the barrier parameter grows between centring steps
MU_STEP = 8.0

#: Newton steps of the last call: phase I, phase II, stalled line searches (for benchmarks)
LAST_STATS = np.zeros(3, dtype=np.int64)


def _chol_solve2(H, r1, r2, n):
    """Solve ``H z = r1`` and ``H z = r2`` (H symmetric positive definite) in place by Cholesky."""
    L = np.zeros((n, n))
    for j in range(n):
        s = H[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if s <= 0.0:
            return False
        L[j, j] = math.sqrt(s)
        for i in range(j + 1, n):
            s = H[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / L[j, j]
    for r in (r1, r2):
        for i in range(n):  # forward
            s = r[i]
            for k in range(i):
                s -= L[i, k] * r[k]
            r[i] = s / L[i, i]
        for i in range(n - 1, -1, -1):  # backward
            s = r[i]
            for k in range(i + 1, n):
                s -= L[k, i] * r[k]
            r[i] = s / L[i, i]
    return True


def _fval(Q, b, G, x, n, grad):
    """f(x) = (x-b)'Q(x-b) - 2G'(x-b); fills ``grad`` with its gradient."""
    f = 0.0
    for i in range(n):
        s = 0.0
        for k in range(n):
            s += Q[i, k] * (x[k] - b[k])
        grad[i] = 2.0 * s - 2.0 * G[i]
        f += (x[i] - b[i]) * (s - 2.0 * G[i])
    return f


def _barrier_min(Q, b, G, lb, c, x, t, use_f, n):
    """Newton's method on ``t c'x - sum log(x - lb) [- log(-f(x))]`` s.t. sum x = 1, from feasible ``x``.

    With ``use_f`` False the objective is ``t f(x) - sum log(x - lb)`` (phase I).  Returns False
    when a Newton system fails.
    """
    grad_f = np.empty(n)
    g = np.empty(n)
    H = np.empty((n, n))
    r1 = np.empty(n)
    r2 = np.empty(n)
    xn = np.empty(n)
    gtmp = np.empty(n)
    for it in range(50):
        f = _fval(Q, b, G, x, n, grad_f)
        for i in range(n):
            for k in range(n):
                H[i, k] = 0.0
        if use_f:
            nf = -f
            for i in range(n):
                g[i] = t * c[i] + grad_f[i] / nf
                for k in range(n):
                    H[i, k] = 2.0 * Q[i, k] / nf + grad_f[i] * grad_f[k] / (nf * nf)
        else:
            for i in range(n):
                g[i] = t * grad_f[i]
                for k in range(n):
                    H[i, k] = 2.0 * t * Q[i, k]
        for i in range(n):
            s = x[i] - lb[i]
            g[i] -= 1.0 / s
            H[i, i] += 1.0 / (s * s)
        for i in range(n):
            r1[i] = g[i]
            r2[i] = 1.0
        if not _chol_solve2(H, r1, r2, n):
            return -1
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            s1 += r1[i]
            s2 += r2[i]
        nu = -s1 / s2
        dec = 0.0  # Newton decrement squared: -g'dx
        for i in range(n):
            r1[i] = -(r1[i] + nu * r2[i])  # dx
            dec -= g[i] * r1[i]
        if dec * 0.5 <= DEC_TOL:
            return it
        # objective at x
        phi0 = 0.0
        for i in range(n):
            phi0 -= math.log(x[i] - lb[i])
        if use_f:
            for i in range(n):
                phi0 += t * c[i] * x[i]
            phi0 -= math.log(-f)
        else:
            phi0 += t * f
        step = 1.0
        for i in range(n):  # keep x > lb
            if r1[i] < 0.0:
                m = -(x[i] - lb[i]) / r1[i]
                if 0.99 * m < step:
                    step = 0.99 * m
        ok = False
        for _ls in range(60):
            for i in range(n):
                xn[i] = x[i] + step * r1[i]
            fn = _fval(Q, b, G, xn, n, gtmp)
            feas = True
            for i in range(n):
                if xn[i] - lb[i] <= 0.0:
                    feas = False
            if use_f and fn >= 0.0:
                feas = False
            if feas:
                phi = 0.0
                for i in range(n):
                    phi -= math.log(xn[i] - lb[i])
                if use_f:
                    for i in range(n):
                        phi += t * c[i] * xn[i]
                    phi -= math.log(-fn)
                else:
                    phi += t * fn
                if phi <= phi0 - 0.25 * step * dec:
                    ok = True
                    break
            step *= 0.5
        if not ok:
            return 1000 + it  # no further progress possible at this t (numerically converged)
        for i in range(n):
            x[i] = xn[i]
    return 50


def _bounds_core(Q, b, lb, P, Gs, tol, out_lo, out_hi, n_fail, stats):
    n = b.shape[0]
    T1 = P.shape[0]
    sims = Gs.shape[1]
    G = np.empty(n)
    x0 = np.empty(n)
    x = np.empty(n)
    c = np.empty(n)
    gtmp = np.empty(n)
    slack = 1.0
    for i in range(n):
        slack -= lb[i]
    qscale = 0.0
    for i in range(n):
        if abs(Q[i, i]) > qscale:
            qscale = abs(Q[i, i])
    m = n + 1.0
    for s in range(sims):
        for i in range(n):
            G[i] = Gs[i, s]
        # phase I: a point strictly inside the simplex where f < 0 (the barrier minimiser of f)
        for i in range(n):
            x0[i] = lb[i] + slack / n
        t = 1.0 / max(qscale, 1e-300)
        ok = True
        for _k in range(40):
            k = _barrier_min(Q, b, G, lb, c, x0, t, False, n)
            stats[0] += k % 1000
            stats[2] += k >= 1000
            if k < 0:
                ok = False
                break
            t *= 10.0
            fx = _fval(Q, b, G, x0, n, gtmp)
            if (fx < 0.0 and n / t < 1e-3 * -fx) or n / t < 1e-15 * qscale:
                break
        f0 = _fval(Q, b, G, x0, n, gtmp)
        gg = 0.0
        for i in range(n):
            gg += G[i] * G[i]
        if not ok:
            for h in range(T1):
                out_lo[s, h] = np.nan
                out_hi[s, h] = np.nan
            n_fail[0] += 1
            continue
        if not f0 < -1e-13 * max(gg, 1e-300) / max(qscale, 1e-300):
            # the set is (numerically) the single point b: no in-sample deviation
            for h in range(T1):
                out_lo[s, h] = 0.0
                out_hi[s, h] = 0.0
            continue
        for h in range(T1):
            cmax = 0.0
            for i in range(n):
                if abs(P[h, i]) > cmax:
                    cmax = abs(P[h, i])
            for sign in range(2):
                sg = 1.0 if sign == 0 else -1.0  # sign 0: min p'(b - x) <=> min -p'x ... see below
                for i in range(n):
                    c[i] = -sg * P[h, i]  # sign 0 maximises p'x (lower bound of p'(b-x)), sign 1 minimises it
                    x[i] = x0[i]
                t = 10.0 / max(cmax, 1e-300)
                good = True
                for _k in range(60):
                    k = _barrier_min(Q, b, G, lb, c, x, t, True, n)
                    stats[1] += k % 1000
                    stats[2] += k >= 1000
                    if k < 0:
                        good = False
                        break
                    if m / t < tol * max(cmax, 1e-300):
                        break
                    t *= MU_STEP
                val = 0.0
                for i in range(n):
                    val += P[h, i] * (b[i] - x[i])
                if not good or not math.isfinite(val):
                    val = np.nan
                    n_fail[0] += 1
                if sign == 0:
                    out_lo[s, h] = val
                else:
                    out_hi[s, h] = val
    return 0


if HAVE_NUMBA:  # pragma: no branch
    _chol_solve2 = _nb.njit(cache=True, nogil=True)(_chol_solve2)
    _fval = _nb.njit(cache=True, nogil=True)(_fval)
    _barrier_min = _nb.njit(cache=True, nogil=True)(_barrier_min)
    _bounds_core = _nb.njit(cache=True, nogil=True)(_bounds_core)


def ellipsoid_simplex_bounds(
    Q: np.ndarray, b: np.ndarray, lb: np.ndarray, P: np.ndarray, Gs: np.ndarray, *, tol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, int]:
    """Lower and upper bounds of ``p_h'(b - x)`` over ``S(G_s)`` for every draw and row.

    Parameters
    ----------
    Q : (J, J) positive (semi)definite matrix; b : (J,) weights with ``sum(b) = 1``, ``b >= lb``.
    lb : (J,) lower bounds of the weights; P : (T1, J) rows ``p_h``; Gs : (J, S) draws ``G_s``.
    tol : relative duality-gap tolerance of the barrier method (times ``max |p_h|``).

    Returns
    -------
    lo, hi : (S, T1) arrays (NaN where a solve failed); n_failed : number of failed solves.
    """
    Q = np.ascontiguousarray(Q, dtype=float)
    b = np.ascontiguousarray(b, dtype=float)
    lb = np.ascontiguousarray(np.minimum(lb, b), dtype=float)
    P = np.ascontiguousarray(P, dtype=float)
    Gs = np.ascontiguousarray(Gs, dtype=float)
    S, T1 = Gs.shape[1], P.shape[0]
    if 1.0 - lb.sum() <= 1e-10:  # the bounds pin every weight at b: the set is the point b (scpi: zero bounds)
        return np.zeros((S, T1)), np.zeros((S, T1)), 0
    lo = np.empty((S, T1))
    hi = np.empty((S, T1))
    n_fail = np.zeros(1, dtype=np.int64)
    stats = np.zeros(3, dtype=np.int64)
    _bounds_core(Q, b, lb, P, Gs, float(tol), lo, hi, n_fail, stats)
    LAST_STATS[:] = stats
    return lo, hi, int(n_fail[0])
