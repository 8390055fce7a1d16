"""The dose column of a registry panel (issue 14, item 7): e.g. the RTI Rating total of each RTI law.

Kept apart from :mod:`ogimpact.designs.registry_designs` so that :func:`ogimpact.estimation.registry_panel`
can attach a dose without importing the fitting helpers (no import cycle).
"""
from __future__ import annotations

import numpy as np

from ..errors import DesignError

__all__ = ["DOSE_COLUMNS", "attach_dose"]

#: dose column a registry panel can carry, per intervention (from the intervention's timing table)
DOSE_COLUMNS = {"rti_law": "rti_rating_total"}


def attach_dose(panel, intervention: str):
    """Add the intervention's dose column (e.g. ``rti_rating_total`` of ``rti_law``) to a registry panel.

    Units without a score (no law, or no RTI Rating) get dose 0 when never treated; treated units
    without a score are dropped and listed in ``panel.info['dropped_no_dose']``.  Returns a new panel.
    """
    from .. import interventions as _iv
    from ..panel import Panel

    col = DOSE_COLUMNS.get(intervention)
    if col is None:
        raise DesignError(f"intervention {intervention!r} has no dose column; doses are available for "
                          f"{', '.join(DOSE_COLUMNS)}.")
    tm = _iv.timing(intervention)
    if col not in tm.columns:
        raise DesignError(f"the timing table of {intervention!r} lacks {col!r}.")
    score = dict(zip(tm["unit"].astype(str), np.asarray(tm[col], dtype=float)))
    f = panel.frame.copy()
    u = f[panel.unit].astype(str)
    treated = f[panel.cohort].fillna(0).astype(float) > 0
    dose = u.map(score).astype(float)
    f[col] = np.where(treated, dose, 0.0)
    bad = sorted(set(u[treated & ~np.isfinite(dose)]))
    if bad:
        f = f[~u.isin(bad)]
    q = Panel.from_frame(f, unit=panel.unit, time=panel.time, outcome=panel.outcome, cohort=panel.cohort,
                         covariates=panel.covariates, extra=[col], regular_time=False)
    q.info.update({k: v for k, v in panel.info.items() if k not in q.info})
    q.info["warnings"] = list(q.info.get("warnings", []))
    q.info["warning_codes"] = dict(q.info.get("warning_codes", {}))
    q.info["dropped_no_dose"] = bad
    q.info["dose_column"] = col
    if bad:
        from ..panel import note_warning

        note_warning(q.info, "dose_missing_dropped",
                     f"dropped {len(bad)} treated unit(s) without a {col} score: {', '.join(bad[:10])}"
                     f"{' ...' if len(bad) > 10 else ''}")
    return q
