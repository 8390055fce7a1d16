"""Atlas build throughput: cells per minute with 1 and 2 local workers and a 2-worker Dask LocalCluster.

A fixed subset (rti_law; 3 cross-country measures; wgi.cc for the first 12 qualifying adopting countries =
15 cells) is built from an empty cache by each engine, each build a fresh ``ogimpact atlas build`` process
timed from outside (so every engine starts cold: imports, data reads and numba compilation are part of the
cost), then once more from the cache; the data files of every build are compared byte for byte.  Writes ``benchmarks/results/atlas_scaling.json`` and prints the
Markdown table of ``docs/benchmarks.md``.  About two to three minutes on two cores.

    PYTHONPATH=src python benchmarks/atlas_scaling.py
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import resource  # noqa: E402
import subprocess  # noqa: E402

from ogimpact.reports.atlas.cells import plan_cells  # noqa: E402

MEASURES = ["wgi.cc", "vdem.v2x_partipdem", "wgi.ge"]


def _hashes(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


def main() -> None:
    countries = sorted({s["country"] for s in plan_cells(["rti_law"], measures=["wgi.cc"], country_measures=["wgi.cc"])
                        if s["country"]})[:12]
    rows = []
    load0 = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, engine in (("1 local worker", {"workers": 1}), ("2 local workers", {"workers": 2}),
                              ("LocalCluster, 2 workers", {"scheduler": "local:2"})):
            out, cache = tmp / label.replace(" ", "_"), tmp / (label.replace(" ", "_") + "_cache")
            cmd = [sys.executable, "-m", "ogimpact", "atlas", "build", "--interventions", "rti_law",
                   "--measures", ",".join(MEASURES), "--country-measures", "wgi.cc", "--countries", ",".join(countries),
                   "--out", str(out), "--cache", str(cache), "--no-progress", "--json"]
            cmd += ["--workers", str(engine["workers"])] if "workers" in engine else ["--scheduler", engine["scheduler"]]
            env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
            r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            m = json.loads((out / "manifest.json").read_text())
            n_workers = engine.get("workers") or int(engine["scheduler"].split(":")[1])
            cell_s = [c["seconds"] for c in m["cells"]]
            t1 = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            cached = time.perf_counter() - t1
            m2 = json.loads((out / "manifest.json").read_text())
            rows.append({"engine": label, "workers": n_workers, "cells": m["n_cells"], "failed": m["n_failed"],
                         "wall_s": round(wall, 1), "cells_per_min": round(60 * m["n_cells"] / wall, 1),
                         "core_s_per_cell": round(wall * n_workers / m["n_cells"], 2),
                         "cpu_s_per_cell": round(cpu / m["n_cells"], 2),
                         "mean_cell_s": round(sum(cell_s) / len(cell_s), 2),
                         "cached_wall_s": round(cached, 2), "cached_reused": m2["n_reused"],
                         "data_sha256": _hashes(out)})
            print(rows[-1], file=sys.stderr)
    base = rows[0]["wall_s"]
    for r in rows:
        r["speedup"] = round(base / r["wall_s"], 2)
    res = {"when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M+00:00"), "cpus": os.cpu_count(),
           "load_avg_1min_at_start": load0, "load_avg_1min_at_end": round(os.getloadavg()[0], 2), "countries": countries, "measures": MEASURES,
           "byte_identical": len({r["data_sha256"] for r in rows}) == 1, "rows": rows}
    out = Path(__file__).resolve().parent / "results" / "atlas_scaling.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print("| engine | cells | wall time | cells / min | speed-up | wall x workers per cell | CPU s per cell | "
          "mean cell time | rerun from cache |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['cells']} | {r['wall_s']} s | {r['cells_per_min']} | {r['speedup']}× | "
              f"{r['core_s_per_cell']} s | {r['cpu_s_per_cell']} s | {r['mean_cell_s']} s | {r['cached_wall_s']} s ({r['cached_reused']} reused) |")
    print(f"\nbyte-identical data files across engines: {res['byte_identical']}; 1-min load average "
          f"{load0} at start, {res['load_avg_1min_at_end']} at end")


if __name__ == "__main__":
    main()
