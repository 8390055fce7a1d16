"""The grading rubric: loading and validating the versioned ``grading.yaml``.

Its own module so that the checks (which read thresholds) and the grader (which reads levels and caps)
both depend on it and not on each other.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import OgimpactError

__all__ = ["Rubric", "load_rubric", "DEFAULT_RUBRIC"]

DEFAULT_RUBRIC = Path(__file__).with_name("grading.yaml")
_REQUIRED = ("version", "scale", "designs", "checks", "upgrade", "body_of_evidence")


@dataclass(frozen=True)
class Rubric:
    """A loaded rubric: its parsed data, version, sha256 of the file bytes, path."""

    data: Mapping[str, Any]
    version: str
    sha256: str
    path: str | None = None

    def label(self, level: int) -> str:
        return str(self.data["scale"]["labels"][int(level)])


@lru_cache(maxsize=16)
def _load_cached(path: str, sha: str) -> Rubric:
    raw = Path(path).read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise OgimpactError(f"the rubric file {path} is not valid YAML ({exc}); fix or restore grading.yaml.") from exc
    return _validate(data, hashlib.sha256(raw).hexdigest(), path)


def _validate(data, sha: str, path: str | None) -> Rubric:
    if not isinstance(data, Mapping):
        raise OgimpactError(f"the rubric {path or '(dict)'} is not a mapping; start from ogimpact/evidence/grading.yaml.")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise OgimpactError(f"the rubric {path or '(dict)'} lacks {', '.join(missing)}; start from ogimpact/evidence/grading.yaml.")
    labels = {int(k): str(v) for k, v in data["scale"]["labels"].items()}
    data = dict(data)
    data["scale"] = {**data["scale"], "labels": labels}
    return Rubric(data=data, version=str(data["version"]), sha256=sha, path=path)


def load_rubric(path: str | Path | Rubric | Mapping | None = None) -> Rubric:
    """Load (and cache) a rubric.

    Parameters
    ----------
    path : path, Rubric, dict or None
        ``None`` loads the packaged ``grading.yaml``; a :class:`Rubric` is
        returned as is; a dict is validated (its sha256 is that of its
        canonical YAML dump).
    """
    if isinstance(path, Rubric):
        return path
    if isinstance(path, Mapping):
        text = yaml.safe_dump(dict(path), sort_keys=True).encode()
        return _validate(path, hashlib.sha256(text).hexdigest(), None)
    p = Path(path) if path is not None else DEFAULT_RUBRIC
    if not p.is_file():
        raise OgimpactError(f"rubric file {p} not found; pass the path of a grading.yaml or None for the packaged one.")
    sha = hashlib.sha256(p.read_bytes()).hexdigest()  # cache keyed by content: an edited file is re-read
    return _load_cached(str(p.resolve()), sha)
