"""Readers for TI CPI (2012+ and legacy), voter turnout (IDEA, V-Dem via OWID),
and the open-data indices (Open Data Barometer, Global Open Data Index)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError
from ._io import cached_frame, read_csv, require_columns

__all__ = [
    "ti_cpi",
    "ti_cpi_legacy",
    "idea_elections",
    "idea_country_year",
    "vdem_turnout",
    "odb",
    "godi",
    "CPI_ISO3_FIXES",
]

#: non-ISO codes in the verbatim CPI file mapped to ISO3 at load time
CPI_ISO3_FIXES = {"KSV": "XKX"}

_CPI_COL = re.compile(r"^(CPI score|Rank|Sources|Standard error) (\d{4})$", re.IGNORECASE)


@cached_frame
def ti_cpi(root: str) -> pd.DataFrame:
    """Transparency International CPI 2012–2024, reshaped to long at load time.

    The bundled file is the verbatim TI workbook export (CC BY-ND 4.0, kept
    unmodified): ``;``-separated, UTF-8 with BOM, two title rows, wide.

    Returns
    -------
    pandas.DataFrame
        One row per country-year with a score: ``iso3`` (Kosovo ``KSV`` → ``XKX``),
        ``iso3_source`` (as in the file), ``country, region, year, score``
        (0 = highly corrupt .. 100 = very clean), ``rank`` (2017+ only),
        ``sources`` (number of sources), ``se`` (standard error).
    """
    df = read_csv(root, "ti_cpi", "CPI2024_GlobalResultsTrends.csv", sep=";", skiprows=2, encoding="utf-8-sig")
    require_columns(df, ["Country / Territory", "ISO3", "Region"], "CPI2024_GlobalResultsTrends.csv")
    df = df.dropna(subset=["ISO3"])
    parts = []
    fields = {"cpi score": "score", "rank": "rank", "sources": "sources", "standard error": "se"}
    cols_by_year: dict[int, dict[str, str]] = {}
    for col in df.columns:
        m = _CPI_COL.match(str(col).strip())
        if m:
            cols_by_year.setdefault(int(m.group(2)), {})[fields[m.group(1).lower()]] = col
    if not cols_by_year:
        raise DataError("CPI2024_GlobalResultsTrends.csv has no 'CPI score YYYY' columns; restore the verbatim file.")
    for year, cols in sorted(cols_by_year.items()):
        part = pd.DataFrame(
            {
                "iso3_source": df["ISO3"].astype(str).str.strip(),
                "country": df["Country / Territory"],
                "region": df["Region"],
                "year": year,
            }
        )
        for name in ("score", "rank", "sources", "se"):
            part[name] = pd.to_numeric(df[cols[name]], errors="coerce") if name in cols else np.nan
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.dropna(subset=["score"])
    out.insert(0, "iso3", out["iso3_source"].replace(CPI_ISO3_FIXES))
    out["rank"] = out["rank"].astype("Int64")
    out["sources"] = out["sources"].astype("Int64")
    return out.sort_values(["iso3", "year"]).reset_index(drop=True)


@cached_frame
def ti_cpi_legacy(root: str) -> pd.DataFrame:
    """Pre-2012 CPI (old method, 0–10), 1995–2011 — **not comparable** with :func:`ti_cpi`.

    Returns
    -------
    pandas.DataFrame
        ``iso3`` (``YUG``/``SCG`` kept), ``year``, ``score_0_10``,
        ``n_source_rows``, ``source_names``.
    """
    df = read_csv(root, "ti_cpi", "cpi_legacy_1995_2011_0to10.csv")
    require_columns(df, ["iso3", "year", "cpi_score_0_10"], "cpi_legacy_1995_2011_0to10.csv")
    return df.rename(columns={"cpi_score_0_10": "score_0_10"})


@cached_frame
def idea_elections(root: str) -> pd.DataFrame:
    """International IDEA voter turnout, one row per national election (1945–2025).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, election_type`` (Parliamentary / Presidential / EU
        Parliament), ``date`` (datetime; ``YYYY-01-01`` may be a placeholder),
        ``year, turnout_registered_pct, total_vote, registration,
        turnout_vap_pct, voting_age_population, population,
        invalid_votes_pct, compulsory_voting`` (bool; NA where not given).
    """
    df = read_csv(root, "idea_turnout", "idea_voter_turnout_elections.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "election_type", "year", "turnout_vap_pct", "turnout_registered_pct"],
                    "idea_voter_turnout_elections.csv")
    df["date"] = pd.to_datetime(df["date"], errors="coerce")
    df["compulsory_voting"] = df["compulsory_voting"].map({"Yes": True, "No": False}).astype("boolean")
    return df


#: election-type preference for the country-year view
IDEA_TYPE_PREFERENCE = ("Parliamentary", "Presidential")


@cached_frame
def idea_country_year(root: str) -> pd.DataFrame:
    """IDEA turnout as a country-year view: values in election years only, never interpolated.

    Rule when a country has several national elections in one calendar year:
    parliamentary elections are preferred; if there is none, presidential ones
    are used; if several elections of the chosen type fall in that year (two
    parliamentary elections, or presidential rounds) their turnouts are
    averaged.  European Parliament elections are excluded (not national).

    Returns
    -------
    pandas.DataFrame
        ``iso3, year, election_type`` (the type used), ``n_elections`` (of
        that type averaged), ``turnout_vap_pct, turnout_registered_pct``,
        ``compulsory_voting`` (True if any averaged election was compulsory).
    """
    el = idea_elections()
    el = el[el["election_type"].isin(IDEA_TYPE_PREFERENCE)].copy()
    el["_pref"] = el["election_type"].map({t: i for i, t in enumerate(IDEA_TYPE_PREFERENCE)})
    best = el.groupby(["iso3", "year"])["_pref"].transform("min")
    el = el[el["_pref"] == best]
    out = (
        el.groupby(["iso3", "year"], as_index=False)
        .agg(
            election_type=("election_type", "first"),
            n_elections=("election_type", "size"),
            turnout_vap_pct=("turnout_vap_pct", "mean"),
            turnout_registered_pct=("turnout_registered_pct", "mean"),
            compulsory_voting=("compulsory_voting", lambda s: bool(s.fillna(False).any()) if s.notna().any() else pd.NA),
        )
    )
    out["compulsory_voting"] = out["compulsory_voting"].astype("boolean")
    return out.sort_values(["iso3", "year"]).reset_index(drop=True)


@cached_frame
def vdem_turnout(root: str) -> pd.DataFrame:
    """V-Dem v15 ``v2eltrnout`` (turnout of registered voters) via OWID, election years 1946–2024.

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, year, turnout_registered_pct``.
    """
    df = read_csv(root, "idea_turnout", "vdem_v15_turnout_registered_via_owid_1946_2024.csv",
                  keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "year", "turnout_registered_pct_vdem"], "vdem_v15_turnout_registered_via_owid_1946_2024.csv")
    return df.rename(columns={"turnout_registered_pct_vdem": "turnout_registered_pct"})


@cached_frame
def odb(root: str) -> pd.DataFrame:
    """Open Data Barometer editions 2013–2016 (115 countries).

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, year, odb_rank, odb_score`` (0–100, top = 100 within
        an edition), sub-indices ``readiness_scaled, implementation_scaled,
        impact_scaled`` and components, expert questions ``q_c_*`` / ``q_i_*``
        (0–10; ``q_c_rti`` = functioning RTI law).
    """
    df = read_csv(root, "open_data_indices", "odb_open_data_barometer_2013_2016.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "year", "odb_score", "readiness_scaled", "impact_scaled"], "odb_open_data_barometer_2013_2016.csv")
    return df


@cached_frame
def godi(root: str) -> pd.DataFrame:
    """Global Open Data Index (Open Knowledge) 2013–2015, long.

    Returns
    -------
    pandas.DataFrame
        ``iso3, iso2, place_name, slug, region, year, godi_assessed`` (bool),
        ``godi_rank, godi_score`` (0–100; empty where the place was not assessed).
    """
    df = read_csv(root, "open_data_indices", "godi_global_open_data_index_2013_2015.csv",
                  keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "year", "godi_score", "godi_assessed"], "godi_global_open_data_index_2013_2015.csv")
    df["godi_assessed"] = df["godi_assessed"].astype(str).map({"True": True, "False": False}).astype("boolean")
    return df
