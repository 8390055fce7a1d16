"""Validity suite: do ogimpact's intervals cover and its tests hold their size?  (``make validity``)

Each *study* draws data from a known data-generating process, fits one design exactly as a user
would (``ogimpact.estimation.estimate``) and records either the interval (coverage of the true
effect, bias of the estimate) or the p-value of a test of a true null (rejection rate at 5%).
Results go to ``docs/validity.md`` (design, DGP, replications, bias, coverage or size with its
Monte-Carlo standard error) and ``benchmarks/results/validity.json``.

    python benchmarks/validity.py [--reps N] [--seed S] [--only NAME,...] [--workers W] [--no-write]

Every study is seeded per replication (``seed + rep``), so the numbers are reproducible and a study
can be rerun alone.  ``tests/test_validity.py`` runs a bounded subset of these same functions.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


@dataclass(frozen=True)
class Study:
    """One coverage (``kind="ci"``) or size (``kind="size"``) study."""

    name: str
    design: str
    dgp: str
    kind: str  # "ci" | "size"
    draw: Callable[[np.random.Generator], dict]
    reps: int = 1000


# --------------------------------------------------------------------------- DGPs
def staggered(rng, *, n_units=60, n_periods=10, effect=1.0, rho=0.3, never_share=0.35, pretrend=0.0):
    """Staggered adoption, homogeneous constant effect, unit/time effects, AR(1) errors within unit."""
    T = n_periods
    cohorts = np.arange(4, T - 1)
    g = np.where(rng.random(n_units) < never_share, 0, rng.choice(cohorts, n_units))
    g[: len(cohorts)] = cohorts
    g[len(cohorts): len(cohorts) + 3] = 0
    a = rng.normal(0, 1, n_units)
    lam = rng.normal(0, 0.5, T)
    e = np.empty((n_units, T))
    e[:, 0] = rng.normal(0, 1, n_units) / math.sqrt(1 - rho ** 2)
    for t in range(1, T):
        e[:, t] = rho * e[:, t - 1] + rng.normal(0, 1, n_units)
    t_idx = np.arange(1, T + 1)
    treat = (g[:, None] > 0) & (t_idx[None, :] >= g[:, None])
    trend = pretrend * np.where(g[:, None] > 0, t_idx[None, :] - g[:, None], 0.0)
    y = a[:, None] + lam[None, :] + effect * treat + trend + e
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), T), "time": np.tile(t_idx, n_units),
        "cohort": np.repeat(g, T), "treat": treat.ravel().astype(int), "y": y.ravel(),
    })


def factor_panel(rng, *, n_units=16, n_pre=15, n_post=5, effect=0.0):
    """Unit 0 treated from period n_pre+1; a two-factor model so synthetic controls have work to do."""
    T = n_pre + n_post
    lam = rng.normal(0, 1, (T, 2)).cumsum(axis=0) * 0.3
    mu = rng.normal(0, 1, (n_units, 2))
    y = mu @ lam.T + rng.normal(0, 0.5, (n_units, T)) + rng.normal(0, 1, n_units)[:, None]
    y[0, n_pre:] += effect
    return pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n_units)], T),
                         "time": np.tile(np.arange(1, T + 1), n_units), "y": y.ravel()}), n_pre + 1


def ar1_series(rng, n, rho):
    e = np.empty(n)
    e[0] = rng.normal() / math.sqrt(1 - rho ** 2)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + rng.normal()
    return e


# --------------------------------------------------------------------------- draws
def _panel(df, **roles):
    from ogimpact.panel import Panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Panel.from_frame(df, unit="unit", time="time", outcome="y", **roles)


def _fit(design, panel, **opts):
    from ogimpact.estimation import estimate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimate(design, panel, **opts)


def _ci(res, truth):
    return {"estimate": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high, "truth": truth}


def draw_twfe(rng):
    df = staggered(rng)
    return _ci(_fit("twfe", _panel(df, treat="treat")), 1.0)


def draw_cs(rng):
    df = staggered(rng)
    return _ci(_fit("cs", _panel(df, cohort="cohort"), control="never", aggregate="simple"), 1.0)


def draw_sun_abraham(rng):
    df = staggered(rng)
    return _ci(_fit("sun-abraham", _panel(df, cohort="cohort")), 1.0)


def draw_imputation(rng):
    df = staggered(rng)
    return _ci(_fit("imputation", _panel(df, cohort="cohort")), 1.0)


def draw_event_study_pretest(rng):
    """p-values of the joint pre-trend test under parallel trends: chi-squared and F(q, G-1)."""
    from scipy import stats

    df = staggered(rng, n_units=30)
    res = _fit("event-study", _panel(df, cohort="cohort"), window=(-4, 3))
    es = res.event_study if hasattr(res, "event_study") else None
    w = es.pretrend_wald()  # F(q, G-1), as fixest wald(): the shipped convention
    q = w["df"]
    return {"p": w["p_value"], "p_chi2": float(stats.chi2.sf(w["stat"], q))}


def draw_synth_placebo(rng):
    # 20 units: 19 placebos, so the rank p-value can reach 1/20 = 0.05 (with fewer donors a 5% test never rejects)
    df, t0 = factor_panel(rng, n_units=20)
    res = _fit("synth", _panel(df), treated="u00", treat_time=t0, placebo=("space",), n_jobs=1)
    return {"p": res.p_value}


def draw_sdid_placebo(rng):
    df, t0 = factor_panel(rng, n_units=20, effect=1.0)
    res = _fit("sdid", _panel(df), treated="u00", treat_time=t0, placebo_reps=100, seed=int(rng.integers(1 << 30)))
    return _ci(res, 1.0)


def _its(rng, n, rho, se):
    y = 1 + 0.1 * np.arange(n) + ar1_series(rng, n, rho)
    df = pd.DataFrame({"unit": "A", "time": np.arange(n), "y": y})
    return _ci(_fit("its", _panel(df), treat_time=n // 2, se=se), 0.0)


def draw_meta_reml(rng, k=10, tau2=0.05):
    """Random-effects meta-analysis (REML, Wald z CI as metafor's default) of k studies."""
    from ogimpact.evidence.meta import meta_analysis

    v = rng.uniform(0.01, 0.2, k)
    y = 0.3 + rng.normal(0, math.sqrt(tau2), k) + rng.normal(0, np.sqrt(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = meta_analysis(y, np.sqrt(v), method="reml")
    d = r.to_dict() if hasattr(r, "to_dict") else r
    return {"estimate": d["estimate"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "truth": 0.3}


STUDIES: list[Study] = [
    Study("twfe_static", "twfe", "60 units x 10 periods, staggered, constant effect 1, AR(1) rho 0.3 errors; CRV1 by unit, t(G-1)",
          "ci", draw_twfe),
    Study("cs_simple", "cs", "same DGP; DR, never-treated controls, simple ATT, analytic SE", "ci", draw_cs),
    Study("sun_abraham", "sun-abraham", "same DGP; IW ATT, CRV1 by unit", "ci", draw_sun_abraham),
    Study("imputation", "imputation", "same DGP; BJS/two-stage ATT", "ci", draw_imputation),
    Study("event_study_pretest", "event-study", "30 units, parallel trends hold; joint test of 4 leads: F(q, G-1) (shipped) and chi2 (the former convention)",
          "size", draw_event_study_pretest),
    Study("synth_placebo", "synth", "20 units (19 placebos: p resolution 0.05), 15 pre / 5 post, two-factor model, no effect; placebo-in-space p",
          "size", draw_synth_placebo, reps=500),
    Study("sdid_placebo_se", "sdid", "20 units, 15 pre / 5 post, two-factor model, effect 1; placebo SE (100 reps)",
          "ci", draw_sdid_placebo, reps=500),
    Study("meta_reml_k10", "meta", "10 studies, tau2 0.05, v ~ U(0.01, 0.2); REML, Wald z CI (metafor default)",
          "ci", draw_meta_reml),
]
for _n in (24, 48, 120):
    for _rho in (0.0, 0.3, 0.6):
        for _se in ("newey-west", "reml-ar1"):
            STUDIES.append(Study(
                f"its_{_se}_n{_n}_rho{_rho}", "its",
                f"single series n={_n}, break at n/2, no effect, AR(1) rho={_rho}; se={_se}", "ci",
                (lambda rng, n=_n, rho=_rho, se=_se: _its(rng, n, rho, se)), reps=2000))
STUDY = {s.name: s for s in STUDIES}


# --------------------------------------------------------------------------- running
def run_study(study: Study, reps: int | None = None, seed: int = 20261202) -> dict:
    """Run ``reps`` seeded replications of one study and summarise them."""
    reps = study.reps if reps is None else int(reps)
    rows, failed = [], 0
    t0 = time.perf_counter()
    for r in range(reps):
        rng = np.random.default_rng([seed, r, zlib.crc32(study.name.encode())])
        try:
            rows.append(study.draw(rng))
        except Exception:  # noqa: BLE001 - counted and reported
            failed += 1
    out = {"name": study.name, "design": study.design, "dgp": study.dgp, "kind": study.kind, "reps": reps,
           "failed": failed, "seconds": round(time.perf_counter() - t0, 2)}
    if not rows:
        return out
    df = pd.DataFrame(rows)
    if study.kind == "ci":
        ok = df[["estimate", "ci_low", "ci_high"]].notna().all(axis=1)
        d = df[ok]
        cover = ((d.ci_low <= d.truth) & (d.truth <= d.ci_high)).mean()
        out.update(bias=float((d.estimate - d.truth).mean()),
                   bias_mcse=float((d.estimate - d.truth).std(ddof=1) / math.sqrt(len(d))),
                   coverage=float(cover), coverage_mcse=float(math.sqrt(cover * (1 - cover) / len(d))),
                   n_valid=int(len(d)))
    else:
        for col in [c for c in df.columns if c.startswith("p")]:
            p = df[col].dropna()
            rate = float((p <= 0.05).mean())
            key = "size" if col == "p" else f"size_{col[2:]}"
            out[key] = rate
            out[key + "_mcse"] = float(math.sqrt(rate * (1 - rate) / len(p)))
        out["n_valid"] = int(df["p"].notna().sum())
    return out


def _job(args):
    name, reps, seed = args
    return run_study(STUDY[name], reps, seed)


def render(results: list[dict]) -> str:
    lines = [
        "# Validity: coverage and size of ogimpact's intervals and tests",
        "",
        "Written by `make validity` (`benchmarks/validity.py`); every replication is seeded. Coverage is the share",
        "of nominal-95% intervals that contain the true effect; size is the share of 5%-level tests of a true null",
        "that reject. MCSE = Monte-Carlo standard error, sqrt(p(1-p)/reps). A bounded, seeded subset of the same",
        "studies runs in `make test` (`tests/test_validity.py`, `tests/test_its_reml.py`).",
        "",
        "| study | design | DGP | reps | bias (MCSE) | coverage or size (MCSE) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["kind"] == "ci" and "coverage" in r:
            b = f"{r['bias']:+.4f} ({r['bias_mcse']:.4f})"
            c = f"coverage {100 * r['coverage']:.1f}% ({100 * r['coverage_mcse']:.1f})"
        elif "size" in r:
            b = "—"
            c = f"size {100 * r['size']:.1f}% ({100 * r['size_mcse']:.1f})"
            extra = [k for k in r if k.startswith("size_") and not k.endswith("_mcse")]
            for k in extra:
                c += f"; {k[5:]} {100 * r[k]:.1f}% ({100 * r[k + '_mcse']:.1f})"
        else:
            b, c = "—", "no valid replication"
        fail = f", {r['failed']} failed" if r.get("failed") else ""
        lines.append(f"| `{r['name']}` | {r['design']} | {r['dgp']} | {r['reps']}{fail} | {b} | {c} |")
    lines += ["", "How to read the ITS rows: `newey-west` is the reference behaviour of `ogimpact estimate its`",
              "(Stata `newey`); `reml-ar1` (GLS with AR(1) errors by REML, Satterthwaite df; Turner et al. 2021) is",
              "what assessments and reports grade. Short series with strong autocorrelation remain below nominal for",
              "every method; the grade treats them as fragile.", "",
              "Known shortfalls these runs show (to be fixed, not hidden): the event-study pre-test over-rejects with",
              "30 clusters and serially correlated errors even as F(q, G-1) (chi-squared is worse); random-effects",
              "meta-analysis with Wald z intervals (metafor's default, which `ogimpact meta` keeps) under-covers at",
              "k = 10; the grader is to pool with Hartung-Knapp-Sidik-Jonkman intervals (issue 12).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=None, help="replications per study [each study's default]")
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--only", default=None, help="comma list of study names (prefix match)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--merge", action="store_true",
                    help="keep the stored results of the studies not run now (benchmarks/results/validity.json)")
    a = ap.parse_args(argv)
    names = [s.name for s in STUDIES]
    if a.only:
        pref = [p.strip() for p in a.only.split(",") if p.strip()]
        names = [n for n in names if any(n.startswith(p) for p in pref)]
    jobs = [(n, a.reps, a.seed) for n in names]
    if a.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(a.workers) as ex:
            results = list(ex.map(_job, jobs))
    else:
        results = [_job(j) for j in jobs]
    for r in results:
        print(json.dumps(r), flush=True)
    if not a.no_write:
        store = ROOT / "benchmarks" / "results" / "validity.json"
        if a.merge and store.exists():
            fresh = {r["name"] for r in results}
            kept = {r["name"]: r for r in json.loads(store.read_text()) if r["name"] not in fresh}
            results = [kept.get(n) or next(r for r in results if r["name"] == n)
                       for n in [s.name for s in STUDIES] if n in kept or n in fresh]
        (ROOT / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "benchmarks" / "results" / "validity.json").write_text(json.dumps(results, indent=1) + "\n")
        (ROOT / "docs" / "validity.md").write_text(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
