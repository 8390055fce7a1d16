"""Covariates in ``did_multiplegt_dyn``: residualising outcome changes on control changes.

de Chaisemartin & D'Haultfœuille (2024, *Review of Economics and Statistics*, Section 5 and the web
appendix "did_multiplegt_dyn with controls") allow time-varying controls X under a parallel-trends
assumption conditional on them.  For every baseline treatment level d, θ_d is the coefficient of the
regression of first differences ``ΔY_{g,t}`` on ``ΔX_{g,t}`` with period fixed effects, fitted on the
(g, t) of groups with baseline d that have not changed treatment yet.  Every long difference entering
effect ℓ (and placebo ℓ) is then replaced by ``Y_{g,t} − Y_{g,t−ℓ} − (X_{g,t} − X_{g,t−ℓ})′θ_{D_g1}``.
The variance adds the estimation error of θ_d to each group's influence term:
``U^var_g −= Σ_d M_dℓ′(Den_d⁻¹ · ψ_{g,d} − θ_d)``, with ``M_dℓ`` the derivative of the effect in θ_d
and ``ψ_{g,d}`` the group's cohort-demeaned, DOF-adjusted score in the θ_d regression — the
package's conventions, including the subtraction of θ_d in every group's bracket.

``--continuous P`` (a continuous or many-valued baseline treatment) follows the package too: the
baseline is pooled into one level, the treatment is replaced by the staggered ±1 indicator of having
switched in or out, and period dummies (from the second period on, cumulated) interacted with
``D_g1, …, D_g1^P`` join the controls.

Written from the algorithm of the R package ``DIDmultiplegtDYN`` 2.x (read, not copied); checked on
Favara & Imbs (2015) against py-did-multiplegt-dyn 0.1.9 and moderndid 0.4.1
(``tests/test_dcdh_controls.py``).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import OgimpactWarning

__all__ = ["ControlsFit", "fit_controls", "continuous_controls", "lagged"]


def lagged(A: np.ndarray, k: int) -> np.ndarray:
    """``A`` shifted k periods forward along axis 1 (value at t is A[t−k]; NaN before)."""
    out = np.full(A.shape, np.nan)
    if 0 < k < A.shape[1]:
        out[:, k:] = A[:, :-k]
    elif k == 0:
        out[:] = A
    return out


def continuous_controls(dsq_orig: np.ndarray, T: int, degree: int) -> np.ndarray:
    """(G, T, (T−1)·degree) controls ``1{t ≥ j} · D_g1^k`` for j = 2..T, k = 1..degree."""
    tt = np.arange(1, T + 1)
    cols = [(tt[None, :] >= j) * (dsq_orig[:, None] ** k) for j in range(2, T + 1) for k in range(1, degree + 1)]
    if not cols:
        return np.zeros((len(dsq_orig), T, 0))
    return np.stack(cols, axis=2).astype(float)


@dataclass
class ControlsFit:
    """θ_d per baseline level and the per-group pieces of the variance correction."""

    X: np.ndarray          # (G, T, k)
    theta: np.ndarray      # (nd, k); zero rows for levels not residualised
    useful: np.ndarray     # (nd,) bool: level residualised
    psi: np.ndarray        # (G, k): Den_{d_g}^{-1} · in_sum_g · 1{F_g ≥ 3} (own level)
    dcode: np.ndarray      # (G,)
    names: list

    def residualise(self, dy: np.ndarray, dX: np.ndarray) -> np.ndarray:
        """``dy − dX′θ_{D_g1}`` for groups of residualised levels (dy unchanged elsewhere)."""
        th = self.theta[self.dcode]                       # (G, k)
        adj = np.einsum("gtk,gk->gt", dX, th)
        return np.where(self.useful[self.dcode][:, None], dy - adj, dy)

    def part2(self, coef_m: np.ndarray, dX: np.ndarray, scale: float) -> np.ndarray:
        """Σ_d M_d′(Den_d⁻¹ ψ_{g,d} − θ_d) per group, with m_g = scale · Σ_t coef_m · dX."""
        G = coef_m.shape[0]
        m = scale * np.nansum(coef_m[:, :, None] * dX, axis=1)   # (G, k)
        nd = self.theta.shape[0]
        M = np.vstack([m[self.dcode == d].sum(0) for d in range(nd)]) / G   # (nd, k)
        M = np.where(self.useful[:, None], M, 0.0)
        const = -float(np.sum(M * self.theta))
        own = np.sum(M[self.dcode] * self.psi, axis=1)
        return const + own


def fit_controls(Y, N, F, dcode, X, G, names) -> ControlsFit:
    """θ_d and the variance pieces for every baseline level (the package's residualisation step).

    Parameters
    ----------
    Y, N : (G, T) outcome and cell weights of the grid.
    F : (G,) first-change period (T_max + 1 for never switchers), 1-based.
    dcode : (G,) baseline level code.
    X : (G, T, k) controls on the grid.
    G : number of groups in the denominators.

    The DOF factor of the θ_d scores counts groups per period, as R ``DIDmultiplegtDYN`` and
    moderndid do even when clustering (the Stata command since its 2025-06-20 version, and
    py-did-multiplegt-dyn, count clusters there: clustered SEs with controls differ by ~1e-5).
    """
    Gn, T, k = X.shape
    tt = np.arange(1, T + 1)[None, :]
    dY = Y - lagged(Y, 1)
    dX = X - np.stack([lagged(X[:, :, j], 1) for j in range(k)], axis=2)
    fdok = np.all(np.isfinite(dX), axis=2)
    nyet = tt < F[:, None]
    mask = nyet & np.isfinite(dY) & fdok
    nd = int(dcode.max()) + 1 if Gn else 1
    theta = np.zeros((nd, k))
    useful = np.zeros(nd, dtype=bool)
    psi = np.zeros((Gn, k))
    rsum = float(N[nyet & np.isfinite(dY)].sum())
    singular = []
    for d in range(nd):
        gd = dcode == d
        if len(np.unique(F[gd])) <= 1:
            continue
        md = mask & gd[:, None]
        if not md.any():
            singular.append(d)
            continue
        # within-period demeaning (N-weighted) among the rows of the regression
        w = np.where(md, N, 0.0)
        sw = w.sum(0)                                           # (T,)
        with np.errstate(invalid="ignore", divide="ignore"):
            avgX = np.einsum("gt,gtk->tk", w, np.nan_to_num(dX)) / sw[:, None]
            avgY = np.nansum(w * np.nan_to_num(dY), 0) / sw
        R = np.where(md[:, :, None], np.sqrt(N)[:, :, None] * (dX - avgX[None]), 0.0)   # resid_X
        Rf = R[md]                                              # (n, k)
        yw = (np.sqrt(N) * dY)[md]
        Mm = Rf.T @ Rf
        v = Rf.T @ yw
        Minv = np.linalg.pinv(Mm)
        th = Minv @ v
        if abs(np.linalg.det(Mm)) <= 1e-16:
            singular.append(d)
        theta[d] = th
        useful[d] = True
        # fitted ΔY of the period-FE regression on not-yet-switched rows of level d
        fe = avgY - avgX @ th                                   # (T,)
        Ehat_int = fe[None, :] + np.einsum("gtk,k->gt", np.nan_to_num(dX), th)
        Ehat_int = np.where(nyet & gd[:, None] & fdok & (sw > 0)[None, :],
                            Ehat_int, np.nan)
        n_t = np.sum(nyet & gd[:, None] & np.isfinite(dY), axis=0).astype(float)   # E_hat_denom
        big = n_t >= 2
        Ehat = np.where(big[None, :], Ehat_int, 0.0 * Ehat_int)
        with np.errstate(invalid="ignore", divide="ignore"):
            dof = np.where(big, np.sqrt(n_t / (n_t - 1)), 1.0)
        T_d = F[gd].max() - 1
        Nc = float(N[gd[:, None] & (tt >= 2) & (tt <= T_d) & nyet & np.isfinite(dY)].sum())
        prod = np.sqrt(N)[:, :, None] * R                        # N · (ΔX − avg) on regression rows
        inner = prod * (dof[None, :] * (dY - Ehat) * ((tt >= 2) & (tt <= F[:, None] - 1)))[:, :, None] / Nc
        in_sum = np.nansum(np.where(gd[:, None, None], inner, np.nan), axis=1)        # (G, k)
        inv_den = Minv * rsum * G
        psi[gd] = (in_sum[gd] @ inv_den.T) * (F[gd] >= 3)[:, None]
    if singular:
        warnings.warn(OgimpactWarning(
            "dcdh_controls_singular",
            "some controls are not taken into account for groups with baseline treatment level(s) "
            f"{', '.join(map(str, singular))}: the regression of outcome changes on control changes with period "
            "fixed effects has fewer observations than regressors or collinear controls (as did_multiplegt_dyn)."))
    return ControlsFit(X=X, theta=theta, useful=useful, psi=psi, dcode=dcode, names=list(names))
