"""Stacked difference-in-differences with the corrective weights of Wing, Freedman & Hollingsworth (2024).

One sub-experiment per treated cohort ``a``: its units (treated at ``a``) and the clean controls
(never treated, or first treated after ``a + B``), observed at event times ``A..B`` of
``--window A:B``.  Sub-experiments whose window is not fully inside the observed periods are
dropped (the paper's inclusion rule, listed in ``options``).  Stacked, every treated row has
weight 1 and every control row of sub-experiment ``a`` the weight
``Q_a = (N^D_a / N^D) / (N^C_a / N^C)`` (treated and control unit counts of ``a`` over the
stack totals), so the regression estimates the *trimmed aggregate ATT* that weights each
sub-experiment by its share of treated units.  Weighted least squares:

* event study: ``y = a0 + a1 D + sum_{e != -1} (l_e 1[e] + d_e D 1[e])`` (``d_e`` the event-time ATTs);
* headline: the mean of ``d_e`` over ``e = 0..B`` (diff-diff ``StackedDiD``'s overall ATT); the
  weighted 2x2 fit ``y = b0 + b1 D + b2 Post + delta D Post`` is in ``terms`` (``D:Post``),

CRV1 SEs clustered by the original unit (a unit appearing in several sub-experiments is one
cluster), t(G − 1), fixest small-sample conventions of :mod:`ogimpact.numerics.vcov`.

Reference
---------
Wing, C., Freedman, S. M. & Hollingsworth, A. (2024). Stacked difference-in-differences.
NBER Working Paper 32054.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..numerics.vcov import SSC_NAME, design_vcov_kwargs
from ..results import Estimate, EventStudy, ci_and_p, terms_frame
from ..numerics.fe import codes
from .panel_regression import fit_linear
from .twfe import prepare_regression

__all__ = ["fit_stacked", "stack"]


def stack(frame: pd.DataFrame, *, unit: str, time: str, cohort: str, window: tuple[int, int]):
    """The stacked data (columns ``_sub``, ``_D``, ``_e``, ``_w``) and the dropped sub-experiments."""
    A, B = window
    g = frame[cohort].fillna(0).to_numpy()
    t = frame[time].to_numpy()
    tmin, tmax = t.min(), t.max()
    cohorts = sorted(int(c) for c in np.unique(g) if c > 0)
    parts, dropped = [], []
    for a in cohorts:
        if a + A < tmin or a + B > tmax:
            dropped.append(a)
            continue
        inwin = (t >= a + A) & (t <= a + B)
        tr = g == a
        ctrl = (g == 0) | (g > a + B)
        sel = inwin & (tr | ctrl)
        if not (sel & ctrl).any():
            dropped.append(a)
            continue
        sub = frame.loc[sel].copy()
        sub["_sub"] = a
        sub["_D"] = tr[sel].astype(float)
        sub["_e"] = (t[sel] - a).astype(np.int64)
        parts.append(sub)
    if not parts:
        raise DesignError("no sub-experiment has its whole --window inside the observed periods with clean "
                          "controls; narrow the window.")
    st = pd.concat(parts, ignore_index=True)
    nd = st.loc[st._D == 1].groupby("_sub")[unit].nunique()
    nc = st.loc[st._D == 0].groupby("_sub")[unit].nunique()
    q = (nd / nd.sum()) / (nc / nc.sum())
    st["_w"] = np.where(st._D == 1, 1.0, st["_sub"].map(q).to_numpy())
    return st, dropped


def fit_stacked(
    panel,
    *,
    window: tuple[int, int] = (-3, 3),
    cluster: str | None = None,
    alpha: float = 0.05,
    vcov: str | None = None,
    hac_lags: int | None = None,
    lat: str | None = None,
    lon: str | None = None,
    cutoff: float | None = None,
) -> Estimate:
    """Stacked DiD with Wing–Freedman–Hollingsworth weights (design ``"stacked"``).

    Parameters
    ----------
    panel : Panel with a ``cohort`` role (first treated period; 0 = never treated).
    window : (A, B), A <= -1 < 0 <= B [(-3, 3)]; event time -1 is the reference.
    cluster : cluster column [unit].
    vcov, hac_lags, lat, lon, cutoff : covariance of the weighted fits
        (:func:`ogimpact.numerics.vcov.design_vcov_kwargs`) [cluster].

    Returns
    -------
    Estimate: headline = mean of the post-period event-time ATTs; ``event_study`` = the event-time ATTs.
    """
    A, B = int(window[0]), int(window[1])
    if not (A <= -1 and B >= 0):
        raise DesignError("stacked needs a window A:B with A <= -1 and B >= 0 (event time -1 is the reference).")
    if not panel.cohort:
        raise DesignError("design 'stacked' needs --cohort COL (first treated period; 0/empty = never treated).")
    frame, _, cl_cols, _, _, n_drop = prepare_regression(panel, [], cluster)
    st, dropped = stack(frame, unit=panel.unit, time=panel.time, cohort=panel.cohort, window=(A, B))
    y = st[panel.outcome].to_numpy(float)
    w = st["_w"].to_numpy(float)
    sw = np.sqrt(w)
    D = st["_D"].to_numpy(float)
    e = st["_e"].to_numpy()
    cl = [codes(st[c].to_numpy()) if st[c].dtype.kind in "iub" else pd.factorize(st[c])[0] for c in cl_cols]
    # event study: intercept, D, event-time dummies and their interactions with D (ref -1)
    ets = [k for k in range(A, B + 1) if k != -1]
    cols = [np.ones(len(st)), D] + [(e == k).astype(float) for k in ets] + [D * (e == k) for k in ets]
    names = ["Intercept", "D"] + [f"e::{k}" for k in ets] + [f"D:e::{k}" for k in ets]
    X = np.column_stack(cols)
    vkw = design_vcov_kwargs(panel, st, vcov, cl, cl_cols, hac_lags=hac_lags, lat=lat, lon=lon, cutoff=cutoff)
    fit_es = fit_linear(y * sw, X * sw[:, None], names, keep=[f"D:e::{k}" for k in ets], **vkw)
    idx = [fit_es.names.index(f"D:e::{k}") for k in ets]
    es = EventStudy(tuple(ets), fit_es.coef[idx], fit_es.vcov.V[np.ix_(idx, idx)], -1, "stacked",
                    alpha=alpha, df=fit_es.vcov.df)
    post = (e >= 0).astype(float)
    Xs = np.column_stack([np.ones(len(st)), D, post, D * post])
    fit = fit_linear(y * sw, Xs * sw[:, None], ["Intercept", "D", "Post", "D:Post"], keep=["D:Post"], **vkw)
    V = fit_es.vcov
    # headline: the mean of the post-period event-time ATTs (diff-diff StackedDiD's overall ATT)
    a = np.array([1.0 if k >= 0 else 0.0 for k in ets])
    a /= a.sum()
    b = float(a @ es.estimates)
    se = float(np.sqrt(max(a @ es.vcov @ a, 0.0)))
    lo, hi, p = ci_and_p(b, se, alpha=alpha, df=V.df)
    terms = terms_frame(fit.names, fit.coef, fit.se, alpha=alpha, df=fit.vcov.df)
    subs = sorted(int(a) for a in st["_sub"].unique())
    weights = st.loc[st._D == 0].groupby("_sub")["_w"].first()
    diag = {"n_dropped": int(panel.info.get("n_dropped", 0)) + n_drop, "n_stacked_rows": int(len(st)),
            "sub_experiments": subs, "dropped_sub_experiments": dropped,
            "control_weights": {str(int(k)): float(v) for k, v in weights.items()}}
    options = {"window": [A, B], "ref": -1, "cluster": ",".join(cl_cols), "vcov": V.name, "ssc": SSC_NAME,
               "alpha": alpha, "df_t": V.df,
               "weights": "Wing-Freedman-Hollingsworth (2024): treated 1, controls (N^D_a/N^D)/(N^C_a/N^C)",
               "clean_controls": f"never treated or first treated after a + {B}",
               "inclusion": "sub-experiments whose window A..B lies inside the observed periods",
               "headline": f"mean of the event-time ATTs 0..{B} (terms also hold the weighted 2x2 D:Post fit)"}
    n_treated = int(st.loc[st._D == 1, panel.unit].nunique())
    return Estimate(
        design="stacked", outcome=panel.outcome, estimate=b, se=se, ci_low=lo, ci_high=hi, p_value=p, alpha=alpha,
        df=V.df, n_obs=int(len(st)), n_units=int(frame[panel.unit].nunique()), n_clusters=V.n_clusters,
        n_treated_units=n_treated, terms=terms,
        event_study=es, diagnostics=diag, options=options,
    )
