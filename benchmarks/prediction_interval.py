"""Prediction intervals (Cattaneo, Feng & Titiunik 2021) on scpi's Germany illustration: Monte Carlo and timing.

Run: PYTHONPATH=src python benchmarks/prediction_interval.py [--scpi PYTHON]

1. Seeds 1..20 at sims = 200 (the seeds scpi-pkg 4.0.0 was run with for
   tests/reference/germany_scpi/expected.json ``scpi_monte_carlo``): our mean and SD of each bound
   against scpi's.  Our draws come from ``RandomState(seed)`` in scpi's order, so the same seed
   gives the same simulated problems and the per-seed bounds should agree to solver precision.
2. Timing of ``estimate synth --inference prediction-interval`` (fit + 200 x 13 x 2 programmes),
   median of 3 after a warm-up (numba compilation is cached on disk).
3. With ``--scpi PYTHON`` (an interpreter with scpi-pkg 4.0.0 and pandas < 3), scpi's own ``scpi``
   call on the same data and settings, timed in the same run.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ogimpact.estimation import estimate, panel_from_csv

REF = Path(__file__).resolve().parents[1] / "tests" / "reference" / "germany_scpi"

SCPI_SCRIPT = r"""
import sys, time, json, numpy, pandas, warnings
warnings.filterwarnings("ignore")
from scpi_pkg.scdata import scdata
from scpi_pkg.scpi import scpi
data = pandas.read_csv(sys.argv[1])
co = sorted(u for u in set(data.country) if u != 'West Germany')
prep = scdata(df=data, id_var='country', time_var='year', outcome_var='gdp', period_pre=numpy.arange(1960, 1991),
              period_post=numpy.arange(1991, 2004), unit_tr='West Germany', unit_co=co, features=None, cov_adj=None,
              cointegrated_data=True, constant=False)
out = {"times": [], "bounds": {}}
for seed in [int(s) for s in sys.argv[2].split(",")]:
    numpy.random.seed(seed)
    t0 = time.perf_counter()
    pi = scpi(prep, sims=200, w_constr={'name': 'simplex', 'Q': 1}, u_order=1, u_lags=0, e_order=1, e_lags=0,
              e_method='gaussian', u_missp=True, u_sigma='HC1', cores=1, e_alpha=0.05, u_alpha=0.05, verbose=False)
    out["times"].append(time.perf_counter() - t0)
    ci = pi.CI_all_gaussian
    out["bounds"][seed] = [ci["Lower"].tolist(), ci["Upper"].tolist()]
print(json.dumps(out))
"""


def _panel():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return panel_from_csv("synth", pd.read_csv(REF / "data.csv"), unit="country", time="year", outcome="gdp")


def _run(p, seed):
    r = estimate("synth", p, treated="West Germany", treat_time=1991, inference=("prediction-interval",), seed=seed)
    rows = r.tables["prediction_interval"]
    return np.array([x["low"] for x in rows]), np.array([x["high"] for x in rows])


def main(argv):
    scpi_py = argv[argv.index("--scpi") + 1] if "--scpi" in argv else None
    p = _panel()
    mc = json.loads((REF / "expected.json").read_text())["references"]
    mc = next(r for r in mc if r["id"] == "scpi_monte_carlo")["by_year"]
    years = sorted(mc)
    seeds = list(range(1, 21))
    _run(p, 1)  # warm-up (numba cache)
    lows, highs = zip(*(_run(p, s) for s in seeds))
    lows, highs = np.array(lows), np.array(highs)
    print("bound      year  ours mean  scpi mean   diff   ours SD  scpi SD")
    worst = 0.0
    for side, arr in (("low", lows), ("high", highs)):
        for i, y in enumerate(years):
            ref = mc[y][side]
            d = arr[:, i].mean() - ref["mean_sims200_20seeds"]
            worst = max(worst, abs(d))
            print(f"{side:5s}  {y}  {arr[:, i].mean():9.4f}  {ref['mean_sims200_20seeds']:9.4f}  {d:+.4f}  "
                  f"{arr[:, i].std(ddof=1):7.4f}  {ref['sd_sims200_20seeds']:7.4f}")
    print(f"max |mean diff| over 26 bounds: {worst:.4f}")
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        _run(p, 8894)
        times.append(time.perf_counter() - t0)
    print(f"ogimpact synth + prediction interval (sims 200): median {np.median(times):.2f} s")
    if scpi_py:
        res = subprocess.run([scpi_py, "-c", SCPI_SCRIPT, str(REF / "data.csv"), "8894,1,2,3"],
                             capture_output=True, text=True, check=True)
        out = json.loads(res.stdout.strip().splitlines()[-1])
        ours = {s: _run(p, s) for s in (8894, 1, 2, 3)}
        diff = max(max(np.abs(np.array(b[0]) - ours[int(s)][0]).max(), np.abs(np.array(b[1]) - ours[int(s)][1]).max())
                   for s, b in out["bounds"].items())
        print(f"scpi-pkg scpi() same seeds 8894,1,2,3: max |bound diff| {diff:.2e}; "
              f"time median {np.median(out['times']):.2f} s (ratio scpi/ogimpact {np.median(out['times']) / np.median(times):.1f})")


if __name__ == "__main__":
    main(sys.argv[1:])
