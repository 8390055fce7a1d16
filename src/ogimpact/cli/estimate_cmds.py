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
    registry_donors,
    registry_panel,
    registry_treat_time,
)
from ..panel import PanelWarning
from ..parse import id_list, span
from ._output import emit_json

HELP = {
    "panel": "linear panel regression (FE / RE / pooled)",
    "twfe": "static two-way fixed-effects DiD for a 0/1 treatment",
    "event-study": "dynamic TWFE with leads and lags relative to the cohort",
    "cs": "Callaway & Sant'Anna (2021) staggered DiD",
    "sun-abraham": "Sun & Abraham (2021) interaction-weighted event study",
    "imputation": "Borusyak-Jaravel-Spiess imputation / Gardner two-stage DiD",
    "synth": "Abadie-Diamond-Hainmueller synthetic control",
    "sdid": "synthetic difference-in-differences (Arkhangelsky et al. 2021)",
    "its": "interrupted time series (segmented regression, Newey-West SEs)",
}


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
        g.add_argument("--vcov", choices=["classical", "robust", "cluster", "newey-west"],
                       help="[cluster when --cluster is given, else classical]")
        g.add_argument("--cluster", metavar="COL", help="cluster column (A,B for two-way) [none; the unit with --vcov cluster]")
        g.add_argument("--hac-lags", type=_nonneg_int, metavar="L",
                       help="Newey-West lags [floor(4(T/100)^(2/9))]")
    if name == "twfe":
        g.add_argument("--treat", metavar="COL", help="0/1 treatment column (required)")
        g.add_argument("--covariates", metavar="A,B", help="time-varying controls [none]")
        g.add_argument("--cluster", metavar="COL", help="[unit]")
    if name in ("event-study", "cs", "sun-abraham", "imputation"):
        g.add_argument("--cohort", metavar="COL",
                       help="first treated period (required); 0/empty/beyond last = never treated")
        g.add_argument("--covariates", metavar="A,B", help="[none]")
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
    if name in SINGLE_UNIT:
        g.add_argument("--treated", metavar="UNIT", required=False,
                       help="the treated unit's id" + (" (required)" if name != "its" else " [the only unit]"))
        g.add_argument("--treat-time", type=int, metavar="T",
                       help="first treated period (required; registry: the adoption year)")
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
    if name == "sdid":
        g.add_argument("--method", default="sdid", choices=["sdid", "sc", "did"], help="[sdid]")
        g.add_argument("--placebo-reps", type=_nonneg_int, metavar="N",
                       help="placebo replications for the SE (Arkhangelsky et al. Algorithm 4) [none]")
        g.add_argument("--seed", type=_nonneg_int, default=0, help="[0]")
    if name == "its":
        g.add_argument("--hac-lags", type=_nonneg_int, metavar="L", help="Newey-West lags [floor(4(T/100)^(2/9))]")
        g.add_argument("--seasonal", action="store_true",
                       help="month-of-year dummies (time must be a month index, e.g. year*12+month-1)")
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
    # warnings are held back until the run succeeds, then printed one line each: a failed run
    # prints only its one-line error (CONTRACT: errors are one plain sentence on stderr)
    with warnings.catch_warnings(record=True) as caught:
        if args.json:
            warnings.simplefilter("ignore")
        else:
            warnings.simplefilter("always", PanelWarning)
        panel = _build_panel(args, design)
        opts = _options(args, design, panel)
        excluded = opts.pop("_excluded_donors", None)
        keep = opts.pop("_keep_units", None)
        if keep is not None:
            panel = panel.subset_units(keep)
        res = estimate(design, panel, **opts)
    for msg in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
        print(f"ogimpact: warning: {msg}", file=sys.stderr)
    if excluded is not None:
        res = res.replace(options={**res.options, "donor_rule": "registry: exclude units adopting on or before "
                                   "the last period and units with incomplete series",
                                   "excluded_donors": excluded})
    if args.json:
        emit_json(res.to_dict())
    else:
        print(res.summary())
    return 0


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PanelWarning)
            reg = registry_panel(design, measure=args.measure, intervention=args.intervention,
                                 years=years, units=_list(args.units) or None,
                                 variant=args.variant, covariates=_list(getattr(args, "covariates", None)))
        from ..tables import registry_units_known

        registry_units_known(_list(args.units), reg, flag="--units")
        return reg
    missing = [f"--{k}" for k in ("outcome", "unit", "time") if not getattr(args, k)]
    if missing:
        raise OgimpactError(f"--data needs {', '.join(missing)} (the column names).")
    df = read_csv(args.data)
    fe = _list(getattr(args, "fe", None))
    fe_cols = [args.unit if f == "unit" and "unit" not in df.columns else
               args.time if f == "time" and "time" not in df.columns else f for f in fe]
    ctx = warnings.catch_warnings()
    with ctx:
        if args.json:
            warnings.simplefilter("ignore", PanelWarning)
        return panel_from_csv(
            design, df, unit=args.unit, time=args.time, outcome=args.outcome,
            cohort=getattr(args, "cohort", None), treat=getattr(args, "treat", None),
            covariates=_list(getattr(args, "covariates", None)),
            regressors=_list(getattr(args, "regressors", None)),
            cluster=getattr(args, "cluster", None), fe=fe_cols,
        )


def _wild(args) -> dict:
    if getattr(args, "wild_bootstrap", None) is None:
        if getattr(args, "test", None):
            raise OgimpactError("--test needs --wild-bootstrap B (the number of bootstrap draws).")
        return {}
    return dict(wild_bootstrap=args.wild_bootstrap, test=args.test, null=args.null,
                bootstrap_weights=args.bootstrap_weights, seed=args.seed)


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
                 cluster=a.cluster, hac_lags=a.hac_lags, **_wild(a))
    elif design == "twfe":
        o.update(cluster=a.cluster, **_wild(a))
    elif design == "event-study":
        o.update(window=_span(a.window, "--window"), ref=a.ref, cluster=a.cluster, **_wild(a))
    elif design == "cs":
        _bootstrap_fits(a.bootstrap, panel)
        o.update(control=a.control, method=a.method, base=a.base, aggregate=a.aggregate,
                 anticipation=a.anticipation, bootstrap=a.bootstrap, seed=a.seed, cluster=a.cluster)
    elif design == "sun-abraham":
        o.update(cluster=a.cluster)
    elif design == "imputation":
        fe = _list(a.fe)
        cols = panel.frame.columns
        o.update(fe=[panel.unit if f == "unit" and "unit" not in cols else
                     panel.time if f == "time" and "time" not in cols else f for f in fe],
                 cluster=a.cluster, se=a.se)
    elif design in SINGLE_UNIT:
        treated = a.treated
        from_reg = a.measure is not None
        if design in ("synth", "sdid") and treated is None:
            raise OgimpactError(f"design {design!r} needs --treated UNIT (the treated unit's id).")
        if treated is not None:
            units = set(map(str, panel.frame[panel.unit].unique()))
            if str(treated) not in units:
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
        if design != "its" or treated is not None:
            o.update(treated=treated)
        if design == "synth":
            donors = _list(a.donors) or None
            if donors:
                from ..tables import unknown_units

                unknown_units(donors, panel.frame[panel.unit].unique(), flag="--donors")
            if donors is None and from_reg:
                donors, excluded = registry_donors(panel, treated=treated)
                o["_excluded_donors"] = excluded
            o.update(predictors=a.predictors, optimize_window=_span(a.optimize_window, "--optimize-window"),
                     donors=donors, placebo=tuple(_list(a.placebo)), placebo_time=a.placebo_time,
                     drop_ratio=a.drop_ratio, loo=a.loo, n_jobs=a.workers, seed=a.seed)
            bad = [p for p in o["placebo"] if p not in ("space", "time")]
            if bad:
                raise OgimpactError(f"--placebo takes space and/or time, got {', '.join(bad)}.")
        elif design == "sdid":
            if from_reg:
                donors, excluded = registry_donors(panel, treated=treated)
                o["_excluded_donors"] = excluded
                o["_keep_units"] = [treated, *donors]
            o.update(method=a.method, placebo_reps=a.placebo_reps, seed=a.seed)
        else:
            if from_reg and treated is not None:
                # comparative ITS: the comparison series is the mean of the other units, so it gets the
                # registry donor rule of synth/sdid (no adopters inside the window, complete series)
                donors, excluded = registry_donors(panel, treated=treated)
                o["_excluded_donors"] = excluded
                o["_keep_units"] = [treated, *donors]
            o.update(hac_lags=a.hac_lags, seasonal=a.seasonal)
    return o
