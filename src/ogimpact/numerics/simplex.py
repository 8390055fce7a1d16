"""Least squares on the probability simplex: ``min |A w - b|^2`` s.t. ``w >= 0``, ``sum w = 1``.

The inner problem of synthetic control weights (Abadie, Diamond & Hainmueller 2010) and of the
outcome-only SCM that augmented SCM builds on (Ben-Michael, Feller & Rothstein 2021); an
exact primal active-set solver in the manner of Lawson & Hanson (1974, *Solving Least Squares
Problems*, ch. 23).
"""
from __future__ import annotations

import numpy as np

__all__ = ["simplex_ls"]


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
    A: np.ndarray, b: np.ndarray, *, w0: np.ndarray | None = None, tol: float = 1e-14, max_iter: int | None = None
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
