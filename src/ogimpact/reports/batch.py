"""Batch reports: many parameter sets, a local process pool or a Dask cluster, and an index page.

A batch spec (YAML) is::

    out: reports            # optional
    defaults: {kind: country, intervention: ogp_member, seed: 0}
    runs:
      - {country: CHL}
      - {country: MEX, measures: [wgi.cc]}
      - {kind: cross-country, intervention: rti_law}

Every entry is validated before anything runs; an invalid entry is reported as
failed and the others still run (continue-on-error).  Workers pin BLAS to one
thread each (two processes each starting two BLAS threads on two cores are
several times slower).
"""
from __future__ import annotations

import concurrent.futures as cf
import html
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import OgimpactError
from .params import params_from_dict

__all__ = ["load_spec", "run_batch", "write_index", "BatchEntry", "batch_root", "SPEC_HELP"]

#: the batch spec format, shown by ``ogimpact report batch --help`` (and docs/batch.md)
SPEC_HELP = """\
A batch spec is a YAML file with up to three keys:

  out: reports/batch-example     # optional: where the reports and index.html go, relative to the
                                 # working directory (--out overrides it) [the checkout's reports/]
  defaults:                      # optional: parameters every run takes unless it sets its own
    kind: country                # country | cross-country | evidence [country]
    intervention: rti_law
    seed: 0
  runs:                          # required: one mapping per report
    - {country: CHL}
    - {country: MEX, measures: [wgi.cc], designs: [its, sdid]}
    - {kind: cross-country, intervention: ogp_member}
    - {kind: evidence}

Run parameters (as on `ogimpact report country|cross-country|evidence`):
  country:       ISO3 code (country reports)
  intervention:  id from `ogimpact interventions`
  measures:      list of ids from `ogimpact measures` [as `ogimpact report KIND` without --measures:
                 country: the intervention's own list, else four domain-balanced measures; cross-country: the
                 first two of those; evidence: every catalogue measure]
  designs:       country: synth, sdid, its, cs; cross-country: twfe, cs, sun-abraham, imputation [all that apply]
  years:         "A:B" [every year]      variant: timing variant [the registry default]
  donor_rule:    similar | untreated (alias registry) | all-untreated | region, or NAME(key=value,...) [similar]
  placebo:       true | false [true]     seed: integer [0]      horizon: event times 0..H of the headline [5]

Every entry is validated before anything runs; an invalid entry is listed as invalid and the others still
run. Two entries that would write the same folder are refused. A progress line is printed per finished
report; the index page links every report with its status and headline numbers.
An example: examples/batch.yaml.
"""



@dataclass
class BatchEntry:
    index: int
    raw: dict
    params: Any = None
    error: str | None = None


_MAX_ALIASES = 50  # YAML aliases a batch spec may use


def load_spec(path: str | os.PathLike) -> tuple[list[BatchEntry], dict]:
    """Read and validate a batch spec; invalid entries carry their error instead of raising."""
    import yaml

    p = Path(path)
    if not p.exists():
        raise OgimpactError(f"batch spec {str(p)!r} does not exist.")
    if p.is_dir():
        raise OgimpactError(f"batch spec {str(p)[:200]!r} is a folder; give the path of the YAML spec file.")
    try:
        text = p.read_text(encoding="utf-8")
        # aliases expand on load: a 1 KB "billion laughs" spec must not become gigabytes
        n_alias = sum(isinstance(ev, yaml.AliasEvent) for ev in yaml.parse(text, Loader=yaml.SafeLoader))
        if n_alias > _MAX_ALIASES:
            raise OgimpactError(f"batch spec {str(p)[:200]!r} uses {n_alias} YAML aliases (limit {_MAX_ALIASES}); "
                                "write the runs out instead of nesting anchors.")
        doc = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise OgimpactError(f"batch spec {str(p)[:200]!r} is not UTF-8 text; save it as a YAML text file.") from None
    except yaml.YAMLError as exc:
        raise OgimpactError(f"batch spec {str(p)!r} is not valid YAML ({' '.join(str(exc).split())[:200]}).") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list) or not doc["runs"]:
        raise OgimpactError(f"batch spec {str(p)!r} needs a non-empty 'runs:' list (see `ogimpact report batch --help`).")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise OgimpactError("'defaults:' in the batch spec must be a mapping.")
    known = set().union(*(_param_names(k) or set() for k in ("country", "cross-country", "evidence"))) | {"kind"}
    unknown = sorted(set(defaults) - known)
    if unknown:
        raise OgimpactError(f"unknown parameter(s) {', '.join(unknown)} under 'defaults:' in the batch spec; "
                            f"valid: {', '.join(sorted(known))}.")
    entries = []
    for i, run in enumerate(doc["runs"]):
        e = BatchEntry(index=i, raw=run if isinstance(run, dict) else {"value": run})
        try:
            if not isinstance(run, dict):
                raise OgimpactError(f"run {i} is not a mapping of parameters.")
            kind = run.get("kind", defaults.get("kind", "country"))
            # defaults apply to the runs whose kind takes them (e.g. `intervention` is not an evidence parameter)
            valid = _param_names(kind)
            merged = {**{k: v for k, v in defaults.items() if k != "kind" and (valid is None or k in valid)},
                      **{k: v for k, v in run.items() if k != "kind"}}
            e.params = params_from_dict(kind, merged)
        except OgimpactError as exc:
            e.error = " ".join(str(exc).split())
        except TypeError as exc:
            e.error = f"bad parameter values ({exc})"
        entries.append(e)
    return entries, doc


def _refuse_shared_folders(entries) -> None:
    """Refuse a batch whose valid entries would write the same report folder (before anything runs)."""
    seen: dict[tuple, BatchEntry] = {}
    for e in entries:
        if e.error or e.params is None:
            continue
        key = (e.params.kind, e.params.slug)
        if key in seen:
            a, b = seen[key].params.notebook_parameters(), e.params.notebook_parameters()
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise OgimpactError(
                f"batch entries {seen[key].index} and {e.index} would both write reports/{key[0]}/{key[1]}/"
                + (f" (they differ only in {', '.join(diff)}, which the folder name does not carry)" if diff
                   else " (they are identical)")
                + "; run them in separate batches with different --out folders, or drop the duplicate.")
        seen[key] = e


def _param_names(kind: str) -> set[str] | None:
    from dataclasses import fields

    from .params import _KINDS

    cls = _KINDS.get(kind)
    return None if cls is None else {f.name for f in fields(cls)}


def _run_one(params, out_root, timeout, alone: bool = True):
    """Worker: run one report; never raises (the batch continues on error).

    ``alone``: the only report running here, so its kernel may fit ahead in a forked worker
    (:mod:`ogimpact.reports.prefetch`); reports run side by side already fill the cores.
    """
    from ..parallel import pin_blas_threads
    from .prefetch import ENV
    from .runner import ReportFailed, run_report

    pin_blas_threads(1)
    if not alone:
        os.environ[ENV] = "0"

    t0 = time.perf_counter()
    try:
        o = run_report(params, out_root=out_root, timeout=timeout)
        return o.to_dict()
    except ReportFailed as exc:
        return {"kind": params.kind, "slug": params.slug, "path": str(exc.path), "status": "failed",
                "seconds": round(time.perf_counter() - t0, 2), "error": str(exc), "headline": {}}
    except Exception as exc:  # noqa: BLE001
        return {"kind": params.kind, "slug": params.slug, "path": None, "status": "failed",
                "seconds": round(time.perf_counter() - t0, 2), "error": f"{type(exc).__name__}: {exc}",
                "headline": {}}


def run_batch(spec_path, *, workers: int = 1, scheduler: str | None = None, out_root=None, timeout: int = 600,
              progress: bool = True) -> list[dict]:
    """Run every entry of a batch spec; returns one summary dict per entry (in spec order)."""
    entries, doc = load_spec(spec_path)
    _refuse_shared_folders(entries)
    root = batch_root(doc, out_root)
    from .runner import _clean_stale_tmp

    for kind_dir in (root / k for k in ("country", "cross-country", "evidence")):
        if kind_dir.is_dir():  # temp folders of a killed earlier run go before anything starts
            _clean_stale_tmp(kind_dir)
    results: list[dict | None] = [None] * len(entries)
    todo = []
    for e in entries:
        if e.error:
            results[e.index] = {"kind": e.raw.get("kind", "country"), "slug": f"entry-{e.index}", "path": None,
                                "status": "invalid", "seconds": 0.0, "error": e.error, "headline": {}}
        else:
            todo.append(e)
    done = 0

    t_start = time.perf_counter()

    def tick(r):
        nonlocal done
        done += 1
        if progress:
            n = max(1, len(todo))
            bar = "#" * int(20 * done / n)
            secs = r.get("seconds")
            line = (f"[{bar:<20}] {done}/{n} {str(r.get('status')):7s} {r.get('kind')}/{r.get('slug')}"
                    + (f" ({secs:.1f} s)" if isinstance(secs, (int, float)) else "")
                    + f"  elapsed {time.perf_counter() - t_start:.0f} s")
            print(line, file=sys.stderr, flush=True)

    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise OgimpactError("--scheduler needs dask.distributed; install it with `pip install -e .[dask]`.") from None
        with Client(scheduler) as client:
            futs = {client.submit(_run_one, e.params, str(root), timeout, False, pure=False): e for e in todo}
            from dask.distributed import as_completed

            for fut in as_completed(list(futs)):
                e = futs[fut]
                try:
                    r = fut.result()
                except Exception as exc:  # noqa: BLE001
                    r = {"kind": e.params.kind, "slug": e.params.slug, "status": "failed", "error": str(exc),
                         "path": None, "seconds": 0.0, "headline": {}}
                results[e.index] = r
                tick(r)
    elif workers <= 1:
        for e in todo:
            r = _run_one(e.params, str(root), timeout)
            results[e.index] = r
            tick(r)
    else:
        from ..parallel import pinned_env, process_pool

        with pinned_env(), process_pool(workers) as ex:
            futs = {ex.submit(_run_one, e.params, str(root), timeout, False): e for e in todo}
            for fut in cf.as_completed(futs):
                e = futs[fut]
                r = fut.result()
                results[e.index] = r
                tick(r)
    out = [r for r in results if r is not None]
    write_index(root, out)
    return out


def batch_root(doc_or_spec, out_root=None) -> Path:
    """The folder a batch writes to: ``out_root`` (``--out``), else the spec's ``out:``, else ``reports/``."""
    from .runner import reports_root

    doc = doc_or_spec if isinstance(doc_or_spec, dict) else load_spec(doc_or_spec)[1]
    return Path(out_root or doc.get("out") or reports_root())


def write_index(root: Path, runs: list[dict]) -> Path:
    """Write ``<root>/index.html`` linking every report with its status and headline numbers."""
    root = Path(root)
    rows = []
    for r in runs:
        status = r.get("status")
        path = r.get("path")
        link = html.escape(r.get("slug") or "")
        if path and status == "ok":
            rel = os.path.relpath(Path(path) / "report.html", root)
            link = f'<a href="{html.escape(rel)}">{link}</a>'
        head = r.get("headline") or {}
        hl = ", ".join(f"{html.escape(str(k))}={html.escape(_short(v))}" for k, v in head.items())
        err = html.escape((r.get("error") or "")[:300])
        cls = "ok" if status == "ok" else "bad"
        rows.append(f"<tr class='{cls}'><td>{html.escape(str(r.get('kind')))}</td><td>{link}</td>"
                    f"<td>{html.escape(str(status))}</td><td>{r.get('seconds', '')}</td><td>{hl}</td><td>{err}</td></tr>")
    n_ok = sum(1 for r in runs if r.get("status") == "ok")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ogimpact reports</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}
tr.bad td{{background:#fdecea}}tr.ok td:nth-child(3){{color:#1a7f37}}</style></head>
<body><h1>ogimpact reports</h1><p>{n_ok} of {len(runs)} reports succeeded.</p>
<table><thead><tr><th>kind</th><th>report</th><th>status</th><th>seconds</th><th>headline</th><th>error</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    return atomic_write_text(root / "index.html", page)


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
