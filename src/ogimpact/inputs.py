"""Reading and validating user tables: one home for every command's input checks.

``read_table`` reads a user CSV (``estimate``, ``meta``) with one-sentence errors;
``require_columns`` names missing columns with "did you mean" suggestions;
``numeric_column`` refuses non-numeric cells, infinities and absurd magnitudes in a
numeric role, naming the column, the first offending rows and the likely cause;
``unknown_units`` / ``registry_units_exist`` / ``registry_units_known`` name unit codes absent
from a CSV panel or the registry (``--units``, ``--donors``, ``--treated``, ``--country``) with close
matches.  Id columns keep ISO2 ``NA`` (Namibia) as a value (``read_table(id_columns=...)``).
Every failure is a :class:`ogimpact.errors.DataError` / ``UsageError`` (CLI exit 2).
"""
from __future__ import annotations

import csv
import difflib
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import DataError, UsageError

__all__ = ["read_table", "require_columns", "numeric_column", "unknown_units", "registry_units_known",
           "registry_units_exist", "validate_roles", "clip", "MAX_ABS"]

#: values beyond this magnitude are refused in numeric roles (no real outcome, se or count is this big)
MAX_ABS = 1e15
_ECHO = 200  # characters of a user string echoed in a message


def clip(s, n: int = _ECHO) -> str:
    """``s`` as text, cut to ``n`` characters (with an ellipsis saying so)."""
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def _column_list(cols: Sequence, n: int = 40) -> str:
    cols = [str(c) for c in cols]
    shown = ", ".join(clip(c, 60) for c in cols[:n])
    return shown + (f", … ({len(cols) - n} more of {len(cols)})" if len(cols) > n else "")


def read_table(path: str | Path, *, id_columns: Sequence[str | None] = ()) -> pd.DataFrame:
    """Read a user CSV; missing, empty, Excel, ragged or duplicated-header files raise :class:`DataError`.

    ``id_columns`` (the unit column, a study label ...) keep the literal cell ``NA`` as a value
    wherever the column holds text codes: ISO2 ``NA`` is Namibia, not a missing id.  In a column
    of numbers (numeric ids) ``NA`` stays missing, as R writes it.
    """
    p = Path(path)
    name = clip(str(p))
    if not p.exists():
        raise DataError(f"data file {name!r} does not exist; check the --data path.")
    if p.is_dir():
        raise DataError(f"{name!r} is a folder, not a CSV file; give the path of the CSV.")
    with open(p, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"data file {name!r} is an Excel workbook (or another zip file), not a CSV; "
                        "export the sheet as comma-separated CSV.")
    with open(p, encoding="utf-8-sig", errors="replace") as fh:
        head = fh.readline().strip()
    if "," not in head:
        for sep, kind in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if sep in head:
                raise DataError(f"data file {name!r} looks {kind}-separated (header {clip(head, 80)!r}); "
                                "save it as comma-separated CSV (with '.' as the decimal mark).")
    raw = next(csv.reader([head]), [])
    names = [c.strip() for c in raw]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise DataError(f"data file {name!r} has duplicate column name(s) {', '.join(map(repr, map(clip, dup)))}; "
                        "rename them so every column is named once.")
    try:
        with warnings.catch_warnings():
            # a row with more fields than the header: an error, not a silently shifted index column
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(p, index_col=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {name!r} is empty; give a CSV with a header row and data rows.") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError) as exc:
        raise DataError(
            f"data file {name!r} is not a readable CSV ({clip(' '.join(str(exc).split()), 160)}); "
            "save it as comma-separated UTF-8 text with as many fields in every row as in the header."
        ) from None
    # header cells with stray blanks ("year, unit") name the same columns as without them
    stripped = [c.strip() if isinstance(c, str) else c for c in df.columns]
    if stripped != list(df.columns) and len(set(stripped)) == len(stripped):
        df.columns = stripped
    if df.empty:
        raise DataError(f"data file {name!r} has a header but no rows.")
    for c in dict.fromkeys(c for c in id_columns if c is not None):
        if c in df.columns and df[c].isna().any():
            df[c] = _na_as_code(p, list(df.columns).index(c), df[c])
    return df


def _na_as_code(path: Path, pos: int, parsed: pd.Series) -> pd.Series:
    """Column ``pos`` with its literal ``NA`` cells restored as the code ``"NA"`` when it is a text column."""
    raw = pd.read_csv(path, usecols=[pos], dtype=str, keep_default_na=False, index_col=False,
                      encoding="utf-8-sig").iloc[:, 0]
    if len(raw) != len(parsed):  # pragma: no cover - the same file parsed twice
        return parsed
    lit = (raw.str.strip() == "NA").to_numpy() & parsed.isna().to_numpy()
    others = parsed[parsed.notna()]
    if not lit.any() or (len(others) and pd.to_numeric(others, errors="coerce").notna().all()):
        return parsed  # numeric ids: NA is a missing value
    out = parsed.astype(object).copy()
    out[lit] = "NA"
    return out


def require_columns(df: pd.DataFrame, names: Iterable[str], what: str = "column") -> None:
    """Refuse names absent from ``df`` with close matches and the (complete or elided) column list."""
    cols = [str(c) for c in df.columns]
    for c in names:
        if c is None or str(c) in cols:
            continue
        close = difflib.get_close_matches(str(c), cols, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise DataError(f"{what} {clip(c, 80)!r} not in the data; {hint}"
                        f"available columns: {_column_list(cols)}.")


def _cause(bad: pd.Series) -> str:
    txt = " ".join(bad.astype(str).tolist())
    if any(ch in txt for ch in "\u2212\u2012\u2013\u2014"):
        return "a Unicode minus or dash (−) instead of the ASCII '-'"
    low = txt.lower()
    if "inf" in low:
        return "infinite values"
    if any("," in str(v) for v in bad):
        s = [str(v) for v in bad if "," in str(v)]
        if all(len(x.rsplit(",", 1)[1]) == 3 for x in s):
            return "a thousands separator (',')"
        return "a decimal comma instead of '.'"
    if any(ch.isspace() for ch in txt.strip()) and any(c.isdigit() for c in txt):
        return "a space inside a number"
    return "text in a numeric column"


def numeric_column(df: pd.DataFrame, col: str, *, role: str = "column", positive: bool = False) -> pd.Series:
    """``df[col]`` as floats; non-numeric cells, ±inf, |x| > MAX_ABS (and <= 0 if ``positive``) are refused.

    Empty cells stay missing (NaN): designs drop and count them.
    """
    s = df[col]
    as_text = s.astype("string").str.strip()
    num = pd.to_numeric(as_text.where(as_text != "", None), errors="coerce")
    bad = num.isna() & s.notna() & (as_text.fillna("") != "")
    if bad.any():
        rows = list(np.flatnonzero(bad.to_numpy())[:3])
        shown = ", ".join(f"row {i + 2}: {clip(s.iloc[i], 30)!r}" for i in rows)
        raise DataError(f"{role} {clip(col, 80)!r} has non-numeric values in {int(bad.sum())} cell(s) ({shown}); "
                        f"likely cause: {_cause(s[bad])}; fix the file so every cell is a plain number or empty.")
    num = num.astype(float)
    inf = ~np.isfinite(num) & num.notna()
    big = np.isfinite(num) & (num.abs() > MAX_ABS)
    for mask, why in ((inf, "infinite"), (big, f"beyond ±{MAX_ABS:g}")):
        if mask.any():
            i = int(np.flatnonzero(mask.to_numpy())[0])
            raise DataError(f"{role} {clip(col, 80)!r} has {int(mask.sum())} {why} value(s) (first at row {i + 2}: "
                            f"{s.iloc[i]!r}); replace them with real values or leave the cells empty.")
    if positive and (num <= 0).any():
        m = num <= 0
        i = int(np.flatnonzero(m.to_numpy())[0])
        raise DataError(f"{role} {clip(col, 80)!r} has {int(m.sum())} zero or negative value(s) (first at row "
                        f"{i + 2}: {s.iloc[i]!r}); standard errors must be positive.")
    return num


def _close(u: str, avail: Sequence[str]) -> list[str]:
    """Close matches of a code: same first two characters first (CHI -> CHL, CHN), then difflib."""
    same = [a for a in avail if a[:2].upper() == u[:2].upper() and a != u]
    return list(dict.fromkeys(same[:3] + difflib.get_close_matches(u, avail, n=3, cutoff=0.6)))[:4]


def unknown_units(requested: Sequence, available: Iterable, *, flag: str, column: str | None = None) -> None:
    """Refuse unit codes absent from ``available`` (e.g. ``--units CHI``), naming close matches
    (the one check of ``--units``, ``--donors`` and ``--treated`` on a CSV; ``column`` names the unit column)."""
    avail = sorted({str(u) for u in available})
    missing = [str(u) for u in requested if str(u) not in set(avail)]
    if not missing:
        return
    parts = []
    for u in missing[:5]:
        close = _close(u, avail)
        parts.append(f"{clip(u, 40)!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    where = f" in the data's {clip(column, 60)!r} column" if column is not None else ""
    raise UsageError(f"{flag}: unknown unit(s) {'; '.join(parts)}{more}{where}; check the codes (spelling) "
                     "against the data.")


def registry_units_exist(requested: Sequence | None, measures: Sequence[str] | str, *, flag: str = "--units") -> None:
    """Refuse registry unit codes that no year of the ``measures`` has, before a panel is built.

    Checked first so an unknown code (``CHI`` for ``CHL``, ISO2 ``NA`` for ``NAM``) is named with close
    matches instead of being dropped silently or hidden behind a later panel error.
    """
    if not requested:
        return
    from . import measures as _ms

    try:
        known = {str(u) for u in _ms.load(measures)["unit"].unique()}
    except Exception:  # noqa: BLE001 - an unknown measure id is reported by the build with its own message
        return
    missing = [str(u) for u in requested if str(u) not in known]
    if not missing:
        return
    ids = ", ".join(measures) if not isinstance(measures, str) else measures
    parts = []
    for u in missing[:5]:
        close = _close(u, sorted(known))
        parts.append(f"{clip(u, 40)!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    raise UsageError(f"{flag}: {'; '.join(parts)}{more} not a unit of {clip(ids, 120)} in any year (unknown code); "
                     "check the codes with `ogimpact measures` / `ogimpact interventions show ID`.")


def validate_roles(df: pd.DataFrame, *, unit: str, time: str, outcome: str, numeric: Sequence[str] = (),
                   optional: Sequence[str] = (), regressors: Sequence[str] = ()) -> None:
    """Check the role columns of a panel CSV before it is built.

    Every named column must exist (did-you-mean otherwise); the outcome and the
    ``numeric`` roles must hold numbers only; the outcome may not be the time or
    unit column or a regressor (by name or by identical values) — a degenerate model.
    """
    roles = [unit, time, outcome, *numeric, *optional]
    require_columns(df, [c for c in roles if c], "column")
    for c in dict.fromkeys([outcome, *numeric]):
        numeric_column(df, c, role="outcome" if c == outcome else "column")
    y = pd.to_numeric(df[outcome], errors="coerce")
    for c, what in [(time, "the time column"), (unit, "the unit column"),
                    *[(r, f"regressor {clip(r, 60)!r}") for r in regressors]]:
        if c == outcome:
            raise UsageError(f"the outcome {clip(outcome, 60)!r} is also {what}; choose a different outcome.")
        other = pd.to_numeric(df[c], errors="coerce")
        if other.notna().all() and y.notna().all() and np.array_equal(y.to_numpy(float), other.to_numpy(float)):
            raise UsageError(f"the outcome {clip(outcome, 60)!r} is identical to {what} ({clip(c, 60)!r}): "
                             "the model is degenerate; choose the right --outcome.")


def registry_units_known(requested: Sequence | None, panel, *, flag: str = "--units") -> None:
    """Refuse registry unit codes that are not in the built panel (``CHI`` for ``CHL`` drops Chile otherwise).

    Units the panel dropped for a recorded reason (listed in ``panel.info``) count as known.
    """
    if not requested:
        return
    known = {str(u) for u in panel.frame[panel.unit].unique()}

    def _walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                known.add(str(k))
                _walk(v)
        elif isinstance(x, (list, tuple, set)):
            for v in x:
                _walk(v)
        elif isinstance(x, str):
            known.add(x)

    _walk({k: v for k, v in panel.info.items() if str(k).startswith("dropped")})
    missing = [str(u) for u in requested if str(u) not in known]
    if not missing:
        return
    avail = {str(u) for u in panel.frame[panel.unit].unique()}
    try:  # suggestions among the country codes too
        from . import data as _d

        avail |= set(_d.country_reference()["iso3"].astype(str)) if all(len(u) == 3 for u in missing) else set()
    except Exception:  # noqa: BLE001 - suggestions only
        pass
    avail = sorted(avail - set(missing))
    parts = []
    for u in missing[:5]:
        close = _close(u, avail)
        parts.append(f"{clip(u, 40)!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    always = panel.info.get("n_always_treated_dropped")
    raise UsageError(f"{flag}: {'; '.join(parts)}{f' and {len(missing) - 5} more' if len(missing) > 5 else ''} "
                     "not in the registry panel (unknown code, or no data for this measure in these years"
                     + (f", or one of {always} units treated before the first year" if always else "")
                     + "); check the codes with `ogimpact measures` / `ogimpact interventions`.")
