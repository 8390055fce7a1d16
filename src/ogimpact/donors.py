"""Donor pools of single-unit designs as a stated, checkable rule.

A synthetic control is only as credible as its donor pool.  Abadie (2021, JEL
59(2), sec. 4) asks for donors that (i) were not exposed to the intervention
or a similar one during the study window and (ii) resemble the treated unit in
the characteristics that drive the outcome, because a synthetic unit built from
dissimilar donors interpolates across large distances (interpolation bias) and
over-fits idiosyncratic noise.  Each rule here is a name with parameters; the
result of applying it lists every excluded unit with the reason, so a reader
can check that no donor violates the rule.

Rules (``--donor-rule``):

``untreated``
    exclude units treated by the intervention (or a declared related one,
    ``related=ID+ID``) on or before the window's last period.
``all-untreated``
    ``untreated``, and also exclude every unit with an adoption date at all in
    the registry timing (e.g. adopting after the data end).
``region``
    ``untreated`` and the same World Bank region as the treated unit.
``similar`` (the default of registry runs)
    ``untreated``, the same World Bank region *or* income group, the same regime
    class (V-Dem ``v2x_regime``: autocracy 0-1 vs democracy 2-3, in the last
    pre-treatment year), and a pre-period outcome mean within ``band``
    standard deviations (of the other units' pre-period means) of the treated
    unit's.

Every rule also drops units with an incomplete outcome series (a synthetic
control needs each donor in each period).  ``region`` and ``similar`` end the
window at the latest period at which at least ``min_donors`` donors remain
untreated (``window_end=auto``; ``window_end=panel`` keeps the panel's last
period), and stop with a :class:`~ogimpact.errors.DesignError` when even the
shortest window (``min_post`` post periods) leaves fewer than ``min_donors``.
Parameters are written ``NAME(key=value,...)``, e.g. ``similar(band=2,min_donors=4)``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import DesignError, UsageError
from .panel import Panel

__all__ = ["RULES", "DEFAULT_RULE", "MIN_DONORS", "DonorRule", "DonorPool", "parse_rule", "select_donors",
           "explicit_pool", "country_profile", "registry_donors", "default_predictors", "DEFAULT_COVARIATES"]

RULES = ("untreated", "all-untreated", "region", "similar")
DEFAULT_RULE = "similar"
#: fewest donors a rule may leave (below it the rule stops with a DesignError)
MIN_DONORS = 5
_DEFAULTS: dict[str, dict[str, Any]] = {
    "untreated": {"related": (), "window_end": "panel"},
    "all-untreated": {"related": (), "window_end": "panel"},
    "region": {"related": (), "window_end": "auto", "min_donors": MIN_DONORS, "min_post": 3},
    "similar": {"related": (), "window_end": "auto", "min_donors": MIN_DONORS, "min_post": 3,
                "group": "region-or-income", "regime": "class", "band": 1.5},
}
_GROUPS = ("region-or-income", "region", "income", "any")
_REGIMES = ("class", "exact", "any")


@dataclass(frozen=True)
class DonorRule:
    """A donor rule: its name and every parameter (defaults filled in)."""

    name: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        p = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params.items()}
        return {"name": self.name, **p}


@dataclass
class DonorPool:
    """The donors a rule leaves, every excluded unit with its reason, and the window it was checked on."""

    donors: list
    excluded: list[dict]
    rule: DonorRule
    treated: Any
    window: tuple[int, int]
    panel_window: tuple[int, int]
    characteristics: dict = field(default_factory=dict)

    def options(self) -> dict:
        """``options.donor_rule`` and ``options.excluded_donors`` of the result."""
        rule = {**self.rule.to_dict(), "window": list(self.window)}
        if self.window != self.panel_window:
            rule["window_note"] = (f"the window ends in {self.window[1]} (panel: {self.panel_window[1]}): the latest "
                                   f"period at which at least {self.rule.params.get('min_donors')} donors are still "
                                   "untreated")
        if self.characteristics:
            rule["treated_characteristics"] = self.characteristics
        return {"donor_rule": rule, "excluded_donors": self.excluded}

    def apply(self, panel: Panel) -> Panel:
        """``panel`` restricted to the treated unit, the donors and the window."""
        sub = panel.subset_units([self.treated, *self.donors])
        if self.window != self.panel_window:
            t = sub.frame[sub.time]
            keep = (t >= self.window[0]) & (t <= self.window[1])
            src = sub._source
            if src is not None:
                ts = src[sub.time]
                src = src[(ts >= self.window[0]) & (ts <= self.window[1])].reset_index(drop=True)
            sub = replace(sub, frame=sub.frame[keep].reset_index(drop=True), _source=src,
                          info={**sub.info, "window": list(self.window)})
        return sub


# ----------------------------------------------------------------------------- parsing
def _value(key: str, raw: str):
    raw = raw.strip()
    if key == "related":
        return tuple(x for x in re.split(r"[+ ]", raw) if x)
    if key in ("group", "regime"):
        allowed = _GROUPS if key == "group" else _REGIMES
        if raw not in allowed:
            raise UsageError(f"donor-rule parameter {key} takes {', '.join(allowed)} (got {raw!r}).")
        return raw
    if key == "window_end":
        if raw in ("auto", "panel"):
            return raw
        try:
            return int(raw)
        except ValueError:
            raise UsageError(f"window_end takes auto, panel or a period (got {raw!r}).") from None
    try:
        v = float(raw) if key == "band" else int(raw)
    except ValueError:
        raise UsageError(f"donor-rule parameter {key} must be a number (got {raw!r}).") from None
    if (key == "band" and not v > 0) or (key != "band" and v < 1):
        raise UsageError(f"donor-rule parameter {key} must be positive (got {raw!r}).")
    return v


def parse_rule(spec: str | DonorRule | None, **overrides) -> DonorRule:
    """``"similar"`` or ``"similar(band=2,min_donors=4,related=ogp_member)"`` → :class:`DonorRule`."""
    if isinstance(spec, DonorRule):
        return replace(spec, params={**spec.params, **overrides})
    s = (spec or DEFAULT_RULE).strip()
    m = re.fullmatch(r"([a-z-]+)\s*(?:\((.*)\))?", s)
    name = m.group(1) if m else s
    if name not in RULES:
        raise UsageError(f"unknown donor rule {name!r}; choose one of {', '.join(RULES)} "
                         "(parameters as NAME(key=value,...)).")
    params = dict(_DEFAULTS[name])
    for part in (m.group(2) or "").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise UsageError(f"donor-rule parameters are key=value, got {part.strip()!r} in {s!r}.")
        k, v = (x.strip() for x in part.split("=", 1))
        if k not in params:
            raise UsageError(f"donor rule {name!r} has no parameter {k!r}; it takes {', '.join(params)}.")
        params[k] = _value(k, v)
    params.update(overrides)
    return DonorRule(name, params)


# ----------------------------------------------------------------------------- country characteristics
def country_profile(units: Sequence[str], year: int) -> pd.DataFrame:
    """World Bank region and income group (current classification) and V-Dem regime in ``year``.

    Index ``iso3``; columns ``wb_region, wb_income_group, regime`` (``v2x_regime``
    0 closed autocracy, 1 electoral autocracy, 2 electoral democracy, 3 liberal
    democracy; the latest value at or before ``year``; NA where V-Dem has none).
    """
    from .data import countries

    ref = countries.country_reference().set_index("iso3")[["wb_region", "wb_income_group"]]
    out = ref.reindex(list(units))
    v = countries.vdem()
    v = v.loc[v["year"] <= year, ["iso3", "year", "v2x_regime"]].dropna()
    last = v.sort_values("year").groupby("iso3")["v2x_regime"].last()
    out["regime"] = last.reindex(out.index)
    return out


# ----------------------------------------------------------------------------- the rule
def _cohorts(panel: Panel) -> pd.Series:
    f = panel.frame
    if "cohort" not in f.columns:
        raise DesignError("donor rules need the registry's cohort column; give --donors for a CSV panel.")
    return f.groupby(panel.unit)["cohort"].first().astype(int)


def _related_cohorts(related: Sequence[str], units) -> dict[str, pd.Series]:
    from . import interventions as iv

    out = {}
    for rid in related:
        t = iv.timing(rid)
        c = t.dropna(subset=["cohort"]).groupby("unit")["cohort"].min()
        out[rid] = c.reindex(list(units))
    return out


def _ever_adopted(intervention: str | None, variant: str | None) -> dict:
    if not intervention:
        return {}
    from . import interventions as iv

    t = iv.timing(intervention, variant=variant)
    t = t.dropna(subset=["cohort"])
    t = t[t["cohort"] > 0]
    return t.groupby("unit")["cohort"].min().to_dict()


def select_donors(
    panel: Panel,
    *,
    treated,
    treat_time: int,
    rule: str | DonorRule | None = None,
    intervention: str | None = None,
    variant: str | None = None,
    require: Sequence[str] = (),
) -> DonorPool:
    """Apply a donor rule to a registry panel (cohort column = first treated period, 0 = never).

    Parameters
    ----------
    panel : registry panel with every candidate unit (single-unit roles and ``cohort``).
    treated, treat_time : the treated unit and its first treated period.
    rule : a rule name, ``NAME(key=value,...)`` or :class:`DonorRule` [``similar``].
    intervention, variant : the intervention of the panel (``all-untreated`` reads its timing table).
    require : columns a donor must have observed at least once before ``treat_time`` (predictors).

    Returns
    -------
    DonorPool
        ``donors`` (sorted), ``excluded`` (``{unit, reason, detail}`` for every other unit), the rule with
        its parameters and the window (first, last period) on which "untreated" was checked.

    Raises
    ------
    DesignError
        If the rule leaves fewer than ``min_donors`` donors even on the shortest window.
    """
    r = parse_rule(rule)
    p = r.params
    f = panel.frame
    periods = np.array(sorted(f[panel.time].unique()))
    first, last = int(periods[0]), int(periods[-1])
    cohort = _cohorts(panel)
    units = [u for u in cohort.index if u != treated]
    n_t = len(periods)
    counts = f.groupby(panel.unit)[panel.outcome].count()
    treat_time = int(treat_time)
    pre = f[f[panel.time] < treat_time].groupby(panel.unit)[panel.outcome].mean()

    pre_req = {c: f[f[panel.time] < treat_time].groupby(panel.unit)[c].mean().to_dict() for c in require}
    related = _related_cohorts(p.get("related", ()), cohort.index)
    ever = _ever_adopted(intervention, variant) if r.name == "all-untreated" else {}

    # the window-independent checks, in a fixed order: the first failing one is the reason
    static: dict[Any, tuple[str, str]] = {}
    chars: dict = {}
    if r.name in ("region", "similar"):
        prof = country_profile([treated, *units], treat_time - 1)
        if treated not in prof.index or pd.isna(prof.loc[treated, "wb_region"]):
            raise DesignError(f"donor rule {r.name!r} needs the treated unit's World Bank region; {treated!r} has "
                              "none in the country reference: use --donor-rule untreated or give --donors.")
        tp = prof.loc[treated]
        chars = {"wb_region": tp["wb_region"], "wb_income_group": tp["wb_income_group"],
                 "regime": None if pd.isna(tp["regime"]) else int(tp["regime"]), "regime_year": treat_time - 1,
                 "pre_mean": float(pre.get(treated, np.nan))}
        others = pre.drop(index=[treated], errors="ignore")
        others = others[[u for u in others.index if counts.get(u, 0) == n_t]]
        sd = float(others.std(ddof=1)) if len(others) > 1 else float("nan")
        if r.name == "similar":
            chars["pre_mean_sd"] = sd
            chars["band"] = [chars["pre_mean"] - p["band"] * sd, chars["pre_mean"] + p["band"] * sd]
    for u in units:
        if counts.get(u, 0) < n_t:
            static[u] = ("incomplete_series", f"outcome observed in {int(counts.get(u, 0))} of {n_t} periods")
            continue
        miss = [c for c in require if not np.isfinite(pre_req.get(c, {}).get(u, np.nan))]
        if miss:
            static[u] = ("missing_predictor", f"no pre-period value of {', '.join(miss)}")
            continue
        if r.name == "all-untreated" and u in ever:
            static[u] = ("ever_treated", f"adopts {intervention} in {int(ever[u])} (registry timing)")
            continue
        if r.name not in ("region", "similar"):
            continue
        up = prof.loc[u]
        same_reg = up["wb_region"] == tp["wb_region"]
        same_inc = up["wb_income_group"] == tp["wb_income_group"]
        grp = p.get("group", "region")
        if pd.isna(up["wb_region"]):
            static[u] = ("no_country_reference", "no World Bank region/income group in the country reference")
        elif r.name == "region" or grp == "region":
            if not same_reg:
                static[u] = ("other_region", f"World Bank region {up['wb_region']}")
        elif grp == "income" and not same_inc:
            static[u] = ("other_income_group", f"income group {up['wb_income_group']}")
        elif grp == "region-or-income" and not (same_reg or same_inc):
            static[u] = ("other_region_and_income_group",
                         f"World Bank region {up['wb_region']}, income group {up['wb_income_group']}")
        if u in static or r.name != "similar":
            continue
        if p["regime"] != "any":
            if pd.isna(up["regime"]) or pd.isna(tp["regime"]):
                static[u] = ("regime_unknown", f"no V-Dem regime (v2x_regime) at or before {treat_time - 1}")
                continue
            a, b = int(up["regime"]), int(tp["regime"])
            same = (a == b) if p["regime"] == "exact" else ((a >= 2) == (b >= 2))
            if not same:
                static[u] = ("other_regime", f"V-Dem v2x_regime {a} (treated {b}) in {treat_time - 1}")
                continue
        lo, hi = chars["band"]
        m = float(pre.get(u, np.nan))
        if not (np.isfinite(m) and lo <= m <= hi):
            static[u] = ("outcome_level_outside_band",
                         f"pre-period mean {m:.4g} outside [{lo:.4g}, {hi:.4g}] (treated {chars['pre_mean']:.4g} "
                         f"+- {p['band']:g} SD)")

    def treated_by(u, end) -> tuple[str, str] | None:
        c = int(cohort[u])
        if 0 < c <= end:
            return ("treated_in_window", f"first treated in {c}, inside the window {first}-{end}")
        for rid, rc in related.items():
            v = rc.get(u)
            if v is not None and pd.notna(v) and 0 < int(v) <= end:
                return (f"related_treated:{rid}", f"treated by related intervention {rid} in {int(v)}")
        return None

    def pool(end):
        kept, excl = [], {}
        for u in units:
            why = static.get(u) or treated_by(u, end)
            if why:
                excl[u] = why
            else:
                kept.append(u)
        return kept, excl

    we = p.get("window_end", "panel")
    min_d = int(p.get("min_donors", 1))
    if we == "auto":
        ends = [int(t) for t in periods[::-1] if int((periods >= treat_time).sum() - (periods > t).sum())
                >= int(p.get("min_post", 1))]
        end = None
        for e in ends:
            kept, excl = pool(e)
            if len(kept) >= min_d:
                end = e
                break
        if end is None:
            e = ends[-1] if ends else last
            kept, excl = pool(e)
            _too_few(r, treated, kept, min_d, first, e)
    else:
        end = last if we == "panel" else int(we)
        if end < treat_time or end > last:
            raise UsageError(f"window_end {end} must lie between the treatment time {treat_time} and the panel's "
                             f"last period {last}.")
        kept, excl = pool(end)
        if len(kept) < min_d:
            _too_few(r, treated, kept, min_d, first, end)
    if not kept:
        _too_few(r, treated, kept, 1, first, end)
    excluded = [{"unit": u, "reason": excl[u][0], "detail": excl[u][1]} for u in sorted(excl)]
    return DonorPool(donors=sorted(kept), excluded=excluded, rule=r, treated=treated, window=(first, int(end)),
                     panel_window=(first, last), characteristics=chars)


def _too_few(rule: DonorRule, treated, kept, min_d, first, end):
    raise DesignError(
        f"donor rule {rule.name!r} leaves {len(kept)} donor(s) for {treated} over {first}-{end} "
        f"({', '.join(map(str, kept)) or 'none'}; the minimum is {min_d}): too few comparable untreated units. "
        "Use --years to end the window earlier, widen the rule (e.g. --donor-rule 'similar(band=2)' or "
        "--donor-rule region/untreated), or give --donors explicitly.")


def explicit_pool(panel: Panel, *, treated, donors: Sequence, treat_time: int | None = None) -> DonorPool:
    """A pool given by the user (``--donors``): the rule is ``explicit``; units not listed are excluded."""
    f = panel.frame
    periods = sorted(f[panel.time].unique())
    listed = list(dict.fromkeys(donors))
    units = [u for u in pd.unique(f[panel.unit]) if u != treated]
    excluded = [{"unit": u, "reason": "not_listed", "detail": "not in --donors"}
                for u in sorted(units, key=str) if u not in set(listed)]
    w = (int(periods[0]), int(periods[-1]))
    return DonorPool(donors=listed, excluded=excluded, rule=DonorRule("explicit", {"donors": listed}),
                     treated=treated, window=w, panel_window=w)


def registry_donors(panel: Panel, *, treated, last_period: int | None = None) -> tuple[list, dict]:
    """Back-compatible form of the ``untreated`` rule: ``(donors, {reason: [units]})``.

    Prefer :func:`select_donors`, which records the rule and every excluded unit's reason.
    """
    f = panel.frame
    tt = int(f.loc[f[panel.unit] == treated, "cohort"].iloc[0]) if (f[panel.unit] == treated).any() else None
    end = "panel" if last_period is None else int(last_period)
    r = parse_rule("untreated", window_end=end)
    pool = select_donors(panel, treated=treated, treat_time=tt or int(f[panel.time].max()), rule=r)
    by: dict[str, list] = {"adopted_in_window": [], "incomplete_series": []}
    for e in pool.excluded:
        key = "adopted_in_window" if e["reason"] == "treated_in_window" else e["reason"]
        by.setdefault(key, []).append(e["unit"])
    return pool.donors, by



#: the registry synth's default covariates: (column, source table, source column, description)
DEFAULT_COVARIATES = (
    ("gdp_pc_ppp", "wdi", "gdp_pc_ppp", "GDP per capita, PPP (WDI NY.GDP.PCAP.PP.KD)"),
    ("pop_tot", "wdi", "pop_tot", "population (WDI SP.POP.TOTL)"),
    ("v2x_polyarchy", "vdem", "v2x_polyarchy", "V-Dem electoral democracy index"),
)


def default_predictors(panel: Panel, *, treat_time: int) -> tuple[Panel, str]:
    """The registry synth's default predictors: lagged outcome means plus GDP per capita, population, democracy.

    Abadie (2021, sec. 3) recommends predictors beyond the lagged outcomes.  The SPEC (Stata ``synth``
    conventions) is the outcome's mean over the first and the second half of the pre-period and its last
    pre-period value, and the pre-period means of GDP per capita (PPP), population (both WDI) and the
    V-Dem electoral democracy index (``v2x_polyarchy``), merged from the bundled data by ISO3 and year.
    Returns the panel with those columns and the SPEC.
    """
    from .data import countries

    f = panel.frame
    pre = sorted(int(t) for t in f[panel.time].unique() if t < treat_time)
    if len(pre) < 2:
        raise DesignError(f"the default predictors need at least two pre-periods before {treat_time}; "
                          "give --predictors SPEC.")
    src = {"wdi": countries.wdi(), "vdem": countries.vdem()}
    add = None
    for col, table, scol, _ in DEFAULT_COVARIATES:
        t = src[table][["iso3", "year", scol]].rename(columns={"iso3": panel.unit, "year": panel.time, scol: col})
        t = t.dropna().drop_duplicates([panel.unit, panel.time])
        add = t if add is None else add.merge(t, on=[panel.unit, panel.time], how="outer")
    cols = [c for c, *_ in DEFAULT_COVARIATES]

    def merged(frame):
        return frame.drop(columns=[c for c in cols if c in frame.columns]).merge(
            add, on=[panel.unit, panel.time], how="left")

    new = replace(panel, frame=merged(f), _source=None if panel._source is None else merged(panel._source))
    half = pre[(len(pre) - 1) // 2]
    after = [t for t in pre if t > half]
    y = panel.outcome
    spec = [f"{y}({pre[0]}-{half})", f"{y}({after[0]}-{pre[-1]})", f"{y}({pre[-1]})"]
    spec += [f"{c}({pre[0]}-{pre[-1]})" for c in cols]
    return new, ",".join(spec)
