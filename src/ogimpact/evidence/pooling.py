"""Pooling inside the grader: REML random effects with small-sample intervals.

The body-of-evidence grade pools a handful of country or cohort effects, where normal critical
values under-cover (docs/validity.md: REML Wald CIs cover 91-93% and prediction intervals 82-90%
at k = 10-30).  The grader therefore pools with

* tau² by REML (metafor's default estimator);
* the Hartung–Knapp–Sidik–Jonkman CI: the variance of the pooled mean scaled by the weighted
  residual mean square ``s²``, t(k − 1) critical values (Hartung & Knapp 2001; Sidik & Jonkman
  2002; IntHout, Ioannidis & Borm 2014, *BMC Med Res Methodol* 14:25), with the scale truncated
  at ``s² >= 1`` (Knapp & Hartung 2003's ad hoc modification; Röver, Knapp & Friede 2015, *BMC Med
  Res Methodol* 15:99), so the interval is never narrower than the Wald one;
* the prediction interval mean ± t(k − 2) · sqrt(tau² + SE²) with that SE (Higgins, Thompson &
  Spiegelhalter 2009, *JRSS A* 172, 137-159; IntHout et al. 2016, *BMJ Open* 6:e010247).

Measured (1,000 seeded meta-analyses each, v ~ U(0.01, 0.2)): CI coverage 95.6% (k = 10,
tau² = 0.05), 93.7% (k = 30), 95.0% (k = 10, tau² = 0.2) against 91.9%, 92.5%, 91.1% for Wald z;
prediction-interval coverage 85.5%, 87.8%, 91.0% against 80.9%, 86.3%, 87.1% for the normal PI —
better, still short of 95% when tau² is small against the within-study variances, because REML
often puts tau² at 0 (Partlett & Riley 2017, *Stat Med* 36, 301-317).
``ogimpact meta`` keeps metafor's defaults (Wald z); only the grader uses this.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..numerics import dist as _dist
from ..errors import OgimpactError

__all__ = ["pool_for_grade"]


def pool_for_grade(yi: Sequence[float], sei: Sequence[float], *, labels: Sequence[str] | None = None,
                   alpha: float = 0.05) -> dict:
    """REML pooled effect with an HKSJ CI (t(k−1)) and a t(k−2) prediction interval.

    Returns ``{estimate, se, ci_low, ci_high, pi_low, pi_high, tau2, i2, q, q_p, k, df_ci, df_pi,
    method, studies}``; ``pi_low``/``pi_high`` are None when k < 3 (no t(k−2)).
    """
    from .meta import meta_analysis
    from .meta_bias import knha

    y = np.asarray(yi, float)
    s = np.asarray(sei, float)
    keep = np.isfinite(y) & np.isfinite(s) & (s > 0)
    if keep.sum() < 2:
        raise OgimpactError("pooling needs at least two effects with a positive standard error.")
    lab = None if labels is None else [str(x) for x, k in zip(labels, keep) if k]
    base = meta_analysis(y[keep], s[keep], method="reml", labels=lab, alpha=alpha)
    res = knha(base)
    k = int(res.k)
    s2 = float(res.options.get("knha_s2", (res.se / base.se) ** 2))
    se = float(base.se * np.sqrt(max(1.0, s2)))  # ad hoc truncation: never below the Wald SE
    crit_ci = float(_dist.t_ppf(1 - alpha / 2, k - 1))
    pi_low = pi_high = None
    if k >= 3:
        crit = float(_dist.t_ppf(1 - alpha / 2, k - 2))
        half = crit * float(np.sqrt(se ** 2 + res.tau2))
        pi_low, pi_high = res.estimate - half, res.estimate + half
    return {"estimate": res.estimate, "se": se, "ci_low": res.estimate - crit_ci * se,
            "ci_high": res.estimate + crit_ci * se, "knha_s2": s2,
            "pi_low": pi_low, "pi_high": pi_high, "tau2": res.tau2, "i2": res.i2, "q": res.q, "q_p": res.q_p,
            "k": k, "df_ci": k - 1, "df_pi": k - 2 if k >= 3 else None, "alpha": alpha,
            "method": "REML tau2; Hartung-Knapp-Sidik-Jonkman CI (s2 truncated at 1) with t(k-1); prediction "
                      "interval with t(k-2)",
            "studies": [dict(r) for r in res.studies]}
