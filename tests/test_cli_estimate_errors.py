"""Bad input through ``ogimpact estimate`` / ``ogimpact panel`` (``ogimpact.cli.main``).

CONTRACT: bad usage or bad input exits 2 with one plain sentence on stderr (``ogimpact: error: ...``)
naming the problem, nothing on stdout and no traceback.  Also the happy path of ``ogimpact panel``:
an atomic CSV, the description, and exactly one JSON document with ``--json``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main

YEARS = range(2000, 2010)


def _frame(n_units: int = 40, cohorts=(0, 2004, 2006), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), len(YEARS))
    year = np.tile(np.array(YEARS), n_units)
    g = np.array(cohorts)[unit % len(cohorts)]
    d = ((g > 0) & (year >= g)).astype(int)
    return pd.DataFrame({"id": unit, "name": [f"u{i}" for i in unit], "year": year,
                         "y": rng.normal(size=unit.size) + d, "g": g, "d": d, "x": rng.normal(size=unit.size)})


@pytest.fixture
def csv(tmp_path):
    """Write a frame (default: a valid 40-unit staggered panel) to a CSV in tmp_path; return its path."""
    def write(df: pd.DataFrame | None = None, name: str = "data.csv") -> str:
        path = tmp_path / name
        (_frame() if df is None else df).to_csv(path, index=False)
        return str(path)
    return write


def fails(capsys, argv: list[str], *words: str) -> str:
    """Run the CLI; assert exit 2, one `ogimpact: error:` line naming ``words``, empty stdout."""
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("ogimpact: error: ")
    for w in words:
        assert w in line, (w, line)
    return line


def _args(path: str, design: str = "twfe", *extra: str) -> list[str]:
    base = ["estimate", design, "--data", path, "--outcome", "y", "--unit", "id", "--time", "year"]
    if design == "twfe" and "--treat" not in extra:
        base += ["--treat", "d"]
    return base + list(extra)


# ---------------------------------------------------------------------------------------- data file
def test_missing_data_file(capsys, tmp_path):
    fails(capsys, _args(str(tmp_path / "nope.csv")), "nope.csv", "does not exist", "--data")


def test_data_path_is_a_folder(capsys, tmp_path):
    fails(capsys, _args(str(tmp_path)), "is a folder")


def test_binary_garbage(capsys, tmp_path):
    p = tmp_path / "garbage.csv"
    p.write_bytes(bytes(range(256)) * 20)
    fails(capsys, _args(str(p)), "garbage.csv", "not a readable CSV", "UTF-8")


def test_invalid_utf8(capsys, tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes(b"\x80\x81\xfe\xff\x00garbage\n\xff\xfe")
    fails(capsys, _args(str(p)), "not a readable CSV")


def test_empty_file(capsys, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    fails(capsys, _args(str(p)), "empty.csv", "is empty")


def test_header_only(capsys, tmp_path):
    p = tmp_path / "header.csv"
    p.write_text("id,year,y,d\n")
    fails(capsys, _args(str(p)), "no rows")


# ---------------------------------------------------------------------------------------- columns
@pytest.mark.parametrize("flag", ["--outcome", "--unit", "--time", "--treat", "--cluster"])
def test_missing_column_named(capsys, csv, flag):
    argv = _args(csv(), "twfe")
    if flag in argv:
        argv[argv.index(flag) + 1] = "nosuch"
    else:
        argv += [flag, "nosuch"]
    fails(capsys, argv, "'nosuch' not in the data", "available columns: id, name, year")


def test_missing_cohort_column_named(capsys, csv):
    fails(capsys, _args(csv(), "cs", "--cohort", "nosuch"), "'nosuch' not in the data")


def test_data_without_column_flags(capsys, csv):
    fails(capsys, ["estimate", "twfe", "--data", csv(), "--treat", "d"], "--outcome", "--unit", "--time")


def test_no_data_at_all(capsys):
    fails(capsys, ["estimate", "twfe", "--treat", "d"], "no data", "--data", "--measure")


# ---------------------------------------------------------------------------------------- values
def test_non_binary_treat(capsys, csv):
    df = _frame()
    df["d"] *= 2
    fails(capsys, _args(csv(df), "twfe"), "treatment column 'd' must be 0/1", "found values 0, 2", "recode")


def test_text_treat(capsys, csv):
    df = _frame()
    df["d"] = np.where(df["d"] == 1, "yes", "no")
    fails(capsys, _args(csv(df), "twfe"), "must be 0/1", "no, yes")


def test_constant_treat(capsys, csv):
    df = _frame()
    df["d"] = 0
    fails(capsys, _args(csv(df), "twfe"), "is constant")


def test_non_numeric_outcome(capsys, csv):
    argv = _args(csv(), "twfe")
    argv[argv.index("--outcome") + 1] = "name"
    fails(capsys, argv, "outcome 'name' has non-numeric values")


def test_duplicate_keys(capsys, csv):
    df = pd.concat([_frame(), _frame().head(2)])
    fails(capsys, _args(csv(df), "twfe"), "(id, year) pairs are not unique", "aggregate")


def test_dates_as_time(capsys, csv):
    df = _frame()
    df["year"] = df["year"].astype(str) + "-01-01"
    fails(capsys, _args(csv(df), "twfe"), "time column 'year'", "convert dates")


def test_cohort_varying_within_unit(capsys, csv):
    fails(capsys, _args(csv(), "sun-abraham", "--cohort", "d"), "varies within unit")


def test_error_after_few_cluster_warning_is_still_one_line(csv):
    """A PanelWarning raised while the panel is built must not add lines before the error.

    Run in a fresh interpreter: inside pytest, warnings are captured by pytest and never reach stderr.
    """
    df = _frame(n_units=12)  # 12 clusters < 30: the panel warns, then --window fails
    r = subprocess.run([sys.executable, "-m", "ogimpact", *_args(csv(df), "event-study", "--cohort", "g",
                                                                 "--window", "a:b")],
                       capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "default"})
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [r.stderr.strip()] and r.stderr.startswith("ogimpact: error: --window must be A:B")


# ---------------------------------------------------------------------------------------- modes
def test_data_and_measure_together(capsys, csv):
    fails(capsys, _args(csv(), "twfe", "--measure", "wgi.cc"), "either --data", "not both")


def test_measure_without_intervention(capsys):
    fails(capsys, ["estimate", "twfe", "--measure", "wgi.cc"], "needs both --measure ID and --intervention ID")


def test_unknown_measure(capsys):
    fails(capsys, ["estimate", "twfe", "--measure", "wgi.nope", "--intervention", "rti_law"],
          "unknown measure 'wgi.nope'", "ogimpact measures")


def test_unknown_intervention(capsys):
    fails(capsys, ["estimate", "twfe", "--measure", "wgi.cc", "--intervention", "nope"],
          "unknown intervention 'nope'", "rti_law")


@pytest.mark.parametrize("years, words", [("2020:1990", "first year is after the last"), ("1996-2020", "A:B")])
def test_registry_bad_years(capsys, years, words):
    fails(capsys, ["estimate", "twfe", "--measure", "wgi.cc", "--intervention", "rti_law", "--years", years],
          "--years", words)


# ---------------------------------------------------------------------------------------- options
def test_unknown_design(capsys, csv):
    fails(capsys, ["estimate", "frobnicate", "--data", csv()], "invalid choice: 'frobnicate'", "--help")


def test_unknown_option(capsys, csv):
    fails(capsys, _args(csv(), "twfe", "--frobnicate", "3"), "unrecognized arguments: --frobnicate")


@pytest.mark.parametrize(
    "design, extra, words",
    [
        ("cs", ["--cohort", "g", "--control", "sometimes"], ["--control", "invalid choice: 'sometimes'"]),
        ("cs", ["--cohort", "g", "--method", "ols"], ["--method", "invalid choice: 'ols'"]),
        ("cs", ["--cohort", "g", "--aggregate", "weekly"], ["--aggregate", "'weekly'"]),
        ("cs", ["--cohort", "g", "--anticipation", "-1"], ["--anticipation", "non-negative"]),
        ("imputation", ["--cohort", "g", "--se", "hc1"], ["--se", "'hc1'"]),
        ("sdid", ["--treated", "1", "--treat-time", "2005", "--method", "ols"], ["--method", "'ols'"]),
        ("panel", ["--regressors", "x", "--model", "gmm"], ["--model", "'gmm'"]),
        ("panel", ["--regressors", "x", "--effects", "unit,year"], ["--effects", "'unit,year'"]),
        ("panel", ["--regressors", "x", "--vcov", "hc9"], ["--vcov", "'hc9'"]),
        ("twfe", ["--wild-bootstrap", "99", "--bootstrap-weights", "mammen"], ["--bootstrap-weights", "'mammen'"]),
        ("twfe", ["--test", "treat"], ["--test needs --wild-bootstrap"]),
        ("twfe", ["--alpha", "2"], ["alpha must lie in (0, 1)"]),
        ("its", ["--treat-time", "2005", "--hac-lags", "two"], ["--hac-lags", "whole number"]),
        ("event-study", ["--cohort", "g", "--window", "a:b"], ["--window must be A:B"]),
        ("synth", ["--treated", "1", "--treat-time", "2005", "--placebo", "space,sideways"],
         ["--placebo takes space and/or time", "sideways"]),
    ],
)
def test_bad_option_values(capsys, csv, design, extra, words):
    fails(capsys, _args(csv(), design, *extra), *words)


@pytest.mark.parametrize("design", ["cs", "event-study", "sun-abraham", "imputation"])
def test_staggered_design_needs_cohort(capsys, csv, design):
    fails(capsys, _args(csv(), design), f"design {design!r} needs --cohort COL")


def test_panel_design_needs_regressors(capsys, csv):
    fails(capsys, _args(csv(), "panel"), "needs --regressors")


# ---------------------------------------------------------------------------------------- single unit
@pytest.mark.parametrize("design", ["synth", "sdid"])
def test_single_unit_without_treated(capsys, csv, design):
    fails(capsys, _args(csv(), design, "--treat-time", "2005"), f"design {design!r} needs --treated UNIT")


@pytest.mark.parametrize("design", ["synth", "sdid", "its"])
def test_single_unit_without_treat_time(capsys, csv, design):
    fails(capsys, _args(csv(), design, "--treated", "1"), "needs --treat-time T")


@pytest.mark.parametrize("design", ["synth", "sdid", "its"])
def test_treated_unit_not_in_data(capsys, csv, design):
    fails(capsys, _args(csv(), design, "--treated", "999", "--treat-time", "2005"),
          "--treated: unknown unit(s) '999' in the data's 'id' column", "spelling")


def test_treated_unit_name_suggests_close_ids(capsys, csv):
    argv = _args(csv(), "synth", "--treated", "u39b", "--treat-time", "2005")
    argv[argv.index("--unit") + 1] = "name"
    line = fails(capsys, argv, "--treated: unknown unit(s) 'u39b'", "did you mean", "in the data's 'name' column")
    assert "u39" in line.split("did you mean", 1)[1]  # the shared check of --units/--donors: close matches


# ---------------------------------------------------------------------------------------- errors raised inside designs
def test_synth_unknown_donor(capsys, csv):
    pytest.importorskip("ogimpact.designs.synth")
    fails(capsys, _args(csv(), "synth", "--treated", "1", "--treat-time", "2005", "--donors", "500,501"), "'500'")


def test_synth_bad_predictor_spec(capsys, csv):
    pytest.importorskip("ogimpact.designs.synth_predictors")
    fails(capsys, _args(csv(), "synth", "--treated", "1", "--treat-time", "2005", "--predictors", "y(("), "y((")


def test_sdid_treat_time_outside_data(capsys, csv):
    pytest.importorskip("ogimpact.designs.sdid")
    fails(capsys, _args(csv(), "sdid", "--treated", "1", "--treat-time", "1990"), "1990")


def test_event_study_reference_not_observed(capsys, csv):
    pytest.importorskip("ogimpact.designs.event_study")
    fails(capsys, _args(csv(), "event-study", "--cohort", "g", "--ref", "50"), "50")


def test_cs_never_control_without_never_treated(capsys, csv):
    pytest.importorskip("ogimpact.designs.callaway_santanna")
    df = _frame(n_units=40, cohorts=(2004, 2006))
    fails(capsys, _args(csv(df), "cs", "--cohort", "g", "--control", "never"), "never-treated", "notyet")


def test_wild_bootstrap_unknown_term(capsys, csv):
    pytest.importorskip("ogimpact.designs.twfe")
    pytest.importorskip("ogimpact.inference.wild_bootstrap")
    fails(capsys, _args(csv(), "twfe", "--wild-bootstrap", "99", "--test", "nope"), "'nope'")


def test_its_many_units_without_treated(capsys, csv):
    pytest.importorskip("ogimpact.designs.its")
    fails(capsys, _args(csv(), "its", "--treat-time", "2005"), "--treated")


# ---------------------------------------------------------------------------------------- success: output discipline
def test_success_json_is_one_document_and_warnings_one_line(capsys, csv):
    pytest.importorskip("ogimpact.designs.twfe")
    path = csv(_frame(n_units=12))  # 12 clusters: a PanelWarning
    assert main(_args(path, "twfe", "--json")) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)  # exactly one document: json.loads refuses trailing data
    assert doc["design"] == "twfe" and doc["n_clusters"] == 12
    assert err == ""
    assert main(_args(path, "twfe")) == 0
    out, err = capsys.readouterr()
    assert out.strip()
    lines = err.strip().splitlines()
    assert lines and all(ln.startswith("ogimpact: warning: ") for ln in lines)
    assert any("only 12 clusters" in ln for ln in lines)


# ---------------------------------------------------------------------------------------- ogimpact panel
PANEL_ARGS = ["panel", "--measures", "wgi.cc,vdem.v2x_partipdem", "--intervention", "rti_law",
              "--years", "2000:2010", "--units", "CHL,MEX,ARG,BRA"]


def test_panel_writes_csv_atomically_and_describes(capsys, tmp_path):
    out_dir = tmp_path / "sub"
    target = out_dir / "p.csv"
    assert main([*PANEL_ARGS, "--out", str(target)]) == 0
    out, err = capsys.readouterr()
    assert sorted(p.name for p in out_dir.iterdir()) == ["p.csv"]  # no temporary file left behind
    df = pd.read_csv(target)
    assert {"unit", "year", "wgi.cc", "vdem.v2x_partipdem", "cohort", "treat"} <= set(df.columns)
    assert set(df["unit"]) == {"CHL", "MEX", "ARG", "BRA"}
    cohort = df.groupby("unit")["cohort"].first()
    assert cohort["CHL"] == 2008 and cohort["MEX"] == 2002
    assert out.startswith("Panel: outcome wgi.cc, 4 units x ")
    assert "Cohorts (first treated period" in out and "Never-treated coding seen" in out
    assert f"Wrote {len(df)} rows to {target}" in out
    # overwriting an existing file is atomic too
    assert main([*PANEL_ARGS, "--out", str(target)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out_dir.iterdir()) == ["p.csv"]


def test_panel_json_is_one_document(capsys, tmp_path):
    target = tmp_path / "p.csv"
    assert main([*PANEL_ARGS, "--out", str(target), "--json"]) == 0
    out, _ = capsys.readouterr()
    doc = json.loads(out)  # raises on anything before/after the one document
    assert doc["n_units"] == 4 and doc["out"] == str(target) and doc["intervention"] == "rti_law"
    assert doc["measures"] == ["wgi.cc", "vdem.v2x_partipdem"]
    # BRA (2011) and ARG (statute Ley 27.275 of 2016, canosa.com; the RTI Rating's 2004 was not the statute) lie
    # beyond 2010: never treated in this window
    assert doc["cohorts"] == {"0": 2, "2002": 1, "2008": 1}
    assert any("only 4 clusters" in w for w in doc["warnings"])
    assert target.exists()


@pytest.mark.parametrize("years, words", [("2010:2000", "first year is after the last"),
                                          ("2000-2010", "A:B with integers"), ("a:b", "A:B with integers"),
                                          ("2000:2005:2010", "A:B")])
def test_panel_bad_years(capsys, tmp_path, years, words):
    target = tmp_path / "p.csv"
    argv = [a if a != "2000:2010" else years for a in PANEL_ARGS]
    fails(capsys, [*argv, "--out", str(target)], "--years", words)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_panel_bad_ids_and_out(capsys, tmp_path):
    fails(capsys, ["panel", "--measures", "wgi.nope", "--intervention", "rti_law", "--out", str(tmp_path / "p.csv")],
          "unknown measure 'wgi.nope'")
    fails(capsys, [*PANEL_ARGS, "--out", str(tmp_path / "p.txt")], "--out must name a .csv file")
    fails(capsys, PANEL_ARGS, "--out")  # required
    assert list(tmp_path.iterdir()) == []
