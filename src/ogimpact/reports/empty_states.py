"""Honest empty states: the one true sentence a report prints where a result cannot be.

A design that cannot run says why in words a reader can check against the data: the country
was treated before the outcome series begins (always treated in the window), the series ends
before the treatment starts, there are too few pre-treatment years, or a subgroup has too few
adopting countries.  These checks read only the timing table and the outcome's years.
"""
from __future__ import annotations

import re

import pandas as pd

__all__ = ["single_country_reason", "heterogeneity_view", "MIN_PRE_PERIODS", "min_pre_periods", "shown_results"]

def min_pre_periods() -> int:
    """Fewest pre-treatment periods a single-country fit is judged informative with: the rubric's
    ``checks.pre_fit.min_pre_periods`` (one home; the grader applies the same value)."""
    from ..evidence.rubric import load_rubric

    return int(load_rubric(None).data["checks"]["pre_fit"]["min_pre_periods"])


def __getattr__(name):  # MIN_PRE_PERIODS stays importable, read from the rubric
    if name == "MIN_PRE_PERIODS":
        return min_pre_periods()
    raise AttributeError(name)


def _years(measure: str, country: str, years=None) -> tuple[int, int, list[int]] | None:
    from .. import measures as ms

    long = ms.load([measure], years=tuple(years) if years else None)
    if long.empty:
        return None
    own = sorted(int(y) for y in long.loc[long["unit"] == country, "year"].unique())
    return int(long["year"].min()), int(long["year"].max()), own


def single_country_reason(country: str, intervention: str, measure: str, *, years=None, variant=None) -> str | None:
    """Why no single-country design can run for ``country`` on ``measure``, or None when they may run."""
    from .. import interventions as iv
    from .presentation import country_name, intervention_words, measure_words

    try:
        t = iv.timing(intervention, variant=variant)
        coh = t.loc[t["unit"] == country, "cohort"].dropna()
        span = _years(measure, country, years)
    except Exception:  # noqa: BLE001 - the design's own error is shown instead
        return None
    if coh.empty or span is None:
        return None
    c = int(coh.iloc[0])
    first, last, own = span
    name, law, what = country_name(country), intervention_words(intervention), measure_words(measure)
    if c <= 0:
        return (f"{name} has no {law} in the timing table (never treated), so there is no adoption to evaluate "
                "with a single-country design.")
    if not own:
        return f"{what} has no observation for {name} in {first}–{last}."
    if c <= own[0]:
        return (f"{name} adopted its {law} in {c}, before its {what} series begins ({own[0]}): it is always treated "
                f"in the window {own[0]}–{own[-1]}, so there is no pre-adoption period to compare with.")
    if c > own[-1]:
        return (f"{what} for {name} ends in {own[-1]}, before its adoption year {c}: there is no post-adoption "
                "period, so the data cannot answer.")
    pre = [y for y in own if y < c]
    need = min_pre_periods()
    if len(pre) < need:
        return (f"{name} has only {len(pre)} pre-adoption year{'s' if len(pre) != 1 else ''} of {what} "
                f"({', '.join(map(str, pre))}; adoption {c}); at least {need} are needed to fit the "
                "pre-adoption path.")
    return None


def _estimated(r) -> bool:
    from ..parse import finite_or_none

    if isinstance(r, dict):
        return finite_or_none(r.get("estimate")) is not None
    return finite_or_none(getattr(r, "estimate", None)) is not None


def shown_results(why: str | None, results: dict, wanted) -> tuple[dict, str | None]:
    """What a report shows for one country × measure: ``(design -> result or NotAvailable, caution or None)``.

    ``results`` are the recipe's (the ones ``ogimpact assess`` grades); ``why`` is
    :func:`single_country_reason`.  When no wanted design produced an estimate, every one is shown as
    not estimable with ``why`` — the true reason (e.g. always treated in the window), not the
    designs' own messages ("treated unit has no data").  When some design did estimate, the report
    shows exactly what the recipe computed and grades (never hides a graded number) and ``why``
    becomes a caution printed beside it.
    """
    from .context import NotAvailable

    shown = {d: results[d] for d in wanted if d in results}
    if not why:
        return shown, None
    if not any(_estimated(r) for r in shown.values()):
        return {d: NotAvailable(d, why, status="not estimable") for d in wanted}, None
    return shown, why


_THIN = re.compile(r"cohort|treated|comparison|not.yet|never|singular|too few", re.I)


def heterogeneity_view(t: pd.DataFrame, *, by: str) -> tuple[pd.DataFrame, list[str]]:
    """The subgroups that ran (a frame for the table) and one sentence per subgroup that could not.

    ``t`` is :func:`ogimpact.reports.sections.heterogeneity`'s frame (``status`` "ok" or the error).
    """
    if t is None or t.empty:
        return pd.DataFrame(), ["No subgroup has enough countries to estimate an effect."]
    ok = t["status"].astype(str) == "ok" if "status" in t.columns else pd.Series(True, index=t.index)
    ran = t[ok].drop(columns=[c for c in ("status",) if c in t.columns]).reset_index(drop=True)
    sentences = []
    for _, r in t[~ok].iterrows():
        msg = " ".join(str(r.get("status", "")).split()).rstrip(".")
        reason = msg if msg else "the estimator did not run"
        if _THIN.search(reason):
            reason = f"too few adopting or comparison countries in this subgroup for the estimator ({reason})"
        sentences.append(f"{r[by]} ({int(r['n_units'])} countries): not estimated — {reason}.")
    if ran.empty and sentences:
        sentences.insert(0, "No subgroup could be estimated; each reason follows.")
    return ran, sentences
