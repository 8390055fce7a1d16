"""One measurement in a fresh process: ``worker.py SPEC.json OUT.json``.

SPEC: ``{"benchmark", "tool", "data", "kind": "npz"|"csv", "warm": path|null, "reps": k}``.
The worker imports the tool (untimed), loads the data (untimed), runs one
warm-up fit (on ``warm``, a small panel, so JIT compilation and first-call
caches are paid before timing; skipped when ``warm`` is null), records the
resident set size (RSS) as the baseline, then times ``reps`` fits with
``time.perf_counter`` (``gc.collect()`` between them).  It writes the times,
the baseline RSS, its own ``ru_maxrss`` and the last fit's numbers to OUT.
Peak memory: VmHWM of this process (see :func:`hwm_mb`); the parent also keeps
the tree's ``ru_maxrss`` from ``os.wait4`` (which includes pool workers).
"""
from __future__ import annotations

import gc
import importlib
import json
import resource
import sys
import time
import traceback
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def rss_mb() -> float:
    """Current resident set size in MB (from /proc/self/statm)."""
    import os

    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def hwm_mb() -> float:
    """Peak resident set size of this process image (VmHWM of /proc/self/status), in MB.

    Unlike ``ru_maxrss``, VmHWM starts afresh at ``exec``, so it does not carry
    the launching process's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e3
    return float("nan")


def _load(path: str, kind: str):
    import pandas as pd

    from simulate import load_frame

    return load_frame(path) if kind == "npz" else pd.read_csv(path)


def main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    out: dict = {"ok": False}
    try:
        warnings.simplefilter("ignore")
        from tasks import TASKS

        task = TASKS[(spec["benchmark"], spec["tool"])]
        t0 = time.perf_counter()
        for m in task.imports:
            importlib.import_module(m)
        out["import_seconds"] = time.perf_counter() - t0
        df = _load(spec["data"], spec["kind"])
        if spec.get("warm"):
            warm = _load(spec["warm"], spec["kind"])
            t0 = time.perf_counter()
            task.fit(warm)
            out["warmup_seconds"] = time.perf_counter() - t0
            del warm
        gc.collect()
        out["baseline_mb"] = rss_mb()
        times, res = [], None
        for _ in range(int(spec.get("reps", 1))):
            gc.collect()
            t0 = time.perf_counter()
            res = task.fit(df)
            times.append(time.perf_counter() - t0)
        out.update(ok=True, times=times, result=res)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes an error row
        tb = traceback.format_exc().strip().splitlines()
        out["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        out["traceback_tail"] = tb[-6:]
    out["maxrss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    out["hwm_mb"] = hwm_mb()
    out["children_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3
    Path(out_path).write_text(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
