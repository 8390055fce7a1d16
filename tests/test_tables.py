"""Publication tables from result JSON: every format opens or compiles, numbers are formatted honestly."""
from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ogimpact.cli import main
from ogimpact.tables import from_result, render

REF = Path(__file__).parent / "reference"


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def cs_json(tmp_path_factory):
    code, out, _ = _cli(["estimate", "cs", "--data", str(REF / "mpdta" / "data.csv"), "--outcome", "lemp",
                         "--unit", "countyreal", "--time", "year", "--cohort", "first.treat",
                         "--aggregate", "dynamic", "--json"])
    assert code == 0
    f = tmp_path_factory.mktemp("t") / "cs.json"
    f.write_text(out)
    return f


def test_numbers_follow_the_standard_error_and_cis_are_bracketed(cs_json):
    t = from_result(json.loads(cs_json.read_text()))
    head = t.frame.iloc[0]
    # R did: dynamic ATT -0.0772 (SE 0.0200): two significant digits of the SE -> 3 decimals
    assert head["Estimate"] == "\u22120.077" and head["Std. error"] == "0.020"
    assert re.fullmatch(r"\[\u22120\.\d{3}, \u22120\.\d{3}\]", head["95% CI"])
    assert "nan" not in t.frame.to_string().lower() and "None" not in t.frame.to_string()


def test_markdown_is_a_pipe_table_with_a_row_per_coefficient(cs_json):
    code, out, _ = _cli(["table", str(cs_json), "--format", "md"])
    assert code == 0
    rows = [ln for ln in out.splitlines() if ln.startswith("|")]
    assert len({ln.count("|") for ln in rows}) == 1  # every row has the same number of cells
    assert sum("Event time" in ln for ln in rows) == 7


def test_latex_is_booktabs_and_compiles_where_pdflatex_is_installed(cs_json, tmp_path):
    out = tmp_path / "t.tex"
    assert _cli(["table", str(cs_json), "--format", "latex", "--out", str(out)])[0] == 0
    tex = out.read_text()
    assert tex.count("\\begin{") == tex.count("\\end{") and "\\toprule" in tex and "\\bottomrule" in tex
    assert "\u2212" not in tex  # pdflatex has no U+2212
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed: structure checked, compilation not")
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs,caption,longtable}\\begin{document}\n"
                   + tex + "\n\\end{document}\n")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_docx_opens_in_python_docx_with_the_same_cells(cs_json, tmp_path):
    import docx

    out = tmp_path / "t.docx"
    assert _cli(["table", str(cs_json), "--format", "docx", "--out", str(out)])[0] == 0
    d = docx.Document(str(out))
    tab = d.tables[0]
    assert [c.text for c in tab.rows[0].cells] == ["Term", "Estimate", "Std. error", "95% CI", "p-value"]
    assert tab.rows[1].cells[1].text == "\u22120.077"


def test_html_is_byte_identical_across_runs_and_offline(cs_json):
    a = render(from_result(json.loads(cs_json.read_text())), "html")
    b = render(from_result(json.loads(cs_json.read_text())), "html")
    assert a == b
    assert b"http://" not in a and b"https://" not in a


def test_meta_and_sensitivity_results_get_their_own_tables():
    t = from_result({"estimate": -0.7145, "se": 0.1798, "ci_low": -1.067, "ci_high": -0.362, "p_value": 7e-5,
                     "tau2": 0.3132, "i2": 92.2, "k": 13, "pi_low": -1.86, "pi_high": 0.43})
    assert t.title.startswith("Meta-analysis") and "k = 13" in t.notes[0]
    s = from_result({"method": "rm", "original": {"ci_low": 0.01, "ci_high": 0.05},
                     "intervals": [{"m": 0.5, "ci_low": 0.0, "ci_high": 0.07}], "breakdown": None})
    assert len(s.frame) == 2 and "No breakdown" in s.notes[0]


def test_unknown_json_and_docx_to_stdout_are_clear_errors(tmp_path):
    f = tmp_path / "x.json"
    f.write_text('{"hello": 1}')
    code, out, err = _cli(["table", str(f), "--format", "md"])
    assert code == 2 and "not a result ogimpact knows" in err and out == ""
    code, _, err = _cli(["table", str(f), "--format", "docx"])
    assert code == 2 and "--out" in err


def test_a_meta_json_from_the_cli_gets_the_meta_table_with_its_studies(tmp_path):
    # before: a meta document has design "meta" and an estimate, so it was read as a design ("meta: None")
    root = Path(__file__).resolve().parents[1]
    code, out, _ = _cli(["meta", "--data", str(root / "examples" / "studies.csv"), "--estimate", "yi", "--se", "sei",
                         "--method", "reml", "--json"])
    assert code == 0
    t = from_result(json.loads(out))
    assert t.title == "Meta-analysis (random-effects, REML)"
    assert "None" not in t.title and not any("None" in n for n in t.notes)
    assert "k = 13 studies" in t.notes[0] and "τ²" in t.notes[0] and "prediction interval [" in t.notes[0]
    terms = list(t.frame["Term"])
    assert terms[0] == "Pooled estimate" and sum(x.startswith("Study ") for x in terms) == 13
    assert "Weight (%)" in t.frame.columns


def test_dashes_in_a_report_results_json_say_why():
    doc = {"kind": "country", "parameters": {"country": "AUS", "intervention": "rti_law"}, "results": [
        {"measure": "wgi.cc", "design": "synth", "unit": "AUS", "role": "estimate",
         "result": {"design": "synth", "status": "not estimable",
                    "reason": "Australia adopted its law in 1982, before its series begins: always treated."}},
        {"measure": "wgi.cc", "design": "synth", "unit": "CHL", "role": "estimate",
         "result": {"design": "synth", "estimate": 0.044, "se": None, "p_value": 1.0}},
        {"measure": "wgi.cc", "design": "cs_cohort", "unit": "AUS", "role": "estimate",
         "result": {"design": "cs_cohort", "estimate": -0.004, "se": 0.041, "ci_low": -0.085, "ci_high": 0.078}}]}
    t = from_result(doc)
    assert t.title == "Results of the country report: AUS × rti_law"
    assert "Callaway–Sant'Anna, the country's cohort — wgi.cc (AUS)" in list(t.frame["Term"])
    notes = " ".join(t.notes)
    assert "always treated" in notes and "placebo-in-space rank p-value" in notes
    assert "not estimated or not applicable" not in notes  # every dash is explained


def test_frame_table_footnotes_each_dash_with_its_reason():
    import pandas as pd

    from ogimpact.tables import MISSING_NOTE, frame_table

    f = pd.DataFrame({"event_time": [-2, -1, 0], "estimate": [0.1, 0.0, 0.2], "se": [0.05, None, 0.06],
                      "p_value": [0.2, None, 0.01]})
    t = frame_table(f, title="x", missing={"se": "the reference period is normalised to 0"})
    assert list(t.frame["Event time"]) == ["\u22122", "\u22121", "0"]  # U+2212, as every other number
    assert "— in Std. error: the reference period is normalised to 0." in t.notes
    assert MISSING_NOTE in t.notes  # p-value has no reason given: the generic note remains
    t = frame_table(f, title="x", missing={"se": "reference period", "p_value": "reference period"})
    assert MISSING_NOTE not in t.notes


def test_assess_table_carries_estimate_interval_design_and_rubric_version():
    doc = {"intervention": "rti_law", "rubric": {"name": "og-evidence-grade", "version": "2.0.0"}, "assessments": [
        {"measure": "wgi.cc", "country": "CHL", "grade": "Insufficient", "headline": "Insufficient evidence ...",
         "headline_estimate": {"design": "synth", "estimate": 0.044, "se": None, "ci_low": None, "ci_high": None,
                               "ci_source": "sdid", "ci": {"ci_low": -0.37499, "ci_high": 0.48518}}},
        {"measure": "wgi.ge", "country": "AUS", "grade": "Insufficient", "headline": "no design could be estimated",
         "headline_estimate": {"design": None, "estimate": None}}]}
    t = from_result(doc)
    r0, r1 = t.frame.iloc[0], t.frame.iloc[1]
    assert r0["Estimate"] == "0.044" and r0["95% CI"].startswith("[−0.37, 0.49]") and "difference" in r0["95% CI"]
    assert r1["Estimate"] == "—" and any("no design could be estimated" in n for n in t.notes)
    assert "version 2.0.0" in t.notes[0]
    md = render(t, "md").decode()
    assert "|:---|:---|:---|---:|" in md  # text columns left, numbers right


def test_meta_and_sensitivity_latex_compile_with_plain_pdflatex(tmp_path):
    # τ², I² and M̄ are fine in HTML, Markdown and Word; pdflatex's utf8 input has none of them
    root = Path(__file__).resolve().parents[1]
    code, out, _ = _cli(["meta", "--data", str(root / "examples" / "studies.csv"), "--estimate", "yi", "--se", "sei",
                         "--method", "reml", "--json"])
    assert code == 0
    sens = {"method": "rm", "original": {"ci_low": -0.04, "ci_high": 0.003},
            "intervals": [{"m": 0.5, "ci_low": -0.06, "ci_high": 0.02}], "breakdown": None}
    for name, doc in (("meta", json.loads(out)), ("sens", sens)):
        tex = render(from_result(doc), "latex").decode()
        assert not re.search(r"[τ²̄\u2212]", tex), name
        if shutil.which("pdflatex") is None:
            continue
        d = tmp_path / f"{name}.tex"
        d.write_text("\\documentclass{article}\\usepackage{booktabs,caption,longtable}\\begin{document}\n"
                     + tex + "\n\\end{document}\n")
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", d.name], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (name, r.stdout[-1500:])


def test_snake_case_terms_read_as_words():
    t = from_result({"design": "its", "outcome": "wgi.cc", "estimate": 0.02, "se": 0.09, "ci_low": -0.18,
                     "ci_high": 0.22, "p_value": 0.85,
                     "terms": [{"term": "level_change", "estimate": 0.02, "se": 0.09},
                               {"term": "treat:post", "estimate": 0.1, "se": 0.05}]})
    assert list(t.frame["Term"]) == ["Headline estimate", "Level change", "treat:post"]
