"""Imputation DiD: Borusyak, Jaravel & Spiess (2024) and Gardner's two-stage DiD.

Both estimators fit a model of the untreated outcome ``Y(0)`` on the untreated
observations only (never-treated rows and not-yet-treated rows, ``time <
cohort``) — by default unit and time fixed effects — impute ``Y(0)`` for the
treated rows and average ``Y - Ŷ(0)`` over them.  Gardner (2021, "Two-stage
differences in differences", arXiv:2207.05943) writes the same point estimate
as the second stage of a two-step GMM estimator (R ``did2s``); Borusyak,
Jaravel & Spiess (2024, "Revisiting event-study designs: robust and efficient
estimation", *Review of Economic Studies* 91(6)) write it as a linear
estimator ``τ̂ = Σ_it v_it Y_it`` with imputation weights ``v``.

Covariates
----------
``panel.covariates`` ``W`` enter the first stage with the fixed effects, as R
``did2s(first_stage = ~ x1 + x2 | unit + year)``: ``Y = Dγ + Wβ + ε`` on the
untreated rows, ``Ŷ(0) = Dγ̂ + Wβ̂`` everywhere.  By Frisch–Waugh–Lovell,
``β̂ = (W̃0'W̃0)⁻¹ W̃0'ỹ0`` with ``~`` the FE-partialled columns, and the
variance term ``X10 (X10'X10)⁻ X1'X2`` of ``X1 = [D, W]`` is, by the
partitioned inverse, the FE-only term plus ``W̃0 (W̃0'W̃0)⁻¹ W̌1'X2`` (``W̌1``:
``W`` minus its FE fit on the treated rows).  The same term gives the BJS
imputation weights ``v0 = −X10 (X10'X10)⁻ X11' v1`` (BJS 2024, Thm 1 / eq. 5).
Covariates collinear with the FE (or each other) on the untreated rows are an error.

Standard errors
---------------
``se="two-stage"`` (default, R ``did2s``): the GMM sandwich
``(X2'X2)⁻¹ Σ_g W_g W_g' (X2'X2)⁻¹`` with ``W_g = X2_g' e2_g − Γ' X10_g' e1_g``,
``Γ = (X10'X10)⁻ X1'X2``, clustered, no small-sample factor (as did2s).
``se="bjs"``: the BJS conservative clustered variance (their Theorem 3,
eqs. 8–10) ``Σ_g (Σ_{it∈g} v_it ε̃_it)²`` with ``ε̃`` the first-stage residual
on untreated rows and ``Y − Ŷ(0) − τ̄`` on treated rows, ``τ̄`` the
``v²``-weighted mean effect of the row's cohort × event-time cell (no
leave-one-out correction).  Headline and event-study CIs use t(G − 1).

The fixed-effect normal equations are solved exactly and sparsely: one
factor by group totals, two factors by eliminating the larger one and
pseudo-inverting the (small, dense) Schur complement of the other, more
factors by preconditioned conjugate gradients; no dense N × #FE matrix is built.

Event study
-----------
``event_study`` holds one coefficient per post-treatment event time
``e = 0, 1, …`` (the mean of ``Y − Ŷ(0)`` over treated rows at ``e``, as
did2s's ``rel_year::e``) and no pre-period coefficients: an imputation
estimate has no reference period (``ref = None``).  The pre-trend check of
BJS (their Test 1: ``Y ~ FE + pre-event dummies`` on untreated rows, cluster-
robust Wald) is reported in ``diagnostics`` (``pretrend_wald_p``) and its
coefficients in ``extras['pretrends']``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..numerics import dist as _dist
from ..errors import DesignError
from ..panel import Panel
from ..results import Estimate, EventStudy, terms_frame

__all__ = ["fit_imputation", "FESolver"]


# --------------------------------------------------------------------------- FE normal equations
class FESolver:
    """Exact solver of the fixed-effect normal equations ``(D'D) γ = b`` on a subsample.

    Parameters
    ----------
    codes : list of int arrays (n_all,)
        Level codes (0..L_f-1) of each factor for *all* rows.
    rows : bool array (n_all,)
        The rows whose dummies form ``D`` (e.g. the untreated rows).

    Notes
    -----
    ``D'D`` is singular (one redundancy per extra factor and per connected
    component); the solver returns the pseudo-inverse solution, so fitted
    values ``Dγ`` of estimable functions are unique.  Levels absent from
    ``rows`` get coefficient 0 and are reported by :meth:`identified`.
    """

    def __init__(self, codes: Sequence[np.ndarray], rows: np.ndarray):
        self.codes = [np.asarray(c, dtype=np.int64) for c in codes]
        self.rows = np.asarray(rows, dtype=bool)
        self.sizes = [int(c.max()) + 1 for c in self.codes]
        self.sub = [c[self.rows] for c in self.codes]
        self.counts = [np.bincount(c, minlength=L).astype(float) for c, L in zip(self.sub, self.sizes)]
        self.inv = [np.divide(1.0, n, out=np.zeros_like(n), where=n > 0) for n in self.counts]
        m = len(self.codes)
        if m == 2:
            a, b = (0, 1) if self.sizes[0] >= self.sizes[1] else (1, 0)
            self._a, self._b = a, b  # eliminate factor a (more levels); Schur complement on b
            if self.sizes[b] > 6000:
                self._mode = "cg"
            else:
                self._mode = "schur"
                n0 = len(self.sub[0])
                C = sparse.csr_matrix((np.ones(n0), (self.sub[a], self.sub[b])),
                                      shape=(self.sizes[a], self.sizes[b]))
                C.sum_duplicates()
                self._C = C
                S = np.diag(self.counts[b]) - (C.T @ sparse.diags(self.inv[a]) @ C).toarray()
                w, U = np.linalg.eigh((S + S.T) / 2)
                keep = w > max(w.max(), 1.0) * 1e-11
                self._Sp = (U[:, keep] / w[keep]) @ U[:, keep].T
        else:
            self._mode = "direct" if m == 1 else "cg"
        if self._mode == "cg":
            n0 = len(self.sub[0])
            off = np.cumsum([0] + self.sizes[:-1])
            cols = np.concatenate([c + o for c, o in zip(self.sub, off)])
            rws = np.tile(np.arange(n0), m)
            D = sparse.csr_matrix((np.ones(len(cols)), (rws, cols)), shape=(n0, sum(self.sizes)))
            self._DtD = (D.T @ D).tocsr()
            self._off = off

    def totals(self, X: np.ndarray, rows: np.ndarray | None = None) -> list[np.ndarray]:
        """``D_all' X`` per factor: level totals of the columns of X (X over ``rows``, default all rows)."""
        X = np.asarray(X, float).reshape(len(X), -1)
        out = []
        for c, L in zip(self.codes, self.sizes):
            cc = c if rows is None else c[rows]
            M = sparse.csr_matrix((np.ones(len(cc)), (cc, np.arange(len(cc)))), shape=(L, len(cc)))
            out.append(np.asarray(M @ X))
        return out

    def solve(self, b: list[np.ndarray]) -> list[np.ndarray]:
        """Pseudo-inverse solution of ``(D'D) γ = b`` (``b`` per factor, each L_f × k)."""
        if self._mode == "direct":
            return [self.inv[0][:, None] * b[0]]
        if self._mode == "schur":
            a, bb = self._a, self._b
            ra = self.inv[a][:, None] * b[a]
            gb = self._Sp @ (b[bb] - self._C.T @ ra)
            ga = ra - self.inv[a][:, None] * (self._C @ gb)
            out = [None, None]
            out[a], out[bb] = ga, gb
            return out
        from scipy.sparse.linalg import LinearOperator, cg

        rhs = np.vstack(b)
        dg = self._DtD.diagonal()
        pre = np.divide(1.0, dg, out=np.zeros_like(dg), where=dg > 0)
        M = LinearOperator(self._DtD.shape, matvec=lambda v: pre * v)
        sol = np.zeros_like(rhs)
        for j in range(rhs.shape[1]):
            x, info = cg(self._DtD, rhs[:, j], M=M, rtol=1e-13, atol=0.0, maxiter=20000)
            if info != 0:  # pragma: no cover - pathological designs
                raise DesignError("the fixed-effect normal equations did not converge; simplify --fe.")
            sol[:, j] = x
        return [sol[o:o + L] for o, L in zip(self._off, self.sizes)]

    def fitted(self, gamma: list[np.ndarray], rows: np.ndarray | None = None) -> np.ndarray:
        """``D γ`` at ``rows`` (default all rows): sum over factors of the level coefficients."""
        out = 0.0
        for c, g in zip(self.codes, gamma):
            out = out + g[c if rows is None else c[rows]]
        return out

    def identified(self, rows: np.ndarray) -> np.ndarray:
        """Rows (mask over ``rows``) whose every FE level occurs in the subsample and, for
        two factors, whose two levels lie in the same connected component."""
        ok = np.ones(int(np.sum(rows)), dtype=bool)
        for c, n in zip(self.codes, self.counts):
            ok &= n[c[rows]] > 0
        if len(self.codes) == 2:
            from scipy.sparse.csgraph import connected_components

            L0, L1 = self.sizes
            g = sparse.coo_matrix((np.ones(len(self.sub[0])), (self.sub[0], self.sub[1] + L0)),
                                  shape=(L0 + L1, L0 + L1))
            _, lab = connected_components(g, directed=False)
            ok &= lab[self.codes[0][rows]] == lab[self.codes[1][rows] + L0]
        return ok


def _codes(s: pd.Series) -> np.ndarray:
    return pd.factorize(s, sort=True)[0].astype(np.int64)


def _cluster_sums(M: np.ndarray, g: np.ndarray, G: int) -> np.ndarray:
    """G × k matrix of per-cluster column sums."""
    A = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(G, len(g)))
    return np.asarray(A @ M)


# --------------------------------------------------------------------------- estimator
def fit_imputation(
    panel: Panel,
    *,
    fe: Sequence[str] | None = None,
    cluster: str | None = None,
    se: str = "two-stage",
    horizons: bool = True,
    pretrends: bool = True,
    alpha: float = 0.05,
) -> Estimate:
    """Imputation / two-stage DiD (Borusyak, Jaravel & Spiess 2024; Gardner 2021).

    Parameters
    ----------
    panel : Panel
        Needs a cohort column (first treated period, 0 = never treated).
    fe : sequence of str, optional
        First-stage fixed effects: columns of ``panel.frame`` (default
        ``(panel.unit, panel.time)``); e.g. ``["state", "year"]``.
        ``panel.covariates`` join the FE in the first stage (R did2s
        ``first_stage = ~ x1 + x2 | fe1 + fe2``); their coefficients are in
        ``extras['first_stage_coefficients']``.
    cluster : str, optional
        Cluster column (default ``panel.cluster`` or the unit).
    se : {"two-stage", "bjs"}
        Gardner/did2s GMM variance, or the BJS conservative variance.
    horizons : bool
        Also estimate one effect per post-treatment event time (``event_study``).
    pretrends : bool
        Run the BJS pre-trend test on the untreated rows (diagnostics only).
    alpha : float
        1 − confidence level (CIs use t(G − 1)).

    Returns
    -------
    Estimate
        design ``"imputation"``; headline = static ATT (mean imputed effect over treated rows).
    """
    if se not in ("two-stage", "bjs"):
        raise DesignError(f"se must be 'two-stage' or 'bjs', got {se!r}; choose one of them.")
    if not (0 < float(alpha) < 1):
        raise DesignError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    if not panel.cohort:
        raise DesignError("the imputation design needs a cohort column; build the panel with cohort=COL.")
    covs = list(panel.covariates)
    f = panel.frame
    fe = [panel.unit, panel.time] if fe is None else [str(c) for c in (fe if not isinstance(fe, str) else fe.split(","))]
    if not fe:
        raise DesignError("give at least one first-stage fixed effect (e.g. fe=[unit, time]).")
    missing = [c for c in fe if c not in f.columns]
    if missing:
        raise DesignError(
            f"first-stage fixed effect column(s) {', '.join(map(repr, missing))} are not in the panel; "
            "keep them with Panel.from_frame(..., extra=[...]) or fix --fe."
        )
    cl_col = cluster or panel.cluster_col
    if cl_col not in f.columns:
        raise DesignError(f"cluster column {cl_col!r} is not in the panel; keep it with extra=[...] or fix --cluster.")
    for c in fe + [cl_col]:
        if f[c].isna().any():
            raise DesignError(f"column {c!r} has missing values; drop those rows or fill them.")

    t = f[panel.time].to_numpy(np.int64)
    g = f[panel.cohort].to_numpy(np.int64)
    y = f[panel.outcome].to_numpy(float)
    periods = np.unique(t)
    step = int(np.min(np.diff(periods))) if len(periods) > 1 else 1
    treated = (g != 0) & (t >= g)  # 0 = never treated; negative periods are cohorts too
    if not treated.any():
        raise DesignError("no treated rows (time >= cohort); check the cohort column.")
    untreated = ~treated
    if untreated.sum() < 2:
        raise DesignError("fewer than two untreated rows; the first stage cannot be estimated.")

    codes = [_codes(f[c]) for c in fe]
    solver = FESolver(codes, untreated)
    ok_t = solver.identified(treated)
    n_not_imputable = int((~ok_t).sum())
    if n_not_imputable == int(treated.sum()):
        raise DesignError(
            "no treated row can be imputed: their fixed-effect levels never occur among untreated rows "
            "(e.g. periods when every unit is treated); add never-treated units or change --fe."
        )
    if n_not_imputable:
        keep = untreated.copy()
        keep[np.flatnonzero(treated)[ok_t]] = True
        f = f.loc[keep].reset_index(drop=True)
        t, g, y, treated = t[keep], g[keep], y[keep], treated[keep]
        untreated = ~treated
        codes = [c[keep] for c in codes]
        solver = FESolver(codes, untreated)

    # ---- first stage: y (and covariates W) on FE over untreated rows; residualise every row
    ti = np.flatnonzero(treated)
    ui = np.flatnonzero(untreated)
    yt = y - solver.fitted(solver.solve(solver.totals(y[untreated], rows=untreated)))[:, 0]
    Wc = beta = None
    if covs:  # FWL: partial the FE out of W, regress on the partialled W, impute x'β + FE
        W = f[covs].to_numpy(float)
        Wc = W - solver.fitted(solver.solve(solver.totals(W[untreated], rows=untreated)))
        _check_covariates(Wc[ui], W[ui], covs, fe)
        beta = np.linalg.solve(Wc[ui].T @ Wc[ui], Wc[ui].T @ yt[ui])
        yt = yt - Wc @ beta                                  # Y - Ŷ(0): e1 on untreated, τ̂_it on treated
    n1 = len(ti)
    ev = (t[ti] - g[ti]) // step

    # ---- targets: static (column 0) and one per post event time
    hz = np.unique(ev) if horizons else np.array([], dtype=np.int64)
    X2 = np.zeros((n1, 1 + len(hz)))
    X2[:, 0] = 1.0
    if len(hz):
        X2[np.arange(n1), 1 + np.searchsorted(hz, ev)] = 1.0
    cnt = X2.sum(axis=0)
    tau = (X2.T @ yt[ti]) / cnt

    # ---- imputation weights on untreated rows: v0 = -D0 (D0'D0)^- D1' X2 / n
    Gam = solver.solve(solver.totals(X2, rows=treated))
    Z = solver.fitted(Gam, rows=untreated)             # n0 × k
    if covs:  # X10 (X10'X10)⁻ X1'X2 with X1 = [D, W]: add W̃0 (W̃0'W̃0)⁻¹ W̌1'X2 (partitioned inverse)
        Z = Z + Wc[ui] @ np.linalg.solve(Wc[ui].T @ Wc[ui], Wc[ti].T @ X2)
    v1 = X2 / cnt
    v0 = -Z / cnt

    # ---- residuals of the treated rows
    if se == "two-stage":
        r1 = yt[ti][:, None] - X2 * tau                 # e2 = adj - x2 b, per model column
        r1 = np.where(X2 > 0, r1, 0.0)
        r1[:, 0] = yt[ti] - tau[0]
    else:
        cell = pd.factorize(pd.Series(g[ti]).astype(str) + "|" + pd.Series(ev).astype(str))[0]
        ncell = int(cell.max()) + 1
        # v² -weighted cell means; v is constant within a cell for these targets → cell means
        csum = np.bincount(cell, weights=yt[ti], minlength=ncell)
        cn = np.bincount(cell, minlength=ncell)
        r1 = np.repeat((yt[ti] - (csum / cn)[cell])[:, None], X2.shape[1], axis=1)
    e1 = yt[ui]
    clc = _codes(f[cl_col])
    G = int(clc.max()) + 1
    if G < 2:
        raise DesignError(f"cluster column {cl_col!r} has a single cluster; cluster by a variable with several values.")
    S = _cluster_sums(v1 * r1, clc[ti], G) + _cluster_sums(v0 * e1[:, None], clc[ui], G)
    V = S.T @ S
    df = float(G - 1)
    ses = np.sqrt(np.clip(np.diag(V), 0, None))

    es = None
    if len(hz):
        es = EventStudy(event_times=tuple(int(e) for e in hz), estimates=tau[1:], vcov=V[1:, 1:], ref=None,
                        estimator="imputation", alpha=alpha, df=df)
    diag: dict = {"n_dropped": int(panel.info.get("n_dropped", 0)), "n_not_imputable": n_not_imputable,
                  "n_untreated_obs": int(len(ui)), "n_treated_obs": int(n1)}
    extras: dict = {"weights_by_event_time": {int(e): int(c) for e, c in zip(hz, cnt[1:])}}
    if covs:
        extras["first_stage_coefficients"] = {c: float(b) for c, b in zip(covs, beta)}
    if pretrends:
        pt = _pretrend_test(t, g, yt, untreated, codes, clc, G, step, W0=None if Wc is None else Wc[ui])
        if pt is not None:
            diag["pretrend_wald_p"] = pt["p_value"]
            diag["pretrend_wald_stat"] = pt["stat"]
            diag["pretrend_df"] = pt["df"]
            extras["pretrends"] = pt["rows"]
    if n_not_imputable:
        diag["warnings"] = [{"code": "rows_not_imputable",
                             "message": f"{n_not_imputable} treated row(s) could not be imputed (their fixed-effect "
                                        "levels never occur among untreated rows) and were left out of the averages"}]
    if pretrends:
        diag.setdefault("pretrend_wald_p", None)
    units = f[panel.unit]
    return Estimate(
        design="imputation",
        outcome=panel.outcome,
        estimate=float(tau[0]),
        se=float(ses[0]),
        alpha=alpha,
        df=df,
        n_obs=int(len(f)),
        n_units=int(units.nunique()),
        n_clusters=G,
        n_treated_units=int(units[treated].nunique()),
        terms=terms_frame(["ATT"], [tau[0]], [ses[0]], alpha=alpha, df=df),
        event_study=es,
        diagnostics=diag,
        options={"fe": list(fe), "covariates": covs, "cluster": cl_col, "se": se, "horizons": bool(horizons),
                 "pretrends": bool(pretrends), "alpha": alpha, "control": "never and not-yet treated (time < cohort)",
                 "ci": f"t(G-1) = t({G - 1})",
                 "small_sample": "none (as R did2s)" if se == "two-stage" else "none (BJS 2024 Thm 3, no leave-out)",
                 "event_study_pre_periods": "none (imputation has no reference period; see diagnostics pretrend_wald_p)"},
        extras=extras,
    )


def _check_covariates(Wt: np.ndarray, W: np.ndarray, covs: list[str], fe: list[str]) -> None:
    """Raise a DesignError naming the covariates that are collinear with the FE (on untreated rows)."""
    scale = np.linalg.norm(W, axis=0)
    nres = np.linalg.norm(Wt, axis=0)
    bad = [c for c, r, s0 in zip(covs, nres, scale) if r <= 1e-9 * max(s0, 1e-300)]
    if not bad and len(covs) > 1:  # jointly collinear: pivoted QR of the unit-norm partialled columns
        from scipy.linalg import qr

        _, R, piv = qr(Wt / nres, mode="economic", pivoting=True)
        d = np.abs(np.diag(R))
        bad = [covs[j] for j, dj in zip(piv, d) if dj <= 1e-9]
    if bad:
        raise DesignError(
            f"covariate(s) {', '.join(map(repr, bad))} are collinear with the first-stage fixed effects "
            f"({', '.join(fe)}) or with the other covariates on the untreated rows; drop them from --covariates."
        )


def _pretrend_test(t, g, yt, untreated, codes, clc, G, step, max_leads: int | None = None, W0=None):
    """BJS Test 1: regress untreated Y on FE (+ covariates) + pre-event dummies; CRV1 Wald test that they are 0.

    Uses the first-stage residual ``yt`` (FWL: projecting it again on the FE and covariates is
    exact) and the lead dummies residualised on the FE and the FE-partialled covariates ``W0``;
    small-sample factor G/(G-1)·(n-1)/(n-K) as fixest.
    """
    ui = np.flatnonzero(untreated)
    lead = np.where(g[ui] != 0, (t[ui] - g[ui]) // step, 0)
    leads = np.unique(lead[lead < 0])
    if max_leads is not None:
        leads = leads[leads >= -max_leads]
    if len(leads) == 0:
        return None
    n0 = len(ui)
    L = np.zeros((n0, len(leads)))
    m = np.isin(lead, leads)
    L[np.flatnonzero(m), np.searchsorted(leads, lead[m])] = 1.0
    sub = FESolver([c[ui] for c in codes], np.ones(n0, bool))
    Lr = L - sub.fitted(sub.solve(sub.totals(L)))
    if W0 is not None:
        Lr = Lr - W0 @ np.linalg.solve(W0.T @ W0, W0.T @ Lr)
    keep = np.linalg.norm(Lr, axis=0) > 1e-8 * np.sqrt(np.maximum(L.sum(axis=0), 1))
    Lr, leads = Lr[:, keep], leads[keep]
    if Lr.shape[1] == 0:
        return None
    # drop the most distant leads until the lead block has full rank (they are the reference)
    while Lr.shape[1] and np.linalg.matrix_rank(Lr.T @ Lr) < Lr.shape[1]:
        Lr, leads = Lr[:, 1:], leads[1:]
    if Lr.shape[1] == 0:
        return None
    XtX = Lr.T @ Lr
    B = np.linalg.inv(XtX)
    b = B @ (Lr.T @ yt[ui])
    e = yt[ui] - Lr @ b
    Sg = _cluster_sums(Lr * e[:, None], clc[ui], G)
    from ..numerics.fe import count_fe_levels  # FE rank for the small-sample K

    K = Lr.shape[1] + count_fe_levels([c[ui] for c in codes]) + (0 if W0 is None else W0.shape[1])
    fac = G / (G - 1) * (n0 - 1) / max(n0 - K, 1)
    V = fac * B @ (Sg.T @ Sg) @ B
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    W = float(b @ np.linalg.pinv(V) @ b)
    k = len(b)
    Fp = float(_dist.f_sf(W / k, k, G - 1)) if G > 1 else None
    rows = [{"event_time": int(e), "estimate": float(bi), "se": float(si)} for e, bi, si in zip(leads, b, se)]
    return {"stat": W, "df": k, "p_value": Fp, "rows": rows}
