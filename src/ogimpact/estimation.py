"""One entry point for every design: ``estimate(design, panel, **options)``.

The command line (``ogimpact estimate``) and the notebooks both call these
functions, so the same inputs give the same numbers whichever way a user
comes in.  Designs are imported lazily: a design module only loads when used.

Also here: reading a user CSV with clear errors, building the panel a design
needs from a CSV or from the registry (``--measure/--intervention``), and the
registry donor rule for single-unit designs (exclude units that adopt the same
intervention before the end of the window).
"""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from .errors import DataError, OgimpactError, PanelError
from .panel import Panel, PanelWarning
from .parse import id_list
from .results import Estimate

__all__ = [
    "DESIGNS",
    "SINGLE_UNIT",
    "REGRESSION",
    "read_csv",
    "panel_from_csv",
    "registry_panel",
    "registry_donors",
    "estimate",
]

#: design name -> (module, function)
DESIGNS: dict[str, tuple[str, str]] = {
    "panel": ("ogimpact.designs.panel_regression", "fit_panel"),
    "twfe": ("ogimpact.designs.twfe", "fit_twfe"),
    "event-study": ("ogimpact.designs.event_study", "fit_event_study"),
    "cs": ("ogimpact.designs.callaway_santanna", "fit_cs"),
    "sun-abraham": ("ogimpact.designs.sun_abraham", "fit_sun_abraham"),
    "imputation": ("ogimpact.designs.imputation", "fit_imputation"),
    "synth": ("ogimpact.designs.synth", "fit_synth"),
    "sdid": ("ogimpact.designs.sdid", "fit_sdid"),
    "its": ("ogimpact.designs.its", "fit_its"),
}
SINGLE_UNIT = ("synth", "sdid", "its")
REGRESSION = ("panel", "twfe", "event-study")
STAGGERED = ("event-study", "cs", "sun-abraham", "imputation")


def design_function(design: str):
    """The fitting function of a design (imported on first use)."""
    if design not in DESIGNS:
        raise OgimpactError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}.")
    mod, fn = DESIGNS[design]
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ModuleNotFoundError, AttributeError) as exc:  # pragma: no cover - all designs ship
        raise OgimpactError(f"design {design!r} is not available in this build ({exc}).") from exc


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a user CSV (see :func:`ogimpact.tables.read_table`, the one reader of user tables)."""
    from .tables import read_table

    return read_table(path)


_split = id_list


def panel_from_csv(
    design: str,
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    cohort: str | None = None,
    treat: str | None = None,
    covariates: Sequence[str] = (),
    regressors: Sequence[str] = (),
    cluster: str | None = None,
    fe: Sequence[str] = (),
    treated: Any = None,
) -> Panel:
    """Build the validated panel a design needs from a user frame."""
    covariates = _split(covariates)
    regressors = _split(regressors)
    from .tables import validate_roles  # the one validator of user tables (issue 9)

    validate_roles(df, unit=unit, time=time, outcome=outcome, numeric=[*covariates, *regressors],
                   optional=[cohort, treat], regressors=regressors)
    need_cohort = design in STAGGERED
    if need_cohort and not cohort:
        raise OgimpactError(f"design {design!r} needs --cohort COL (the first treated period; 0/empty = never treated).")
    if design == "twfe" and not treat:
        raise OgimpactError("design 'twfe' needs --treat COL (a 0/1 treatment indicator).")
    if design == "panel" and not regressors:
        raise OgimpactError("design 'panel' needs --regressors A,B (the explanatory columns).")
    for c in dict.fromkeys([*covariates, *regressors]):
        if c in df.columns and c != outcome and pd.to_numeric(df[c], errors="coerce").isna().all():
            raise OgimpactError(
                f"{'regressor' if c in regressors else 'covariate'} {c!r} is missing (or non-numeric) in every row; "
                f"drop it from --{'regressors' if c in regressors else 'covariates'} or fill it."
            )
    cl_cols = _split(cluster)
    if len(cl_cols) > 1:  # two-way clustering: the columns travel as extra columns, the design resolves them
        if design not in REGRESSION:
            raise OgimpactError(f"two-way clustering (--cluster {cluster}) is available for "
                                f"{', '.join(REGRESSION)}; give one --cluster column for {design!r}.")
        absent = [c for c in cl_cols if c not in df.columns]
        if absent:
            raise OgimpactError(f"cluster column(s) {', '.join(map(repr, absent))} not in the data; "
                                f"available columns: {', '.join(map(str, list(df.columns)[:30]))}.")
    n_drop_cl = 0
    present = [c for c in cl_cols if c in df.columns]
    if present and df[present].isna().any(axis=None):
        # rows without a cluster id are dropped, as Stata and fixest do, the same way for every design
        keep = df[present].notna().all(axis=1)
        n_drop_cl = int((~keep).sum())
        if not keep.any():
            raise OgimpactError(f"cluster column {cluster!r} is missing in every row; fill it or choose another --cluster.")
        df = df.loc[keep].reset_index(drop=True)
    p = _panel_from_csv(design, df, unit=unit, time=time, outcome=outcome, cohort=cohort, treat=treat,
                        covariates=covariates, regressors=regressors,
                        cluster=cluster if len(cl_cols) <= 1 else None, fe=fe,
                        cl_extra=cl_cols if len(cl_cols) > 1 else [])
    if n_drop_cl:
        p.info["n_dropped_missing_cluster"] = n_drop_cl
    return p


def _panel_from_csv(design, df, *, unit, time, outcome, cohort, treat, covariates, regressors, cluster, fe,
                    cl_extra=()) -> Panel:
    need_cohort = design in STAGGERED
    extra = list(dict.fromkeys(c for c in [*fe, *cl_extra] if c not in (unit, time)))
    kw: dict[str, Any] = dict(unit=unit, time=time, outcome=outcome, cluster=cluster)
    if design == "panel":
        return Panel.from_frame(
            df, **kw, covariates=regressors, unique_keys=False, regular_time=False, require_comparison=False,
            extra=[c for c in [cluster, *cl_extra] if c and c not in (unit, time)],
        )
    if design in SINGLE_UNIT:
        roles = {unit, time, outcome}
        extra = [c for c in df.columns if c not in roles]
        return Panel.from_frame(df, **kw, extra=extra, require_comparison=False, min_clusters_warn=0)
    return Panel.from_frame(
        df, **kw, cohort=cohort if need_cohort else None, treat=treat if design == "twfe" else None,
        covariates=covariates, extra=extra,
    )


def registry_panel(
    design: str,
    *,
    measure: str,
    intervention: str,
    years: tuple[int, int] | None = None,
    units: Sequence[str] | None = None,
    variant: str | None = None,
    covariates: Sequence[str] = (),
    min_cohort_units: int = 2,
) -> Panel:
    """Panel of one registry measure with the intervention's cohort and treat columns.

    For the staggered designs (cs, sun-abraham, imputation) treated cohorts with
    fewer than ``min_cohort_units`` units are dropped and listed in
    ``panel.info['dropped_small_cohorts']``; units whose adoption date is
    unknown under the variant are listed in ``panel.info['dropped_unknown_timing']``.
    """
    from .panel import build_panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        p = build_panel([measure], intervention, units=units, years=years, covariates=covariates, variant=variant)
    f = p.frame
    if design == "twfe":
        q = Panel.from_frame(f, unit=p.unit, time=p.time, outcome=p.outcome, treat="treat",
                             covariates=p.covariates, extra=["cohort"], regular_time=False)
    elif design in SINGLE_UNIT or design == "panel":
        q = Panel.from_frame(f, unit=p.unit, time=p.time, outcome=p.outcome, covariates=p.covariates,
                             extra=["cohort", "treat"], regular_time=False, require_comparison=False,
                             unique_keys=True, min_clusters_warn=0)
    else:
        q = Panel.from_frame(f, unit=p.unit, time=p.time, outcome=p.outcome, cohort="cohort",
                             covariates=p.covariates, regular_time=False)
    for k in ("dropped_unknown_timing", "intervention", "variant", "measures", "n_always_treated_dropped"):
        if k in p.info:
            q.info[k] = p.info[k]
    if design in ("cs", "sun-abraham", "imputation"):
        q = balance_units(q)
        q = drop_small_cohorts(q, min_units=min_cohort_units)
    return q


def balance_units(panel: Panel) -> Panel:
    """Keep the units observed in every period of the panel (listed in ``info['dropped_incomplete_units']``).

    The staggered designs compare the same units over time; on registry panels
    every estimator gets the same balanced sample so their estimates are
    comparable (Callaway–Sant'Anna would otherwise drop incomplete units itself).
    """
    f = panel.frame
    n_t = f[panel.time].nunique()
    counts = f.groupby(panel.unit)[panel.outcome].count()
    incomplete = sorted(map(str, counts[counts < n_t].index))
    if not incomplete:
        panel.info["dropped_incomplete_units"] = []
        return panel
    out = panel.subset_units(counts[counts == n_t].index)
    out.info["dropped_incomplete_units"] = incomplete
    return out


def drop_small_cohorts(panel: Panel, *, min_units: int = 2) -> Panel:
    """Drop treated cohorts with fewer than ``min_units`` units (recorded in ``panel.info``).

    Registry panels of real adoption dates often have a cohort of one country;
    its ATT(g,t) has no sampling variation of its own, so the staggered
    designs refuse it.  Registry runs drop such cohorts and say which.
    """
    g = panel.frame.groupby(panel.unit)[panel.cohort].first()
    sizes = g[g > 0].value_counts()
    small = sorted(int(c) for c in sizes[sizes < min_units].index)
    if not small:
        panel.info.setdefault("dropped_small_cohorts", {})
        return panel
    units = g[g.isin(small)].index
    out = panel.subset_units([u for u in g.index if u not in set(units)])
    out.info["dropped_small_cohorts"] = {str(c): sorted(map(str, g[g == c].index)) for c in small}
    return out


def registry_donors(panel: Panel, *, treated, last_period: int | None = None) -> tuple[list, dict]:
    """Donor pool for a single treated unit on a registry panel.

    Excludes the treated unit, every unit that adopts the same intervention on
    or before ``last_period`` (default: the panel's last period), i.e. units
    treated inside the window (ADH 2010 donor-pool rule), and units whose
    outcome series has gaps over the panel's periods (a synthetic control
    needs every donor in every period).  Returns ``(donors, excluded)`` where
    ``excluded`` maps each rule to the units it removed, so the exclusion is
    recorded in the result, never silent.
    """
    f = panel.frame
    last = int(f[panel.time].max()) if last_period is None else int(last_period)
    g = f.groupby(panel.unit)["cohort"].first()
    adopters = sorted(u for u in g[(g > 0) & (g <= last)].index if u != treated)
    n_periods = f[panel.time].nunique()
    counts = f.groupby(panel.unit)[panel.outcome].count()
    gaps = sorted(u for u in counts[counts < n_periods].index if u != treated and u not in adopters)
    donors = sorted(u for u in g.index if u != treated and u not in adopters and u not in gaps)
    return donors, {"adopted_in_window": adopters, "incomplete_series": gaps}


def registry_treat_time(panel: Panel, treated: str) -> int:
    """The treated unit's adoption year from the registry cohort column."""
    f = panel.frame
    row = f.loc[f[panel.unit] == treated, "cohort"]
    if row.empty:
        raise PanelError(
            f"treated unit {treated!r} has no data for this measure; pick a unit from the panel "
            f"(e.g. {', '.join(map(str, sorted(f[panel.unit].unique())[:8]))})."
        )
    c = int(row.iloc[0])
    if c == 0:
        raise PanelError(
            f"{treated!r} never adopts this intervention in the registry; give --treat-time T explicitly."
        )
    return c


def estimate(design: str, panel: Panel, **options) -> Estimate:
    """Fit ``design`` on ``panel`` with keyword ``options`` (see each design's docstring)."""
    fn = design_function(design)
    res = fn(panel, **options)
    n_cl = int(panel.info.get("n_dropped_missing_cluster", 0))
    if n_cl:  # rows dropped before the panel was built because their cluster id was missing
        diag = dict(res.diagnostics)
        diag["n_dropped"] = int(diag.get("n_dropped", 0)) + n_cl
        diag["n_dropped_missing_cluster"] = int(diag.get("n_dropped_missing_cluster", 0)) + n_cl
        res = res.replace(diagnostics=diag)
    notes = {k: panel.info[k] for k in ("dropped_small_cohorts", "dropped_unknown_timing", "dropped_incomplete_units", "n_always_treated_dropped",
                                        "cohort_coding", "intervention", "variant") if panel.info.get(k)}
    if notes:
        res = res.replace(options={**res.options, "panel": notes})
    return res
