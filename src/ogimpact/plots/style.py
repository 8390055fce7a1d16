"""The one figure style of ogimpact: palette, sizes, labels, source line, legends, export, alt text.

Every plotting function in :mod:`ogimpact.plots` draws on axes made by :func:`new_axes` and
returns the ``Axes``; reports then call :func:`finish` to put the measure's label (with its unit
and direction, from the measure catalogue), the title and a source line on it.

Palette: Okabe & Ito (2008), "Color Universal Design" — eight colours distinguishable under the
common colour-vision deficiencies.
"""
from __future__ import annotations

import io
import math
import re
from typing import Iterable

__all__ = ["PALETTE", "TREATED", "COUNTERFACTUAL", "GREY", "RC", "new_axes", "finish", "measure_label",
           "time_label", "legend_outside", "figure_of", "export", "svg_bytes", "alt_text", "fixed_layout"]

#: Okabe-Ito colour-blind-safe palette (black first: the treated unit / the main series)
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")
TREATED = "#000000"
COUNTERFACTUAL = "#D55E00"
GREY = "#B0B0B0"
FIGSIZE = (9.0, 4.2)

RC = {
    "axes.prop_cycle": None,  # filled in by _rc()
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "svg.fonttype": "none",  # text stays text in SVG: small, searchable, read by screen readers
    "svg.hashsalt": "ogimpact",  # deterministic SVG ids
    "font.family": "sans-serif",
}


def _rc() -> dict:
    from cycler import cycler

    return {**RC, "axes.prop_cycle": cycler(color=list(PALETTE))}


def new_axes(ax=None, *, figsize=FIGSIZE):
    """``(fig, ax)``: the given axes' figure, or a new figure in the ogimpact style."""
    if ax is not None:
        return ax.figure, ax
    import matplotlib

    matplotlib.use(matplotlib.get_backend())  # respect MPLBACKEND (Agg in tests and reports)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(_rc()):
        fig, ax = plt.subplots(figsize=figsize)
    for k in ("top", "right"):
        ax.spines[k].set_visible(False)
    ax.title.set_fontweight("bold")
    return fig, ax


def figure_of(obj):
    """The Figure of an Axes, a Figure, or an object with ``.figure``."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        return obj
    fig = obj.get_figure() if hasattr(obj, "get_figure") else getattr(obj, "figure", None)
    while fig is not None and not isinstance(fig, Figure) and hasattr(fig, "get_figure"):
        fig = fig.get_figure()
    return fig


def time_label(unit: str = "year") -> str:
    """The x-axis label of every time axis."""
    return {"year": "Year", "period": "Period"}.get(unit, unit.capitalize())


def measure_label(measure: str | None, *, effect: bool = False, prefix: str = "Effect on") -> str:
    """Axis label of a catalogue measure: label, scale/unit and direction (``effect``: a difference in it,
    introduced by ``prefix``)."""
    if not measure:
        return "Effect" if effect else "Outcome"
    try:
        from .. import measures as ms

        m = ms.get(measure)
    except Exception:  # noqa: BLE001 - a CSV column, not a catalogue measure
        return f"{prefix} {measure}" if effect else str(measure)
    scale = str(m.scale or "").split(",")[0].split("(")[0].strip()
    direction = "higher is better" if m.higher_is_better else "lower is better"
    if m.higher_is_better is None:
        direction = ""
    bits = ", ".join(b for b in (scale, direction) if b)
    head = f"{prefix} {m.label}" if effect else m.label
    return f"{head}\n({bits})" if bits else head


def legend_outside(ax, **kw) -> None:
    """A legend to the right of the plotting area, so it never covers data."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    kw.setdefault("frameon", False)
    leg = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kw)
    leg._ogimpact_outside = True  # read by fixed_layout


def finish(ax, *, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
           source: str | None = None, legend: bool = True):
    """Apply title, labels, the legend outside the axes and a source line under the figure; returns ``ax``."""
    if title:
        ax.set_title("")  # one title, left-aligned (drop a centred one a plot function set)
        ax.set_title(title, loc="left", fontweight="bold", fontsize=11)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if legend:
        legend_outside(ax)
    fig = figure_of(ax)
    if source:
        for t in list(fig.texts):
            if getattr(t, "_ogimpact_source", False):
                t.remove()
        txt = fig.text(0.01, 0.005, f"Source: {source}", fontsize=7.5, color="0.35", ha="left", va="bottom")
        txt._ogimpact_source = True
    fixed_layout(fig, source=bool(source))
    return ax


#: margins (inches) of the one-axes figure: room for a two-line axis label at the left, the title above, tick
#: labels, the axis label and the source line below; a legend outside the axes extends the saved figure to the
#: right (every export crops with ``bbox_inches="tight"``, so nothing is clipped)
MARGINS_IN = {"left": 1.0, "right": 0.15, "bottom": 0.55, "top": 0.4, "source": 0.14}


def fixed_layout(fig, *, source: bool = False) -> None:
    """Place the axes with fixed margins (:data:`MARGINS_IN`) instead of ``tight_layout``.

    ``tight_layout`` measures every text of the figure (about 40 ms a figure, half the cost of a report
    figure); the report's figures all share one layout, so fixed margins give the same page for free.
    """
    w, h = fig.get_size_inches()
    m = MARGINS_IN
    bottom = m["bottom"] + (m["source"] if source else 0.0)
    right = m["right"]
    for ax in fig.axes:  # a legend outside the axes: keep it inside the figure's width (estimated from its text)
        leg = ax.get_legend()
        if leg is not None and getattr(leg, "_ogimpact_outside", False):
            longest = max((len(t.get_text()) for t in leg.get_texts()), default=0)
            size = leg.get_texts()[0].get_fontsize() if leg.get_texts() else 8.5
            right = max(right, min(0.45 * w, 0.45 + longest * size * 0.0078))
    fig.subplots_adjust(left=m["left"] / w, right=1 - right / w, bottom=bottom / h, top=1 - m["top"] / h)


#: inches of white space kept around texts that reach past the figure's edge (as ``bbox_inches="tight"`` pads)
OVERFLOW_PAD_IN = 0.1


def page_bbox(fig):
    """The saved extent (inches) of a figure: its own size, grown to the texts that reach past its edges.

    With :func:`fixed_layout` only a few texts can: a legend outside the axes, a long title, the source
    line.  Measuring just those, with the SVG renderer's own text metrics, costs a few milliseconds, where
    ``bbox_inches="tight"`` lays out and draws the whole figure once more before saving it (half the cost
    of a report's SVG).  An edge a text crosses moves out to it plus :data:`OVERFLOW_PAD_IN`; the others
    stay where the fixed margins put them.
    """
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.transforms import Bbox

    w, h = (float(v) for v in fig.get_size_inches())
    x0, y0, x1, y1 = 0.0, 0.0, w, h
    parts = [t for t in fig.texts if t.get_visible() and t.get_text()]
    for ax in fig.axes:
        parts += [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_visible() and t.get_text()]
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            parts.append(leg)
    dpi = fig.dpi
    fig.dpi = 72  # as savefig(format="svg") measures
    try:
        ren = RendererSVG(w, h, io.StringIO(), image_dpi=72)
        boxes = [a.get_window_extent(ren) for a in parts]
    finally:
        fig.dpi = dpi
    pad = OVERFLOW_PAD_IN
    for e in boxes:
        ex0, ey0, ex1, ey1 = (v / 72 for v in e.extents)
        if not all(map(math.isfinite, (ex0, ey0, ex1, ey1))):
            continue
        x0, y0 = (min(x0, ex0 - pad) if ex0 < 0 else x0), (min(y0, ey0 - pad) if ey0 < 0 else y0)
        x1, y1 = (max(x1, ex1 + pad) if ex1 > w else x1), (max(y1, ey1 + pad) if ey1 > h else y1)
    return Bbox([[x0, y0], [x1, y1]])


def svg_bytes(obj) -> bytes:
    """The figure as SVG (text kept as text, deterministic ids), drawn once: extent from :func:`page_bbox`."""
    import matplotlib

    fig = figure_of(obj)
    bbox = page_bbox(fig) if fig.get_layout_engine() is None else None  # a layout engine draws first anyway
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ogimpact"}):
        fig.savefig(buf, format="svg", bbox_inches=bbox if bbox is not None else "tight", metadata={"Date": None})
    return buf.getvalue()


def export(obj, path, *, dpi: int = 300) -> None:
    """Write the figure to ``path``: ``.png`` at ``dpi`` (300 = print quality), ``.svg`` or ``.pdf`` as vectors."""
    from pathlib import Path

    from ..atomic import atomic_write_bytes

    p = Path(path)
    fmt = p.suffix.lstrip(".").lower() or "png"
    buf = io.BytesIO()
    figure_of(obj).savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight",
                           metadata={"Date": None} if fmt == "svg" else None)
    atomic_write_bytes(p, buf.getvalue())


# --------------------------------------------------------------------------- alt text
def _num(v: float) -> str:
    return f"{v:.4g}"


def _span(values: Iterable[float]) -> tuple[float, float] | None:
    import numpy as np

    a = np.asarray([v for v in values], float)
    a = a[np.isfinite(a)]
    return (float(a.min()), float(a.max())) if a.size else None


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def series_of_errorbars(c):
    """``(x, y, low, high)`` arrays of an ``ErrorbarContainer`` with vertical bars (``y`` NaN where no point
    is drawn), in x order; None when it has no vertical bars."""
    import numpy as np

    cols = [lc for lc in (c.lines[2] if len(c.lines) > 2 else ()) if lc is not None]
    segs = [np.asarray(seg, float) for lc in cols for seg in lc.get_segments()]
    segs = [g for g in segs if g.shape == (2, 2) and np.isclose(g[0, 0], g[1, 0])]  # vertical: same x
    if not segs:
        return None
    x = np.array([g[0, 0] for g in segs])
    lo = np.array([min(g[0, 1], g[1, 1]) for g in segs])
    hi = np.array([max(g[0, 1], g[1, 1]) for g in segs])
    y = np.full(len(x), np.nan)
    if c.lines[0] is not None:
        px, py = np.asarray(c.lines[0].get_xdata(), float), np.asarray(c.lines[0].get_ydata(), float)
        for i, xv in enumerate(x):
            hit = np.flatnonzero(np.isclose(px, xv))
            if hit.size:
                y[i] = py[hit[0]]
    order = np.argsort(x, kind="stable")
    return x[order], y[order], lo[order], hi[order]


def alt_text(obj) -> str:
    """A description of a figure generated from what it draws: kind, title, axes, ranges and series.

    Written for a screen reader and for the report's text-only readers; never empty.
    """
    import numpy as np
    from matplotlib.collections import PolyCollection
    from matplotlib.container import ErrorbarContainer

    fig = figure_of(obj)
    parts = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        if getattr(ax, "_ogimpact_alt", None):  # a plot that knows its own content (forest plot, gap map)
            parts.append(ax._ogimpact_alt)
            continue
        if not ax.lines and not ax.collections and not ax.patches:
            continue
        title = _clean(ax.get_title("left") or ax.get_title())
        xl, yl = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
        kinds = []
        series = []
        unlabelled = []
        xs, ys = [], []
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        bar_lines = {id(c.lines[0]) for c in bars if c.lines and c.lines[0] is not None}
        bar_lines |= {id(cap) for c in bars if len(c.lines) > 1 for cap in (c.lines[1] or ())}  # the caps
        drawn = False  # a data line other than error bars' points
        for ln in ax.lines:
            if id(ln) in bar_lines:  # described with its intervals below
                continue
            x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
            lab = ln.get_label()
            if len(x) == 2 and np.allclose(x, x[0]) and not lab.startswith("_"):
                series.append(f"{lab} (vertical line at {_num(x[0])})")
                continue
            if len(x) < 2:
                continue
            if lab.startswith("_"):  # an unlabelled data line (a gap path, a grey placebo): in the ranges
                if ln.get_transform() == ax.transData:  # (reference lines such as axhline are not data)
                    xs.extend(x), ys.extend(y)
                    unlabelled.append((x, y))
                    drawn = True
                continue
            drawn = True
            xs.extend(x), ys.extend(y)
            fin = np.isfinite(y)
            last = f", last value {_num(y[fin][-1])} at {_num(x[fin][-1])}" if fin.any() else ""
            series.append(f"{lab}{last}")
        if not series and len(unlabelled) == 1:  # one unnamed series (e.g. the gap plot): say where it ends
            x, y = unlabelled[0]
            fin = np.isfinite(y)
            if fin.any():
                series.append(f"one series, last value {_num(y[fin][-1])} at {_num(x[fin][-1])}")
        if bars:
            points = any(c.lines and c.lines[0] is not None for c in bars)
            kinds.append("point estimates with confidence intervals" if points else "confidence intervals")
            for c in bars:
                d = series_of_errorbars(c)
                if d is None:
                    continue
                x, y, lo, hi = d
                xs.extend(x), ys.extend(y), ys.extend(lo), ys.extend(hi)
                lab = str(c.get_label())
                if lab.startswith("_") or not len(x):
                    continue
                if not np.isnan(y).all():
                    sp = _span(y)
                    series.append(f"{lab}: {len(x)} estimates from {_num(sp[0])} to {_num(sp[1])}")
                elif len(x) == 1:
                    series.append(f"{lab}: interval [{_num(lo[0])}, {_num(hi[0])}] at {_num(x[0])}")
                else:
                    series.append(f"{lab}: {len(x)} intervals, from [{_num(lo[0])}, {_num(hi[0])}] at {_num(x[0])} "
                                  f"to [{_num(lo[-1])}, {_num(hi[-1])}] at {_num(x[-1])}")
        if ax.patches:
            kinds.append("bars")
        if any(isinstance(c, PolyCollection) for c in ax.collections):
            kinds.append("shaded bands")
        if drawn:
            kinds.insert(0, "line chart")
        desc = (kinds[0] + (" with " + ", ".join(kinds[1:]) if len(kinds) > 1 else "")) if kinds else "chart"
        bits = [desc[0].upper() + desc[1:]]
        if title:
            bits.append(f"titled “{title}”")
        sx, sy = _span(xs), _span(ys)
        if xl:
            bits.append(f"x axis: {xl}" + (f" from {_num(sx[0])} to {_num(sx[1])}" if sx else ""))
        if yl:
            bits.append(f"y axis: {yl}" + (f", values from {_num(sy[0])} to {_num(sy[1])}" if sy else ""))
        if series:
            bits.append("series: " + "; ".join(series[:8]) + (f"; and {len(series) - 8} more" if len(series) > 8 else ""))
        parts.append(", ".join(bits) + ".")
    src = [t.get_text() for t in fig.texts if getattr(t, "_ogimpact_source", False)]
    if src:
        parts.append(_clean(src[0]).rstrip(".") + ".")  # one full stop (a citation may end with its own)
    return " ".join(parts) or "Empty figure."
