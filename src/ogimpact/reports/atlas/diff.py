"""``ogimpact atlas diff OLD NEW``: the cells whose grade or headline changed between two builds, and why.

"Why" is read from the cells' key components (:mod:`.cache`): ``data`` (a bundled file the cell reads
changed), ``timing`` (the intervention's timing table changed), ``rubric`` (the grading rubric),
``code`` (the package source or version), ``software environment`` (Python / numerical libraries) and
``parameters`` (the cell's own options).  Cells present in
only one build are listed as added or removed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from ...errors import UsageError

__all__ = ["load_index", "diff_atlases", "format_diff"]

_WHY = (("data", "data"), ("timing", "timing"), ("rubric", "rubric"), ("code", "code"), ("package", "code"),
        ("environment", "software environment"), ("params", "parameters"))


def load_index(path: str | Path) -> dict:
    """``DIR/data/atlas.json`` of a built atlas (``path`` is the atlas folder or that file)."""
    p = Path(path)
    f = p / "data" / "atlas.json" if p.is_dir() else p
    if not f.is_file():
        raise UsageError(f"{str(path)[:200]!r} is not a built atlas (no data/atlas.json); give the --out folder of "
                         "`ogimpact atlas build`.")
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except ValueError:
        raise UsageError(f"{str(f)[:200]!r} is not valid JSON; rebuild that atlas.") from None


def _why(a: Mapping, b: Mapping) -> list[str]:
    ca, cb = a.get("components") or {}, b.get("components") or {}
    out = []
    for k, label in _WHY:
        if ca.get(k) != cb.get(k) and label not in out:
            out.append(label)
    return out or ["unexplained: same inputs"]


def diff_atlases(old: str | Path, new: str | Path) -> dict:
    """``{changed: [{id, old_grade, new_grade, old_headline, new_headline, why}], added, removed, unchanged}``."""
    A, B = load_index(old), load_index(new)
    ca, cb = {c["id"]: c for c in A["cells"]}, {c["id"]: c for c in B["cells"]}
    changed = []
    for cid in sorted(set(ca) & set(cb)):
        a, b = ca[cid], cb[cid]
        sa, sb = a.get("summary") or {}, b.get("summary") or {}
        if sa.get("grade") != sb.get("grade") or sa.get("headline") != sb.get("headline"):
            changed.append({"id": cid, "old_grade": sa.get("grade"), "new_grade": sb.get("grade"),
                            "old_headline": sa.get("headline"), "new_headline": sb.get("headline"),
                            "why": _why(a, b)})
    return {"old": {"atlas_version": A.get("atlas_version"), "command": A.get("command")},
            "new": {"atlas_version": B.get("atlas_version"), "command": B.get("command")},
            "changed": changed, "added": sorted(set(cb) - set(ca)), "removed": sorted(set(ca) - set(cb)),
            "n_unchanged": len(set(ca) & set(cb)) - len(changed)}


def format_diff(d: Mapping) -> str:
    """Plain-text report of :func:`diff_atlases`."""
    lines = [f"atlas {d['old']['atlas_version']} -> {d['new']['atlas_version']}: {len(d['changed'])} cells changed "
             f"grade or headline, {len(d['added'])} added, {len(d['removed'])} removed, {d['n_unchanged']} unchanged."]
    for c in d["changed"]:
        g = (f"{c['old_grade']} -> {c['new_grade']}" if c["old_grade"] != c["new_grade"] else f"{c['new_grade']} (same)")
        lines.append(f"  {c['id']}: grade {g}; why: {', '.join(c['why'])}")
        if c["old_headline"] != c["new_headline"]:
            lines.append(f"    was: {c['old_headline']}")
            lines.append(f"    now: {c['new_headline']}")
    for k in ("added", "removed"):
        if d[k]:
            lines.append(f"{k}: " + ", ".join(d[k][:50]) + (" …" if len(d[k]) > 50 else ""))
    return "\n".join(lines)
