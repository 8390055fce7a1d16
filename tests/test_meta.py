"""Meta-analysis: metafor references (BCG trials), escalc, MH/Peto, meta-regression, CLI, errors."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ogimpact.errors import OgimpactError
from ogimpact.evidence.escalc import escalc, mantel_haenszel, peto
from ogimpact.evidence.meta import MetaResult, meta_analysis

CASE = Path(__file__).parent / "reference" / "meta_bcg"


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    return pd.read_csv(CASE / "data.csv")


@pytest.fixture(scope="module")
def logrr() -> pd.DataFrame:
    return pd.read_csv(CASE / "data_logrr.csv")


@pytest.fixture(scope="module")
def expected() -> dict:
    doc = json.loads((CASE / "expected.json").read_text())
    return {r["id"]: r for r in doc["references"]}


# ----------------------------------------------------------------- references
def test_reml_matches_metafor(logrr, expected):
    ref = expected["metafor_REML"]
    r = meta_analysis(logrr.yi, logrr.sei, method="reml", labels=logrr.author)
    tol = ref["tolerance"]
    assert r.estimate == pytest.approx(ref["estimate"], abs=tol["est_abs"])  # reference printed to 4 dp
    assert r.se == pytest.approx(ref["se"], abs=tol["se_abs"])  # reference printed to 4 dp
    assert r.ci_low == pytest.approx(ref["ci_95"][0], abs=5e-5)  # CI printed to 4 dp
    assert r.ci_high == pytest.approx(ref["ci_95"][1], abs=5e-5)  # CI printed to 4 dp
    assert r.z == pytest.approx(ref["z"], abs=5e-5)  # z printed to 4 dp
    assert r.tau2 == pytest.approx(ref["tau2"], abs=tol["tau2_abs"])  # full-precision tau2; same Fisher-scoring stop rule
    assert r.q == pytest.approx(ref["Q"], abs=tol["Q_abs"])  # full-precision Q
    assert r.i2 == pytest.approx(ref["I2_pct"], abs=tol["I2_abs"])  # printed to 2 dp
    assert r.h2 == pytest.approx(ref["H2"], abs=5e-3)  # printed to 2 dp
    assert r.diagnostics["tau2_se"] == pytest.approx(ref["tau2_se"], abs=5e-5)  # printed to 4 dp
    assert r.tau == pytest.approx(ref["tau"], abs=5e-5)  # printed to 4 dp
    assert np.exp(r.estimate) == pytest.approx(ref["pred_exp"]["pred"], abs=5e-5)  # printed to 4 dp
    assert np.exp(r.pi_low) == pytest.approx(ref["pred_exp"]["pi"][0], abs=5e-5)  # printed to 4 dp
    assert np.exp(r.pi_high) == pytest.approx(ref["pred_exp"]["pi"][1], abs=5e-4)  # printed as 1.549 (3 dp)
    assert r.k == 13 and r.q_df == ref["Q_df"]


def test_dl_and_fe_match_metafor(logrr, expected):
    dl = meta_analysis(logrr.yi, vi=logrr.vi, method="dl")
    ref = expected["metafor_DL"]
    assert dl.estimate == pytest.approx(ref["estimate"], abs=5e-5)  # 4 dp reference
    assert (dl.ci_low, dl.ci_high) == pytest.approx(ref["ci_95"], abs=5e-5)  # 4 dp reference
    assert dl.z == pytest.approx(ref["z"], abs=5e-5)  # 4 dp reference
    assert dl.tau2 == pytest.approx(ref["tau2"], abs=5e-5)  # 4 dp reference
    assert dl.i2 == pytest.approx(ref["I2_pct"], abs=5e-5)  # 4 dp reference
    assert dl.h2 == pytest.approx(ref["H2"], abs=5e-5)  # 4 dp reference
    fe = meta_analysis(logrr.yi, logrr.sei, method="fe")
    ref = expected["metafor_EE"]
    assert fe.estimate == pytest.approx(ref["estimate"], abs=5e-5)  # 4 dp reference
    assert (fe.ci_low, fe.ci_high) == pytest.approx(ref["ci_95"], abs=5e-5)  # 4 dp reference
    assert fe.z == pytest.approx(ref["z"], abs=5e-5)  # 4 dp reference
    assert fe.tau2 == 0.0 and fe.q == pytest.approx(ref["Q"], abs=5e-4)  # Q printed to 3 dp


def test_pm_matches_statsmodels(logrr):
    from statsmodels.stats.meta_analysis import combine_effects

    sm = combine_effects(logrr.yi.values, logrr.vi.values, method_re="pm")
    r = meta_analysis(logrr.yi, vi=logrr.vi, method="pm")
    assert r.tau2 == pytest.approx(sm.tau2, abs=1e-8)  # both solve the PM equation to ~machine precision
    assert r.estimate == pytest.approx(sm.mean_effect_re, abs=1e-8)  # follows from tau2
    # Paule-Mandel: the generalised Q at tau2 equals k - 1
    w = 1 / (logrr.vi.values + r.tau2)
    mu = np.sum(w * logrr.yi.values) / w.sum()
    assert np.sum(w * (logrr.yi.values - mu) ** 2) == pytest.approx(12.0, abs=1e-8)  # root-finding tolerance


def test_escalc_rr_matches_derived_file(counts, logrr):
    es = escalc("rr", counts.tpos, counts.tneg, counts.cpos, counts.cneg)
    assert np.max(np.abs(es.yi - logrr.yi)) < 1e-12  # same closed form; float round-off only
    assert np.max(np.abs(es.vi - logrr.vi)) < 1e-12  # same closed form; float round-off only


def test_escalc_hand_values_and_continuity_correction():
    # one table without zeros: a=10,b=90,c=20,d=80
    es = escalc("or", [10], [90], [20], [80])
    assert es.yi[0] == pytest.approx(np.log(10 * 80 / (90 * 20)), abs=1e-14)  # closed form
    assert es.vi[0] == pytest.approx(1 / 10 + 1 / 90 + 1 / 20 + 1 / 80, abs=1e-14)  # closed form
    rd = escalc("rd", [10], [90], [20], [80])
    assert rd.yi[0] == pytest.approx(0.1 - 0.2, abs=1e-14)  # closed form
    assert rd.vi[0] == pytest.approx(0.1 * 0.9 / 100 + 0.2 * 0.8 / 100, abs=1e-14)  # closed form
    # a zero cell: 1/2 is added to that table only (to="only0")
    z = escalc("rr", [0, 10], [10, 90], [5, 20], [5, 80])
    assert z.yi[0] == pytest.approx(np.log((0.5 / 11) / (5.5 / 11)), abs=1e-14)  # corrected cells
    assert z.yi[1] == pytest.approx(np.log(0.1 / 0.2), abs=1e-14)  # untouched table
    none = escalc("rr", [0], [10], [5], [5], to="none")
    assert np.isnan(none.yi[0])  # log(0): metafor recodes +-Inf to NA
    d00 = escalc("or", [0, 3], [10, 7], [0, 4], [10, 6], drop00=True)
    assert np.isnan(d00.yi[0]) and np.isfinite(d00.yi[1])


def test_metaregression_matches_metafor(counts, expected):
    ref = expected["metafor_metareg_REML"]
    es = escalc("rr", counts.tpos, counts.tneg, counts.cpos, counts.cneg)
    r = meta_analysis(es.yi, vi=es.vi, moderators=counts[["ablat", "year"]], method="reml", measure="rr")
    terms = {t["term"]: t for t in r.terms}
    for name, key in (("Intercept", "intrcpt"), ("ablat", "ablat"), ("year", "year")):
        assert terms[name]["estimate"] == pytest.approx(ref["coef"][key], abs=5e-5)  # 4 dp reference
        assert terms[name]["se"] == pytest.approx(ref["se"][key], abs=5e-5)  # 4 dp reference
    assert r.tau2 == pytest.approx(ref["tau2"], abs=5e-5)  # 4 dp reference
    assert r.q == pytest.approx(ref["QE"], abs=5e-5) and r.q_df == ref["QE_df"]  # 4 dp reference
    assert r.diagnostics["qm"] == pytest.approx(ref["QM"], abs=5e-5)  # 4 dp reference
    assert r.diagnostics["r2"] == pytest.approx(ref["R2_pct"], abs=5e-3)  # 2 dp reference
    assert r.pi_low is None  # no prediction interval without moderator values


def test_mantel_haenszel_and_peto_match_metafor(counts, expected):
    ref = expected["metafor_MH_Peto"]
    mh = mantel_haenszel(counts.tpos, counts.tneg, counts.cpos, counts.cneg, measure="rr", labels=counts.author)
    assert np.exp([mh.estimate, mh.ci_low, mh.ci_high]) == pytest.approx(ref["mantel_haenszel_RR"], abs=5e-5)  # 4 dp
    pt = peto(counts.tpos, counts.tneg, counts.cpos, counts.cneg)
    assert np.exp([pt.estimate, pt.ci_low, pt.ci_high]) == pytest.approx(ref["peto_OR"], abs=5e-5)  # 4 dp
    assert mh.method == "mh" and pt.method == "peto" and mh.k == 13


def test_mh_single_table_reduces_to_the_table():
    # one stratum: MH OR = cross-product ratio, MH RR = risk ratio, MH RD = risk difference
    a, b, c, d = [12], [88], [25], [75]
    assert mantel_haenszel(a, b, c, d, measure="or").estimate == pytest.approx(np.log(12 * 75 / (88 * 25)), abs=1e-13)  # exact
    assert mantel_haenszel(a, b, c, d, measure="rr").estimate == pytest.approx(np.log(0.12 / 0.25), abs=1e-13)  # exact
    rd = mantel_haenszel(a, b, c, d, measure="rd")
    assert rd.estimate == pytest.approx(0.12 - 0.25, abs=1e-13)  # exact
    # Sato's variance reduces to the binomial variance (n-weighted) for one table
    assert rd.se == pytest.approx(np.sqrt(0.12 * 0.88 / 100 + 0.25 * 0.75 / 100), rel=1e-10)  # algebraic identity


# ----------------------------------------------------------------- simulation
def test_simulation_recovers_known_effect():
    rng = np.random.default_rng(20240611)
    k, mu, tau2 = 60, 0.3, 0.04
    vi = rng.uniform(0.01, 0.1, k)
    yi = mu + rng.normal(0, np.sqrt(tau2), k) + rng.normal(0, np.sqrt(vi))
    for m in ("reml", "dl", "pm"):
        r = meta_analysis(yi, vi=vi, method=m)
        assert abs(r.estimate - mu) < 3 * r.se  # 3 SE: a seeded draw, ~0.3% false-alarm rate
        assert 0 < r.tau2 < 0.15  # true 0.04; wide band since tau2 is noisy at k=60
    fe = meta_analysis(mu + rng.normal(0, np.sqrt(vi)), vi=vi, method="reml")
    assert fe.tau2 < 0.02  # no heterogeneity simulated: REML tau2 near 0


# ----------------------------------------------------------------- views
def test_views(logrr):
    import matplotlib

    matplotlib.use("Agg")
    r = meta_analysis(logrr.yi, logrr.sei, labels=logrr.author)
    assert isinstance(r, MetaResult)
    f = r.to_frame()
    assert len(f) == 14 and f.label.iloc[-1].startswith("pooled")
    assert f.weight.iloc[:-1].sum() == pytest.approx(100.0, abs=1e-9)  # weights are percentages
    d = r.to_dict()
    for key in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "pi_low", "pi_high", "k", "method"):
        assert key in d
    json.dumps(d, allow_nan=False)
    assert "REML" in r.summary()
    fig = r.plot(transform="exp")
    assert fig is not None
    import matplotlib.pyplot as plt

    plt.close("all")


def test_missing_values_are_dropped_and_counted(logrr):
    y = logrr.yi.to_numpy().copy()
    y[0] = np.nan
    r = meta_analysis(y, logrr.sei)
    assert r.k == 12 and r.diagnostics["n_dropped"] == 1


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, msg",
    [
        (dict(yi=[1, 2, 3], sei=[1, 1, 1], vi=[1, 1, 1]), "exactly one"),
        (dict(yi=[1, 2, 3]), "exactly one"),
        (dict(yi=[1, 2, 3], sei=[1, 1]), "one per study"),
        (dict(yi=[1, 2, 3], sei=[1, 0, 1]), "positive"),
        (dict(yi=[1, 2, 3], sei=[1, 1, 1], method="bayes"), "unknown method"),
        (dict(yi=[1], sei=[1]), "too few"),
        (dict(yi=[1, 2, 3], sei=[1, 1, 1], labels=["a"]), "label"),
        (dict(yi=[1, 2, 3, 4], sei=[1, 1, 1, 1], moderators=pd.DataFrame({"x": [1, 2, 3, 4], "z": [2, 4, 6, 8]})), "collinear"),
    ],
)
def test_bad_input(kwargs, msg):
    with pytest.raises(OgimpactError, match=msg):
        meta_analysis(**kwargs)


def test_bad_counts():
    with pytest.raises(OgimpactError, match="negative"):
        escalc("rr", [-1], [2], [3], [4])
    with pytest.raises(OgimpactError, match="unknown measure"):
        escalc("hr", [1], [2], [3], [4])
    with pytest.raises(OgimpactError, match="different lengths"):
        escalc("rr", [1, 2], [2], [3], [4])
    with pytest.raises(OgimpactError, match="not a Mantel-Haenszel"):
        mantel_haenszel([1], [2], [3], [4], measure="peto")


# ----------------------------------------------------------------- CLI
def _cli(argv, capsys):
    from ogimpact.cli import main

    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_meta_json(capsys):
    code, out, err = _cli(["meta", "--data", str(CASE / "data.csv"), "--counts", "tpos,tneg,cpos,cneg",
                           "--measure", "rr", "--label", "author", "--method", "reml", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["tau2"] == pytest.approx(0.313243325980895, abs=1e-6)  # full-precision metafor tau2
    assert doc["k"] == 13 and doc["method"] == "reml" and doc["measure"] == "rr"
    code, out, err = _cli(["meta", "--data", str(CASE / "data_logrr.csv"), "--estimate", "yi", "--se", "sei",
                           "--method", "dl"], capsys)
    assert code == 0 and "DL" in out


@pytest.mark.parametrize(
    "extra",
    [
        ["--estimate", "yi", "--se", "sei", "--counts", "tpos,tneg,cpos,cneg", "--method", "reml"],
        ["--counts", "tpos,tneg,cpos", "--measure", "rr", "--method", "reml"],
        ["--counts", "tpos,tneg,cpos,cneg", "--method", "reml"],
        ["--counts", "tpos,tneg,cpos,cneg", "--measure", "rr", "--method", "peto"],
        ["--counts", "tpos,tneg,cpos,nope", "--measure", "rr", "--method", "mh"],
        ["--counts", "tpos,tneg,cpos,cneg", "--measure", "rr", "--method", "mh", "--moderators", "ablat"],
        ["--counts", "tpos,tneg,cpos,cneg", "--measure", "rr", "--method", "bayes"],
    ],
)
def test_cli_bad_usage_exits_2(extra, capsys):
    code, out, err = _cli(["meta", "--data", str(CASE / "data.csv"), *extra], capsys)
    assert code == 2 and out == ""
    assert err.startswith("ogimpact: error:") and len(err.strip().splitlines()) == 1
