"""Report wall time against an empty Papermill notebook, and CLI start-up times (issue 13's speed targets).

    python benchmarks/report_speed.py [--reps 3]

Both notebooks run with the same kernel, the same Papermill call and the same machine load, one after the
other, ``reps`` times; the medians and their ratio are printed as a docs/benchmarks.md row (target: the
report takes at most 8x the empty notebook).  ``ogimpact --help`` and three non-estimating commands are
timed as subprocesses (target: under 0.6 s each).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _empty_notebook(path: Path) -> None:
    import nbformat as nbf

    nb = nbf.v4.new_notebook()
    p = nbf.v4.new_code_cell("output_dir = None")
    p.metadata["tags"] = ["parameters"]
    nb.cells = [p, nbf.v4.new_code_cell("pass")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbf.write(nb, str(path))


def time_empty(tmp: Path) -> float:
    import papermill as pm

    nb = tmp / "empty.ipynb"
    _empty_notebook(nb)
    t0 = time.perf_counter()
    pm.execute_notebook(str(nb), str(tmp / "empty_out.ipynb"), parameters={"output_dir": str(tmp)},
                        kernel_name="python3", progress_bar=False, log_output=False)
    return time.perf_counter() - t0


def time_report(tmp: Path) -> tuple[float, dict]:
    import json

    from ogimpact.reports import CountryParams, run_report

    t0 = time.perf_counter()
    o = run_report(CountryParams(country="CHL", intervention="rti_law"), out_root=tmp / "reports")
    secs = time.perf_counter() - t0
    man = json.loads((o.path / "manifest.json").read_text())
    return secs, man["timings"].get("sections", {})


def time_cli(args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ogimpact", *args], env=env, capture_output=True, check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    empties, reports, sections = [], [], {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for _ in range(a.reps):
            empties.append(time_empty(tmp))
            s, sec = time_report(tmp)
            reports.append(s)
            sections = sec
    print("empty runs:", " ".join(f"{x:.2f}" for x in empties), "| report runs:", " ".join(f"{x:.2f}" for x in reports))
    e, r = statistics.median(empties), statistics.median(reports)
    print(f"| full Chile country report vs an empty Papermill notebook (same kernel, {a.reps} reps, medians): "
          f"≤ 8× | {r:.2f} s | empty notebook {e:.2f} s | {r / e:.2f}× | – | – | {'yes' if r / e <= 8 else 'no'} |")
    print("sections (last run):", ", ".join(f"{k[:40]} {v:.2f} s" for k, v in sections.items()))
    for args in (["--help"], ["measures"], ["interventions"], ["data", "list"]):
        t = time_cli(args)
        print(f"ogimpact {' '.join(args)}: {t:.2f} s (best of 3)")


if __name__ == "__main__":
    main()
