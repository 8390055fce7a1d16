"""Time is only an index (issue 9, item 4): property-based invariances of every design.

On random valid small panels (``hypothesis``, derandomized, a bounded number of examples), each
design must give the same headline estimate and standard error when

* the time column (and every cohort / treatment time with it) is shifted by a constant, also into
  negative periods and through period 0;
* the units are relabelled (new ids in another sort order) or the rows are permuted;

and scaling the outcome by ``a > 0`` scales the estimate and the SE by ``a`` and leaves the t-statistic
unchanged.

The rule these tests pin down (docs/decisions.md, "Time is only an index"): a cohort value of 0 means
never treated; any other value is a period, negative ones included, so a shift that would move a treated
cohort onto period 0 makes the input ambiguous and is excluded (``assume``); ``Panel`` warns
``cohort_zero_ambiguous`` whenever 0 is a period and some unit has cohort 0.

Tolerances: closed-form designs (twfe, event-study, cs, sun-abraham, imputation, its) are invariant up
to floating-point reordering: rtol 1e-8.  synth and sdid solve numerical optimisations whose iterates
depend on the order of the donors and on the scale of the objective; their solutions agree to the
solvers' tolerances: rtol 1e-4 on the estimate, measured max 1e-6 (synth) on these panels.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ogimpact.estimation import estimate, panel_from_csv  # noqa: E402

SETTINGS = settings(max_examples=8, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

STAGGERED = ("twfe", "event-study", "cs", "sun-abraham", "imputation")
SINGLE = ("synth", "sdid", "its")
RTOL = {"synth": 1e-4, "sdid": 1e-4}


@st.composite
def panels(draw):
    """A balanced staggered panel: 5 never-treated units, 3-7 treated ones in 1-3 cohorts."""
    n_never = 5
    n_treat = draw(st.integers(3, 7))
    T = draw(st.integers(6, 8))
    t0 = draw(st.sampled_from([1, 2000]))
    # the first treated unit (the one single-unit designs study) adopts in t0 + 3: 3 periods before, >= 3 after
    others = draw(st.lists(st.integers(t0 + 2, t0 + T - 2), min_size=0, max_size=2, unique=True))
    cohorts = [t0 + 3] + [c for c in others if c != t0 + 3]
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    units = np.arange(n_never + n_treat)
    g = np.r_[np.zeros(n_never, dtype=int), [cohorts[i % len(cohorts)] for i in range(n_treat)]]
    rows = []
    a_i = rng.normal(size=len(units))
    b_t = rng.normal(size=T)
    for i in units:
        for k in range(T):
            t = t0 + k
            d = int(g[i] != 0 and t >= g[i])
            rows.append((int(i), t, int(g[i]), d, a_i[i] + b_t[k] + (1.0 + 0.3 * i) * d + rng.normal(scale=0.5)))
    df = pd.DataFrame(rows, columns=["id", "year", "g", "d", "y"])
    df["pick"] = (df["id"] == n_never).astype(int)  # the treated unit of the single-unit designs
    return df


def _shift(df, c):
    out = df.copy()
    out["year"] += c
    out["g"] = np.where(out["g"] != 0, out["g"] + c, 0)
    return out


def _fit(design, df):
    treated = int(df.loc[df.pick == 1, "id"].iloc[0]) if design in SINGLE else None
    df = df.drop(columns=["pick"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design in SINGLE:
            keep = df[(df.g == 0) | (df.id == treated)] if design != "its" else df[df.id == treated]
            t_treat = int(df.loc[df.id == treated, "g"].iloc[0])
            p = panel_from_csv(design, keep.drop(columns=["g", "d"]), unit="id", time="year", outcome="y")
            opts = {"treated": treated, "treat_time": t_treat} if design != "its" else {"treat_time": t_treat}
        else:
            p = panel_from_csv(design, df, unit="id", time="year", outcome="y",
                               cohort="g" if design != "twfe" else None, treat="d" if design == "twfe" else None)
            opts = {"control": "notyet"} if design == "cs" else {}
        r = estimate(design, p, **opts)
    return r


def _close(a, b, rtol, what):
    assert np.isfinite(a) and np.isfinite(b), what
    assert abs(a - b) <= rtol * max(abs(a), abs(b), 1e-12) + 1e-12, (what, a, b)


def _same(design, r0, r1, what):
    rtol = RTOL.get(design, 1e-8)
    _close(r0.estimate, r1.estimate, rtol, f"{design} estimate under {what}")
    if np.isfinite(r0.se) or np.isfinite(r1.se):  # synth / sdid without placebos have no SE
        _close(r0.se, r1.se, max(rtol, 1e-8) * (100 if design == "sdid" else 1), f"{design} se under {what}")
    assert r0.n_obs == r1.n_obs and r0.n_units == r1.n_units


@pytest.mark.parametrize("design", STAGGERED + SINGLE)
@SETTINGS
@given(df=panels(), c=st.integers(-3000, 3000), perm_seed=st.integers(0, 10_000),
       scale=st.sampled_from([1e-3, 0.5, 7.0, 1e3]))
def test_invariances(design, df, c, perm_seed, scale):
    # a shift putting a treated cohort on period 0 makes "0 = never treated" ambiguous (excluded, see module doc)
    assume(not (df.loc[df.g != 0, "g"] + c == 0).any())
    base = _fit(design, df)
    # 1. time shift (into negative periods and across 0)
    _same(design, base, _fit(design, _shift(df, c)), f"time shift {c}")
    # 2. unit relabelling in another sort order
    rng = np.random.default_rng(perm_seed)
    ids = df["id"].unique()
    new = dict(zip(ids, rng.permutation(len(ids)) * 7 + 3))
    _same(design, base, _fit(design, df.assign(id=df["id"].map(new))), "unit relabelling")
    # 3. row permutation
    _same(design, base, _fit(design, df.sample(frac=1.0, random_state=perm_seed).reset_index(drop=True)),
          "row permutation")
    # 4. outcome scaling: estimates and SEs scale, t-statistics do not change
    rs = _fit(design, df.assign(y=df["y"] * scale))
    rtol = RTOL.get(design, 1e-8)
    _close(rs.estimate, scale * base.estimate, rtol, f"{design} estimate scaled by {scale}")
    if np.isfinite(base.se) and base.se > 0:
        _close(rs.se, scale * base.se, rtol * (100 if design == "sdid" else 1), f"{design} se scaled by {scale}")
        _close(rs.estimate / rs.se, base.estimate / base.se, rtol * (100 if design == "sdid" else 1),
               f"{design} t-stat under scaling")


def test_negative_periods_mpdta_cs_equals_unshifted():
    """Regression (issue 9): cs on mpdta with year - 2005 (periods -2..2; cohort 2004 -> -1) is the unshifted run.

    On main the negative cohort was refused and, without the 2004 cohort, the never-treated units (cohort 0)
    were taken for a cohort first treated in period 0 (ATT -0.0046 on 480 "treated" units instead of
    -0.0249 on 171).  Reference: R did on mpdta (tests/reference/mpdta, -0.0399512751551763, 1e-8).
    """
    from pathlib import Path

    d = pd.read_csv(Path(__file__).parent / "reference" / "mpdta" / "data.csv")

    def run(df, shift):
        e = df.copy()
        e["year"] -= shift
        e["first.treat"] = np.where(e["first.treat"] == 0, 0, e["first.treat"] - shift)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = panel_from_csv("cs", e, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
            return estimate("cs", p)

    a, b = run(d, 0), run(d, 2005)
    assert abs(a.estimate - (-0.0399512751551763)) < 1e-8
    assert abs(b.estimate - a.estimate) < 1e-12 and abs(b.se - a.se) < 1e-12
    assert b.n_treated_units == 191
    assert any(w["code"] == "cohort_zero_ambiguous" for w in b.diagnostics["warnings"])
    no2004 = d[d["first.treat"] != 2004]
    c, e = run(no2004, 0), run(no2004, 2005)
    assert abs(e.estimate - c.estimate) < 1e-12 and e.n_treated_units == 171
    assert abs(e.estimate - (-0.0249)) < 5e-5
    shifted = {r["group"] for r in b.tables["group_time"]}
    assert shifted == {-1, 1, 2}


def test_ambiguous_zero_with_mixed_never_coding_is_refused():
    from ogimpact.errors import PanelError

    d = pd.DataFrame({"id": np.repeat(np.arange(8), 5), "year": np.tile(np.arange(-2, 3), 8)})
    d["g"] = np.repeat([0, 0, np.nan, np.nan, 0, 0, 1, 1], 5)
    d["y"] = np.random.default_rng(0).normal(size=len(d))
    with pytest.raises(PanelError, match="ambiguous"):
        panel_from_csv("cs", d, unit="id", time="year", outcome="y", cohort="g")


def test_negative_cohort_without_negative_periods_is_refused():
    from ogimpact.errors import PanelError

    d = pd.DataFrame({"id": np.repeat(np.arange(8), 5), "year": np.tile(np.arange(2000, 2005), 8)})
    d["g"] = np.repeat([0, 0, -1, -1, 0, 0, 2002, 2002], 5)
    d["y"] = np.random.default_rng(0).normal(size=len(d))
    with pytest.raises(PanelError, match="negative"):
        panel_from_csv("cs", d, unit="id", time="year", outcome="y", cohort="g")
