"""CLI: data list/verify, measures, interventions [show]."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ogimpact import data
from ogimpact.cli import main


def run(*args, env=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "ogimpact", *args], capture_output=True, text=True, env=e)


def test_data_list_json(capsys):
    assert main(["data", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ids = {s["id"] for s in doc["sources"]}
    assert {"wgi", "ti_cpi", "vdem", "brazil_ebt_cgu"} <= ids
    for s in doc["sources"]:
        assert {"id", "publisher", "licence", "files", "rows", "years"} <= set(s)


def test_data_list_table(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "CC BY-ND 4.0" in out and out.splitlines()[0].split()[:2] == ["id", "publisher"]


def test_data_verify_ok(capsys):
    assert main(["data", "verify"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("OK")


@pytest.fixture
def data_copy(tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(data.data_dir(), dst)
    return dst


def test_data_verify_detects_one_byte_change(data_copy):
    target = data_copy / "raw" / "wgi" / "wgi_country_year.csv"
    target.chmod(0o644)
    b = bytearray(target.read_bytes())
    b[100] = ord("9") if b[100] != ord("9") else ord("8")
    target.write_bytes(bytes(b))
    r = run("data", "verify", env={"OGIMPACT_DATA_DIR": str(data_copy)})
    assert r.returncode == 1
    assert "raw/wgi/wgi_country_year.csv" in r.stderr and "changed" in r.stderr


def test_data_verify_detects_missing(data_copy):
    (data_copy / "raw" / "rti_rating" / "rti_law_year_and_rating.csv").unlink()
    r = run("data", "verify", env={"OGIMPACT_DATA_DIR": str(data_copy)})
    assert r.returncode == 1 and "missing: raw/rti_rating/rti_law_year_and_rating.csv" in r.stderr


def test_measures(capsys):
    assert main(["measures", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["measures"]) >= 35
    assert main(["measures", "--domain", "knowledge/awareness", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["measures"] and all(m["domain"] == "knowledge/awareness" for m in doc["measures"])
    assert main(["measures"]) == 0
    assert "wgi.cc" in capsys.readouterr().out


def test_interventions(capsys):
    assert main(["interventions", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "rti_law" in {i["id"] for i in doc["interventions"]}
    assert main(["interventions", "show", "ogp_member", "--variant", "first_action_plan", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"] == "first_action_plan"
    chl = [r for r in doc["timing"] if r["unit"] == "CHL"][0]
    assert chl["cohort"] == 2012 and chl["exited"] is None
    assert main(["interventions", "show", "rti_law"]) == 0
    assert "CHL" in capsys.readouterr().out


def test_json_stdout_is_one_document():
    r = run("interventions", "show", "brazil_lai_regulation", "--json")
    assert r.returncode == 0
    json.loads(r.stdout)
    assert "NaN" not in r.stdout


@pytest.mark.parametrize("args", [
    ["interventions", "show", "nope"],
    ["interventions", "show", "rti_law", "--variant", "nope"],
    ["measures", "--domain", "nope"],
])
def test_bad_input_exits_2(args):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("ogimpact: error:") and len(r.stderr.strip().splitlines()) == 1
