"""ADH (2015) cross-validated V: the published synthetic West Germany (tests/reference/germany_adh2015_cv)."""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from ogimpact.designs.synth import fit_synth
from ogimpact.errors import DesignError
from ogimpact.panel import Panel

REF = Path(__file__).parent / "reference" / "germany_adh2015_cv"
SPEC = ("gdp(1981-1990),trade(1981-1990),infrate(1981-1990),industry(1981-1990),"
        "schooling(1980(5)1985),invest80(1980)")
TRAIN = ("gdp(1971-1980),trade(1971-1980),infrate(1971-1980),industry(1971-1980),"
         "schooling(1970(5)1975),invest70(1980)")


@pytest.fixture(scope="module")
def panel():
    df = pd.read_csv(REF / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, unit="country", time="year", outcome="gdp",
                                extra=["trade", "infrate", "industry", "schooling", "invest80", "invest70"])


def test_adh2015_cv_weights(panel):
    r = fit_synth(panel, treated="West Germany", treat_time=1991, predictors=SPEC, optimize_window=(1960, 1989),
                  v_method="cv", train=(1971, 1980), validate=(1981, 1990), train_predictors=TRAIN)
    w = {x["unit"]: x["weight"] for x in r.tables["weights"]}
    published = {"Austria": 0.42, "USA": 0.22, "Japan": 0.16, "Switzerland": 0.11, "Netherlands": 0.09}
    for u, v in published.items():
        assert w[u] == pytest.approx(v, abs=0.005), u  # the paper prints two decimals
    assert sum(x for u, x in w.items() if u not in published) < 0.005  # all others 0 in the paper
    cv = r.options["cv_v"]
    assert r.options["v_method"] == "cv" and cv["train"] == [1971, 1980] and cv["validate"] == [1981, 1990]
    assert cv["train_predictors"][-1] == "invest70(1980)"
    assert sum(x["weight"] for x in r.tables["v_weights"]) == pytest.approx(1, abs=1e-12)


def test_cv_needs_windows_and_spec(panel):
    with pytest.raises(DesignError, match="--train"):
        fit_synth(panel, treated="West Germany", treat_time=1991, predictors=SPEC, v_method="cv")
    with pytest.raises(DesignError, match="must end before"):
        fit_synth(panel, treated="West Germany", treat_time=1991, predictors=SPEC, v_method="cv",
                  train=(1981, 1990), validate=(1971, 1980), train_predictors=TRAIN)
    with pytest.raises(DesignError):
        fit_synth(panel, treated="West Germany", treat_time=1991, v_method="cv", train=(1971, 1980),
                  validate=(1981, 1990))


def test_given_and_regression_v(panel):
    r = fit_synth(panel, treated="West Germany", treat_time=1991, predictors=SPEC, v=[1, 1, 1, 1, 1, 1])
    assert r.options["v_method"] == "given" and all(abs(x["weight"] - 1 / 6) < 1e-12 for x in r.tables["v_weights"])
    r2 = fit_synth(panel, treated="West Germany", treat_time=1991, predictors=SPEC, v_method="regression")
    assert r2.options["v_method"] == "regression"
    with pytest.raises(DesignError):
        fit_synth(panel, treated="West Germany", treat_time=1991, predictors=SPEC, v=[1, 2])
