"""Bounded, seeded Monte Carlo of the grader (full study: ``benchmarks/grade_montecarlo.py``).

Each draw runs the real assessment (CS, Sun–Abraham, imputation, event study, HonestDiD, pre-test
power and every check), about 2 s, so two seeds per scenario keep the file near 15 s.  The
assertions are properties the rubric must have on every draw, not rates: a planted linear trend
lowers the grade relative to the same draw without it, and a clean null is graded for "no effect
larger than MIE" and never above Moderate when its CI is wider than the MIE.
"""
from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("grade_montecarlo",
                                               Path(__file__).parents[1] / "benchmarks" / "grade_montecarlo.py")
mc = importlib.util.module_from_spec(_spec)
sys.modules["grade_montecarlo"] = mc
_spec.loader.exec_module(mc)

SEEDS = (11, 12)


@functools.lru_cache(maxsize=None)
def one(seed, *, effect, slope, mie):
    """One assessed draw, shared by the tests that use the same draw."""
    return mc.one(seed, effect=effect, slope=slope, mie=mie)


@pytest.mark.parametrize("seed", SEEDS)
def test_planted_linear_pretrend_lowers_the_grade(seed):
    clean = one(seed, effect=0.0, slope=0.0, mie=0.3)
    planted = one(seed, effect=0.0, slope=0.15, mie=0.3)
    assert planted["score"] < clean["score"], (clean, planted)
    # the fall comes from the design checks, not only from imprecision
    assert planted["pt_severity"] < 0 or planted["power_severity"] < 0
    # the trend makes a spurious "effect"; when it is significant the conflict is said out loud
    lo, hi = planted["ci_low"], planted["ci_high"]
    if lo > 0 or hi < 0:
        assert "pretrend_conflict" in planted["warnings"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mie", (0.3, 0.1))
def test_clean_null_targets_no_important_effect_and_is_not_above_moderate(seed, mie):
    r = one(seed, effect=0.0, slope=0.0, mie=mie)
    width = r["ci_high"] - r["ci_low"]
    if abs(r["estimate"]) < mie:
        assert r["target"] == "no_effect" and r["threshold"] == pytest.approx(mie)
    assert width > mie  # 120 units, noise SD 0.5: the CI is about 0.3 wide
    assert r["score"] <= 3  # Moderate or below
    if r["ci_low"] < -mie or r["ci_high"] > mie:
        assert r["precision_severity"] < 0 and r["score"] <= 2
