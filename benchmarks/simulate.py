"""Seeded simulated panels for the benchmarks, and the reference data they also use.

A staggered-adoption panel of ``n_units`` x ``n_periods`` with unit and time
effects, a never-treated share and cohort-specific, growing treatment effects
(so the designs have something heterogeneous to find).  Panels are generated
once by ``run.py`` and written to ``.npz`` files that every worker (ogimpact's
venv and the peers' venv alike) reads, so each tool sees byte-identical data
whatever numpy version it runs on.  Generation is not timed.

Only numpy and pandas are imported here: the peers' venv does not have ogimpact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def cohorts_for(n_periods: int) -> np.ndarray:
    """Adoption periods: the middle third of the panel (e.g. 11..20 of 1..30)."""
    lo = n_periods // 3 + 1
    hi = (2 * n_periods) // 3
    return np.arange(lo, hi + 1)


def staggered_panel(n_units: int, n_periods: int, *, seed: int = 0, never_share: float = 0.3) -> dict[str, np.ndarray]:
    """Long-format arrays ``unit, time, cohort, treat, y`` of a staggered panel.

    ``cohort`` is the first treated period (0 = never treated); ``treat`` is
    ``1[cohort > 0 and time >= cohort]``.  The effect of cohort ``g`` at event
    time ``e >= 0`` is ``(1 + 0.1 e)(1 + 0.5 k_g)`` with ``k_g`` the cohort's rank
    share, so TWFE is biased while the heterogeneity-robust designs are not.
    """
    rng = np.random.default_rng(seed)
    N, T = int(n_units), int(n_periods)
    gs = cohorts_for(T)
    never = rng.random(N) < never_share
    g_unit = np.where(never, 0, gs[rng.integers(0, len(gs), N)]).astype(np.int64)
    # make sure every cohort and the never-treated group exist even in small panels
    g_unit[: len(gs)] = gs
    g_unit[len(gs): len(gs) + max(2, N // 10)] = 0
    alpha = rng.normal(0.0, 1.0, N)
    lam = rng.normal(0.0, 0.5, T) + 0.05 * np.arange(T)
    unit = np.repeat(np.arange(1, N + 1, dtype=np.int64), T)
    time = np.tile(np.arange(1, T + 1, dtype=np.int64), N)
    cohort = np.repeat(g_unit, T)
    treat = ((cohort > 0) & (time >= cohort)).astype(np.int64)
    rank = np.where(cohort > 0, (cohort - gs[0]) / max(1, len(gs) - 1), 0.0)
    effect = treat * (1.0 + 0.1 * (time - cohort)) * (1.0 + 0.5 * rank)
    y = alpha[unit - 1] + lam[time - 1] + effect + rng.normal(0.0, 1.0, N * T)
    return {"unit": unit, "time": time, "cohort": cohort, "treat": treat, "y": y}


def write_panel(path: Path, n_units: int, n_periods: int, *, seed: int = 0) -> Path:
    """Generate a panel once and store it as ``.npz`` (skipped if already there)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **staggered_panel(n_units, n_periods, seed=seed))
    return path


def load_frame(path: str | Path):
    """The stored panel as a pandas DataFrame (columns unit, time, cohort, treat, y)."""
    import pandas as pd

    with np.load(path) as z:
        return pd.DataFrame({k: z[k] for k in ("unit", "time", "cohort", "treat", "y")})


def reference_csv(case: str) -> Path | None:
    """A published reference case's data: the project's copy, else the shared folder."""
    for base in (ROOT / "tests" / "reference", ROOT.parent / "shared" / "reference"):
        p = base / case / "data.csv"
        if p.exists():
            return p
    return None
