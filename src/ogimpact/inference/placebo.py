"""Placebo inference for the synthetic control method.

* **In space** (Abadie, Diamond & Hainmueller 2010, JASA 105:493-505, sec. 4): every donor
  is treated in turn with the other donors as its pool (the treated unit is left out);
  the treated unit's post/pre RMSPE ratio is ranked among all ratios and
  ``p = #{ratio_i >= ratio_treated} / (J + 1)`` counting the treated unit.  Placebos whose
  pre-period RMSPE exceeds ``drop_ratio`` times the treated unit's may be dropped first.
* **In time** (Abadie, Diamond & Hainmueller 2015, AJPS 59:495-510): refit with a fake
  treatment date using only data before the real one.
* **Leave one out** (ADH 2015): refit dropping, one at a time, each donor with positive weight.

Refits run in a local process pool whose workers pin BLAS to one thread
(:func:`ogimpact.parallel.run_tasks`), so two processes never oversubscribe the cores;
results come back in task order, so output is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..errors import DesignError
from ..parallel import run_tasks

__all__ = ["SynthContext", "run_inference", "placebo_in_time", "run_tasks", "rank_p_value"]

_RATIO_EPS = 1e-12


@dataclass(frozen=True)
class SynthContext:
    """Arrays of one synth fit: predictors X (K x N), window outcome Z, outcome Y (T x N).

    Column 0 is the treated unit, columns 1.. the donors (in ``units`` order). ``fit_fn`` is the
    design's weight fit ``fit_fn(X, Z, treated, donors, fixed_v=..., scale=...) -> {"w": ...}``
    (:func:`ogimpact.designs.synth.fit_arrays`), passed in so inference does not import designs;
    it must be a module-level function (it is sent to worker processes).
    """

    X: np.ndarray
    Z: np.ndarray
    Y: np.ndarray
    pre_mask: np.ndarray
    fixed_v: bool
    units: Sequence
    fit_fn: Callable


def _refit(task: tuple) -> dict:
    """One refit (runs in a worker): ``(X, Z, Y, pre_mask, treated, donors, fixed_v, fit_fn)``."""
    X, Z, Y, pre_mask, treated, donors, fixed_v, fit_fn = task
    fit = fit_fn(X, Z, treated, donors, fixed_v=np.full(X.shape[0], 1.0 / X.shape[0]) if fixed_v else None,
                     scale=not fixed_v)
    synth = Y[:, donors] @ fit["w"]
    gap = Y[:, treated] - synth
    pre = float(np.sqrt(np.mean(gap[pre_mask] ** 2)))
    post = float(np.sqrt(np.mean(gap[~pre_mask] ** 2)))
    return {"w": fit["w"], "synthetic": synth, "gap": gap, "pre_rmspe": pre, "post_rmspe": post,
            "estimate": float(np.mean(gap[~pre_mask]))}


def rank_p_value(treated_ratio: float, placebo_ratios: Sequence[float]) -> float:
    """``#{r >= treated_ratio} / (J + 1)`` over the treated unit and its J placebos (ADH 2010)."""
    r = np.asarray(placebo_ratios, float)
    return float((1 + np.sum(r >= treated_ratio * (1 - 1e-12))) / (len(r) + 1))


def run_inference(ctx: SynthContext, *, w, est, pre_rmspe, post_rmspe, space: bool, loo: bool,
                  drop_ratio: float | None, n_jobs: int | None):
    """In-space placebos and leave-one-out refits; returns (placebo dict, loo rows, p-value, extras)."""
    J = ctx.Y.shape[1] - 1
    donors = list(range(1, J + 1))
    tasks, kinds = [], []
    if space:
        for j in donors:
            tasks.append((ctx.X, ctx.Z, ctx.Y, ctx.pre_mask, j, [d for d in donors if d != j], ctx.fixed_v, ctx.fit_fn))
            kinds.append(("space", j))
    if loo:
        for j in donors:
            if w[j - 1] > 1e-6 and J > 2:
                tasks.append((ctx.X, ctx.Z, ctx.Y, ctx.pre_mask, 0, [d for d in donors if d != j], ctx.fixed_v, ctx.fit_fn))
                kinds.append(("loo", j))
    out = run_tasks(_refit, tasks, n_jobs=n_jobs)
    ratio = post_rmspe / max(pre_rmspe, _RATIO_EPS)
    doc, loo_rows, p, extras = None, None, float("nan"), {}
    sp = [(j, r) for (k, j), r in zip(kinds, out) if k == "space"]
    if space:
        rows, gaps = [], {}
        for j, r in sp:
            rr = r["post_rmspe"] / max(r["pre_rmspe"], _RATIO_EPS)
            kept = drop_ratio is None or r["pre_rmspe"] <= drop_ratio * pre_rmspe
            rows.append({"unit": ctx.units[j], "pre_rmspe": r["pre_rmspe"], "post_rmspe": r["post_rmspe"],
                         "rmspe_ratio": rr, "estimate": r["estimate"], "kept": bool(kept)})
            gaps[ctx.units[j]] = r["gap"]
        kept = [r for r in rows if r["kept"]]
        p = rank_p_value(ratio, [r["rmspe_ratio"] for r in kept])
        # the share of placebo effects at least as large in absolute value (a second, effect-based rank)
        p_est = float((1 + sum(abs(r["estimate"]) >= abs(est) * (1 - 1e-12) for r in kept)) / (len(kept) + 1))
        doc = {
            "p_value": p, "n_placebos": len(kept), "rmspe_ratio": ratio, "pre_rmspe": pre_rmspe,
            "post_rmspe": post_rmspe, "rank": int(1 + sum(r["rmspe_ratio"] >= ratio * (1 - 1e-12) for r in kept)),
            "p_value_estimate": p_est, "drop_ratio": drop_ratio,
            "n_dropped_placebos": len(rows) - len(kept),
            "dropped": [r["unit"] for r in rows if not r["kept"]],
            "statistic": "post/pre RMSPE ratio (ADH 2010); p = rank / (n_placebos + 1)",
            "units": rows,
        }
        extras["placebo_gaps"] = gaps
        extras["placebo_kept"] = {r["unit"]: r["kept"] for r in rows}
    if loo:
        loo_rows, paths = [], {}
        for (k, j), r in zip(kinds, out):
            if k != "loo":
                continue
            loo_rows.append({"unit": ctx.units[j], "estimate": r["estimate"], "pre_rmspe": r["pre_rmspe"],
                             "post_rmspe": r["post_rmspe"]})
            paths[ctx.units[j]] = r["synthetic"]
        extras["loo_paths"] = paths
    return doc, loo_rows, p, extras


def placebo_in_time(panel, *, units, Y, periods, preds, fixed_v, treat_time, placebo_time, window,
                    fit_fn, default_spec, predictor_matrix):
    """In-time placebo: backdate treatment to ``placebo_time`` and refit on data before ``treat_time``.

    Predictor periods and the MSPE window are shifted back by ``treat_time - placebo_time``
    (ADH 2015 backdate their predictors); periods that then fall outside the data are cut,
    and a predictor left with no period is dropped (listed in the result).  The design supplies
    its weight fit ``fit_fn`` and its predictor builders ``default_spec(outcome, window)`` and
    ``predictor_matrix(frame, unit=, time=, units=, predictors=, pre_periods=)``
    (:mod:`ogimpact.designs.synth`, :mod:`ogimpact.designs.synth_predictors`).
    """

    pre = [t for t in periods if t < treat_time]
    if placebo_time is None:
        placebo_time = pre[len(pre) // 2]
    placebo_time = int(placebo_time)
    fake_pre = [t for t in pre if t < placebo_time]
    if not fake_pre or placebo_time not in pre:
        raise DesignError(
            f"placebo_time {placebo_time} must be a pre-treatment period after the first one ({pre[1] if len(pre) > 1 else pre[0]}.."
            f"{pre[-1]}); choose an earlier fake treatment date inside the pre-period."
        )
    shift = treat_time - placebo_time
    win = [t - shift for t in window if fake_pre[0] <= t - shift < placebo_time] or fake_pre
    dropped = []
    if fixed_v:
        use = default_spec(panel.outcome, win)
    else:
        use = []
        for p in preds:
            q = p.shifted(shift)
            if q.periods is not None:
                keep = tuple(t for t in q.periods if fake_pre[0] <= t < placebo_time)
                q = type(q)(q.label, q.var, keep)
                if not keep:
                    dropped.append(p.label)
                    continue
            try:  # a backdated predictor may have no data (e.g. a covariate observed only late)
                predictor_matrix(panel.frame, unit=panel.unit, time=panel.time, units=units, predictors=[q],
                                 pre_periods=fake_pre)
            except DesignError:
                dropped.append(p.label)
                continue
            use.append(q)
        if not use:
            raise DesignError("no predictor has data before placebo_time; choose a later placebo_time.")
    X = predictor_matrix(panel.frame, unit=panel.unit, time=panel.time, units=units, predictors=use,
                         pre_periods=fake_pre)
    T = [periods.index(t) for t in periods if t < treat_time]
    Yt = Y[T]
    Z = Yt[[periods.index(t) for t in win]]
    fit = fit_fn(X, Z, 0, list(range(1, len(units))), fixed_v=np.full(len(use), 1.0 / len(use)) if fixed_v else None,
               scale=not fixed_v)
    synth = Yt[:, 1:] @ fit["w"]
    gap = Yt[:, 0] - synth
    m = np.array([t < placebo_time for t in pre])
    pre_r = float(np.sqrt(np.mean(gap[m] ** 2)))
    post_r = float(np.sqrt(np.mean(gap[~m] ** 2)))
    doc = {
        "placebo_time": placebo_time, "estimate": float(np.mean(gap[~m])), "pre_rmspe": pre_r,
        "post_rmspe": post_r, "rmspe_ratio": post_r / max(pre_r, _RATIO_EPS),
        "shift": shift, "predictors_dropped": dropped,
        "weights": [{"unit": units[i + 1], "weight": float(x)} for i, x in enumerate(fit["w"]) if x > 1e-6],
    }
    extras = {"time_placebo": {"times": pre, "treated": Yt[:, 0], "synthetic": synth, "gap": gap,
                               "placebo_time": placebo_time}}
    return doc, extras
