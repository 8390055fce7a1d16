"""Time the 0.2 designs of issue 14 (bacon, lp-did, stacked) against a Python peer on the same reference data.

Run twice: with ogimpact's interpreter (``--tool ogimpact``) and in a throwaway venv holding the peer
(``--tool peer``: diff-diff 3.13.0, pyfixest 0.60.0); each prints JSON lines {task, tool, seconds (best of 3),
estimate}.  Paths are the repository's tests/reference cases.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REF = Path(__file__).resolve().parents[1] / "tests" / "reference"


def best(fn, n=3):
    out, ts = None, []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def ours():
    from ogimpact.designs.twfe_diagnostics import bacon_decomposition
    from ogimpact.estimation import estimate, panel_from_csv

    castle = pd.read_csv(REF / "castle_bacon" / "data.csv")
    lp = pd.read_csv(REF / "lpdid_testdata" / "data.csv")
    p = panel_from_csv("twfe", castle, unit="sid", time="year", outcome="l_homicide", treat="post")
    yield "bacon", best(lambda: bacon_decomposition(p).estimate)
    p = panel_from_csv("stacked", castle, unit="sid", time="year", outcome="l_homicide", cohort="cohort")
    yield "stacked", best(lambda: estimate("stacked", p, window=(-3, 3)).estimate)
    p = panel_from_csv("lp-did", lp, unit="unit", time="time", outcome="Y", treat="treat")
    yield "lp-did", best(lambda: estimate("lp-did", p, window=(-5, 10)).estimate)


def peer():
    from diff_diff import BaconDecomposition, LPDiD, StackedDiD

    castle = pd.read_csv(REF / "castle_bacon" / "data.csv")
    castle["ft"] = castle["cohort"].replace(0, np.inf)
    lp = pd.read_csv(REF / "lpdid_testdata" / "data.csv")
    castle["ft0"] = castle["cohort"]
    yield "bacon", best(lambda: BaconDecomposition(weights="exact").fit(
        castle, outcome="l_homicide", unit="sid", time="year", first_treat="ft0").twfe_estimate)
    yield "stacked", best(lambda: StackedDiD(kappa_pre=3, kappa_post=3).fit(
        castle, outcome="l_homicide", unit="sid", time="year", first_treat="ft").overall_att)
    yield "lp-did", best(lambda: LPDiD(pre_window=5, post_window=10, cluster="unit").fit(
        lp, outcome="Y", unit="unit", time="time", treatment="treat", post_pooled=(0, 10)).pooled.iloc[1, 1])


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=["ogimpact", "peer"], required=True)
    a = ap.parse_args()
    for task, (secs, est) in (ours() if a.tool == "ogimpact" else peer()):
        print(json.dumps({"task": task, "tool": a.tool, "seconds": secs, "estimate": float(np.asarray(est).ravel()[0])}))
