"""ogimpact against its Python peers, in the same run: ``make bench`` (or ``python benchmarks/run.py``).

Every measurement runs in a fresh subprocess (``worker.py``): ogimpact in the
project's venv (the interpreter running this script), the peers in a separate
venv ``.venv-bench`` that this script creates and fills (so the main ``.venv``
stays lean).  A peer that fails to install, import or run gives an error row;
so does a missing ogimpact design.  Results: ``benchmarks/results/latest.json``
and ``docs/benchmarks.md`` (rendered by ``render.py``).

Method
------
* time: median over ``reps`` fits of ``time.perf_counter`` inside the worker,
  after an untimed warm-up fit on the 200x30 panel (JIT, caches) and with the
  tool imported beforehand (import cost is its own benchmark);
* memory: the worker process's peak resident set size (``VmHWM`` of
  ``/proc/self/status``, read by the worker at its end; unlike ``ru_maxrss`` it
  does not inherit the launcher's size across ``exec``), and ``fit_mb`` = peak
  minus the RSS right before the timed fits (imports and data already loaded):
  the memory the estimation itself needs.  Whole-program rows (Papermill, the
  Chile report) use ``ru_maxrss`` from ``os.wait4`` (largest process of the
  tree, not a sum, floored at the launcher's ~30 MB).  Ratios are
  peer / ogimpact, so > 1 means ogimpact is faster / leaner.

Usage: ``run.py [--quick] [--only twfe,cs,...] [--no-install] [--no-render]``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from simulate import reference_csv, write_panel  # noqa: E402

BENCH_VENV = ROOT / ".venv-bench"
RESULTS = HERE / "results" / "latest.json"
DOC = ROOT / "docs" / "benchmarks.md"
DATA_DIR = Path(tempfile.gettempdir()) / "ogimpact-bench-data"

#: pip name -> import name of each peer; the requirement strings (versions) are pyproject's ``bench``
#: extra, installed one by one into .venv-bench so one failing peer does not block the others
PEERS = {"pyfixest": "pyfixest", "linearmodels": "linearmodels", "csdid": "csdid", "moderndid": "moderndid",
         "diff-diff": "diff_diff", "pysyncon": "pysyncon", "synthdid-py": "synthdid"}
#: tool name in a task -> pip name
TOOL_PKG = {"pyfixest": "pyfixest", "linearmodels": "linearmodels", "csdid": "csdid", "moderndid": "moderndid",
            "diff-diff": "diff-diff", "pysyncon": "pysyncon", "synthdid-py": "synthdid-py"}

SIZES = {"200x30": (200, 30), "3000x30": (3000, 30), "5000x20": (5000, 20), "50000x20": (50000, 20)}
SEED = 20240501
TIMEOUT = 900  # seconds per worker
MEM_CAP_MB = 12_000  # a worker tree above this is killed (the 24 GB machine is shared): recorded as an error

# (benchmark, size, tools, reps for ogimpact, reps for peers, skipped peers {tool: reason})
PLAN: list[tuple] = [
    ("twfe", "200x30", ["pyfixest", "linearmodels"], 7, 7, {}),
    ("twfe", "3000x30", ["pyfixest", "linearmodels"], 5, 5, {}),
    ("twfe", "50000x20", ["pyfixest", "linearmodels"], 3, 3, {}),
    ("event-study", "200x30", ["pyfixest"], 5, 5, {}),
    ("event-study", "3000x30", ["pyfixest"], 3, 3, {}),
    ("event-study", "50000x20", ["pyfixest"], 1, 1, {}),
    ("imputation", "200x30", ["pyfixest", "diff-diff"], 5, 3, {}),
    ("imputation", "3000x30", ["pyfixest", "diff-diff"], 3, 1, {}),
    ("imputation", "50000x20", [], 1, 1,
     {"pyfixest": "not run: did2s needed 6.8 GB at 90k rows here; at 1M rows it would exceed the 24 GB machine",
      "diff-diff": "not run: TwoStageDiD passed 20 GB of RSS at 1M rows here and was killed"}),
    ("cs", "200x30", ["csdid", "moderndid", "diff-diff"], 3, 3, {}),
    ("cs", "3000x30", ["csdid", "moderndid", "diff-diff"], 3, 3, {}),
    ("cs", "5000x20", ["csdid", "moderndid", "diff-diff"], 5, 3, {}),
    ("cs", "50000x20", ["diff-diff"], 1, 1, {t: "not run at 1M rows to keep `make bench` under ~25 minutes "
                                               "(see 5,000x20)" for t in ("csdid", "moderndid")}),
    ("sun-abraham", "200x30", ["diff-diff"], 3, 3, {}),
    ("sun-abraham", "3000x30", ["diff-diff"], 3, 1, {}),
    ("sun-abraham", "50000x20", ["diff-diff"], 1, 1, {}),
    ("synth", "basque", ["pysyncon", "diff-diff"], 3, 1, {}),
    ("placebo-space", "basque", ["pysyncon", "diff-diff"], 1, 1, {}),
    ("placebo-space-prop99", "prop99", [], 1, 1, {}),
    ("placebo-space-prop99-default", "prop99", [], 3, 1, {}),
    ("sdid", "prop99", ["synthdid-py", "diff-diff"], 5, 5, {}),
    ("sdid-placebo-se", "prop99", ["synthdid-py", "diff-diff"], 3, 3, {}),  # median of 3: the first fit loads numba's cached kernel
]
QUICK = {"200x30", "basque", "prop99"}
REF_DATA = {"basque": "basque_synth", "prop99": "prop99_synthdid"}
#: relative tolerance of "numbers agree" per benchmark (default 1e-6); synth weights come from an optimiser
TOL = {"synth": 2e-3}
NO_COMPARE = {"placebo-space": "placebo p-values follow different pool conventions",
              "placebo-space-prop99": "no peer", "placebo-space-prop99-default": "no peer"}


# ------------------------------------------------------------------ environment
def _pip(args: list[str], log: list[str]) -> bool:
    r = subprocess.run([str(BENCH_VENV / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check",
                        *args], capture_output=True, text=True)
    if r.returncode != 0:
        log.append(" ".join((r.stderr or r.stdout).split())[-400:])
    return r.returncode == 0


def peer_requirements() -> dict[str, str]:
    """pip name -> requirement string, from pyproject's ``bench`` extra (the one list of peers)."""
    import re
    import tomllib

    reqs = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"].get("bench", [])
    out = {}
    for req in reqs:
        name = re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].strip().lower()
        out[name] = req
    return out


def ensure_bench_venv(install: bool) -> dict:
    """Create ``.venv-bench`` and install each peer; returns {pip name: {ok, version|error}}."""
    status: dict = {}
    py = BENCH_VENV / "bin" / "python"
    if install and not py.exists():
        print(f"creating {BENCH_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=False)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=False)
    if not py.exists():
        return {p: {"ok": False, "error": "no .venv-bench (run without --no-install)"} for p in PEERS}
    reqs = peer_requirements()
    for pkg, mod in PEERS.items():
        log: list[str] = []
        probe = [str(py), "-c", f"import importlib.metadata as m, {mod}; print(m.version({pkg!r}))"]
        r = subprocess.run(probe, capture_output=True, text=True)
        if r.returncode != 0 and install:
            print(f"installing {pkg} into .venv-bench ...", flush=True)
            _pip(["install", reqs.get(pkg, pkg)], log)
            r = subprocess.run(probe, capture_output=True, text=True)
        if r.returncode == 0:
            status[pkg] = {"ok": True, "version": r.stdout.strip().splitlines()[-1]}
        else:
            why = log[-1] if log else " ".join(r.stderr.split())[-300:]
            status[pkg] = {"ok": False, "error": f"install/import failed: {why}"}
    return status


def _version(python: str, code: str) -> str:
    r = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "?"


def machine_facts() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1e6
    except OSError:
        mem = float("nan")
    bpy = str(BENCH_VENV / "bin" / "python")
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem, 1),
        "python": platform.python_version(),
        "numpy": _version(sys.executable, "import numpy; print(numpy.__version__)"),
        "pandas": _version(sys.executable, "import pandas; print(pandas.__version__)"),
        "ogimpact": _version(sys.executable, "import ogimpact; print(getattr(ogimpact, '__version__', '?'))"),
        "bench_venv_numpy": _version(bpy, "import numpy; print(numpy.__version__)") if Path(bpy).exists() else None,
        "git_commit": git.stdout.strip() or None,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "load_average_start": os.getloadavg(),
    }


# ------------------------------------------------------------------ running one measurement
def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (its session), from /proc."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            st = (d / "stat").read_text()
            if int(st.rsplit(")", 1)[1].split()[3]) != pid:  # field 6: session id (workers lead their session)
                continue
            total += int((d / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_process(cmd: list[str], *, timeout: float = TIMEOUT, env: dict | None = None,
                cwd: str | None = None) -> dict:
    """Run ``cmd``; return wall seconds, exit code and the child tree's peak RSS (``os.wait4``)."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, start_new_session=True,
                             env=env, cwd=cwd)
        timed_out = over_mem = False
        n = 0
        while True:  # poll with wait4 so the child's rusage (peak RSS) comes back with its exit
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            n += 1
            if n % 25 == 0 and _tree_rss_mb(p.pid) > MEM_CAP_MB:
                over_mem = True
            if over_mem or time.perf_counter() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                timed_out = not over_mem
                break
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out = fo.read()[-2000:].decode(errors="replace")
        err = fe.read()[-4000:].decode(errors="replace")
    if over_mem:
        err = f"killed: the process tree exceeded the {MEM_CAP_MB / 1e3:.0f} GB memory cap of the harness"
    return {"wall": wall, "rc": p.returncode, "peak_mb": ru.ru_maxrss / 1e3, "timed_out": timed_out,
            "stderr_tail": " ".join(err.split())[-400:], "stdout_tail": " ".join(out.split())[-200:]}


def _data_for(size: str) -> tuple[str, str, str | None]:
    if size in SIZES:
        n, t = SIZES[size]
        path = write_panel(DATA_DIR / f"panel_{size}_{SEED}.npz", n, t, seed=SEED)
        warm = write_panel(DATA_DIR / f"panel_200x30_{SEED}.npz", 200, 30, seed=SEED)
        return str(path), "npz", str(warm)
    csv = reference_csv(REF_DATA[size])
    if csv is None:
        raise FileNotFoundError(f"reference data {REF_DATA[size]} not found under tests/reference")
    return str(csv), "csv", None


def measure(bench: str, size: str, tool: str, reps: int, python: str) -> dict:
    from tasks import TASKS

    task = TASKS.get((bench, tool))
    row = {"benchmark": bench, "size": size, "tool": tool, "reps": reps, "setup": task.note if task else ""}
    try:
        data, kind, warm = _data_for(size)
    except FileNotFoundError as exc:
        return {**row, "error": str(exc)}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        out = Path(tmp) / "out.json"
        spec.write_text(json.dumps({"benchmark": bench, "tool": tool, "data": data, "kind": kind,
                                    "warm": warm, "reps": reps}))
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        pr = run_process([python, str(HERE / "worker.py"), str(spec), str(out)], env=env)
        res = json.loads(out.read_text()) if out.exists() else {}
    if not res.get("ok"):
        why = res.get("error") or (f"timeout after {TIMEOUT} s" if pr["timed_out"] else
                                   f"exit {pr['rc']}: {pr['stderr_tail']}")
        return {**row, "error": why, "peak_mb": pr["peak_mb"]}
    times = res["times"]
    peak = res.get("hwm_mb") or pr["peak_mb"]
    return {**row, "seconds": statistics.median(times), "seconds_all": times,
            "warmup_seconds": res.get("warmup_seconds"), "import_seconds": res.get("import_seconds"),
            "peak_mb": peak, "fit_mb": max(0.0, peak - res["baseline_mb"]), "baseline_mb": res["baseline_mb"],
            "tree_maxrss_mb": pr["peak_mb"], "result": res.get("result")}


# ------------------------------------------------------------------ comparisons
def _close(a, b, tol) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a))


def compare(og: dict, row: dict, bench: str, se_comparable: bool) -> tuple[bool | None, float | None, str]:
    """Do the peer's numbers agree with ogimpact's?  (agree, max abs diff, what was compared)."""
    if bench in NO_COMPARE or "result" not in og or "result" not in row:
        return None, None, NO_COMPARE.get(bench, "")
    a, b = og["result"], row["result"]
    tol = TOL.get(bench, 1e-6)
    pairs, what = [], []
    if a.get("estimate") is not None and b.get("estimate") is not None:
        pairs.append((a["estimate"], b["estimate"]))
        what.append("estimate")
    if se_comparable and a.get("se") is not None and b.get("se") is not None:
        pairs.append((a["se"], b["se"]))
        what.append("se")
    common = sorted(set(a.get("vector", {})) & set(b.get("vector", {})))
    if common:
        pairs += [(a["vector"][k], b["vector"][k]) for k in common]
        what.append(f"{len(common)} coefficients/weights")
    if not pairs:
        return None, None, "nothing comparable"
    diff = max(abs(x - y) for x, y in pairs)
    return all(_close(x, y, tol) for x, y in pairs), diff, " + ".join(what) + f" (rel tol {tol:g})"


def _ratio(peer, og):
    return None if not peer or not og else peer / og


def add_ratios(rows: list[dict]) -> None:
    from tasks import TASKS

    for r in rows:
        og = next((o for o in rows if o["benchmark"] == r["benchmark"] and o["size"] == r["size"]
                   and o["tool"] == "ogimpact"), None)
        if og is None or "seconds" not in r or "seconds" not in og or r["tool"] == "ogimpact":
            r.setdefault("ratio_vs_ogimpact", None)
            r.setdefault("numbers_agree", None)
            continue
        big = max(r.get("fit_mb") or 0, og.get("fit_mb") or 0) >= 20
        r["ratio_vs_ogimpact"] = {"seconds": _ratio(r["seconds"], og["seconds"]),
                                  "peak_mb": _ratio(r["peak_mb"], og["peak_mb"]),
                                  "fit_mb": _ratio(max(r["fit_mb"], 1.0), max(og["fit_mb"], 1.0)) if big else None}
        task = TASKS.get((r["benchmark"], r["tool"]))
        agree, diff, what = compare(og, r, r["benchmark"], bool(task and task.se_comparable))
        r.update(numbers_agree=agree, max_abs_diff=diff, compared=what)


# ------------------------------------------------------------------ whole-process benchmarks
def _median_runs(cmd: list[str], k: int, **kw) -> dict:
    runs = [run_process(cmd, **kw) for _ in range(k)]
    bad = [r for r in runs if r["rc"] != 0]
    if bad:
        return {"error": f"exit {bad[0]['rc']}{' (timeout)' if bad[0]['timed_out'] else ''}: {bad[0]['stderr_tail']}",
                "peak_mb": bad[0]["peak_mb"]}
    hwm = [float(r["stdout_tail"].split("HWM ")[-1].split()[0]) / 1e3 for r in runs if "HWM " in r["stdout_tail"]]
    return {"seconds": statistics.median(r["wall"] for r in runs), "seconds_all": [r["wall"] for r in runs],
            "peak_mb": max(hwm) if hwm else max(r["peak_mb"] for r in runs)}


#: what importing each peer means: the entry points the benchmarks use (several packages load lazily)
PEER_IMPORTS = {"pyfixest": "import pyfixest as pf; pf.feols; pf.did2s", "linearmodels":
                "from linearmodels.panel import PanelOLS", "csdid": "from csdid.att_gt import ATTgt",
                "moderndid": "from moderndid import att_gt, aggte", "diff-diff": "from diff_diff import CallawaySantAnna",
                "pysyncon": "from pysyncon import Synth, Dataprep", "synthdid-py": "import synthdid; synthdid.synthdid_estimate"}


def import_rows(peers: dict, k: int) -> list[dict]:
    """Wall time and peak RSS of ``python -c 'import …'`` in a fresh interpreter."""
    designs = ",".join(f"ogimpact.designs.{m}" for m in ("twfe", "event_study", "callaway_santanna",
                                                          "sun_abraham", "imputation", "synth", "sdid", "its"))
    cases = [("python (bare)", sys.executable, "pass"),
             ("numpy+pandas+scipy", sys.executable, "import numpy, pandas, scipy.optimize, scipy.stats"),
             ("ogimpact", sys.executable, "import ogimpact, ogimpact.estimation, ogimpact.panel"),
             ("ogimpact (all designs)", sys.executable, f"import ogimpact.estimation, {designs}"),
             ("ogimpact (designs + reports stack)", sys.executable,
              f"import ogimpact.estimation, {designs}, ogimpact.reports.runner, papermill, matplotlib.pyplot")]
    bpy = str(BENCH_VENV / "bin" / "python")
    for pkg, code in PEER_IMPORTS.items():
        if peers.get(pkg, {}).get("ok"):
            cases.append((pkg, bpy, code))
    hwm = ("\nfor _l in open('/proc/self/status'):\n    if _l.startswith('VmHWM:'): print('HWM', _l.split()[1])")
    rows = []
    for tool, py, code in cases:
        r = _median_runs([py, "-W", "ignore", "-c", code + hwm], k)
        rows.append({"benchmark": "import", "size": "-", "tool": tool, "reps": k, **r})
    ref = next((r for r in rows if r["tool"] == "ogimpact (all designs)" and "seconds" in r), None)
    for r in rows:
        r["ratio_vs_ogimpact"] = ({"seconds": r["seconds"] / ref["seconds"], "peak_mb": r["peak_mb"] / ref["peak_mb"]}
                                  if ref and "seconds" in r and r["tool"] in PEERS else None)
        r["numbers_agree"] = None
    return rows


def papermill_floor(k: int) -> dict:
    """An empty parameterised notebook through Papermill (kernel start + one cell)."""
    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("x = 1")
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell, nbformat.v4.new_code_cell("x")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        src = Path(tmp) / "empty.ipynb"
        nbformat.write(nb, src)
        code = ("import papermill as pm, sys; pm.execute_notebook(sys.argv[1], sys.argv[2], parameters={'x': 2}, "
                "kernel_name='python3', progress_bar=False)")
        r = _median_runs([sys.executable, "-W", "ignore", "-c", code, str(src), str(Path(tmp) / "out.ipynb")], k)
    return {"benchmark": "papermill-floor", "size": "empty notebook", "tool": "ogimpact", "reps": k, **r,
            "ratio_vs_ogimpact": None, "numbers_agree": None}


def chile_report() -> dict:
    """The full Chile x rti_law country report (``ogimpact report country``), wall time."""
    exe = Path(sys.executable).with_name("ogimpact")
    with tempfile.TemporaryDirectory() as tmp:
        r = _median_runs([str(exe), "report", "country", "CHL", "--intervention", "rti_law", "--out", tmp], 1,
                         timeout=600, cwd=str(ROOT))
    return {"benchmark": "chile-report", "size": "CHL x rti_law", "tool": "ogimpact", "reps": 1, **r,
            "ratio_vs_ogimpact": None, "numbers_agree": None}


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and reference data only")
    ap.add_argument("--only", help="comma-separated benchmarks (twfe,event-study,...,import,papermill-floor,"
                                   "chile-report)")
    ap.add_argument("--no-install", action="store_true", help="do not create/fill .venv-bench")
    ap.add_argument("--no-render", action="store_true")
    ap.add_argument("--out", default=str(RESULTS))
    a = ap.parse_args(argv)
    only = set(a.only.split(",")) if a.only else None

    facts = machine_facts()
    peers = ensure_bench_venv(not a.no_install)
    bpy = str(BENCH_VENV / "bin" / "python")
    rows: list[dict] = []
    partial = Path(a.out).with_suffix(".partial.tmp")  # progress so far, if the run is interrupted
    partial.parent.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    for bench, size, tools, og_reps, peer_reps, skipped in PLAN:
        if (only and bench not in only) or (a.quick and size not in QUICK):
            continue
        print(f"[{time.perf_counter() - t_start:6.0f}s] {bench} {size}: ogimpact", end="", flush=True)
        rows.append(measure(bench, size, "ogimpact", og_reps, sys.executable))
        for tool in tools:
            pkg = TOOL_PKG[tool]
            print(f", {tool}", end="", flush=True)
            if not peers.get(pkg, {}).get("ok"):
                rows.append({"benchmark": bench, "size": size, "tool": tool, "reps": 0,
                             "error": peers.get(pkg, {}).get("error", "not installed")})
                continue
            rows.append({**measure(bench, size, tool, peer_reps, bpy), "version": peers[pkg]["version"]})
        for tool, why in skipped.items():
            rows.append({"benchmark": bench, "size": size, "tool": tool, "reps": 0, "skipped": why})
        print(flush=True)
        partial.write_text(json.dumps({"machine": facts, "peers": peers, "rows": rows}, default=float))
    add_ratios(rows)
    if not only or "import" in only:
        print("import cost ...", flush=True)
        rows += import_rows(peers, 3 if a.quick else 5)
    if not only or "papermill-floor" in only:
        print("papermill floor ...", flush=True)
        rows.append(papermill_floor(3))
    if (not only and not a.quick) or (only and "chile-report" in only):
        print("chile report ...", flush=True)
        rows.append(chile_report())

    facts["load_average_end"] = os.getloadavg()
    facts["total_seconds"] = time.perf_counter() - t_start
    doc = {"machine": facts, "peers": peers, "quick": a.quick, "method": __doc__.split("Method\n------\n")[1]
           .split("\nUsage")[0].strip(), "rows": rows}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    partial.unlink(missing_ok=True)
    print(f"wrote {out}")
    if not a.no_render:
        from render import render

        DOC.write_text(render(doc))
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
