"""Batch-report scaling: the same N country reports with 1 and with 2 workers (issue: reports).

Usage: ``python benchmarks/batch_scaling.py [--n 50] [--workers 1,2]``; writes
``benchmarks/results/batch_scaling.json`` (rendered into docs/benchmarks.md by
``render.py``).  The reports use a reduced parameter set (one measure; synth
with placebos, SDID, ITS) so a run of 50 fits the machine; the Chile full report
is timed separately in ``run.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "batch_scaling.json"

#: countries that adopted an RTI law inside the WGI window (so synth has pre and post periods)
COUNTRIES = ["CHL", "MEX", "IND", "BRA", "ARG", "URY", "PER", "ECU", "GTM", "HND", "NIC", "SLV", "PAN", "DOM",
             "COL", "PRY", "BOL", "GBR", "DEU", "CHE", "JPN", "KOR", "IDN", "PHL", "THA", "BGD", "NPL", "PAK",
             "LKA", "MNG", "KAZ", "KGZ", "TJK", "ARM", "AZE", "GEO", "UKR", "MDA", "ROU", "BGR", "SRB", "HRV",
             "SVN", "SVK", "CZE", "POL", "EST", "LVA", "LTU", "MKD", "ALB", "MNE", "TUR", "TUN", "JOR", "YEM",
             "NGA", "GHA", "LBR", "SLE", "UGA", "KEN", "RWA", "ETH", "ZAF", "MOZ", "ZWE", "AGO", "MWI"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args(argv)
    from ogimpact.interventions import timing
    from ogimpact.reports.batch import run_batch

    t = timing("rti_law").set_index("unit")["cohort"]
    chosen = [c for c in COUNTRIES if c in t.index and 1998 <= int(t[c]) <= 2020][: args.n]
    rows = []
    for w in [int(x) for x in args.workers.split(",")]:
        tmp = Path(tempfile.mkdtemp(prefix="ogimpact-batch-"))
        spec = tmp / "batch.yaml"
        spec.write_text("defaults: {kind: country, intervention: rti_law, measures: [wgi.cc], "
                        "designs: [synth, sdid, its]}\nruns:\n" + "".join(f"  - {{country: {c}}}\n" for c in chosen))
        t0 = time.perf_counter()
        out = run_batch(spec, workers=w, out_root=tmp / "reports", progress=False)
        secs = time.perf_counter() - t0
        ok = sum(1 for r in out if r["status"] == "ok")
        rows.append({"workers": w, "reports": len(out), "ok": ok, "seconds": round(secs, 1),
                     "seconds_per_report": round(secs / max(1, len(out)), 2)})
        print(rows[-1], flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0]["seconds"]
    for r in rows:
        r["speedup_vs_1"] = round(base / r["seconds"], 2)
    doc = {"date": datetime.now(timezone.utc).isoformat(timespec="minutes"), "cpu_count": os.cpu_count(),
           "python": sys.version.split()[0], "countries": chosen, "rows": rows,
           "report": "country report, rti_law, measure wgi.cc, designs synth (+placebo-in-space), sdid (+placebo SE), its"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
