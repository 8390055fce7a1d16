"""Build hook: ship the top-level ``data/`` and ``notebooks/`` folders inside the wheel.

The repository layout is fixed (``data/`` and ``notebooks/`` sit at the top level, next to
``src/``); an installed package finds them as ``ogimpact/_data`` and ``ogimpact/_notebooks``
(see ``ogimpact.data.paths``).  Everything else is declared in ``pyproject.toml``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"data": "_data", "notebooks": "_notebooks"}


class build_py_with_data(build_py):  # noqa: N801 - setuptools command naming
    """``build_py`` that also copies the bundled data and report notebooks into the package."""

    def run(self):
        super().run()
        for src, dest in BUNDLED.items():
            src_dir = ROOT / src
            if not src_dir.is_dir():
                continue
            target = Path(self.build_lib) / "ogimpact" / dest
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(src_dir, target, ignore=shutil.ignore_patterns(
                "__pycache__", ".ipynb_checkpoints", "*.pyc"))


setup(cmdclass={"build_py": build_py_with_data})
