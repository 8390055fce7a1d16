"""Effect sizes from 2x2 counts and the count-based pooled estimators.

``escalc`` turns the cells of 2x2 tables into log risk ratios, log odds
ratios, risk differences or Peto log odds ratios with their large-sample
sampling variances, exactly as R ``metafor::escalc`` does (including its
``add``/``to``/``drop00`` continuity-correction rules).  ``mantel_haenszel``
and ``peto`` pool the tables directly (``metafor::rma.mh`` / ``rma.peto``).

Cell convention (metafor's): ``ai``/``bi`` are the events/non-events of the
treated group, ``ci``/``di`` those of the control group.

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor
package. *Journal of Statistical Software* 36(3).
Mantel, N. & Haenszel, W. (1959). *JNCI* 22, 719-748.
Greenland, S. & Robins, J. M. (1985). Estimation of a common effect parameter
from sparse follow-up data. *Biometrics* 41, 55-68.
Robins, J., Breslow, N. & Greenland, S. (1986). Estimators of the
Mantel-Haenszel variance consistent in both sparse data and large-strata
limiting models. *Biometrics* 42, 311-323.
Sato, T., Greenland, S. & Robins, J. M. (1989). On the variance estimator for
the Mantel-Haenszel risk difference. *Biometrics* 45, 1323-1324.
Yusuf, S., Peto, R., Lewis, J., Collins, R. & Sleight, P. (1985). Beta
blockade during and after myocardial infarction. *Prog. Cardiovasc. Dis.* 27.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OgimpactError

__all__ = ["escalc", "mantel_haenszel", "peto", "MEASURES"]

#: count measures understood by :func:`escalc` (metafor names in brackets)
MEASURES = {"rr": "RR", "or": "OR", "rd": "RD", "peto": "PETO"}


def _cells(ai, bi, ci, di) -> tuple[np.ndarray, ...]:
    arrs = [np.asarray(x, dtype=float).reshape(-1) for x in (ai, bi, ci, di)]
    k = len(arrs[0])
    if any(len(a) != k for a in arrs):
        raise OgimpactError(
            "the four count columns have different lengths; give ai, bi, ci, di for every study."
        )
    if k == 0:
        raise OgimpactError("no studies were given; pass at least one 2x2 table of counts.")
    for name, a in zip(("ai", "bi", "ci", "di"), arrs):
        if np.any(a[np.isfinite(a)] < 0):
            raise OgimpactError(f"count column {name} has negative values; counts must be >= 0.")
    return tuple(arrs)


def _measure(measure: str) -> str:
    m = str(measure).lower()
    if m not in MEASURES:
        raise OgimpactError(
            f"unknown measure {measure!r}; use one of {', '.join(sorted(MEASURES))}."
        )
    return m


def escalc(
    measure: str,
    ai: Sequence[float],
    bi: Sequence[float],
    ci: Sequence[float],
    di: Sequence[float],
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> pd.DataFrame:
    """Study-level effect sizes from 2x2 counts, as ``metafor::escalc``.

    Parameters
    ----------
    measure : {"rr", "or", "rd", "peto"}
        Log risk ratio, log odds ratio, risk difference or Peto's log odds ratio.
    ai, bi, ci, di : array-like
        Treated events, treated non-events, control events, control non-events.
    add : float
        Continuity correction added to the cells (metafor default 1/2).
    to : {"only0", "all", "if0all", "none"}
        Which tables get ``add``: those with a zero cell (default), all tables,
        all tables if any has a zero cell, or none.
    drop00 : bool
        Set studies with no events (or only events) in both arms to missing.

    Returns
    -------
    pandas.DataFrame
        Columns ``yi`` (effect size), ``vi`` (sampling variance), ``sei``.
        Infinite values are written as NaN, as metafor does.
    """
    m = _measure(measure)
    if to not in ("only0", "all", "if0all", "none"):
        raise OgimpactError(f"unknown to={to!r}; use only0, all, if0all or none.")
    a, b, c, d = _cells(ai, bi, ci, di)
    a, b, c, d = a.copy(), b.copy(), c.copy(), d.copy()
    if drop00:
        id00 = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        for arr in (a, b, c, d):
            arr[id00] = np.nan
    if to == "all":
        a, b, c, d = a + add, b + add, c + add, d + add
    elif to in ("only0", "if0all"):
        id0 = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        if to == "if0all":
            id0 = np.full_like(id0, bool(id0.any()))
        a, b, c, d = (x + np.where(id0, add, 0.0) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / n1, c / n2
        if m == "rr":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif m == "or":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif m == "rd":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # peto
            n = n1 + n2
            xt, yt = a + c, b + d
            ei = xt * n1 / n
            v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - ei) / v
            vi = 1 / v
    bad = ~np.isfinite(yi) | ~np.isfinite(vi)
    yi = np.where(bad, np.nan, yi)
    vi = np.where(bad, np.nan, vi)
    return pd.DataFrame({"yi": yi, "vi": vi, "sei": np.sqrt(vi)})


def _pooled_tables(a, b, c, d, drop00: bool) -> np.ndarray:
    """Mask of the tables entering the pooled MH/Peto estimate (raw counts, no correction)."""
    keep = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    if drop00:
        keep &= ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    return keep


def _heterogeneity(yi: np.ndarray, vi: np.ndarray, beta: float) -> tuple[float, float, float, int]:
    """Cochran's Q (inverse-variance, around ``beta``), its p-value and I2 (%)."""
    ok = np.isfinite(yi) & np.isfinite(vi)
    y, v = yi[ok], vi[ok]
    k = int(ok.sum())
    if k <= 1:
        return 0.0, 1.0, 0.0, k
    q = max(0.0, float(np.sum((y - beta) ** 2 / v)))
    return q, float(stats.chi2.sf(q, k - 1)), max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0, k


def mantel_haenszel(
    ai: Sequence[float],
    bi: Sequence[float],
    ci: Sequence[float],
    di: Sequence[float],
    *,
    measure: str = "rr",
    labels: Sequence[str] | None = None,
    alpha: float = 0.05,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
):
    """Mantel–Haenszel common-effect estimate, as ``metafor::rma.mh``.

    The pooled estimate uses the raw counts (no continuity correction, as
    metafor's default ``add=c(1/2, 0)``); ``add``/``to``/``drop00`` apply only
    to the study-level ``escalc`` values used for the forest plot and for the
    inverse-variance heterogeneity statistic Q (around the MH estimate).

    Variances: Robins, Breslow & Greenland (1986) for the log OR; Greenland &
    Robins (1985) for the log RR; Sato, Greenland & Robins (1989) for the RD.
    CIs and p-values use the normal distribution (metafor's default).

    Returns
    -------
    MetaResult
        ``method="mh"``; estimate on the log scale for ``rr``/``or``.
    """
    from .meta import MetaResult

    m = _measure(measure)
    if m == "peto":
        raise OgimpactError("measure 'peto' is not a Mantel-Haenszel measure; use rr, or or rd (or call peto()).")
    a, b, c, d = _cells(ai, bi, ci, di)
    es = escalc(m, a, b, c, d, add=add, to=to, drop00=drop00)
    keep = _pooled_tables(a, b, c, d, drop00)
    n_all = a + b + c + d
    # MH study weights (metafor weights.rma.mh): OR b*c/n, RR c*n1/n, RD n1*n2/n
    w_all = {"or": b * c, "rr": c * (a + b), "rd": (a + b) * (c + d)}[m] / n_all
    w_all = np.where(keep, w_all, 0.0)
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    n1, n2 = a + b, c + d
    n = n1 + n2
    if m == "or":
        P, Q = (a + d) / n, (b + c) / n
        Ri, Si = a / n * d, b / n * c
        R, S = Ri.sum(), Si.sum()
        if R == 0 or S == 0:
            beta = se = float("nan")
        else:
            beta = float(np.log(R / S))
            se = float(np.sqrt(0.5 * ((P * Ri).sum() / R**2 + (P * Si + Q * Ri).sum() / (R * S) + (Q * Si).sum() / S**2)))
    elif m == "rr":
        R, S = (a * n2 / n).sum(), (c * n1 / n).sum()
        if a.sum() == 0 or c.sum() == 0:
            beta = se = float("nan")
        else:
            beta = float(np.log(R / S))
            se = float(np.sqrt(((n1 / n) * (n2 / n) * (a + c) - (a / n) * c).sum() / (R * S)))
    else:  # rd
        den = (n1 * n2 / n).sum()
        beta = float((a * n2 / n - c * n1 / n).sum() / den)
        num = beta * (c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2).sum()
        num += (a * (n2 - c) / n + c * (n1 - a) / n).sum() / 2
        se = float(np.sqrt(num / den**2))
    yi, vi = es["yi"].to_numpy(), es["vi"].to_numpy()
    q, q_p, i2, k = _heterogeneity(yi, vi, beta)
    return MetaResult._build(
        yi=yi, vi=vi, labels=labels, estimate=beta, se=se, tau2=0.0, q=q, q_p=q_p, i2=i2,
        k=k, weights=w_all, method="mh", measure=m, alpha=alpha,
        options={"measure": m, "add": add, "to": to, "drop00": drop00, "add_pooled": 0.0,
                 "critical_values": "normal (metafor default)"},
    )


def peto(
    ai: Sequence[float],
    bi: Sequence[float],
    ci: Sequence[float],
    di: Sequence[float],
    *,
    labels: Sequence[str] | None = None,
    alpha: float = 0.05,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
):
    """Peto's one-step log odds ratio (Yusuf et al. 1985), as ``metafor::rma.peto``.

    ``sum(O - E) / sum(V)`` with hypergeometric variances ``V``; SE
    ``1/sqrt(sum V)``; heterogeneity ``Q = sum((O-E)^2/V) - sum(O-E)^2/sum(V)``.
    The pooled estimate uses the raw counts; ``add``/``to``/``drop00`` only
    affect the study-level values shown in the forest plot.  Normal CIs.
    """
    from .meta import MetaResult

    a, b, c, d = _cells(ai, bi, ci, di)
    es = escalc("peto", a, b, c, d, add=add, to=to, drop00=drop00)
    keep = _pooled_tables(a, b, c, d, drop00)
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    ei = xt * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(n > 1, xt * yt * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    sv = float(v.sum())
    if sv == 0:
        raise OgimpactError(
            "Peto's method needs at least one table with both events and non-events; check the count columns."
        )
    beta = float((a - ei).sum() / sv)
    se = float(np.sqrt(1 / sv))
    pos = v > 0
    k = int(np.isfinite(es["yi"]).sum())
    q = max(0.0, float(((a - ei)[pos] ** 2 / v[pos]).sum() - (a - ei).sum() ** 2 / sv))
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else 1.0
    i2 = max(0.0, 100 * (q - (k - 1)) / q) if (k > 1 and q > 0) else 0.0
    w_all = np.zeros(len(keep))
    w_all[keep] = v  # Peto weights: the hypergeometric variances (metafor weights.rma.peto)
    return MetaResult._build(
        yi=es["yi"].to_numpy(), vi=es["vi"].to_numpy(), labels=labels, estimate=beta, se=se,
        weights=w_all, tau2=0.0, q=q, q_p=q_p, i2=i2, k=k, method="peto", measure="or", alpha=alpha,
        options={"measure": "or", "add": add, "to": to, "drop00": drop00, "add_pooled": 0.0,
                 "critical_values": "normal (metafor default)"},
    )
