"""Evidence figures: forest plot and 3ie-style evidence gap map.

The forest plot follows metafor's ``forest.rma`` layout (one row per study
with its CI, squares sized by weight, the pooled diamond and, for
random-effects models, the prediction interval).  The evidence gap map follows
3ie's: interventions x outcome domains, one bubble per cell coloured by the
evidence grade and sized by the number of country studies; empty cells are
marked as absolute gaps and cells with studies but no synthesis as synthesis
gaps (Snilstveit et al. 2016, *J Clin Epidemiol* 79, 120-129).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import OgimpactError

__all__ = ["forest_plot", "evidence_gap_map", "GRADE_COLOURS"]

#: colour per grade label (colour-blind safe, dark = stronger evidence)
GRADE_COLOURS = {
    "High": "#1a9850",
    "Moderate": "#91cf60",
    "Low": "#fee08b",
    "Very low": "#fc8d59",
    "Insufficient": "#d73027",
}


def _ax(ax, size):
    from .style import new_axes

    return new_axes(ax, figsize=size)


def forest_plot(result, ax=None, *, transform: Callable | str | None = None, title: str | None = None):
    """Forest plot of a :class:`ogimpact.evidence.meta.MetaResult`.

    Parameters
    ----------
    result : MetaResult
    ax : matplotlib Axes, optional
    transform : callable or "exp", optional
        Applied to estimates and CI bounds (``"exp"`` shows ratios for log
        risk/odds ratios; the reference line moves to 1).
    title : str, optional

    Returns
    -------
    matplotlib Axes (``ax.figure`` is the figure)
    """
    f = np.exp if transform == "exp" else (transform or (lambda x: x))
    rows = list(result.studies)
    k = len(rows)
    fig, ax = _ax(ax, (7, 0.35 * k + 2))
    y = np.arange(k, 0, -1, dtype=float)
    est = np.array([r["yi"] for r in rows], float)
    lo = np.array([r["ci_low"] for r in rows], float)
    hi = np.array([r["ci_high"] for r in rows], float)
    w = np.array([r["weight"] for r in rows], float)
    ax.hlines(y, f(lo), f(hi), color="0.2", lw=1)
    sizes = 20 + 180 * np.nan_to_num(w) / max(np.nanmax(w), 1e-12)
    ax.scatter(f(est), y, s=sizes, marker="s", color="0.2", zorder=3)
    yd = -0.5
    dx = [f(result.ci_low), f(result.estimate), f(result.ci_high), f(result.estimate)]
    dy = [yd, yd + 0.35, yd, yd - 0.35]
    ax.fill(dx, dy, color="#2166ac", zorder=3)
    if result.pi_low is not None and result.tau2 > 0:
        ax.hlines(yd, f(result.pi_low), f(result.pi_high), color="#2166ac", lw=1, linestyles="dotted")
    ax.axvline(f(0.0), color="0.5", lw=0.8, ls="--")
    labels = [r["label"] for r in rows] + [f"{result.method.upper()} model"]
    ax.set_yticks(list(y) + [yd])
    ax.set_yticklabels(labels)
    ax.set_ylim(yd - 1, k + 1)
    if result.measure and transform != "exp":
        from .style import measure_label

        ax.set_xlabel(measure_label(result.measure, effect=True, prefix="Estimate:"))
    else:
        ax.set_xlabel(("exp " if transform == "exp" else "") + (result.measure or "estimate"))
    ax.set_title(title or f"Forest plot (k={result.k}, tau²={result.tau2:.3g}, I²={result.i2:.1f}%)")
    for yy, e, l, h in zip(y, est, lo, hi):
        ax.annotate(f"{f(e):.2f} [{f(l):.2f}, {f(h):.2f}]", (1.02, yy), xycoords=("axes fraction", "data"),
                    va="center", fontsize=8)
    ax.annotate(f"{f(result.estimate):.2f} [{f(result.ci_low):.2f}, {f(result.ci_high):.2f}]", (1.02, yd),
                xycoords=("axes fraction", "data"), va="center", fontsize=8, weight="bold")
    shown = "; ".join(f"{r['label']} {f(e):.3g} [{f(lo_):.3g}, {f(hi_):.3g}]"
                      for r, e, lo_, hi_ in zip(rows[:8], est, lo, hi)) + (f"; and {k - 8} more" if k > 8 else "")
    ax._ogimpact_alt = (f"Forest plot, titled “{ax.get_title()}”: {k} studies, each an estimate with its 95% "
                        f"confidence interval ({shown}); pooled {result.method} estimate {f(result.estimate):.3g} "
                        f"[{f(result.ci_low):.3g}, {f(result.ci_high):.3g}], I² {result.i2:.0f}%; dashed reference "
                        f"line at {f(0.0):.3g}; x axis: {' '.join(ax.get_xlabel().split())}.")
    fig.tight_layout()
    return ax


def evidence_gap_map(
    cells: pd.DataFrame,
    *,
    interventions: Sequence[str] | None = None,
    domains: Sequence[str] | None = None,
    ax=None,
    title: str | None = None,
):
    """3ie-style evidence gap map.

    Parameters
    ----------
    cells : DataFrame
        One row per (intervention, domain) with columns ``intervention``,
        ``domain``, ``grade`` (a grade label, or empty), ``n_studies`` (number
        of country studies) and optionally ``synthesised`` (bool: a pooled
        body-of-evidence grade exists).
    interventions, domains : sequence of str, optional
        Row / column order, including ones without any study (shown as gaps).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes (``ax.figure`` is the figure)
        Cells with no study carry an "absolute gap" cross; cells with two or
        more studies but no synthesis are hatched ("synthesis gap").
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    need = {"intervention", "domain", "n_studies"}
    if not need <= set(cells.columns):
        raise OgimpactError(f"the gap-map table needs columns {sorted(need)} (and 'grade'); got {list(cells.columns)}.")
    ivs = list(interventions) if interventions is not None else list(dict.fromkeys(cells["intervention"]))
    dms = list(domains) if domains is not None else list(dict.fromkeys(cells["domain"]))
    fig, ax = _ax(ax, (1.8 * len(dms) + 3, 0.9 * len(ivs) + 2))
    nmax = max(float(cells["n_studies"].max() or 1), 1.0)
    lookup = {(r.intervention, r.domain): r for r in cells.itertuples(index=False)}
    for i, iv in enumerate(ivs):
        for j, dm in enumerate(dms):
            x, y = j, len(ivs) - 1 - i
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, ec="0.8", lw=0.8))
            r = lookup.get((iv, dm))
            n = 0 if r is None or pd.isna(r.n_studies) else int(r.n_studies)
            if n == 0:
                ax.plot([x], [y], marker="x", ms=10, color="0.55")
                continue
            g = getattr(r, "grade", None)
            colour = GRADE_COLOURS.get(str(g), "0.7")
            ax.scatter([x], [y], s=150 + 1350 * n / nmax, color=colour, ec="0.2", zorder=3)
            ax.annotate(str(n), (x, y), ha="center", va="center", fontsize=9, zorder=4)
            synth = getattr(r, "synthesised", True)
            if n >= 2 and synth is not None and not bool(synth):
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="///", ec="0.6", lw=0))
    ax.set_xlim(-0.5, len(dms) - 0.5)
    ax.set_ylim(-0.5, len(ivs) - 0.5)
    ax.set_xticks(range(len(dms)))
    ax.set_xticklabels(dms, rotation=20, ha="right")
    ax.set_yticks(range(len(ivs)))
    ax.set_yticklabels(list(reversed(ivs)))
    ax.set_aspect("equal")
    handles = [Patch(color=c, label=k) for k, c in GRADE_COLOURS.items()]
    handles.append(Line2D([], [], marker="x", ls="", color="0.55", label="absolute gap (no study)"))
    handles.append(Patch(fill=False, hatch="///", ec="0.6", label="synthesis gap"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False,
              title="grade (bubble size = country studies)", title_fontsize=8)
    ax.set_title(title or "Evidence gap map")
    cell = ((iv, dm, lookup.get((iv, dm))) for iv in ivs for dm in dms)
    filled = [(iv, dm, r) for iv, dm, r in cell if r is not None and not pd.isna(r.n_studies) and int(r.n_studies) > 0]
    said = "; ".join(f"{iv} × {dm}: {int(r.n_studies)} stud{'y' if int(r.n_studies) == 1 else 'ies'}"
                     + (f", grade {r.grade}" if str(getattr(r, 'grade', '') or '') not in ("", "nan", "None") else "")
                     for iv, dm, r in filled[:12]) + (f"; and {len(filled) - 12} more" if len(filled) > 12 else "")
    ax._ogimpact_alt = (f"Evidence gap map, titled “{ax.get_title()}”: {len(ivs)} interventions (rows) by "
                        f"{len(dms)} outcome domains (columns); {len(filled)} cells have country studies"
                        + (f" ({said})" if filled else "") + f"; {len(ivs) * len(dms) - len(filled)} are absolute "
                        "gaps (no study).")
    fig.tight_layout()
    return ax
