"""Small inline SVG figures of the atlas pages (no matplotlib: byte-stable text, no fonts, no network).

* :func:`event_study_svg` – the cross-country cell's dynamic CS estimates with 95% intervals;
* :func:`gaps_svg` – the single-country cell's treated and synthetic-control paths;
* :func:`bubble_svg` – one gap-map bubble (area ∝ number of country studies, colour = grade).
"""
from __future__ import annotations

import html
from typing import Mapping, Sequence

__all__ = ["GRADE_COLOURS", "GRADES", "event_study_svg", "gaps_svg", "bubble_svg", "figure_for"]

GRADES = ("High", "Moderate", "Low", "Very low", "Insufficient")
GRADE_COLOURS = {"High": "#1a9850", "Moderate": "#91cf60", "Low": "#fee08b", "Very low": "#fc8d59",
                 "Insufficient": "#bdbdbd", None: "#eeeeee"}
W, H, PAD, LEFT = 540, 260, 44, 70


def _f(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v and abs(v) != float("inf") else None


def _n(v: float) -> str:
    return f"{v:.1f}"


class _Frame:
    def __init__(self, xs: Sequence[float], ys: Sequence[float]):
        self.x0, self.x1 = min(xs), max(xs)
        self.y0, self.y1 = min(ys), max(ys)
        if self.x1 == self.x0:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1
        if self.y1 == self.y0:
            self.y0, self.y1 = self.y0 - 1, self.y1 + 1
        pad = 0.05 * (self.y1 - self.y0)
        self.y0, self.y1 = self.y0 - pad, self.y1 + pad

    def x(self, v: float) -> float:
        return LEFT + (W - LEFT - PAD) * (v - self.x0) / (self.x1 - self.x0)

    def y(self, v: float) -> float:
        return H - PAD + (2 * PAD - H) * (v - self.y0) / (self.y1 - self.y0)

    def axes(self, xlabel: str, ylabel: str) -> list[str]:
        out = [f'<line x1="{LEFT}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#555"/>',
               f'<line x1="{LEFT}" y1="{PAD}" x2="{LEFT}" y2="{H - PAD}" stroke="#555"/>']
        for v in (self.y0, (self.y0 + self.y1) / 2, self.y1):
            out.append(f'<text x="{LEFT - 4}" y="{_n(self.y(v) + 4)}" text-anchor="end" font-size="10">{v:.3g}</text>')
        for v in (self.x0, (self.x0 + self.x1) / 2, self.x1):
            out.append(f'<text x="{_n(self.x(v))}" y="{H - PAD + 14}" text-anchor="middle" font-size="10">'
                       f'{v:.4g}</text>')
        out.append(f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle" font-size="11">{html.escape(xlabel)}</text>')
        out.append(f'<text x="12" y="{H / 2}" text-anchor="middle" font-size="11" '
                   f'transform="rotate(-90 12 {H / 2})">{html.escape(ylabel)}</text>')
        return out


def _svg(body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
            f'aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>' + "".join(body) + "</svg>")


def event_study_svg(rows: Sequence[Mapping], title: str = "event study") -> str | None:
    """Point estimates and 95% intervals by event time; the zero line and the adoption boundary."""
    pts = [(_f(r.get("event_time")), _f(r.get("estimate")), _f(r.get("ci_low")), _f(r.get("ci_high")))
           for r in rows or []]
    pts = [p for p in pts if p[0] is not None and p[1] is not None]
    if not pts:
        return None
    ys = [0.0] + [v for p in pts for v in p[1:] if v is not None]
    fr = _Frame([p[0] for p in pts], ys)
    body = fr.axes("years since adoption", "effect")
    body.append(f'<line x1="{LEFT}" y1="{_n(fr.y(0))}" x2="{W - PAD}" y2="{_n(fr.y(0))}" stroke="#999" '
                'stroke-dasharray="4 3"/>')
    if fr.x0 <= -0.5 <= fr.x1:
        body.append(f'<line x1="{_n(fr.x(-0.5))}" y1="{PAD}" x2="{_n(fr.x(-0.5))}" y2="{H - PAD}" stroke="#c33" '
                    'stroke-dasharray="2 3"/>')
    for e, est, lo, hi in pts:
        x = _n(fr.x(e))
        if lo is not None and hi is not None:
            body.append(f'<line x1="{x}" y1="{_n(fr.y(lo))}" x2="{x}" y2="{_n(fr.y(hi))}" stroke="#2c5d8f"/>')
        body.append(f'<circle cx="{x}" cy="{_n(fr.y(est))}" r="3" fill="#2c5d8f"/>')
    return _svg(body, title)


def gaps_svg(rows: Sequence[Mapping], treat_time: float | None, title: str = "synthetic control") -> str | None:
    """Treated (solid) and synthetic (dashed) outcome paths; the adoption year marked."""
    pts = [(_f(r.get("time")), _f(r.get("treated")), _f(r.get("synthetic"))) for r in rows or []]
    pts = [p for p in pts if p[0] is not None and p[1] is not None and p[2] is not None]
    if len(pts) < 2:
        return None
    fr = _Frame([p[0] for p in pts], [v for p in pts for v in p[1:]])
    body = fr.axes("year", "outcome")
    if treat_time is not None and fr.x0 <= treat_time <= fr.x1:
        body.append(f'<line x1="{_n(fr.x(treat_time))}" y1="{PAD}" x2="{_n(fr.x(treat_time))}" y2="{H - PAD}" '
                    'stroke="#c33" stroke-dasharray="2 3"/>')
    for i, (colour, dash) in ((1, ("#222", "")), (2, ("#2c5d8f", ' stroke-dasharray="5 3"'))):
        d = " ".join(f"{'M' if j == 0 else 'L'}{_n(fr.x(p[0]))},{_n(fr.y(p[i]))}" for j, p in enumerate(pts))
        body.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
    body.append(f'<text x="{W - PAD}" y="{PAD - 8}" text-anchor="end" font-size="10">solid: treated · '
                'dashed: synthetic control</text>')
    return _svg(body, title)


def figure_for(cell: Mapping) -> str | None:
    """The figure of a cell: CS event study (cross-country) or synthetic-control paths (one country)."""
    res = cell.get("result") or {}
    a = (res.get("assessments") or [{}])[0]
    docs = {d.get("design"): d for d in a.get("designs") or [] if isinstance(d, Mapping)}
    if cell["spec"].get("country"):
        return gaps_svg((docs.get("synth") or {}).get("gaps"), _f((a.get("notes") or {}).get("treat_time")),
                        title=f"{cell['spec']['country']}: treated vs synthetic control")
    for name in ("cs", "sun-abraham", "imputation", "event-study"):
        svg = event_study_svg((docs.get(name) or {}).get("event_study"), title=f"{name} event study")
        if svg:
            return svg
    return None


def bubble_svg(n: int, grade: str | None, n_max: int, label: str) -> str:
    """A circle whose area is proportional to ``n`` (at most 40 px across), filled with the grade's colour."""
    r = 3.0 if n <= 0 else 4.0 + 16.0 * (n / max(1, n_max)) ** 0.5
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="44" height="44" viewBox="0 0 44 44" role="img" '
            f'aria-label="{html.escape(label)}"><circle cx="22" cy="22" r="{r:.1f}" '
            f'fill="{GRADE_COLOURS.get(grade, "#eeeeee")}" stroke="#555"/></svg>')
