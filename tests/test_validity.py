"""A bounded, seeded subset of the validity suite (``benchmarks/validity.py``; full run: ``make validity``).

Each study below runs the same draw function as the full suite with fewer replications; the bands are
the nominal level +/- about 3 Monte-Carlo standard errors at these replication counts, so a correct
interval fails them with probability < 0.5%, while the defects the suite exists to catch (coverage in the
80s, size above 10%) fail them.
"""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("validity", Path(__file__).parents[1] / "benchmarks" / "validity.py")
validity = importlib.util.module_from_spec(_spec)
sys.modules["validity"] = validity  # dataclasses resolve the module through sys.modules
_spec.loader.exec_module(validity)


def _band(p, reps, k=3.2):
    m = k * math.sqrt(p * (1 - p) / reps)
    return p - m, p + m


@pytest.mark.parametrize("name,reps", [("twfe_static", 150), ("cs_simple", 150), ("imputation", 150)])
def test_staggered_intervals_cover(name, reps):
    r = validity.run_study(validity.STUDY[name], reps=reps)
    assert r["failed"] == 0
    lo, hi = _band(0.95, reps)
    assert lo <= r["coverage"] <= hi, r
    assert abs(r["bias"]) < 4 * r["bias_mcse"] + 1e-9, r


def test_random_effects_meta_study_runs_and_is_summarised():
    """REML Wald intervals under-cover at k = 10 (metafor's default; the grader pools with HKSJ): this only
    checks the study runs and that the estimate is unbiased."""
    r = validity.run_study(validity.STUDY["meta_reml_k10"], reps=200)
    assert r["failed"] == 0 and r["n_valid"] == 200
    assert abs(r["bias"]) < 4 * r["bias_mcse"]


def test_reml_its_covers_in_a_moderate_series():
    r = validity.run_study(validity.STUDY["its_reml-ar1_n120_rho0.3"], reps=300)
    lo, hi = _band(0.95, 300)
    assert lo <= r["coverage"] <= hi, r


def test_suite_renders_a_table_row_per_study():
    rows = [validity.run_study(validity.STUDY[n], reps=5) for n in ("twfe_static", "event_study_pretest")]
    md = validity.render(rows)
    assert "`twfe_static`" in md and "`event_study_pretest`" in md and "size" in md
