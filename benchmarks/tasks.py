"""What each benchmark fits, per tool: ``TASKS[(benchmark, tool)] = Task(...)``.

A task's ``fit(df)`` takes the (untimed, already loaded) pandas frame and
returns ``{"estimate": float, "se": float | None, "vector": {name: value}}``;
``vector`` holds the numbers compared across tools (event-study coefficients,
synth weights ...).  Everything a user would do from a DataFrame to a result
is inside ``fit`` and timed: for ogimpact that includes ``Panel.from_frame``
(validation), for pyfixest building the relative-time column, for pysyncon the
``Dataprep``.  ``imports`` are imported before timing (import cost is its own
benchmark).  Imports of the tools happen inside the functions, so this module
loads in both venvs (ogimpact's and the peers').
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Task:
    fit: Callable
    imports: tuple[str, ...] = ()
    note: str = ""
    se_comparable: bool = True
    opts: dict = field(default_factory=dict)


def _quiet(fn, *a, **k):
    """Call ``fn`` with its prints (csdid prints its summary) swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*a, **k)


def _res(est, se=None, vector=None) -> dict:
    return {"estimate": None if est is None else float(est), "se": None if se is None else float(se),
            "vector": {str(k): float(v) for k, v in (vector or {}).items()}}


# ----------------------------------------------------------------- ogimpact
def _og_panel(df, **roles):
    from ogimpact.panel import Panel

    return Panel.from_frame(df, unit="unit", time="time", outcome="y", **roles)


def _og(design, roles, **opts):
    def fit(df):
        from ogimpact.estimation import estimate

        r = estimate(design, _og_panel(df, **roles), **opts)
        vec = {}
        if r.event_study is not None:
            vec = {f"e{e}": b for e, b in zip(r.event_study.event_times, r.event_study.estimates)}
        return _res(r.estimate, r.se, vec)

    return fit


OG_IMPORTS = ("ogimpact.estimation", "ogimpact.panel")

BASQUE_TREATED = "Basque Country (Pais Vasco)"
BASQUE_SEC = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction",
              "sec.services.venta", "sec.services.nonventa"]
BASQUE_SCHOOL = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high", "invest"]
BASQUE_SPEC = (",".join(f"{v}(1964-1969)" for v in BASQUE_SCHOOL) + ",gdpcap(1960-1969),"
               + ",".join(f"{v}(1961(2)1969)" for v in BASQUE_SEC) + ",popdens(1969)")


def _og_synth(placebo: bool):
    def fit(df):
        from ogimpact.estimation import estimate, panel_from_csv

        p = panel_from_csv("synth", df, unit="regionname", time="year", outcome="gdpcap")
        opts = dict(treated=BASQUE_TREATED, treat_time=1970, predictors=BASQUE_SPEC, optimize_window=(1960, 1969))
        if placebo:
            opts["placebo"] = ("space",)
        r = estimate("synth", p, **opts)
        w = {row["unit"]: row["weight"] for row in r.tables.get("weights", ())}
        if placebo and r.placebo is not None:
            w["placebo_p"] = r.placebo.get("p_value")
        return _res(r.estimate, None, w)

    return fit


#: lagged-outcome predictors as in ADH 2010 (the synthdid panel has no covariates); forces a V search
PROP99_SPEC = "PacksPerCapita(1970-1988),PacksPerCapita(1975),PacksPerCapita(1980),PacksPerCapita(1988)"


def _og_prop99_placebo(spec):
    """ADH synth for California on the Prop 99 panel (38 donors) with space placebos."""
    def fit(df):
        from ogimpact.estimation import estimate, panel_from_csv

        p = panel_from_csv("synth", df, unit="State", time="Year", outcome="PacksPerCapita")
        r = estimate("synth", p, treated="California", treat_time=1989, predictors=spec, placebo=("space",))
        return _res(r.estimate, None, {"placebo_p": (r.placebo or {}).get("p_value", np.nan)})

    return fit


def _og_sdid(reps):
    def fit(df):
        from ogimpact.estimation import estimate, panel_from_csv

        p = panel_from_csv("sdid", df[["State", "Year", "PacksPerCapita"]], unit="State", time="Year",
                           outcome="PacksPerCapita")
        r = estimate("sdid", p, treated="California", treat_time=1989, placebo_reps=reps, seed=1)
        return _res(r.estimate, r.se if reps else None)

    return fit


# ----------------------------------------------------------------- peers
def _pf_twfe(df):
    import pyfixest as pf

    m = pf.feols("y ~ treat | unit + time", data=df, vcov={"CRV1": "unit"})
    return _res(m.coef().iloc[0], m.se().iloc[0])


def _lm_twfe(df):
    from linearmodels.panel import PanelOLS

    d = df.set_index(["unit", "time"])
    m = PanelOLS(d["y"], d[["treat"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    return _res(m.params.iloc[0], m.std_errors.iloc[0])


def _pf_es(df):
    import pyfixest as pf

    d = df.assign(rel=np.where(df["cohort"] > 0, df["time"] - df["cohort"], -1))
    m = pf.feols("y ~ i(rel, ref=-1) | unit + time", data=d, vcov={"CRV1": "unit"})
    c = m.coef()
    vec = {f"e{int(float(k.split('::')[1]))}": v for k, v in c.items()}
    return _res(None, None, vec)


def _pf_did2s(df):
    import pyfixest as pf

    m = pf.did2s(df, yname="y", first_stage="~ 0 | unit + time", second_stage="~ treat",
                 treatment="treat", cluster="unit")
    return _res(m.coef().iloc[0], m.se().iloc[0])


def _dd_two_stage(df):
    from diff_diff import TwoStageDiD

    r = TwoStageDiD(cluster="unit").fit(df, outcome="y", unit="unit", time="time", first_treat="cohort")
    return _res(r.overall_att, r.overall_se)


def _dd_imputation(df):
    from diff_diff import ImputationDiD

    r = ImputationDiD(cluster="unit").fit(df, outcome="y", unit="unit", time="time", first_treat="cohort")
    return _res(r.overall_att, r.overall_se)


def _csdid(df):
    from csdid.att_gt import ATTgt

    o = _quiet(lambda: ATTgt(yname="y", gname="cohort", idname="unit", tname="time", data=df,
                             control_group=["nevertreated"]).fit(est_method="dr", bstrap=False))
    a = _quiet(o.aggte, typec="simple", bstrap=False)
    return _res(a.atte["overall_att"], a.atte["overall_se"])


def _moderndid(df):
    from moderndid import aggte, att_gt

    r = att_gt(df, yname="y", tname="time", idname="unit", gname="cohort", est_method="dr",
               control_group="nevertreated", boot=False, cband=False)
    s = aggte(r, type="simple", boot=False, cband=False)
    return _res(s.overall_att, s.overall_se)


def _dd_cs(df):
    from diff_diff import CallawaySantAnna

    r = CallawaySantAnna(control_group="never_treated", estimation_method="dr").fit(
        df, outcome="y", unit="unit", time="time", first_treat="cohort")
    return _res(r.overall_att, r.overall_se)


def _dd_sa(df):
    from diff_diff import SunAbraham

    r = SunAbraham(cluster="unit").fit(df, outcome="y", unit="unit", time="time", first_treat="cohort")
    return _res(r.overall_att, r.overall_se)


def _pysyncon_dataprep(df):
    from pysyncon import Dataprep

    controls = sorted(set(df["regionname"]) - {BASQUE_TREATED})
    return Dataprep(
        foo=df, predictors=BASQUE_SCHOOL, predictors_op="mean", time_predictors_prior=range(1964, 1970),
        special_predictors=[("gdpcap", range(1960, 1970), "mean")]
        + [(s, range(1961, 1970, 2), "mean") for s in BASQUE_SEC] + [("popdens", [1969], "mean")],
        dependent="gdpcap", unit_variable="regionname", time_variable="year",
        treatment_identifier=BASQUE_TREATED, controls_identifier=controls, time_optimize_ssr=range(1960, 1970))


PYSYNCON_OPTS = dict(optim_method="Nelder-Mead", optim_initial="equal")


def _pysyncon(df):
    from pysyncon import Synth

    s = Synth()
    s.fit(dataprep=_pysyncon_dataprep(df), **PYSYNCON_OPTS)
    att = s.att(range(1970, 1998))["att"]
    return _res(att, None, s.weights(round=9).to_dict())


def _pysyncon_placebo(df):
    from pysyncon import Synth
    from pysyncon.utils import PlaceboTest

    pt = PlaceboTest()
    _quiet(pt.fit, dataprep=_pysyncon_dataprep(df), scm=Synth(), scm_options=PYSYNCON_OPTS,
           max_workers=2, verbose=False)
    return _res(None, None, {"n_placebos": len(pt.gaps.columns) if getattr(pt, "gaps", None) is not None else 0})


def _dd_synth(placebo: bool):
    def fit(df):
        from diff_diff import SyntheticControl

        d = df.assign(treated=((df["regionname"] == BASQUE_TREATED) & (df["year"] >= 1970)).astype(int))
        r = SyntheticControl(seed=0).fit(
            d, outcome="gdpcap", treatment="treated", unit="regionname", time="year",
            post_periods=list(range(1970, 1998)), treated_unit=BASQUE_TREATED,
            predictors=BASQUE_SCHOOL, predictors_op="mean", predictor_window=list(range(1964, 1970)),
            special_predictors=[("gdpcap", list(range(1960, 1970)), "mean")]
            + [(s, list(range(1961, 1970, 2)), "mean") for s in BASQUE_SEC] + [("popdens", [1969], "mean")],
            pre_period_outcomes=list(range(1960, 1970)))
        w = {str(k): float(v) for k, v in dict(getattr(r, "donor_weights", None) or {}).items()}
        if placebo:
            r.in_space_placebo()
            w["placebo_p"] = r.placebo_p_value
        return _res(getattr(r, "att", np.nan), None, w)

    return fit


def _synthdid_py(reps):
    def fit(df):
        import synthdid as sd

        d = df.assign(treated=((df["State"] == "California") & (df["Year"] >= 1989)).astype(int))
        pm = sd.panel_matrices(d, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")
        est = sd.synthdid_estimate(pm.Y, pm.N0, pm.T0)
        se = sd.synthdid_se(est, method="placebo", replications=reps, random_state=1) if reps else None
        return _res(float(np.asarray(est.estimate if hasattr(est, "estimate") else est).ravel()[0]), se)

    return fit


def _dd_sdid(reps):
    def fit(df):
        from diff_diff import SyntheticDiD

        d = df.assign(ever=(df["State"] == "California").astype(int))
        r = SyntheticDiD(variance_method="placebo", n_bootstrap=reps or 2, seed=1).fit(
            d, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
            post_periods=list(range(1989, 2001)))
        return _res(r.att, r.se if reps else None)

    return fit


# ----------------------------------------------------------------- the registry
TASKS: dict[tuple[str, str], Task] = {
    ("twfe", "ogimpact"): Task(_og("twfe", {"treat": "treat"}), OG_IMPORTS),
    ("twfe", "pyfixest"): Task(_pf_twfe, ("pyfixest",), "feols y ~ treat | unit + time, CRV1(unit)"),
    ("twfe", "linearmodels"): Task(_lm_twfe, ("linearmodels.panel",),
                                   "PanelOLS two-way, clustered by unit (no G/(G-1) factor: SE differs)",
                                   se_comparable=False),
    ("event-study", "ogimpact"): Task(_og("event-study", {"cohort": "cohort"}), OG_IMPORTS),
    ("event-study", "pyfixest"): Task(_pf_es, ("pyfixest",), "feols y ~ i(rel, ref=-1) | unit + time, CRV1(unit)"),
    ("imputation", "ogimpact"): Task(_og("imputation", {"cohort": "cohort"}, horizons=False, pretrends=False),
                                     OG_IMPORTS),
    ("imputation", "pyfixest"): Task(_pf_did2s, ("pyfixest",), "did2s static, first stage unit + time, cluster unit"),
    ("imputation", "diff-diff"): Task(_dd_two_stage, ("diff_diff",), "TwoStageDiD, cluster unit"),
    ("cs", "ogimpact"): Task(_og("cs", {"cohort": "cohort"}, control="never", method="dr", aggregate="simple"),
                             OG_IMPORTS),
    ("cs", "csdid"): Task(_csdid, ("csdid.att_gt",), "ATTgt dr, never treated, analytic SE, aggte simple"),
    ("cs", "moderndid"): Task(_moderndid, ("moderndid",), "att_gt dr, never treated, analytic SE, aggte simple"),
    ("cs", "diff-diff"): Task(_dd_cs, ("diff_diff",), "CallawaySantAnna dr, never treated, analytic SE"),
    ("sun-abraham", "ogimpact"): Task(_og("sun-abraham", {"cohort": "cohort"}), OG_IMPORTS),
    ("sun-abraham", "diff-diff"): Task(_dd_sa, ("diff_diff",), "SunAbraham, cluster unit"),
    ("synth", "ogimpact"): Task(_og_synth(False), OG_IMPORTS),
    ("synth", "pysyncon"): Task(_pysyncon, ("pysyncon",), "Synth Nelder-Mead, equal start (its Basque example)"),
    ("synth", "diff-diff"): Task(_dd_synth(False), ("diff_diff",), "SyntheticControl nested V, 4 starts"),
    ("placebo-space", "ogimpact"): Task(_og_synth(True), OG_IMPORTS),
    ("placebo-space", "pysyncon"): Task(_pysyncon_placebo, ("pysyncon",), "PlaceboTest, 2 workers"),
    ("placebo-space", "diff-diff"): Task(_dd_synth(True), ("diff_diff",), "fit + in_space_placebo()"),
    ("placebo-space-prop99", "ogimpact"): Task(_og_prop99_placebo(PROP99_SPEC), OG_IMPORTS,
                                               f"predictors {PROP99_SPEC}, V search"),
    ("placebo-space-prop99-default", "ogimpact"): Task(_og_prop99_placebo(None), OG_IMPORTS,
                                                       "default predictors: every pre-period outcome, equal V"),
    ("sdid", "ogimpact"): Task(_og_sdid(None), OG_IMPORTS),
    ("sdid", "synthdid-py"): Task(_synthdid_py(None), ("synthdid",), "synthdid_estimate (R synthdid port)"),
    ("sdid", "diff-diff"): Task(_dd_sdid(None), ("diff_diff",), "SyntheticDiD (placebo variance, 2 reps: no SE kept)"),
    ("sdid-placebo-se", "ogimpact"): Task(_og_sdid(200), OG_IMPORTS),
    ("sdid-placebo-se", "synthdid-py"): Task(_synthdid_py(200), ("synthdid",), "placebo SE, 200 reps, seed 1"),
    ("sdid-placebo-se", "diff-diff"): Task(_dd_sdid(200), ("diff_diff",), "placebo SE, 200 reps, seed 1"),
}
