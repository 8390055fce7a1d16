#!/usr/bin/env python3
"""Write ``data/manifest.csv``: one row per bundled file with its size and SHA-256.

Standard library only.  Columns: ``path`` (relative to ``data/``, posix),
``bytes``, ``sha256``, ``source`` (the folder under ``data/raw/``; ``raw`` for
files directly in it).  Rows are sorted by path.  ``ogimpact data verify``
re-hashes every file against this manifest.

Usage::

    python scripts/make_manifest.py [--data-dir DIR]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

MANIFEST_NAME = "manifest.csv"
FIELDS = ("path", "bytes", "sha256", "source")


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_rows(data_dir: Path) -> list[dict[str, str]]:
    """Hash every file under ``data_dir/raw`` and return the manifest rows, sorted by path."""
    raw = data_dir / "raw"
    if not raw.is_dir():
        raise SystemExit(f"make_manifest: {raw} is not a directory; copy the shared data into data/raw/ first.")
    rows = []
    for p in sorted(raw.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        rel = p.relative_to(data_dir).as_posix()
        parts = p.relative_to(raw).parts
        source = parts[0] if len(parts) > 1 else "raw"
        rows.append({"path": rel, "bytes": str(p.stat().st_size), "sha256": file_sha256(p), "source": source})
    rows.sort(key=lambda r: r["path"])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    args = ap.parse_args(argv)
    rows = manifest_rows(args.data_dir)
    out = args.data_dir / MANIFEST_NAME
    tmp = out.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(out)
    print(f"wrote {out} ({len(rows)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
