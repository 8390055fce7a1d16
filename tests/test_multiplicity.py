"""Multiple-testing adjustments: BH / Holm / Bonferroni and Romano–Wolf step-down."""
from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from ogimpact.errors import OgimpactError
from ogimpact.inference.multiplicity import adjust_pvalues, romano_wolf


@pytest.mark.parametrize("method, sm", [("bh", "fdr_bh"), ("holm", "holm"), ("bonferroni", "bonferroni")])
def test_adjust_matches_statsmodels(method, sm):
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 0.1, 20), rng.uniform(0, 1, 20), [0.03, 0.03, 0.0, 1.0]])  # ties, 0 and 1
    ours = adjust_pvalues(p, method)
    ref = multipletests(p, method=sm)[1]
    assert np.max(np.abs(ours - ref)) < 1e-15  # same arithmetic; float round-off only


def test_adjust_hand_values():
    p = [0.01, 0.04, 0.03, 0.005]
    # BH: sorted 0.005,0.01,0.03,0.04 -> 4p/i = 0.02,0.02,0.04,0.04 -> running min from the top
    assert adjust_pvalues(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02], abs=1e-15)  # exact arithmetic
    # Holm: (4,3,2,1) x sorted = 0.02,0.03,0.06,0.04 -> running max 0.02,0.03,0.06,0.06
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)  # exact arithmetic
    assert adjust_pvalues(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02], abs=1e-15)  # exact arithmetic


def test_adjust_keeps_nan_out_of_the_family():
    out = adjust_pvalues([0.01, np.nan, 0.02], "bonferroni")
    assert np.isnan(out[1]) and out[0] == pytest.approx(0.02, abs=1e-15)  # family of 2, not 3


def _rw_loop(t, boot):
    """Direct transcription of the step-down definition (Clarke, Romano & Wolf 2020, sec. 2)."""
    t, boot = np.abs(t), np.abs(boot)
    B, S = boot.shape
    order = np.argsort(-t, kind="mergesort")
    p = np.zeros(S)
    for j in range(S):
        remaining = order[j:]
        mx = boot[:, remaining].max(axis=1)
        p[j] = (np.sum(mx >= t[order[j]]) + 1) / (B + 1)
    p = np.maximum.accumulate(p)
    out = np.empty(S)
    out[order] = np.minimum(p, 1)
    return out


def test_romano_wolf_hand_case():
    t = [3.0, 1.0, 2.0]
    boot = [[1, 0.5, 2.5], [4, 0, 0], [0, 0, 0], [2.1, 1.2, 0.1]]
    # step 1 (|t|=3): row maxima 2.5,4,0,2.1 -> one >= 3 -> (1+1)/5 = 0.4
    # step 2 (|t|=2; hypotheses 3,2): maxima 2.5,0,0,1.2 -> one >= 2 -> 0.4
    # step 3 (|t|=1; hypothesis 2): 0.5,0,0,1.2 -> one >= 1 -> 0.4
    assert romano_wolf(t, boot) == pytest.approx([0.4, 0.4, 0.4], abs=1e-15)  # exact counts
    # without the +1: 1/4 at every step
    assert romano_wolf(t, boot, plus_one=False) == pytest.approx([0.25, 0.25, 0.25], abs=1e-15)  # exact counts


def test_romano_wolf_equals_definition_and_properties():
    rng = np.random.default_rng(11)
    S, B = 6, 999
    cov = 0.5 * np.ones((S, S)) + 0.5 * np.eye(S)
    boot = rng.multivariate_normal(np.zeros(S), cov, size=B)
    t = np.array([4.0, 2.5, 2.0, 1.0, 0.3, -3.0])
    ours = romano_wolf(t, boot)
    assert np.array_equal(ours, _rw_loop(t, boot))  # identical counts
    single = (np.sum(np.abs(boot) >= np.abs(t), axis=0) + 1) / (B + 1)
    assert np.all(ours >= single - 1e-15)  # adjusted p never below the single-test bootstrap p
    assert np.all(np.diff(ours[np.argsort(-np.abs(t))]) >= 0)  # monotone in |t|
    bonf = np.minimum(1, S * single)
    assert np.all(ours <= bonf + 1e-12)  # exchangeable columns: the max-based step-down is no worse than Bonferroni (union bound)
    # perfectly dependent tests: no multiplicity penalty
    same = np.repeat(boot[:, :1], S, axis=1)
    single_same = (np.sum(np.abs(same) >= np.abs(t), axis=0) + 1) / (B + 1)
    assert romano_wolf(t, same) == pytest.approx(single_same, abs=1e-15)  # exact counts


def test_romano_wolf_simulation_fwer():
    # global null, independent tests: FWER of RW at 5% should be near 5%
    rng = np.random.default_rng(3)
    S, B, R = 5, 199, 300
    rejections = 0
    for _ in range(R):
        boot = rng.standard_normal((B, S))
        t = rng.standard_normal(S)
        rejections += np.any(romano_wolf(t, boot) <= 0.05)
    assert rejections / R < 0.10  # nominal 5%; 300 reps give SE ~1.3 pp, so 10% is a loose bound


def test_romano_wolf_detects_true_effect():
    rng = np.random.default_rng(5)
    boot = rng.standard_normal((999, 4))
    p = romano_wolf([6.0, 0.2, -0.1, 0.5], boot)
    assert p[0] <= 0.002 and np.all(p[1:] > 0.3)  # 6 SD effect vs nulls


@pytest.mark.parametrize(
    "args, msg",
    [
        (([1.0, 2.0], np.zeros((10, 3))), "one column per hypothesis"),
        (([1.0, np.nan], np.zeros((10, 2))), "NaN"),
    ],
)
def test_romano_wolf_errors(args, msg):
    with pytest.raises(OgimpactError, match=msg):
        romano_wolf(*args)


def test_adjust_errors():
    with pytest.raises(OgimpactError, match="unknown adjustment"):
        adjust_pvalues([0.1], "sidak-ish")
    with pytest.raises(OgimpactError, match=r"\[0, 1\]"):
        adjust_pvalues([1.2], "bh")
