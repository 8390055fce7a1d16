"""The atlas's static, offline site: plain HTML files with inline CSS, SVG and a little vanilla JS.

``DIR/index.html`` holds the evidence gap map (interventions × outcome domains; a bubble's area is the
number of single-country studies with an estimate, its colour the best grade of the cross-country
findings in it) whose cells open ``gap/<intervention>--<domain>.html`` (the measures and countries
behind it), and a filterable table of every cell (country, measure, grade).  Each cell has
``cells/<id>.html`` (headline, estimand, estimate table, figure, checks, reasons, key, a download link of
its result JSON) and each country ``countries/<ISO3>.html``.  Every page carries the atlas, code, data and
rubric versions and the command that rebuilds it.  Nothing is fetched from the network.
"""
from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Mapping, Sequence

from ...atomic import atomic_write_text
from .cells import CROSS
from .figures import GRADE_COLOURS, GRADES, bubble_svg, figure_for

__all__ = ["write_site", "write_if_changed", "domain_slug"]

_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 7px;font-size:.9em;vertical-align:top}
th{background:#f3f3f3}.g{display:inline-block;padding:1px 6px;border-radius:3px;border:1px solid #999}
footer{margin-top:2em;border-top:1px solid #ccc;padding-top:.5em;font-size:.8em;color:#444}
code{background:#f6f6f6;padding:1px 3px}.gap td{text-align:center}.gap a{text-decoration:none;color:#222}
.filters label{margin-right:1em}nav{font-size:.9em;margin-bottom:1em}"""

_JS = """(function(){var c=document.getElementById('f-country'),m=document.getElementById('f-measure'),
g=document.getElementById('f-grade'),n=document.getElementById('shown');
function run(){var tc=c.value.trim().toLowerCase(),tm=m.value.trim().toLowerCase(),tg=g.value,k=0;
document.querySelectorAll('#cells tbody tr').forEach(function(r){var ok=(!tc||r.dataset.country.indexOf(tc)>=0)&&
(!tm||r.dataset.measure.indexOf(tm)>=0)&&(!tg||r.dataset.grade===tg);r.hidden=!ok;if(ok){k++;}});
n.textContent=String(k);}
c.addEventListener('input',run);m.addEventListener('input',run);g.addEventListener('change',run);run();})();"""

_RANK = {g: i for i, g in enumerate(GRADES)}


def domain_slug(domain: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", domain.lower()).strip("-")


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _num(v, fmt: str = "{:.4g}") -> str:
    return "" if v is None else fmt.format(v) if isinstance(v, (int, float)) else _e(v)


def _grade(g) -> str:
    return f'<span class="g" style="background:{GRADE_COLOURS.get(g, "#eee")}">{_e(g)}</span>'


def _footer(meta: Mapping, depth: int = 0) -> str:
    r = meta["rubric"]
    return (f"<footer>Atlas version <b>{_e(meta['atlas_version'])}</b> · ogimpact {_e(meta['package'])} "
            f"(code sha256 {_e(meta['code'][:12])}) · data version (sha256 of data/manifest.csv entries) "
            f"{_e(meta['data_version'][:12])} (per source on the <a href=\"{'../' * depth}index.html\">home page</a>) · rubric {_e(r.get('name'))} v{_e(r['version'])} (sha256 "
            f"{_e(r['sha256'][:12])}) · "
            + ", ".join(f"{_e(k)} {_e(v)}" for k, v in (meta.get("environment") or {}).items() if v)
            + f"<br>Rebuild: <code>{_e(meta['command'])}</code> "
            "(add <code>--out DIR</code>; engine and cache do not change a byte of the data files).</footer>")


def _page(title: str, body: str, meta: Mapping, depth: int, script: str = "") -> str:
    up = "../" * depth
    nav = (f'<nav><a href="{up}index.html">Atlas home</a> · <a href="{up}data/atlas.csv">tidy CSV of the atlas</a> · '
           f'<a href="{up}data/atlas.json">cell index (JSON)</a></nav>')
    js = f"<script>{script}</script>" if script else ""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{_CSS}</style></head>\n<body>{nav}<h1>{_e(title)}</h1>\n{body}\n{_footer(meta, depth)}{js}</body></html>\n")


def _names() -> dict[str, str]:
    from ... import interventions as iv

    out: dict[str, str] = {}
    for it in iv.registry():
        if it.unit_level != "country":
            continue
        t = iv.timing(it.id)
        if "unit_name" in t:
            for u, nm in zip(t["unit"].astype(str), t["unit_name"]):
                if isinstance(nm, str) and nm:
                    out.setdefault(u, nm)
    return out


def _cell_link(c: Mapping, depth: int, text: str | None = None) -> str:
    return f'<a href="{"../" * depth}cells/{_e(c["id"])}.html">{_e(text or c["id"])}</a>'


def _design_table(a: Mapping) -> str:
    rows = []
    for d in a.get("designs") or []:
        if not isinstance(d, Mapping):
            continue
        if d.get("status") not in (None, "ok"):
            rows.append(f"<tr><td>{_e(d.get('design'))}</td><td colspan='7'>{_e(d.get('status'))}: "
                        f"{_e(d.get('reason'))}</td></tr>")
            continue
        p = (d.get("placebo") or {}).get("p_value", d.get("p_value")) if d.get("design") == "synth" else d.get("p_value")
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in (
            _e(d.get("design")), _num(d.get("estimate")), _num(d.get("se")), _num(d.get("ci_low")),
            _num(d.get("ci_high")), _num(p), _num(d.get("n_units"), "{}"), _num(d.get("n_treated_units"), "{}"))) + "</tr>")
    return ("<table><thead><tr><th>design</th><th>estimate</th><th>se</th><th>CI low</th><th>CI high</th>"
            "<th>p</th><th>units</th><th>treated</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _cell_page(c: Mapping, meta: Mapping, labels: Mapping, names: Mapping) -> str:
    s, sm = c["spec"], c.get("summary") or {}
    a = ((c.get("result") or {}).get("assessments") or [{}])[0]
    where = names.get(s["country"], s["country"]) if s.get("country") else "across countries"
    title = f"{labels['iv'][s['intervention']]} → {labels['m'][s['measure']]} ({where})"
    parts = [f"<p><b>{_grade(sm.get('grade'))}</b> {_e(sm.get('headline'))}</p>",
             f"<p><b>Estimand.</b> {_e(sm.get('estimand'))}</p>"]
    if sm.get("grade_target") is not None:
        parts.append(f"<p><b>Grade target.</b> {_e(sm.get('grade_target'))}</p>")
    links = [f'<a href="../data/cells/{_e(c["id"])}.json" download>result JSON of this cell</a>']
    if s.get("country"):
        links.append(f'<a href="../countries/{_e(s["country"])}.html">all findings for {_e(where)}</a>')
        cross_id = f'{s["intervention"]}__{s["measure"]}__{CROSS}'
        if cross_id in labels["ids"]:
            links.append(f'<a href="{_e(cross_id)}.html">the cross-country finding</a>')
    parts.append("<p>" + " · ".join(links) + "</p>")
    parts.append(f"<p>Status: {_e(c['status'])}" + (f" — {_e(c.get('error'))}" if c.get("error") else "") + "</p>")
    if a.get("designs"):
        parts.append("<h2>Estimates</h2>" + _design_table(a))
    fig = figure_for(c)
    if fig:
        parts.append(f"<h2>Figure</h2><figure>{fig}</figure>")
    parts.append("<h2>Reasons for the grade</h2><ul>" + "".join(f"<li>{_e(r)}</li>" for r in sm.get("reasons") or [])
                 + "</ul>")
    if a.get("checks"):
        parts.append("<h2>Checks</h2><table><thead><tr><th>domain</th><th>passed</th><th>severity</th><th>reason</th>"
                     "</tr></thead><tbody>" + "".join(
                         f"<tr><td>{_e(k.get('domain'))}</td><td>{_e(k.get('passed'))}</td><td>{_e(k.get('severity'))}"
                         f"</td><td>{_e(k.get('reason'))}</td></tr>" for k in a["checks"]) + "</tbody></table>")
    parts.append("<h2>Cell key</h2><p>sha256 <code>" + _e(c["key"]) + "</code> of</p><table><tbody>" + "".join(
        f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in c["components"].items())
        + "</tbody></table>")
    return _page(title, "\n".join(parts), meta, 1)


def _rows(cells: Sequence[Mapping], labels, names, depth: int) -> str:
    out = []
    for c in cells:
        s, sm = c["spec"], c.get("summary") or {}
        ctry = s.get("country") or CROSS
        cname = names.get(ctry, ctry)
        out.append(f'<tr data-country="{_e((ctry + " " + cname).lower())}" data-measure="{_e((s["measure"] + " " + labels["m"][s["measure"]]).lower())}" '
                   f'data-grade="{_e(sm.get("grade"))}"><td>{_e(s["intervention"])}</td><td>{_e(s["measure"])}</td>'
                   f"<td>{_e(labels['dom'][s['measure']])}</td><td>{_e(cname if s.get('country') else CROSS)}</td>"
                   f"<td>{_grade(sm.get('grade'))}</td><td>{_cell_link(c, depth, sm.get('headline') or c['id'])}</td></tr>")
    return ("<table id='cells'><thead><tr><th>intervention</th><th>measure</th><th>domain</th><th>country</th>"
            "<th>grade</th><th>headline</th></tr></thead><tbody>" + "".join(out) + "</tbody></table>")


def _best(cells) -> str | None:
    gs = [(c.get("summary") or {}).get("grade") for c in cells]
    gs = [g for g in gs if g in _RANK]
    return min(gs, key=_RANK.get) if gs else None


def _studies(cells) -> list:
    return [c for c in cells if c["spec"].get("country") and (c.get("summary") or {}).get("estimate") is not None]


def _sources_table(meta: Mapping) -> str:
    rows = "".join(f"<tr><td>{_e(s['source'])}</td><td>{_e(s['title'])}</td><td><code>{_e(s['sha256'][:16])}</code></td></tr>"
                   for s in meta.get("sources") or [])
    return ("<details><summary>Data versions (sha256 over each source's files in data/manifest.csv; timing tables "
            "as canonical CSV)</summary><table><thead><tr><th>source</th><th>title</th><th>sha256</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>")


def _index(cells, meta, labels, names, groups, domains) -> str:
    n_max = max([len(_studies(v)) for v in groups.values()] + [1])
    head = "".join(f"<th>{_e(d)}</th>" for d in domains)
    trs = []
    for i in meta["interventions"]:
        tds = []
        for d in domains:
            g = groups.get((i, d), [])
            cross = [c for c in g if not c["spec"].get("country")]
            best = _best(cross)
            n = len(_studies(g))
            tip = f"{labels['iv'][i]} × {d}: {len(cross)} measures, {n} country studies; best cross-country grade {best}"
            if g:
                tds.append(f'<td><a href="gap/{_e(i)}--{domain_slug(d)}.html" title="{_e(tip)}">'
                           f"{bubble_svg(n, best, n_max, tip)}<br>{n} studies · {len(cross)} measures</a></td>")
            else:
                tds.append("<td>—</td>")
        trs.append(f"<tr><th>{_e(labels['iv'][i])}</th>{''.join(tds)}</tr>")
    legend = " ".join(_grade(g) for g in GRADES)
    counts = defaultdict(int)
    for c in cells:
        counts[(c.get("summary") or {}).get("grade")] += 1
    grade_opts = "".join(f'<option value="{_e(g)}">{_e(g)} ({counts.get(g, 0)})</option>' for g in GRADES)
    body = (f"<p>{len(cells)} graded findings: every intervention × country-level measure across countries "
            "(staggered designs) and every adopting country with enough pre-adoption years (single-country designs). "
            "Each grade is a transparent summary with its reasons, not a verdict.</p>" + _sources_table(meta) +
            "<h2>Evidence gap map</h2><p>Bubble area: number of single-country studies with an estimate; colour: the "
            f"best grade of the cross-country findings in the cell. {legend}</p>"
            f"<table class='gap'><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(trs)}</tbody></table>"
            "<h2>All findings</h2><div class='filters'><label>Country <input id='f-country' type='search' "
            "placeholder='e.g. MEX or Mexico'></label><label>Measure <input id='f-measure' type='search' "
            "placeholder='e.g. wgi.cc'></label><label>Grade <select id='f-grade'><option value=''>any</option>"
            f"{grade_opts}</select></label> <span id='shown'>{len(cells)}</span> shown</div>"
            f"<p>Downloads: <a href='data/atlas.csv' download>atlas.csv</a> (one row per cell) · each cell's result "
            "JSON from its page.</p>" + _rows(cells, labels, names, 0))
    return _page("Open-government evidence atlas", body, meta, 0, _JS)


def _gap_page(i, d, g, meta, labels, names) -> str:
    cross = [c for c in g if not c["spec"].get("country")]
    ctry = [c for c in g if c["spec"].get("country")]
    body = (f"<h2>Measures (cross-country findings)</h2>{_rows(cross, labels, names, 1)}"
            f"<h2>Countries (single-country findings)</h2>"
            + (_rows(ctry, labels, names, 1) if ctry else "<p>No single-country findings in this cell.</p>")
            + "<p>Country pages: " + ", ".join(sorted({f'<a href="../countries/{_e(c["spec"]["country"])}.html">'
                                                     f'{_e(c["spec"]["country"])}</a>' for c in ctry})) + "</p>")
    return _page(f"{labels['iv'][i]} × {d}", body, meta, 1)


def _country_page(iso, cs, meta, labels, names) -> str:
    by_cross = []
    for c in cs:
        s = c["spec"]
        if f'{s["intervention"]}__{s["measure"]}__{CROSS}' not in labels["ids"]:
            continue
        by_cross.append(f'<li><a href="../cells/{_e(s["intervention"])}__{_e(s["measure"])}__{CROSS}.html">'
                        f"{_e(labels['iv'][s['intervention']])} on {_e(labels['m'][s['measure']])} across countries</a></li>")
    body = (f"<p>ISO3 {_e(iso)}. Single-country findings (synthetic control with in-space placebos, synthetic DiD, "
            "interrupted time series and the country's adoption cohort):</p>" + _rows(cs, labels, names, 1)
            + "<h2>Cross-country findings of the same intervention and measure</h2><ul>" + "".join(by_cross) + "</ul>"
            + "<h2>Country reports</h2><p>The full report of this country (notebook, figures, every estimate): "
            + ", ".join(f"<code>ogimpact report country {_e(iso)} --intervention {_e(i)}</code>"
                        for i in sorted({c['spec']['intervention'] for c in cs})) + ".</p>")
    return _page(f"{names.get(iso, iso)}", body, meta, 1)


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` atomically unless the file already holds exactly it (unchanged files keep their bytes)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write_text(path, text)


def write_site(root: str | Path, cells: Sequence[Mapping], meta: Mapping) -> list[Path]:
    """Write every page under ``root`` (unchanged pages keep their bytes; stale pages are removed)."""
    from ... import interventions as iv
    from ... import measures as ms

    root = Path(root)
    labels = {"iv": {i: iv.get(i).label for i in {c["spec"]["intervention"] for c in cells}},
              "m": {m: ms.get(m).label for m in {c["spec"]["measure"] for c in cells}},
              "dom": {m: ms.get(m).domain for m in {c["spec"]["measure"] for c in cells}},
              "ids": {c["id"] for c in cells}}
    names = _names()
    groups: dict[tuple[str, str], list] = defaultdict(list)
    by_country: dict[str, list] = defaultdict(list)
    for c in cells:
        groups[(c["spec"]["intervention"], labels["dom"][c["spec"]["measure"]])].append(c)
        if c["spec"].get("country"):
            by_country[c["spec"]["country"]].append(c)
    pages = {"index.html": _index(cells, meta, labels, names, groups, list(ms.DOMAINS))}
    for c in cells:
        pages[f"cells/{c['id']}.html"] = _cell_page(c, meta, labels, names)
    for (i, d), g in groups.items():
        pages[f"gap/{i}--{domain_slug(d)}.html"] = _gap_page(i, d, g, meta, labels, names)
    for iso, cs in by_country.items():
        pages[f"countries/{iso}.html"] = _country_page(iso, cs, meta, labels, names)
    written = []
    for rel, text in sorted(pages.items()):
        write_if_changed(root / rel, text)
        written.append(root / rel)
    for sub in ("cells", "gap", "countries"):
        d = root / sub
        if d.is_dir():
            for f in d.glob("*.html"):
                if f"{sub}/{f.name}" not in pages:
                    f.unlink()
    return written

