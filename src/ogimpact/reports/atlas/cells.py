"""Atlas cells: what the atlas assesses (the plan) and the one adapter that assesses one cell.

A *cell* is one graded finding of the registry: an intervention × a country-level
measure, either across countries (the staggered assessment) or for one adopting
country (the single-country assessment).  Each cell is assessed on its own, with
its measure as a family of one, so a cell's result depends only on its own inputs
and can be cached and reused (the multiplicity check therefore reads "not
assessed" in every cell; the atlas is a map of single findings, not one family).

:func:`run_cell` is the only place where the atlas calls the assessment.  Today it
calls :func:`ogimpact.evidence.assess.assess`; when the one answers recipe lands,
this function is the single switch.  It passes ``headline``, ``grade_target`` and
``estimand`` through when the assessment provides them and otherwise fills
``grade_target`` with ``None`` and ``estimand`` with a generated short sentence.
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Mapping, Sequence

import pandas as pd

__all__ = ["CROSS", "PARAM_DEFAULTS", "cell_id", "plan_cells", "run_cell", "summarise", "country_measures_default"]

#: the country column of a cross-country cell (tidy CSV and pages)
CROSS = "cross-country"

#: assessment parameters of every cell (each is part of the cell key)
PARAM_DEFAULTS = {"seed": 0, "window": [-5, 5], "sdid_reps": 50, "variant": None, "min_pre": 5}


def cell_id(spec: Mapping) -> str:
    """File-name-safe id ``intervention__measure__ISO3`` (``cross-country`` for the staggered cell)."""
    return f"{spec['intervention']}__{spec['measure']}__{spec.get('country') or CROSS}"


def country_measures_default(intervention: str) -> list[str]:
    """The single-country cells' default measures: the intervention's domain-balanced default set.

    :func:`ogimpact.evidence.assess.default_measures` — one measure per outcome domain (country level:
    ``wgi.cc``, ``vdem.v2x_partipdem``, ``wgi.ge``, ``vdem.v2xme_altinf``), so every column of the gap map has
    country studies.  Each country cell costs a synthetic control with in-space placebos and an SDID placebo
    SE; ``--country-measures all`` runs every measure (about 16 times as many country cells).
    """
    from ...evidence.assess import default_measures

    return list(default_measures(intervention))


def _adopters(intervention: str, variant: str | None) -> list[tuple[str, int]]:
    from ... import interventions as iv

    t = iv.timing(intervention, variant)
    c = pd.to_numeric(t["cohort"], errors="coerce")
    rows = [(str(u), int(y)) for u, y in zip(t["unit"], c) if pd.notna(y) and y > 0]
    return sorted(set(rows))


def plan_cells(
    interventions: Sequence[str],
    *,
    measures: Sequence[str] | None = None,
    country_measures: Sequence[str] | str | None = None,
    countries: Sequence[str] | None = None,
    params: Mapping | None = None,
) -> list[dict]:
    """Every cell of the atlas, in a fixed order.

    Parameters
    ----------
    interventions : registry ids at country level.
    measures : country-level measures of the cross-country cells (default: every catalogued one).
    country_measures : measures of the single-country cells; ``None`` = :func:`country_measures_default`
        (one per domain),
        ``"all"`` = ``measures``, ``[]`` = none.
    countries : restrict the single-country cells to these ISO3 codes.
    params : overrides of :data:`PARAM_DEFAULTS` (``min_pre``: pre-periods an adopting country needs in the
        measure's coverage, i.e. adoption year − first year of the measure ≥ min_pre, and adoption no later
        than its last year).
    """
    from ... import interventions as iv
    from ... import measures as ms
    from ...errors import UsageError

    p = {**PARAM_DEFAULTS, **(params or {})}
    ivs = list(dict.fromkeys(interventions))
    for i in ivs:
        if iv.get(i).unit_level != "country":
            raise UsageError(f"intervention {i!r} is at {iv.get(i).unit_level} level; the atlas covers "
                             "country-level interventions (e.g. rti_law, ogp_member).")
    if measures is None:
        measures = [m.id for m in ms.catalogue() if m.unit_level == "country"]
    measures = list(dict.fromkeys(measures))
    for m in measures:
        if ms.get(m).unit_level != "country":
            raise UsageError(f"measure {m!r} is at {ms.get(m).unit_level} level; give country-level measures "
                             "(see `ogimpact measures`).")
    wanted = {c.upper() for c in countries} if countries else None
    out = []
    for i in ivs:
        cm = (country_measures_default(i) if country_measures is None else
              measures if country_measures == "all" else list(dict.fromkeys(country_measures)))
        for m in cm:
            ms.get(m)  # unknown -> error naming the ids
        base = {"intervention": i, "seed": p["seed"], "window": list(p["window"]), "variant": p["variant"]}
        for m in measures:
            out.append({**base, "measure": m, "country": None, "kind": CROSS})
        adopters = _adopters(i, p["variant"])
        for m in cm:
            first, last = ms.get(m).years
            for unit, cohort in adopters:
                if wanted is not None and unit not in wanted:
                    continue
                if cohort - int(first) >= p["min_pre"] and cohort <= int(last):
                    out.append({**base, "measure": m, "country": unit, "kind": "country", "cohort": cohort,
                                "sdid_reps": p["sdid_reps"], "min_pre": p["min_pre"]})
    seen: dict[str, dict] = {}
    for s in out:
        seen.setdefault(cell_id(s), s)
    return list(seen.values())


# ------------------------------------------------------------------ the adapter
def _estimand_text(spec: Mapping, assessment: Mapping) -> str:
    from ... import interventions as iv
    from ... import measures as ms

    ilab, mlab = iv.get(spec["intervention"]).label, ms.get(spec["measure"]).label
    if spec.get("country"):
        return (f"Effect of {ilab} in {spec['country']} (adopted {spec.get('cohort')}) on {mlab}: the average "
                "post-adoption gap between the country and its synthetic control of non-adopting countries.")
    return (f"Average effect of {ilab} on {mlab} among adopting countries over the post-adoption years "
            "(ATT; staggered adoption, not-yet-treated comparisons).")


def _num(h: Mapping, k: str):
    v = h.get(k) if isinstance(h, Mapping) else None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if v == v and abs(v) != float("inf") else None


def _headline_text(spec: Mapping, grade: str, nums: Mapping) -> str:
    from ... import measures as ms

    est = _num(nums, "estimate")
    if est is None:
        return f"{grade}: no estimate of the effect on {ms.get(spec['measure']).label}."
    lo, hi, p = _num(nums, "ci_low"), _num(nums, "ci_high"), _num(nums, "p_value")
    ci = f", 95% CI {lo:.3g} to {hi:.3g}" if lo is not None and hi is not None else ""
    pv = f", p = {p:.3g}" if p is not None else ""
    return (f"{grade} evidence: {nums.get('design')} estimate {est:.3g}{ci}{pv} on "
            f"{ms.get(spec['measure']).label}.")


def summarise(spec: Mapping, assessment: Mapping) -> dict:
    """The atlas fields of one assessment dict: grade, headline text and numbers, estimand, grade target, reasons.

    ``headline`` may be a mapping of numbers (today's assessment) or a sentence (the answers recipe); a
    mapping's ``text``/``sentence`` is used when present, otherwise a sentence is generated.
    """
    grade = assessment.get("grade") or "Insufficient"
    h = assessment.get("headline")
    nums = h if isinstance(h, Mapping) else (assessment.get("headline_estimate") or assessment.get("estimate") or {})
    if not isinstance(nums, Mapping):
        nums = {}
    if isinstance(h, str) and h.strip():
        text = h.strip()
    elif isinstance(h, Mapping) and isinstance(h.get("text") or h.get("sentence"), str):
        text = h.get("text") or h.get("sentence")
    else:
        text = _headline_text(spec, grade, nums)
    est = assessment.get("estimand")
    if isinstance(est, Mapping):
        est = est.get("text") or est.get("label") or est.get("name")
    return {"grade": grade, "headline": text, "design": nums.get("design"),
            **{k: _num(nums, k) for k in ("estimate", "se", "ci_low", "ci_high", "p_value")},
            "estimand": est if isinstance(est, str) and est else _estimand_text(spec, assessment),
            "grade_target": assessment.get("grade_target"), "reasons": list(assessment.get("reasons") or [])}


def _strip_timings(d: dict) -> dict:
    opts = d.get("options")
    if isinstance(opts, dict):
        opts.pop("seconds", None)
    return d


def _assess(spec: Mapping) -> dict:
    """THE call into the assessment (the merge switches this to the answers recipe)."""
    from ...evidence.assess import assess

    kw = {"measures": [spec["measure"]], "variant": spec.get("variant"), "seed": int(spec["seed"]),
          "window": tuple(spec["window"])}
    if spec.get("country"):
        kw.update(country=spec["country"], sdid_reps=int(spec["sdid_reps"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = assess(spec["intervention"], **kw).to_dict()
    return _strip_timings(table)


def run_cell(spec: Mapping) -> dict:
    """Assess one cell; never raises (the build continues on error).

    Returns
    -------
    dict
        ``{id, spec, status, result, summary, error, seconds}``: ``status`` is ``ok``, ``not estimable``
        (bad input: the assessment said why, deterministic, cached) or ``failed`` (an unexpected
        exception: not cached, retried next build); ``result`` the assessment JSON
        (``{intervention, assessments: [one], rubric, options}``) without timings.
    """
    from ...errors import OgimpactError
    from ...parallel import pin_blas_threads

    pin_blas_threads(1)
    t0 = time.perf_counter()
    spec = dict(spec)
    rec: dict[str, Any] = {"id": cell_id(spec), "spec": spec}
    try:
        table = _assess(spec)
        a = table["assessments"][0]
        rec.update(status="ok", result=table, summary=summarise(spec, a), error=None)
    except OgimpactError as exc:
        msg = " ".join(str(exc).split())[:600]
        rec.update(status="not estimable", result=None, error=msg,
                   summary={**summarise(spec, {"grade": "Insufficient", "reasons": [msg]}),
                            "headline": f"Insufficient: not estimable ({msg})"})
    except Exception as exc:  # noqa: BLE001 - continue-on-error; shown in the failure table
        msg = f"{type(exc).__name__}: {' '.join(str(exc).split())[:600]}"
        rec.update(status="failed", result=None, error=msg,
                   summary={**summarise(spec, {"grade": "Insufficient", "reasons": [msg]}),
                            "headline": f"Insufficient: the assessment failed ({msg})"})
    rec["seconds"] = round(time.perf_counter() - t0, 3)
    return rec
