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

__all__ = ["codes", "demean", "count_fe_levels", "nested_in", "connected_components"]


def codes(values) -> np.ndarray:
    """Integer codes 0..L-1 of a column (any dtype); missing values raise a DesignError."""
    c, _ = pd.factorize(pd.Series(values), sort=True)
    if (c < 0).any():
        from ..errors import DesignError

        raise DesignError("a fixed-effect column has missing values; drop those rows or fill the ids.")
    return c.astype(np.int64)


def _indicator(f: np.ndarray, L: int, w: np.ndarray | None):
    """Sparse L x n (weighted) indicator matrix of a factor and its level totals."""
    from scipy.sparse import csr_matrix

    n = len(f)
    vals = np.ones(n) if w is None else w
    D = csr_matrix((vals, (f, np.arange(n))), shape=(L, n))
    tot = np.asarray(D.sum(axis=1)).ravel()
    return D, np.where(tot > 0, tot, 1.0)


def _group_mean(X: np.ndarray, D, tot: np.ndarray) -> np.ndarray:
    """(Weighted) group means of every column of X (L x k)."""
    return (D @ X) / tot[:, None]


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
    array shaped like ``X``: the residuals of the (weighted) projection on the dummies.

    Notes
    -----
    One factor: exact, ``x - mean_g(x)``.  Several factors: alternating
    projections (Gaure 2013) with an Aitken-free plain sweep; on a balanced
    two-way panel it converges in one or two sweeps.
    """
    A = np.asarray(X, dtype=float)
    one_d = A.ndim == 1
    R = A.reshape(len(A), -1).copy()
    w = None if weights is None else np.asarray(weights, dtype=float)
    facs = [np.asarray(f, dtype=np.int64) for f in factors]
    if not facs or R.shape[1] == 0:
        return R[:, 0] if one_d else R
    sizes = [int(f.max()) + 1 if len(f) else 0 for f in facs]
    ind = [_indicator(f, L, w) for f, L in zip(facs, sizes)]
    if len(facs) == 1:
        R -= _group_mean(R, *ind[0])[facs[0]]
        return R[:, 0] if one_d else R
    scale = 1.0 + np.abs(R).max(axis=0)
    active = np.arange(R.shape[1])
    for _ in range(maxiter):
        sub = R[:, active]
        before = sub.copy()
        for f, (D, tot) in zip(facs, ind):
            sub -= _group_mean(sub, D, tot)[f]
        R[:, active] = sub
        change = np.abs(sub - before).max(axis=0) / scale[active]
        active = active[change > tol]
        if active.size == 0:
            break
    return R[:, 0] if one_d else R


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
    sizes = [int(len(np.unique(f))) for f in keep]
    if len(keep) == 1:
        k = sizes[0]
    elif len(keep) == 2:
        k = sizes[0] + sizes[1] - connected_components(codes(keep[0]), codes(keep[1]))
    else:
        k = sum(sizes) - (len(keep) - 1)
    return int(k)


def nested_in(factor: np.ndarray, cluster: np.ndarray) -> bool:
    """True when every level of ``factor`` lies inside a single cluster."""
    f = codes(factor)
    c = codes(cluster)
    pairs = np.unique(f * (int(c.max()) + 1) + c)
    return bool(len(pairs) == len(np.unique(f)))
