"""Prediction intervals for synthetic control (Cattaneo, Feng & Titiunik 2021), as R/Python ``scpi``.

The counterfactual ``Y_1t(0)`` of the treated unit in a post period is predicted by the
synthetic control ``p_t'w`` (``p_t`` the donors' outcomes).  Its prediction error splits into an
in-sample part ``p_t'(w0 - w)`` (the weights are estimated) and an out-of-sample part ``e_t``
(the period's own shock).  The interval is

    [ p_t'w + M_lo(t) + e_lo(t),  p_t'w + M_hi(t) + e_hi(t) ]

with ``M`` bounding the in-sample error with probability ``1 - u_alpha`` and ``e`` bounding the
out-of-sample error with probability ``1 - e_alpha``, so the interval covers with probability
at least ``1 - u_alpha - e_alpha`` (both 0.05 by default, scpi's defaults).

In-sample (CFT 2021 sec. 4; scpi ``scpi_in_diag``)
    Pseudo-residuals ``u = A - B w`` of the pre-period fit.  Their conditional mean is fitted
    by least squares on the first differences of the active donors' outcomes and a constant
    (``u_missp``; ``cointegrated``: differences, else levels; dropped to a constant when fewer
    than parameters + 10 rows remain) and ``Sigma = Z' diag(omega) Z / T^2`` with HC weights
    ``omega`` (HC1: ``T/(T - df)``, ``df`` = nonzero weights - 1).  For ``sims`` draws
    ``G ~ N(0, Sigma)`` the bounds are the min and max of ``p_t'(w - x)`` over the weights ``x``
    in the local geometry of the simplex (weights below the threshold ``rho`` held at or above
    their estimate, scpi's type-2 ``rho``, capped at ``rho_max``) with
    ``(x - w)'Q(x - w) - 2G'(x - w) <= 0``, ``Q = Z'Z/T``.  ``M_lo`` / ``M_hi`` are the
    ``u_alpha/2`` and ``1 - u_alpha/2`` quantiles over the draws.  The convex programs are
    solved by :func:`ogimpact.numerics.ellipsoid_lp.ellipsoid_simplex_bounds`.
Out-of-sample (CFT 2021 sec. 5; scpi ``scpi_out``) from the pre-period residuals regressed on the
    same design (first differences of the active donors and a constant), at level
    ``e_alpha/2`` per side:

    * ``gaussian``: sub-Gaussian bound ``mean +- sqrt(-2 log(e_alpha/2)) sigma``, ``sigma`` the
      smaller of the fitted (log-linear) conditional SD and the fitted interquartile range / 1.34;
    * ``ls``: location-scale, the empirical quantiles of the standardised residuals times ``sigma``;
    * ``qreg``: conditional quantiles by quantile regression (empirical quantiles with a constant
      design).

The normal draws come from ``numpy.random.RandomState(seed)`` in scpi's order, so with the same
seed the intervals equal scpi's (the Germany illustration, seed 8894, to 5e-4).

References
----------
Cattaneo, M. D., Feng, Y. & Titiunik, R. (2021). Prediction intervals for synthetic control
    methods. *JASA* 116(536), 1865-1880.
Cattaneo, M. D., Feng, Y., Palomba, F. & Titiunik, R. (2025). scpi: uncertainty quantification
    for synthetic control methods. *Journal of Statistical Software* 113(1), 1-38.
Koenker, R. & Bassett, G. (1978). Regression quantiles. *Econometrica* 46(1), 33-50.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import linalg, optimize

from ..errors import DesignError, OgimpactWarning
from ..numerics.ellipsoid_lp import ellipsoid_simplex_bounds

__all__ = ["E_METHODS", "prediction_interval", "synth_rows"]

E_METHODS = ("gaussian", "ls", "qreg")


# ----------------------------------------------------------------------------- small pieces
def _ols(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def quantile_regression(y: np.ndarray, X: np.ndarray, tau: float) -> np.ndarray:
    """Koenker-Bassett regression quantile: the exact LP solution (HiGHS)."""
    n, k = X.shape
    c = np.r_[np.zeros(k), np.full(n, tau), np.full(n, 1.0 - tau)]
    A = np.hstack([X, np.eye(n), -np.eye(n)])
    res = optimize.linprog(c, A_eq=A, b_eq=y, bounds=[(None, None)] * k + [(0, None)] * (2 * n), method="highs")
    if res.status != 0:
        raise DesignError("the quantile regression of the out-of-sample errors failed; use --pi-e-method gaussian.")
    return res.x[:k]


def _rho(res: np.ndarray, B: np.ndarray, w: np.ndarray, kind: str, rho_max: float | None) -> float:
    """scpi's regularisation threshold (``regularize_w``): type-1 or type-2."""
    T0, J = B.shape
    sigma_u = math.sqrt(float(np.mean((res - res.mean()) ** 2)))
    sd = B.std(axis=0, ddof=1)
    if not sd.min() > 0:
        raise DesignError("a donor's outcome does not vary over the pre-period; the prediction interval's "
                          "regularisation (scpi's rho) needs varying donors: leave that donor out (--donors).")
    if kind == "type-1":
        cc = sigma_u / sd.min()
    else:
        cc = sigma_u * sd.max() / (sd.min() ** 2)
    d0 = int((np.abs(w) >= 1e-6).sum())
    r = cc * math.sqrt(math.log(J) * d0 * math.log(T0)) / math.sqrt(T0)
    return min(r, rho_max) if rho_max is not None else r


def _design(Bmat: np.ndarray, Pmat: np.ndarray | None, active: np.ndarray, order: int, coint: bool):
    """(pre design, post design, rows kept) of the conditional-moment regressions (constant first)."""
    T0 = Bmat.shape[0]
    if order == 0:
        D0 = np.ones((T0, 1))
        D1 = None if Pmat is None else np.ones((len(Pmat), 1))
        return D0, D1, np.arange(T0)
    if coint:
        D0 = np.column_stack([np.ones(T0 - 1), np.diff(Bmat, axis=0)[:, active]])
        keep = np.arange(1, T0)
        D1 = None
        if Pmat is not None:
            Pd = np.diff(np.vstack([Bmat[-1:], Pmat]), axis=0)
            D1 = np.column_stack([np.ones(len(Pmat)), Pd[:, active]])
    else:
        D0 = np.column_stack([np.ones(T0), Bmat[:, active]])
        keep = np.arange(T0)
        D1 = None if Pmat is None else np.column_stack([np.ones(len(Pmat)), Pmat[:, active]])
    return D0, D1, keep


def _drop_constant_columns(D0, D1):
    """Keep the leading constant and the non-constant columns (scpi ``detectConstant``), and fall
    back to a constant alone when columns >= rows - 1 (``avoidCollin``)."""
    var = np.ptp(D0[:, 1:], axis=0) > 0 if D0.shape[1] > 1 else np.zeros(0, bool)
    keep = np.r_[True, var]
    D0, D1 = D0[:, keep], D1[:, keep]
    if D0.shape[1] >= D0.shape[0] - 1:
        D0, D1 = D0[:, :1], D1[:, :1]
    return D0, D1


def _out_of_sample(y, X, Xp, method: str, a: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (lo, hi) of the out-of-sample error at level ``a`` per side (scpi ``scpi_out``)."""
    if method == "qreg":
        if order == 0:
            lo = np.full(len(Xp), np.quantile(y, a))
            hi = np.full(len(Xp), np.quantile(y, 1 - a))
            return lo, hi
        return Xp @ quantile_regression(y, X, a), Xp @ quantile_regression(y, X, 1 - a)
    b = _ols(y, X)
    mean_p, fit = Xp @ b, X @ b
    r = y - fit
    with np.errstate(divide="ignore"):
        lv = np.log(r ** 2)
    if not np.isfinite(lv).all():  # an exact zero residual: log-variance undefined
        lv = np.log(np.maximum(r ** 2, np.finfo(float).tiny))
    bv = _ols(lv, X)
    sig2_p = np.exp(Xp @ bv)
    iq = np.abs(Xp @ quantile_regression(r, X, 0.75) - Xp @ quantile_regression(r, X, 0.25))
    sig = np.minimum(np.sqrt(sig2_p), iq / 1.34)
    if method == "gaussian":
        eps = math.sqrt(-2.0 * math.log(a)) * sig
        return mean_p - eps, mean_p + eps
    y_st = r / np.sqrt(np.exp(X @ bv))  # ls: location-scale
    return mean_p + sig * np.quantile(y_st, a), mean_p + sig * np.quantile(y_st, 1 - a)


# ----------------------------------------------------------------------------- the interval
def prediction_interval(
    y_pre: np.ndarray,
    Y0_pre: np.ndarray,
    Y0_post: np.ndarray,
    w: np.ndarray,
    *,
    u_alpha: float = 0.05,
    e_alpha: float = 0.05,
    sims: int = 200,
    e_method: str = "gaussian",
    seed: int = 0,
    u_missp: bool = True,
    u_sigma: str = "HC1",
    u_order: int = 1,
    e_order: int = 1,
    cointegrated: bool = True,
    rho: str | float = "type-2",
    rho_max: float = 0.2,
) -> dict:
    """Cattaneo-Feng-Titiunik prediction intervals for a simplex synthetic control.

    Parameters
    ----------
    y_pre : (T0,) treated unit's pre-period outcome; Y0_pre : (T0, J) donors' pre-period outcomes.
    Y0_post : (T1, J) donors' post-period outcomes; w : (J,) simplex weights fitted on them.
    u_alpha, e_alpha : levels of the in-sample and out-of-sample bounds (scpi's, 0.05 each).
    sims : draws for the in-sample bounds.  e_method : ``gaussian``, ``ls``, ``qreg`` or ``all``.
    seed : seed of ``numpy.random.RandomState`` (scpi's stream after ``numpy.random.seed``).
    u_missp, u_sigma, u_order, e_order, cointegrated, rho, rho_max : scpi's options of those names
        (``cointegrated`` = scpi's ``cointegrated_data``); lags are 0.

    Returns
    -------
    dict with ``synthetic`` (T1,), ``in_sample`` (lo, hi), ``out_of_sample`` {method: (lo, hi)},
    ``intervals`` {method: (low, high)}, and ``info`` (rho, active donors, failed solves, ...).
    """
    methods = E_METHODS if e_method == "all" else (e_method,)
    if any(m not in E_METHODS for m in methods):
        raise DesignError(f"--pi-e-method must be gaussian, ls, qreg or all, got {e_method!r}.")
    if u_sigma not in ("HC0", "HC1", "HC2", "HC3"):
        raise DesignError(f"u_sigma must be HC0, HC1, HC2 or HC3, got {u_sigma!r}.")
    if int(sims) < 10:
        raise DesignError(f"--pi-sims must be at least 10 (got {sims}); scpi's default is 200.")
    if u_order not in (0, 1) or e_order not in (0, 1):
        raise DesignError("u_order and e_order must be 0 or 1 (polynomial order of the moment models).")
    A = np.asarray(y_pre, float)
    B = np.asarray(Y0_pre, float)
    P = np.asarray(Y0_post, float)
    w = np.asarray(w, float)
    T0, J = B.shape
    if T0 < 3:
        raise DesignError("prediction intervals need at least 3 pre-treatment periods.")
    res = A - B @ w
    # local geometry of the simplex (scpi local_geom / localgeom2step)
    if isinstance(rho, str):
        r = _rho(res, B, w, rho, rho_max)
        if r < 0.001:  # scpi regularize_check_lb
            r = max(_rho(res, B, w, "type-1", 0.2), _rho(res, B, w, "type-2", 0.2))
            if r < 0.05:
                r = rho_max
    else:
        r = float(rho)
    active = w > r
    if not active.any():
        active = w >= w.max()
    lb = np.where(w < r, w, 0.0)
    # in-sample: conditional mean and variance of the pseudo-residuals
    Du, _, keep_u = _design(B, None, active, u_order, cointegrated)
    Z, ru = B[keep_u], res[keep_u]
    TT = len(ru)
    if TT - 10 <= Du.shape[1]:
        Du = np.ones((TT, 1))
    u_mean = Du @ _ols(ru, Du) if u_missp else 0.0
    df = int((np.abs(w) >= 1e-6).sum()) - 1
    if df >= TT:
        df = TT - 1
        warnings.warn(OgimpactWarning("pi_df", "the prediction interval's weights use more degrees of freedom "
                                               "than pre-periods; df set to T - 1."))
    if u_sigma in ("HC0", "HC1"):
        vc = 1.0 if u_sigma == "HC0" else TT / (TT - df)
    else:
        lev = np.diag(Z @ np.linalg.pinv(Z.T @ Z) @ Z.T)
        vc = 1.0 / (1.0 - lev) ** (1 if u_sigma == "HC2" else 2)
    omega = (ru - u_mean) ** 2 * vc
    Sigma = (Z.T * omega) @ Z / TT ** 2
    Q = Z.T @ Z / TT
    root = np.real(linalg.sqrtm(Sigma))
    zeta = np.random.RandomState(int(seed)).normal(0.0, 1.0, size=J * int(sims)).reshape(J, int(sims))
    lo_s, hi_s, n_fail = ellipsoid_simplex_bounds(Q, w, lb, P, root @ zeta)
    if n_fail:
        warnings.warn(OgimpactWarning("pi_failed_sims", f"{n_fail} of {2 * sims * len(P)} in-sample programmes of "
                                                       "the prediction interval failed and were left out."))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m_lo = np.nanquantile(lo_s, u_alpha / 2, axis=0)
        m_hi = np.nanquantile(hi_s, 1 - u_alpha / 2, axis=0)
    # out-of-sample
    D0, D1, keep_e = _design(B, P, active, e_order, cointegrated)
    if len(keep_e) - 10 <= D0.shape[1]:
        D0, D1 = np.ones((len(keep_e), 1)), np.ones((len(P), 1))
        e_order_used = 0
    else:
        e_order_used = e_order
    D0, D1 = _drop_constant_columns(D0, D1)
    ye = res[keep_e]
    synthetic = P @ w
    out, intervals = {}, {}
    for m in methods:
        e_lo, e_hi = _out_of_sample(ye, D0, D1, m, e_alpha / 2, e_order_used)
        out[m] = (e_lo, e_hi)
        intervals[m] = (synthetic + m_lo + e_lo, synthetic + m_hi + e_hi)
    info = {
        "rho": float(r), "active_donors": [int(i) for i in np.flatnonzero(active)], "df": df, "u_T": TT,
        "u_params": int(Du.shape[1]) if u_missp else 0, "e_T": int(len(ye)), "e_params": int(D0.shape[1]),
        "e_order_used": int(e_order_used), "failed_solves": int(n_fail),
    }
    return {"synthetic": synthetic, "in_sample": (synthetic + m_lo, synthetic + m_hi), "in_sample_bounds": (m_lo, m_hi),
            "out_of_sample": out, "intervals": intervals, "info": info}


def synth_rows(Y: np.ndarray, pre: np.ndarray, w: np.ndarray, periods, *, alpha: float = 0.05, seed: int = 0,
               sims: int = 200, e_method: str = "gaussian", donors=None) -> tuple[list, dict, dict]:
    """``prediction_interval`` rows, options and diagnostics of a fitted synth.

    ``Y`` is T x N with the treated unit in column 0 and ``donors`` naming columns 1..; ``alpha`` is
    used for both the in-sample and the out-of-sample level (scpi's ``u_alpha`` and ``e_alpha``).
    The donors enter in the order of their names (scpi's), whatever the panel's order.
    """
    pre = np.asarray(pre, bool)
    # donors in scpi's order (sorted by name), so that a seed gives scpi's draws
    order = np.argsort([str(d) for d in donors], kind="stable") if donors is not None else np.arange(Y.shape[1] - 1)
    Y0 = Y[:, 1:][:, order]
    out = prediction_interval(Y[pre, 0], Y0[pre], Y0[~pre], np.asarray(w, float)[order], u_alpha=alpha,
                              e_alpha=alpha, sims=sims, e_method=e_method, seed=seed)
    post_t = [int(t) for t, p in zip(periods, pre) if not p]
    ins_lo, ins_hi = out["in_sample"]
    rows = []
    for m, (lo, hi) in out["intervals"].items():
        rows.extend({"time": t, "low": float(lo[i]), "high": float(hi[i]), "method": m,
                     "in_sample_low": float(ins_lo[i]), "in_sample_high": float(ins_hi[i])}
                    for i, t in enumerate(post_t))
    info = dict(out["info"])
    if donors is not None:
        info["active_donors"] = [str(donors[order[i]]) for i in info["active_donors"]]
    options = {"pi_e_method": e_method, "pi_sims": int(sims), "pi_u_alpha": alpha, "pi_e_alpha": alpha,
               "pi_seed": int(seed), "pi_rng": "numpy.random.RandomState(seed).normal (scpi's stream)",
               "pi_settings": "scpi: cointegrated_data=True, u_missp=True, u_sigma=HC1, u_order=1, u_lags=0, "
                              "e_order=1, e_lags=0, rho=type-2, rho_max=0.2, simplex local geometry",
               "pi_bounds": "the counterfactual outcome of the treated unit (effect bounds: treated - high, treated - low)"}
    return rows, options, {"prediction_interval": info}
