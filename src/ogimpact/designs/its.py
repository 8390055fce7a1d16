"""Interrupted time series: segmented regression with Newey-West standard errors.

Model (Wagner, Soumerai, Zhang & Ross-Degnan 2002; Bernal, Cummins & Gasparrini 2017)::

    y_t = b0 + b1 * t + b2 * post_t + b3 * (t - T0) * post_t [+ month dummies] + e_t

with ``post_t = 1{t >= T0}``.  ``b2`` (``level_change``, the headline) is the
jump at ``T0``; ``b3`` (``slope_change``) the change in trend.  ``time`` enters
as given (years, or a month index such as ``year*12 + month - 1``), so
``Intercept`` is the level extrapolated to ``t = 0``.

Standard errors are Newey & West (1987) HAC with the Bartlett kernel and the
small-sample factor ``n / (n - k)``; CIs and p-values use t(n - k), as Stata
``newey`` does.  When ``hac_lags`` is None the lag is
``floor(4 * (n / 100)^(2/9))`` (Newey & West 1994).

Series:

* one unit in the panel: its outcome;
* ``treated`` given and other units present: comparative ITS on the series
  ``mean(treated units) - mean(other units)`` (the comparison units absorb
  common shocks; b2 and b3 are then level and slope changes *relative* to the
  comparison group, a difference-in-differences on the segmented trends);
* ``treated`` given and it is the only unit: its outcome.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from ..numerics import dist as _dist
from ..errors import DesignError, OgimpactWarning
from ..panel import Panel
from ..results import Estimate, terms_frame

__all__ = ["fit_its", "newey_west_lags", "hac_vcov"]

SE_METHODS = ("newey-west", "reml-ar1")
MIN_SEGMENT = 3  # periods on each side of the interruption
RECOMMENDED_SEGMENT = 8  # Wagner et al. (2002) and Bernal et al. (2017): at least 8 points a segment


def newey_west_lags(n: int) -> int:
    """Newey & West (1994) automatic lag: ``floor(4 * (n / 100)^(2/9))``."""
    return int(np.floor(4.0 * (n / 100.0) ** (2.0 / 9.0)))


def hac_vcov(X: np.ndarray, resid: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West (Bartlett) covariance of OLS coefficients, scaled by ``n / (n - k)``.

    ``V = (X'X)^-1 S (X'X)^-1 * n/(n-k)`` with
    ``S = G_0 + sum_{l=1..L} (1 - l/(L+1)) (G_l + G_l')`` and
    ``G_l = sum_t x_t e_t e_{t-l} x_{t-l}'`` (rows in time order).
    """
    n, k = X.shape
    u = X * resid[:, None]
    S = u.T @ u
    for lag in range(1, lags + 1):
        w = 1.0 - lag / (lags + 1.0)
        G = u[lag:].T @ u[:-lag]
        S += w * (G + G.T)
    XtXi = np.linalg.inv(X.T @ X)
    return XtXi @ S @ XtXi * (n / (n - k))


def _series(panel: Panel, treated) -> tuple[pd.Series, str, list]:
    f = panel.frame
    units = list(pd.unique(f[panel.unit]))
    if treated is None:
        if len(units) > 1:
            raise DesignError(f"the panel holds {len(units)} units; give `treated` (CLI: --treated UNIT), the interrupted unit(s), "
                              "or keep only one unit for a single-series ITS.")
        return f.set_index(panel.time)[panel.outcome].sort_index(), "single", units
    tr = [treated] if isinstance(treated, (str, int, np.integer)) else list(treated)
    missing = [u for u in tr if u not in set(units)]
    if missing:
        raise DesignError(f"treated unit(s) {missing} are not in unit column {panel.unit!r}; "
                          f"give unit ids exactly as they appear (e.g. {units[0]!r}).")
    is_tr = f[panel.unit].isin(tr)
    y_tr = f[is_tr].groupby(panel.time)[panel.outcome].mean()
    if is_tr.all():
        return y_tr.sort_index(), "single", tr
    y_co = f[~is_tr].groupby(panel.time)[panel.outcome].mean()
    both = y_tr.index.intersection(y_co.index)
    return (y_tr[both] - y_co[both]).sort_index(), "comparative", tr


def fit_its(
    panel: Panel,
    *,
    treat_time: int,
    treated: str | Sequence | None = None,
    hac_lags: int | None = None,
    alpha: float = 0.05,
    seasonal: bool = False,
    se: str = "newey-west",
) -> Estimate:
    """Segmented-regression interrupted time series with Newey-West HAC inference.

    Parameters
    ----------
    panel : Panel
        One unit (single series), or several with ``treated`` naming the
        interrupted unit(s) (comparative ITS on treated minus comparison mean).
    treat_time : int
        First period of the intervention, ``T0`` (same integer time scale as the panel).
    treated : unit id or list, optional
    hac_lags : int, optional
        Bartlett-kernel lags; default ``floor(4 * (n/100)^(2/9))`` (Newey & West 1994).
        ``0`` gives White heteroskedasticity-robust SEs.
    alpha : float
    seasonal : bool
        Add month-of-year dummies, month = ``time mod 12`` (time must be a month
        index such as ``year*12 + month - 1``).
    se : {"newey-west", "reml-ar1"}
        ``newey-west`` [default, as Stata ``newey`` / R ``sandwich::NeweyWest``]: OLS with
        Bartlett HAC SEs and t(n-k).  ``reml-ar1``: GLS with AR(1) errors by REML and
        Satterthwaite degrees of freedom (Turner et al. 2021; :mod:`ogimpact.designs.its_reml`),
        the interval that covers in short segmented series (``docs/validity.md``); the
        answers recipe uses it.

    Returns
    -------
    Estimate
        design "its"; headline = ``level_change``; terms ``Intercept``, ``time``,
        ``level_change``, ``slope_change`` (then ``month_<m>``); ``gaps`` rows
        ``{time, treated (observed), synthetic (pre-trend counterfactual), gap}``.

    References
    ----------
    Wagner, A. K., Soumerai, S. B., Zhang, F. & Ross-Degnan, D. (2002). Segmented regression analysis of
    interrupted time series studies in medication use research. J Clin Pharm Ther 27(4), 299-309.
    Newey, W. K. & West, K. D. (1994). Automatic lag selection in covariance matrix estimation.
    Review of Economic Studies 61(4), 631-653.
    """
    try:
        T0 = int(treat_time)
    except (TypeError, ValueError):
        raise DesignError(f"treat_time must be an integer period (got {treat_time!r}).") from None
    if not 0 < alpha < 1:
        raise DesignError(f"alpha must lie in (0, 1) (got {alpha}).")
    y, kind, tr = _series(panel, treated)
    t = np.asarray(y.index, dtype=float)
    yv = y.to_numpy(dtype=float)
    if T0 <= t.min() or T0 > t.max():
        raise DesignError(f"treat_time {T0} lies outside the series ({int(t.min())}-{int(t.max())}); "
                          "it must be a period after the first and no later than the last.")
    post = (t >= T0).astype(float)
    n_pre, n_post = int((post == 0).sum()), int(post.sum())
    if n_pre < MIN_SEGMENT or n_post < MIN_SEGMENT:
        raise DesignError(f"ITS needs at least {MIN_SEGMENT} periods before and after treat_time {T0} "
                          f"(found {n_pre} before and {n_post} after); move treat_time or add periods.")
    cols = {"Intercept": np.ones_like(t), "time": t, "level_change": post, "slope_change": (t - T0) * post}
    if seasonal and np.all(np.round(t) == t) and t.min() >= 1000 and t.max() <= 2999:
        raise DesignError(f"--seasonal needs a monthly time index (e.g. year*12+month-1), but the time column "
                          f"looks annual ({int(t.min())}-{int(t.max())}); drop seasonal=True for annual data.")
    if seasonal:
        month = (np.round(t).astype(int) % 12)
        for m in sorted(set(month.tolist()))[1:]:
            cols[f"month_{m + 1}"] = (month == m).astype(float)
    names = list(cols)
    X = np.column_stack(list(cols.values()))
    n, k = X.shape
    if n - k < 1 or np.linalg.matrix_rank(X) < k:
        raise DesignError(f"the segmented regression has {k} coefficients but only {n} periods; "
                          "add periods or drop seasonal dummies.")
    if se not in SE_METHODS:
        raise DesignError(f"se must be one of {', '.join(SE_METHODS)} (got {se!r}).")
    # solved with time measured from treat_time (well conditioned whatever the origin of the time index,
    # so a shifted time column gives the same numbers), then mapped back exactly to the reported
    # parameterisation: Intercept = b0 - T0 * b_time (a linear map, applied to the covariance too)
    Xc = X.copy()
    Xc[:, 1] = t - T0
    A = np.eye(k)
    A[0, 1] = -float(T0)
    reml = None
    if se == "reml-ar1":
        if hac_lags is not None:
            raise DesignError("hac_lags sets the Newey-West lag; it does not apply with se='reml-ar1' "
                              "(AR(1) errors by REML); drop one of the two.")
        from .its_reml import fit_ar1_reml

        if n - k < 3:
            raise DesignError(f"the AR(1) REML fit needs at least {k + 3} periods (found {n}); add periods "
                              "or use se='newey-west'.")
        reml = fit_ar1_reml(Xc, yv, contrast=A)
        b, V, resid = reml.coef, reml.vcov, reml.resid
        sd = np.sqrt(np.clip(np.diag(V), 0, None))
        terms = [terms_frame([nm], [bi], [si], alpha=alpha, df=float(dfi))[0]
                 for nm, bi, si, dfi in zip(names, b, sd, reml.df)]
        df = float(reml.df[2])
        lags = None
    else:
        bc, *_ = np.linalg.lstsq(Xc, yv, rcond=None)
        resid = yv - Xc @ bc
        lags = newey_west_lags(n) if hac_lags is None else int(hac_lags)
        if lags < 0 or lags >= n:
            raise DesignError(f"hac_lags must be between 0 and {n - 1} (got {lags}).")
        b = A @ bc
        V = A @ hac_vcov(Xc, resid, lags) @ A.T
        sd = np.sqrt(np.clip(np.diag(V), 0, None))
        df = n - k
        terms = terms_frame(names, b, sd, alpha=alpha, df=df)

    base = X.copy()
    base[:, 2:4] = 0.0  # counterfactual: the pre-period trend (and seasonality) carried forward
    cf = base @ b
    gaps = pd.DataFrame({"time": np.round(t).astype(int), "treated": yv, "synthetic": cf, "gap": yv - cf})
    rho1 = float(np.corrcoef(resid[1:], resid[:-1])[0, 1]) if n > 2 else float("nan")
    dw = float(np.sum(np.diff(resid) ** 2) / np.sum(resid ** 2)) if np.any(resid) else float("nan")
    warn = []
    if min(n_pre, n_post) < RECOMMENDED_SEGMENT:
        warn.append({"code": "short_segment",
                     "message": f"fewer than {RECOMMENDED_SEGMENT} periods in a segment ({n_pre} pre, {n_post} "
                                "post): trend estimates are fragile (Wagner et al. 2002)."})
    rss = float(resid @ resid)
    tss = float(np.sum((yv - yv.mean()) ** 2))
    # joint test of no interruption (b2 = b3 = 0) with the HAC covariance
    R = V[2:4, 2:4]
    W = float(b[2:4] @ np.linalg.pinv(R) @ b[2:4])
    p_joint = float(_dist.f_sf(W / 2, 2, df if reml is None else float(min(reml.df[2], reml.df[3]))))
    diagnostics = {
        "n_dropped": panel.info.get("n_dropped", 0), "n_pre": n_pre, "n_post": n_post,
        "pre_rmspe": float(np.sqrt(np.mean(resid[post == 0] ** 2))),
        "residual_autocorrelation_lag1": rho1, "durbin_watson": dw,
        "r_squared": 1 - rss / tss if tss > 0 else float("nan"),
        "joint_wald_f": W / 2, "joint_wald_p": p_joint,
        "post_slope": float(b[1] + b[3]),
    }
    step = float(np.min(np.diff(t))) if n > 1 else 1.0
    n_missing = int(round((t.max() - t.min()) / step)) + 1 - n
    diagnostics["n_missing_periods"] = n_missing
    if n_missing:
        warn.append({"code": "missing_periods",
                     "message": f"{n_missing} period(s) are missing from the series; the HAC lags count rows, "
                                "not periods."})
    if reml is not None:
        diagnostics.update(ar1_rho=reml.rho, satterthwaite_df=float(reml.df[2]))
        if not reml.converged or reml.at_bound:
            warnings.warn(OgimpactWarning(
                "not_converged" if not reml.converged else "ar1_at_bound",
                f"the AR(1) REML fit stopped at rho = {reml.rho:.3f} (bound +/-0.98 or not converged): the series "
                "may be non-stationary; read the interval with care or model the trend."))
    if warn:
        diagnostics["warnings"] = warn
    options = {
        "treat_time": T0, "treated": tr if treated is not None else None, "series": kind,
        "comparison": "mean of the other units" if kind == "comparative" else None,
        "se": se,
        "hac_lags": lags,
        "hac_lag_rule": None if reml is not None else
        ("given" if hac_lags is not None else "floor(4*(n/100)^(2/9)) (Newey & West 1994)"),
        "hac_kernel": None if reml is not None else "Bartlett",
        "small_sample": "Satterthwaite df per coefficient" if reml is not None else "n/(n-k)",
        "ci": (f"t(Satterthwaite df) = t({df:.2f}) for level_change" if reml is not None else f"t(n-k) = t({df})"),
        "errors": "AR(1), REML (Turner et al. 2021)" if reml is not None else "OLS, Newey-West HAC",
        "seasonal": seasonal, "season": "time mod 12" if seasonal else None, "alpha": alpha,
        "model": "y = b0 + b1*t + b2*post + b3*(t - T0)*post",
    }
    lv = terms[2]
    return Estimate(
        design="its", outcome=panel.outcome, estimate=lv["estimate"], se=lv["se"], ci_low=lv["ci_low"],
        ci_high=lv["ci_high"], p_value=lv["p_value"], alpha=alpha, df=df,
        n_obs=n, n_units=panel.n_units, n_clusters=None, n_treated_units=len(tr),
        terms=terms, tables={"gaps": gaps}, diagnostics=diagnostics, options=options,
        extras={"treat_time": T0, "vcov": V.tolist(), "terms": names, "series": kind},
    )
