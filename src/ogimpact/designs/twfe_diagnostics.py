"""What a static TWFE coefficient averages: Goodman-Bacon decomposition and dCDH weights.

Two diagnostics of ``y_it = a_i + l_t + beta D_it + e_it`` with a 0/1 treatment:

* :func:`bacon_decomposition` — Goodman-Bacon (2021, *J. Econometrics* 225(2),
  Theorem 1): with a balanced panel and an absorbing treatment, ``beta`` is the
  variance-weighted average of every 2x2 DiD between timing groups
  (earlier- vs later-treated, later- vs earlier-treated, treated vs never
  treated, later vs always treated).  Labels follow R ``bacondecomp``.
* :func:`twfe_weights` — de Chaisemartin & D'Haultfœuille (2020, *AER* 110(9),
  Theorem 1 and Corollary 1): ``beta`` is a weighted sum of the treated cells'
  effects with weights proportional to the residual of ``D`` on the two sets of
  fixed effects; some weights may be negative.  ``sigma_fe`` is the smallest
  standard deviation of cell effects compatible with ``beta`` and an average
  effect of zero (SD of the weights with denominator ``N_1 - 1``, as R ``twowayfeweights``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DesignError, PanelError
from ..results import json_safe, software_versions
from ..numerics.fe import codes, demean

__all__ = ["BaconDecomposition", "TwfeWeights", "bacon_decomposition", "twfe_weights"]

EARLY = "Earlier vs Later Treated"
LATE = "Later vs Earlier Treated"
NEVER = "Treated vs Untreated"
ALWAYS = "Later vs Always Treated"


@dataclass(frozen=True)
class BaconDecomposition:
    """The 2x2 estimates and weights of a TWFE coefficient (``rows``: type, cohort, comparison, estimate, weight)."""

    outcome: str
    estimate: float
    rows: tuple
    options: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows), columns=["type", "cohort", "comparison", "estimate", "weight"])

    def summary_by_type(self) -> pd.DataFrame:
        """Weight and weighted-average estimate per comparison type (R ``bacon_summary``)."""
        f = self.to_frame()
        g = f.assign(wx=f["weight"] * f["estimate"]).groupby("type", sort=False)
        out = g[["weight", "wx"]].sum()
        out["avg_estimate"] = out["wx"] / out["weight"]
        return out[["weight", "avg_estimate"]].reset_index()

    def to_dict(self) -> dict:
        return json_safe({
            "design": "bacon", "outcome": self.outcome, "estimate": self.estimate,
            "decomposition": list(self.rows),
            "summary": self.summary_by_type().to_dict(orient="records"),
            "diagnostics": dict(self.diagnostics), "options": dict(self.options), "software": software_versions(),
        })

    def summary(self) -> str:
        return "\n".join([f"Goodman-Bacon decomposition — outcome: {self.outcome}",
                          f"  TWFE estimate {self.estimate:.6g}", "",
                          self.summary_by_type().to_string(index=False), "",
                          self.to_frame().to_string(index=False)])

    def plot(self, ax=None, *, title: str | None = None):
        """Scatter of the 2x2 estimates against their weights, by comparison type; TWFE line."""
        from ..plots import new_axes

        fig, ax = new_axes(ax)
        f = self.to_frame()
        for (typ, sub), mk in zip(f.groupby("type", sort=False), "osd^v"):
            ax.scatter(sub["weight"], sub["estimate"], marker=mk, label=typ, alpha=0.8)
        ax.axhline(self.estimate, color="k", lw=1, ls="--", label=f"TWFE = {self.estimate:.3g}")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("weight")
        ax.set_ylabel("2x2 DiD estimate")
        ax.set_title(title or f"Goodman-Bacon decomposition: {self.outcome}")
        ax.legend(fontsize="small")
        return ax


@dataclass(frozen=True)
class TwfeWeights:
    """de Chaisemartin–D'Haultfœuille weights of the treated cells (``cells``: unit, time, weight)."""

    outcome: str
    estimate: float
    n_negative: int
    sum_negative: float
    sigma_fe: float
    cells: tuple
    options: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.cells), columns=["unit", "time", "weight"])

    def to_dict(self) -> dict:
        return json_safe({
            "design": "twfe_weights", "outcome": self.outcome, "estimate": self.estimate,
            "n_negative": self.n_negative, "sum_negative": self.sum_negative, "sigma_fe": self.sigma_fe,
            "n_cells": len(self.cells), "sum_positive": float(sum(c["weight"] for c in self.cells if c["weight"] > 0)),
            "cells": list(self.cells), "diagnostics": dict(self.diagnostics), "options": dict(self.options),
            "software": software_versions(),
        })

    def summary(self) -> str:
        return "\n".join([f"de Chaisemartin-D'Haultfoeuille TWFE weights — outcome: {self.outcome}",
                          f"  TWFE estimate {self.estimate:.6g}; {len(self.cells)} treated cells, "
                          f"{self.n_negative} negative weights (sum {self.sum_negative:.6g}); sigma_fe {self.sigma_fe:.6g}"])

    def plot(self, ax=None, *, title: str | None = None):
        """Histogram of the treated cells' weights."""
        from ..plots import new_axes

        fig, ax = new_axes(ax)
        w = self.to_frame()["weight"].to_numpy(float)
        ax.hist(w, bins=min(30, max(5, len(w) // 3)))
        ax.axvline(0, color="k", lw=1)
        ax.set_xlabel("weight of the treated cell in the TWFE coefficient")
        ax.set_ylabel("cells")
        ax.set_title(title or f"TWFE weights: {self.outcome}")
        return ax


def _arrays(panel):
    if not panel.treat:
        raise DesignError("the TWFE diagnostics need a 0/1 treatment column (--treat COL).")
    f = panel.frame[[panel.unit, panel.time, panel.outcome, panel.treat]].dropna()
    D = f[panel.treat].to_numpy(float)
    if not ((D == 0) | (D == 1)).all() or D.min() == D.max():
        raise DesignError("the treatment must be 0/1 with both values present; recode --treat.")
    return f, D, len(panel.frame) - len(f)


def _twfe_beta(y, D, fe) -> tuple[float, np.ndarray]:
    Z = demean(np.column_stack([y, D]), fe)
    dd = Z[:, 1]
    return float(dd @ Z[:, 0] / (dd @ dd)), dd


def bacon_decomposition(panel) -> BaconDecomposition:
    """Goodman-Bacon (2021) decomposition of the static TWFE coefficient.

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        With a ``treat`` role (0/1, absorbing: once treated, always treated) on
        a balanced panel, as R ``bacondecomp`` requires.

    Returns
    -------
    BaconDecomposition
        One row per ordered pair of timing groups (and each group against the
        never treated): the 2x2 DiD and its weight (weights sum to one and
        reproduce the TWFE coefficient).
    """
    f, D, n_drop = _arrays(panel)
    u, t = panel.unit, panel.time
    times = np.sort(f[t].unique())
    T = len(times)
    counts = f.groupby(u)[t].nunique()
    if (counts != T).any() or f.groupby(u).size().ne(T).any():
        raise PanelError("the Goodman-Bacon decomposition needs a balanced panel (every unit in every period); "
                         f"{int((counts != T).sum())} unit(s) are incomplete — drop them or fill the outcome.")
    wide_d = f.pivot(index=u, columns=t, values=panel.treat).reindex(columns=times)
    wide_y = f.pivot(index=u, columns=t, values=panel.outcome).reindex(columns=times)
    dmat = wide_d.to_numpy(float)
    if (np.diff(dmat, axis=1) < 0).any():
        raise DesignError("the Goodman-Bacon decomposition needs an absorbing treatment (once 1, always 1); "
                          "for a treatment that switches off use `ogimpact estimate dcdh`.")
    first = np.where(dmat.any(axis=1), dmat.argmax(axis=1), -1)  # index of the first treated period
    cohort_idx = pd.Series(first, index=wide_d.index)
    groups = sorted(int(g) for g in np.unique(first) if g >= 0)
    ymean = {g: wide_y.to_numpy(float)[first == g].mean(axis=0) for g in np.unique(first)}
    N = len(first)
    share = {g: float((first == g).sum()) / N for g in np.unique(first)}
    dbar = {g: (T - g) / T for g in groups}  # share of periods treated
    has_never = -1 in share

    def dd(ytr, yco, pre, post):
        return float((ytr[post].mean() - ytr[pre].mean()) - (yco[post].mean() - yco[pre].mean()))

    rows, raw_w = [], []
    idx = np.arange(T)
    for k in groups:
        if has_never and k > 0:
            nk, nu = share[k], share[-1]
            nku = nk / (nk + nu)
            w = (nk + nu) ** 2 * nku * (1 - nku) * dbar[k] * (1 - dbar[k])
            est = dd(ymean[k], ymean[-1], idx < k, idx >= k)
            rows.append({"type": NEVER, "cohort": times[k], "comparison": "never", "estimate": est})
            raw_w.append(w)
        for l in groups:
            if l == k:
                continue
            nk, nl = share[k], share[l]
            nkl = nk / (nk + nl)
            if k < l:  # k earlier, l later: window before l's treatment, l is the control
                if k == 0:
                    continue  # an always-treated group has no pre-period
                w = ((nk + nl) * (1 - dbar[l])) ** 2 * nkl * (1 - nkl) * \
                    (dbar[k] - dbar[l]) / (1 - dbar[l]) * (1 - dbar[k]) / (1 - dbar[l])
                win = idx < l
                est = dd(ymean[k], ymean[l], win & (idx < k), win & (idx >= k))
                typ = EARLY
            else:  # k later-treated, l earlier-treated control, window from l's treatment on
                w = ((nk + nl) * dbar[l]) ** 2 * nkl * (1 - nkl) * \
                    dbar[k] / dbar[l] * (dbar[l] - dbar[k]) / dbar[l]
                win = idx >= l
                est = dd(ymean[k], ymean[l], win & (idx < k), win & (idx >= k))
                typ = ALWAYS if l == 0 else LATE
            rows.append({"type": typ, "cohort": times[k], "comparison": times[l], "estimate": est})
            raw_w.append(w)
    if not rows:
        raise DesignError("no 2x2 comparison exists: the decomposition needs at least two timing groups "
                          "or a never-treated group beside the treated.")
    raw = np.asarray(raw_w, float)
    wts = raw / raw.sum()
    for r, w in zip(rows, wts):
        r["weight"] = float(w)
        r["cohort"] = _py(r["cohort"])
        r["comparison"] = _py(r["comparison"])
    fe = [codes(f[u].to_numpy()), codes(f[t].to_numpy())]
    beta, _ = _twfe_beta(f[panel.outcome].to_numpy(float), D, fe)
    recon = float(sum(r["weight"] * r["estimate"] for r in rows))
    diag = {"n_dropped": n_drop, "n_units": N, "n_periods": T, "n_comparisons": len(rows),
            "weighted_sum": recon, "reconstruction_error": recon - beta,
            "n_never_treated": int((first == -1).sum()), "n_always_treated": int((first == 0).sum())}
    opts = {"treat": panel.treat, "unit": u, "time": t, "fixed_effects": [u, t],
            "labels": "R bacondecomp (Earlier vs Later Treated, Later vs Earlier Treated, Treated vs Untreated, "
                      "Later vs Always Treated); comparison 'never' = the never-treated units",
            "weights": "Goodman-Bacon (2021) Theorem 1 variance weights (sum to one)"}
    return BaconDecomposition(panel.outcome, beta, tuple(rows), opts, diag)


def _py(v):
    return v.item() if hasattr(v, "item") else v


def twfe_weights(panel) -> TwfeWeights:
    """de Chaisemartin & D'Haultfœuille (2020) weights of the treated cells in the TWFE coefficient.

    Parameters
    ----------
    panel : ogimpact.panel.Panel
        With a 0/1 ``treat`` role; one row per (unit, time) cell (the panel may be
        unbalanced; the treatment need not be absorbing).

    Returns
    -------
    TwfeWeights
        ``cells``: weight of each treated (unit, time) cell, ``eps_gt / sum of eps over
        treated cells`` with ``eps`` the residual of ``D`` on unit and time effects
        (weights sum to one); ``n_negative``, ``sum_negative``; ``sigma_fe`` =
        ``|beta| / sigma(w)`` with ``sigma(w)`` the SD of ``N_1 w`` over the ``N_1``
        treated cells (Corollary 1), with the ``N_1 - 1`` denominator of R
        ``twowayfeweights`` (R ``sd``).
    """
    f, D, n_drop = _arrays(panel)
    fe = [codes(f[panel.unit].to_numpy()), codes(f[panel.time].to_numpy())]
    beta, eps = _twfe_beta(f[panel.outcome].to_numpy(float), D, fe)
    tr = D == 1
    tot = float(eps[tr].sum())
    if abs(tot) < 1e-14:
        raise DesignError("the treatment is collinear with the unit and time effects; TWFE weights are undefined.")
    w = eps[tr] / tot
    n1 = int(tr.sum())
    neg = w < 0
    # R twowayfeweights takes sd() of N1*w over the treated cells (denominator N1 - 1)
    sd = float(np.sqrt(((n1 * w - 1.0) ** 2).sum() / (n1 - 1))) if n1 > 1 else float("nan")
    sigma_fe = abs(beta) / sd if sd > 0 else float("nan")
    sub = f.loc[tr]
    cells = tuple({"unit": _py(a), "time": _py(b), "weight": float(c)}
                  for a, b, c in zip(sub[panel.unit].to_numpy(), sub[panel.time].to_numpy(), w))
    diag = {"n_dropped": n_drop, "n_treated_cells": n1}
    opts = {"treat": panel.treat, "type": "feTR (treated cells, unit and time effects; R twowayfeweights)",
            "fixed_effects": [panel.unit, panel.time], "sigma_fe": "|beta| / SD of N1*w over treated cells, denominator N1-1 (Corollary 1; R twowayfeweights)"}
    return TwfeWeights(panel.outcome, beta, int(neg.sum()), float(w[neg].sum()), float(sigma_fe), cells, opts, diag)
