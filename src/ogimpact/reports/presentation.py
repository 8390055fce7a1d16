"""What a report says first: the question, the headline sentences, the summary table, the key caveats.

Everything here reads what the report already recorded in its :class:`ReportContext`
(estimates, grades, tables) — no statistic is computed here.  The headline sentence of a
measure is the assessment's ``headline`` sentence when the grader supplies one (a string);
otherwise :func:`fallback_headline` writes one from the estimate, its interval and the design.

Figures: :func:`install_figure_display` makes every matplotlib figure shown in a report
kernel display as an SVG ``<img>`` whose ``alt`` text is generated from the figure's content
(:func:`ogimpact.plots.style.alt_text`), so the HTML holds vectors and never a default
"No description" alt text.
"""
from __future__ import annotations

import base64
import html as _html
import re
from typing import Any, Iterable, Mapping

from ..parse import finite_or_none as _f

__all__ = ["question", "country_name", "intervention_words", "measure_words", "clean_prose", "figure_html",
           "install_figure_display", "estimand", "fallback_headline", "headline_sentences", "summary_rows",
           "summary_table_html", "key_caveats", "DESIGN_NAMES", "param_text", "summary_markup"]

DESIGN_NAMES = {"synth": "synthetic control", "sdid": "synthetic difference-in-differences",
                "its": "interrupted time series", "cs": "Callaway–Sant'Anna DiD", "sun-abraham": "Sun–Abraham DiD",
                "imputation": "imputation DiD (Borusyak–Jaravel–Spiess)", "twfe": "Two-way fixed effects",
                "event-study": "TWFE event study", "cs_cohort": "Callaway–Sant'Anna, the country's cohort",
                "dcdh": "de Chaisemartin–D'Haultfœuille DiD (switching on and off)",
                "lp-did": "LP-DiD, non-absorbing", "continuous": "continuous-dose DiD (RTI Rating score)"}

SINGLE_DESIGNS = ("synth", "sdid", "its", "cs_cohort")

#: what the headline number of each design is, as the report runs it
ESTIMANDS = {"synth": "average post-adoption gap, treated minus synthetic control",
             "sdid": "ATT of the treated country over the post-adoption years",
             "its": "change in level at adoption against the pre-adoption trend",
             "cs": "cross-country ATT of all adopters, averaged over event times 0+ (not-yet-treated controls)",
             "sun-abraham": "interaction-weighted ATT over post-adoption event times",
             "imputation": "ATT over all treated country-years (imputed counterfactual)",
             "twfe": "average of the post-adoption event-time coefficients",
             "cs_cohort": "ATT of the country's adoption cohort"}



# --------------------------------------------------------------------------- words
def country_name(iso3: str | None) -> str | None:
    if not iso3:
        return None
    try:
        from ..data import country_reference

        ref = country_reference()
        hit = ref.loc[ref["iso3"] == iso3, "name"]
        return str(hit.iloc[0]) if len(hit) else iso3
    except Exception:  # noqa: BLE001 - the code is still a true name
        return iso3


def intervention_words(intervention: str | None) -> str | None:
    if not intervention:
        return None
    try:
        from .. import interventions as iv

        label = iv.get(intervention).label
    except Exception:  # noqa: BLE001
        return intervention
    return label[0].lower() + label[1:] if label[:2] != label[:2].upper() else label


def measure_words(measure: str | None) -> str:
    if not measure:
        return "the outcome"
    try:
        from .. import measures as ms

        return ms.get(measure).label
    except Exception:  # noqa: BLE001
        return str(measure)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def question(kind: str, parameters: Mapping[str, Any]) -> str:
    """The report's question in words: its page title and H1."""
    iv = intervention_words(parameters.get("intervention"))
    if kind == "country":
        c = country_name(parameters.get("country"))
        return f"Did the adoption of a {iv} change governance outcomes in {c}?"
    if kind == "cross-country":
        return f"Across countries, did adopting a {iv} change governance outcomes?"
    return "What does the bundled evidence say about open-government interventions?"


def clean_prose(text: str) -> str:
    """Registry prose for readers: no code references (``attrs[...]``), no doubled or clashing stops."""
    t = re.sub(r"\s+and\s+(?:are\s+)?listed in attrs\[[^\]]*\]", "", text)  # "are excluded and listed in attrs[..]"
    t = re.sub(r"(?:are\s+)?listed in attrs\[[^\]]*\]", "are listed as excluded", t)
    t = re.sub(r"attrs\[[^\]]*\]", "the registry's notes", t)
    t = re.sub(r"\.\s*\.", ".", t)
    t = re.sub(r"\.\s*;", ";", t)
    t = re.sub(r";\s*\.", ".", t)
    t = re.sub(r"\s{2,}", " ", t)
    return t.strip()


# --------------------------------------------------------------------------- figures
#: where ``--figures png`` exports go (set by :func:`set_figure_export` from the report's parameters)
_EXPORT: dict = {"dir": None, "n": 0}


def set_figure_export(folder) -> None:
    """Write every figure shown from now on as a 300-dpi PNG in ``folder`` (``None``: stop)."""
    from pathlib import Path

    _EXPORT.update(dir=None if folder is None else Path(folder), n=0)


def _export_png(fig) -> str | None:
    from ..plots.style import export

    if _EXPORT["dir"] is None:
        return None
    _EXPORT["n"] += 1
    ax = fig.axes[0] if fig.axes else None
    title = (ax.get_title("left") or ax.get_title()) if ax is not None else ""
    stem = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "figure"
    name = f"{_EXPORT['n']:02d}-{stem}.png"
    _EXPORT["dir"].mkdir(parents=True, exist_ok=True)
    export(fig, _EXPORT["dir"] / name, dpi=300)
    return f"{_EXPORT['dir'].name}/{name}"


def figure_html(fig) -> str:
    """``<figure>`` with the figure as an SVG image and an alt text generated from its content (and, with
    ``--figures png``, a link to its 300-dpi PNG beside the report)."""
    from ..plots.style import alt_text, svg_bytes

    alt = alt_text(fig)
    data = base64.b64encode(svg_bytes(fig)).decode("ascii")
    png = _export_png(fig)
    link = (f'<figcaption class="ogi-figure-export"><a href="{_html.escape(png)}">PNG, 300 dpi</a></figcaption>'
            if png else "")
    return (f'<figure class="ogi-figure"><img src="data:image/svg+xml;base64,{data}" alt="{_html.escape(alt)}" '
            f'style="width:100%;max-width:1100px;height:auto">{link}</figure>')


def install_figure_display() -> None:
    """In an IPython kernel: show every matplotlib Figure as :func:`figure_html` (no PNG, no default alt)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return
    import matplotlib

    # Agg, never the inline backend: matplotlib-inline re-registers PNG for every Figure when pyplot loads
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401 - load pyplot now, so nothing re-registers the formatters later
    from matplotlib.figure import Figure

    import pandas as pd

    fmt = ip.display_formatter.formatters
    fmt["text/html"].for_type(Figure, figure_html)
    # any frame a section displays (also those of the evidence map) is a publication table, not raw pandas
    fmt["text/html"].for_type(pd.DataFrame, frame_html)
    fmt["image/png"].for_type(Figure, lambda fig: None)
    fmt["text/plain"].for_type(Figure, lambda fig, p, cycle: p.text("figure: " + _alt(fig)))


def frame_html(frame) -> str:
    """A DataFrame as a publication table (:func:`ogimpact.tables.frame_table`): labels, digits, "—"."""
    import pandas as pd

    from ..tables import frame_table, render

    f = frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index()
    return render(frame_table(f, title=""), "html").decode("utf-8")


def _alt(fig) -> str:
    from ..plots.style import alt_text

    return alt_text(fig)


# --------------------------------------------------------------------------- headline


def estimand(design: str, grade: Mapping | None = None, result: Mapping | None = None) -> str:
    """The estimand in words: the grade's, else the one the answers recipe declared on the result
    (``options.estimand``, :mod:`ogimpact.evidence.estimands`), else the design's own headline."""
    for est in ((grade or {}).get("estimand"), ((result or {}).get("options") or {}).get("estimand")):
        if isinstance(est, Mapping) and est.get("text"):
            return str(est["text"])
        if isinstance(est, str) and est:
            return est
    return ESTIMANDS.get(design, "headline estimate")


def _num(x: float | None, ref: float | None = None) -> str:
    from ..tables import format_number

    return format_number(x, ref)


def fallback_headline(measure: str, doc: Mapping, *, grade: str | None = None, country: str | None = None) -> str:
    """One sentence from an estimate, its interval (or placebo p) and its design."""
    design = str(doc.get("design"))
    name = DESIGN_NAMES.get(design, design)
    est, lo, hi = _f(doc.get("estimate")), _f(doc.get("ci_low")), _f(doc.get("ci_high"))
    where = f" in {country_name(country)}" if country else ""
    g = f" Evidence grade: {grade}." if grade else ""
    if est is None:
        return f"On {measure_words(measure)}{where}, no design could estimate an effect.{g}"
    ref = _f(doc.get("se")) or (abs(hi - lo) / 4 if lo is not None and hi is not None else None)
    s = f"On {measure_words(measure)}{where}, the {name} estimate is {_num(est, ref)}"
    if lo is not None and hi is not None:
        s += f" (95% CI [{_num(lo, ref)}, {_num(hi, ref)}])"
        s += ("; the interval includes zero, so the data cannot tell this apart from no effect." if lo <= 0 <= hi
              else "; the interval excludes zero.")
    else:
        p = _f((doc.get("placebo") or {}).get("p_value")) if isinstance(doc.get("placebo"), Mapping) else None
        p = p if p is not None else _f(doc.get("p_value"))
        s += (f" (placebo p = {p:.2f}" + ("; indistinguishable from the placebo gaps)." if p > 0.1 else ").")
              if p is not None else " (no interval available).")
    return s + g


def _intervention_of(e: Mapping) -> str | None:
    role = str(e.get("role") or "")
    return role.split(":", 1)[1] if role.startswith("evidence_map:") else None


def _key(e: Mapping) -> tuple:
    """An estimate's row key: (intervention, measure) — the intervention only in an evidence review."""
    return (_intervention_of(e), e.get("measure"))


def _grades_by_measure(ctx) -> dict[tuple, Mapping]:
    ev = ctx.kind == "evidence"
    return {(g.get("intervention") if ev else None, g.get("measure")): g
            for g in (getattr(ctx, "grades", None) or []) if g.get("measure")}


def _estimates(ctx) -> list[dict]:
    ok = ("estimate",) if ctx.kind != "evidence" else ("estimate", "evidence_map:")
    return [e for e in ctx.entries if str(e.get("role", "estimate")).startswith(ok) and e.get("measure")]


def _outcome_words(key: tuple) -> str:
    iv, m = key
    if iv:
        w = intervention_words(iv) or iv
        return f"{w[0].upper() + w[1:]} → {measure_words(m)}"
    return measure_words(m)


def _graded_design(g: Mapping | None) -> str | None:
    if not g:
        return None
    he = g.get("headline_estimate")  # the estimate the grade is built on (assess --json)
    if isinstance(he, Mapping) and he.get("design"):
        return str(he["design"])
    t = g.get("grade_target")
    if isinstance(t, Mapping) and t.get("design"):
        return str(t["design"])
    hl = g.get("headline")
    if isinstance(hl, Mapping) and hl.get("design"):
        return str(hl["design"])
    d = g.get("design")
    return str(d) if d and "+" not in str(d) else None


def headline_sentences(ctx) -> list[str]:
    """One sentence per measure: the assessment's ``headline`` sentence when present, else a generated one."""
    grades = _grades_by_measure(ctx)
    country = ctx.parameters.get("country")
    out, seen = [], set()
    for e in _estimates(ctx):
        k = _key(e)
        m = e["measure"]
        if k in seen:
            continue
        g = grades.get(k)
        docs = [x["result"] for x in _estimates(ctx) if _key(x) == k]
        if ctx.kind == "country":  # a country report's headline is about the country, never the pooled ATT
            docs = [d for d in docs if d.get("design") in SINGLE_DESIGNS]
        nothing = not any(_f(d.get("estimate")) is not None for d in docs)
        known_why = any(d.get("reason") for d in docs)
        # the assessment's sentence, unless nothing was estimated and the report knows the one true reason
        # (the grade then only says "each design's reason is listed with it")
        if g and isinstance(g.get("headline"), str) and g["headline"].strip() and not (nothing and known_why):
            out.append(g["headline"].strip())
            seen.add(k)
            continue
        want = _graded_design(g)
        if want is None and ctx.kind != "country":  # heterogeneity-robust estimators first, TWFE last
            order = {"cs": 0, "imputation": 1, "sun-abraham": 2}
            docs = sorted(docs, key=lambda d: order.get(str(d.get("design")), 9))
        pick = next((d for d in docs if d.get("design") == want and _f(d.get("estimate")) is not None), None)
        pick = pick or next((d for d in docs if _f(d.get("estimate")) is not None), None)
        if pick is None:
            reasons = [d.get("reason") for d in docs if d.get("reason")]
            why = f": {reasons[0].rstrip('.')}" if reasons else ""
            where = f" for {country_name(country)}" if country else ""
            grade = f" Evidence grade: {g['grade']}." if g and g.get("grade") else ""
            out.append(f"On {_outcome_words(k)}, no design could estimate an effect{where}{why}.{grade}")
        else:
            s = fallback_headline(m, pick, grade=(g or {}).get("grade"),
                                  country=country if pick.get("design") in ("synth", "sdid", "its") else None)
            if k[0]:
                s = s.replace(f"On {measure_words(m)}", f"On {_outcome_words(k)}", 1)
            out.append(s)
        seen.add(k)
    return out


# --------------------------------------------------------------------------- summary table
def summary_rows(ctx) -> list[dict]:
    """Measure × design rows: estimand, estimate, 95% CI, grade (on the design the grade is built on)."""
    grades = _grades_by_measure(ctx)
    rows = []
    for e in _estimates(ctx):
        r, m, d = e["result"], e["measure"], e["design"]
        g = grades.get(_key(e))
        graded = _graded_design(g) == d
        rows.append({"measure": m, "outcome": _outcome_words(_key(e)), "design": d, "estimand": estimand(d, g if graded else None, r),
                     "estimate": r.get("estimate"), "se": r.get("se"), "ci_low": r.get("ci_low"),
                     "ci_high": r.get("ci_high"), "grade": (g or {}).get("grade") if graded else None,
                     "reason": r.get("reason") if _f(r.get("estimate")) is None else None})
    return rows


def summary_table_html(ctx) -> str:
    """The summary table as styled HTML (great_tables via :mod:`ogimpact.tables`)."""
    from ..tables import DASH, PubTable, format_ci, format_number, render

    rows = summary_rows(ctx)
    if not rows:
        return ""
    out, notes, reasons = [], [], []
    for r in rows:
        ref = _f(r["se"])
        est = _f(r["estimate"])
        if est is None and r["reason"]:
            reasons.append(r["reason"])
        out.append({"Outcome": r["outcome"], "Design": DESIGN_NAMES.get(r["design"], r["design"]),
                    "Estimand": r["estimand"], "Estimate": format_number(est, ref),
                    "95% CI": format_ci(r["ci_low"], r["ci_high"], ref), "Grade": r["grade"] or DASH})
    import pandas as pd

    frame = pd.DataFrame(out)
    if (frame["95% CI"] == DASH).any():
        notes.append(f"{DASH} in 95% CI: the design reports no interval (synthetic control: see the placebo p-value "
                     "in its section) or was not estimable.")
    if (frame["Grade"] == DASH).any():
        notes.append(f"{DASH} in Grade: each outcome is graded once, on the design named by the grade; the other "
                     "designs enter its consistency check.")
    for why in dict.fromkeys(reasons):
        notes.append(f"Not estimable: {why}")
    t = PubTable(frame, title="Summary of estimates", notes=tuple(notes), source="ogimpact report; see the methods "
                 "appendix for data and options")
    return render(t, "html").decode("utf-8")


# --------------------------------------------------------------------------- caveats
def key_caveats(ctx, *, limit: int = 6) -> list[str]:
    """The caveats that qualify the headline: grade reasons that lowered it, warnings, data notes."""
    out: list[str] = []
    for g in getattr(ctx, "grades", None) or []:
        for r in g.get("reasons") or []:
            if re.match(r"^\s*[−-]\d", str(r)):
                text = re.sub(r"^\s*[−-]\d+\s*", "", str(r))
                out.append(f"{measure_words(g.get('measure'))}: {text}")
    seen_codes = set()
    for e in _estimates(ctx):
        for w in (e["result"].get("diagnostics") or {}).get("warnings") or []:
            code = w.get("code")
            if code in seen_codes:
                continue
            seen_codes.add(code)
            out.append(f"{DESIGN_NAMES.get(e['design'], e['design'])}: {w.get('message')}")
    tab = ctx.tables.get("caveats") or []
    out.extend(str(c.get("caveat")) for c in tab if isinstance(c, Mapping))
    return list(dict.fromkeys(out))[:limit]


def as_list(items: Iterable[str]) -> str:
    return "".join(f"<li>{_html.escape(i)}</li>" for i in items)


def param_text(ctx) -> str:
    """The parameters in words: no ``None``, no code."""
    p = ctx.parameters
    out = []
    if p.get("country"):
        out.append(f"Country: {country_name(p['country'])} ({p['country']})")
    if p.get("intervention"):
        out.append(f"Intervention: {intervention_words(p['intervention'])} ({p['intervention']})")
    if "measures" in p:
        ms = p.get("measures") or []
        out.append("Outcomes: " + (", ".join(f"{measure_words(m)} ({m})" for m in ms) if ms else
                                   "every catalogue measure"))
    if "years" in p:
        y = p.get("years")
        out.append(f"Years: {y[0]}–{y[1]}" if y else "Years: every year the data cover")
    if p.get("designs"):
        out.append("Designs: " + ", ".join(DESIGN_NAMES.get(d, d) for d in p["designs"]))
    if "variant" in p:
        out.append(f"Timing variant: {p.get('variant') or 'the registry default'}")
    if p.get("donor_rule"):
        out.append(f"Donor rule: {p['donor_rule']}")
    if "placebo" in p:
        out.append(f"Placebo inference: {'yes' if p.get('placebo') else 'no'}")
    if "seed" in p:
        out.append(f"Seed: {p.get('seed')}")
    if p.get("horizon") is not None:
        out.append(f"Horizon: event times 0–{p['horizon']} (the adoption year and the {p['horizon']} after)")
    return "; ".join(out) + "."


def summary_markup(ctx, placeholder: bool = False) -> str:
    """The executive summary block (a placeholder until the report has run to its end)."""
    if placeholder:
        return ('<section class="ogi-summary"><h2>Summary</h2><p class="headline">The summary appears here when '
                'the report has run to its end.</p></section>')
    lines = headline_sentences(ctx) or ["No estimate was produced."]
    cav = key_caveats(ctx)
    return ('<section class="ogi-summary"><h2>Summary</h2>'
            + "".join(f'<p class="headline">{_html.escape(t)}</p>' for t in lines)
            + summary_table_html(ctx)
            + (f'<h3>Key caveats</h3><ul class="ogi-caveats">{as_list(cav)}</ul>' if cav else "")
            + '<p class="ogi-note">Methods, data sources and the command to rerun this report are in the '
              'methods appendix at the end.</p></section>')
