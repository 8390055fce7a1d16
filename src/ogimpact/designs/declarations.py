"""Every design declared once: name, fit function, panel roles, family, options with defaults.

One frozen :class:`Design` record per design is the single home of what a
design *is*.  It is read by

* :mod:`ogimpact.estimation` (``DESIGNS``: name -> fit function, imported lazily),
* the command line (``ogimpact estimate DESIGN``: the design names and their help text;
  ``tests/test_declarations.py`` checks that the argparse defaults and choices agree with
  the declared options),
* the answers recipe (:mod:`ogimpact.evidence.recipe`: which designs a question runs, by family),
* the generated reference page ``docs/designs.md`` (:func:`designs_markdown`;
  ``python scripts/make_design_docs.py`` rewrites it and a test keeps it current).

A declared default is the fit function's own default (a test compares them with the
function signature), so the page, the CLI and the code cannot drift apart.  The fit
function is an import path string (``module:function``) resolved on first use, so
importing this module loads no estimator.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Option", "Design", "DECLARATIONS", "FAMILIES", "get", "names", "by_family", "designs_markdown"]

#: families: how a design identifies an effect (the recipe chooses designs by family)
FAMILIES = {
    "regression": "linear panel regressions (fixed effects, static or dynamic TWFE)",
    "staggered": "heterogeneity-robust estimators for staggered adoption across many units",
    "single_unit": "one treated unit against a comparison built from untreated units or its own past",
    "switching": "treatments that switch on and off or change in intensity",
    "dose": "continuous treatment doses",
}


@dataclass(frozen=True)
class Option:
    """One option of a design: keyword of the fit function, its default, allowed values, meaning."""

    name: str
    default: Any = None
    choices: tuple = ()
    help: str = ""

    @property
    def flag(self) -> str:
        """The command-line flag (``--name`` with ``-`` for ``_``)."""
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Design:
    """A design declared once (see the module docstring for who reads it)."""

    name: str
    fit: str  #: "module:function", resolved lazily by :meth:`function`
    family: str
    roles: tuple[str, ...]  #: panel roles the design needs besides unit, time, outcome
    options: tuple[Option, ...]
    description: str
    reference: str = ""
    #: "module:function" of the inference step ``estimation.estimate`` runs on the fitted result (synth's
    #: placebos, conformal and prediction intervals); its keywords are options of the design too
    inference: str = ""

    @property
    def module(self) -> str:
        return self.fit.split(":", 1)[0]

    @property
    def function_name(self) -> str:
        return self.fit.split(":", 1)[1]

    def function(self) -> Callable:
        """The fit function (imported on first use)."""
        return getattr(importlib.import_module(self.module), self.function_name)

    def inference_function(self) -> Callable | None:
        """The after-fit inference step, or None (imported on first use)."""
        if not self.inference:
            return None
        mod, fn = self.inference.split(":", 1)
        return getattr(importlib.import_module(mod), fn)

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(f"design {self.name!r} declares no option {name!r}")

    def defaults(self) -> dict:
        """``{option: default}`` of every declared option."""
        return {o.name: o.default for o in self.options}


_ALPHA = Option("alpha", 0.05, help="1 - confidence level")
_CLUSTER = Option("cluster", None, help="cluster column (default: the unit)")
_COVS = Option("covariates", None, help="time-varying controls")
_VCOV = Option("vcov", None, ("cluster", "cr3", "driscoll-kraay", "conley"), help="covariance (default: cluster)")
_HAC = Option("hac_lags", None, help="Driscoll-Kraay / Newey-West lags (default floor(4(T/100)^(2/9)))")
_WILD = (Option("wild_bootstrap", None, help="restricted wild cluster bootstrap draws (none)"),
         Option("test", None, help="term tested by the wild bootstrap (the headline term)"),
         Option("null", 0.0, help="value under the null of the wild bootstrap"),
         Option("bootstrap_weights", "rademacher", ("rademacher", "webb"), help="wild bootstrap weights"),
         Option("seed", None, help="seed of the wild bootstrap"))

DECLARATIONS: tuple[Design, ...] = (
    Design("panel", "ogimpact.designs.panel_regression:fit_panel", "regression", ("regressors",),
           (Option("regressors", None, help="explanatory columns; the first is the headline"),
            Option("effects", ("unit", "time"), help="absorbed effects: unit, time, both or none"),
            Option("model", "fe", ("fe", "re", "pooled"), help="fixed effects, random effects (Swamy-Arora), pooled"),
            Option("vcov", None, ("classical", "robust", "cluster", "newey-west", "cr3", "driscoll-kraay", "conley"),
                   help="covariance (default: cluster when a cluster is given, else classical)"),
            _CLUSTER, Option("hac_lags", None, help="Newey-West / Driscoll-Kraay lags"), _ALPHA, *_WILD),
           "linear panel regression (FE / RE / pooled)", "Wooldridge (2010), Econometric Analysis of Cross Section and Panel Data"),
    Design("twfe", "ogimpact.designs.twfe:fit_twfe", "regression", ("treat",),
           (_COVS, _CLUSTER, _VCOV, _HAC, _ALPHA, *_WILD),
           "static two-way fixed-effects DiD for a 0/1 treatment", "Angrist & Pischke (2009)"),
    Design("event-study", "ogimpact.designs.event_study:fit_event_study", "regression", ("cohort",),
           (Option("window", None, help="event times kept, beyond them binned (every observed event time)"),
            Option("ref", -1, help="reference event time"), _COVS, _CLUSTER, _VCOV, _HAC, _ALPHA, *_WILD),
           "dynamic TWFE with leads and lags relative to the cohort", "Freyaldenhoven et al. (2021)"),
    Design("cs", "ogimpact.designs.callaway_santanna:fit_cs", "staggered", ("cohort",),
           (Option("control", "never", ("never", "notyet"), help="comparison units"),
            Option("method", "dr", ("dr", "ipw", "reg"), help="2x2 estimator"),
            Option("base", "varying", ("varying", "universal"), help="base period of pre-treatment cells"),
            Option("aggregate", "simple", ("simple", "group", "dynamic", "calendar"), help="headline aggregation"),
            Option("max_e", None, help="dynamic aggregation: the headline averages event times 0..max_e (all)"),
            Option("anticipation", 0, help="periods of anticipation"),
            Option("bootstrap", None, help="multiplier bootstrap draws (analytic SEs)"),
            Option("seed", None, help="seed of the bootstrap"), _ALPHA, _CLUSTER),
           "Callaway & Sant'Anna (2021) staggered DiD", "Callaway & Sant'Anna (2021), J. Econometrics 225"),
    Design("sun-abraham", "ogimpact.designs.sun_abraham:fit_sun_abraham", "staggered", ("cohort",),
           (_COVS, _CLUSTER, _ALPHA),
           "Sun & Abraham (2021) interaction-weighted event study", "Sun & Abraham (2021), J. Econometrics 225"),
    Design("imputation", "ogimpact.designs.imputation:fit_imputation", "staggered", ("cohort",),
           (Option("fe", None, help="first-stage fixed effects (unit, time)"), _CLUSTER,
            Option("se", "two-stage", ("two-stage", "bjs"), help="standard errors (two-stage as R did2s)"),
            Option("horizons", True, help="event-time effects"), Option("pretrends", True, help="pre-trend test"),
            _ALPHA),
           "Borusyak-Jaravel-Spiess imputation / Gardner two-stage DiD",
           "Borusyak, Jaravel & Spiess (2024), Rev. Econ. Stud. 91"),
    Design("synth", "ogimpact.designs.synth:fit_synth", "single_unit", ("treated", "treat_time"),
           (Option("predictors", None, help="Stata synth SPEC (the outcome in every pre-period)"),
            Option("optimize_window", None, help="periods whose MSPE is minimised (all pre-periods)"),
            Option("donors", None, help="donor units (every other unit)"),
            Option("placebo", (), help="placebo runs: space, time"),
            Option("placebo_time", None, help="fake treatment time of the in-time placebo"),
            Option("drop_ratio", None, help="drop placebos whose pre-RMSPE exceeds K x the treated one"),
            Option("loo", False, help="leave-one-out donor robustness"),
            Option("n_jobs", None, help="processes for placebo refits"), Option("seed", 0, help="seed"), _ALPHA,
            Option("augment", "none", ("none", "ridge"), help="ridge-augmented SCM"),
            Option("lam", None, help="ridge penalty (augsynth CV, min-1se)"),
            Option("fixedeff", False, help="demean by unit pre-period means"),
            Option("inference", (), help="conformal, prediction-interval"),
            Option("conformal_scheme", "moving-block", ("moving-block", "iid"), help="conformal permutations"),
            Option("reps", 1000, help="iid conformal permutations"),
            Option("v_method", "nested", ("nested", "regression", "cv"), help="how V is chosen"),
            Option("train", None, help="training window of v_method cv"),
            Option("validate", None, help="validation window of v_method cv"),
            Option("train_predictors", None, help="training predictors of v_method cv"),
            Option("v", None, help="a given V")),
           "Abadie-Diamond-Hainmueller synthetic control", "Abadie, Diamond & Hainmueller (2010), JASA 105",
           inference="ogimpact.inference.synth_inference:apply_synth_inference"),
    Design("sdid", "ogimpact.designs.sdid:fit_sdid", "single_unit", ("treated", "treat_time"),
           (Option("method", "sdid", ("sdid", "sc", "did"), help="estimator"),
            Option("placebo_reps", None, help="placebo replications of the SE (none)"),
            Option("seed", 0, help="seed"), _ALPHA, _COVS,
            Option("covariate_sample", "untreated", ("untreated", "all"), help="cells of the covariate regression")),
           "synthetic difference-in-differences (Arkhangelsky et al. 2021)",
           "Arkhangelsky et al. (2021), AER 111"),
    Design("its", "ogimpact.designs.its:fit_its", "single_unit", ("treat_time",),
           (Option("treated", None, help="the interrupted unit (the only unit)"),
            Option("hac_lags", None, help="Newey-West lags"), _ALPHA,
            Option("seasonal", False, help="month-of-year dummies"),
            Option("se", "newey-west", ("newey-west", "reml-ar1"), help="inference")),
           "interrupted time series (segmented regression, Newey-West SEs)", "Wagner et al. (2002), J Clin Pharm Ther 27"),
    Design("dcdh", "ogimpact.designs.dcdh:fit_dcdh", "switching", ("treat",),
           (Option("treat", None, help="treatment column"), Option("effects", 1, help="dynamic effects 1..K"),
            Option("placebo", 0, help="placebos 1..K"), _CLUSTER, Option("controls", None, help="controls"),
            Option("normalized", False, help="per unit of cumulated treatment change"),
            Option("same_switchers", False, help="only switchers observed for all K effects"),
            Option("continuous", None, help="polynomial degree in the baseline treatment"), _ALPHA),
           "de Chaisemartin & D'Haultfoeuille did_multiplegt_dyn (treatments that switch on/off or vary)",
           "de Chaisemartin & D'Haultfoeuille (2024), Rev. Econ. Stat."),
    Design("continuous", "ogimpact.designs.continuous_dose:fit_continuous", "dose", ("dose", "cohort"),
           (Option("dose", None, help="dose column"), Option("target", "att", ("att", "acrt"), help="target"),
            Option("degree", 3, help="B-spline degree"), Option("num_knots", 0, help="interior knots"),
            Option("aggregate", "dose", ("dose", "eventstudy"), help="aggregation"),
            Option("control", "notyet", ("never", "notyet"), help="comparison units"), _CLUSTER, _ALPHA),
           "Callaway, Goodman-Bacon & Sant'Anna (2024) continuous-dose DiD",
           "Callaway, Goodman-Bacon & Sant'Anna (2024), NBER WP 32117"),
    Design("etwfe", "ogimpact.designs.etwfe:fit_etwfe", "staggered", ("cohort",),
           (Option("family", "gaussian", ("gaussian", "poisson", "logit"), help="model family"),
            Option("control", "notyet", ("notyet", "never"), help="comparison units (as R etwfe)"), _COVS,
            Option("aggregate", "simple", ("simple", "group", "dynamic", "calendar"), help="headline aggregation"),
            _CLUSTER, _ALPHA, _VCOV, _HAC),
           "Wooldridge (2021) extended TWFE: saturated cohort x period effects, aggregated as emfx",
           "Wooldridge (2021), SSRN 3906345"),
    Design("lp-did", "ogimpact.designs.lp_did:fit_lp_did", "staggered", ("treat",),
           (Option("window", (-5, 5), help="event times A..B; the headline pools 0..B"),
            Option("ref", -1, help="reference event time"), Option("pmd", None, help="pre-mean differencing"),
            Option("nonabsorbing", None, help="non-absorbing variant with L stabilisation periods"), _CLUSTER, _ALPHA),
           "Dube, Girardi, Jorda & Taylor (2023) local-projections DiD with clean controls",
           "Dube, Girardi, Jorda & Taylor (2023), NBER WP 31184"),
    Design("stacked", "ogimpact.designs.stacked:fit_stacked", "staggered", ("cohort",),
           (Option("window", (-3, 3), help="event times of each sub-experiment"), _CLUSTER, _ALPHA, _VCOV, _HAC),
           "stacked DiD with Wing, Freedman & Hollingsworth (2024) corrective weights",
           "Wing, Freedman & Hollingsworth (2024), NBER WP 32054"),
)

_BY_NAME = {d.name: d for d in DECLARATIONS}


def get(name: str) -> Design:
    """The declaration of ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        from ..errors import OgimpactError

        raise OgimpactError(f"unknown design {name!r}; choose one of {', '.join(_BY_NAME)}.") from None


def names() -> tuple[str, ...]:
    """Every declared design name, in declaration order."""
    return tuple(_BY_NAME)


def by_family(family: str) -> tuple[Design, ...]:
    """The declared designs of one family (:data:`FAMILIES`)."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; one of {', '.join(FAMILIES)}")
    return tuple(d for d in DECLARATIONS if d.family == family)


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, tuple):
        return "(" + ", ".join(map(str, v)) + ")" if v else "()"
    return f"`{v}`"


def designs_markdown() -> str:
    """The text of ``docs/designs.md`` (generated; do not edit the page by hand)."""
    out = ["# Designs", "",
           "Generated from `src/ogimpact/designs/declarations.py` by `python scripts/make_design_docs.py`; "
           "do not edit by hand (`tests/test_declarations.py` fails when this page is stale).", "",
           "| design | family | needs | fit function | description |", "|---|---|---|---|---|"]
    for d in DECLARATIONS:
        out.append(f"| `{d.name}` | {d.family} | {', '.join(d.roles) or '—'} | `{d.fit}` | {d.description} |")
    out += ["", "## Families", ""]
    out += [f"- **{k}**: {v}" for k, v in FAMILIES.items()]
    for d in DECLARATIONS:
        out += ["", f"## `{d.name}`", "", f"{d.description}. Family: {d.family}. Panel roles beyond unit, time and "
                f"outcome: {', '.join(d.roles) or 'none'}. Fit: `{d.fit}`."
                + (f" Reference: {d.reference}." if d.reference else ""), "",
                "| option | default | choices | meaning |", "|---|---|---|---|"]
        for o in d.options:
            ch = ", ".join(f"`{c}`" for c in o.choices) if o.choices else "—"
            out.append(f"| `{o.name}` | {_fmt(o.default)} | {ch} | {o.help} |")
    return "\n".join(out) + "\n"
