"""Callaway & Sant'Anna (2021) staggered DiD (``fit_cs``) against R ``did`` and by simulation.

Reference numbers: ``tests/reference/mpdta`` (R did 2.x ``att_gt`` + ``aggte`` on the
minimum-wage panel; see its SOURCE.md).  Each accept.json check carries its own
tolerance (1e-8 for the full-precision R output, 1e-9 for the 10-decimal crosswalk,
5e-5 for the README's 4 decimals, rtol 0.15 for random bootstrap SEs).
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.designs.callaway_santanna import att_gt, did_batch, fit_cs, _prepare
from ogimpact.errors import DesignError
from ogimpact.panel import Panel, PanelWarning

REF = Path(__file__).parent / "reference" / "mpdta"
DATA = pd.read_csv(REF / "data.csv")
ACCEPT = json.loads((REF / "accept.json").read_text())
EXPECTED = json.loads((REF / "expected.json").read_text())


def _panel(df=DATA, covariates=(), **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        return Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat",
                                covariates=list(covariates), **kw)


def _get(doc, path):
    """Resolve an accept.json path such as ``group_time[group=2004,time=2005].se``."""
    cur = doc
    for part in re.findall(r"[^.\[\]]+(?:\[[^\]]*\])?", path):
        key, filt = re.match(r"([^\[]+)(?:\[([^\]]*)\])?", part).groups()
        cur = cur[key]
        if filt:
            conds = dict(c.split("=") for c in filt.split(","))
            cur = next(r for r in cur if all(str(r[k]) == v for k, v in conds.items()))
    return cur


def _opts(argv):
    o = {argv[i][2:]: argv[i + 1] for i in range(len(argv) - 1)
         if argv[i].startswith("--") and not argv[i + 1].startswith("--")}
    kw = dict(control=o["control"], method=o["method"], aggregate=o["aggregate"])
    if "bootstrap" in o:
        kw.update(bootstrap=int(o["bootstrap"]), seed=int(o["seed"]))
    return kw, [o["covariates"]] if "covariates" in o else []


@pytest.mark.parametrize("run", ACCEPT["runs"], ids=[r["name"] for r in ACCEPT["runs"]])
def test_mpdta_reference_runs(run):
    kw, covs = _opts(run["argv"])
    doc = fit_cs(_panel(covariates=covs), **kw).to_dict()
    json.dumps(doc, allow_nan=False)  # the result JSON must be strict JSON
    for c in run["checks"]:
        got = _get(doc, c["path"])
        # tolerance as stated (and justified) beside each value in accept.json
        tol = c.get("atol", 0) + c.get("rtol", 0) * abs(c["value"])
        assert abs(got - c["value"]) <= tol, (c["path"], got, c["value"])


def test_pretest_statistic_matches_r():
    r = fit_cs(_panel())
    ref = EXPECTED["references"][0]["pretest_wald"]
    # W is printed by R to 15 significant digits; 1e-8 covers floating-point summation order
    assert abs(r.diagnostics["pretrend_wald_stat"] - ref["W"]) < 1e-8
    assert r.diagnostics["pretrend_wald_df"] == 5
    # the unrounded p-value rounds to R's 5-dp print
    assert round(r.diagnostics["pretrend_wald_p"], 5) == ref["pval"]


def test_result_shape_and_event_study_vcov():
    r = fit_cs(_panel(), aggregate="dynamic")
    d = r.to_dict()
    assert d["design"] == "cs" and d["n_units"] == 500 and d["n_obs"] == 2500
    assert d["n_treated_units"] == 191 and d["n_clusters"] == 500  # 309 of 500 counties are never treated
    assert [row["event_time"] for row in d["event_study"]] == [-3, -2, -1, 0, 1, 2, 3]
    es = r.event_study
    assert es.ref is None and es.vcov.shape == (7, 7)
    # SEs are sqrt(diag(vcov)) exactly (same influence functions); 1e-14 = rounding
    assert np.allclose(np.sqrt(np.diag(es.vcov)), es.se, rtol=0, atol=1e-14)
    assert set(d["group_time"][0]) == {"group", "time", "estimate", "se", "event_time"}
    assert d["options"]["control"] == "never" and d["options"]["base"] == "varying"
    assert d["diagnostics"]["n_dropped"] == 0


def test_no_covariate_fast_path_equals_generic_2x2():
    """The vectorised difference-in-means path equals DRDID's formulas with an intercept only."""
    prep = _prepare(_panel(), control="notyet", anticipation=0, cluster=None)
    cells, att, inf = att_gt(prep, control="notyet", method="dr")
    gu, Y, n = prep["gu"], prep["Y"], prep["n"]
    for k in (0, 5, 11):
        c = cells.iloc[k]
        ctrl = (gu == 0) | ((gu > c.thr) & (gu != c.g))
        keep = np.flatnonzero((gu == c.g) | ctrl)
        for method in ("dr", "ipw", "reg"):
            a, f, _ = did_batch(method, (Y[keep, c.cur] - Y[keep, c.pre])[:, None], (gu[keep] == c.g) * 1.0,
                                np.ones((len(keep), 1)), n, label="test")
            # two algebraically identical computations; 1e-12 allows rounding only
            assert abs(a[0] - att[k]) < 1e-12
            assert np.max(np.abs(f[:, 0] - inf[keep, k])) < 1e-10


def test_universal_base_period():
    rv = fit_cs(_panel(), aggregate="dynamic")
    ru = fit_cs(_panel(), base="universal", aggregate="dynamic")
    assert ru.event_study.ref == -1 and -1 not in ru.event_study.event_times
    gt = {(r["group"], r["time"]): r for r in ru.tables["group_time"]}
    assert gt[(2006, 2005)]["estimate"] == 0 and np.isnan(gt[(2006, 2005)]["se"])
    gv = {(r["group"], r["time"]): r for r in rv.tables["group_time"]}
    # post-treatment cells use base g-1 under both conventions: identical up to rounding
    for key in [(2004, 2005), (2006, 2007), (2007, 2007)]:
        assert abs(gt[key]["estimate"] - gv[key]["estimate"]) < 1e-14
    # universal pre-period cell (2007, 2004) = change 2004 -> 2006 (base), sign-flipped long difference
    f = DATA.pivot(index="countyreal", columns="year", values="lemp")
    g = DATA.groupby("countyreal")["first.treat"].first()
    dy = f[2004] - f[2006]
    manual = dy[g == 2007].mean() - dy[g == 0].mean()
    assert abs(gt[(2007, 2004)]["estimate"] - manual) < 1e-12  # exact arithmetic identity


def test_anticipation_shifts_base_period():
    r = fit_cs(_panel(), anticipation=1, aggregate="group")
    gt = {(x["group"], x["time"]): x["estimate"] for x in r.tables["group_time"]}
    assert not any(g == 2004 for g, _ in gt)  # 2004 - 1 is the first period: no pre-period left
    f = DATA.pivot(index="countyreal", columns="year", values="lemp")
    g = DATA.groupby("countyreal")["first.treat"].first()
    dy = f[2007] - f[2004]  # cohort 2006 with one period of anticipation: base 2004
    manual = dy[g == 2006].mean() - dy[g == 0].mean()
    assert abs(gt[(2006, 2007)] - manual) < 1e-12  # exact arithmetic identity
    assert r.options["anticipation"] == 1


def test_bootstrap_is_seeded_and_bands_cover_pointwise():
    p = _panel()
    a = fit_cs(p, aggregate="dynamic", bootstrap=199, seed=7)
    b = fit_cs(p, aggregate="dynamic", bootstrap=199, seed=7)
    assert a.se == b.se and np.array_equal(a.event_study.se, b.event_study.se)
    an = fit_cs(p, aggregate="dynamic")
    # bootstrap SE estimates the analytic one; 199 draws -> Monte Carlo error ~10%, allow 30%
    assert abs(a.se / an.se - 1) < 0.3
    es = a.to_dict()["event_study"]
    for row in es:
        assert row["cband_low"] <= row["ci_low"] + 1e-15 and row["cband_high"] >= row["ci_high"] - 1e-15
    assert a.options["bootstrap_weights"] == "rademacher" and a.extras["bootstrap"]["draws"] == 199


def test_cluster_option():
    df = DATA.assign(region=pd.factorize(DATA["countyreal"])[0] % 40)
    r = fit_cs(_panel(df, cluster="region"))
    r0 = fit_cs(_panel())
    assert r.n_clusters == 40 and r.options["cluster"] == "region"
    assert r.estimate == r0.estimate and r.se != r0.se
    same = fit_cs(_panel(), cluster="countyreal")  # the unit itself = default unit-level SEs
    assert same.se == r0.se


def test_unbalanced_panel_drops_incomplete_units():
    df = DATA.drop(index=DATA.index[(DATA.countyreal == 8001) & (DATA.year == 2005)])
    with pytest.warns(UserWarning, match="balance"):
        r = fit_cs(_panel(df))
    assert r.n_units == 499 and r.diagnostics["n_units_dropped_unbalanced"] == 1


def test_notyet_without_never_treated_units():
    from ogimpact.estimation import estimate

    df = DATA[DATA["first.treat"] > 0]
    r = estimate("cs", _panel(df), control="notyet", aggregate="group")
    # periods from 2007 on are dropped; cohort 2007 is only a comparison group
    assert {x["group"] for x in r.tables["group_time"]} == {2004, 2006}
    assert max(x["time"] for x in r.tables["group_time"]) == 2006
    assert any(w["code"] == "no_never_treated" and "never-treated" in w["message"]
               for w in r.diagnostics["warnings"])


def test_time_varying_covariate_runs_and_invariant_matches():
    base = fit_cs(_panel(covariates=["lpop"]), method="dr")
    # a time-varying covariate takes the earlier period's value in each cell (R did)
    df = DATA.assign(x2=DATA["lpop"] + 0.01 * (DATA["year"] - 2003) * (DATA["countyreal"] % 3))
    r = fit_cs(_panel(df, covariates=["x2"]), method="dr")
    assert np.isfinite(r.estimate) and np.isfinite(r.se)
    assert abs(r.estimate - base.estimate) < 0.01  # small perturbation of the covariate


@pytest.mark.parametrize("method", ["dr", "reg"])
def test_simulation_recovers_heterogeneous_staggered_att(method):
    rng = np.random.default_rng(11)
    n, T = 3000, 8
    cohorts = np.array([0, 4, 6, 8])
    g = rng.choice(cohorts, size=n, p=[0.4, 0.2, 0.2, 0.2])
    x = rng.normal(size=n)
    alpha_i = rng.normal(size=n) + 0.5 * x
    t = np.arange(1, T + 1)
    e = t[None, :] - g[:, None]
    treated = (g[:, None] > 0) & (e >= 0)
    # effect grows with exposure and differs by cohort: (1 + 0.5 e) * (g / 4)
    tau = np.where(treated, (1 + 0.5 * e) * (g[:, None] / 4.0), 0.0)
    y = alpha_i[:, None] + 0.2 * t[None, :] + 0.3 * x[:, None] * t[None, :] / T + tau + rng.normal(size=(n, T))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "x": np.repeat(x, T)})
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"])
    r = fit_cs(p, method=method, aggregate="simple")
    # true simple ATT: post cells weighted by cohort size (population weights)
    cells = [(gg, tt) for gg in (4, 6, 8) for tt in t if tt >= gg]
    w = np.array([(g == gg).sum() for gg, _ in cells], float)
    truth = np.sum(w * np.array([(1 + 0.5 * (tt - gg)) * gg / 4 for gg, tt in cells])) / w.sum()
    assert abs(r.estimate - truth) < 4 * r.se  # 4 SE: a false failure has probability < 1e-4
    dyn = fit_cs(p, method=method, aggregate="dynamic").event_study
    pre = dyn.estimates[np.array(dyn.event_times) < 0]
    assert np.all(np.abs(pre) < 4 * dyn.se[np.array(dyn.event_times) < 0])  # parallel trends hold: pre ~ 0


# --------------------------------------------------------------------------- bad input
def test_bad_options_raise():
    p = _panel()
    for kw in ({"control": "nevr"}, {"method": "ols"}, {"base": "fixed"}, {"aggregate": "sum"},
               {"anticipation": -1}, {"bootstrap": 1}, {"alpha": 1.5}):
        with pytest.raises(DesignError):
            fit_cs(p, **kw)


def test_no_cohort_column():
    p = Panel.from_frame(DATA, unit="countyreal", time="year", outcome="lemp")
    with pytest.raises(DesignError, match="cohort"):
        fit_cs(p)


def test_never_control_without_never_treated_units():
    with pytest.raises(DesignError, match="notyet"):
        fit_cs(_panel(DATA[DATA["first.treat"] > 0]), control="never")


def test_too_few_never_treated_units():
    never = DATA.loc[DATA["first.treat"] == 0, "countyreal"].unique()
    df = DATA[~DATA.countyreal.isin(never[3:])]
    with pytest.raises(DesignError, match="never-treated"):
        fit_cs(_panel(df), control="never")


def test_time_varying_cluster_refused():
    df = DATA.assign(cl=DATA["countyreal"] + DATA["year"])
    with pytest.raises(DesignError, match="varies within unit"):
        fit_cs(_panel(df, cluster="cl"))


def test_overlap_failure_is_a_design_error():
    # covariate that perfectly separates cohort 2004 from the never-treated units
    df = DATA.assign(sep=np.where(DATA["first.treat"] == 2004, 1.0, 0.0) + 1e-3 * DATA["lpop"])
    with pytest.raises(DesignError, match="overlap"):
        fit_cs(_panel(df, covariates=["sep"]), method="dr")
