"""Standard errors of influence-function estimators: analytic and multiplier bootstrap.

Conventions follow R ``did`` (Callaway & Sant'Anna 2021, section 4 and Remark 10):

* analytic: ``se = sqrt(sum_i psi_i^2) / n`` for unit-level influence
  functions ``psi`` (n units), or ``sqrt(sum_c (sum_{i in c} psi_i)^2) / n``
  with a cluster variable coarser than the unit;
* multiplier bootstrap (``mboot``): Rademacher multipliers ``v_c`` (R ``BMisc``)
  on the unit- or cluster-summed influence functions,
  ``b* = sqrt(G) * sum_c v_c S_c / n``; the SE is the interquartile range of
  ``b*`` over ``qnorm(.75) - qnorm(.25)``, times ``sqrt(G) / n``; the
  simultaneous (sup-t) critical value is the ``1 - alpha`` quantile (type 1) of
  ``max_j |b*_j / sigma_j|``.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230.
"""
from __future__ import annotations

import numpy as np

from ..numerics import dist as _dist

__all__ = ["cluster_sums", "analytic_se", "if_vcov", "multiplier_bootstrap", "ZERO_SE"]

#: R did treats standard errors at or below this as zero (reported as missing)
ZERO_SE = float(np.sqrt(np.finfo(float).eps) * 10)


def cluster_sums(inf: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Sum unit-level influence functions (rows) within clusters (``codes`` 0..G-1); identity if None."""
    if codes is None:
        return inf
    G = int(codes.max()) + 1
    out = np.zeros((G,) + inf.shape[1:])
    np.add.at(out, codes, inf)
    return out


def analytic_se(inf: np.ndarray, n: int, codes: np.ndarray | None = None) -> np.ndarray:
    """Influence-function SEs of each column (NaN where R did reports none)."""
    S = cluster_sums(np.atleast_2d(inf.T).T, codes)
    se = np.sqrt(np.einsum("ij,ij->j", S, S)) / n
    se[~(se > ZERO_SE)] = np.nan
    return se


def if_vcov(inf: np.ndarray, n: int, codes: np.ndarray | None = None) -> np.ndarray:
    """Covariance of the estimators whose influence functions are the columns of ``inf``."""
    S = cluster_sums(inf, codes)
    return (S.T @ S) / n**2


def _type1_quantile(sorted_cols: np.ndarray, p: float) -> np.ndarray:
    """R ``quantile(type = 1)`` of each column of an already sorted (B, k) array."""
    B = sorted_cols.shape[0]
    idx = max(int(np.ceil(B * p)) - 1, 0)
    return sorted_cols[idx]


def multiplier_bootstrap(
    inf: np.ndarray,
    n: int,
    *,
    B: int,
    seed: int | None,
    codes: np.ndarray | None = None,
    chunk: int = 256,
) -> dict:
    """Multiplier bootstrap of many influence functions at once (one draw of multipliers for all).

    Parameters
    ----------
    inf : (n, k) unit-level influence functions
    n : number of units
    B : bootstrap draws
    seed : seed of ``numpy.random.default_rng``
    codes : cluster code of each unit (None: the unit is the cluster)

    Returns
    -------
    dict with ``se`` (k,), ``draws`` (B, k) and ``weights`` ("rademacher"); the
    sup-t critical value of any subset of columns comes from :func:`uniform_crit`.
    """
    S = cluster_sums(inf, codes)
    G = S.shape[0]
    rng = np.random.default_rng(seed)
    k = S.shape[1]
    bres = np.empty((B, k))
    for s in range(0, B, chunk):
        b = min(chunk, B - s)
        U = rng.integers(0, 2, size=(b, G), dtype=np.int8).astype(float) * 2.0 - 1.0
        bres[s:s + b] = U @ S
    bres *= np.sqrt(G) / n
    ok = np.isfinite(bres).all(0) & ((bres**2).sum(0) > ZERO_SE)
    se = np.full(k, np.nan)
    if ok.any():
        srt = np.sort(bres[:, ok], axis=0)
        iqr = _type1_quantile(srt, 0.75) - _type1_quantile(srt, 0.25)
        se[ok] = iqr / (_dist.norm_ppf(0.75) - _dist.norm_ppf(0.25)) * np.sqrt(G) / n
    se[~(se > ZERO_SE)] = np.nan
    return {"se": se, "draws": bres, "weights": "rademacher", "n_clusters": G}


def uniform_crit(boot: dict, cols: np.ndarray, *, alpha: float) -> float:
    """Sup-t critical value over a subset of bootstrap columns (R did falls back to the normal
    critical value when the bootstrap value is missing or below it)."""
    z = float(_dist.norm_ppf(1 - alpha / 2))
    bres = boot["draws"][:, cols]
    ok = np.isfinite(bres).all(0) & ((bres**2).sum(0) > ZERO_SE)
    if not ok.any():
        return z
    srt = np.sort(bres[:, ok], axis=0)
    sigma = (_type1_quantile(srt, 0.75) - _type1_quantile(srt, 0.25)) / (_dist.norm_ppf(0.75) - _dist.norm_ppf(0.25))
    good = sigma > ZERO_SE
    if not good.any():
        return z
    tmax = np.sort(np.max(np.abs(bres[:, ok][:, good] / sigma[good]), axis=1))
    crit = float(_type1_quantile(tmax[:, None], 1 - alpha)[0])
    if not np.isfinite(crit) or crit < z:
        return z
    return crit


def bootstrap_ses(inf_gt, inf_rows, inf_all, n, *, B, seed, codes, alpha):
    """Bootstrap SEs of ATT(g,t), of the aggregation rows and of the overall effect (one set of draws),
    and the sup-t critical values of the ATT(g,t) and of the rows (R did ``att_gt`` and ``aggte`` bands).

    Returns ``(se_gt, se_rows, se_all, crit_gt, crit_rows, info)``.
    """
    K, r = inf_gt.shape[1], inf_rows.shape[1]
    bt = multiplier_bootstrap(np.column_stack([inf_gt, inf_rows, inf_all]), n, B=B, seed=seed, codes=codes)
    se = bt["se"]
    crit_gt = uniform_crit(bt, np.arange(K), alpha=alpha)
    crit_rows = uniform_crit(bt, np.arange(K, K + r), alpha=alpha) if r else None
    info = {"draws": B, "weights": bt["weights"], "seed": seed, "crit_group_time": crit_gt, "crit_rows": crit_rows}
    return se[:K], se[K:K + r], float(se[-1]), crit_gt, crit_rows, info


__all__ += ["uniform_crit", "bootstrap_ses"]
