"""Panel validation (``ogimpact.panel``): every PanelError on a deliberately broken frame, the
cohort coding, always-treated units, comparison units, the few-clusters warning, the views
(describe / subset_units / with_outcome / cohorts) and the registry assembler ``build_panel``."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from ogimpact.errors import OgimpactError
from ogimpact.panel import FEW_CLUSTERS, Panel, PanelError, PanelWarning, build_panel

YEARS = range(2000, 2010)  # 10 periods: first 2000, last 2009


def _frame(n_units: int = 40, cohorts=(0, 2004, 2006), seed: int = 0) -> pd.DataFrame:
    """A balanced staggered panel: unit i belongs to cohorts[i % len(cohorts)]."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), len(YEARS))
    year = np.tile(np.array(YEARS), n_units)
    g = np.array(cohorts, dtype=float)[unit % len(cohorts)]
    d = ((g > 0) & (year >= g)).astype(int)
    return pd.DataFrame({
        "id": unit, "year": year, "y": rng.normal(size=unit.size) + d, "g": g, "d": d,
        "x": rng.normal(size=unit.size), "state": unit % 5,
    })


def _build(df: pd.DataFrame, **kw) -> Panel:
    """Panel.from_frame with the test frame's column names (warnings allowed)."""
    kw.setdefault("unit", "id")
    kw.setdefault("time", "year")
    kw.setdefault("outcome", "y")
    return Panel.from_frame(df, **kw)


def _err(df: pd.DataFrame, **kw) -> PanelError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        with pytest.raises(PanelError) as ei:
            _build(df, **kw)
    return ei.value


def _one_sentence_with_fix(msg: str, *fix_words: str) -> None:
    """Messages name the problem and say how to fix it, as one plain line."""
    assert "\n" not in msg
    assert msg.rstrip().endswith(".")
    low = msg.lower()
    assert any(w in low for w in fix_words), (fix_words, msg)


# ---------------------------------------------------------------------------------------- valid input
def test_valid_panel_roles_and_info():
    df = _frame().sample(frac=1.0, random_state=1)  # shuffled rows come back sorted
    p = _build(df, cohort="g", covariates="x", cluster="id")
    assert (p.unit, p.time, p.outcome, p.cohort, p.covariates, p.cluster_col) == ("id", "year", "y", "g", ("x",), "id")
    assert p.frame["year"].dtype == np.int64 and p.frame["g"].dtype == np.int64
    assert p.frame[["id", "year"]].equals(p.frame[["id", "year"]].sort_values(["id", "year"]).reset_index(drop=True))
    assert p.n_units == 40 and p.periods == list(YEARS) and p.is_balanced
    assert p.info["n_dropped"] == 0 and p.info["n_clusters"] == 40 and p.info["cohort_coding"] == ["0"]
    assert p.info["n_never_treated"] == 14  # units 0,3,...,39
    assert p.cohorts().to_dict() == {0: 14, 2004: 13, 2006: 13}


def test_error_types_are_ogimpact_errors():
    assert issubclass(PanelError, OgimpactError) and issubclass(PanelError, ValueError)
    assert issubclass(PanelWarning, UserWarning)


def test_not_a_dataframe():
    with pytest.raises(PanelError, match="DataFrame"):
        Panel.from_frame({"id": [1]}, unit="id", time="year", outcome="y")


# ---------------------------------------------------------------------------------------- keys and time
def test_duplicate_unit_time_refused_with_rows():
    df = pd.concat([_frame(), _frame().iloc[[0, 11]]], ignore_index=True)
    e = _err(df, cohort="g")
    assert "not unique" in str(e) and "4 rows share a key" in str(e)
    _one_sentence_with_fix(str(e), "aggregate")
    assert set(map(tuple, e.rows[["id", "year"]].values)) == {(0, 2000), (1, 2001)}
    # repeated cross-sections may opt out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PanelWarning)
        assert len(_build(df, unique_keys=False).frame) == 402


def test_non_integer_time_refused():
    df = _frame()
    df["year"] = df["year"] + 0.5
    e = _err(df)
    assert "integer-valued" in str(e)
    _one_sentence_with_fix(str(e), "round or recode")
    df = _frame()
    df["year"] = df["year"].astype(str) + "-01-01"
    e = _err(df)
    assert "integer periods" in str(e) and "2000-01-01" in str(e)
    _one_sentence_with_fix(str(e), "convert dates")


def test_integer_valued_floats_and_numeric_strings_accepted():
    df = _frame()
    df["year"] = df["year"].astype(float)
    assert _build(df).frame["year"].dtype == np.int64
    df["year"] = df["year"].astype(int).astype(str)
    assert _build(df).periods == list(YEARS)


def test_missing_time_or_unit_refused():
    df = _frame()
    df.loc[3, "year"] = np.nan
    e = _err(df)
    assert "missing values" in str(e)
    _one_sentence_with_fix(str(e), "drop or fill")
    df = _frame()
    df["id"] = df["id"].astype(object)
    df.loc[3, "id"] = None
    e = _err(df)
    assert "unit column 'id' has missing values" in str(e)


def test_irregular_time_refused_and_opt_out():
    df = _frame()
    df = df[df["year"] != 2003]
    e = _err(df)
    msg = str(e)
    assert "irregular" in msg and "[2002]" in msg and "[1, 2]" in msg
    _one_sentence_with_fix(msg, "supply every period", "recode time")
    assert _build(df, regular_time=False).periods == [2000, 2001, 2002, 2004, 2005, 2006, 2007, 2008, 2009]
    # equally spaced (biennial) periods are regular
    assert _build(_frame()[lambda d: d["year"] % 2 == 0]).periods == [2000, 2002, 2004, 2006, 2008]


# ---------------------------------------------------------------------------------------- cohort coding
@pytest.mark.parametrize(
    "never, coding",
    [(0, ["0"]), (np.nan, ["empty"]), (2010, ["beyond last period"]), (9999, ["beyond last period"]),
     (np.inf, ["beyond last period"])],
)
def test_cohort_never_treated_codings_accepted_and_recorded(never, coding):
    df = _frame()
    df.loc[df["g"] == 0, "g"] = never
    p = _build(df, cohort="g")
    assert p.info["cohort_coding"] == coding
    assert p.describe()["cohort_coding"] == coding
    assert p.cohorts().to_dict() == {0: 14, 2004: 13, 2006: 13}  # all three codings become 0


def test_cohort_codings_mixed_and_empty_strings():
    df = _frame()
    df["g"] = df["g"].astype(object)
    never = df["g"] == 0
    df.loc[never & (df["id"] % 3 == 0) & (df["id"] < 12), "g"] = ""  # empty text cell
    df.loc[never & (df["id"] >= 12) & (df["id"] < 24), "g"] = 2025  # beyond the last period
    df.loc[never & (df["id"] >= 24) & (df["id"] < 30), "g"] = None
    p = _build(df, cohort="g")
    assert p.info["cohort_coding"] == ["0", "empty", "beyond last period"]
    assert p.cohorts().get(0) == 14
    assert "Never-treated coding seen: 0, empty, beyond last period" in p.describe_text()


def test_cohort_varying_within_unit_refused():
    df = _frame()
    df.loc[(df["id"] == 1) & (df["year"] >= 2007), "g"] = 2007
    e = _err(df, cohort="g")
    assert "varies within unit for 1 unit(s)" in str(e)
    _one_sentence_with_fix(str(e), "must be the same in every row")
    assert set(e.rows["id"]) == {1}
    # a 0/1 treatment indicator passed as cohort is the classic mistake
    e = _err(_frame(), cohort="d")
    assert "varies within unit" in str(e)


@pytest.mark.parametrize("bad, words", [("soon", "a number"), (-2004, "negative"), (2004.5, "integer periods")])
def test_cohort_bad_values_refused(bad, words):
    df = _frame()
    df["g"] = df["g"].astype(object)
    df.loc[df["id"] == 1, "g"] = bad
    e = _err(df, cohort="g")
    assert words in str(e)
    assert set(e.rows["id"]) == {1}


def test_always_treated_dropped_with_warning():
    df = _frame(n_units=80, cohorts=(0, 2000, 1995, 2004))  # 2000 = first period, 1995 before it
    with pytest.warns(PanelWarning, match=r"dropped 40 always-treated unit\(s\) \(cohort <= first period 2000\)"):
        p = _build(df, cohort="g")
    assert p.n_units == 40 and set(p.cohorts().index) == {0, 2004}
    assert p.info["n_always_treated_dropped"] == 40
    assert p.describe()["n_always_treated_dropped"] == 40
    assert any("always-treated" in w for w in p.info["warnings"])


def test_always_treated_refused_or_kept():
    df = _frame(cohorts=(0, 2000, 2004))
    e = _err(df, cohort="g", always_treated="refuse")
    assert "13 unit(s) are treated at or before the first observed period 2000" in str(e)
    _one_sentence_with_fix(str(e), "drop them or extend the panel")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PanelWarning)  # "keep" must not warn about them
        p = _build(df, cohort="g", always_treated="keep")
    assert p.n_units == 40 and p.info["n_always_treated_dropped"] == 0
    with pytest.raises(PanelError, match="always_treated must be"):
        _build(df, cohort="g", always_treated="ignore")


# ---------------------------------------------------------------------------------------- comparisons
def test_no_never_and_no_not_yet_treated_refused():
    e = _err(_frame(cohorts=(2005,)), cohort="g")
    msg = str(e)
    assert "no never-treated units and only one treatment cohort (2005)" in msg and "not-yet-treated" in msg
    _one_sentence_with_fix(msg, "add never-treated units")
    # not-yet-treated units are a comparison: two cohorts, no never-treated, is accepted
    p = _build(_frame(cohorts=(2004, 2007)), cohort="g")
    assert p.info["n_never_treated"] == 0
    # designs that need no comparison can opt out
    assert _build(_frame(cohorts=(2005,)), cohort="g", require_comparison=False).n_units == 40


def test_no_unit_ever_treated_refused():
    e = _err(_frame(cohorts=(0, 2030)), cohort="g")  # 2030 is beyond the panel: never treated too
    assert "no unit is ever treated" in str(e)
    _one_sentence_with_fix(str(e), "check the cohort coding")


# ---------------------------------------------------------------------------------------- outcome
def test_constant_outcome_refused():
    df = _frame()
    df["y"] = 3.0
    e = _err(df)
    assert "outcome 'y' is constant" in str(e)
    _one_sentence_with_fix(str(e), "nothing to explain")


def test_all_missing_outcome_refused():
    df = _frame()
    df["y"] = np.nan
    e = _err(df)
    assert "missing in every row" in str(e)
    _one_sentence_with_fix(str(e), "choose another outcome")


def test_non_numeric_outcome_refused():
    df = _frame()
    df["y"] = df["y"].astype(object)
    df.loc[5, "y"] = "n/a"
    e = _err(df)
    assert "non-numeric" in str(e) and "n/a" in str(e)


def test_missing_outcome_and_covariate_rows_dropped_and_counted():
    df = _frame()
    df.loc[[0, 1, 2], "y"] = np.nan
    df.loc[[2, 3], "x"] = np.nan
    p = _build(df, covariates=["x"])
    assert p.info["n_dropped"] == 4 and len(p.frame) == 396 and not p.is_balanced
    assert p.describe()["n_dropped_missing"] == 4


# ---------------------------------------------------------------------------------------- treatment
@pytest.mark.parametrize(
    "recode, shown",
    [(lambda d: d * 2, "0, 2"), (lambda d: np.where(d == 1, "yes", "no"), "no, yes"),
     (lambda d: d.where(d.index != 7), "0.0, 1.0, nan")],
)
def test_non_binary_treat_refused(recode, shown):
    df = _frame()
    df["d"] = recode(df["d"])
    e = _err(df, treat="d")
    msg = str(e)
    assert "must be 0/1" in msg and f"found values {shown}" in msg
    _one_sentence_with_fix(msg, "recode it as 1")


def test_constant_treat_refused():
    df = _frame()
    df["d"] = 0
    e = _err(df, treat="d")
    assert "constant" in str(e)


def test_valid_treat_accepted():
    df = _frame()
    df["d"] = df["d"].astype(float)
    p = _build(df, treat="d")
    assert p.frame["d"].dtype == np.int64 and p.describe()["n_treated_obs"] == int(_frame()["d"].sum())


# ---------------------------------------------------------------------------------------- columns
@pytest.mark.parametrize("role", ["unit", "time", "outcome", "cohort", "treat", "cluster", "covariates", "extra"])
def test_missing_column_named(role):
    e = _err(_frame(), **{role: "nosuch"})
    msg = str(e)
    assert "column(s) 'nosuch' not in the data" in msg
    assert "available columns: id, year, y, g, d, x, state" in msg
    _one_sentence_with_fix(msg, "fix the column name")


def test_several_missing_columns_all_named():
    e = _err(_frame(), outcome="yy", covariates=["x", "zz"])
    assert "'yy', 'zz'" in str(e)


# ---------------------------------------------------------------------------------------- clusters
def test_few_clusters_warn_and_say_why():
    with pytest.warns(PanelWarning) as rec:
        p = _build(_frame(), cluster="state")
    msg = " ".join(str(w.message) for w in rec)
    assert "only 5 clusters in 'state'" in msg
    assert f"unreliable below {FEW_CLUSTERS} clusters" in msg and "Cameron, Gelbach & Miller" in msg
    assert "wild cluster bootstrap" in msg  # the fix
    assert p.info["n_clusters"] == 5 and p.cluster_col == "state"
    assert any("only 5 clusters" in w for w in p.describe()["warnings"])
    assert "Warning: only 5 clusters" in p.describe_text()


def test_enough_clusters_or_threshold_zero_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PanelWarning)
        _build(_frame(n_units=FEW_CLUSTERS))  # exactly the threshold: no warning
        _build(_frame(), cluster="state", min_clusters_warn=0)
    with pytest.warns(PanelWarning, match="only 29 clusters"):
        _build(_frame(n_units=FEW_CLUSTERS - 1))


# ---------------------------------------------------------------------------------------- views
def test_describe_and_text():
    p = _build(_frame(), cohort="g")
    d = p.describe()
    assert d == {
        "outcome": "y", "n_obs": 400, "n_units": 40, "periods": [2000, 2009], "n_periods": 10,
        "balanced": True, "n_dropped_missing": 0, "n_clusters": 40,
        "cohorts": {"0": 14, "2004": 13, "2006": 13}, "n_never_treated": 14, "cohort_coding": ["0"],
        "n_always_treated_dropped": 0,
    }
    t = p.describe_text()
    assert t.startswith("Panel: outcome y, 40 units x 10 periods (2000-2009), 400 rows, balanced")
    assert "0: 14, 2004: 13, 2006: 13" in t


def test_cohorts_needs_cohort_role():
    with pytest.raises(PanelError, match="no cohort column"):
        _build(_frame()).cohorts()


def test_subset_units():
    p = _build(_frame(), cohort="g")
    q = p.subset_units([0, 1, 2, 3])
    assert q.n_units == 4 and q.cohort == "g" and q.info["subset_units"] == 4
    assert p.n_units == 40  # the original is untouched
    with pytest.raises(PanelError, match="no rows left"):
        p.subset_units(["nobody"])


def test_with_outcome_keeps_columns_roles_and_recovers_rows():
    df = _frame()
    df["y2"] = df["y"] * 2 + 1
    df.loc[df["id"] == 0, "y"] = np.nan  # unit 0 lacks y but has y2
    p = _build(df, cohort="g", extra=["y2", "state"])
    assert p.n_units == 39 and p.info["n_dropped"] == 10
    q = p.with_outcome("y2")
    assert q.outcome == "y2" and q.cohort == "g" and q.n_units == 40 and q.info["n_dropped"] == 0
    assert {"y", "state"} <= set(q.frame.columns)  # the old outcome stays as a column
    assert q.info["cohort_coding"] == ["0"]
    back = q.with_outcome("y")
    assert back.n_units == 39 and back.frame["y"].equals(p.frame["y"])
    with pytest.raises(PanelError, match="'nosuch' is not in this panel"):
        p.with_outcome("nosuch")


def test_with_outcome_keeps_validation_options():
    df = _frame()[lambda d: d["year"] != 2003].assign(y2=lambda d: d["y"] + 1)
    p = _build(df, regular_time=False, extra=["y2"])
    assert p.with_outcome("y2").periods == p.periods  # irregular time stays allowed


# ---------------------------------------------------------------------------------------- registry
@pytest.fixture(scope="module")
def rti_panel():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always", PanelWarning)
        p = build_panel(["wgi.cc", "vdem.v2x_partipdem"], "rti_law", years=(1996, 2023))
    return p, [str(w.message) for w in rec if issubclass(w.category, PanelWarning)]


def test_build_panel_rti_law(rti_panel):
    p, warns = rti_panel
    f = p.frame
    assert p.n_units >= 150
    assert (p.unit, p.time, p.outcome, p.cohort) == ("unit", "year", "wgi.cc", "cohort")
    assert {"vdem.v2x_partipdem", "treat", "unit_name"} <= set(f.columns)
    g = f.groupby("unit")["cohort"].first()
    assert g["CHL"] == 2008 and g["MEX"] == 2002  # Chile Ley 20.285 (2008); Mexico LFTAIPG (2002)
    assert min(p.periods) >= 1996 and max(p.periods) <= 2023
    # treat is consistent with cohort in every row
    expect = ((f["cohort"] > 0) & (f["year"] >= f["cohort"])).astype(int)
    assert (f["treat"] == expect).all()
    assert set(f["treat"].unique()) == {0, 1}
    # cohort coding recorded: non-adopters are 0, laws after 2023 are beyond the last period
    assert "0" in p.info["cohort_coding"]
    assert set(p.info["cohort_coding"]) <= {"0", "empty", "beyond last period"}
    assert (g[g > 0] > 1996).all()  # always-treated (law by 1996) dropped ...
    assert p.info["n_always_treated_dropped"] > 0 and "AUS" not in set(g.index)
    assert any("always-treated" in w for w in warns)  # ... and said so
    assert p.info["dropped_unknown_timing"] == [] and p.info["intervention"] == "rti_law"
    assert p.info["measures"] == ["wgi.cc", "vdem.v2x_partipdem"]


def test_build_panel_with_outcome_second_measure(rti_panel):
    p, _ = rti_panel
    q = p.with_outcome("vdem.v2x_partipdem")
    assert q.outcome == "vdem.v2x_partipdem" and "wgi.cc" in q.frame.columns
    assert q.frame["vdem.v2x_partipdem"].notna().all()
    assert q.info["intervention"] == "rti_law" and q.info["cohort_coding"] == p.info["cohort_coding"]


def test_build_panel_unknown_timing_dropped_and_listed():
    with pytest.warns(PanelWarning, match="adoption date is unknown under this variant"):
        p = build_panel("wgi.cc", "ogp_member", variant="first_action_plan", years=(2005, 2020))
    dropped = p.info["dropped_unknown_timing"]
    assert len(dropped) > 0 and dropped == sorted(dropped)
    assert not set(dropped) & set(p.frame["unit"])  # neither a cohort nor a control
    assert p.info["variant"] == "first_action_plan"
    assert p.frame.groupby("unit")["cohort"].first().gt(0).any()


def test_build_panel_bad_ids():
    with pytest.raises(OgimpactError, match="unknown measure 'wgi.nope'"):
        build_panel("wgi.nope", "rti_law")
    with pytest.raises(OgimpactError, match="unknown intervention 'nope'"):
        build_panel("wgi.cc", "nope")
    with pytest.raises(PanelError, match="at least one measure"):
        build_panel([], "rti_law")


def test_build_panel_no_data_in_years():
    with pytest.raises(PanelError, match=re.escape("widen --years")):
        build_panel("wgi.cc", "rti_law", years=(1800, 1810))
