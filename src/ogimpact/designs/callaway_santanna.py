"""Callaway & Sant'Anna (2021) staggered difference-in-differences.

``fit_cs`` estimates every group-time average treatment effect ATT(g,t) - the
effect in period t on the units first treated in period g - by a 2x2 DiD of
cohort g against never-treated or not-yet-treated comparison units, then
aggregates them (simple, by cohort, by event time, by calendar period) with
influence-function standard errors, R ``did``'s Wald pre-test of the
pre-treatment ATT(g,t), and an optional multiplier bootstrap with uniform bands.
The numbers reproduce R ``did`` 2.x (``att_gt`` + ``aggte``, balanced panel):

* 2x2 estimators of Sant'Anna & Zhao (2020) as R ``DRDID`` implements them -
  ``dr`` is ``drdid_panel`` (the locally efficient doubly robust estimator that
  R ``did`` calls), ``ipw`` is ``std_ipw_did_panel``, ``reg`` is ``reg_did_panel``;
* base period ``varying`` (pre-treatment cells compare consecutive periods) or
  ``universal`` (every cell uses period g - 1 - anticipation; that cell is 0);
* not-yet-treated comparison units of cell (g, t): never treated, or first
  treated after max(t, base) + anticipation, other than cohort g;
* without never-treated units and ``control="notyet"``, the periods from the
  last cohort's (minus anticipation) on are dropped and that cohort only serves
  as comparison (as R ``did``);
* units missing in some period are dropped to balance the panel (R ``did``'s
  default ``allow_unbalanced_panel = FALSE``); the count is in ``diagnostics``.

Vectorised: without covariates every cell is one column of a matrix
computation; with covariates one logit and one Gram matrix serve all cells that
share the cohort, the comparison set and the covariate period.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230.
Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences
estimators. *Journal of Econometrics* 219(1), 101-122.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import DesignError, OgimpactWarning
from ..panel import Panel
from ..results import Estimate
from .cs_aggregate import aggregate_cells, pretest, result_tables
from .cs_bootstrap import analytic_se, bootstrap_ses
from .cs_influence import influence_extras
from .cs_prepare import _prepare

__all__ = ["fit_cs", "att_gt"]

#: propensity scores of comparison units at or above this are trimmed (R DRDID default)
TRIM_LEVEL = 0.995
#: R did's overlap guard: a cell whose largest fitted propensity reaches this is not estimated
OVERLAP_MAX = 0.999


def logit_irls(X: np.ndarray, d: np.ndarray, *, beta0: np.ndarray | None = None, maxit: int = 100,
               tol: float = 1e-10, info: dict | None = None) -> tuple[np.ndarray, bool]:
    """Unweighted logit MLE by Newton-Raphson (IRLS); ``X[:, 0]`` must be the intercept.

    Starts from ``beta0`` or the intercept-only solution; returns ``(beta, converged)``.
    ``info`` (a dict, optional) receives ``iterations`` and, for a failed fit, ``reason``
    (``"singular"``: the Hessian cannot be solved, e.g. collinear covariates or separation;
    ``"max_iterations"``: the step was still above ``tol`` after ``maxit`` iterations).
    """
    info = {} if info is None else info
    if beta0 is None:
        pbar = float(np.clip(d.mean(), 1e-10, 1 - 1e-10))
        beta = np.zeros(X.shape[1])
        beta[0] = np.log(pbar / (1 - pbar))
    else:
        beta = np.array(beta0, dtype=float)
    for it in range(1, maxit + 1):
        info["iterations"] = it
        p = expit(X @ beta)
        H = X.T @ (X * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(H, X.T @ (d - p))
        except np.linalg.LinAlgError:
            info["reason"] = "singular"
            return beta, False
        if not np.all(np.isfinite(step)):
            info["reason"] = "singular"
            return beta, False
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            info.pop("reason", None)
            return beta, True
    info["reason"] = "max_iterations"
    return beta, False


def did_means(Y: np.ndarray, gu: np.ndarray, cells: pd.DataFrame, *, control: str, method: str):
    """ATT(g,t) and influence functions of the no-covariate 2x2 DiD for every cell at once.

    Without covariates the three estimators reduce to the difference of the mean
    outcome changes of cohort g and of its comparison units, with influence function
    ``n/n_T (dY - m_T)`` on the cohort and ``-n/n_C (dY - m_C)`` on the comparison
    units.  Units must be sorted by cohort (``gu`` non-decreasing): the influence
    functions are written one cohort block at a time from cohort-level sums.

    Returns ``att`` (K,) and ``inf`` (n, K); universal-base zero cells get 0.
    """
    n = len(gu)
    cval, start, ncoh = np.unique(gu, return_index=True, return_counts=True)
    cg, ct, thr = cells["g"].to_numpy(), cells["t"].to_numpy(), cells["thr"].to_numpy()
    cur, pre = cells["cur"].to_numpy(), cells["pre"].to_numpy()
    live = ~cells["zero"].to_numpy()
    Ysum = np.add.reduceat(Y, start, axis=0)  # (C, T) cohort sums
    dS = Ysum[:, cur] - Ysum[:, pre]  # (C, K)
    Tm = (cval[:, None] == cg[None, :]) & live
    if control == "never":
        Cm = np.repeat((cval == 0)[:, None], len(cg), axis=1)
    else:
        Cm = (cval[:, None] == 0) | ((cval[:, None] > thr[None, :]) & (cval[:, None] != cg[None, :]))
    Cm &= live
    nT, nC = ncoh @ Tm, ncoh @ Cm
    bad = np.flatnonzero(live & (nC == 0))
    if len(bad):
        k = bad[0]
        raise DesignError(
            f"cohort {cg[k]} has no comparison units in period {ct[k]} (control='{control}'); "
            "use control='notyet' or restrict the periods to those with comparison units."
        )
    if method in ("dr", "ipw"):
        pbar = np.where(live, nT / np.maximum(nT + nC, 1), 0.0)
        bad = np.flatnonzero(pbar >= TRIM_LEVEL)
        if len(bad):
            k = bad[0]
            raise DesignError(
                f"overlap fails for cohort {cg[k]} in period {ct[k]}: {pbar[k]:.1%} of the cell is treated, "
                "so every comparison unit is trimmed (R DRDID); use method='reg' or add comparison units."
            )
    with np.errstate(invalid="ignore", divide="ignore"):
        mT = np.where(live, (dS * Tm).sum(0) / nT, 0.0)
        mC = np.where(live, (dS * Cm).sum(0) / nC, 0.0)
        aT = np.where(live, n / nT, 0.0)
        aC = np.where(live, n / nC, 0.0)
    A = Tm * aT - Cm * aC  # (C, K) coefficient of dY by cohort
    Bm = Tm * (aT * mT) - Cm * (aC * mC)
    inf = np.zeros((n, len(cg)))
    bounds = list(start) + [n]
    for c in range(len(cval)):  # one block per cohort, not per unit
        nz = np.flatnonzero(A[c] != 0)  # cells where cohort c is treated or a comparison (else 0)
        if not len(nz):
            continue
        Yb = Y[bounds[c]:bounds[c + 1]]
        blk = Yb[:, cur[nz]]
        blk -= Yb[:, pre[nz]]
        blk *= A[c, nz]
        blk -= Bm[c, nz]
        if len(nz) == len(cg):
            inf[bounds[c]:bounds[c + 1]] = blk
        else:
            inf[bounds[c]:bounds[c + 1], nz] = blk
    return mT - mC, inf


def _rcond1(A: np.ndarray) -> float:
    try:
        return float(1.0 / np.linalg.cond(A, 1))
    except np.linalg.LinAlgError:  # pragma: no cover - cond handles singular input
        return 0.0


def did_batch(method: str, DY: np.ndarray, D: np.ndarray, X: np.ndarray, n: int, *, label: str,
              beta0: np.ndarray | None = None):
    """Sant'Anna-Zhao 2x2 panel DiD for cells sharing units and covariates (R DRDID formulas).

    Parameters
    ----------
    method : {"dr", "ipw", "reg"}
    DY : (n1, m) outcome changes (post minus base) of the cell's units, one column per cell
    D : (n1,) 1 for the treated cohort, 0 for the comparison units
    X : (n1, k) covariates with an intercept column (from the earlier of the two periods)
    n : number of units in the panel; the influence function is scaled by ``n / n1``
    label : names the cells in error messages
    beta0 : starting values of the logit (e.g. the fit of a neighbouring cell)

    Returns
    -------
    att (m,), inf (n1, m), beta (logit coefficients, None for ``reg``)
    """
    n1 = len(D)
    D = D.astype(float)
    C = 1.0 - D
    ctrl = C > 0
    beta = None
    if method in ("dr", "ipw"):
        fit: dict = {}
        beta, ok = logit_irls(X, D, beta0=beta0, info=fit)
        if not ok and beta0 is not None:
            fit = {}
            beta, ok = logit_irls(X, D, info=fit)
        if not ok and fit.get("reason") == "singular":
            raise DesignError(
                f"the propensity-score logit of {label} cannot be fitted (singular information matrix after "
                f"{fit['iterations']} iteration(s): collinear covariates or perfect separation); drop or coarsen "
                "covariates, or use method='reg'."
            )
        ps = expit(X @ beta)
        if not ok and np.max(ps) < OVERLAP_MAX:
            # R did's glm() warns "algorithm did not converge" and goes on with the last iterate
            warnings.warn(OgimpactWarning(
                "not_converged",
                f"the propensity-score logit of {label} did not converge in {fit['iterations']} Newton-Raphson "
                "iterations; the estimate uses the last iterate (as R did's glm), check the covariates for "
                "near-separation."))
        if np.max(ps) >= OVERLAP_MAX:
            raise DesignError(
                f"overlap fails for {label}: the propensity score of the treated cohort reaches "
                f"{np.max(ps):.4f} (R did refuses >= {OVERLAP_MAX}); drop or coarsen covariates, "
                "or use method='reg'."
            )
        ps = np.minimum(ps, 1 - 1e-6)
        W = ps * (1 - ps)
        trim = np.ones(n1, dtype=bool)
        trim[ctrl] = ps[ctrl] < TRIM_LEVEL
        w_t = trim * D
        w_c = trim * ps * C / (1 - ps)
        if w_c.sum() <= 0:
            raise DesignError(
                f"every comparison unit of {label} is trimmed (propensity score >= {TRIM_LEVEL}); "
                "drop or coarsen covariates, or use method='reg'."
            )
        Hps = np.linalg.inv(X.T @ (X * W[:, None])) * n1
        asy_ps = ((D - ps)[:, None] * X) @ Hps  # (n1, k)
    if method in ("dr", "reg"):
        Xc = X[ctrl]
        XtX = Xc.T @ Xc
        if _rcond1(XtX) < np.finfo(float).eps:
            raise DesignError(
                f"the covariates of the comparison units of {label} are collinear or constant; "
                "remove collinear covariates or rescale them."
            )
        XtX_inv = np.linalg.inv(XtX / n1)
        coef = np.linalg.solve(XtX, Xc.T @ DY[ctrl])  # (k, m)
        out = X @ coef  # (n1, m)
        R = DY - out

    if method == "dr":
        mwt, mwc = w_t.mean(), w_c.mean()
        eta_t = (w_t @ R) / w_t.sum()
        eta_c = (w_c @ R) / w_c.sum()
        att = eta_t - eta_c
        h1 = X @ (XtX_inv @ (X.T @ w_t / n1))
        h3 = X @ (XtX_inv @ (X.T @ w_c / n1))
        CR = C[:, None] * R
        inf_treat = (w_t[:, None] * (R - eta_t) - CR * h1[:, None]) / mwt
        M2 = X.T @ (w_c[:, None] * (R - eta_c)) / n1  # (k, m)
        inf_cont = (w_c[:, None] * (R - eta_c) + asy_ps @ M2 - CR * h3[:, None]) / mwc
        inf = inf_treat - inf_cont
    elif method == "ipw":
        mwt, mwc = w_t.mean(), w_c.mean()
        eta_t = (w_t @ DY) / w_t.sum()
        eta_c = (w_c @ DY) / w_c.sum()
        att = eta_t - eta_c
        inf_treat = w_t[:, None] * (DY - eta_t) / mwt
        M2 = X.T @ (w_c[:, None] * (DY - eta_c)) / n1
        inf_cont = (w_c[:, None] * (DY - eta_c) + asy_ps @ M2) / mwc
        inf = inf_treat - inf_cont
    elif method == "reg":
        md = D.mean()
        eta_t = (D @ DY) / D.sum()
        eta_c = (D @ out) / D.sum()
        att = eta_t - eta_c
        h1 = X @ (XtX_inv @ (X.T @ D / n1))
        inf_treat = D[:, None] * (DY - eta_t) / md
        inf_cont = (D[:, None] * (out - eta_c) + C[:, None] * R * h1[:, None]) / md
        inf = inf_treat - inf_cont
    else:  # pragma: no cover - validated by the caller
        raise DesignError(f"unknown method {method!r}; use 'dr', 'ipw' or 'reg'.")
    return att, (n / n1) * inf, beta


# --------------------------------------------------------------------------- data
def _cells(tlist: np.ndarray, glist: np.ndarray, *, base: str, anticipation: int) -> pd.DataFrame:
    """The (g, t) cells of R ``compute.att_gt``: period, base period, comparison threshold."""
    rows = []
    T = len(tlist)
    for g in glist:
        pre_idx = np.flatnonzero(tlist + anticipation < g)
        pret_g = int(pre_idx[-1])
        rng = range(T - 1) if base == "varying" else range(T)
        for t in rng:
            cur = t + 1 if base == "varying" else t
            pret = t if base == "varying" else pret_g
            if g <= tlist[cur]:
                pret = pret_g
            zero = base == "universal" and pret == cur
            rows.append((int(g), int(tlist[cur]), cur, pret, min(cur, pret),
                         int(max(tlist[cur], tlist[pret]) + anticipation), zero))
    return pd.DataFrame(rows, columns=["g", "t", "cur", "pre", "early", "thr", "zero"])


def _controls(gu: np.ndarray, g, thr, control: str) -> np.ndarray:
    if control == "never":
        return gu == 0
    return (gu == 0) | ((gu > thr) & (gu != g))


def att_gt(prep: dict, *, control: str = "never", method: str = "dr", base: str = "varying",
           anticipation: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every ATT(g,t) and its unit-level influence function (R ``did::att_gt``, analytic part).

    Returns ``(cells, att, inf)`` with ``inf`` of shape (n units, K cells).
    """
    Y, X, gu, n = prep["Y"], prep["X"], prep["gu"], prep["n"]
    cells = _cells(prep["tlist"], prep["glist"], base=base, anticipation=anticipation)
    if X is None:
        att, inf = did_means(Y, gu, cells, control=control, method=method)
        return cells, att, inf
    K = len(cells)
    att = np.zeros(K)
    inf = np.zeros((n, K))
    live = np.flatnonzero(~cells["zero"].to_numpy())
    cg, ct, thr = cells["g"].to_numpy(), cells["t"].to_numpy(), cells["thr"].to_numpy()
    cur, pre = cells["cur"].to_numpy(), cells["pre"].to_numpy()
    invariant = bool(np.all(X == X[:, :1, :]))
    # cells of a cohort share one logit and one design when they share the comparison units and the
    # covariate period; not-yet-treated comparison sets depend on the threshold only through the
    # cohorts later than it, so thresholds between two consecutive cohorts give the same set
    ckey = np.searchsorted(np.unique(gu), thr[live], side="right") if control == "notyet" else 0
    keys = pd.DataFrame({"g": cg[live], "set": ckey, "thr": thr[live],
                         "cov": 0 if invariant else cells["early"].to_numpy()[live], "k": live})
    beta = None
    for (g, _, cv), grp in keys.groupby(["g", "set", "cov"], sort=False):
        ks = grp["k"].to_numpy()
        ctrl = _controls(gu, g, grp["thr"].iat[0], control)
        if not ctrl.any():  # a cell without comparison units is an error, not an NA
            raise DesignError(
                f"cohort {g} has no comparison units in period {ct[ks[0]]} (control='{control}'); "
                "use control='notyet' or restrict the periods to those with comparison units."
            )
        keep = np.flatnonzero((gu == g) | ctrl)
        D = (gu[keep] == g).astype(float)
        Yk = Y[keep]
        DY = Yk[:, cur[ks]] - Yk[:, pre[ks]]
        label = f"cohort {g} in period(s) {', '.join(map(str, ct[ks]))}"
        a, f, beta = did_batch(method, DY, D, X[keep, cv, :], n, label=label, beta0=beta)
        att[ks] = a
        inf[np.ix_(keep, ks)] = f
    return cells, att, inf


# --------------------------------------------------------------------------- public
def fit_cs(
    panel: Panel,
    *,
    control: str = "never",
    method: str = "dr",
    base: str = "varying",
    aggregate: str = "simple",
    anticipation: int = 0,
    bootstrap: int | None = None,
    seed: int | None = None,
    alpha: float = 0.05,
    cluster: str | None = None,
    keep_influence: bool = False,
    max_e: int | None = None,
) -> Estimate:
    """Callaway & Sant'Anna (2021) staggered DiD, as R ``did`` (``att_gt`` then ``aggte``).

    Parameters
    ----------
    panel : Panel
        With a cohort role (first treated period, 0 = never treated); covariates
        (``panel.covariates``) enter the propensity score and outcome regression.
    control : {"never", "notyet"}
        Comparison units: never treated, or never and not-yet treated.
    method : {"dr", "ipw", "reg"}
        2x2 estimator: doubly robust (R ``DRDID::drdid_panel``), normalised IPW,
        or outcome regression.  Identical without covariates.
    base : {"varying", "universal"}
        Base period of pre-treatment cells.
    aggregate : {"simple", "group", "dynamic", "calendar"}
        The headline number: R ``aggte(type=...)``'s overall ATT.
    anticipation : int
        Periods of anticipation (base period g - 1 - anticipation).
    bootstrap : int, optional
        Draws of the multiplier bootstrap (Rademacher, as R ``did``): every
        standard error becomes the bootstrap one and uniform bands are added.
    seed : int, optional
        Seed of the bootstrap (numpy ``default_rng``).
    alpha : float
        1 - confidence level (normal critical values, as R ``did``).
    cluster : str, optional
        A time-invariant cluster column coarser than the unit (default: the panel's
        cluster role, else the unit).
    keep_influence : bool
        Add the per-unit influence function of the headline ATT to ``extras``
        (``influence``, ``influence_scale``; see :mod:`.cs_influence`).
    max_e : int, optional
        With ``aggregate="dynamic"``: the headline is the mean of the event-time effects
        0..max_e (R ``aggte(type="dynamic", max_e=...)``'s overall ATT, with its influence
        function); the ``event_study`` still holds every event time.  Default: all e >= 0.

    Returns
    -------
    Estimate
        design "cs"; ``group_time`` rows, ``groups``/``calendar`` tables or an
        ``event_study`` (with its influence-function covariance) per ``aggregate``;
        ``diagnostics.pretrend_wald_p`` is R did's pre-test p-value.
    """
    for name, val, ok in (("control", control, ("never", "notyet")), ("method", method, ("dr", "ipw", "reg")),
                          ("base", base, ("varying", "universal")),
                          ("aggregate", aggregate, ("simple", "group", "dynamic", "calendar"))):
        if val not in ok:
            raise DesignError(f"{name}={val!r} is not valid for 'cs'; choose one of {', '.join(ok)}.")
    if not isinstance(anticipation, (int, np.integer)) or isinstance(anticipation, bool) or anticipation < 0:
        raise DesignError(f"anticipation must be a non-negative integer number of periods, got {anticipation!r}.")
    if bootstrap is not None and (not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0
                                  or 0 < bootstrap < 2):
        raise DesignError(f"bootstrap must be a number of draws >= 2 (e.g. 999), got {bootstrap!r}.")
    bootstrap = int(bootstrap) if bootstrap else None
    if not 0 < alpha < 1:
        raise DesignError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")

    prep = _prepare(panel, control=control, anticipation=int(anticipation), cluster=cluster)
    n, codes = prep["n"], prep["cluster_codes"]
    cells, att, inf = att_gt(prep, control=control, method=method, base=base, anticipation=int(anticipation))
    cg, ct = cells["g"].to_numpy(), cells["t"].to_numpy()
    se_gt = analytic_se(inf, n, codes)
    pre = pretest(cells, att, inf, se_gt, n, codes)
    agg = aggregate_cells(aggregate, att, inf, cg, ct, prep["gu"], prep["glist"])
    if max_e is not None:
        agg = _cap_event_times(agg, max_e, aggregate)
    r = len(agg.labels)
    se_rows = analytic_se(agg.inf, n, codes) if r else np.empty(0)
    se_all = float(analytic_se(agg.overall_inf[:, None], n, codes)[0])
    crit_gt = crit_rows = boot_info = None
    if bootstrap:
        se_gt, se_rows, se_all, crit_gt, crit_rows, boot_info = bootstrap_ses(
            inf, agg.inf, agg.overall_inf, n, B=bootstrap, seed=seed, codes=codes, alpha=alpha)

    tables, terms, event_study, extras = result_tables(
        aggregate, agg, cells, att, se_gt, se_rows, se_all, n=n, codes=codes, alpha=alpha,
        crit_gt=crit_gt, crit_rows=crit_rows)
    extras.update({"cohort_sizes": {str(k): v for k, v in prep["sizes"].items()},
                   "n_never_treated": prep["n_never"], "periods": [int(t) for t in prep["tlist"]]})
    if boot_info:
        extras["bootstrap"] = boot_info
    if keep_influence:
        extras.update(influence_extras(panel, prep["units"], agg.overall_inf, n, cluster=prep["cluster"]))

    diagnostics = {
        "n_dropped": int(panel.info.get("n_dropped", 0)),
        "pretrend_wald_p": pre["p_value"],
        "pretrend_wald_stat": pre["stat"],
        "pretrend_wald_df": pre["df"],
        "pretrend_test": "Wald test that all pre-treatment ATT(g,t) are zero (R did att_gt pre-test; analytic covariance)",
        "n_units_dropped_unbalanced": prep["info"]["n_units_dropped_unbalanced"],
        "n_units_dropped_treated_first_period": prep["info"]["n_units_dropped_treated_first_period"],
        "n_always_treated_dropped": int(panel.info.get("n_always_treated_dropped", 0)),
        "cohort_coding": list(panel.info.get("cohort_coding", [])),
    }
    if pre["p_value"] is None and pre["df"] and event_study is not None:
        # R did returns no pre-test when the covariance of the pre-period ATT(g,t) is singular (many cells,
        # few units); the joint Wald test of the aggregated pre-period event-study coefficients still exists
        w = event_study.pretrend_wald()
        diagnostics.update(pretrend_wald_p=w["p_value"], pretrend_wald_stat=w["stat"], pretrend_wald_df=w["df"],
                           pretrend_test="Wald test that all pre-period event-study coefficients are zero (the "
                                         "ATT(g,t) pre-test covariance is singular, as R did warns)")
    diagnostics["small_cohorts"] = list(prep["info"]["small_cohorts"])
    diagnostics["small_cohort_threshold"] = prep["info"]["small_cohort_threshold"]
    options = {
        "control": control, "method": method, "base": base, "aggregate": aggregate,
        "anticipation": int(anticipation), "bootstrap": bootstrap, "seed": seed, "alpha": alpha,
        "cluster": prep["cluster"] or panel.unit, "covariates": list(panel.covariates),
        "bootstrap_weights": "rademacher" if bootstrap else None,
        "se": "multiplier bootstrap (IQR)" if bootstrap else "analytic influence function",
        "keep_influence": bool(keep_influence), "ci": "normal", "max_e": None if max_e is None else int(max_e),
        "trim_level": TRIM_LEVEL if method in ("dr", "ipw") else None,
        "unbalanced": "drop incomplete units", "estimator_2x2": {"dr": "DRDID::drdid_panel (locally efficient)",
                                                               "ipw": "DRDID::std_ipw_did_panel",
                                                               "reg": "DRDID::reg_did_panel"}[method],
    }
    if event_study is not None:
        options["ref"] = event_study.ref
    return Estimate(
        design="cs", outcome=panel.outcome, estimate=agg.overall, se=se_all, alpha=alpha, df=None,
        n_obs=prep["n_obs"], n_units=n,
        n_clusters=int(codes.max() + 1) if codes is not None else n,
        n_treated_units=int(sum(prep["sizes"].values())),
        terms=terms, event_study=event_study, tables=tables, diagnostics=diagnostics,
        options=options, extras=extras,
    )


def _cap_event_times(agg, max_e, aggregate):
    """The dynamic aggregation with its overall effect = mean of event times 0..max_e (R ``aggte`` max_e)."""
    if aggregate != "dynamic":
        raise DesignError("max_e applies to aggregate='dynamic' only; drop max_e or aggregate dynamically.")
    if isinstance(max_e, bool) or not isinstance(max_e, (int, np.integer)) or max_e < 0:
        raise DesignError(f"max_e must be a non-negative whole number of periods, got {max_e!r}.")
    e = np.asarray(agg.labels)
    keep = (e >= 0) & (e <= int(max_e))
    if not keep.any():
        raise DesignError(f"no event time in 0..{int(max_e)} has an ATT; raise max_e or check the cohorts.")
    import dataclasses

    return dataclasses.replace(agg, overall=float(agg.estimates[keep].mean()),
                               overall_inf=agg.inf[:, keep].mean(axis=1))
