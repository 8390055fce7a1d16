"""Warnings are data (issue 9, item 2).

Every result JSON carries ``diagnostics.warnings`` = ``[{code, message}, ...]`` (possibly empty):
``ogimpact.estimation.estimate`` collects the panel's coded warnings and every ``OgimpactWarning``
raised during a fit; text mode prints them on stderr, ``--json`` keeps them in the document (on main
they vanished in ``--json`` mode: the few-clusters warning of a two-cluster TWFE was lost), reports
show them beside the estimate, and notebooks no longer silence every warning.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.errors import OgimpactWarning
from ogimpact.estimation import collect_warnings, estimate, panel_from_csv

ROOT = Path(__file__).resolve().parents[1]


def _frame(n_units=12, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        g = 0 if u < n_units // 2 else (2004 if u % 2 else 2006)
        for t in range(2000, 2010):
            d = int(g and t >= g)
            rows.append(dict(id=u, year=t, g=g, d=d, cl=u % 2, y=rng.normal() + u * 0.1 + d, x=rng.normal()))
    return pd.DataFrame(rows)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "d.csv"
    _frame().to_csv(path, index=False)
    return str(path)


def _json(capsys, argv):
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out), err


BASE = ["--outcome", "y", "--unit", "id", "--time", "year"]


def test_two_cluster_twfe_few_clusters_warning_in_json(capsys, data):
    doc, err = _json(capsys, ["estimate", "twfe", "--data", data, *BASE, "--treat", "d", "--cluster", "cl", "--json"])
    w = doc["diagnostics"]["warnings"]
    assert [e["code"] for e in w].count("few_clusters") == 1
    assert "only 2 clusters" in next(e["message"] for e in w if e["code"] == "few_clusters")
    assert err == ""  # JSON mode: nothing on stderr, the warning is in the document


def test_text_mode_prints_warnings_on_stderr(capsys, data):
    rc = main(["estimate", "twfe", "--data", data, *BASE, "--treat", "d", "--cluster", "cl"])
    out, err = capsys.readouterr()
    assert rc == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("ogimpact: warning: ")]
    assert len(lines) == 1 and lines[0].endswith("[few_clusters]")


@pytest.mark.parametrize("design,extra", [
    ("twfe", ["--treat", "d"]), ("event-study", ["--cohort", "g"]), ("cs", ["--cohort", "g", "--control", "notyet"]),
    ("sun-abraham", ["--cohort", "g"]), ("imputation", ["--cohort", "g"]),
    ("panel", ["--regressors", "x"]), ("its", ["--treat-time", "2005", "--treated", "7"]),
    ("sdid", ["--treat-time", "2006", "--treated", "6"]), ("synth", ["--treat-time", "2006", "--treated", "6"]),
])
def test_every_result_json_has_a_warnings_list(capsys, tmp_path, design, extra):
    df = _frame()
    if design in ("sdid", "synth"):
        df = df[(df.g == 0) | (df.id == 6)]
    path = tmp_path / "x.csv"
    df.to_csv(path, index=False)
    doc, _ = _json(capsys, ["estimate", design, "--data", str(path), *BASE, *extra, "--json"])
    ws = doc["diagnostics"]["warnings"]
    assert isinstance(ws, list)
    for e in ws:
        assert set(e) == {"code", "message"} and e["code"] and e["message"]
    if design in ("twfe", "event-study", "sun-abraham", "imputation", "cs"):
        assert "few_clusters" in [e["code"] for e in ws]  # 12 units < 30 clusters
    if design == "cs":
        assert "small_cohort" in [e["code"] for e in ws]  # 3 units per cohort < covariates + 5


def test_fit_warnings_are_collected_and_not_reemitted():
    p = panel_from_csv("cs", _frame(), unit="id", time="year", outcome="y", cohort="g")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = estimate("cs", p, control="notyet")
    assert not [w for w in caught if isinstance(w.message, OgimpactWarning)]
    codes = [e["code"] for e in r.diagnostics["warnings"]]
    assert codes[0] == "few_clusters" and "small_cohort" in codes
    assert len(codes) == len({(e["code"], e["message"]) for e in r.diagnostics["warnings"]})
    # deterministic: the same fit gives the same list
    assert estimate("cs", p, control="notyet").diagnostics["warnings"] == r.diagnostics["warnings"]


def test_rows_dropped_and_always_treated_are_coded():
    df = _frame(n_units=40)
    df.loc[3, "y"] = np.nan
    df.loc[df.id == 39, "g"] = 1999  # always treated
    p = panel_from_csv("sun-abraham", df, unit="id", time="year", outcome="y", cohort="g")
    r = estimate("sun-abraham", p)
    codes = [e["code"] for e in r.diagnostics["warnings"]]
    assert "always_treated_dropped" in codes and "rows_dropped" in codes and "few_clusters" not in codes


def test_collect_warnings_converts_design_notes_and_dedups():
    out = collect_warnings(None, {"warnings": ["a note", {"code": "x", "message": "m"}], "n_dropped": 0},
                           [{"code": "x", "message": "m"}])
    assert out == [{"code": "x", "message": "m"}, {"code": "design_note", "message": "a note"}]


def test_estimate_to_dict_always_has_warnings():
    from ogimpact.designs.twfe import fit_twfe

    p = panel_from_csv("twfe", _frame(n_units=40), unit="id", time="year", outcome="y", treat="d")
    assert fit_twfe(p).to_dict()["diagnostics"]["warnings"] == []


def test_sensitivity_and_meta_json_carry_warnings(capsys, tmp_path, data):
    es, _ = _json(capsys, ["estimate", "event-study", "--data", data, *BASE, "--cohort", "g", "--json"])
    f = tmp_path / "es.json"
    f.write_text(json.dumps(es))
    doc, _ = _json(capsys, ["sensitivity", "--event-study", str(f), "--method", "sd", "--m", "0,0.1", "--json"])
    assert isinstance(doc["diagnostics"]["warnings"], list)
    bcg = ROOT / "tests" / "reference" / "meta_bcg" / "data.csv"
    doc, _ = _json(capsys, ["meta", "--data", str(bcg), "--counts", "tpos,tneg,cpos,cneg", "--measure", "rr",
                            "--method", "reml", "--json"])
    assert doc["diagnostics"]["warnings"] == []


def test_notebooks_do_not_silence_every_warning():
    for nb in [*(ROOT / "notebooks").glob("*.ipynb"), ROOT / "scripts" / "make_notebooks.py"]:
        text = nb.read_text()
        assert 'filterwarnings(\\"ignore\\")' not in text and 'filterwarnings("ignore")' not in text, nb


def test_report_shows_warnings_beside_the_estimate():
    from ogimpact.reports.show import warnings_note

    p = panel_from_csv("twfe", _frame(), unit="id", time="year", outcome="y", treat="d")
    r = estimate("twfe", p)
    note = warnings_note(r, design="twfe")
    assert note.startswith("> Warnings on the **Two-way fixed effects** estimate") and "`few_clusters`" in note
    r40 = estimate("twfe", panel_from_csv("twfe", _frame(n_units=40), unit="id", time="year", outcome="y", treat="d"))
    assert warnings_note(r40) is None
