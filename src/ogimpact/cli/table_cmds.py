"""``ogimpact table`` — a publication table from any result JSON (LaTeX, Markdown, Word, HTML).

    ogimpact table RESULT.json --format latex|md|docx|html [--out FILE]

Without ``--out`` text formats print on stdout; ``docx`` needs ``--out`` (binary).  The file is
written atomically.
"""
from __future__ import annotations

import argparse
import json
import sys

from ..errors import DataError, UsageError
from ._output import atomic_write_bytes


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "table",
        help="publication table (LaTeX, Markdown, Word, HTML) from a result JSON",
        description=("Render the result JSON of `ogimpact estimate|meta|sensitivity|pretrends|assess ... --json` "
                     "or a report's results.json as a table to paste into a paper: human column labels, numbers "
                     "to the digits the standard error supports, CIs as [a, b], missing cells as a dash with a "
                     "footnote. LaTeX uses booktabs (\\usepackage{booktabs,caption})."),
    )
    p.add_argument("result", metavar="RESULT.json", help="a result JSON file")
    p.add_argument("--format", required=True, choices=("latex", "md", "docx", "html"), help="output format")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout (required for docx)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..tables import from_result, render

    try:
        with open(args.result, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise DataError(f"result file {args.result} not found; write one with `ogimpact estimate ... --json > FILE`.") from None
    except IsADirectoryError:
        raise DataError(f"{args.result} is a folder; give the path of a result JSON file.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{args.result} is not valid JSON ({str(exc)[:120]}); give a result JSON file.") from None
    if args.format == "docx" and not args.out:
        raise UsageError("--format docx writes a binary Word file; give --out FILE.docx.")
    data = render(from_result(doc), args.format)
    if args.out:
        atomic_write_bytes(args.out, data)
    else:
        sys.stdout.write(data.decode("utf-8"))
        if not data.endswith(b"\n"):
            sys.stdout.write("\n")
    return 0
