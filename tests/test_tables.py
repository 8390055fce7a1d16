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
    assert t.title == "Meta-analysis" and "k = 13" in t.notes[0]
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
