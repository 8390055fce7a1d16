"""``did_multiplegt_dyn`` with ``--controls`` and ``--continuous P`` (design ``dcdh``).

Reference: tests/reference/favara_imbs_dcdh_controls (Favara & Imbs 2015 county panel, control
``Dl_hpi``).  Expected values are moderndid 0.4.1 ``did_multiplegt`` (a port of R
``DIDmultiplegtDYN``); py-did-multiplegt-dyn 0.1.9 (the Stata command's port) agrees with it to
<= 2.5e-16 on every point estimate and on the SEs of every unclustered run (see SOURCE.md for the one
documented convention difference on clustered SEs with controls).  Tolerance 1e-8: the two ports agree
to 1e-16 wherever they share a convention, so anything larger is a real difference.  The CLI path of
the full-file runs is ``test_reference_cli.py`` (accept.json of the same case).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.dcdh import fit_dcdh
from ogimpact.errors import DesignError
from ogimpact.estimation import panel_from_csv

HERE = Path(__file__).parent / "reference"
DATA = HERE / "favara_imbs_dcdh" / "data.csv"
SPECS = json.loads((HERE / "favara_imbs_dcdh_controls" / "expected.json").read_text())["specs"]
TOL = 1e-8


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(DATA)


def _fit(frame, name):
    o = SPECS[name]["options"]
    df = frame[frame.year >= 1996] if name.startswith("y96") else frame
    p = panel_from_csv("dcdh", df, unit="county", time="year", outcome="Dl_vloans_b", treat="inter_bra",
                       cluster=o.get("cluster"), covariates=o.get("controls", []))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_dcdh(p, treat="inter_bra", effects=o["effects"], placebo=o["placebo"], cluster=o.get("cluster"),
                        controls=o.get("controls"), continuous=o.get("continuous"),
                        normalized=o.get("normalized", False),
                        same_switchers=o.get("same_switchers", False)).to_dict()


def _pairs(d, ref, se=True):
    es = {r["event_time"]: r for r in d["event_study"]}
    out = [(d["estimate"], ref["ate"]["estimate"])] + ([(d["se"], ref["ate"]["se"])] if se else [])
    for r in ref["effects"] + ref["placebos"]:
        out.append((es[r["event_time"]]["estimate"], r["estimate"]))
        if se:
            out.append((es[r["event_time"]]["se"], r["se"]))
    return out


@pytest.mark.parametrize("name", sorted(SPECS))
def test_matches_moderndid(frame, name):
    d = _fit(frame, name)
    ref = SPECS[name]["moderndid"]
    worst = max(abs(a - b) for a, b in _pairs(d, ref))
    assert worst < TOL, (name, worst)
    if ref.get("p_jointplacebo") is not None:
        assert abs(d["diagnostics"]["pretrend_wald_p"] - ref["p_jointplacebo"]) < TOL


@pytest.mark.parametrize("name", sorted(SPECS))
def test_estimates_match_py_did_multiplegt_dyn(frame, name):
    """Point estimates equal the Stata port's everywhere; SEs too where no cluster meets the controls."""
    d = _fit(frame, name)
    ref = SPECS[name]["pydyn"]
    clustered_ctrl = "cluster" in SPECS[name]["options"] and SPECS[name]["max_abs_diff_all"] > 1e-12
    worst = max(abs(a - b) for a, b in _pairs(d, ref, se=not clustered_ctrl))
    assert worst < TOL, (name, worst)


def test_controls_change_the_estimate_and_report_theta(frame):
    base = _fit(frame, "ctrl_e5_p3_county")
    assert "0.0" in base["diagnostics"]["controls_theta"]
    theta = base["diagnostics"]["controls_theta"]["0.0"]["Dl_hpi"]
    assert np.isfinite(theta) and theta != 0
    assert base["options"]["controls"] == ["Dl_hpi"]
    assert base["diagnostics"]["n_dropped_missing_controls"] == 324


def _confounded_panel(seed=3, G=400, T=8):
    """Switchers' outcome trends load on a control that trends only for them; true effect 1."""
    rng = np.random.default_rng(seed)
    F = np.where(rng.random(G) < 0.5, rng.integers(3, T + 1, G), 0)
    t = np.tile(np.arange(1, T + 1), G)
    g = np.repeat(np.arange(G), T)
    Fg = np.repeat(F, T)
    sw = Fg > 0
    x = np.where(sw, 0.5 * t, 0.0) + rng.normal(0, 1, G * T)
    d = (sw & (t >= Fg)).astype(float)
    y = 1.0 * d + 2.0 * x + rng.normal(0, 0.5, G * T) + np.repeat(rng.normal(0, 1, G), T)
    return pd.DataFrame({"g": g, "t": t, "y": y, "d": d, "x": x})


def test_simulation_controls_remove_confounding():
    df = _confounded_panel()
    p = panel_from_csv("dcdh", df, unit="g", time="t", outcome="y", treat="d", covariates=["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = fit_dcdh(p, treat="d", effects=3)
        adj = fit_dcdh(p, treat="d", effects=3, controls=["x"])
    raw_b = raw.event_study.estimates
    adj_b = adj.event_study.estimates
    assert np.all(np.abs(raw_b - 1.0) > 0.5)                  # the control's trend biases the raw DiD
    assert np.all(np.abs(adj_b - 1.0) < 4 * np.sqrt(np.diag(adj.event_study.vcov)))


def test_bad_options_are_one_sentence(frame):
    p = panel_from_csv("dcdh", frame, unit="county", time="year", outcome="Dl_vloans_b", treat="inter_bra")
    with pytest.raises(DesignError, match="control column"):
        fit_dcdh(p, treat="inter_bra", controls=["nope"])
    with pytest.raises(DesignError, match="--continuous"):
        fit_dcdh(p, treat="inter_bra", continuous=0)
