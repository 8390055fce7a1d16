"""The README's shell tour runs verbatim on the shipped examples (a newcomer's first ten minutes).

The block is run by bash exactly as written, from a folder that holds the repository's ``examples/`` and a
``.venv/bin/activate`` that puts this checkout's ``ogimpact`` on the path (as ``make install`` does); the
reports it writes go to a temporary folder (``OGIMPACT_REPORTS_DIR``), never into the checkout.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _tour() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A short tour.*?```bash\n(.*?)```", text, flags=re.S)
    assert block, "README has no shell tour"
    return block.group(1)


def test_examples_ship_with_their_source_notes():
    for f in ("mpdta.csv", "studies.csv", "batch.yaml", "SOURCE.md"):
        assert (ROOT / "examples" / f).stat().st_size > 0, f
    tour = _tour()
    for f in ("examples/mpdta.csv", "examples/studies.csv", "examples/batch.yaml"):
        assert f in tour, f
    assert tour.lstrip().startswith("source .venv/bin/activate")


def test_readme_shell_tour_runs_verbatim(tmp_path):
    work = tmp_path / "clone"
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / "examples").symlink_to(ROOT / "examples")
    wrapper = work / ".venv" / "bin" / "ogimpact"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT / "src"}" exec "{sys.executable}" -m ogimpact "$@"\n')
    wrapper.chmod(0o755)
    (work / ".venv" / "bin" / "activate").write_text(f'export PATH="{wrapper.parent}:$PATH"\n')
    env = {**os.environ, "OGIMPACT_REPORTS_DIR": str(tmp_path / "reports"), "MPLBACKEND": "Agg"}
    script = "set -euo pipefail\n" + _tour()
    proc = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, (proc.stdout[-1500:], proc.stderr[-1500:])
    cs = json.loads((work / "cs.json").read_text())
    # R did: aggte(att_gt(lemp ~ 1, never-treated, DR), "dynamic") overall ATT (tests/reference/mpdta)
    assert cs["design"] == "cs" and abs(cs["estimate"] - (-0.0772398214573151)) < 1e-6
    assert "\\begin{tabular" in (work / "cs.tex").read_text() or "tabular" in (work / "cs.tex").read_text()
    assert (work / "p.csv").stat().st_size > 0
    assert (tmp_path / "reports" / "country" / "mex-ogp_member" / "report.html").exists()
    index = work / "reports" / "batch-example" / "index.html"
    assert index.exists()
    assert f"index: {Path('reports/batch-example') / 'index.html'}" in proc.stdout
    # non-default parameters (measures, designs) add a short parameter hash to the folder name (issue 9, item 6)
    (aus,) = (work / "reports" / "batch-example" / "country").glob("aus-rti_law*")
    assert "always treated in the window" in (aus / "report.html").read_text()
