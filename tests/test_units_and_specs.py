"""Unknown unit codes and hostile batch specs are named, not ignored (issue 9, items 3 and 5)."""
from __future__ import annotations

import pandas as pd
import pytest

from ogimpact.cli import main
from ogimpact.errors import OgimpactError, UsageError
from ogimpact.reports.batch import load_spec
from ogimpact.inputs import unknown_units


def _err(capsys, argv) -> str:
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, err)
    assert len(err.strip().splitlines()) == 1
    return err


def test_unknown_unit_names_close_codes():
    with pytest.raises(UsageError, match=r"'CHI' \(did you mean CHE, CHL, CHN"):
        unknown_units(["CHI", "ARG"], ["ARG", "CHE", "CHL", "CHN", "PER"], flag="--donors")
    unknown_units(["ARG"], ["ARG", "CHL"], flag="--donors")  # known codes pass


def test_registry_units_typo_is_refused(capsys):
    err = _err(capsys, ["estimate", "synth", "--measure", "wgi.cc", "--intervention", "rti_law",
                        "--units", "CHI,ARG,BRA,COL,PER", "--treated", "ARG"])
    assert "--units: 'CHI'" in err and "CHL" in err


def test_registry_donor_typo_is_refused(capsys):
    err = _err(capsys, ["estimate", "synth", "--measure", "wgi.cc", "--intervention", "rti_law",
                        "--treated", "ARG", "--donors", "CHI,BRA,COL"])
    assert "--donors" in err and "'CHI'" in err and "CHL" in err


def test_csv_donor_typo_is_refused(capsys, tmp_path):
    rows = [{"unit": u, "t": t, "y": float(t + i)} for i, u in enumerate(["A", "B", "C", "D"]) for t in range(10)]
    p = tmp_path / "s.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    err = _err(capsys, ["estimate", "synth", "--data", str(p), "--outcome", "y", "--unit", "unit", "--time", "t",
                        "--treated", "A", "--treat-time", "6", "--donors", "B,Q"])
    assert "unknown unit(s) 'Q'" in err


def test_billion_laughs_spec_is_refused_with_a_short_message(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("runs: [*i]")
    p = tmp_path / "laughs.yaml"
    p.write_text("\n".join(lines) + "\n")
    assert p.stat().st_size < 1500
    with pytest.raises(OgimpactError, match="YAML aliases") as exc:
        load_spec(p)
    assert len(str(exc.value)) < 400


def test_batch_spec_folder_is_named(tmp_path):
    with pytest.raises(OgimpactError, match="is a folder"):
        load_spec(tmp_path)


def test_out_under_a_file_is_a_usage_error(capsys, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    err = _err(capsys, ["panel", "--measures", "wgi.cc", "--intervention", "rti_law", "--out", str(f / "p.csv")])
    assert "existing file" in err and "internal error" not in err


def test_disk_full_is_a_failed_run_not_internal_error(capsys, tmp_path, monkeypatch):
    import errno

    from ogimpact.cli import panel_cmds

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(panel_cmds, "atomic_write_text", full)
    rc = main(["panel", "--measures", "wgi.cc", "--intervention", "rti_law", "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert rc == 1 and "no space left" in err and "internal error" not in err
