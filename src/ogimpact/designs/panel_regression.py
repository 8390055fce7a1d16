"""Linear panel regression: pooled OLS, fixed effects (within), random effects.

Also the least-squares engine (:func:`fit_linear`) that the TWFE and event-study
designs share: absorb fixed effects (Frisch–Waugh–Lovell; Gaure 2013), drop
collinear columns, estimate by QR least squares, and take the covariance from
:mod:`ogimpact.numerics.vcov` with fixest/reghdfe small-sample conventions.

Random effects use the Swamy & Arora (1972, *Econometrica* 40(2)) variance
components, generalised to unbalanced panels as Baltagi & Chang (1994,
*J. Econometrics* 62), which is R ``plm``'s default ``random.method = "swar"``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import DesignError
from ..numerics.vcov import KINDS, SSC_NAME, cluster_codes, design_vcov_kwargs, dof_k
from ..results import Estimate, terms_frame
from ..numerics.fe import codes, demean

__all__ = ["fit_panel", "fit_linear", "LinearFit", "parse_effects", "resolve_clusters", "drop_missing_clusters",
           "bootstrap_request", "BOOTSTRAP_REQUEST"]

#: key of ``Estimate.extras`` holding the wild-bootstrap request of a fit (plain arrays and numbers); the
#: bootstrap itself is run above the designs, by :func:`ogimpact.inference.wild_bootstrap.bootstrap_estimate`
#: (called from :func:`ogimpact.estimation.estimate`), so designs never import inference
BOOTSTRAP_REQUEST = "wild_bootstrap_request"

_MODELS = ("fe", "re", "pooled")


from ..numerics.lsq import LinearFit, fit_linear  # noqa: E402,F401  (the engine lives in numerics.lsq)


def parse_effects(effects) -> tuple[str, ...]:
    """Normalise ``effects`` ("unit,time", ("unit",), "none", ()) to a tuple of 'unit'/'time'."""
    if effects is None:
        return ()
    if isinstance(effects, str):
        effects = [e.strip() for e in effects.split(",") if e.strip()]
    eff = tuple(dict.fromkeys(str(e).lower() for e in effects))
    if eff in ((), ("none",)):
        return ()
    bad = [e for e in eff if e not in ("unit", "time")]
    if bad:
        raise DesignError(f"unknown effect(s) {bad}; use 'unit', 'time', 'unit,time' or 'none'.")
    return eff


def _cluster_cols(cluster) -> list[str]:
    cols = [c.strip() for c in cluster.split(",")] if isinstance(cluster, str) else list(cluster)
    return [c for c in cols if c]


def drop_missing_clusters(frame: pd.DataFrame, cluster) -> tuple[pd.DataFrame, int]:
    """Rows whose cluster value is missing are dropped (as Stata does); returns (frame, n dropped)."""
    cols = [c for c in _cluster_cols(cluster) if c in frame.columns]
    if not cols:
        return frame, 0
    ok = frame[cols].notna().all(axis=1)
    if ok.all():
        return frame, 0
    return frame.loc[ok].reset_index(drop=True), int((~ok).sum())


def resolve_clusters(frame: pd.DataFrame, cluster) -> tuple[list[str], list[np.ndarray]]:
    """Cluster column name(s) → integer codes (one- or two-way)."""
    cols = _cluster_cols(cluster)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DesignError(
            f"cluster column(s) {missing} are not in the panel; build the Panel with cluster= (or --cluster) naming an existing column."
        )
    if len(cols) > 2:
        raise DesignError("at most two cluster variables are supported; give --cluster COL or COL1,COL2.")
    return cols, [cluster_codes(frame[c].to_numpy()) for c in cols]


def bootstrap_request(fit: LinearFit, clusters: list[np.ndarray], *, test: str, null: float, B: int,
                      weights: str, seed: int | None, alpha: float, fe: Sequence[np.ndarray] = ()) -> dict:
    """The wild cluster bootstrap of one term of a fitted (FE-partialled) regression, as plain data.

    Checks the request (the term exists, one-way clustering) where the fit is known and returns the
    keyword arguments of :func:`ogimpact.inference.wild_bootstrap.wild_cluster_bootstrap`; the design
    stores them under ``extras[BOOTSTRAP_REQUEST]`` and :func:`ogimpact.estimation.estimate` runs it.
    """
    if test not in fit.names:
        raise DesignError(f"--test {test!r} is not a term of the model; choose one of {', '.join(map(str, fit.names))}.")
    if len(clusters) != 1:
        raise DesignError("the wild cluster bootstrap supports one-way clustering; give a single --cluster column.")
    # the CRV1 K of this regression (FE not nested in the clusters counted), whatever --vcov was
    k = dof_k(len(fit.names), list(fe), list(clusters))
    return dict(X=fit.X, y=fit.y, clusters=clusters[0], term=fit.names.index(test), null=null, B=int(B),
                weights=weights, seed=seed, alpha=alpha, k=k, term_name=test, fe=tuple(fe))


def _random_effects(y, X, names, f):
    """Swamy–Arora (Baltagi–Chang for unbalanced) quasi-demeaning on factor codes ``f``."""
    n = len(y)
    L = int(f.max()) + 1
    Ti = np.bincount(f, minlength=L).astype(float)
    # within
    Zw = demean(np.column_stack([y, X]), [f])
    fw = fit_linear(Zw[:, 0], Zw[:, 1:], names)
    k_w = len(fw.names)
    s2_e = float(fw.resid @ fw.resid) / (n - L - k_w)
    # between (unit means replicated: P-projection), intercept included
    Xi = np.column_stack([np.ones(n), X])
    means = lambda M: (np.stack([np.bincount(f, weights=c, minlength=L) for c in M.T], axis=1) / Ti[:, None])[f]
    PZ = means(np.column_stack([y, Xi]))
    Py, PX = PZ[:, 0], PZ[:, 1:]
    bb, *_ = np.linalg.lstsq(PX, Py, rcond=None)
    ub = Py - PX @ bb
    K = np.linalg.matrix_rank(PX)
    if L - K <= 0:
        raise DesignError("random effects needs more groups than regressors for the between regression.")
    sumX = np.stack([np.bincount(f, weights=c, minlength=L) for c in Xi.T], axis=1)  # Z'X
    tr = float(np.trace(np.linalg.pinv(PX.T @ PX) @ (sumX.T @ sumX)))
    s2_u = max((float(ub @ ub) - (L - K) * s2_e) / (n - tr), 0.0)
    theta_i = 1.0 - np.sqrt(s2_e / (Ti * s2_u + s2_e))
    th = theta_i[f]
    Zm = means(np.column_stack([y, X]))
    ys = y - th * Zm[:, 0]
    Xs = np.column_stack([1.0 - th, X - th[:, None] * Zm[:, 1:]])
    info = {"sigma2_idiosyncratic": s2_e, "sigma2_individual": s2_u,
            "theta": float(theta_i[0]) if np.allclose(theta_i, theta_i[0]) else
            {"min": float(theta_i.min()), "median": float(np.median(theta_i)), "max": float(theta_i.max())},
            "method": "Swamy-Arora (Baltagi-Chang for unbalanced), as plm random.method='swar'"}
    return ys, Xs, info


def fit_panel(
    panel,
    *,
    regressors: Sequence[str] | None = None,
    effects: tuple[str, ...] = ("unit", "time"),
    model: str = "fe",
    vcov: str | None = None,
    cluster: str | None = None,
    hac_lags: int | None = None,
    lat: str | None = None,
    lon: str | None = None,
    cutoff: float | None = None,
    alpha: float = 0.05,
    wild_bootstrap: int | None = None,
    test: str | None = None,
    null: float = 0.0,
    bootstrap_weights: str = "rademacher",
    seed: int | None = None,
) -> Estimate:
    """Linear panel regression (design ``"panel"``): pooled, fixed or random effects.

    Parameters
    ----------
    panel : ogimpact.panel.Panel
    regressors : column names (default ``panel.covariates``); the first is the headline.
    effects : ("unit", "time"), ("unit",), ("time",) or () — absorbed by ``fe``, the random
        effect of ``re`` (one effect only), ignored by ``pooled``.
    model : {"fe", "re", "pooled"}
        Within estimator (Baltagi 2005 ch. 2–3); Swamy–Arora random effects;
        pooled OLS with an intercept.  ``fe`` without effects is pooled OLS.
    vcov : {"classical", "robust", "cluster", "newey-west"}
        Default: ``cluster`` when a cluster column is given (argument or the
        panel's cluster role), else ``classical``.  See :mod:`ogimpact.numerics.vcov`.
    cluster : cluster column (``"a,b"`` for two-way); default the panel's cluster, else the unit.
    hac_lags : Newey–West lags (panel HAC within units, as fixest ``NW``).
    alpha : 1 − confidence level.
    wild_bootstrap, test, null, bootstrap_weights, seed :
        Restricted wild cluster bootstrap of ``test = null`` with ``wild_bootstrap`` draws
        (Roodman et al. 2019); ``test`` defaults to the first regressor.  The fit records the
        request (``extras[BOOTSTRAP_REQUEST]``); :func:`ogimpact.estimation.estimate` runs it.

    Returns
    -------
    Estimate
    """
    model = str(model).lower()
    if model not in _MODELS:
        raise DesignError(f"unknown --model {model!r}; use fe, re or pooled.")
    regs = list(panel.covariates if regressors is None else ([regressors] if isinstance(regressors, str) else regressors))
    if not regs:
        raise DesignError("give at least one regressor (--regressors A,B).")
    frame = panel.frame
    missing = [r for r in regs if r not in frame.columns]
    if missing:
        raise DesignError(f"regressor(s) {missing} are not in the panel; build it with these columns as covariates.")
    eff = parse_effects(effects)
    if model == "pooled":
        eff = ()
    if model == "re" and len(eff) != 1:
        raise DesignError("random effects takes exactly one effect; pass --effects unit (or time).")
    cl_arg = cluster or panel.cluster
    kind = (vcov or ("cluster" if cl_arg else "classical")).lower()
    if kind not in KINDS:
        raise DesignError(f"unknown --vcov {kind!r}; use one of {', '.join(KINDS)}.")
    cl_cols: list[str] = []
    cl_codes: list[np.ndarray] = []
    n_drop_cl = 0
    if kind in ("cluster", "cr3") or wild_bootstrap:
        frame, n_drop_cl = drop_missing_clusters(frame, cl_arg or panel.unit)
        cl_cols, cl_codes = resolve_clusters(frame, cl_arg or panel.unit)
    y = frame[panel.outcome].to_numpy(float)
    X = frame[regs].to_numpy(float)
    fe = [codes(frame[panel.unit if e == "unit" else panel.time]) for e in eff]
    diag: dict = {"n_dropped": int(panel.info.get("n_dropped", 0)) + n_drop_cl}
    if n_drop_cl:
        diag["n_dropped_missing_cluster"] = n_drop_cl
    kw = dict(kind=kind, clusters=cl_codes if kind == "cluster" else (), cluster_names=cl_cols,
              unit=frame[panel.unit].to_numpy() if kind == "newey-west" else None,
              time=frame[panel.time].to_numpy() if kind == "newey-west" else None, lags=hac_lags)
    if kind in ("cr3", "driscoll-kraay", "conley"):
        kw = design_vcov_kwargs(panel, frame, kind, cl_codes, cl_cols, hac_lags=hac_lags, lat=lat, lon=lon,
                                cutoff=cutoff)
    if model == "re":
        ys, Xs, re_info = _random_effects(y, X, regs, fe[0])
        fit = fit_linear(ys, Xs, ["Intercept", *regs], keep=[regs[0]], **kw)
        diag.update(re_info)
    else:
        fit = fit_linear(y, X, regs, fe=fe, intercept=not fe, keep=[regs[0]], **kw)
    diag.update({k: v for k, v in fit.stats.items() if k not in ("n",)})
    if fit.dropped:
        diag["dropped_collinear"] = fit.dropped
    V = fit.vcov
    se = fit.se
    terms = terms_frame(fit.names, fit.coef, se, alpha=alpha, df=V.df)
    h = fit.names.index(regs[0])
    extras = {"coef_names": fit.names, "vcov": V.V.tolist()}
    if wild_bootstrap:
        extras[BOOTSTRAP_REQUEST] = bootstrap_request(fit, cl_codes, test=test or regs[0], null=null, B=wild_bootstrap,
                                                      weights=bootstrap_weights, seed=seed, alpha=alpha,
                                                      fe=fe if model == "fe" else ())
    options = {
        "regressors": regs, "effects": list(eff) or ["none"], "model": model, "vcov": V.name, "vcov_kind": kind,
        "vcov_description": V.description, "ssc": SSC_NAME if kind == "cluster" else V.description,
        "ssc_factors": V.ssc, "cluster": ",".join(cl_cols) if kind in ("cluster", "cr3") else None,
        "hac_lags": V.ssc.get("lags") if kind in ("newey-west", "driscoll-kraay") else hac_lags,
        "conley": {"lat": lat, "lon": lon, "cutoff_km": cutoff} if kind == "conley" else None, "alpha": alpha,
        "df_t": V.df, "wild_bootstrap": wild_bootstrap,
        "test": (test or regs[0]) if wild_bootstrap else test, "null": null,
        "bootstrap_weights": bootstrap_weights, "seed": seed,
    }
    return Estimate(
        design="panel", outcome=panel.outcome, estimate=fit.coef[h], se=se[h], alpha=alpha, df=V.df,
        n_obs=int(len(y)), n_units=int(frame[panel.unit].nunique()),
        n_clusters=V.n_clusters, n_treated_units=None, terms=terms,
        diagnostics=diag, options=options, extras=extras,
    )
