"""Segmented regression with AR(1) errors by REML, with Satterthwaite degrees of freedom.

The interval that the interrupted-time-series design reports when it has to *cover*
(the answers recipe, the grade): Newey–West intervals on short segmented series cover
81–91% (separate segment trends make OLS residuals negatively autocorrelated, so the
Bartlett weights shrink the variance).  Turner, Forbes, Karahalios, Taljaard & McKenzie
(2021) compared OLS, Newey–West, Prais–Winsten, REML and ARIMA on simulated interrupted
series and found REML with a Satterthwaite small-sample correction closest to nominal;
our validity suite (``benchmarks/validity``) reproduces that finding on the same kind of
design.

Model: ``y = X b + e`` with ``e_t = rho e_{t-1} + u_t``, ``u_t ~ N(0, s2)`` (stationary
start).  For a given ``rho`` the Prais–Winsten transform whitens the model; ``rho`` maximises
the restricted log-likelihood (Patterson & Thompson 1971) with ``b`` and ``s2`` profiled
out::

    l_R(rho) = -1/2 [(n-k) log s2(rho) - log(1 - rho^2) + log|X' S(rho)^-1 X|]

``Var(b) = s2 (X' S^-1 X)^-1``; the degrees of freedom of each coefficient's t statistic are
Satterthwaite's, ``2 Var(b_j)^2 / (g' A g)`` with ``g`` the gradient of ``Var(b_j)`` in the
variance parameters ``(log s2, rho)`` and ``A`` the inverse observed information of the REML
likelihood (both by central differences).

References
----------
Turner, S. L., Forbes, A. B., Karahalios, A., Taljaard, M. & McKenzie, J. E. (2021). Evaluation
of statistical methods used in the analysis of interrupted time series studies: a simulation
study. *BMC Medical Research Methodology* 21, 181.
Patterson, H. D. & Thompson, R. (1971). Recovery of inter-block information when block sizes are
unequal. *Biometrika* 58(3), 545-554.
Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance components.
*Biometrics Bulletin* 2(6), 110-114.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Ar1RemlFit", "fit_ar1_reml"]

RHO_BOUND = 0.98  # |rho| < 1: stationarity; the bound keeps the transform well conditioned
_H = 1e-4  # central-difference step in (log s2, rho)


def _whiten(rho: float, Z: np.ndarray) -> np.ndarray:
    out = np.empty_like(Z, dtype=float)
    out[0] = np.sqrt(1.0 - rho * rho) * Z[0]
    out[1:] = Z[1:] - rho * Z[:-1]
    return out


def _gls(X: np.ndarray, y: np.ndarray, rho: float):
    Xs, ys = _whiten(rho, X), _whiten(rho, y)
    XtX = Xs.T @ Xs
    b = np.linalg.solve(XtX, Xs.T @ ys)
    r = ys - Xs @ b
    return b, XtX, float(r @ r)


def _profile_neg(X, y, rho, reml: bool = True):
    n, k = X.shape
    _, XtX, rss = _gls(X, y, rho)
    if rss <= 0:
        return -np.inf
    if not reml:  # maximum likelihood (used to check the machinery against statsmodels' exact AR(1) likelihood)
        return 0.5 * (n * np.log(rss / n) - np.log(1 - rho * rho))
    return 0.5 * ((n - k) * np.log(rss / (n - k)) - np.log(1 - rho * rho) + np.linalg.slogdet(XtX)[1])


def _reml_loglik(X, y, log_s2, rho):
    n, k = X.shape
    _, XtX, rss = _gls(X, y, rho)
    s2 = np.exp(log_s2)
    return -0.5 * ((n - k) * log_s2 - np.log(1 - rho * rho) + np.linalg.slogdet(XtX)[1] + rss / s2)


@dataclass(frozen=True)
class Ar1RemlFit:
    """GLS coefficients, their covariance, the AR(1) coefficient and per-coefficient Satterthwaite df."""

    coef: np.ndarray
    vcov: np.ndarray
    rho: float
    sigma2: float
    df: np.ndarray
    resid: np.ndarray  # y - X b (not whitened)
    converged: bool
    at_bound: bool


def fit_ar1_reml(X: np.ndarray, y: np.ndarray, contrast: np.ndarray | None = None) -> Ar1RemlFit:
    """REML fit of a linear model with stationary AR(1) errors (see module docstring).

    Parameters
    ----------
    X : (n, k) array
        Design matrix, rows in time order with consecutive periods.
    y : (n,) array
    contrast : (k, k) array, optional
        Report ``A b`` (covariance ``A V A'``, df of each row of ``A``) instead of ``b``: the design can be
        solved in a well-conditioned parameterisation and reported in another.
    """
    from scipy.optimize import minimize_scalar

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    Amat = np.eye(k) if contrast is None else np.asarray(contrast, dtype=float)
    opt = minimize_scalar(lambda r: _profile_neg(X, y, r), bounds=(-RHO_BOUND, RHO_BOUND), method="bounded",
                          options={"xatol": 1e-10, "maxiter": 500})
    rho = float(opt.x)
    b, XtX, rss = _gls(X, y, rho)
    s2 = rss / (n - k)
    XtXi = np.linalg.inv(XtX)
    V = s2 * (Amat @ XtXi @ Amat.T)
    at_bound = abs(rho) > RHO_BOUND - 1e-3
    # Satterthwaite: delta method over theta = (log s2, rho) with the REML observed information
    th = np.array([np.log(s2), min(max(rho, -RHO_BOUND + 2 * _H), RHO_BOUND - 2 * _H)])
    E = np.eye(2) * _H
    f = lambda t: _reml_loglik(X, y, t[0], t[1])  # noqa: E731
    H = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            H[i, j] = (f(th + E[i] + E[j]) - f(th + E[i] - E[j]) - f(th - E[i] + E[j]) + f(th - E[i] - E[j])) \
                / (4 * _H * _H)

    def var_diag(t):
        return np.exp(t[0]) * np.diag(Amat @ np.linalg.inv(_gls(X, y, t[1])[1]) @ Amat.T)

    grads = np.column_stack([(var_diag(th + E[i]) - var_diag(th - E[i])) / (2 * _H) for i in range(2)])
    try:
        A = np.linalg.inv(-H)
        q = np.einsum("ji,ik,jk->j", grads, A, grads)
        df = np.where(q > 0, 2 * np.diag(V) ** 2 / np.where(q > 0, q, 1.0), float(n - k - 1))
    except np.linalg.LinAlgError:
        df = np.full(k, float(n - k - 1))
    df = np.clip(df, 1.0, float(n - k))
    return Ar1RemlFit(coef=Amat @ b, vcov=V, rho=rho, sigma2=float(s2), df=df, resid=y - X @ b,
                      converged=bool(opt.success), at_bound=bool(at_bound))
