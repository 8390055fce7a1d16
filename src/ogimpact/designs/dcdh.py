"""de Chaisemartin & D'Haultfœuille ``did_multiplegt_dyn``: treatments that switch on, off or vary in level.

Design ``"dcdh"``.  For every group whose treatment first changes at ``F_g``
(up = switcher in, down = switcher out), effect ℓ compares
``Y_{g,F_g-1+ℓ} − Y_{g,F_g-1}`` with the same long difference of groups that
share its baseline treatment ``D_{g,1}`` and have not changed treatment yet
(de Chaisemartin & D'Haultfœuille 2024, *Review of Economics and Statistics*,
"Difference-in-Differences Estimators of Intertemporal Treatment Effects").
Placebo ℓ compares ``Y_{g,F_g-1-ℓ} − Y_{g,F_g-1}`` the same way.  Switchers in
and out are aggregated with weights proportional to their numbers; switchers
out enter with a minus sign, so every effect reads as the effect of an
increase.  The headline is the *average total effect* per unit of treatment
(the ``Av_tot_eff`` row of the R/Stata command), ``--normalized`` divides
effect ℓ by the average cumulated treatment change (``DID^n_ℓ``), and
``--same-switchers`` restricts every effect to the switchers observed for all
K effects.  Standard errors are the package's analytic ones: the square root
of the sum over clusters of squared, cohort-demeaned influence terms over G²
(normal critical values, as the package).  ``diagnostics.pretrend_wald_p`` is
the joint χ² test that all placebos are zero (``p_jointplacebo``),
``diagnostics.joint_effects_p`` the one for the effects (``p_jointeffects``).

Numbers agree with R ``DIDmultiplegtDYN`` 2.x / py-did-multiplegt-dyn 0.1.9 /
moderndid 0.4.1 (tested on Favara & Imbs 2015, ``tests/test_dcdh.py``); ``--controls`` and
``--continuous P`` follow the package (:mod:`ogimpact.designs.dcdh_controls`,
``tests/test_dcdh_controls.py``).  Not
implemented: weights, ``trends_nonparam``, ``trends_lin``,
``less_conservative_se``, ``only_never_switchers``, the bootstrap.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from ..numerics import dist as _dist
from ..errors import DesignError, OgimpactWarning
from ..results import Estimate, EventStudy
from .dcdh_core import build_grid, side_terms

__all__ = ["fit_dcdh"]


def _chi2_p(b: np.ndarray, V: np.ndarray) -> float | None:
    if len(b) == 0 or not np.all(np.isfinite(b)) or not np.all(np.isfinite(V)):
        return None
    stat = float(b @ np.linalg.pinv(V) @ b)
    return float(_dist.chi2_sf(stat, len(b)))


def _nz(x: float) -> bool:
    return bool(x != 0 and np.isfinite(x))


def fit_dcdh(
    panel,
    *,
    treat: str | None = None,
    effects: int = 1,
    placebo: int = 0,
    cluster: str | None = None,
    controls: Sequence[str] | None = None,
    normalized: bool = False,
    same_switchers: bool = False,
    continuous: int | None = None,
    alpha: float = 0.05,
) -> Estimate:
    """Dynamic effects of switchers in and out (design ``"dcdh"``).

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        Unit × period panel; ``treat`` names a numeric treatment column (binary, discrete or
        continuous, not necessarily absorbing).  Rows with a missing outcome are kept (their
        treatment still dates a switch): build the panel with ``drop_missing_outcome=False``.
    treat : str
        Treatment column (default the panel's ``treat`` role).
    effects, placebo : int
        Number of dynamic effects ℓ = 1..K and placebos (at most ``effects``).
    cluster : str, optional
        Cluster column (the unit must be nested in it); default the unit.
    normalized : bool
        Divide effect ℓ by the average total treatment change over its ℓ periods.
    same_switchers : bool
        Use only switchers for whom all K effects can be estimated.
    controls : list of str, optional
        Time-varying controls: long differences are residualised on the controls' long differences
        with a θ per baseline treatment level (:mod:`ogimpact.designs.dcdh_controls`); rows with a
        missing control are dropped first (counted in ``diagnostics.n_dropped_missing_controls``).
    continuous : int, optional
        Degree P for a continuous baseline treatment: baselines pooled, treatment replaced by the
        staggered ±1 switch indicator, period dummies × D_g1^1..P added to the controls (the
        package's ``continuous`` option); normalisation and the average total effect use the
        original treatment.
    alpha : float

    Returns
    -------
    Estimate
        Headline: the average total effect; ``event_study`` rows: placebos −K..−1 and effects 1..K
        (``ref`` 0 = period F_g − 1) with their joint covariance.

    References
    ----------
    de Chaisemartin, C. & D'Haultfœuille, X. (2024). Difference-in-differences estimators of
    intertemporal treatment effects. *Review of Economics and Statistics*; and the web appendix /
    companion paper for the variance estimator.
    """
    treat = treat or panel.treat
    if not treat:
        raise DesignError("design 'dcdh' needs --treat COL (the treatment, binary, discrete or continuous).")
    controls = list(controls or [])
    if continuous is not None and int(continuous) < 1:
        raise DesignError(f"--continuous takes the polynomial degree (1 or more), got {continuous}.")
    effects = int(effects)
    placebo = int(placebo)
    if effects < 1:
        raise DesignError(f"--effects must be at least 1, got {effects}.")
    if placebo < 0:
        raise DesignError(f"--placebo must be 0 or more, got {placebo}.")
    f = panel.frame
    if treat not in f.columns:
        raise DesignError(f"treatment column {treat!r} is not in the panel; build it with extra=[{treat!r}].")
    d = np.asarray(f[treat], dtype=float) if np.issubdtype(f[treat].dtype, np.number) else None
    if d is None:
        import pandas as pd

        d = pd.to_numeric(f[treat], errors="coerce").to_numpy(float)
        if np.isnan(d).all():
            raise DesignError(f"treatment column {treat!r} must be numeric.")
    cl_col = cluster or panel.cluster
    if cl_col == panel.unit:
        cl_col = None
    if cl_col is not None and cl_col not in f.columns:
        raise DesignError(f"cluster column {cl_col!r} is not in the panel; build it with cluster={cl_col!r}.")
    n_drop_ctrl = 0
    xrows = None
    if controls:
        import pandas as pd

        absent = [c for c in controls if c not in f.columns]
        if absent:
            raise DesignError(f"control column(s) {', '.join(map(repr, absent))} not in the panel; build it with "
                              f"extra={absent!r}.")
        xrows = np.column_stack([pd.to_numeric(f[c], errors="coerce").to_numpy(float) for c in controls])
        keep = np.isfinite(xrows).all(axis=1)   # rows with a missing control are dropped, as the package does
        n_drop_ctrl = int((~keep).sum())
        if not keep.any():
            raise DesignError("every row has a missing control; fill the --controls columns or drop them.")
        f = f.loc[keep]
        d = d[keep]
        xrows = xrows[keep]
    y = f[panel.outcome].to_numpy(float)
    grid = build_grid(f[panel.unit].to_numpy(), f[panel.time].to_numpy(), y, d,
                      None if cl_col is None else f[cl_col].to_numpy(), continuous=continuous, x=xrows)
    G = grid.G
    S = grid.S
    D_orig = dsq_orig = None
    if continuous is not None:
        # the package binarises and staggers the treatment (±1 from F_g on) and adds period dummies × D_g1^k
        from .dcdh_controls import continuous_controls

        D_orig, dsq_orig = grid.D, grid.dsq_orig
        sw = np.isfinite(S)
        grid.dfg = np.where(sw, np.where(S == 0, -1.0, 1.0), grid.dsq)
        Xc = continuous_controls(grid.dsq_orig, grid.T_max, int(continuous))
        grid.X = Xc if grid.X is None else np.concatenate([grid.X, Xc], axis=2)
    ctl = None
    if grid.X is not None and grid.X.shape[2] > 0:
        from .dcdh_controls import fit_controls

        names = controls + ([f"1[t>={j}]*D1^{k}" for j in range(2, grid.T_max + 1)
                             for k in range(1, int(continuous) + 1)] if continuous is not None else [])
        ctl = fit_controls(grid.Y, grid.N, grid.F, grid.dcode, grid.X, G, names)

    def _mx(v):
        v = v[np.isfinite(v)]
        return float(v.max()) if len(v) else -np.inf

    L_u = max(_mx(grid.L[S == 1]), 0.0) if (S == 1).any() else 0.0
    L_a = max(_mx(grid.L[S == 0]), 0.0) if (S == 0).any() else 0.0
    Lp_u = max(_mx(grid.Lpl[S == 1]), 0.0)
    Lp_a = max(_mx(grid.Lpl[S == 0]), 0.0)
    if L_u == 0 and L_a == 0:
        raise DesignError("no treatment effect can be estimated: no switcher has a comparison group with the same "
                          "baseline treatment that has not switched yet (Design Restriction 1 of de Chaisemartin & "
                          "D'Haultfoeuille 2024).")
    K = int(min(max(L_u, L_a), effects))
    Kp = int(min(max(Lp_u, Lp_a), placebo, effects)) if placebo else 0
    if K < effects:
        warnings.warn(OgimpactWarning("effects_reduced", f"only {K} of the {effects} requested effects can be "
                                      "estimated (no switcher is observed that long after its switch)."))
    if placebo and Kp < placebo:
        warnings.warn(OgimpactWarning("placebos_reduced", f"only {Kp} of the {placebo} requested placebos can be "
                                      "estimated (placebos are at most the effects and the pre-switch periods)."))
    sides = {}
    for side, Lx, Lpx in ((1, L_u, Lp_u), (0, L_a, Lp_a)):
        if Lx > 0:
            k = int(min(Lx, K))
            kp = int(min(Kp, Lpx)) if Kp else 0
            st = side_terms(grid, side, k, kp, same_switchers=same_switchers, K_same=K, D_orig=D_orig,
                            dsq_orig=dsq_orig, ctl=ctl)
            sides[side] = _pad(st, K, Kp, G)
        else:
            sides[side] = _pad(None, K, Kp, G)
    tin, tout = sides[1], sides[0]

    def combine(N1, N0, U1, U0, V1, V0, dn1, dn0):
        tot = N1 + N0
        with np.errstate(invalid="ignore", divide="ignore"):
            w1 = np.where(tot > 0, N1 / tot, np.nan)
            w0 = np.where(tot > 0, N0 / tot, np.nan)
        U = w1[:, None] * U1 - w0[:, None] * U0
        Uv = w1[:, None] * V1 - w0[:, None] * V0
        delta = w1 * dn1 + w0 * dn0
        return U, Uv, delta, tot

    U, Uv, dl, Ntot = combine(tin.N, tout.N, tin.U, tout.U, tin.Uvar, tout.Uvar, tin.delta_norm, tout.delta_norm)
    Up, Uvp, dlp, Ntotp = combine(tin.Npl, tout.Npl, tin.Upl, tout.Upl, tin.Uvar_pl, tout.Uvar_pl,
                                  tin.delta_norm_pl, tout.delta_norm_pl)
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = U.sum(1) / G
        pl = Up.sum(1) / G
        if normalized:
            eff = eff / dl
            pl = pl / dlp
            Uv = Uv / dl[:, None]
            Uvp = Uvp / dlp[:, None]
    eff[Ntot == 0] = np.nan
    pl[Ntotp == 0] = np.nan
    # average total effect
    ate_parts = {}
    for side, st in ((1, tin), (0, tout)):
        sN = st.N.sum()
        if sN > 0:
            w = st.N / sN
            den = float(np.sum(w * st.delta_ate))
            ate_parts[side] = (sN, den, (w[:, None] * st.U).sum(0) / den, (w[:, None] * st.Uvar).sum(0) / den)
        else:
            ate_parts[side] = (0.0, 0.0, np.zeros(G), np.zeros(G))
    sN1, den1, Ua1, Va1 = ate_parts[1]
    sN0, den0, Ua0, Va0 = ate_parts[0]
    wp = den1 * sN1 / (den1 * sN1 + den0 * sN0)
    U_ate = wp * Ua1 - (1 - wp) * Ua0
    V_ate = wp * Va1 - (1 - wp) * Va0
    ate = float(U_ate.sum() / G)
    # covariance: cluster sums of the centred terms
    cl = grid.cl if grid.cl is not None else np.arange(G)
    ncl = int(cl.max()) + 1
    cols = [Uvp[i] for i in range(Kp - 1, -1, -1)] + [Uv[i] for i in range(K)]
    M = np.column_stack(cols + [V_ate]) if cols else V_ate[:, None]
    M = np.nan_to_num(M)
    C = np.vstack([np.bincount(cl, weights=M[:, j], minlength=ncl) for j in range(M.shape[1])]).T
    Vall = C.T @ C / G ** 2
    se_ate = float(np.sqrt(Vall[-1, -1]))
    V = Vall[:-1, :-1]
    est = np.concatenate([pl[::-1], eff])
    ets = tuple(range(-Kp, 0)) + tuple(range(1, K + 1))
    nsw = np.concatenate([(tin.n_dw_pl + tout.n_dw_pl)[::-1], tin.n_dw + tout.n_dw])
    miss = ~np.isfinite(est)
    if miss.any():
        V = V.copy()
        V[miss, :] = np.nan
        V[:, miss] = np.nan
    es = EventStudy(event_times=ets, estimates=est, vcov=V, ref=0, estimator="dcdh", alpha=alpha)
    p_pl = _chi2_p(est[:Kp], V[:Kp, :Kp]) if Kp else None
    p_eff = _chi2_p(eff, V[Kp:, Kp:]) if K > 1 else None
    n_cl = ncl
    diag = {
        "pretrend_wald_p": p_pl,
        "joint_effects_p": p_eff,
        "n_groups": G,
        "n_dropped_groups": grid.n_dropped_groups,
        "n_dropped": int(panel.info.get("n_dropped", 0)) + n_drop_ctrl,
        "n_dropped_missing_controls": n_drop_ctrl,
        "n_switchers": {str(e): float(n) for e, n in zip(ets, nsw)},
        "n_switchers_weighted": {str(e): float(n) for e, n in zip(
            ets, np.concatenate([Ntotp[::-1], Ntot]))},
        "n_switchers_in": int(np.sum(S == 1)),
        "n_switchers_out": int(np.sum(S == 0)),
    }
    if ctl is not None and controls:
        diag["controls_theta"] = {str(lev): dict(zip(controls, map(float, ctl.theta[i])))
                                  for i, lev in enumerate(np.unique(grid.dsq)) if ctl.useful[i]}
    if normalized:
        diag["delta_D"] = {str(e): float(v) for e, v in zip(range(1, K + 1), dl)}
    options = {"treat": treat, "effects": K, "effects_requested": effects, "placebo": Kp,
               "placebo_requested": placebo, "cluster": cl_col or panel.unit, "normalized": bool(normalized),
               "same_switchers": bool(same_switchers), "controls": controls, "continuous": continuous,
               "ref": 0, "event_time": "effect l at period F_g - 1 + l; placebo -l compares F_g - 1 - l with F_g - 1",
               "inference": "analytic (did_multiplegt_dyn), normal critical values", "alpha": alpha}
    n_treated = int(np.sum(np.isfinite(S)))
    return Estimate(design="dcdh", outcome=panel.outcome, estimate=ate, se=se_ate, alpha=alpha,
                    n_obs=int(np.count_nonzero(grid.N)), n_units=G, n_clusters=n_cl, n_treated_units=n_treated,
                    event_study=es, diagnostics=diag, options=options)


def _pad(st, K, Kp, G):
    """SideTerms arrays padded to K effects and Kp placebos (zeros where the side has none)."""
    from types import SimpleNamespace

    def vec(x, n):
        out = np.zeros(n)
        if x is not None:
            out[: len(x)] = x
        return out

    def mat(x, n):
        out = np.zeros((n, G))
        if x is not None and len(x):
            out[: x.shape[0]] = x
        return out

    g = (lambda a: None if st is None else getattr(st, a))
    return SimpleNamespace(
        N=vec(g("N"), K), n_dw=vec(g("n_dw"), K), U=mat(g("U"), K), Uvar=mat(g("Uvar"), K),
        delta_norm=vec(g("delta_norm"), K), delta_ate=vec(g("delta_ate"), K),
        Npl=vec(g("Npl"), Kp), n_dw_pl=vec(g("n_dw_pl"), Kp), Upl=mat(g("Upl"), Kp), Uvar_pl=mat(g("Uvar_pl"), Kp),
        delta_norm_pl=vec(g("delta_norm_pl"), Kp),
    )
