"""Country-year readers: country reference, WGI, V-Dem, WJP, WDI.

Every frame is keyed on ``iso3`` (+ ``year`` for panels).
"""
from __future__ import annotations

import re

import pandas as pd

from ._io import cached_frame, read_csv, require_columns

__all__ = [
    "country_reference",
    "independent_countries",
    "name_to_iso3",
    "wgi",
    "vdem",
    "vdem_variables",
    "wjp",
    "wdi",
    "WGI_INDICATORS",
]

#: WGI indicator prefixes and their names
WGI_INDICATORS = {
    "va": "Voice and Accountability",
    "pv": "Political Stability and Absence of Violence/Terrorism",
    "ge": "Government Effectiveness",
    "rq": "Regulatory Quality",
    "rl": "Rule of Law",
    "cc": "Control of Corruption",
}

#: names used by the hand-made OGP/FOI tables that differ from the reference's short names
_NAME_ALIASES = {
    "turkey": "TUR",
    "macedonia": "MKD",
    "north macedonia": "MKD",
    "czech republic": "CZE",
    "slovak republic": "SVK",
    "trinidad and tobago": "TTO",
    "uk": "GBR",
    "usa": "USA",
    "united states": "USA",
    "united kingdom": "GBR",
    "bosnia and herzegovina": "BIH",
    "south korea": "KOR",
    "korea, republic of": "KOR",
    "cote d'ivoire": "CIV",
    "côte d'ivoire": "CIV",
    "russia": "RUS",
    "moldova": "MDA",
    "tanzania": "TZA",
}


@cached_frame
def country_reference(root: str) -> pd.DataFrame:
    """ISO codes, UN M49 regions and World Bank groups (251 rows).

    Returns
    -------
    pandas.DataFrame
        ``iso3, iso2, m49, name, official_name_en, un_region, un_subregion,
        un_intermediate_region, continent_code, is_independent (str: "Yes",
        "Part of NL", ...), independent (bool), ldc, lldc, sids (bool),
        wb_region, wb_income_group, wb_lending_type``.  Read with
        ``keep_default_na=False`` so Namibia's ISO2 "NA" (and continent "NA",
        North America) stay strings; empty strings become ``NA`` only in the
        World Bank and region columns.
    """
    df = read_csv(root, "country_reference", "countries_iso_regions.csv", keep_default_na=False, dtype=str)
    require_columns(df, ["iso3", "iso2", "name", "is_independent"], "countries_iso_regions.csv")
    for col in ("ldc", "lldc", "sids"):
        df[col] = df[col].map({"True": True, "False": False}).astype("boolean")
    df["m49"] = pd.to_numeric(df["m49"], errors="coerce").astype("Int64")
    for col in ("un_region", "un_subregion", "un_intermediate_region", "wb_region", "wb_income_group", "wb_lending_type"):
        df[col] = df[col].replace("", pd.NA)
    df["independent"] = df["is_independent"].eq("Yes")
    return df


def independent_countries() -> pd.DataFrame:
    """The 195 rows of the reference flagged ``is_independent == "Yes"``: ``iso3, name``.

    This is the universe of country-level intervention timing tables.
    """
    ref = country_reference()
    return ref.loc[ref["independent"], ["iso3", "name"]].reset_index(drop=True)


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip().lower())


def name_to_iso3(names: pd.Series) -> pd.Series:
    """Map English country names to ISO3 via the reference (short and official names) plus a small alias list.

    Unmatched names map to ``NA``.
    """
    ref = country_reference()
    lookup: dict[str, str] = {}
    for col in ("official_name_en", "name"):
        lookup.update({_norm(n): i for n, i in zip(ref[col], ref["iso3"]) if n})
    lookup.update(_NAME_ALIASES)
    return names.map(lambda n: lookup.get(_norm(n), pd.NA))


@cached_frame
def wgi(root: str) -> pd.DataFrame:
    """World Bank Worldwide Governance Indicators, 2024 release (1996–2023).

    Returns
    -------
    pandas.DataFrame
        One row per economy-year: ``iso3, wb_code, country, year`` and for each
        prefix ``va, pv, ge, rq, rl, cc``: ``*_est`` (≈ −2.5..2.5), ``*_se``,
        ``*_nsrc``, ``*_pctrank``, ``*_pctrank_lo``, ``*_pctrank_hi``.  The
        Netherlands Antilles (no ISO3) is dropped.  Years 1997, 1999, 2001 do
        not exist (biennial before 2002).
    """
    df = read_csv(root, "wgi", "wgi_country_year.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "year", "cc_est", "cc_se"], "wgi_country_year.csv")
    df = df[df["iso3"].notna() & (df["iso3"] != "")].reset_index(drop=True)
    df["year"] = df["year"].astype(int)
    return df


@cached_frame
def vdem(root: str) -> pd.DataFrame:
    """V-Dem v14 country-year subset, 1990–2023 (91 variables).

    Returns
    -------
    pandas.DataFrame
        ``iso3`` (V-Dem ``country_text_id``; ISO3 except DDR, PSG, SML, YMD, ZZB),
        ``country`` (``country_name``), ``country_id``, ``year`` and the V-Dem
        variables under their V-Dem tags (e.g. ``v2x_polyarchy``, ``v2x_pubcorr``).
        Corruption indices run 0 = clean → 1 = corrupt.
    """
    df = read_csv(root, "vdem", "vdem_v14_country_year_1990_2023.csv")
    require_columns(df, ["country_text_id", "country_name", "year"], "vdem_v14_country_year_1990_2023.csv")
    df = df.rename(columns={"country_text_id": "iso3", "country_name": "country"})
    cols = ["iso3", "country"] + [c for c in df.columns if c not in ("iso3", "country")]
    return df[cols]


@cached_frame
def vdem_variables(root: str) -> pd.DataFrame:
    """V-Dem variable lookup: ``tag, name, level, hl_category, ll_category`` (91 rows)."""
    return read_csv(root, "vdem", "vdem_variables.csv")


@cached_frame
def wjp(root: str) -> pd.DataFrame:
    """World Justice Project Rule of Law Index, editions 2012–2024.

    Returns
    -------
    pandas.DataFrame
        ``iso3, country, year`` (= ``wjp_year``, the edition year; "2012-2013"
        is 2012 and "2017-2018" is 2017), ``wjp_edition_label, region, roli``,
        factors ``f1..f8`` and sub-factors ``sf11..sf87`` (0–1, higher = better).
        No 2013 or 2018 editions.
    """
    df = read_csv(root, "wjp_rule_of_law", "wjp_roli_2012_2024.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "wjp_year", "roli", "f2", "f3"], "wjp_roli_2012_2024.csv")
    df.insert(2, "year", df["wjp_year"].astype(int))
    return df


@cached_frame
def wdi(root: str) -> pd.DataFrame:
    """World Development Indicators covariates and service outcomes, 1990–2024.

    Returns
    -------
    pandas.DataFrame
        ``iso3, iso2, country, year, region, income, lending`` and numeric
        columns ``gdp_pc_ppp, gdp_ppp, gdp_growth, inflation, pop_tot,
        urban_pct, net_users, life_exp, u5_mort, sec_enrol, health_pc,
        elec_acc, unemployment, gini, poverty215, trade_open, fdi_inflow,
        priv_credit, homicide``.  2024 is essentially empty.  Read with
        ``keep_default_na=False`` (Namibia's ISO2 "NA").
    """
    df = read_csv(root, "wdi_covariates", "wdi_country_year_1990_2024.csv", keep_default_na=False, na_values=[""])
    require_columns(df, ["iso3", "year", "net_users", "u5_mort"], "wdi_country_year_1990_2024.csv")
    df["year"] = df["year"].astype(int)
    return df
