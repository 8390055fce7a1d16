"""Exact two-way (unit + time) fixed-effect OLS with sparse dummy regressors.

Used by the saturated event-study regressions (Sun & Abraham 2021), whose
regressors are one dummy per cohort × relative-period cell (at most one
nonzero per row) plus a few dense covariates.  Instead of demeaning an
``n × k`` dense matrix, the normal equations are reduced by block elimination
(partitioned regression / Frisch–Waugh–Lovell; e.g. Greene, *Econometric
Analysis*, §3.3; the same algebra as the "absorb one factor exactly, then solve
the small system" approach of Guimarães & Portugal 2010, *Stata Journal* 10(4)):

* the unit effects (``N_u`` levels, a diagonal block) are eliminated
  analytically: every product ``W' M_U W`` of the stacked regressors
  ``W = [D, Z, T]`` (cell dummies, covariates, time dummies) is formed from
  sparse products and group sums, ``W'W − (S'W)' diag(1/n_u) (S'W)``, with ``S``
  the unit indicator;
* the time effects (``T`` levels) are eliminated from that ``(k + T)`` system
  with a pseudo-inverse of the ``T × T`` block (exact also when the unit–time
  graph is disconnected), which leaves ``M = X̃'X̃`` and ``X̃'ỹ`` with
  ``X̃ = M_{U,T} X`` the FE-residualised regressors, and ``Γ`` (``T × p``), the
  time-FE coefficients of projecting ``X`` on the fixed effects.

Residuals are then formed exactly (``M_{U,T}(y − Xb)``), and the cluster score
sums ``s_g = Σ_{i∈g} x̃_i e_i`` need only ``k``-dimensional quantities per
cluster: with ``x̃_i = x_i − x̄_u − Γ_{t_i} + Γ̄_u``,
``s_g = Σ_{i∈g} x_i e_i − Σ_u E_{gu} (x̄_u − Γ̄_u) − Σ_t E_{gt} Γ_t`` where
``E_{gu}``, ``E_{gt}`` are residual sums by (cluster, unit) and (cluster, time)
(the unit term vanishes when units are nested in clusters, since residuals sum
to zero within a unit, and is kept for the general case).  Memory is
``O(n + G·p + p²)`` instead of ``O(n·p)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["TwoWayGram", "twoway_gram", "twoway_residuals", "cluster_meat", "collinear_columns"]


@dataclass
class TwoWayGram:
    """The reduced normal equations of ``y`` on ``X = [D, Z]`` with unit and time FE absorbed.

    Attributes
    ----------
    M : (p, p) array, ``X̃'X̃``
    c : (p,) array, ``X̃'ỹ``
    Gamma : (T, p) array, time-FE coefficients of the projection of ``X`` on the FE
    sq_norm : (p,) array, ``||X_j||²`` of the raw columns (for the absorbed-column test)
    ATT_pinv : (T, T) array, pseudo-inverse of the time block ``T' M_U T``
    SD, ST : sparse unit × cell and unit × time count matrices; n_u : rows per unit
    Zu, yu : covariates and outcome demeaned within unit
    """

    M: np.ndarray
    c: np.ndarray
    Gamma: np.ndarray
    sq_norm: np.ndarray
    ATT_pinv: np.ndarray
    SD: sp.csr_matrix      # N_u x k   unit x cell counts
    ST: sp.csr_matrix      # N_u x T   unit x time counts
    n_u: np.ndarray
    Zu: np.ndarray         # n x q     covariates demeaned within unit
    yu: np.ndarray         # n         outcome demeaned within unit


def _unit_demean(A: np.ndarray, unit: np.ndarray, n_u: np.ndarray) -> np.ndarray:
    """Columns of ``A`` (n,) or (n, q) minus their unit means (exact one-way within transform)."""
    if A.ndim == 1:
        return A - (np.bincount(unit, weights=A, minlength=len(n_u)) / n_u)[unit]
    out = np.empty_like(A)
    for j in range(A.shape[1]):
        out[:, j] = _unit_demean(A[:, j], unit, n_u)
    return out


def _pinv_psd(A: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of a symmetric PSD matrix (eigenvalues below 1e-10 of the largest are null)."""
    if A.size == 0:
        return A.copy()
    w, U = np.linalg.eigh(A)
    keep = w > 1e-10 * max(float(w[-1]), 1e-300)
    return (U[:, keep] / w[keep]) @ U[:, keep].T


def twoway_gram(y: np.ndarray, cell: np.ndarray, k: int, Z: np.ndarray, unit: np.ndarray,
                time: np.ndarray) -> TwoWayGram:
    """Form the FE-reduced normal equations without any ``n × k`` dense array.

    Parameters
    ----------
    y : (n,) outcome
    cell : (n,) int, dummy column of each row (``-1``: no dummy)
    k : number of dummy columns
    Z : (n, q) dense covariates (``q`` may be 0)
    unit, time : (n,) int codes ``0..N_u-1`` and ``0..T-1``
    """
    n = len(y)
    Nu, T = int(unit.max()) + 1, int(time.max()) + 1
    n_u = np.bincount(unit, minlength=Nu).astype(float)
    m = cell >= 0
    cu, cc, ct = unit[m], cell[m], time[m]
    ones = np.ones(len(cc))
    SD = sp.csr_matrix((ones, (cu, cc)), shape=(Nu, k))
    ST = sp.csr_matrix((np.ones(n), (unit, time)), shape=(Nu, T))
    inv_nu = sp.diags(1.0 / n_u)
    ncell = np.bincount(cc, minlength=k).astype(float)
    n_t = np.bincount(time, minlength=T).astype(float)
    # dummy and time blocks: W'W - (S'W)' diag(1/n_u) (S'W), all from sparse count matrices
    A_DD = np.diag(ncell) - (SD.T @ inv_nu @ SD).toarray()
    A_DT = sp.csr_matrix((ones, (cc, ct)), shape=(k, T)).toarray() - (SD.T @ inv_nu @ ST).toarray()
    A_TT = np.diag(n_t) - (ST.T @ inv_nu @ ST).toarray()
    # covariate and outcome blocks: exact within-unit demeaning, then group sums
    yu = _unit_demean(np.asarray(y, float), unit, n_u)
    Zu = _unit_demean(np.asarray(Z, float).reshape(n, -1), unit, n_u)
    q = Zu.shape[1]
    A_DZ = np.column_stack([np.bincount(cc, weights=Zu[m, j], minlength=k) for j in range(q)]) if q \
        else np.zeros((k, 0))
    A_ZT = np.vstack([np.bincount(time, weights=Zu[:, j], minlength=T) for j in range(q)]) if q \
        else np.zeros((0, T))
    A_ZZ = Zu.T @ Zu
    A_Dy = np.bincount(cc, weights=yu[m], minlength=k)
    A_Zy = Zu.T @ yu
    A_Ty = np.bincount(time, weights=yu, minlength=T)
    A_XX = np.block([[A_DD, A_DZ], [A_DZ.T, A_ZZ]])
    A_XT = np.vstack([A_DT, A_ZT])
    A_Xy = np.concatenate([A_Dy, A_Zy])
    # eliminate the time effects: M = A_XX - A_XT A_TT^+ A_TX (any g-inverse: A_TX lies in range(A_TT))
    P = _pinv_psd(A_TT)
    Gamma = P @ A_XT.T
    M = A_XX - A_XT @ Gamma
    M = (M + M.T) / 2
    c = A_Xy - Gamma.T @ A_Ty
    Zf = np.asarray(Z, float).reshape(n, -1)
    sq = np.concatenate([ncell, (Zf ** 2).sum(axis=0)])
    return TwoWayGram(M, c, Gamma, sq, P, SD, ST, n_u, Zu, yu)


def twoway_residuals(gram: TwoWayGram, beta: np.ndarray, cell: np.ndarray, unit: np.ndarray,
                     time: np.ndarray) -> np.ndarray:
    """Exact residuals ``M_{U,T}(y − X b)`` (``beta`` has 0 for dropped columns)."""
    k = gram.SD.shape[1]
    r = gram.yu - gram.Zu @ beta[k:] if gram.Zu.shape[1] else gram.yu.copy()
    bd = np.concatenate([beta[:k], [0.0]])
    xb = bd[np.where(cell >= 0, cell, k)]
    r -= _unit_demean(xb, unit, gram.n_u)
    T = gram.ST.shape[1]
    lam = gram.ATT_pinv @ np.bincount(time, weights=r, minlength=T)
    lam_u = (gram.ST @ lam) / gram.n_u
    return r - (lam[time] - lam_u[unit])


def cluster_meat(gram: TwoWayGram, e: np.ndarray, cell: np.ndarray, unit: np.ndarray, time: np.ndarray,
                 cl: np.ndarray, use: np.ndarray, *, chunk_mb: float = 32.0) -> np.ndarray:
    """``Σ_g s_g s_g'`` with ``s_g = Σ_{i∈g} x̃_i e_i`` over the columns ``use`` (boolean, length p)."""
    k = gram.SD.shape[1]
    G = int(cl.max()) + 1
    Nu, T = gram.SD.shape[0], gram.ST.shape[1]
    m = cell >= 0
    # Σ_{i∈g} d_i e_i (dummy part) and the unit / time correction matrices
    P1 = sp.csr_matrix((e[m], (cl[m], cell[m])), shape=(G, k))
    Egu = sp.csr_matrix((e, (cl, unit)), shape=(G, Nu)) @ sp.diags(1.0 / gram.n_u)
    P1 = (P1 - Egu @ gram.SD).tocsr()
    H = (Egu @ gram.ST - sp.csr_matrix((e, (cl, time)), shape=(G, T))).tocsr()
    q = gram.Zu.shape[1]
    P2 = np.column_stack([np.bincount(cl, weights=gram.Zu[:, j] * e, minlength=G) for j in range(q)]) if q \
        else np.zeros((G, 0))
    use_d, use_z = use[:k], use[k:]
    Gam = gram.Gamma[:, use]
    P1 = P1[:, np.flatnonzero(use_d)]
    P2 = P2[:, use_z]
    p = int(use.sum())
    rows = max(1, int(chunk_mb * 2 ** 20 / 8 / max(p, 1)))
    meat = np.zeros((p, p))
    for a in range(0, G, rows):
        b = min(G, a + rows)
        s = np.hstack([P1[a:b].toarray(), P2[a:b]]) + H[a:b] @ Gam
        meat += s.T @ s
    return meat


def collinear_columns(M: np.ndarray, order: np.ndarray, tol: float) -> np.ndarray:
    """Columns found linearly dependent on earlier ones (in ``order``) by an ordered Cholesky of a Gram matrix.

    fixest's rule (``collin.tol``; its ``cpp_cholesky``): walk the columns in
    order and drop column ``j`` when its squared norm left after projecting on
    the kept earlier columns is tiny.  Here "tiny" is relative to the column's
    own squared norm (``1 − R_j² < tol²``), which makes the rule scale-free.
    Returns a boolean mask over the columns of ``M``.
    """
    p = M.shape[0]
    dep = np.zeros(p, dtype=bool)
    if p == 0:
        return dep
    d = np.sqrt(np.clip(np.diag(M), 1e-300, None))
    Ms = (M / d[:, None] / d[None, :])[np.ix_(order, order)]
    try:  # fast path: full rank, every pivot of the scaled Cholesky above tol^2
        L = np.linalg.cholesky(Ms)
        if np.min(np.diag(L)) ** 2 >= tol ** 2:
            return dep
    except np.linalg.LinAlgError:
        pass
    R = np.zeros((p, p))
    kept = np.zeros(p, dtype=bool)
    for j in range(p):
        Rk = R[kept, j:]
        row = Ms[j, j:] - Rk[:, 0] @ Rk
        if row[0] < tol ** 2:
            dep[order[j]] = True
            continue
        R[j, j:] = row / np.sqrt(row[0])
        kept[j] = True
    return dep
