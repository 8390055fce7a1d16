"""Display helpers for the report notebooks: compute a section, record it, show it.

Each function takes the :class:`ReportContext` (its ``parameters`` are the
report's parameters, given once by :func:`start`), calls
:mod:`ogimpact.reports.sections` (which calls the designs), records every
estimate in the context, and displays tables (through :mod:`ogimpact.tables`),
figures (SVG with generated alt text, one style: :mod:`ogimpact.plots.style`)
and plain-language notes.  Nothing here computes a statistic of its own.
"""
from __future__ import annotations

import html as _html

import pandas as pd

from ..errors import OgimpactError
from ..results import Estimate
from . import presentation as pres
from .figures import source_of, styled
from . import sections
from .context import NotAvailable, ReportContext
from .prefetch import Prefetch, country_call, prefetch_country, staggered_call, take

__all__ = [
    "start", "title_block", "executive_summary", "finish", "intervention", "trends", "single_country",
    "cohort_in_staggered", "results", "caveats", "cohorts", "staggered", "heterogeneity", "grades",
    "evidence_review", "sensitivity", "methods_appendix", "table",
]

SUMMARY_ID = "ogimpact-executive-summary"
LONG_TABLE = 12  # rows shown inline; longer tables are collapsed, with a CSV beside the report


def _html_out(markup: str):
    from IPython.display import HTML

    _display(HTML(markup))


def start(kind: str, *, output_dir=None, **parameters) -> ReportContext:
    """The report context of a notebook run; figures display as SVG with alt text from here on."""
    from ..evidence.assess_runs import keep_cohort_panels

    ctx = ReportContext(output_dir, kind=kind, parameters=parameters)
    keep_cohort_panels(True)  # a measure's cohort panel is asked for three times; built once (off in finish)
    ctx.prefetch = Prefetch()
    if kind == "country":  # before matplotlib loads: the worker starts fitting while the kernel imports it
        prefetch_country(ctx)
    pres.install_figure_display()
    # --figures png: every figure also as a 300-dpi PNG in figures/ beside report.html
    pres.set_figure_export(ctx.output_dir / "figures" if parameters.get("figures") == "png" and ctx.output_dir
                           else None)
    return ctx


def _p(ctx, key, default=None):
    return ctx.parameters.get(key, default)


def table(ctx, key: str, frame, *, title: str, labels=None, notes=(), record: bool = True, missing=None):
    """Show a result frame as a publication table; record it; long tables collapse with a CSV beside the report."""
    from ..tables import frame_table, render

    if record:
        ctx.add_table(key, frame)
    if frame is None or len(frame) == 0:
        return
    f = pd.DataFrame(frame)
    csv_note = ""
    if len(f) > LONG_TABLE and ctx.output_dir is not None:
        from ..atomic import atomic_write_text

        name = f"tables/{key.replace('/', '_').replace(' ', '_')}.csv"
        (ctx.output_dir / "tables").mkdir(parents=True, exist_ok=True)
        atomic_write_text(ctx.output_dir / name, f.to_csv(index=False))
        csv_note = f' Full table as CSV: <a href="{_html.escape(name)}">{_html.escape(name)}</a>.'
    t = frame_table(f, title=title, labels=labels, notes=tuple(notes), missing=missing)
    body = render(t, "html").decode("utf-8")
    if len(f) > LONG_TABLE:
        _html_out(f"<details class=\"ogi-long-table\"><summary>{_html.escape(title)} — {len(f)} rows (click to "
                  f"expand).{csv_note}</summary>{body}</details>")
    else:
        _html_out(body)


def _display(obj):
    from IPython.display import display

    display(obj)


def _md(text: str):
    from IPython.display import Markdown

    _display(Markdown(text))


def _fig(fig):
    """Display a figure (plot functions may return a Figure or an Axes) and close it."""
    import matplotlib.pyplot as plt

    from ..plots.style import figure_of

    fig = figure_of(fig)
    _display(fig)
    plt.close(fig)


def _fmt(x, nd=3):
    try:
        return "—" if x is None or pd.isna(x) else f"{float(x):.{nd}f}"
    except (TypeError, ValueError):
        return str(x)


def _not_available(design: str, na: dict, *, measure: str | None = None):
    where = f" on {pres.measure_words(measure)}" if measure else ""
    name = pres.DESIGN_NAMES.get(design, design)
    _md(f"> **{name[:1].upper() + name[1:]}{where}: {na.get('status', 'not available')}.** "
        f"{na.get('reason', '')}")


def title_block(ctx):
    """The question as H1, then the parameters in words."""
    import ogimpact

    _md(f"# {pres.question(ctx.kind, ctx.parameters)}\n\n"
        f"*ogimpact {ogimpact.__version__} {ctx.kind} report.* {pres.param_text(ctx)}")
    _display_summary(ctx, placeholder=True)


def _display_summary(ctx, *, placeholder: bool) -> None:
    from IPython.display import HTML, display, update_display

    markup = pres.summary_markup(ctx, placeholder=placeholder)
    if placeholder:
        display(HTML(markup), display_id=SUMMARY_ID)
    else:
        update_display(HTML(markup), display_id=SUMMARY_ID)


def executive_summary(ctx):
    """Fill the summary under the title (headline sentences, summary table, key caveats)."""
    _display_summary(ctx, placeholder=False)


def finish(ctx):
    """Fill the summary at the top, then write results.json (the last call of every report notebook)."""
    from ..evidence.assess_runs import keep_cohort_panels
    from .kernel_exit import exit_kernel_fast

    executive_summary(ctx)
    pf = getattr(ctx, "prefetch", None)
    if pf is not None:
        pf.close()
    keep_cohort_panels(False)
    path = ctx.save()
    exit_kernel_fast()
    return path


def methods_appendix(ctx):
    from .appendix import appendix_markdown

    _md(appendix_markdown(ctx))


def intervention(ctx):
    p = ctx.parameters
    intervention, country, variant = p["intervention"], p.get("country"), p.get("variant")
    ov = sections.intervention_overview(intervention, variant=variant)
    lines = [f"**{ov['label']}** ({ov['unit_level']} level). {pres.clean_prose(ov['definition'])}"]
    if ov["variants"]:
        lines.append("\nTiming variants:\n" + "\n".join(
            f"- **{k}**{' (used here)' if k == ov['variant'] else ''}: {pres.clean_prose(v)}"
            for k, v in ov["variants"].items()))
    if ov["citations"]:
        lines.append("\nSources:\n" + "\n".join(f"- {pres.clean_prose(c)}" for c in ov["citations"]))
    _md("\n".join(lines))
    if country:
        t = sections.country_timing(intervention, country, variant=variant)
        if t.empty:
            ctx.add_table("timing", t)
            _md(f"> {pres.country_name(country)} has no row in the {intervention} timing table.")
        else:
            ctx.add_table("timing", t)
            keep = [c for c in ("unit_name", "statute", "adopted", "adopted_date", "in_force", "in_force_date",
                                "exited", "cohort", "variant", "cohort_basis") if c in t.columns and t[c].notna().any()]
            table(ctx, "timing_shown", t[keep] if keep else t, title=f"Timing of {pres.intervention_words(intervention)}"
                  f" in {pres.country_name(country)}", labels={"unit_name": "Country", "cohort": "Cohort (first "
                  "treated year)", "cohort_basis": "Cohort basis"}, record=False)
            note = sections.variant_note(intervention, country, variant=variant)
            if note:
                _md(note)


def trends(ctx):
    from ..plots.style import finish as _finish_fig
    from ..plots.style import measure_label, time_label

    p = ctx.parameters
    country, intervention = p["country"], p["intervention"]
    for m in p["measures"]:
        try:
            fig = sections.trend_figure(m, country, intervention, years=p.get("years"), variant=p.get("variant"))
            ax = fig.axes[0]
            _finish_fig(ax, title=f"{pres.measure_words(m)}: {pres.country_name(country)}, its region and the "
                        "donor pool", xlabel=time_label(), ylabel=measure_label(m), source=source_of(m))
            _fig(fig)
        except Exception as exc:  # noqa: BLE001 - shown, not hidden
            _md(f"> Trend figure for {m} not available: {' '.join(str(exc).split())}")


def warnings_note(res, *, design: str | None = None) -> str | None:
    """The warnings that qualify an estimate (``diagnostics.warnings``) as one Markdown note, or None."""
    entries = (getattr(res, "diagnostics", None) or {}).get("warnings") or []
    if not entries:
        return None
    head = f"Warnings on the **{pres.DESIGN_NAMES.get(design, design)}** estimate" if design else "Warnings"
    items = "\n".join(f"> - {e['message']} (`{e['code']}`)" for e in entries)
    return f"> {head}:\n{items}"


def _show_warnings(res, *, design=None):
    note = warnings_note(res, design=design)
    if note:
        _md(note)


def _show_estimate(ctx, res, *, design, measure, unit=None, figures=("paths", "gaps")):
    if isinstance(res, NotAvailable) or isinstance(res, dict):
        ctx.add(res, measure=measure, design=design, unit=unit)
        _not_available(design, res, measure=measure)
        return
    ctx.add(res, measure=measure, design=design, unit=unit)
    lvl = int(round((1 - res.alpha) * 100))
    from ..tables import format_ci, format_number

    ci = format_ci(res.ci_low, res.ci_high, res.se)
    line = (f"**{pres.DESIGN_NAMES.get(design, design)}** on {pres.measure_words(measure)} "
            f"({pres.estimand(design)}): **{format_number(res.estimate, res.se)}**"
            + (f" (standard error {format_number(res.se, res.se)}; {lvl}% CI {ci}; p {_fmt(res.p_value)})"
               if ci != "—" else ""))
    if res.placebo:
        line += (f"; placebo-in-space p = {_fmt(res.placebo.get('p_value'))}"
                 f" over {res.placebo.get('n_placebos')} placebos")
    d = res.diagnostics or {}
    if d.get("pre_rmspe") is not None:
        line += f"; pre-period RMSPE {_fmt(d.get('pre_rmspe'))}"
    _md(line)
    _show_warnings(res, design=design)
    for kind in figures:
        try:
            ax = res.plot(kind=kind)
        except Exception:  # noqa: BLE001 - a figure the design does not produce
            continue
        _fig(styled(ax, kind=kind, measure=measure, country=unit))
    if design == "synth" and res.tables.get("weights"):
        w = res.table("weights")
        w = w[w["weight"] > 0.001].sort_values("weight", ascending=False).reset_index(drop=True)
        table(ctx, f"synth_weights_{measure}", w, title=f"Donor weights of the synthetic {pres.country_name(unit)}"
              f" ({pres.measure_words(measure)}; weights above 0.001)", labels={"unit": "Donor"}, record=False)


def _estimand_note(q) -> None:
    _md(f"*Estimand (H = {q.estimand.horizon}):* {q.estimand.text}.")


def single_country(ctx):
    """Section 3: the recipe's country question for every measure (synth, sdid, its; the CS cohort in section 4)."""
    from .empty_states import shown_results, single_country_reason

    p = ctx.parameters
    country, intervention, years, variant = p["country"], p["intervention"], p.get("years"), p.get("variant")
    designs = p["designs"]
    wanted = [d for d in designs if d in ("synth", "sdid", "its")]
    out = {}
    first = True
    headline_done = False
    for m in p["measures"]:
        _md(f"### {pres.measure_words(m)} ({m})")
        why = single_country_reason(country, intervention, m, years=years, variant=variant)
        q = None
        try:
            q = take(ctx, ("country", m), country_call(ctx, m))
        except OgimpactError as exc:  # the question itself cannot be posed: say why where the result would be
            why = why or " ".join(str(exc).split())
        if q is not None:
            ctx.questions.append(q)  # graded in the graded-evidence section, as `ogimpact assess` grades it
        shown, caution = shown_results(why, {d: sections._result(r) for d, r in q.results.items()} if q else {},
                                       wanted)
        if why and caution is None:  # nothing estimated: the one true reason where the results would be
            for d in wanted:
                ctx.add(shown[d], measure=m, design=d, unit=country)
            if wanted:
                _md(f"> **Not estimable:** {why}")
            out[m] = shown
            continue
        _estimand_note(q)
        if caution:
            _md(f"> **Caution:** {caution} The designs that still run are shown below, as the recipe (and "
                "`ogimpact assess`) computes and grades them: a fit on so few pre-adoption years is fragile.")
        if q.donors:
            rule = q.donors.get("donor_rule", {})
            syn = q.results.get("synth")
            kept = len((syn.options or {}).get("donors") or []) if isinstance(syn, Estimate) else None
            _md(f"Donor rule `{rule.get('name')}` over {rule.get('window')}: "
                f"{'' if kept is None else f'{kept} donors kept, '}{len(q.donors.get('excluded_donors') or [])} "
                "units excluded (each with its reason in results.json).")
        res = shown
        for d, r in res.items():
            figs = {"synth": ("paths", "gaps", "placebo") if first else ("paths", "placebo"),
                    "sdid": ("sdid",), "its": ("its",)}[d]
            _show_estimate(ctx, r, design=d, measure=m, unit=country, figures=figs)
            if not headline_done and d == "synth" and isinstance(r, Estimate):
                headline_done = True
                ctx.set_headline(measure=m, design="synth", estimate=r.estimate,
                                 placebo_p=(r.placebo or {}).get("p_value"),
                                 pre_rmspe=(r.diagnostics or {}).get("pre_rmspe"), estimand=q.estimand.to_dict())
        out[m] = res
        first = False
    if not wanted:
        _md("> No single-country design was requested.")
    elif not headline_done:
        headline, message = _headline_without_synth(out)
        ctx.set_headline(**headline)
        if message:
            _md(message)
    return out


def _headline_without_synth(out: dict) -> tuple[dict, str | None]:
    """The index-page headline when no synthetic control ran: the first design that did (SDID, ITS), else
    the reasons nothing could be estimated, with the note the report prints (None when something ran)."""
    for m, res in out.items():
        for d, r in res.items():
            if isinstance(r, Estimate):
                return {"measure": m, "design": d, "estimate": r.estimate, "p_value": r.p_value}, None
    # the data cannot answer: say exactly why, as the headline (the report still exits 0)
    why = {f"{m}/{d}": _reason(r) for m, res in out.items() for d, r in res.items()}
    distinct = list(dict.fromkeys(why.values()))
    return ({"finding": "not estimable", "reasons": why},
            "> **No single-country design could be estimated.** " + " ".join(distinct[:3]))


def _reason(r) -> str:
    """The one-sentence reason a design was not estimable."""
    if isinstance(r, dict):
        return str(r.get("reason") or r.get("error") or "not estimable")
    return str(getattr(r, "reason", None) or r)


def cohort_in_staggered(ctx):
    """Section 4, for every measure: the country's cohort ATT (graded) and the cross-country CS event study."""
    from .empty_states import single_country_reason

    p = ctx.parameters
    country, intervention, measures, designs = p["country"], p["intervention"], p["measures"], p["designs"]
    years, variant, seed, horizon = p.get("years"), p.get("variant"), p.get("seed", 0), p.get("horizon", 5)
    if "cs" not in designs:
        _md("> The staggered design (`cs`) was not requested, so the country's cohort ATT is not estimated "
            "and not graded.")
        return
    t = sections.country_timing(intervention, country, variant=variant)
    cohort = int(t["cohort"].iloc[0]) if len(t) else 0
    _md(f"Run for every measure ({', '.join(f'`{m}`' for m in measures)}).")
    by_m = {q.measure: q for q in ctx.questions if q.kind == "country"}
    for m in measures:
        _md(f"### {pres.measure_words(m)} ({m})")
        q = by_m.get(m)
        cc = q.results.get("cs_cohort") if q is not None else None
        if cc is not None:
            r = sections._result(cc)
            why = single_country_reason(country, intervention, m, years=years, variant=variant) \
                if isinstance(r, NotAvailable) else None
            if why:  # e.g. always treated in the window, not the design's "treated unit has no data"
                r = NotAvailable("cs_cohort", why, status=r.get("status", "not estimable"))
            if isinstance(r, NotAvailable):
                ctx.add(r, measure=m, design="cs_cohort", unit=country)
                _not_available("cs_cohort", r, measure=m)
            else:
                ctx.add(dict(r), measure=m, design="cs_cohort", unit=country)
                from ..tables import format_ci, format_number

                _md(f"**{pres.country_name(country)}'s adoption cohort {cohort}** (Callaway–Sant'Anna, not-yet-treated controls, group "
                    f"aggregation over {q.estimand.text.split(' over ', 1)[-1]}): "
                    f"**{format_number(r.get('estimate'), r.get('se'))}** (95% CI "
                    f"{format_ci(r.get('ci_low'), r.get('ci_high'), r.get('se'))}; {r.get('n_treated_units')} "
                    "countries in the cohort).")
        sq, sens = take(ctx, ("staggered", m), staggered_call(ctx, m))
        r = sections._result(sq.results["cs"])
        _show_estimate(ctx, r, design="cs", measure=m, figures=("event_study",))
        if isinstance(r, Estimate):
            _estimand_note(sq)
        sensitivity(ctx, r, measure=m, design="cs", seed=seed, window=sections.sensitivity_window(horizon), computed=sens)
        if isinstance(r, Estimate) and cohort:
            rows = sections.country_cohort_effects(r, cohort)
            gt_times = [g.get("time") for g in (r.tables.get("group_time") or ()) if g.get("time") is not None]
            if rows.empty and gt_times and cohort <= min(gt_times):
                _md(f"> {pres.country_name(country)} adopted in {cohort}, before the {m} panel begins: it is always "
                    "treated in the window, so the staggered design has no ATT(g,t) for its cohort (always-treated "
                    "countries are dropped).")
            elif rows.empty:
                _md(f"> Cohort {cohort} has no ATT(g,t) in the {m} panel (outside the years, or no comparison).")
            else:
                table(ctx, f"cohort_{cohort}_{m}", rows, title=f"ATT(g,t) of {pres.country_name(country)}'s "
                      f"adoption cohort {cohort} (all countries adopting that year), {pres.measure_words(m)}",
                      labels={"group": "Cohort", "time": "Year", "estimate": "ATT(g,t)"},
                      missing=_att_gt_missing(rows))


def _att_gt_missing(rows: pd.DataFrame) -> dict:
    """The footnote of an ATT(g,t) table's empty standard errors: the base period (normalised to 0), if that is all."""
    if "se" not in rows.columns or not rows["se"].isna().any():
        return {}
    gap = rows.loc[rows["se"].isna()]
    est = pd.to_numeric(gap.get("estimate"), errors="coerce") if "estimate" in gap.columns else pd.Series(dtype=float)
    if len(est) and (est.fillna(0).abs() < 1e-12).all():
        which = ", ".join(str(int(t)) for t in gap["time"]) if "time" in gap.columns else "the base period"
        return {"se": f"the base period ({which}) is normalised to 0, so it has no standard error"}
    return {}


def results(ctx):
    f = ctx.summary_frame()  # report order: as the sections above show them
    if f.empty:
        ctx.add_table("results", f)
        _md("> No estimates were produced.")
        return
    missing = _results_missing(f)
    f = f.assign(measure=f["measure"].map(pres.measure_words), design=f["design"].map(
        lambda d: pres.DESIGN_NAMES.get(d, d)))
    f = f.drop(columns=[c for c in f.columns if f[c].isna().all()])
    if "status" in f.columns and (f["status"] == "ok").all():
        f = f.drop(columns=["status"])
    table(ctx, "results", f, title="Every estimate in this report", labels={"status": "Status"}, missing=missing)


def _results_missing(f: pd.DataFrame) -> dict:
    """Why cells of the results table are empty, from the rows themselves (the footnotes of its dashes)."""
    from ..tables import SYNTH_NO_SE

    out = {}
    failed = f["status"].astype(str) != "ok" if "status" in f.columns else pd.Series(False, index=f.index)
    names = lambda ds: ", ".join(dict.fromkeys(pres.DESIGN_NAMES.get(d, d) for d in ds))  # noqa: E731
    why_se = []
    if (f["design"].eq("synth") & f["se"].isna() & ~failed).any():
        why_se.append(SYNTH_NO_SE)
    if failed.any():
        why_se.append("a design that was not estimable has no numbers (its reason is in Status and in its section)")
    if why_se:
        out["se"] = out["ci_low"] = out["p_value"] = "; ".join(why_se)
        out["estimate"] = why_se[-1] if failed.any() else None
    if "placebo_p" in f.columns and f["placebo_p"].isna().any():
        ran = f.loc[f["placebo_p"].notna(), "design"]
        out["placebo_p"] = ("no placebo-in-space run for this design" + (f" (run for {names(ran)})" if len(ran) else
                                                                          ""))
    if "unit" in f.columns and f["unit"].isna().any():
        out["unit"] = "a cross-country estimate over every adopting country, not one country's"
    return {k: v for k, v in out.items() if v}


def caveats(ctx):
    country, measures = ctx.parameters.get("country"), ctx.parameters.get("measures") or []
    items = sections.caveats(country, measures)
    ctx.add_table("caveats", [{"caveat": c} for c in items])
    _md("\n".join(f"- {c}" for c in items) if items else "No recorded caveats for these measures.")


def cohorts(ctx):
    t = sections.cohort_table(ctx.parameters["intervention"], variant=ctx.parameters.get("variant"))
    ctx.add_table("cohorts", t)
    _md(f"{int(t.loc[t['cohort'] > 0, 'units'].sum())} adopting units in {int((t['cohort'] > 0).sum())} cohorts; "
        f"{int(t.loc[t['cohort'] == 0, 'units'].sum())} never-treated units.")
    table(ctx, "cohorts_adopting", t[t["cohort"] > 0].reset_index(drop=True), title="Adoption cohorts",
          labels={"cohort": "Adoption year", "units": "Countries"}, record=False)


def staggered(ctx):
    """Cross-country section: the recipe's staggered question for every measure, event studies side by side."""
    p = ctx.parameters
    intervention, measures, designs = p["intervention"], p["measures"], p["designs"]
    years, variant, seed, horizon = p.get("years"), p.get("variant"), p.get("seed", 0), p.get("horizon", 5)
    import matplotlib.pyplot as plt

    from ..plots import new_axes, plot_event_study

    headline_done = False
    _md(f"Run for every measure ({', '.join(f'`{m}`' for m in measures)}).")
    for m in measures:
        _md(f"### {pres.measure_words(m)} ({m})")
        q = sections.staggered_answer(intervention, m, designs=designs, years=years, variant=variant, seed=seed,
                                      horizon=horizon, keep_influence=len(measures) >= 2)
        ctx.questions.append(q)
        _estimand_note(q)
        res = {d: sections._result(r) for d, r in q.results.items()}
        fig, ax = new_axes()
        n = 0
        rows = []
        for i, (d, r) in enumerate(res.items()):
            ctx.add(r, measure=m, design=d)
            if not isinstance(r, Estimate):
                _not_available(d, r, measure=m)
                continue
            rows.append({"design": d, "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "pretrend_wald_p": (r.diagnostics or {}).get("pretrend_wald_p"),
                         "n_units": r.n_units, "n_treated_units": r.n_treated_units})
            if r.event_study is not None:
                es = r.event_study
                plot_event_study(es, ax=ax, label=d, offset=(i - 1.5) * 0.12)
                n += 1
            if not headline_done and d == "cs":
                ctx.set_headline(measure=m, design="cs", estimate=r.estimate, se=r.se, p_value=r.p_value,
                                 estimand=q.estimand.to_dict())
                headline_done = True
        if n:
            _fig(styled(ax, kind="event_study", measure=m))
        else:
            plt.close(fig)
        if rows:
            tab = pd.DataFrame(rows)
            table(ctx, f"staggered_{m}", tab.assign(design=tab["design"].map(lambda d: pres.DESIGN_NAMES.get(d, d))),
                  title=f"Staggered designs on {pres.measure_words(m)}")
        for d, r in res.items():
            if isinstance(r, Estimate):
                _show_warnings(r, design=d)
        for d in ("cs", "sun-abraham"):
            if isinstance(res.get(d), Estimate):
                sensitivity(ctx, res[d], measure=m, design=d, seed=seed, window=sections.sensitivity_window(horizon))


def switching_and_dose(ctx):
    """Designs for treatments that switch off (OGP exits) or vary in intensity (RTI Rating dose), beside the
    absorbing ones, each with one sentence on what it assumes (:mod:`ogimpact.designs.registry_designs`)."""
    from ..designs.registry_designs import ASSUMPTIONS, nonabsorbing_and_dose_results

    p = ctx.parameters
    intervention = p["intervention"]
    rows, used = [], []
    for m in p["measures"]:
        runs = nonabsorbing_and_dose_results(m, intervention, years=p.get("years"))
        if not runs:
            _md(f"> No switching-off or dose design applies to {pres.intervention_words(intervention)}: its "
                "registry timing is absorbing and binary, so the staggered designs above are the whole set.")
            return
        for r in runs:
            d, res = r["design"], r.get("result")
            if d not in used:
                used.append(d)
            if res is None:
                ctx.add(NotAvailable(d, r.get("error") or "not estimable", status="not estimable"), measure=m,
                        design=d, role="beside")
                rows.append({"measure": pres.measure_words(m), "design": pres.DESIGN_NAMES.get(d, d),
                             "status": r.get("error")})
                continue
            ctx.add(res, measure=m, design=d, role="beside")
            rows.append({"measure": pres.measure_words(m), "design": pres.DESIGN_NAMES.get(d, d),
                         "estimate": res.get("estimate"),
                         "se": res.get("se"), "ci_low": res.get("ci_low"), "ci_high": res.get("ci_high"),
                         "n_units": res.get("n_units")})
    _md("\n".join(f"- **{d}**: {ASSUMPTIONS[d]}" for d in used))
    table(ctx, "switching_and_dose", pd.DataFrame(rows), title="Designs for switching-off and dose, beside the "
          "absorbing designs (not graded: the grade rests on the recipe's staggered set)")


def heterogeneity(ctx):
    from .empty_states import heterogeneity_view

    p = ctx.parameters
    m = p["measures"][0]
    names = {"wb_region": "World Bank region", "wb_income_group": "World Bank income group"}
    for by in ("wb_region", "wb_income_group"):
        try:
            t = sections.heterogeneity(p["intervention"], m, by=by, years=p.get("years"), variant=p.get("variant"))
        except Exception as exc:  # noqa: BLE001
            _md(f"> Heterogeneity by {names[by]} not available: {' '.join(str(exc).split())}")
            continue
        ctx.add_table(f"heterogeneity_{by}", t)
        ran, sentences = heterogeneity_view(t, by=by)
        _md(f"#### By {names[by]}: Callaway–Sant'Anna ATT on {pres.measure_words(m)} (not-yet-treated controls)")
        if len(ran):
            table(ctx, f"heterogeneity_{by}_ran", ran, title=f"ATT by {names[by]}", labels={by: names[by]},
                  record=False)
        if sentences:
            _md("\n".join(f"- {s}" for s in sentences))


def grades(ctx):
    """Graded evidence: the questions the report answered, graded exactly as ``ogimpact assess`` grades them."""
    from ..evidence.assess import grade_questions

    kind = "country" if ctx.parameters.get("country") else "staggered"
    qs = [q for q in ctx.questions if q.kind == kind]
    if not qs:
        _md("> No question was answered, so nothing is graded.")
        return
    try:
        out = grade_questions(qs, seed=int(ctx.parameters.get("seed", 0) or 0))
    except Exception as exc:  # noqa: BLE001 - shown in the report, never hidden
        _md(f"> Grading failed: {' '.join(str(exc).split())}")
        return
    rows = []
    for a in out:
        ctx.add_grade(a.to_dict())
        h = a.headline or {}
        rows.append({"measure": pres.measure_words(a.measure),
                     "design": pres.DESIGN_NAMES.get(h.get("design"), h.get("design")),
                     "estimate": h.get("estimate"), "ci_low": h.get("ci_low"), "ci_high": h.get("ci_high"),
                     "grade": a.grade})
    _md("The same grades as `ogimpact assess` with these parameters (one recipe, `ogimpact.evidence.recipe`); "
        f"estimand (H = {qs[0].estimand.horizon}): {qs[0].estimand.text}.")
    gmiss = {}
    if any(r["estimate"] is None for r in rows):
        gmiss["design"] = gmiss["estimate"] = "no design could be estimated for that outcome (the reasons follow)"
    from ..tables import SYNTH_NO_SE

    if any(r["ci_low"] is None and r["estimate"] is not None for r in rows):
        gmiss["ci_low"] = ("the graded design reports no interval (" + SYNTH_NO_SE + "); the grade's precision "
                           "check uses the interval its headline names")
    elif gmiss:
        gmiss["ci_low"] = gmiss["estimate"]
    table(ctx, "grades", pd.DataFrame(rows), title="Graded evidence (rubric og-evidence-grade)", record=False,
          missing=gmiss)
    for a in out:
        _md(f"**{pres.measure_words(a.measure)}: {a.grade}.** {a.headline_text}\n\n"
            + "\n".join(f"- {r}" for r in a.reasons))


def evidence_review(ctx):
    p = ctx.parameters
    measures, seed, horizon = p.get("measures") or [], p.get("seed", 0), p.get("horizon", 5)
    try:
        from ..evidence import assess_map as _assess
    except Exception as exc:  # noqa: BLE001 - shown in the report, never hidden
        _md(f"> **Evidence map: not available in this build** ({type(exc).__name__}: {' '.join(str(exc).split())}).")
        return
    _assess.show_evidence_review(ctx, measures=measures, seed=seed, horizon=horizon)


def sensitivity(ctx, result, *, measure: str, design: str, window=(-5, 5), seed: int = 0,
                computed=None):  # noqa: D417
    """HonestDiD relative-magnitudes sensitivity plot and table for one dynamic result.

    ``computed``: the sensitivity already fitted (or the exception that stopped it), e.g. by
    :func:`ogimpact.reports.sections.staggered_with_sensitivity` in the report worker.
    """
    if not isinstance(result, Estimate) or result.event_study is None:
        return None
    try:
        if isinstance(computed, Exception):
            raise computed
        sens = computed if computed is not None else sections.sensitivity(result, window=window, method="rm",
                                                                           seed=seed)
    except Exception as exc:  # noqa: BLE001 - shown, not hidden
        _md(f"> HonestDiD sensitivity for {design} on `{measure}` not available: {' '.join(str(exc).split())}")
        return None
    d = sens.to_dict()
    ctx.add_table(f"sensitivity_{design}_{measure}", d)
    bd = d.get("breakdown")
    _md(f"HonestDiD (relative magnitudes, Rambachan & Roth 2023) for the average effect over event times 0 to "
        f"{window[1]} of the {pres.DESIGN_NAMES.get(design, design)} estimate on {pres.measure_words(measure)}: "
        f"breakdown M̄* = **{d.get('breakdown_note') or ('none on the grid' if bd is None else _fmt(bd, 2))}** "
        "(the smallest M̄ at which the robust CI includes 0; M̄ = 1 allows post-period violations as large as the "
        "largest pre-period one).")
    try:
        from ..plots.style import finish as _finish_fig
        from ..plots.style import measure_label

        ax = sens.plot()
        _finish_fig(ax, title=f"{pres.measure_words(measure)}: robust confidence sets as M̄ grows",
                    xlabel="M̄ (post-period violations relative to the largest pre-period one)",
                    ylabel=measure_label(measure, effect=True), source=source_of(measure))
        _fig(ax)
    except Exception:  # noqa: BLE001
        pass
    return sens
