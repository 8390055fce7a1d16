"""Shared reading helpers: cached CSV reads that always hand out copies."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import DataError
from .paths import data_dir

__all__ = ["cached_frame", "read_csv", "files_read"]

#: paths (relative to the data directory, posix) of every bundled file read in this process
_READS: set[str] = set()


def files_read() -> set[str]:
    """Paths (relative to the data directory) of the bundled files read by this process so far.

    Reports record these with their hashes in ``manifest.json``.
    """
    return set(_READS)


def cached_frame(func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Cache a reader per data directory and return a copy on every call.

    The wrapped function receives the resolved data directory as its first
    argument; callers do not pass it.  Changing ``OGIMPACT_DATA_DIR`` therefore
    gives a fresh read, and no caller can mutate the cached frame.
    """
    inner = functools.lru_cache(maxsize=8)(func)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> pd.DataFrame:
        return inner(str(data_dir()), *args, **kwargs).copy()

    wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
    return wrapper


def read_csv(root: str, source: str, filename: str, **kwargs: Any) -> pd.DataFrame:
    """Read ``<root>/raw/<source>/<filename>`` with pandas, turning failures into ``DataError``."""
    path = Path(root) / "raw" / source / filename
    if not path.is_file():
        raise DataError(
            f"bundled file raw/{source}/{filename} is missing; restore it from ../shared/data/{source}/ "
            "and run `ogimpact data verify`."
        )
    _READS.add(f"raw/{source}/{filename}")
    try:
        return pd.read_csv(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a data problem
        raise DataError(
            f"could not read raw/{source}/{filename} ({type(exc).__name__}: {exc}); "
            "run `ogimpact data verify` and restore the file if it changed."
        ) from exc


def require_columns(df: pd.DataFrame, cols: list[str] | tuple[str, ...], what: str) -> None:
    """Raise ``DataError`` if ``df`` lacks any of ``cols``."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {', '.join(missing)}; restore the bundled file and run `ogimpact data verify`."
        )
