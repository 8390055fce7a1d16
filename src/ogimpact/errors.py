"""Error types raised for bad input.

Every error a user can provoke with bad input is an :class:`OgimpactError`.
The command line turns it into one plain sentence on stderr and exit status 2;
anything else is a bug (exit 1).  Messages name what is wrong *and* how to fix it.
"""
from __future__ import annotations


class OgimpactError(ValueError):
    """Bad input: the message says what is wrong and how to fix it (CLI exit 2)."""


class UsageError(OgimpactError):
    """Bad command-line usage (unknown option value, missing argument...)."""


class DataError(OgimpactError):
    """A data file is missing, unreadable, malformed or lacks a column."""


class PanelError(OgimpactError):
    """A panel failed validation (keys, time, cohort coding, comparison units...).

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    rows : pandas.DataFrame, optional
        The offending rows (at most a handful are shown in ``str``).
    """

    def __init__(self, message: str, rows=None):
        self.rows = rows
        if rows is not None and len(rows):
            shown = rows.head(5).to_string(index=False).replace("\n", "; ")
            more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
            message = f"{message} Offending rows: {shown}{more}."
        super().__init__(message)


class DesignError(OgimpactError):
    """The design cannot be estimated on this input (no comparison units, singular design...)."""


class RunError(RuntimeError):
    """A run failed for a reason that is not the user's input (CLI exit 1)."""


class OgimpactWarning(UserWarning):
    """A warning that qualifies a number: it travels in ``diagnostics.warnings`` as ``{code, message}``.

    Designs and helpers raise it with ``warnings.warn(OgimpactWarning(code, message))``; the one
    entry point ``ogimpact.estimation.estimate`` collects every such warning raised during a fit into
    the result's ``diagnostics.warnings`` (text mode prints them to stderr). Codes are stable
    snake_case identifiers (``few_clusters``, ``small_cohort``, ``rows_dropped``, ``propensity_trimmed``,
    ``always_treated_dropped``, ``not_converged``, ...).

    Parameters
    ----------
    code : str
        Stable identifier of the kind of warning.
    message : str
        One sentence: what happened and what it means for the number.
    """

    def __init__(self, code: str, message: str):
        self.code = str(code)
        self.message = str(message)
        super().__init__(f"{self.message}")

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
