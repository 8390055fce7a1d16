"""``ogimpact assess`` — graded evidence table of a registry intervention (CONTRACT.md).

    ogimpact assess --intervention ID [--measures ID,...] [--country ISO3] [--years A:B]
                    [--variant V] [--seed N] [--mie M | --mie ID=M,...] [--horizon H] [--donor-rule RULE] [--json]
"""
from __future__ import annotations

import argparse

from ..errors import UsageError
from ..parse import id_list
from ._output import emit_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "assess",
        help="run the applicable designs and checks and print the graded evidence table",
        description=(
            "Without --country: cross-country staggered designs (Callaway-Sant'Anna, Sun-Abraham, imputation, "
            "TWFE event study) with parallel-trends (pre-test + HonestDiD breakdown), few-clusters, consistency, "
            "precision and multiplicity checks. With --country: synthetic control (+ in-space placebos), SDID, "
            "ITS and the country's CS cohort. Grades (High, Moderate, Low, Very low, Insufficient) follow the "
            "versioned rubric grading.yaml; every grade says what it is about (an effect of at least the minimum "
            "important effect, or no effect larger than it), lists its reasons in full and opens with a quotable "
            "headline; conflicts (failed pre-test, estimators of opposite sign, fragile donor pool) are printed as "
            "WARNING lines next to it. A transparent summary, not a verdict."
        ),
    )
    p.add_argument("--intervention", required=True, metavar="ID", help="registry intervention id")
    p.add_argument("--measures", metavar="ID,...",
                   help="outcome measures (the declared multiplicity family) [domain-balanced default set]")
    p.add_argument("--country", metavar="ISO3", help="assess this country's adoption with single-country designs")
    p.add_argument("--years", metavar="A:B", help="first:last year")
    p.add_argument("--variant", metavar="V", help="timing variant of the intervention")
    p.add_argument("--seed", type=int, default=0, help="seed of every random step [0]")
    p.add_argument("--mie", metavar="M|ID=M,...",
                   help="minimum important effect in outcome units: one value, or per measure (wgi.cc=0.1,...) "
                        "[each measure's default: max(0.2 x cross-country SD, median published SE)]")
    p.add_argument("--horizon", type=int, default=5, metavar="H",
                   help="every headline is the average effect over event times / post periods 0..H [5]")
    p.add_argument("--donor-rule", metavar="RULE",
                   help="donor rule of the single-country designs (see ogimpact.donors) [similar]")
    p.add_argument("--json", action="store_true", help="print the assessment JSON")
    p.set_defaults(func=run)


def parse_mie(text: str | None):
    """``"0.1"`` -> 0.1; ``"wgi.cc=0.1,vdem.v2x_cspart=0.02"`` -> dict."""
    if text is None:
        return None
    text = text.strip()
    try:
        if "=" not in text:
            v = float(text)
            if not v > 0:
                raise ValueError
            return v
        out = {}
        for part in text.split(","):
            k, v = part.split("=", 1)
            out[k.strip()] = float(v)
            if not out[k.strip()] > 0:
                raise ValueError
        return out
    except ValueError:
        raise UsageError(f"--mie must be a positive number or ID=VALUE pairs (e.g. wgi.cc=0.1), got {text!r}.") from None


def run(args: argparse.Namespace) -> int:
    from ..evidence.assess import assess

    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}.")
    if args.horizon < 0:
        raise UsageError(f"--horizon must be a whole number of periods >= 0, got {args.horizon}.")
    measures = id_list(args.measures) if args.measures else None
    if args.measures is not None and not measures:
        raise UsageError("--measures is empty; give measure ids separated by commas (see `ogimpact measures`).")
    mie = parse_mie(args.mie)
    if isinstance(mie, dict) and measures:
        unknown = sorted(set(mie) - set(measures))
        if unknown:
            raise UsageError(f"--mie names measure(s) {', '.join(unknown)} that are not in --measures.")
    if args.country and measures:  # the shared unknown-unit check (close matches), before any fit
        from ..inputs import registry_units_exist

        registry_units_exist([args.country], measures, flag="--country")
    table = assess(args.intervention, measures=measures, country=args.country, years=args.years,
                   variant=args.variant, seed=args.seed, mie=mie, horizon=args.horizon, donor_rule=args.donor_rule)
    if args.json:
        emit_json(table.to_dict())
    else:
        print(table.summary())
    return 0
