"""Synthetic control method of Abadie, Diamond & Hainmueller (ADH).

References
----------
Abadie, A. & Gardeazabal, J. (2003). The economic costs of conflict: a case study of the
    Basque Country. *American Economic Review* 93(1), 113-132.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative
    case studies: estimating the effect of California's tobacco control program. *JASA*
    105(490), 493-505.
Abadie, A., Diamond, A. & Hainmueller, J. (2011). Synth: an R package for synthetic control
    methods in comparative case studies. *Journal of Statistical Software* 42(13).
Abadie, A., Diamond, A. & Hainmueller, J. (2015). Comparative politics and the synthetic
    control method. *American Journal of Political Science* 59(2), 495-510.

Algorithm (as R ``Synth`` / Stata ``synth ..., nested``)
--------------------------------------------------------
Predictors ``X`` (K x units) are divided by their standard deviation across the treated
and donor units.  For a diagonal ``V`` on the simplex the donor weights solve the
quadratic programme ``W(V) = argmin (X1 - X0 W)' V (X1 - X0 W)`` s.t. ``W >= 0, sum W = 1``
(solved exactly here by an active-set method with a KKT check, where ``Synth`` uses the
interior-point ``ipop``).  The outer problem chooses ``V`` to minimise the outcome MSPE
``|Z1 - Z0 W(V)|^2 / T`` over the optimisation window, with ``V = |p| / sum |p|``,
Nelder-Mead and BFGS each started from equal weights and from ``Synth``'s regression-based
start; the best of the runs wins.  Everything is deterministic.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from scipy import optimize

from ..errors import DesignError, OgimpactWarning, PanelError
from ..numerics.simplex import simplex_ls
from ..panel import Panel
from ..results import Estimate
from .sc_diagnostics import fit_diagnostics
from .synth_predictors import default_spec, parse_spec, predictor_matrix

__all__ = ["fit_synth", "simplex_ls", "solve_w", "fit_arrays", "scale_predictors"]


def solve_w(X1s: np.ndarray, X0s: np.ndarray, v: np.ndarray, *, w0: np.ndarray | None = None) -> np.ndarray:
    """Donor weights for predictor weights ``v`` (diagonal V): the ADH inner problem."""
    sv = np.sqrt(np.clip(v, 0.0, None))[:, None]
    return simplex_ls(sv * X0s, sv[:, 0] * X1s, w0=w0)


def scale_predictors(X: np.ndarray) -> np.ndarray:
    """Divide each predictor (row) by its SD across the columns (treated + donors), as R Synth."""
    sd = np.std(X, axis=1, ddof=1, keepdims=True)
    sd[~np.isfinite(sd) | (sd <= 0)] = 1.0
    return X / sd


# ----------------------------------------------------------------------------- outer V
def _v_of(p: np.ndarray) -> np.ndarray:
    a = np.abs(p)
    s = a.sum()
    return a / s if s > 0 else np.full(len(p), 1.0 / len(p))


#: smallest ratio of a predictor weight to the largest one in the V search (keeps the inner QP well posed)
V_FLOOR = 1e-8


#: relative MSPE difference within which two V tie (the tie-break then prefers the V closest to equal weights)
V_TIE_RTOL = 1e-9


def _softmax(t: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(t - t.max(), np.log(V_FLOOR), 0.0))
    return e / e.sum()


def fit_arrays(
    X: np.ndarray,
    Z: np.ndarray,
    treated: int,
    donors: Sequence[int],
    *,
    fixed_v: np.ndarray | None = None,
    scale: bool = True,
) -> dict:
    """Fit one synthetic control on arrays (the nested ADH optimisation).

    Parameters
    ----------
    X : (K, N) predictors of all units (unscaled); Z : (T, N) outcome in the MSPE window.
    treated : column of the treated unit; donors : columns of the donors.
    fixed_v : skip the outer optimisation and use these predictor weights.
    scale : divide predictors by their SD across units (Stata/R Synth, with a SPEC); ``False``
        for the outcome-only fit (augsynth's SCM: unscaled pre-period outcomes).

    Returns
    -------
    dict with ``w`` (donor weights), ``v`` (predictor weights), ``loss`` (window MSPE),
    ``n_eval`` (inner problems solved) and ``method`` (the winning optimiser run).

    Notes
    -----
    Nelder-Mead on a log (softmax) parametrisation of V, started as R ``Synth`` starts
    (equal weights, and the regression-based start), then restarted from the better end
    point.  R ``Synth`` uses ``V = |p|/sum|p|``; the log form reaches the nearly degenerate
    corners of the simplex where ADH solutions often sit (e.g. most of V on one lagged
    outcome in the Proposition 99 study) and gives the published weights there.  Each
    predictor weight is kept at least ``V_FLOOR`` times the largest, and the inner QP is
    solved to a tight KKT tolerance, so W is a well-defined function of V.
    """
    donors = np.asarray(donors, dtype=int)
    cols = np.concatenate([[treated], donors])
    Xs = scale_predictors(X[:, cols]) if scale else X[:, cols]
    X1s, X0s = Xs[:, 0], Xs[:, 1:]
    Z1, Z0 = Z[:, treated], Z[:, donors]
    K = X.shape[0]
    state = {"n": 0, "w": None}

    def loss_v(v, w0=None):
        state["n"] += 1
        w = solve_w(X1s, X0s, v, w0=w0)
        r = Z1 - Z0 @ w
        return float(r @ r) / len(Z1), w

    if fixed_v is not None or K == 1:
        v = np.full(K, 1.0 / K) if fixed_v is None else _v_of(np.asarray(fixed_v, float))
        loss, w = loss_v(v)
        return {"w": w, "v": v, "loss": loss, "n_eval": 1, "method": "fixed V"}

    s0 = max(loss_v(np.full(K, 1.0 / K))[0], 1e-300)

    def f_log(t):  # warm-started from the previous solution; losses scaled to ~1
        val, state["w"] = loss_v(_softmax(t), state["w"])
        return val / s0

    starts = {"equal": np.full(K, 1.0 / K)}
    # Synth's regression-based start: V = diag(B B') from regressing the window outcome on the scaled predictors
    D = np.column_stack([np.ones(len(cols)), Xs.T])
    if D.shape[0] > D.shape[1]:
        B, _, rank, _ = np.linalg.lstsq(D, Z[:, cols].T, rcond=None)
        sv2 = (B[1:] ** 2).sum(axis=1)
        if rank == D.shape[1] and sv2.sum() > 0 and np.all(np.isfinite(sv2)):
            starts["regression"] = sv2 / sv2.sum()
    nm = {"maxiter": 200 * K, "xatol": 1e-2, "fatol": 1e-9, "adaptive": K > 5}
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        status = {}
        for sname, p0 in starts.items():
            res = optimize.minimize(f_log, np.log(np.clip(p0, V_FLOOR, None)), method="Nelder-Mead", options=nm)
            name = f"Nelder-Mead (log V) from the {sname} start"
            runs.append((float(res.fun), res.x, name))
            status[name] = (bool(res.success), int(res.nit))
        val, x, name = min(runs, key=lambda r: r[0])
        res = optimize.minimize(f_log, x, method="Nelder-Mead",
                                options={**nm, "maxiter": 60 * K, "xatol": 1e-3, "fatol": 1e-10})
        status[name + ", restarted"] = (bool(res.success), int(res.nit))
        if res.fun < val:
            runs.append((float(res.fun), res.x, name + ", restarted"))
    # the reported W comes from a cold start (it must not depend on the search path)
    scored = [(*loss_v(_softmax(x)), x, name) for _, x, name in runs]
    loss, w, x, name = min(scored, key=lambda r: r[0])
    # a flat objective: among V that tie with the best (to V_TIE_RTOL), take the one closest to equal
    # weights -- equal V itself when it ties, as R Synth returns its equal-weight start when nothing improves
    eq_loss, eq_w = loss_v(np.full(K, 1.0 / K))
    tie = loss + V_TIE_RTOL * max(loss, s0) + 1e-300
    cands = [(eq_loss, eq_w, np.zeros(K), "equal V (the V objective is flat)")] + scored
    tied = [c for c in cands if c[0] <= tie]
    if tied:
        loss, w, x, name = min(tied, key=lambda c: float(np.sum((_softmax(c[2]) - 1.0 / K) ** 2)))
        if name not in status:
            status[name] = (True, 0)
    # converged when the winning run, or the restart polishing it, met Nelder-Mead's tolerances
    base = name.removesuffix(", restarted")
    ok = status[base][0] or status.get(base + ", restarted", (False, 0))[0]
    if not ok:
        warnings.warn(OgimpactWarning(
            "not_converged",
            f"the V search of synth did not converge: {name} stopped at its iteration limit after "
            f"{status[name][1]} iterations; the weights are the best found, not a verified optimum "
            "(give fewer predictors or a fixed V)."))
    return {"w": w, "v": _softmax(x), "loss": loss, "n_eval": state["n"], "method": name,
            "converged": bool(ok), "n_iter": int(status[name][1])}


def regression_v(X: np.ndarray, Z: np.ndarray, treated: int, donors: Sequence[int]) -> np.ndarray | None:
    """R ``Synth``'s regression-based V: ``diag(B B')`` of the window outcome regressed on the scaled predictors."""
    cols = np.concatenate([[treated], np.asarray(donors, dtype=int)])
    Xs = scale_predictors(X[:, cols])
    D = np.column_stack([np.ones(len(cols)), Xs.T])
    if D.shape[0] <= D.shape[1]:
        return None
    B, _, rank, _ = np.linalg.lstsq(D, Z[:, cols].T, rcond=None)
    sv2 = (B[1:] ** 2).sum(axis=1)
    if rank == D.shape[1] and sv2.sum() > 0 and np.all(np.isfinite(sv2)):
        return sv2 / sv2.sum()
    return None


def _cv_v(f, *, unit, time, units, preds, Y, periods, train, validate, train_predictors, donors_idx):
    """ADH (2015) cross-validated V: fit V on training predictors against the validation-window MSPE.

    Training predictors are the SPEC shifted back by ``C - A`` (``validate[0] - train[0]``; a
    predictor without periods becomes the mean over the training window) unless
    ``train_predictors`` is given; V minimises the validation-period outcome MSPE of the weights
    fitted on them (the nested search).  Returns (V, the training fit, the training predictors).
    """
    (a, b), (c, d) = train, validate
    if not (a <= b < c <= d):
        raise DesignError(f"--train {a}:{b} must end before --validate {c}:{d} starts; give two ordered pre-period windows.")
    tw = [t for t in periods if a <= t <= b]
    vw = [t for t in periods if c <= t <= d]
    if not tw or not vw:
        raise DesignError(f"--train {a}:{b} and --validate {c}:{d} must each cover observed periods.")
    if train_predictors:
        tp = parse_spec(train_predictors)
    else:
        shift = c - a
        tp = [p.shifted(shift) if p.periods is not None else type(p)(p.label, p.var, tuple(tw)) for p in preds]
    Xt = predictor_matrix(f, unit=unit, time=time, units=units, predictors=tp, pre_periods=tw)
    Zv = Y[[periods.index(t) for t in vw]]
    tfit = fit_arrays(Xt, Zv, 0, donors_idx)
    return tfit["v"], tfit, tp


# ----------------------------------------------------------------------------- public API
def _match(units: Sequence, value, what: str):
    """Find ``value`` among the panel's units (exact, then by string form, as the CLI passes strings)."""
    if value in set(units):
        return value
    by_str = {str(u): u for u in units}
    if str(value) in by_str:
        return by_str[str(value)]
    shown = ", ".join(map(str, list(units)[:8]))
    raise PanelError(f"{what} {value!r} is not a unit of the panel (units include {shown}); fix the unit name.")


def _window(optimize_window, pre: list[int]) -> list[int]:
    if optimize_window is None:
        return list(pre)
    if isinstance(optimize_window, str):
        parts = [p for p in optimize_window.replace(":", " ").replace("-", " ").split() if p]
        optimize_window = tuple(int(p) for p in parts)
    a, b = (int(x) for x in optimize_window)
    win = [t for t in pre if a <= t <= b]
    if b < a or not win or b >= (pre[-1] + 1 if pre else a):
        raise DesignError(
            f"optimize_window {a}:{b} must be a non-empty range of pre-treatment periods ({pre[0]}..{pre[-1]}); "
            "narrow it to periods before treat_time."
        )
    return win


def fit_synth(
    panel: Panel,
    *,
    treated,
    treat_time: int,
    predictors: str | Sequence[str] | None = None,
    optimize_window: tuple[int, int] | None = None,
    donors: Sequence | None = None,
    alpha: float = 0.05,
    augment: str = "none",
    lam: float | None = None,
    fixedeff: bool = False,
    v_method: str = "nested",
    train: tuple[int, int] | None = None,
    validate: tuple[int, int] | None = None,
    train_predictors: str | None = None,
    v: Sequence[float] | None = None,
    measure_se: float | None = None,
) -> Estimate:
    """Synthetic control estimate for one treated unit (Abadie, Diamond & Hainmueller 2010).

    Parameters
    ----------
    panel : Panel
        Long panel; predictor variables must be columns of ``panel.frame`` (keep them with
        ``Panel.from_frame(..., extra=spec_variables(spec))``).
    treated : unit id of the treated unit.  treat_time : first treated period.
    predictors : Stata ``synth`` SPEC (see :mod:`ogimpact.designs.synth_predictors`).
        Default (R ``Synth`` and Stata ``synth`` have none: both require predictors): the
        outcome in every period of the optimisation window, one predictor per period,
        with equal V -- the W that minimises the window MSPE directly, i.e. the exact
        solution of the nested problem for that SPEC, so no V search is run.
    optimize_window : (first, last) periods whose outcome MSPE V minimises [all pre-periods]
        (R ``Synth``'s ``time.optimize.ssr``, Stata's ``mspeperiod``).
    donors : donor pool [every other unit; units ever treated by the panel's cohort column excluded].
    alpha : level of the conformal confidence sets.
    v_method : ``nested`` (the ADH search) [default], ``regression`` (R Synth's regression V) or
        ``cv`` (ADH 2015: V fitted on ``train_predictors`` -- the SPEC shifted back by
        ``validate[0] - train[0]`` unless given -- against the ``validate`` window's MSPE; the
        final weights use that V with the SPEC as written).  v : a given V (one weight per predictor).
    augment : ``"none"`` or ``"ridge"`` (ridge ASCM, Ben-Michael, Feller & Rothstein 2021; see
        :mod:`ogimpact.designs.ascm`); outcome-only fits only.  lam : ridge penalty [augsynth's CV].
    fixedeff : demean every unit by its pre-period mean first (augsynth ``fixedeff = TRUE``).
    measure_se : the outcome's mean published standard error for the treated unit's pre-period
        (registry measures that publish one); gives ``diagnostics.pre_rmspe_ratio_se``.
    Inference (placebos, leave-one-out, ``inference=("conformal", "prediction-interval")``) is
    not run here: ``ogimpact.estimation.estimate("synth", ...)`` applies
    :func:`ogimpact.inference.synth_inference.apply_synth_inference` to this fit, with options
    ``placebo``, ``placebo_time``, ``drop_ratio``, ``loo``, ``n_jobs``, ``seed``, ``inference``,
    ``conformal_scheme``, ``reps``, ``pi_e_method``, ``pi_sims`` (documented there).

    Returns
    -------
    Estimate
        ``design="synth"``; headline = mean post-period gap (treat_time..last period); ``se``,
        CI = NaN; ``p_value`` NaN (the in-space placebo p-value once inference has run);
        ``extras["synth_context"]`` holds what the inference needs.
    """
    from ..parallel import one_blas_thread
    from .ascm import demean_fixedeff, fit_outcome_model  # ascm builds on simplex_ls here

    f, unit, time, y = panel.frame, panel.unit, panel.time, panel.outcome
    units_all = list(dict.fromkeys(f[unit].tolist()))
    treated = _match(units_all, treated, "treated unit")
    periods = panel.periods
    treat_time = int(treat_time)
    if not periods[0] < treat_time <= periods[-1]:
        raise DesignError(
            f"treat_time {treat_time} must lie after the first and within the last observed period "
            f"({periods[0]}..{periods[-1]}); synth needs pre- and post-treatment periods."
        )
    pre = [t for t in periods if t < treat_time]
    if donors is None:
        pool = [u for u in units_all if u != treated]
        if panel.cohort:
            ever = set(f.loc[f[panel.cohort] > 0, unit])
            pool = [u for u in pool if u not in ever]
        donor_rule = "every other unit" + (" never treated by the cohort column" if panel.cohort else "")
    else:
        pool = list(dict.fromkeys(_match(units_all, d, "donor") for d in donors))
        pool = [u for u in pool if u != treated]
        donor_rule = "given"
    if len(pool) < 2:
        raise DesignError(f"only {len(pool)} donor unit(s); synth needs at least 2 donors: widen donors= or the panel.")
    units = [treated, *pool]
    Yw = f.pivot(index=time, columns=unit, values=y).reindex(index=periods, columns=units)
    holes = [str(u) for u in units if Yw[u].isna().any()]
    if Yw[treated].isna().any():  # the treated unit cannot be left out of the pool: say which periods
        gaps = [int(t) for t in Yw.index[Yw[treated].isna().to_numpy()]]
        raise PanelError(
            f"the treated unit {treated!r} has no {y!r} in period(s) {', '.join(map(str, gaps[:8]))}"
            f"{' ...' if len(gaps) > 8 else ''}; fill them or restrict the data to periods it covers."
        )
    if holes:
        raise PanelError(
            f"the outcome {y!r} has gaps (missing periods) for {', '.join(holes[:8])}{' ...' if len(holes) > 8 else ''}; "
            "leave them out of the donors (--donors / donors=) or fill the outcome; synth never fits on a silently truncated pool."
        )
    Y = Yw.to_numpy(dtype=float)  # T x N, column 0 = treated
    win = _window(optimize_window, pre)
    if predictors is None:
        preds, fixed_v = default_spec(y, win), True
    else:
        preds, fixed_v = parse_spec(predictors), False
        for p in preds:
            if p.periods is not None and max(p.periods) >= treat_time:
                raise DesignError(
                    f"predictor {p.label!r} uses periods at or after treat_time {treat_time}; "
                    "predictors must be measured before treatment."
                )
    X = predictor_matrix(f, unit=unit, time=time, units=units, predictors=preds, pre_periods=pre)
    rows = [periods.index(t) for t in win]
    Z = Y[rows]
    donors_idx = list(range(1, len(units)))
    pre_m = np.array([t < treat_time for t in periods])
    augment = (augment or "none").lower()
    if augment not in ("none", "ridge"):
        raise DesignError(f"augment must be 'none' or 'ridge', got {augment!r}.")
    v_given = v
    if (augment == "ridge" or fixedeff) and not fixed_v:
        raise DesignError("--augment ridge, --fixedeff and --inference conformal work on the outcome-only fit; "
                          "drop --predictors (augsynth and CWZ fit on the pre-period outcomes).")
    if fixed_v and (v_method != "nested" or v is not None):
        raise DesignError("--v-method / a given V choose predictor weights; give --predictors SPEC "
                          "(the outcome-only fit has no V to choose).")
    if lam is not None and augment != "ridge":
        raise DesignError("--lambda is the ridge penalty of --augment ridge; add --augment ridge or drop --lambda.")
    if lam is not None and not lam > 0:
        raise DesignError(f"--lambda must be positive, got {lam}.")
    Yfit = demean_fixedeff(Y, pre_m)[0] if fixedeff else Y
    om = None
    if fixed_v:  # the outcome-only synthetic control: exact simplex QP on the unscaled window outcomes
        with one_blas_thread():
            om = fit_outcome_model(Yfit, np.isin(periods, win), augment=augment, lam=lam)
        w, v = om["w"], np.full(len(preds), 1.0 / len(preds))
        r = Yfit[rows, 0] - Yfit[rows, 1:] @ w
        fit = {"w": w, "v": v, "loss": float(r @ r) / len(r), "n_eval": 1,
               "method": "none: outcome-only SCM, unscaled pre-period outcomes, equal V (exact QP)"}
    elif v is not None:
        vv = np.asarray(v, float)
        if vv.shape != (len(preds),) or (vv < 0).any() or vv.sum() <= 0:
            raise DesignError(f"a given V needs {len(preds)} non-negative weights, one per predictor; got {list(vv)}.")
        fit = {**fit_arrays(X, Z, 0, donors_idx, fixed_v=vv), "method": "given V"}
    elif v_method == "regression":
        rv = regression_v(X, Z, 0, donors_idx)
        if rv is None:
            raise DesignError("--v-method regression needs more units than predictors + 1; use nested or cv.")
        fit = {**fit_arrays(X, Z, 0, donors_idx, fixed_v=rv), "method": "regression-based V (R Synth's start)"}
    elif v_method == "cv":
        if train is None or validate is None:
            raise DesignError("--v-method cv needs --train A:B and --validate C:D (ADH 2015, e.g. 1971:1980 and 1981:1990).")
        cv_v, tfit, tpreds = _cv_v(f, unit=unit, time=time, units=units, preds=preds, Y=Y, periods=periods,
                                   train=train, validate=validate, train_predictors=train_predictors,
                                   donors_idx=donors_idx)
        fit = {**fit_arrays(X, Z, 0, donors_idx, fixed_v=cv_v),
               "method": "cross-validated V (ADH 2015): " + tfit["method"],
               "converged": tfit.get("converged", True), "n_iter": tfit.get("n_iter"),
               "cv": {"train": list(train), "validate": list(validate),
                      "train_predictors": [p.label for p in tpreds],
                      "validation_mspe": tfit["loss"],
                      "train_weights": [{"unit": units[1 + i], "weight": float(x)} for i, x in enumerate(tfit["w"])
                                        if x > 1e-8]}}
    elif v_method == "nested":
        fit = fit_arrays(X, Z, 0, donors_idx)
    else:
        raise DesignError(f"--v-method must be nested, regression or cv, got {v_method!r}.")
    w, v = fit["w"], fit["v"]
    gap = Yfit[:, 0] - Yfit[:, 1:] @ w
    synth_path = Y[:, 0] - gap
    pre_rmspe = float(np.sqrt(np.mean(gap[pre_m] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gap[~pre_m] ** 2)))
    est = float(np.mean(gap[~pre_m]))

    order = sorted(range(len(pool)), key=lambda i: (-w[i], i))
    tables = {
        "weights": [{"unit": pool[i], "weight": float(w[i])} for i in order],
        "v_weights": [{"predictor": p.label, "weight": float(vi)} for p, vi in zip(preds, v)],
        "balance": [
            {"predictor": p.label, "treated": float(X[k, 0]), "synthetic": float(X[k, 1:] @ w),
             "donor_mean": float(X[k, 1:].mean())}
            for k, p in enumerate(preds)
        ],
        "gaps": [{"time": int(t), "treated": float(Y[i, 0]), "synthetic": float(synth_path[i]), "gap": float(gap[i])}
                 for i, t in enumerate(periods)],
    }
    extras: dict = {"times": list(periods), "treat_time": treat_time, "treated": treated,
                    "treated_path": Y[:, 0].copy(), "synthetic_path": synth_path, "gap": gap}
    # fit and interpolation diagnostics (Abadie 2021), augsynth's imbalance
    diag_fit = fit_diagnostics(Yfit[pre_m, 0], Yfit[pre_m, 1:], w, gap[pre_m], measure_se=measure_se)
    J = len(pool)
    g_uni = Yfit[pre_m, 0] - Yfit[pre_m, 1:].mean(axis=1)
    diag_fit["imbalance_before"] = float(np.linalg.norm(g_uni))
    diag_fit["imbalance_after"] = float(np.linalg.norm(gap[pre_m]))
    if augment == "ridge":
        g_scm = Yfit[pre_m, 0] - Yfit[pre_m, 1:] @ om["w_scm"]
        diag_fit["imbalance_scm"] = float(np.linalg.norm(g_scm))
        diag_fit["avg_estimated_bias"] = float(np.mean(Yfit[~pre_m, 1:] @ (w - om["w_scm"])))
    lam_fixed = om["lambda"] if om else None

    def conformal_refit():
        """A fresh refit closure for the conformal test (warm-started across its permutations)."""
        state = {"w": None}

        def refit(yy, Y0):
            Ya = np.column_stack([yy, Y0])
            allm = np.ones(len(yy), bool)
            if fixedeff:
                Ya = demean_fixedeff(Ya, allm)[0]
            fo = fit_outcome_model(Ya, allm, augment=augment, lam=lam_fixed,
                                   w0=state["w"] if state["w"] is not None and len(state["w"]) == Y0.shape[1] else None)
            state["w"] = fo["w_scm"]
            return Ya[:, 0] - Ya[:, 1:] @ fo["w"]

        return refit

    # everything inference needs (ogimpact.inference.synth_inference, applied by estimation.estimate)
    extras["synth_context"] = {
        "X": X, "Z": Z, "Y": Y, "pre_mask": pre_m, "fixed_v": fixed_v, "units": units, "fit_fn": fit_arrays,
        "w": w, "gap": gap, "periods": list(periods), "preds": preds, "window": win, "treat_time": treat_time,
        "panel": panel, "default_spec": default_spec, "predictor_matrix": predictor_matrix,
        "augment": augment, "fixedeff": bool(fixedeff), "conformal_refit": conformal_refit,
    }
    options = {
        "treated": treated, "treat_time": treat_time,
        "predictors": ",".join(p.label for p in preds) if not fixed_v else None,
        "predictors_default": "outcome in every optimize_window period, equal V (no V search)" if fixed_v else None,
        "optimize_window": [win[0], win[-1]], "donors": list(pool), "donor_rule": donor_rule,
        # inference settings: filled in by ogimpact.inference.synth_inference (placeholders keep the key order)
        "placebo": [], "placebo_time": None,
        "drop_ratio": None, "drop_ratio_scale": "pre-period RMSPE (not MSPE)", "loo": False,
        "n_jobs": None, "seed": 0, "alpha": alpha,
        "standardize": ("none: unscaled pre-period outcomes (augsynth / scpi SCM)" if fixed_v else
                        "predictors divided by their SD across treated and donors (R Synth)"),
        "v_search": fit["method"], "v_floor": V_FLOOR,
        "v_method": ("given" if v_given is not None else v_method) if not fixed_v else None,
        "cv_v": fit.get("cv"),
        "augment": augment, "lambda": om["lambda"] if om else None, "fixedeff": bool(fixedeff),
        "lambda_rule": ("augsynth CV: leave-one-pre-period-out over lambda_max*(1e-8)^(k/20), k=0..20, "
                        "min-1se rule" if lam is None else "given") if augment == "ridge" else None,
        "placebo_refit": None, "inference_methods": [], "conformal_scheme": None, "conformal_reps": None,
        "headline": "mean gap over treat_time..last period",
        "inference": "se and CI are not defined for synth; p_value is the in-space placebo p-value "
                     "(rank of the treated post/pre RMSPE ratio among treated + placebos) when placebo='space' ran",
    }
    return Estimate(
        design="synth", outcome=y, estimate=est, se=float("nan"), ci_low=float("nan"), ci_high=float("nan"),
        p_value=float("nan"), alpha=alpha, df=None, n_obs=int(len(units) * len(periods)), n_units=len(units),
        n_clusters=None, n_treated_units=1, tables=tables,
        diagnostics={"pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe, "n_donors": len(pool),
                     "n_dropped": int(panel.info.get("n_dropped", 0)), "window_mspe": fit["loss"],
                     "n_inner_solves": fit["n_eval"], "v_converged": fit.get("converged", True),
                     "v_iterations": fit.get("n_iter"), **diag_fit},
        options=options, extras=extras,
    )
