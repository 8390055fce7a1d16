"""The unit-level influence function of a Callaway–Sant'Anna headline ATT, as JSON.

``fit_cs(..., keep_influence=True)`` puts the influence function of the headline
aggregate (R ``did::aggte(type=...)``'s overall ATT) in the result's ``extras``::

    {"influence": {"units": ["AFG", ...], "values": [psi_1, ...],
                   "clusters": [...]          # only with a cluster coarser than the unit
                  },
     "influence_scale": n}

Convention (R ``did``'s, Callaway & Sant'Anna 2021 section 4): ``psi`` is the
influence function of the *unit*, so that

* the estimator is approximately ``ATT + sum_i psi_i / n`` (``n`` = units of the
  balanced panel, ``influence_scale``);
* the analytic standard error is ``sqrt(sum_i psi_i^2) / n`` (R ``did``'s
  ``getSE``: ``sqrt(mean(psi^2) / n)``), or ``sqrt(sum_c (sum_{i in c} psi_i)^2) / n``
  with clusters;
* a multiplier-bootstrap draw is ``sum_i v_i psi_i / n`` with i.i.d. mean-0,
  variance-1 weights ``v_i`` (one per cluster when clustered).

The analytic SE is what these values reproduce even when ``fit_cs`` reports a
bootstrap SE.  Stacking the influence functions of several outcomes by unit
label gives joint bootstrap draws across outcomes
(:func:`ogimpact.inference.multiplicity.romano_wolf_multiplier`).

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230.
"""
from __future__ import annotations

import numpy as np

from ..panel import Panel

__all__ = ["influence_extras"]


def _label(x) -> str:
    """JSON-safe string id of a unit or cluster (numpy scalars as their Python value)."""
    return str(x.item()) if isinstance(x, np.generic) else str(x)


def influence_extras(panel: Panel, units: np.ndarray, psi: np.ndarray, n: int, *,
                     cluster: str | None = None) -> dict:
    """``{"influence": {"units", "values"[, "clusters"]}, "influence_scale": n}`` for ``extras``.

    Parameters
    ----------
    panel : Panel
        The panel the estimate came from (to look up each unit's cluster).
    units : (n,) unit ids in the row order of ``psi``.
    psi : (n,) influence function of the headline ATT (R ``did`` scaling, see module docstring).
    n : number of units (the scale: ``se = sqrt(sum psi^2) / n``).
    cluster : cluster column coarser than the unit, if any; each unit's cluster label is recorded.
    """
    psi = np.asarray(psi, dtype=float).reshape(-1)
    out: dict = {"units": [_label(u) for u in units], "values": [float(v) for v in psi]}
    if cluster:
        f = panel.frame.drop_duplicates(panel.unit).set_index(panel.unit)[cluster]
        out["clusters"] = [_label(c) for c in f.reindex(list(units)).to_numpy()]
    return {"influence": out, "influence_scale": int(n)}
