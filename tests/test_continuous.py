"""Continuous-dose DiD (Callaway, Goodman-Bacon & Sant'Anna 2024; design ``continuous``).

No published reference case: R ``contdid``'s README prints results only for data drawn at run time by
``simulate_contdid_data`` (R's ``sample``/``runif``/``rnorm``, not shipped) with bootstrap SEs, so its
numbers cannot be reproduced without R.  The tests are therefore (1) an exact check of the degree-1 case
against an independent OLS with HC0 covariance (statsmodels), (2) seeded recovery of a known dose-response
curve and of ATT^o / ACRT^o, and (3) the event-study aggregation's pre-period placebos.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from ogimpact.designs.continuous_dose import bspline_basis, fit_continuous
from ogimpact.errors import OgimpactError
from ogimpact.estimation import panel_from_csv


def _sim(seed, n=3000, T=4, tau=lambda d: 2 * d + d ** 2, cohorts=(0, 2, 3, 4)):
    """contdid's simulate_contdid_data design (dose U(0,1), eta ~ N(G, 1), time effects 1..T)."""
    rng = np.random.default_rng(seed)
    G = rng.choice(cohorts, size=n)
    D = np.where(G > 0, rng.uniform(0, 1, n), 0.0)
    eta = rng.normal(G, 1)
    t = np.arange(1, T + 1)
    post = (G[:, None] <= t[None, :]) & (G[:, None] > 0)
    Y = t[None, :] + eta[:, None] + rng.normal(size=(n, T)) + post * tau(D)[:, None]
    return pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "y": Y.ravel(),
                         "G": np.repeat(G, T), "D": np.repeat(D, T)})


def _panel(df):
    return panel_from_csv("continuous", df, unit="id", time="t", outcome="y", cohort="G", treat="D")


def test_bspline_basis_partition_of_unity_and_derivative():
    x = np.linspace(0.1, 0.9, 17)
    B = bspline_basis(x, 3, [0.5], 0.1, 0.9)
    # the dropped first column completes a partition of unity
    full_first = 1 - B.sum(1)
    assert np.all(full_first >= -1e-12) and B.shape == (17, 4)
    h = 1e-6
    dB = bspline_basis(x[1:-1], 3, [0.5], 0.1, 0.9, deriv=1)
    num = (bspline_basis(x[1:-1] + h, 3, [0.5], 0.1, 0.9) - bspline_basis(x[1:-1] - h, 3, [0.5], 0.1, 0.9)) / (2 * h)
    assert np.allclose(dB, num, atol=1e-5)


def test_degree_one_two_periods_equals_ols_with_hc0():
    df = _sim(4, n=800, T=2, cohorts=(0, 2), tau=lambda d: 1 + 3 * d)
    r = fit_continuous(_panel(df), dose="D", degree=1, target="acrt", control="never")
    w = df.pivot(index="id", columns="t", values="y")
    g = df.groupby("id")[["G", "D"]].first()
    dy = (w[2] - w[1])[g.G > 0]
    X = sm.add_constant(g.D[g.G > 0])
    ols = sm.OLS(dy, X).fit(cov_type="HC0")
    # ACRT^o of a linear spline is the OLS slope; its influence-function SE is the HC0 SE (exact)
    assert r.estimate == pytest.approx(ols.params["D"], abs=1e-10)
    assert r.se == pytest.approx(ols.bse["D"], rel=1e-10)
    ra = fit_continuous(_panel(df), dose="D", degree=1, control="never")
    m0 = (w[2] - w[1])[g.G == 0].mean()
    dr = ra.table("dose_response")
    assert np.allclose(dr.estimate, ols.params["const"] + ols.params["D"] * dr.dose - m0, atol=1e-10)
    # ATT^o = mean change of the treated minus that of the comparison units
    assert ra.estimate == pytest.approx(dy.mean() - m0, abs=1e-10)


def test_recovers_known_dose_response():
    df = _sim(1)
    p = _panel(df)
    r = fit_continuous(p, dose="D")
    dr = r.table("dose_response")
    truth = 2 * dr.dose + dr.dose ** 2
    # a cubic spline contains the quadratic truth: only sampling error, bounded by 4 SE on the grid
    assert np.all(np.abs(dr.estimate - truth) < 4 * dr.se)
    g = df.groupby("id")[["G", "D"]].first()
    d = g.D[g.G > 0]
    assert abs(r.estimate - np.mean(2 * d + d ** 2)) < 4 * r.se
    rs = fit_continuous(p, dose="D", target="acrt", num_knots=1)
    ds = rs.table("dose_response")
    assert np.all(np.abs(ds.estimate - (2 + 2 * ds.dose)) < 4 * ds.se)
    assert abs(rs.estimate - np.mean(2 + 2 * d)) < 4 * rs.se
    assert r.to_dict()["dose_response"][0].keys() >= {"dose", "estimate", "se"}


def test_eventstudy_placebos_near_zero_and_effects_match():
    df = _sim(2)
    r = fit_continuous(_panel(df), dose="D", aggregate="eventstudy")
    es = r.event_study.to_frame().set_index("event_time")
    g = df.groupby("id")[["G", "D"]].first()
    d = g.D[g.G > 0]
    for e, row in es.iterrows():
        truth = 0.0 if e < 0 else float(np.mean(2 * d[g.G[g.G > 0] <= 4 - e] + d[g.G[g.G > 0] <= 4 - e] ** 2))
        assert abs(row["estimate"] - truth) < 4 * row["se"], (e, row.to_dict())
    assert r.to_dict()["diagnostics"]["pretrend_wald_p"] is not None


def test_bad_input():
    df = _sim(3, n=300)
    df.loc[df.index[0], "D"] = 0.77  # dose varies within a unit
    with pytest.raises(OgimpactError, match="constant within each unit"):
        fit_continuous(_panel(df), dose="D")
    with pytest.raises(OgimpactError):
        fit_continuous(_panel(_sim(3, n=300)), dose="D", target="slope")


def test_plot_dose_response():
    import matplotlib

    matplotlib.use("Agg")
    r = fit_continuous(_panel(_sim(5, n=600)), dose="D")
    ax = r.plot()
    assert ax.get_ylabel() == "ATT(d)" and len(ax.lines) >= 1
