"""Numerics of de Chaisemartin & D'Haultfœuille's ``did_multiplegt_dyn`` on a unit × period grid.

The estimator (de Chaisemartin & D'Haultfœuille 2024, *Review of Economics and
Statistics*, "Difference-in-Differences Estimators of Intertemporal Treatment
Effects") compares, ℓ periods after their first treatment change ``F_g``, the
outcome evolution ``Y_{g,F_g-1+ℓ} − Y_{g,F_g-1}`` of switchers with that of
groups with the same baseline treatment ``D_{g,1}`` whose treatment has not
changed yet.  Everything is written as per-group influence terms ``U_g``
(effect = Σ_g U_g / G) so that variances are sums of squares of (cluster sums
of) the centred terms ``U^var_g`` (the companion paper's cohort-demeaned
version with its degrees-of-freedom factor).

This module holds the grid preparation (the sample rules of the R/Stata
package: baseline treatment, first change, dropping baseline values without
variation in ``F_g``, periods without a control, the liberal conventions for
missing treatments, ``T_g``, ``S_g``) and the per-side (switchers in / out)
computations.  Every by-group sum is a ``bincount`` on integer keys; nothing
loops over groups.  Written from the algorithm of the R package
``DIDmultiplegtDYN`` (read, not copied); the public entry point is
:func:`ogimpact.designs.dcdh.fit_dcdh`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DesignError

__all__ = ["Grid", "build_grid", "side_terms"]


@dataclass
class Grid:
    """Balanced unit × period arrays after the package's sample rules (periods 1..T, 1-based ``t``)."""

    Y: np.ndarray          # (G, T) outcome, NaN = missing or absent
    D: np.ndarray          # (G, T) treatment
    N: np.ndarray          # (G, T) cell weight N_gt (1 when Y and D are observed, else 0)
    dsq: np.ndarray        # (G,) baseline treatment D_{g,1}
    dsq_orig: np.ndarray   # (G,) baseline before --continuous sets it to 0
    dcode: np.ndarray      # (G,) integer code of dsq
    F: np.ndarray          # (G,) first change period (T_max + 1 if never)
    Tg: np.ndarray         # (G,) last period with a control of the same baseline
    S: np.ndarray          # (G,) 1 switcher in, 0 switcher out, NaN never switcher
    dfg: np.ndarray        # (G,) treatment at F_g
    L: np.ndarray          # (G,) number of effects estimable for g
    Lpl: np.ndarray        # (G,) number of placebos estimable for g
    cl: np.ndarray | None  # (G,) cluster code (None: the unit)
    G: int                 # number of groups entering the denominators
    T_max: int
    units: np.ndarray      # (G,) unit labels
    n_dropped_groups: int
    X: np.ndarray | None = None   # (G, T, k) controls (``--controls``), NaN where the cell is absent


def _ffill_cummax(x: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(x, axis=1)


def build_grid(u, t, y, d, cl=None, *, continuous: int | None = None, keep_larger_lower: bool = False,
               x: np.ndarray | None = None) -> Grid:
    """Apply the ``did_multiplegt_dyn`` sample rules and return the balanced grid.

    Parameters
    ----------
    u, t, y, d : 1-d arrays of unit labels, integer periods, outcome (NaN = missing) and treatment.
    cl : cluster labels (constant within unit), or None.
    continuous : degree of the polynomial in the baseline treatment (``--continuous``), or None.
    keep_larger_lower : keep groups whose treatment moves both above and below the baseline.
    x : (n, k) controls of the rows (no missing values: rows with a missing control are dropped first,
        as the package does), carried onto the grid as ``Grid.X``.
    """
    units, ui = np.unique(u, return_inverse=True)
    periods, ti = np.unique(t, return_inverse=True)
    G0, T = len(units), len(periods)
    Y = np.full((G0, T), np.nan)
    D = np.full((G0, T), np.nan)
    P = np.zeros((G0, T), dtype=bool)
    Y[ui, ti] = y
    D[ui, ti] = d
    P[ui, ti] = True
    X = None
    if x is not None:
        x = np.asarray(x, dtype=float).reshape(len(ui), -1)
        X = np.full((G0, T, x.shape[1]), np.nan)
        X[ui, ti] = x
    clg = None
    if cl is not None:
        cl_levels, ci = np.unique(cl, return_inverse=True)
        c_min = np.full(G0, np.iinfo(np.int64).max)
        c_max = np.full(G0, -1)
        np.minimum.at(c_min, ui, ci)
        np.maximum.at(c_max, ui, ci)
        if (c_min != c_max).any():
            raise DesignError("the unit must be nested within the cluster variable (each unit in one cluster); "
                              "choose a coarser --cluster column.")
        clg = c_min
    # groups with treatment or outcome missing in every period are dropped
    ok = (~np.isnan(D)).any(1) & (~np.isnan(Y)).any(1)
    Y, D, P, units = Y[ok], D[ok], P[ok], units[ok]
    if X is not None:
        X = X[ok]
    if clg is not None:
        clg = clg[ok]
    n_drop = int((~ok).sum())
    tt = np.arange(1, T + 1)
    dobs = ~np.isnan(D)
    has_d = dobs.any(1)
    fd = np.where(has_d, np.argmax(dobs, 1) + 1, 0)                      # first period with D observed
    ld = np.where(has_d, T - np.argmax(dobs[:, ::-1], 1), 0)              # last period with D observed
    dsq = D[np.arange(len(D)), fd - 1]
    diff = D - dsq[:, None]
    if not keep_larger_lower:
        inc = _ffill_cummax((diff > 0) & dobs)
        dec = _ffill_cummax((diff < 0) & dobs)
        both = inc & dec
        P &= ~both
        Y[both] = np.nan
        D[both] = np.nan
        dobs = ~np.isnan(D)
    ever = _ffill_cummax((np.abs(np.nan_to_num(diff, nan=0.0)) > 0) & dobs & P)
    changed = ever.any(1)
    F = np.where(changed, np.argmax(ever, 1) + 1, 0).astype(float)
    dsq_orig = dsq.copy()
    if continuous is not None:
        dsq = np.zeros_like(dsq)
    # baseline values whose groups all share one F_g carry no comparison: dropped
    dlev, dcode = np.unique(dsq, return_inverse=True)
    nrow = P.sum(1)
    keep_d = np.zeros(len(dlev), dtype=bool)
    for k in range(len(dlev)):
        m = (dcode == k) & (nrow > 0)
        fv = np.repeat(F[m], nrow[m])
        keep_d[k] = len(fv) > 1 and np.std(fv) > 0
    keep = keep_d[dcode]
    if not keep.any():
        raise DesignError("no treatment effect can be estimated: Design Restriction 1 of de Chaisemartin & "
                          "D'Haultfoeuille (2024) fails (every group with a given baseline treatment first changes "
                          "treatment in the same period); with a continuous baseline treatment try --continuous 1.")
    n_drop += int((~keep).sum())
    sel = np.flatnonzero(keep)
    Y, D, P, dsq, dsq_orig, F, ever, fd, ld = (a[sel] for a in (Y, D, P, dsq, dsq_orig, F, ever, fd, ld))
    units = units[sel]
    if X is not None:
        X = X[sel]
    if clg is not None:
        clg = clg[sel]
    G = len(sel)
    dlev, dcode = np.unique(dsq, return_inverse=True)
    nd = len(dlev)
    # periods where no group of the same baseline has kept its treatment are dropped
    nev = P & ~ever
    has_ctrl = np.zeros((nd, T), dtype=bool)
    np.logical_or.at(has_ctrl, dcode, nev)
    P &= has_ctrl[dcode]
    if not P.any():
        raise DesignError("no period has a group that kept its baseline treatment; no effect can be estimated.")
    T_max = int(tt[P.any(0)].max())
    Y, D, P = Y[:, :T_max], D[:, :T_max], P[:, :T_max]
    if X is not None:
        X = X[:, :T_max].copy()
        X[~P] = np.nan
    Y[~P] = np.nan
    D[~P] = np.nan
    tt = tt[:T_max]
    F[F == 0] = T_max + 1
    # ---- missing treatments (the package's liberal conventions)
    Y[tt[None, :] < fd[:, None]] = np.nan
    dmiss = P & np.isnan(D)
    before = (tt[None, :] < F[:, None]) & ~np.isnan(D)
    ldbf = np.where(before.any(1), T_max - np.argmax(before[:, ::-1], 1), -np.inf)
    sw = F < T_max + 1
    fill = sw[:, None] & dmiss & (tt[None, :] < ldbf[:, None]) & (tt[None, :] > fd[:, None])
    D[fill] = dsq[:, None].repeat(T_max, 1)[fill]
    gap = sw & (ldbf < F - 1)
    Y[gap[:, None] & (tt[None, :] > ldbf[:, None])] = np.nan
    trunc = np.where(gap, ldbf + 1, np.nan)
    F[gap] = T_max + 1
    sw = F < T_max + 1
    Fi = np.clip(F.astype(int), 1, T_max)
    dF = np.where(sw, D[np.arange(G), Fi - 1], np.nan)
    dmiss = P & np.isnan(D)
    fill = sw[:, None] & dmiss & (tt[None, :] > F[:, None]) & (ldbf == F - 1)[:, None]
    D[fill] = dF[:, None].repeat(T_max, 1)[fill]
    nsw = ~sw
    fill = nsw[:, None] & dmiss & (tt[None, :] > fd[:, None]) & (tt[None, :] < ld[:, None])
    D[fill] = dsq[:, None].repeat(T_max, 1)[fill]
    Y[nsw[:, None] & (tt[None, :] > ld[:, None])] = np.nan
    trunc = np.where(nsw, ld + 1.0, trunc)
    alive = P.any(1)
    N = (P & ~np.isnan(Y) & ~np.isnan(D)).astype(float)
    Ftr = np.where(np.isnan(trunc), F, np.minimum(F, trunc))
    Tg_d = np.full(nd, -np.inf)
    np.maximum.at(Tg_d, dcode[alive], Ftr[alive])
    Tg = Tg_d[dcode] - 1
    # S_g: switcher in (average post-switch treatment above the baseline) or out
    win = (tt[None, :] >= F[:, None]) & (tt[None, :] <= Tg[:, None]) & ~np.isnan(D)
    cnt = win.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(win, D, 0.0).sum(1) / cnt
    base = dsq_orig if continuous is not None else dsq
    nofs = (~np.isnan(avg)) & (avg == base) & (F != Tg + 1)
    S = np.where(sw, np.where(np.isnan(avg), np.nan, (avg > base).astype(float)), np.nan)
    if nofs.any():  # switchers whose average post-switch treatment equals the baseline: neither in nor out
        k = ~nofs
        Y, D, N, P, dsq, dsq_orig, dcode, F, Tg, S, units = (a[k] for a in (Y, D, N, P, dsq, dsq_orig, dcode, F, Tg, S, units))
        if clg is not None:
            clg = clg[k]
        if X is not None:
            X = X[k]
        n_drop += int(nofs.sum())
    Gk = len(F)
    Fi = np.clip(F.astype(int), 1, T_max)
    dfg = np.where(F <= T_max, D[np.arange(Gk), Fi - 1], np.nan)
    dfg = np.where(np.isnan(dfg) & (F == T_max + 1), dsq, dfg)
    L = Tg - F + 1
    with np.errstate(invalid="ignore"):
        Lpl = np.where(F >= 3, np.minimum(L, F - 2), np.nan)
    if clg is not None:
        _, clg = np.unique(clg, return_inverse=True)
    return Grid(Y=Y, D=D, N=N, dsq=dsq, dsq_orig=dsq_orig, dcode=dcode, F=F, Tg=Tg, S=S, dfg=dfg, L=L, Lpl=Lpl,
                cl=clg, G=G, T_max=T_max, units=units, n_dropped_groups=n_drop, X=X)


# --------------------------------------------------------------------------- per-side terms
def _gsum(codes: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, weights=w, minlength=n)


def _cohort(key: np.ndarray, mask: np.ndarray, N: np.ndarray, dy: np.ndarray, clb: np.ndarray | None, nkey: int):
    """N-weighted mean of ``dy`` and the member count (rows, or distinct clusters) per cohort ``key`` among ``mask``."""
    k = key[mask]
    cnt = _gsum(k, N[mask], nkey)
    tot = _gsum(k, (N * dy)[mask], nkey)
    if clb is None:
        n = np.bincount(k, minlength=nkey).astype(float)
    else:
        c = clb[mask]
        m = int(c.max()) + 1 if len(c) else 1
        pair = np.unique(k.astype(np.int64) * m + c)
        n = np.bincount(pair // m, minlength=nkey).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = tot / cnt
    return mean, n


def _centred(coef, dy, sw_rows, ctrl_rows, key_t, key_s, N, clb, nkt, nks):
    """Σ_t coef·DOF·(ΔY − Ê) per group: the companion paper's cohort-demeaned, DOF-adjusted term.

    Switchers are demeaned within their cohort (D_g1, F_g, D_gF_g) and not-yet switchers within
    (D_g1, t); a cohort of one member falls back on the union of both at (D_g1, t).  The DOF factor
    is sqrt(n / (n − 1)) with n the cohort's members (distinct clusters when clustering).
    """
    dof_s = sw_rows & (N != 0)
    dof_ns = ctrl_rows & (N != 0)
    m_s, n_s = _cohort(key_s, dof_s, N, dy, clb, nks)
    m_ns, n_ns = _cohort(key_t, dof_ns, N, dy, clb, nkt)
    m_u, n_u = _cohort(key_t, dof_s | dof_ns, N, dy, clb, nkt)
    E = np.full(N.shape, np.nan)
    DOF = np.full(N.shape, np.nan)
    ns_, nu_, nn_ = n_s[key_s], n_u[key_t], n_ns[key_t]
    with np.errstate(invalid="ignore", divide="ignore"):
        for rows, n_, m_ in ((dof_s & (ns_ >= 2), ns_, m_s[key_s]),
                             (dof_s & (ns_ == 1) & (nu_ >= 2), nu_, m_u[key_t]),
                             (dof_ns & (nn_ >= 2), nn_, m_ns[key_t]),
                             (dof_ns & (nn_ == 1) & (nu_ >= 2), nu_, m_u[key_t])):
            E[rows] = m_[rows]
            DOF[rows] = np.sqrt(n_[rows] / (n_[rows] - 1))
        lone = dof_ns & (nn_ == 1) & (nu_ < 2)
        E[lone] = 0.0
        DOF[lone] = 1.0
        return np.nansum(coef * DOF * (dy - E), axis=1)


def _lag(Y: np.ndarray, k: int) -> np.ndarray:
    out = np.full(Y.shape, np.nan)
    if k < Y.shape[1]:
        out[:, k:] = Y[:, :-k] if k else Y
    return out


def _lag3(X: np.ndarray, k: int) -> np.ndarray:
    """``_lag`` of a (G, T, k) array along the period axis."""
    out = np.full(X.shape, np.nan)
    if k < X.shape[1]:
        out[:, k:] = X[:, :-k] if k else X
    return out


@dataclass
class SideTerms:
    """Per-side (switchers in or out) sums: N_ℓ, U_gℓ, U^var_gℓ, δ's for effects and placebos."""

    N: np.ndarray
    n_dw: np.ndarray
    U: np.ndarray
    Uvar: np.ndarray
    delta_norm: np.ndarray
    delta_ate: np.ndarray
    Npl: np.ndarray
    n_dw_pl: np.ndarray
    Upl: np.ndarray
    Uvar_pl: np.ndarray
    delta_norm_pl: np.ndarray


def side_terms(g: Grid, side: int, K: int, Kpl: int, *, same_switchers: bool = False, K_same: int | None = None,
               D_orig: np.ndarray | None = None, dsq_orig: np.ndarray | None = None, ctl=None) -> SideTerms:
    """Influence terms of effects 1..K and placebos 1..Kpl for switchers in (``side=1``) or out (0).

    ``ctl`` (a :class:`ogimpact.designs.dcdh_controls.ControlsFit`) residualises every long difference on
    the controls' long differences and adds the estimation error of θ_d to the variance terms.
    """
    G, T = g.Y.shape
    Y, N, F, Tg = g.Y, g.N, g.F, g.Tg
    tt = np.arange(1, T + 1)[None, :]
    nd = int(g.dcode.max()) + 1 if G else 1
    key_t = (tt - 1) * nd + g.dcode[:, None]
    nkt = T * nd
    dfg_key = np.where(np.isnan(g.dfg), np.inf, g.dfg)
    _, sk = np.unique(np.column_stack([g.dcode, F, dfg_key]), axis=0, return_inverse=True)
    sk = np.asarray(sk).reshape(-1)
    key_s = np.broadcast_to(sk[:, None], (G, T))
    nks = int(sk.max()) + 1 if G else 1
    clb = None if g.cl is None else np.broadcast_to(g.cl[:, None], (G, T))
    isS = (g.S == side)
    sign = 1.0 if side == 1 else -1.0
    Dv = g.D if D_orig is None else D_orig
    dsq = g.dsq if dsq_orig is None else dsq_orig
    out = {k: np.zeros(K) for k in ("N", "n_dw", "delta_norm", "delta_ate")}
    out.update(U=np.zeros((K, G)), Uvar=np.zeros((K, G)))
    outp = {k: np.zeros(Kpl) for k in ("Npl", "n_dw_pl", "delta_norm_pl")}
    outp.update(Upl=np.zeros((Kpl, G)), Uvar_pl=np.zeros((Kpl, G)))
    still = np.ones(G, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        if same_switchers:  # switchers for whom every one of the K effects can be estimated
            Ks = K if K_same is None else int(K_same)
            check = np.zeros(G)
            for q in range(1, Ks + 1):
                dyq = Y - _lag(Y, q)
                v = ~np.isnan(dyq)
                ctrl = np.where(v, (F[:, None] > tt), 0.0) * N
                Nc = _gsum(key_t[v], ctrl[v], nkt)[key_t]
                tq = (F - 1 + q).astype(int)
                inside = (tq >= 1) & (tq <= T)
                r = np.clip(tq, 1, T) - 1
                ok = inside & (Nc[np.arange(G), r] > 0) & v[np.arange(G), r]
                check += ok
            still = (F - 1 + Ks <= Tg) & (check == Ks)
        cum_treat = np.where(np.isnan(Dv), 0.0, Dv - dsq[:, None])
        dists = []
        for ell in range(1, max(K, Kpl) + 1):
            dy = Y - _lag(Y, ell)
            valid = ~np.isnan(dy)
            if ctl is not None:
                dX = ctl.X - _lag3(ctl.X, ell)
                dy_r = ctl.residualise(dy, dX)
                cond_m = ((ell <= Tg - 2)[:, None] & (tt >= ell + 1) & (tt <= Tg[:, None])).astype(float)
            else:
                dy_r = dy
            nc = np.where(valid, (F[:, None] > tt).astype(float), np.nan)
            Nctrl = _gsum(key_t[valid], (nc * N)[valid], nkt)[key_t]
            cond = (tt == (F - 1 + ell)[:, None]) & (ell <= g.L)[:, None] & isS[:, None] & (Nctrl > 0) & still[:, None]
            dist = np.where(valid, cond.astype(float), np.nan)
            dists.append((dy, valid, nc, dist))
            win = ((ell <= Tg - 1)[:, None] & (tt >= ell + 1) & (tt <= Tg[:, None])).astype(float)
            sumtr = (cum_treat * ((tt >= F[:, None]) & (tt <= (F - 1 + ell)[:, None]))).sum(1)
            if ell <= K:
                dN = np.nan_to_num(dist * N)
                NS = dN.sum()
                out["N"][ell - 1] = NS
                out["n_dw"][ell - 1] = np.nansum(dist)
                if NS != 0:
                    Nt = dN.sum(0)
                    Ntg = _gsum(key_t.ravel(), dN.ravel(), nkt)[key_t]
                    coef = win * N * (dist - Ntg / Nctrl * nc)
                    out["U"][ell - 1] = (G / NS) * np.nansum(coef * dy_r, 1)
                    ctrl_rows = valid & (nc == 1) & (Nt[None, :] > 0)
                    out["Uvar"][ell - 1] = (G / NS) * _centred(coef, dy_r, dist == 1, ctrl_rows, key_t, key_s, N,
                                                               clb, nkt, nks)
                    if ctl is not None:
                        coef_m = cond_m * N * (dist - Ntg / Nctrl * nc)
                        out["Uvar"][ell - 1] -= ctl.part2(coef_m, dX, G / NS)
                    sw = dist == 1
                    out["delta_norm"][ell - 1] = np.sum((N / NS * sign * sumtr[:, None])[sw])
                    out["delta_ate"][ell - 1] = np.sum((N / NS * sign * (Dv - dsq[:, None]))[sw])
            if ell <= Kpl:
                dpl = _lag(Y, 2 * ell) - _lag(Y, ell)
                vp = ~np.isnan(dpl)
                if ctl is not None:
                    dXp = _lag3(ctl.X, 2 * ell) - _lag3(ctl.X, ell)
                    dpl_r = ctl.residualise(dpl, dXp)
                else:
                    dpl_r = dpl
                ncp = nc * vp
                okp = ~np.isnan(ncp)
                Nctrl_p = _gsum(key_t[okp], (ncp * N)[okp], nkt)[key_t]
                distp = np.where(np.isnan(dist), np.nan, dist * vp * (Nctrl_p > 0))
                dNp = np.nan_to_num(distp * N)
                NSp = dNp.sum()
                outp["Npl"][ell - 1] = NSp
                outp["n_dw_pl"][ell - 1] = np.nansum(distp)
                if NSp != 0:
                    Ntp = dNp.sum(0)
                    Ntgp = _gsum(key_t.ravel(), dNp.ravel(), nkt)[key_t]
                    coefp = win * N * (distp - Ntgp / Nctrl_p * ncp)
                    outp["Upl"][ell - 1] = (G / NSp) * np.nansum(coefp * dpl_r, 1)
                    ctrl_p = vp & (ncp == 1) & (Ntp[None, :] > 0)
                    outp["Uvar_pl"][ell - 1] = (G / NSp) * _centred(coefp, dpl_r, distp == 1, ctrl_p, key_t, key_s,
                                                                    N, clb, nkt, nks)
                    if ctl is not None:
                        coefp_m = cond_m * N * (distp - Ntgp / Nctrl_p * ncp)
                        outp["Uvar_pl"][ell - 1] -= ctl.part2(coefp_m, dXp, G / NSp)
                    outp["delta_norm_pl"][ell - 1] = np.sum((N / NSp * sign * sumtr[:, None])[distp == 1])
    return SideTerms(**out, **outp)
