"""``ogimpact estimate DESIGN`` — any design on any CSV or on the registry."""
from __future__ import annotations

import argparse
import os
import sys
import warnings

from ..errors import OgimpactError
from ..estimation import (
    DESIGNS,
    REGRESSION,
    SINGLE_UNIT,
    estimate,
    panel_from_csv,
    read_csv,
)
# registry mode: the answers recipe's chain (registry panel -> treatment time -> donors), one home for all entry points
from ..evidence.recipe import donor_pool as recipe_donor_pool
from ..evidence.recipe import registry_panel
from ..evidence.recipe import treat_time as registry_treat_time
from ..designs.declarations import DECLARATIONS
from ..panel import PanelWarning
from ..parse import id_list, span
from ._output import emit_json

#: one-line help of each design, from its declaration (ogimpact.designs.declarations)
HELP = {d.name: d.description for d in DECLARATIONS}


def _span(s: str | None, name: str, *, ordered: bool = False):
    return span(s, name=name, ordered=ordered)


_list = id_list


def _nonneg_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {v}")
    return v


def _positive_int(s: str) -> int:
    v = _nonneg_int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {v}")
    return v


def _alpha(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {s!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"alpha must lie in (0, 1), got {v}")
    return v


def register(sub) -> None:
    p = sub.add_parser("estimate", help="estimate a design on a CSV or on the registry",
                       description="Estimate a design; --json prints the result JSON of the contract.")
    dsub = p.add_subparsers(dest="design", metavar="DESIGN", parser_class=type(p))
    for name in DESIGNS:
        d = dsub.add_parser(name, help=HELP[name], description=HELP[name])
        _common(d)
        _design_options(d, name)
        d.set_defaults(func=run)
    p.set_defaults(func=lambda a: (p.print_help(sys.stderr), 2)[1])


def _common(d) -> None:
    src = d.add_argument_group("data (a CSV, or a registry measure x intervention)")
    src.add_argument("--data", metavar="FILE.csv", help="comma-separated CSV, one row per unit and period")
    src.add_argument("--outcome", metavar="COL", help="outcome column")
    src.add_argument("--unit", metavar="COL", help="unit id column")
    src.add_argument("--time", metavar="COL", help="integer period column (e.g. year)")
    src.add_argument("--measure", metavar="ID", help="registry outcome measure (see `ogimpact measures`)")
    src.add_argument("--intervention", metavar="ID", help="registry intervention (see `ogimpact interventions`)")
    src.add_argument("--variant", metavar="V", help="timing variant of the intervention")
    src.add_argument("--years", metavar="A:B", help="registry years, inclusive [all]")
    src.add_argument("--units", metavar="U1,U2", help="registry units (ISO3 codes for countries) [all]")
    d.add_argument("--alpha", type=_alpha, default=0.05, help="1 - confidence level [0.05]")
    d.add_argument("--json", action="store_true", help="print the result JSON (only) on stdout")


def _design_options(d, name: str) -> None:
    g = d.add_argument_group(f"{name} options")
    if name == "panel":
        g.add_argument("--regressors", metavar="A,B", required=False,
                       help="explanatory columns (required); the first is the headline")
        g.add_argument("--effects", default=None,
                       help="unit,time | unit | time | none [unit,time; unit with --model re]")
        g.add_argument("--model", default="fe", choices=["fe", "re", "pooled"], help="[fe]")
        g.add_argument("--vcov", choices=["classical", "robust", "cluster", "newey-west", "cr3", "driscoll-kraay",
                                          "conley"],
                       help="[cluster when --cluster is given, else classical]")
        g.add_argument("--cluster", metavar="COL", help="cluster column (A,B for two-way) [none; the unit with --vcov cluster]")
        g.add_argument("--hac-lags", type=_nonneg_int, metavar="L",
                       help="Newey-West lags [floor(4(T/100)^(2/9))]")
    if name == "twfe":
        g.add_argument("--treat", metavar="COL", help="0/1 treatment column (required)")
        g.add_argument("--covariates", metavar="A,B", help="time-varying controls [none]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name in ("event-study", "cs", "sun-abraham", "imputation", "etwfe", "stacked"):
        g.add_argument("--cohort", metavar="COL",
                       help="first treated period (required); 0/empty/beyond last = never treated")
        g.add_argument("--covariates", metavar="A,B", help="[none]")
    if name in ("cs", "sun-abraham", "imputation"):
        g.add_argument("--min-cohort-size", type=_positive_int, default=1, metavar="N",
                       help="drop treated cohorts with fewer than N units (listed in the result) [1: estimate "
                            "every cohort, as R did; cs warns below covariates + 5 units]")
    if name == "event-study":
        g.add_argument("--window", metavar="A:B", help="event times kept; beyond them binned into the endpoints "
                       "[every observed event time, one coefficient each]")
        g.add_argument("--ref", type=int, default=-1, metavar="E", help="reference event time [-1]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name == "cs":
        g.add_argument("--control", default="never", choices=["never", "notyet"], help="[never]")
        g.add_argument("--method", default="dr", choices=["dr", "ipw", "reg"], help="[dr]")
        g.add_argument("--base", default="varying", choices=["varying", "universal"], help="[varying]")
        g.add_argument("--aggregate", default="simple", choices=["simple", "group", "dynamic", "calendar"],
                       help="[simple]")
        g.add_argument("--anticipation", type=_nonneg_int, default=0, metavar="K", help="[0]")
        g.add_argument("--bootstrap", type=_nonneg_int, metavar="B",
                       help="multiplier-bootstrap draws for SEs and uniform bands [none: analytic SEs]")
        g.add_argument("--seed", type=_nonneg_int, default=0, help="seed of the bootstrap [0]")
        g.add_argument("--cluster", metavar="COL", help="cluster at a level above the unit [unit]")
    if name == "sun-abraham":
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name == "imputation":
        g.add_argument("--fe", metavar="COL,COL", default="unit,time", help="first-stage fixed effects [unit,time]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
        g.add_argument("--se", default="two-stage", choices=["two-stage", "bjs"], help="[two-stage, as R did2s]")
    if name == "etwfe":
        g.add_argument("--family", default="gaussian", choices=["gaussian", "poisson", "logit"], help="[gaussian]")
        g.add_argument("--control", default="notyet", choices=["notyet", "never"], help="[notyet, as R etwfe]")
        g.add_argument("--aggregate", default="simple", choices=["simple", "group", "dynamic", "calendar"],
                       help="[simple]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name == "stacked":
        g.add_argument("--window", metavar="A:B", default="-3:3", help="event times of each sub-experiment [-3:3]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name == "lp-did":
        from ._lp_did_args import add_lp_did_arguments

        add_lp_did_arguments(g)
    if name in SINGLE_UNIT:
        g.add_argument("--treated", metavar="UNIT", required=False,
                       help="the treated unit's id" + (" (required)" if name != "its" else " [the only unit]"))
        g.add_argument("--treat-time", type=int, metavar="T",
                       help="first treated period (required; registry: the adoption year)")
    if name in SINGLE_UNIT:
        g.add_argument("--donor-rule", metavar="RULE",
                       help="registry runs: donor rule untreated | all-untreated | region | similar, with "
                            "parameters as NAME(key=value,...) [similar] (see ogimpact.donors)")
    if name == "synth":
        g.add_argument("--predictors", metavar="SPEC", help="Stata synth spec, e.g. 'x(1980-1988),y(1975)' "
                       "[the outcome in every pre-period]")
        g.add_argument("--optimize-window", metavar="A:B", help="periods whose MSPE is minimised [all pre-periods]")
        g.add_argument("--donors", metavar="U1,U2", help="[every other unit]")
        g.add_argument("--placebo", metavar="space,time", help="placebo runs [none]")
        g.add_argument("--placebo-time", type=int, metavar="T", help="fake treatment time of the in-time placebo")
        g.add_argument("--drop-ratio", type=float, metavar="K",
                       help="drop placebos whose pre-RMSPE exceeds K x the treated one")
        g.add_argument("--loo", action="store_true", help="leave-one-out donor robustness")
        g.add_argument("--workers", type=_nonneg_int, metavar="N", help="processes for the placebo/leave-one-out refits [all cores; 1 = in process]")
        g.add_argument("--seed", type=_nonneg_int, default=0, help="[0]")
        g.add_argument("--augment", default="none", choices=["none", "ridge"],
                       help="ridge-augmented SCM (Ben-Michael, Feller & Rothstein 2021) [none]")
        g.add_argument("--lambda", dest="lam", type=float, metavar="L", help="ridge penalty [augsynth's CV, min-1se]")
        g.add_argument("--fixedeff", action="store_true", help="demean units by their pre-period means first")
        g.add_argument("--inference", metavar="placebo,conformal", action="append",
                       help="inference methods, repeatable or a comma list: placebo, conformal, prediction-interval")
        g.add_argument("--conformal-scheme", default="moving-block", choices=["moving-block", "iid"],
                       help="conformal permutations [moving-block]")
        g.add_argument("--reps", type=_nonneg_int, default=1000, metavar="N", help="iid conformal permutations [1000]")
        g.add_argument("--pi-e-method", default="gaussian", choices=["gaussian", "ls", "qreg", "all"],
                       help="out-of-sample bound of the prediction interval (scpi e_method) [gaussian]")
        g.add_argument("--pi-sims", type=_nonneg_int, default=200, metavar="N",
                       help="draws for the in-sample bound of the prediction interval [200]")
        g.add_argument("--v-method", default="nested", choices=["nested", "regression", "cv"],
                       help="how V is chosen with --predictors [nested]; cv = ADH 2015 (--train, --validate)")
        g.add_argument("--train", metavar="A:B", help="training window of --v-method cv")
        g.add_argument("--validate", metavar="C:D", help="validation window of --v-method cv")
        g.add_argument("--train-predictors", metavar="SPEC",
                       help="training predictors of --v-method cv [the SPEC shifted back by C - A]")
        g.add_argument("--v", dest="v_given", metavar="V1,V2", help="a given V, one weight per predictor (skips the V search)")
    if name == "sdid":
        g.add_argument("--method", default="sdid", choices=["sdid", "sc", "did"], help="[sdid]")
        g.add_argument("--covariates", metavar="A,B",
                       help="time-varying covariates: SDID on the outcome residualised on them with unit and "
                            "time fixed effects [none]")
        g.add_argument("--covariate-sample", default="untreated", choices=["untreated", "all"],
                       help="cells of the covariate regression: untreated cells, or all (diff-diff) [untreated]")
        g.add_argument("--placebo-reps", type=_nonneg_int, metavar="N",
                       help="placebo replications for the SE (Arkhangelsky et al. Algorithm 4) [none]")
        g.add_argument("--inference", metavar="conformal", action="append",
                       help="conformal (Chernozhukov, Wuthrich & Zhu 2021, on the SDID unit weights) [none]")
        g.add_argument("--conformal-scheme", default="moving-block", choices=["moving-block", "iid"],
                       help="conformal permutations [moving-block]")
        g.add_argument("--reps", type=_nonneg_int, default=1000, metavar="N", help="iid conformal permutations [1000]")
        g.add_argument("--seed", type=_nonneg_int, default=0, help="[0]")
    if name == "its":
        g.add_argument("--hac-lags", type=_nonneg_int, metavar="L", help="Newey-West lags [floor(4(T/100)^(2/9))]")
        g.add_argument("--seasonal", action="store_true",
                       help="month-of-year dummies (time must be a month index, e.g. year*12+month-1)")
        g.add_argument("--se", default="newey-west", choices=["newey-west", "reml-ar1"],
                       help="newey-west: OLS + Bartlett HAC, t(n-k) [default, as Stata newey]; reml-ar1: GLS with "
                            "AR(1) errors by REML, Satterthwaite df (covers in short series; docs/validity.md)")
    if name == "dcdh":
        g.add_argument("--treat", metavar="COL", help="treatment column (required): binary, discrete or continuous")
        g.add_argument("--effects", type=_nonneg_int, default=1, metavar="K", help="dynamic effects 1..K [1]")
        g.add_argument("--placebo", type=_nonneg_int, default=0, metavar="K", help="placebos 1..K [0]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
        g.add_argument("--controls", metavar="A,B", help="time-varying controls [none]")
        g.add_argument("--normalized", action="store_true", help="effects per unit of cumulated treatment change")
        g.add_argument("--same-switchers", action="store_true",
                       help="only switchers observed for all K effects")
        g.add_argument("--continuous", type=_nonneg_int, metavar="D",
                       help="degree of the polynomial in the baseline treatment (continuous baseline) [none]")
    if name == "continuous":
        g.add_argument("--dose", metavar="COL", help="dose column (required; 0 for untreated units)")
        g.add_argument("--cohort", metavar="COL", help="first treated period (required); 0/empty = never treated")
        g.add_argument("--target", default="att", choices=["att", "acrt"], help="[att]")
        g.add_argument("--degree", type=_nonneg_int, default=3, metavar="N", help="B-spline degree [3]")
        g.add_argument("--num-knots", type=_nonneg_int, default=0, metavar="N", help="interior knots [0]")
        g.add_argument("--aggregate", default="dose", choices=["dose", "eventstudy"], help="[dose]")
        g.add_argument("--control", default="notyet", choices=["never", "notyet"], help="[notyet, as R contdid]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name in ("twfe", "event-study", "etwfe", "stacked"):
        g.add_argument("--vcov", choices=["cluster", "cr3", "driscoll-kraay", "conley"], help="[cluster]")
        g.add_argument("--hac-lags", type=_nonneg_int, metavar="L", help="Driscoll-Kraay lags [floor(4(T/100)^(2/9))]")
    if name in (*REGRESSION, "etwfe", "stacked"):
        g.add_argument("--lat", metavar="COL", help="latitude column in degrees (--vcov conley)")
        g.add_argument("--lon", metavar="COL", help="longitude column in degrees (--vcov conley)")
        g.add_argument("--cutoff", type=float, metavar="KM", help="Conley distance cutoff in km (--vcov conley)")
        g.add_argument("--small-sample", choices=["default", "stata"], default=None,
                       help="small-sample factors: stata = (G-1)/G on cr3 (summclust CV3), T/(T-1)(n-1)/(n-rank) "
                            "on driscoll-kraay (xtscc) [default: none on cr3/driscoll-kraay, fixest on CRV1]")
    if name in REGRESSION:
        w = d.add_argument_group("wild cluster bootstrap (restricted, WCR)")
        w.add_argument("--wild-bootstrap", type=_nonneg_int, metavar="B", help="bootstrap draws [none]")
        w.add_argument("--test", metavar="TERM", help="term tested [the headline term]")
        w.add_argument("--null", type=float, default=0.0, metavar="VALUE", help="[0]")
        w.add_argument("--bootstrap-weights", default="rademacher", choices=["rademacher", "webb"],
                       help="[rademacher]")
        if name != "cs":
            w.add_argument("--seed", type=_nonneg_int, default=0, help="[0]")


def run(args) -> int:
    design = args.design
    # warnings are data: the result's diagnostics.warnings (JSON) or one stderr line each (text mode);
    # Python warning display is off so nothing is printed twice
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        panel = _build_panel(args, design)
        opts = _options(args, design, panel)
        panel = opts.pop("_panel", panel)
        pool = opts.pop("_donor_pool", None)
        if pool is not None:  # the donor rule's units and window (ogimpact.donors)
            panel = pool.apply(panel)
        res = estimate(design, panel, **opts)
    if not args.json:
        print_warnings(res.diagnostics.get("warnings", []))
    if pool is not None:
        res = res.replace(options={**res.options, **pool.options()})
    if args.json:
        emit_json(res.to_dict())
    else:
        print(res.summary())
    return 0


def print_warnings(entries) -> None:
    """Text mode: one ``ogimpact: warning: MESSAGE [code]`` line per ``diagnostics.warnings`` entry, on stderr."""
    for e in entries:
        print(f"ogimpact: warning: {e['message']} [{e['code']}]", file=sys.stderr)


def _donor_pool(a, design, panel, treated, treat_time, require=()):
    """The registry donor pool of a single-unit run: ``--donors`` as given, else ``--donor-rule`` [similar]."""
    return recipe_donor_pool(panel, treated=treated, treat_time=int(treat_time), rule=getattr(a, "donor_rule", None),
                             donors=_list(getattr(a, "donors", None)), intervention=a.intervention,
                             variant=a.variant, require=require)


def _build_panel(args, design):
    from_csv = args.data is not None
    from_reg = args.measure is not None or args.intervention is not None
    if from_csv and from_reg:
        raise OgimpactError("give either --data (with --outcome/--unit/--time) or --measure with --intervention, not both.")
    if not from_csv and not from_reg:
        raise OgimpactError("no data: give --data FILE.csv --outcome COL --unit COL --time COL, "
                            "or --measure ID --intervention ID.")
    if from_reg:
        if not (args.measure and args.intervention):
            raise OgimpactError("registry mode needs both --measure ID and --intervention ID.")
        years = _span(args.years, "--years", ordered=True)
        from ..inputs import registry_units_exist  # unknown codes named before the build can fail otherwise

        for flag in ("units", "donors", "treated"):
            registry_units_exist(_list(getattr(args, flag, None)), [args.measure], flag=f"--{flag}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PanelWarning)
            reg = registry_panel(design, measure=args.measure, intervention=args.intervention,
                                 years=years, units=_list(args.units) or None,
                                 variant=args.variant, covariates=_list(getattr(args, "covariates", None)
                                                                         or getattr(args, "controls", None)))
        from ..inputs import registry_units_known

        registry_units_known(_list(args.units), reg, flag="--units")
        registry_units_known(_list(getattr(args, "donors", None)), reg, flag="--donors")
        return reg
    missing = [f"--{k}" for k in ("outcome", "unit", "time") if not getattr(args, k)]
    if missing:
        raise OgimpactError(f"--data needs {', '.join(missing)} (the column names).")
    df = read_csv(args.data, id_columns=[args.unit])  # ISO2 "NA" (Namibia) is a unit
    fe = _list(getattr(args, "fe", None))
    fe_cols = [args.unit if f == "unit" and "unit" not in df.columns else
               args.time if f == "time" and "time" not in df.columns else f for f in fe]
    ctx = warnings.catch_warnings()
    with ctx:
        if args.json:
            warnings.simplefilter("ignore", PanelWarning)
        return panel_from_csv(
            design, df, unit=args.unit, time=args.time, outcome=args.outcome,
            cohort=getattr(args, "cohort", None), treat=getattr(args, "treat", None) or getattr(args, "dose", None),
            covariates=_list(getattr(args, "covariates", None) or getattr(args, "controls", None)),
            regressors=_list(getattr(args, "regressors", None)),
            cluster=getattr(args, "cluster", None),
            fe=fe_cols + [c for c in (getattr(args, "lat", None), getattr(args, "lon", None)) if c],
        )


def _wild(args) -> dict:
    if getattr(args, "wild_bootstrap", None) is None:
        if getattr(args, "test", None):
            raise OgimpactError("--test needs --wild-bootstrap B (the number of bootstrap draws).")
        return {}
    return dict(wild_bootstrap=args.wild_bootstrap, test=args.test, null=args.null,
                bootstrap_weights=args.bootstrap_weights, seed=args.seed)


INFERENCE = ("placebo", "conformal", "prediction-interval")


def _inference_list(values) -> list[str]:
    """``--inference`` values (repeatable, each a comma list) checked against INFERENCE."""
    out: list[str] = []
    for v in values or ():
        for x in _list(v) or ():
            x = x.strip().lower()
            if x not in INFERENCE:
                raise OgimpactError(f"--inference takes {', '.join(INFERENCE)} (a comma list), got {x!r}.")
            if x not in out:
                out.append(x)
    return out


def _v_list(s: str | None):
    if s is None:
        return None
    try:
        return [float(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise OgimpactError(f"--v takes comma-separated numbers (one weight per predictor), got {s!r}.") from None


def _vcov_extra(a) -> dict:
    """Conley coordinates: only passed when given (the columns travel in the panel)."""
    return {k: getattr(a, k) for k in ("lat", "lon", "cutoff", "small_sample") if getattr(a, k, None) is not None}


def _bootstrap_fits(draws, panel) -> None:
    """Refuse a bootstrap whose draw matrix (draws x units x 8 bytes) exceeds the machine's memory."""
    if not draws:
        return
    need = float(draws) * panel.frame[panel.unit].nunique() * 8
    try:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        avail = 8 * 2 ** 30
    if need > 0.5 * avail:
        raise OgimpactError(f"--bootstrap {draws} needs about {need / 2 ** 30:.1f} GiB for its draws but "
                            f"{avail / 2 ** 30:.1f} GiB of memory is available (limit: half of it); "
                            f"use at most {int(0.5 * avail / need * draws):,} draws (999 is usual).")


def _options(args, design, panel) -> dict:
    a = args
    o: dict = {"alpha": a.alpha}
    if design == "panel":
        eff = (a.effects if a.effects is not None else "unit" if a.model == "re" else "unit,time").strip().lower()
        effects = () if eff in ("none", "") else tuple(e.strip() for e in eff.split(","))
        bad = [e for e in effects if e not in ("unit", "time")]
        if bad:
            raise OgimpactError(f"--effects takes unit,time | unit | time | none, got {a.effects!r}.")
        o.update(regressors=_list(a.regressors), effects=effects, model=a.model, vcov=a.vcov,
                 cluster=a.cluster, hac_lags=a.hac_lags, **_wild(a), **_vcov_extra(a))
    elif design == "twfe":
        o.update(cluster=a.cluster, **_wild(a), vcov=a.vcov, hac_lags=a.hac_lags, **_vcov_extra(a))
    elif design == "event-study":
        o.update(window=_span(a.window, "--window"), ref=a.ref, cluster=a.cluster, **_wild(a), vcov=a.vcov,
                 hac_lags=a.hac_lags, **_vcov_extra(a))
    elif design == "cs":
        _bootstrap_fits(a.bootstrap, panel)
        o.update(control=a.control, method=a.method, base=a.base, aggregate=a.aggregate,
                 anticipation=a.anticipation, bootstrap=a.bootstrap, seed=a.seed, cluster=a.cluster, min_cohort_size=a.min_cohort_size)
    elif design == "sun-abraham":
        o.update(cluster=a.cluster, min_cohort_size=a.min_cohort_size)
    elif design == "dcdh":
        o.update(treat=a.treat, effects=a.effects, placebo=a.placebo, cluster=a.cluster,
                 controls=_list(a.controls), normalized=a.normalized, same_switchers=a.same_switchers,
                 continuous=a.continuous)
    elif design == "continuous":
        o.update(dose=a.dose, target=a.target, degree=a.degree, num_knots=a.num_knots, aggregate=a.aggregate,
                 control=a.control, cluster=a.cluster)
    elif design == "etwfe":
        o.update(family=a.family, control=a.control, aggregate=a.aggregate, cluster=a.cluster, vcov=a.vcov,
                 hac_lags=a.hac_lags, **_vcov_extra(a))
    elif design == "stacked":
        o.update(window=_span(a.window, "--window"), cluster=a.cluster, vcov=a.vcov, hac_lags=a.hac_lags,
                 **_vcov_extra(a))
    elif design == "lp-did":
        from ._lp_did_args import lp_did_options

        o.update(lp_did_options(a))
    elif design == "imputation":
        fe = _list(a.fe)
        cols = panel.frame.columns
        o.update(fe=[panel.unit if f == "unit" and "unit" not in cols else
                     panel.time if f == "time" and "time" not in cols else f for f in fe],
                 cluster=a.cluster, se=a.se, min_cohort_size=a.min_cohort_size)
    elif design in SINGLE_UNIT:
        treated = a.treated
        from_reg = a.measure is not None
        if design in ("synth", "sdid") and treated is None:
            raise OgimpactError(f"design {design!r} needs --treated UNIT (the treated unit's id).")
        if treated is not None:
            units = set(map(str, panel.frame[panel.unit].unique()))
            if str(treated) not in units:  # the shared unknown-unit check of --units/--donors (close matches)
                from ..inputs import registry_units_known, unknown_units

                if not from_reg:
                    unknown_units([treated], units, flag="--treated", column=panel.unit)
                registry_units_known([str(treated)], panel, flag="--treated")
                # a known code the registry panel dropped for a recorded reason
                close = sorted(u for u in units if str(treated).lower()[:3] in u.lower())[:5]
                n_always = panel.info.get("n_always_treated_dropped") if from_reg else None
                raise OgimpactError(
                    f"treated unit {treated!r} is not in the data's {panel.unit!r} column"
                    + (f" (close: {', '.join(close)})" if close else "")
                    + ("; check the spelling, or it adopted before the panel's first year (the registry panel drops "
                       f"{n_always} such always-treated units), which leaves no pre-period." if n_always
                       else "; check the spelling.")
                )
            # keep the type of the unit column (numeric ids)
            match = [u for u in panel.frame[panel.unit].unique() if str(u) == str(treated)]
            treated = match[0]
        treat_time = a.treat_time
        if treat_time is None:
            if from_reg and treated is not None:
                treat_time = registry_treat_time(panel, treated)
            else:
                raise OgimpactError(f"design {design!r} needs --treat-time T (the first treated period).")
        o.update(treat_time=treat_time)
        if from_reg and design in ("synth", "sdid") and treated is not None:
            from ..estimation import registry_measure_se

            o.update(measure_se=registry_measure_se(a.measure, treated, int(treat_time)))
        if design != "its" or treated is not None:
            o.update(treated=treated)
        default_spec, require = None, ()
        # augsynth's ASCM, CWZ's conformal test and scpi's intervals fit the pre-period outcomes alone:
        # asking for them on a registry run selects the outcome-only fit instead of the default predictors
        outcome_only = design == "synth" and (a.augment == "ridge" or a.fixedeff or any(
            i in ("conformal", "prediction-interval") for i in _inference_list(a.inference)))
        if design == "synth" and from_reg and not a.predictors and not outcome_only:  # registry default predictors
            from ..donors import DEFAULT_COVARIATES, default_predictors

            panel, default_spec = default_predictors(panel, treat_time=int(treat_time))
            o["_panel"], require = panel, [c for c, *_ in DEFAULT_COVARIATES]
        pool = _donor_pool(a, design, panel, treated, treat_time, require) \
            if from_reg and treated is not None else None
        if pool is not None:
            o["_donor_pool"] = pool
        elif getattr(a, "donor_rule", None):
            raise OgimpactError("--donor-rule applies to registry runs (--measure/--intervention); "
                                "give --donors U1,U2 for a CSV panel.")
        if design == "synth":
            donors = pool.donors if pool is not None else (_list(a.donors) or None)
            if donors and pool is None:
                from ..inputs import unknown_units

                unknown_units(donors, panel.frame[panel.unit].unique(), flag="--donors", column=panel.unit)
            o.update(predictors=a.predictors or default_spec, optimize_window=_span(a.optimize_window, "--optimize-window"),
                     donors=donors, placebo=tuple(_list(a.placebo)), placebo_time=a.placebo_time,
                     drop_ratio=a.drop_ratio, loo=a.loo, n_jobs=a.workers, seed=a.seed)
            bad = [p for p in o["placebo"] if p not in ("space", "time")]
            if bad:
                raise OgimpactError(f"--placebo takes space and/or time, got {', '.join(bad)}.")
            inf = _inference_list(a.inference)
            if "placebo" in inf and "space" not in o["placebo"]:
                o["placebo"] = (*o["placebo"], "space")
            o.update(augment=a.augment, lam=a.lam, fixedeff=a.fixedeff,
                     inference=tuple(i for i in inf if i != "placebo"),
                     conformal_scheme=a.conformal_scheme, reps=a.reps,
                     pi_e_method=a.pi_e_method, pi_sims=a.pi_sims,
                     v_method=a.v_method, train=_span(a.train, "--train", ordered=True),
                     validate=_span(a.validate, "--validate", ordered=True), train_predictors=a.train_predictors,
                     v=_v_list(a.v_given))
        elif design == "sdid":
            o.update(method=a.method, placebo_reps=a.placebo_reps, seed=a.seed)
            inf = _inference_list(a.inference)
            if inf:
                o.update(inference=tuple(inf), conformal_scheme=a.conformal_scheme, reps=a.reps)
            if a.covariates:
                o.update(covariates=_list(a.covariates), covariate_sample=a.covariate_sample)
        else:
            # comparative ITS (registry, --treated): the comparison series is the mean of the donor pool
            o.update(hac_lags=a.hac_lags, seasonal=a.seasonal, se=a.se)
    return o
