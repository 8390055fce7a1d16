"""Every published reference case, run through the command line as acceptance runs it.

Each ``tests/reference/<case>/accept.json`` lists CLI runs and the numbers they must
print, each with its source (paper table or R/Stata package output, see the case's
SOURCE.md) and its tolerance (``atol``/``rtol`` beside the value in accept.json, with
the justification in the case's SOURCE.md / accept.json notes).  The runs go
through ``ogimpact.cli.main`` in-process (same parser, same code path as the
installed ``ogimpact`` command) and the checks are judged by the same functions
as ``check_reference.py``.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "reference"
sys.path.insert(0, str(HERE))
import check_reference as cr  # noqa: E402

from ogimpact.cli import main  # noqa: E402

CASES = sorted(p.parent for p in HERE.glob("*/accept.json"))


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case_dir", CASES, ids=[c.name for c in CASES])
def test_reference_case_through_cli(case_dir, tmp_path):
    spec = json.loads((case_dir / "accept.json").read_text())
    prev: dict[str, str] = {}
    failures: list[str] = []
    n_checks = 0
    for run in spec.get("runs", []):
        name = run["name"]
        argv = [cr.substitute(a, str(case_dir), prev, name) for a in run["argv"]]
        code, out, err = _run_cli(argv)
        if code != 0:
            failures.append(f"{name}: exit {code}: {err.strip()[:300]}")
            continue
        doc = json.loads(out, parse_constant=cr._reject_constant)
        f = tmp_path / f"{name}.json"
        f.write_text(out)
        prev[name] = str(f)
        for c in run.get("checks", []):
            n_checks += 1
            try:
                actual = cr.evaluate(doc, c["path"])
            except cr.PathError as exc:
                failures.append(f"{name}: {c['path']}: {exc}")
                continue
            status, detail = cr.judge(actual, c)
            if status != "PASS":
                failures.append(f"{name}: {c['path']}: {detail}")
    assert not failures, f"{len(failures)} of {n_checks} checks failed:\n" + "\n".join(failures[:40])
