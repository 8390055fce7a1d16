"""Panels: the only way into a design.

``core`` holds :class:`Panel` (validation, roles, views) and the panel warning type; ``build`` assembles
registry panels from the measure catalogue and the intervention registry (``build_panel``).  ``build``
imports ``core``, never the reverse, so the package has no import cycle.
"""
from .build import build_panel
from .core import FEW_CLUSTERS, Panel, PanelError, PanelWarning, note_warning

__all__ = ["Panel", "PanelError", "PanelWarning", "FEW_CLUSTERS", "build_panel", "note_warning"]
