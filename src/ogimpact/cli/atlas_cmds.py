"""``ogimpact atlas`` — the evidence atlas: build it (incrementally, locally or on Dask) and diff two builds.

    ogimpact atlas build [--interventions ID,...] [--measures ID,...] [--country-measures ID,...|all|none]
                         [--countries ISO3,...] [--out DIR] [--workers N | --scheduler ADDRESS] [--rebuild]
                         [--cache DIR] [--seed N] [--min-pre K] [--sdid-reps R] [--no-progress] [--json]
    ogimpact atlas diff OLD NEW [--json]
"""
from __future__ import annotations

from ..errors import RunError, UsageError
from ..parse import id_list
from ._output import emit_json


def register(subparsers) -> None:
    p = subparsers.add_parser("atlas", help="the evidence atlas: every intervention x measure x country graded, "
                              "as an offline site")
    sub = p.add_subparsers(dest="atlas_command", metavar="SUBCOMMAND")
    b = sub.add_parser(
        "build", help="build or update the atlas (cached cells are reused)",
        description=("Every intervention x catalogued country-level measure is assessed across countries (staggered "
                     "designs), and every adopting country with enough pre-adoption years on the country measures "
                     "with single-country designs; each cell is graded with its headline, estimand and reasons, "
                     "keyed by a content hash of its inputs and cached; DIR gets the data files, a tidy CSV, "
                     "manifest.json (keys, status, timings) and a static offline site (DIR/index.html)."))
    b.add_argument("--interventions", default="rti_law,ogp_member", metavar="ID,...",
                   help="country-level interventions [rti_law,ogp_member]")
    b.add_argument("--measures", metavar="ID,...",
                   help="measures of the cross-country cells [every catalogued country-level measure]")
    b.add_argument("--country-measures", metavar="ID,...|all|none",
                   help="measures of the single-country cells [the intervention's default set, one per "
                        "domain; 'all' = --measures]")
    b.add_argument("--countries", metavar="ISO3,...", help="restrict the single-country cells to these countries")
    b.add_argument("--out", default="atlas", metavar="DIR", help="output folder [atlas]")
    eng = b.add_mutually_exclusive_group()
    eng.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes [1]")
    eng.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler tcp://host:port, or local:N for a LocalCluster of N workers")
    b.add_argument("--rebuild", action="store_true", help="recompute every cell (ignore the cache)")
    b.add_argument("--cache", metavar="DIR",
                   help="cell cache folder [$OGIMPACT_ATLAS_CACHE, else ~/.cache/ogimpact/atlas]")
    b.add_argument("--seed", type=int, default=0, help="seed of every random step [0]")
    b.add_argument("--min-pre", type=int, default=5, metavar="K",
                   help="pre-adoption years a country needs in a measure's coverage for a single-country cell [5]")
    b.add_argument("--sdid-reps", type=int, default=50, metavar="R", help="SDID placebo replications [50]")
    b.add_argument("--variant", metavar="V", help="timing variant of the interventions [each one's default]")
    b.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    b.add_argument("--json", action="store_true", help="print the build manifest as JSON")
    b.set_defaults(func=run_build)
    d = sub.add_parser("diff", help="cells whose grade or headline changed between two builds, and why",
                       description="Compare OLD/data/atlas.json with NEW/data/atlas.json: changed grades and "
                                   "headlines with the inputs that changed (data, timing, rubric, code, parameters).")
    d.add_argument("old", metavar="OLD", help="folder of the earlier atlas")
    d.add_argument("new", metavar="NEW", help="folder of the later atlas")
    d.add_argument("--json", action="store_true", help="print the diff as JSON")
    d.set_defaults(func=run_diff)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _country_measures(text):
    if text is None:
        return None
    if text.strip().lower() == "all":
        return "all"
    if text.strip().lower() == "none":
        return []
    return id_list(text)


def run_build(args) -> int:
    from ..reports.atlas.build import build_atlas

    if args.min_pre < 1:
        raise UsageError("--min-pre must be at least 1 pre-adoption year.")
    if args.sdid_reps < 2:
        raise UsageError("--sdid-reps must be at least 2.")
    params = {"seed": args.seed, "min_pre": args.min_pre, "sdid_reps": args.sdid_reps, "variant": args.variant}
    m = build_atlas(id_list(args.interventions), out=args.out,
                    measures=id_list(args.measures) if args.measures else None,
                    country_measures=_country_measures(args.country_measures),
                    countries=id_list(args.countries) if args.countries else None, params=params,
                    workers=args.workers, scheduler=args.scheduler, rebuild=args.rebuild, cache_dir=args.cache,
                    progress=not args.no_progress)
    if args.json:
        emit_json({k: v for k, v in m.items() if k != "cells"})
    else:
        c = m["cache"]
        print(f"atlas {m['atlas_version']}: {m['n_cells']} cells ({m['n_computed']} computed, {m['n_reused']} reused "
              f"from the cache, {m['n_not_estimable']} not estimable, {m['n_failed']} failed) in "
              f"{m['seconds']['total']:.1f} s with {m['engine']}")
        from pathlib import Path

        o = Path(args.out)
        print(f"site: {o / 'index.html'} · tidy CSV: {o / 'data' / 'atlas.csv'} · manifest: {o / 'manifest.json'}")
        print(f"cache: {c['dir']} ({c['cells']} cells, {c['bytes'] / 1e6:.1f} MB)")
        if m["failures"]:
            print("\nfailed cells (not cached; the next build retries them):")
            w = max(len(f["id"]) for f in m["failures"])
            for f in m["failures"]:
                print(f"  {f['id']:<{w}}  {f['error']}")
    if m["failures"]:
        raise RunError(f"{m['n_failed']} of {m['n_cells']} atlas cells failed (listed above); the atlas was written "
                       "with them marked failed.")
    return 0


def run_diff(args) -> int:
    from ..reports.atlas.diff import diff_atlases, format_diff

    d = diff_atlases(args.old, args.new)
    if args.json:
        emit_json(d)
    else:
        print(format_diff(d))
    return 0
