"""Atlas build throughput: cells per minute with 1 and 2 local workers and a 2-worker Dask LocalCluster.

A fixed subset (rti_law; 3 cross-country measures; wgi.cc for the first 12 qualifying adopting countries =
15 cells) is built from an empty cache by each engine, then once more from the cache; the data files of
every build are compared byte for byte.  Writes ``benchmarks/results/atlas_scaling.json`` and prints the
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

from ogimpact.atlas.build import build_atlas  # noqa: E402
from ogimpact.atlas.cells import plan_cells  # noqa: E402

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
    kw = dict(measures=MEASURES, country_measures=["wgi.cc"], countries=countries, progress=False)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, engine in (("1 local worker", {"workers": 1}), ("2 local workers", {"workers": 2}),
                              ("LocalCluster, 2 workers", {"scheduler": "local:2"})):
            out, cache = tmp / label.replace(" ", "_"), tmp / (label.replace(" ", "_") + "_cache")
            t0 = time.perf_counter()
            m = build_atlas(["rti_law"], out=out, cache_dir=cache, **engine, **kw)
            wall = time.perf_counter() - t0
            n_workers = engine.get("workers") or int(engine["scheduler"].split(":")[1])
            cell_s = [c["seconds"] for c in m["cells"]]
            t1 = time.perf_counter()
            m2 = build_atlas(["rti_law"], out=out, cache_dir=cache, **engine, **kw)
            rows.append({"engine": label, "workers": n_workers, "cells": m["n_cells"], "failed": m["n_failed"],
                         "wall_s": round(wall, 1), "cells_per_min": round(60 * m["n_cells"] / wall, 1),
                         "core_s_per_cell": round(wall * n_workers / m["n_cells"], 2),
                         "mean_cell_s": round(sum(cell_s) / len(cell_s), 2),
                         "cached_wall_s": round(time.perf_counter() - t1, 2), "cached_reused": m2["n_reused"],
                         "data_sha256": _hashes(out)})
            print(rows[-1], file=sys.stderr)
    base = rows[0]["wall_s"]
    for r in rows:
        r["speedup"] = round(base / r["wall_s"], 2)
    res = {"when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M+00:00"), "cpus": os.cpu_count(),
           "load_avg_1min_at_end": round(os.getloadavg()[0], 2), "countries": countries, "measures": MEASURES,
           "byte_identical": len({r["data_sha256"] for r in rows}) == 1, "rows": rows}
    out = Path(__file__).resolve().parent / "results" / "atlas_scaling.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print("| engine | cells | wall time | cells / min | speed-up | core-s per cell | mean cell time | "
          "rerun from cache |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['cells']} | {r['wall_s']} s | {r['cells_per_min']} | {r['speedup']}× | "
              f"{r['core_s_per_cell']} s | {r['mean_cell_s']} s | {r['cached_wall_s']} s ({r['cached_reused']} reused) |")
    print(f"\nbyte-identical data files across engines: {res['byte_identical']}; load average at end "
          f"{res['load_avg_1min_at_end']}")


if __name__ == "__main__":
    main()
