"""Reports: the notebooks execute on the bundled data, folders are complete, atomic and deterministic.

The full Chile x rti_law country report (the `make demo` job) runs once here; the
determinism and failure tests use a reduced parameter set for speed.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ogimpact.errors import OgimpactError
from ogimpact.reports import CountryParams, CrossCountryParams, ReportFailed, run_report
from ogimpact.reports.batch import run_batch

pytestmark = pytest.mark.slow

MANIFEST_KEYS = {"kind", "slug", "notebook", "parameters", "seed", "status", "started", "finished", "seconds",
                 "git_commit", "packages", "data_files", "error"}


@pytest.fixture(scope="module")
def chile_full(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    o = run_report(CountryParams(country="CHL", intervention="rti_law"), out_root=out)
    return o


def test_full_chile_report_is_complete(chile_full):
    d = chile_full.path
    assert d.name == "chl-rti_law" and d.parent.name == "country"
    for f in ("report.ipynb", "report.html", "results.json", "manifest.json"):
        assert (d / f).stat().st_size > 0, f
    man = json.loads((d / "manifest.json").read_text())
    assert MANIFEST_KEYS <= set(man)
    assert man["status"] == "ok" and man["error"] is None
    assert man["parameters"]["country"] == "CHL"
    # every data file the notebook read is hashed, and the WGI file is among them
    assert any(k.endswith("wgi_country_year.csv") for k in man["data_files"])
    assert all(isinstance(v, str) and len(v) == 64 for v in man["data_files"].values())
    assert man["packages"]["numpy"]
    res = json.loads((d / "results.json").read_text())
    designs = {(e["measure"], e["design"]) for e in res["results"]}
    assert ("wgi.cc", "synth") in designs and ("wgi.cc", "its") in designs
    # no stray temporary folders are left next to the report
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".")]


def test_report_html_has_figures_and_tables_and_no_code(chile_full):
    html = (chile_full.path / "report.html").read_text()
    # per measure: a trend figure; synth paths, gaps, placebo spaghetti; sdid; its; plus CS event studies
    assert html.count("<img") >= 4 * 6, f"figures missing ({html.count('<img')} images)"
    assert "&lt;Axes" not in html and "<Axes" not in html, "a plot was shown as text instead of an image"
    assert "<table" in html, "tables missing"
    assert "import ogimpact" not in html, "input cells must be hidden"


SMALL = dict(country="CHL", intervention="rti_law", measures=("wgi.cc",), designs=("its", "sdid"))
#: non-default measures/designs: the folder name carries their hash (issue 9: distinct batch folders)
SMALL_SLUG = CountryParams(**SMALL).validate().slug


def test_same_parameters_give_identical_results_json(tmp_path):
    a = run_report(CountryParams(**SMALL), out_root=tmp_path / "a")
    b = run_report(CountryParams(**SMALL), out_root=tmp_path / "b")
    assert (a.path / "results.json").read_bytes() == (b.path / "results.json").read_bytes()


def test_rerun_replaces_report_atomically(tmp_path):
    a = run_report(CountryParams(**SMALL), out_root=tmp_path)
    first = (a.path / "manifest.json").read_text()
    b = run_report(CountryParams(**SMALL), out_root=tmp_path)
    assert b.path == a.path
    assert (b.path / "manifest.json").read_text() != first  # a fresh run, not the old folder
    assert sorted(p.name for p in a.path.parent.iterdir()) == [SMALL_SLUG]


def _run_small(out_root):
    return str(run_report(CountryParams(**SMALL), out_root=out_root).path)


def test_concurrent_runs_of_the_same_report_do_not_clobber(tmp_path):
    import concurrent.futures as cf

    with cf.ProcessPoolExecutor(max_workers=2) as ex:
        paths = list(ex.map(_run_small, [tmp_path, tmp_path]))
    assert paths[0] == paths[1]
    d = Path(paths[0])
    man = json.loads((d / "manifest.json").read_text())
    assert man["status"] == "ok"
    for f in ("report.ipynb", "report.html", "results.json"):
        assert (d / f).stat().st_size > 0
    assert sorted(p.name for p in d.parent.iterdir()) == [SMALL_SLUG]


@pytest.mark.parametrize(
    "params, needle",
    [
        (dict(country="XXX"), "unknown country"),
        (dict(country="CHL", intervention="no_such"), "rti_law"),
        (dict(country="CHL", measures=("wgi.nope",)), "ogimpact measures"),
        (dict(country="CHL", designs=("magic",)), "synth"),
        (dict(country="CHL\nimport os"), "ISO3"),
        (dict(country="../../etc"), "ISO3"),
        (dict(country="CHL", intervention='rti_law"; import os; os.system("x") #'), "not a valid id"),
        (dict(country="CHL", measures=("wgi.cc/../../x",)), "not a valid id"),
        (dict(country="KEN", intervention="open_up_guide"), "no adoption date"),
        (dict(country="CHL", intervention="ogp_member", variant="nope"), "join"),
    ],
)
def test_bad_or_hostile_parameters_are_refused_before_running(tmp_path, params, needle):
    with pytest.raises(OgimpactError) as e:
        run_report(CountryParams(**params), out_root=tmp_path)
    assert needle in str(e.value)
    assert not any(tmp_path.rglob("*.ipynb")), "nothing may run for invalid parameters"


def test_failing_cell_leaves_failed_manifest_and_partial_notebook(tmp_path, monkeypatch):
    nb_dir = tmp_path / "nb"
    shutil.copytree(Path(__file__).resolve().parents[1] / "notebooks", nb_dir)
    nb = json.loads((nb_dir / "country_report.ipynb").read_text())
    nb["cells"].insert(3, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "id": "boom", "source": "raise RuntimeError('deliberate failure')"})
    (nb_dir / "country_report.ipynb").write_text(json.dumps(nb))
    monkeypatch.setenv("OGIMPACT_NOTEBOOKS", str(nb_dir))
    with pytest.raises(ReportFailed) as e:
        run_report(CountryParams(**SMALL), out_root=tmp_path / "out")
    failed = e.value.path
    assert failed.name == f"{SMALL_SLUG}.failed"
    man = json.loads((failed / "manifest.json").read_text())
    assert man["status"] == "failed" and "deliberate failure" in man["error"]
    assert (failed / "report.ipynb").exists()
    assert not (tmp_path / "out" / "country" / SMALL_SLUG).exists()


def test_cross_country_notebook_executes(tmp_path):
    o = run_report(CrossCountryParams(intervention="rti_law", measures=("wgi.cc",), designs=("cs", "twfe")),
                   out_root=tmp_path)
    res = json.loads((o.path / "results.json").read_text())
    # the report's "twfe" is the TWFE event study, recorded under its declared name as assess records it
    assert {e["design"] for e in res["results"]} >= {"cs", "event-study"}
    assert res["grades"] and res["grades"][0]["estimand"]["horizon"] == 5
    html = (o.path / "report.html").read_text()
    assert "<title>Across countries, did adopting a national right-to-information" in html and "<script" not in html
    # the headline of a cross-country report is the heterogeneity-robust estimator's, not TWFE's
    head = html[html.index('class="headline"'):][:400]
    assert "Callaway–Sant'Anna" in head and "Methods appendix" in html
    import re

    from bs4 import BeautifulSoup

    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert not re.search(r"\b(nan|NaN|None|<NA>)\b", text.split("Methods appendix")[0])
    # issue 14 item 7: the RTI Rating dose design runs beside the absorbing designs, with what it assumes
    beside = [e for e in res["results"] if e.get("role") == "beside"]
    assert [e["design"] for e in beside] == ["continuous"] and beside[0]["result"].get("estimate") is not None
    assert "continuous-dose DiD" in text and "strong parallel trends" in text


def test_batch_continues_on_error_and_writes_index(tmp_path, capsys):
    spec = tmp_path / "batch.yaml"
    spec.write_text(
        "defaults: {kind: country, intervention: rti_law, measures: [wgi.cc], designs: [its]}\n"
        "runs:\n  - {country: CHL}\n  - {country: MEX}\n  - {country: ZZZ}\n"
    )
    out = run_batch(spec, workers=2, out_root=tmp_path / "r", progress=True)
    err = capsys.readouterr().err
    assert "[" in err and "2/2 ok" in err and "country/mex-rti_law" in err  # one progress line per report
    status = {r["slug"]: r["status"] for r in out}
    chl = CountryParams(country="CHL", measures=("wgi.cc",), designs=("its",)).validate().slug
    mex = CountryParams(country="MEX", measures=("wgi.cc",), designs=("its",)).validate().slug
    assert chl.startswith("chl-rti_law-") and mex.startswith("mex-rti_law-")
    assert status[chl] == "ok" and status[mex] == "ok"
    assert sum(1 for r in out if r["status"] != "ok") == 1
    index = (tmp_path / "r" / "index.html").read_text()
    assert f"{chl}/report.html" in index and "unknown country" in index


def test_batch_on_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    spec = tmp_path / "batch.yaml"
    spec.write_text("defaults: {intervention: rti_law, measures: [wgi.cc], designs: [its]}\nruns:\n  - {country: CHL}\n")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        out = run_batch(spec, scheduler=lc.scheduler_address, out_root=tmp_path / "r", progress=False)
    assert out[0]["status"] == "ok"


def _chromium():
    for c in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(c)
        if p:
            return p
    return None


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium_without_console_errors(chile_full, tmp_path):
    html = chile_full.path / "report.html"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'prof'}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", html.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]
    dom = proc.stdout
    assert dom.count("<img") >= 4 and "<table" in dom
    console_errors = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and ("Error" in ln or "error" in ln)]
    assert not console_errors, console_errors[:5]


def _playwright():
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        return None
    return _chromium()


@pytest.mark.skipif(_playwright() is None, reason="playwright or a system Chromium missing (.ci/run installs them)")
def test_report_in_a_real_browser_offline(chile_full):
    """The report loads with the network blocked: no console error, no failed request, every image described,
    the title states the question, the headline and the summary table are on the first screen."""
    from playwright.sync_api import sync_playwright

    html = chile_full.path / "report.html"
    errors, failed, external = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            ctx = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: failed.append(r.url))

            def block(route):
                if route.request.url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    external.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            page.goto(html.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            title = page.title()
            alts = page.evaluate("Array.from(document.images).map(i => i.alt || '')")
            heads = page.locator(".headline")
            assert heads.count() >= 1
            first = heads.first.bounding_box()
            table = page.locator(".ogi-summary table").first.bounding_box()
        finally:
            browser.close()
    assert not errors, errors[:5]
    assert not failed and not external, (failed + external)[:5]
    assert "Chile" in title and "right-to-information" in title and title != "Notebook"
    assert len(alts) >= 10
    bad = [a for a in alts if len(a) < 40 or a.startswith("No description") or "no description" in a]
    assert not bad, bad[:3]
    assert first["y"] < 900 and table["y"] < 900, (first, table)


@pytest.mark.skipif(_playwright() is None, reason="playwright or a system Chromium missing (.ci/run installs them)")
def test_report_prints_to_pdf_with_chromium(chile_full, tmp_path):
    from ogimpact.reports.html_export import export_pdf

    out = tmp_path / "report.pdf"
    export_pdf(chile_full.path / "report.html", out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 50_000 and data.count(b"/Type /Page") >= 3


def test_report_text_is_clean_and_has_summary_and_appendix(chile_full):
    html = (chile_full.path / "report.html").read_text()
    for bad in ("years = None", "attrs[", "No description has been provided", "<script",
                "cdnjs", "mathjax", "require.js", "NaN", "&lt;NA&gt;"):
        assert bad not in html, bad
    import re

    from bs4 import BeautifulSoup

    text = BeautifulSoup(html, "html.parser").get_text(" ")
    stray = [text[max(0, m.start() - 50):m.end() + 10] for m in
             re.finditer(r"(?<![.\d])\.\.(?![.\d])|\.\s*;", text)]  # ".." or ".;" (an ellipsis "..." is fine)
    assert not stray, stray[:3]
    assert html.index('class="headline"') < html.index("1. The intervention")
    for needle in ("Methods appendix", "Data sources", "CC BY 4.0", "Timing variant used", "Deviations from "
                   "reference software", "Grading rubric", "How to rerun", "ogimpact report country CHL "
                   "--intervention rti_law", "image/svg+xml"):
        assert needle in html, needle
    man = json.loads((chile_full.path / "manifest.json").read_text())
    secs = man["timings"]["sections"]
    assert any(k.startswith("3. Single-country") for k in secs) and all(v >= 0 for v in secs.values())


def test_table_of_a_report_results_json_in_every_format(chile_full, tmp_path):
    import shutil

    from ogimpact.cli import main

    res = chile_full.path / "results.json"
    for fmt in ("latex", "md", "html", "docx"):
        assert main(["table", str(res), "--format", fmt, "--out", str(tmp_path / f"t.{fmt}")]) == 0
    md = (tmp_path / "t.md").read_text()
    assert "Synthetic control — wgi.cc (CHL)" in md and "[−" in md
    import docx

    assert len(docx.Document(str(tmp_path / "t.docx")).tables[0].rows) >= 10
    if shutil.which("pdflatex"):
        body = (tmp_path / "t.latex").read_text()
        doc = tmp_path / "doc.tex"
        doc.write_text("\\documentclass{article}\\usepackage{booktabs,longtable,caption}\\usepackage[utf8]{inputenc}"
                       "\\begin{document}\n" + body + "\n\\end{document}\n")
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", doc.name], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-800:]


def test_batch_help_documents_the_spec_and_out_sets_the_index_path(tmp_path, capsys):
    from ogimpact.cli import main
    from ogimpact.reports.batch import batch_root

    with pytest.raises(SystemExit):
        main(["report", "batch", "--help"])
    text = capsys.readouterr().out
    for needle in ("out:", "defaults:", "runs:", "kind:", "examples/batch.yaml"):
        assert needle in text, needle
    spec = tmp_path / "b.yaml"
    spec.write_text("out: elsewhere/r\nruns:\n  - {country: CHL, intervention: rti_law}\n")
    assert batch_root(spec) == Path("elsewhere/r") and batch_root(spec, tmp_path / "x") == tmp_path / "x"


def test_a_timing_variant_gets_its_own_report_folder():
    base = CountryParams(country="CHL", intervention="ogp_member").validate()
    alt = CountryParams(country="CHL", intervention="ogp_member", variant="first_action_plan").validate()
    assert base.slug == "chl-ogp_member" and alt.slug == "chl-ogp_member-first_action_plan"


def test_batch_defaults_apply_only_to_kinds_that_take_them(tmp_path):
    from ogimpact.reports.batch import load_spec

    spec = tmp_path / "b.yaml"
    spec.write_text("defaults: {intervention: rti_law, seed: 3}\nruns:\n  - {country: CHL}\n  - {kind: evidence}\n")
    entries, _ = load_spec(spec)
    assert [e.error for e in entries] == [None, None]
    assert entries[0].params.seed == 3 and entries[1].params.seed == 3
    spec.write_text("defaults: {intervention: rti_law, colour: red}\nruns:\n  - {country: CHL}\n")
    with pytest.raises(OgimpactError, match="colour"):
        load_spec(spec)


def test_printed_rerun_command_rebuilds_the_manifest_parameters(chile_full):
    import html as _html
    import re

    from test_report_presentation import _reparse

    found = re.search(r"<code>(ogimpact report country [^<]*)</code>", (chile_full.path / "report.html").read_text())
    assert found, "the methods appendix has no rerun command"
    cmd = _html.unescape(found.group(1)).strip()
    man = json.loads((chile_full.path / "manifest.json").read_text())
    assert _reparse(cmd) == man["parameters"], cmd


def test_numbers_in_report_prose_use_the_table_format(chile_full):
    import re

    html = (chile_full.path / "report.html").read_text()
    # the cohort ATT line used ASCII minus and three fixed decimals ("-0.004 (95% CI [-0.085, 0.078]")
    line = re.search(r"adoption cohort 2008</strong>[^<]*<strong>([^<]*)</strong>([^<]*)", html)
    assert line, "cohort ATT sentence missing"
    assert "-" not in line.group(1) + line.group(2).split(";")[0], line.group(0)
