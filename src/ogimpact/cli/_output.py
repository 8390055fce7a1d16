"""Output helpers shared by the command modules."""
from __future__ import annotations

import sys
from typing import Any

from ..atomic import atomic_write_bytes, atomic_write_text  # noqa: F401 - re-exported
from ..results import dumps

__all__ = ["emit_json", "atomic_write_bytes", "atomic_write_text"]


def emit_json(doc: Any) -> None:
    """Print exactly one JSON document on stdout (NaN/inf as null)."""
    sys.stdout.write(dumps(doc, indent=1))
    sys.stdout.write("\n")
    sys.stdout.flush()
