"""HonestDiD sensitivity analysis of an event study (Rambachan & Roth 2023).

How far can parallel trends fail before the conclusion changes?  Given an
:class:`~ogimpact.results.EventStudy` (pre-period coefficients = event times
< 0, post-period = event times >= 0, the reference period omitted), we report
robust confidence intervals for ``theta = l' tau_post`` under two families of
restrictions on the post-treatment violation of parallel trends:

``method="rm"`` -- relative magnitudes, Delta^RM(Mbar)
    every post-treatment first difference of the violation is at most ``Mbar``
    times the largest pre-treatment first difference; conditional-least-
    favourable hybrid confidence sets (ARP C-LF, ``kappa = alpha / 10``) by test
    inversion on R's grid (:mod:`.sensitivity_rm`).
``method="sd"`` -- smoothness, Delta^SD(M)
    the slope of the violation changes by at most ``M`` between consecutive
    periods; optimal fixed-length confidence intervals (FLCI)
    (:mod:`.sensitivity_sd`).

Both reproduce R ``HonestDiD`` (``createSensitivityResults_relativeMagnitudes``
with its default C-LF method, ``createSensitivityResults`` with its default
FLCI) and use normal critical values as the R package does.

**Breakdown value** (our convention): the smallest ``M`` (``Mbar``) *on the
requested grid* whose robust interval contains 0, i.e. the first grid value at
which the sign of ``theta`` is no longer established; ``None`` if every robust
interval excludes 0.  It is a grid value, not an interpolated one; refine the
grid around it for a sharper number.  When the original CI already covers 0 there is
no significance to break down: ``breakdown`` is then ``None`` and ``breakdown_note``
says "not applicable" with the reason (never a number).

References
----------
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends.
*Review of Economic Studies* 90(5), 2555-2591.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..errors import DesignError, OgimpactError
from ..results import EventStudy, dumps, json_safe
from .sensitivity_rm import rm_interval
from .sensitivity_sd import flci, sd_default_grid

__all__ = ["SensitivityResult", "honest_did", "original_ci", "prepare_event_study"]

_METHODS = {"rm": ("DeltaRM", "C-LF", "Mbar"), "sd": ("DeltaSD", "FLCI", "M")}


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class SensitivityResult:
    """Robust confidence intervals by sensitivity parameter (immutable).

    Attributes
    ----------
    method : str
        ``"rm"`` (M̄, relative magnitudes) or ``"sd"`` (M, smoothness).
    l_vec : tuple of float
        Weights of the target ``theta = l' tau_post``.
    alpha : float
    estimate : float
        ``l' betahat_post``.
    original : dict
        ``{ci_low, ci_high}``: the usual CI under exact parallel trends.
    intervals : tuple of dict
        ``{m, ci_low, ci_high}`` per grid value (NaN when the set is empty).
    breakdown : float or None
        Smallest grid value whose robust interval contains 0 (module docstring); None, with
        ``breakdown_note`` saying so, when the original CI already covers 0 (then there is no
        significance to break down and no value is reported).
    options : dict
        Every option used (defaults included) and the sample description.
    diagnostics : dict
        Warnings, e.g. robust sets open at an end of the test-inversion grid.
    """

    method: str
    l_vec: tuple
    alpha: float
    estimate: float
    original: Mapping[str, float]
    intervals: tuple
    breakdown: float | None
    options: Mapping[str, Any] = field(default_factory=dict)
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    breakdown_note: str | None = None

    def to_dict(self) -> dict:
        """The contract JSON: method, l_vec, original, intervals, breakdown (+ extras)."""
        return json_safe(
            {
                "method": self.method,
                "l_vec": list(self.l_vec),
                "original": dict(self.original),
                "intervals": [dict(r) for r in self.intervals],
                "breakdown": self.breakdown,
                "breakdown_note": self.breakdown_note,
                "alpha": self.alpha,
                "estimate": self.estimate,
                "options": dict(self.options),
                "diagnostics": dict(self.diagnostics),
            }
        )

    def to_json(self, *, indent: int | None = 1) -> str:
        return dumps(self.to_dict(), indent=indent)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: kind (original | robust), m, ci_low, ci_high."""
        rows = [{"kind": "original", "m": np.nan, **dict(self.original)}]
        rows += [{"kind": "robust", **dict(r)} for r in self.intervals]
        return pd.DataFrame(rows, columns=["kind", "m", "ci_low", "ci_high"])

    def summary(self) -> str:
        """Plain-text table of the original and robust intervals."""
        restriction, how, mname = _METHODS[self.method]
        lvl = int(round((1 - self.alpha) * 100))
        lines = [
            f"HonestDiD sensitivity ({restriction}, {how}); theta = l'tau_post, "
            f"l = {list(self.l_vec)}; estimate {self.estimate:.6g}",
            f"  original {lvl}% CI [{self.original['ci_low']:.6g}, {self.original['ci_high']:.6g}]",
            f"  {mname:>8}   ci_low      ci_high",
        ]
        for r in self.intervals:
            lines.append(f"  {r['m']:8.4g}  {r['ci_low']:10.6g}  {r['ci_high']:10.6g}")
        bd = self.breakdown_note or ("none on the grid" if self.breakdown is None else f"{self.breakdown:.6g}")
        lines.append(f"  breakdown {mname} (smallest grid value whose CI contains 0): {bd}")
        for w in self.diagnostics.get("warnings", []):
            lines.append(f"  warning: {w['message'] if isinstance(w, dict) else w}")
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.summary()

    def plot(self, ax=None, *, title: str | None = None):
        """Standard sensitivity plot: the original CI, then the robust CI at each M.

        As R's ``createSensitivityPlot``: the original interval is drawn one grid
        step left of the smallest ``M``, with a horizontal line at 0.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ms = np.array([r["m"] for r in self.intervals], float)
        lo = np.array([r["ci_low"] for r in self.intervals], float)
        hi = np.array([r["ci_high"] for r in self.intervals], float)
        gap = float(np.min(np.diff(np.sort(ms)))) if len(ms) > 1 else 1.0
        gap = gap if gap > 0 else 1.0
        x0 = float(ms.min()) - gap if len(ms) else 0.0
        _, how, mname = _METHODS[self.method]
        ax.errorbar(
            [x0], [(self.original["ci_low"] + self.original["ci_high"]) / 2],
            yerr=[[(self.original["ci_high"] - self.original["ci_low"]) / 2]] * 2,
            fmt="none", color="red", capsize=4, label="Original",
        )
        ax.errorbar(ms, (lo + hi) / 2, yerr=[(hi - lo) / 2, (hi - lo) / 2],
                    fmt="none", color="#01a2d9", capsize=4, label=how)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xlabel("M̄" if self.method == "rm" else "M")
        ax.set_ylabel("theta = l'tau_post")
        ax.legend(loc="best", frameon=False)
        if title:
            ax.set_title(title)
        return ax


# --------------------------------------------------------------------------- inputs
def prepare_event_study(es: Any) -> dict:
    """Validate an event study and split it into pre/post blocks (HonestDiD order).

    Accepts an :class:`EventStudy` or any object with an ``event_study``
    attribute (an :class:`~ogimpact.results.Estimate`).  Drops the reference row
    if present (event time equal to ``es.ref``, or a 0 estimate with 0 variance),
    orders coefficients by event time and checks the covariance.

    Returns
    -------
    dict with ``betahat, sigma, n_pre, n_post, event_times, dropped``.
    """
    if not isinstance(es, EventStudy):
        inner = getattr(es, "event_study", None)
        if not isinstance(inner, EventStudy):
            raise OgimpactError(
                "sensitivity analysis needs an EventStudy (or a result with one); "
                "estimate a dynamic design such as `event-study` first."
            )
        es = inner
    et = np.asarray(es.event_times, dtype=int)
    b = np.asarray(es.estimates, float)
    V = np.asarray(es.vcov, float)
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(V))):
        raise OgimpactError(
            "the event study has missing or non-finite coefficients or covariances; "
            "re-estimate it so every event time has an estimate and a covariance."
        )
    diag = np.diag(V)
    is_ref = (et == es.ref) if es.ref is not None else np.zeros(len(et), bool)
    is_ref |= (b == 0) & (diag == 0)
    dropped = [int(e) for e in et[is_ref]]
    keep = ~is_ref
    et, b, V = et[keep], b[keep], V[np.ix_(keep, keep)]
    order = np.argsort(et, kind="stable")
    et, b, V = et[order], b[order], V[np.ix_(order, order)]
    if len(np.unique(et)) != len(et):
        raise OgimpactError("the event study repeats an event time; pass one coefficient per event time.")
    pre, post = et[et < 0], et[et >= 0]
    if len(pre) == 0:
        raise DesignError(
            "the event study has no pre-period coefficients (event time < 0), which HonestDiD needs "
            "to bound trend violations; re-estimate with a window that includes pre-treatment periods."
        )
    if len(post) == 0:
        raise DesignError(
            "the event study has no post-period coefficients (event time >= 0); "
            "re-estimate with a window that includes post-treatment periods."
        )
    if np.any(np.diff(pre) != 1) or np.any(np.diff(post) != 1) or post[0] - pre[-1] > 2:
        raise DesignError(
            f"the event times {et.tolist()} are not consecutive around one omitted reference period, "
            "as HonestDiD assumes; re-estimate with every event time in the window (binning the ends)."
        )
    asym = np.abs(V - V.T).max()
    if asym > 1e-8 * max(np.abs(V).max(), 1e-300):
        raise OgimpactError(
            f"the event-study covariance matrix is not symmetric (largest asymmetry {asym:.3g}); "
            "pass the covariance the estimator reported."
        )
    V = (V + V.T) / 2
    ev = np.linalg.eigvalsh(V)
    if ev.min() < -1e-10 * max(ev.max(), 1e-300) or ev.max() <= 0:
        raise OgimpactError(
            f"the event-study covariance matrix is not positive semi-definite (smallest eigenvalue "
            f"{ev.min():.3g}); pass a valid covariance (e.g. a cluster-robust one with enough clusters)."
        )
    return {"betahat": b, "sigma": V, "n_pre": len(pre), "n_post": len(post), "event_times": et.tolist(),
            "dropped": dropped}


def _l_vec(l_vec: Sequence[float] | None, n_post: int) -> np.ndarray:
    if l_vec is None:
        lv = np.zeros(n_post)
        lv[0] = 1.0
        return lv
    lv = np.asarray(list(l_vec), dtype=float).reshape(-1)
    if len(lv) != n_post:
        raise OgimpactError(
            f"l_vec has {len(lv)} weights but the event study has {n_post} post-period coefficients "
            "(event time >= 0); give one weight per post period."
        )
    if not np.all(np.isfinite(lv)) or not np.any(lv != 0):
        raise OgimpactError("l_vec must be finite and not all zero; e.g. 1,0 targets the first post period.")
    return lv


def _alpha(alpha: float) -> float:
    a = float(alpha)
    if not 0 < a < 1:
        raise OgimpactError(f"alpha must lie strictly between 0 and 1 (got {alpha}); e.g. 0.05.")
    return a


def _rm_with_widening(b, V, K, lv, m, alpha, grid_points, seed, sd_theta, widened, *, max_tries: int = 4):
    """C-LF interval on R's grid; if the set is empty or open at a grid end, widen.

    R's grid ``[-20, 20] * sd(l'betahat_post)`` is centred on 0, so a large
    effect (or a wide identified set) can fall off it; R then reports an empty
    or truncated set.  Only in that case we re-run on a grid that also covers
    ``estimate +/- 20 * 2^j * sd`` (same step, at most 20000 points), up to
    ``max_tries`` times, and record it in ``widened``.
    """
    lo, hi, is_open = rm_interval(b, V, K, lv, m, alpha=alpha, grid_points=grid_points, seed=seed)
    est = float(lv @ b[K:])
    lb, ub = -20 * sd_theta, 20 * sd_theta
    step = (ub - lb) / (grid_points - 1)
    tries = 0
    while (not np.isfinite(lo) or is_open) and tries < max_tries:
        tries += 1
        half = 20 * sd_theta * 2**tries
        lb, ub = min(lb, est - half), max(ub, est + half)
        npts = int(min(20000, max(grid_points, np.ceil((ub - lb) / step) + 1)))
        lo, hi, is_open = rm_interval(b, V, K, lv, m, alpha=alpha, grid_points=npts, seed=seed,
                                      grid_lb=lb, grid_ub=ub)
    if tries:
        widened.append({"m": m, "grid_bounds": [lb, ub], "grid_points": npts})
    return lo, hi, is_open


# --------------------------------------------------------------------------- API
def original_ci(es: Any, l_vec: Sequence[float] | None = None, alpha: float = 0.05) -> tuple[float, float]:
    """Usual CI for ``l' tau_post`` under exact parallel trends (normal, as HonestDiD).

    Mirrors R ``HonestDiD::constructOriginalCS``.
    """
    p = prepare_event_study(es)
    a = _alpha(alpha)
    lv = _l_vec(l_vec, p["n_post"])
    K = p["n_pre"]
    est = float(lv @ p["betahat"][K:])
    se = float(np.sqrt(max(lv @ p["sigma"][K:, K:] @ lv, 0.0)))
    z = float(ndtri(1 - a / 2))
    return est - z * se, est + z * se


def honest_did(
    es: Any,
    *,
    method: str = "rm",
    grid: Sequence[float] | None = None,
    l_vec: Sequence[float] | None = None,
    alpha: float = 0.05,
    grid_points: int = 1000,
    seed: int = 0,
) -> SensitivityResult:
    """HonestDiD robust confidence intervals over a grid of M̄ (``rm``) or M (``sd``).

    Parameters
    ----------
    es : EventStudy or Estimate
        Event-study coefficients and covariance; event time < 0 are the
        pre-periods, >= 0 the post-periods, the reference period omitted.
    method : {"rm", "sd"}
        ``"rm"``: relative magnitudes Delta^RM(M̄), C-LF hybrid test inversion.
        ``"sd"``: smoothness Delta^SD(M), optimal FLCI.
    grid : sequence of float, optional
        Values of M̄ (``rm``; default 10 values on [0, 2], as R) or M (``sd``;
        default 10 values on [0, Mub], Mub the largest one-sided 95% upper bound
        of the pre-period second differences, as R).
    l_vec : sequence of float, optional
        Target weights on the post-period coefficients; default the first post
        period ``(1, 0, ..., 0)``.
    alpha : float
        1 - confidence level.
    grid_points : int
        ``rm`` only: number of theta values in the test inversion (R: 1000) on
        ``[-20, 20] * sd(l'betahat_post)`` (R's bounds).  Only when that grid
        misses the robust set (empty, or open at an end, which R reports as is)
        is it widened around the estimate (``options["grid_widened"]``).
    seed : int
        ``rm`` only: seed of R's generator for the 1000 draws of the
        least-favourable critical value (R: 0).

    Returns
    -------
    SensitivityResult

    References
    ----------
    Rambachan, A. and Roth, J. (2023). A more credible approach to parallel
    trends. *Review of Economic Studies* 90(5), 2555-2591.
    """
    if method not in _METHODS:
        raise OgimpactError(f"method must be 'rm' (relative magnitudes) or 'sd' (smoothness), not {method!r}.")
    a = _alpha(alpha)
    p = prepare_event_study(es)
    b, V, K, T = p["betahat"], p["sigma"], p["n_pre"], p["n_post"]
    lv = _l_vec(l_vec, T)
    sd_theta = float(np.sqrt(max(lv @ V[K:, K:] @ lv, 0.0)))
    if sd_theta <= 0:
        raise OgimpactError("the target l'tau_post has zero variance; check the event-study covariance and l_vec.")
    if int(grid_points) < 2:
        raise OgimpactError(f"grid_points must be at least 2 (got {grid_points}); R uses 1000.")
    if grid is None:
        g = np.linspace(0.0, 2.0, 10) if method == "rm" else sd_default_grid(b, V, K, alpha=0.05)
    else:
        g = np.asarray(list(grid), dtype=float).reshape(-1)
        if g.size == 0 or not np.all(np.isfinite(g)) or np.any(g < 0):
            raise OgimpactError("the sensitivity grid must be a non-empty list of finite values >= 0, e.g. 0,0.5,1.")
    lo0, hi0 = original_ci(es, lv, a)
    restriction, how, mname = _METHODS[method]
    rows, open_ends, empty, widened = [], [], [], []
    for m in g:
        if method == "rm":
            lo, hi, is_open = _rm_with_widening(b, V, K, lv, float(m), a, int(grid_points), int(seed),
                                                sd_theta, widened)
            if is_open:
                open_ends.append(float(m))
        else:
            r = flci(b, V, K, lv, float(m), alpha=a)
            lo, hi = r["ci_low"], r["ci_high"]
        if not np.isfinite(lo):
            empty.append(float(m))
        rows.append({"m": float(m), "ci_low": lo, "ci_high": hi})
    covers = [r["m"] for r in rows if np.isfinite(r["ci_low"]) and r["ci_low"] <= 0 <= r["ci_high"]]
    breakdown = float(min(covers)) if covers else None
    breakdown_note = None
    if lo0 <= 0 <= hi0:
        # nothing to break down: the estimate is not significant even under exact parallel trends
        breakdown = None
        breakdown_note = (f"not applicable: the original CI [{lo0:.6g}, {hi0:.6g}] already covers 0, so there is "
                          "no significance for a violation of parallel trends to break down")
    warnings = []
    if open_ends:
        warnings.append({"code": "robust_set_open", "message":
            f"the robust set is open at an end of the theta grid [-20, 20] x sd for {mname} = {open_ends}; "
            "its true length may be larger"})
    if widened:
        warnings.append({"code": "grid_widened", "message":
            f"R's theta grid [-20, 20] x sd missed the robust set for {mname} = {[w['m'] for w in widened]}; "
            "it was re-run on a wider grid centred on the estimate (options.grid_widened)"})
    if empty:
        warnings.append({"code": "robust_set_empty",
                         "message": f"the robust set is empty for {mname} = {empty} (every theta on the grid is "
                                    "rejected)"})
    options = {
        "method": method,
        "restriction": restriction,
        "inference": how,
        "parameter": mname,
        "grid": g.tolist(),
        "l_vec": lv.tolist(),
        "alpha": a,
        "n_pre": K,
        "n_post": T,
        "event_times": p["event_times"],
        "dropped_reference_rows": p["dropped"],
        "critical_values": "normal",
    }
    if method == "rm":
        options.update({
            "hybrid": "LF", "kappa": a / 10, "lf_sims": 1000, "seed": int(seed),
            "grid_points": int(grid_points), "grid_bounds": [-20 * sd_theta, 20 * sd_theta],
            "post_period_moments_only": True, "grid_widened": widened,
        })
    return SensitivityResult(
        method=method,
        l_vec=tuple(float(x) for x in lv),
        alpha=a,
        estimate=float(lv @ b[K:]),
        original={"ci_low": lo0, "ci_high": hi0},
        intervals=tuple(rows),
        breakdown=breakdown,
        options=options,
        diagnostics={"warnings": warnings},
        breakdown_note=breakdown_note,
    )
