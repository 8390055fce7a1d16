"""Equally-weighted (reweighted) LP-DiD, ``lp-did --reweight`` (Dube, Girardi, Jordà & Taylor 2023).

References on lpdidtestdata1 (tests/reference/lpdid_testdata, SOURCE.md):
- diff-diff 3.13.0 ``LPDiD(reweight=True)`` event study, pooled effect and SEs (expected_reweight.json);
  tolerance 1e-8 (observed agreement 5e-13: same estimator, summation-order noise only);
- the identity of DGJT (2023, Section 3): for h >= 0 reweighted LP-DiD equals Callaway–Sant'Anna with
  not-yet-treated controls aggregated by event time (``cs --control notyet --aggregate dynamic``, itself
  tested against R ``did``); tolerance 1e-9 (two different code paths, float noise ~1e-14).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.estimation import estimate, panel_from_csv

CASE = Path(__file__).parent / "reference" / "lpdid_testdata"
REF = json.loads((CASE / "expected_reweight.json").read_text())["specs"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(CASE / "data.csv")


def _fit(design, data, **kw):
    cols = dict(treat="treat") if design == "lp-did" else dict(cohort="cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = panel_from_csv(design, data, unit="unit", time="time", outcome="Y", **cols)
        return estimate(design, p, **kw)


def _lp(data, **kw):
    return _fit("lp-did", data, window=(-5, 10), reweight=True, **kw)


@pytest.mark.parametrize("name,pmd", [("rw_m5_10", None), ("rw_pmd_max", "max"), ("rw_pmd_3", 3)])
def test_matches_diff_diff(data, name, pmd):
    r = _lp(data, pmd=pmd).to_dict()
    ref = REF[name]
    es = {e["event_time"]: e for e in r["event_study"]}
    for e in ref["event_study"]:
        if e["event_time"] == -1:
            continue
        got = es[e["event_time"]]
        assert abs(got["estimate"] - e["estimate"]) < 1e-8
        assert abs(got["se"] - e["se"]) < 1e-8
        assert r["diagnostics"]["n_by_event_time"][str(e["event_time"])] == e["n"]
    assert abs(r["estimate"] - ref["pooled_post"]["estimate"]) < 1e-8
    assert abs(r["se"] - ref["pooled_post"]["se"]) < 1e-8
    assert r["options"]["reweight"] is True


def test_post_horizons_equal_callaway_santanna_not_yet(data):
    lp = _lp(data).to_dict()
    d = data.copy()
    d["cohort"] = d["event_date"].fillna(0)
    cs = _fit("cs", d, control="notyet", aggregate="dynamic").to_dict()
    le = {e["event_time"]: e["estimate"] for e in lp["event_study"]}
    ce = {e["event_time"]: e["estimate"] for e in cs["event_study"]}
    for h in range(0, 11):
        assert abs(le[h] - ce[h]) < 1e-9, h


def test_reweighting_targets_the_equally_weighted_att(data):
    """The simulated effects grow with the event time and differ by cohort: the reweighted estimate is within
    4 SE of the true equally-weighted ATT at every horizon; it differs from the variance-weighted one."""
    lp = _lp(data)
    vw = _fit("lp-did", data, window=(-5, 10))
    truth = data[(data.event_time >= 0) & (data.event_time <= 10)].groupby("event_time")["effect"].mean()
    es = lp.event_study
    se = np.sqrt(np.diag(es.vcov))
    for h in range(0, 11):
        i = es.event_times.index(h)
        assert abs(es.estimates[i] - truth[h]) < 4 * se[i]
    assert abs(lp.estimate - vw.estimate) > 0.1
