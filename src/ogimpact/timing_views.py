"""Views across the timing variants of one intervention: every variant per unit, and who moves between two.

Generic over the registry: each view calls :func:`ogimpact.interventions.timing`
once per variant and lines the tables up on the unit (and, for interventions
with several records per unit such as action plans, on the record's order
within the unit).  Used by ``ogimpact interventions show`` / ``diff`` and by
the country report's intervention section.
"""
from __future__ import annotations

import pandas as pd

from . import interventions as _intv
from .errors import UsageError

__all__ = ["variant_table", "cohort_diff", "SOURCE_COLUMNS", "country_variant_note"]

#: columns of a timing table that name the source of a row, in order of preference
SOURCE_COLUMNS = ("citation", "source_url")

_SKIP = {"variant", "cohort", "cohort_basis", "treated"}


def _keyed(t: pd.DataFrame) -> pd.DataFrame:
    t = t.reset_index(drop=True).copy()
    t["_rec"] = t.groupby("unit").cumcount()
    return t


def variant_table(intervention_id: str) -> pd.DataFrame:
    """One row per unit (per record) with the cohort and its basis under every variant.

    Returns
    -------
    pandas.DataFrame
        ``unit, unit_name``, then ``cohort_<variant>`` (Int64; 0 = never
        treated, NA = treated with unknown timing) and ``basis_<variant>`` for
        each variant in registry order, then every other column of the
        default variant's timing table (for ``rti_law``: ``adopted``,
        ``in_force``, ``in_force_unknown``, ``first_instrument``, ``citation``…).
    """
    intv = _intv.get(intervention_id)
    base = _keyed(_intv.timing(intv.id, intv.default_variant))
    out = base[["unit", "_rec", "unit_name"]].copy()
    for v in intv.variants:
        t = base if v == intv.default_variant else _keyed(_intv.timing(intv.id, v))
        part = t[["unit", "_rec", "cohort", "cohort_basis"]].rename(
            columns={"cohort": f"cohort_{v}", "cohort_basis": f"basis_{v}"})
        out = out.merge(part, on=["unit", "_rec"], how="left")
    rest = [c for c in base.columns if c not in _SKIP and c not in ("unit", "unit_name", "_rec")]
    out = out.merge(base[["unit", "_rec", *rest]], on=["unit", "_rec"], how="left")
    out.attrs.update(base.attrs)
    return out.drop(columns="_rec")


def _check_variant(intv, v: str) -> None:
    if v not in intv.variants:
        raise UsageError(f"unknown variant {v!r} for intervention {intv.id}; use one of: {', '.join(intv.variants)}.")


def cohort_diff(intervention_id: str, variant_a: str, variant_b: str) -> pd.DataFrame:
    """Units whose cohort differs between two variants.

    Returns
    -------
    pandas.DataFrame
        ``unit, unit_name, cohort_a, cohort_b, shift`` (``cohort_b - cohort_a``
        when both are treated with known years, else NA), ``change`` (``moves``,
        ``enters`` = never treated under A but treated under B, ``leaves``, or
        ``timing unknown``), ``basis_a, basis_b`` and the row's source column
        when the timing table has one.  ``attrs`` holds ``n_units`` and the
        variant names.
    """
    intv = _intv.get(intervention_id)
    _check_variant(intv, variant_a)
    _check_variant(intv, variant_b)
    vt = variant_table(intv.id)
    a, b = vt[f"cohort_{variant_a}"], vt[f"cohort_{variant_b}"]
    differs = (a.fillna(-1) != b.fillna(-1)).to_numpy()
    src = next((c for c in SOURCE_COLUMNS if c in vt.columns), None)
    cols = ["unit", "unit_name", f"cohort_{variant_a}", f"cohort_{variant_b}", f"basis_{variant_a}", f"basis_{variant_b}"]
    d = vt.loc[differs, cols + ([src] if src else [])].rename(columns={
        f"cohort_{variant_a}": "cohort_a", f"cohort_{variant_b}": "cohort_b",
        f"basis_{variant_a}": "basis_a", f"basis_{variant_b}": "basis_b"}).reset_index(drop=True)
    both = (d["cohort_a"] > 0) & (d["cohort_b"] > 0)
    d.insert(4, "shift", (d["cohort_b"] - d["cohort_a"]).where(both.fillna(False)))
    change = pd.Series("moves", index=d.index)
    change[(d["cohort_a"] == 0).fillna(False)] = "enters"
    change[(d["cohort_b"] == 0).fillna(False)] = "leaves"
    change[d["cohort_a"].isna() | d["cohort_b"].isna()] = "timing unknown"
    d.insert(5, "change", change)
    d.attrs.update({"n_units": len(vt), "variant_a": variant_a, "variant_b": variant_b})
    return d


def country_variant_note(intervention_id: str, unit: str, variant: str | None = None) -> str:
    """One sentence for a report: the cohort of ``unit`` under the variant used and under every other variant."""
    intv = _intv.get(intervention_id)
    used = variant or intv.default_variant
    vt = variant_table(intv.id)
    r = vt[vt["unit"] == unit]
    if r.empty or len(intv.variants) < 2:
        return ""
    r = r.iloc[0]

    def say(v: str) -> str:
        c = r[f"cohort_{v}"]
        return "timing unknown" if pd.isna(c) else ("never treated" if int(c) == 0 else f"cohort {int(c)}")

    others = [v for v in intv.variants if v != used]
    alt = "; ".join(
        f"`{v}` would give {say(v)}" + ("" if say(v) == say(used) else
                                        f" ({int((vt[f'cohort_{v}'].fillna(-1) != vt[f'cohort_{used}'].fillna(-1)).sum())} "
                                        f"of {len(vt)} units move)")
        for v in others)
    return f"Timing variant used: `{used}` ({say(used)} for {unit}); {alt}."
