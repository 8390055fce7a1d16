"""Williamson & Eisen's six context questions, recorded per country case.

Williamson, V. & Eisen, N. (2016). *The Impact of Open Government: Assessing
the Evidence.* Brookings Center for Effective Public Management, December
2016.  They give no numeric grade but six questions about the conditions
under which open-government initiatives worked: (1) are the specific
principals identified? (2) is the information important to them? (3) is it
accessible and publicised to them? (4) can principals respond meaningfully as
individuals? (5) are government agents supportive of the reform? (6) can
principals coordinate to change agents' incentives?  Where initiatives
worked, 1-3 held and at least one of 4-6 held.

These answers travel with a country case as **recorded context, never
scored**: nothing in :mod:`ogimpact.evidence.grading` reads them.  Every
answer other than "not assessed" must cite at least one source; the entries
below cite only facts recorded in the project's data PROVENANCE files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..errors import OgimpactError
from ..results import json_safe

__all__ = ["QUESTIONS", "ContextAnswer", "ContextRecord", "CONTEXT_CASES", "context_for"]

QUESTIONS: dict[str, str] = {
    "q1": "Are the specific principals identified?",
    "q2": "Is the information important to them?",
    "q3": "Is it accessible and publicised to them?",
    "q4": "Can principals respond meaningfully as individuals?",
    "q5": "Are government agents supportive of the reform?",
    "q6": "Can principals coordinate to change agents' incentives?",
}
ANSWERS = ("yes", "partly", "no", "not assessed")
CITATION = (
    "Williamson, V. & Eisen, N. (2016). The Impact of Open Government: Assessing the Evidence. "
    "Brookings Center for Effective Public Management."
)


@dataclass(frozen=True)
class ContextAnswer:
    """One answer: ``yes | partly | no | not assessed``, a note and its sources."""

    answer: str = "not assessed"
    note: str = ""
    sources: tuple[str, ...] = ()

    def __post_init__(self):
        if self.answer not in ANSWERS:
            raise OgimpactError(f"context answer must be one of {', '.join(ANSWERS)}, not {self.answer!r}.")
        object.__setattr__(self, "sources", tuple(self.sources))
        if self.answer != "not assessed" and not self.sources:
            raise OgimpactError(f"a context answer {self.answer!r} needs at least one cited source; cite it or mark it 'not assessed'.")

    def to_dict(self) -> dict:
        return {"answer": self.answer, "note": self.note, "sources": list(self.sources)}


@dataclass(frozen=True)
class ContextRecord:
    """The six Williamson & Eisen answers for one (country, intervention) case."""

    country: str
    intervention: str
    answers: Mapping[str, ContextAnswer] = field(default_factory=dict)
    recorded: str = ""

    def __post_init__(self):
        unknown = set(self.answers) - set(QUESTIONS)
        if unknown:
            raise OgimpactError(f"unknown context questions {sorted(unknown)}; use q1..q6.")
        full = {q: self.answers.get(q, ContextAnswer()) for q in QUESTIONS}
        object.__setattr__(self, "answers", full)

    @property
    def scored(self) -> bool:
        """Always False: context is recorded, never scored."""
        return False

    def to_dict(self) -> dict:
        """``{country, intervention, scored: false, q1..q6: {question, answer, note, sources}}``."""
        d = {"country": self.country, "intervention": self.intervention, "scored": False, "recorded": self.recorded,
             "framework": CITATION}
        for q, text in QUESTIONS.items():
            d[q] = {"question": text, **self.answers[q].to_dict()}
        return json_safe(d)

    def pattern(self) -> str:
        """Descriptive reading of the Williamson–Eisen pattern (not a score)."""
        a = {q: self.answers[q].answer for q in QUESTIONS}
        if any(a[q] == "not assessed" for q in ("q1", "q2", "q3")):
            return "pattern not assessable: one of questions 1-3 is not assessed"
        first = all(a[q] == "yes" for q in ("q1", "q2", "q3"))
        second = any(a[q] == "yes" for q in ("q4", "q5", "q6"))
        return ("questions 1-3 hold and at least one of 4-6 holds (the pattern of initiatives that worked)"
                if first and second else "the Williamson-Eisen pattern does not (fully) hold")


_CHL_LAW = "http://www.freedominfo.org/2009/04/a-landmark-day-in-chile-as-new-transparency-law-comes-into-effect/"
_CHL_CPLT = "https://consejotransparencia.cl/?p=798"
_CHL_AUDIT = ("Consejo para la Transparencia municipal audit scores via González-Bustamante & Aguilar (2023), "
              "Data Set on Local Government Indicators in Chile, doi:10.5281/zenodo.7568387 (data/raw chile_cplt_municipal)")
_CHL_MGTM = "https://www.opengovpartnership.org/members/chile/commitments/CL0020/"
_MEX_LAW = "https://itlaw.fandom.com/wiki/Federal_Law_of_Transparency_and_Access_to_Public_Government_Information"
_MEX_MAPADAI = ("INAI #MapaDAImx request statistics, GobiernoFacil/mapadai @ 8db740f1ca9f6640a69063eed207e5ca6074cceb "
                "(data/raw mexico_inai_mapadai)")
_MEX_OGP = "http://freedominfo.org/2012/08/mexico-expands-ogp-commitments-in-revised-plan"
_MEX_INAI_END = "https://www.sinembargo.mx/4632444/puntosycomas-la-transparencia-cambia-de-manos-ahora-si-se-acaba-al-instituto/"

#: recorded context per (ISO3, intervention id)
CONTEXT_CASES: dict[tuple[str, str], ContextRecord] = {
    ("CHL", "rti_law"): ContextRecord(
        country="CHL",
        intervention="rti_law",
        recorded="2025-11 from the project's data PROVENANCE notes (ogp_foi_timing, chile_cplt_municipal)",
        answers={
            "q3": ContextAnswer(
                "partly",
                "Ley 20.285 in force 20 Apr 2009; a 2009-10 baseline survey found 20% of people knew of the law.",
                (_CHL_LAW, _CHL_CPLT),
            ),
            "q4": ContextAnswer(
                "yes",
                "Any person may request information with a 20 working-day deadline (+10) from ministries to "
                "municipalities, and appeal to the Consejo para la Transparencia created by the law.",
                (_CHL_LAW,),
            ),
            "q5": ContextAnswer(
                "partly",
                "Municipal compliance audited by CPLT rose (mean active-transparency score 30.3 in 2012 to 77.0 in "
                "2016); CPLT's Municipal Transparency Management Model was a starred OGP commitment (CL0020). "
                "Compliance is an indirect sign of support, not a measure of it.",
                (_CHL_AUDIT, _CHL_MGTM),
            ),
        },
    ),
    ("MEX", "rti_law"): ContextRecord(
        country="MEX",
        intervention="rti_law",
        recorded="2025-11 from the project's data PROVENANCE notes (ogp_foi_timing, mexico_inai_mapadai)",
        answers={
            "q3": ContextAnswer(
                "partly",
                "Requests accepted from 12 Jun 2003 (LFTAIPG); requests to the ten most-requested federal agencies "
                "grew from 7,885 (Jun-Dec 2003) to 70,756 (2013), so the channel was used; publicity itself not measured.",
                (_MEX_LAW, _MEX_MAPADAI),
            ),
            "q4": ContextAnswer(
                "yes",
                "Individuals file requests and appeals (recursos de revision) to the federal guarantor IFAI/INAI and "
                "to state guarantors, which report request and appeal counts.",
                (_MEX_LAW, _MEX_MAPADAI),
            ),
            "q5": ContextAnswer(
                "partly",
                "The federal government (SFP) formed the OGP Tripartite Technical Secretariat with IFAI and civil "
                "society in Dec 2011; but INAI was extinguished by constitutional reform (DOF 20 Dec 2024), a reversal of support.",
                (_MEX_OGP, _MEX_INAI_END),
            ),
        },
    ),
}


def context_for(country: str, intervention: str = "rti_law") -> ContextRecord:
    """The recorded context of a case; an all-"not assessed" record when none is held."""
    key = (str(country).upper(), str(intervention))
    return CONTEXT_CASES.get(key, ContextRecord(country=key[0], intervention=key[1], recorded="none recorded"))
