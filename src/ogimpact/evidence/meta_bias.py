"""Small-sample inference and publication-bias diagnostics for a fitted meta-analysis (metafor conventions).

* :func:`knha` — Hartung–Knapp–Sidik–Jonkman adjustment (Hartung & Knapp 2001; Sidik & Jonkman
  2002): the covariance of the pooled coefficients is scaled by
  ``s2 = sum w_i (y_i - x_i'b)^2 / (k - p)``, ``w_i = 1 / (v_i + tau2)`` (no truncation at 1,
  metafor's ``test = "knha"``), with t(k − p) critical values for CIs, p-values and the
  prediction interval.
* :func:`egger_test` — Egger et al. (1997) regression test in metafor's ``regtest(model = "lm")``
  form: weighted least squares of ``y_i`` on ``sei`` (weights ``1 / v_i``, multiplicative
  dispersion); the statistic is the t value of the ``sei`` slope on k − 2 df.
* :func:`trim_and_fill` — Duval & Tweedie (2000) trim and fill with metafor ``trimfill``'s
  defaults: the L0 estimator, side chosen from the sign of the ``sei`` slope of the
  model refitted with ``sei`` as moderator (negative slope: missing studies on the right),
  at most 100 iterations, the filled data refitted with the original ``method``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from ..errors import OgimpactError

__all__ = ["knha", "egger_test", "trim_and_fill"]


def _arrays(res):
    y = np.array([s["yi"] for s in res.studies], float)
    v = np.array([s["vi"] for s in res.studies], float)
    return y, v


def knha(res, yi=None, vi=None, X=None):
    """The Hartung–Knapp–Sidik–Jonkman version of a :class:`~ogimpact.evidence.meta.MetaResult`.

    Without moderators ``X`` is the intercept column; with moderators pass the design matrix
    used by the fit (``res.terms`` then get t-based SEs, CIs and p-values too).
    """
    y, v = _arrays(res) if yi is None else (np.asarray(yi, float), np.asarray(vi, float))
    k = len(y)
    X = np.ones((k, 1)) if X is None else np.asarray(X, float)
    p = X.shape[1]
    if k - p < 1:
        raise OgimpactError("the Knapp-Hartung adjustment needs more studies than coefficients.")
    w = 1.0 / (v + res.tau2)
    XtW = X.T * w
    vb = np.linalg.inv(XtW @ X)
    b = vb @ XtW @ y
    s2 = float(w @ (y - X @ b) ** 2 / (k - p))
    vb_k = s2 * vb
    df = k - p
    crit = float(stats.t.ppf(1 - res.alpha / 2, df))
    se = float(np.sqrt(vb_k[0, 0]))
    est = float(b[0])
    tval = est / se
    pval = float(2 * stats.t.sf(abs(tval), df))
    changes = dict(se=se, ci_low=est - crit * se, ci_high=est + crit * se, p_value=pval, z=tval)
    if res.pi_low is not None and p == 1:
        s = float(np.sqrt(se ** 2 + res.tau2))
        changes.update(pi_low=est - crit * s, pi_high=est + crit * s)
    if res.terms:
        ses = np.sqrt(np.diag(vb_k))
        terms = []
        for t, bi, si in zip(res.terms, b, ses):
            tv = bi / si
            terms.append({**t, "se": float(si), "ci_low": float(bi - crit * si), "ci_high": float(bi + crit * si),
                          "p_value": float(2 * stats.t.sf(abs(tv), df))})
        changes["terms"] = tuple(terms)
    opts = {**res.options, "test": "knha", "critical_values": f"t({df}) (Knapp-Hartung)", "knha_s2": s2,
            "knha_truncation": "none (metafor default)"}
    diag = {**res.diagnostics, "knha_df": df, "knha_s2": s2}
    return replace(res, options=opts, diagnostics=diag, **changes)


def egger_test(res) -> dict:
    """Egger's regression test, metafor ``regtest(model = "lm", predictor = "sei")``."""
    y, v = _arrays(res)
    k = len(y)
    if k < 3:
        raise OgimpactError("Egger's test needs at least three studies.")
    sei = np.sqrt(v)
    X = np.column_stack([np.ones(k), sei])
    w = 1.0 / v
    XtW = X.T * w
    B = np.linalg.inv(XtW @ X)
    b = B @ XtW @ y
    r = y - X @ b
    s2 = float(w @ r ** 2 / (k - 2))
    se = np.sqrt(np.diag(s2 * B))
    t = float(b[1] / se[1])
    df = k - 2
    crit = float(stats.t.ppf(1 - res.alpha / 2, df))
    return {"method": "egger", "statistic": t, "df": df, "p_value": float(2 * stats.t.sf(abs(t), df)),
            "model": "lm (weighted regression with multiplicative dispersion), predictor sei",
            "limit_estimate": float(b[0]), "limit_ci_low": float(b[0] - crit * se[0]),
            "limit_ci_high": float(b[0] + crit * se[0])}


def _fit(y, v, method, alpha):
    from .meta import meta_analysis

    return meta_analysis(y, vi=v, method=method, alpha=alpha)


def trim_and_fill(res, *, maxiter: int = 100) -> dict:
    """Duval–Tweedie trim and fill (L0) with metafor ``trimfill`` defaults; returns the ``bias`` row.

    Raises for a meta-regression (trim and fill is defined for models without moderators).
    """
    from .meta import meta_analysis

    if res.terms:
        raise OgimpactError("trim and fill applies to models without moderators; drop --moderators.")
    y0, v = _arrays(res)
    k = len(y0)
    method = res.method
    if method not in ("reml", "dl", "pm", "fe"):
        raise OgimpactError(f"trim and fill needs an inverse-variance model (reml, dl, pm, fe), not {method}.")
    # side: sign of the sei slope in the model with sei as moderator (metafor)
    import pandas as pd

    slope_fit = meta_analysis(y0, vi=v, method=method, moderators=pd.DataFrame({"sei": np.sqrt(v)}), alpha=res.alpha)
    side = "right" if slope_fit.terms[1]["estimate"] < 0 else "left"
    y = -y0 if side == "right" else y0.copy()
    order = np.argsort(y, kind="stable")
    y, vs = y[order], v[order]
    k0 = 0
    it = 0
    while True:
        it += 1
        k0_old = k0
        b = _fit(y[: k - k0], vs[: k - k0], method, res.alpha).estimate
        c = y - b
        ranks = stats.rankdata(np.abs(c), method="ordinal")
        sr = float(np.sum((np.sign(c) * ranks)[c > 0]))
        k0 = max(0, int(np.round((4 * sr - k * (k + 1)) / (2 * k - 1))))
        if k0 == k0_old or it >= maxiter:
            break
        if k0 >= k:
            k0 = k - 1
    if k0 > 0:
        yf = 2 * b - y[k - k0:]
        vf = vs[k - k0:]
        y_all = np.concatenate([y, yf])
        v_all = np.concatenate([vs, vf])
        if side == "right":
            y_all = -y_all
        filled = _fit(y_all, v_all, method, res.alpha)
        if res.options.get("test") == "knha":
            filled = knha(filled)
    else:
        filled = res
    return {"method": "trimfill", "k0": int(k0), "side": side, "estimate": filled.estimate, "se": filled.se,
            "ci_low": filled.ci_low, "ci_high": filled.ci_high, "p_value": filled.p_value,
            "tau2": filled.tau2, "k_filled": int(k + k0), "estimator": "L0", "iterations": it}
