"""Dose-response figure of the continuous-dose DiD (``dose_response`` rows of the result)."""
from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["plot_dose_response"]


def plot_dose_response(result: Any, ax=None, *, title: str | None = None):
    """ATT(d) or ACRT(d) against the dose with pointwise confidence intervals (Estimate or result dict)."""
    rows = list(result.tables.get("dose_response", ())) if hasattr(result, "tables") else list(result.get("dose_response") or [])
    if not rows:
        raise ValueError("this result has no dose_response rows (run the 'continuous' design with --aggregate dose)")
    opts = dict(result.options) if hasattr(result, "options") else dict(result.get("options") or {})
    df = pd.DataFrame(rows)
    from .style import PALETTE, finish, new_axes

    _, ax = new_axes(ax)
    ax.fill_between(df["dose"], df["ci_low"], df["ci_high"], alpha=0.25, color=PALETTE[4], label="pointwise CI")
    ax.plot(df["dose"], df["estimate"], color=PALETTE[4], label="estimate")
    ax.axhline(0, color="grey", lw=0.8)
    target = str(opts.get("target", "att")).upper()
    ax.set_xlabel(str(opts.get("dose", "dose")))
    ax.set_ylabel(f"{target}(d)")
    ax.set_title(title or f"Dose response: {target}(d)")
    finish(ax)
    return ax
