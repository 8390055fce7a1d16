"""One entry point for every design: ``estimate(design, panel, **options)``.

The command line (``ogimpact estimate``) and the notebooks both call these
functions, so the same inputs give the same numbers whichever way a user
comes in.  Designs are imported lazily: a design module only loads when used.

Also here: reading a user CSV with clear errors, building the panel a design
needs from a CSV or from the registry (``--measure/--intervention``).  The
donor rules of the single-unit designs live in :mod:`ogimpact.donors`.
"""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import DataError, DesignError, OgimpactError, OgimpactWarning, PanelError
from .panel import Panel, PanelWarning, note_warning
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
    "collect_warnings",
]

#: design name -> (module, function), from the one declaration of each design (designs/declarations.py)
from .designs.declarations import DECLARATIONS as _DECLARATIONS  # noqa: E402

DESIGNS: dict[str, tuple[str, str]] = {d.name: (d.module, d.function_name) for d in _DECLARATIONS}

SINGLE_UNIT = ("synth", "sdid", "its")
REGRESSION = ("panel", "twfe", "event-study")
STAGGERED = ("event-study", "cs", "sun-abraham", "imputation")
#: designs that take ``min_cohort_size`` (the thin-cohort rule, one home: :func:`drop_small_cohorts`)
COHORT_DESIGNS = ("cs", "sun-abraham", "imputation")
#: default smallest treated cohort kept: 1 = every cohort with a unit is estimated, as R ``did``
#: (which only warns below covariates + 5 units); registry panels, the CLI and assess share it
MIN_COHORT_SIZE = 1
STAGGERED += ("etwfe", "stacked")


def design_function(design: str):
    """The fitting function of a design (imported on first use)."""
    if design not in DESIGNS:
        raise OgimpactError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}.")
    mod, fn = DESIGNS[design]
    try:
        return getattr(importlib.import_module(mod), fn)
    except (ModuleNotFoundError, AttributeError) as exc:  # pragma: no cover - all designs ship
        raise OgimpactError(f"design {design!r} is not available in this build ({exc}).") from exc


def read_csv(path: str | Path, *, id_columns: Sequence[str | None] = ()) -> pd.DataFrame:
    """Read a user CSV (see :func:`ogimpact.inputs.read_table`, the one reader of user tables);
    ``id_columns`` keep ``NA`` (ISO2 Namibia) as a value."""
    from .inputs import read_table

    return read_table(path, id_columns=id_columns)


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
    from .inputs import validate_roles  # the one validator of user tables (issue 9)

    validate_roles(df, unit=unit, time=time, outcome=outcome, numeric=[*covariates, *regressors],
                   optional=[cohort, treat], regressors=regressors)
    need_cohort = design in STAGGERED
    if need_cohort and not cohort:
        raise OgimpactError(f"design {design!r} needs --cohort COL (the first treated period; 0/empty = never treated).")
    if design == "dcdh" and not treat:
        raise OgimpactError("design 'dcdh' needs --treat COL (the treatment: binary, discrete or continuous).")
    if design in ("twfe", "lp-did") and not treat:
        raise OgimpactError(f"design {design!r} needs --treat COL (a 0/1 treatment indicator).")
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
            extra=[c for c in [cluster, *cl_extra, *fe] if c and c not in (unit, time)],
        )
    if design == "dcdh":  # non-absorbing, non-binary treatment: an extra column; missing outcomes kept
        return Panel.from_frame(df, **kw, extra=list(dict.fromkeys(c for c in [treat, *covariates, *extra]
                                                                   if c not in (unit, time))),
                                drop_missing_outcome=False, require_comparison=False)
    if design == "continuous":
        return Panel.from_frame(df, **kw, cohort=cohort, covariates=covariates,
                                extra=[c for c in [treat, *extra] if c and c not in (unit, time)])
    if design in SINGLE_UNIT:
        roles = {unit, time, outcome}
        extra = [c for c in df.columns if c not in roles]
        return Panel.from_frame(df, **kw, extra=extra, require_comparison=False, min_clusters_warn=0)
    return Panel.from_frame(
        df, **kw, cohort=cohort if need_cohort else None, treat=treat if design in ("twfe", "lp-did") else None,
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
    min_cohort_units: int = MIN_COHORT_SIZE,
) -> Panel:
    """Panel of one registry measure with the intervention's cohort and treat columns.

    For the staggered designs (cs, sun-abraham, imputation) treated cohorts with
    fewer than ``min_cohort_units`` units (default ``MIN_COHORT_SIZE`` = 1: none) are dropped
    and listed in ``panel.info['dropped_small_cohorts']``; units whose adoption date is
    unknown under the variant are listed in ``panel.info['dropped_unknown_timing']``.
    """
    from . import interventions as _iv
    from .panel import build_panel

    allowed = _iv.get(intervention).designs
    if allowed and design not in allowed:  # e.g. open_up_guide: one treated unit, no staggered adoption
        raise DesignError(
            f"design {design!r} does not apply to intervention {intervention!r}, which has designs "
            f"{', '.join(allowed)} only (see `ogimpact interventions --json`); run one of those instead."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        p = build_panel([measure], intervention, units=units, years=years, covariates=covariates, variant=variant,
                        **({"always_treated": "keep"} if design in ("dcdh", "lp-did") else {}))
    f = p.frame
    if design in ("twfe", "lp-did"):
        q = Panel.from_frame(f, unit=p.unit, time=p.time, outcome=p.outcome, treat="treat",
                             covariates=p.covariates, extra=["cohort"], regular_time=False)
    elif design == "dcdh":  # non-absorbing: treat is 0 from an exit year on (e.g. OGP members that left)
        q = Panel.from_frame(f, unit=p.unit, time=p.time, outcome=p.outcome, treat="treat", covariates=p.covariates,
                             extra=["cohort"], regular_time=False, drop_missing_outcome=False,
                             require_comparison=False)
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
    for msg in p.info.get("warnings", []):  # the registry build's coded warnings travel with the panel
        if msg not in q.info.get("warnings", []):
            q.info.setdefault("warnings", []).append(msg)
            q.info.setdefault("warning_codes", {})[msg] = p.info.get("warning_codes", {}).get(msg, "panel")
    if design in ("cs", "sun-abraham", "imputation"):
        q = balance_units(q)
        q = drop_small_cohorts(q, min_units=min_cohort_units)
    if design == "continuous":  # the intervention's dose (e.g. RTI Rating score of the law), issue 14 item 7
        from .designs.registry_dose import DOSE_COLUMNS, attach_dose

        if intervention in DOSE_COLUMNS:
            q = attach_dose(balance_units(q), intervention)
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
    out.info["warnings"] = list(out.info.get("warnings", []))  # not the source panel's list
    out.info["warning_codes"] = dict(out.info.get("warning_codes", {}))
    note_warning(out.info, "incomplete_units_dropped",
                 f"dropped {len(incomplete)} unit(s) not observed in every period (balanced sample): "
                 f"{', '.join(incomplete[:10])}{' ...' if len(incomplete) > 10 else ''}")
    return out


def drop_small_cohorts(panel: Panel, *, min_units: int = MIN_COHORT_SIZE) -> Panel:
    """Drop treated cohorts with fewer than ``min_units`` units (recorded in ``panel.info``).

    The one home of the thin-cohort rule.  By default (``MIN_COHORT_SIZE`` = 1)
    nothing is dropped: every cohort is estimated, as R ``did`` does (it warns
    about small groups, see ``designs.cs_prepare.small_cohort_threshold``).  A user
    who wants thin cohorts out gives ``min_cohort_size`` (CLI ``--min-cohort-size N``);
    the cohorts dropped and their units are listed in ``info['dropped_small_cohorts']``
    and in a ``small_cohort_dropped`` warning.
    """
    if isinstance(min_units, bool) or not isinstance(min_units, (int, np.integer)) or min_units < 1:
        raise OgimpactError(f"min_cohort_size must be a whole number >= 1 (units per cohort), got {min_units!r}.")
    g = panel.frame.groupby(panel.unit)[panel.cohort].first()
    sizes = g[g != 0].value_counts()
    small = sorted(int(c) for c in sizes[sizes < min_units].index)
    if not small:
        panel.info.setdefault("dropped_small_cohorts", {})
        return panel
    units = g[g.isin(small)].index
    out = panel.subset_units([u for u in g.index if u not in set(units)])
    out.info["dropped_small_cohorts"] = {str(c): sorted(map(str, g[g == c].index)) for c in small}
    out.info["warnings"] = list(out.info.get("warnings", []))  # not the source panel's list
    out.info["warning_codes"] = dict(out.info.get("warning_codes", {}))
    desc = ", ".join(f"{c} ({int(sizes[c])} unit{'s' if sizes[c] != 1 else ''})" for c in small)
    note_warning(out.info, "small_cohort_dropped",
                 f"dropped cohort(s) {desc}: fewer than min_cohort_size = {int(min_units)} units.")
    return out


# the donor rules live in ogimpact.donors (select_donors); this name is kept for existing callers
from .donors import registry_donors  # noqa: E402


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


def registry_measure_se(measure: str, treated, treat_time: int) -> float | None:
    """Mean published standard error of ``measure`` for the treated unit(s) before ``treat_time``.

    ``None`` when the source publishes none (``Measure.has_se``) or has none for those unit-years;
    the single-unit designs report ``pre_rmspe_ratio_se`` = pre-RMSPE over it.
    """
    from . import measures as _measures

    if "," in str(measure) or not _measures.get(measure).has_se:
        return None
    units = [str(u) for u in (treated if isinstance(treated, (list, tuple)) else [treated])]
    df = _measures.load([measure], units=units)
    se = pd.to_numeric(df.loc[df["year"] < int(treat_time), "se"], errors="coerce").dropna()
    return float(se.mean()) if len(se) and se.mean() > 0 else None


def estimate(design: str, panel: Panel, **options) -> Estimate:
    """Fit ``design`` on ``panel`` with keyword ``options`` (see each design's docstring).

    Warnings are data: the panel's coded warnings (``panel.info``), every
    :class:`~ogimpact.errors.OgimpactWarning` raised during the fit and the design's own
    notes become ``diagnostics.warnings`` = ``[{code, message}, ...]`` (deduplicated, in the
    order raised; always present, possibly empty).  Other Python warnings pass through.
    """
    fn = design_function(design)
    small_sample = options.pop("small_sample", None)  # --small-sample stata (numerics.vcov, issue 14)
    if small_sample not in (None, "default"):
        from .numerics.vcov import small_sample_convention

        if design not in (*REGRESSION, "etwfe", "stacked"):
            raise OgimpactError(f"--small-sample applies to the regression designs ({', '.join(REGRESSION)}, etwfe, "
                                f"stacked), not to {design!r}.")

        with small_sample_convention(small_sample):
            res = estimate(design, panel, **options)
        res.options["small_sample"] = small_sample
        return res
    min_size = options.pop("min_cohort_size", None)
    if design not in COHORT_DESIGNS and min_size not in (None, MIN_COHORT_SIZE):
        raise OgimpactError(f"min_cohort_size applies to {', '.join(COHORT_DESIGNS)}, not to {design!r}.")
    inference_opts = None
    if design == "synth":  # inference on the fitted synth lives in ogimpact.inference (designs never import it)
        from .inference.synth_inference import INFERENCE_OPTIONS, apply_synth_inference

        inference_opts = {k: options.pop(k) for k in INFERENCE_OPTIONS if k in options}
    sdid_inference = None
    if design == "sdid":
        from .inference.synth_inference import SDID_INFERENCE_OPTIONS, apply_sdid_inference

        sdid_inference = {k: options.pop(k) for k in SDID_INFERENCE_OPTIONS if k in options}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if design in COHORT_DESIGNS:
            min_size = MIN_COHORT_SIZE if min_size is None else min_size
            if min_size != MIN_COHORT_SIZE:
                panel = drop_small_cohorts(panel, min_units=min_size)  # its warning is kept in panel.info
        res = fn(panel, **options)
        if "wild_bootstrap_request" in res.extras:  # regression designs: inference runs after the fit
            from .inference.wild_bootstrap import bootstrap_estimate

            res = bootstrap_estimate(res)
        if inference_opts is not None:
            res = apply_synth_inference(res, **inference_opts)
        if sdid_inference is not None:
            res = apply_sdid_inference(res, **sdid_inference)
    fit_warnings = []
    for w in caught:
        if isinstance(w.message, OgimpactWarning):
            fit_warnings.append(w.message.to_dict())
        else:  # not ours: hand it on unchanged
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    n_cl = int(panel.info.get("n_dropped_missing_cluster", 0))
    if n_cl:  # rows dropped before the panel was built because their cluster id was missing
        diag = dict(res.diagnostics)
        diag["n_dropped"] = int(diag.get("n_dropped", 0)) + n_cl
        diag["n_dropped_missing_cluster"] = int(diag.get("n_dropped_missing_cluster", 0)) + n_cl
        res = res.replace(diagnostics=diag)
    fit_warnings += pretrend_conflict(res)
    res = res.replace(diagnostics={**res.diagnostics,
                                   "warnings": collect_warnings(panel, res.diagnostics, fit_warnings, design=design)})
    if design in COHORT_DESIGNS:
        res = res.replace(options={**res.options, "min_cohort_size": int(min_size)},
                          diagnostics={**res.diagnostics,
                                       "dropped_small_cohorts": dict(panel.info.get("dropped_small_cohorts") or {})})
    notes = {k: panel.info[k] for k in ("dropped_small_cohorts", "dropped_unknown_timing", "dropped_incomplete_units", "n_always_treated_dropped",
                                        "cohort_coding", "intervention", "variant") if panel.info.get(k)}
    if notes:
        res = res.replace(options={**res.options, "panel": notes})
    return res


def pretrend_conflict(res, alpha: float = 0.05) -> list[dict]:
    """``pretrend_conflict`` when the headline is significant at ``alpha`` while the design's own
    pre-trend test (``diagnostics.pretrend_wald_p``) rejects parallel trends at ``alpha`` (issue 12:
    conflicts are said next to the number)."""
    import math

    p_pre = (res.diagnostics or {}).get("pretrend_wald_p")
    p = res.p_value
    try:
        p_pre, p = float(p_pre), float(p)
    except (TypeError, ValueError):
        return []
    if not (math.isfinite(p_pre) and math.isfinite(p)) or not (p < alpha and p_pre < alpha):
        return []
    return [warning_entry("pretrend_conflict",
                          f"the headline estimate {res.estimate:.4g} is significant (p = {p:.2g}) but the pre-trend "
                          f"test rejects parallel trends (p = {p_pre:.2g} < {alpha:g}); read it with caution")]


#: design notes (strings in a design's ``diagnostics.warnings``) get this code when no better one is known
_NOTE_CODE = "design_note"


def warning_entry(code: str, message: str) -> dict:
    """One ``diagnostics.warnings`` entry (message on one line)."""
    return {"code": str(code), "message": " ".join(str(message).split())}


def collect_warnings(panel: Panel | None, diagnostics: dict, raised: Sequence[dict] = (), *, design: str = "") -> list:
    """``diagnostics.warnings`` of a result: panel warnings, then warnings raised during the fit, then
    the design's own notes and the rows-dropped count, each ``{code, message}``, deduplicated."""
    out: list[dict] = []
    info = panel.info if panel is not None else {}
    codes = info.get("warning_codes", {})
    for msg in info.get("warnings", []):
        out.append(warning_entry(codes.get(msg, "panel"), msg))
    out.extend(warning_entry(w["code"], w["message"]) for w in raised)
    for w in diagnostics.get("warnings", []) or []:
        out.append(warning_entry(w.get("code", _NOTE_CODE), w.get("message", "")) if isinstance(w, dict)
                   else warning_entry(_NOTE_CODE, w))
    n_drop = int(diagnostics.get("n_dropped", 0) or 0)
    if n_drop and not any(e["code"] == "rows_dropped" for e in out):
        out.append(warning_entry("rows_dropped", f"{n_drop} row(s) with a missing outcome, covariate or cluster id "
                                                 f"were dropped before estimating{f' {design}' if design else ''}."))
    seen: set = set()
    uniq = []
    for e in out:
        key = (e["code"], e["message"])
        if key not in seen:
            seen.add(key)
            uniq.append(e)
    return uniq
