"""Dynamic two-way fixed-effects event study (leads and lags relative to adoption).

``y_it = a_i + l_t + sum_{e != ref} b_e 1[t - G_i = e] + X_it'c + e_it`` with
``G_i`` the unit's cohort (first treated period); never-treated units have no
event-time dummy and contribute to the fixed effects only.  This is fixest's
``feols(y ~ i(time_to_treat, ref = -1) | unit + time)`` and Stata's
``reghdfe y b-1.event_time, absorb(unit time) cluster(unit)``.  SEs are CRV1
(fixest's default small-sample correction, FE nested in clusters not
counted), CIs on t(G − 1).

``window = (A, B)`` keeps the event times ``A..B`` and *bins* the event times
beyond them into the endpoints (Schmidheiny & Siegloch 2023, *J. Applied
Econometrics* 38(5), on binned endpoints).

With heterogeneous effects across cohorts the coefficients are contaminated by
other periods' effects (Sun & Abraham 2021, *J. Econometrics* 225(2)); use the
``sun-abraham``, ``cs`` or ``imputation`` designs in that case.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import DesignError
from ..numerics.vcov import SSC_NAME, design_vcov_kwargs
from ..results import Estimate, EventStudy, terms_frame
from .panel_regression import BOOTSTRAP_REQUEST, bootstrap_request, fit_linear
from .twfe import prepare_regression

__all__ = ["fit_event_study", "event_time_name"]


def event_time_name(e: int) -> str:
    """Term name of the event-time-``e`` coefficient."""
    return f"event_time::{int(e)}"


def _window(window) -> tuple[int, int] | None:
    if window is None:
        return None
    if isinstance(window, str):
        parts = window.replace(",", ":").split(":")
        try:
            window = tuple(int(p) for p in parts)
        except ValueError as exc:
            raise DesignError(f"--window {window!r} must be A:B with integers, e.g. -5:5.") from exc
    a, b = (int(window[0]), int(window[1]))
    if a > b:
        raise DesignError(f"--window {a}:{b} is empty; give A <= B, e.g. -5:5.")
    return a, b


def fit_event_study(
    panel,
    *,
    window: tuple[int, int] | None = None,
    ref: int = -1,
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
    """TWFE event study on the panel's cohort (design ``"event-study"``).

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        Needs the ``cohort`` role (first treated period, 0 = never treated).
    window : (A, B), optional
        Keep event times A..B, binning those beyond into the endpoints.
        Default: every observed event time gets its own coefficient.
    ref : int
        Omitted reference event time (default −1).
    covariates : time-varying controls (default ``panel.covariates``).
    cluster : cluster column (default the panel's cluster role, else the unit).
    alpha : 1 − confidence level.
    wild_bootstrap, test, null, bootstrap_weights, seed :
        Restricted wild cluster bootstrap of one coefficient: ``test`` is a term
        name (``event_time::0``, a covariate) or an event time (``"0"``);
        default the first post-period coefficient.  Recorded in ``extras[BOOTSTRAP_REQUEST]``
        and run by :func:`ogimpact.estimation.estimate`.

    Returns
    -------
    Estimate
        ``event_study``: one row per estimated event time (the reference row
        excluded) with its covariance in ``vcov``; headline = the average of
        the post-period (event time >= 0) coefficients, SE by the delta method.
    """
    if not panel.cohort:
        raise DesignError("the event study needs a cohort column (--cohort COL: first treated period, 0 = never treated).")
    win = _window(window)
    ref = int(ref)
    frame, covs, cl_cols, cl_codes, fe, n_cl = prepare_regression(panel, covariates, cluster)
    coh = frame[panel.cohort].to_numpy()
    t = frame[panel.time].to_numpy()
    treated = coh != 0  # 0 = never treated; any other value is a period (negative ones too)
    if not treated.any():
        raise DesignError("no unit is ever treated (every cohort is 0); an event study needs treated units.")
    et = np.where(treated, t - coh, 0).astype(np.int64)
    n_binned = 0
    if win is not None:
        a, b = win
        if not a <= ref <= b:
            raise DesignError(f"the reference period {ref} lies outside --window {a}:{b}; widen the window or change --ref.")
        n_binned = int(((et < a) | (et > b))[treated].sum())
        et = np.clip(et, a, b)
    observed = sorted(int(e) for e in np.unique(et[treated]))
    if ref not in observed:
        raise DesignError(
            f"the reference event time {ref} is not observed for any treated unit (observed: {observed[0]}..{observed[-1]}); "
            "choose --ref among the observed event times."
        )
    ets = [e for e in observed if e != ref]
    if not ets:
        raise DesignError("only the reference event time is observed; an event study needs other event times.")
    # event-time dummies as one code per row (column of its dummy, -1 = none): never a dense n x k matrix
    lut = np.full(observed[-1] - observed[0] + 1, -1, dtype=np.int64)
    lut[np.asarray(ets) - observed[0]] = np.arange(len(ets))
    icode = np.full(len(frame), -1, dtype=np.int64)
    rows = np.flatnonzero(treated & (et != ref))
    icode[rows] = lut[et[rows] - observed[0]]
    names = [event_time_name(e) for e in ets] + covs
    Xc = frame[covs].to_numpy(float) if covs else np.empty((len(frame), 0))
    vkw = design_vcov_kwargs(panel, frame, vcov, cl_codes, cl_cols, hac_lags=hac_lags, lat=lat, lon=lon,
                             cutoff=cutoff)
    fit = fit_linear(frame[panel.outcome].to_numpy(float), Xc, names, fe=fe, indicators=(icode, len(ets)), **vkw)
    if wild_bootstrap and fit.X is None:  # the bootstrap needs the within-transformed regressors
        fit = fit_linear(frame[panel.outcome].to_numpy(float), Xc, names, fe=fe, indicators=(icode, len(ets)),
                         dense=True, **vkw)
    V = fit.vcov
    se = fit.se
    kept = [e for e in ets if event_time_name(e) in fit.names]
    idx = [fit.names.index(event_time_name(e)) for e in kept]
    b_es = fit.coef[idx]
    V_es = V.V[np.ix_(idx, idx)]
    es = EventStudy(event_times=tuple(kept), estimates=b_es, vcov=V_es, ref=ref, estimator="event-study",
                    alpha=alpha, df=V.df)
    post = np.array([e >= 0 for e in kept])
    if not post.any():
        raise DesignError("no post-treatment event time (>= 0) is estimated; the panel needs periods after adoption.")
    w = post / post.sum()
    est = float(w @ b_es)
    se_h = float(np.sqrt(max(w @ V_es @ w, 0.0)))
    terms = terms_frame(fit.names, fit.coef, se, alpha=alpha, df=V.df)
    wb = None
    if wild_bootstrap:  # the request is run by estimation.estimate (designs never import inference)
        tname = test
        if tname is None:
            tname = event_time_name(min(e for e in kept if e >= 0))
        elif tname not in fit.names:
            try:
                tname = event_time_name(int(str(tname)))
            except ValueError:
                pass
        wb = bootstrap_request(fit, cl_codes, test=tname, null=null, B=wild_bootstrap,
                               weights=bootstrap_weights, seed=seed, alpha=alpha, fe=fe)
    ucode = fe[0]  # unit codes 0..N-1

    def _n_units(mask):
        return int(np.count_nonzero(np.bincount(ucode[mask], minlength=int(ucode.max()) + 1)))

    diag = {"n_dropped": int(panel.info.get("n_dropped", 0)) + n_cl, "rss": fit.stats["rss"],
            "r2_within": fit.stats.get("r2_within"), "K": fit.k,
            "n_never_treated_units": _n_units(~treated),
            "headline": "average of the post-period (event time >= 0) coefficients, delta-method SE"}
    if fit.dropped:
        diag["dropped_collinear"] = fit.dropped
    diag["pretrend_wald_p"] = es.pretrend_wald()["p_value"]
    options = {"window": list(win) if win else None,
               "binned_endpoints": bool(win is not None),
               "binning": (f"event times below {win[0]} binned into {win[0]}, above {win[1]} into {win[1]} "
                           f"({n_binned} treated rows binned)") if win else "none: one coefficient per observed event time",
               "ref": ref, "covariates": covs, "fixed_effects": [panel.unit, panel.time],
               "cluster": ",".join(cl_cols), "vcov": V.name, "vcov_description": V.description, "ssc": SSC_NAME, "ssc_factors": V.ssc,
               "alpha": alpha, "df_t": V.df, "cohort_coding": panel.info.get("cohort_coding"),
               "wild_bootstrap": wild_bootstrap, "test": wb["term_name"] if wb else test, "null": null,
               "bootstrap_weights": bootstrap_weights, "seed": seed}
    return Estimate(
        design="event-study", outcome=panel.outcome, estimate=est, se=se_h, alpha=alpha, df=V.df,
        n_obs=int(len(frame)), n_units=int(ucode.max()) + 1, n_clusters=V.n_clusters,
        n_treated_units=_n_units(treated), terms=terms, event_study=es,
        diagnostics=diag, options=options,
        extras={"coef_names": fit.names, "vcov_all": V.V.tolist(), "post_weights": w.tolist(),
                **({BOOTSTRAP_REQUEST: wb} if wb else {})},
    )
