"""Figures for the result family (matplotlib, no global state), all in one style (``plots.style``).

``plot_result`` dispatches on what a result holds; the single-unit figures
(paths, gaps, placebos, leave-one-out) live in ``plots.single``, ITS/SDID in
``plots.its``, the dose response in ``plots.dose``, forest plots and the evidence map in
``plots.evidence``.  Every function returns the matplotlib ``Axes`` it drew on
(``ax.figure`` is the figure); ``plots.style.export`` writes SVG or 300-dpi PNG and
``plots.style.alt_text`` describes a figure from its content.
"""
from __future__ import annotations

import importlib

import numpy as np

from .style import alt_text, export, finish, new_axes, time_label

__all__ = ["plot_event_study", "plot_terms", "plot_result", "new_axes", "finish", "export", "alt_text"]


def plot_event_study(es, ax=None, *, title: str | None = None, label: str | None = None, offset: float = 0.0,
                     color=None):
    """Event-study plot: estimates with pointwise CIs (and uniform band), reference period at zero.

    Parameters
    ----------
    es : EventStudy
    ax : matplotlib Axes, optional (draw several estimators on one axes with ``offset``)
    """
    fig, ax = new_axes(ax)
    f = es.to_frame()
    x = f["event_time"].to_numpy(float) + offset
    y = f["estimate"].to_numpy(float)
    lo, hi = f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float)
    line = ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", capsize=3, ms=4, label=label or es.estimator,
                       color=color)
    if "cband_low" in f:
        ax.fill_between(x, f["cband_low"], f["cband_high"], alpha=0.15, color=line[0].get_color(),
                        label="uniform band")
    if es.ref is not None:
        ax.plot([es.ref + offset], [0.0], marker="o", mfc="white", color=line[0].get_color())
    ax.axhline(0, color="0.4", lw=0.8)
    ax.axvline(-0.5, color="0.6", lw=0.8, ls="--")
    ax.set_xlabel(f"Event time ({time_label().lower()}s since adoption; 0 = first treated)")
    ax.set_ylabel("Effect")
    if title:
        ax.set_title(title)
    finish(ax)
    return ax


def plot_terms(result, ax=None, *, title: str | None = None):
    """Coefficient plot of a regression result's terms with CIs."""
    fig, ax = new_axes(ax)
    f = result.to_frame()
    f = f[~f["term"].astype(str).str.startswith("event_time::")]
    y = np.arange(len(f))
    est = f["estimate"].to_numpy(float)
    ax.errorbar(est, y, xerr=[est - f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float) - est],
                fmt="o", capsize=3)
    ax.set_yticks(y, f["term"].astype(str))
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_xlabel("Estimate")
    ax.set_title(title or f"{result.design}: {result.outcome}")
    finish(ax, legend=False)
    return ax


#: figure kind -> (module, function) for figures of single-unit designs
_KINDS = {
    "paths": ("ogimpact.plots.single", "plot_paths"),
    "gaps": ("ogimpact.plots.single", "plot_gaps"),
    "placebo": ("ogimpact.plots.single", "plot_placebo_gaps"),
    "rmspe": ("ogimpact.plots.single", "plot_rmspe_ratios"),
    "loo": ("ogimpact.plots.single", "plot_loo"),
    "its": ("ogimpact.plots.its", "plot_its"),
    "sdid": ("ogimpact.plots.its", "plot_sdid"),
    "dose_response": ("ogimpact.plots.dose", "plot_dose_response"),
}


def plot_result(result, *, kind: str | None = None, ax=None, **kw):
    """The default figure of a result, or the figure ``kind``."""
    if kind is None:
        if result.tables.get("dose_response"):
            kind = "dose_response"
        elif result.event_study is not None:
            kind = "event_study"
        elif result.design == "synth":
            kind = "paths"
        elif result.design == "its":
            kind = "its"
        elif result.design == "sdid":
            kind = "sdid"
        else:
            kind = "terms"
    if kind == "event_study":
        if result.event_study is None:
            raise ValueError(f"{result.design} result has no event study")
        return plot_event_study(result.event_study, ax=ax, **kw)
    if kind == "terms":
        return plot_terms(result, ax=ax, **kw)
    if kind not in _KINDS:
        raise ValueError(f"unknown figure kind {kind!r}; choose one of event_study, terms, {', '.join(_KINDS)}")
    mod, fn = _KINDS[kind]
    return getattr(importlib.import_module(mod), fn)(result, ax=ax, **kw)
