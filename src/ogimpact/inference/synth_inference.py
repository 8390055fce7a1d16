"""Inference on a fitted synthetic control: placebos, conformal tests, prediction intervals.

:func:`apply_synth_inference` takes the :class:`~ogimpact.results.Estimate` that
:func:`ogimpact.designs.synth.fit_synth` returns (its ``extras["synth_context"]`` holds the
arrays and the design's refit functions, passed in so inference never imports designs) and
returns it with the requested inference added:

* in-space / in-time placebos and leave-one-out refits (:mod:`ogimpact.inference.placebo`);
* ``conformal``: Chernozhukov, Wuthrich & Zhu (2021) (:mod:`ogimpact.inference.conformal`);
* ``prediction-interval``: Cattaneo, Feng & Titiunik (2021)
  (:mod:`ogimpact.inference.prediction_interval`).

:func:`ogimpact.estimation.estimate` calls it for ``synth``; the result JSON is the one the
design produced when it ran these itself.
"""
from __future__ import annotations

from typing import Sequence

from ..errors import DesignError
from ..results import Estimate
from . import placebo as _pl

__all__ = ["INFERENCE_OPTIONS", "SDID_INFERENCE_OPTIONS", "apply_synth_inference", "apply_sdid_inference"]

#: keyword options of ``estimate("synth", ...)`` handled here rather than by the fit
INFERENCE_OPTIONS = ("placebo", "placebo_time", "drop_ratio", "loo", "n_jobs", "seed", "inference",
                     "conformal_scheme", "reps", "pi_e_method", "pi_sims")


#: keyword options of ``estimate("sdid", ...)`` handled here
SDID_INFERENCE_OPTIONS = ("inference", "conformal_scheme", "reps")


def check_request(ctx: dict, *, placebo: Sequence[str] = (), inference: Sequence[str] = ()) -> None:
    """Raise :class:`DesignError` for inference the fit in ``ctx`` cannot take (before any work)."""
    unknown = sorted(set(inference) - {"conformal", "prediction-interval"})
    if unknown:
        raise DesignError(f"unknown inference method(s) {unknown}; use conformal and/or prediction-interval.")
    if "prediction-interval" in inference and (ctx["augment"] != "none" or ctx["fixedeff"] or not ctx["fixed_v"]):
        raise DesignError("--inference prediction-interval bounds the simplex SCM on the pre-period outcomes "
                          "(scpi's fit); drop --predictors, --augment and --fixedeff.")
    if "conformal" in inference and not ctx["fixed_v"]:
        raise DesignError("--augment ridge, --fixedeff and --inference conformal work on the outcome-only fit; "
                          "drop --predictors (augsynth and CWZ fit on the pre-period outcomes).")
    bad = sorted(set(placebo) - {"space", "time"})
    if bad:
        raise DesignError(f"unknown placebo kind(s) {bad}; use 'space' and/or 'time'.")


def apply_synth_inference(
    res: Estimate,
    *,
    placebo: Sequence[str] = (),
    placebo_time: int | None = None,
    drop_ratio: float | None = None,
    loo: bool = False,
    n_jobs: int | None = None,
    seed: int = 0,
    inference: Sequence[str] = (),
    conformal_scheme: str = "moving-block",
    reps: int = 1000,
    pi_e_method: str = "gaussian",
    pi_sims: int = 200,
) -> Estimate:
    """``res`` (a ``synth`` fit) with the requested placebo, conformal and prediction-interval inference.

    Parameters
    ----------
    placebo : subset of ``{"space", "time"}``: in-space placebos (each donor treated in turn,
        the treated unit left out of their pools) and an in-time placebo at ``placebo_time``.
    placebo_time : fake treatment period [the middle pre-period].
    drop_ratio : drop in-space placebos whose pre-RMSPE exceeds ``drop_ratio`` times the treated
        unit's (ADH 2010 cut at 5 x the *MSPE*, i.e. ``drop_ratio = sqrt(5)``).
    loo : leave-one-out refits, dropping each donor with positive weight (ADH 2015).
    n_jobs : worker processes for placebo/leave-one-out refits [all cores; 1 = in process].
    seed : seed of the iid conformal permutations and of the prediction-interval draws.
    inference : subset of ``{"conformal"}`` (Chernozhukov, Wuthrich & Zhu 2021; see
        :mod:`ogimpact.inference.conformal`), with ``conformal_scheme`` ``moving-block``/``iid``
        and ``reps`` iid permutations; ``"prediction-interval"`` (Cattaneo, Feng & Titiunik 2021;
        see :mod:`ogimpact.inference.prediction_interval`) with ``pi_e_method`` ``gaussian`` /
        ``ls`` / ``qreg`` / ``all`` and ``pi_sims`` draws, seeded by ``seed``.
    """
    ctx = res.extras["synth_context"]
    placebo = tuple(placebo or ())
    inference = tuple(inference or ())
    check_request(ctx, placebo=placebo, inference=inference)
    Y, pre_m, w, periods = ctx["Y"], ctx["pre_mask"], ctx["w"], ctx["periods"]
    tables = {k: list(v) for k, v in res.tables.items()}
    extras = {k: v for k, v in res.extras.items() if k != "synth_context"}
    diag = dict(res.diagnostics)
    pool = ctx["units"][1:]
    sctx = _pl.SynthContext(X=ctx["X"], Z=ctx["Z"], Y=Y, pre_mask=pre_m, fixed_v=ctx["fixed_v"], units=ctx["units"],
                            fit_fn=ctx["fit_fn"])
    placebo_doc, loo_rows, p_value = None, None, float("nan")
    if placebo or loo:
        placebo_doc, loo_rows, p_value, pextras = _pl.run_inference(
            sctx, w=w, est=res.estimate, pre_rmspe=diag["pre_rmspe"], post_rmspe=diag["post_rmspe"],
            space="space" in placebo, loo=loo, drop_ratio=drop_ratio, n_jobs=n_jobs,
        )
        extras.update(pextras)
        if "time" in placebo:
            tdoc, textras = _pl.placebo_in_time(
                ctx["panel"], units=ctx["units"], Y=Y, periods=periods, preds=ctx["preds"], fixed_v=ctx["fixed_v"],
                treat_time=ctx["treat_time"], placebo_time=placebo_time, window=ctx["window"],
                fit_fn=ctx["fit_fn"], default_spec=ctx["default_spec"], predictor_matrix=ctx["predictor_matrix"],
            )
            placebo_doc = {**(placebo_doc or {}), "time": tdoc}
            extras.update(textras)
    if loo_rows:
        tables["loo"] = loo_rows
    if placebo_doc is not None and "space" in placebo:
        kept = placebo_doc.get("n_kept", placebo_doc.get("n_placebos"))
        placebo_doc = {**placebo_doc, "resolution": 1.0 / ((kept if isinstance(kept, int) else len(pool)) + 1)}
    diag_order = list(diag)
    if loo_rows:
        ests = [r["estimate"] for r in loo_rows if r.get("estimate") is not None]
        if ests:  # placed after imbalance_after, where the fit used to put it
            diag["loo_range"] = [float(min(ests)), float(max(ests))]
            at = diag_order.index("imbalance_after") + 1 if "imbalance_after" in diag_order else len(diag_order)
            diag_order.insert(at, "loo_range")
    diag = {k: diag[k] for k in diag_order}
    conformal_doc, grid_opts = None, {}
    if "conformal" in inference:
        from ..parallel import one_blas_thread
        from .conformal import conformal_test

        with one_blas_thread():
            conformal_doc, by_rows, grid_opts = conformal_test(
                Y[:, 0], Y[:, 1:], pre_m, ctx["conformal_refit"](), gaps=ctx["gap"], alpha=res.alpha,
                scheme=conformal_scheme, reps=reps, seed=seed)
        tables["conformal_by_time"] = [{"time": int(periods[r.pop("t_index")]), **r} for r in by_rows]
    pi_opts = {}
    if "prediction-interval" in inference:
        from .prediction_interval import synth_rows

        tables["prediction_interval"], pi_opts, pi_diag = synth_rows(
            Y, pre_m, w, list(periods), alpha=res.alpha, seed=seed, sims=pi_sims, e_method=pi_e_method, donors=pool)
        diag.update(pi_diag)
    o = dict(res.options)
    augment, fixedeff = o.get("augment"), o.get("fixedeff")
    o.update({
        "placebo": list(placebo), "placebo_time": (placebo_doc or {}).get("time", {}).get("placebo_time", placebo_time),
        "drop_ratio": drop_ratio, "loo": bool(loo), "n_jobs": n_jobs, "seed": seed,
        "placebo_refit": ("outcome-only SCM (placebos are not augmented or demeaned)"
                          if (augment == "ridge" or fixedeff) and (placebo or loo) else None),
        "inference_methods": list(inference),
        "conformal_scheme": conformal_scheme if "conformal" in inference else None,
        "conformal_reps": reps if "conformal" in inference and conformal_scheme == "iid" else None,
    })
    options = {}
    for k, v in o.items():  # the inference settings sit before "headline", as the fit wrote them
        if k == "headline":
            options.update(grid_opts)
            options.update(pi_opts)
        options[k] = v
    return res.replace(p_value=p_value, tables=tables, placebo=placebo_doc, conformal=conformal_doc,
                       diagnostics=diag, options=options, extras=extras)


def apply_sdid_inference(res: Estimate, *, inference: Sequence[str] = (), conformal_scheme: str = "moving-block",
                         reps: int = 1000) -> Estimate:
    """``res`` (an ``sdid`` fit) with the conformal test of Chernozhukov, Wuthrich & Zhu (2021) when asked.

    The counterfactual is refitted under each hypothesised effect on every period (the design's
    ``extras["sdid_context"]["conformal_refit"]``: synthdid's unit weights with its zeta and
    intercept); the treated series is the treated units' mean.  Writes ``conformal`` and
    ``conformal_by_time`` as for synth; the permutation seed is the fit's ``seed``.
    """
    inference = tuple(inference or ())
    bad = sorted(set(inference) - {"conformal"})
    if bad:
        raise DesignError(f"sdid takes --inference conformal (got {', '.join(bad)}); its placebo SE is "
                          "--placebo-reps N, and prediction intervals are synth's (--inference prediction-interval).")
    extras = {k: v for k, v in res.extras.items() if k != "sdid_context"}
    if not inference:
        return res.replace(extras=extras)
    ctx = res.extras["sdid_context"]
    from ..parallel import one_blas_thread
    from .conformal import conformal_test

    seed = int(res.options.get("seed") or 0)
    with one_blas_thread():
        joint, by_rows, grid = conformal_test(ctx["y1"], ctx["Y0"], ctx["pre_mask"], ctx["conformal_refit"](),
                                              gaps=ctx["gap"], alpha=res.alpha, scheme=conformal_scheme, reps=reps,
                                              seed=seed)
    tables = {k: list(v) for k, v in res.tables.items()}
    tables["conformal_by_time"] = [{"time": int(ctx["periods"][r.pop("t_index")]), **r} for r in by_rows]
    options = {**res.options, "inference_methods": list(inference), "conformal_scheme": conformal_scheme,
               "conformal_reps": reps if conformal_scheme == "iid" else None,
               "conformal_refit": "synthdid unit weights (its zeta_omega; intercept for sdid) refitted on every "
                                  "period under the null", **grid}
    return res.replace(tables=tables, conformal=joint, options=options, extras=extras)
