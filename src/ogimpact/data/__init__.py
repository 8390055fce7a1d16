"""Bundled public data: locate, verify and read each source into a tidy frame.

Every reader is cached per data directory (``functools.lru_cache``) and
returns a fresh copy, so callers may modify what they get.  Country frames are
keyed on ``iso3`` (+ ``year``); sub-national frames on their official codes
(Chile ``cut_com``, Mexico INEGI state code, Brazil ``ibge_code``).

Sources and their licences: ``sources()`` and ``docs/data.md``.
"""
from __future__ import annotations

from .countries import (
    WGI_INDICATORS,
    country_reference,
    independent_countries,
    name_to_iso3,
    vdem,
    vdem_variables,
    wdi,
    wgi,
    wjp,
)
from .indices import (
    godi,
    idea_country_year,
    idea_elections,
    odb,
    ti_cpi,
    ti_cpi_legacy,
    vdem_turnout,
)
from ._io import files_read
from .manifest import SOURCE_INFO, Problem, file_sha256, read_manifest, sources, verify
from .paths import ENV_VAR, data_dir, raw_dir
from .subnational import (
    chile_egov,
    cplt_scores,
    ebt_audits,
    inai_federal_annual,
    inai_federal_monthly,
    inai_state_guarantors,
    inai_state_requests,
)
from .timing_tables import (
    foi_law_dates,
    ogp_action_plans,
    ogp_cohorts,
    ogp_local,
    ogp_participation,
    ogp_status_2016,
    open_up_guide_datasets,
    open_up_guide_pilot_facts,
    rti_law_events,
    rti_laws,
    rti_rating,
)

__all__ = [
    "ENV_VAR", "data_dir", "raw_dir", "files_read",
    "read_manifest", "verify", "SOURCE_INFO", "file_sha256", "sources", "Problem",
    "country_reference", "independent_countries", "name_to_iso3",
    "wgi", "WGI_INDICATORS", "vdem", "vdem_variables", "wjp", "wdi",
    "ti_cpi", "ti_cpi_legacy", "idea_elections", "idea_country_year", "vdem_turnout", "odb", "godi",
    "rti_rating", "ogp_participation", "ogp_local", "ogp_cohorts", "ogp_status_2016", "ogp_action_plans",
    "foi_law_dates", "open_up_guide_datasets", "open_up_guide_pilot_facts", "rti_laws", "rti_law_events",
    "cplt_scores", "chile_egov", "inai_state_requests", "inai_state_guarantors", "inai_federal_monthly",
    "inai_federal_annual", "ebt_audits",
]

# issue 10: budget transparency, awareness and use of the RTI law, curated OGP participants
from .outcome_sources import (  # noqa: E402
    ogp_commitments,
    ogp_national_participants,
    open_budget_survey,
    rti_awareness_surveys,
    rti_request_volumes,
)

__all__ += ["open_budget_survey", "rti_awareness_surveys", "rti_request_volumes", "ogp_national_participants",
            "ogp_commitments"]
