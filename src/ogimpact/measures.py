"""The outcome-measure catalogue: id → metadata and a long (unit, year, value, se) series.

Four domains, each with country-level measures:

* ``participation`` — voice, civic and electoral participation;
* ``public services`` — government effectiveness and service outcomes;
* ``access to information & corruption`` — transparency, right to
  information, corruption control;
* ``knowledge/awareness`` — citizens' access to, and capacity to use,
  information: internet use (WDI), alternative sources of information and
  media pluralism (V-Dem), open-data readiness and impact (ODB), and the
  direct measures ``rti.share_aware_*`` (survey shares who know the law /
  its oversight body) and ``rti.requests_*`` (request volumes: use of the
  law), sparse and sourced per row.

Units are ISO3 codes for countries and official codes for sub-national units
(Chile commune ``cut_com``, Mexico INEGI state code, Brazil IBGE municipality
code); federal Mexican agencies are keyed by acronym.  Years are calendar
years except ``ebt.score``, whose time index is the EBT round (1–3, see its
``time_unit``).
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from . import data as _d
from .errors import OgimpactError

__all__ = ["DOMAINS", "DEFAULT_MEASURES", "Measure", "catalogue", "get", "load", "ids"]

#: the domain-balanced country-level set that reports and assessments use when no measures are given
DEFAULT_MEASURES = ("wgi.cc", "vdem.v2x_partipdem", "wgi.ge", "vdem.v2xme_altinf")

DOMAINS = ("participation", "public services", "access to information & corruption", "knowledge/awareness")
_P, _S, _A, _K = DOMAINS

LOAD_COLUMNS = ["unit", "year", "measure", "value", "se"]


@dataclass(frozen=True)
class Measure:
    """One outcome measure.

    Attributes
    ----------
    id : str
        ``source.variable``, e.g. ``wgi.cc``.
    label : str
    domain : str
        One of :data:`DOMAINS`.
    unit_level : str
        ``country``, ``state``, ``municipality`` or ``agency``.
    scale : str
        Range and meaning of the values.
    higher_is_better : bool
    years : tuple of int
        First and last year (or round) with data.
    source, licence, citation, notes : str
    has_se : bool
        Whether the source publishes a standard error (``se`` column).
    time_unit : str
        ``year`` (default) or ``round`` (EBT).
    """

    id: str
    label: str
    domain: str
    unit_level: str
    scale: str
    higher_is_better: bool
    years: tuple[int, int]
    source: str
    licence: str
    citation: str
    notes: str = ""
    has_se: bool = False
    time_unit: str = "year"
    _loader: Callable[[], pd.DataFrame] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the metadata (the loader is omitted)."""
        d = asdict(self)
        d.pop("_loader", None)
        d["years"] = [int(self.years[0]), int(self.years[1])]
        return d

    def load(self, *, units: Iterable[str] | None = None, years: Any = None) -> pd.DataFrame:
        """This measure's long series; see :func:`load`."""
        return load([self.id], units=units, years=years)


# ----------------------------------------------------------------------------- citations
_CIT = {
    "wgi": "Kaufmann, D. & Kraay, A. (2024). Worldwide Governance Indicators, 2024 update. World Bank, www.govindicators.org.",
    "vdem": "Coppedge, M. et al. (2024). V-Dem Country-Year Dataset v14. Varieties of Democracy (V-Dem) Project; "
            "Pemstein, D. et al. (2024). The V-Dem Measurement Model.",
    "vdem15": "V-Dem Institute (2025). V-Dem dataset v15, indicator v2eltrnout, as republished by Our World in Data "
              "(chart voter-turnout-of-registered-voters).",
    "ti": "Transparency International (2025). Corruption Perceptions Index 2024: score timeseries since 2012. "
          "www.transparency.org/cpi.",
    "ti_legacy": "Transparency International, Corruption Perceptions Index 1995-2011 (old methodology), via the "
                 "datasets/corruption-perceptions-index data package.",
    "idea": "International IDEA, Voter Turnout Database, https://www.idea.int/data-tools/data/voter-turnout.",
    "wjp": "World Justice Project, Rule of Law Index historical data 2012-2024, worldjusticeproject.org.",
    "wdi": "World Bank, World Development Indicators (API, last updated 2025-06-05).",
    "odb": "World Wide Web Foundation, Open Data Barometer, editions 1-4 (2013-2016), opendatabarometer.org.",
    "godi": "Open Knowledge Foundation, Global Open Data Index 2013-2015, index.okfn.org.",
    "cplt": "Consejo para la Transparencia (CPLT), fiscalizaciones municipales; compiled in González-Bustamante, B. & "
            "Aguilar, D. (2023). Data Set on Local Government Indicators in Chile, v0.21.15, doi:10.5281/zenodo.7568387.",
    "egov": "González-Bustamante, B. & Aguilar, D. (2023). Data Set on Local Government Indicators in Chile, v0.21.15, "
            "doi:10.5281/zenodo.7568387; 'Territorial patterns of open e-government: Evidence from Chilean municipalities', "
            "Political Research Exchange.",
    "inai": "INAI, #MapaDAImx diagnostic of the right of access to information (DGPA), via GobiernoFacil/mapadai.",
    "obs": "International Budget Partnership, Open Budget Survey 2006-2023 (internationalbudget.org), via World Bank "
           "Data360 IBP_OBS and galileukim/wdr2025gov data/open_budget.rda @ 56e0f8d56e34902563013ac0f9fec3b349895b75.",
    "rti_use": "Hand-made from CPLT (consejotransparencia.cl), BioBioChile, W Radio, lanoticias.mx (INAI commissioner) and "
               "INEGI pages, UK FOI statistics bulletins (gov.uk), US DOJ OIP annual FOIA report summaries and India CIC "
               "annual-report summaries, one source URL per row; accessed 2026-12-02.",
    "ebt": "Controladoria-Geral da União (CGU), Escala Brasil Transparente, rounds 1-3 (2015-2017), via "
           "A. Assumpção, aassumpcao/transparency (EBT_20181001.csv).",
}


def _frame(unit, year, value, se=None) -> pd.DataFrame:
    out = pd.DataFrame({"unit": pd.Series(unit).astype(str).to_numpy(),
                        "year": pd.Series(year).astype(int).to_numpy(),
                        "value": pd.to_numeric(pd.Series(value), errors="coerce").astype(float).to_numpy()})
    out["se"] = np.nan if se is None else pd.to_numeric(pd.Series(se), errors="coerce").astype(float).to_numpy()
    return out


def _cols(reader: Callable[[], pd.DataFrame], value: str, *, unit: str = "iso3", year: str = "year",
          se: str | None = None) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        df = reader()
        return _frame(df[unit], df[year], df[value], df[se] if se else None)
    return load


def _cplt(measure: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        df = _d.cplt_scores()
        df = df[df["measure"] == measure]
        return _frame(df["cut_com"], df["year"], df["score"])
    return load


def _inai(col: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        df = _d.inai_state_requests()
        return _frame(df["inegi_code"], df["year"], df[col].astype("float"))
    return load


def _ebt() -> pd.DataFrame:
    df = _d.ebt_audits()
    df = df[df["unit_level"] == "municipality"]
    return _frame(df["ibge_code"], df["round"], df["score_0_10"])


def _m(id, label, domain, level, scale, hib, years, src, cit, notes="", *, loader, has_se=False, time_unit="year"):
    return Measure(id=id, label=label, domain=domain, unit_level=level, scale=scale, higher_is_better=hib,
                   years=years, source=src, licence=_d.SOURCE_INFO[src]["licence"], citation=_CIT[cit], notes=notes,
                   has_se=has_se, time_unit=time_unit, _loader=loader)


def _build() -> dict[str, Measure]:
    W = "World Bank WGI estimate, approx. -2.5..2.5 (standard normal units, relative each year)"
    wgi_note = ("Perception-based composite; overlaps with TI CPI and V-Dem sources. Biennial before 2002. "
                "Each year standardised across countries: use SEs and avoid over-reading trends.")
    ms: list[Measure] = []
    for code, label, dom, extra in (
        ("va", "Voice and Accountability", _P, "Citizens' ability to participate in selecting government; freedom of expression, association, free media."),
        ("ge", "Government Effectiveness", _S, "Perceived quality of public services and the civil service."),
        ("rq", "Regulatory Quality", _S, "Perceived ability to formulate and implement sound regulation."),
        ("pv", "Political Stability and Absence of Violence/Terrorism", _S,
         "Classed under public services as the most basic public good (security); chiefly a context measure."),
        ("rl", "Rule of Law", _A, "Confidence in and abiding by the rules of society; classed with corruption as in the data README (A)."),
        ("cc", "Control of Corruption", _A, "Extent to which public power is exercised for private gain (higher = less corruption)."),
    ):
        ms.append(_m(f"wgi.{code}", f"WGI {label}", dom, "country", W, True, (1996, 2023), "wgi", "wgi",
                     f"{extra} {wgi_note}", loader=_cols(_d.wgi, f"{code}_est", se=f"{code}_se"), has_se=True))
    V01 = "V-Dem index 0-1"
    VL = "V-Dem measurement-model point estimate, latent scale (roughly -5..5)"
    vdem_specs = (
        ("v2x_polyarchy", "Electoral democracy index", _P, V01, True, "Free and fair elections, suffrage, freedom of association and expression."),
        ("v2x_partipdem", "Participatory democracy index", _P, V01, True, "Electoral democracy combined with active participation by citizens in all political processes."),
        ("v2x_partip", "Participatory component index", _P, V01, True, "Civil-society participation, direct democracy, local and regional elected bodies."),
        ("v2x_cspart", "Civil society participation index", _P, V01, True, "Consultation of CSOs, participatory environment, women's participation, candidate nomination."),
        ("v2xdl_delib", "Deliberative component index", _P, V01, True, "Public reasoning and consultation of elites/society before decisions."),
        ("v2cscnsult", "CSO consultation", _P, VL, True, "Are major civil society organisations routinely consulted by policymakers?"),
        ("v2x_corr", "Political corruption index", _A, V01 + " (0 = clean, 1 = corrupt)", False, "Public-sector, executive, legislative and judicial corruption."),
        ("v2x_pubcorr", "Public sector corruption index", _A, V01 + " (0 = clean, 1 = corrupt)", False, "Bribery and embezzlement by public-sector employees."),
        ("v2x_execorr", "Executive corruption index", _A, V01 + " (0 = clean, 1 = corrupt)", False, "Bribery and embezzlement by the executive."),
        ("v2clrspct", "Rigorous and impartial public administration", _S, VL, True, "Are public officials rigorous and impartial in performing their duties? A proxy for service delivery quality."),
        ("v2cltrnslw", "Transparent laws with predictable enforcement", _S, VL, True, "Are the laws transparent and rigorously enforced? Classed with public services (administration)."),
        ("v2xme_altinf", "Alternative sources of information index", _K, V01, True,
         "Media bias, range of perspectives, critical media: whether citizens can learn about government from sources it does not control."),
        ("v2x_freexp_altinf", "Freedom of expression and alternative sources of information index", _K, V01, True,
         "Freedom of discussion and academic/cultural expression plus the alternative-information index: the informational channel of awareness."),
        ("v2merange", "Print/broadcast media perspectives", _K, VL, True, "Do the major media represent a wide range of political perspectives?"),
    )
    for tag, label, dom, scale, hib, note in vdem_specs:
        ms.append(_m(f"vdem.{tag}", f"V-Dem {label}", dom, "country", scale, hib, (1990, 2023), "vdem", "vdem",
                     note + " V-Dem v14 ends in 2023; confidence bounds not bundled.", loader=_cols(_d.vdem, tag)))
    ms += [
        _m("ti.cpi", "TI Corruption Perceptions Index (2012+ method)", _A, "country", "0 (highly corrupt) - 100 (very clean)", True,
           (2012, 2024), "ti_cpi", "ti",
           "Reshaped at load time from the verbatim CC BY-ND file (no modified copy is stored). Method break in 2012: do not "
           "splice with ti.cpi_legacy. Kosovo KSV mapped to XKX.", loader=_cols(_d.ti_cpi, "score", se="se"), has_se=True),
        _m("ti.cpi_legacy", "TI Corruption Perceptions Index, legacy method 1995-2011", _A, "country", "0 (highly corrupt) - 10 (very clean)", True,
           (1995, 2011), "ti_cpi", "ti_legacy",
           "Old methodology, not comparable with ti.cpi (2012+); TI also warns against year-to-year comparison. Use only as a "
           "rough pre-period descriptor or with year fixed effects.", loader=_cols(_d.ti_cpi_legacy, "score_0_10")),
        _m("idea.turnout_vap", "Voter turnout, % of voting-age population (IDEA)", _P, "country", "percent (may exceed 100)", True,
           (1945, 2025), "idea_turnout", "idea",
           "Election years only, never interpolated; parliamentary preferred, else presidential, mean if several of that type in one "
           "year; EU elections excluded. Compulsory voting confounds (Chile voluntary from 2012, compulsory again 2022/23).",
           loader=_cols(_d.idea_country_year, "turnout_vap_pct")),
        _m("idea.turnout_registered", "Voter turnout, % of registered voters (IDEA)", _P, "country", "percent", True,
           (1945, 2025), "idea_turnout", "idea",
           "As idea.turnout_vap; registered-voter denominators jump with registration reforms (Chile automatic registration 2012).",
           loader=_cols(_d.idea_country_year, "turnout_registered_pct")),
        _m("vdem.turnout_registered", "Voter turnout, % of registered voters (V-Dem v15 v2eltrnout via OWID)", _P, "country", "percent", True,
           (1946, 2024), "idea_turnout", "vdem15",
           "Election years only; one value per year where several elections. Robustness check against IDEA.",
           loader=_cols(_d.vdem_turnout, "turnout_registered_pct")),
    ]
    wjp_specs = (
        ("roli", "roli", "Rule of Law Index (overall)", _S, "Overall score across 8 factors incl. civil/criminal justice delivery; classed with public services."),
        ("f2_absence_of_corruption", "f2", "Factor 2: Absence of Corruption", _A, "Executive, judiciary, police/military, legislature."),
        ("f3_open_government", "f3", "Factor 3: Open Government", _A, "Publicized laws and data, right to information, civic participation, complaint mechanisms."),
        ("sf31_publicized_laws_data", "sf31", "Sub-factor 3.1: Publicized laws and government data", _A, ""),
        ("sf32_right_to_information", "sf32", "Sub-factor 3.2: Right to information", _A, "Requests answered, timely, pertinent, affordable."),
        ("sf33_civic_participation", "sf33", "Sub-factor 3.3: Civic participation", _P, "Freedom to petition, participate, assemble."),
        ("f6_regulatory_enforcement", "f6", "Factor 6: Regulatory Enforcement", _S, "Regulations enforced effectively, without improper influence or delay."),
    )
    for mid, col, label, dom, note in wjp_specs:
        ms.append(_m(f"wjp.{mid}", f"WJP {label}", dom, "country", "0-1", True, (2012, 2024), "wjp_rule_of_law", "wjp",
                     (note + " " if note else "") + "Editions 2012 (=2012-2013), 2014-2017 (2017 = 2017-2018), 2019-2024; "
                     "no 2013/2018. WJP cautions comparing pre-2015 scores.", loader=_cols(_d.wjp, col)))
    wdi_note = "WDI June-2025 vintage; 2024 empty. WDI revises back series; do not mix vintages."
    ms += [
        _m("wdi.u5_mort", "Under-5 mortality rate per 1,000 live births (SH.DYN.MORT)", _S, "country", "deaths per 1,000", False,
           (1990, 2023), "wdi_covariates", "wdi", "Health-service outcome. " + wdi_note, loader=_cols(_d.wdi, "u5_mort")),
        _m("wdi.elec_acc", "Access to electricity, % of population (EG.ELC.ACCS.ZS)", _S, "country", "percent", True,
           (1990, 2023), "wdi_covariates", "wdi", "Infrastructure-service outcome. " + wdi_note, loader=_cols(_d.wdi, "elec_acc")),
        _m("wdi.sec_enrol", "School enrolment, secondary, % gross (SE.SEC.ENRR)", _S, "country", "percent gross (may exceed 100)", True,
           (1990, 2023), "wdi_covariates", "wdi", "Education-service outcome. " + wdi_note, loader=_cols(_d.wdi, "sec_enrol")),
        _m("wdi.life_exp", "Life expectancy at birth (SP.DYN.LE00.IN)", _S, "country", "years", True,
           (1990, 2023), "wdi_covariates", "wdi", "Broad health outcome. " + wdi_note, loader=_cols(_d.wdi, "life_exp")),
        _m("wdi.net_users", "Internet users, % of population (IT.NET.USER.ZS)", _K, "country", "percent", True,
           (1990, 2024), "wdi_covariates", "wdi",
           "Capacity to reach online government information (portals, open data, e-requests): a pre-condition of awareness, "
           "not awareness itself. 2024 has values for only 9 economies. " + wdi_note, loader=_cols(_d.wdi, "net_users")),
        _m("odb.score", "Open Data Barometer score", _A, "country", "0-100, top country = 100 within an edition", True,
           (2013, 2016), "open_data_indices", "odb",
           "Availability and openness of government data. Relative within an edition; method changed in 2015. Prefer ranks or raw questions for change.",
           loader=_cols(_d.odb, "odb_score")),
        _m("odb.q_c_rti", "ODB expert question: functioning RTI/FOI law", _A, "country", "0-10 expert score", True,
           (2013, 2016), "open_data_indices", "odb", "Expert assessment of whether an RTI law exists and functions.",
           loader=_cols(_d.odb, "q_c_rti")),
        _m("odb.readiness", "Open Data Barometer readiness sub-index", _K, "country", "0-100 scaled within edition", True,
           (2013, 2016), "open_data_indices", "odb",
           "Government, citizen/civil-society and business readiness (incl. training, civil-society engagement): capacity to know "
           "about and use open data. Relative within an edition.", loader=_cols(_d.odb, "readiness_scaled")),
        _m("odb.impact", "Open Data Barometer impact sub-index", _K, "country", "0-100 scaled within edition", True,
           (2013, 2016), "open_data_indices", "odb",
           "Expert-observed political, social and economic use of open data: evidence that information reached and was used by the "
           "public. Relative within an edition.", loader=_cols(_d.odb, "impact_scaled")),
        _m("godi.score", "Global Open Data Index score", _A, "country", "0-100", True, (2013, 2015), "open_data_indices", "godi",
           "Openness of key government datasets; dataset list changed 2013 (10) -> 2015 (13). Not-assessed places are missing.",
           loader=_cols(_d.godi, "godi_score")),
        _m("cplt.transparencia_activa", "CPLT active-transparency (transparencia activa) audit score", _A, "municipality",
           "0-100 compliance", True, (2012, 2017), "chile_cplt_municipal", "cplt",
           "Proactive disclosure on municipal transparency banners (Ley 20.285 Title III). Units: Chile commune code cut_com. "
           "Instrument changed over time; year effects needed.", loader=_cplt("ta")),
        _m("cplt.dai", "CPLT access-to-information request handling (DAI) audit score", _A, "municipality",
           "0-100 compliance", True, (2014, 2018), "chile_cplt_municipal", "cplt",
           "Handling of access requests via the online channel (Title IV). DAI 2015 covers only 170 of 345 communes.",
           loader=_cplt("dai")),
        _m("chile.egov_index", "Chile municipal e-government index (EGI)", _S, "municipality", "index (authors' construction)", True,
           (2016, 2021), "chile_cplt_municipal", "egov",
           "Built from municipal websites; 2016, 2019, 2021 only; 2016 uses pre-2018 Ñuble codes (84xx), so those communes "
           "do not link across years.", loader=_cols(_d.chile_egov, "egi", unit="cut_com")),
        _m("inai.requests", "Mexico state access-to-information requests (count)", _A, "state", "requests per year", True,
           (2008, 2014), "mexico_inai_mapadai", "inai",
           "Units: INEGI state code. Higher read as more use of the right to information. Definitions differ by state; Nuevo León "
           "missing, Tamaulipas 2008-2012 missing, implausible jumps: use logs and robust methods.", loader=_inai("requests")),
        _m("inai.appeals", "Mexico state access-to-information appeals (recursos de revisión)", _A, "state", "appeals per year", False,
           (2008, 2014), "mexico_inai_mapadai", "inai",
           "Direction is a modelling choice: more appeals can mean more refusals (worse) or more use of remedies; coded lower = better.",
           loader=_inai("appeals")),
        _m("inai.federal_agency_requests", "Requests to the top-10 federal agencies, calendar-year totals", _A, "agency",
           "requests per year", True, (2003, 2014), "mexico_inai_mapadai", "inai",
           "Units: agency acronym. 2003 = Jun-Dec (law in force 12 Jun 2003); 2015 dropped (partial). All-period top 10: "
           "selected on the outcome. Access and personal-data requests pooled.",
           loader=_cols(_d.inai_federal_annual, "requests", unit="agency_acronym")),
        _m("ebt.score", "Brazil Escala Brasil Transparente municipal score", _A, "municipality", "0-10", True, (1, 3),
           "brazil_ebt_cgu", "ebt",
           "Time index is the EBT round, not a calendar year: 1 = Jan-May 2015, 2 = Jul 2015-Feb 2016, 3 = Jun 2016-Jan 2017. "
           "Units: IBGE code; the 27 state governments also audited are excluded. Non-random, round-specific samples "
           "(unbalanced).", loader=_ebt, time_unit="round"),
    ]
    ms += _issue10_measures(_A, _P, _S, _K)
    return {m.id: m for m in ms}


def _indicator(reader: Callable[[], pd.DataFrame], indicator: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        df = reader()
        df = df[df["indicator"] == indicator]
        return _frame(df["iso3"], df["year"], df["value"])
    return load


def _issue10_measures(_A, _P, _S, _K) -> list[Measure]:
    """V-Dem/WJP indicators catalogued in issue 10, Open Budget Survey scores, and the direct awareness/use measures."""
    V01, VL = "V-Dem index 0-1", "V-Dem measurement-model point estimate, latent scale (roughly -5..5)"
    clean = " (higher = less corrupt)"
    vdem_specs = (
        ("v2x_accountability", "Accountability index", _A, "V-Dem interval-scale index (latent, roughly -2..2)", True,
         "Vertical, diagonal and horizontal accountability combined: constraints on the government's use of power."),
        ("v2x_veracc", "Vertical accountability index", _P, V01, True, "Accountability to citizens through elections and parties."),
        ("v2x_diagacc", "Diagonal accountability index", _A, V01, True, "Oversight by civil society and the media."),
        ("v2x_horacc", "Horizontal accountability index", _A, V01, True, "Oversight by the legislature, judiciary and other state bodies."),
        ("v2exbribe", "Executive bribery and corrupt exchanges", _A, VL + clean, True, "Do executive members grant favours for bribes?"),
        ("v2exembez", "Executive embezzlement and theft", _A, VL + clean, True, "Do executive members steal or embezzle public resources?"),
        ("v2excrptps", "Public sector corrupt exchanges", _A, VL + clean, True, "Do public-sector employees grant favours for bribes?"),
        ("v2exthftps", "Public sector theft", _A, VL + clean, True, "Do public-sector employees steal or embezzle public resources?"),
        ("v2lgcrrpt", "Legislature corrupt activities", _A, VL + clean, True, "Do legislators abuse their position for financial gain?"),
        ("v2jucorrdc", "Judicial corruption decision", _A, VL + clean, True, "How often do individuals or businesses bribe judges?"),
        ("v2xnp_regcorr", "Regime corruption index", _A, V01 + " (0 = clean, 1 = corrupt)", False,
         "Political actors using office for private or political gain."),
        ("v2dlconslt", "Range of consultation", _P, VL, True, "How wide is the range of consultation at elite levels when important policies are changed?"),
        ("v2csprtcpt", "CSO participatory environment", _P, VL, True, "Are people involved in civil-society organisations?"),
    )
    ms = [_m(f"vdem.{tag}", f"V-Dem {label}", dom, "country", scale, hib, (1990, 2023), "vdem", "vdem",
             note + " V-Dem v14 ends in 2023; confidence bounds not bundled.", loader=_cols(_d.vdem, tag))
          for tag, label, dom, scale, hib, note in vdem_specs]
    ms.append(_m("wjp.sf34_complaint_mechanisms", "WJP Sub-factor 3.4: Complaint mechanisms", _A, "country", "0-1", True,
                 (2012, 2024), "wjp_rule_of_law", "wjp",
                 "Can people bring specific complaints to the government about public services or officials? Editions 2012 "
                 "(=2012-2013), 2014-2017, 2019-2024; no 2013/2018.", loader=_cols(_d.wjp, "sf34")))
    obs = "IBP Open Budget Survey rounds 2006-2023 (biennial/triennial, not annual); research period ends about a year before publication."
    ms += [
        _m("obs.budget_transparency", "Open Budget Index (budget transparency), IBP Open Budget Survey", _S, "country", "0-100",
           True, (2006, 2023), "open_budget_survey", "obs",
           "The 'saving money' outcome family (Brookings review): public availability of the eight key budget documents. "
           + obs, loader=_cols(_d.open_budget_survey, "budget_transparency_score")),
        _m("obs.public_participation", "Open Budget Survey public participation score", _P, "country", "0-100", True,
           (2012, 2023), "open_budget_survey", "obs", "Opportunities for the public to take part in the budget process. " + obs,
           loader=_cols(_d.open_budget_survey, "public_participation_score")),
        _m("obs.legislative_oversight", "Open Budget Survey legislative oversight score", _S, "country", "0-100", True,
           (2006, 2023), "open_budget_survey", "obs", "'Saving money' family: legislative oversight of the budget. " + obs,
           loader=_cols(_d.open_budget_survey, "legislative_oversight_score")),
    ]
    aw = "rti_awareness_use/rti_awareness_surveys.csv (source per row)"
    rv = "rti_awareness_use/rti_request_volumes.csv (source per row); counts, not rates"
    ms += [
        _m("rti.share_aware_law", "Share of adults who know a law gives them access to public information (survey)", _K,
           "country", "percent of adults", True, (2010, 2016), "rti_awareness_use", "rti_use",
           "Direct awareness measure. Chile: CPLT national positioning survey (MIDE UC, fieldwork Nov 2009 - Feb 2010): "
           "20%; later CPLT Estudios Nacionales de Transparencia not yet transcribed. Mexico: INEGI/INAI ENAID 2016 "
           "(adults 18+ in urban areas of 100,000+): 50.6%. " + aw,
           loader=_indicator(_d.rti_awareness_surveys, "share_aware_rti_law")),
        _m("rti.share_aware_council", "Share of adults who have heard of the RTI oversight body (survey)", _K, "country",
           "percent of adults", True, (2010, 2019), "rti_awareness_use", "rti_use",
           "Direct awareness measure. Chile: 18.7% had heard of the Consejo para la Transparencia (2009/10 survey). Mexico "
           "(ENAID, adults 18+ in urban areas of 100,000+): 50.6% (2016) and 54.8% (2019) know an institution guarantees "
           "the right of access to information. " + aw,
           loader=_indicator(_d.rti_awareness_surveys, "share_heard_of_council")),
        _m("rti.requests_portal", "Access-to-information requests via Chile's Portal de Transparencia (count)", _K, "country",
           "requests per year", True, (2013, 2023), "rti_awareness_use", "rti_use",
           "Use of the law. Chile: 2013, 2018, 2023 (central administration, Portal de Transparencia). " + rv,
           loader=_indicator(_d.rti_request_volumes, "requests_portal")),
        _m("rti.requests_cplt_annual", "Access-to-information requests in CPLT annual statistics (count)", _K, "country",
           "requests per year", True, (2019, 2022), "rti_awareness_use", "rti_use",
           "Use of the law. Chile 2019 (derived: 2020 total minus the stated increase), 2020 and 2022 (2021 not "
           "found). " + rv,
           loader=_indicator(_d.rti_request_volumes, "requests_cplt_annual")),
        _m("rti.requests_federal", "Access-to-information requests to Mexico's federal government (count)", _K, "country",
           "requests per year", True, (2003, 2023), "rti_awareness_use", "rti_use",
           "Use of the law. Mexico 2003 and 2023 only. " + rv, loader=_indicator(_d.rti_request_volumes, "requests_federal")),
        _m("rti.requests_all", "Access-to-information and personal-data requests, Mexico PNT records (count)", _K, "country",
           "requests per year", True, (2003, 2023), "rti_awareness_use", "rti_use",
           "Use of the law. Mexico 2003-2023 every year; scope widens as state systems join Infomex/PNT (level shifts are "
           "partly coverage). " + rv, loader=_indicator(_d.rti_request_volumes, "requests_all_pnt")),
        _m("rti.requests_uk_foi", "FOI requests received by UK central government (count)", _K, "country",
           "requests per year", True, (2013, 2023), "rti_awareness_use", "rti_use",
           "Use of the law. United Kingdom, central-government monitored bodies (official FOI statistics bulletins): "
           "2013, 2020 (derived: 2021 total minus the stated increase), 2021-2023; 2014-2019 not transcribed. " + rv,
           loader=_indicator(_d.rti_request_volumes, "requests_foi_central_government")),
        _m("rti.requests_us_foia", "FOIA requests received by US federal agencies (count)", _K, "country",
           "requests per year", True, (2009, 2014), "rti_awareness_use", "rti_use",
           "Use of the law. United States, all federal departments and agencies, fiscal years 2009-2014 (DOJ OIP "
           "summaries; FY2008+ reporting definitions, not comparable with earlier totals that included Privacy Act "
           "first-party requests). " + rv, loader=_indicator(_d.rti_request_volumes, "requests_foia_federal")),
        _m("rti.requests_india_rti", "RTI applications received by India's central public authorities (count)", _K,
           "country", "requests per year", True, (2014, 2018), "rti_awareness_use", "rti_use",
           "Use of the law. India, public authorities registered with the Central Information Commission; year = "
           "first year of the April-March reporting year; 2014-15 and 2018-19 only (2018-19 printed as 13.70 lakh). "
           + rv, loader=_indicator(_d.rti_request_volumes, "requests_rti_central_public_authorities")),
    ]
    return ms


_CATALOGUE: dict[str, Measure] | None = None


def _all() -> dict[str, Measure]:
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = _build()
    return _CATALOGUE


def ids() -> list[str]:
    """All measure ids, in catalogue order."""
    return list(_all())


def catalogue(domain: str | None = None) -> list[Measure]:
    """The measures, optionally of one domain.

    Parameters
    ----------
    domain : str, optional
        One of :data:`DOMAINS`.

    Raises
    ------
    ogimpact.errors.OgimpactError
        If ``domain`` is not a known domain.
    """
    if domain is None:
        return list(_all().values())
    if domain not in DOMAINS:
        raise OgimpactError(f"unknown domain {domain!r}; use one of: {', '.join(repr(d) for d in DOMAINS)}.")
    return [m for m in _all().values() if m.domain == domain]


def get(measure_id: str) -> Measure:
    """Return one measure by id.

    Raises
    ------
    ogimpact.errors.OgimpactError
        If the id is unknown; the message lists close matches (or all ids).
    """
    cat = _all()
    if measure_id in cat:
        return cat[measure_id]
    close = difflib.get_close_matches(str(measure_id), list(cat), n=5, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"valid ids: {', '.join(cat)}."
    raise OgimpactError(f"unknown measure {measure_id!r}; {hint} Run `ogimpact measures` for the catalogue.")


def _year_filter(years: Any) -> Callable[[pd.Series], pd.Series] | None:
    if years is None:
        return None
    if isinstance(years, str):
        a, sep, b = years.partition(":")
        try:
            lo = int(a) if a else None
            hi = int(b) if b else None
            if not sep:
                hi = lo
        except ValueError:
            raise OgimpactError(f"years {years!r} is not A:B or a single year; write e.g. 2000:2020.") from None
        return lambda s: s.between(lo if lo is not None else -10**9, hi if hi is not None else 10**9)
    if isinstance(years, range):
        years = list(years)
    if isinstance(years, tuple) and len(years) == 2 and all(isinstance(y, (int, np.integer)) or y is None for y in years):
        lo, hi = years
        return lambda s: s.between(lo if lo is not None else -10**9, hi if hi is not None else 10**9)
    wanted = {int(y) for y in years}
    return lambda s: s.isin(wanted)


def load(measure_ids: str | Sequence[str], *, units: Iterable[str] | None = None, years: Any = None) -> pd.DataFrame:
    """Load one or more measures as one long frame.

    Parameters
    ----------
    measure_ids : str or sequence of str
        Measure ids (a comma-separated string is accepted).
    units : iterable of str, keyword-only, optional
        Keep only these units (ISO3 codes, or the official sub-national codes).
    years : keyword-only, optional
        ``(first, last)`` inclusive tuple, ``"A:B"`` string, or an iterable of years.

    Returns
    -------
    pandas.DataFrame
        Columns ``unit`` (str), ``year`` (int), ``measure`` (id), ``value``
        (float), ``se`` (float; NaN where the source has none).  Rows with a
        missing value are dropped; no value is interpolated.

    Raises
    ------
    ogimpact.errors.OgimpactError
        For an unknown measure id or malformed ``years``.
    """
    if isinstance(measure_ids, str):
        measure_ids = [s.strip() for s in measure_ids.split(",") if s.strip()]
    measures = [get(i) for i in measure_ids]
    yf = _year_filter(years)
    keep_units = None if units is None else {str(u) for u in units}
    parts = []
    for m in measures:
        df = m._loader()  # type: ignore[misc]
        df = df[df["value"].notna()]
        if keep_units is not None:
            df = df[df["unit"].isin(keep_units)]
        if yf is not None:
            df = df[yf(df["year"])]
        df = df.assign(measure=m.id)
        parts.append(df[LOAD_COLUMNS])
    if not parts:
        return pd.DataFrame({"unit": pd.Series(dtype=str), "year": pd.Series(dtype=int), "measure": pd.Series(dtype=str),
                             "value": pd.Series(dtype=float), "se": pd.Series(dtype=float)})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["measure", "unit", "year"], kind="stable").reset_index(drop=True)
