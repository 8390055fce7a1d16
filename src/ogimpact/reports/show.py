"""Display helpers for the report notebooks: compute a section, record it, show it.

Each function calls :mod:`ogimpact.reports.sections` (which calls the
designs), records every estimate in the :class:`ReportContext`, and displays
tables, figures and plain-language notes.  Nothing here computes a statistic
of its own.
"""
from __future__ import annotations

import pandas as pd

from ..results import Estimate
from . import sections
from .context import NotAvailable

__all__ = [
    "title_block", "intervention", "trends", "single_country", "cohort_in_staggered", "results", "caveats",
    "cohorts", "staggered", "heterogeneity", "grades", "evidence_review", "sensitivity",
]


def _display(obj):
    from IPython.display import display

    display(obj)


def _md(text: str):
    from IPython.display import Markdown

    _display(Markdown(text))


def _fig(fig):
    """Display a figure (plot functions may return a Figure or an Axes) and close it."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        fig = fig.get_figure() if hasattr(fig, "get_figure") else fig.figure
    _display(fig)
    plt.close(fig)


def _fmt(x, nd=3):
    try:
        return "—" if x is None or pd.isna(x) else f"{float(x):.{nd}f}"
    except (TypeError, ValueError):
        return str(x)


def _not_available(design: str, na: dict, *, measure: str | None = None):
    where = f" for {measure}" if measure else ""
    _md(f"> **{design}{where}: {na.get('status', 'not available')}.** {na.get('reason', '')}")


def title_block(ctx, *, country: str | None, intervention: str | None):
    import ogimpact

    bits = []
    if country:
        bits.append(f"**Country:** {country}")
    if intervention:
        bits.append(f"**Intervention:** `{intervention}`")
    bits.append(f"**ogimpact** {ogimpact.__version__}")
    p = ", ".join(f"`{k}` = `{v}`" for k, v in ctx.parameters.items())
    _md(" · ".join(bits) + f"\n\nParameters: {p}")


def intervention(ctx, *, intervention: str, country: str | None, variant: str | None):
    ov = sections.intervention_overview(intervention, variant=variant)
    lines = [f"**{ov['label']}** (`{ov['id']}`, {ov['unit_level']} level) — {ov['definition']}"]
    if ov["variants"]:
        lines.append("\nTiming variants: " + "; ".join(f"`{k}`: {v}" for k, v in ov["variants"].items())
                     + f". Used here: `{ov['variant']}`.")
    if ov["citations"]:
        lines.append("\nSources: " + "; ".join(ov["citations"]))
    _md("\n".join(lines))
    if country:
        t = sections.country_timing(intervention, country, variant=variant)
        ctx.add_table("timing", t)
        if t.empty:
            _md(f"> {country} has no row in the `{intervention}` timing table.")
        else:
            _display(t)
            note = sections.variant_note(intervention, country, variant=variant)
            if note:
                _md(note)


def trends(ctx, *, country, intervention, measures, years, variant):
    for m in measures:
        try:
            _fig(sections.trend_figure(m, country, intervention, years=years, variant=variant))
        except Exception as exc:  # noqa: BLE001 - shown, not hidden
            _md(f"> Trend figure for {m} not available: {' '.join(str(exc).split())}")


def warnings_note(res, *, design: str | None = None) -> str | None:
    """The warnings that qualify an estimate (``diagnostics.warnings``) as one Markdown note, or None."""
    entries = (getattr(res, "diagnostics", None) or {}).get("warnings") or []
    if not entries:
        return None
    head = f"Warnings on **{design}**" if design else "Warnings"
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
    line = (f"**{design}** on `{measure}`: estimate **{_fmt(res.estimate)}**"
            f" (se {_fmt(res.se)}; {lvl}% CI [{_fmt(res.ci_low)}, {_fmt(res.ci_high)}]; p {_fmt(res.p_value)})")
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
            _fig(res.plot(kind=kind))
        except Exception:  # noqa: BLE001 - a figure the design does not produce
            pass
    if design == "synth" and res.tables.get("weights"):
        w = res.table("weights")
        _display(w[w["weight"] > 0.001].reset_index(drop=True))


def _estimand_note(q) -> None:
    _md(f"*Estimand (H = {q.estimand.horizon}):* {q.estimand.text}.")


def single_country(ctx, *, country, intervention, measures, designs, years, variant, donor_rule, placebo, seed,
                   horizon=5):
    """Section 3: the recipe's country question for every measure (synth, sdid, its; the CS cohort in section 4)."""
    out = {}
    first = True
    headline_done = False
    wanted = [d for d in designs if d in ("synth", "sdid", "its")]
    for m in measures:
        _md(f"### {m}")
        q = sections.country_answer(country, intervention, m, designs=designs, years=years, variant=variant,
                                    donor_rule=donor_rule, placebo=placebo, seed=seed, horizon=horizon)
        ctx.questions.append(q)
        _estimand_note(q)
        if q.donors:
            rule = q.donors.get("donor_rule", {})
            syn = q.results.get("synth")
            kept = len((syn.options or {}).get("donors") or []) if isinstance(syn, Estimate) else None
            _md(f"Donor rule `{rule.get('name')}` over {rule.get('window')}: "
                f"{'' if kept is None else f'{kept} donors kept, '}{len(q.donors.get('excluded_donors') or [])} "
                "units excluded (each with its reason in results.json).")
        res = {d: sections._result(r) for d, r in q.results.items() if d in wanted}
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
        # the data cannot answer: say exactly why, as the headline (the report still exits 0)
        why = {f"{m}/{d}": _reason(r) for m, res in out.items() for d, r in res.items() if not isinstance(r, Estimate)}
        ctx.set_headline(finding="not estimable", reasons=why)
        _md("> **Headline: no single-country design could be estimated.** " +
            "; ".join(f"`{k}`: {v}" for k, v in why.items()))
    return out


def _reason(r) -> str:
    """The one-sentence reason a design was not estimable."""
    if isinstance(r, dict):
        return str(r.get("reason") or r.get("error") or "not estimable")
    return str(getattr(r, "reason", None) or r)


def cohort_in_staggered(ctx, *, country, intervention, measures, designs, years, variant, seed, horizon=5):
    """Section 4, for every measure: the country's cohort ATT (graded) and the cross-country CS event study."""
    if "cs" not in designs:
        _md("> The staggered design (`cs`) was not requested, so the country's cohort ATT is not estimated "
            "and not graded.")
        return
    t = sections.country_timing(intervention, country, variant=variant)
    cohort = int(t["cohort"].iloc[0]) if len(t) else 0
    _md(f"Run for every measure ({', '.join(f'`{m}`' for m in measures)}).")
    by_m = {q.measure: q for q in ctx.questions if q.kind == "country"}
    for m in measures:
        _md(f"### {m}")
        q = by_m.get(m)
        cc = q.results.get("cs_cohort") if q is not None else None
        if cc is not None:
            r = sections._result(cc)
            if isinstance(r, NotAvailable):
                ctx.add(r, measure=m, design="cs_cohort", unit=country)
                _not_available("cs_cohort", r, measure=m)
            else:
                ctx.add(dict(r), measure=m, design="cs_cohort", unit=country)
                _md(f"**{country}'s adoption cohort {cohort}** (Callaway–Sant'Anna, not-yet-treated controls, group "
                    f"aggregation over {q.estimand.text.split(' over ', 1)[-1]}): **{_fmt(r.get('estimate'))}** "
                    f"(95% CI [{_fmt(r.get('ci_low'))}, {_fmt(r.get('ci_high'))}]; {r.get('n_treated_units')} "
                    "countries in the cohort).")
        sq = sections.staggered_answer(intervention, m, designs=("cs",), years=years, variant=variant, seed=seed,
                                       horizon=horizon)
        r = sections._result(sq.results["cs"])
        _show_estimate(ctx, r, design="cs", measure=m, figures=("event_study",))
        if isinstance(r, Estimate):
            _estimand_note(sq)
        sensitivity(ctx, r, measure=m, design="cs", seed=seed, window=(-5, horizon))
        if isinstance(r, Estimate) and cohort:
            rows = sections.country_cohort_effects(r, cohort)
            if rows.empty:
                _md(f"> Cohort {cohort} has no ATT(g,t) in the `{m}` panel (outside the years, or no comparison).")
            else:
                _md(f"ATT(g,t) of {country}'s adoption cohort **{cohort}** (all countries adopting that year):")
                _display(rows)
                ctx.add_table(f"cohort_{cohort}_{m}", rows)


def results(ctx):
    f = sections.results_table(ctx)
    ctx.add_table("results", f)
    if f.empty:
        _md("> No estimates were produced.")
    else:
        _display(f)


def caveats(ctx, *, country, measures):
    items = sections.caveats(country, measures)
    ctx.add_table("caveats", [{"caveat": c} for c in items])
    _md("\n".join(f"- {c}" for c in items) if items else "No recorded caveats for these measures.")


def cohorts(ctx, *, intervention, variant):
    t = sections.cohort_table(intervention, variant=variant)
    ctx.add_table("cohorts", t)
    _md(f"{int(t.loc[t['cohort'] > 0, 'units'].sum())} adopting units in {int((t['cohort'] > 0).sum())} cohorts; "
        f"{int(t.loc[t['cohort'] == 0, 'units'].sum())} never-treated units.")
    _display(t[t["cohort"] > 0].tail(30).reset_index(drop=True))


def staggered(ctx, *, intervention, measures, designs, years, variant, seed, horizon=5):
    """Cross-country section: the recipe's staggered question for every measure, event studies side by side."""
    import matplotlib.pyplot as plt

    from ..plots import plot_event_study

    headline_done = False
    _md(f"Run for every measure ({', '.join(f'`{m}`' for m in measures)}).")
    for m in measures:
        _md(f"### {m}")
        q = sections.staggered_answer(intervention, m, designs=designs, years=years, variant=variant, seed=seed,
                                      horizon=horizon, keep_influence=len(measures) >= 2)
        ctx.questions.append(q)
        _estimand_note(q)
        res = {d: sections._result(r) for d, r in q.results.items()}
        fig, ax = plt.subplots(figsize=(8, 4.5))
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
            ax.set_title(f"Event studies: {m}")
            _fig(fig)
        else:
            plt.close(fig)
        if rows:
            tab = pd.DataFrame(rows)
            ctx.add_table(f"staggered_{m}", tab)
            _display(tab)
        for d, r in res.items():
            if isinstance(r, Estimate):
                _show_warnings(r, design=d)
        for d in ("cs", "sun-abraham"):
            if isinstance(res.get(d), Estimate):
                sensitivity(ctx, res[d], measure=m, design=d, seed=seed, window=(-5, horizon))


def heterogeneity(ctx, *, intervention, measures, years, variant):
    for by in ("wb_region", "wb_income_group"):
        try:
            t = sections.heterogeneity(intervention, measures[0], by=by, years=years, variant=variant)
        except Exception as exc:  # noqa: BLE001
            _md(f"> Heterogeneity by {by} not available: {' '.join(str(exc).split())}")
            continue
        ctx.add_table(f"heterogeneity_{by}", t)
        _md(f"Callaway–Sant'Anna ATT on `{measures[0]}` by `{by}` (not-yet-treated controls):")
        _display(t)


def grades(ctx, *, country, intervention, measures):
    """Graded evidence: the questions the report answered, graded exactly as ``ogimpact assess`` grades them."""
    from ..evidence.assess import grade_questions

    kind = "country" if country else "staggered"
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
        d = a.to_dict()
        ctx.add_grade(d)
        h = a.headline or {}
        rows.append({"measure": a.measure, "design": h.get("design"), "estimate": h.get("estimate"),
                     "ci_low": h.get("ci_low"), "ci_high": h.get("ci_high"), "grade": a.grade})
    _md("The same grades as `ogimpact assess` with these parameters (one recipe, `ogimpact.evidence.recipe`); "
        f"estimand (H = {qs[0].estimand.horizon}): {qs[0].estimand.text}.")
    _display(pd.DataFrame(rows))
    for a in out:
        _md(f"**{a.measure}: {a.grade}**\n\n" + "\n".join(f"- {r}" for r in a.reasons))


def evidence_review(ctx, *, measures, seed, horizon=5):
    try:
        from ..evidence import assess_map as _assess
    except Exception as exc:  # noqa: BLE001 - shown in the report, never hidden
        _md(f"> **Evidence map: not available in this build** ({type(exc).__name__}: {' '.join(str(exc).split())}).")
        return
    _assess.show_evidence_review(ctx, measures=measures, seed=seed, horizon=horizon)


def sensitivity(ctx, result, *, measure: str, design: str, window=(-5, 5), seed: int = 0):  # noqa: D417
    """HonestDiD relative-magnitudes sensitivity plot and table for one dynamic result."""
    if not isinstance(result, Estimate) or result.event_study is None:
        return None
    try:
        sens = sections.sensitivity(result, window=window, method="rm", seed=seed)
    except Exception as exc:  # noqa: BLE001 - shown, not hidden
        _md(f"> HonestDiD sensitivity for {design} on `{measure}` not available: {' '.join(str(exc).split())}")
        return None
    d = sens.to_dict()
    ctx.add_table(f"sensitivity_{design}_{measure}", d)
    bd = d.get("breakdown")
    _md(f"HonestDiD (relative magnitudes, Rambachan & Roth 2023) for the average effect over event times 0..{window[1]} "
        f"of **{design}** on `{measure}`: breakdown M̄* = **{'none on the grid' if bd is None else _fmt(bd, 2)}** "
        "(the smallest M̄ at which the robust CI includes 0; M̄ = 1 allows post-period violations as large as the "
        "largest pre-period one).")
    try:
        _fig(sens.plot().figure)
    except Exception:  # noqa: BLE001
        pass
    return sens
