"""Monte Carlo of the grader: does the grade judge the design?  (issue 12, item 4)

Staggered panels (cohorts 5, 7, 9 and never treated, ``n_per`` units each, unit effects, a common
trend, N(0, 0.5²) noise) go through the real assessment (:func:`ogimpact.evidence.assess.assess_panel`:
CS, Sun–Abraham, imputation, TWFE event study, HonestDiD, pre-test power, every check) and we record
the grade, its target and the checks that fired, per scenario:

* ``clean_null`` — parallel trends hold, no effect;
* ``planted_trend`` — treated units drift by ``slope`` per period before and after adoption (a linear
  violation of parallel trends), no effect;
* ``clean_effect`` — parallel trends hold, effect ``effect`` from adoption on.

What should hold: the planted trend lowers the grade (parallel_trends or pretrend_power fires); a clean
null is graded for "no effect larger than MIE" and is not above Moderate when its CI is wider than
the MIE.

    python benchmarks/grade_montecarlo.py [--reps N] [--seed S] [--mie M] [--no-write]

``tests/test_grade_montecarlo.py`` runs a bounded, seeded subset with the same draw function.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SCENARIOS = {
    "clean_null": {"effect": 0.0, "slope": 0.0},
    "planted_trend": {"effect": 0.0, "slope": 0.15},
    "clean_effect": {"effect": 1.0, "slope": 0.0},
}


def draw_panel(seed: int, *, effect: float = 0.0, slope: float = 0.0, n_per: int = 30, T: int = 12):
    """One staggered panel (module docstring); ``slope`` is the treated units' differential trend."""
    from ogimpact.panel import Panel

    rng = np.random.default_rng(seed)
    rows, u = [], 0
    t = np.arange(1, T + 1)
    for g in (5, 7, 9, 0):
        for _ in range(n_per):
            y = rng.normal(0, 1) + 0.1 * t + rng.normal(0, 0.5, T)
            if g:
                y = y + slope * (t - g) + effect * (t >= g)
            rows += [(f"u{u:03d}", int(tt), float(yy), g) for tt, yy in zip(t, y)]
            u += 1
    df = pd.DataFrame(rows, columns=["unit", "time", "y", "cohort"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, unit="unit", time="time", outcome="y", cohort="cohort", min_clusters_warn=0)


def one(seed: int, *, effect: float, slope: float, mie: float, n_per: int = 30) -> dict:
    """Assess one draw; the numbers the study records."""
    from ogimpact.evidence.assess import assess_panel

    a = assess_panel(draw_panel(seed, effect=effect, slope=slope, n_per=n_per), mie=mie, seed=seed)
    d = a.to_dict()
    h = d["headline_estimate"] or {}
    checks = {c["domain"]: c for c in d["checks"]}
    return {"seed": seed, "grade": d["grade"], "score": d["score"], "target": (d["grade_target"] or {}).get("kind"),
            "threshold": (d["grade_target"] or {}).get("threshold"), "estimate": h.get("estimate"),
            "ci_low": h.get("ci_low"), "ci_high": h.get("ci_high"),
            "pt_severity": checks["parallel_trends"]["severity"],
            "power_severity": checks["pretrend_power"]["severity"],
            "precision_severity": checks["precision"]["severity"],
            "warnings": [w["code"] for w in d["diagnostics"]["warnings"]]}


def summarise(rows: list[dict], mie: float) -> dict:
    f = pd.DataFrame(rows)
    width = f["ci_high"] - f["ci_low"]
    return {"reps": len(f), "mean_score": float(f["score"].mean()),
            "grades": {str(k): int(v) for k, v in f["grade"].value_counts().items()},
            "share_no_effect_target": float((f["target"] == "no_effect").mean()),
            "share_pt_or_power_downgrade": float(((f["pt_severity"] < 0) | (f["power_severity"] < 0)).mean()),
            "share_wide_ci": float((width > mie).mean()),
            "max_score_when_ci_wider_than_mie": (None if not (width > mie).any()
                                                 else int(f.loc[width > mie, "score"].max())),
            "share_pretrend_conflict": float(f["warnings"].map(lambda w: "pretrend_conflict" in w).mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--mie", type=float, default=0.3)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args(argv)
    out = {"mie": a.mie, "seed": a.seed, "scenarios": {}}
    t0 = time.perf_counter()
    for name, kw in SCENARIOS.items():
        rows = [one(a.seed + r, mie=a.mie, **kw) for r in range(a.reps)]
        out["scenarios"][name] = {"dgp": kw, **summarise(rows, a.mie), "rows": rows}
        s = out["scenarios"][name]
        print(f"{name:14s} reps={s['reps']} mean score {s['mean_score']:.2f} grades {s['grades']} "
              f"no-effect target {s['share_no_effect_target']:.2f} PT/power downgrade "
              f"{s['share_pt_or_power_downgrade']:.2f} max score with CI wider than MIE "
              f"{s['max_score_when_ci_wider_than_mie']}", flush=True)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    if not a.no_write:
        from ogimpact.atomic import atomic_write_text

        p = ROOT / "benchmarks" / "results" / "grade_montecarlo.json"
        atomic_write_text(p, json.dumps(out, indent=1, default=float))
        print(f"wrote {p} ({out['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
