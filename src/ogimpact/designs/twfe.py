"""Static two-way fixed-effects difference-in-differences.

``y_it = a_i + l_t + tau * D_it + X_it'b + e_it`` estimated by absorbing unit
and period fixed effects (within transformation), SEs clustered by unit by
default with the CRV1 convention of :mod:`ogimpact.numerics.vcov` (fixest /
reghdfe), CIs on t(G − 1).

With staggered adoption and heterogeneous effects, ``tau`` is a weighted
average of cell effects with possibly negative weights (de Chaisemartin &
D'Haultfœuille 2020, *AER* 110(9); Goodman-Bacon 2021, *J. Econometrics*
225(2)).  The result therefore reports those weights' summary in its
diagnostics (``n_negative_weights``, ``sum_negative_weights``): each treated
cell's weight is proportional to the residual of ``D`` on the fixed effects
(and covariates).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import DesignError
from ..numerics.vcov import SSC_NAME, design_vcov_kwargs
from ..results import Estimate, terms_frame
from ..numerics.fe import codes, demean
from .panel_regression import BOOTSTRAP_REQUEST, bootstrap_request, drop_missing_clusters, fit_linear, resolve_clusters

__all__ = ["fit_twfe", "prepare_regression"]


def prepare_regression(panel, covariates, cluster):
    """Shared set-up of the TWFE-type designs: covariates, clusters, FE codes.

    Returns ``(frame, covariates, cluster_cols, cluster_codes, fe, n_dropped_cluster)``.
    """
    covs = list(panel.covariates if covariates is None else ([covariates] if isinstance(covariates, str) else covariates))
    frame = panel.frame
    missing = [c for c in covs if c not in frame.columns]
    if missing:
        raise DesignError(f"covariate(s) {missing} are not in the panel; build it with covariates={missing}.")
    n_cov = 0
    if covs and frame[covs].isna().any().any():
        ok = frame[covs].notna().all(axis=1)
        n_cov = int((~ok).sum())
        frame = frame.loc[ok].reset_index(drop=True)
    cl = cluster or panel.cluster or panel.unit
    frame, n_cl = drop_missing_clusters(frame, cl)
    cols, cl_codes = resolve_clusters(frame, cl)
    fe = [codes(frame[panel.unit]), codes(frame[panel.time])]
    return frame, covs, cols, cl_codes, fe, n_cl + n_cov


def _dcdh_weights(D: np.ndarray, Xc: np.ndarray, fe, fit=None) -> dict:
    """de Chaisemartin–D'Haultfœuille weights of the treated cells in the TWFE coefficient.

    ``fit``: the TWFE regression, whose within-transformed regressors are reused
    when no column was dropped (they are ``demean([D, Xc])``).
    """
    if fit is not None and fit.X is not None and not fit.dropped and fit.X.shape[1] == 1 + Xc.shape[1]:
        Z = fit.X
    else:
        Z = demean(np.column_stack([D, Xc]) if Xc.size else D[:, None], fe)
    eps = Z[:, 0]
    if Xc.size:
        Xw = Z[:, 1:]
        eps = eps - Xw @ np.linalg.lstsq(Xw, eps, rcond=None)[0]
    tr = D == 1
    tot = eps[tr].sum()
    if not np.isfinite(tot) or abs(tot) < 1e-14:
        return {}
    w = eps[tr] / tot
    neg = w < -1e-12
    return {"n_treated_cells": int(tr.sum()), "n_negative_weights": int(neg.sum()),
            "sum_negative_weights": float(w[neg].sum())}


def fit_twfe(
    panel,
    *,
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    wild_bootstrap: int | None = None,
    test: str | None = None,
    null: float = 0.0,
    bootstrap_weights: str = "rademacher",
    seed: int | None = None,
    vcov: str | None = None,
    hac_lags: int | None = None,
    lat: str | None = None,
    lon: str | None = None,
    cutoff: float | None = None,
) -> Estimate:
    """Two-way fixed-effects DiD of a 0/1 treatment (design ``"twfe"``).

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        Needs the ``treat`` role (0/1); without it a ``cohort`` role is turned
        into ``treat = 1[cohort > 0 and time >= cohort]``.
    covariates : time-varying controls (default ``panel.covariates``).
    cluster : cluster column (default the panel's cluster role, else the unit).
    alpha : 1 − confidence level.
    wild_bootstrap, test, null, bootstrap_weights, seed :
        Restricted wild cluster bootstrap (boottest WCR) of ``test = null``
        (``test`` defaults to ``treat``), FE partialled out first; recorded in
        ``extras[BOOTSTRAP_REQUEST]`` and run by :func:`ogimpact.estimation.estimate`.
    vcov, hac_lags, lat, lon, cutoff :
        Covariance (:func:`ogimpact.numerics.vcov.design_vcov_kwargs`) [cluster].

    Returns
    -------
    Estimate
        Headline and term ``treat``: the TWFE coefficient; CRV1 SEs, t(G − 1).

    References
    ----------
    Angrist & Pischke (2009), *Mostly Harmless Econometrics*, ch. 5;
    de Chaisemartin & D'Haultfœuille (2020) for the weights diagnostic.
    """
    frame, covs, cl_cols, cl_codes, fe, n_cl = prepare_regression(panel, covariates, cluster)
    if panel.treat:
        D = frame[panel.treat].to_numpy(float)
        treat_src = panel.treat
    elif panel.cohort:
        c = frame[panel.cohort].to_numpy()
        D = ((c != 0) & (frame[panel.time].to_numpy() >= c)).astype(float)  # 0 = never treated
        treat_src = f"1[{panel.time} >= {panel.cohort}]"
    else:
        raise DesignError("design 'twfe' needs a 0/1 treatment (--treat COL) or a cohort column.")
    if len(D) == 0 or not ((D == 0) | (D == 1)).all() or D.min() == D.max():
        raise DesignError("the treatment must be 0/1 with both values present; recode --treat.")
    Xc = frame[covs].to_numpy(float) if covs else np.empty((len(frame), 0))
    X = np.column_stack([D, Xc])
    names = ["treat", *covs]
    vkw = design_vcov_kwargs(panel, frame, vcov, cl_codes, cl_cols, hac_lags=hac_lags, lat=lat, lon=lon,
                             cutoff=cutoff)
    fit = fit_linear(frame[panel.outcome].to_numpy(float), X, names, fe=fe, keep=["treat"], **vkw)
    V = fit.vcov
    se = fit.se
    terms = terms_frame(fit.names, fit.coef, se, alpha=alpha, df=V.df)
    h = fit.names.index("treat")
    extras = {"coef_names": fit.names, "vcov": V.V.tolist()}
    if wild_bootstrap:  # run by estimation.estimate (designs never import inference)
        extras[BOOTSTRAP_REQUEST] = bootstrap_request(fit, cl_codes, test=test or "treat", null=null, B=wild_bootstrap,
                                                      weights=bootstrap_weights, seed=seed, alpha=alpha, fe=fe)
    ucode = fe[0]  # unit codes 0..N-1
    diag = {"n_dropped": int(panel.info.get("n_dropped", 0)) + n_cl, "rss": fit.stats["rss"],
            "r2_within": fit.stats.get("r2_within"), "K": fit.k}
    if fit.dropped:
        diag["dropped_collinear"] = fit.dropped
    diag.update(_dcdh_weights(D, Xc, fe, fit))
    options = {"treat": treat_src, "covariates": covs, "fixed_effects": [panel.unit, panel.time],
               "cluster": ",".join(cl_cols), "vcov": V.name, "vcov_description": V.description, "ssc": SSC_NAME, "ssc_factors": V.ssc,
               "alpha": alpha, "df_t": V.df, "wild_bootstrap": wild_bootstrap,
               "test": (test or "treat") if wild_bootstrap else test, "null": null,
               "bootstrap_weights": bootstrap_weights, "seed": seed}
    return Estimate(
        design="twfe", outcome=panel.outcome, estimate=fit.coef[h], se=se[h], alpha=alpha, df=V.df,
        n_obs=int(len(frame)), n_units=int(ucode.max()) + 1, n_clusters=V.n_clusters,
        n_treated_units=int(np.count_nonzero(np.bincount(ucode, weights=D, minlength=int(ucode.max()) + 1))),
        terms=terms, diagnostics=diag, options=options, extras=extras,
    )
