"""Cell keys (content hashes of a cell's inputs) and the local cell cache.

A cell's key is the sha256 of the canonical JSON of its *components*:

* ``data`` – sha256 over the ``data/manifest.csv`` rows (path, sha256) of the measure's source and the
  country reference (the bundled files the cell reads; the manifest holds each file's own sha256);
* ``timing`` – sha256 of the intervention's timing table (variant applied) as canonical CSV;
* ``params`` – the cell spec (intervention, measure, country, seed, window, SDID reps, variant, min_pre);
* ``rubric`` – version and sha256 of the grading rubric file;
* ``package`` – the ogimpact version;
* ``code`` – sha256 over the package source that computes a cell (every ``.py``/``.yaml`` of ``ogimpact``
  except the CLI and the atlas's own site/diff/build modules), so an edit without a version bump is not
  served from a stale cache;
* ``environment`` – sha256 of the Python version and the versions of the numerical libraries a cell runs on
  (numpy, scipy, pandas, statsmodels, linearmodels, numba): another numpy may move the last digits.

``ogimpact atlas diff`` names which components changed between two builds.

The cache holds one gzip file per key, ``<root>/<key[:2]>/<key>.json.gz`` (gzip header without a time
stamp, so the files are byte-stable), at ``--cache DIR``, else ``$OGIMPACT_ATLAS_CACHE``, else
``$XDG_CACHE_HOME/ogimpact/atlas`` (``~/.cache/ogimpact/atlas``).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from ...atomic import atomic_write_bytes

__all__ = ["COMPONENTS", "canonical_json", "key_components", "cell_key", "code_sha", "data_version", "environment",
           "CellCache", "default_cache_dir"]

COMPONENTS = ("data", "timing", "params", "rubric", "package", "code", "environment")
_CODE_EXCLUDE = ("cli/", "reports/atlas/site.py", "reports/atlas/site_pages.py", "reports/atlas/figures.py",
                 "reports/atlas/diff.py", "reports/atlas/build.py", "reports/atlas/__init__.py")


def canonical_json(obj) -> str:
    """Sorted keys, no spaces, NaN refused: the one serialisation of hashed and written atlas JSON."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


@lru_cache(maxsize=1)
def code_sha() -> str:
    """sha256 over the (relative path, bytes) of the package source a cell depends on."""
    root = Path(__file__).resolve().parents[2]  # the ogimpact package
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.suffix not in (".py", ".yaml") or "__pycache__" in rel or rel.startswith(_CODE_EXCLUDE):
            continue
        h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@lru_cache(maxsize=1)
def environment() -> dict:
    """Python and numerical-library versions of this process (the ``environment`` component)."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "pandas", "statsmodels", "linearmodels", "numba"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@lru_cache(maxsize=1)
def _manifest_rows() -> tuple[tuple[str, str, str], ...]:
    from ...data.manifest import read_manifest

    m = read_manifest()
    return tuple(sorted(zip(m["source"].astype(str), m["path"].astype(str), m["sha256"].astype(str))))


def data_version() -> str:
    """sha256 of the whole data manifest (source, path, sha256 of every bundled file): the data version."""
    return _sha(canonical_json([list(r) for r in _manifest_rows()]))


def _data_sha(source: str) -> str:
    rows = [list(r) for r in _manifest_rows() if r[0] in (source, "country_reference")]
    return _sha(canonical_json(rows))


@lru_cache(maxsize=64)
def _timing_sha(intervention: str, variant: str | None) -> str:
    from ... import interventions as iv

    t = iv.timing(intervention, variant)
    return _sha(t.to_csv(index=False, lineterminator="\n"))


@lru_cache(maxsize=1)
def _rubric() -> dict:
    from ...evidence.grading import load_rubric

    r = load_rubric(None)
    return {"version": r.version, "sha256": r.sha256}


def key_components(spec: Mapping) -> dict:
    """The hashed inputs of one cell (see the module docstring)."""
    from ... import __version__
    from ... import measures as ms

    return {"data": _data_sha(ms.get(spec["measure"]).source),
            "timing": _timing_sha(spec["intervention"], spec.get("variant")),
            "params": _sha(canonical_json(dict(spec))), "rubric": _sha(canonical_json(_rubric())),
            "package": __version__, "code": code_sha(), "environment": _sha(canonical_json(environment()))}


def cell_key(components: Mapping) -> str:
    """sha256 of the canonical JSON of the components."""
    return _sha(canonical_json({k: components[k] for k in COMPONENTS}))


def default_cache_dir() -> Path:
    env = os.environ.get("OGIMPACT_ATLAS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ogimpact" / "atlas"


class CellCache:
    """One gzip JSON file per cell key under ``root``."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json.gz"

    def get(self, key: str) -> dict | None:
        p = self.path(key)
        try:
            with gzip.open(p, "rt", encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError, EOFError):  # absent or truncated: recompute
            return None

    def put(self, key: str, record: Mapping) -> Path:
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as fh:
            fh.write(canonical_json(record).encode("utf-8"))
        return atomic_write_bytes(self.path(key), buf.getvalue())

    def size(self) -> tuple[int, int]:
        """(number of cached cells, bytes on disk)."""
        files = list(self.root.glob("*/*.json.gz")) if self.root.is_dir() else []
        return len(files), sum(f.stat().st_size for f in files)
