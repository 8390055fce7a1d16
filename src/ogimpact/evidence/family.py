"""Multiplicity across the declared family of measures: Romano–Wolf, Holm, Benjamini–Hochberg.

``family_adjust`` adjusts the headline p-values of a family of measures (Romano–Wolf on a joint
multiplier bootstrap of the CS ATTs' influence functions when every member has one, else Holm;
Romano & Wolf 2005), and ``_multiplicity`` turns one measure's raw and adjusted p into the
multiplicity check.  Moved out of :mod:`.assess_grade` unchanged (re-exported there).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from .checks import CheckResult, check_multiplicity
from ..parse import finite_or_none as _f

__all__ = ["family_adjust"]




def _msg(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _romano_wolf_family(names: list, arr: np.ndarray, joint: Mapping | None, *, B: int, seed: int
                        ) -> tuple[dict | None, str]:
    """Romano–Wolf over the members with a p-value, or ``(None, why not)``."""
    from ..inference.multiplicity import romano_wolf_multiplier

    members = [n for n, p in zip(names, arr) if np.isfinite(p)]
    if len(members) < 2:
        return None, "not assessed: fewer than two outcomes of the family have a p-value"
    if not joint:
        return None, "not available: no jointly drawn bootstrap statistics across the family"
    missing = [m for m in members if not (joint.get(m) and _f(joint[m].get("estimate")) is not None
                                          and (_f(joint[m].get("se")) or 0) > 0)]
    if missing:
        return None, (f"not available: the CS headline ATT (with its influence function) is missing for {missing}, "
                      "so the family cannot be bootstrapped jointly")
    try:
        r = romano_wolf_multiplier([joint[m] for m in members], [float(joint[m]["estimate"]) for m in members],
                                   [float(joint[m]["se"]) for m in members], B=int(B), seed=seed)
    except Exception as exc:  # noqa: BLE001 - recorded, Holm is used instead
        return None, f"failed: {_msg(exc)}"
    rw = {"method": "romano-wolf", "family": list(names), "members": members,
          "p_raw": {m: float(p) for m, p in zip(names, arr) if np.isfinite(p)},
          "p_adjusted": dict(zip(members, r["p_adjusted"].tolist())),
          "p_boot": dict(zip(members, r["p_boot"].tolist())), "t": dict(zip(members, r["t"].tolist())),
          "B": r["B"], "seed": r["seed"], "weights": r["weights"], "n_units": r["n_labels"],
          "statistic": "CS headline ATT / analytic influence-function SE (two-sided)",
          "bootstrap": "multiplier bootstrap of the CS influence functions, one weight per unit shared across "
                       "the measures (Callaway & Sant'Anna 2021 s.4; Romano & Wolf 2005 step-down)"}
    return rw, "used by the check"


def family_adjust(p_raw: Mapping[str, float | None], *, joint: Mapping[str, Mapping] | None = None,
                  B: int = 999, seed: int = 0) -> dict:
    """Romano–Wolf, Holm and Benjamini–Hochberg adjusted p across the declared family of measures.

    Parameters
    ----------
    p_raw : ``{measure: headline p}`` in the declared order (the family).
    joint : ``{measure: {"influence", "influence_scale", "estimate", "se"}}`` — the CS headline ATT of
        each measure with its per-unit influence function (``fit_cs(keep_influence=True)``).  When every
        member with a p-value has one, :func:`ogimpact.inference.multiplicity.romano_wolf_multiplier`
        (B draws, ``seed``) gives the Romano–Wolf adjusted p the check uses; otherwise Holm (also
        family-wise) is used and the reason is recorded.
    B, seed : bootstrap draws and seed of the Romano–Wolf multiplier bootstrap.
    """
    from ..inference.multiplicity import adjust_pvalues

    names = list(p_raw)
    arr = np.array([np.nan if _f(p_raw[n]) is None else float(p_raw[n]) for n in names])
    holm = adjust_pvalues(arr, "holm") if len(arr) else arr
    bh = adjust_pvalues(arr, "bh") if len(arr) else arr
    rw, note = _romano_wolf_family(names, arr, joint, B=B, seed=seed)
    return {"family": names, "size": int(np.isfinite(arr).sum()), "p_raw": dict(zip(names, arr.tolist())),
            "holm": dict(zip(names, holm.tolist())), "bh": dict(zip(names, bh.tolist())),
            "romano_wolf": rw, "romano_wolf_note": note, "check_uses": "romano-wolf" if rw else "holm"}


def _multiplicity(measure: str, fam: Mapping | None, rubric) -> CheckResult:
    if not fam or fam.get("size", 0) < 2:
        c = check_multiplicity(None, None, method="holm", rubric=rubric)
        return replace(c, reason=f"not assessed: fewer than two outcomes of the family ({len((fam or {}).get('family', [measure]))} declared) have a p-value",
                       inputs={**c.inputs, "family": list((fam or {}).get("family", [measure]))})
    rw = fam.get("romano_wolf") or None
    raw, p_holm = fam["p_raw"].get(measure), fam["holm"].get(measure)
    p_rw = (rw.get("p_adjusted") or {}).get(measure) if rw else None
    method, adj = ("romano-wolf", p_rw) if _f(p_rw) is not None else ("holm", p_holm)
    c = check_multiplicity(_f(raw), _f(adj), method=method, rubric=rubric)
    return replace(c, inputs={**c.inputs, "p_holm": _f(p_holm), "p_bh": _f(fam["bh"].get(measure)),
                              "family": list(fam["family"]), "romano_wolf": rw,
                              "romano_wolf_note": fam.get("romano_wolf_note")})


