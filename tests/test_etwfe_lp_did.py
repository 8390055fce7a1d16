"""ETWFE and LP-DiD beyond the reference runs.

The published references (tests/reference/mpdta_etwfe: moderndid 0.4.1 = etwfe 0.1.4 = R etwfe point
estimates; tests/reference/lpdid_testdata: Stata lpdid values, pyfixest 0.60.0 = diff-diff 3.13.0) run
through the CLI in test_reference_cli.py.  Here: Wooldridge's (2021) equivalence of not-yet-treated ETWFE
with the imputation estimator (exact algebra, 1e-10), recovery of a known effect by lp-did's
non-absorbing and pre-mean-differenced variants on a seeded simulation, and input errors.
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

REF = Path(__file__).parent / "reference"
MPDTA = ["--data", str(REF / "mpdta_etwfe" / "data.csv"), "--outcome", "lemp", "--unit", "countyreal",
         "--time", "year", "--cohort", "first.treat", "--json"]


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, (json.loads(out.getvalue()) if code == 0 and "--json" in argv else None), err.getvalue()


def test_etwfe_notyet_equals_imputation():
    _, et, _ = _run(["estimate", "etwfe", *MPDTA])
    _, imp, _ = _run(["estimate", "imputation", *MPDTA])
    assert et["estimate"] == pytest.approx(imp["estimate"], abs=1e-10)
    assert et["options"]["control"] == "notyet" and et["n_clusters"] == 500


def test_etwfe_never_control_and_dynamic_headline():
    code, d, err = _run(["estimate", "etwfe", *MPDTA, "--control", "never", "--aggregate", "dynamic"])
    assert code == 0, err
    es = {r["event_time"]: r["estimate"] for r in d["event_study"]}
    assert min(es) == 0  # post-treatment cells only, as emfx
    assert d["estimate"] == pytest.approx(np.mean([v for e, v in es.items() if e >= 0]), abs=1e-12)
    gt = d["group_time"]
    assert any(r["event_time"] < 0 for r in gt)  # never-treated controls also estimate pre-period cells


def test_etwfe_errors(tmp_path):
    df = pd.read_csv(REF / "mpdta_etwfe" / "data.csv")
    f = tmp_path / "nonever.csv"
    df[df["first.treat"] > 0].to_csv(f, index=False)
    argv = ["estimate", "etwfe", "--data", str(f), "--outcome", "lemp", "--unit", "countyreal", "--time", "year",
            "--cohort", "first.treat", "--control", "never"]
    code, _, err = _run(argv)
    assert code == 2 and "never-treated" in err
    code, _, err = _run(argv[:-2] + ["--json"])  # not-yet: the last cohort serves as control
    assert code == 0, err


def _switching(seed=3, n=300, T=20, effect=2.0):
    """Units switch on at random times and some switch off; the effect is constant."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        on = rng.integers(5, 15) if i % 3 else 10**6
        off = on + rng.integers(3, 6) if i % 2 else 10**6
        a = rng.normal()
        for t in range(T):
            d = int(on <= t < off)
            rows.append({"id": i, "t": t, "d": d, "y": a + 0.1 * t + effect * d + rng.normal()})
    return pd.DataFrame(rows)


def test_lp_did_nonabsorbing_recovers_effect(tmp_path):
    f = tmp_path / "s.csv"
    _switching().to_csv(f, index=False)
    base = ["estimate", "lp-did", "--data", str(f), "--outcome", "y", "--unit", "id", "--time", "t", "--treat", "d",
            "--window", "-3:2", "--json"]
    code, _, err = _run(base)
    assert code == 2 and "--nonabsorbing" in err
    for extra in ([], ["--pmd", "2"], ["--pmd", "max"]):
        code, d, err = _run(base + ["--nonabsorbing", "3", *extra])
        assert code == 0, err
        # truth 2.0; the pooled SE is about 0.09, so 5 SE bounds a correct estimator's miss
        assert abs(d["estimate"] - 2.0) < 5 * d["se"] and d["se"] < 0.3
        pre = [r["estimate"] for r in d["event_study"] if r["event_time"] < 0]
        assert all(abs(p) < 0.5 for p in pre)
    assert d["options"]["pmd"] == "max" and len(d["vcov"]) == 5


def test_lp_did_vcov_diagonal_is_each_horizons_crv1():
    code, d, _ = _run(["estimate", "lp-did", "--data", str(REF / "lpdid_testdata" / "data.csv"), "--outcome", "Y",
                       "--unit", "unit", "--time", "time", "--treat", "treat", "--window", "-2:1", "--json"])
    assert code == 0
    se = np.array([r["se"] for r in d["event_study"]])
    assert np.sqrt(np.diag(np.array(d["vcov"]))) == pytest.approx(se, rel=1e-12)


def test_stacked_weights_and_window_errors(tmp_path):
    """Stacked DiD: Q weights as Wing, Freedman & Hollingsworth (2024) define them; the peer check is
    tests/reference/castle_stacked (diff-diff 3.13.0)."""
    data = str(REF / "castle_stacked" / "data.csv")
    base = ["estimate", "stacked", "--data", data, "--outcome", "l_homicide", "--unit", "sid", "--time", "year",
            "--cohort", "cohort"]
    code, d, err = _run(base + ["--json"])
    assert code == 0, err
    df = pd.read_csv(data)
    g = df.groupby("sid")["cohort"].first()
    nd = {a: int((g == a).sum()) for a in (2006, 2007)}
    nc = {a: int(((g == 0) | (g > a + 3)).sum()) for a in (2006, 2007)}
    for a in (2006, 2007):
        q = (nd[a] / sum(nd.values())) / (nc[a] / sum(nc.values()))
        assert d["diagnostics"]["control_weights"][str(a)] == pytest.approx(q, rel=1e-12)
    assert d["diagnostics"]["dropped_sub_experiments"] == [2008, 2009, 2010]
    code, _, err = _run(base + ["--window", "0:3"])
    assert code == 2 and "-1" in err


# pyfixest 0.60.0 (PyPI, throwaway venv, 2026-12-02):
#   fepois("emp ~ i(cell, ref='none') | ft + year", vcov={"CRV1": "countyreal"}) on mpdta with
#   emp = round(exp(lemp)), cell = cohort_year for treated cells (t >= cohort) -- R etwfe's Poisson
#   specification (cohort and year effects).  Tolerance: coefficients 1e-9, SEs rel 1e-6 (pyfixest's IRLS
#   stops at its own deviance tolerance; measured agreement 1.3e-13 / 1.2e-9).
PYFIXEST_FEPOIS = {"2004:2004": (-0.00804994959550718, 0.010114194548331795),
                   "2004:2007": (-0.0672208266517652, 0.01927468752113426),
                   "2006:2006": (0.05521198164674926, 0.03309479077613611),
                   "2007:2007": (-0.060674976909775045, 0.015021435006012983)}


def test_etwfe_poisson_coefficients_equal_pyfixest_fepois(tmp_path):
    df = pd.read_csv(REF / "mpdta_etwfe" / "data.csv")
    df["emp"] = np.round(np.exp(df["lemp"])).astype(int)
    f = tmp_path / "emp.csv"
    df.to_csv(f, index=False)
    base = ["estimate", "etwfe", "--data", str(f), "--outcome", "emp", "--unit", "countyreal", "--time", "year",
            "--cohort", "first.treat", "--json"]
    code, d, err = _run(base + ["--family", "poisson"])
    assert code == 0, err
    terms = {t["term"]: t for t in d["terms"]}
    for cell, (b, se) in PYFIXEST_FEPOIS.items():
        assert terms[f"cell::{cell}"]["estimate"] == pytest.approx(b, abs=1e-9)
        assert terms[f"cell::{cell}"]["se"] == pytest.approx(se, rel=1e-6)
    # the headline is an average effect on the outcome scale (emfx): a count, not a log coefficient
    gt = {(r["group"], r["time"]): r["estimate"] for r in d["group_time"]}
    sub = df[(df["first.treat"] == 2004) & (df.year == 2004)]
    b = PYFIXEST_FEPOIS["2004:2004"][0]
    assert gt[(2004, 2004)] < 0 and abs(gt[(2004, 2004)]) < abs(b) * sub["emp"].mean() * 1.01
    df["hi"] = (df["lemp"] > df["lemp"].median()).astype(int)
    df.to_csv(f, index=False)
    code, d, err = _run([*base[:5], "hi", *base[6:], "--family", "logit"])
    assert code == 0, err
    assert -1 < d["estimate"] < 1 and d["options"]["link"] == "logit"
