"""Extended two-way fixed effects (Wooldridge 2021): a saturated cohort x period regression.

``y_it = a_i + l_t + sum_{(g,s) treated} tau_gs 1[G_i = g, t = s] (+ tau_gs x (x_it - xdd)) + controls``
with unit and period fixed effects, one coefficient per treated cohort x period cell
(``t >= g`` with not-yet-treated controls; every period but the first with never-treated
controls), covariates demeaned by cohort and period and interacted with the cells, and the
covariates' cohort- and period-specific slopes as controls (R ``etwfe``'s specification).
The four aggregations average the cell effects over the treated observations (R ``emfx``:
``simple`` over all, ``group`` by cohort, ``dynamic`` by event time, ``calendar`` by period),
SEs by the delta method with the CRV1 covariance (clustered by unit) of
:mod:`ogimpact.numerics.vcov`.

References
----------
Wooldridge, J. M. (2021). Two-way fixed effects, the two-way Mundlak regression, and
difference-in-differences estimators. SSRN 3906345.
Wooldridge, J. M. (2023). Simple approaches to nonlinear difference-in-differences with panel
data. *The Econometrics Journal* 26(3), C31-C66.
McDermott, G. (2023). etwfe: Extended Two-Way Fixed Effects. R package.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import DesignError
from ..numerics.vcov import SSC_NAME, design_vcov_kwargs
from ..results import Estimate, EventStudy, ci_and_p, terms_frame
from ..numerics.fe import codes, demean
from .panel_regression import fit_linear
from .twfe import prepare_regression

__all__ = ["fit_etwfe"]

AGGREGATES = ("simple", "group", "dynamic", "calendar")


def fit_etwfe(
    panel,
    *,
    family: str = "gaussian",
    control: str = "notyet",
    covariates: Sequence[str] | None = None,
    aggregate: str = "simple",
    cluster: str | None = None,
    alpha: float = 0.05,
    vcov: str | None = None,
    hac_lags: int | None = None,
    lat: str | None = None,
    lon: str | None = None,
    cutoff: float | None = None,
) -> Estimate:
    """Wooldridge's extended TWFE (design ``"etwfe"``).

    Parameters
    ----------
    panel : Panel with a ``cohort`` role (first treated period; 0 = never treated).
    family : {"gaussian", "poisson", "logit"}
        Linear model with unit and period effects, or (Wooldridge 2023) a Poisson / logit model with
        cohort and period effects fitted by IRLS (R etwfe sets ``ivar = NULL`` for GLMs); GLM cell
        effects are averages over the cell's rows of ``mu(eta) - mu(eta without the cell terms)``
        (R ``emfx``), their SEs by the delta method with the fixed effects held fixed.
    control : {"notyet", "never"}
        Not-yet-treated controls (R etwfe's default) or never-treated only.
    covariates : controls, demeaned by cohort and period and interacted with every cell.
    aggregate : {"simple", "group", "dynamic", "calendar"}
        Headline: the observation-weighted mean of the cell effects (simple); the
        unit-weighted mean of the cohort effects (group); the mean of the event-time
        effects at e >= 0 (dynamic); the mean of the period effects (calendar), as ``cs``.
    cluster : cluster column [unit].
    vcov, hac_lags, lat, lon, cutoff : covariance (:func:`ogimpact.numerics.vcov.design_vcov_kwargs`) [cluster].

    Returns
    -------
    Estimate with ``group_time`` (every cell), and ``groups`` / ``event_study`` /
    ``calendar`` for the corresponding aggregation.
    """
    if family not in ("gaussian", "poisson", "logit"):
        raise DesignError("--family takes gaussian, poisson or logit.")
    if control not in ("notyet", "never"):
        raise DesignError("--control takes notyet or never.")
    if aggregate not in AGGREGATES:
        raise DesignError(f"--aggregate takes one of {', '.join(AGGREGATES)}.")
    if not panel.cohort:
        raise DesignError("design 'etwfe' needs --cohort COL (first treated period; 0/empty = never treated).")
    frame, covs, cl_cols, cl_codes, _, n_drop = prepare_regression(panel, covariates, cluster)
    t = frame[panel.time].to_numpy()
    g = frame[panel.cohort].to_numpy()
    g = np.where(np.isnan(g.astype(float)), 0, g).astype(np.int64)
    times = np.sort(np.unique(t))
    tref = times[0]
    cohorts = sorted(int(c) for c in np.unique(g) if c > 0)
    has_never = (g == 0).any()
    gref = 0
    if not has_never:
        if control == "never":
            raise DesignError("--control never needs never-treated units (cohort 0/empty); use --control notyet.")
        gref = cohorts[-1]  # R etwfe: the last cohort is the control group, observed before it is treated
        keep = t < gref
        frame, t, g = frame.loc[keep].reset_index(drop=True), t[keep], g[keep]
        cl_codes = [c[keep] for c in cl_codes]
        cohorts = cohorts[:-1]
        times = np.sort(np.unique(t))
    if not cohorts:
        raise DesignError("no treated cohort is left to estimate; the data need a treated and a control group.")
    xs = frame[covs].to_numpy(float) if covs else np.empty((len(frame), 0))
    gcode, tcode = codes(g), codes(t)
    xdm = demean(xs, [gcode, tcode]) if covs else xs  # controls demeaned by cohort and period (R etwfe)
    cells = [(c, s) for c in cohorts for s in times if (s >= c if control == "notyet" else s != tref)]
    cell_of = {cs: i for i, cs in enumerate(cells)}
    m = len(cells)
    rowcell = np.array([cell_of.get((gi, ti), -1) for gi, ti in zip(g.tolist(), t.tolist())], dtype=np.int64)
    cols, names = [], []
    D = np.zeros((len(frame), m))
    hit = rowcell >= 0
    D[np.flatnonzero(hit), rowcell[hit]] = 1.0
    cols.append(D)
    names += [f"cell::{c}:{s}" for c, s in cells]
    for j, x in enumerate(covs):
        cols.append(D * xdm[:, [j]])
        names += [f"cell::{c}:{s}:{x}" for c, s in cells]
        cols.append(xs[:, [j]])
        names.append(x)
        for c in [c for c in np.unique(g) if c != gref]:
            cols.append((xs[:, j] * (g == c))[:, None])
            names.append(f"{x}:cohort::{c}")
        for s in times[1:]:
            cols.append((xs[:, j] * (t == s))[:, None])
            names.append(f"{x}:time::{s}")
    X = np.column_stack(cols)
    # gaussian: unit and period effects; poisson/logit: cohort and period effects (R etwfe drops ivar for GLMs)
    fe = [codes(frame[panel.unit].to_numpy()) if family == "gaussian" else gcode, tcode]
    vkw = design_vcov_kwargs(panel, frame, vcov, cl_codes, cl_cols, hac_lags=hac_lags, lat=lat, lon=lon,
                             cutoff=cutoff)
    yv = frame[panel.outcome].to_numpy(float)
    if family == "gaussian":
        fit = fit_linear(yv, X, names, fe=fe, keep=names[:m], **vkw)
        eta = None
    else:
        fit, eta = _glm(yv, X, names, fe, family, names[:m], vkw)
    pos = {nm: i for i, nm in enumerate(fit.names)}
    V = fit.vcov
    p = len(fit.names)
    # per-cell gradient of the mean effect over the cell's observations: beta_c + gamma_c' mean(xdm | cell)
    cnt = np.bincount(rowcell[hit], minlength=m).astype(float)
    A = np.zeros((m, p))
    for i, (c, s) in enumerate(cells):
        A[i, pos[f"cell::{c}:{s}"]] = 1.0
        for j, x in enumerate(covs):
            nm = f"cell::{c}:{s}:{x}"
            if nm in pos and cnt[i] > 0:
                A[i, pos[nm]] = xdm[rowcell == i, j].mean()
    att = A @ fit.coef
    if eta is not None:  # GLM: average of mu(eta) - mu(eta without the cell terms) over the cell's rows (emfx)
        att, A = _glm_effects(eta, X, names, fit, rowcell, m, cells, covs, family)
    post = np.array([s >= c for c, s in cells])
    unit_codes = fe[0]
    n_units_g = {c: int(len(np.unique(unit_codes[(g == c)]))) for c in cohorts}

    def combo(sel_w):
        """(estimate, se, gradient) of a weighted mean of cells."""
        w = sel_w / sel_w.sum()
        a = w @ A
        return float(w @ att), float(np.sqrt(max(a @ V.V @ a, 0.0))), a

    def rows_by(key):
        labels = sorted(set(key[post & (cnt > 0)].tolist()))
        out = []
        for lab in labels:
            sel = post & (key == lab) & (cnt > 0)
            out.append((lab, *combo(np.where(sel, cnt, 0.0))))
        return out

    tables: dict = {}
    dfree = V.df
    cg = np.array([c for c, _ in cells])
    ct = np.array([s for _, s in cells])
    se_cell = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", A, V.V, A), 0, None))
    tables["group_time"] = [{"group": int(c), "time": int(s), "estimate": float(a), "se": float(e),
                             "event_time": int(s - c)} for (c, s), a, e in zip(cells, att, se_cell)]
    event_study = None
    if aggregate == "simple":
        est, se, _ = combo(np.where(post, cnt, 0.0))
    else:
        key = {"group": cg, "calendar": ct, "dynamic": ct - cg}[aggregate]
        rows = rows_by(key)
        grads = np.array([r[3] for r in rows])
        if aggregate == "group":
            wts = np.array([n_units_g[int(r[0])] for r in rows], float)
        elif aggregate == "dynamic":
            wts = np.array([1.0 if r[0] >= 0 else 0.0 for r in rows])
        else:
            wts = np.ones(len(rows))
        a = (wts / wts.sum()) @ grads
        est = float((wts / wts.sum()) @ np.array([r[1] for r in rows]))
        se = float(np.sqrt(max(a @ V.V @ a, 0.0)))
        if aggregate == "dynamic":
            event_study = EventStudy(tuple(int(r[0]) for r in rows), np.array([r[1] for r in rows]),
                                     grads @ V.V @ grads.T, None, "etwfe", alpha=alpha, df=dfree)
        else:
            k = "group" if aggregate == "group" else "time"
            tables["groups" if aggregate == "group" else "calendar"] = [
                {k: int(r[0]), "estimate": r[1], "se": r[2]} for r in rows]
    lo, hi, pv = ci_and_p(est, se, alpha=alpha, df=dfree)
    terms = terms_frame(fit.names, fit.coef, fit.se, alpha=alpha, df=dfree)
    diag = {"n_dropped": int(panel.info.get("n_dropped", 0)) + n_drop, "n_cells": m, "K": fit.k,
            "rss": fit.stats["rss"]}
    if fit.dropped:
        diag["dropped_collinear"] = fit.dropped
    options = {"family": family, "control": control, "aggregate": aggregate, "covariates": covs,
               "fixed_effects": [panel.unit if family == "gaussian" else panel.cohort, panel.time],
               "link": {"gaussian": "identity", "poisson": "log", "logit": "logit"}[family], "cluster": ",".join(cl_cols), "vcov": V.name,
               "ssc": SSC_NAME, "ssc_factors": V.ssc, "alpha": alpha, "df_t": dfree,
               "reference_cohort": "never treated" if gref == 0 else int(gref), "reference_period": int(tref),
               "covariate_spec": "cells x (x demeaned by cohort and period) + x, x:cohort, x:period (R etwfe)",
               "weights": "cell effects averaged over treated observations (R emfx)"}
    return Estimate(
        design="etwfe", outcome=panel.outcome, estimate=est, se=se, ci_low=lo, ci_high=hi, p_value=pv,
        alpha=alpha, df=dfree, n_obs=int(len(frame)), n_units=int(unit_codes.max()) + 1,
        n_clusters=V.n_clusters, n_treated_units=int(sum(n_units_g.values())), terms=terms,
        event_study=event_study, tables=tables, diagnostics=diag, options=options,
    )


def _mu(eta, family):
    return np.exp(eta) if family == "poisson" else 1.0 / (1.0 + np.exp(-eta))


def _glm(y, X, names, fe, family, keep, vkw):
    """Poisson / logit regression with absorbed fixed effects by IRLS (weighted demeaning), as fixest feglm.

    Returns the weighted least-squares fit at convergence (coefficients, collinearity, CRV1 covariance
    of the scores ``x~ (y - mu)`` with fixest's small-sample K) and the linear predictor.
    """
    from ..numerics.vcov import compute_vcov, dof_k
    from ..numerics.fe import demean

    if family == "poisson" and (y < 0).any():
        raise DesignError("--family poisson needs a non-negative outcome.")
    if family == "logit" and not np.isin(y, (0.0, 1.0)).all():
        raise DesignError("--family logit needs a 0/1 outcome.")
    mu = (y + y.mean()) / 2 if family == "poisson" else (y + 0.5) / 2
    eta = np.log(mu) if family == "poisson" else np.log(mu / (1 - mu))
    dev_old = np.inf
    for _ in range(100):
        W = mu if family == "poisson" else mu * (1 - mu)
        z = eta + (y - mu) / W
        Z = demean(np.column_stack([z, X]), fe, weights=W, tol=1e-13)
        sw = np.sqrt(W)
        fit = fit_linear(Z[:, 0] * sw, Z[:, 1:] * sw[:, None], names, keep=keep)
        eta = z - fit.resid / sw
        mu = _mu(eta, family)
        if family == "poisson":
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0) - (y - mu)))
        else:
            dev = -2 * float(np.sum(y * np.log(mu) + (1 - y) * np.log(1 - mu)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < 1e-10:
            break
        dev_old = dev
    else:
        raise DesignError(f"the {family} ETWFE regression did not converge in 100 iterations.")
    K = dof_k(fit.X.shape[1], fe, list(vkw.get("clusters", ())) if vkw["kind"] == "cluster" else [])
    V = compute_vcov(fit.X, fit.resid, k=K, **vkw)
    from dataclasses import replace

    return replace(fit, vcov=V, k=K), eta


def _glm_effects(eta, X, names, fit, rowcell, m, cells, covs, family):
    """Cell ATTs (mean over the cell's rows of mu(eta) - mu(eta0)) and their gradients in the coefficients."""
    idx = [names.index(nm) for nm in fit.names]
    Xk = X[:, idx]
    cellcols = np.array([nm.startswith("cell::") for nm in fit.names])
    b = fit.coef
    att = np.zeros(m)
    A = np.zeros((m, len(b)))
    for i in range(m):
        r = rowcell == i
        if not r.any():
            continue
        x1 = Xk[r]
        x0 = np.where(cellcols, 0.0, x1)
        e1 = eta[r]
        e0 = e1 - (x1 - x0) @ b
        m1, m0 = _mu(e1, family), _mu(e0, family)
        d1 = m1 if family == "poisson" else m1 * (1 - m1)
        d0 = m0 if family == "poisson" else m0 * (1 - m0)
        att[i] = float(np.mean(m1 - m0))
        A[i] = (d1[:, None] * x1 - d0[:, None] * x0).mean(axis=0)
    return att, A
