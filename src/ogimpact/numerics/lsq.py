"""The least-squares engine shared by the regression designs (panel, TWFE, event study).

:func:`fit_linear` absorbs fixed effects (Frisch–Waugh–Lovell; Gaure 2013), drops
collinear columns (pivoted Cholesky on the scaled X'X, falling back to pivoted
QR near the limit, so drop decisions match fixest/reghdfe), estimates the
coefficients and takes the covariance from :mod:`ogimpact.numerics.vcov` with
fixest/reghdfe small-sample conventions.  With two fixed effects and indicator
regressors (event-time dummies) it works from group sums and never builds the
dense dummy matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import linalg

from ..errors import DesignError
from .vcov import (VcovResult, check_clusters, classical_result, cluster_result, cluster_scores,
                              compute_vcov, dof_k)
from .fe import demean_inplace

__all__ = ["LinearFit", "fit_linear"]

@dataclass(frozen=True)
class LinearFit:
    """A fitted linear regression (after absorbing fixed effects).

    ``X`` is None when the fit used the indicator-structured path of
    :func:`fit_linear` (the within-transformed dummies are never formed).
    """

    names: list
    coef: np.ndarray
    vcov: VcovResult
    X: np.ndarray | None  # regressors as estimated (within-transformed)
    y: np.ndarray
    resid: np.ndarray
    k: int  # small-sample K
    dropped: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov.V), 0, None))


#: a pivot of the scaled Gram matrix above this (relative to the largest) is safely full rank by the
#: QR criterion (1e-9) whatever the rounding of X'X; below it the pivoted QR of X decides
_SAFE_PIVOT = 1e-6
#: the Cholesky solve (with one refinement step) is used when every relative pivot is above this
_CHOL_PIVOT = 1e-4
#: rank tolerance of the pivoted QR (relative to the largest |R_jj|), as fixest's collinearity check
_QR_TOL = 1e-9


def _pivots(Gs: np.ndarray) -> np.ndarray:
    """Pivots ``|R_jj|`` of a column-pivoted Cholesky of a (scaled) Gram matrix, largest first."""
    A = np.array(Gs, dtype=float)
    k = len(A)
    d = np.zeros(k)
    for j in range(k):
        diag = np.diag(A)[j:]
        m = j + int(np.argmax(diag))
        if m != j:
            A[[j, m]] = A[[m, j]]
            A[:, [j, m]] = A[:, [m, j]]
        if A[j, j] <= 0:
            break
        d[j] = np.sqrt(A[j, j])
        A[j + 1:, j] /= d[j]
        A[j + 1:, j + 1:] -= np.outer(A[j + 1:, j], A[j + 1:, j])
    return d


def _well_posed(G: np.ndarray, scale: np.ndarray) -> tuple[bool, bool]:
    """(surely full rank, Cholesky-solvable) from the Gram matrix and the column scales."""
    if not np.all(np.isfinite(G)):
        return False, False
    d = _pivots(G / np.outer(scale, scale))
    if not len(d) or d[0] <= 0:
        return False, False
    rel = d.min() / d[0]
    return bool(rel > _SAFE_PIVOT), bool(rel > _CHOL_PIVOT)


def _chol_solve(G: np.ndarray, scale: np.ndarray, rhs_fn, resid_fn):
    """Coefficients by Cholesky of the scaled normal equations plus one refinement step.

    ``rhs_fn(r)`` returns ``X'r`` and ``resid_fn(b)`` returns ``y - X b``; returns
    ``(coef, resid, (X'X)^-1)``.
    """
    Gs = G / np.outer(scale, scale)
    c = linalg.cho_factor(Gs, lower=True)
    b = linalg.cho_solve(c, rhs_fn(None) / scale) / scale
    r = resid_fn(b)
    b = b + linalg.cho_solve(c, rhs_fn(r) / scale) / scale  # corrected semi-normal equations
    r = resid_fn(b)
    Binv = linalg.cho_solve(c, np.eye(len(G))) / np.outer(scale, scale)
    return b, r, (Binv + Binv.T) / 2


def fit_linear(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    *,
    fe: Sequence[np.ndarray] = (),
    intercept: bool = False,
    kind: str = "classical",
    clusters: Sequence[np.ndarray] = (),
    cluster_names: Sequence[str] = (),
    unit: np.ndarray | None = None,
    time: np.ndarray | None = None,
    lags: int | None = None,
    keep: Sequence[str] = (),
    indicators: tuple[np.ndarray, int] | None = None,
    dense: bool = False,
    coords: np.ndarray | None = None,
    cutoff: float | None = None,
) -> LinearFit:
    """OLS of ``y`` on ``X`` with absorbed fixed effects and a chosen covariance.

    Parameters
    ----------
    y : array (n,)
    X : array (n, p)
    names : column names of X (indicator columns first, see ``indicators``)
    fe : list of int code arrays, absorbed by within transformation
    intercept : add a column ``Intercept`` (only meaningful without ``fe``)
    kind, clusters, cluster_names, unit, time, lags : see :func:`ogimpact.numerics.vcov.compute_vcov`
    keep : names that must not be dropped as collinear (a DesignError instead)
    indicators : (codes, m), optional
        ``m`` 0/1 regressors given by one int array: row ``i`` has a 1 in
        indicator column ``codes[i]`` (``-1``: none).  They come before the
        columns of ``X``.  With two FE factors and classical or one-way
        cluster covariance they are never materialised: the normal equations,
        residuals and cluster scores come from group sums and the exact
        two-way projection of :class:`ogimpact.numerics.fe.TwoWay` (``X`` of the
        result is then None).
    dense : bool
        Always form the within-transformed regressors (e.g. for a bootstrap).

    Returns
    -------
    LinearFit
        Collinear columns (after absorbing the FE) are dropped, as fixest does,
        and listed in ``dropped``.

    Notes
    -----
    Rank: a column-pivoted Cholesky of the scaled ``X'X`` decides when every
    pivot is clearly nonzero; otherwise the column-pivoted QR of the scaled
    within-transformed X (tolerance 1e-9 of the largest pivot) chooses the
    columns to drop.  Coefficients: Cholesky of the normal equations with one
    step of iterative refinement when they are well conditioned, else
    least squares (SVD).
    """
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    names = list(names)
    fe = list(fe)
    if indicators is not None:
        icode, m = np.asarray(indicators[0], dtype=np.int64), int(indicators[1])
        if not dense and len(fe) == 2 and not intercept and m > 0 and (kind == "classical" or (kind == "cluster" and len(clusters) == 1)):
            fit = _fit_indicators(y, X, names, icode, m, fe=fe, kind=kind, clusters=clusters,
                                  cluster_names=cluster_names)
            if fit is not None:
                return fit
        D = np.zeros((n, m + X.shape[1]))
        rows = np.flatnonzero(icode >= 0)
        D[rows, icode[rows]] = 1.0
        D[:, m:] = X
        X = D
    if intercept:
        X = np.column_stack([np.ones(n), X])
        names = ["Intercept", *names]
    p = X.shape[1]
    scale = np.sqrt((X ** 2).sum(axis=0)) if p else np.zeros(0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = np.empty((n, 1 + p), order="F")
    Z[:, 0] = y
    Z[:, 1:] = X
    del X
    if fe:
        demean_inplace(Z, fe)
    yw, Xw = Z[:, 0], Z[:, 1:]
    dropped: list[str] = []
    full, chol = (_well_posed(Xw.T @ Xw, scale) if p else (True, False))
    if p and not full:
        _, Rq, piv = linalg.qr(Xw / scale, mode="economic", pivoting=True)
        d = np.abs(np.diag(Rq))
        tol = _QR_TOL * (d[0] if len(d) and d[0] > 0 else 1.0)
        rank = int((d > tol).sum())
        good = np.sort(piv[:rank])
        if rank < Xw.shape[1]:
            dropped = [names[i] for i in sorted(piv[rank:])]
            bad = [nm for nm in dropped if nm in keep]
            if bad:
                raise DesignError(
                    f"{', '.join(bad)} is collinear with the fixed effects or other regressors "
                    "(e.g. constant within units under unit FE); drop it or change the effects."
                )
            Xw = Xw[:, good]
            scale = scale[good]
            names = [names[i] for i in good]
        chol = False
    if Xw.shape[1] == 0:
        raise DesignError("no regressor is left after absorbing the fixed effects; add a regressor that varies within units and periods.")
    bread = None
    if chol:
        G = Xw.T @ Xw
        coef, resid, bread = _chol_solve(
            G, scale, lambda r: Xw.T @ (yw if r is None else r), lambda b: yw - Xw @ b)
    else:
        coef, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
        resid = yw - Xw @ coef
    K = dof_k(Xw.shape[1], fe, list(clusters) if kind == "cluster" else [])
    V = compute_vcov(Xw, resid, kind=kind, k=K, clusters=clusters, cluster_names=cluster_names,
                     unit=unit, time=time, lags=lags, bread=bread, coords=coords, cutoff=cutoff)
    return LinearFit(names, coef, V, Xw, yw, resid, int(K), dropped, _stats(yw, resid, fe, n, K))


def _stats(yw: np.ndarray, resid: np.ndarray, fe, n: int, K: int) -> dict:
    rss = float(resid @ resid)
    tss_w = float(((yw - (0 if len(fe) else yw.mean())) ** 2).sum())
    return {"rss": rss, "tss": tss_w, "r2" + ("_within" if len(fe) else ""): 1 - rss / tss_w if tss_w > 0 else None,
            "n": int(n), "K": int(K)}


def _cell_times(g: np.ndarray, G: int, f: np.ndarray, L: int, e: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``G x k``: sum over rows i of cluster g of ``M[f_i] * e_i`` (via the g x f cell sums of e)."""
    n = len(g)
    if G == L and np.array_equal(g, f):
        return np.bincount(f, weights=e, minlength=L)[:, None] * M
    if G * L <= 4 * n + 4096:
        cells = np.bincount(g * L + f, weights=e, minlength=G * L).reshape(G, L)
        return cells @ M
    from scipy.sparse import csr_matrix

    return csr_matrix((e, (g, f)), shape=(G, L)) @ M


def _fit_indicators(y, Xc, names, icode, m, *, fe, kind, clusters, cluster_names) -> LinearFit | None:
    """:func:`fit_linear` for indicator regressors (+ dense ``Xc``) under two FE; None = use the dense path."""
    from .fe import TwoWay

    f1, f2 = np.asarray(fe[0], dtype=np.int64), np.asarray(fe[1], dtype=np.int64)
    n, p = Xc.shape
    tw = TwoWay(f1, f2)
    if not tw.ok or (tw.L1 + tw.L2) * m > 50_000_000:
        return None
    r = np.flatnonzero(icode >= 0)
    ind = icode[r]
    if len(ind) and ind.max() >= m:
        return None
    # within-transformed outcome and dense regressors (exact two-way projection)
    Z = np.empty((n, 1 + p), order="F")
    Z[:, 0] = y
    Z[:, 1:] = Xc
    scale_c = np.sqrt((Xc ** 2).sum(axis=0)) if p else np.zeros(0)
    tw.residual_inplace(Z)
    yw, Xw = Z[:, 0], Z[:, 1:]
    # the indicator block: X_d' M X_d = diag(count) - S1' A - S2' B, with P X_d = A[f1] + B[f2]
    cnt = np.bincount(ind, minlength=m).astype(float)
    S1 = np.bincount(f1[r] * m + ind, minlength=tw.L1 * m).reshape(tw.L1, m).astype(float)
    S2 = np.bincount(f2[r] * m + ind, minlength=tw.L2 * m).reshape(tw.L2, m).astype(float)
    A, B = tw.coefs(S1, S2, cnt)
    k = m + p
    G = np.empty((k, k))
    Gdd = -(S1.T @ A) - S2.T @ B
    Gdd[np.diag_indices(m)] += cnt
    G[:m, :m] = (Gdd + Gdd.T) / 2
    if p:
        Gdc = np.column_stack([np.bincount(ind, weights=Xw[r, j], minlength=m) for j in range(p)])
        G[:m, m:] = Gdc
        G[m:, :m] = Gdc.T
        G[m:, m:] = Xw.T @ Xw
    scale = np.concatenate([np.sqrt(cnt), scale_c])
    scale = np.where(scale > 0, scale, 1.0)
    full, chol = _well_posed(G, scale)
    if not (full and chol):
        return None

    def xtr(v):  # X~'v (= X'v for v in the range of the within projection)
        v = yw if v is None else v
        out = np.empty(k)
        out[:m] = np.bincount(ind, weights=v[r], minlength=m)
        if p:
            out[m:] = Xw.T @ v
        return out

    def resid_of(b):
        bd = b[:m]
        fit = Xw @ b[m:] if p else np.zeros(n)
        fit[r] += bd[ind]
        fit -= (A @ bd)[f1]
        fit -= (B @ bd)[f2]
        return yw - fit

    coef, e, bread = _chol_solve(G, scale, xtr, resid_of)
    cl = [np.asarray(c, dtype=np.int64) for c in clusters] if kind == "cluster" else []
    K = dof_k(k, fe, cl)
    if n - K <= 0:
        raise DesignError(
            f"the model has {K} parameters but only {n} observations; drop regressors or fixed effects."
        )
    if kind == "classical":
        V = classical_result(bread, float(e @ e), n, K)
    else:
        cnames = list(cluster_names) or ["cluster1"]
        Gs = check_clusters(cl, cnames)
        g = cl[0]
        Gn = int(g.max()) + 1
        Sg = np.empty((Gn, k))
        if Gn * m <= 8 * n + 4096:
            Sg[:, :m] = np.bincount(g[r] * m + ind, weights=e[r], minlength=Gn * m).reshape(Gn, m)
        else:
            from scipy.sparse import csr_matrix

            Sg[:, :m] = csr_matrix((e[r], (g[r], ind)), shape=(Gn, m)).toarray()
        Sg[:, :m] -= _cell_times(g, Gn, f1, tw.L1, e, A)
        Sg[:, :m] -= _cell_times(g, Gn, f2, tw.L2, e, B)
        if p:
            Sg[:, m:] = cluster_scores(Xw, e, g, Gn)
        V = cluster_result(bread, Sg.T @ Sg, n, K, Gs, cnames)
    return LinearFit(names, coef, V, None, yw, e, int(K), [], _stats(yw, e, fe, n, K))
