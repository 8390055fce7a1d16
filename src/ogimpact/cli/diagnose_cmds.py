"""``ogimpact diagnose bacon|weights`` — what a static TWFE coefficient averages (CONTRACT.md).

    ogimpact diagnose bacon   --data FILE.csv --outcome COL --unit COL --time COL --treat COL [--plot FILE.png] [--json]
    ogimpact diagnose weights --data FILE.csv --outcome COL --unit COL --time COL --treat COL [--plot FILE.png] [--json]
"""
from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import UsageError
from ._output import emit_json

KINDS = {
    "bacon": "Goodman-Bacon (2021) decomposition of the TWFE coefficient into 2x2 DiDs and their weights",
    "weights": "de Chaisemartin & D'Haultfoeuille (2020) weights of the treated cells in the TWFE coefficient",
}


def register(subparsers) -> None:
    p = subparsers.add_parser("diagnose", help="TWFE diagnostics: Goodman-Bacon decomposition, dCDH weights",
                              description="Diagnostics of the static two-way fixed-effects estimator.")
    dsub = p.add_subparsers(dest="diagnostic", metavar="KIND", parser_class=type(p))
    for name, text in KINDS.items():
        d = dsub.add_parser(name, help=text, description=text)
        d.add_argument("--data", required=True, metavar="FILE.csv", help="one row per unit and period")
        d.add_argument("--outcome", required=True, metavar="COL")
        d.add_argument("--unit", required=True, metavar="COL")
        d.add_argument("--time", required=True, metavar="COL")
        d.add_argument("--treat", required=True, metavar="COL", help="0/1 treatment column")
        d.add_argument("--plot", metavar="FILE.png", help="write the diagnostic figure to this file")
        d.add_argument("--json", action="store_true", help="print the result JSON (only) on stdout")
        d.set_defaults(func=run)
    p.set_defaults(func=lambda a: (p.print_help(sys.stderr), 2)[1])


def run(args: argparse.Namespace) -> int:
    from ..designs.twfe_diagnostics import bacon_decomposition, twfe_weights
    from ..estimation import panel_from_csv, read_csv
    from ..panel import PanelWarning

    df = read_csv(args.data, id_columns=[args.unit])  # ISO2 "NA" (Namibia) is a unit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PanelWarning)
        panel = panel_from_csv("twfe", df, unit=args.unit, time=args.time, outcome=args.outcome, treat=args.treat)
        res = bacon_decomposition(panel) if args.diagnostic == "bacon" else twfe_weights(panel)
    if args.plot:
        if not args.plot.lower().endswith((".png", ".pdf", ".svg")):
            raise UsageError("--plot needs a .png, .pdf or .svg file name.")
        import io

        from ._output import atomic_write_bytes

        ax = res.plot()
        buf = io.BytesIO()
        ax.figure.savefig(buf, format=args.plot.rsplit(".", 1)[1].lower(), bbox_inches="tight")
        atomic_write_bytes(args.plot, buf.getvalue())
    if args.json:
        emit_json(res.to_dict())
    else:
        for msg in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
            print(f"ogimpact: warning: {msg}", file=sys.stderr)
        print(res.summary())
    return 0
