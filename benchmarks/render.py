"""Render ``benchmarks/results/latest.json`` as ``docs/benchmarks.md``.

``python benchmarks/render.py`` re-renders from the stored JSON without re-running.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _f(x, fmt="{:.3g}", none="–"):
    if x is None:
        return none
    try:
        return fmt.format(x)
    except (TypeError, ValueError):
        return str(x)


def _secs(x):
    if x is None:
        return "–"
    return f"{x * 1e3:.0f} ms" if x < 1 else f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def _ratio(x):
    return "–" if x is None else f"{x:.2f}×" if x < 10 else f"{x:.0f}×"


def _row(rows, bench, size, tool):
    return next((r for r in rows if r["benchmark"] == bench and r["size"] == size and r["tool"] == tool), None)


def _mem_ratio(r):
    rv = (r or {}).get("ratio_vs_ogimpact") or {}
    return rv.get("fit_mb") if rv.get("fit_mb") is not None else rv.get("peak_mb")


# (benchmark, size, peer or "fastest", target text, min time ratio, min memory ratio, need agreement,
#  max ogimpact seconds)
TARGETS = [
    ("twfe", "50000x20", "pyfixest", "TWFE, 1M rows: time ≤ pyfixest, memory < ½ pyfixest", 1, 2, False, None),
    ("event-study", "3000x30", "pyfixest", "event study, 90k rows, ±19 leads/lags: time ≤ pyfixest, memory < ½",
     1, 2, False, None),
    ("imputation", "3000x30", "pyfixest", "imputation/two-stage, 90k rows: ≥ 10× faster than did2s, ≤ ⅕ memory",
     10, 5, False, None),
    ("cs", "5000x20", "fastest", "Callaway–Sant'Anna 5,000×20: time ≤ fastest peer, identical numbers",
     1, None, True, None),
    ("synth", "basque", "pysyncon", "ADH synth (Basque): each fit ≤ 2 s with the correct weights", None, None, True, 2),
    ("placebo-space-prop99", "prop99", None, "placebo-in-space loop, 38 donors (Prop 99): ≤ 60 s",
     None, None, False, 60),
    ("sdid", "prop99", "synthdid-py", "SDID (Prop 99): time ≤ synthdid-py", 1, None, True, None),
    ("chile-report", "CHL x rti_law", None, "full Chile country report: ≤ 30 s wall", None, None, False, 30),
]


def _target_lines(rows):
    out = ["| target (issue) | ogimpact | peer | time ratio | memory ratio | numbers agree | met? |",
           "|---|---|---|---|---|---|---|"]
    for bench, size, peer, text, tmin, mmin, agree, smax in TARGETS:
        og = _row(rows, bench, size, "ogimpact")
        if og is None:
            out.append(f"| {text} | not run | | | | | – |")
            continue
        if "seconds" not in og:
            out.append(f"| {text} | error: {og.get('error', '')[:80]} | | | | | **no** |")
            continue
        p = None
        if peer == "fastest":
            cands = [r for r in rows if r["benchmark"] == bench and r["size"] == size and r["tool"] != "ogimpact"
                     and "seconds" in r]
            p = min(cands, key=lambda r: r["seconds"]) if cands else None
        elif peer:
            p = _row(rows, bench, size, peer)
        ok = True
        tr = mr = None
        if smax is not None:
            ok &= og["seconds"] <= smax
        if p is not None and "seconds" in p:
            tr = p["ratio_vs_ogimpact"]["seconds"]
            mr = _mem_ratio(p)
            if tmin is not None:
                ok &= tr is not None and tr >= tmin
            if mmin is not None:
                ok &= mr is not None and mr >= mmin
            if agree:
                ok &= bool(p.get("numbers_agree"))
        elif peer and (tmin is not None or mmin is not None or agree):
            ok = None
        peer_txt = f"{p['tool']} {_secs(p.get('seconds'))}, {_f(p.get('peak_mb'), '{:.0f}')} MB" if p else (
            "–" if not peer else f"{peer}: {((p or _row(rows, bench, size, peer)) or {}).get('error', 'not run')[:60]}")
        out.append(f"| {text} | {_secs(og['seconds'])}, {_f(og.get('peak_mb'), '{:.0f}')} MB | {peer_txt} | "
                   f"{_ratio(tr)} | {_ratio(mr)} | {_f(p.get('numbers_agree') if p else None, '{}')} | "
                   f"{'yes' if ok else '–' if ok is None else '**no**'} |")
    return out


NOTES = [
    "- Memory: `peak MB` is the whole worker process (interpreter, imported libraries, data, fit); "
    "`fit MB` is the part the timed fits added on top of the imported libraries and loaded data, and the "
    "memory ratio uses it when either tool needs at least 20 MB for the fit (below that it is noise), "
    "otherwise the process peaks. Placebo loops of ogimpact and pysyncon run in process pools: their rows "
    "count the main process only (`tree_maxrss_mb` in the JSON has the largest process of the tree).",
    "- Warm-up: every simulated-panel worker fits the 200×30 panel once before timing, so numba/JIT "
    "compilation and lazy imports are excluded for every tool alike; reference-data workers (synth, SDID) "
    "do not warm up (all their fits are timed).",
    "- `numbers agree` for linearmodels compares the coefficient only: its clustered SE omits fixest's "
    "G/(G−1) small-sample factor (a convention, not an error).",
    "- The placebo-in-space loop is timed end to end (treated fit plus one fit per donor). The p-values are not "
    "compared: diff-diff keeps the treated unit in each placebo's pool, pysyncon and ogimpact drop it.",
    "- The Prop 99 placebo loop uses the outcome-only panel of the synthdid reference (no covariates), so "
    "its predictors are lagged outcomes (mean 1970-1988 and 1975, 1980, 1988, as in ADH 2010) with the V "
    "search on; `placebo-space-prop99-default` is the same loop with ogimpact's default predictors (every "
    "pre-period outcome, equal V, no V search), which is much cheaper. Neither has a peer row: the Basque "
    "loop is the peer comparison.",
    "- Sizes a peer was not run on are listed with the reason (memory or time budget), never silently dropped.",
]


def render(doc: dict) -> str:
    m, rows = doc["machine"], doc["rows"]
    la0 = ", ".join(f"{x:.1f}" for x in m.get("load_average_start", []))
    la1 = ", ".join(f"{x:.1f}" for x in m.get("load_average_end", []))
    lines = [
        "# Benchmarks: ogimpact against its Python peers",
        "",
        "Generated by `make bench` (`benchmarks/run.py`); raw numbers in `benchmarks/results/latest.json`. "
        "Every peer runs in the same run, on the same data, on the same machine. "
        "**Ratios are peer ÷ ogimpact**: above 1 means ogimpact is faster (time) or leaner (memory).",
        "",
        "## Machine",
        "",
        f"- date: {m.get('date')}; git commit {m.get('git_commit')}; whole run {_secs(m.get('total_seconds'))}",
        f"- {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_gb')} GB memory",
        f"- Python {m.get('python')}; ogimpact venv numpy {m.get('numpy')}, pandas {m.get('pandas')}; "
        f"peers venv (`.venv-bench`) numpy {m.get('bench_venv_numpy')}; OPENBLAS_NUM_THREADS="
        f"{m.get('OPENBLAS_NUM_THREADS')} for every tool",
        f"- load average at start {la0}, at end {la1}. "
        + ("**The machine was shared with other jobs during this run** (load above its 2 cores), so absolute "
           "times are inflated and noisy; ratios are fairer, since each pair ran minutes apart under similar load."
           if max(m.get("load_average_start", [0])[:1] + m.get("load_average_end", [0])[:1]) > 1.5 else
           "The machine was otherwise idle."),
        *[f"- re-measured {', '.join(r.get('benchmarks', []))} on {r.get('date')} (commit {r.get('git_commit')}, "
          f"load {', '.join(f'{x:.1f}' for x in r.get('load_average_start', []))}): {r.get('why', '')}"
          for r in m.get("reruns", [])],
        "- the cs, sdid and sun-abraham rows were also re-measured after their optimisation (same day, same "
        "machine; each peer row in the same run as the ogimpact row it is compared with)",
        "",
        "Peers (`.venv-bench`): " + ", ".join(
            f"{k} {v['version']}" if v.get("ok") else f"{k} (not available: {v.get('error', '')[:80]})"
            for k, v in doc.get("peers", {}).items()) + ".",
        "",
        "## Method",
        "",
        doc.get("method", ""),
        "",
        "Simulated panels (`benchmarks/simulate.py`, seeded): staggered adoption in the middle third of the "
        "periods, 30 % never treated, unit and time effects, cohort-specific effects growing with event time. "
        "Sizes are units × periods: 200×30 (6k rows), 3,000×30 (90k rows), 5,000×20 (100k rows), "
        "50,000×20 (1M rows). Reference data: Basque (Abadie & Gardeazabal, R Synth's `basque`, 17 donors) "
        "and Proposition 99 (38 donor states). `numbers agree` compares the headline estimate, its SE (where "
        "the SE conventions are the same) and the shared coefficients/weights at the stated relative tolerance.",
        "",
        "## Targets from the issues",
        "",
        *_target_lines(rows),
        "",
        "## All results",
        "",
        "| benchmark | size | tool | time (median) | reps | peak MB | fit MB | time ratio | memory ratio "
        "(fit, else peak) | numbers agree | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rv = r.get("ratio_vs_ogimpact") or {}
        note = r.get("error") or r.get("skipped") or ""
        if r.get("compared") and r.get("numbers_agree") is not None:
            note = (note + "; " if note else "") + f"{r['compared']}, max abs diff {_f(r.get('max_abs_diff'), '{:.2g}')}"
        elif r.get("compared"):
            note = (note + "; " if note else "") + r["compared"]
        tool = r["tool"] + (f" {r['version']}" if r.get("version") else "")
        note = " ".join(str(note).replace("|", "/").split())[:220]
        lines.append(
            f"| {r['benchmark']} | {r['size']} | {tool} | {_secs(r.get('seconds'))} | {r.get('reps', '')} | "
            f"{_f(r.get('peak_mb'), '{:.0f}')} | {_f(r.get('fit_mb'), '{:.0f}')} | {_ratio(rv.get('seconds'))} | "
            f"{_ratio(_mem_ratio(r))} | {_f(r.get('numbers_agree'), '{}')} | {note} |")
    setups = {}
    for r in rows:
        if r.get("setup"):
            setups.setdefault((r["benchmark"], r["tool"]), r["setup"])
    lines += ["", "## What each peer runs", "",
              "ogimpact runs `ogimpact.estimation.estimate(design, Panel.from_frame(...), **options)` with the "
              "design defaults (clustered by unit), `cs` with `control='never', method='dr', aggregate='simple'`, "
              "`imputation` static (`horizons=False, pretrends=False`), synth with the Basque predictor SPEC and "
              "MSPE window 1960-1969 of the reference case, and `placebo=('space',)` for the placebo loops.", ""]
    lines += [f"- {b} / {t}: {s}" for (b, t), s in setups.items()]
    lines += _batch_lines()
    lines += ["", "## Notes", "", *NOTES]
    return "\n".join(lines).rstrip() + "\n"


def _batch_lines() -> list[str]:
    """The batch-report scaling table (``benchmarks/batch_scaling.py``), if it has been run."""
    src = HERE / "results" / "batch_scaling.json"
    if not src.exists():
        return []
    b = json.loads(src.read_text())
    out = ["", "## Batch reports: scaling with workers (`benchmarks/batch_scaling.py`)", "",
           f"{len(b['countries'])} country reports ({b['report']}), run {b['date']} on {b['cpu_count']} cores; "
           "target: ~linear scaling with workers.", "",
           "| workers | reports | ok | wall time | per report | speed-up vs 1 worker |", "|---|---|---|---|---|---|"]
    for r in b["rows"]:
        out.append(f"| {r['workers']} | {r['reports']} | {r['ok']} | {r['seconds']:.0f} s | {r['seconds_per_report']:.2f} s "
                   f"| {r['speedup_vs_1']:.2f}× |")
    return out


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results" / "latest.json"
    (HERE.parent / "docs" / "benchmarks.md").write_text(render(json.loads(src.read_text())))
