"""Continuous-dose difference-in-differences (Callaway, Goodman-Bacon & Sant'Anna 2024).

Design ``"continuous"``.  Units adopt in cohort ``G`` with a time-invariant dose
``D > 0`` (``D = 0`` and cohort 0 for untreated units).  For every cohort g and
post-period t the 2×2 comparison with base period g − 1 regresses the outcome
change of the treated units on a B-spline in the dose (degree ``--degree``,
``--num-knots`` interior knots at dose quantiles, as R ``contdid``'s
``splines2::bSpline`` without intercept) and subtracts the mean change of the
comparison units (not yet treated by t, or never treated):

``ATT_gt(d) = ψ(d)'β_gt − mean(ΔY | comparison)``,  ``ACRT_gt(d) = ψ'(d)'β_gt``.

``--aggregate dose`` averages the post-period cells with weights proportional to
cohort size and reports ``dose_response`` rows ``{dose, estimate, se}`` on the
grid of dose percentiles 10..99 (contdid's default ``dvals``), with the overall
``ATT^o`` (mean over treated units of ATT(D_i)) or ``ACRT^o`` as the headline.
``--aggregate eventstudy`` aggregates the cell-level ``ATT^o_gt`` (or
``ACRT^o_gt``) by event time (base period t − 1 before treatment, g − 1 after)
into ``event_study`` rows; its headline is the mean of the post-period event times.

Inference is analytic: each cell's influence function (the regression's HC0 score
for the spline part, the comparison mean for the rest) is summed by unit across
cells with the aggregation weights (weights treated as known), clustered by unit
or ``--cluster``.  R ``contdid`` defaults to a multiplier bootstrap of the same
influence functions, so its SEs differ by simulation noise.

Reference: Callaway, B., Goodman-Bacon, A. & Sant'Anna, P. H. C. (2024).
Difference-in-differences with a continuous treatment. NBER Working Paper 32117.
"""
from __future__ import annotations

import numpy as np
from scipy.interpolate import BSpline

from ..errors import DesignError
from ..results import Estimate, EventStudy, ci_and_p

__all__ = ["fit_continuous", "bspline_basis"]


def bspline_basis(x, degree: int, interior, lo: float, hi: float, deriv: int = 0) -> np.ndarray:
    """B-spline basis without the first (intercept) column, as ``splines2::bSpline(intercept = FALSE)``."""
    k = int(degree)
    t = np.concatenate([[lo] * (k + 1), np.asarray(interior, float), [hi] * (k + 1)])
    nb = len(t) - k - 1
    x = np.clip(np.asarray(x, float), lo, hi)
    out = np.empty((len(x), nb))
    for j in range(nb):
        c = np.zeros(nb)
        c[j] = 1.0
        b = BSpline(t, c, k, extrapolate=False)
        if deriv:
            b = b.derivative(deriv)
        v = b(x)
        # the right boundary belongs to the last interval
        out[:, j] = np.nan_to_num(v)
    at_hi = x >= hi
    if at_hi.any() and not deriv:
        out[at_hi] = 0.0
        out[at_hi, -1] = 1.0
    elif at_hi.any():
        for j in range(nb):
            c = np.zeros(nb)
            c[j] = 1.0
            out[at_hi, j] = BSpline(t, c, k, extrapolate=True).derivative(deriv)(x[at_hi] - 1e-12 * max(1, abs(hi)))
    return out[:, 1:]


def _cell(dy_t, dose, treated, ctrl, degree, knots, lo, hi, dgrid):
    """One 2×2 cell: ATT(d), ACRT(d) on the grid, ATT^o, ACRT^o and their per-unit influence (sum scale)."""
    Xt = bspline_basis(dose[treated], degree, knots, lo, hi)
    X = np.column_stack([np.ones(len(Xt)), Xt])
    y = dy_t[treated]
    XtX_inv = np.linalg.pinv(X.T @ X)
    beta = XtX_inv @ X.T @ y
    e = y - X @ beta
    m0 = dy_t[ctrl].mean()
    n0 = int(ctrl.sum())
    Bg = np.column_stack([np.ones(len(dgrid)), bspline_basis(dgrid, degree, knots, lo, hi)])
    dBg = np.column_stack([np.zeros(len(dgrid)), bspline_basis(dgrid, degree, knots, lo, hi, deriv=1)])
    dBi = np.column_stack([np.zeros(len(Xt)), bspline_basis(dose[treated], degree, knots, lo, hi, deriv=1)])
    score = X * e[:, None] @ XtX_inv                     # (n1, p): influence of beta, sum scale
    n = len(dy_t)
    out = {}
    att_d = Bg @ beta - m0
    acrt_d = dBg @ beta
    # influence (sum scale): of beta for the treated units, of the comparison mean for the others
    A = np.zeros((n, X.shape[1]))
    A[treated] = score
    r = np.zeros(n)
    r[ctrl] = (dy_t[ctrl] - m0) / n0
    n1 = len(y)
    att_o = y.mean() - m0
    if_att_o = np.zeros(n)
    if_att_o[treated] = (y - y.mean()) / n1
    if_att_o[ctrl] = -(dy_t[ctrl] - m0) / n0
    slopes = dBi @ beta
    acrt_o = slopes.mean()
    if_acrt_o = np.zeros(n)
    if_acrt_o[treated] = (slopes - acrt_o) / n1 + score @ dBi.mean(0)
    out.update(att_d=att_d, acrt_d=acrt_d, A=A, r=r, Bg=Bg, dBg=dBg, att_o=att_o,
               if_att_o=if_att_o, acrt_o=acrt_o, if_acrt_o=if_acrt_o, n1=n1)
    return out


def _se(IF: np.ndarray, cl: np.ndarray | None) -> np.ndarray:
    """SE from sum-scale influence values (n,) or (n, k), summed within clusters."""
    A = IF if IF.ndim == 2 else IF[:, None]
    if cl is not None:
        A = np.vstack([np.bincount(cl, weights=A[:, j]) for j in range(A.shape[1])]).T
    return np.sqrt((A ** 2).sum(0)) if IF.ndim == 2 else float(np.sqrt((A ** 2).sum()))


def fit_continuous(
    panel,
    *,
    dose: str | None = None,
    target: str = "att",
    degree: int = 3,
    num_knots: int = 0,
    aggregate: str = "dose",
    control: str = "notyet",
    cluster: str | None = None,
    alpha: float = 0.05,
) -> Estimate:
    """Continuous-dose DiD (design ``"continuous"``); see the module docstring.

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        Balanced panel with the ``cohort`` role and the ``dose`` column (time-invariant within unit).
    dose : str
        Dose column (default the panel's ``treat`` role).
    target : {"att", "acrt"}
        Level effects ATT(d) or slopes ACRT(d).
    degree, num_knots : int
        B-spline degree [3] and number of interior knots at dose quantiles [0].
    aggregate : {"dose", "eventstudy"}
    control : {"notyet", "never"}
        Comparison units: not yet treated by the period (R contdid's default) or never treated.
    cluster : str, optional
    alpha : float
    """
    dose = dose or panel.treat
    if not dose or not panel.cohort:
        raise DesignError("design 'continuous' needs --dose COL and --cohort COL.")
    if target not in ("att", "acrt"):
        raise DesignError(f"--target must be att or acrt, got {target!r}.")
    if aggregate not in ("dose", "eventstudy"):
        raise DesignError(f"--aggregate must be dose or eventstudy, got {aggregate!r}.")
    if control not in ("notyet", "never"):
        raise DesignError(f"--control must be notyet or never, got {control!r}.")
    if degree < 1:
        raise DesignError("--degree must be at least 1.")
    f = panel.frame
    units, ui = np.unique(f[panel.unit].to_numpy(), return_inverse=True)
    periods, ti = np.unique(f[panel.time].to_numpy(), return_inverse=True)
    n, T = len(units), len(periods)
    if len(f) != n * T:
        raise DesignError("design 'continuous' needs a balanced panel (every unit in every period, outcome observed); "
                          "drop incomplete units first.")
    Y = np.full((n, T), np.nan)
    Y[ui, ti] = f[panel.outcome].to_numpy(float)
    Gc = np.zeros(n)
    Gc[ui] = f[panel.cohort].to_numpy(float)
    dv = np.asarray(f[dose], dtype=float)
    Dn = np.full(n, np.nan)
    Dn[ui] = dv
    dmin = np.full(n, np.inf)
    dmax = np.full(n, -np.inf)
    np.minimum.at(dmin, ui, dv)
    np.maximum.at(dmax, ui, dv)
    if np.isnan(dv).any() or (dmin != dmax).any():
        raise DesignError(f"dose column {dose!r} must be observed and constant within each unit (the dose a unit "
                          "receives when treated).")
    treated_units = Gc > 0
    if (Dn[treated_units] <= 0).any():
        raise DesignError(f"treated units (cohort > 0) need a positive dose in {dose!r}; code untreated units with "
                          "cohort 0.")
    Dn[~treated_units] = 0.0
    pos = Dn[treated_units]
    if len(pos) < degree + num_knots + 2:
        raise DesignError("too few treated units for the B-spline; lower --degree or --num-knots.")
    lo, hi = float(pos.min()), float(pos.max())
    knots = np.quantile(pos, np.linspace(0, 1, num_knots + 2))[1:-1] if num_knots else np.array([])
    dgrid = np.quantile(pos, np.arange(10, 100) / 100.0)
    cl = None
    cl_col = cluster or panel.cluster
    if cl_col and cl_col != panel.unit:
        cv = np.empty(n, dtype=object)
        cv[ui] = f[cl_col].to_numpy()
        _, cl = np.unique(cv.astype(str), return_inverse=True)
    pidx = {int(p): i for i, p in enumerate(periods)}
    cohorts = sorted(int(g) for g in np.unique(Gc[treated_units]))
    cells = []
    for g in cohorts:
        if g not in pidx or pidx[g] == 0:
            continue
        gi = pidx[g]
        for tj in range(T):
            post = tj >= gi
            if aggregate == "dose" and not post:
                continue
            base = gi - 1 if post else tj - 1
            if base < 0 or base == tj:
                continue
            tp = int(periods[tj])
            ctrl = (Gc == 0) if control == "never" else ((Gc == 0) | (Gc > max(tp, int(periods[base]))))
            ctrl &= Gc != g
            tr = Gc == g
            if ctrl.sum() < 2 or tr.sum() < degree + num_knots + 2:
                continue
            dy = Y[:, tj] - Y[:, base]
            c = _cell(dy, Dn, tr, ctrl, degree, knots, lo, hi, dgrid)
            c.update(g=g, t=tp, e=tj - gi, post=post)
            cells.append(c)
    if not cells or not any(c["post"] for c in cells):
        raise DesignError("no cohort has a post-treatment period with comparison units; check --cohort and --control.")
    key_o = "att_o" if target == "att" else "acrt_o"
    tables, es = {}, None
    if aggregate == "dose":
        w = np.array([c["n1"] for c in cells], float)
        w = w / w.sum()
        kd = "att_d" if target == "att" else "acrt_d"
        curve = sum(wi * c[kd] for wi, c in zip(w, cells))
        A = sum(wi * c["A"] for wi, c in zip(w, cells))
        rr = sum(wi * c["r"] for wi, c in zip(w, cells)) if target == "att" else np.zeros(n)
        B = cells[0]["Bg"] if target == "att" else cells[0]["dBg"]
        if cl is not None:
            A = np.vstack([np.bincount(cl, weights=A[:, j]) for j in range(A.shape[1])]).T
            rr = np.bincount(cl, weights=rr)
        # sum_i (a_i'b_k - r_i)^2 for every grid point k, without an n x grid matrix
        se_c = np.sqrt(np.clip(np.einsum("kp,pq,kq->k", B, A.T @ A, B) - 2 * B @ (A.T @ rr) + rr @ rr, 0, None))
        est = float(sum(wi * c[key_o] for wi, c in zip(w, cells)))
        se = _se(sum(wi * c["if_" + key_o] for wi, c in zip(w, cells)), cl)
        rows = []
        for dval, b, s in zip(dgrid, curve, se_c):
            lo_, hi_, _ = ci_and_p(float(b), float(s), alpha=alpha)
            rows.append({"dose": float(dval), "estimate": float(b), "se": float(s), "ci_low": lo_, "ci_high": hi_})
        tables["dose_response"] = rows
        # the other overall parameter, for reference
        other = "acrt_o" if target == "att" else "att_o"
        extra = {"overall_" + other.split("_")[0]: float(sum(wi * c[other] for wi, c in zip(w, cells))),
                 "overall_" + other.split("_")[0] + "_se": _se(sum(wi * c["if_" + other] for wi, c in zip(w, cells)), cl)}
    else:
        ets = sorted({c["e"] for c in cells})
        b, IFs = [], []
        for e in ets:
            sel = [c for c in cells if c["e"] == e]
            w = np.array([c["n1"] for c in sel], float)
            w = w / w.sum()
            b.append(float(sum(wi * c[key_o] for wi, c in zip(w, sel))))
            IFs.append(sum(wi * c["if_" + key_o] for wi, c in zip(w, sel)))
        A = np.column_stack(IFs)
        if cl is not None:
            A = np.vstack([np.bincount(cl, weights=A[:, j]) for j in range(A.shape[1])]).T
        V = A.T @ A
        es = EventStudy(event_times=tuple(ets), estimates=np.array(b), vcov=V, ref=None, estimator="continuous",
                        alpha=alpha)
        post = np.array([e >= 0 for e in ets])
        lvec = post / post.sum()
        est = float(lvec @ np.array(b))
        se = float(np.sqrt(lvec @ V @ lvec))
        extra = {}
    options = {"dose": dose, "cohort": panel.cohort, "target": target, "degree": int(degree),
               "num_knots": int(num_knots), "knots": [float(k) for k in knots], "aggregate": aggregate,
               "control": control, "cluster": cl_col or panel.unit, "base_period": "varying",
               "weights": "cohort size (treated units per cell)", "inference": "analytic influence function",
               "dose_grid": "percentiles 10..99 of the positive doses", "alpha": alpha}
    diag = {"n_cells": len(cells), "n_dropped": int(panel.info.get("n_dropped", 0)), **extra}
    return Estimate(design="continuous", outcome=panel.outcome, estimate=est, se=se, alpha=alpha,
                    n_obs=int(len(f)), n_units=n, n_clusters=int(cl.max()) + 1 if cl is not None else n,
                    n_treated_units=int(treated_units.sum()), event_study=es, tables=tables,
                    diagnostics=diag, options=options)
