"""Roth (2022) pre-test power: the He & Wang reference, R's conditional means, a Monte Carlo check.

The published reference (R/Stata ``pretrends`` READMEs and a deterministic quadrature, see
``tests/reference/pretrends_hewang/SOURCE.md``) runs through the CLI in ``test_reference_cli``;
here: the quantities accept.json does not check, and properties that would catch a wrong power.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from ogimpact.cli import main
from ogimpact.errors import OgimpactError
from ogimpact.inference.pretrends import pretest_pass_probability, pretrends

CASE = Path(__file__).parent / "reference" / "pretrends_hewang"


def _hewang():
    doc = json.loads((CASE / "es.json").read_text())
    et = [r["event_time"] for r in doc["event_study"]]
    b = [r["estimate"] for r in doc["event_study"]]
    return et, np.array(b), np.array(doc["vcov"])


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_bayes_factor_and_mean_after_pretesting_match_r_pretrends():
    """R pretrends 0.1.0 (5 seeds, expected.json): meanAfterPretesting t=0 0.064903-0.064907, t=3 0.224540-0.224545;
    exact quadrature Bayes factor 0.569122 at the README slope.  atol 2e-5 covers R's Monte-Carlo spread (5e-6)
    plus our integration error (~1e-6)."""
    et, b, V = _hewang()
    res = pretrends(et, b, V, ref=-1, slope=0.05205871)
    assert res.bayes_factor == pytest.approx(0.569122287401164, abs=2e-5)
    bias = res.bias.set_index("event_time")["bias"]
    assert bias[0] == pytest.approx(0.06490, abs=2e-5)
    assert bias[3] == pytest.approx(0.22454, abs=2e-5)
    # the unconditional bias is the trend itself
    assert res.bias.set_index("event_time")["trend"][3] == pytest.approx(0.05205871 * 4, rel=1e-12)


def test_power_matches_simulated_rejection_rate():
    """Monte Carlo: draw pre-period coefficients under the trend and count individual-t rejections.
    200,000 draws give an MCSE of 0.0011 on a power near 0.5; the check allows 4 MCSE."""
    et, b, V = _hewang()
    res = pretrends(et, b, V, ref=-1, power=0.8)
    pre = np.array(et) < -1
    Vpre = V[np.ix_(pre, pre)]
    delta = res.slope * (np.array(et)[pre] + 1)
    rng = np.random.default_rng(7)
    draws = rng.multivariate_normal(delta, Vpre, size=200_000)
    rejected = (np.abs(draws) / np.sqrt(np.diag(Vpre)) > 1.959963984540054).any(axis=1)
    assert rejected.mean() == pytest.approx(0.8, abs=4 * np.sqrt(0.16 / 200_000))
    # and the size of the pre-test under parallel trends
    p0 = pretest_pass_probability(np.zeros(pre.sum()), Vpre)
    sim0 = (np.abs(rng.multivariate_normal(np.zeros(pre.sum()), Vpre, size=200_000))
            / np.sqrt(np.diag(Vpre)) <= 1.959963984540054).all(axis=1).mean()
    assert p0 == pytest.approx(sim0, abs=4 * np.sqrt(p0 * (1 - p0) / 200_000))


def test_power_rises_with_the_slope_and_is_symmetric():
    et, b, V = _hewang()
    powers = [pretrends(et, b, V, slope=s).power for s in (0.0, 0.02, 0.05, 0.1)]
    assert powers == sorted(powers)
    assert pretrends(et, b, V, slope=-0.05).power == pytest.approx(pretrends(et, b, V, slope=0.05).power, abs=1e-6)


def test_json_is_byte_identical_across_runs():
    argv = ["pretrends", "--event-study", str(CASE / "es.json"), "--power", "0.5", "--json"]
    first, second = _cli(argv), _cli(argv)
    assert first[0] == 0 and first[1] == second[1]
    doc = json.loads(first[1])
    assert set(doc) >= {"slope_for_power", "power", "bias", "likelihood_ratio", "alpha"}
    assert [r["event_time"] for r in doc["bias"]] == [0, 1, 2, 3]
    assert doc["diagnostics"]["warnings"] == []


def test_power_at_or_below_the_size_is_refused_with_the_reason():
    et, b, V = _hewang()
    with pytest.raises(OgimpactError, match="even under parallel trends"):
        pretrends(et, b, V, power=0.05)


def test_event_study_without_leads_is_a_clear_error(tmp_path):
    doc = json.loads((CASE / "es.json").read_text())
    keep = [i for i, r in enumerate(doc["event_study"]) if r["event_time"] >= 0]
    doc["event_study"] = [doc["event_study"][i] for i in keep]
    doc["vcov"] = [[doc["vcov"][i][j] for j in keep] for i in keep]
    f = tmp_path / "post_only.json"
    f.write_text(json.dumps(doc))
    code, out, err = _cli(["pretrends", "--event-study", str(f), "--power", "0.5"])
    assert code == 2 and "no pre-period coefficient" in err and out == ""


def test_power_and_slope_are_mutually_exclusive():
    code, _, err = _cli(["pretrends", "--event-study", str(CASE / "es.json"), "--power", "0.5", "--slope", "0.1"])
    assert code == 2 and "not allowed with" in err
