"""Validated panels: the only way into a design.

A :class:`Panel` is a tidy frame plus *roles* (unit, time, outcome, cohort,
treat, covariates, cluster).  Building one checks, loudly, what every design
assumes: unique (unit, time) keys; integer, regular time; cohort coding
(``0``, empty or a value beyond the last period means never treated — all
three are accepted and the coding seen is recorded); units treated before the
first observed period; comparison units; constant or all-missing outcomes;
the number of clusters.  Each failure raises :class:`PanelError` naming the
offending rows and the fix.

Cohort convention inside a Panel: the cohort column holds the first treated
period, and ``0`` for never-treated units (as R ``did``).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import OgimpactWarning, PanelError
from ..parse import id_list

__all__ = ["Panel", "PanelError", "PanelWarning", "FEW_CLUSTERS", "note_warning"]

#: below this many clusters cluster-robust inference is unreliable (Cameron, Gelbach & Miller 2008)
FEW_CLUSTERS = 30


class PanelWarning(OgimpactWarning):
    """A panel property that does not stop estimation but weakens it.

    An :class:`~ogimpact.errors.OgimpactWarning` with a code (``few_clusters``,
    ``always_treated_dropped`` ...); ``PanelWarning(message)`` alone gets the code ``panel``.
    """

    def __init__(self, code_or_message: str, message: str | None = None):
        code, msg = ("panel", code_or_message) if message is None else (code_or_message, message)
        super().__init__(code, msg)


def note_warning(info: dict, code: str, msg: str, *, stacklevel: int = 3) -> None:
    """Record a coded panel warning in ``info`` (``warnings`` + ``warning_codes``) and raise it."""
    info.setdefault("warnings", []).append(msg)
    info.setdefault("warning_codes", {})[msg] = code
    warnings.warn(PanelWarning(code, msg), stacklevel=stacklevel)


_as_list = id_list  # (panel.build imports it under this name)


@dataclass(frozen=True)
class Panel:
    """A validated panel: ``frame`` plus column roles.

    Use :meth:`Panel.from_frame` (user data) or :func:`build_panel` (registry);
    do not call the constructor directly.
    """

    frame: pd.DataFrame
    unit: str
    time: str
    outcome: str
    cohort: str | None = None
    treat: str | None = None
    covariates: tuple[str, ...] = ()
    cluster: str | None = None
    info: dict = field(default_factory=dict)
    #: the validated frame before rows with a missing outcome/covariate were dropped, and the
    #: validation options used; :meth:`with_outcome` rebuilds from them (private, not compared)
    _source: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    _build: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        unit: str,
        time: str,
        outcome: str,
        cohort: str | None = None,
        treat: str | None = None,
        covariates: Sequence[str] | str | None = (),
        cluster: str | None = None,
        extra: Sequence[str] | str | None = (),
        unique_keys: bool = True,
        regular_time: bool = True,
        always_treated: str = "drop",
        require_comparison: bool = True,
        min_clusters_warn: int = FEW_CLUSTERS,
        drop_missing_outcome: bool = True,
    ) -> "Panel":
        """Validate a user frame and assign roles.

        Parameters
        ----------
        df : DataFrame
        unit, time, outcome : str
            Column names.  ``time`` must be integer-valued (years, months
            counted as integers, or a date-like column converted by the caller).
        cohort : str, optional
            First treated period; 0, empty, or beyond the last period = never treated.
        treat : str, optional
            0/1 treatment indicator (for static designs).
        covariates : list of str
        cluster : str, optional
            Cluster column (default for designs: ``unit``).
        extra : list of str
            Further columns to keep (e.g. first-stage fixed effects).
        unique_keys : bool
            Require unique (unit, time) pairs (False for repeated cross-sections).
        regular_time : bool
            Require the observed periods to be equally spaced.
        always_treated : {"drop", "refuse", "keep"}
            Units whose cohort is at or before the first observed period.
        require_comparison : bool
            Require never-treated or not-yet-treated comparison units.
        min_clusters_warn : int
            Warn (``PanelWarning``) below this many clusters.
        drop_missing_outcome : bool
            Drop rows whose outcome is missing (default).  ``False`` keeps them (their treatment
            still dates a switch: de Chaisemartin–D'Haultfœuille ``dcdh``); rows with a missing
            covariate are dropped either way.
        """
        if not isinstance(df, pd.DataFrame):
            raise PanelError("the data must be a pandas DataFrame; read your CSV with pandas.read_csv first.")
        covariates = _as_list(covariates)
        extra = _as_list(extra)
        roles = {"unit": unit, "time": time, "outcome": outcome}
        if cohort:
            roles["cohort"] = cohort
        if treat:
            roles["treat"] = treat
        if cluster:
            roles["cluster"] = cluster
        needed = list(dict.fromkeys([*roles.values(), *covariates, *extra]))
        missing = [c for c in needed if c not in df.columns]
        if missing:
            avail = ", ".join(map(str, list(df.columns)[:30]))
            raise PanelError(
                f"column(s) {', '.join(repr(m) for m in missing)} not in the data; "
                f"available columns: {avail}. Fix the column name(s)."
            )
        if always_treated not in ("drop", "refuse", "keep"):
            raise PanelError("always_treated must be 'drop', 'refuse' or 'keep'.")
        info: dict = {"n_rows_in": int(len(df))}
        frame = df[needed]
        if not _copy_on_write():
            frame = frame.copy()

        # ---- time: integer valued
        t = frame[time]
        int_time = _np_kind(t, "iu")
        if int_time:  # integer periods: nothing missing, nothing to round
            if t.dtype != np.int64:
                frame[time] = t.astype("int64")
        elif not pd.api.types.is_numeric_dtype(t):
            tn = pd.to_numeric(t, errors="coerce")
            bad = frame[tn.isna() & t.notna()]
            if len(bad):
                raise PanelError(
                    f"time column {time!r} must hold integer periods (e.g. years); "
                    "convert dates to integer periods first.",
                    rows=bad[[unit, time]],
                )
            t = tn
        if not int_time and t.isna().any():
            raise PanelError(
                f"time column {time!r} has missing values; drop or fill those rows.",
                rows=frame.loc[t.isna(), [unit, time]],
            )
        if not int_time and not np.all(np.isclose(t, np.round(t))):
            raise PanelError(
                f"time column {time!r} must be integer-valued; round or recode it (e.g. year, or year*12+month).",
                rows=frame.loc[~np.isclose(t, np.round(t)), [unit, time]],
            )
        if not int_time:
            frame[time] = np.round(t).astype("int64")
        int_unit = _np_kind(frame[unit], "iu")
        if not int_unit and frame[unit].isna().any():
            raise PanelError(
                f"unit column {unit!r} has missing values; drop those rows or give them an id.",
                rows=frame.loc[frame[unit].isna(), [unit, time]],
            )

        # ---- unique keys (rows already sorted by integer unit and time have unique keys)
        tv = frame[time].to_numpy()
        is_sorted = int_unit and _sorted_keys(frame[unit].to_numpy(), tv)
        if unique_keys and not is_sorted:
            dup = frame.duplicated([unit, time], keep=False)
            if dup.any():
                raise PanelError(
                    f"({unit}, {time}) pairs are not unique ({int(dup.sum())} rows share a key); "
                    "aggregate to one row per unit and period, or fix the unit/time columns.",
                    rows=frame.loc[dup, [unit, time]].drop_duplicates(),
                )

        # ---- regular time
        periods = _int_unique(tv)
        if regular_time and len(periods) > 2:
            steps = np.diff(periods)
            if len(set(steps.tolist())) > 1:
                step = int(np.min(steps))
                gaps = [int(p) for p, s in zip(periods[:-1], steps) if s != step]
                raise PanelError(
                    f"time column {time!r} is irregular: the observed periods jump after {gaps[:5]} "
                    f"(steps {sorted(set(steps.tolist()))}); supply every period (missing outcomes may be NaN) "
                    "or recode time to consecutive integers."
                )
        info["periods"] = [int(p) for p in periods]

        # ---- treatment indicator
        if treat and _np_kind(frame[treat], "iub") and len(frame):
            tv_ = frame[treat].to_numpy()
            if not ((tv_ == 0) | (tv_ == 1)).all():
                raise _treat_error(frame, treat, unit, time, ~((tv_ == 0) | (tv_ == 1)))
            if tv_.dtype != np.int64:
                frame[treat] = tv_.astype("int64")
            if tv_.min() == tv_.max():
                raise PanelError(
                    f"treatment column {treat!r} is constant ({int(tv_[0])}); a DiD needs treated and untreated cells."
                )
        elif treat:
            tr = pd.to_numeric(frame[treat], errors="coerce")
            vals = set(tr.dropna().unique().tolist())
            if tr.isna().any() or not vals <= {0, 1}:
                raise _treat_error(frame, treat, unit, time, (tr.isna() | ~tr.isin([0, 1])).to_numpy())
            frame[treat] = tr.astype("int64")
            if tr.nunique() < 2:
                raise PanelError(
                    f"treatment column {treat!r} is constant ({int(tr.iloc[0])}); a DiD needs treated and untreated cells."
                )

        # ---- cohort coding
        if cohort:
            frame, cinfo = _normalise_cohort(frame, unit=unit, time=time, cohort=cohort, periods=periods,
                                             always_treated=always_treated)
            info.update(cinfo)

        # ---- missing outcome / covariates
        y = pd.to_numeric(frame[outcome], errors="coerce")
        nonnum = None if pd.api.types.is_numeric_dtype(frame[outcome]) else frame[outcome].notna() & y.isna()
        if nonnum is not None and nonnum.any():
            raise PanelError(
                f"outcome {outcome!r} has non-numeric values; clean them or mark them missing.",
                rows=frame.loc[nonnum, [unit, time, outcome]],
            )
        if y.dtype != np.float64:
            frame[outcome] = y.astype(float)
        for c in covariates:
            v = pd.to_numeric(frame[c], errors="coerce")
            bad = None if pd.api.types.is_numeric_dtype(frame[c]) else frame[c].notna() & v.isna()
            if bad is not None and bad.any():
                raise PanelError(
                    f"covariate {c!r} has non-numeric values; recode it as numbers (or dummies).",
                    rows=frame.loc[bad, [unit, time, c]],
                )
            if v.dtype != np.float64:
                frame[c] = v.astype(float)
        source = frame
        keep = np.ones(len(frame), dtype=bool)
        for c in dict.fromkeys([*([outcome] if drop_missing_outcome else []), *covariates]):
            keep &= ~np.isnan(frame[c].to_numpy())
        n_drop = int(len(keep) - np.count_nonzero(keep))
        info["n_dropped"] = n_drop
        frame = frame.loc[keep].reset_index(drop=True) if n_drop else frame.reset_index(drop=True)
        if frame.empty:
            raise PanelError(
                f"outcome {outcome!r} (with the covariates) is missing in every row; choose another outcome or years."
            )
        yv = frame[outcome].to_numpy()
        if not (yv != yv[0]).any():
            raise PanelError(f"outcome {outcome!r} is constant ({frame[outcome].iloc[0]}); there is nothing to explain.")

        # ---- comparison units
        ucode = _codes(frame[unit]) if int_unit else None
        if cohort and require_comparison:
            if ucode is not None:  # one cohort per unit (checked): any row of the unit gives it
                gv = np.zeros(int(ucode.max()) + 1, dtype=np.int64)
                gv[ucode] = frame[cohort].to_numpy()
                g = pd.Series(gv)
            else:
                g = frame.groupby(unit)[cohort].first()
            n_never = int((g == 0).sum())
            treated_cohorts = sorted(int(c) for c in g[g != 0].unique())
            if not treated_cohorts:
                raise PanelError(
                    f"no unit is ever treated in cohort column {cohort!r} within the observed periods; "
                    "check the cohort coding (first treated period; 0/empty = never treated)."
                )
            if n_never == 0 and len(treated_cohorts) < 2:
                # one cohort and no never-treated unit: after period treated_cohorts[0] every unit is
                # treated, so there is neither a never-treated nor a not-yet-treated comparison
                raise PanelError(
                    f"there are no never-treated units and only one treatment cohort ({treated_cohorts[0]}) "
                    f"in cohort column {cohort!r}, so no never-treated or not-yet-treated unit can serve as a "
                    "comparison; add never-treated units (cohort 0 or empty) or units treated later."
                )
            info["n_never_treated"] = n_never
        # ---- clusters
        cl = cluster or unit
        n_cl = int(ucode.max()) + 1 if (cl == unit and ucode is not None) else int(frame[cl].nunique())
        info["n_clusters"] = n_cl
        if n_cl < min_clusters_warn:
            msg = (
                f"only {n_cl} clusters in {cl!r}: cluster-robust standard errors are unreliable below "
                f"{min_clusters_warn} clusters (Cameron, Gelbach & Miller 2008); prefer the wild cluster bootstrap."
            )
            note_warning(info, "few_clusters", msg)
        if not is_sorted:  # rows only ever dropped since the check: still sorted when they were
            frame = frame.sort_values([unit, time], kind="mergesort").reset_index(drop=True)
        return cls(
            frame=frame,
            unit=unit,
            time=time,
            outcome=outcome,
            cohort=cohort,
            treat=treat,
            covariates=tuple(covariates),
            cluster=cluster,
            info=info,
            _source=source,
            _build=dict(extra=tuple(extra), unique_keys=unique_keys, regular_time=regular_time,
                        always_treated=always_treated, require_comparison=require_comparison,
                        min_clusters_warn=min_clusters_warn, drop_missing_outcome=drop_missing_outcome),
        )

    # ------------------------------------------------------------------ views
    @property
    def cluster_col(self) -> str:
        """The cluster column, defaulting to the unit."""
        return self.cluster or self.unit

    @property
    def n_units(self) -> int:
        return int(self.frame[self.unit].nunique())

    @property
    def periods(self) -> list[int]:
        return sorted(int(p) for p in self.frame[self.time].unique())

    @property
    def is_balanced(self) -> bool:
        return int(self.frame.groupby(self.unit).size().nunique()) == 1 and len(self.frame) == self.n_units * len(self.periods)

    def cohorts(self) -> pd.Series:
        """Cohort sizes (units per first-treated period; 0 = never treated)."""
        if not self.cohort:
            raise PanelError("this panel has no cohort column; give `cohort=` when building it.")
        return self.frame.groupby(self.unit)[self.cohort].first().value_counts().sort_index()

    def copy(self) -> "Panel":
        """A deep copy: no change to the copy's frames or info reaches this panel (and back)."""
        import copy

        return replace(self, frame=self.frame.copy(), info=copy.deepcopy(self.info),
                       _source=None if self._source is None else self._source.copy(),
                       _build=copy.deepcopy(self._build))

    def subset_units(self, units) -> "Panel":
        """The panel restricted to ``units`` (roles and info kept)."""
        keep = set(units)
        f = self.frame[self.frame[self.unit].isin(keep)].reset_index(drop=True)
        if f.empty:
            raise PanelError(
                "no rows left after restricting the panel to the requested units; "
                f"choose units of the panel's {self.unit!r} column."
            )
        src = self._source
        if src is not None:
            src = src[src[self.unit].isin(keep)].reset_index(drop=True)
        return replace(self, frame=f, info={**self.info, "subset_units": len(keep)}, _source=src)

    def with_outcome(self, outcome: str) -> "Panel":
        """The same panel with another column as the outcome role.

        Every other column and role, the validation options and the panel's
        provenance notes (cohort coding, dropped units, intervention) are kept.
        Rows are re-selected for the new outcome: a row dropped because the old
        outcome was missing comes back when the new one is observed.
        """
        src = self._source if self._source is not None else self.frame
        if outcome not in src.columns:
            raise PanelError(
                f"column {outcome!r} is not in this panel (columns: {', '.join(map(str, src.columns))}); "
                "build the panel with it (another measure, or extra=[...])."
            )
        roles = {self.unit, self.time, outcome, self.cohort, self.treat, self.cluster, *self.covariates}
        b = dict(self._build)
        b["extra"] = [c for c in src.columns if c not in roles]
        new = Panel.from_frame(
            src, unit=self.unit, time=self.time, outcome=outcome, cohort=self.cohort,
            treat=self.treat, covariates=self.covariates, cluster=self.cluster, **b,
        )
        info = dict(new.info)
        for k, v in self.info.items():
            if k in ("n_dropped", "n_clusters", "n_never_treated", "periods", "warnings", "warning_codes"):
                continue
            info[k] = v  # provenance of the original build (cohort coding, dropped units, intervention ...)
        warns = list(dict.fromkeys([*self.info.get("warnings", []), *new.info.get("warnings", [])]))
        if warns:
            info["warnings"] = warns
            info["warning_codes"] = {**self.info.get("warning_codes", {}), **new.info.get("warning_codes", {})}
        return replace(new, info=info)

    def describe(self) -> dict:
        """Summary: units, periods, cohorts and their sizes, balance, missingness."""
        f = self.frame
        d = {
            "outcome": self.outcome,
            "n_obs": int(len(f)),
            "n_units": self.n_units,
            "periods": [min(self.periods), max(self.periods)],
            "n_periods": len(self.periods),
            "balanced": self.is_balanced,
            "n_dropped_missing": int(self.info.get("n_dropped", 0)),
            "n_clusters": int(f[self.cluster_col].nunique()),
        }
        if self.cohort:
            sizes = self.cohorts()
            d["cohorts"] = {str(int(k)): int(v) for k, v in sizes.items()}
            d["n_never_treated"] = int(sizes.get(0, 0))
            d["cohort_coding"] = self.info.get("cohort_coding", [])
            d["n_always_treated_dropped"] = int(self.info.get("n_always_treated_dropped", 0))
        if self.treat:
            d["n_treated_obs"] = int(f[self.treat].sum())
        if self.info.get("warnings"):
            d["warnings"] = list(self.info["warnings"])
        return d

    def describe_text(self) -> str:
        d = self.describe()
        lines = [
            f"Panel: outcome {d['outcome']}, {d['n_units']} units x {d['n_periods']} periods "
            f"({d['periods'][0]}-{d['periods'][1]}), {d['n_obs']} rows, "
            f"{'balanced' if d['balanced'] else 'unbalanced'}; {d['n_dropped_missing']} rows dropped for missing values.",
        ]
        if "cohorts" in d:
            cs = ", ".join(f"{k}: {v}" for k, v in d["cohorts"].items())
            lines.append(f"Cohorts (first treated period: units; 0 = never treated): {cs}")
            lines.append(f"Never-treated coding seen: {', '.join(d['cohort_coding']) or 'none'}")
        for w in d.get("warnings", []):
            lines.append(f"Warning: {w}")
        return "\n".join(lines)


def _treat_error(frame, treat, unit, time, bad) -> PanelError:
    """The error for a treatment column that is not 0/1: values seen (numbers in numeric order), offending rows."""
    vals = pd.unique(frame[treat])
    nums = pd.to_numeric(pd.Series(vals), errors="coerce")
    order = sorted(range(len(vals)), key=lambda i: (pd.isna(nums[i]), nums[i] if not pd.isna(nums[i]) else 0,
                                                    str(vals[i])))
    seen = [str(vals[i]) for i in order]
    return PanelError(
        f"treatment column {treat!r} must be 0/1 with no missing values "
        f"(found values {', '.join(seen[:6])}{' ...' if len(seen) > 6 else ''}); "
        "recode it as 1 for treated unit-periods and 0 otherwise.",
        rows=frame.loc[bad, [unit, time, treat]],
    )


def _normalise_cohort(frame, *, unit, time, cohort, periods, always_treated):
    """Cohort → first treated period, 0 = never treated; record the coding seen."""
    info: dict = {}
    raw = frame[cohort]
    num = pd.to_numeric(raw, errors="coerce")
    if pd.api.types.is_numeric_dtype(raw):
        nonnum = None  # nothing failed to convert
    else:
        nonnum = raw.notna() & num.isna()
        if nonnum.any():  # blank strings are "empty" (never treated), not non-numeric
            nonnum[nonnum] = raw[nonnum].astype(str).str.strip() != ""
    if nonnum is not None and nonnum.any():
        raise PanelError(
            f"cohort column {cohort!r} must hold the first treated period (a number); "
            "code never-treated units as 0 or leave it empty.",
            rows=frame.loc[nonnum, [unit, time, cohort]],
        )
    if not _np_kind(num, "iub") and (num.dropna() != np.round(num.dropna())).any() and not np.isinf(num.dropna()).all():
        finite = num[np.isfinite(num)]
        if (finite != np.round(finite)).any():
            raise PanelError(f"cohort column {cohort!r} must be integer periods.",
                             rows=frame.loc[num.notna() & np.isfinite(num) & (num != np.round(num)), [unit, time, cohort]])
    last = int(periods.max())
    first = int(periods.min())
    coding = []
    if (num == 0).any():
        coding.append("0")
    if num.isna().any():
        coding.append("empty")
    beyond = num.notna() & ((num > last) | np.isinf(num))
    if beyond.any():
        coding.append("beyond last period")
    # time is only an index (D??): with negative periods a negative cohort is a period like any other;
    # without them it cannot be one (and is not a never-treated code)
    neg = num.notna() & (num < 0)
    if neg.any() and first >= 0:
        raise PanelError(f"cohort column {cohort!r} has negative values but the time column {time!r} has none; "
                         "a cohort is the first treated period: use 0 or empty for never treated.",
                         rows=frame.loc[neg, [unit, time, cohort]])
    # 0 always means never treated (CONTRACT, R did); when 0 is also a period of the data it is ambiguous
    if 0 in set(periods.tolist()) and (num == 0).any():
        if num.isna().any() or beyond.any():
            raise PanelError(
                f"cohort column {cohort!r} codes never-treated units both as 0 and as empty/beyond the last period, "
                f"while 0 is also a period of {time!r}: 0 is ambiguous (never treated, or first treated in period 0). "
                "Code never-treated units one way, and if some units were first treated in period 0 shift the time "
                "and cohort columns (e.g. add 1000) so that no period is 0."
            )
        info["cohort_zero_is_period"] = True
    c = num.where(~(num.isna() | beyond), 0.0).fillna(0.0)
    # one cohort per unit
    if _np_kind(frame[unit], "iu"):
        uc = _codes(frame[unit])
        cv = c.to_numpy()
        first_c = np.empty(int(uc.max()) + 1 if len(uc) else 0)
        first_c[uc] = cv
        varies = not np.array_equal(first_c[uc], cv)
    else:
        varies = True
    per_unit = c.groupby(frame[unit]).nunique() if varies else None
    if per_unit is not None and (per_unit > 1).any():
        bad_units = per_unit[per_unit > 1].index
        raise PanelError(
            f"cohort column {cohort!r} varies within unit for {len(bad_units)} unit(s); "
            "a cohort is a unit's first treated period and must be the same in every row of the unit.",
            rows=frame.loc[frame[unit].isin(bad_units), [unit, time, cohort]].drop_duplicates(),
        )
    if not _copy_on_write():
        frame = frame.copy()
    frame[cohort] = c.astype("int64")
    # always-treated units
    at = (frame[cohort] != 0) & (frame[cohort] <= first)
    n_at_units = int(frame.loc[at, unit].nunique())
    if n_at_units:
        rows = frame.loc[at, [unit, cohort]].drop_duplicates()
        if always_treated == "refuse":
            raise PanelError(
                f"{n_at_units} unit(s) are treated at or before the first observed period {first} "
                "(always treated: no untreated period to compare); drop them or extend the panel back in time.",
                rows=rows,
            )
        if always_treated == "drop":
            msg = (
                f"dropped {n_at_units} always-treated unit(s) (cohort <= first period {first}): "
                f"{', '.join(map(str, rows[unit].tolist()[:10]))}{' ...' if n_at_units > 10 else ''}"
            )
            note_warning(info, "always_treated_dropped", msg, stacklevel=4)
            frame = frame.loc[~frame[unit].isin(rows[unit])]
    info["n_always_treated_dropped"] = n_at_units if always_treated == "drop" else 0
    info["cohort_coding"] = coding
    if info.get("cohort_zero_is_period"):
        n0 = int(frame.loc[frame[cohort] == 0, unit].nunique())
        note_warning(info, "cohort_zero_ambiguous",
                     f"cohort 0 is read as never treated ({n0} unit(s)), but 0 is also a period of {time!r}; if some "
                     "of these units were first treated in period 0, shift the time and cohort columns so that no "
                     "period is 0.", stacklevel=4)
    return frame, info


def _copy_on_write() -> bool:
    """True when pandas copy-on-write is on (pandas >= 3): derived frames never write through."""
    return int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True


def _np_kind(s: pd.Series, kinds: str) -> bool:
    """True for a plain numpy dtype of one of ``kinds`` (nullable extension dtypes excluded)."""
    return isinstance(s.dtype, np.dtype) and s.dtype.kind in kinds


def _codes(values) -> np.ndarray:
    from ..numerics.fe import codes

    return codes(values)


def _sorted_keys(u: np.ndarray, t: np.ndarray) -> bool:
    """True when rows are strictly increasing in (u, t): unique keys and already sorted."""
    if len(u) < 2:
        return True
    du = u[1:] > u[:-1]
    same = u[1:] == u[:-1]
    return bool((du | (same & (t[1:] > t[:-1]))).all())


def _int_unique(t: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array (counting when the range is moderate)."""
    if len(t) == 0:
        return np.unique(t)
    lo, hi = int(t.min()), int(t.max())
    if hi - lo <= 4 * len(t) + 1024:
        return lo + np.flatnonzero(np.bincount(t - lo, minlength=hi - lo + 1))
    return np.unique(t)

