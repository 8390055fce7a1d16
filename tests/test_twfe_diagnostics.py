"""Goodman-Bacon decomposition and de Chaisemartin-D'Haultfoeuille weights (``ogimpact diagnose``).

The castle-doctrine reference (tests/reference/castle_bacon, SOURCE.md) holds R bacondecomp 0.1.3
(= diff-diff 3.13.0 to 1e-15) and R TwoWayFEWeights 2.0.4 (= twowayfeweights 0.1.0 to 5e-16);
the 25 bacon rows, n_negative, sum_negative, sigma_fe and the TWFE coefficient are checked through
the CLI by test_reference_cli.py.  Here: the 74 per-cell weights, the weight identity, and errors.
Tolerance 1e-10: both references agree to 1e-15 and our numbers are closed-form means.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.cli import main

CASE = Path(__file__).parent / "reference" / "castle_bacon"
ARGS = ["--data", str(CASE / "data.csv"), "--outcome", "l_homicide", "--unit", "sid", "--time", "year",
        "--treat", "post", "--json"]


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cell_weights_equal_twowayfeweights():
    code, out, _ = _run(["diagnose", "weights", *ARGS])
    assert code == 0
    doc = json.loads(out)
    ref = json.loads((CASE / "expected.json").read_text())["weights"]["treated_cell_weights_R"]
    got = {(c["unit"], c["time"]): c["weight"] for c in doc["cells"]}
    assert len(got) == len(ref) == 74
    for r in ref:
        assert got[(r["sid"], r["year"])] == pytest.approx(r["weight"], abs=1e-10)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)


def test_bacon_weights_sum_to_one_and_rebuild_twfe(tmp_path):
    png = tmp_path / "bacon.png"
    code, out, _ = _run(["diagnose", "bacon", *ARGS, "--plot", str(png)])
    assert code == 0 and png.stat().st_size > 1000
    doc = json.loads(out)
    w = np.array([r["weight"] for r in doc["decomposition"]])
    b = np.array([r["estimate"] for r in doc["decomposition"]])
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert (w * b).sum() == pytest.approx(doc["estimate"], abs=1e-12)
    summ = {r["type"]: r for r in doc["summary"]}
    # R bacon_summary() printed values (SOURCE.md), 5 decimals
    assert summ["Treated vs Untreated"]["weight"] == pytest.approx(0.89881, abs=5e-6)
    assert summ["Earlier vs Later Treated"]["avg_estimate"] == pytest.approx(-0.02858, abs=5e-6)


def _stagger(seed=0):
    """Two early cohorts with growing effects: the textbook case with negative TWFE weights."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(30):
        g = [3, 6, 0][i % 3]
        for t in range(1, 11):
            d = int(g > 0 and t >= g)
            rows.append({"id": i, "t": t, "d": d, "y": rng.normal() + d * (t - g + 1)})
    return pd.DataFrame(rows)


def test_negative_weights_detected_without_never_treated(tmp_path):
    df = _stagger()
    df = df[df.id % 3 != 2]  # drop the never treated: late cells get negative weight
    f = tmp_path / "d.csv"
    df.to_csv(f, index=False)
    code, out, err = _run(["diagnose", "weights", "--data", str(f), "--outcome", "y", "--unit", "id", "--time", "t",
                           "--treat", "d", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    w = np.array([c["weight"] for c in doc["cells"]])
    assert doc["n_negative"] == int((w < 0).sum()) > 0
    assert doc["sum_negative"] == pytest.approx(w[w < 0].sum())
    # the weights reproduce beta as a weighted sum of each treated cell's outcome minus its FE fit
    code, out, _ = _run(["diagnose", "bacon", "--data", str(f), "--outcome", "y", "--unit", "id", "--time", "t",
                         "--treat", "d", "--json"])
    bac = json.loads(out)
    assert {r["type"] for r in bac["decomposition"]} == {"Earlier vs Later Treated", "Later vs Earlier Treated"}
    assert bac["estimate"] == pytest.approx(doc["estimate"], abs=1e-12)


def test_bacon_refuses_unbalanced_and_nonabsorbing(tmp_path):
    df = _stagger()
    f = tmp_path / "u.csv"
    df.iloc[1:].to_csv(f, index=False)
    code, _, err = _run(["diagnose", "bacon", "--data", str(f), "--outcome", "y", "--unit", "id", "--time", "t",
                         "--treat", "d"])
    assert code == 2 and "balanced" in err
    df2 = df.copy()
    df2.loc[(df2.id == 0) & (df2.t == 10), "d"] = 0
    df2.to_csv(f, index=False)
    code, _, err = _run(["diagnose", "bacon", "--data", str(f), "--outcome", "y", "--unit", "id", "--time", "t",
                         "--treat", "d"])
    assert code == 2 and "absorbing" in err
