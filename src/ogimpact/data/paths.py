"""Locate the bundled data directory.

Resolution order:

1. the environment variable ``OGIMPACT_DATA_DIR`` (a directory holding
   ``manifest.csv`` and ``raw/``) — used by tests and by installs that keep
   the data elsewhere;
2. the repository's ``data/`` folder, found relative to this file for an
   editable (``pip install -e``) install: ``<repo>/src/ogimpact/data/paths.py``
   → ``<repo>/data``;
3. the copy inside an installed package, ``<site-packages>/ogimpact/_data``
   (the wheel's build hook in ``setup.py`` copies ``data/`` there).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

__all__ = ["ENV_VAR", "data_dir", "raw_dir", "source_dir", "raw_path", "checkout_root", "package_dir"]

#: environment variable overriding the data directory
ENV_VAR = "OGIMPACT_DATA_DIR"


def _looks_like_data_dir(p: Path) -> bool:
    return (p / "raw").is_dir()


def package_dir() -> Path:
    """The installed ``ogimpact`` package folder (``.../ogimpact``)."""
    return Path(__file__).resolve().parents[1]


def checkout_root() -> Path | None:
    """The repository root when running from a checkout (a parent with ``pyproject.toml`` and ``data/raw``), else None."""
    for parent in Path(__file__).resolve().parents:
        if _looks_like_data_dir(parent / "data") and (parent / "pyproject.toml").is_file():
            return parent
    return None


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
    root = checkout_root()
    if root is not None:
        return root / "data"
    installed = package_dir() / "_data"
    if _looks_like_data_dir(installed):
        return installed
    raise DataError(
        "the bundled data folder was not found next to the package; reinstall ogimpact from a wheel built from the "
        f"repository (it carries ogimpact/_data) or set {ENV_VAR} to a directory holding manifest.csv and raw/."
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
