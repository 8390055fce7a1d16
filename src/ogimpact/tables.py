"""Publication tables from any result JSON: HTML, LaTeX, Markdown and Word.

One function turns a result document (``estimate … --json``, ``meta``, ``sensitivity``, ``pretrends``,
``assess --json``, a report's ``results.json``) into a :class:`PubTable` — a frame with human column
labels and numbers formatted to meaningful digits (decimals set by the standard error), CIs written as
``[a, b]``, missing values as "—" with a footnote saying why — and renders it:

* ``html`` and ``latex`` through great_tables (docs/decisions.md, "Publication tables": a maintained table grammar with booktabs
  LaTeX and self-contained HTML, rather than hand-written markup);
* ``md`` as a pipe table (GitHub / pandoc Markdown);
* ``docx`` through python-docx (a real Word table, opened by Word and LibreOffice).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from .errors import DataError, UsageError
from .parse import finite_or_none as _num

__all__ = ["PubTable", "from_result", "render", "FORMATS", "format_number", "format_ci", "frame_table", "DASH"]

FORMATS = ("html", "latex", "md", "docx")
DASH = "\u2014"
MISSING_NOTE = f"{DASH} not estimated or not applicable for this row."


@dataclass(frozen=True)
class PubTable:
    """A formatted table: ``frame`` holds strings only; title, notes and source travel with it."""

    frame: pd.DataFrame
    title: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    source: str = "ogimpact"


# --------------------------------------------------------------------------- number formatting


def _decimals(se: float | None, est: float | None) -> int:
    """Two significant digits of the standard error (at least 2, at most 6 decimals)."""
    ref = se if se not in (None, 0) else (abs(est) if est not in (None, 0) else None)
    if ref is None:
        return 3
    return int(min(6, max(2, 1 - math.floor(math.log10(abs(ref))))))


def _fmt(x, d: int) -> str:
    v = _num(x)
    if v is None:
        return DASH
    s = f"{v:.{d}f}"
    return s.replace("-", "\u2212") if s.startswith("-") and float(s) != 0 else s.lstrip("-")


def _p(x) -> str:
    v = _num(x)
    if v is None:
        return DASH
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def _p_phrase(x) -> str:
    """"= 0.123" or "< 0.001" (to follow "p")."""
    t = _p(x)
    return t if t.startswith("<") else f"= {t}"


def format_number(x, ref=None) -> str:
    """A number to meaningful digits (two significant digits of ``ref``, e.g. its standard error); "—" if missing."""
    v = _num(x)
    if v is None:
        return DASH
    d = _decimals(_num(ref), v)
    if v != 0 and float(f"{abs(v):.{d}f}") == 0:  # never print a non-zero estimate as 0.00
        d = min(6, 1 - math.floor(math.log10(abs(v))))
    return _fmt(v, d)


def format_ci(lo, hi, ref=None) -> str:
    """An interval as "[a, b]" at the digits of ``ref``; "—" when either bound is missing."""
    a, b = _num(lo), _num(hi)
    if a is None or b is None:
        return DASH
    d = _decimals(_num(ref), _num(ref) or max(abs(a), abs(b)) or None)
    return f"[{_fmt(a, d)}, {_fmt(b, d)}]"


def _int_text(v) -> str:
    return f"{int(v):d}".replace("-", "\u2212")


def frame_table(frame: pd.DataFrame, *, title: str, labels: Mapping[str, str] | None = None,
                notes: tuple[str, ...] = (), source: str = "ogimpact", ci: bool = True,
                missing: Mapping[str, str] | None = None) -> PubTable:
    """A :class:`PubTable` from any result frame: human labels, estimates to the digits of their standard error,
    ``ci_low``/``ci_high`` merged into "[a, b]", p-values to three decimals, missing cells as "—" with a footnote.

    ``missing`` maps a source column (``se``, ``ci_low`` for the CI, ``unit`` ...) to the reason its cells can be
    empty; each column holding a "—" gets the footnote "— in <label>: <reason>", and only columns without a
    reason share the generic one."""
    f = frame.reset_index(drop=True).copy()
    se = f["se"] if "se" in f.columns else pd.Series([None] * len(f))
    out = pd.DataFrame(index=f.index)
    numeric_like = {"estimate", "se", "ci_low", "ci_high", "treated", "synthetic", "gap", "weight", "att"}
    source_of: dict[str, str] = {}
    for c in f.columns:
        if c in ("ci_high",) and ci and "ci_low" in f.columns:
            continue
        name = (labels or {}).get(c) or _LABELS.get(c) or c.replace("_", " ").capitalize()
        source_of[name if not (c == "ci_low" and ci and "ci_high" in f.columns) else "95% CI"] = c
        if c == "ci_low" and ci and "ci_high" in f.columns:
            out["95% CI"] = [format_ci(a, b, s) for a, b, s in zip(f["ci_low"], f["ci_high"], se)]
        elif c in ("p_value", "placebo_p", "pretrend_wald_p") or c.endswith("_p"):
            out[name] = [_p(v) for v in f[c]]
        elif c in numeric_like:
            out[name] = [format_number(v, s) for v, s in zip(f[c], se)]
        elif pd.api.types.is_float_dtype(f[c]):
            vals = f[c].dropna()
            if len(vals) and (vals == vals.round()).all() and vals.abs().max() < 1e12:  # counts held as floats
                out[name] = [DASH if pd.isna(v) else _int_text(v) for v in f[c]]
            else:
                out[name] = [format_number(v, None) for v in f[c]]
        elif pd.api.types.is_integer_dtype(f[c]) and not pd.api.types.is_bool_dtype(f[c]):
            out[name] = [DASH if pd.isna(v) else _int_text(v) for v in f[c]]
        else:
            out[name] = [DASH if v is None or (isinstance(v, float) and not math.isfinite(v)) or
                         (not isinstance(v, (list, tuple, dict)) and pd.isna(v)) else str(v) for v in f[c]]
    nts = list(notes)
    why = dict(missing or {})
    unexplained, by_reason = [], {}
    for col in out.columns:
        if not (out[col] == DASH).any():
            continue
        src = source_of.get(col, col)
        reason = why.get(src) or (why.get("ci_high") if src == "ci_low" else None)
        if reason:
            by_reason.setdefault(reason.rstrip("."), []).append(col)
        else:
            unexplained.append(col)
    for reason, cols in by_reason.items():  # one footnote per reason: "— in Std. error and 95% CI: ..."
        names = cols[0] if len(cols) == 1 else ", ".join(cols[:-1]) + " and " + cols[-1]
        nts.append(f"{DASH} in {names}: {reason}.")
    if unexplained:
        nts.append(MISSING_NOTE)
    return PubTable(out, title=title, notes=tuple(nts), source=source)


_LABELS = {"estimate": "Estimate", "se": "Std. error", "p_value": "p-value", "placebo_p": "Placebo p",
           "pretrend_wald_p": "Pre-trend test p", "n_units": "Units", "n_treated_units": "Treated units",
           "n_obs": "Observations", "event_time": "Event time", "group": "Cohort", "time": "Year",
           "design": "Design", "measure": "Outcome", "unit": "Country", "status": "Status", "cohort": "Cohort",
           "units": "Countries", "weight": "Weight", "grade": "Grade", "reasons": "Reasons",
           "intervention": "Intervention", "domain": "Domain", "tau2": "τ²", "i2": "I² (%)", "q_p": "Q-test p",
           "k": "Studies (k)", "pi_low": "Prediction interval low", "pi_high": "Prediction interval high",
           "n_studies": "Studies", "synthesised": "Synthesised", "method": "Method", "n_clusters": "Clusters"}


def _row(label: str, r: Mapping[str, Any], label_col: str) -> dict:
    est, se = _num(r.get("estimate")), _num(r.get("se"))
    d = _decimals(se, est)
    lo, hi = _num(r.get("ci_low")), _num(r.get("ci_high"))
    ci = DASH if lo is None or hi is None else f"[{_fmt(lo, d)}, {_fmt(hi, d)}]"
    return {label_col: label, "Estimate": format_number(est, se), "Std. error": _fmt(se, d), "95% CI": ci,
            "p-value": _p(r.get("p_value"))}


def _term_label(term) -> str:
    """A coefficient name for readers: ``level_change`` -> "Level change"; other names as the model spells them."""
    t = str(term)
    if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+|[a-z]+", t):
        return (t[:1].upper() + t[1:]).replace("_", " ")
    return t


def _design_label(doc: Mapping) -> str:
    d = str(doc.get("design"))
    known = {"cs": "Callaway–Sant'Anna", "sun-abraham": "Sun–Abraham", "imputation": "Imputation (BJS)",
             "twfe": "Two-way fixed effects", "event-study": "Event study (TWFE)", "synth": "Synthetic control",
             "sdid": "Synthetic difference-in-differences", "its": "Interrupted time series",
             "panel": "Panel regression", "meta": "Meta-analysis", "continuous": "Continuous-dose DiD",
             "cs_cohort": "Callaway–Sant'Anna, the country's cohort"}
    if d in known:
        return known[d]
    from .evidence.headline import DESIGN_NAMES  # the sentence names of every other design

    name = DESIGN_NAMES.get(d, d)
    return name[:1].upper() + name[1:]


#: why a synthetic control row has no standard error or interval (the footnote of its dashes)
SYNTH_NO_SE = ("synthetic control's inference is the placebo-in-space rank p-value (Abadie et al. 2010), so it "
               "has no standard error or confidence interval")


def _from_design(doc: Mapping) -> PubTable:
    rows = [_row("Headline estimate", doc, "Term")]
    notes = []
    for t in doc.get("terms") or []:
        if t.get("term") != "Intercept":
            rows.append(_row(_term_label(t.get("term")), t, "Term"))
    for e in doc.get("event_study") or []:
        rows.append(_row(f"Event time {int(e['event_time'])}".replace("-", "\u2212"), e, "Term"))
    for g in doc.get("groups") or []:
        rows.append(_row(f"Cohort {g.get('group')}", g, "Term"))
    for r in doc.get("dose_response") or []:
        rows.append(_row(f"Dose {r.get('dose')}", r, "Term"))
    frame = pd.DataFrame(rows)
    n = doc.get("n_obs")
    bits = [f"{_design_label(doc)}; outcome {doc.get('outcome')}"]
    if n:
        bits.append(f"{int(n):,} observations")
    if doc.get("n_units"):
        bits.append(f"{int(doc['n_units']):,} units")
    if doc.get("n_clusters"):
        bits.append(f"{int(doc['n_clusters']):,} clusters")
    notes.append("; ".join(bits) + ".")
    alpha = _num(doc.get("alpha")) or 0.05
    if abs(alpha - 0.05) > 1e-12:
        frame = frame.rename(columns={"95% CI": f"{100 * (1 - alpha):g}% CI"})
    placebo = doc.get("placebo") or {}
    if isinstance(placebo, Mapping) and _num(placebo.get("p_value")) is not None:
        notes.append(f"Placebo-in-space p = {_p(placebo['p_value'])} over {placebo.get('n_placebos')} placebos.")
    if doc.get("design") == "synth" and _num(doc.get("se")) is None:
        notes.append(f"{DASH} in Std. error and 95% CI: {SYNTH_NO_SE}; the p-value is that rank p-value.")
    for w in (doc.get("diagnostics") or {}).get("warnings") or []:
        if isinstance(w, Mapping) and w.get("message"):
            notes.append(f"Warning ({w.get('code')}): {w['message']}")
    return PubTable(frame, title=f"{_design_label(doc)}: {doc.get('outcome')}", notes=tuple(notes))


def _from_meta(doc: Mapping) -> PubTable:
    rows = [_row("Pooled estimate", doc, "Term")]
    for t in doc.get("terms") or []:
        rows.append(_row(str(t.get("term")), t, "Term"))
    studies = [s for s in doc.get("studies") or [] if isinstance(s, Mapping)]
    for st in studies:
        rows.append(_row(f"Study {st.get('label')}", {"estimate": st.get("yi"), "se": st.get("sei"),
                                                       "ci_low": st.get("ci_low"), "ci_high": st.get("ci_high")},
                         "Term"))
    frame = pd.DataFrame(rows)
    if studies and any(_num(st.get("weight")) is not None for st in studies):
        frame["Weight (%)"] = [""] * (len(rows) - len(studies)) + [_fmt(st.get("weight"), 1) for st in studies]
    d = _decimals(_num(doc.get("se")), _num(doc.get("estimate")))
    method = str(doc.get("method") or (doc.get("options") or {}).get("method") or "").upper()
    model = "fixed-effect" if method in ("FE", "EE") else "random-effects"
    notes = [f"k = {doc.get('k')} studies; τ² = {_fmt(doc.get('tau2'), 4)}; I² = {_fmt(doc.get('i2'), 1)}%"
             + (f"; Q-test p {_p_phrase(doc.get('q_p'))}" if _num(doc.get("q_p")) is not None else "")
             + (f"; {int(100 * (1 - (_num(doc.get('alpha')) or 0.05)))}% prediction interval "
                f"[{_fmt(doc.get('pi_low'), d)}, {_fmt(doc.get('pi_high'), d)}]"
                if _num(doc.get("pi_low")) is not None else "") + "."]
    crit = (doc.get("options") or {}).get("critical_values")
    if crit:
        notes.append(f"Intervals use {crit} critical values.")
    outcome = doc.get("measure") or doc.get("outcome")
    title = f"Meta-analysis ({model}{', ' + method if method else ''})" + (f": {outcome}" if outcome else "")
    return PubTable(frame, title=title, notes=tuple(notes))


def _from_sensitivity(doc: Mapping) -> PubTable:
    orig = doc.get("original") or {}
    d = 3
    rows = [{"Restriction": "Original (parallel trends)", "95% robust CI":
             f"[{_fmt(orig.get('ci_low'), d)}, {_fmt(orig.get('ci_high'), d)}]"}]
    key = "M̄" if doc.get("method") == "rm" else "M"
    for r in doc.get("intervals") or []:
        rows.append({"Restriction": f"{key} = {_fmt(r.get('m'), 2)}",
                     "95% robust CI": f"[{_fmt(r.get('ci_low'), d)}, {_fmt(r.get('ci_high'), d)}]"})
    bd = doc.get("breakdown")
    note = f"Breakdown value {key} = {_fmt(bd, 2)}." if _num(bd) is not None else (
        f"Breakdown {doc['breakdown_note']}." if doc.get("breakdown_note") else "No breakdown on the grid.")
    return PubTable(pd.DataFrame(rows), title="HonestDiD sensitivity (Rambachan & Roth 2023)", notes=(note,))


def _from_pretrends(doc: Mapping) -> PubTable:
    rows = [{"Event time": str(r["event_time"]), "Trend": _fmt(r.get("trend"), 4),
             "Bias after pre-test": _fmt(r.get("bias"), 4)} for r in doc.get("bias") or []]
    note = (f"Linear trend slope {_fmt(doc.get('slope_for_power'), 5)}; pre-test power {_fmt(doc.get('power'), 3)}; "
            f"likelihood ratio {_fmt(doc.get('likelihood_ratio'), 3)}.")
    return PubTable(pd.DataFrame(rows), title="Pre-test power against a linear trend (Roth 2022)", notes=(note,))


def _from_assess(doc: Mapping) -> PubTable:
    rows, no_estimate, synth = [], False, False
    for a in doc.get("assessments") or []:
        he = a.get("headline_estimate") if isinstance(a.get("headline_estimate"), Mapping) else {}
        est, se = _num(he.get("estimate")), _num(he.get("se"))
        ci = he.get("ci") if isinstance(he.get("ci"), Mapping) else {}
        lo, hi = (he.get("ci_low"), he.get("ci_high")) if _num(he.get("ci_low")) is not None else (
            ci.get("ci_low"), ci.get("ci_high"))
        src = he.get("ci_source") if _num(he.get("ci_low")) is None and ci else None
        no_estimate = no_estimate or est is None
        synth = synth or (he.get("design") == "synth" and src is None and _num(lo) is None and est is not None)
        rows.append({"Outcome": str(a.get("measure")), "Country": str(a.get("country") or "cross-country"),
                     "Design": _design_label(he) if he.get("design") else DASH,
                     "Estimate": format_number(est, se),
                     "95% CI": format_ci(lo, hi, se) + (f" ({_design_label({'design': src})})" if src and
                                                         _num(lo) is not None else ""),
                     "Grade": str(a.get("grade") or DASH), "Headline": str(a.get("headline") or DASH)})
    rub = doc.get("rubric") if isinstance(doc.get("rubric"), Mapping) else {}
    notes = [f"Grades follow the rubric {rub.get('name', 'og-evidence-grade')}"
             + (f" version {rub['version']}" if rub.get("version") else "") + " (ogimpact/evidence/grading.yaml)."]
    if any("(" in r["95% CI"] for r in rows):
        notes.append("A design named after a CI is the design the interval comes from (the graded design reports none).")
    if no_estimate:
        notes.append(f"{DASH} in Design and Estimate: no design could be estimated; the Headline says why.")
    if synth:
        notes.append(f"{DASH} in 95% CI: {SYNTH_NO_SE}.")
    return PubTable(pd.DataFrame(rows), title=f"Graded evidence: {doc.get('intervention')}", notes=tuple(notes))


def _from_results_list(items, *, title: str = "Results") -> PubTable:
    rows, reasons, synth_dash = [], {}, False
    for item in items:
        if not isinstance(item, Mapping):
            continue
        # a report's results.json lists entries {measure, design, unit, role, result}: the result is inside
        r = item.get("result") if isinstance(item.get("result"), Mapping) else item
        if "design" not in r and item.get("design"):
            r = {**r, "design": item["design"]}
        outcome = item.get("measure") or r.get("outcome", "")
        where = f" ({item['unit']})" if item.get("unit") else ""
        label = f"{_design_label(r)} — {outcome}{where}".strip(" —")
        if _num(r.get("estimate")) is None:
            rows.append({"Term": label, "Estimate": DASH, "Std. error": DASH, "95% CI": DASH, "p-value": DASH})
            why = " ".join(str(r.get("reason") or r.get("error") or r.get("status") or "not estimated").split())
            reasons.setdefault(why.rstrip("."), []).append(label)
        else:
            rows.append(_row(label, r, "Term"))
            synth_dash = synth_dash or (r.get("design") == "synth" and _num(r.get("se")) is None)
    notes = [f"{DASH} not estimated ({'; '.join(labels)}): {why}." for why, labels in reasons.items()]
    if synth_dash:
        notes.insert(0, f"{DASH} in Std. error and 95% CI of synthetic control rows: {SYNTH_NO_SE}; their p-value "
                        "is that rank p-value.")
    return PubTable(pd.DataFrame(rows), title=title, notes=tuple(notes))


def _results_title(doc: Mapping) -> str:
    """A report's results.json: "Results of the country report: CHL × rti_law" (ids as the command takes them)."""
    p = doc.get("parameters") if isinstance(doc.get("parameters"), Mapping) else {}
    kind = doc.get("kind")
    what = " × ".join(str(p[k]) for k in ("country", "intervention") if p.get(k))
    if not kind:
        return "Results"
    return f"Results of the {kind} report" + (f": {what}" if what else "")


def from_result(doc: Any) -> PubTable:
    """The publication table of a result document (see module docstring for the kinds recognised)."""
    if isinstance(doc, list):
        return _from_results_list(doc)
    if not isinstance(doc, Mapping):
        raise DataError("the file does not hold a result JSON object; write it with `ogimpact … --json`.")
    if "assessments" in doc:
        t = _from_assess(doc)
    elif "intervals" in doc and "original" in doc:
        t = _from_sensitivity(doc)
    elif "slope_for_power" in doc:
        t = _from_pretrends(doc)
    elif doc.get("design") == "meta" or ("tau2" in doc and "k" in doc):
        t = _from_meta(doc)
    elif "design" in doc and "estimate" in doc:
        t = _from_design(doc)
    elif isinstance(doc.get("results"), list):
        t = _from_results_list(doc["results"], title=_results_title(doc))
    else:
        raise DataError("this JSON is not a result ogimpact knows (no 'design', 'assessments', 'intervals', "
                        "'tau2' or 'results' key); give the output of `ogimpact estimate|meta|sensitivity|"
                        "pretrends|assess … --json` or a report's results.json.")
    notes = list(t.notes)
    fr = t.frame
    if "p-value" in fr.columns and (fr["p-value"] == DASH).any() and "Estimate" in fr.columns:
        no_p = (fr["p-value"] == DASH) & (fr["Estimate"] != DASH)
        if no_p.any():
            notes.append("Blank p-value: the result JSON gives an interval, not a p-value, for that row.")
        fr = fr.assign(**{"p-value": fr["p-value"].where(~no_p, "")})
    if (fr == DASH).any().any() and not any(n.startswith(DASH) for n in notes):
        notes.append(MISSING_NOTE)
    t = PubTable(fr, t.title, tuple(notes), t.source)
    return t


# --------------------------------------------------------------------------- rendering
#: characters pdflatex's default utf8 input cannot typeset, and their plain-text spelling in LaTeX tables
_LATEX_PLAIN = (("\u2212", "-"), ("τ²", "tau^2"), ("I²", "I^2"), ("τ", "tau"), ("²", "^2"), ("M̄", "M-bar"),
                ("≥", ">="), ("≤", "<="), ("±", "+/-"))


def _gt(t: PubTable, *, ascii_minus: bool = False):
    import hashlib

    from great_tables import GT

    frame, title, notes = t.frame, t.title, t.notes
    if ascii_minus:  # pdflatex's default UTF-8 support has no U+2212, Greek letters, superscripts or M-bar
        def plain(x: str) -> str:
            for a, b in _LATEX_PLAIN:
                x = x.replace(a, b)
            return x

        frame = frame.apply(lambda c: c.map(lambda v: plain(str(v))))
        frame.columns = [plain(str(c)) for c in frame.columns]
        title = plain(title)
        notes = tuple(plain(n) for n in notes)
    # a content-derived id (great_tables draws a random one): same table, same bytes
    tid = "ogi" + hashlib.sha256((title + frame.to_csv()).encode()).hexdigest()[:10]
    g = GT(frame, id=tid)
    if title:
        g = g.tab_header(title=title)
    for n in notes:
        g = g.tab_source_note(n)
    return g.tab_source_note(f"Source: {t.source}.")


def _md(t: PubTable) -> str:
    cols = list(t.frame.columns)

    def esc(s):
        return str(s).replace("|", "\\|")

    def numeric(col) -> bool:
        vals = [str(v) for v in t.frame[col] if str(v) not in ("", DASH)]
        return bool(vals) and all(len(v) <= 24 and any(ch.isdigit() for ch in v) for v in vals)

    lines = [f"**{esc(t.title)}**", "", "| " + " | ".join(map(esc, cols)) + " |",
             "|" + "|".join("---:" if i and numeric(c) else ":---" for i, c in enumerate(cols)) + "|"]
    for row in t.frame.itertuples(index=False):
        lines.append("| " + " | ".join(esc(v) for v in row) + " |")
    lines.append("")
    lines += [f"{esc(n)}  " for n in t.notes] + [f"Source: {esc(t.source)}."]
    return "\n".join(lines) + "\n"


def _docx(t: PubTable) -> bytes:
    import io

    import docx

    d = docx.Document()
    d.add_heading(t.title, level=2)
    tab = d.add_table(rows=1, cols=len(t.frame.columns))
    tab.style = "Table Grid"
    for cell, name in zip(tab.rows[0].cells, t.frame.columns):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in t.frame.itertuples(index=False):
        cells = tab.add_row().cells
        for cell, v in zip(cells, row):
            cell.text = str(v)
    for n in (*t.notes, f"Source: {t.source}."):
        d.add_paragraph(n).style = "Caption" if "Caption" in [s.name for s in d.styles] else None
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def render(t: PubTable, fmt: str) -> bytes:
    """Render a table: ``html`` (self-contained fragment), ``latex`` (booktabs), ``md`` or ``docx`` bytes."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if fmt == "md":
        return _md(t).encode("utf-8")
    if fmt == "docx":
        return _docx(t)
    g = _gt(t, ascii_minus=(fmt == "latex"))
    text = g.as_raw_html() if fmt == "html" else g.as_latex()
    return text.encode("utf-8")
