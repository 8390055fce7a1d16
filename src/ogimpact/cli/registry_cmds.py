"""``ogimpact measures`` and ``ogimpact interventions [show ID]`` — the two registries."""
from __future__ import annotations

import argparse

import pandas as pd

from .. import interventions as _intv
from .. import measures as _measures
from .. import timing_views as _views
from ..results import json_safe
from ._output import emit_json
from .data_cmds import format_table

__all__ = ["register"]


def _cmd_measures(args: argparse.Namespace) -> int:
    ms = _measures.catalogue(args.domain)
    if args.json:
        emit_json({"domain": args.domain, "measures": [m.to_dict() for m in ms]})
        return 0
    df = pd.DataFrame(
        [{"id": m.id, "domain": m.domain, "level": m.unit_level,
          "years": f"{m.years[0]}-{m.years[1]}" + (" (rounds)" if m.time_unit != "year" else ""),
          "better": "higher" if m.higher_is_better else "lower", "se": "yes" if m.has_se else "",
          "label": m.label} for m in ms]
    )
    print(format_table(df, max_width=70))
    return 0


def _cmd_interventions(args: argparse.Namespace) -> int:
    reg = _intv.registry()
    if args.json:
        emit_json({"interventions": [i.to_dict() for i in reg]})
        return 0
    df = pd.DataFrame(
        [{"id": i.id, "level": i.unit_level, "variants": ",".join(i.variants), "default": i.default_variant,
          "label": i.label} for i in reg]
    )
    print(format_table(df, max_width=70))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    intv = _intv.get(args.id)
    t = _intv.timing(intv.id, args.variant)
    variant = t["variant"].iloc[0] if len(t) else (args.variant or intv.default_variant)
    if args.json:
        doc = intv.to_dict()
        doc["variant"] = variant
        doc["notes"] = json_safe(dict(t.attrs))
        doc["timing"] = json_safe(t.astype(object).where(t.notna(), None).to_dict(orient="records"))
        rows = _views.variant_table(intv.id)
        doc["rows"] = json_safe(rows.astype(object).where(rows.notna(), None).to_dict(orient="records"))
        emit_json(doc)
        return 0
    treated = int(t["treated"].sum())
    known = int((t["treated"] & t["cohort"].notna()).sum())
    print(f"{intv.id}: {intv.label} (variant {variant}; {len(t)} units, {treated} treated, {known} with a cohort year)")
    print(f"  {_intv.get(intv.id).variants[variant]}")
    print(format_table(t[["unit", "unit_name", "adopted", "in_force", "exited", "treated", "cohort"]], max_width=40))
    if len(intv.variants) > 1 or any(c in t.columns for c in _views.SOURCE_COLUMNS):
        vt = _views.variant_table(intv.id)
        src = [c for c in _views.SOURCE_COLUMNS if c in vt.columns][:1]
        print("\nEvery variant (cohort; 0 = never treated) and the source of each row:")
        print(format_table(vt[["unit", *[f"cohort_{v}" for v in intv.variants], *src]], max_width=70))
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    intv = _intv.get(args.id)
    if len(args.variant or []) != 2:
        from ..errors import UsageError
        raise UsageError("interventions diff needs exactly two variants: --variant A --variant B "
                         f"(variants of {intv.id}: {', '.join(intv.variants)}).")
    a, b = args.variant
    d = _views.cohort_diff(intv.id, a, b)
    if args.json:
        emit_json({"id": intv.id, "variant_a": a, "variant_b": b, "n_units": d.attrs["n_units"], "n_moved": len(d),
                   "changes": json_safe(d.astype(object).where(d.notna(), None).to_dict(orient="records"))})
        return 0
    print(f"{intv.id}: {len(d)} of {d.attrs['n_units']} units change cohort between `{a}` and `{b}`")
    if len(d):
        print(format_table(d.drop(columns=["basis_a", "basis_b"]), max_width=60))
    return 0


def register(subparsers) -> None:
    """Add ``measures`` and ``interventions`` to the ``ogimpact`` parser."""
    pm = subparsers.add_parser("measures", help="catalogue of outcome measures",
                               description="List the outcome-measure catalogue.")
    pm.add_argument("--domain", choices=list(_measures.DOMAINS), metavar="D",
                    help="only this domain: " + " | ".join(repr(d) for d in _measures.DOMAINS))
    pm.add_argument("--json", action="store_true", help="print one JSON document")
    pm.set_defaults(func=_cmd_measures)

    pi = subparsers.add_parser("interventions", help="registry of interventions and their timing definitions",
                               description="List the intervention registry, or show one timing table.")
    pi.add_argument("--json", action="store_true", help="print one JSON document")
    pi.set_defaults(func=_cmd_interventions)
    sub = pi.add_subparsers(dest="interventions_command", metavar="SUBCOMMAND", parser_class=type(pi))
    ps = sub.add_parser("show", help="the timing table of one intervention",
                        description="Print the timing table of one intervention (unit, adopted, in_force, exited, "
                                    "treated, cohort).")
    ps.add_argument("id", metavar="ID", help="intervention id, e.g. rti_law")
    ps.add_argument("--variant", metavar="V", help="timing variant (default: the intervention's default)")
    ps.add_argument("--json", action="store_true", help="print one JSON document")
    ps.set_defaults(func=_cmd_show)
    pdf = sub.add_parser("diff", help="units whose cohort moves between two timing variants",
                         description="List the units whose cohort (first treated period) differs between two timing "
                                     "variants of one intervention.")
    pdf.add_argument("id", metavar="ID", help="intervention id, e.g. rti_law")
    pdf.add_argument("--variant", metavar="V", action="append", required=True,
                     help="a timing variant; give exactly two (--variant A --variant B)")
    pdf.add_argument("--json", action="store_true", help="print one JSON document")
    pdf.set_defaults(func=_cmd_diff)
