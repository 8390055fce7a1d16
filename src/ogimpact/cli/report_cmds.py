"""``ogimpact report country|cross-country|evidence|batch``."""
from __future__ import annotations

from ..errors import OgimpactError
from ..parse import id_list
from ._output import emit_json


def _list(s):
    return id_list(s) or None


def register(sub) -> None:
    p = sub.add_parser("report", help="run parameterised notebook reports (HTML + results + manifest)",
                       description="Execute a report notebook with Papermill and write reports/<kind>/<slug>/.")
    rsub = p.add_subparsers(dest="report_kind", metavar="KIND", parser_class=type(p))

    c = rsub.add_parser("country", help="one country x one intervention")
    c.add_argument("country", metavar="ISO3")
    c.add_argument("--intervention", required=True, metavar="ID")
    c.add_argument("--measures", metavar="ID,...")
    c.add_argument("--designs", metavar="D,...", help="synth,sdid,its,cs [all]")
    c.add_argument("--years", metavar="A:B")
    c.add_argument("--variant", metavar="V")
    c.add_argument("--donor-rule", metavar="RULE",
                   help="donor rule of synth / SDID (ogimpact.donors: similar, untreated, region, all-untreated) "
                        f"[{_default('country', 'donor_rule')}, as assess and the estimate registry mode]")
    c.add_argument("--horizon", type=int, metavar="H",
                   help=f"headlines average event times / post periods 0..H [{_default('country', 'horizon')}]")
    c.add_argument("--no-placebo", action="store_true", help="skip the placebo-in-space loop")
    _common(c)
    c.set_defaults(func=run_country)

    x = rsub.add_parser("cross-country", help="one intervention across all adopters")
    x.add_argument("--intervention", required=True, metavar="ID")
    x.add_argument("--measures", metavar="ID,...")
    x.add_argument("--designs", metavar="D,...", help="twfe,cs,sun-abraham,imputation [all]")
    x.add_argument("--years", metavar="A:B")
    x.add_argument("--variant", metavar="V")
    x.add_argument("--horizon", type=int, metavar="H",
                   help=f"headlines average event times 0..H [{_default('cross-country', 'horizon')}]")
    _common(x)
    x.set_defaults(func=run_cross)

    e = rsub.add_parser("evidence", help="evidence map and pooled estimates for the whole registry")
    e.add_argument("--measures", metavar="ID,...")
    e.add_argument("--horizon", type=int, metavar="H",
                   help=f"cells' estimand: event times 0..H [{_default('evidence', 'horizon')}]")
    _common(e)
    e.set_defaults(func=run_evidence)

    import argparse

    from ..reports.batch import SPEC_HELP

    b = rsub.add_parser("batch", help="many reports from a YAML spec (process pool or Dask)",
                        description="Run many reports from a YAML spec, in a local process pool or on a Dask "
                                    "cluster, and write index.html beside them.",
                        epilog=SPEC_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("spec", metavar="SPEC.yaml")
    b.add_argument("--workers", type=int, default=1, metavar="N")
    b.add_argument("--scheduler", metavar="ADDRESS", help="Dask distributed scheduler, e.g. tcp://host:8786")
    b.add_argument("--out", metavar="DIR", help="reports folder [the spec's out:, else reports/]")
    b.add_argument("--timeout", type=int, default=600, metavar="S")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=run_batch)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _common(p):
    p.add_argument("--seed", type=int, metavar="N", help="random seed of every resampling step [0]")
    p.add_argument("--out", metavar="DIR", help="reports folder [reports/]")
    p.add_argument("--timeout", type=int, default=600, metavar="S", help="seconds per notebook cell")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.add_argument("--format", choices=["html", "pdf"], default="html",
                   help="html, or pdf: report.html and report.pdf (Chromium print-to-PDF via playwright) [html]")
    p.add_argument("--allow-modified-data", action="store_true",
                   help="build the report even if bundled data differ from data/manifest.csv (recorded)")
    p.add_argument("--figures", choices=["png"], default=None,
                   help="also write every figure as a 300-dpi PNG in figures/ beside report.html, listed in "
                        "manifest.json (figures are SVG in the HTML either way) [off]")


def _finish(params, args) -> int:
    from ..reports import run_report

    pdf = getattr(args, "format", "html") == "pdf"
    o = run_report(params, out_root=args.out, timeout=args.timeout,
                   allow_modified_data=getattr(args, "allow_modified_data", False), pdf=pdf)
    if args.json:
        emit_json(o.to_dict())
    else:
        print(f"report written: {o.path / ('report.pdf' if pdf else 'report.html')}  ({o.seconds:.1f} s)")
    return 0


def _default(kind: str, name: str):
    """A report parameter's default, from its one home (the parameter classes in reports.params)."""
    from dataclasses import fields

    from ..reports.params import KINDS

    return next(f.default for f in fields(KINDS[kind]) if f.name == name)


def params_from_args(kind: str, args):
    """The report parameters an ``ogimpact report KIND ...`` command line asks for (not yet validated).

    An option left out takes :func:`ogimpact.reports.params.cli_defaults` (the intervention's own
    measures and designs for a country report, else the parameter classes' defaults).
    """
    from ..reports.params import KINDS, cli_defaults

    d = cli_defaults(kind, getattr(args, "intervention", None))
    kw = {}
    if kind == "country":
        kw["country"] = args.country
    if kind != "evidence":
        kw["intervention"] = args.intervention
    kw["measures"] = tuple(_list(args.measures) or d["measures"])
    if kind != "evidence":
        kw["designs"] = tuple(_list(args.designs) or d["designs"])
        kw["years"] = args.years
        kw["variant"] = args.variant
    if kind == "country":
        kw["donor_rule"] = args.donor_rule if args.donor_rule is not None else d["donor_rule"]
        kw["placebo"] = not args.no_placebo
    for name in ("seed", "horizon"):
        v = getattr(args, name)
        kw[name] = v if v is not None else d[name]
    kw["figures"] = getattr(args, "figures", None)
    return KINDS[kind](**kw)


def run_country(args) -> int:
    return _finish(params_from_args("country", args), args)


def run_cross(args) -> int:
    return _finish(params_from_args("cross-country", args), args)


def run_evidence(args) -> int:
    return _finish(params_from_args("evidence", args), args)


def run_batch(args) -> int:
    from ..reports.batch import batch_root
    from ..reports.batch import run_batch as _run

    if args.workers < 1:
        raise OgimpactError("--workers must be at least 1.")
    out = _run(args.spec, workers=args.workers, scheduler=args.scheduler, out_root=args.out, timeout=args.timeout,
               progress=not args.json)
    n_bad = sum(1 for r in out if r.get("status") != "ok")
    if args.json:
        emit_json({"runs": out, "n_ok": len(out) - n_bad, "n_failed": n_bad})
    else:
        for r in out:
            extra = f"  {r.get('error')}" if r.get("error") else ""
            print(f"{r.get('status'):8s} {r.get('kind'):14s} {r.get('slug')}{extra}")
        print(f"{len(out) - n_bad} of {len(out)} reports ok; index: {batch_root(args.spec, args.out) / 'index.html'}")
    return 0 if n_bad == 0 else 1
