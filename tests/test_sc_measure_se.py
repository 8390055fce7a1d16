"""``pre_rmspe_ratio_se`` on registry runs: pre-RMSPE over the treated unit's mean published SE.

The WGI publish a standard error with every estimate (Kaufmann, Kraay & Mastruzzi 2010); the
registry synth/sdid runs divide the pre-period RMSPE by the treated unit's mean SE over the
pre-period years (issue 11 item 7).  Checked against the definition with the SEs read directly
from the bundled data (measures.load), not through the design.
"""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from ogimpact import measures
from ogimpact.cli import main


def _cli(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(argv) == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize("design", ["synth", "sdid"])
def test_registry_run_reports_ratio_to_published_se(design):
    d = _cli(["estimate", design, "--measure", "wgi.cc", "--intervention", "rti_law", "--treated", "CHL", "--json"])
    tt = d["options"]["treat_time"]
    df = measures.load(["wgi.cc"], units=["CHL"])
    se = df.loc[df["year"] < tt, "se"].dropna().mean()
    diag = d["diagnostics"]
    assert diag["measure_se"] == pytest.approx(se, rel=1e-12)
    assert diag["pre_rmspe_ratio_se"] == pytest.approx(diag["pre_rmspe"] / se, rel=1e-12)
    if design == "synth":  # and pre_rmspe is the RMS of the reported pre-period gaps
        gaps = [g["gap"] for g in d["gaps"] if g["time"] < tt]
        assert diag["pre_rmspe"] == pytest.approx((sum(g * g for g in gaps) / len(gaps)) ** 0.5, rel=1e-12)


def test_csv_run_has_no_published_se():
    from pathlib import Path

    data = Path(__file__).parent / "reference" / "germany_scpi" / "data.csv"
    d = _cli(["estimate", "synth", "--data", str(data), "--outcome", "gdp", "--unit", "country", "--time", "year",
              "--treated", "West Germany", "--treat-time", "1991", "--json"])
    assert "pre_rmspe_ratio_se" not in d["diagnostics"] and "pre_rmspe_ratio_sd" in d["diagnostics"]
