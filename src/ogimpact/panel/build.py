"""Assemble a validated panel from the registry: measures x intervention timing.

``build_panel`` joins the long measure series (``ogimpact.measures.load``) with
an intervention's timing table (``ogimpact.interventions.timing``), completes
the unit x year grid, codes ``cohort`` (first treated year, 0 = never) and
``treat``, and validates the result through :meth:`Panel.from_frame`.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from .core import Panel, PanelError, _as_list, note_warning

__all__ = ["build_panel"]


def _exit_years(timing: pd.DataFrame) -> dict[str, int]:
    """Exit year per unit from the timing table's ``exited`` column (treated units only)."""
    if "exited" not in timing.columns:
        return {}
    t = timing[timing["exited"].notna() & (timing["cohort"].fillna(0) > 0)]
    return {str(u): int(y) for u, y in zip(t["unit"], t["exited"])}


def build_panel(
    measures: Sequence[str] | str,
    intervention: str,
    *,
    units: Iterable[str] | None = None,
    years: tuple[int, int] | None = None,
    covariates: Sequence[str] = (),
    variant: str | None = None,
    always_treated: str = "drop",
) -> Panel:
    """Assemble a country (or subnational) panel from the registry.

    Parameters
    ----------
    measures : list of measure ids (``ogimpact measures``); the first is the outcome role,
        every measure becomes a column named by its id.
    intervention : intervention id (``ogimpact interventions``); gives ``cohort`` and ``treat``.
    units : restrict to these unit codes (ISO3 for countries).
    years : (first, last) inclusive.
    covariates : further measure ids used as covariates.
    variant : timing variant of the intervention (default: its documented default).

    Returns
    -------
    Panel with columns ``unit``, ``year``, one per measure, ``cohort``, ``treat``
    (1 from the cohort year on), and ``unit_name``.
    """
    from .. import interventions as _iv
    from .. import measures as _ms

    ids = _as_list(measures)
    covs = _as_list(covariates)
    if not ids:
        raise PanelError("give at least one measure id (see `ogimpact measures`).")
    for m in ids + covs:
        _ms.get(m)  # raises with the valid ids
    iv = _iv.get(intervention)
    long = _ms.load(ids + covs, units=list(units) if units else None, years=years)
    if long.empty:
        raise PanelError(
            f"no data for measures {', '.join(ids)} in the years/units asked; widen --years or --units."
        )
    wide = long.pivot_table(index=["unit", "year"], columns="measure", values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    timing = _iv.timing(intervention, variant=variant)
    levels = {_ms.get(m).unit_level for m in ids}
    if iv.unit_level not in levels:
        raise PanelError(
            f"intervention {intervention!r} is defined for {iv.unit_level} units but the measures are at "
            f"{'/'.join(sorted(levels))} level; choose measures at {iv.unit_level} level."
        )
    tcols = ["unit", "cohort"] + (["unit_name"] if "unit_name" in timing.columns else [])
    exits = _exit_years(timing)
    # treated units whose timing is unknown under this variant cannot be coded: they are neither
    # never-treated controls nor a cohort, so they leave the panel (listed in info, never silent)
    unknown_timing = timing["cohort"].isna()
    if "treated" in timing.columns:
        unknown_timing &= timing["treated"].astype(bool)
    dropped_unknown = sorted(map(str, timing.loc[unknown_timing, "unit"]))
    timing = timing.loc[~timing["cohort"].isna()]
    # interventions with several records per unit (e.g. successive action plans) enter a panel once,
    # from their first treated period (the cohort is the same on every record of a unit)
    timing = timing.sort_values(["unit", "cohort"], kind="mergesort").drop_duplicates("unit", keep="first")
    wide = wide.merge(timing[tcols], on="unit", how="inner")
    unknown = sorted(set(units) - set(wide["unit"])) if units else []
    if years:
        y0, y1 = years
        # complete the year grid so the panel is regular
        grid = pd.MultiIndex.from_product([sorted(wide["unit"].unique()), range(int(y0), int(y1) + 1)],
                                          names=["unit", "year"]).to_frame(index=False)
        static = wide[tcols].drop_duplicates("unit")
        wide = grid.merge(static, on="unit").merge(wide.drop(columns=[c for c in tcols if c != "unit"]),
                                                  on=["unit", "year"], how="left")
    else:
        lo, hi = int(wide["year"].min()), int(wide["year"].max())
        grid = pd.MultiIndex.from_product([sorted(wide["unit"].unique()), range(lo, hi + 1)],
                                          names=["unit", "year"]).to_frame(index=False)
        static = wide[tcols].drop_duplicates("unit")
        wide = grid.merge(static, on="unit").merge(wide.drop(columns=[c for c in tcols if c != "unit"]),
                                                  on=["unit", "year"], how="left")
    wide["cohort"] = wide["cohort"].fillna(0).astype("int64")
    wide["treat"] = ((wide["cohort"] > 0) & (wide["year"] >= wide["cohort"])).astype("int64")
    if exits:  # treated until they left: treat switches off from the exit year (the cohort stays, see D-exit)
        ex = wide["unit"].map(exits)
        wide.loc[ex.notna() & (wide["year"] >= ex), "treat"] = 0
    # periods with no outcome anywhere (e.g. biennial sources) are not part of the panel
    has_y = wide.groupby("year")[ids[0]].apply(lambda s: s.notna().any())
    wide = wide[wide["year"].isin(has_y[has_y].index)]
    panel = Panel.from_frame(
        wide,
        unit="unit",
        time="year",
        outcome=ids[0],
        cohort="cohort",
        treat=None,
        covariates=covs,
        extra=[c for c in ids[1:] + ["treat"] + (["unit_name"] if "unit_name" in wide.columns else [])],
        regular_time=False,
        always_treated=always_treated,
    )
    panel.info["dropped_unknown_timing"] = dropped_unknown
    if unknown:
        note_warning(panel.info, "units_dropped", f"units without data or timing dropped: {', '.join(unknown)}")
    if dropped_unknown:
        msg = (f"dropped {len(dropped_unknown)} treated unit(s) whose adoption date is unknown under this variant: "
               f"{', '.join(dropped_unknown[:10])}{' ...' if len(dropped_unknown) > 10 else ''}")
        note_warning(panel.info, "unknown_timing_dropped", msg)
    exited_in = {u: int(y) for u, y in exits.items() if u in set(panel.frame[panel.unit])}
    if exited_in:
        panel.info["exited_units"] = exited_in
        note_warning(panel.info, "treatment_exit",
                     f"{len(exited_in)} unit(s) left the intervention "
                     f"({', '.join(f'{u} {y}' for u, y in sorted(exited_in.items()))}): the treat column is 0 from the "
                     "exit year, while cohort-based (absorbing) designs keep them treated from their cohort on "
                     "(intention to treat)")
    panel.info["intervention"] = intervention
    panel.info["variant"] = variant or iv.default_variant
    panel.info["measures"] = ids
    return panel
