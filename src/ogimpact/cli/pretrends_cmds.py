"""``ogimpact pretrends`` — power of the pre-test against a linear trend (Roth 2022; CONTRACT.md).

    ogimpact pretrends --event-study FILE.json (--power P | --slope S) [--alpha A] [--json]

FILE.json is the result JSON of ``ogimpact estimate <dynamic design> --json`` (its ``event_study``
rows and ``vcov``).  Pre-periods are event times < 0 other than the reference period
(``options.ref`` of the file, [-1]); the hypothesised trend is zero at the reference period.
"""
from __future__ import annotations

import argparse

from ..errors import UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pretrends",
        help="power of the pre-trend test against a linear trend (Roth 2022)",
        description=(
            "Roth (2022) pre-test power, as R/Stata pretrends: the pre-test passes when no pre-period "
            "coefficient is individually significant at --alpha. With --power P: the linear trend slope the "
            "pre-test detects with probability P; with --slope S: its power, the likelihood ratio of the "
            "observed pre-period coefficients (trend vs parallel trends), the Bayes factor and the bias the "
            "trend causes in each post-period coefficient among event studies that pass the pre-test."
        ),
    )
    p.add_argument("--event-study", required=True, metavar="FILE.json",
                   help="result JSON written by `ogimpact estimate ... --json` (event_study + vcov)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--power", type=float, metavar="P", help="find the slope detected with this power, e.g. 0.5 or 0.8")
    g.add_argument("--slope", type=float, metavar="S", help="evaluate the pre-test against this slope per period")
    p.add_argument("--alpha", type=float, default=0.05, help="level of each pre-period t-test [0.05]")
    p.add_argument("--ref", type=int, default=None,
                   help="reference period where the trend is zero [options.ref of the file, else -1]")
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.pretrends import pretrends
    from .sensitivity_cmds import _read_event_study, emit_result

    es = _read_event_study(args.event_study)
    ref = args.ref if args.ref is not None else (es.ref if es.ref is not None else -1)
    try:
        ref = int(ref)
    except (TypeError, ValueError):
        raise UsageError(f"the reference period must be an integer event time; got {ref!r} (set --ref).") from None
    res = pretrends(es.event_times, es.estimates, es.vcov, ref=ref, power=args.power, slope=args.slope,
                    alpha=args.alpha)
    return emit_result(res, args, es)
