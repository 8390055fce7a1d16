"""Placebo inference (in space, in time, leave-one-out) and the single-unit figures."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ogimpact.plots import single as ps  # noqa: E402
from ogimpact.estimation import estimate  # noqa: E402
from ogimpact.errors import DesignError, OgimpactError  # noqa: E402
from ogimpact.inference.placebo import rank_p_value  # noqa: E402
from ogimpact.parallel import pin_blas_threads  # noqa: E402
from ogimpact.panel import Panel  # noqa: E402


def fit_synth(panel, **kw):
    """The synth fit with its placebo inference (applied by the one entry point, estimation.estimate)."""
    return estimate("synth", panel, **kw)

REF = Path(__file__).parent / "reference"


def _sim(seed=1, effect=5.0, n=16, T=24, T0=16):
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0, 1, size=(n, 2))
    mu[0] = mu[1:4].mean(axis=0)
    t = np.arange(T)
    y = mu @ np.column_stack([t / 2.0, 3 * np.sin(t / 3.0)]).T + 0.3 * t + rng.normal(0, 0.1, size=(n, T))
    y[0, T0:] += effect
    df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n)], T), "time": np.tile(2000 + t, n),
                       "y": y.ravel()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, unit="unit", time="time", outcome="y"), 2000 + T0


@pytest.fixture(scope="module")
def sim_fit():
    p, tt = _sim()
    return fit_synth(p, treated="u00", treat_time=tt, placebo=("space", "time"), loo=True, n_jobs=2)


def test_space_placebo_rank_p_value(sim_fit):
    pl = sim_fit.placebo
    assert pl["n_placebos"] == 15 and pl["rank"] == 1
    assert pl["p_value"] == pytest.approx(1 / 16, abs=1e-15)  # rank / (J + 1), an exact fraction
    assert sim_fit.p_value == pl["p_value"]  # the headline p is the placebo p
    ratios = [u["rmspe_ratio"] for u in pl["units"]]
    assert max(ratios) < pl["rmspe_ratio"]
    assert [u["unit"] for u in pl["units"]] == [f"u{i:02d}" for i in range(1, 16)]  # deterministic order
    assert set(sim_fit.extras["placebo_gaps"]) == {f"u{i:02d}" for i in range(1, 16)}
    assert rank_p_value(2.0, [1.0, 2.0, 3.0]) == pytest.approx(3 / 4, abs=1e-15)  # ties count against


def test_pool_matches_in_process(sim_fit):
    p, tt = _sim()
    serial = fit_synth(p, treated="u00", treat_time=tt, placebo=("space", "time"), loo=True, n_jobs=1)
    a, b = sim_fit.to_dict(), serial.to_dict()
    for k in ("placebo", "loo", "weights"):
        assert a[k] == b[k], k  # identical floats: same code, same order, BLAS-free small problems


def test_drop_ratio():
    p, tt = _sim()
    res = fit_synth(p, treated="u00", treat_time=tt, placebo=("space",), drop_ratio=1.0, n_jobs=1)
    pl = res.placebo
    kept = [u for u in pl["units"] if u["kept"]]
    assert pl["n_placebos"] == len(kept) and pl["n_dropped_placebos"] == 15 - len(kept)
    assert all(u["pre_rmspe"] <= pl["pre_rmspe"] for u in kept)
    assert pl["p_value"] == pytest.approx(pl["rank"] / (len(kept) + 1), abs=1e-15)  # exact fraction
    assert res.options["drop_ratio"] == 1.0


def test_time_placebo_and_loo(sim_fit):
    tp = sim_fit.placebo["time"]
    assert tp["placebo_time"] == 2008 and tp["shift"] == 8  # default: the middle pre-period
    assert abs(tp["estimate"]) < 0.5  # no effect before the real date: noise sd 0.1, fake gap well under 0.5
    loo = sim_fit.tables["loo"]
    pos = {r["unit"] for r in sim_fit.tables["weights"] if r["weight"] > 1e-6}
    assert {r["unit"] for r in loo} == pos
    for r in loo:
        assert r["estimate"] == pytest.approx(5.0, abs=0.6)  # robust to any one donor (noise 0.1)
    p, tt = _sim()
    with pytest.raises(DesignError, match="placebo_time"):
        fit_synth(p, treated="u00", treat_time=tt, placebo=("time",), placebo_time=tt + 2)


def test_pin_blas_threads_runs():
    assert pin_blas_threads(1) >= 0 and os.environ["OPENBLAS_NUM_THREADS"] == "1"


def test_plots(sim_fit):
    import matplotlib.pyplot as plt

    for fn in (ps.plot_paths, ps.plot_gaps, ps.plot_placebo_gaps, ps.plot_rmspe_ratios, ps.plot_loo):
        ax = fn(sim_fit)
        assert ax.figure is not None and (ax.lines or ax.patches)
        plt.close(ax.figure)
    n = len(sim_fit.extras["placebo_gaps"])
    ax = ps.plot_placebo_gaps(sim_fit)
    assert len(ax.lines) == n + 3  # placebos + treated + zero line + treatment line
    assert ax.lines[n].get_zorder() > ax.lines[0].get_zorder()  # the treated line is on top
    plt.close(ax.figure)
    p, tt = _sim()
    bare = fit_synth(p, treated="u00", treat_time=tt)
    with pytest.raises(OgimpactError):
        ps.plot_placebo_gaps(bare)
    with pytest.raises(OgimpactError):
        ps.plot_loo(bare)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("OGIMPACT_SLOW"), reason="full Prop 99 placebo loop (~40 s on 2 cores); set OGIMPACT_SLOW=1")
def test_prop99_placebo_p_value():
    df = pd.read_csv(REF / "prop99_synth_adh" / "data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = Panel.from_frame(df, unit="state", time="year", outcome="cigsale",
                             extra=["beer", "lnincome", "retprice", "age15to24"])
    spec = ("beer(1984-1988),lnincome(1980-1988),retprice(1980-1988),age15to24(1980-1988),"
            "cigsale(1988),cigsale(1980),cigsale(1975)")
    res = fit_synth(p, treated="California", treat_time=1989, predictors=spec, placebo=("space",))
    # ADH 2010 sec. 4: California has the largest post/pre ratio of the 39 states, p = 1/39
    assert res.placebo["rank"] == 1
    assert res.placebo["p_value"] == pytest.approx(1 / 39, abs=1e-15)  # exact fraction
