"""Figures of single-treated-unit designs (synthetic control; ITS lives in its own module).

The standard synthetic-control figures of Abadie, Diamond & Hainmueller (2010, JASA
105:493-505, Figs. 2-7) and (2015, AJPS 59:495-510, leave-one-out): treated vs synthetic
paths, the gap, placebo-gap spaghetti with the treated line on top, the histogram of
post/pre RMSPE ratios, and leave-one-out synthetic paths.  Each function takes an
:class:`~ogimpact.results.Estimate` and returns the matplotlib ``Axes`` it drew on
(``ax.figure`` is the figure); they compute nothing, they only read the result.
"""
from __future__ import annotations

import numpy as np

from ..errors import OgimpactError
from ..results import Estimate

__all__ = ["plot_paths", "plot_gaps", "plot_placebo_gaps", "plot_rmspe_ratios", "plot_loo"]

from .style import COUNTERFACTUAL as _SYNTH
from .style import GREY as _GREY
from .style import TREATED as _TREATED
from .style import finish, new_axes, time_label


def _ax(ax):
    return new_axes(ax)[1]


def _gaps(result: Estimate):
    rows = result.tables.get("gaps") or ()
    if not rows:
        raise OgimpactError(f"this {result.design} result has no 'gaps' table to plot; fit a synth/sdid/its design.")
    t = np.array([r["time"] for r in rows], float)
    return t, np.array([r["treated"] for r in rows], float), np.array([r["synthetic"] for r in rows], float)


def _treat_line(ax, result: Estimate):
    tt = result.options.get("treat_time", result.extras.get("treat_time"))
    if tt is not None:
        ax.axvline(float(tt) - 0.5, color="0.4", ls=":", lw=1)


def plot_paths(result: Estimate, ax=None):
    """Treated unit vs its synthetic control over time (ADH 2010, Fig. 2)."""
    ax = _ax(ax)
    t, y, s = _gaps(result)
    ax.plot(t, y, color=_TREATED, lw=2, label=str(result.options.get("treated", "treated")))
    ax.plot(t, s, color=_SYNTH, lw=2, ls="--", label="synthetic")
    _treat_line(ax, result)
    ax.set_xlabel(time_label())
    ax.set_ylabel(result.outcome)
    ax.set_title("Treated unit and its synthetic control")
    finish(ax)
    return ax


def plot_gaps(result: Estimate, ax=None):
    """Gap (treated minus synthetic) over time (ADH 2010, Fig. 3)."""
    ax = _ax(ax)
    t, y, s = _gaps(result)
    ax.plot(t, y - s, color=_TREATED, lw=2)
    ax.axhline(0, color="0.4", lw=0.8)
    _treat_line(ax, result)
    ax.set_xlabel(time_label())
    ax.set_ylabel(f"gap in {result.outcome}")
    ax.set_title("Gap: treated minus synthetic control")
    finish(ax, legend=False)
    return ax


def plot_placebo_gaps(result: Estimate, ax=None, *, kept_only: bool = True):
    """In-space placebo gaps in grey with the treated unit's gap on top (ADH 2010, Figs. 4-7)."""
    gaps = result.extras.get("placebo_gaps")
    if not gaps:
        raise OgimpactError("this result has no placebo gaps; refit with placebo=('space',) (--placebo space).")
    ax = _ax(ax)
    t, y, s = _gaps(result)
    kept = result.extras.get("placebo_kept", {})
    for u, g in gaps.items():
        if kept_only and not kept.get(u, True):
            continue
        ax.plot(t, g, color=_GREY, lw=0.8, alpha=0.8, zorder=1)
    ax.plot(t, y - s, color=_TREATED, lw=2.2, zorder=3, label=str(result.options.get("treated", "treated")))
    ax.axhline(0, color="0.4", lw=0.8, zorder=2)
    _treat_line(ax, result)
    ax.set_xlabel(time_label())
    ax.set_ylabel(f"gap in {result.outcome}")
    ax.set_title("Placebo gaps: every donor as if treated (grey) and the treated unit")
    finish(ax)
    return ax


def plot_rmspe_ratios(result: Estimate, ax=None, *, bins: int = 20):
    """Histogram of post/pre RMSPE ratios of the placebos, the treated unit's marked (ADH 2010, Fig. 8)."""
    pl = result.placebo or {}
    units = pl.get("units")
    if not units:
        raise OgimpactError("this result has no placebo ratios; refit with placebo=('space',) (--placebo space).")
    ax = _ax(ax)
    r = np.array([u["rmspe_ratio"] for u in units if u.get("kept", True)], float)
    ax.hist(r, bins=bins, color=_GREY, edgecolor="white")
    ax.axvline(pl["rmspe_ratio"], color=_SYNTH, lw=2, label=f"treated (p = {pl['p_value']:.3g})")
    ax.set_xlabel("post/pre-period RMSPE ratio")
    ax.set_ylabel("placebos")
    finish(ax)
    return ax


def plot_loo(result: Estimate, ax=None):
    """Leave-one-out synthetic paths (grey) with the treated and full synthetic paths (ADH 2015, Fig. 4)."""
    paths = result.extras.get("loo_paths")
    if not paths:
        raise OgimpactError("this result has no leave-one-out fits; refit with loo=True.")
    ax = _ax(ax)
    t, y, s = _gaps(result)
    for i, (u, p) in enumerate(paths.items()):
        ax.plot(t, p, color=_GREY, lw=1, label="leave one out" if i == 0 else None, zorder=1)
    ax.plot(t, y, color=_TREATED, lw=2, label=str(result.options.get("treated", "treated")), zorder=3)
    ax.plot(t, s, color=_SYNTH, lw=2, ls="--", label="synthetic", zorder=2)
    _treat_line(ax, result)
    ax.set_xlabel(time_label())
    ax.set_ylabel(result.outcome)
    finish(ax)
    return ax
