"""Write docs/designs.md from the design declarations (src/ogimpact/designs/declarations.py).

Run ``python scripts/make_design_docs.py`` after changing a declaration; tests/test_declarations.py
fails while the page is stale.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ogimpact.designs.declarations import designs_markdown  # noqa: E402

if __name__ == "__main__":
    path = ROOT / "docs" / "designs.md"
    path.write_text(designs_markdown(), encoding="utf-8")
    print("wrote", path.relative_to(ROOT))
