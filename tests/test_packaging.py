"""A wheel built from the repository carries the bundled data and report notebooks (issue 10, item 5).

Builds the wheel with ``pip wheel --no-deps`` (build isolation fetches setuptools only if the
environment lacks ``wheel``), installs it with ``--no-deps --target`` into a temporary folder and runs
``ogimpact data path`` / ``data verify`` from a working directory outside the checkout, with the
installed copy first on ``sys.path`` (the shared venv supplies numpy/pandas/...).
"""
import csv
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("whl")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)]
    if importlib.util.find_spec("wheel") is not None:
        cmd.insert(5, "--no-build-isolation")
    r = _run(cmd)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here (offline build backend?): {r.stderr[-300:]}")
    (whl,) = out.glob("ogimpact-*.whl")
    return whl


def test_wheel_holds_every_manifest_file_and_the_notebooks(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    with open(ROOT / "data" / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    col = "path" if "path" in rows[0] else next(iter(rows[0]))
    missing = [r[col] for r in rows if f"ogimpact/_data/{r[col]}" not in names]
    assert not missing, missing[:5]
    assert "ogimpact/_data/manifest.csv" in names
    assert {"ogimpact/_notebooks/country_report.ipynb", "ogimpact/evidence/grading.yaml"} <= names


def test_installed_copy_finds_its_data_and_verifies(wheel, tmp_path):
    target = tmp_path / "site"
    r = _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)])
    assert r.returncode == 0, r.stderr
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("OGIMPACT_DATA_DIR", "OGIMPACT_NOTEBOOKS")}
    env["PYTHONPATH"] = str(target)
    p = _run([sys.executable, "-m", "ogimpact", "data", "path"], cwd=work, env=env)
    assert p.returncode == 0, p.stderr
    assert Path(p.stdout.strip()) == target / "ogimpact" / "_data"
    v = _run([sys.executable, "-m", "ogimpact", "data", "verify"], cwd=work, env=env)
    assert v.returncode == 0, v.stderr
    assert v.stdout.startswith("OK:")
    code = ("from ogimpact.reports.runner import reports_root, notebook_dir; print(reports_root()); "
            "print(notebook_dir())")
    q = _run([sys.executable, "-c", code], cwd=work, env=env)
    rr, nb = q.stdout.split()
    assert Path(rr) == work / "reports" and Path(nb) == target / "ogimpact" / "_notebooks"
