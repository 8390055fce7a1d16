"""``ogimpact meta`` — meta-analysis of study estimates or 2x2 counts (CONTRACT.md).

    ogimpact meta --data FILE.csv (--estimate COL --se COL | --counts A,B,C,D --measure rr|or|rd)
                  [--label COL] [--moderators COL,...] --method reml|dl|pm|fe|mh|peto [--json]
"""
from __future__ import annotations

import argparse

import pandas as pd

from ..errors import DataError, UsageError
from ._output import emit_json

INVERSE_VARIANCE = ("reml", "dl", "pm", "fe")
COUNT_ONLY = ("mh", "peto")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "meta",
        help="pool estimates across studies (random/common effect, meta-regression, Mantel-Haenszel, Peto)",
        description=(
            "Meta-analysis as R metafor: rma (REML by Fisher scoring, DL, PM, FE), rma.mh and rma.peto; "
            "counts become log risk/odds ratios or risk differences as escalc does. Normal (z) critical values. "
            "Ratio measures are reported on the log scale."
        ),
    )
    p.add_argument("--data", required=True, metavar="FILE.csv", help="one row per study")
    p.add_argument("--estimate", metavar="COL", help="effect-size column")
    p.add_argument("--se", metavar="COL", help="standard-error column")
    p.add_argument("--counts", metavar="A,B,C,D",
                   help="treated events, treated non-events, control events, control non-events")
    p.add_argument("--measure", choices=("rr", "or", "rd"), help="effect measure for --counts")
    p.add_argument("--label", metavar="COL", help="study label column")
    p.add_argument("--moderators", metavar="COL,...", help="meta-regression moderators (reml/dl/pm/fe)")
    p.add_argument("--method", required=True, choices=INVERSE_VARIANCE + COUNT_ONLY)
    p.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level [0.05]")
    p.add_argument("--test", default="z", choices=("z", "knha"),
                   help="z, or knha: Hartung-Knapp-Sidik-Jonkman t(k-p) inference (reml/dl/pm/fe) [z]")
    p.add_argument("--bias", metavar="egger,trimfill",
                   help="publication-bias rows: egger (metafor regtest model='lm'), trimfill (metafor trimfill)")
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.set_defaults(func=run)


def _cols(df: pd.DataFrame, names: list[str], what: str) -> None:
    from ..inputs import require_columns

    require_columns(df, names, f"{what} column")


def run(args: argparse.Namespace) -> int:
    from ..evidence.escalc import escalc, mantel_haenszel, peto
    from ..evidence.meta import meta_analysis

    from ..estimation import read_csv
    from ..inputs import numeric_column

    # the same reader as `estimate`: BOM, stray header blanks, semicolon/tab files and ragged rows
    df = read_csv(args.data, id_columns=[args.label])  # a study labelled NA keeps its label
    has_est = args.estimate is not None or args.se is not None
    if has_est == (args.counts is not None):
        raise UsageError("give either --estimate COL --se COL or --counts A,B,C,D (exactly one of the two).")
    labels = None
    if args.label:
        _cols(df, [args.label], "--label")
        labels = df[args.label].astype(str).tolist()
    mods = None
    if args.moderators:
        names = [c.strip() for c in args.moderators.split(",") if c.strip()]
        _cols(df, names, "--moderators")
        if args.method in COUNT_ONLY:
            raise UsageError(f"--moderators needs an inverse-variance method (reml, dl, pm, fe), not {args.method}.")
        mods = df[names]
    if has_est:
        if args.estimate is None or args.se is None:
            raise UsageError("--estimate and --se go together; give both columns.")
        if args.method in COUNT_ONLY:
            raise UsageError(f"--method {args.method} pools 2x2 counts; give --counts A,B,C,D (or use reml/dl/pm/fe).")
        _cols(df, [args.estimate, args.se], "--estimate/--se")
        y = numeric_column(df, args.estimate, role="--estimate column")
        s = numeric_column(df, args.se, role="--se column", positive=True)
        res = meta_analysis(y.to_numpy(), s.to_numpy(), method=args.method, labels=labels, moderators=mods,
                            alpha=args.alpha, measure=args.measure)
    else:
        cols = [c.strip() for c in args.counts.split(",")]
        if len(cols) != 4:
            raise UsageError(f"--counts needs four columns A,B,C,D; got {len(cols)}.")
        _cols(df, cols, "--counts")
        a, b, c, d = (numeric_column(df, x, role="--counts column").to_numpy() for x in cols)
        if args.method == "peto":
            if args.measure not in (None, "or"):
                raise UsageError("Peto's method pools odds ratios; use --measure or (or omit --measure).")
            res = peto(a, b, c, d, labels=labels, alpha=args.alpha)
        else:
            if args.measure is None:
                raise UsageError("--counts needs --measure rr|or|rd.")
            if args.method == "mh":
                res = mantel_haenszel(a, b, c, d, measure=args.measure, labels=labels, alpha=args.alpha)
            else:
                es = escalc(args.measure, a, b, c, d)
                res = meta_analysis(es["yi"].to_numpy(), vi=es["vi"].to_numpy(), method=args.method, labels=labels,
                                    moderators=mods, alpha=args.alpha, measure=args.measure)
    bias_rows = []
    if args.test == "knha" or args.bias:
        from ..evidence import meta_bias

        if args.method in COUNT_ONLY:
            raise UsageError(f"--test knha and --bias need an inverse-variance method (reml, dl, pm, fe), not {args.method}.")
        if args.test == "knha":
            res = meta_bias.knha(res, X=_design_matrix(res, mods))
        kinds = [b.strip() for b in (args.bias or "").split(",") if b.strip()]
        bad = [b for b in kinds if b not in ("egger", "trimfill")]
        if bad:
            raise UsageError(f"--bias takes egger and/or trimfill, got {', '.join(bad)}.")
        for b in kinds:
            bias_rows.append(meta_bias.egger_test(res) if b == "egger" else meta_bias.trim_and_fill(res))
    if args.json:
        doc = res.to_dict()
        if bias_rows:
            from ..results import json_safe

            doc["bias"] = json_safe(bias_rows)
        doc["options"] = {**doc.get("options", {}), "data": args.data,
                          "input": "counts" if args.counts else "estimate/se",
                          "columns": args.counts.split(",") if args.counts else [args.estimate, args.se],
                          "label": args.label}
        emit_json(doc)
    else:
        print(res.summary())
        for r in bias_rows:
            print(", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()))
    return 0


def _design_matrix(res, mods):
    """The meta-regression design of a fit (intercept + dummy-coded moderators), for knha."""
    if not res.terms:
        return None
    from ..evidence.meta import _design

    X, _ = _design(mods.reset_index(drop=True).dropna(), len(res.studies))
    return X
