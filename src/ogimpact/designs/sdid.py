"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

One treated block (treated units x post periods) on a balanced panel.  The
weights follow R ``synthdid`` (0.0.9, ``synthdid_estimate`` / ``sc_estimate``
/ ``did_estimate``) exactly, so its numbers are reproduced to machine precision:

* noise level ``sigma`` = sample sd of the first differences of the control
  outcomes over the pre-periods;
* unit weights omega: ridge-penalised simplex regression of the treated
  pre-period mean path on the control paths, solved by Frank-Wolfe with exact
  line search; ``zeta_omega = (N_tr * T_post)^(1/4) * sigma`` with an intercept
  (SDID) or ``1e-6 * sigma`` without one (SC);
* time weights lambda: the same solver regressing each control's post-period
  mean on its pre-period outcomes, ``zeta_lambda = 1e-6 * sigma``, with an
  intercept (SDID); zero (SC); uniform (DID);
* stopping: an iteration decreasing the penalised objective by less than
  ``(1e-5 * sigma)^2``, or ``max_iter = 10000``; a first round of at most 100
  iterations is sparsified (weights <= max/4 set to 0, renormalised) and used
  to start the second round.

The estimate is ``tau = (-omega, 1/N_tr)' Y (-lambda, 1/T_post)``.  The placebo
standard error is Algorithm 4 of the paper (``vcov(method = "placebo")``):
controls are permuted, the last ``N_tr`` of them play the treated units, the
weights are re-fitted (warm-started, same zetas), and
``se = sqrt((r - 1) / r) * sd(placebo estimates)``.
"""
from __future__ import annotations

from typing import Sequence

import warnings

import numpy as np
import pandas as pd

from ..errors import DesignError, OgimpactWarning, PanelError
from ..panel import Panel
from ..results import Estimate
from ._fw_kernel import HAVE_NUMBA, fw_solve, fw_solve_batch

__all__ = ["fit_sdid", "sc_weight_fw", "sc_weight_fw_batch", "sparsify", "sdid_weights"]

METHODS = ("sdid", "sc", "did")
MAX_ITER = 10_000
MAX_ITER_PRE_SPARSIFY = 100
DEFAULT_PLACEBO_REPS = 200
#: the Frank-Wolfe loop: "numba" (compiled kernel, ``_fw_kernel``) when numba imports, else "numpy"
BACKEND = "numba" if HAVE_NUMBA else "numpy"
#: the most placebo refits a run may ask for (issue 9: impossible resource requests are refused, not run)
MAX_PLACEBO_REPS = 100_000


def _backend(backend: str | None) -> str:
    b = BACKEND if backend is None else backend
    if b not in ("numba", "numpy"):
        raise ValueError(f"backend must be 'numba' or 'numpy' (got {b!r}).")
    if b == "numba" and not HAVE_NUMBA:
        raise ValueError("backend 'numba' needs numba installed; use backend='numpy'.")
    return b


# --------------------------------------------------------------------------- solver
def sc_weight_fw(
    Y: np.ndarray,
    *,
    zeta: float,
    intercept: bool,
    init: np.ndarray | None = None,
    min_decrease: float,
    max_iter: int,
    backend: str | None = None,
) -> tuple[np.ndarray, int]:
    """Frank-Wolfe solver of ``min_x ||A x - b||^2 / n + zeta^2 ||x||^2`` on the unit simplex.

    ``A = Y[:, :-1]``, ``b = Y[:, -1]`` (columns demeaned first when ``intercept``).
    Each step moves toward the simplex vertex of smallest half-gradient with an
    exact line search (R synthdid ``fw.step``); the loop stops when an iteration
    lowers the objective by no more than ``min_decrease**2`` (after at least
    two iterations) or after ``max_iter`` iterations.  ``A x`` and ``A'A x`` are
    updated incrementally, so one iteration costs O(n + k).

    The state ``[A x, A'A x]`` is kept in one preallocated vector and the rows
    ``[A[:, i], (A'A)[:, i]]`` in one contiguous matrix, so each iteration is a
    dozen in-place numpy calls; every element is computed by the same floating-point
    operations as the textbook update, so the iterates do not depend on this layout.

    ``backend`` "numba" runs the same loop compiled (:mod:`._fw_kernel`), "numpy" the
    loop below; the default is the compiled one when numba is installed.

    Returns
    -------
    (weights, iterations)
    """
    Y = np.asarray(Y, dtype=float)
    n, k1 = Y.shape
    k = k1 - 1
    if intercept:
        Y = Y - Y.mean(axis=0)
    A = np.ascontiguousarray(Y[:, :k])
    b = Y[:, k]
    x = np.full(k, 1.0 / k) if init is None else np.array(init, dtype=float)
    z2 = float(zeta) ** 2
    eta = n * z2
    if _backend(backend) == "numba":
        return fw_solve(A, b, x, eta=eta, z2=z2, tol=float(min_decrease) ** 2, max_iter=max_iter)
    G = A.T @ A
    # M[i] = [A[:, i], G[:, i]]; W = [A x, G x]; C = [b, A'b]; E = W - C = [err, A'A x - A'b]
    M = np.empty((k, n + k))
    M[:, :n] = A.T
    M[:, n:] = G.T
    W = np.empty(n + k)
    W[:n] = A @ x
    W[n:] = G @ x
    C = np.empty(n + k)
    C[:n] = b
    C[n:] = A.T @ b
    E = W - C
    D = np.empty(n + k)
    hg = np.empty(k)
    ex = np.empty(k)
    En, Ek, Dn = E[:n], E[n:], D[:n]
    mul, add, sub = np.multiply, np.add, np.subtract
    tol = float(min_decrease) ** 2
    xx = float(x @ x)
    prev = None
    it = 0
    while it < max_iter:
        it += 1
        add(Ek, mul(x, eta, out=ex), out=hg)  # half-gradient A'A x - A'b + eta x
        i = int(hg.argmin())
        xi = x.item(i)
        # direction d = e_i - x
        if not (xi == 1.0 and np.count_nonzero(x) == 1):
            sub(M[i], W, out=D)  # [A_i - A x, G_i - A'A x]
            hg_d = hg.item(i) - float(hg @ x)
            dd = xx - xi * xi + (1.0 - xi) ** 2
            step = -hg_d / (float(Dn @ Dn) + eta * dd)
            s = 1.0 if step > 1.0 else (0.0 if not step > 0.0 else step)
            if s:
                x *= 1.0 - s
                x[i] += s
                D *= s
                W += D
        sub(W, C, out=E)
        xx = float(x @ x)
        val = z2 * xx + float(En @ En) / n
        if prev is not None and not prev - val > tol:
            break
        prev = val
    return x, it


def sparsify(v: np.ndarray) -> np.ndarray:
    """R synthdid ``sparsify_function``: zero weights <= max/4 and renormalise."""
    v = np.array(v, dtype=float)
    v[v <= v.max() / 4] = 0.0
    return v / v.sum()


def sc_weight_fw_batch(
    Y: np.ndarray,
    *,
    zeta: float,
    intercept: bool,
    init: np.ndarray,
    min_decrease: float,
    max_iter: int,
    backend: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sc_weight_fw` on a stack of ``R`` problems at once (placebo replications).

    ``Y`` is (R, n, k+1) and ``init`` (R, k).  Every problem follows exactly the
    iteration and stopping rule of :func:`sc_weight_fw`; a problem that has
    stopped leaves the working set (its weights are final), so late iterations
    only touch the problems still running.  Returns (weights (R, k), iterations (R,)).
    """
    Y = np.asarray(Y, dtype=float)
    R, n, k1 = Y.shape
    k = k1 - 1
    if intercept:
        Y = Y - Y.mean(axis=1, keepdims=True)
    A = Y[:, :, :k]
    b = Y[:, :, k]
    At = np.ascontiguousarray(A.transpose(0, 2, 1))  # (R, k, n): row i of At is column i of A
    x = np.array(init, dtype=float)
    z2 = float(zeta) ** 2
    eta = n * z2
    if _backend(backend) == "numba":
        return fw_solve_batch(A, b, x, eta=eta, z2=z2, tol=float(min_decrease) ** 2, max_iter=max_iter)
    G = At @ A
    # per problem: M[r, i] = [A[:, i], G[i]]; W = [A x, G x]; C = [b, A'b]; E = W - C = [err, G x - A'b]
    M = np.empty((R, k, n + k))
    M[:, :, :n] = At
    M[:, :, n:] = G
    W = np.empty((R, n + k))
    W[:, :n] = np.einsum("rnk,rk->rn", A, x)
    W[:, n:] = np.einsum("rkj,rj->rk", G, x)
    C = np.empty((R, n + k))
    C[:, :n] = b
    C[:, n:] = np.einsum("rkn,rn->rk", At, b)
    del A, At, G, Y
    E = W - C
    tol = float(min_decrease) ** 2
    out = x.copy()
    iters = np.full(R, max_iter, dtype=int)
    rid = np.arange(R)  # problems still running (rows of M and out)
    ar = np.arange(R)
    prev = np.full(R, np.inf)
    xx = np.einsum("rk,rk->r", x, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        for it in range(1, max_iter + 1):
            hg = E[:, n:] + eta * x
            i = hg.argmin(axis=1)
            xi = x[ar, i]
            D = M[rid, i] - W  # [A_i - A x, G_i - G x]
            Dn = D[:, :n]
            hg_d = hg[ar, i] - np.einsum("rk,rk->r", hg, x)
            dd = xx - xi * xi + (1.0 - xi) ** 2
            step = -hg_d / (np.einsum("rn,rn->r", Dn, Dn) + eta * dd)
            s = np.where(step > 0, np.minimum(step, 1.0), 0.0)
            x *= (1.0 - s)[:, None]
            x[ar, i] += s
            D *= s[:, None]
            W += D
            np.subtract(W, C, out=E)
            En = E[:, :n]
            xx = np.einsum("rk,rk->r", x, x)
            val = z2 * xx + np.einsum("rn,rn->r", En, En) / n
            stop = ~(prev - val > tol) if it >= 2 else np.zeros(len(rid), dtype=bool)
            prev = val
            if stop.any():
                out[rid[stop]] = x[stop]
                iters[rid[stop]] = it
                keep = ~stop
                if not keep.any():
                    break
                rid, x, W, C, E = rid[keep], x[keep], W[keep], C[keep], E[keep]
                prev, xx = prev[keep], xx[keep]
                ar = np.arange(len(rid))
    out[rid] = x
    return out, iters


def _sparsify_rows(V: np.ndarray) -> np.ndarray:
    V = np.array(V, dtype=float)
    V[V <= V.max(axis=1, keepdims=True) / 4] = 0.0
    return V / V.sum(axis=1, keepdims=True)


def _collapsed(Y: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """(N0+1) x (T0+1) matrix: treated rows and post columns averaged."""
    top = np.column_stack([Y[:N0, :T0], Y[:N0, T0:].mean(axis=1)])
    bottom = np.append(Y[N0:, :T0].mean(axis=0), Y[N0:, T0:].mean())
    return np.vstack([top, bottom])


def _two_round(Y, *, zeta, intercept, init, min_decrease, max_iter, max_iter_pre):
    w, it1 = sc_weight_fw(Y, zeta=zeta, intercept=intercept, init=init,
                          min_decrease=min_decrease, max_iter=max_iter_pre)
    w, it2 = sc_weight_fw(Y, zeta=zeta, intercept=intercept, init=sparsify(w),
                          min_decrease=min_decrease, max_iter=max_iter)
    return w, it1 + it2, it2 < max_iter


def sdid_weights(
    Y: np.ndarray,
    N0: int,
    T0: int,
    *,
    method: str = "sdid",
    zetas: tuple[float, float, float] | None = None,
    init: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
    max_iter: int = MAX_ITER,
    max_iter_pre: int = MAX_ITER_PRE_SPARSIFY,
) -> dict:
    """Unit weights omega and time weights lambda of R synthdid for a block design.

    Parameters
    ----------
    Y : (N, T) array, control rows first, pre columns first.
    N0, T0 : number of control units and pre-treatment periods.
    method : "sdid", "sc" or "did".
    zetas : (zeta_omega, zeta_lambda, min_decrease); computed from ``Y`` when None
        (placebo replications pass the original ones, as synthdid does).
    init : starting omega and lambda (placebo warm starts).

    Returns
    -------
    dict with omega, lambda, estimate, noise_level, zeta_omega, zeta_lambda,
    min_decrease, omega_iter, lambda_iter, omega_converged, lambda_converged.
    """
    N1, T1 = Y.shape[0] - N0, Y.shape[1] - T0
    if zetas is None:
        noise = float(np.std(np.diff(Y[:N0, :T0], axis=1), ddof=1)) if T0 > 1 else float("nan")
        eta_omega = (N1 * T1) ** 0.25 if method == "sdid" else 1e-6
        zetas = (eta_omega * noise, 1e-6 * noise, 1e-5 * noise)
    else:
        noise = float("nan")
    z_om, z_lam, min_dec = zetas
    out = {"noise_level": noise, "zeta_omega": z_om, "zeta_lambda": z_lam, "min_decrease": min_dec,
           "omega_iter": 0, "lambda_iter": 0, "omega_converged": None, "lambda_converged": None}
    if method == "did":
        lam, om = np.full(T0, 1.0 / T0), np.full(N0, 1.0 / N0)
    else:
        if not np.isfinite(min_dec):
            raise DesignError("the control outcomes do not vary over the pre-periods; SDID/SC weights need at least "
                              "two pre-periods with varying outcomes.")
        Yc = _collapsed(Y, N0, T0)
        if method == "sdid":
            lam, out["lambda_iter"], out["lambda_converged"] = _two_round(
                Yc[:N0, :], zeta=z_lam, intercept=True, init=init[1], min_decrease=min_dec,
                max_iter=max_iter, max_iter_pre=max_iter_pre)
        else:
            lam = np.zeros(T0)
        om, out["omega_iter"], out["omega_converged"] = _two_round(
            Yc[:, :T0].T, zeta=z_om, intercept=(method == "sdid"), init=init[0], min_decrease=min_dec,
            max_iter=max_iter, max_iter_pre=max_iter_pre)
    out["omega"], out["lambda"] = om, lam
    out["estimate"] = float(np.r_[-om, np.full(N1, 1.0 / N1)] @ Y @ np.r_[-lam, np.full(T1, 1.0 / T1)])
    return out


def _placebo_se(Y, N0, T0, fit, method, reps, seed):
    """Algorithm 4 of Arkhangelsky et al. (2021): placebo (permutation) standard error.

    Each replication permutes the controls, makes the last ``N_tr`` of them the
    placebo treated units and re-fits the weights as R synthdid's ``placebo_se``
    does (same zetas and stopping rule; omega warm-started at the renormalised
    original omega, lambda at the original lambda).  All replications are
    solved together by :func:`sc_weight_fw_batch`.
    """
    N1, T1 = Y.shape[0] - N0, Y.shape[1] - T0
    n0 = N0 - N1
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(N0) for _ in range(reps)])
    Yp = Y[:N0][perms]  # (R, N0, T)
    if method == "did":
        om = np.full((reps, n0), 1.0 / n0)
        lam = np.full((reps, T0), 1.0 / T0)
    else:
        om0 = fit["omega"][perms[:, :n0]]
        tot = om0.sum(axis=1, keepdims=True)
        om0 = np.where(tot != 0, om0 / np.where(tot != 0, tot, 1.0), 1.0 / n0)
        top = Yp[:, :n0, :]
        Yc_ctrl = np.concatenate([top[:, :, :T0], top[:, :, T0:].mean(axis=2, keepdims=True)], axis=2)
        tr_pre = Yp[:, n0:, :T0].mean(axis=1)  # (R, T0)
        Y_om = np.concatenate([Yc_ctrl[:, :, :T0], tr_pre[:, None, :]], axis=1).transpose(0, 2, 1)
        kw = dict(min_decrease=fit["min_decrease"])
        if method == "sdid":
            lam0 = np.tile(fit["lambda"], (reps, 1))
            lam, _ = sc_weight_fw_batch(Yc_ctrl, zeta=fit["zeta_lambda"], intercept=True, init=lam0,
                                        max_iter=MAX_ITER_PRE_SPARSIFY, **kw)
            lam, it_lam = sc_weight_fw_batch(Yc_ctrl, zeta=fit["zeta_lambda"], intercept=True,
                                             init=_sparsify_rows(lam), max_iter=MAX_ITER, **kw)
        else:
            lam = np.zeros((reps, T0))
        om, _ = sc_weight_fw_batch(Y_om, zeta=fit["zeta_omega"], intercept=(method == "sdid"), init=om0,
                                   max_iter=MAX_ITER_PRE_SPARSIFY, **kw)
        om, it_om = sc_weight_fw_batch(Y_om, zeta=fit["zeta_omega"], intercept=(method == "sdid"),
                                       init=_sparsify_rows(om), max_iter=MAX_ITER, **kw)
        n_nc = int(np.sum(it_om >= MAX_ITER)) + (int(np.sum(it_lam >= MAX_ITER)) if method == "sdid" else 0)
        if n_nc:
            warnings.warn(OgimpactWarning(
                "not_converged",
                f"in {n_nc} of the {2 * reps if method == 'sdid' else reps} placebo weight fits the Frank-Wolfe "
                f"solver stopped at its limit of {MAX_ITER} iterations (after {MAX_ITER_PRE_SPARSIFY} before "
                "sparsifying); their last iterates enter the placebo SE, as in R synthdid."))
    u = np.concatenate([-om, np.full((reps, N1), 1.0 / N1)], axis=1)
    v = np.concatenate([-lam, np.full((reps, T1), 1.0 / T1)], axis=1)
    est = np.einsum("rn,rnt,rt->r", u, Yp, v)
    se = float(np.sqrt((reps - 1) / reps) * np.std(est, ddof=1)) if reps > 1 else float("nan")
    return se, est


# --------------------------------------------------------------------------- covariates
COVARIATE_SAMPLES = ("untreated", "all")


def residualise(panel: Panel, covariates: Sequence[str], *, treated: list, treat_time: int,
                sample: str = "untreated") -> tuple[Panel, dict]:
    """Outcome net of time-varying covariates, for SDID with covariates.

    Arkhangelsky et al. (2021, sec. 2 and the synthdid documentation) handle covariates by applying SDID to
    the outcome adjusted for them.  Here ``y_it`` is regressed on the covariates with unit and time fixed
    effects (OLS) and replaced by the regression residual plus the mean outcome of the regression sample,
    as diff-diff's ``SyntheticDiD(covariates=...)`` does.  ``sample="untreated"`` (default) fits the
    regression on the untreated cells only (every control cell and the treated units' pre-periods), so the
    treatment effect does not leak into the coefficients; ``sample="all"`` uses every cell (diff-diff).

    Returns the panel with the adjusted outcome and ``{coefficients, sample, n_obs}``.
    """
    if sample not in COVARIATE_SAMPLES:
        raise DesignError(f"covariate_sample must be one of {', '.join(COVARIATE_SAMPLES)} (got {sample!r}).")
    f = panel.frame
    cov = list(dict.fromkeys(covariates))
    absent = [c for c in cov if c not in f.columns]
    if absent:
        raise DesignError(f"covariate(s) {', '.join(map(repr, absent))} not in the data; available columns: "
                          f"{', '.join(map(str, f.columns[:30]))}.")
    X = f[cov].apply(pd.to_numeric, errors="coerce")
    bad = X.isna().any(axis=1)
    if bad.any():
        row = f.loc[bad].iloc[0]
        raise DesignError(f"SDID covariates must be observed in every unit-period; {int(bad.sum())} row(s) lack "
                          f"one (e.g. {row[panel.unit]!r} in {row[panel.time]!r}): drop the covariate or the rows.")
    y = f[panel.outcome].to_numpy(dtype=float)
    is_tr = f[panel.unit].isin(set(treated)).to_numpy()
    post = (f[panel.time] >= treat_time).to_numpy()
    fit_rows = ~(is_tr & post) if sample == "untreated" else np.ones(len(f), dtype=bool)
    ud = pd.get_dummies(f[panel.unit], prefix="u", drop_first=True, dtype=float).to_numpy()
    td = pd.get_dummies(f[panel.time], prefix="t", drop_first=True, dtype=float).to_numpy()
    Z = np.column_stack([np.ones(len(f)), X.to_numpy(dtype=float), ud, td])
    coef, *_ = np.linalg.lstsq(Z[fit_rows], y[fit_rows], rcond=None)
    resid = y - Z @ coef
    adj = resid + float(y[fit_rows].mean())
    out = panel.frame.copy()
    out[panel.outcome] = adj
    info = {"coefficients": {c: float(b) for c, b in zip(cov, coef[1:1 + len(cov)])}, "sample": sample,
            "n_obs": int(fit_rows.sum()),
            "method": "outcome = residual of OLS on covariates + unit and time fixed effects, plus the sample mean"}
    from dataclasses import replace as _replace

    return _replace(panel, frame=out), info


# --------------------------------------------------------------------------- public API
def _matrix(panel: Panel, treated: list, treat_time: int):
    f = panel.frame
    units = pd.unique(f[panel.unit])
    missing = [u for u in treated if u not in set(units)]
    if missing:
        raise DesignError(f"treated unit(s) {missing} are not in unit column {panel.unit!r}; "
                          f"give unit ids exactly as they appear (e.g. {units[0]!r}).")
    if not panel.is_balanced:
        counts = f.groupby(panel.unit)[panel.time].size()
        short = counts[counts < counts.max()]
        raise PanelError(f"SDID needs a balanced panel but {len(short)} unit(s) lack some periods "
                         f"(e.g. {str(short.index[0])!r}: {int(short.iloc[0])} of {int(counts.max())}); "
                         "drop those units or restrict the years.")
    W = f.pivot(index=panel.unit, columns=panel.time, values=panel.outcome).sort_index(axis=1)
    periods = np.asarray(W.columns, dtype=int)
    T0 = int((periods < treat_time).sum())
    if treat_time > periods.max() or T0 < 2:
        raise DesignError(f"treat_time {treat_time} must leave at least two pre-periods and one post-period "
                          f"inside the data ({periods.min()}-{periods.max()}); choose a treatment time within it.")
    controls = [u for u in W.index if u not in set(treated)]
    if len(controls) < 2:
        raise DesignError(f"SDID needs at least 2 donor (control) units but the panel has {len(controls)}; "
                          "add untreated units.")
    Y = W.loc[controls + list(treated)].to_numpy(dtype=float)
    return Y, controls, periods, T0


def fit_sdid(
    panel: Panel,
    *,
    treated: str | Sequence,
    treat_time: int,
    method: str = "sdid",
    placebo_reps: int | None = None,
    seed: int = 0,
    alpha: float = 0.05,
    covariates: Sequence[str] | str | None = None,
    covariate_sample: str = "untreated",
    measure_se: float | None = None,
) -> Estimate:
    """Synthetic DiD, synthetic control or DiD on a treated block, as R ``synthdid``.

    Parameters
    ----------
    panel : Panel
        Balanced panel (the outcome, and the ``covariates`` columns when given).
    treated : unit id or list of unit ids
        Units treated from ``treat_time`` on (all at the same time).
    treat_time : int
        First treated period; earlier periods are the pre-period.
    method : {"sdid", "sc", "did"}
        ``synthdid_estimate``, ``sc_estimate`` or ``did_estimate``.
    placebo_reps : int, optional
        Replications of the placebo SE (``vcov(method = "placebo")``, 200 in R);
        ``None`` gives no SE.  Needs more controls than treated units.
    seed : int
        Seed of the control permutations (numpy ``default_rng``; R's draws differ).
    alpha : float
        CI level; CIs are normal (estimate +- z * se), as in synthdid.
    covariates : list of column names, optional
        Time-varying covariates: the outcome is first adjusted for them by :func:`residualise`
        (OLS with unit and time fixed effects on ``covariate_sample`` cells), then SDID runs on it.
    covariate_sample : {"untreated", "all"}
        Cells of the covariate regression: untreated cells only [default], or every cell (diff-diff).

    Returns
    -------
    Estimate
        design "sdid"; tables ``weights`` (control units), ``time_weights``
        (pre-periods), ``gaps`` (treated mean, synthetic = omega-weighted controls
        shifted by the lambda-weighted pre-period difference, gap; post gaps average
        to the estimate); diagnostics ``pre_rmspe`` (root mean squared pre-period gap).

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021).
    Synthetic difference-in-differences. American Economic Review 111(12), 4088-4118.
    """
    if method not in METHODS:
        raise DesignError(f"method must be one of {', '.join(METHODS)} (got {method!r}).")
    tr = [treated] if isinstance(treated, (str, int, np.integer)) else list(treated)
    if not tr:
        raise DesignError("give at least one treated unit.")
    try:
        treat_time = int(treat_time)
    except (TypeError, ValueError):
        raise DesignError(f"treat_time must be an integer period (got {treat_time!r}).") from None
    cov = [c.strip() for c in covariates.split(",") if c.strip()] if isinstance(covariates, str) \
        else list(covariates or [])
    cov_info = None
    if cov:
        _matrix(panel, tr, treat_time)  # balanced-panel and unit checks first
        panel, cov_info = residualise(panel, cov, treated=tr, treat_time=treat_time, sample=covariate_sample)
    Y, controls, periods, T0 = _matrix(panel, tr, treat_time)
    N0, N1, T1 = len(controls), len(tr), len(periods) - T0
    fit = sdid_weights(Y, N0, T0, method=method)
    tau = fit["estimate"]
    for name in ("omega", "lambda"):
        if fit[f"{name}_converged"] is False:
            warnings.warn(OgimpactWarning(
                "not_converged",
                f"the Frank-Wolfe solver of the {name} weights stopped at its iteration limit "
                f"({fit[f'{name}_iter']} iterations: {MAX_ITER_PRE_SPARSIFY} before and {MAX_ITER} after "
                f"sparsifying) before the objective decrease fell below min_decrease^2; the weights are the "
                f"last iterate, as R synthdid returns them (it stops at the same limit without a warning)."))

    se, placebo = float("nan"), None
    if placebo_reps is not None:
        reps = int(placebo_reps)
        if reps < 2:
            raise DesignError("placebo_reps must be at least 2 (R synthdid uses 200).")
        if reps > MAX_PLACEBO_REPS:
            raise DesignError(f"placebo_reps={reps} would refit SDID {reps:,} times (hours to days); use at most "
                              f"{MAX_PLACEBO_REPS:,} (R synthdid uses 200; the SE settles long before 10,000).")
        if N0 <= N1:
            raise DesignError(f"the placebo SE needs more controls ({N0}) than treated units ({N1}); "
                              "add donors or drop placebo_reps.")
        se, draws = _placebo_se(Y, N0, T0, fit, method, reps, seed)
        placebo = {"method": "placebo_se (Arkhangelsky et al. 2021, Algorithm 4)", "n_placebos": reps,
                   "seed": seed, "se": se, "mean_estimate": float(draws.mean()),
                   "p_value": float((1 + np.sum(np.abs(draws) >= abs(tau))) / (reps + 1)),
                   "p_value_rule": "(1 + #{|placebo estimate| >= |estimate|}) / (reps + 1); the headline "
                                   "p_value is the normal approximation with the placebo SE"}

    om, lam = fit["omega"], fit["lambda"]
    y_tr = Y[N0:].mean(axis=0)
    y_sc = om @ Y[:N0]
    shift = float(lam @ (y_tr[:T0] - y_sc[:T0]))
    synth = y_sc + shift
    gap = y_tr - synth
    gaps = pd.DataFrame({"time": periods, "treated": y_tr, "synthetic": synth, "gap": gap})
    pre_rmspe = float(np.sqrt(np.mean(gap[:T0] ** 2)))
    tw = pd.DataFrame({"time": periods[:T0], "weight": lam})

    options = {
        "method": method, "treated": tr, "treat_time": treat_time, "placebo_reps": placebo_reps,
        "seed": seed, "alpha": alpha,
        "se_method": "placebo" if placebo_reps is not None else None,
        "ci": "normal",
        "noise_level": fit["noise_level"],
        "eta_omega": ((N1 * T1) ** 0.25 if method == "sdid" else 1e-6) if method != "did" else None,
        "eta_lambda": 1e-6 if method == "sdid" else None,
        "zeta_omega": fit["zeta_omega"] if method != "did" else None,
        "zeta_lambda": fit["zeta_lambda"] if method == "sdid" else None,
        "omega_intercept": method == "sdid", "lambda_intercept": method == "sdid",
        "time_weights": {"sdid": "estimated", "sc": "zero", "did": "uniform"}[method],
        "unit_weights": {"sdid": "estimated", "sc": "estimated", "did": "uniform"}[method],
        "solver": "Frank-Wolfe, exact line search (R synthdid 0.0.9)",
        "solver_backend": BACKEND,
        "min_decrease": fit["min_decrease"] if method != "did" else None,
        "max_iter": MAX_ITER, "max_iter_pre_sparsify": MAX_ITER_PRE_SPARSIFY,
        "sparsify": "weights <= max/4 set to 0, renormalised",
        "covariates": cov,
        "covariate_adjustment": cov_info,
    }
    diagnostics = {
        "n_dropped": panel.info.get("n_dropped", 0), "pre_rmspe": pre_rmspe,
        "n_pre": T0, "n_post": T1, "n_donors": N0,
        "n_donors_weighted": int(np.count_nonzero(om)), "n_time_weighted": int(np.count_nonzero(lam)),
        "omega_iterations": fit["omega_iter"], "lambda_iterations": fit["lambda_iter"],
        "omega_converged": fit["omega_converged"], "lambda_converged": fit["lambda_converged"],
        "intercept_shift": shift,
    }
    from .sc_diagnostics import fit_diagnostics  # fit/interpolation measures shared with synth (CONTRACT 0.2)

    diagnostics.update(fit_diagnostics(y_tr[:T0], Y[:N0, :T0].T, om, gap[:T0], level_free=True,
                                       measure_se=measure_se))
    return Estimate(
        design="sdid", outcome=panel.outcome, estimate=tau, se=se, alpha=alpha, df=None,
        n_obs=int(Y.size), n_units=N0 + N1, n_clusters=None, n_treated_units=N1,
        tables={"weights": pd.DataFrame({"unit": controls, "weight": om}), "time_weights": tw, "gaps": gaps},
        placebo=placebo, diagnostics=diagnostics, options=options,
        extras={"treat_time": treat_time, "effect_curve": gap[T0:].tolist(), "post_periods": periods[T0:].tolist(),
                "method": method,
                # what conformal inference needs (ogimpact.inference.synth_inference.apply_sdid_inference)
                "sdid_context": {"y1": y_tr, "Y0": Y[:N0].T.copy(), "pre_mask": np.arange(len(periods)) < T0,
                                 "gap": gap, "periods": [int(t) for t in periods],
                                 "conformal_refit": _null_refit_factory(method, fit)}},
    )


def _null_refit_factory(method: str, fit: dict):
    """Refits of the SDID counterfactual under the null of no effect, for the conformal test.

    Chernozhukov, Wuthrich & Zhu (2021) refit the estimator on every period given (the post
    periods included, the hypothesised effect removed) and permute its residuals.  With no
    treated period the SDID time weights have no role; the unit weights are synthdid's omega
    problem (simplex, ``zeta_omega`` of the original fit, an intercept for ``sdid``) on all
    those periods, and the residual is the treated series minus ``omega0 + Y0 omega``; ``sc``
    drops the intercept and ``did`` uses uniform weights with an intercept.
    """
    z_om, min_dec = fit.get("zeta_omega"), fit.get("min_decrease")

    def factory():
        state = {"w": None}

        def refit(yy, Y0):
            if method == "did":
                w = np.full(Y0.shape[1], 1.0 / Y0.shape[1])
            else:
                w, _, _ = _two_round(np.column_stack([Y0, yy]), zeta=z_om, intercept=(method == "sdid"),
                                     init=state["w"], min_decrease=min_dec, max_iter=MAX_ITER,
                                     max_iter_pre=MAX_ITER_PRE_SPARSIFY)
                state["w"] = w
            r = yy - Y0 @ w
            return r - r.mean() if method in ("sdid", "did") else r

        return refit

    return factory
