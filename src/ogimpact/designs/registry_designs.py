"""Registry runs of the designs for treatments that switch off or vary in intensity (issue 14, item 7).

Two registry facts do not fit the absorbing, binary designs:

* **OGP membership ends** for some countries (Hungary 2016, Tanzania and Turkey 2017, … — the
  ``exited`` dates of ``data/raw/ogp_membership_timing``).  In a registry panel the ``treat``
  column is 0 from the exit year on, so ``dcdh`` (de Chaisemartin & D'Haultfœuille 2024) and
  ``lp-did --nonabsorbing L`` (Dube, Girardi, Jordà & Taylor 2023) use the exits, where the
  cohort-based designs keep leavers treated (intention to treat).
* **RTI laws differ in strength**: the RTI Rating total (0–150) of each country's law is a dose
  for ``continuous`` (Callaway, Goodman-Bacon & Sant'Anna 2024), with the law's adoption year as
  the cohort.  The score is a cross-section of the current law (``rti_rating_as_of``), so it is
  the dose of the law in force today, applied from adoption on.

:func:`nonabsorbing_and_dose_results` returns, for one measure, the result JSON of each applicable
design together with one sentence on what it assumes, for reports to show beside the absorbing
designs.  The entry points :func:`fit_ogp_exits` and :func:`fit_rti_dose_response` are the same
runs one at a time; the CLI equivalents are ``estimate dcdh|lp-did --measure M --intervention
ogp_member`` and ``estimate continuous --measure M --intervention rti_law --dose rti_rating_total``.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..errors import DesignError, OgimpactError
from .registry_dose import DOSE_COLUMNS, attach_dose

__all__ = ["ASSUMPTIONS", "DOSE_COLUMNS", "attach_dose", "fit_ogp_exits", "fit_rti_dose_response",
           "nonabsorbing_and_dose_results"]

#: one sentence per design on what it assumes, for reports
ASSUMPTIONS = {
    "dcdh": ("dcdh compares each country whose OGP status changes (joining, or leaving as Hungary, Tanzania and "
             "Turkey did) with countries of the same initial status that have not changed yet; it assumes their "
             "outcomes would have moved in parallel without the change and lets effects differ by country and "
             "over time, with no-anticipation before the change."),
    "lp-did": ("lp-did (non-absorbing) estimates the effect of entering OGP with clean comparisons: countries whose "
               "status did not change in the L years before and over the horizon; it assumes parallel trends among "
               "them and that effects settle within L years, so later exits and re-entries do not contaminate it."),
    "continuous": ("continuous treats the RTI Rating score (0-150) of a country's law as its dose from adoption on "
                   "and compares adopters with not-yet adopters; reading the curve as a dose-response needs "
                   "strong parallel trends (countries with weak and strong laws would have gained alike at any "
                   "dose), and the score is today's, not the law's at adoption."),
}


def fit_ogp_exits(measure: str, *, design: str = "dcdh", years: tuple[int, int] | None = None,
                  units: Sequence[str] | None = None, **options: Any):
    """``dcdh`` or ``lp-did`` (non-absorbing) of one registry measure on OGP membership with its exits.

    ``options`` go to the design (defaults: dcdh ``effects=3, placebo=2``; lp-did ``window=(-3, 3),
    nonabsorbing=2``).  Returns the :class:`~ogimpact.results.Estimate`.
    """
    from ..estimation import estimate, registry_panel

    if design not in ("dcdh", "lp-did"):
        raise DesignError(f"OGP exits run through dcdh or lp-did, not {design!r}.")
    kw = dict(effects=3, placebo=2) if design == "dcdh" else dict(window=(-3, 3), nonabsorbing=2)
    kw.update(options)
    panel = registry_panel(design, measure=measure, intervention="ogp_member", years=years, units=units)
    if design == "lp-did":
        panel = _regular_years(panel)
    return estimate(design, panel, **kw)


def fit_rti_dose_response(measure: str, *, years: tuple[int, int] | None = None,
                          units: Sequence[str] | None = None, **options: Any):
    """``continuous`` of one registry measure with the RTI Rating total as the dose of the RTI law.

    ``options`` go to :func:`ogimpact.designs.continuous_dose.fit_continuous` (defaults ``degree=1``:
    a line in the dose, since about a hundred laws cannot support a cubic spline's knots).
    """
    from ..estimation import estimate, registry_panel

    kw = dict(degree=1)
    kw.update(options)
    panel = registry_panel("continuous", measure=measure, intervention="rti_law", years=years, units=units)
    return estimate("continuous", panel, dose=DOSE_COLUMNS["rti_law"], **kw)


def _regular_years(panel):
    """Keep the longest run of consecutive years (lp-did needs equally spaced periods, e.g. WGI before 2002)."""
    yrs = np.sort(panel.frame[panel.time].dropna().unique().astype(int))
    if len(yrs) < 2 or np.all(np.diff(yrs) == 1):
        return panel
    breaks = np.flatnonzero(np.diff(yrs) != 1)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(yrs) - 1]
    k = int(np.argmax(ends - starts))
    lo, hi = int(yrs[starts[k]]), int(yrs[ends[k]])
    f = panel.frame[(panel.frame[panel.time] >= lo) & (panel.frame[panel.time] <= hi)]
    from ..panel import Panel

    q = Panel.from_frame(f, unit=panel.unit, time=panel.time, outcome=panel.outcome, treat=panel.treat,
                         covariates=panel.covariates, extra=["cohort"], regular_time=False)
    q.info.update({k2: v for k2, v in panel.info.items() if k2 not in q.info})
    q.info["years_kept"] = [lo, hi]
    return q


def nonabsorbing_and_dose_results(measure: str, intervention: str, *, years: tuple[int, int] | None = None,
                                  units: Sequence[str] | None = None) -> list[dict]:
    """Result JSON of the non-absorbing / dose designs that apply to ``intervention``, for reports.

    Returns a list of ``{"design", "assumes", "result"}`` (``result`` = ``Estimate.to_dict()``) or
    ``{"design", "assumes", "error"}`` when a design cannot run on this measure (one sentence).
    ``ogp_member`` gives ``dcdh`` and ``lp-did``; ``rti_law`` gives ``continuous``; other
    interventions give an empty list.
    """
    runs = {"ogp_member": [("dcdh", lambda: fit_ogp_exits(measure, design="dcdh", years=years, units=units)),
                           ("lp-did", lambda: fit_ogp_exits(measure, design="lp-did", years=years, units=units))],
            "rti_law": [("continuous", lambda: fit_rti_dose_response(measure, years=years, units=units))]}
    out = []
    for design, run in runs.get(intervention, []):
        row: dict = {"design": design, "assumes": ASSUMPTIONS[design]}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row["result"] = run().to_dict()
        except OgimpactError as exc:
            row["error"] = str(exc)
        out.append(row)
    return out
