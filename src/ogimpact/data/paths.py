"""Locate the bundled data directory.

Resolution order:

1. the environment variable ``OGIMPACT_DATA_DIR`` (a directory holding
   ``manifest.csv`` and ``raw/``) — used by tests and by installs that keep
   the data elsewhere;
2. the repository's ``data/`` folder, found relative to this file for an
   editable (``pip install -e``) install: ``<repo>/src/ogimpact/data/paths.py``
   → ``<repo>/data``.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

__all__ = ["ENV_VAR", "data_dir", "raw_dir", "source_dir", "raw_path"]

#: environment variable overriding the data directory
ENV_VAR = "OGIMPACT_DATA_DIR"


def _looks_like_data_dir(p: Path) -> bool:
    return (p / "raw").is_dir()


def data_dir() -> Path:
    """Return the data directory (holding ``manifest.csv`` and ``raw/``).

    Returns
    -------
    pathlib.Path
        Absolute path of the data directory.

    Raises
    ------
    ogimpact.errors.DataError
        If ``OGIMPACT_DATA_DIR`` names a folder without ``raw/`` or no data
        folder is found next to the package.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env).expanduser().resolve()
        if not _looks_like_data_dir(p):
            raise DataError(
                f"{ENV_VAR}={env} has no raw/ folder; point it at a copy of the project's data/ directory "
                f"(holding manifest.csv and raw/) or unset it."
            )
        return p
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "data"
        if _looks_like_data_dir(cand) and (parent / "pyproject.toml").is_file():
            return cand
    raise DataError(
        "the bundled data folder was not found next to the package; install ogimpact editable from a checkout "
        f"(pip install -e .) or set {ENV_VAR} to a directory holding manifest.csv and raw/."
    )


def raw_dir() -> Path:
    """Return ``data_dir()/raw``."""
    return data_dir() / "raw"


def source_dir(source: str) -> Path:
    """Return the folder of one source under ``raw/`` (e.g. ``"wgi"``).

    Raises
    ------
    ogimpact.errors.DataError
        If the folder does not exist.
    """
    p = raw_dir() / source
    if not p.is_dir():
        raise DataError(f"data source folder raw/{source} is missing; restore it from ../shared/data/{source}.")
    return p


def raw_path(source: str, filename: str) -> Path:
    """Return the path of one bundled file, raising ``DataError`` if it is missing."""
    p = source_dir(source) / filename
    if not p.is_file():
        raise DataError(f"bundled file raw/{source}/{filename} is missing; restore it from ../shared/data/{source}/.")
    return p
