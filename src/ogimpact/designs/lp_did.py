"""Local-projections difference-in-differences (Dube, Girardi, Jordà & Taylor 2023).

For each horizon h of ``--window A:B`` (the base period ``--ref`` excluded) one regression
``y_{i,t+h} - y_{i,t+ref} = b_h ΔD_it + l_t + e`` with period fixed effects on the *clean*
sample: newly treated observations (``ΔD_it = 1``) and clean controls (not treated through
``t+h`` for h >= 0, not yet treated at ``t`` for h < 0).  The headline is the pooled
post-treatment effect: the same regression with the mean of ``y_{t..t+B}`` as outcome on the
sample clean through ``t+B`` (Stata ``lpdid``'s pooled estimate).  SEs are CRV1 clustered by
unit (fixest conventions of :mod:`ogimpact.numerics.vcov`); the event-study covariance
across horizons comes from the stacked cluster scores.

Options: pre-mean differencing (``pmd``: baseline = mean of the K periods before t, or of
every earlier period) and the non-absorbing variant (``nonabsorbing = L``: treatment effects
stabilise after L periods; newly treated observations have no treatment change in the L
periods before, clean controls none in ``[t-L, t+h]``).

Reference
---------
Dube, A., Girardi, D., Jordà, Ò. & Taylor, A. M. (2023). A local projections approach to
difference-in-differences. NBER Working Paper 31184.
"""
from __future__ import annotations

import numpy as np

from ..errors import DesignError, PanelError
from ..numerics.vcov import SSC_NAME
from ..results import Estimate, EventStudy, ci_and_p
from ..numerics.fe import codes
from .panel_regression import fit_linear
from .twfe import prepare_regression

__all__ = ["fit_lp_did"]


def _shift(M: np.ndarray, k: int) -> np.ndarray:
    """Columns shifted so that out[:, j] = M[:, j + k] (NaN outside)."""
    out = np.full_like(M, np.nan)
    T = M.shape[1]
    if k >= 0:
        out[:, : T - k] = M[:, k:] if k < T else out[:, :0]
    else:
        out[:, -k:] = M[:, : T + k] if -k < T else out[:, :0]
    return out


def _equal_weights(ccs: np.ndarray, newly: np.ndarray, s: np.ndarray):
    """Per-period reweights of Stata ``lpdid, rw`` on the clean sample ``ccs`` (ΔD observed).

    The residual of ΔD on period dummies is ``1 − share_t`` for a newly treated observation at t
    (share_t = newly treated / clean observations at t); w_t = that residual over the sum of all
    treated residuals and the regression weight is 1/w_t, constant within the period (the authors'
    R example and diff-diff; Stata ``lpdid`` also rounds w_t to 1e-8, which moves estimates by ~1e-5
    relative).  Periods without a newly treated observation (w_t undefined) or with only
    newly treated ones (w_t = 0) drop out.  Returns the (N, T) weights and the reduced sample.
    """
    n_t = ccs.sum(0).astype(float)
    n1 = (ccs & newly).sum(0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = n1 / n_t
        num = np.where(n1 > 0, 1.0 - share, np.nan)
        den = float(np.nansum(n1 * num))
        wt = num / den
        rw = np.where(np.isfinite(wt) & (wt > 0), 1.0 / wt, np.nan)
    W = np.broadcast_to(rw[None, :], ccs.shape)
    return W, s & np.isfinite(W)


def _weighted_fit(dy, newly, s, W, tcol, cl, cl_cols):
    """WLS of dy on the newly-treated dummy with period FE; weights constant within a period.

    With period-constant weights the weighted within-period means are the plain ones, so the
    slope is Σ w x̃ ỹ / Σ w x̃²; the covariance is CRV1 of the weighted scores with Stata reghdfe's
    pweight conventions ((n − 1)/(n − K), G/(G − 1), n = observations).
    """
    from types import SimpleNamespace

    from ..numerics.vcov import cluster_result, dof_k

    y, x, w = dy[s], newly[s].astype(float), W[s]
    tc = codes(tcol[s])
    cc = codes(cl[s])
    nT = int(tc.max()) + 1
    cnt = np.bincount(tc, minlength=nT)
    xt = x - (np.bincount(tc, weights=x, minlength=nT) / cnt)[tc]
    yt = y - (np.bincount(tc, weights=y, minlength=nT) / cnt)[tc]
    sxx = float(np.sum(w * xt * xt))
    b = float(np.sum(w * xt * yt)) / sxx
    e = yt - b * xt
    sc = np.bincount(cc, weights=w * xt * e)
    G = len(sc)
    n = int(s.sum())
    K = dof_k(1, [tc], [cc])
    vr = cluster_result(np.array([[1.0 / sxx]]), np.array([[float(sc @ sc)]]), n, K, [G], cl_cols)
    vr = SimpleNamespace(V=vr.V, df=vr.df, name=vr.name, ssc=vr.ssc, n_clusters=vr.n_clusters,
                         description=vr.description)
    fit = SimpleNamespace(coef=np.array([b]), se=np.sqrt(np.diag(vr.V)), vcov=vr)
    psi = np.zeros(int(cl.max()) + 1)
    np.add.at(psi, cl[s], w * xt * e / sxx)
    return fit, psi * np.sqrt(vr.ssc["factor"]), n


def fit_lp_did(
    panel,
    *,
    window: tuple[int, int] = (-5, 5),
    ref: int = -1,
    pmd=None,
    nonabsorbing: int | None = None,
    cluster: str | None = None,
    reweight: bool = False,
    alpha: float = 0.05,
) -> Estimate:
    """LP-DiD event study and pooled post-treatment effect (design ``"lp-did"``).

    Parameters
    ----------
    panel : Panel with a 0/1 ``treat`` role on a regular integer time grid.
    window : (A, B) event times estimated, A <= ref < 0 <= B [(-5, 5)].
    ref : base period of the long differences [-1].
    pmd : None, int K or "max"; pre-mean differencing baseline.
    nonabsorbing : L, or None for an absorbing treatment.
    cluster : cluster column [unit].
    reweight : bool
        Equally-weighted (reweighted) LP-DiD: every newly treated observation gets the same
        weight in each horizon's estimate (Stata ``lpdid, rw``), instead of OLS's variance weights.

    Returns
    -------
    Estimate
        Headline = pooled effect over event times 0..B; ``event_study`` = b_h.
    """
    A, B = int(window[0]), int(window[1])
    if not (A <= ref < 0 <= B):
        raise DesignError("lp-did needs a window A:B with A <= ref < 0 <= B.")
    if not panel.treat:
        raise DesignError("design 'lp-did' needs --treat COL (0/1).")
    frame, _, cl_cols, cl_codes, _, n_drop = prepare_regression(panel, [], cluster)
    u_codes = codes(frame[panel.unit].to_numpy())
    tv = frame[panel.time].to_numpy()
    times = np.sort(np.unique(tv))
    if len(times) > 1 and not np.all(np.diff(times) == np.diff(times)[0]):
        raise PanelError("lp-did needs equally spaced periods; the time column has gaps — fill the missing periods.")
    t_codes = np.searchsorted(times, tv)
    N, T = int(u_codes.max()) + 1, len(times)
    Y = np.full((N, T), np.nan)
    Dm = np.full((N, T), np.nan)
    Y[u_codes, t_codes] = frame[panel.outcome].to_numpy(float)
    Dm[u_codes, t_codes] = frame[panel.treat].to_numpy(float)
    ok = ~np.isnan(Dm)
    if not np.isin(Dm[ok], (0.0, 1.0)).all():
        raise DesignError("the treatment must be 0/1; recode --treat.")
    cl = np.full((N, T), -1, dtype=np.int64)
    cl[u_codes, t_codes] = cl_codes[0]
    dD = Dm - _shift(Dm, -1)
    if nonabsorbing is None and np.nanmin(dD) < 0:
        raise DesignError("the treatment switches off for some units; give --nonabsorbing L for a "
                          "non-absorbing treatment.")
    # baseline of the long differences
    if pmd is None:
        base = _shift(Y, ref)
    elif pmd == "max":
        cs = np.nancumsum(Y, axis=1)
        cn = np.cumsum(~np.isnan(Y), axis=1)
        base = _shift(np.where(cn > 0, cs / np.maximum(cn, 1), np.nan), -1)
    else:
        base = np.nanmean(np.stack([_shift(Y, -k) for k in range(1, int(pmd) + 1)]), axis=0) \
            if int(pmd) > 0 else None
        cnt = np.sum(np.stack([~np.isnan(_shift(Y, -k)) for k in range(1, int(pmd) + 1)]), axis=0)
        base = np.where(cnt == int(pmd), base, np.nan)
    L = nonabsorbing

    def no_change(lo: int, hi: int) -> np.ndarray:
        """No treatment change at t+lo..t+hi (all observed)."""
        m = np.ones((N, T), bool)
        for k in range(lo, hi + 1):
            s = _shift(dD, k)
            m &= s == 0
        return m

    if L is None:
        newly = dD == 1
        ctrl_post = lambda h: _shift(Dm, h) == 0  # noqa: E731
        ctrl_pre = Dm == 0
    else:
        newly = (dD == 1) & no_change(-L, -1)
        ctrl_post = lambda h: no_change(-L, h)  # noqa: E731
        ctrl_pre = no_change(-L, 0)
    tcol = np.broadcast_to(np.arange(T), (N, T))

    def regress(dy: np.ndarray, sample: np.ndarray):
        s = sample & ~np.isnan(dy) & ~np.isnan(dD)
        if reweight:
            w, s = _equal_weights(sample & ~np.isnan(dD), newly, s)
            if not (s & newly).any() or not (s & ~newly).any():
                return None
            return _weighted_fit(dy, newly, s, w, tcol, cl, cl_cols)
        if not (s & newly).any() or not (s & ~newly).any():
            return None
        x = newly[s].astype(float)
        fit = fit_linear(dy[s], x[:, None], ["treat_diff"], fe=[codes(tcol[s])], kind="cluster",
                         clusters=[codes(cl[s])], cluster_names=cl_cols, keep=["treat_diff"])
        # per-cluster influence of b (for the cross-horizon covariance)
        g = cl[s]
        xe = fit.X[:, 0] * fit.resid
        psi = np.bincount(g, weights=xe, minlength=int(cl.max()) + 1) / float(fit.X[:, 0] @ fit.X[:, 0])
        return fit, psi * np.sqrt(fit.vcov.ssc["factor"]), int(s.sum())

    horizons = [h for h in range(A, B + 1) if h != ref]
    est, psis, ns, dfs = [], [], [], []
    for h in horizons:
        dy = _shift(Y, h) - base
        sample = newly | (ctrl_post(h) if h >= 0 else ctrl_pre)
        r = regress(dy, sample)
        if r is None:
            raise DesignError(f"event time {h} has no newly treated or no clean control observation; narrow --window.")
        est.append(float(r[0].coef[0]))
        psis.append(r[1])
        ns.append(r[2])
        dfs.append(r[0].vcov.df)
    P = np.column_stack(psis)
    V_es = P.T @ P
    pooled_y = np.mean(np.stack([_shift(Y, k) for k in range(0, B + 1)]), axis=0)
    rp = regress(pooled_y - base, newly | ctrl_post(B))
    if rp is None:
        raise DesignError("the pooled post window has no newly treated or no clean control observation.")
    fit_p = rp[0]
    b, se = float(fit_p.coef[0]), float(fit_p.se[0])
    df_t = fit_p.vcov.df
    lo, hi, p = ci_and_p(b, se, alpha=alpha, df=df_t)
    es = EventStudy(tuple(horizons), np.array(est), V_es, ref, "lp-did", alpha=alpha, df=min(dfs))
    n_treated = int(np.count_nonzero((Dm == 1).any(axis=1)))
    diag = {"n_dropped": int(panel.info.get("n_dropped", 0)) + n_drop,
            "n_by_event_time": {str(h): n for h, n in zip(horizons, ns)}, "n_pooled": rp[2]}
    options = {"window": [A, B], "ref": ref, "pmd": pmd, "nonabsorbing": nonabsorbing,
               "reweight": bool(reweight), "cluster": ",".join(cl_cols), "vcov": fit_p.vcov.name, "ssc": SSC_NAME,
               "fixed_effects": [panel.time], "alpha": alpha, "df_t": df_t, "treat": panel.treat,
               "headline": f"pooled post-treatment effect over event times 0..{B}",
               "clean_controls": ("not treated through t+h (h >= 0), not yet treated at t (h < 0)" if L is None else
                                  f"no treatment change in [t-{L}, t+h]; newly treated: none in [t-{L}, t-1]")}
    if reweight:
        options["weighting"] = ("equally weighted (Stata lpdid rw): pweight 1/w_t per period, w_t = share of the "
                                "period's newly treated residual of dD on period FE in the clean sample; periods "
                                "without newly treated observations drop out")
        if nonabsorbing is not None:
            options["weighting"] += ("; with --nonabsorbing the point estimates equal lpdid's regression "
                                     "adjustment, the SEs are the weighted regression's CRV1")
    return Estimate(
        design="lp-did", outcome=panel.outcome, estimate=b, se=se, ci_low=lo, ci_high=hi, p_value=p,
        alpha=alpha, df=df_t, n_obs=rp[2], n_units=N, n_clusters=fit_p.vcov.n_clusters,
        n_treated_units=n_treated,
        terms=[{"term": "pooled_post", "estimate": b, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p}],
        event_study=es, diagnostics=diag, options=options,
    )
