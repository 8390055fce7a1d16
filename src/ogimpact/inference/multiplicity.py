"""Multiple-testing adjustments: Bonferroni, Holm, Benjamini–Hochberg, Romano–Wolf.

``adjust_pvalues`` gives the classical adjusted p-values (family-wise error
rate: Bonferroni, Holm 1979; false discovery rate: Benjamini & Hochberg 1995),
identical to R ``p.adjust`` and statsmodels ``multipletests``.

``romano_wolf`` is the resampling step-down procedure of Romano & Wolf
(2005a, 2005b) that controls the FWER while using the dependence between
the test statistics, in the form of Stata ``rwolf`` (Clarke, Romano & Wolf
2020) and pyfixest ``rwolf``.  The caller supplies the observed statistics and
a (B x S) matrix of bootstrap statistics drawn with one shared seed (for
example wild-cluster-bootstrap t statistics with the null imposed, or
bootstrap t statistics centred at the original estimates).
``romano_wolf_multiplier`` produces those joint draws for a family of
estimates that come with unit-level influence functions (e.g. Callaway &
Sant'Anna ATTs of several outcomes, ``fit_cs(..., keep_influence=True)``) by a
multiplier bootstrap whose weights are shared by unit label across outcomes.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure.
*Scand. J. Statist.* 6, 65-70.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate.
*JRSS B* 57, 289-300.
Romano, J. P. & Wolf, M. (2005). Stepwise multiple testing as formalized data
snooping. *Econometrica* 73, 1237-1282; Exact and approximate stepdown
methods for multiple hypothesis testing. *JASA* 100, 94-108.
Clarke, D., Romano, J. P. & Wolf, M. (2020). The Romano–Wolf multiple-hypothesis
correction in Stata. *Stata Journal* 20(4), 812-843.
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230 (section 4,
multiplier bootstrap).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import OgimpactError

__all__ = ["adjust_pvalues", "romano_wolf", "romano_wolf_multiplier", "multiplier_tstats", "ADJUST_METHODS",
           "MULTIPLIER_WEIGHTS"]

ADJUST_METHODS = ("bonferroni", "holm", "bh")
#: mean-0, variance-1 multiplier weights of :func:`romano_wolf_multiplier`
MULTIPLIER_WEIGHTS = ("rademacher", "mammen", "webb", "normal")


def adjust_pvalues(p: Sequence[float], method: str = "bh") -> np.ndarray:
    """Adjusted p-values for a family of tests.

    Parameters
    ----------
    p : array-like
        Raw p-values (NaN entries are kept as NaN and not counted in the family).
    method : {"bh", "holm", "bonferroni"}
        Benjamini–Hochberg step-up (FDR), Holm step-down (FWER) or Bonferroni
        (FWER).  ``"fdr_bh"`` is accepted for ``"bh"``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1, in the input order.
    """
    m = str(method).lower()
    m = {"fdr_bh": "bh", "benjamini-hochberg": "bh", "bonf": "bonferroni"}.get(m, m)
    if m not in ADJUST_METHODS:
        raise OgimpactError(f"unknown adjustment {method!r}; use one of {', '.join(ADJUST_METHODS)}.")
    arr = np.asarray(p, dtype=float).reshape(-1)
    ok = np.isfinite(arr)
    if np.any((arr[ok] < 0) | (arr[ok] > 1)):
        raise OgimpactError("p-values must lie in [0, 1]; check the input column.")
    out = np.full(arr.shape, np.nan)
    x = arr[ok]
    n = len(x)
    if n == 0:
        return out
    if m == "bonferroni":
        adj = np.minimum(1.0, x * n)
    elif m == "holm":
        o = np.argsort(x, kind="mergesort")
        stepped = np.maximum.accumulate((n - np.arange(n)) * x[o])
        adj = np.empty(n)
        adj[o] = np.minimum(1.0, stepped)
    else:  # bh
        o = np.argsort(x, kind="mergesort")[::-1]  # largest first
        stepped = np.minimum.accumulate(n / np.arange(n, 0, -1) * x[o])
        adj = np.empty(n)
        adj[o] = np.minimum(1.0, stepped)
    out[ok] = adj
    return out


def romano_wolf(
    stats_obs: Sequence[float],
    boot_stats,
    *,
    two_sided: bool = True,
    plus_one: bool = True,
) -> np.ndarray:
    """Romano–Wolf step-down adjusted p-values from bootstrap statistics.

    Parameters
    ----------
    stats_obs : array-like (S,)
        Observed test statistics (t statistics) of the S hypotheses.
    boot_stats : array-like (B, S)
        Bootstrap statistics under the null (one row per draw, drawn jointly
        for all S hypotheses so their dependence is kept), e.g. WCR t stats or
        ``(b*_s - b_s) / se*_s``.
    two_sided : bool
        Compare absolute values (default); otherwise one-sided upper tests.
    plus_one : bool
        p = (1 + #{max* >= t}) / (B + 1), as pyfixest ``rwolf`` and Stata
        ``rwolf``; ``False`` gives #{max* >= t} / B.

    Returns
    -------
    numpy.ndarray (S,)
        Adjusted p-values in the input order; monotone in |t| (a hypothesis
        with a larger statistic never gets a larger adjusted p-value).

    Notes
    -----
    Order the hypotheses by decreasing |t|: ``t_(1) >= ... >= t_(S)``.  For
    step ``j``, ``max*_j`` is the row-wise maximum of the bootstrap
    statistics of the hypotheses not yet rejected (``(j), ..., (S)``);
    ``p_j = share of max*_j >= t_(j)``; the adjusted p-values are the running
    maximum of ``p_j`` down the order.
    """
    t = np.asarray(stats_obs, dtype=float).reshape(-1)
    bs = np.asarray(boot_stats, dtype=float)
    if bs.ndim == 1 and len(t) == 1:
        bs = bs.reshape(-1, 1)
    if bs.ndim != 2 or bs.shape[1] != len(t):
        raise OgimpactError(
            f"boot_stats must be a (draws x {len(t)}) matrix, one column per hypothesis; got shape {bs.shape}."
        )
    if bs.shape[0] < 1 or len(t) < 1:
        raise OgimpactError("romano_wolf needs at least one hypothesis and one bootstrap draw.")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(bs))):
        raise OgimpactError("the observed or bootstrap statistics contain NaN/inf; drop failed draws first.")
    if two_sided:
        t, bs = np.abs(t), np.abs(bs)
    B, S = bs.shape
    order = np.argsort(-t, kind="mergesort")
    # max over the hypotheses (j..S) in step-down order = reversed cumulative max
    tail_max = np.maximum.accumulate(bs[:, order][:, ::-1], axis=1)[:, ::-1]
    counts = (tail_max >= t[order][None, :]).sum(axis=0)
    p_step = (counts + 1) / (B + 1) if plus_one else counts / B
    p_step = np.minimum(1.0, np.maximum.accumulate(p_step))
    out = np.empty(S)
    out[order] = p_step
    return out


# ------------------------------------------------------------------ joint multiplier bootstrap
def _influence_parts(inf: Mapping[str, Any], k: int) -> tuple[list[str], np.ndarray, float]:
    """Labels (cluster if given, else unit), influence values summed by label, and the scale ``n``."""
    if not isinstance(inf, Mapping):
        raise OgimpactError(f"influence #{k} must be a dict with 'units' and 'values' (e.g. fit_cs extras).")
    scale = inf.get("influence_scale", inf.get("scale"))
    body = inf.get("influence", inf)
    if not isinstance(body, Mapping) or "units" not in body or "values" not in body:
        raise OgimpactError(f"influence #{k} has no 'units'/'values'; fit CS with keep_influence=True.")
    labels = [str(u) for u in (body.get("clusters") or body["units"])]
    vals = np.asarray(body["values"], dtype=float).reshape(-1)
    if len(labels) != len(vals) or not len(vals):
        raise OgimpactError(f"influence #{k} needs one value per unit ({len(labels)} units, {len(vals)} values).")
    if not np.all(np.isfinite(vals)):
        raise OgimpactError(f"influence #{k} contains NaN/inf values; refit or drop that outcome from the family.")
    try:
        scale = float(scale if scale is not None else len(vals))
    except (TypeError, ValueError):
        scale = float("nan")
    if not (np.isfinite(scale) and scale > 0):
        raise OgimpactError(f"influence #{k} has no positive 'influence_scale' (the number of units n).")
    return labels, vals, scale


def _draw(rng: np.random.Generator, size: tuple[int, int], weights: str) -> np.ndarray:
    if weights == "rademacher":
        return rng.integers(0, 2, size=size, dtype=np.int8).astype(float) * 2.0 - 1.0
    if weights == "webb":
        pts = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
        return pts[rng.integers(0, 6, size=size)]
    if weights == "mammen":
        s5 = np.sqrt(5.0)
        lo = rng.random(size) < (s5 + 1) / (2 * s5)
        return np.where(lo, -(s5 - 1) / 2, (s5 + 1) / 2)
    return rng.standard_normal(size)


def multiplier_tstats(
    influences: Sequence[Mapping[str, Any]],
    ses: Sequence[float],
    *,
    B: int = 999,
    seed: int | None = 0,
    weights: str = "rademacher",
    chunk: int = 256,
) -> tuple[np.ndarray, list[str]]:
    """Joint multiplier-bootstrap t statistics ``(B, S)`` of S estimates; returns ``(draws, labels)``.

    One weight ``v_l`` per label ``l`` (the sorted union of the unit labels, or
    the cluster labels when an influence records ``clusters``), drawn from
    ``numpy.random.default_rng(seed)`` in chunks of ``chunk`` draws, serves
    every outcome: ``t*_bm = (sum_l v_bl psi_ml / n_m) / se_m``, where
    ``psi_ml`` is outcome m's influence function summed within label l (0 for
    a label outcome m does not have).  See :func:`romano_wolf_multiplier`.
    """
    if weights not in MULTIPLIER_WEIGHTS:
        raise OgimpactError(f"unknown multiplier weights {weights!r}; use one of {', '.join(MULTIPLIER_WEIGHTS)}.")
    if not isinstance(B, (int, np.integer)) or isinstance(B, bool) or B < 1:
        raise OgimpactError(f"B must be a positive number of bootstrap draws (e.g. 999), got {B!r}.")
    parts = [_influence_parts(inf, k) for k, inf in enumerate(influences)]
    S = len(parts)
    se = np.asarray(ses, dtype=float).reshape(-1)
    if S < 1 or len(se) != S:
        raise OgimpactError(f"give one influence function and one standard error per outcome ({S} and {len(se)}).")
    if not np.all(np.isfinite(se) & (se > 0)):
        raise OgimpactError("every standard error must be positive and finite; drop outcomes without one.")
    labels = sorted(set().union(*(set(p[0]) for p in parts)))
    pos = {lab: i for i, lab in enumerate(labels)}
    L = len(labels)
    Psi = np.zeros((L, S))
    for m, (labs, vals, scale) in enumerate(parts):
        idx = np.fromiter((pos[x] for x in labs), dtype=np.int64, count=len(labs))
        np.add.at(Psi[:, m], idx, vals / (scale * se[m]))
    rng = np.random.default_rng(seed)
    out = np.empty((int(B), S))
    for s0 in range(0, int(B), chunk):
        b = min(chunk, int(B) - s0)
        out[s0:s0 + b] = _draw(rng, (b, L), weights) @ Psi
    return out, labels


def romano_wolf_multiplier(
    influences: Sequence[Mapping[str, Any]],
    estimates: Sequence[float],
    ses: Sequence[float],
    *,
    B: int = 999,
    seed: int | None = 0,
    weights: str = "rademacher",
) -> dict:
    """Romano–Wolf adjusted p-values of a family of influence-function estimates.

    Parameters
    ----------
    influences : sequence of dict, one per outcome
        ``{"influence": {"units": [...], "values": [...][, "clusters": [...]]},
        "influence_scale": n}`` as in ``fit_cs(..., keep_influence=True).extras``
        (or the inner dict with ``"scale"``), in R ``did``'s convention:
        ``se = sqrt(sum psi^2) / n`` and a bootstrap draw is ``sum v_i psi_i / n``.
    estimates, ses : sequence of float
        Each outcome's estimate and standard error; ``t_m = estimate_m / se_m``
        tests ``H0: effect_m = 0``.
    B : int
        Bootstrap draws.
    seed : int
        Seed of ``numpy.random.default_rng`` (the draws are reproducible).
    weights : {"rademacher", "mammen", "webb", "normal"}
        Multiplier distribution (R ``did`` uses Rademacher).

    Returns
    -------
    dict
        ``p_adjusted`` (S,) Romano–Wolf step-down p; ``p_boot`` (S,) each
        outcome's own bootstrap p ``(1 + #{|t*_m| >= |t_m|}) / (B + 1)`` from the
        same draws (the adjusted p of a one-outcome family); ``t`` (S,);
        ``B``, ``seed``, ``weights``, ``n_labels`` (units or clusters drawn).

    Notes
    -----
    The multiplier bootstrap of Callaway & Sant'Anna (2021, section 4)
    perturbs the influence function of an estimate with i.i.d. mean-0,
    variance-1 weights, one per unit (or cluster).  Drawing ONE weight per unit
    label and applying it to every outcome's influence function makes each
    draw a joint draw of all S statistics: the units that move one outcome's
    estimate up move the others in the direction their own (correlated)
    influence functions dictate, so the bootstrap distribution of
    ``max_m |t*_m|`` keeps the cross-outcome dependence that Romano & Wolf
    (2005) exploit to be less conservative than Bonferroni/Holm.  The draws are
    centred at the estimate by construction (``sum v_i psi_i`` has mean 0), so
    they are draws under the null, as :func:`romano_wolf` needs.  Outcomes may
    cover different units (the union is drawn; a missing unit contributes 0).
    """
    est = np.asarray(estimates, dtype=float).reshape(-1)
    if not np.all(np.isfinite(est)):
        raise OgimpactError("every estimate must be finite; drop outcomes that could not be estimated.")
    draws, labels = multiplier_tstats(influences, ses, B=B, seed=seed, weights=weights)
    if len(est) != draws.shape[1]:
        raise OgimpactError(f"give one estimate per influence function ({len(est)} and {draws.shape[1]}).")
    t = est / np.asarray(ses, dtype=float).reshape(-1)
    p_adj = romano_wolf(t, draws, two_sided=True, plus_one=True)
    p_boot = (1 + (np.abs(draws) >= np.abs(t)[None, :]).sum(axis=0)) / (int(B) + 1)
    return {"p_adjusted": p_adj, "p_boot": p_boot, "t": t, "B": int(B), "seed": seed, "weights": weights,
            "n_labels": len(labels)}
