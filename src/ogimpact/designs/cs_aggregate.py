"""Aggregation of Callaway & Sant'Anna group-time effects (R ``did::aggte``).

Every aggregate is a weighted average of ATT(g,t); its influence function is
the same weighted average of the ATT(g,t) influence functions plus, where the
weights are estimated cohort shares, the influence function of those shares
(R ``did``'s ``wif``; Callaway & Sant'Anna 2021, eq. 3.x and Appendix B):

* ``simple``   - post-treatment cells (g <= t) weighted by cohort share P(G=g);
* ``group``    - theta(g) = mean of cohort g's post-treatment cells; overall =
  sum_g theta(g) P(G=g) / sum P(G=g);
* ``dynamic``  - theta(e) = share-weighted mean of the cells with t - g = e;
  overall = mean of theta(e) over e >= 0;
* ``calendar`` - theta(t) = share-weighted mean of the post-treatment cells of
  period t; overall = mean of theta(t).

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Aggregate", "aggregate_cells"]


@dataclass
class Aggregate:
    """One aggregation: its rows (labels, estimates, influence functions) and the overall effect."""

    kind: str
    labels: list  # group, event time or period of each row ([] for simple)
    estimates: np.ndarray  # (r,)
    inf: np.ndarray  # (n, r)
    overall: float
    overall_inf: np.ndarray  # (n,)


def _wif_times_att(sel_groups: np.ndarray, pg_sel: np.ndarray, att_sel: np.ndarray, g_units: np.ndarray) -> np.ndarray:
    """``wif %*% att`` of R did: the influence of estimating the cohort-share weights.

    With c_ik = 1{G_i = g_k} - pg_k and S = sum_k pg_k,
    wif_ik = c_ik / S - (sum_j c_ij) pg_k / S^2; returns sum_k wif_ik att_k for each unit.
    """
    S = pg_sel.sum()
    pa = float(pg_sel @ att_sel)
    ug, inv = np.unique(sel_groups, return_inverse=True)
    a_g = np.bincount(inv, weights=att_sel, minlength=len(ug))
    c_g = np.bincount(inv, minlength=len(ug)).astype(float)
    pos = np.searchsorted(ug, g_units)
    pos = np.clip(pos, 0, len(ug) - 1)
    hit = ug[pos] == g_units
    a_i = np.where(hit, a_g[pos], 0.0)
    c_i = np.where(hit, c_g[pos], 0.0)
    return (a_i - pa) / S - (c_i - S) * pa / S**2


def _combine(att, inf, idx, w, *, wif_groups=None, pg=None, g_units=None):
    est = float(att[idx] @ w)
    f = inf[:, idx] @ w
    if wif_groups is not None:
        f = f + _wif_times_att(wif_groups, pg, att[idx], g_units)
    return est, f


def aggregate_cells(
    kind: str,
    att: np.ndarray,
    inf: np.ndarray,
    cell_g: np.ndarray,
    cell_t: np.ndarray,
    g_units: np.ndarray,
    glist: np.ndarray,
) -> Aggregate:
    """Aggregate ATT(g,t) as R ``did::aggte(type = kind)`` does (analytic influence functions).

    Parameters
    ----------
    kind : {"simple", "group", "dynamic", "calendar"}
    att : (K,) ATT(g,t); inf : (n, K) their unit-level influence functions
    cell_g, cell_t : (K,) cohort and period of each cell
    g_units : (n,) cohort of each unit (0 = never treated)
    glist : treated cohorts for which ATT(g,t) were estimated
    """
    n = inf.shape[0]
    pg_group = np.array([np.mean(g_units == g) for g in glist])
    pg = pg_group[np.searchsorted(glist, cell_g)]
    post = cell_g <= cell_t

    if kind == "simple":
        idx = np.flatnonzero(post)
        w = pg[idx] / pg[idx].sum()
        est, f = _combine(att, inf, idx, w, wif_groups=cell_g[idx], pg=pg[idx], g_units=g_units)
        return Aggregate(kind, [], np.empty(0), np.empty((n, 0)), est, f)

    rows, ests, infs = [], [], []
    if kind == "group":
        for g in glist:
            idx = np.flatnonzero((cell_g == g) & post)
            if not len(idx):
                continue
            w = np.full(len(idx), 1.0 / len(idx))
            e, f = _combine(att, inf, idx, w)
            rows.append(int(g)), ests.append(e), infs.append(f)
        ests_a, infs_a = np.array(ests), np.column_stack(infs)
        gs = np.array(rows)
        pgg = pg_group[np.searchsorted(glist, gs)]
        w = pgg / pgg.sum()
        est, f = _combine(ests_a, infs_a, np.arange(len(gs)), w, wif_groups=gs, pg=pgg, g_units=g_units)
        return Aggregate(kind, rows, ests_a, infs_a, est, f)

    if kind == "dynamic":
        e_cell = cell_t - cell_g
        for e in np.unique(e_cell):
            idx = np.flatnonzero(e_cell == e)
            w = pg[idx] / pg[idx].sum()
            est_e, f = _combine(att, inf, idx, w, wif_groups=cell_g[idx], pg=pg[idx], g_units=g_units)
            rows.append(int(e)), ests.append(est_e), infs.append(f)
        ests_a, infs_a = np.array(ests), np.column_stack(infs)
        pos = np.array(rows) >= 0
        est = float(ests_a[pos].mean())
        f = infs_a[:, pos].mean(axis=1)
        return Aggregate(kind, rows, ests_a, infs_a, est, f)

    if kind == "calendar":
        for t1 in np.unique(cell_t):
            if t1 < cell_g.min():
                continue
            idx = np.flatnonzero((cell_t == t1) & post)
            if not len(idx):
                continue
            w = pg[idx] / pg[idx].sum()
            est_t, f = _combine(att, inf, idx, w, wif_groups=cell_g[idx], pg=pg[idx], g_units=g_units)
            rows.append(int(t1)), ests.append(est_t), infs.append(f)
        ests_a, infs_a = np.array(ests), np.column_stack(infs)
        return Aggregate(kind, rows, ests_a, infs_a, float(ests_a.mean()), infs_a.mean(axis=1))

    raise ValueError(f"unknown aggregation {kind!r}")  # pragma: no cover - validated by fit_cs
