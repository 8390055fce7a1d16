"""``ogimpact panel`` — assemble a registry panel and write it as CSV."""
from __future__ import annotations

import warnings

from ..errors import OgimpactError
from ..panel import PanelWarning, build_panel
from ..parse import id_list, span
from ._output import atomic_write_text, emit_json


def register(sub) -> None:
    p = sub.add_parser("panel", help="build a validated registry panel (measures x intervention) and write CSV",
                       description="Assemble measures and an intervention's timing into a validated panel.")
    p.add_argument("--measures", required=True, metavar="ID[,ID...]")
    p.add_argument("--intervention", required=True, metavar="ID")
    p.add_argument("--variant", metavar="V", help="timing variant of the intervention")
    p.add_argument("--years", metavar="A:B")
    p.add_argument("--units", metavar="ISO3,...")
    p.add_argument("--covariates", metavar="ID[,ID...]", help="measure ids used as covariates")
    p.add_argument("--always-treated", choices=["drop", "refuse", "keep"], default="drop")
    p.add_argument("--out", required=True, metavar="FILE.csv")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    years = span(args.years, name="--years", ordered=True)
    if not args.out.lower().endswith(".csv"):
        raise OgimpactError(f"--out must name a .csv file, got {args.out!r}.")
    units = id_list(args.units) or None
    covs = id_list(args.covariates)
    from ..inputs import registry_units_exist  # CHI for CHL, ISO2 NA for NAM: named, never dropped silently

    registry_units_exist(units, id_list(args.measures), flag="--units")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PanelWarning)
        panel = build_panel(args.measures, args.intervention, units=units, years=years, covariates=covs,
                            variant=args.variant, always_treated=args.always_treated)
    out = args.out
    if not out.lower().endswith(".csv"):
        raise OgimpactError(f"--out must name a .csv file, got {out!r}.")
    atomic_write_text(out, panel.frame.to_csv(index=False, lineterminator="\n"))
    desc = panel.describe()
    desc["out"] = out
    desc["intervention"] = args.intervention
    desc["variant"] = panel.info.get("variant")
    desc["measures"] = panel.info.get("measures")
    desc["warnings"] = sorted(set(desc.get("warnings", []) + [str(w.message) for w in caught]))
    if args.json:
        emit_json(desc)
    else:
        print(panel.describe_text())
        print(f"Wrote {len(panel.frame)} rows to {out}")
    return 0
