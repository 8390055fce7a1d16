"""Outcome-only synthetic control and its ridge augmentation (ASCM).

References
----------
Ben-Michael, E., Feller, A. & Rothstein, J. (2021). The augmented synthetic control method.
    *Journal of the American Statistical Association* 116(536), 1789-1803.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
    case studies. *JASA* 105(490), 493-505.

Conventions (as R ``augsynth`` with ``progfunc = "Ridge"``, ``fixedeff = FALSE``)
---------------------------------------------------------------------------------
* SCM: simplex weights minimising the unscaled sum of squared pre-period outcome gaps.
* Ridge: with donor outcomes centred per period by the donor mean (``A``, T0 x J) and the
  SCM residual ``a = x1 - X0 w``, the augmentation is ``g = A' (A A' + lambda I)^-1 a`` and
  the weights ``w + g`` (they sum to one and may be negative).
* lambda: leave-one-pre-period-out CV over ``lambda_max * (1e-8)^(k/20)``, ``k = 0..20``,
  ``lambda_max`` the squared largest singular value of ``A``; folds hold out period
  ``1..T0-1`` in turn (the last pre-period is never held out), refit SCM and ridge on the
  rest and score the squared gap in the held-out period; the min-1se rule takes the largest
  lambda whose mean CV error is at most the minimum plus its standard error.
* ``fixedeff``: every unit's outcomes are demeaned by its own pre-period mean first.
"""
from __future__ import annotations


import numpy as np

from ..numerics.simplex import simplex_ls

__all__ = ["scm_weights", "ridge_weights", "lambda_grid", "cv_lambda", "fit_outcome_model", "demean_fixedeff"]

#: augsynth's grid: lambda_max * LAMBDA_MIN_RATIO ** (k / N_LAMBDA), k = 0..N_LAMBDA
LAMBDA_MIN_RATIO = 1e-8
N_LAMBDA = 20


def scm_weights(X0: np.ndarray, x1: np.ndarray, w0: np.ndarray | None = None) -> np.ndarray:
    """Outcome-only SCM: ``argmin |x1 - X0 w|^2`` on the simplex (X0 is periods x donors)."""
    return simplex_ls(X0, x1, w0=w0)


def _centre(X0: np.ndarray) -> np.ndarray:
    return X0 - X0.mean(axis=1, keepdims=True)


def ridge_weights(X0: np.ndarray, x1: np.ndarray, w: np.ndarray, lam: float) -> np.ndarray:
    """Ridge-augmented weights ``w + A'(AA' + lam I)^-1 (x1 - X0 w)`` (Ben-Michael et al. 2021, eq. 11)."""
    A = _centre(X0)
    a = x1 - X0 @ w
    T0 = A.shape[0]
    return w + A.T @ np.linalg.solve(A @ A.T + lam * np.eye(T0), a)


def lambda_grid(X0: np.ndarray) -> np.ndarray:
    """augsynth's lambda grid for the pre-period donor matrix ``X0`` (periods x donors)."""
    lmax = float(np.linalg.svd(_centre(X0), compute_uv=False)[0] ** 2)
    return lmax * LAMBDA_MIN_RATIO ** (np.arange(N_LAMBDA + 1) / N_LAMBDA)


def cv_lambda(X0: np.ndarray, x1: np.ndarray, *, min_1se: bool = True) -> dict:
    """Leave-one-pre-period-out CV of the ridge penalty (augsynth ``cv_ridge``, ``how = "time"``).

    Returns ``{"lambda", "lambdas", "errors", "errors_se"}``.
    """
    lambdas = lambda_grid(X0)
    T0 = X0.shape[0]
    errs = np.empty((T0 - 1, len(lambdas)))
    w_prev = None
    for i in range(T0 - 1):
        keep = np.arange(T0) != i
        Xk, xk = X0[keep], x1[keep]
        w = scm_weights(Xk, xk, w0=w_prev)
        w_prev = w
        A = _centre(Xk)
        a = xk - Xk @ w
        # (AA' + lam I)^-1 a through the thin SVD A = U S V' (one per fold, every lambda): the held-out
        # row enters only through A h, which lies in the span of U, so the null space of AA' drops out
        U, s, _ = np.linalg.svd(A, full_matrices=False)
        ev = s * s
        ua = U.T @ a
        h = X0[i] - X0[i].mean()  # held-out period, centred by the donor mean
        r0 = x1[i] - X0[i] @ w
        hA = (A @ h) @ U  # h' A' U
        for j, lam in enumerate(lambdas):
            errs[i, j] = (r0 - hA @ (ua / (ev + lam))) ** 2
    mean = errs.mean(axis=0)
    se = errs.std(axis=0, ddof=1) / np.sqrt(errs.shape[0])
    k = int(np.argmin(mean))
    if min_1se:
        lam = float(lambdas[mean <= mean[k] + se[k]].max())
    else:
        lam = float(lambdas[k])
    return {"lambda": lam, "lambdas": lambdas, "errors": mean, "errors_se": se}


def demean_fixedeff(Y: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract every unit's (column's) pre-period mean; returns (demeaned Y, means)."""
    m = Y[pre].mean(axis=0)
    return Y - m, m


def fit_outcome_model(
    Y: np.ndarray, pre: np.ndarray, *, augment: str = "none", lam: float | None = None, w0=None
) -> dict:
    """Fit SCM or ridge ASCM on the outcome matrix ``Y`` (periods x units, column 0 treated).

    ``pre`` marks the periods the weights are fitted on.  Returns ``{"w", "w_scm", "lambda", "cv"}``.
    """
    X0, x1 = Y[pre, 1:], Y[pre, 0]
    w = scm_weights(X0, x1, w0=w0)
    out = {"w": w, "w_scm": w, "lambda": None, "cv": None}
    if augment == "ridge":
        cv = None
        if lam is None:
            cv = cv_lambda(X0, x1)
            lam = cv["lambda"]
        out.update(w=ridge_weights(X0, x1, w, lam), **{"lambda": float(lam), "cv": cv})
    return out
