"""Registry use of the non-absorbing and dose designs (issue 14, item 7): OGP exits, RTI Rating doses.

The estimators are validated elsewhere (test_dcdh*.py, test_lp_did_reweight.py, test_continuous*.py);
these tests check that registry mode feeds them the right treatment: OGP leavers switch off in the
treat column (Tanzania and Turkey 2017, Hungary 2016 — data/raw/ogp_membership_timing, sourced per
row) and the RTI dose is the bundled RTI Rating total of each country's law (data/raw/rti_rating).
Registry runs must equal the same estimator on the same frame built by hand (exact, 1e-12).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.dcdh import fit_dcdh
from ogimpact.designs.registry_designs import (ASSUMPTIONS, fit_ogp_exits, fit_rti_dose_response,
                                               nonabsorbing_and_dose_results)
from ogimpact.data.paths import raw_dir
from ogimpact.estimation import panel_from_csv, registry_panel


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def test_ogp_leavers_switch_off_and_are_dcdh_switchers_out():
    p = _quiet(registry_panel, "dcdh", measure="wgi.va", intervention="ogp_member", years=(2012, 2023))
    f = p.frame
    for iso, year in (("TZA", 2017), ("TUR", 2017), ("HUN", 2016)):
        g = f[f[p.unit] == iso].set_index(p.time)["treat"]
        assert g.loc[year - 1] == 1 and g.loc[year:].eq(0).all(), iso
    r = _quiet(fit_dcdh, p, effects=3, placebo=2)
    assert r.diagnostics["n_switchers_out"] >= 2          # TZA and TUR start 2012 as members and leave in 2017
    by_hand = _quiet(panel_from_csv, "dcdh", f[[p.unit, p.time, p.outcome, "treat"]].copy(), unit=p.unit,
                     time=p.time, outcome=p.outcome, treat="treat")
    r2 = _quiet(fit_dcdh, by_hand, treat="treat", effects=3, placebo=2)
    assert r.estimate == pytest.approx(r2.estimate, abs=1e-12)
    assert r.se == pytest.approx(r2.se, abs=1e-12)


def test_lp_did_nonabsorbing_from_registry_keeps_consecutive_years():
    r = _quiet(fit_ogp_exits, "wgi.va", design="lp-did")
    assert np.isfinite(r.estimate) and np.isfinite(r.se)
    assert r.options["nonabsorbing"] == 2
    assert any(w["code"] == "treatment_exit" for w in r.to_dict()["diagnostics"]["warnings"])


def test_rti_dose_is_the_bundled_rating():
    p = _quiet(registry_panel, "continuous", measure="wgi.va", intervention="rti_law")
    raw = pd.read_csv(raw_dir() / "rti_rating" / "rti_law_year_and_rating.csv")
    raw = raw.set_index("iso3")["rti_rating_total"]
    f = p.frame.groupby(p.unit).first()
    treated = f[f["cohort"].fillna(0) > 0]
    assert len(treated) > 50
    for iso in treated.index[:40]:
        assert treated.loc[iso, "rti_rating_total"] == pytest.approx(float(raw.loc[iso])), iso
    assert (f.loc[f["cohort"].fillna(0) == 0, "rti_rating_total"] == 0).all()
    r = _quiet(fit_rti_dose_response, "wgi.va")
    assert r.options.get("degree") == 1 and np.isfinite(r.estimate)


def test_report_helper_returns_results_with_assumptions():
    rows = nonabsorbing_and_dose_results("vdem.v2x_partipdem", "ogp_member")
    assert [r["design"] for r in rows] == ["dcdh", "lp-did"]
    for r in rows:
        assert r["assumes"] == ASSUMPTIONS[r["design"]]
        assert "result" in r and np.isfinite(r["result"]["estimate"]), r.get("error")
    assert nonabsorbing_and_dose_results("wgi.va", "open_up_guide") == []
    bad = nonabsorbing_and_dose_results("wgi.va", "rti_law", years=(2030, 2031))
    assert bad[0]["design"] == "continuous" and "error" in bad[0]


def test_registry_dcdh_takes_controls_from_the_measures():
    import contextlib
    import io
    import json

    from ogimpact.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["estimate", "dcdh", "--measure", "wgi.va", "--intervention", "ogp_member", "--years", "2012:2023",
                     "--effects", "2", "--controls", "wdi.u5_mort", "--json"]) == 0
    d = json.loads(out.getvalue())
    p = _quiet(registry_panel, "dcdh", measure="wgi.va", intervention="ogp_member", years=(2012, 2023),
               covariates=["wdi.u5_mort"])
    r = _quiet(fit_dcdh, p, effects=2, controls=["wdi.u5_mort"])
    assert d["options"]["controls"] == ["wdi.u5_mort"]
    assert d["estimate"] == pytest.approx(r.estimate, abs=1e-12) and d["se"] == pytest.approx(r.se, abs=1e-12)
