"""Compiled Frank-Wolfe kernel of the synthdid weight solver (numba, pure-Python fallback).

The loop of :func:`ogimpact.designs.sdid.sc_weight_fw` (R synthdid ``fw.step`` with an
exact line search) written with scalar loops so numba compiles it to machine code:
each iteration is O(n + k) arithmetic with no Python-level calls.  The arithmetic is
the textbook update in the same order as the numpy implementation, except that dot
products are summed left to right (BLAS may use another order); the iterates agree
with the numpy ones to rounding (tested at 1e-12).

When numba cannot be imported, :data:`HAVE_NUMBA` is False and the solver in
``sdid.py`` uses its numpy loop instead (same iterates, slower).
"""
from __future__ import annotations

import numpy as np

try:  # pragma: no cover - exercised by whichever branch the environment takes
    import numba as _nb

    HAVE_NUMBA = True
except Exception:  # ImportError, or a numba/numpy version mismatch at import
    _nb = None
    HAVE_NUMBA = False

__all__ = ["HAVE_NUMBA", "fw_solve", "fw_solve_batch"]


def _fw_core(At, G, b, Atb, x, eta, z2, tol, max_iter):
    """Frank-Wolfe on one problem; ``x`` is updated in place, returns the iteration count.

    ``At`` is A transposed (k, n), ``G = A'A`` (k, k), ``b`` (n,), ``Atb = A'b`` (k,).
    """
    k, n = At.shape
    Wn = np.empty(n)  # A x
    Wk = np.empty(k)  # A'A x
    for j in range(n):
        s = 0.0
        for i in range(k):
            s += At[i, j] * x[i]
        Wn[j] = s
    for j in range(k):
        s = 0.0
        for i in range(k):
            s += G[j, i] * x[i]
        Wk[j] = s
    hg = np.empty(k)
    Dn = np.empty(n)
    Dk = np.empty(k)
    xx = 0.0
    for i in range(k):
        xx += x[i] * x[i]
    prev = 0.0
    have_prev = False
    it = 0
    while it < max_iter:
        it += 1
        # half-gradient A'A x - A'b + eta x and its first minimiser (numpy argmin semantics)
        imin = 0
        hmin = np.inf
        nnz = 0
        for j in range(k):
            h = (Wk[j] - Atb[j]) + x[j] * eta
            hg[j] = h
            if j == 0 or h < hmin:
                hmin = h
                imin = j
            if x[j] != 0.0:
                nnz += 1
        xi = x[imin]
        if not (xi == 1.0 and nnz == 1):
            hx = 0.0
            for j in range(k):
                hx += hg[j] * x[j]
            dn2 = 0.0
            for j in range(n):
                d = At[imin, j] - Wn[j]
                Dn[j] = d
                dn2 += d * d
            for j in range(k):
                Dk[j] = G[imin, j] - Wk[j]
            hg_d = hg[imin] - hx
            dd = xx - xi * xi + (1.0 - xi) * (1.0 - xi)
            step = -hg_d / (dn2 + eta * dd)
            if step > 1.0:
                s = 1.0
            elif step > 0.0:
                s = step
            else:
                s = 0.0
            if s != 0.0:
                for j in range(k):
                    x[j] *= 1.0 - s
                x[imin] += s
                for j in range(n):
                    Wn[j] += Dn[j] * s
                for j in range(k):
                    Wk[j] += Dk[j] * s
        xx = 0.0
        for j in range(k):
            xx += x[j] * x[j]
        en2 = 0.0
        for j in range(n):
            e = Wn[j] - b[j]
            en2 += e * e
        val = z2 * xx + en2 / n
        if have_prev and not (prev - val > tol):
            break
        prev = val
        have_prev = True
    return it


def _fw_batch_core(At, G, b, Atb, X, eta, z2, tol, max_iter, iters):
    """:func:`_fw_core` on each problem of a stack (rows of ``X`` updated in place)."""
    R = X.shape[0]
    for r in range(R):
        iters[r] = _fw_core(At[r], G[r], b[r], Atb[r], X[r], eta, z2, tol, max_iter)


if HAVE_NUMBA:  # pragma: no branch
    _fw_core_c = _nb.njit(cache=True, nogil=True)(_fw_core)

    @_nb.njit(cache=True, nogil=True)
    def _fw_batch_core_c(At, G, b, Atb, X, eta, z2, tol, max_iter, iters):
        for r in range(X.shape[0]):
            iters[r] = _fw_core_c(At[r], G[r], b[r], Atb[r], X[r], eta, z2, tol, max_iter)
else:  # pragma: no cover
    _fw_core_c = _fw_core
    _fw_batch_core_c = _fw_batch_core


def fw_solve(A, b, x, *, eta, z2, tol, max_iter):
    """Run the compiled kernel on one problem; returns (x, iterations)."""
    At = np.ascontiguousarray(A.T, dtype=np.float64)
    G = np.ascontiguousarray(A.T @ A)
    Atb = np.ascontiguousarray(A.T @ b)
    x = np.array(x, dtype=np.float64)
    it = _fw_core_c(At, G, np.ascontiguousarray(b, dtype=np.float64), Atb, x, float(eta), float(z2),
                    float(tol), int(max_iter))
    return x, int(it)


def fw_solve_batch(A, b, X, *, eta, z2, tol, max_iter):
    """Run the compiled kernel on a stack: ``A`` (R, n, k), ``b`` (R, n), ``X`` (R, k)."""
    At = np.ascontiguousarray(A.transpose(0, 2, 1), dtype=np.float64)
    G = np.ascontiguousarray(At @ A)
    Atb = np.ascontiguousarray(np.einsum("rkn,rn->rk", At, b))
    X = np.array(X, dtype=np.float64)
    iters = np.zeros(X.shape[0], dtype=np.int64)
    _fw_batch_core_c(At, G, np.ascontiguousarray(b, dtype=np.float64), Atb, X, float(eta), float(z2),
                     float(tol), int(max_iter), iters)
    return X, iters
