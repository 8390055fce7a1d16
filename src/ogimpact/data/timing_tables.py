"""Readers for treatment-timing tables: RTI Rating, OGP panels and hand-made
OGP/FOI fact tables, and the Open Up Guide tables."""
from __future__ import annotations

import pandas as pd

from ._io import cached_frame, read_csv, require_columns
from .countries import name_to_iso3

__all__ = [
    "rti_rating",
    "ogp_participation",
    "ogp_local",
    "ogp_cohorts",
    "ogp_status_2016",
    "ogp_action_plans",
    "foi_law_dates",
    "open_up_guide_datasets",
    "open_up_guide_pilot_facts",
    "rti_laws",
    "rti_law_events",
]


@cached_frame
def rti_rating(root: str) -> pd.DataFrame:
    """RTI/FOI law adoption year (first national law) and Global RTI Rating scores (cross-section, 196 rows).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, has_rti_law`` (bool), ``rti_law_year`` (Int64; NA when
        no law), ``rti_rating_total`` (0–150) and the 7 category scores
        ``rti_right_of_access … rti_promotional_measures``.
    """
    df = read_csv(root, "rti_rating", "rti_law_year_and_rating.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "has_rti_law", "rti_law_year", "rti_rating_total"], "rti_law_year_and_rating.csv")
    df["has_rti_law"] = df["has_rti_law"].astype(int).astype(bool)
    df["rti_law_year"] = df["rti_law_year"].astype("Int64")
    return df


@cached_frame
def ogp_participation(root: str) -> pd.DataFrame:
    """OGP national participation panel 2011–2019 (79 countries still participating in 2019).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, year, ogp_participating`` (0/1),
        ``first_year_participating_in_panel`` (OGP "joined in" = letter of
        intent convention), ``ogp_fiscal_openness_participation``,
        ``ogp_fiscal_openness_transparency``.
    """
    df = read_csv(root, "ogp_membership", "ogp_participation_panel_2011_2019.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "year", "ogp_participating", "first_year_participating_in_panel"],
                    "ogp_participation_panel_2011_2019.csv")
    return df


@cached_frame
def ogp_local(root: str) -> pd.DataFrame:
    """OGP Local pioneer jurisdictions × 2011–2019: ``code`` (4 letters, e.g. ``MXJL``), ``year, ogp_participating``."""
    df = read_csv(root, "ogp_membership", "ogp_local_members_panel_2011_2019.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["code", "year", "ogp_participating"], "ogp_local_members_panel_2011_2019.csv")
    return df


@cached_frame
def ogp_cohorts(root: str) -> pd.DataFrame:
    """OGP cohorts 2011–2014 (hand-made; action-plan cohort definition, 52 rows).

    Returns
    -------
    pandas.DataFrame
        ``iso3`` (mapped from the name), ``country, ogp_cohort`` (``1_founding``,
        ``2``, ``3``, ``4``), ``cohort_join_ym`` (``YYYY-MM``), ``cohort_year``
        (int), ``source_url, note``.
    """
    df = read_csv(root, "ogp_foi_timing", "ogp_cohorts_2011_2014.csv", dtype={"ogp_cohort": str})
    require_columns(df, ["country", "ogp_cohort", "cohort_join_ym"], "ogp_cohorts_2011_2014.csv")
    df.insert(0, "iso3", name_to_iso3(df["country"]))
    df["cohort_year"] = df["cohort_join_ym"].str[:4].astype(int)
    return df


@cached_frame
def ogp_status_2016(root: str) -> pd.DataFrame:
    """OGP participation status 0–4 in 2016 (OKF DE 2030 Watch): ``iso3, country, year, ogp_status_0_4``.

    4 = third action plan adopted, 3 = second, 2 = first, 1 = developing an
    action plan, 0 = inactive.
    """
    df = read_csv(root, "ogp_foi_timing", "ogp_participation_status_2016.csv")
    df.insert(0, "iso3", name_to_iso3(df["country"]))
    return df


@cached_frame
def ogp_action_plans(root: str) -> pd.DataFrame:
    """OGP national action plans of Chile (1–6) and Mexico (1–4) (hand-made).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, plan_no, period, start, end`` (years parsed from
        ``period`` "YYYY-YYYY"), ``n_commitments`` (Int64, only where a source
        states it), ``key_facts, source_url``.
    """
    df = read_csv(root, "ogp_foi_timing", "ogp_action_plans_chile_mexico.csv")
    require_columns(df, ["country", "plan_no", "period"], "ogp_action_plans_chile_mexico.csv")
    df.insert(0, "iso3", name_to_iso3(df["country"]))
    per = df["period"].str.extract(r"^(\d{4})-(\d{4})$")
    df.insert(4, "start", per[0].astype(int))
    df.insert(5, "end", per[1].astype(int))
    df["n_commitments"] = df["n_commitments"].astype("Int64")
    return df


@cached_frame
def foi_law_dates(root: str) -> pd.DataFrame:
    """FOI law adoption and entry-into-force dates (hand-made; Chile, Mexico ×3, India, UK, Brazil).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, law, adopted, in_force`` (strings as published:
        ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), ``adopted_year, in_force_year``
        (Int64), ``oversight_body, notes, source_url``.
    """
    df = read_csv(root, "ogp_foi_timing", "foi_law_dates.csv", dtype=str)
    require_columns(df, ["country", "law", "adopted", "in_force"], "foi_law_dates.csv")
    df.insert(0, "iso3", name_to_iso3(df["country"]))
    for col in ("adopted", "in_force"):
        df[f"{col}_year"] = pd.to_numeric(df[col].str[:4], errors="coerce").astype("Int64")
    return df


@cached_frame
def open_up_guide_datasets(root: str) -> pd.DataFrame:
    """Anti-Corruption Open Up Guide priority datasets (Table 4, 30 rows):
    ``order_in_table4, dataset, anticorruption_category, dataset_type``."""
    return read_csv(root, "open_up_guide", "anticorruption_open_up_guide_priority_datasets.csv")


@cached_frame
def open_up_guide_pilot_facts(root: str) -> pd.DataFrame:
    """Mexico Open Up Guide pilot facts (12 rows): ``fact, value`` (text as published), ``description, source_url``."""
    return read_csv(root, "open_up_guide", "mexico_open_up_guide_pilot_facts.csv", dtype=str)


def _year_of(col: pd.Series) -> pd.Series:
    """Leading ``YYYY`` of a ``YYYY[-MM[-DD]]`` string column as Int64 (NA when empty)."""
    return pd.to_numeric(col.fillna("").str.extract(r"^(\d{4})", expand=False), errors="coerce").astype("Int64")


@cached_frame
def rti_laws(root: str) -> pd.DataFrame:
    """Curated RTI statutes (142 rows): statute, adoption and in-force dates, earlier instruments, citations.

    Returns
    -------
    pandas.DataFrame
        The columns of ``raw/rti_laws/rti_laws.csv`` as strings (dates as
        published: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; see its
        PROVENANCE.md) plus ``adopted_year``, ``in_force_year`` and
        ``first_instrument_year`` (Int64, NA when the date is empty).
    """
    df = read_csv(root, "rti_laws", "rti_laws.csv", dtype=str, keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "row_status", "statute", "adopted", "in_force", "in_force_unknown", "first_instrument",
                         "first_instrument_date", "rti_rating_total", "citation", "accessed"], "rti_laws.csv")
    for col in ("adopted", "in_force", "first_instrument_date"):
        df[col.replace("_date", "") + "_year"] = _year_of(df[col])
    return df


@cached_frame
def rti_law_events(root: str) -> pd.DataFrame:
    """Later RTI laws (replacement / strengthening / amendment / weakening): ``iso3, date, kind, instrument,
    in_force, citation, note, accessed`` (strings) plus ``year`` (Int64)."""
    df = read_csv(root, "rti_laws", "rti_law_events.csv", dtype=str, keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "date", "kind", "instrument", "citation"], "rti_law_events.csv")
    df["year"] = _year_of(df["date"])
    return df
