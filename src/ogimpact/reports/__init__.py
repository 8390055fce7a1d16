"""Parameterised Papermill reports: country, cross-country and evidence review.

``run_report(params)`` executes a thin notebook from ``notebooks/`` and writes
``reports/<kind>/<slug>/`` (report.ipynb, report.html, results.json,
manifest.json) atomically; ``run_batch(spec)`` runs many in a process pool or
on a Dask cluster and writes ``reports/index.html``.
"""
from __future__ import annotations

from .params import CountryParams, CrossCountryParams, EvidenceParams, params_from_dict
from .runner import ReportFailed, ReportOutcome, run_report

__all__ = ["CountryParams", "CrossCountryParams", "EvidenceParams", "params_from_dict", "run_report",
           "ReportFailed", "ReportOutcome"]
