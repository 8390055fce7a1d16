"""Sub-national readers: Chile CPLT audits and e-gov index, Mexico INAI
request counts, Brazil EBT municipal audits."""
from __future__ import annotations

import pandas as pd

from ._io import cached_frame, read_csv, require_columns

__all__ = [
    "cplt_scores",
    "chile_egov",
    "inai_state_requests",
    "inai_state_guarantors",
    "inai_federal_monthly",
    "inai_federal_annual",
    "ebt_audits",
    "MAPADAI_TO_INEGI",
    "EBT_ROUND_START",
]

#: #MapaDAImx state ids → INEGI state codes.  The two orders agree except that
#: MapaDAI numbers Chiapas 5 and Coahuila 7 (alphabetical), INEGI Coahuila 05 and Chiapas 07.
MAPADAI_TO_INEGI = {i: f"{i:02d}" for i in range(1, 33)} | {5: "07", 7: "05"}

#: first evaluation start date of each EBT round (computed from the bundled file)
EBT_ROUND_START = {1: "2015-01-12", 2: "2015-07-27", 3: "2016-06-27"}


@cached_frame
def cplt_scores(root: str) -> pd.DataFrame:
    """Chile CPLT municipal transparency audit scores, long (3,620 rows).

    Returns
    -------
    pandas.DataFrame
        ``cut_com`` (int, commune code CUT 2018+), ``commune, region,
        cplt_code, cplt_name, year, measure`` (``ta`` = transparencia activa
        2012–2017; ``dai`` = derecho de acceso a la información 2014–2018, 2015
        only 170 communes), ``score`` (0–100), ``source_file``.
    """
    df = read_csv(root, "chile_cplt_municipal", "chile_municipal_transparency_scores.csv")
    require_columns(df, ["cut_com", "year", "measure", "score"], "chile_municipal_transparency_scores.csv")
    return df


@cached_frame
def chile_egov(root: str) -> pd.DataFrame:
    """Chile municipal e-government index 2016, 2019, 2021 (González-Bustamante & Aguilar).

    Returns
    -------
    pandas.DataFrame
        ``cut_com`` (2016 rows use pre-2018 Ñuble codes 84xx), ``commune,
        region, year, egi, egi_std``.
    """
    df = read_csv(root, "chile_cplt_municipal", "chile_municipal_egov_index.csv")
    require_columns(df, ["cut_com", "year", "egi"], "chile_municipal_egov_index.csv")
    return df


@cached_frame
def inai_state_requests(root: str) -> pd.DataFrame:
    """Mexico state access-to-information requests and appeals, 2008–2014 (32 states × 7 years).

    Returns
    -------
    pandas.DataFrame
        ``state_id_mapadai`` (int), ``inegi_code`` (2-digit INEGI state code,
        str), ``state, year, requests, appeals`` (NA for "sin dato"),
        ``appeal_index_reported, requests_missing_sd, appeals_missing_sd``.
    """
    df = read_csv(root, "mexico_inai_mapadai", "mexico_state_ati_requests_2008_2014.csv")
    require_columns(df, ["state_id_mapadai", "year", "requests", "appeals"], "mexico_state_ati_requests_2008_2014.csv")
    df.insert(1, "inegi_code", df["state_id_mapadai"].map(MAPADAI_TO_INEGI))
    for c in ("requests", "appeals"):
        df[c] = df[c].astype("Int64")
    return df


@cached_frame
def inai_state_guarantors(root: str) -> pd.DataFrame:
    """State transparency guarantor bodies (32 rows): acronym, name, CONAPO 2016 population, budgets 2014–2016.

    Columns ``state_id_mapadai, inegi_code, state, guarantor_acronym,
    guarantor_name, pop_conapo_2016, budget_2014_mxn, budget_2015_mxn,
    budget_2016_mxn, budget_per_capita_2016_mxn, source_note``.
    """
    df = read_csv(root, "mexico_inai_mapadai", "mexico_state_ati_guarantor_attributes.csv")
    df.insert(1, "inegi_code", df["state_id_mapadai"].map(MAPADAI_TO_INEGI))
    return df


@cached_frame
def inai_federal_monthly(root: str) -> pd.DataFrame:
    """Monthly requests to the all-period top-10 federal agencies, Jun 2003 – Nov 2015 (Nov 2015 partial).

    Returns
    -------
    pandas.DataFrame
        ``agency_acronym, agency_name, year, month, date`` (first of month),
        ``requests``.
    """
    df = read_csv(root, "mexico_inai_mapadai", "mexico_federal_top10_agency_requests_monthly_2003_2015.csv")
    require_columns(df, ["agency_acronym", "year", "month", "requests"], "mexico_federal_top10_agency_requests_monthly_2003_2015.csv")
    df.insert(4, "date", pd.to_datetime(dict(year=df["year"], month=df["month"], day=1)))
    return df


def inai_federal_annual(*, complete_years_only: bool = True) -> pd.DataFrame:
    """Calendar-year request totals per federal agency.

    Parameters
    ----------
    complete_years_only : bool, keyword-only
        Drop 2015 (data end in a partial November).  2003 is kept: the law
        entered into force on 12 June 2003, so June–December is the whole
        year of requests.

    Returns
    -------
    pandas.DataFrame
        ``agency_acronym, agency_name, year, requests, n_months``.
    """
    m = inai_federal_monthly()
    out = m.groupby(["agency_acronym", "agency_name", "year"], as_index=False).agg(
        requests=("requests", "sum"), n_months=("month", "size")
    )
    if complete_years_only:
        out = out[out["year"] != 2015]
    return out.reset_index(drop=True)


@cached_frame
def ebt_audits(root: str) -> pd.DataFrame:
    """Brazil CGU Escala Brasil Transparente municipal audits, rounds 1–3 (4,488 rows).

    Returns
    -------
    pandas.DataFrame
        ``ibge_code`` (int, 7-digit IBGE municipality code; 2-digit for the 27
        state governments, named "ESTADO", evaluated in each round),
        ``unit_level`` (``municipality`` or ``state``), ``uf, municipality, population,
        round`` (1: Jan–May 2015; 2: Jul 2015–Feb 2016; 3: Jun 2016–Jan 2017),
        ``rank, score_0_10, eval_start, eval_end`` (datetime),
        ``regulated_lai`` (raw text), ``regulated`` (bool normalised from
        Sim/SIM → True, Não/NÃO/Não Localizado → False), ``regulation_type,
        regulation_date_raw`` (raw text, parsed by
        :func:`ogimpact.interventions` ``brazil_lai_regulation``),
        ``pts_regulation, pts_deadline_answers, pts_answers,
        pts_passive_transparency, pts_total``.
    """
    df = read_csv(root, "brazil_ebt_cgu", "brazil_ebt_municipal_passive_transparency_2015_2016.csv",
                  keep_default_na=False, na_values=[""])
    require_columns(df, ["ibge_code", "round", "score_0_10", "regulation_date_raw", "eval_start"],
                    "brazil_ebt_municipal_passive_transparency_2015_2016.csv")
    for c in ("eval_start", "eval_end"):
        df[c] = pd.to_datetime(df[c], format="%d/%m/%Y", errors="coerce")
    df["regulated"] = df["regulated_lai"].str.strip().str.upper().eq("SIM")
    df["unit_level"] = df["ibge_code"].lt(100).map({True: "state", False: "municipality"})
    first = ["ibge_code", "unit_level", "uf", "municipality", "population", "round"]
    return df[first + [c for c in df.columns if c not in first]]
