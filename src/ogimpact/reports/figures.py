"""Report figures in the shared style: titles from the measure catalogue, units and direction, source line.

The plot functions of :mod:`ogimpact.plots` draw; :func:`styled` puts the report's title (measure and country
in words), the axis labels (:func:`ogimpact.plots.style.measure_label`) and the source line (the measure's
citation and licence) on the figure.
"""
from __future__ import annotations

from . import presentation as pres

__all__ = ["source_of", "styled"]


def source_of(measure: str | None) -> str:
    try:
        from .. import measures as ms

        m = ms.get(measure)
        return f"{m.citation} Licence {m.licence}."
    except Exception:  # noqa: BLE001 - a CSV column
        return "ogimpact"


_TITLES = {"paths": "{m}: {c} and its synthetic control", "gaps": "{m}: gap between {c} and its synthetic control",
           "placebo": "{m}: placebo gaps of every donor (grey) and {c}", "sdid": "{m}: synthetic DiD, {c} and its "
           "weighted control", "its": "{m}: interrupted time series for {c}", "event_study": "{m}: event study"}


def styled(ax_or_fig, *, kind: str, measure: str, country=None):
    from ..plots.style import figure_of, measure_label, time_label
    from ..plots.style import finish as _finish_fig

    fig = figure_of(ax_or_fig)
    ax = fig.axes[0]
    effect = kind in ("gaps", "placebo", "event_study")
    _finish_fig(ax, title=_TITLES.get(kind, "{m}").format(m=pres.measure_words(measure),
                                                         c=pres.country_name(country) or "the treated unit"),
                xlabel=None if kind == "event_study" else time_label(),
                ylabel=measure_label(measure, effect=effect, prefix="Gap in" if kind in ("gaps", "placebo")
                                     else "Effect on"), source=source_of(measure))
    return fig
