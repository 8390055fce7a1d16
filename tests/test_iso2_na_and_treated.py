"""ISO2 ``NA`` (Namibia) is a value on every reading path, and ``--treated`` gets the shared
unknown-unit check (issue 9: "ISO2 NA (Namibia) read as a missing id"; item 3 "unknown units in
--units, --donors, --treated named with close matches")."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.inputs import read_table
from ogimpact.parse import id_list
from ogimpact.reports.batch import load_spec

#: Southern/East African ISO2 codes; the first is Namibia's
CODES = ["NA", "ZA", "BW", "ZM", "ZW", "MZ", "AO", "LS", "SZ", "MW", "TZ", "KE"]


def _iso2_panel(path):
    rng = np.random.default_rng(1)
    rows = []
    for i, u in enumerate(CODES):
        coh = 2005 if i < 3 else (2007 if i < 6 else 0)
        for t in range(2000, 2011):
            d = int(coh > 0 and t >= coh)
            rows.append({"unit": u, "year": t, "y": rng.normal() + 0.1 * (t - 2000) + 0.5 * d + 0.3 * i,
                         "cohort": coh, "D": d})
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def _run(capsys, argv):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _one_error(capsys, argv) -> str:
    rc, out, err = _run(capsys, argv)
    assert rc == 2 and out == "", (rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ogimpact: error: "), err
    return lines[0]


# ------------------------------------------------------------------ reading paths
def test_read_table_keeps_na_code_in_a_text_id_column(tmp_path):
    p = _iso2_panel(tmp_path / "p.csv")
    df = read_table(p, id_columns=["unit"])
    assert df["unit"].isna().sum() == 0 and (df["unit"] == "NA").sum() == 11
    assert read_table(p)["unit"].isna().sum() == 11  # without the id role pandas reads NA as missing


def test_numeric_id_column_keeps_na_as_missing(tmp_path):
    """R writes a missing numeric id as NA: that stays missing (and is refused by the panel), not a unit 'NA'."""
    p = tmp_path / "n.csv"
    p.write_text("id,t,y\n1,1,0.5\n1,2,0.7\nNA,1,0.1\n2,1,0.2\n2,2,0.4\n")
    df = read_table(p, id_columns=["id"])
    assert df["id"].isna().sum() == 1 and pd.api.types.is_numeric_dtype(df["id"])


def test_estimate_csv_counts_namibia_as_a_unit(capsys, tmp_path):
    p = _iso2_panel(tmp_path / "p.csv")
    rc, out, err = _run(capsys, ["estimate", "twfe", "--data", p, "--unit", "unit", "--time", "year",
                                 "--outcome", "y", "--treat", "D", "--json"])
    assert rc == 0, err
    d = json.loads(out)
    assert d["n_units"] == 12 and d["n_obs"] == 132 and d["diagnostics"]["n_dropped"] == 0


def test_synth_treated_namibia_from_csv(capsys, tmp_path):
    p = _iso2_panel(tmp_path / "p.csv")
    rc, out, err = _run(capsys, ["estimate", "synth", "--data", p, "--unit", "unit", "--time", "year",
                                 "--outcome", "y", "--treated", "NA", "--treat-time", "2005", "--json"])
    assert rc == 0, err
    d = json.loads(out)
    assert d["n_units"] == 12 and np.isfinite(d["estimate"])
    assert "NA" not in {w["unit"] for w in d["weights"]}  # the treated unit is not its own donor


def test_diagnose_keeps_namibia(capsys, tmp_path):
    p = _iso2_panel(tmp_path / "p.csv")
    rc, out, err = _run(capsys, ["diagnose", "weights", "--data", p, "--unit", "unit", "--time", "year",
                                 "--outcome", "y", "--treat", "D", "--json"])
    assert rc == 0, err
    assert "missing" not in err


def test_meta_study_labelled_na_keeps_its_label(capsys, tmp_path):
    p = tmp_path / "m.csv"
    pd.DataFrame({"study": ["NA", "ZA", "BW", "KE"], "yi": [-0.2, -0.5, 0.1, -0.3],
                  "se": [0.1, 0.2, 0.15, 0.12]}).to_csv(p, index=False)
    rc, out, err = _run(capsys, ["meta", "--data", str(p), "--estimate", "yi", "--se", "se", "--label", "study",
                                 "--method", "reml", "--json"])
    assert rc == 0, err
    assert [s["label"] for s in json.loads(out)["studies"]] == ["NA", "ZA", "BW", "KE"]


def test_id_lists_keep_na():
    assert id_list("NA, ZA") == ["NA", "ZA"] and id_list(["NA"]) == ["NA"]


def test_registry_units_na_is_a_code_named_not_dropped(capsys, tmp_path):
    """Registry units are ISO3: ``--units NA`` is an unknown code with Namibia's ISO3 suggested."""
    line = _one_error(capsys, ["panel", "--measures", "wgi.cc", "--intervention", "rti_law",
                               "--units", "CHL,NA,ARG", "--out", str(tmp_path / "p.csv")])
    assert "--units: 'NA'" in line and "NAM" in line
    assert not (tmp_path / "p.csv").exists()


def test_registry_donors_na_is_named(capsys):
    line = _one_error(capsys, ["estimate", "synth", "--measure", "wgi.cc", "--intervention", "rti_law",
                               "--treated", "ZAF", "--donors", "NA,BWA,KEN"])
    assert "--donors: 'NA'" in line and "NAM" in line


def test_batch_spec_na_is_a_string_not_null(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("runs:\n  - {country: NA}\n  - {country: NAM}\n")
    entries, _ = load_spec(p)
    assert entries[0].params is None and "'NA' is not an ISO3 code" in entries[0].error
    assert entries[1].error is None and entries[1].params.country == "NAM"


# ------------------------------------------------------------------ --treated unknown codes
def test_csv_treated_typo_gets_close_matches(capsys, tmp_path):
    p = _iso2_panel(tmp_path / "p.csv")
    line = _one_error(capsys, ["estimate", "synth", "--data", p, "--unit", "unit", "--time", "year",
                               "--outcome", "y", "--treated", "NAM", "--treat-time", "2005"])
    assert "--treated: unknown unit(s) 'NAM' (did you mean NA" in line and "'unit' column" in line


@pytest.mark.parametrize("design", ["synth", "sdid", "its"])
def test_registry_treated_typo_gets_close_matches(capsys, design):
    line = _one_error(capsys, ["estimate", design, "--measure", "wgi.cc", "--intervention", "rti_law",
                               "--treated", "CHI"])
    assert "--treated: 'CHI'" in line and "CHL" in line


def test_assess_country_typo_gets_close_matches(capsys):
    line = _one_error(capsys, ["assess", "--intervention", "rti_law", "--measures", "wgi.cc", "--country", "CHI"])
    assert "--country: 'CHI'" in line and "CHL" in line
