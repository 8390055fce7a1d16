"""Sun & Abraham (2021) interaction-weighted (IW) event study.

Sun, L. and Abraham, S. (2021), "Estimating dynamic treatment effects in event
studies with heterogeneous treatment effects", *Journal of Econometrics* 225(2).

One regression, saturated in cohort × relative period: the outcome on a dummy
for every (cohort ``g``, relative period ``e = t − g``) cell of the treated
cohorts except ``e = −1`` (the reference), the covariates, and unit and time
fixed effects.  The control cohort is the never-treated units; when there are
none, the last-treated cohort is the control and every period from its
treatment onwards is dropped (Sun & Abraham 2021, Section 4.1).  This is the
regression R ``fixest::sunab`` (default ``ref.p = -1``) runs.

Aggregation (as ``fixest`` ``aggregate`` / ``summary(agg = ...)``):

* event study: for each ``e``, ``β_e = Σ_g w_{g,e} β_{g,e}`` with cohort
  shares ``w_{g,e} = n_{g,e} / Σ_g n_{g,e}`` (``n`` = rows in the cell);
* headline ATT: all cells with ``e ≥ 0`` weighted by their row counts
  (``summary(res, agg = "ATT")``).

Weights are treated as fixed; SEs are delta-method ``w'Vw`` with ``V`` the
cluster-robust CRV1 covariance of the regression (fixest small-sample factor,
FE nested in the clusters not counted; ``ogimpact.numerics.vcov``) and CIs
use t(G − 1).

Computation: the regression is solved exactly without an ``n × k`` dummy
matrix, by block elimination of the unit and time effects from the normal
equations (:mod:`ogimpact.designs._sparse_fe`), so memory grows with ``n``
and ``k²`` rather than ``n·k``.  Columns absorbed by the fixed effects are
dropped; columns collinear with earlier ones are dropped in fixest's order
(covariates, then cells by cohort and relative period; fixest's ordered
Cholesky), and both are reported in ``diagnostics['collinear_dropped']``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.linalg as sla

from ..errors import DesignError
from ..panel import Panel
from ..results import Estimate, EventStudy, terms_frame
from ..numerics.fe import codes as _codes
from ..numerics.sparse_fe import cluster_meat, collinear_columns, twoway_gram, twoway_residuals

__all__ = ["fit_sun_abraham"]

#: relative residual norm below which a column counts as absorbed by the fixed effects (norm after the FE
#: over its raw norm), and below which a column counts as collinear with the earlier ones (norm left after
#: projecting on them over its FE-residualised norm).  The reduced normal equations carry rounding of order
#: eps * ||x||^2, i.e. ~1e-8 on the norm scale, so 1e-6 separates exact collinearity from real variation.
ABSORBED_TOL = 1e-6
COLLINEAR_TOL = 1e-6


def _fit_saturated(y, cell, k_cells, Z, fac, clc, cl_col, names):
    """OLS of ``y`` on the cell dummies and covariates with unit and time FE, CRV1 by ``clc``.

    Returns ``(b, use, dropped_cov, dropped_cell, VcovResult)``; ``use`` flags the kept columns.  Exact
    block elimination (:mod:`._sparse_fe`): no ``n × k`` array is formed.
    """
    from ..numerics.vcov import VcovResult, dof_k

    unit, time = fac
    gram = twoway_gram(y, cell, k_cells, Z, unit, time)
    M = gram.M
    # ---- drop columns absorbed by the fixed effects (fixest removes collinear variables)
    rel = np.sqrt(np.clip(np.diag(M), 0, None)) / (np.sqrt(gram.sq_norm) + 1e-300)
    absorbed = rel < ABSORBED_TOL
    dropped_cov = [names[j] for j in np.flatnonzero(absorbed) if j >= k_cells]
    dropped_cell = [int(j) for j in np.flatnonzero(absorbed) if j < k_cells]
    use = ~absorbed
    idx = np.flatnonzero(use)
    # fixest's column order for y ~ covariates + sunab(): covariates first, then the cells (cohort, period)
    order = np.argsort(np.where(idx >= k_cells, idx - k_cells - len(names), idx), kind="stable")
    depm = collinear_columns(M[np.ix_(idx, idx)], order, COLLINEAR_TOL)
    if depm.any():
        # as fixest: remove the variables that are collinear given the fixed effects and the earlier columns
        # (e.g. the last cell of a cohort whose reference period e = -1 is not observed in an irregular panel)
        dep = idx[depm]
        if any(j >= k_cells for j in dep) and not any(j < k_cells for j in dep):
            raise DesignError("the covariates are collinear given the unit and time fixed effects and the "
                              "cohort × period dummies; drop a covariate.")
        use[dep] = False
        dropped_cov += [names[j] for j in dep if j >= k_cells]
        dropped_cell += [int(j) for j in dep if j < k_cells]
        idx = np.flatnonzero(use)
    Mu = M[np.ix_(idx, idx)]
    try:
        cf = sla.cho_factor(Mu)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - collinear columns were removed above
        raise DesignError("the cohort × period dummies and covariates are numerically collinear given the fixed "
                          "effects; drop a covariate or rescale it.") from exc
    b = sla.cho_solve(cf, gram.c[idx])
    Binv = sla.cho_solve(cf, np.eye(len(idx)))
    beta = np.zeros(len(use))
    beta[idx] = b
    resid = twoway_residuals(gram, beta, cell, unit, time)
    # ---- CRV1 (the convention of ogimpact.numerics.vcov.compute_vcov, kind="cluster", one-way)
    n = len(y)
    K = dof_k(len(idx), fac, [clc])
    if n - K <= 0:
        raise DesignError(f"the model has {K} parameters but only {n} observations; drop regressors or fixed effects.")
    G = int(clc.max()) + 1
    if G < 2:
        raise DesignError(f"the cluster variable {cl_col!r} has a single cluster; cluster by a variable with several values.")
    meat = cluster_meat(gram, resid, cell, unit, time, clc, use)
    fct = (n - 1) / (n - K) * G / (G - 1)
    V = fct * Binv @ meat @ Binv
    desc = (f"cluster-robust CRV1 by {cl_col}: G/(G-1)*(n-1)/(n-K) with G={G}, n={n}, K={K} "
            f"(factor {fct:.6g}); t({G - 1})")
    vr = VcovResult(V, float(G - 1), desc, f"CRV1({cl_col})",
                    {"n": n, "K": K, "G": G, "G_all": [G], "factor": fct, "cluster_df": "min"}, G)
    return b, use, dropped_cov, dropped_cell, vr


def fit_sun_abraham(
    panel: Panel,
    *,
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> Estimate:
    """Sun & Abraham (2021) interaction-weighted estimator.

    Parameters
    ----------
    panel : Panel
        Needs a cohort column (first treated period; 0 = never treated).
    covariates : sequence of str, optional
        Time-varying controls (default ``panel.covariates``); reported in ``terms``.
    cluster : str, optional
        Cluster column (default ``panel.cluster`` or the unit).
    alpha : float
        1 − confidence level; CIs use t(G − 1).

    Returns
    -------
    Estimate
        design ``"sun-abraham"``: headline = ATT over all post cells (``agg = "ATT"``),
        ``event_study`` = IW coefficient per relative period (ref −1 excluded),
        ``tables['group_time']`` = cohort × period CATTs.
    """
    if not (0 < float(alpha) < 1):
        raise DesignError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    if not panel.cohort:
        raise DesignError("the sun-abraham design needs a cohort column; build the panel with cohort=COL.")
    covs = list(panel.covariates if covariates is None else
                ([c for c in covariates.split(",") if c] if isinstance(covariates, str) else covariates))
    f = panel.frame
    bad = [c for c in covs if c not in f.columns]
    if bad:
        raise DesignError(f"covariate(s) {', '.join(map(repr, bad))} are not in the panel; "
                          "add them with Panel.from_frame(..., covariates=[...]).")
    cl_col = cluster or panel.cluster_col
    if cl_col not in f.columns:
        raise DesignError(f"cluster column {cl_col!r} is not in the panel; keep it with extra=[...] or fix --cluster.")
    f = f.dropna(subset=[panel.outcome, *covs])
    if f[cl_col].isna().any():
        raise DesignError(f"cluster column {cl_col!r} has missing values; drop those rows or fill them.")

    t = f[panel.time].to_numpy(np.int64)
    g = f[panel.cohort].to_numpy(np.int64)
    periods = np.unique(t)
    step = int(np.min(np.diff(periods))) if len(periods) > 1 else 1
    cohorts = np.unique(g[g != 0])  # 0 = never treated; negative periods are cohorts too
    if len(cohorts) == 0:
        raise DesignError("no unit is ever treated; check the cohort column.")
    control = "never-treated"
    n_trunc = 0
    if not (g == 0).any():
        last = int(cohorts.max())
        if len(cohorts) < 2:
            raise DesignError("there are no never-treated units and a single cohort, so no unit can serve as "
                              "control; add never-treated units.")
        keep = t < last
        n_trunc = int((~keep).sum())
        f, t, g = f.loc[keep], t[keep], np.where(g[keep] == last, 0, g[keep])
        control = f"last-treated cohort {last} (periods from {last} on dropped)"
        cohorts = cohorts[cohorts != last]
    e = np.where(g != 0, (t - g) // step, np.iinfo(np.int64).min)
    cellmask = (g != 0) & (e != -1)
    if not ((g != 0) & (e >= 0)).any():
        raise DesignError("no treated cohort is observed at or after its treatment period; nothing to estimate.")

    # ---- cohort × relative-period cells (sorted by cohort, then relative period)
    n = len(f)
    gm, em = g[cellmask], e[cellmask]
    e_lo = int(em.min())
    key = (gm - int(gm.min())) * (int(em.max()) - e_lo + 1) + (em - e_lo)
    ukey, inv = np.unique(key, return_inverse=True)
    first = np.zeros(len(ukey), dtype=np.int64)
    first[inv] = np.arange(len(inv))  # any row of a cell carries its (g, e)
    cg, ce = gm[first], em[first]
    k_cells = len(ukey)
    cell = np.full(n, -1, dtype=np.int64)
    cell[cellmask] = inv
    ncell_raw = np.bincount(inv, minlength=k_cells)
    Z = f[covs].to_numpy(float) if covs else np.zeros((n, 0))
    y = f[panel.outcome].to_numpy(float)
    fac = [_codes(f[panel.unit]), _codes(f[panel.time])]
    clc = _codes(f[cl_col])
    names = [f"{panel.cohort}::{gg}:rel::{ee}" for gg, ee in zip(cg, ce)] + covs
    b_use, use, dropped_cov, dropped_cell, vr = _fit_saturated(y, cell, k_cells, Z, fac, clc, cl_col, names)
    p = k_cells + len(covs)
    beta = np.full(p, np.nan)
    V = np.full((p, p), np.nan)
    beta[use] = b_use
    V[np.ix_(use, use)] = vr.V
    G = int(vr.n_clusters)
    df = float(G - 1)

    # ---- cell sizes and aggregation weights (absorbed cells carry no weight)
    ncell = ncell_raw.astype(float)
    ncell[dropped_cell] = 0.0
    bc, Vc = np.nan_to_num(beta[:k_cells]), np.nan_to_num(V[:k_cells, :k_cells])
    ev_times = np.unique(ce[ncell > 0])
    A = np.zeros((len(ev_times), k_cells))
    for i, ee in enumerate(ev_times):
        m = (ce == ee) & (ncell > 0)
        A[i, m] = ncell[m] / ncell[m].sum()
    es_b, es_V = A @ bc, A @ Vc @ A.T
    post = (ce >= 0) & (ncell > 0)
    w_att = np.where(post, ncell, 0.0) / ncell[post].sum()
    att, att_se = float(w_att @ bc), float(np.sqrt(max(w_att @ Vc @ w_att, 0.0)))

    se_all = np.sqrt(np.clip(np.diag(V), 0, None))
    gt = [{"group": int(gg), "time": int(gg + ee * step), "estimate": float(beta[j]), "se": float(se_all[j]),
           "event_time": int(ee)} for j, (gg, ee) in enumerate(zip(cg, ce))]
    cov_idx = [k_cells + j for j in range(len(covs)) if use[k_cells + j]]
    terms = terms_frame(["ATT"] + [covs[j - k_cells] for j in cov_idx], [att, *beta[cov_idx]],
                        [att_se, *se_all[cov_idx]], alpha=alpha, df=df)
    es = EventStudy(event_times=tuple(int(x) for x in ev_times), estimates=es_b, vcov=es_V, ref=-1,
                    estimator="sun-abraham", alpha=alpha, df=df)
    diag = {"n_dropped": int(panel.info.get("n_dropped", 0)), "n_dropped_after_control_cohort": n_trunc,
            "vcov": vr.description, "ssc": vr.ssc}
    if dropped_cov or dropped_cell:
        diag["collinear_dropped"] = dropped_cov + [names[j] for j in dropped_cell]
    units = f[panel.unit]
    return Estimate(
        design="sun-abraham",
        outcome=panel.outcome,
        estimate=att,
        se=att_se,
        alpha=alpha,
        df=df,
        n_obs=int(n),
        n_units=int(units.nunique()),
        n_clusters=G,
        n_treated_units=int(units[g != 0].nunique()),
        terms=terms,
        event_study=es,
        tables={"group_time": gt},
        diagnostics=diag,
        options={"covariates": covs, "cluster": cl_col, "alpha": alpha, "ref": -1, "control": control,
                 "fixed_effects": [panel.unit, panel.time], "vcov": vr.name,
                 "aggregation": "cohort shares n_(g,e) per event time; ATT = all post cells weighted by rows",
                 "ci": f"t(G-1) = t({G - 1})"},
        extras={"cohort_weights": [{"group": int(gg), "event_time": int(ee), "n": int(nn)}
                                   for gg, ee, nn in zip(cg, ce, ncell)],
                "event_time_step": step},
    )
