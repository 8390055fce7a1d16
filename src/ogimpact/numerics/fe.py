"""Fixed-effect absorption: within (demeaning) transformations and FE counting.

One factor is absorbed exactly (group means).  Two or more factors are absorbed
by the method of alternating projections (Gaure 2013, "OLS with multiple high
dimensional category variables", *Computational Statistics & Data Analysis* 66;
the algorithm behind R ``lfe``, ``fixest`` and Stata ``reghdfe``), iterated
until the largest change is below ``tol`` relative to the scale of each column.

By the Frisch–Waugh–Lovell theorem, OLS of the demeaned outcome on the demeaned
regressors gives the coefficients of the regression with one dummy per level of
every factor.  :func:`count_fe_levels` gives the number of FE parameters this
absorbs (the rank of the dummy block), needed for degrees of freedom and
small-sample factors; :func:`nested_in` says whether a factor is nested in a
cluster variable (fixest / reghdfe then leave it out of K).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["codes", "demean", "demean_inplace", "TwoWay", "count_fe_levels", "nested_in", "connected_components"]


def codes(values) -> np.ndarray:
    """Integer codes 0..L-1 of a column (any dtype); missing values raise a DesignError.

    The codes follow the sorted distinct values (as ``pd.factorize(sort=True)``);
    integer and boolean columns of moderate range take a counting fast path.
    """
    a = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if a.ndim == 1 and a.size and (a.dtype.kind in "ib" or (a.dtype.kind == "u" and a.max() < 2**62)):
        lo, hi = int(a.min()), int(a.max())
        span = hi - lo + 1
        if span <= 4 * a.size + 1024:
            d = a.astype(np.int64)  # always a copy: the result
            if lo:
                d -= lo
            present = np.bincount(d, minlength=span) > 0
            if not present.all():
                np.take(np.cumsum(present) - 1, d, out=d)
            return d
    c, _ = pd.factorize(pd.Series(values), sort=True)
    if (c < 0).any():
        from ..errors import DesignError

        raise DesignError("a fixed-effect column has missing values; drop those rows or fill the ids.")
    return c.astype(np.int64)


def _balanced(f1: np.ndarray, f2: np.ndarray, L1: int, L2: int) -> bool:
    """True when every (f1, f2) cell holds exactly one row (a complete balanced two-way layout)."""
    n = len(f1)
    if n != L1 * L2 or n == 0:
        return False
    cell = f1 * L2
    cell += f2
    return bool(np.bincount(cell, minlength=n).max() == 1)


def _sweep(col: np.ndarray, f: np.ndarray, L: int, w: np.ndarray | None, tot: np.ndarray) -> None:
    """Subtract the (weighted) group means of ``f`` from ``col`` in place."""
    s = np.bincount(f, weights=col if w is None else w * col, minlength=L)
    s /= tot
    col -= s[f]


def demean(
    X: np.ndarray,
    factors: Sequence[np.ndarray],
    weights: np.ndarray | None = None,
    tol: float = 1e-10,
    maxiter: int = 10000,
) -> np.ndarray:
    """Project the columns of ``X`` off the dummies of one or more factors.

    Parameters
    ----------
    X : array (n,) or (n, k)
    factors : list of int arrays (n,)
        Integer codes (0..L-1) of each fixed-effect factor (see :func:`codes`).
        An empty list returns ``X`` unchanged (a copy).
    weights : array (n,), optional
        Observation weights (weighted within transformation).
    tol : float
        Convergence criterion of the alternating projections: the largest
        absolute change in a sweep, relative to ``1 + max|X|`` of the column.
    maxiter : int
        Maximum number of sweeps (two or more factors).

    Returns
    -------
    array shaped like ``X`` (a new, column-major array): the residuals of the
    (weighted) projection on the dummies.

    Notes
    -----
    One factor: exact, ``x - mean_g(x)``.  Two factors on a complete balanced
    layout (one row per cell, no weights): one sweep is the exact projection
    ``x - xbar_i - xbar_t + xbar``, so no convergence sweep is run.  Otherwise
    alternating projections (Gaure 2013), one column at a time with
    ``np.bincount`` group sums, each column until its own change is below ``tol``.
    """
    A = np.asarray(X, dtype=float)
    one_d = A.ndim == 1
    R = np.array(A.reshape(len(A), -1), dtype=float, order="F", copy=True)
    demean_inplace(R, factors, weights=weights, tol=tol, maxiter=maxiter)
    return R[:, 0] if one_d else R


def demean_inplace(
    R: np.ndarray,
    factors: Sequence[np.ndarray],
    *,
    weights: np.ndarray | None = None,
    tol: float = 1e-10,
    maxiter: int = 10000,
) -> np.ndarray:
    """:func:`demean` of a float64 ``(n, k)`` array in place (column-major arrays avoid copies)."""
    w = None if weights is None else np.asarray(weights, dtype=float)
    facs = [np.asarray(f, dtype=np.int64) for f in factors]
    if not facs or R.shape[1] == 0 or R.shape[0] == 0:
        return R
    sizes = [int(f.max()) + 1 for f in facs]
    tots = []
    for f, L in zip(facs, sizes):
        t = np.bincount(f, weights=w, minlength=L).astype(float)
        tots.append(np.where(t > 0, t, 1.0))
    balanced = len(facs) == 2 and w is None and _balanced(facs[0], facs[1], sizes[0], sizes[1])
    for j in range(R.shape[1]):
        col = R[:, j]
        contiguous = col.flags.c_contiguous
        if not contiguous:
            col = np.ascontiguousarray(col)
        if len(facs) == 1 or balanced:
            for f, L, tot in zip(facs, sizes, tots):
                _sweep(col, f, L, w, tot)
        else:
            scale = 1.0 + np.abs(col).max()
            for _ in range(maxiter):
                before = col.copy()
                for f, L, tot in zip(facs, sizes, tots):
                    _sweep(col, f, L, w, tot)
                before -= col
                if np.abs(before).max() / scale <= tol:
                    break
        if not contiguous:
            R[:, j] = col
    return R


def connected_components(f1: np.ndarray, f2: np.ndarray) -> int:
    """Number of connected components of the bipartite graph of two factors' levels."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as _cc

    L1, L2 = int(f1.max()) + 1, int(f2.max()) + 1
    g = coo_matrix((np.ones(len(f1)), (f1, f2 + L1)), shape=(L1 + L2, L1 + L2))
    n, _ = _cc(g, directed=False)
    return int(n)


def count_fe_levels(factors: Sequence[np.ndarray], *, exclude: Sequence[bool] | None = None) -> int:
    """Number of parameters absorbed by the fixed effects (rank of the dummy block).

    Parameters
    ----------
    factors : list of int code arrays
    exclude : list of bool, optional
        Factors to leave out of the count (e.g. those nested in the cluster
        variable, as fixest's ``fixef.K = "nested"`` and reghdfe do).  If every
        factor is excluded the count is 1 (the absorbed intercept).

    Returns
    -------
    int
        One factor: its number of levels.  Two: levels1 + levels2 − (number of
        connected components), exact.  Three or more: sum of levels − (m − 1),
        assuming the factors are connected (as fixest does beyond two).
        Excluded (nested) factors count 0, but the intercept they absorb stays
        (+1), so a one-way FE nested in the clusters counts 1, as Stata
        ``xtreg, fe vce(cluster)`` counts the constant.
    """
    facs = [np.asarray(f, dtype=np.int64) for f in factors]
    if not facs:
        return 0
    excl = list(exclude) if exclude is not None else [False] * len(facs)
    keep = [f for f, e in zip(facs, excl) if not e]
    if not keep:
        return 1
    keep = [codes(f) for f in keep]
    sizes = [int(f.max()) + 1 if len(f) else 0 for f in keep]
    if len(keep) == 1:
        k = sizes[0]
    elif len(keep) == 2:
        ncomp = 1 if _balanced(keep[0], keep[1], sizes[0], sizes[1]) else connected_components(keep[0], keep[1])
        k = sizes[0] + sizes[1] - ncomp
    else:
        k = sum(sizes) - (len(keep) - 1)
    return int(k)


def nested_in(factor: np.ndarray, cluster: np.ndarray) -> bool:
    """True when every level of ``factor`` lies inside a single cluster."""
    f = codes(factor)
    c = codes(cluster)
    if len(f) == 0:
        return True
    first = np.empty(int(f.max()) + 1, dtype=np.int64)
    first[f] = c  # one cluster per level (any row's); nested iff every row agrees with it
    return bool(np.array_equal(first[f], c))


class TwoWay:
    """Exact projection on two crossed factors' dummies (unweighted), by their coefficients.

    For group sums ``S1 = D1'X`` (L1 x k), ``S2 = D2'X`` (L2 x k) it returns
    ``(A, B)`` with ``P X = A[f1] + B[f2]``, the least-squares projection of X
    on both sets of dummies.  A complete balanced layout has the closed form
    ``A = S1 / L2``, ``B = S2 / L1 - sum(X) / n``.  Otherwise the normal
    equations are reduced to the smaller factor,
    ``(diag(n2) - N' diag(1/n1) N) B = S2 - N' (S1 / n1)`` with ``N`` the cell
    counts, one level per connected component fixed at zero, and solved by
    Cholesky (Gaure 2013, section 2, for the structure).  ``ok`` is False when
    that system is too large (smaller factor above ``max_levels`` levels) or
    not positive definite; callers then use :func:`demean`.
    """

    def __init__(self, f1: np.ndarray, f2: np.ndarray, *, max_levels: int = 3000):
        from scipy import linalg

        self.f1, self.f2 = np.asarray(f1, dtype=np.int64), np.asarray(f2, dtype=np.int64)
        self.n = n = len(self.f1)
        self.L1, self.L2 = int(self.f1.max()) + 1, int(self.f2.max()) + 1
        self.balanced = _balanced(self.f1, self.f2, self.L1, self.L2)
        self.ok = True
        if self.balanced:
            return
        self.swap = self.L2 > self.L1  # reduce to the smaller factor ("b" side)
        fa, fb = (self.f2, self.f1) if self.swap else (self.f1, self.f2)
        La, Lb = (self.L2, self.L1) if self.swap else (self.L1, self.L2)
        na = np.bincount(fa, minlength=La).astype(float)
        nb = np.bincount(fb, minlength=Lb).astype(float)
        if Lb > max_levels or (na == 0).any() or (nb == 0).any():
            self.ok = False
            return
        from scipy.sparse import csr_matrix

        N = csr_matrix((np.ones(n), (fa, fb)), shape=(La, Lb))
        N.sum_duplicates()
        Nd = N.multiply(1.0 / np.sqrt(na)[:, None]).tocsr()
        C = -(Nd.T @ Nd).toarray()
        C[np.diag_indices(Lb)] += nb
        # one b level per connected component is set to 0 (the dummies' redundancy)
        from scipy.sparse.csgraph import connected_components as _cc

        g = csr_matrix((np.ones(n), (fa, fb + La)), shape=(La + Lb, La + Lb))
        _, lab = _cc(g, directed=False)
        lab_b = lab[La:]
        _, first = np.unique(lab_b, return_index=True)
        free = np.ones(Lb, dtype=bool)
        free[first] = False
        try:
            self._chol = linalg.cho_factor(C[np.ix_(free, free)], lower=True)
        except linalg.LinAlgError:
            self.ok = False
            return
        self._N, self._na, self._free, self._La, self._Lb = N, na, free, La, Lb

    def coefs(self, S1: np.ndarray, S2: np.ndarray, total: np.ndarray | None = None):
        """``(A, B)`` (L1 x k, L2 x k) from the group sums ``S1``, ``S2`` (and column totals)."""
        from scipy import linalg

        if self.balanced:
            tot = S1.sum(axis=0) if total is None else total
            return S1 / self.L2, S2 / self.L1 - tot / self.n
        Sa, Sb = (S2, S1) if self.swap else (S1, S2)
        N, na, free = self._N, self._na, self._free
        rhs = Sb - N.T @ (Sa / na[:, None])
        B = np.zeros_like(rhs)
        B[free] = linalg.cho_solve(self._chol, rhs[free])
        A = (Sa - N @ B) / na[:, None]
        return (B, A) if self.swap else (A, B)

    def sums(self, X: np.ndarray):
        """Group sums ``(D1'X, D2'X)`` of the columns of ``X`` (n x k)."""
        X = X.reshape(self.n, -1)
        S1 = np.column_stack([np.bincount(self.f1, weights=X[:, j], minlength=self.L1) for j in range(X.shape[1])])
        S2 = np.column_stack([np.bincount(self.f2, weights=X[:, j], minlength=self.L2) for j in range(X.shape[1])])
        return S1, S2

    def residual_inplace(self, X: np.ndarray) -> np.ndarray:
        """``X - P X`` in place for a float64 (n x k) array; returns X."""
        S1, S2 = self.sums(X)
        A, B = self.coefs(S1, S2)
        for j in range(X.shape[1]):
            X[:, j] -= A[self.f1, j]
            X[:, j] -= B[self.f2, j]
        return X
