"""``ogimpact sensitivity`` — HonestDiD sensitivity of an event study (CONTRACT.md).

    ogimpact sensitivity --event-study FILE.json --method rm|sd (--mbar A,B,... | --m A,B,...)
                         [--l-vec W1,W2,...] [--alpha A] [--json]

FILE.json is the result JSON of ``ogimpact estimate <dynamic design> --json`` (its
``event_study`` rows and ``vcov``).  Pre-periods are event times < 0, post-periods
event times >= 0; the reference period is not in the file.
"""
from __future__ import annotations

import argparse
import json
import math

from ..errors import DataError, OgimpactError, UsageError
from ._output import emit_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sensitivity",
        help="HonestDiD robust CIs when parallel trends may fail (Rambachan & Roth)",
        description=(
            "Rambachan & Roth (2023) sensitivity analysis as R HonestDiD: relative magnitudes Delta^RM(Mbar) "
            "with the conditional-least-favourable hybrid (C-LF) confidence set, or smoothness Delta^SD(M) with "
            "the optimal fixed-length CI (FLCI). The target is l'tau_post [the first post period]. "
            "'breakdown' is the smallest grid value whose robust CI contains 0 (null if none, and null with "
            "'breakdown_note' = 'not applicable: ...' when the original CI already covers 0)."
        ),
    )
    p.add_argument("--event-study", required=True, metavar="FILE.json",
                   help="result JSON written by `ogimpact estimate ... --json` (event_study + vcov)")
    p.add_argument("--method", required=True, choices=("rm", "sd"),
                   help="rm: relative magnitudes (Mbar); sd: smoothness (M)")
    p.add_argument("--mbar", metavar="A,B,...", help="Mbar grid for --method rm [10 values on 0..2]")
    p.add_argument("--m", metavar="A,B,...", help="M grid for --method sd [10 values on 0..Mub, as R]")
    p.add_argument("--l-vec", metavar="W1,W2,...", help="weights on the post-period coefficients [1,0,...,0]")
    p.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level [0.05]")
    p.add_argument("--grid-points", type=int, default=1000,
                   help="rm only: theta grid size of the test inversion [1000, as R]")
    p.add_argument("--seed", type=int, default=0, help="rm only: seed of the least-favourable simulation [0, as R]")
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.set_defaults(func=run)


def _floats(text: str, flag: str) -> list[float]:
    vals = []
    for tok in text.split(","):
        tok = tok.strip()
        if not tok:
            continue
        try:
            v = float(tok)
        except ValueError:
            raise UsageError(f"{flag} takes comma-separated numbers, e.g. 0,0.5,1; '{tok}' is not a number.") from None
        if not math.isfinite(v):
            raise UsageError(f"{flag} values must be finite; got '{tok}'.")
        vals.append(v)
    if not vals:
        raise UsageError(f"{flag} needs at least one number, e.g. 0,0.5,1.")
    return vals


def _read_event_study(path: str):
    from ..results import EventStudy

    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise DataError(
            f"event-study file {path} not found; write it with `ogimpact estimate event-study ... --json > FILE.json`."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc}); write it with `ogimpact estimate ... --json`.") from None
    if not isinstance(doc, dict):
        raise DataError(f"{path} does not hold a result JSON object; write it with `ogimpact estimate ... --json`.")
    rows = doc.get("event_study")
    if (doc.get("design") == "imputation" and isinstance(rows, list)
            and not any(isinstance(r, dict) and (r.get("event_time") or 0) < 0 for r in rows)):
        raise UsageError(
            f"{path} is an imputation event study, which has no pre-period coefficients for HonestDiD to bound "
            "trend violations with; run the sensitivity on `ogimpact estimate event-study`, `sun-abraham` or "
            "`cs --aggregate dynamic` output instead."
        )
    try:
        return EventStudy.from_result_json(doc)
    except OgimpactError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"{path} has malformed 'event_study' rows or 'vcov' ({type(exc).__name__}: {exc}); "
            "re-create it with `ogimpact estimate ... --json`."
        ) from None


def run(args: argparse.Namespace) -> int:
    from ..inference.sensitivity import honest_did

    if args.method == "rm" and args.m is not None:
        raise UsageError("--m is the smoothness grid of --method sd; use --mbar with --method rm.")
    if args.method == "sd" and args.mbar is not None:
        raise UsageError("--mbar is the relative-magnitudes grid of --method rm; use --m with --method sd.")
    text = args.mbar if args.method == "rm" else args.m
    grid = None if text is None else _floats(text, "--mbar" if args.method == "rm" else "--m")
    l_vec = None if args.l_vec is None else _floats(args.l_vec, "--l-vec")
    es = _read_event_study(args.event_study)
    res = honest_did(es, method=args.method, grid=grid, l_vec=l_vec, alpha=args.alpha,
                     grid_points=args.grid_points, seed=args.seed)
    return emit_result(res, args, es)


def emit_result(res, args: argparse.Namespace, es) -> int:
    """Print a result read off an event-study file: its JSON (with the file and estimator in
    ``options``) or its summary.  Shared by ``sensitivity`` and ``pretrends``."""
    if args.json:
        doc = res.to_dict()
        doc["options"] = {**doc["options"], "event_study_file": args.event_study, "estimator": es.estimator}
        emit_json(doc)
    else:
        print(res.summary())
    return 0
