"""Issue 9 defects that had no regression test of their own (found by auditing every "Why" and "Also
seen" bullet against tests/): each fails on the main of the issue (wrong number, "internal error" or a
silently lying report) and gives one clear sentence, or the right result, now."""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.data import manifest as man
from ogimpact.errors import RunError
from ogimpact.reports import runner
from ogimpact.reports.params import EvidenceParams

REF = Path(__file__).parent / "reference"


def _panel(n_units=30, years=range(2000, 2010), seed=0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), len(years))
    year = np.tile(np.array(years), n_units)
    g = np.array([0, 2004, 2006])[unit % 3]
    d = ((g > 0) & (year >= g)).astype(int)
    return pd.DataFrame({"id": unit, "year": year, "y": r.normal(size=unit.size) + d, "d": d, "g": g})


def _fails(capsys, argv, *words, code=2) -> str:
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == code, (rc, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in lines[0], err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


# ------------------------------------------------------------------ "Infinite or absurd outcome values"
_DESIGN_ARGS = {
    "cs": ["--cohort", "g"],  # was: a null headline and a pre-trend p-value on fewer cells
    "sun-abraham": ["--cohort", "g"],
    "synth": ["--treated", "1", "--treat-time", "2004"],  # was: "control outcomes do not vary"
    "sdid": ["--treated", "1", "--treat-time", "2004"],
    "its": ["--treated", "1", "--treat-time", "2004"],
}


@pytest.mark.parametrize("value, words", [("inf", ["infinite"]), ("-inf", ["infinite"]), (1e300, ["beyond"])])
@pytest.mark.parametrize("design", sorted(_DESIGN_ARGS))
def test_infinite_or_absurd_outcome_is_named_for_every_design(capsys, tmp_path, design, value, words):
    df = _panel()
    df["y"] = df["y"].astype(object)
    df.loc[12, "y"] = value  # unit 1 (treated in 2004), year 2002
    p = tmp_path / "bad.csv"
    df.to_csv(p, index=False)
    argv = ["estimate", design, "--data", str(p), "--outcome", "y", "--unit", "id", "--time", "year",
            *_DESIGN_ARGS[design], "--json"]
    _fails(capsys, argv, "outcome 'y'", "row 14", *words)


# ------------------------------------------------------------------ warnings in --json mode
def test_thin_cohort_and_dropped_row_warnings_are_in_the_json_document(capsys, tmp_path):
    castle = pd.read_csv(REF / "castle_cs" / "data.csv")
    castle.loc[castle.index[5], "l_homicide"] = np.nan
    p = tmp_path / "castle.csv"
    castle.to_csv(p, index=False)
    rc = main(["estimate", "cs", "--data", str(p), "--outcome", "l_homicide", "--unit", "sid", "--time", "year",
               "--cohort", "cohort", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == "", err
    codes = [w["code"] for w in json.loads(out)["diagnostics"]["warnings"]]
    assert "small_cohort" in codes and "rows_dropped" in codes


# ------------------------------------------------------------------ environment failures
def test_read_only_output_is_a_usage_error_naming_the_path(capsys, tmp_path, monkeypatch):
    from ogimpact.cli import panel_cmds

    target = tmp_path / "ro" / "p.csv"

    def denied(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(panel_cmds, "atomic_write_text", denied)  # tests run as root: chmod would not stop us
    _fails(capsys, ["panel", "--measures", "wgi.cc", "--intervention", "rti_law", "--out", str(target)],
           "cannot write", "p.csv", "writable --out")


def test_report_out_pointing_at_a_file_is_a_usage_error(capsys, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    _fails(capsys, ["report", "evidence", "--out", str(f)], "existing file")


def test_report_on_a_missing_bundled_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(man, "verify", lambda: [man.Problem("missing", "raw/wgi/wgi_country_year.csv")])
    with pytest.raises(RunError, match=r"raw/wgi/wgi_country_year.csv \(missing.*--allow-modified-data"):
        runner.run_report(EvidenceParams(), out_root=tmp_path)
    assert not any(tmp_path.rglob("manifest.json"))


def _fake_execute(nb_in, nb_out, parameters=None, **kw):
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(), nb_out)
    (Path(parameters["output_dir"]) / "results.json").write_text(json.dumps({"headline": {}}))


def test_allow_modified_data_is_recorded_in_the_manifest_and_shown(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute)
    monkeypatch.setattr(man, "verify", lambda: [man.Problem("changed", "raw/wgi/wgi_country_year.csv",
                                                            "sha256 differs from the manifest")])
    o = runner.run_report(EvidenceParams(), out_root=tmp_path, allow_modified_data=True)
    m = json.loads((o.path / "manifest.json").read_text())
    assert m["status"] == "ok" and any("wgi_country_year.csv" in x for x in m["data_modified"])
    assert "Built on modified bundled data" in (o.path / "report.html").read_text()


@pytest.mark.parametrize("mask, mode", [(0o022, 0o755), (0o027, 0o750)])
def test_report_folders_follow_the_umask(tmp_path, monkeypatch, mask, mode):
    """Was: 0700 (``mkdtemp``) whatever the umask."""
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute)
    monkeypatch.setattr(runner, "bundled_data_problems", lambda: [])
    old = os.umask(mask)
    try:
        o = runner.run_report(EvidenceParams(), out_root=tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(o.path.stat().st_mode) == mode


@pytest.mark.parametrize("text", ['path,bytes,sha256,source\nraw/x,1,"unterminated\n',
                                  "path,bytes,sha256,source\nraw/x,abc,d,e\n"])
@pytest.mark.parametrize("cmd", [["data", "verify"], ["data", "list"]])
def test_corrupt_manifest_is_named_by_the_data_commands(capsys, tmp_path, monkeypatch, cmd, text):
    """Was: "internal error (ParserError ...) please report it"."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "manifest.csv").write_text(text)
    monkeypatch.setenv("OGIMPACT_DATA_DIR", str(tmp_path))
    _fails(capsys, cmd, "manifest.csv is not a readable manifest", "restore it")


def test_impossible_wild_bootstrap_is_refused_before_allocating(capsys, tmp_path):
    """Was: "internal error (MemoryError: Unable to allocate 373. GiB ...)" for ``--wild-bootstrap 100000000``."""
    p = tmp_path / "d.csv"
    _panel(n_units=60).to_csv(p, index=False)
    argv = ["estimate", "twfe", "--data", str(p), "--outcome", "y", "--unit", "id", "--time", "year",
            "--treat", "d", "--wild-bootstrap", str(10 ** 12), "--json"]
    _fails(capsys, argv, "--wild-bootstrap", "GiB", "use at most")


def test_failed_report_message_names_only_files_that_exist(tmp_path, monkeypatch):
    """A kernel that dies before writing the notebook: the message must not point at a report.ipynb."""
    import re

    import papermill

    def dies(*a, **k):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", dies)
    monkeypatch.setattr(runner, "bundled_data_problems", lambda: [])
    with pytest.raises(runner.ReportFailed) as exc:
        runner.run_report(EvidenceParams(), out_root=tmp_path)
    msg, failed = str(exc.value), exc.value.path
    assert "Kernel died" in msg and "report.ipynb" not in msg and not (failed / "report.ipynb").exists()
    named = re.search(r"; (.*) kept in ", msg).group(1).split(", ")
    assert "manifest.json" in named and all((failed / n).exists() for n in named)
