"""Romano–Wolf across outcomes from shared-weight multiplier bootstraps of influence functions.

Covers ``fit_cs(keep_influence=True)`` (the influence function reproduces the analytic SE;
R did convention se = sqrt(sum psi^2) / n), ``romano_wolf_multiplier`` (FWER with correlated
null outcomes, power, seeding, one-outcome reduction, dependence through shared weights, errors)
and its use in the assessment's multiplicity check.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ogimpact.designs.callaway_santanna import fit_cs
from ogimpact.errors import OgimpactError
from ogimpact.evidence import assess_grade
from ogimpact.inference.multiplicity import adjust_pvalues, multiplier_tstats, romano_wolf_multiplier
from ogimpact.panel import Panel

REF = Path(__file__).parent / "reference" / "mpdta"
DATA = pd.read_csv(REF / "data.csv")


def _mpdta(**kw) -> Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(DATA, unit="countyreal", time="year", outcome="lemp", cohort="first.treat", **kw)


def _infl(units, values, n=None) -> dict:
    return {"influence": {"units": [str(u) for u in units], "values": list(map(float, values))},
            "influence_scale": n or len(values)}


def _mean_family(X: np.ndarray, units=None):
    """Means of the columns of X (n x S) as estimates with influence functions psi = x - mean (scale n)."""
    n = X.shape[0]
    units = np.arange(n) if units is None else units
    psi = X - X.mean(0)
    se = np.sqrt((psi**2).sum(0)) / n
    return [_infl(units, psi[:, m], n) for m in range(X.shape[1])], X.mean(0), se


# ------------------------------------------------------------------ fit_cs influence
@pytest.mark.parametrize("aggregate", ["simple", "dynamic", "group", "calendar"])
def test_cs_influence_reproduces_the_analytic_se(aggregate):
    p = _mpdta()
    base = fit_cs(p, aggregate=aggregate)
    r = fit_cs(p, aggregate=aggregate, keep_influence=True)
    assert "influence" not in base.extras and base.options["keep_influence"] is False
    assert r.estimate == base.estimate and r.se == base.se  # same computation, bit for bit
    inf = r.extras["influence"]
    psi, n = np.asarray(inf["values"]), r.extras["influence_scale"]
    assert n == r.n_units == len(inf["units"]) == len(psi) == 500
    assert all(isinstance(u, str) for u in inf["units"]) and sorted(inf["units"]) == sorted(map(str, DATA.countyreal.unique()))
    assert np.sqrt((psi**2).sum()) / n == pytest.approx(r.se, rel=1e-12)  # same sums, reordered: rounding only
    json.dumps(r.extras)  # JSON-safe


def test_cs_influence_with_clusters_records_cluster_labels():
    df = DATA.assign(state=DATA.countyreal // 1000)  # FIPS state prefix: time-invariant, coarser than the county
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat", cluster="state",
                             min_clusters_warn=0)
    r = fit_cs(p, aggregate="simple", keep_influence=True)
    inf = r.extras["influence"]
    psi, n = pd.Series(inf["values"]), r.extras["influence_scale"]
    S = psi.groupby(inf["clusters"]).sum()
    assert np.sqrt((S**2).sum()) / n == pytest.approx(r.se, rel=1e-12)  # clustered IF SE, rounding only
    # the multiplier bootstrap then draws one weight per cluster
    res = romano_wolf_multiplier([r.extras], [r.estimate], [r.se], B=99, seed=1)
    assert res["n_labels"] == len(S)


# ------------------------------------------------------------------ romano_wolf_multiplier
def test_one_outcome_equals_the_single_bootstrap_p():
    rng = np.random.default_rng(3)
    infl, est, se = _mean_family(rng.normal(0.15, 1, (120, 1)))
    res = romano_wolf_multiplier(infl, est, se, B=499, seed=7)
    draws, _ = multiplier_tstats(infl, se, B=499, seed=7)
    t = est[0] / se[0]
    p_single = (1 + np.sum(np.abs(draws[:, 0]) >= abs(t))) / 500
    assert res["p_adjusted"][0] == res["p_boot"][0] == p_single  # the same counts: exact
    assert draws[:, 0].std() == pytest.approx(1.0, abs=0.1)  # t* has unit variance; MC sd of the sd ~0.03


def test_seeded_and_invariant_to_unit_order():
    rng = np.random.default_rng(4)
    infl, est, se = _mean_family(rng.normal(0, 1, (60, 3)) @ np.array([[1, .5, .2], [0, 1, .5], [0, 0, 1]]))
    a = romano_wolf_multiplier(infl, est, se, B=199, seed=11)
    b = romano_wolf_multiplier(infl, est, se, B=199, seed=11)
    c = romano_wolf_multiplier(infl, est, se, B=199, seed=12)
    assert np.array_equal(a["p_adjusted"], b["p_adjusted"]) and a["seed"] == 11 and a["B"] == 199
    assert not np.array_equal(multiplier_tstats(infl, se, B=199, seed=11)[0], multiplier_tstats(infl, se, B=199, seed=12)[0])
    assert np.all(c["p_adjusted"] >= 1 / 200)
    # weights belong to unit labels (sorted union), not to row positions
    perm = rng.permutation(60)
    shuffled = [{"influence": {"units": [d["influence"]["units"][i] for i in perm],
                               "values": [d["influence"]["values"][i] for i in perm]},
                 "influence_scale": 60} for d in infl]
    assert np.array_equal(romano_wolf_multiplier(shuffled, est, se, B=199, seed=11)["p_adjusted"], a["p_adjusted"])


def test_shared_weights_carry_the_dependence():
    rng = np.random.default_rng(5)
    x = rng.normal(0.2, 1, 100)
    infl, est, se = _mean_family(np.column_stack([x, x]))
    res = romano_wolf_multiplier(infl, est, se, B=999, seed=0)
    # identical outcomes: max |t*| is one outcome's |t*|, so no multiplicity penalty (exact counts)
    assert np.array_equal(res["p_adjusted"], res["p_boot"])
    # disjoint unit sets: independent draws (corr ~ N(0, 1/sqrt(B)) = 0.022; 0.1 is 4.5 sd)
    y = rng.normal(0, 1, (100, 2))
    infl2 = [_infl(np.arange(100), y[:, 0] - y[:, 0].mean()), _infl(np.arange(100, 200), y[:, 1] - y[:, 1].mean())]
    se2 = [np.sqrt(((y[:, k] - y[:, k].mean())**2).sum()) / 100 for k in range(2)]
    d, labels = multiplier_tstats(infl2, se2, B=2000, seed=1)
    assert len(labels) == 200 and abs(np.corrcoef(d.T)[0, 1]) < 0.1
    # partly overlapping units: the union is drawn, each outcome keeps unit variance (MC sd of the sd ~0.016)
    infl3 = [_infl(np.arange(100), y[:, 0] - y[:, 0].mean()), _infl(np.arange(50, 150), y[:, 1] - y[:, 1].mean())]
    d3, labels3 = multiplier_tstats(infl3, se2, B=2000, seed=1)
    assert len(labels3) == 150 and d3.std(0) == pytest.approx([1, 1], abs=0.06)


def test_fwer_with_correlated_null_outcomes():
    """Four null outcomes, equicorrelated (rho = 0.6), n = 200: FWER of RW at 5% is about 5%."""
    rng = np.random.default_rng(2024)
    S, n, R = 4, 200, 600
    L = np.linalg.cholesky(0.4 * np.eye(S) + 0.6)
    rej_rw = rej_holm = 0
    for r in range(R):
        infl, est, se = _mean_family(rng.standard_t(8, (n, S)) @ L.T)
        p = romano_wolf_multiplier(infl, est, se, B=199, seed=r)["p_adjusted"]
        rej_rw += np.any(p <= 0.05)
        rej_holm += np.any(adjust_pvalues(2 * (1 - stats.norm.cdf(np.abs(est / se))), "holm") <= 0.05)
    # binomial MC sd of a 5% rate over 600 reps is 0.0089: [0.023, 0.077] is +-3 sd around 0.05
    assert 0.023 <= rej_rw / R <= 0.077
    assert rej_rw >= rej_holm - 5  # RW uses the correlation: not more conservative than Holm (MC slack 5 reps)


def test_power_against_a_true_effect():
    rng = np.random.default_rng(99)
    S, n, R = 3, 100, 60
    L = np.linalg.cholesky(0.5 * np.eye(S) + 0.5)
    hit = false = 0
    for r in range(R):
        X = rng.normal(0, 1, (n, S)) @ L.T
        X[:, 0] += 0.4  # t ~ 4 on outcome 0
        infl, est, se = _mean_family(X)
        p = romano_wolf_multiplier(infl, est, se, B=199, seed=r)["p_adjusted"]
        hit += p[0] <= 0.05
        false += np.any(p[1:] <= 0.05)
    assert hit / R >= 0.9  # power of a t ~ 4 test at 5% is ~0.98; 0.9 leaves MC slack (sd 0.02)
    assert false / R <= 0.15  # nulls: ~5% expected; 0.15 is ~3.5 MC sd above


@pytest.mark.parametrize("call, msg", [
    (lambda i, e, s: romano_wolf_multiplier(i, e, s, weights="gaussian"), "unknown multiplier weights"),
    (lambda i, e, s: romano_wolf_multiplier(i, e[:1], s), "one estimate per influence"),
    (lambda i, e, s: romano_wolf_multiplier(i, e, s[:1]), "one influence function and one standard error"),
    (lambda i, e, s: romano_wolf_multiplier(i, e, [0.0, 1.0]), "positive and finite"),
    (lambda i, e, s: romano_wolf_multiplier(i, e, s, B=0), "positive number of bootstrap draws"),
    (lambda i, e, s: romano_wolf_multiplier([{"units": ["a"]}, i[1]], e, s), "no 'units'/'values'"),
    (lambda i, e, s: romano_wolf_multiplier([_infl(["a", "b"], [1.0, np.nan]), i[1]], e, s), "NaN"),
    (lambda i, e, s: romano_wolf_multiplier(i, [np.nan, 1.0], s), "finite"),
])
def test_bad_input(call, msg):
    infl, est, se = _mean_family(np.random.default_rng(0).normal(0, 1, (20, 2)))
    with pytest.raises(OgimpactError, match=msg):
        call(infl, est, se)


# ------------------------------------------------------------------ assessment
def _joint(seed, effect=0.0):
    rng = np.random.default_rng(seed)
    infl, est, se = _mean_family(rng.normal(effect, 1, (80, 3)) @ np.array([[1, .6, .3], [0, .8, .4], [0, 0, .87]]))
    return {m: {**infl[k], "estimate": float(est[k]), "se": float(se[k])} for k, m in enumerate("abc")}, est, se


def test_family_adjust_uses_romano_wolf_and_keeps_holm_bh():
    joint, est, se = _joint(1, effect=0.25)
    p_raw = {m: float(2 * (1 - stats.norm.cdf(abs(est[k] / se[k])))) for k, m in enumerate("abc")}
    fam = assess_grade.family_adjust(p_raw, joint=joint, B=999, seed=3)
    rw = fam["romano_wolf"]
    assert fam["check_uses"] == "romano-wolf" and rw["method"] == "romano-wolf" and rw["family"] == list("abc")
    assert rw["B"] == 999 and rw["seed"] == 3 and rw["p_raw"] == p_raw
    direct = romano_wolf_multiplier([joint[m] for m in "abc"], est, se, B=999, seed=3)["p_adjusted"]
    assert [rw["p_adjusted"][m] for m in "abc"] == direct.tolist()  # same draws: exact
    assert set(fam["holm"]) == set(fam["bh"]) == set("abc")
    c = assess_grade._multiplicity("a", fam, None)
    assert c.inputs["method"] == "romano-wolf" and c.inputs["p_adjusted"] == rw["p_adjusted"]["a"]
    assert c.inputs["p_holm"] == fam["holm"]["a"] and c.inputs["p_bh"] == fam["bh"]["a"]
    # a member without the CS influence function: Holm, with the reason recorded
    fam2 = assess_grade.family_adjust(p_raw, joint={m: joint[m] for m in "ab"}, seed=3)
    assert fam2["romano_wolf"] is None and fam2["check_uses"] == "holm" and "['c']" in fam2["romano_wolf_note"]
    assert assess_grade._multiplicity("a", fam2, None).inputs["method"] == "holm"


def test_rule_significant_raw_not_after_romano_wolf():
    fam = {"family": ["y", "z"], "size": 2, "p_raw": {"y": 0.04, "z": 0.5}, "holm": {"y": 0.08, "z": 0.5},
           "bh": {"y": 0.08, "z": 0.5}, "romano_wolf": {"method": "romano-wolf", "p_adjusted": {"y": 0.062, "z": 0.5}}}
    c = assess_grade._multiplicity("y", fam, None)
    assert c.severity == -1 and c.inputs["p_adjusted"] == 0.062 and "romano-wolf" in c.reason
    fam["romano_wolf"]["p_adjusted"]["y"] = 0.049
    assert assess_grade._multiplicity("y", fam, None).severity == 0


def test_registry_assessment_records_romano_wolf():
    from ogimpact.evidence.assess import assess

    fam_ms = ["wgi.cc", "vdem.v2x_partipdem", "vdem.v2x_cspart"]
    try:
        t = assess("rti_law", measures=fam_ms, seed=0)
    except OgimpactError as exc:  # pragma: no cover - registry data not shipped in this build
        pytest.skip(str(exc))
    for a in t.assessments:
        m = next(c for c in a.checks if c.domain == "multiplicity")
        rw = m.inputs["romano_wolf"]
        assert m.inputs["method"] == "romano-wolf" and rw["family"] == fam_ms and rw["B"] == 999 and rw["seed"] == 0
        assert m.inputs["p_adjusted"] == rw["p_adjusted"][a.measure] and m.inputs["p_holm"] is not None
        cs = next(d for d in a.designs if d["design"] == "cs")
        assert '"influence":' not in json.dumps(cs) and cs["options"]["keep_influence"] is True  # JSON stays small
