"""Smoothness restriction Delta^SD(M): the optimal fixed-length confidence interval.

Under Delta^SD(M) the second differences of the trend violation ``delta``
(with ``delta_0 = 0`` at the reference period) are bounded by ``M``.  The
FLCI of Armstrong & Kolesár (2018, 2020), as used by Rambachan & Roth (2023,
Section 4.1), is ``a + v'betahat +/- chi`` for the affine estimator whose
half-length ``chi = sd * cv_alpha(max_bias / sd)`` is smallest, where
``cv_alpha(b)`` is the ``1 - alpha`` quantile of ``|N(b, 1)|``.

The estimator puts ``l`` on the post-period coefficients and free weights on
the pre-period ones.  As in R ``HonestDiD`` (``findOptimalFLCI``) the
pre-period weights are parametrised by their double cumulative sums ``z``
(HonestDiD's ``w`` space), in which the worst-case bias over Delta^SD(M) is
``M * (c_l + |z_K| + sum_{i<K} |z_i|)`` with ``z_K = sum_t t * l_t`` fixed, and
the variance is a quadratic in ``z``.  The half-length is a convex function of
``z`` (a perspective of the convex ``cv_alpha`` composed with the convex bias
and standard deviation); we minimise it directly with SLSQP (with ``u >= |z|``
as linear constraints), where R searches over the standard-deviation bound
``h`` with a convex inner problem: both reach the same optimum.  ``cv_alpha`` is
computed exactly (R simulates 1e6 folded-normal draws).

References
----------
Armstrong, T. B. and Kolesár, M. (2018). Optimal inference in a class of
regression models. *Econometrica* 86(2), 655-683.
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends.
*Review of Economic Studies* 90(5), 2555-2591.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import ndtri

from ..numerics import dist as _dist
from ._lp import folded_normal_quantile

__all__ = ["flci", "sd_default_grid", "sd_second_differences"]


def _bias_constant(l_vec: np.ndarray) -> tuple[float, float]:
    """``(c_l, z_K)``: the bias constant and the fixed sum of pre-period weights."""
    T = len(l_vec)
    t = np.arange(1, T + 1)
    zK = float(t @ l_vec)
    c = sum(abs(float(np.arange(1, s + 1) @ l_vec[T - s :])) for s in range(1, T + 1)) - zK
    return float(c), zK


def _variance_parts(sigma: np.ndarray, K: int, l_vec: np.ndarray, zK: float):
    """``var(z) = z'Qz + 2 g'z + c0`` and the map ``l_pre = H z + h0``."""
    D = np.eye(K) - np.eye(K, k=-1)  # first differences
    DD = D @ D
    H = DD[:, : K - 1]
    h0 = DD[:, K - 1] * zK
    Spre = sigma[:K, :K]
    Spp = sigma[:K, K:]
    Spost = sigma[K:, K:]
    Q = H.T @ Spre @ H
    g = H.T @ (Spre @ h0 + Spp @ l_vec)
    c0 = float(h0 @ Spre @ h0 + 2 * h0 @ Spp @ l_vec + l_vec @ Spost @ l_vec)
    return Q, g, c0, H, h0


def _cv_and_slope(b: float, p: float) -> tuple[float, float]:
    c = folded_normal_quantile(p, b)
    f1, f2 = _dist.norm_pdf(c - b), _dist.norm_pdf(-c - b)
    return c, (f1 - f2) / (f1 + f2)


def flci(
    betahat: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    l_vec: np.ndarray,
    m: float,
    *,
    alpha: float = 0.05,
) -> dict:
    """Optimal FLCI for ``l' tau_post`` under Delta^SD(M).

    Parameters
    ----------
    betahat : array (n_pre + n_post,)
        Event-study coefficients, pre-periods first (reference period omitted).
    sigma : array
        Their covariance.
    n_pre : int
        Number of pre-period coefficients.
    l_vec : array (n_post,)
        Weights of the target parameter.
    m : float
        Bound ``M`` on the second differences of the trend violation.
    alpha : float

    Returns
    -------
    dict with ``ci_low, ci_high, estimate`` (the affine estimator),
    ``halflength, sd, max_bias`` and ``weights`` (the full vector ``v``).
    """
    b = np.asarray(betahat, float)
    S = np.asarray(sigma, float)
    lv = np.asarray(l_vec, float)
    K = int(n_pre)
    p = 1 - alpha
    cl, zK = _bias_constant(lv)
    Q, g, c0, H, h0 = _variance_parts(S, K, lv, zK)
    k = K - 1
    scale = np.sqrt(max(c0, 1e-300))

    def var(z):
        return float(z @ Q @ z + 2 * g @ z + c0)

    def halflen(x):
        z, u = x[:k], x[k:]
        sd = np.sqrt(max(var(z), 1e-300))
        B = m * (cl + abs(zK) + u.sum())
        cv, slope = _cv_and_slope(B / sd, p)
        val = sd * cv
        dsd = (Q @ z + g) / sd
        grad = np.concatenate([(cv - (B / sd) * slope) * dsd, np.full(k, m * slope)])
        return val / scale, grad / scale

    if k == 0:
        z = np.zeros(0)
    else:
        z_mv = -np.linalg.lstsq(Q, g, rcond=None)[0]
        if m == 0:
            z = z_mv
        else:
            cons = {
                "type": "ineq",
                "fun": lambda x: np.concatenate([x[k:] - x[:k], x[k:] + x[:k]]),
                "jac": lambda x: np.block([[-np.eye(k), np.eye(k)], [np.eye(k), np.eye(k)]]),
            }
            best = None
            for z0 in (np.zeros(k), z_mv, 0.5 * z_mv):
                x0 = np.concatenate([z0, np.abs(z0) + 1e-12])
                res = optimize.minimize(
                    halflen, x0, jac=True, method="SLSQP", constraints=[cons],
                    options={"ftol": 1e-15, "maxiter": 500},
                )
                if best is None or res.fun < best.fun:
                    best = res
            z = best.x[:k]
    sd = np.sqrt(max(var(z), 0.0))
    max_bias = m * (cl + abs(zK) + np.abs(z).sum())
    if sd > 0:
        half = sd * (folded_normal_quantile(p, max_bias / sd) if m > 0 else float(ndtri(1 - alpha / 2)))
    else:
        half = max_bias
    l_pre = H @ z + h0
    v = np.concatenate([l_pre, lv])
    est = float(v @ b)
    return {
        "ci_low": est - half,
        "ci_high": est + half,
        "estimate": est,
        "halflength": float(half),
        "sd": float(sd),
        "max_bias": float(max_bias),
        "weights": v,
    }


def sd_second_differences(n_pre: int) -> np.ndarray:
    """Rows ``delta_{t+1} - 2 delta_t + delta_{t-1}`` among the pre-periods and 0."""
    K = n_pre
    A = np.zeros((K - 1, K + 1))
    for r in range(K - 1):
        A[r, r : r + 3] = (1.0, -2.0, 1.0)
    return np.delete(A, K, axis=1)


def sd_default_grid(betahat: np.ndarray, sigma: np.ndarray, n_pre: int, *, alpha: float = 0.05) -> np.ndarray:
    """R HonestDiD's default M grid: 10 values on ``[0, Mub]``.

    ``Mub`` is the largest one-sided ``1 - alpha`` upper bound of the pre-period
    second differences (``DeltaSD_upperBound_Mpre``), or the standard error of
    the single pre-period coefficient when there is only one.
    """
    b = np.asarray(betahat, float)
    S = np.asarray(sigma, float)
    if n_pre == 1:
        return np.linspace(0.0, float(np.sqrt(S[0, 0])), 10)
    A = sd_second_differences(n_pre)
    d = A @ b[:n_pre]
    se = np.sqrt(np.diag(A @ S[:n_pre, :n_pre] @ A.T))
    mub = float(np.max(d + ndtri(1 - alpha) * se))
    return np.linspace(0.0, mub, 10)
