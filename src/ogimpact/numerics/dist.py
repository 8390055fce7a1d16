"""Distribution functions through :mod:`scipy.special` — without importing :mod:`scipy.stats`.

``scipy.stats`` takes about half a second to import (it builds every distribution's docstring), more
than most designs take to fit; the report kernel and the CLI need only a handful of quantiles and tail
probabilities, which ``scipy.stats`` itself computes with these same ``scipy.special`` functions
(``t._ppf = stdtrit``, ``t._sf = stdtr(df, -x)``, ``chi2._sf = chdtrc``, ``f._sf = fdtrc``,
``norm._ppf = ndtri``), so the values are the same.  The truncated-normal quantile follows the
log-space inversion of Botev (2017) as ``scipy.stats.truncnorm`` does since scipy 1.9: invert the
log CDF on the side of the truncation interval with the smaller tail mass.

References
----------
Botev, Z. I. (2017). The normal law under linear restrictions: simulation and estimation via minimax
tilting. *JRSS B* 79(1), 125-148.
"""
from __future__ import annotations

import numpy as np
from scipy import special as sc

__all__ = ["norm_ppf", "norm_cdf", "norm_sf", "norm_pdf", "t_ppf", "t_sf", "chi2_sf", "f_sf", "truncnorm_ppf"]


def norm_ppf(q):
    """Standard normal quantile."""
    return sc.ndtri(q)


def norm_cdf(x):
    """Standard normal CDF."""
    return sc.ndtr(x)


def norm_sf(x):
    """Standard normal upper tail ``1 - Phi(x)``, computed as ``Phi(-x)``."""
    return sc.ndtr(-np.asarray(x, float))


def norm_pdf(x):
    """Standard normal density."""
    x = np.asarray(x, float)
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def t_ppf(q, df):
    """Student-t quantile (``df = inf``: the normal quantile)."""
    df = np.asarray(df, float)
    return np.where(np.isinf(df), sc.ndtri(q), sc.stdtrit(np.where(np.isinf(df), 1.0, df), q))[()]


def t_sf(x, df):
    """Student-t upper tail probability."""
    df = np.asarray(df, float)
    x = np.asarray(x, float)
    return np.where(np.isinf(df), sc.ndtr(-x), sc.stdtr(np.where(np.isinf(df), 1.0, df), -x))[()]


def chi2_sf(x, df):
    """Chi-squared upper tail probability."""
    return sc.chdtrc(df, x)


def f_sf(x, dfn, dfd):
    """F upper tail probability."""
    return sc.fdtrc(dfn, dfd, x)


def _log_mass(a, b):
    """``log(Phi(b) - Phi(a))`` for a < b, accurate in both tails."""
    out = np.empty_like(a)
    left, right = b <= 0, a >= 0
    mid = ~(left | right)
    with np.errstate(divide="ignore", invalid="ignore"):
        la, lb = sc.log_ndtr(a[left]), sc.log_ndtr(b[left])
        out[left] = lb + np.log1p(-np.exp(la - lb))
        la, lb = sc.log_ndtr(-b[right]), sc.log_ndtr(-a[right])
        out[right] = lb + np.log1p(-np.exp(la - lb))
        out[mid] = np.log1p(-sc.ndtr(a[mid]) - sc.ndtr(-b[mid]))
    return out


def truncnorm_ppf(q, a, b):
    """Quantile ``q`` of the standard normal truncated to ``[a, b]`` (arrays broadcast)."""
    q, a, b = (np.array(v, float) for v in np.broadcast_arrays(q, a, b))
    out = np.full(q.shape, np.nan)
    ok = (a < b) & (q >= 0) & (q <= 1)
    lm = np.full(q.shape, np.nan)
    lm[ok] = _log_mass(a[ok], b[ok])
    with np.errstate(divide="ignore", invalid="ignore"):
        left = ok & (a < 0)
        out[left] = sc.ndtri_exp(np.logaddexp(sc.log_ndtr(a[left]), np.log(q[left]) + lm[left]))
        right = ok & ~(a < 0)
        out[right] = -sc.ndtri_exp(np.logaddexp(sc.log_ndtr(-b[right]), np.log1p(-q[right]) + lm[right]))
    out = np.where(ok & (q == 0), a, out)
    out = np.where(ok & (q == 1), b, out)
    return np.clip(out, a, b, where=ok, out=out)[()]
