"""Callaway & Sant'Anna data preparation: balanced unit x period arrays and cohorts (R ``pre_process_did``).

Split from :mod:`ogimpact.designs.callaway_santanna` (which calls ``_prepare``).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DesignError, OgimpactWarning
from ..panel import Panel

__all__ = ["_prepare", "_unit_codes", "small_cohort_threshold"]


def small_cohort_threshold(n_covariates: int) -> int:
    """R ``did``'s small-group threshold (``pre_process_did``): number of covariates + 5 units.

    Cohorts below it are estimated, with a warning (R: "Be aware that there are some small groups").
    """
    return int(n_covariates) + 5


def _warn(code: str, msg: str) -> None:
    warnings.warn(OgimpactWarning(code, msg), stacklevel=3)


def _unit_codes(uvals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 of the units in sorted order of their ids, and the sorted ids.

    A Panel frame is sorted by unit: numeric ids then need no hashing (codes from
    the change points); anything else goes through ``pandas.factorize(sort=True)``.
    """
    if uvals.dtype.kind in "iuf" and len(uvals):
        chg = uvals[1:] != uvals[:-1]
        if not (uvals[1:] < uvals[:-1]).any():
            codes = np.empty(len(uvals), dtype=np.int64)
            codes[0] = 0
            np.cumsum(chg, out=codes[1:])
            return codes, uvals[np.r_[True, chg]]
    codes, uniq = pd.factorize(uvals, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(uniq)


def _prepare(panel: Panel, *, control: str, anticipation: int, cluster: str | None) -> dict:
    """Balanced unit x period arrays, cohorts and the treated-cohort list (R ``pre_process_did``)."""
    if not panel.cohort:
        raise DesignError("design 'cs' needs a cohort column (first treated period, 0 = never treated); "
                          "build the panel with cohort=COL (CLI: --cohort COL).")
    f = panel.frame
    u, tc, gc = panel.unit, panel.time, panel.cohort
    covs = list(panel.covariates)
    info: dict = {"warnings": []}
    ucode, uniq = _unit_codes(f[u].to_numpy())
    tval = f[tc].to_numpy(np.int64)
    gval = f[gc].to_numpy(np.int64)
    n_all = len(uniq)
    g_all = np.empty(n_all, dtype=np.int64)
    g_all[ucode[::-1]] = gval[::-1]  # cohort of each unit (its first row, as groupby.first)
    rows = None  # rows kept (None = all)
    latest = None
    if not (g_all == 0).any():
        if control == "never":
            raise DesignError(
                "there are no never-treated units (cohort 0), so control='never' leaves every cohort without "
                "comparison units; use control='notyet' (not-yet-treated units as comparisons) or add never-treated units."
            )
        latest = int(g_all.max())
        rows = tval < latest - anticipation
        _warn("no_never_treated", f"no never-treated units: periods from {latest - anticipation} on are dropped and "
                                  f"cohort {latest} serves only as a comparison group (as R did).")
    tk = tval if rows is None else tval[rows]
    lo = int(tk.min()) if len(tk) else 0
    span = int(tk.max()) - lo + 1 if len(tk) else 0
    if span <= 4 * len(tk) + 64:  # integer periods: a lookup table instead of sorting and searching
        seen_t = np.bincount(tk - lo, minlength=span) > 0
        tlist = lo + np.flatnonzero(seen_t)
        lut = np.cumsum(seen_t) - 1
        ti = lut[tk - lo]
    else:
        tlist = np.sort(pd.unique(tk))
        ti = np.searchsorted(tlist, tk)
    if len(tlist) < 2:
        raise DesignError("fewer than two periods remain for 'cs'; a DiD needs a pre- and a post-period "
                          "(add periods, or never-treated units).")
    first = int(tlist[0])
    # cohort 0 = never treated (D3); any other value is a period, negative ones included (time is only an index)
    early = (g_all != 0) & (g_all <= first + anticipation)
    n_early = int(early.sum())
    if n_early:
        _warn("treated_first_period_dropped", f"dropped {n_early} unit(s) treated by the first period {first}"
                                              f"{' + anticipation' if anticipation else ''} (as R did).")
    info["n_units_dropped_treated_first_period"] = n_early
    # balance (R did: units missing in any period are dropped)
    T = len(tlist)
    uk = ucode if rows is None else ucode[rows]
    occ = np.zeros((n_all, T), dtype=bool)
    occ[uk, ti] = True
    seen = occ.any(axis=1) & ~early
    complete = occ.all(axis=1) & ~early
    n_incomplete = int((seen & ~complete).sum())
    if n_incomplete:
        msg = (f"{n_incomplete} unit(s) are missing in some period (or have missing outcome/covariates) and "
               "were dropped to balance the panel, as R did does by default.")
        _warn("unbalanced_units_dropped", msg)
    info["n_units_dropped_unbalanced"] = n_incomplete
    if not complete.any():
        raise DesignError("no unit is observed in every period; 'cs' needs a balanced panel "
                          "(fill the gaps or restrict the periods).")
    # units ordered by cohort (then id): each cohort is a contiguous block of rows
    kept = np.flatnonzero(complete)
    order = kept[np.argsort(g_all[kept], kind="stable")]
    n = len(order)
    pos = np.full(n_all, -1, dtype=np.int64)
    pos[order] = np.arange(n)
    uniques = uniq[order]
    gu = g_all[order]
    sel = complete[uk]  # rows of kept units
    if not sel.all():
        uk, ti = uk[sel], ti[sel]
    pu = pos[uk]

    def _rows(col):
        v = f[col].to_numpy(float)
        if rows is not None:
            v = v[rows]
        return v if sel.all() else v[sel]

    Y = np.empty((n, T))
    Y[pu, ti] = _rows(panel.outcome)
    X = None
    if covs:
        X = np.ones((n, T, len(covs) + 1))
        for j, c in enumerate(covs):
            X[pu, ti, j + 1] = _rows(c)
    glist = np.unique(gu[(gu != 0) & (gu > first + anticipation)])
    if latest is not None:
        glist = glist[glist < latest]
    if not len(glist):
        raise DesignError("no treated cohort has a pre-treatment period; 'cs' needs units first treated after "
                          f"the first period {first}{' + anticipation' if anticipation else ''}.")
    gs, gn = np.unique(gu, return_counts=True)
    sizes = {int(g): int(c) for g, c in zip(gs, gn) if g in set(glist.tolist())}
    req = small_cohort_threshold(len(covs))
    n_never = int((gu == 0).sum())
    if control == "never" and n_never < req:
        raise DesignError(
            f"only {n_never} never-treated unit(s) remain (R did requires at least {req} with "
            f"{len(covs)} covariate(s)); use control='notyet' or add never-treated units."
        )
    # thin cohorts are estimated, as R did does, and named (R did warns below covariates + 5 units)
    small = sorted(g for g, s in sizes.items() if s < req)
    info["small_cohorts"] = small
    info["small_cohort_threshold"] = req
    if small:
        desc = ", ".join(f"{g} ({sizes[g]} unit{'s' if sizes[g] != 1 else ''})" for g in small)
        _warn("small_cohort", f"cohort(s) {desc} have fewer than {req} units (R did's threshold: covariates + 5); "
                              "their ATT(g,t) are estimated but rest on few units (use --min-cohort-size to drop them).")
    if control == "notyet" and 0 < n_never < req:
        _warn("small_cohort", f"the never-treated group has only {n_never} unit(s), fewer than {req} "
                              "(R did's threshold: covariates + 5).")
    codes = None
    ccol = cluster or panel.cluster
    if ccol and ccol != u:
        if ccol not in f.columns:
            raise DesignError(f"cluster column {ccol!r} is not in the panel; build the panel with cluster={ccol!r}.")
        crow, _ = pd.factorize(f[ccol])
        if rows is not None:
            crow = crow[rows]
        crow = crow[sel] if not sel.all() else crow
        ok = crow >= 0  # missing cluster values are ignored, as groupby.first/nunique do
        cfirst = np.full(n, -1, dtype=np.int64)
        cfirst[pu[ok][::-1]] = crow[ok][::-1]
        if (ok & (crow != cfirst[pu])).any():
            raise DesignError(f"cluster column {ccol!r} varies within unit; R did supports only time-invariant "
                              "clusters - use a unit-level cluster variable.")
        if (cfirst < 0).any():  # a unit with no cluster id would get code -1 (silently the last cluster)
            raise DesignError(f"cluster column {ccol!r} is missing for every row of {int((cfirst < 0).sum())} unit(s); "
                              "fill it or drop those units.")
        codes = pd.factorize(cfirst)[0]
    else:
        ccol = None
    return dict(Y=Y, X=X, gu=gu, tlist=tlist, glist=glist, n=n, units=uniques, cluster_codes=codes,
                cluster=ccol, sizes=sizes, n_never=n_never, n_obs=int(n * T), info=info)
