"""Report presentation: notebooks regenerate from their generator, honest empty states, clean prose, alt text.

Fast tests (no notebook execution); the rendered report is checked in tests/test_reports.py.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_notebooks_are_what_the_generator_writes():
    for name, nb in _generator().notebooks().items():
        committed = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
        assert nbformat.writes(nb) + "\n" == committed or nbformat.writes(nb) == committed, (
            f"notebooks/{name} differs from scripts/make_notebooks.py; run `python scripts/make_notebooks.py`")


def test_notebook_setup_is_thin_and_silences_no_warning():
    for name, nb in _generator().notebooks().items():
        src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "simplefilter" not in src and "filterwarnings" not in src, name
        assert "import pandas" not in src and "matplotlib" not in src, name
        calls = [ln for ln in src.splitlines() if ln.startswith("show.") and "start(" not in ln]
        assert calls and all(ln.split("(", 1)[1].startswith("ctx") for ln in calls), calls


def test_always_treated_country_gets_the_true_reason():
    from ogimpact.reports.empty_states import single_country_reason

    # Australia's Freedom of Information Act 1982 (rti_laws.csv) predates WGI's first year (1996)
    why = single_country_reason("AUS", "rti_law", "wgi.cc")
    assert why and "always treated" in why and "1982" in why and "1996" in why
    assert "no data" not in why
    assert single_country_reason("CHL", "rti_law", "wgi.cc") is None


def test_heterogeneity_view_says_why_a_subgroup_cannot_run():
    import pandas as pd

    from ogimpact.reports.empty_states import heterogeneity_view

    t = pd.DataFrame([{"wb_region": "South Asia", "n_units": 8, "estimate": None, "status": "cohort 2005 has one "
                       "treated unit and no not-yet-treated comparison"},
                      {"wb_region": "Europe & Central Asia", "n_units": 50, "estimate": 0.1, "se": 0.05,
                       "ci_low": 0.0, "ci_high": 0.2, "status": "ok"}])
    ran, sentences = heterogeneity_view(t, by="wb_region")
    assert list(ran["wb_region"]) == ["Europe & Central Asia"] and "status" not in ran
    assert len(sentences) == 1 and sentences[0].startswith("South Asia (8 countries): not estimated")
    assert "comparison" in sentences[0]


def test_registry_prose_is_cleaned_for_readers():
    from ogimpact.reports.presentation import clean_prose

    s = clean_prose("the Holy See are excluded and listed in attrs['excluded']. Next.. and x.; y")
    assert "attrs[" not in s and ".." not in s and ".;" not in s


def test_question_names_country_and_intervention_in_words():
    from ogimpact.reports.presentation import question

    q = question("country", {"country": "CHL", "intervention": "rti_law"})
    assert "Chile" in q and "right-to-information" in q and q.endswith("?")


def test_fallback_headline_states_estimate_interval_and_design():
    from ogimpact.reports.presentation import fallback_headline

    s = fallback_headline("wgi.cc", {"design": "sdid", "estimate": -0.0965, "se": 0.26, "ci_low": -0.61,
                                     "ci_high": 0.42}, grade="Very low", country="CHL")
    assert s.startswith("On WGI Control of Corruption in Chile, the synthetic difference-in-differences estimate")
    assert "[−0.61, 0.42]" in s and "includes zero" in s and "Very low" in s


def test_alt_text_describes_the_figure():
    import matplotlib

    matplotlib.use("Agg")
    from ogimpact.plots.style import alt_text, finish, new_axes

    fig, ax = new_axes()
    ax.plot([2000, 2001, 2002], [1.0, 1.5, 1.2], label="Chile")
    ax.axvline(2001, label="adoption")
    finish(ax, title="Control of corruption", xlabel="Year", ylabel="WGI estimate", source="World Bank WGI")
    a = alt_text(ax)
    for needle in ("Line chart", "Control of corruption", "Year from 2000 to 2002", "WGI estimate", "Chile",
                   "adoption (vertical line at 2001)", "World Bank WGI"):
        assert needle in a, (needle, a)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_alt_text_of_an_unlabelled_gap_path_states_its_values():
    """The synthetic-control gap plot draws one unlabelled line and a zero line: its alt text used to give no
    value at all; now the gap's range and end point (the zero line is not data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ogimpact.plots.style import alt_text, finish, new_axes

    fig, ax = new_axes()
    ax.plot([2005, 2008, 2011], [0.02, -0.05, 0.07], lw=2)
    ax.axhline(0, color="0.4")
    ax.axvline(2008, ls="--")
    finish(ax, title="gap", xlabel="Year", ylabel="Gap in WGI")
    a = alt_text(ax)
    assert "Year from 2005 to 2011" in a and "values from -0.05 to 0.07" in a, a
    assert "one series, last value 0.07 at 2011" in a, a
    plt.close(fig)


def test_alt_text_of_an_interval_plot_gives_each_series_intervals():
    """HonestDiD's sensitivity plot draws intervals without points (``fmt="none"``): its alt text used to give
    only the value range and call it a line chart; now each series' intervals, first and last, in x order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ogimpact.plots.style import alt_text, finish, new_axes

    fig, ax = new_axes()
    ax.errorbar([-0.25], [0.0], yerr=[[0.005], [0.009]], fmt="none", capsize=4, label="Original")
    ax.errorbar([2, 0, 1], [0, 0, 0], yerr=[[0.09, 0.01, 0.04], [0.09, 0.01, 0.05]], fmt="none", capsize=4,
                label="C-LF")
    ax.axhline(0, color="k")
    finish(ax, title="robust sets", xlabel="M", ylabel="Effect")
    a = alt_text(ax)
    assert a.startswith("Confidence intervals, titled"), a
    assert "Original: interval [-0.005, 0.009] at -0.25" in a, a
    assert "C-LF: 3 intervals, from [-0.01, 0.01] at 0 to [-0.09, 0.09] at 2" in a, a
    plt.close(fig)
    fig, ax = new_axes()  # an event study: points with intervals, described by the points' range
    ax.errorbar([-2, -1, 0, 1], [0.1, 0.0, 0.3, 0.2], yerr=0.1, fmt="o", label="cs")
    finish(ax, title="es", xlabel="Event time", ylabel="Effect")
    a = alt_text(ax)
    assert a.startswith("Point estimates with confidence intervals") and "cs: 4 estimates from 0 to 0.3" in a, a
    plt.close(fig)


def test_figures_export_at_300_dpi(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from ogimpact.plots.style import export, new_axes

    fig, ax = new_axes()
    ax.plot([0, 1], [0, 1])
    export(ax, tmp_path / "f.png")
    export(ax, tmp_path / "f.svg")
    from PIL import Image

    with Image.open(tmp_path / "f.png") as im:
        assert round(im.info["dpi"][0]) == 300
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_figures_png_writes_each_shown_figure_at_300_dpi_and_links_it(tmp_path):
    """--figures png: every figure the report shows is also written as figures/NN-<title>.png at 300 dpi,
    in display order, and the report links it; without the option nothing is written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from ogimpact.plots.style import finish, new_axes
    from ogimpact.reports import presentation as pres

    def shown(title):
        fig, ax = new_axes()
        ax.plot([2000, 2001], [0.0, 1.0], label="Chile")
        finish(ax, title=title, xlabel="Year", ylabel="y")
        html = pres.figure_html(fig)
        plt.close(fig)
        return html

    pres.set_figure_export(tmp_path / "figures")
    try:
        h1, h2 = shown("WGI Control of Corruption: Chile"), shown("Second figure")
    finally:
        pres.set_figure_export(None)
    files = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert files == ["01-wgi-control-of-corruption-chile.png", "02-second-figure.png"]
    with Image.open(tmp_path / "figures" / files[0]) as im:
        assert round(im.info["dpi"][0]) == 300 and im.size[0] > 2000  # 9 in wide at 300 dpi
    assert 'href="figures/01-wgi-control-of-corruption-chile.png"' in h1 and "02-second-figure.png" in h2
    assert "PNG, 300 dpi" not in shown("no export now")
    assert len(list((tmp_path / "figures").iterdir())) == 2


def test_figures_option_is_validated_and_left_out_of_the_folder_hash():
    from ogimpact.errors import OgimpactError
    from ogimpact.reports.params import CountryParams

    a = CountryParams(country="CHL", intervention="rti_law").validate()
    b = CountryParams(country="CHL", intervention="rti_law", figures="png").validate()
    assert a.slug == b.slug  # the same analysis: the same folder
    with pytest.raises(OgimpactError, match="--figures png"):
        CountryParams(country="CHL", intervention="rti_law", figures="tiff").validate()


def test_self_contained_html_drops_scripts_and_sets_title():
    from ogimpact.reports.html_export import make_self_contained

    out = make_self_contained('<html><head><title>Notebook</title><script src="https://cdn/x.js"></script>'
                              '</head><body><!-- Load mathjax --><img src="data:,"><script>MathJax={}</script></body></html>',
                              title="Did X change Y?")
    assert "<script" not in out and "<title>Did X change Y?</title>" in out and 'alt="Figure' in out
    assert "mathjax" not in out.lower()


def _reparse(cmd: str) -> dict:
    """Parse a printed rerun command with the real CLI parser and build the parameters it asks for."""
    import shlex

    from ogimpact.cli import _glue_negative_values, build_parser
    from ogimpact.cli.report_cmds import params_from_args

    argv = shlex.split(cmd)
    assert argv[:2] == ["ogimpact", "report"], cmd
    args = build_parser().parse_args(_glue_negative_values(argv[1:]))
    return params_from_args(args.report_kind, args).validate().notebook_parameters()


RERUN_CASES = [
    ("country", dict(country="CHL", intervention="rti_law")),  # every default: the shortest command
    # the old default donor rule 'registry' used to be dropped from the command (the default is now 'similar')
    ("country", dict(country="AUS", intervention="rti_law", measures=("wgi.cc",), designs=("synth",),
                     donor_rule="registry", placebo=False)),
    ("country", dict(country="MEX", intervention="rti_law", measures=("wgi.cc", "wgi.ge"), designs=("its", "sdid"),
                     years=(1996, 2015), variant="in_force", donor_rule="similar(band=2,min_donors=4)", placebo=False,
                     seed=7, horizon=3)),
    ("country", dict(country="CHL", intervention="rti_law", donor_rule="untreated", seed=0, horizon=0)),
    # a batch entry takes the class defaults, which differ from the CLI's intervention-specific measures/designs
    ("country", dict(country="MEX", intervention="open_up_guide")),
    ("country", dict(country="MEX", intervention="open_up_guide", measures=("wgi.cc",))),
    ("cross-country", dict(intervention="rti_law")),
    ("cross-country", dict(intervention="ogp_member", measures=("wgi.cc",), designs=("cs", "twfe"), years=(2000, 2020),
                           variant="first_action_plan", seed=3, horizon=4)),
    ("evidence", dict()),
    ("evidence", dict(measures=("wgi.cc", "wgi.ge"), seed=11, horizon=2)),
    ("country", dict(country="CHL", intervention="rti_law", figures="png")),  # an output option is rerun too
    ("evidence", dict(figures="png")),
]


@pytest.mark.parametrize("kind,given", RERUN_CASES)
def test_rerun_command_is_exact(kind, given):
    from ogimpact.reports.appendix import rerun_command
    from ogimpact.reports.params import KINDS

    manifest = KINDS[kind](**given).validate().notebook_parameters()  # what manifest.json records
    cmd = rerun_command(kind, manifest)
    assert _reparse(cmd) == manifest, cmd


def test_rerun_command_spells_out_only_what_differs_from_the_default():
    from ogimpact.reports.appendix import rerun_command
    from ogimpact.reports.params import CountryParams

    p = CountryParams(country="CHL", intervention="rti_law").validate().notebook_parameters()
    assert rerun_command("country", p) == "ogimpact report country CHL --intervention rti_law"
    p = CountryParams(country="AUS", intervention="rti_law", measures=("wgi.cc",), designs=("synth",),
                      donor_rule="registry", placebo=False).validate().notebook_parameters()
    assert rerun_command("country", p) == ("ogimpact report country AUS --intervention rti_law --measures wgi.cc "
                                           "--designs synth --donor-rule registry --no-placebo")


def test_make_lab_takes_host_port_no_browser_and_works_as_root():
    import os
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make not installed")
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "lab", "LAB_HOST=0.0.0.0", "LAB_PORT=9999", "LAB_BROWSER=no"],
                         capture_output=True, text=True, timeout=60).stdout
    line = next(ln for ln in out.splitlines() if "jupyter lab notebooks/" in ln)
    assert "--ip=0.0.0.0" in line and "--port=9999" in line and "--no-browser" in line
    assert ("--allow-root" in line) == (os.geteuid() == 0)


def test_country_headline_never_uses_the_pooled_cross_country_att():
    from ogimpact.reports.context import NotAvailable, ReportContext
    from ogimpact.reports.presentation import headline_sentences, summary_rows

    ctx = ReportContext(None, kind="country", parameters={"country": "AUS", "intervention": "rti_law"})
    why = "Australia adopted its law in 1982, before its series begins (1996): it is always treated in the window."
    ctx.add(NotAvailable("synth", why, status="not estimable"), measure="wgi.cc", design="synth", unit="AUS")
    ctx.entries.append({"measure": "wgi.cc", "design": "cs", "unit": None, "role": "estimate",
                        "result": {"design": "cs", "estimate": 0.118, "se": 0.061, "ci_low": -0.002, "ci_high": 0.238}})
    ctx.grades = [{"measure": "wgi.cc", "grade": "Insufficient", "headline": {"design": "none"}}]
    (s,) = headline_sentences(ctx)
    assert "0.118" not in s and "always treated in the window" in s and "Insufficient" in s
    rows = summary_rows(ctx)
    assert [r["design"] for r in rows] == ["synth", "cs"] and "cross-country" in rows[1]["estimand"]


def test_appendix_options_read_as_words():
    from ogimpact.reports.appendix import _fmt_value
    from ogimpact.reports.presentation import clean_prose

    assert clean_prose("the Holy See are excluded and listed in attrs['excluded'].") == "the Holy See are excluded."
    s = _fmt_value({"name": "untreated", "related": "", "window": [1996, 2023], "eta": 0.16506307815162732,
                    "excluded": [{"unit": "AFG", "reason": "treated_in_window"}] * 3, "headline": "gap over t..last"})
    assert s == ("name: untreated; window: 1996–2023; eta: 0.1651; excluded: 3 rows (treated_in_window: 3); "
                 "headline: gap over t to last")


def test_a_country_with_no_estimate_shows_the_true_reason_not_the_designs_messages():
    from ogimpact.reports.context import NotAvailable
    from ogimpact.reports.empty_states import shown_results

    why = "Australia adopted its law in 1982, before its series begins (1996): it is always treated in the window."
    recipe = {"synth": NotAvailable("synth", "treated unit 'AUS' has no data for this measure"),
              "sdid": NotAvailable("sdid", "treated unit 'AUS' has no data for this measure"),
              "its": NotAvailable("its", "treated unit 'AUS' has no data for this measure")}
    shown, caution = shown_results(why, recipe, ["synth", "sdid", "its"])
    assert caution is None and all(r["reason"] == why for r in shown.values())


def test_a_graded_estimate_is_never_hidden_behind_a_report_only_rule():
    # Thailand x rti_law x wgi.cc: one pre-adoption year (1996; law 1997). The recipe's synthetic control runs
    # (and `assess` grades it); the report used to print "not estimable" for every design while grading it
    from ogimpact.reports.context import NotAvailable
    from ogimpact.reports.empty_states import shown_results

    why = "Thailand has only 1 pre-adoption year of WGI Control of Corruption (1996; adoption 1997)."
    synth = {"design": "synth", "estimate": 0.229}
    its = NotAvailable("its", "ITS needs at least 3 periods before and after treat_time 1997 (found 1 before)")
    shown, caution = shown_results(why, {"synth": synth, "its": its, "cs_cohort": {"estimate": -0.03}},
                                   ["synth", "its"])
    assert caution == why and shown["synth"] is synth and shown["its"] is its and "cs_cohort" not in shown
    assert shown_results(None, {"synth": synth}, ["synth"]) == ({"synth": synth}, None)


def test_headline_states_the_true_reason_when_the_grade_only_points_to_the_designs():
    from ogimpact.reports.context import NotAvailable, ReportContext
    from ogimpact.reports.presentation import headline_sentences

    ctx = ReportContext(None, kind="country", parameters={"country": "AUS", "intervention": "rti_law"})
    why = "Australia adopted its law in 1982, before its series begins (1996): it is always treated in the window."
    for d in ("synth", "sdid", "its"):
        ctx.add(NotAvailable(d, why, status="not estimable"), measure="wgi.cc", design=d, unit="AUS")
    ctx.grades = [{"measure": "wgi.cc", "grade": "Insufficient", "headline": "Insufficient evidence on whether "
                   "Australia's RTI law changed WGI Control of Corruption: no single-country design could be "
                   "estimated (each design's reason is listed with it)."}]
    (s,) = headline_sentences(ctx)
    assert "always treated in the window" in s and "Insufficient" in s and "listed with it" not in s
    # with an estimate, the assessment's own sentence stays the headline
    ctx.entries.append({"measure": "wgi.cc", "design": "its", "unit": "AUS", "role": "estimate",
                        "result": {"design": "its", "estimate": 0.1, "se": 0.05, "ci_low": 0.0, "ci_high": 0.2}})
    assert headline_sentences(ctx) == [ctx.grades[0]["headline"]]


def _ctx_with_two_outcomes():
    from ogimpact.reports.context import ReportContext
    from ogimpact.reports.params import CountryParams

    p = CountryParams(country="CHL", intervention="rti_law", measures=("wgi.cc", "vdem.v2x_partipdem"),
                      horizon=3).validate().notebook_parameters()
    ctx = ReportContext(None, kind="country", parameters=p)
    for m, window, donors in (("wgi.cc", [1996, 2011], ["CRI", "LUX"]), ("vdem.v2x_partipdem", [1990, 2011], ["BOL"])):
        rule = {"name": "similar", "band": 1.5, "min_donors": 5, "window": window}
        ctx.entries.append({"measure": m, "design": "synth", "unit": "CHL", "role": "estimate",
                            "result": {"design": "synth", "estimate": 0.1,
                                       "options": {"treat_time": 2008, "donors": donors, "alpha": 0.05,
                                                   "donor_rule": rule}}})
    return ctx


def test_appendix_lists_every_report_parameter_with_its_default_and_what_varies_by_outcome():
    from ogimpact.reports.appendix import VARIES, appendix_markdown

    md = appendix_markdown(_ctx_with_two_outcomes())
    assert "### Report parameters" in md
    assert "- horizon = 3 (not the default) [default: 5]" in md
    assert "- donor_rule = similar [default: similar]" in md and "- country = CHL [required]" in md
    # the options of the first outcome are not passed off as every outcome's
    assert f"donors = {VARIES}" in md and "treat_time = 2008" in md and "alpha = 0.05" in md
    assert "name: similar; band: 1.5; min_donors: 5." in md
    assert "- wgi.cc (CHL): window 1996–2011; 2 donors" in md and "- vdem.v2x_partipdem (CHL): window 1990–2011" in md
    assert "Timing variant used: **adopted** (the registry default)" in md
    assert "ogimpact report country CHL --intervention rti_law --measures wgi.cc,vdem.v2x_partipdem --horizon 3" in md


def test_evidence_appendix_states_the_timing_of_every_intervention_it_covers():
    from ogimpact.reports.appendix import appendix_markdown
    from ogimpact.reports.context import ReportContext

    ctx = ReportContext(None, kind="evidence", parameters={"measures": [], "seed": 0, "horizon": 5})
    for iv in ("rti_law", "ogp_member"):
        ctx.entries.append({"measure": "wgi.cc", "design": "cs", "unit": None, "role": f"evidence_map:{iv}",
                            "result": {"design": "cs", "estimate": 0.0, "options": {"control": "notyet"}}})
    md = appendix_markdown(ctx)
    assert "### Intervention timing" in md
    assert "(rti_law)" in md and "(ogp_member)" in md and md.count("Timing variant used") == 2


def test_a_batch_entry_takes_the_same_defaults_as_the_command():
    from ogimpact.reports.params import params_from_dict

    for iv in ("open_up_guide", "rti_law"):
        batch = params_from_dict("country", {"country": "MEX", "intervention": iv}).notebook_parameters()
        assert batch == _reparse(f"ogimpact report country MEX --intervention {iv}"), iv
    with pytest.raises(Exception, match="intervention"):
        params_from_dict("country", {"country": "MEX", "intervention": 5})


def test_batch_help_lists_the_current_donor_rules_and_the_horizon():
    from ogimpact.reports.batch import SPEC_HELP

    assert "registry | all" not in SPEC_HELP  # 'all' was retired
    assert "similar | untreated (alias registry)" in SPEC_HELP and "horizon:" in SPEC_HELP


def test_parameters_in_words_include_the_horizon():
    from ogimpact.reports.context import ReportContext
    from ogimpact.reports.presentation import param_text

    ctx = ReportContext(None, kind="evidence", parameters={"measures": [], "seed": 0, "horizon": 3})
    assert "Horizon: event times 0–3" in param_text(ctx)


def test_a_report_whose_synthetic_control_fails_does_not_claim_nothing_was_estimated():
    # CHL x rti_law with donor rule region(min_donors=60): synth and SDID refuse, ITS runs; the report used to
    # print "No single-country design could be estimated" under the ITS estimate
    from ogimpact.reports.context import NotAvailable
    from ogimpact.reports.show import _headline_without_synth
    from ogimpact.results import Estimate

    its = Estimate(design="its", outcome="wgi.cc", estimate=0.11, se=0.1, ci_low=-0.16, ci_high=0.38, p_value=0.35)
    no = NotAvailable("synth", "donor rule 'region' leaves 14 donors (the minimum is 60).", status="not estimable")
    head, msg = _headline_without_synth({"wgi.cc": {"synth": no, "its": its}})
    assert msg is None and head["design"] == "its" and head["estimate"] == 0.11
    head, msg = _headline_without_synth({"wgi.cc": {"synth": no}})
    assert head["finding"] == "not estimable" and "minimum is 60" in msg


def test_forest_plot_alt_text_lists_the_studies_and_the_pooled_estimate_with_a_catalogue_axis():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ogimpact.evidence.meta import meta_analysis
    from ogimpact.plots.style import alt_text

    res = meta_analysis([0.1, 0.3, -0.05], [0.05, 0.1, 0.08], labels=["CHL", "MEX", "PER"], measure="wgi.cc")
    ax = res.plot()
    assert "WGI" in ax.get_xlabel() and "wgi.cc" not in ax.get_xlabel(), ax.get_xlabel()
    a = alt_text(ax)
    assert a.startswith("Forest plot") and "3 studies" in a and "CHL 0.1 [" in a, a
    assert f"pooled {res.method} estimate {res.estimate:.3g} [{res.ci_low:.3g}, {res.ci_high:.3g}]" in a, a
    plt.close("all")
