"""Command-line interface ``ogimpact`` — thin: parse, call the package, print.

Each sub-module registers its commands with ``register(subparsers)``; a
command handler takes the parsed ``args`` and returns an exit status.  Bad
input raises :class:`ogimpact.errors.OgimpactError`: one sentence on stderr,
exit 2.  A failed run exits 1.  ``--json`` prints exactly one JSON document.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

# one BLAS thread per process unless the user says otherwise: the designs are many small
# solves, and two cores each running two BLAS threads were measured several times slower
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from ..errors import OgimpactError, RunError

#: command modules, in the order their commands appear in ``--help``
COMMAND_MODULES = (
    "data_cmds",
    "registry_cmds",
    "panel_cmds",
    "estimate_cmds",
    "sensitivity_cmds",
    "pretrends_cmds",
    "table_cmds",
    "diagnose_cmds",
    "meta_cmds",
    "assess_cmds",
    "report_cmds",
    "atlas_cmds",
)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one sentence and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        raise OgimpactError(f"{self.prog}: {message}; run `{self.prog} --help` for the options.")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = _Parser(prog="ogimpact", description="Evidence-assessment workbench for open-government interventions.")
    p.add_argument("--version", action="version", version=f"ogimpact {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a capability not built yet
            if exc.name and exc.name.endswith(name):
                continue
            raise
        mod.register(sub)
    return p


_NUMERIC_VALUE = re.compile(r"^-\d*\.?\d+([:,]-?\d*\.?\d+)*$|^-\d+\(")


def _glue_negative_values(argv: list[str]) -> list[str]:
    """Let option values start with a minus sign: ``--window -5:5`` -> ``--window=-5:5``.

    argparse takes a token such as ``-5:5`` or ``-0.5,0.5`` for an option name;
    an option followed by a value that *looks numeric* is glued to it instead.
    """
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if (tok.startswith("--") and "=" not in tok and i + 1 < len(argv)
                and _NUMERIC_VALUE.match(argv[i + 1])):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 failed run, 2 bad input)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        parser = build_parser()
        argv = _glue_negative_values(list(sys.argv[1:] if argv is None else argv))
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args) or 0)
    except OgimpactError as exc:
        print(f"ogimpact: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"ogimpact: run failed: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except OSError as exc:  # the environment, not the code: name the path and the cause
        code, where = _os_failure(exc)
        print(f"ogimpact: {'error' if code == 2 else 'run failed'}: {_one_line(where)}", file=sys.stderr)
        return code
    except KeyboardInterrupt:  # pragma: no cover
        print("ogimpact: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover
        return 0
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("OGIMPACT_DEBUG"):
            raise
        print(
            f"ogimpact: internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
            "set OGIMPACT_DEBUG=1 for the traceback and please report it.",
            file=sys.stderr,
        )
        return 1


def _os_failure(exc: OSError) -> tuple[int, str]:
    """Exit status and one sentence for a failed file operation (issue 9: never "internal error")."""
    import errno

    path = str(exc.filename)[:200] if exc.filename else "the output"
    e = exc.errno
    if e == errno.ENOSPC or e == getattr(errno, "EDQUOT", -1):
        return 1, f"no space left on the device while writing {path!r}; free disk space or write elsewhere (--out)."
    if e in (errno.EACCES, errno.EPERM, errno.EROFS):
        return 2, f"cannot write {path!r} (permission denied or read-only file system); choose a writable --out."
    if e in (errno.ENOTDIR, errno.EEXIST):
        return 2, f"{path!r} is (or lies under) an existing file, not a folder; choose another --out."
    if e == errno.EISDIR:
        return 2, f"{path!r} is a folder; give a file path."
    if e == errno.ENOENT:
        return 2, f"{path!r} does not exist; check the path."
    return 1, f"{exc.strerror or type(exc).__name__} on {path!r}."


def _one_line(s: str, limit: int = 600) -> str:
    """One line, at most ``limit`` characters (a message never echoes a huge user string)."""
    s = " ".join(s[: 4 * limit].split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
