"""Readers for the outcome and timing tables added in issue 10: Open Budget Survey scores, awareness
surveys and request volumes of the right to information, and the curated OGP participants table."""
from __future__ import annotations

import pandas as pd

from ._io import cached_frame, read_csv, require_columns

__all__ = ["open_budget_survey", "rti_awareness_surveys", "rti_request_volumes", "ogp_national_participants",
           "ogp_commitments"]


@cached_frame
def open_budget_survey(root: str) -> pd.DataFrame:
    """IBP Open Budget Survey scores 2006-2023 (``iso3, year``, budget transparency, oversight, participation)."""
    df = read_csv(root, "open_budget_survey", "ibp_open_budget_survey_2006_2023.csv")
    require_columns(df, ["iso3", "year", "budget_transparency_score"], "ibp_open_budget_survey_2006_2023.csv")
    df["year"] = df["year"].astype(int)
    return df


@cached_frame
def rti_awareness_surveys(root: str) -> pd.DataFrame:
    """Survey shares of adults aware of the RTI law / its oversight body (one row per country, year, indicator)."""
    df = read_csv(root, "rti_awareness_use", "rti_awareness_surveys.csv")
    require_columns(df, ["iso3", "year", "indicator", "value", "source_url"], "rti_awareness_surveys.csv")
    return df


@cached_frame
def rti_request_volumes(root: str) -> pd.DataFrame:
    """Access-to-information request counts per year (one row per country, year, indicator = scope)."""
    df = read_csv(root, "rti_awareness_use", "rti_request_volumes.csv")
    require_columns(df, ["iso3", "year", "indicator", "value", "source_url"], "rti_request_volumes.csv")
    return df


@cached_frame
def ogp_national_participants(root: str) -> pd.DataFrame:
    """Curated OGP national participants: join, first action plan and exit years with a source per field."""
    df = read_csv(root, "ogp_membership_timing", "ogp_national_participants.csv", dtype=str, keep_default_na=False)
    require_columns(df, ["iso3", "joined", "first_action_plan", "exited", "join_source", "first_plan_source"],
                    "ogp_national_participants.csv")
    for c in ("joined", "first_action_plan", "exited"):
        df[c] = pd.array(pd.to_numeric(df[c].replace("", None)), dtype="Int64")
    return df


@cached_frame
def ogp_commitments(root: str) -> pd.DataFrame:
    """OGP commitments of Chile and Mexico (partial) at commitment level: id, title, tags, lead, access-to-information flag."""
    df = read_csv(root, "ogp_commitments", "ogp_commitments_chile_mexico.csv", dtype=str, keep_default_na=False)
    require_columns(df, ["iso3", "plan_period", "commitment_id", "title", "access_to_information", "source_url"],
                    "ogp_commitments_chile_mexico.csv")
    return df
