"""Acceptance regressions for the ``ogimpact`` command line (CONTRACT.md).

Each test pins a defect found by running the CLI as a user would: option defaults in
``--help``, CSV dialects (semicolon/tab files, header blanks, ragged rows, BOM/CRLF/blank
lines), rows with a missing cluster id (dropped and counted alike by every design),
all-missing covariates, deterministic bootstrap seeds, ``--model re`` without
``--effects``, clear messages for a synth treated unit with gaps and for HonestDiD on an
imputation event study, and the registry donor rule for comparative ITS.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.errors import DesignError

YEARS = range(2000, 2010)


def _frame(n_units: int = 40, cohorts=(0, 2004, 2006), seed: int = 0) -> pd.DataFrame:
    """Staggered panel with a true effect of 1 from the cohort year on, and a state above the unit."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), len(YEARS))
    year = np.tile(np.array(YEARS), n_units)
    g = np.array(cohorts)[unit % len(cohorts)]
    d = ((g > 0) & (year >= g)).astype(int)
    return pd.DataFrame({"id": unit, "year": year, "y": rng.normal(size=unit.size) + d, "g": g, "d": d,
                         "x": rng.normal(size=unit.size), "st": (unit // 4).astype(float)})


def _run(capsys, argv):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _ok_json(capsys, argv) -> dict:
    rc, out, err = _run(capsys, argv if "--json" in argv else [*argv, "--json"])
    assert rc == 0, err
    return json.loads(out)  # exactly one JSON document on stdout


def _fails(capsys, argv, *words) -> str:
    rc, out, err = _run(capsys, argv)
    assert rc == 2, (rc, err)
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ogimpact: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _est(path, design, *extra) -> list[str]:
    return ["estimate", design, "--data", str(path), "--outcome", "y", "--unit", "id", "--time", "year", *extra]


DESIGN_ARGS = {
    "panel": ["--regressors", "d"],
    "twfe": ["--treat", "d"],
    "event-study": ["--cohort", "g"],
    "cs": ["--cohort", "g"],
    "sun-abraham": ["--cohort", "g"],
    "imputation": ["--cohort", "g"],
}


# ---------------------------------------------------------------- --help shows the contract's defaults
HELP_DEFAULTS = {
    "panel": ["[unit,time", "[fe]", "[cluster when --cluster is given, else classical]", "[rademacher]"],
    "twfe": ["--cluster COL         [unit]", "--seed SEED"],
    "event-study": ["[every observed event time, one coefficient each]", "[-1]", "[unit]"],
    "cs": ["[never]", "[dr]", "[varying]", "[simple]", "[0]"],
    "sun-abraham": ["[unit]"],
    "imputation": ["[unit,time]", "[two-stage, as R did2s]", "[unit]"],
    "synth": ["[all pre-periods]", "[every other unit]", "[0]"],
    "sdid": ["[sdid]", "[0]"],
    "its": ["Newey-West lags ["],
}


@pytest.mark.parametrize("design", list(HELP_DEFAULTS))
def test_help_lists_defaults(capsys, design):
    with pytest.raises(SystemExit) as exc:
        main(["estimate", design, "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for s in HELP_DEFAULTS[design]:
        assert " ".join(s.split()) in out, (design, s)


def test_estimate_without_design_prints_help_on_stderr(capsys):
    rc, out, err = _run(capsys, ["estimate"])
    assert rc == 2 and out == "" and "DESIGN" in err


# ---------------------------------------------------------------- CSV dialects
def test_semicolon_and_tab_files_get_a_clear_error(tmp_path, capsys):
    df = _frame()
    df.to_csv(tmp_path / "semi.csv", index=False, sep=";", decimal=",")
    df.to_csv(tmp_path / "tab.csv", index=False, sep="\t")
    _fails(capsys, _est(tmp_path / "semi.csv", "twfe", "--treat", "d"), "semicolon-separated", "comma-separated")
    _fails(capsys, _est(tmp_path / "tab.csv", "twfe", "--treat", "d"), "tab-separated")


def test_ragged_rows_are_an_error_not_a_shifted_index(tmp_path, capsys):
    p = tmp_path / "rag.csv"
    p.write_text("id,year,y,d\n1,2000,0.5,0,9\n1,2001,0.7,1\n")
    _fails(capsys, _est(p, "twfe", "--treat", "d"), "not a readable CSV", "as many fields")


def test_header_blanks_bom_crlf_blank_lines_give_the_same_result(tmp_path, capsys):
    df = _frame()
    df.to_csv(tmp_path / "plain.csv", index=False)
    text = (tmp_path / "plain.csv").read_text()
    lines = text.splitlines()
    (tmp_path / "spaced.csv").write_text("\n".join([", ".join(lines[0].split(",")), *lines[1:]]) + "\n")
    (tmp_path / "bom_crlf.csv").write_bytes(("\ufeff" + "\r\n".join(lines[:30] + ["", ""] + lines[30:]) + "\r\n")
                                            .encode("utf-8"))
    ref = _ok_json(capsys, _est(tmp_path / "plain.csv", "cs", "--cohort", "g"))
    for name in ("spaced.csv", "bom_crlf.csv"):
        got = _ok_json(capsys, _est(tmp_path / name, "cs", "--cohort", "g"))
        assert got["estimate"] == ref["estimate"] and got["n_obs"] == ref["n_obs"]  # same rows: bit-identical


def test_meta_uses_the_same_csv_reader(tmp_path, capsys):
    pd.DataFrame({"yi": [0.1, 0.2, 0.3], "sei": [0.1, 0.1, 0.2]}).to_csv(tmp_path / "m.csv", index=False, sep=";")
    _fails(capsys, ["meta", "--data", str(tmp_path / "m.csv"), "--estimate", "yi", "--se", "sei",
                    "--method", "reml"], "semicolon-separated")


# ---------------------------------------------------------------- missing values
@pytest.mark.parametrize("design", ["covariates", "regressors"])
def test_all_missing_covariate_is_named(tmp_path, capsys, design):
    df = _frame()
    df["z"] = np.nan
    df.to_csv(tmp_path / "d.csv", index=False)
    if design == "covariates":
        _fails(capsys, _est(tmp_path / "d.csv", "cs", "--cohort", "g", "--covariates", "x,z"), "covariate 'z'")
    else:
        _fails(capsys, _est(tmp_path / "d.csv", "panel", "--regressors", "d,z"), "regressor 'z'")


@pytest.mark.parametrize("design", list(DESIGN_ARGS))
def test_missing_cluster_rows_are_dropped_and_counted_alike(tmp_path, capsys, design):
    df = _frame()
    df.loc[df["id"] == 3, "st"] = np.nan  # one unit without its cluster id (10 rows)
    df.loc[(df["id"] == 7) & (df["year"] == 2009), "st"] = np.nan  # and one row of another unit
    df.to_csv(tmp_path / "d.csv", index=False)
    doc = _ok_json(capsys, _est(tmp_path / "d.csv", design, *DESIGN_ARGS[design], "--cluster", "st"))
    assert doc["diagnostics"]["n_dropped"] == 11
    assert doc["diagnostics"]["n_dropped_missing_cluster"] == 11
    assert doc["n_clusters"] == 10  # 40 units / 4 per state; the state of unit 3 keeps units 0-2


def test_cs_refuses_units_without_cluster_id_in_python():
    from ogimpact.designs.callaway_santanna import fit_cs
    from ogimpact.panel import Panel

    df = _frame()
    df.loc[df["id"] == 3, "st"] = np.nan
    p = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="g", cluster="st", min_clusters_warn=0)
    with pytest.raises(DesignError, match="missing for every row of 1 unit"):
        fit_cs(p, cluster="st")


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("argv", [
    ["cs", "--cohort", "g", "--bootstrap", "49", "--aggregate", "dynamic"],
    ["twfe", "--treat", "d", "--wild-bootstrap", "49", "--cluster", "st"],
])
def test_bootstrap_runs_are_reproducible_by_default(tmp_path, capsys, argv):
    _frame().to_csv(tmp_path / "d.csv", index=False)
    a = _run(capsys, _est(tmp_path / "d.csv", argv[0], *argv[1:], "--json"))[1]
    b = _run(capsys, _est(tmp_path / "d.csv", argv[0], *argv[1:], "--json"))[1]
    assert a == b  # byte-identical output
    assert json.loads(a)["options"]["seed"] == 0


# ---------------------------------------------------------------- panel --model re
def test_random_effects_defaults_to_unit_effect(tmp_path, capsys):
    _frame().to_csv(tmp_path / "d.csv", index=False)
    doc = _ok_json(capsys, _est(tmp_path / "d.csv", "panel", "--regressors", "d,x", "--model", "re", "--json"))
    assert doc["options"]["effects"] == ["unit"] and doc["options"]["model"] == "re"
    # simulated effect 1 with N(0,1) noise on 400 rows: 0.35 is > 3 SEs
    assert abs(doc["estimate"] - 1.0) < 0.35
    fe = _ok_json(capsys, _est(tmp_path / "d.csv", "panel", "--regressors", "d", "--json"))
    assert fe["options"]["effects"] == ["unit", "time"]


# ---------------------------------------------------------------- messages
def test_synth_treated_unit_with_a_gap_is_named(tmp_path, capsys):
    rng = np.random.default_rng(1)
    rows = [{"u": f"unit {i}", "t": float(t), "y": rng.normal() + i} for i in range(6) for t in range(1990, 2005)]
    df = pd.DataFrame(rows)
    df = df[~((df["u"] == "unit 0") & (df["t"] == 1995))]
    df.to_csv(tmp_path / "s.csv", index=False)
    _fails(capsys, ["estimate", "synth", "--data", str(tmp_path / "s.csv"), "--outcome", "y", "--unit", "u",
                    "--time", "t", "--treated", "unit 0", "--treat-time", "2000"],
           "treated unit 'unit 0'", "1995")


def test_sensitivity_on_imputation_output_says_what_to_use(tmp_path, capsys):
    _frame().to_csv(tmp_path / "d.csv", index=False)
    rc, out, err = _run(capsys, _est(tmp_path / "d.csv", "imputation", "--cohort", "g", "--json"))
    assert rc == 0, err
    (tmp_path / "imp.json").write_text(out)
    _fails(capsys, ["sensitivity", "--event-study", str(tmp_path / "imp.json"), "--method", "rm"],
           "imputation event study", "sun-abraham")


def test_registry_its_uses_the_donor_rule(capsys):
    doc = _ok_json(capsys, ["estimate", "its", "--measure", "wgi.va", "--intervention", "rti_law",
                            "--treated", "MEX", "--json"])
    assert doc["options"]["series"] == "comparative"
    assert doc["options"]["donor_rule"]["name"] == "similar"  # the registry default (ogimpact.donors)
    excluded = doc["options"]["excluded_donors"]
    assert "MEX" not in {e["unit"] for e in excluded}
    assert excluded and all(e["reason"] and e["detail"] for e in excluded) and doc["n_units"] > 2


# ---------------------------------------------------------------- two-way clustering from a CSV
@pytest.mark.parametrize("design", ["panel", "twfe", "event-study"])
def test_two_way_cluster_from_csv(tmp_path, capsys, design):
    _frame().to_csv(tmp_path / "d.csv", index=False)
    doc = _ok_json(capsys, _est(tmp_path / "d.csv", design, *DESIGN_ARGS[design], "--cluster", "id,year"))
    assert doc["options"]["cluster"] == "id,year"
    assert doc["n_clusters"] == 10  # min(G_unit = 40, G_year = 10), as fixest reports


def test_two_way_cluster_refused_by_designs_without_it(tmp_path, capsys):
    _frame().to_csv(tmp_path / "d.csv", index=False)
    _fails(capsys, _est(tmp_path / "d.csv", "cs", "--cohort", "g", "--cluster", "st,year"), "two-way clustering")
