"""ogimpact — evidence-assessment workbench for open-government interventions.

The package is one flow, one direction (see ``docs/ARCHITECTURE.md``)::

    data -> measures / interventions -> panel -> designs -> inference -> results
         -> evidence -> reports

The command-line tool ``ogimpact`` (``ogimpact.cli``) is a thin layer over the
same functions.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import OgimpactError, PanelError, DesignError, DataError  # noqa: E402

__all__ = ["__version__", "OgimpactError", "PanelError", "DesignError", "DataError"]
