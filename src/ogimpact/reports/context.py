"""What a report notebook records: every estimate it shows, written once as results.json.

The notebook creates one :class:`ReportContext` from its parameters, passes
every result it displays to :meth:`ReportContext.add`, and calls
:meth:`ReportContext.save` last.  ``results.json`` is deterministic: keys in a
fixed order, no timestamps, floats as Python prints them — the same
parameters give the same bytes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..results import Estimate, dumps, json_safe

__all__ = ["ReportContext", "NotAvailable"]


class NotAvailable(dict):
    """A design that could not run here, with the reason (shown in the report, never hidden)."""

    def __init__(self, design: str, reason: str, *, status: str = "not available"):
        super().__init__(design=design, status=status, reason=reason)


class ReportContext:
    """Collects the results a report shows and writes ``results.json``.

    Parameters
    ----------
    output_dir : folder the runner created for this report (a parameter of the notebook)
    kind : report kind
    parameters : the notebook's parameters (recorded verbatim)
    """

    def __init__(self, output_dir: str | None, *, kind: str, parameters: dict):
        self.output_dir = Path(output_dir) if output_dir else None
        self.kind = kind
        self.parameters = dict(parameters)
        self.entries: list[dict] = []
        self.tables: dict[str, Any] = {}
        self.headline: dict[str, Any] = {}
        self.grades: list[dict] = []
        #: the answered questions (evidence.recipe.Question) the report showed, graded by show.grades; not saved
        self.questions: list = []

    def add(self, result: Estimate | dict, *, measure: str | None = None, design: str | None = None,
            unit: str | None = None, role: str = "estimate") -> Estimate | dict:
        """Record one result (an :class:`Estimate` or a :class:`NotAvailable`); returns it unchanged."""
        if isinstance(result, Estimate):
            doc = result.to_dict()
        else:
            doc = dict(result)
        entry = {"measure": measure, "design": design or doc.get("design"), "unit": unit, "role": role,
                 "result": doc}
        self.entries.append(json_safe(entry))
        return result

    def add_table(self, key: str, frame) -> None:
        """Record a table shown in the report (a DataFrame or list of dicts)."""
        self.tables[key] = json_safe(frame)

    def add_grade(self, assessment: dict) -> None:
        self.grades.append(json_safe(assessment))

    def set_headline(self, **values) -> None:
        """Key numbers for the batch index page (e.g. the main estimate and its p-value)."""
        self.headline.update(json_safe(values))

    def summary_frame(self):
        """One row per recorded estimate: measure, design, estimate, se, CI, p, status."""
        import pandas as pd

        rows = []
        for e in self.entries:
            r = e["result"]
            rows.append({
                "measure": e["measure"], "design": e["design"], "unit": e["unit"],
                "estimate": r.get("estimate"), "se": r.get("se"), "ci_low": r.get("ci_low"),
                "ci_high": r.get("ci_high"), "p_value": r.get("p_value"),
                "placebo_p": (r.get("placebo") or {}).get("p_value"),
                "status": r.get("status", "ok"),
            })
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "parameters": json_safe(self.parameters),
            "headline": self.headline,
            "results": self.entries,
            "tables": self.tables,
            "grades": self.grades,
        }

    def save(self) -> Path | None:
        """Write ``results.json`` (and the list of data files read) into ``output_dir``."""
        if self.output_dir is None:
            return None
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / "results.json"
        path.write_text(dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        try:
            from ..data import files_read

            reads = sorted(files_read())
        except ImportError:  # pragma: no cover - older data layer
            reads = []
        (self.output_dir / "_data_reads.json").write_text(json.dumps(reads), encoding="utf-8")
        return path


def report_dir_from_env() -> str | None:
    return os.environ.get("OGIMPACT_REPORT_DIR")
