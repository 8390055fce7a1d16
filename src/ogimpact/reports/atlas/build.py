"""Build the evidence atlas: plan the cells, reuse cached ones, run the rest on a local pool or Dask, write.

The output folder ``DIR`` holds

* ``data/cells/<cell>.json`` – one file per cell: id, key, key components, spec, status, summary (grade,
  headline, estimand, grade target, reasons, headline numbers) and the assessment JSON;
* ``data/atlas.json`` – the cell index (everything above but the assessment JSON) and the versions;
* ``data/atlas.csv`` – the tidy table, one row per cell;
* the static site (``index.html`` …, :mod:`.site`);
* ``manifest.json`` – every cell with key, status (computed / reused / failed …) and seconds, and the build's
  wall time, engine and cache.  Timings live only here: the data files and pages of two builds of the same
  inputs are byte-identical, whatever the engine.

Cells run in a pinned local process pool (:mod:`ogimpact.parallel`) or on Dask distributed
(``scheduler="tcp://host:8786"`` or ``"local:N"`` for a ``LocalCluster`` of N one-thread worker processes).
A cell that fails does not stop the build; failed cells are listed at the end and are not cached.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ...atomic import atomic_write_text
from ...errors import UsageError
from .cache import CellCache, canonical_json, cell_key, code_sha, data_version, environment, key_components
from .cells import CROSS, PARAM_DEFAULTS, cell_id, plan_cells, run_cell
from .site import write_if_changed as _write_if_changed

__all__ = ["build_atlas", "rebuild_command", "CSV_COLUMNS", "cell_row"]

CSV_COLUMNS = ("intervention", "measure", "domain", "country", "kind", "estimand", "design", "estimate", "se",
               "ci_low", "ci_high", "p_value", "grade", "grade_target", "headline", "status", "key")
ATLAS_FORMAT = 1


def rebuild_command(interventions, measures, country_measures, countries, params) -> str:
    """The command that rebuilds the atlas (engine, cache and output folder left out: they change no byte)."""
    parts = ["ogimpact", "atlas", "build", "--interventions", ",".join(interventions)]
    if measures is not None:
        parts += ["--measures", ",".join(measures)]
    if country_measures is not None:
        parts += ["--country-measures", country_measures if isinstance(country_measures, str)
                  else (",".join(country_measures) or "none")]
    if countries:
        parts += ["--countries", ",".join(countries)]
    for k, flag in (("seed", "--seed"), ("min_pre", "--min-pre"), ("sdid_reps", "--sdid-reps"),
                    ("variant", "--variant")):
        if params.get(k, PARAM_DEFAULTS[k]) != PARAM_DEFAULTS[k]:
            parts += [flag, str(params[k])]
    return " ".join(parts)


def _run_checked(spec: Mapping, key: str) -> dict:
    """Worker side: run the cell and refuse a result computed from inputs other than the client's."""
    comps = key_components(spec)
    if cell_key(comps) != key:
        return {"id": cell_id(spec), "spec": dict(spec), "status": "failed", "result": None, "seconds": 0.0,
                "summary": None, "error": "this worker's inputs differ from the client's (install the same ogimpact "
                "and data on every Dask worker)"}
    return run_cell(spec)


def _progress(total: int, enabled: bool) -> Callable[[dict, str], None]:
    state = {"n": 0, "failed": 0}

    def tick(rec: dict, how: str) -> None:
        state["n"] += 1
        state["failed"] += rec.get("status") == "failed"
        if enabled:
            n = state["n"]
            bar = "#" * int(24 * n / max(1, total))
            print(f"\r[{bar:<24}] {n}/{total} {how:<8} failed {state['failed']}  {rec['id'][:60]:<60}", end="",
                  file=sys.stderr, flush=True)
    return tick


def _engine_local(todo, workers: int, tick) -> dict[str, dict]:
    out = {}
    if workers <= 1 or len(todo) <= 1:
        for spec, key in todo:
            out[key] = run_cell(spec)
            tick(out[key], "computed")
        return out
    from ...parallel import pinned_env, process_pool

    with pinned_env(), process_pool(min(workers, len(todo)), method="auto") as ex:
        futs = {ex.submit(_run_checked, spec, key): (spec, key) for spec, key in todo}
        for fut in cf.as_completed(futs):
            spec, key = futs[fut]
            try:
                rec = fut.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker fails its cell, not the build
                rec = _failed(spec, exc)
            out[key] = rec
            tick(rec, "computed")
    return out


def _failed(spec, exc) -> dict:
    return {"id": cell_id(spec), "spec": dict(spec), "status": "failed", "result": None, "summary": None,
            "seconds": 0.0, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"}


def _engine_dask(todo, scheduler: str, tick) -> dict[str, dict]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise UsageError("--scheduler needs dask.distributed; install it with `pip install ogimpact[atlas]`.") from None
    from ...parallel import pinned_env

    cluster = None
    out: dict[str, dict] = {}
    with pinned_env():
        if scheduler.startswith("local:"):
            try:
                n = int(scheduler.split(":", 1)[1])
            except ValueError:
                raise UsageError(f"--scheduler {scheduler!r}: give local:N with N workers, e.g. local:2.") from None
            if n < 1:
                raise UsageError("--scheduler local:N needs N >= 1 workers.")
            import logging

            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        try:
            try:
                client = Client(cluster if cluster is not None else scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(f"cannot reach the Dask scheduler at {scheduler!r} ({' '.join(str(exc).split())[:200]}); "
                                 "start it (`dask scheduler`) or check the address, e.g. tcp://host:8786.") from None
            with client:
                futs = {client.submit(_run_checked, spec, key, key=f"atlas-cell-{key}", pure=False): (spec, key)
                        for spec, key in todo}
                for fut in as_completed(list(futs)):
                    spec, key = futs[fut]
                    try:
                        rec = fut.result()
                    except Exception as exc:  # noqa: BLE001
                        rec = _failed(spec, exc)
                    out[key] = rec
                    tick(rec, "computed")
        finally:
            if cluster is not None:
                cluster.close()
    return out


def _source_versions(cells) -> list[dict]:
    """The bundled sources the cells read, each with its title and the sha256 over its manifest rows."""
    from ... import interventions as iv
    from ... import measures as ms
    from ...data.manifest import SOURCE_INFO, read_manifest

    used = {ms.get(c["spec"]["measure"]).source for c in cells} | {"country_reference"}
    man = read_manifest()
    out = []
    for src in sorted(used):
        rows = man[man["source"] == src].sort_values("path")
        sha = hashlib.sha256(canonical_json([[a, b] for a, b in zip(rows["path"], rows["sha256"])]).encode()).hexdigest()
        out.append({"source": src, "title": SOURCE_INFO.get(src, {}).get("title", src), "sha256": sha,
                    "files": int(len(rows))})
    ivs = sorted({c["spec"]["intervention"] for c in cells})
    for i in ivs:
        out.append({"source": f"timing:{i}", "title": f"timing table of {i} ({iv.get(i).label})",
                    "sha256": (cells[[c["spec"]["intervention"] for c in cells].index(i)]["components"]["timing"]),
                    "files": None})
    return out


def cell_row(cell: Mapping) -> dict:
    """One tidy-CSV row of a cell document."""
    from ... import measures as ms

    s, sm = cell["spec"], cell.get("summary") or {}
    return {"intervention": s["intervention"], "measure": s["measure"], "domain": ms.get(s["measure"]).domain,
            "country": s.get("country") or CROSS, "kind": s.get("kind"), "estimand": sm.get("estimand"),
            "design": sm.get("design"), **{k: sm.get(k) for k in ("estimate", "se", "ci_low", "ci_high", "p_value")},
            "grade": sm.get("grade"), "grade_target": _target_text(sm.get("grade_target")), "headline": sm.get("headline"),
            "status": cell.get("status"), "key": cell["key"]}


def _target_text(target) -> str | None:
    """The grade target in words for the tidy CSV ("certainty that there is no effect larger than 0.2")."""
    if isinstance(target, Mapping):
        return target.get("text") or canonical_json(target)
    return target


def _csv(rows: Sequence[Mapping]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow(["" if r.get(c) is None else (repr(r[c]) if isinstance(r[c], float) else r[c])
                    for c in CSV_COLUMNS])
    return buf.getvalue()


def build_atlas(
    interventions: Sequence[str],
    *,
    out: str | os.PathLike = "atlas",
    measures: Sequence[str] | None = None,
    country_measures: Sequence[str] | str | None = None,
    countries: Sequence[str] | None = None,
    params: Mapping | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    rebuild: bool = False,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Build (or update) the atlas in ``out``; returns the build manifest (also written to ``out/manifest.json``).

    Parameters
    ----------
    interventions, measures, country_measures, countries, params : see :func:`.cells.plan_cells`.
    workers : local worker processes (BLAS pinned to one thread each); ignored with ``scheduler``.
    scheduler : ``tcp://host:port`` of a Dask scheduler, or ``local:N`` for a ``LocalCluster``.
    rebuild : recompute every cell (the cache is overwritten, not read).
    cache_dir : cell cache folder (default :func:`.cache.default_cache_dir`).
    """
    from ... import __version__
    from ...evidence.grading import load_rubric
    from .site import write_site

    t0 = time.perf_counter()
    if workers < 1:
        raise UsageError("--workers must be at least 1.")
    p = {**PARAM_DEFAULTS, **(params or {})}
    specs = plan_cells(interventions, measures=measures, country_measures=country_measures, countries=countries,
                       params=p)
    if not specs:
        raise UsageError("the atlas has no cells: give at least one measure (see `ogimpact measures`).")
    cache = CellCache(cache_dir)
    keyed = []
    for s in specs:
        comps = key_components(s)
        keyed.append((s, comps, cell_key(comps)))
    tick = _progress(len(keyed), progress)
    records: dict[str, dict] = {}
    how: dict[str, str] = {}
    todo = []
    for s, _, key in keyed:
        hit = None if rebuild else cache.get(key)
        if hit is not None and hit.get("record", {}).get("status") != "failed":
            records[key] = {**hit["record"], "seconds": hit.get("seconds", 0.0)}
            how[key] = "reused"
            tick(records[key], "reused")
        else:
            todo.append((s, key))
    engine = (f"dask {scheduler}" if scheduler else f"local pool x{workers}" if workers > 1 else "in-process")
    t_run = time.perf_counter()
    done = (_engine_dask(todo, scheduler, tick) if scheduler and todo else
            _engine_local(todo, workers, tick) if todo else {})
    run_seconds = time.perf_counter() - t_run
    if progress:
        print(file=sys.stderr)
    for key, rec in done.items():
        secs = rec.pop("seconds", 0.0)
        # one form for computed and reused cells: what the cache would give back (sorted keys, JSON types)
        rec = json.loads(canonical_json(rec))
        if rec.get("status") != "failed":
            cache.put(key, {"record": rec, "seconds": secs})
        records[key] = {**rec, "seconds": secs}
        how[key] = "computed"

    root = Path(out)
    cells_dir = root / "data" / "cells"
    cells = []
    for s, comps, key in keyed:
        rec = records[key]
        cells.append({"id": cell_id(s), "key": key, "components": comps, "spec": s, "status": rec["status"],
                      "error": rec.get("error"), "summary": rec.get("summary"), "result": rec.get("result")})
    # the data files: written only when their bytes change, stale cell files of earlier builds removed
    keep = set()
    for c in cells:
        keep.add(f"{c['id']}.json")
        _write_if_changed(cells_dir / f"{c['id']}.json", canonical_json(c) + "\n")
    if cells_dir.is_dir():
        for f in cells_dir.glob("*.json"):
            if f.name not in keep:
                f.unlink()
    rub = load_rubric(None)
    meta = {"format": ATLAS_FORMAT, "package": __version__, "code": code_sha(), "data_version": data_version(),
            "environment": environment(),
            "rubric": {"name": rub.data.get("rubric"), "version": rub.version, "sha256": rub.sha256},
            "command": rebuild_command(list(dict.fromkeys(interventions)), measures, country_measures, countries, p),
            "interventions": list(dict.fromkeys(interventions)), "params": p,
            "sources": _source_versions(cells)}
    meta["atlas_version"] = hashlib.sha256(canonical_json([c["key"] for c in cells]).encode()).hexdigest()[:12]
    index = {**meta, "cells": [{k: v for k, v in c.items() if k != "result"} for c in cells]}
    _write_if_changed(root / "data" / "atlas.json", canonical_json(index) + "\n")
    _write_if_changed(root / "data" / "atlas.csv", _csv([cell_row(c) for c in cells]))
    write_site(root, cells, meta)
    n_cached, bytes_cached = cache.size()
    failures = [{"id": c["id"], "status": c["status"], "error": c["error"]} for c in cells if c["status"] == "failed"]
    manifest = {
        **{k: meta[k] for k in ("atlas_version", "package", "data_version", "rubric", "command")},
        "engine": engine, "n_cells": len(cells), "n_computed": len(done), "n_reused": len(cells) - len(done),
        "n_failed": len(failures), "n_not_estimable": sum(c["status"] == "not estimable" for c in cells),
        "seconds": {"total": round(time.perf_counter() - t0, 2), "cells": round(run_seconds, 2)},
        "cache": {"dir": str(cache.root), "cells": n_cached, "bytes": bytes_cached},
        "failures": failures,
        "cells": [{"id": c["id"], "key": c["key"], "status": how[c["key"]] if c["status"] != "failed" else "failed",
                   "result_status": c["status"], "seconds": records[c["key"]].get("seconds", 0.0)} for c in cells],
    }
    atomic_write_text(root / "manifest.json", canonical_json(manifest) + "\n")
    return manifest

