"""``ogimpact data list|verify`` — the bundled sources and their integrity."""
from __future__ import annotations

import argparse
import sys

import pandas as pd

from .. import data as _data
from ._output import emit_json

__all__ = ["register", "format_table"]


def format_table(df: pd.DataFrame, *, max_width: int = 60) -> str:
    """A compact aligned text table (cells longer than ``max_width`` are cut with "…")."""
    def cell(v) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
            return ""
        s = str(v)
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cols = list(df.columns)
    rows = [[cell(v) for v in r] for r in df.itertuples(index=False, name=None)]
    widths = [max([len(str(c))] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(cols, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _cmd_list(args: argparse.Namespace) -> int:
    df = _data.sources()
    if args.json:
        emit_json({"data_dir": str(_data.data_dir()), "sources": df.to_dict(orient="records")})
        return 0
    print(format_table(df[["id", "publisher", "licence", "files", "rows", "years"]], max_width=48))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    problems = _data.verify()
    n = len(_data.read_manifest())
    if args.json:
        emit_json({"ok": not problems, "n_files": n, "data_dir": str(_data.data_dir()),
                   "problems": [{"kind": p.kind, "path": p.path, "detail": p.detail} for p in problems]})
        return 1 if problems else 0
    if problems:
        for p in problems:
            print(f"ogimpact: data verify: {p}", file=sys.stderr)
        print(f"ogimpact: data verify failed: {len(problems)} problem(s) in {_data.data_dir()}; restore the files from "
              "../shared/data or regenerate the manifest with scripts/make_manifest.py if the change is intended.",
              file=sys.stderr)
        return 1
    print(f"OK: {n} files match data/manifest.csv ({_data.data_dir()})")
    return 0


def _cmd_path(args: argparse.Namespace) -> int:
    from ..data.paths import ENV_VAR, checkout_root

    d = _data.data_dir()
    import os

    origin = ("environment variable " + ENV_VAR if os.environ.get(ENV_VAR)
              else "repository checkout" if checkout_root() is not None else "installed package")
    if args.json:
        emit_json({"data_dir": str(d), "origin": origin, "manifest": str(d / "manifest.csv")})
    else:
        print(d)
    return 0


def register(subparsers) -> None:
    """Add ``data list`` and ``data verify`` to the ``ogimpact`` parser."""
    p = subparsers.add_parser("data", help="bundled data sources: list, verify, path",
                              description="Bundled public data: list the sources or verify their hashes.")
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND", parser_class=type(p))
    pl = sub.add_parser("list", help="bundled sources: id, publisher, licence, files, rows, years",
                        description="List the bundled sources with publisher, licence, files, rows and years.")
    pl.add_argument("--json", action="store_true", help="print one JSON document")
    pl.set_defaults(func=_cmd_list)
    pv = sub.add_parser("verify", help="re-hash every bundled file against data/manifest.csv (exit 1 on mismatch)",
                        description="Re-hash every bundled file against data/manifest.csv; exit 1 naming each "
                                    "changed, missing or unlisted file.")
    pv.add_argument("--json", action="store_true", help="print one JSON document")
    pv.set_defaults(func=_cmd_verify)
    pp = sub.add_parser("path", help="print the data directory in use (checkout, installed package or OGIMPACT_DATA_DIR)",
                        description="Print where the bundled data is read from: OGIMPACT_DATA_DIR, the repository's "
                                    "data/ folder, or the copy inside the installed package.")
    pp.add_argument("--json", action="store_true", help="print one JSON document (data_dir, origin, manifest)")
    pp.set_defaults(func=_cmd_path)

    def _no_sub(args: argparse.Namespace) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=_no_sub)
