"""Evidence assessment: checks, the versioned grader, meta-analysis, context and the assessment itself.

Public names are imported lazily (PEP 562) so that ``import ogimpact.evidence``
stays cheap and a missing optional piece only fails when it is used.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # checks
    "CheckResult": "checks", "DOMAINS": "checks", "check_parallel_trends": "checks", "check_few_clusters": "checks",
    "check_placebo": "checks", "check_consistency": "checks", "check_baseline_equivalence": "checks",
    "check_precision": "checks", "check_multiplicity": "checks", "check_indirectness": "checks",
    "hedges_g": "checks", "is_large_effect": "checks",
    # grader
    "Rubric": "grading", "Grade": "grading", "PooledGrade": "grading", "load_rubric": "grading", "grade": "grading",
    "pool_grades": "grading", "DEFAULT_RUBRIC": "grading",
    # meta-analysis
    "MetaResult": "meta", "meta_analysis": "meta",
    # context
    "QUESTIONS": "context", "ContextAnswer": "context", "ContextRecord": "context", "context_for": "context",
    # assessment
    # (the function ``assess`` lives in the submodule of the same name: ``ogimpact.evidence.assess.assess``)
    "Assessment": "assess", "AssessmentTable": "assess", "assess_panel": "assess",
    "assess_country_panel": "assess", "default_measures": "assess", "grade_report_entries": "assess_map",
    "show_evidence_review": "assess_map", "evidence_map": "assess_map", "pooled_estimates": "assess_map",
    "EvidenceMap": "assess_map", "family_adjust": "assess_grade",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'ogimpact.evidence' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
