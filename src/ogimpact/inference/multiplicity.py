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
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import OgimpactError

__all__ = ["adjust_pvalues", "romano_wolf", "ADJUST_METHODS"]

ADJUST_METHODS = ("bonferroni", "holm", "bh")


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
