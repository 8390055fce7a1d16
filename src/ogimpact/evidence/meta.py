"""Inverse-variance meta-analysis and meta-regression (metafor's ``rma.uni``).

Random-effects model ``y_i = x_i'beta + u_i + e_i``, ``u_i ~ N(0, tau2)``,
``e_i ~ N(0, v_i)`` with known sampling variances ``v_i``.  ``tau2`` is
estimated by

* ``reml`` — restricted maximum likelihood by Fisher scoring, exactly as
  ``metafor::rma.uni``: start at the Hedges (HE) estimate, step
  ``(y'PPy - tr P) / tr(PP)``, step-halving to stay >= 0, stop when the change
  is below 1e-5 (100 iterations at most), then keep ``tau2 = 0`` if the REML
  likelihood is higher there (Viechtbauer 2005);
* ``dl`` — DerSimonian & Laird (1986) method of moments (``(Q - (k-p)) / tr P``);
* ``pm`` — Paule & Mandel (1982): the root of the generalised Q statistic
  ``y'P(tau2)y = k - p`` (solved to machine precision by Brent's method;
  metafor's ``uniroot`` stops at a tolerance of ~1.2e-4);
* ``fe`` — common (equal) effect, ``tau2 = 0``.

Inference uses normal critical values (z tests), metafor's default
(``test="z"``).  I2 is ``100 tau2 / (tau2 + s2)`` with the "typical" sampling
variance ``s2 = (k-p)/tr P`` (Higgins & Thompson 2002), and
``100 (Q-(k-p))/Q`` for the common-effect model; Q is always the
inverse-variance (fixed-effect) Cochran statistic (QE in a meta-regression).
Prediction interval: ``mu +- z sqrt(se^2 + tau2)`` (metafor ``predict``).

References
----------
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance
estimators in the random-effects model. *J. Educ. Behav. Stat.* 30, 261-293.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor
package. *Journal of Statistical Software* 36(3).
DerSimonian, R. & Laird, N. (1986). *Controlled Clinical Trials* 7, 177-188.
Paule, R. C. & Mandel, J. (1982). *J. Res. Natl. Bur. Stand.* 87, 377-385.
Higgins, J. P. T. & Thompson, S. G. (2002). *Stat. Med.* 21, 1539-1558.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import OgimpactError, OgimpactWarning
from ..results import dumps, json_safe, software_versions, terms_frame

__all__ = ["MetaResult", "meta_analysis", "METHODS"]

#: tau2 estimators of :func:`meta_analysis`
METHODS = ("reml", "dl", "pm", "fe")
_THRESHOLD = 1e-5  # metafor control: threshold
_MAXITER = 100  # metafor control: maxiter


@dataclass(frozen=True)
class MetaResult:
    """A pooled estimate with its heterogeneity statistics and study rows.

    Attributes follow the ``ogimpact meta`` JSON of CONTRACT.md: ``estimate,
    se, ci_low, ci_high, tau2, i2`` (percent), ``q, q_p, pi_low, pi_high, k``,
    plus ``terms`` (meta-regression coefficients), ``method`` and ``measure``.
    ``studies`` holds one row per study (label, yi, vi, sei, ci, weight %).
    Estimates of ratio measures are on the log scale.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    z: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float | None
    pi_high: float | None
    k: int
    method: str
    measure: str | None = None
    alpha: float = 0.05
    terms: tuple = ()
    studies: tuple = ()
    diagnostics: Mapping = field(default_factory=dict)
    options: Mapping = field(default_factory=dict)
    software: Mapping = field(default_factory=dict)

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2)) if np.isfinite(self.tau2) else float("nan")

    # ---------------------------------------------------------------- builder
    @classmethod
    def _build(cls, *, yi, vi, labels, estimate, se, tau2, q, q_p, i2, k, method, measure, alpha,
               q_df: int | None = None, h2: float | None = None, terms=(), weights=None,
               pi: tuple | None = "auto", diagnostics=None, options=None) -> "MetaResult":
        yi = np.asarray(yi, float)
        vi = np.asarray(vi, float)
        crit = float(stats.norm.ppf(1 - alpha / 2))
        zval = estimate / se if se and np.isfinite(se) and se > 0 else float("nan")
        p = float(2 * stats.norm.sf(abs(zval))) if np.isfinite(zval) else float("nan")
        if isinstance(pi, str):
            s = float(np.sqrt(se**2 + tau2))
            pi = (estimate - crit * s, estimate + crit * s)
        if labels is None:
            labels = [str(i + 1) for i in range(len(yi))]
        labels = [str(x) for x in labels]
        if weights is None:
            weights = 1.0 / (vi + tau2)
        w = np.where(np.isfinite(weights) & np.isfinite(yi), weights, 0.0)
        wpct = 100 * w / w.sum() if w.sum() > 0 else np.full(len(w), np.nan)  # percent of total weight
        se_i = np.sqrt(vi)
        studies = tuple(
            {"label": lab, "yi": y, "vi": v, "sei": s, "ci_low": y - crit * s, "ci_high": y + crit * s,
             "weight": wp}
            for lab, y, v, s, wp in zip(labels, yi, vi, se_i, wpct)
        )
        q_df = (k - 1) if q_df is None else q_df
        if h2 is None:
            h2 = q / q_df if q_df > 0 else 1.0
        opts = {"method": method, "measure": measure, "alpha": alpha, "test": "z"}
        opts.update(options or {})
        return cls(
            estimate=float(estimate), se=float(se), ci_low=float(estimate - crit * se),
            ci_high=float(estimate + crit * se), p_value=p, z=float(zval), tau2=float(tau2),
            i2=float(i2), h2=float(h2), q=float(q), q_df=int(q_df), q_p=float(q_p),
            pi_low=None if pi is None else float(pi[0]), pi_high=None if pi is None else float(pi[1]),
            k=int(k), method=method, measure=measure, alpha=alpha, terms=tuple(terms),
            studies=studies, diagnostics=dict(diagnostics or {}), options=opts,
            software=software_versions(),
        )

    # ---------------------------------------------------------------- views
    def to_dict(self) -> dict:
        """The ``ogimpact meta --json`` document (JSON-safe)."""
        d: dict[str, Any] = {
            "design": "meta",
            "method": self.method,
            "measure": self.measure,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "z": self.z,
            "p_value": self.p_value,
            "alpha": self.alpha,
            "tau2": self.tau2,
            "tau": self.tau,
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_df": self.q_df,
            "q_p": self.q_p,
            "pi_low": self.pi_low,
            "pi_high": self.pi_high,
            "k": self.k,
        }
        if self.terms:
            d["terms"] = list(self.terms)
        d["studies"] = list(self.studies)
        d["diagnostics"] = dict(self.diagnostics)
        d["diagnostics"].setdefault("warnings", [])  # CONTRACT: every result JSON, [{code, message}]
        d["options"] = dict(self.options)
        d["software"] = dict(self.software)
        return json_safe(d)

    def to_json(self, *, indent: int | None = 1) -> str:
        return dumps(self.to_dict(), indent=indent)

    def to_frame(self) -> pd.DataFrame:
        """Per-study rows plus a final ``pooled`` row (label, yi, sei, ci_low, ci_high, weight)."""
        df = pd.DataFrame(list(self.studies), columns=["label", "yi", "vi", "sei", "ci_low", "ci_high", "weight"])
        pooled = {"label": f"pooled ({self.method.upper()})", "yi": self.estimate, "vi": self.se**2,
                  "sei": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high, "weight": 100.0}
        return pd.concat([df, pd.DataFrame([pooled])], ignore_index=True)

    def summary(self) -> str:
        """Plain-text summary (metafor-like)."""
        lvl = int(round((1 - self.alpha) * 100))
        lines = [
            f"Meta-analysis ({self.method.upper()}{', ' + self.measure if self.measure else ''}; k = {self.k})",
            f"  tau2 {self.tau2:.4f}  I2 {self.i2:.2f}%  H2 {self.h2:.2f}  "
            f"Q({self.q_df}) {self.q:.4f}, p {self.q_p:.4g}",
            f"  estimate {self.estimate:.4f}  se {self.se:.4f}  z {self.z:.4f}  p {self.p_value:.4g}  "
            f"{lvl}% CI [{self.ci_low:.4f}, {self.ci_high:.4f}]",
        ]
        if self.pi_low is not None:
            lines.append(f"  {lvl}% prediction interval [{self.pi_low:.4f}, {self.pi_high:.4f}]")
        if self.terms:
            lines += ["", pd.DataFrame(list(self.terms)).to_string(index=False)]
        if self.diagnostics.get("qm") is not None:
            dg = self.diagnostics
            lines.append(f"  QM({dg['qm_df']}) {dg['qm']:.4f}, p {dg['qm_p']:.4g}  R2 {dg.get('r2')}")
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover
        return self.summary()

    def plot(self, ax=None, *, transform=None, title: str | None = None):
        """Forest plot (see :func:`ogimpact.plots.evidence.forest_plot`)."""
        from ..plots.evidence import forest_plot

        return forest_plot(self, ax=ax, transform=transform, title=title)


# ------------------------------------------------------------------- fitting
def _wls(y, v, X, tau2):
    """GLS fit at a given tau2: beta, vb, P."""
    w = 1.0 / (v + tau2)
    XtW = X.T * w
    XtWX_inv = np.linalg.inv(XtW @ X)
    beta = XtWX_inv @ (XtW @ y)
    P = np.diag(w) - (XtW.T @ XtWX_inv) @ XtW
    return beta, XtWX_inv, P


def _he(y, v, X) -> float:
    k, p = X.shape
    Pu = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    return float((y @ Pu @ y - np.sum(np.diag(Pu) * v)) / (k - p))


def _reml_ll(y, v, X, tau2) -> float:
    _, vb, P = _wls(y, v, X, tau2)
    return float(-0.5 * (np.sum(np.log(v + tau2)) - np.linalg.slogdet(vb)[1] + y @ P @ y))


def _tau2(y, v, X, method) -> tuple[float, dict]:
    k, p = X.shape
    info: dict[str, Any] = {}
    if method == "fe" or k <= p:
        return 0.0, info
    if method == "dl":
        _, _, P = _wls(y, v, X, 0.0)
        return max(0.0, float((y @ P @ y - (k - p)) / np.trace(P))), info
    if method == "pm":
        def f(t):
            _, _, P = _wls(y, v, X, t)
            return float(y @ P @ y) - (k - p)

        if f(0.0) <= 0:
            return 0.0, info
        hi = max(1.0, 10 * float(np.var(y)))
        while f(hi) > 0:
            hi *= 10
            if hi > 1e12:  # pragma: no cover - pathological input
                raise OgimpactError("the Paule-Mandel equation has no root below 1e12; check the variances.")
        return float(optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500)), info
    tau2, it, solver = _reml_tau2(y, v, X)
    info["tau2_solver"] = solver
    if tau2 > _THRESHOLD and _reml_ll(y, v, X, 0.0) - _reml_ll(y, v, X, tau2) > np.finfo(float).eps ** 0.25:
        tau2 = 0.0  # metafor's ll0check
    _, _, P = _wls(y, v, X, tau2)
    info.update(iterations=it, tau2_se=float(np.sqrt(2 / np.sum(P * P))))
    return float(tau2), info


def _reml_tau2(y, v, X) -> tuple[float, int, str]:
    """REML tau2 by safeguarded (damped) Fisher scoring; returns ``(tau2, iterations, solver)``.

    The Fisher step ``(y'PPy - tr P) / tr(PP)`` of metafor's ``rma.uni`` is proposed
    from the Hedges start and halved while it leaves ``tau2 >= 0`` (as metafor).
    Where that full step raises the restricted log-likelihood it is taken unchanged,
    so the iterates are metafor's; where it would lower it (the overshoot that makes
    plain Fisher scoring 2-cycle around an interior optimum, e.g. 0.0032 <-> 0.0054
    around 0.0042) it is halved until the likelihood does not fall (Jennrich &
    Sampson 1976, step-halving Fisher scoring). Convergence: the full step is below
    metafor's threshold 1e-5. Should the iteration limit still be reached, the
    restricted likelihood is maximised directly on a bracketing interval (Brent's
    bounded method) and ``solver`` says so.
    """
    tau2 = max(0.0, _he(y, v, X))
    ll = _reml_ll(y, v, X, tau2)
    for it in range(1, _MAXITER + 1):
        _, _, P = _wls(y, v, X, tau2)
        adj = float((y @ P @ P @ y - np.trace(P)) / np.sum(P * P))
        while tau2 + adj < 0:
            adj /= 2
        step = adj
        for _ in range(60):
            ll_new = _reml_ll(y, v, X, tau2 + step)
            if ll_new >= ll - 1e-12 * max(1.0, abs(ll)):
                break
            step /= 2
        tau2, ll = tau2 + step, ll_new
        if abs(adj) <= _THRESHOLD:
            return float(tau2), it, "fisher_scoring"
    # fallback: bounded one-dimensional maximisation of the restricted likelihood
    hi = max(1.0, 10.0 * float(np.var(y)), 10.0 * tau2)
    opt = optimize.minimize_scalar(lambda t: -_reml_ll(y, v, X, t), bounds=(0.0, hi), method="bounded",
                                   options={"xatol": 1e-10, "maxiter": 500})
    if not opt.success:  # pragma: no cover - Brent on a bracket always ends
        warnings.warn(OgimpactWarning(
            "not_converged", f"the REML estimate of tau2 did not converge in {_MAXITER} Fisher-scoring "
            f"iterations nor {opt.nit} bounded-search iterations; tau2 = {opt.x:.6g} may be inexact."))
    return float(opt.x), _MAXITER + int(opt.nit), "bounded_search"


def _design(moderators, k) -> tuple[np.ndarray, list[str]]:
    if moderators is None:
        return np.ones((k, 1)), ["Intercept"]
    mods = pd.get_dummies(moderators, drop_first=True, dtype=float)
    X = np.column_stack([np.ones(k), mods.to_numpy(dtype=float)])
    return X, ["Intercept"] + [str(c) for c in mods.columns]


def meta_analysis(
    yi: Sequence[float],
    sei: Sequence[float] | None = None,
    *,
    vi: Sequence[float] | None = None,
    method: str = "reml",
    labels: Sequence[str] | None = None,
    moderators: pd.DataFrame | None = None,
    alpha: float = 0.05,
    measure: str | None = None,
) -> MetaResult:
    """Random- or common-effect meta-analysis / meta-regression (``metafor::rma``).

    Parameters
    ----------
    yi : array-like
        Study effect sizes (log scale for ratio measures).
    sei, vi : array-like
        Standard errors or sampling variances (exactly one of the two).
    method : {"reml", "dl", "pm", "fe"}
        tau2 estimator (module docstring); ``fe`` is the common-effect model.
    labels : sequence of str, optional
        Study labels (forest plot, ``studies`` rows).
    moderators : DataFrame, optional
        Study-level moderators: fits a mixed-effects meta-regression with an
        intercept (``terms`` lists ``Intercept`` and each moderator; text
        columns are dummy-coded).  The headline ``estimate`` is then the
        intercept, ``tau2`` the residual heterogeneity and ``q`` the QE test
        of residual heterogeneity; QM and R2 are in ``diagnostics``.
    alpha : float
        1 - confidence level (normal critical values, as metafor's default).
    measure : str, optional
        Name of the effect measure, recorded in the result.

    Returns
    -------
    MetaResult
    """
    method = str(method).lower()
    if method not in METHODS:
        raise OgimpactError(f"unknown method {method!r}; use one of {', '.join(METHODS)} (mh/peto need counts).")
    if (sei is None) == (vi is None):
        raise OgimpactError("give exactly one of sei (standard errors) or vi (sampling variances).")
    y = np.asarray(yi, dtype=float).reshape(-1)
    v = (np.asarray(sei, dtype=float).reshape(-1) ** 2) if vi is None else np.asarray(vi, dtype=float).reshape(-1)
    if len(v) != len(y):
        raise OgimpactError(f"{len(y)} effect sizes but {len(v)} standard errors/variances; give one per study.")
    if not 0 < alpha < 1:
        raise OgimpactError(f"alpha must be between 0 and 1, not {alpha}.")
    labels_all = [str(i + 1) for i in range(len(y))] if labels is None else [str(x) for x in labels]
    if len(labels_all) != len(y):
        raise OgimpactError(f"{len(labels_all)} labels for {len(y)} studies; give one label per study.")
    mods = None
    if moderators is not None:
        mods = moderators if isinstance(moderators, pd.DataFrame) else pd.DataFrame(moderators)
        if len(mods) != len(y):
            raise OgimpactError(f"moderators have {len(mods)} rows but there are {len(y)} studies; give one row per study.")
        mods = mods.reset_index(drop=True)
    ok = np.isfinite(y) & np.isfinite(v)
    if mods is not None:
        num = mods.select_dtypes("number")
        ok &= ~mods.isna().any(axis=1).to_numpy()
        ok &= np.isfinite(num.to_numpy(dtype=float)).all(axis=1) if num.shape[1] else True
    n_dropped = int((~ok).sum())
    y, v = y[ok], v[ok]
    labels_kept = [lab for lab, o in zip(labels_all, ok) if o]
    if np.any(v <= 0):
        raise OgimpactError("some sampling variances are zero or negative; every study needs a positive se/vi.")
    k = len(y)
    X, names = _design(None if mods is None else mods.loc[ok], k)
    p = X.shape[1]
    if k < max(2, p + (0 if method == "fe" else 1)):
        raise OgimpactError(
            f"{k} usable studies are too few for this model with {p} coefficient(s); add studies or drop moderators."
        )
    if np.linalg.matrix_rank(X) < p:
        raise OgimpactError("the moderators are collinear (or constant); drop redundant moderator columns.")
    tau2, info = _tau2(y, v, X, method)
    beta, vb, _ = _wls(y, v, X, tau2)
    se = np.sqrt(np.diag(vb))
    # heterogeneity statistics (always inverse-variance, metafor)
    _, _, P0 = _wls(y, v, X, 0.0)
    q = max(0.0, float(y @ P0 @ y))
    q_df = k - p
    q_p = float(stats.chi2.sf(q, q_df)) if q_df > 0 else 1.0
    if q_df <= 0:
        i2, h2 = 0.0, 1.0
    elif method == "fe":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        vt = q_df / float(np.trace(P0))
        i2, h2 = 100 * tau2 / (vt + tau2), tau2 / vt + 1
    diagnostics: dict[str, Any] = {"n_dropped": n_dropped, **info}
    if n_dropped:  # warnings are data (diagnostics.warnings)
        diagnostics["warnings"] = [{"code": "rows_dropped", "message": f"{n_dropped} stud(ies) with a missing estimate "
                                    "or standard error were left out of the pooled estimate."}]
    terms: list[dict] = []
    pi: Any = "auto"
    if p > 1:
        terms = terms_frame(names, beta, se, alpha=alpha, df=None)
        b1, V1 = beta[1:], vb[1:, 1:]
        qm = float(b1 @ np.linalg.solve(V1, b1))
        diagnostics.update(qm=qm, qm_df=p - 1, qm_p=float(stats.chi2.sf(qm, p - 1)))
        if method != "fe":
            tau2_re, _ = _tau2(y, v, np.ones((k, 1)), method)
            diagnostics["tau2_intercept_only"] = tau2_re
            diagnostics["r2"] = max(0.0, 100 * (tau2_re - tau2) / tau2_re) if tau2_re > 0 else 0.0
        pi = None  # a prediction interval needs moderator values: none for the intercept
    return MetaResult._build(
        yi=y, vi=v, labels=labels_kept, estimate=float(beta[0]), se=float(se[0]), tau2=tau2, q=q, q_p=q_p,
        i2=i2, h2=h2, k=k, q_df=q_df, method=method, measure=measure, alpha=alpha, terms=terms, pi=pi,
        diagnostics=diagnostics,
        options={"moderators": names[1:] or None, "critical_values": "normal (metafor default)",
                 "reml_threshold": _THRESHOLD if method == "reml" else None,
                 "input": "sei" if vi is None else "vi"},
    )
