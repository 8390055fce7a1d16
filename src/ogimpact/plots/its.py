"""Figures of the interrupted-time-series and synthetic-DiD results.

Both read only the result tables (``gaps``, ``time_weights``) and options, so
they work on an :class:`~ogimpact.results.Estimate` or on the dict that
``Estimate.to_dict()`` / ``estimate ... --json`` writes.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .style import PALETTE, finish, time_label

__all__ = ["plot_its", "plot_sdid"]


def _doc(result: Any) -> tuple[dict, dict, dict]:
    if hasattr(result, "tables"):
        return ({k: list(v) for k, v in result.tables.items()}, dict(result.options), dict(result.__dict__))
    d = dict(result)
    return ({k: d.get(k) or [] for k in ("gaps", "time_weights", "weights")}, dict(d.get("options") or {}), d)


def _axes(ax):
    from .style import new_axes

    return new_axes(ax)[1]


def plot_its(result: Any, ax=None):
    """Observed series, fitted segments and the pre-trend counterfactual of an ITS fit.

    Parameters
    ----------
    result : Estimate or result dict of design "its".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    tables, opts, doc = _doc(result)
    g = pd.DataFrame(tables.get("gaps", []))
    if g.empty:
        raise ValueError("this result has no 'gaps' table; plot_its needs the result of fit_its.")
    ax = _axes(ax)
    T0 = opts.get("treat_time")
    pre = g["time"] < T0
    ax.plot(g["time"], g["treated"], "o", ms=3, color="0.35", label="observed")
    # fitted segments = counterfactual + level/slope change (read back from the terms)
    terms = {r["term"]: r["estimate"] for r in (doc.get("terms") or [])}
    fitted = g["synthetic"].copy()
    if "level_change" in terms:
        post = ~pre
        fitted[post] = fitted[post] + terms["level_change"] + terms.get("slope_change", 0.0) * (g["time"][post] - T0)
    ax.plot(g["time"][pre], fitted[pre], color=PALETTE[4], lw=2, label="fitted (pre)")
    ax.plot(g["time"][~pre], fitted[~pre], color=PALETTE[5], lw=2, label="fitted (post)")
    ax.plot(g["time"][~pre], g["synthetic"][~pre], "--", color=PALETTE[4], lw=1.5, label="counterfactual (pre-trend)")
    if T0 is not None:
        ax.axvline(T0 - 0.5, color="0.5", ls=":", lw=1)
    label = "treated minus comparison mean" if opts.get("series") == "comparative" else "outcome"
    ax.set_xlabel(time_label())
    ax.set_ylabel(label)
    ax.set_title("Interrupted time series")
    finish(ax)
    return ax


def plot_sdid(result: Any, ax=None):
    """Treated path, weighted control path and the time weights of an SDID/SC/DID fit.

    The control path is the omega-weighted donor average shifted by the
    lambda-weighted pre-period difference (so post-period gaps average to the
    estimate); the time weights are drawn as bars along the bottom.

    Parameters
    ----------
    result : Estimate or result dict of design "sdid".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    tables, opts, _ = _doc(result)
    g = pd.DataFrame(tables.get("gaps", []))
    if g.empty:
        raise ValueError("this result has no 'gaps' table; plot_sdid needs the result of fit_sdid.")
    ax = _axes(ax)
    T0 = opts.get("treat_time")
    ax.plot(g["time"], g["treated"], color=PALETTE[5], lw=2, label="treated")
    ax.plot(g["time"], g["synthetic"], color=PALETTE[4], lw=2, ls="--", label=f"weighted control ({opts.get('method', 'sdid')})")
    post = g["time"] >= T0 if T0 is not None else g["time"] == g["time"]
    ax.fill_between(g["time"][post], g["treated"][post], g["synthetic"][post], color=PALETTE[5], alpha=0.12)
    tw = pd.DataFrame(tables.get("time_weights", []))
    if not tw.empty and tw["weight"].sum() > 0:
        lo, hi = ax.get_ylim()
        h = 0.15 * (hi - lo)
        ax.bar(tw["time"], tw["weight"] / tw["weight"].max() * h, bottom=lo, width=0.8, color="0.6",
               alpha=0.7, label="time weights (scaled)")
        ax.set_ylim(lo, hi)
    if T0 is not None:
        ax.axvline(T0 - 0.5, color="0.5", ls=":", lw=1)
    ax.set_xlabel(time_label())
    ax.set_ylabel("outcome")
    ax.set_title("Synthetic difference-in-differences")
    finish(ax)
    return ax
