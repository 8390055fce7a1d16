"""Reports cannot lie about their data or leave debris (issue 9, item 6); no notebook is executed here."""
from __future__ import annotations

import os
import time

import pytest

from ogimpact.cli import main
from ogimpact.data import manifest as man
from ogimpact.errors import RunError
from ogimpact.reports import runner
from ogimpact.reports.params import EvidenceParams


def _modified(monkeypatch):
    monkeypatch.setattr(man, "verify", lambda: [man.Problem("changed", "raw/wgi/wgi_country_year.csv",
                                                            "sha256 differs from the manifest"),
                                                man.Problem("unlisted", "raw/wgi/notes.txt")])


def test_report_on_modified_bundled_data_is_refused_naming_the_file(tmp_path, monkeypatch):
    _modified(monkeypatch)
    with pytest.raises(RunError, match=r"raw/wgi/wgi_country_year.csv \(changed.*--allow-modified-data"):
        runner.run_report(EvidenceParams(), out_root=tmp_path)
    assert not any(tmp_path.rglob("manifest.json"))  # nothing run, nothing written


def test_cli_report_on_modified_data_exits_1(tmp_path, monkeypatch, capsys):
    _modified(monkeypatch)
    rc = main(["report", "evidence", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and "wgi_country_year.csv" in err and "internal error" not in err


def test_corrupt_manifest_is_a_named_failure(monkeypatch):
    def broken():
        raise ValueError("invalid literal for int() with base 10: 'abc'")

    monkeypatch.setattr(man, "verify", broken)
    with pytest.raises(RunError, match="data/manifest.csv cannot be read"):
        runner.bundled_data_problems()


def test_unmodified_data_has_no_problems():
    assert runner.bundled_data_problems() == []


def test_stale_temp_folders_of_the_slug_are_cleaned(tmp_path):
    old = tmp_path / ".chl.tmp-abc"
    fresh = tmp_path / ".chl.tmp-def"
    other = tmp_path / ".mex.tmp-abc"
    for d in (old, fresh, other):
        d.mkdir()
    past = time.time() - 7 * 3600
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    runner._clean_stale_tmp(tmp_path, "chl")
    # folders without an owner in their name (older layout): removed when older than 6 h, whatever the slug
    assert not old.exists() and fresh.exists() and not other.exists()


def test_banner_names_modified_files(tmp_path):
    p = tmp_path / "report.html"
    p.write_text("<html><body class='x'><h1>Report</h1></body></html>")
    runner._banner(p, ["raw/wgi/wgi_country_year.csv (changed)"])
    text = p.read_text()
    assert text.index("Built on modified bundled data") < text.index("<h1>")
    assert "wgi_country_year.csv" in text


def _spec(tmp_path, text):
    p = tmp_path / "spec.yaml"
    p.write_text(text)
    return p


def test_batch_entries_sharing_a_folder_are_refused_before_running(tmp_path, monkeypatch):
    from ogimpact.errors import OgimpactError
    from ogimpact.reports import batch

    monkeypatch.setattr(batch, "_run_one", lambda *a, **k: pytest.fail("a report ran"))
    # entries differing in years or seed now get their own folders (slug hash, tests/test_batch_folders.py);
    # a genuine collision (the same parameters twice) is still refused before anything runs
    p = _spec(tmp_path, "runs:\n  - {country: CHL, seed: 3}\n  - {country: CHL, seed: 3}\n")
    with pytest.raises(OgimpactError, match=r"entries 0 and 1 would both write .*they are identical"):
        batch.run_batch(p, out_root=tmp_path / "out", progress=False)


def test_batch_string_boolean_is_an_error(tmp_path):
    from ogimpact.reports.batch import load_spec

    entries, _ = load_spec(_spec(tmp_path, 'runs:\n  - {country: CHL, placebo: "false"}\n  - {country: MEX, seed: "1"}\n'))
    assert "'placebo' must be true or false" in entries[0].error
    assert "'seed' must be a whole number" in entries[1].error
    entries, _ = load_spec(_spec(tmp_path, "runs:\n  - {country: CHL, placebo: false}\n"))
    assert entries[0].error is None and entries[0].params.placebo is False
