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
import pandas as pd

from ..numerics import dist as _dist
from ..results import EventStudy, ci_and_p
from .cs_bootstrap import if_vcov

__all__ = ["Aggregate", "aggregate_cells", "pretest", "result_tables"]


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


# --------------------------------------------------------------------------- result pieces
def pretest(cells: pd.DataFrame, att: np.ndarray, inf: np.ndarray, se: np.ndarray, n: int, codes) -> dict:
    """R did's Wald pre-test: all pre-treatment ATT(g,t) (g > t, with a standard error) are zero."""
    pre = np.flatnonzero((cells["g"].to_numpy() > cells["t"].to_numpy()) & np.isfinite(se))
    if not len(pre):
        return {"stat": None, "df": 0, "p_value": None}
    V = if_vcov(inf[:, pre], n, codes)
    if 1.0 / np.linalg.cond(V, 1) <= np.finfo(float).eps:
        return {"stat": None, "df": int(len(pre)), "p_value": None}
    b = att[pre]
    W = float(b @ np.linalg.solve(V, b))
    return {"stat": W, "df": int(len(pre)), "p_value": float(_dist.chi2_sf(W, len(pre)))}


def result_tables(aggregate, agg, cells, att, se_gt, se_rows, se_all, *, n, codes, alpha, crit_gt, crit_rows):
    """Contract tables (``group_time`` + ``groups``/``calendar``), terms, the EventStudy and band extras.

    ``crit_gt``/``crit_rows`` are the bootstrap sup-t critical values (None without bootstrap).
    """
    cg, ct = cells["g"].to_numpy(), cells["t"].to_numpy()
    gt_rows = [{"group": int(g), "time": int(t), "estimate": float(a), "se": float(s), "event_time": int(t - g)}
               for g, t, a, s in zip(cg, ct, att, se_gt)]
    tables: dict = {"group_time": gt_rows}
    terms = [_term(f"ATT({aggregate})", agg.overall, se_all, alpha)]
    event_study = None
    extras: dict = {}
    if crit_gt is not None:
        extras["group_time_cband"] = [{"group": int(g), "time": int(t), "cband_low": a - crit_gt * s,
                                       "cband_high": a + crit_gt * s} for g, t, a, s in zip(cg, ct, att, se_gt)]
    if aggregate in ("group", "calendar"):
        key, table = ("group", "groups") if aggregate == "group" else ("time", "calendar")
        tables[table] = [{key: lab, "estimate": float(e), "se": float(s)}
                         for lab, e, s in zip(agg.labels, agg.estimates, se_rows)]
        terms += [_term(f"{key}::{lab}", e, s, alpha) for lab, e, s in zip(agg.labels, agg.estimates, se_rows)]
        if crit_rows is not None:
            extras[f"{table}_cband"] = [{key: lab, "cband_low": e - crit_rows * s, "cband_high": e + crit_rows * s}
                                        for lab, e, s in zip(agg.labels, agg.estimates, se_rows)]
    elif aggregate == "dynamic":
        event_study = _event_study(agg, cells, se_rows, n, codes, alpha=alpha, crit=crit_rows)
    return tables, terms, event_study, extras


def _term(name: str, est: float, se: float, alpha: float) -> dict:
    lo, hi, p = ci_and_p(float(est), float(se), alpha=alpha)
    return {"term": name, "estimate": float(est), "se": float(se), "ci_low": lo, "ci_high": hi, "p_value": p}


def _event_study(agg, cells, se_rows, n, codes, *, alpha, crit) -> EventStudy:
    """EventStudy of the dynamic aggregation; an event time made only of universal-base zero cells is the ref."""
    e_cell = (cells["t"] - cells["g"]).to_numpy()
    zero = cells["zero"].to_numpy()
    labels = np.array(agg.labels)
    refs = [e for e in labels if zero[e_cell == e].all()]
    keep = ~np.isin(labels, refs)
    V = if_vcov(agg.inf[:, keep], n, codes)
    b, s = agg.estimates[keep], np.asarray(se_rows)[keep]
    band = (b - crit * s, b + crit * s) if crit is not None else None
    return EventStudy(event_times=tuple(int(e) for e in labels[keep]), estimates=b, vcov=V,
                      ref=int(refs[0]) if len(refs) == 1 else None, estimator="cs", se=s,
                      alpha=alpha, df=None, cband=band)
