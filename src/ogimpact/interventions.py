"""The intervention registry: id → definition, variants, citations and a timing table.

Every timing table has the columns

``unit`` (ISO3 or official sub-national code, str), ``unit_name``,
``adopted`` / ``in_force`` / ``exited`` (Int64 years; NA when unknown —
``exited`` is NA unless a bundled source records an exit), ``treated``
(bool: the unit ever received the intervention), ``cohort`` (Int64: the
first treated period under the variant; **0 = never treated**; NA = treated
but the timing is unknown under this variant), ``variant``, and
``cohort_basis`` (which field the cohort came from).  Interventions may add
columns of their own (listed in their definition).

Never-treated units are explicit rows.  For country interventions the
universe is the country reference's 195 independent countries
(``is_independent == "Yes"``) plus any other unit the source itself lists
(e.g. Kosovo, Cook Islands in the RTI Rating); units the source says nothing
about, where the source warns that absence means "unknown", are left out
and listed in ``DataFrame.attrs["excluded"]``.
"""
from __future__ import annotations

import copy

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import data as _d
from .errors import OgimpactError

__all__ = ["Intervention", "registry", "get", "timing", "ids", "TIMING_COLUMNS", "parse_regulation_dates"]

TIMING_COLUMNS = ["unit", "unit_name", "adopted", "in_force", "exited", "treated", "cohort", "variant", "cohort_basis"]


@dataclass(frozen=True)
class Intervention:
    """One intervention and how its timing is defined.

    Attributes
    ----------
    id, label : str
    unit_level : str
        ``country``, ``state`` or ``municipality`` (``local`` for OGP Local).
    definition : str
        What counts as treatment, where the dates come from, and the conventions used.
    variants : dict
        Variant name → definition of the cohort (first treated period) under it.
    default_variant : str
    citations : tuple of str
        Sources of the timing data (from the PROVENANCE files).
    timing : callable
        ``timing(variant) -> DataFrame``; use :func:`timing` rather than calling it directly.
    measures : tuple of str
        Default outcome measures of reports and assessments of this intervention (empty: the global defaults).
    designs : tuple of str
        Designs that apply (empty: every design); ``definition`` says why the others do not.
    """

    id: str
    label: str
    unit_level: str
    definition: str
    variants: dict[str, str]
    default_variant: str
    citations: tuple[str, ...]
    timing: Callable[[str], pd.DataFrame] = field(repr=False, compare=False)
    measures: tuple[str, ...] = ()
    designs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe metadata (without the timing table)."""
        return {
            "id": self.id, "label": self.label, "unit_level": self.unit_level, "definition": self.definition,
            "variants": dict(self.variants), "default_variant": self.default_variant, "citations": list(self.citations),
            **({"measures": list(self.measures)} if self.measures else {}),
            **({"designs": list(self.designs)} if self.designs else {}),
        }


# ----------------------------------------------------------------------------- helpers
def _finish(df: pd.DataFrame, variant: str, cohort: pd.Series, basis: pd.Series | str) -> pd.DataFrame:
    df = df.copy()
    for c in ("adopted", "in_force", "exited"):
        if c not in df:
            df[c] = pd.NA
        df[c] = pd.array(df[c], dtype="Int64")
    df["treated"] = df["treated"].astype(bool)
    coh = pd.array(cohort, dtype="Int64")
    coh[~df["treated"].to_numpy()] = 0
    df["cohort"] = coh
    df["variant"] = variant
    df["cohort_basis"] = basis
    df.loc[~df["treated"], "cohort_basis"] = "never treated"
    df.loc[df["treated"] & df["cohort"].isna(), "cohort_basis"] = "timing unknown under this variant"
    extra = [c for c in df.columns if c not in TIMING_COLUMNS]
    df["unit"] = df["unit"].astype(str)
    return df[TIMING_COLUMNS + extra].sort_values("unit", kind="stable").reset_index(drop=True)


def _country_universe(extra_units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Independent countries (``unit, unit_name``) plus any extra source units."""
    ind = _d.independent_countries().rename(columns={"iso3": "unit", "name": "unit_name"})
    if extra_units is not None:
        ref = _d.country_reference().set_index("iso3")["name"]
        add = extra_units.loc[~extra_units["unit"].isin(ind["unit"]), ["unit"]].drop_duplicates()
        add["unit_name"] = add["unit"].map(ref)
        ind = pd.concat([ind, add], ignore_index=True)
    return ind


# ----------------------------------------------------------------------------- rti_law
_RTI_EXTRA = ["row_status", "statute", "adopted_date", "adopted_basis", "in_force_date", "in_force_unknown",
              "first_instrument", "first_instrument_date", "strengthening_year", "strengthening_instrument",
              "rti_rating_first_adopted", "rti_rating_total", "rti_rating_as_of", "citation", "citation_in_force",
              "accessed", "cohort_filled_from"]


def _rti_timing(variant: str) -> pd.DataFrame:
    rti = _d.rti_rating()
    laws = _d.rti_laws()
    ev = _d.rti_law_events()
    later = (ev[ev["kind"].isin(["replacement", "strengthening"])].sort_values(["iso3", "year"])
             .groupby("iso3", as_index=False).first()[["iso3", "year", "instrument"]]
             .rename(columns={"year": "strengthening_year", "instrument": "strengthening_instrument"}))
    uni = _country_universe(rti.rename(columns={"iso3": "unit"}))
    known = set(rti["iso3"]) | set(laws["iso3"])
    excluded = sorted(set(uni["unit"]) - known)
    uni = uni[uni["unit"].isin(known)]
    cur = laws.rename(columns={"iso3": "unit", "adopted": "adopted_date", "in_force": "in_force_date"}).drop(columns="country")
    df = uni.merge(cur, on="unit", how="left").merge(later.rename(columns={"iso3": "unit"}), on="unit", how="left")
    df["adopted"] = df["adopted_year"]
    df["in_force"] = df["in_force_year"]
    statute = df["adopted"].notna()
    first_any = df[["first_instrument_year", "adopted_year"]].min(axis=1).astype("Int64")
    df["cohort_filled_from"] = ""
    if variant == "adopted":
        df["treated"] = statute
        cohort = df["adopted"]
        basis = np.where(df["row_status"] == "rti_rating_only", "adopted (RTI Rating first-adopted year, unverified)",
                         "adopted (statute, rti_laws.csv)")
    elif variant == "in_force":
        df["treated"] = statute
        filled = statute & df["in_force"].isna()
        cohort = df["in_force"].where(~filled, df["adopted"])
        df.loc[filled, "cohort_filled_from"] = "adopted"
        basis = np.where(filled, "adopted year (in-force date unknown: filled, see in_force_unknown)",
                         "in_force (entry into force, rti_laws.csv)")
    elif variant == "first_instrument":
        df["treated"] = first_any.notna()
        cohort = first_any
        basis = np.where(df["first_instrument_year"].notna() & (df["first_instrument_year"] <= df["adopted_year"].fillna(9999)),
                         "first_instrument (decree / executive order before or instead of a statute)",
                         np.where(df["row_status"] == "rti_rating_only",
                                  "statute year (earlier instruments not researched)", "statute year (no earlier instrument found)"))
    else:  # strengthening
        df["treated"] = df["strengthening_year"].notna()
        cohort = df["strengthening_year"]
        basis = "first later replacement or strengthening statute (rti_law_events.csv)"
    keep = [c for c in ["unit", "unit_name", "adopted", "in_force", "treated", *_RTI_EXTRA] if c in df.columns]
    out = _finish(df[keep], variant, cohort, basis)
    out.attrs["excluded"] = excluded
    return out


# ----------------------------------------------------------------------------- ogp_member
def _ogp_timing(variant: str) -> pd.DataFrame:
    cur = _d.ogp_national_participants()
    status = _d.ogp_status_2016().dropna(subset=["iso3"])[["iso3", "ogp_status_2016" if "ogp_status_2016" in
                                                          _d.ogp_status_2016().columns else "ogp_status_0_4"]]
    status.columns = ["unit", "ogp_status_2016"]
    panel_units = set(_d.ogp_participation()["iso3"])
    cur = cur.rename(columns={"iso3": "unit", "country": "source_name", "joined": "adopted",
                              "first_action_plan": "in_force"})
    df = _country_universe(cur[["unit"]]).merge(cur, on="unit", how="left").merge(status, on="unit", how="left")
    df["in_panel_2019"] = df["unit"].isin(panel_units)
    df["treated"] = df["adopted"].notna()
    df["citation"] = df["join_source"].where(df["join_source"].notna() & (df["join_source"] != ""),
                                             "never a participant: absent from OGP's participant lists (2019 panel, "
                                             "withdrawals page)")
    df = df.drop(columns=["source_name"])
    if variant == "join":
        cohort, basis = df["adopted"], "joined (first year participating, OGP report data 2019 / OGP pages)"
    else:
        cohort, basis = df["in_force"], "first action plan (year; source per row in first_plan_source)"
    return _finish(df, variant, cohort, basis)


# ----------------------------------------------------------------------------- ogp_action_plan
def _action_plan_timing(variant: str) -> pd.DataFrame:
    ap = _d.ogp_action_plans()
    df = ap.rename(columns={"iso3": "unit", "country": "unit_name"})
    df["adopted"] = df["start"]
    df["in_force"] = df["start"]
    df["treated"] = True
    first = df.groupby("unit")["start"].transform("min")
    if variant == "first_plan":
        cohort, basis = first, "start of the unit's first action plan"
    else:
        cohort, basis = df["start"], "start of this plan"
    out = _finish(df[["unit", "unit_name", "plan_no", "start", "end", "period", "n_commitments", "adopted", "in_force",
                      "treated", "key_facts", "source_url"]], variant, cohort, basis)
    return out.sort_values(["unit", "plan_no"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- open_up_guide
def _open_up_timing(variant: str) -> pd.DataFrame:
    facts = _d.open_up_guide_pilot_facts().set_index("fact")["value"]
    window = str(facts.get("pilot_project_window", ""))
    start, _, end = window.partition("/")
    rec: dict[str, Any] = {"unit": "MEX", "start": start or pd.NA, "end": end or pd.NA,
                           "adopted": int(start[:4]) if start else pd.NA, "in_force": int(end[:4]) if end else pd.NA,
                           "treated": True}
    for key in ("guide_launch", "mexico_commitment", "pilot_first_phase_start", "pilot_duration_months",
                "data_resources_identified", "datasets_released", "records_released", "data_points_released",
                "report_published"):
        val = facts.get(key, pd.NA)
        rec[key] = int(val) if isinstance(val, str) and val.isdigit() else val
    # every other country is a never-treated donor: the Guide was piloted nationally only in Mexico
    # (opendatacharter.net territories page); the country reference supplies the universe
    df = _country_universe().merge(pd.DataFrame([rec]), on="unit", how="left")
    df["treated"] = df["treated"].fillna(False).astype(bool)
    if variant == "pilot":
        cohort, basis = df["adopted"], "pilot project window start (WSIS stocktaking, 2017-07-17)"
    else:
        cohort, basis = df["in_force"], "first calendar year with released datasets (pilot window ended 2018-04-30)"
    return _finish(df, variant, cohort, basis)


# ----------------------------------------------------------------------------- brazil_lai_regulation
_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_YMD = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def parse_regulation_dates(raw: Any) -> list[pd.Timestamp]:
    """All calendar dates found in one ``regulation_date_raw`` string.

    Accepts ``dd/mm/yyyy`` (possibly several, separated by "/" with spaces)
    and ``yyyy-mm-dd``; impossible dates (e.g. 31/02) are skipped.
    """
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return []
    s = str(raw)
    out = []
    for d, m, y in _DMY.findall(s):
        try:
            out.append(pd.Timestamp(int(y), int(m), int(d)))
        except ValueError:
            pass
    for y, m, d in _YMD.findall(s):
        try:
            out.append(pd.Timestamp(int(y), int(m), int(d)))
        except ValueError:
            pass
    return out


def _raw_status(raw: Any, dates: list) -> str:
    if dates:
        return "parsed"
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or not str(raw).strip():
        return "blank"
    s = str(raw).upper()
    if "LOCALIZADO" in s:
        return "not found"
    if "FORA DO AR" in s:
        return "site offline"
    return "unparseable"


def _brazil_timing(variant: str) -> pd.DataFrame:
    e = _d.ebt_audits()
    e = e[e["unit_level"] == "municipality"]
    rows = []
    for r in e.itertuples(index=False):
        dates = parse_regulation_dates(r.regulation_date_raw)
        valid = [d for d in dates if d.year >= 1990 and (pd.isna(r.eval_end) or d <= r.eval_end)]
        rows.append((r.ibge_code, min(valid) if valid else pd.NaT, _raw_status(r.regulation_date_raw, dates),
                     len(dates) > len(valid), bool(r.regulated)))
    p = pd.DataFrame(rows, columns=["ibge_code", "date", "status", "dropped_invalid", "regulated"])
    agg = p.groupby("ibge_code").agg(
        adopted_date=("date", "min"),
        regulated_any=("regulated", "any"),
        n_rows=("status", "size"),
        n_unparseable=("status", lambda s: int((s == "unparseable").sum())),
        n_invalid_dates=("dropped_invalid", "sum"),
    )
    names = e.groupby("ibge_code").agg(unit_name=("municipality", "first"), uf=("uf", "first"),
                                       rounds=("round", lambda s: ",".join(map(str, sorted(s)))))
    df = names.join(agg).reset_index().rename(columns={"ibge_code": "unit"})
    df["adopted"] = df["adopted_date"].dt.year
    df["treated"] = df["adopted_date"].notna() | df["regulated_any"]
    if variant == "year":
        cohort, basis = df["adopted"], "year of the earliest valid regulation date"
    else:
        starts = {k: pd.Timestamp(v) for k, v in _d.subnational.EBT_ROUND_START.items()}

        def first_round(d):
            if pd.isna(d):
                return pd.NA
            for k in sorted(starts):
                if d < starts[k]:
                    return k
            return max(starts) + 1

        cohort = df["adopted_date"].map(first_round)
        basis = "first EBT round starting after the earliest regulation date (4 = after the last round)"
    out = _finish(df, variant, cohort, basis)
    out.attrs["n_unparseable_rows"] = int(agg["n_unparseable"].sum())
    out.attrs["n_invalid_date_rows"] = int(agg["n_invalid_dates"].sum())
    out.attrs["status_counts"] = p["status"].value_counts().to_dict()
    return out


# ----------------------------------------------------------------------------- ogp_local
def _ogp_local_timing(variant: str) -> pd.DataFrame:
    loc = _d.ogp_local()
    first = loc[loc["ogp_participating"] == 1].groupby("code")["year"].min()
    df = pd.DataFrame({"unit": sorted(loc["code"].unique())})
    df["unit_name"] = df["unit"]
    df["country_iso2"] = df["unit"].str[:2]
    df["adopted"] = df["unit"].map(first)
    df["treated"] = df["adopted"].notna()
    return _finish(df, variant, df["adopted"], "first year participating (OGP Local panel)")


# ----------------------------------------------------------------------------- registry
_CIT = {
    "rti": "Global Right to Information Rating, Access Info Europe & Centre for Law and Democracy, "
           "https://www.rti-rating.org/country-data/ (CC BY-NC-SA 3.0), via mjboulanger/governance-framework "
           "data/processed/rti_rating_clean.csv @ c9e066ec2f1d17c44da35cda37f701f10ce64fc4.",
    "rti_laws": "rti_laws/rti_laws.csv and rti_law_events.csv: hand-curated from the statute, official gazette, RTI Rating, "
                "freedominfo.org, Library of Congress and news pages cited per row (accessed 2026-12-02).",
    "foi": "ogp_foi_timing/foi_law_dates.csv: hand-made from primary sources listed per row (freedominfo.org, "
           "consejotransparencia.cl, DOF copies, eastkhasihills.gov.in, governancejournal, mondaq, rti-rating.org).",
    "ogp_panel": "Open Government Partnership report data (2019), via evantrowbridge/policy_lab_ndi data/OGP_data.xlsx "
                 "@ 9f1fdf3b0e3441101fedb71087bc768784b4f4c7.",
    "ogp_cohorts": "ogp_foi_timing/ogp_cohorts_2011_2014.csv: U.S. State Dept OGP fact sheet (2012-09-26); 2015 Wikipedia "
                   "mirror of 'Open Government Partnership'; opengovpartnership.org countries page legend.",
    "ogp_status": "OKF Germany 2030 Watch, SDG17_OGP_Membership_OGP_2017.json (CC BY 3.0; data 2016-12-07), from "
                  "opengovpartnership.org/countries.",
    "ogp_curated": "ogp_membership_timing/ogp_national_participants.csv: curated from the OGP 2019 report data, the "
                   "cohort table, opengovpartnership.org pages (Tanzania and Turkey withdrawals, withdrawn list), "
                   "ogpau.pmc.gov.au, oaic.gov.au, saha.org.za (Russia); accessed 2026-12-02, sources per field.",
    "ogp_plans": "ogp_foi_timing/ogp_action_plans_chile_mexico.csv: ogp.gob.cl, opengovpartnership.org IRM reports, "
                 "freedominfo.org, pa2015.mx, gob.mx (sources per row).",
    "open_up": "Open Data Charter, Open Up Guide: Using Open Data to Combat Corruption (2017); opendatacharter.net "
               "territories page; Zapata (2018-06-18) and Carfi (2018-06-27) Medium posts; ITU WSIS stocktaking project 1514327648.",
    "ebt": "Controladoria-Geral da União, Escala Brasil Transparente rounds 1-3, via aassumpcao/transparency "
           "EBT_20181001.csv @ 5c224983739e493930f551dff805cd9d698d8f14.",
    "lai": "Lei 12.527 (18 Nov 2011), in force 16 May 2012 (foi_law_dates.csv).",
}


def _build() -> dict[str, Intervention]:
    items = [
        Intervention(
            id="rti_law", label="National right-to-information (FOI) law", unit_level="country",
            definition=(
                "A country is treated from the year its first national access-to-information STATUTE was adopted "
                "(passed, assented or promulgated), from the curated table rti_laws/rti_laws.csv, which carries per "
                "country the statute, adoption and in-force dates, the reason when an in-force date is unknown "
                "(in_force_unknown), any earlier non-statutory instrument, and a citation per row. 135 countries are "
                "sourced there (e.g. Sweden 1766, USA 1966/in force 1967, Canada 1982/1983, Ireland 1997/1998, "
                "Chile 2008/2009, Mexico 2002/2003, Argentina 2016 with decree 1172/2003 as first instrument, Guinea "
                "2010, Vanuatu 2016/2017, Pakistan 2017 with the 1997 FOI Ordinance as first instrument; the Philippines, Bolivia, Niger, China, Monaco, Saudi Arabia and Timor-Leste have only executive "
                "instruments, so no statute); Tajikistan 2008 (its access law; the RTI Rating's 2002 is the general Law "
                "'On Information'). A row whose date could not be verified would keep the RTI Rating's 'First adopted' "
                "year, marked row_status=rti_rating_only (none at present). Laws after the data's last year (Senegal 2025, Cuba 2026) are listed; a "
                "panel treats a cohort beyond its last period as never treated. Universe: the 195 independent "
                "countries plus Kosovo and the Cook Islands; countries absent from the RTI Rating (the Holy See) are "
                "excluded and listed in attrs['excluded']. rti_rating_total is the current law's 0-150 score (a "
                "cross-section, time-stamped by rti_rating_as_of), never a time-varying outcome."),
            variants={
                "adopted": "cohort = year the first access-to-information statute was adopted (rti_laws.csv).",
                "in_force": "cohort = entry-into-force year of that statute; where unknown, the adoption year, marked "
                            "cohort_filled_from='adopted' (the reason is in in_force_unknown).",
                "first_instrument": "cohort = year of the first access instrument of any kind: an executive decree or "
                                    "order before (or instead of) a statute, else the statute year.",
                "strengthening": "cohort = year of the first later replacement or strengthening statute "
                                 "(rti_law_events.csv; researched for sourced rows only, e.g. Mexico 2015, Ireland "
                                 "2014); countries without one are never treated.",
            },
            default_variant="adopted", citations=(_CIT["rti_laws"], _CIT["rti"], _CIT["foi"]), timing=_rti_timing),
        Intervention(
            id="ogp_member", label="Open Government Partnership membership", unit_level="country",
            definition=(
                "A country is treated once it participates in the OGP and until it leaves. Timing comes from the curated "
                "table ogp_membership_timing/ogp_national_participants.csv (85 national governments, a source per field "
                "and row): adopted = year joined (first year participating in OGP's 2019 report data, OGP's 'joined in' = "
                "letter-of-intent year; e.g. Chile and Mexico 2011, Australia 2015); in_force = year of the first action "
                "plan (founders 2011; action-plan cohorts 2012-2014; Australia Dec 2016; NA with first_plan_source "
                "'unsourced' for Pakistan, Timor-Leste and Benin); exited = year participation ended (Hungary 2016, "
                "Tanzania 2017, Turkey 2017, Trinidad and Tobago 2019, Pakistan 2022, Luxembourg 2023). No first plan precedes joining. "
                "Russia withdrew its intent (2013-04-13) before participating and is never treated. Joiners after the 2019 "
                "panel: Timor-Leste 2023, Benin 2025 (OGP news / government letters). Exits: absorbing designs (cs, sun-abraham, imputation, synth, sdid, "
                "...) treat exited members as treated from their cohort on (intention to treat) and the panel raises the "
                "warning treatment_exit naming them; the treat column of a registry panel is 0 from the exit year on, "
                "for designs that allow treatment to switch off (twfe, dcdh). Universe: the 195 independent countries; "
                "non-members are never treated. Extra columns: status, joined_date, join_source, first_plan_date, "
                "first_plan_source, exited_date, exit_source, note, accessed, ogp_status_2016 (0-4), in_panel_2019, "
                "citation (the row's join source)."),
            variants={
                "join": "cohort = year joined (first year participating).",
                "first_action_plan": "cohort = year of the country's first action plan; NA (timing unknown) where no "
                                     "stored source dates it.",
            },
            default_variant="join",
            citations=(_CIT["ogp_panel"], _CIT["ogp_cohorts"], _CIT["ogp_status"], _CIT["ogp_curated"]),
            timing=_ogp_timing),
        Intervention(
            id="ogp_action_plan", label="OGP national action plans of Chile and Mexico", unit_level="country",
            definition=(
                "One record per national action plan: unit, plan_no, start, end (years from the plan period), "
                "n_commitments where a source states it (Chile plans 4-6: 12, 10, 11; Mexico plans 1-4: 36, 26, 11, 13), "
                "key facts and sources. Chile plans 1-6 (2012-2027), Mexico plans 1-4 (2011-2021). Only Chile and Mexico are covered, so there are no never-treated rows. Chile's "
                "letter of intent is dated 2011 (ogp.gob.cl), not the September 2012 stated on the OGP country page."),
            variants={
                "first_plan": "cohort = start year of the unit's first action plan (Chile 2012, Mexico 2011).",
                "plan": "cohort = start year of each plan (one cohort per record, for plan-level event studies).",
            },
            default_variant="first_plan", citations=(_CIT["ogp_plans"],), timing=_action_plan_timing),
        Intervention(
            id="open_up_guide", label="Anti-Corruption Open Up Guide pilot (Mexico)", unit_level="country",
            definition=(
                "A single treated unit: Mexico implemented the Open Data Charter's Anti-Corruption Open Up Guide in a "
                "pilot from 2017-07-17 to 2018-04-30 (WSIS stocktaking window; first phase Aug 2017; 6 months of joint "
                "work, IDB funding). Every other country in the country reference is never treated (cohort 0): no "
                "other national pilot of the Guide is recorded, so they form the donor pool. adopted = 2017 (window "
                "start), in_force = 2018 (window end, first year with the released datasets). The record carries the "
                "pilot's published outputs as text/integers exactly as in mexico_open_up_guide_pilot_facts.csv: 72 "
                "data resources identified, 47 datasets released on datos.gob.mx, '>12 million' records, '350 million' "
                "data points. No list of the 47 datasets or their release dates exists in the bundled data. Designs: "
                "single-treated-unit designs apply — synth (donors = never-treated countries), sdid, its; staggered "
                "designs (cs, sun-abraham, imputation, stacked, etwfe) do not, because there is one treated unit in "
                "one cohort: a cohort ATT has no sampling variation and no comparison across cohorts exists. Annual "
                "outcomes that stop before 2018 (Open Data Barometer 2013-2016, Global Open Data Index 2013-2015) "
                "have no post-treatment period and cannot answer; CPI, WGI, V-Dem and WJP run to 2023-2024."),
            variants={
                "released": "cohort = 2018, the first year after the pilot's datasets were released (the default).",
                "pilot": "cohort = year the pilot project window opened (2017).",
            },
            default_variant="released", citations=(_CIT["open_up"],), timing=_open_up_timing,
            measures=("ti.cpi", "wgi.cc", "vdem.v2x_pubcorr", "vdem.v2x_execorr", "odb.score", "godi.score"),
            designs=("synth", "sdid", "its")),
        Intervention(
            id="brazil_lai_regulation", label="Municipal regulation of Brazil's access-to-information law (LAI)",
            unit_level="municipality",
            definition=(
                "A municipality (IBGE code) is treated from the date it regulated the federal LAI (Lei 12.527) locally, "
                "as recorded by CGU's Escala Brasil Transparente evaluators in regulation_date_raw. Parsing rule: every "
                "dd/mm/yyyy or yyyy-mm-dd date in the raw text is read (strings such as '12/12/2012 / 22/01/2014' hold two "
                "dates); dates before 1990 or after the end of that row's evaluation are invalid; the municipality's "
                "adoption date is the EARLIEST valid date over all its rows and rounds. 'NÃO LOCALIZADO' (not found) and "
                "'SITE FORA DO AR' (site offline) carry no date; the number of rows with text that is none of these and "
                "holds no date is attrs['n_unparseable_rows']. A municipality marked 'Sim' (regulated) in some round "
                "but without a valid date is treated with unknown timing (cohort NA); municipalities never found "
                "regulated are never treated. Universe: the 2,329 municipalities evaluated in EBT rounds 1-3 (a "
                "non-random sample; the 27 state governments in the file are excluded). Extra columns: uf, rounds, adopted_date, regulated_any, n_rows, n_unparseable, "
                "n_invalid_dates."),
            variants={
                "year": "cohort = calendar year of the earliest valid regulation date.",
                "ebt_round": "cohort = first EBT round (1 = Jan 2015, 2 = Jul 2015, 3 = Jun 2016 start) whose fieldwork "
                             "began after the regulation date; 4 = regulated after round 3 began (never treated within "
                             "the EBT rounds); matches the time index of measure ebt.score.",
            },
            default_variant="ebt_round", citations=(_CIT["ebt"], _CIT["lai"]), timing=_brazil_timing),
        Intervention(
            id="ogp_local", label="OGP Local pioneer membership", unit_level="local",
            definition=(
                "The 20 OGP Local pioneer jurisdictions (4-letter codes: country ISO2 + 2 letters, e.g. MXJL Jalisco, "
                "KRSE Seoul) are treated from the first year they participate in the OGP Local panel 2011-2019. No "
                "never-treated local governments are listed in the source."),
            variants={"join": "cohort = first year participating (OGP Local panel)."},
            default_variant="join", citations=(_CIT["ogp_panel"],), timing=_ogp_local_timing),
    ]
    return {i.id: i for i in items}


_REGISTRY: dict[str, Intervention] | None = None


def _all() -> dict[str, Intervention]:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _build()
    return _REGISTRY


def ids() -> list[str]:
    """All intervention ids."""
    return list(_all())


def registry() -> list[Intervention]:
    """All registered interventions."""
    return list(_all().values())


def get(intervention_id: str) -> Intervention:
    """Return one intervention by id.

    Raises
    ------
    ogimpact.errors.OgimpactError
        If the id is unknown; the message lists the valid ids.
    """
    reg = _all()
    if intervention_id in reg:
        return reg[intervention_id]
    close = difflib.get_close_matches(str(intervention_id), list(reg), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise OgimpactError(
        f"unknown intervention {intervention_id!r}{hint}; use one of: {', '.join(reg)}."
    )


def timing(intervention_id: str, variant: str | None = None) -> pd.DataFrame:
    """The timing table of one intervention under one variant.

    Parameters
    ----------
    intervention_id : str
    variant : str, optional
        A key of ``get(intervention_id).variants``; default the intervention's ``default_variant``.

    Returns
    -------
    pandas.DataFrame
        :data:`TIMING_COLUMNS` plus the intervention's extra columns; see the module docstring.

    Raises
    ------
    ogimpact.errors.OgimpactError
        For an unknown id or variant.
    """
    intv = get(intervention_id)
    v = intv.default_variant if variant is None else variant
    if v not in intv.variants:
        raise OgimpactError(
            f"unknown variant {v!r} for intervention {intv.id}; use one of: {', '.join(intv.variants)}."
        )
    # built once per (intervention, variant, data folder), as the data readers are cached: a report asks ~20 times
    from .data import data_dir

    key = (intv.id, v, str(data_dir()))
    if key not in _TIMING_CACHE:
        _TIMING_CACHE[key] = intv.timing(v)
    cached = _TIMING_CACHE[key]
    out = cached.copy()
    out.attrs = copy.deepcopy(cached.attrs)
    return out


_TIMING_CACHE: dict[tuple, pd.DataFrame] = {}
