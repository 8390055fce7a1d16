"""The sha256 manifest of the bundled data, its verification, and the source summary.

``data/manifest.csv`` (written by ``scripts/make_manifest.py``) lists every file
under ``data/raw/`` with ``path`` (relative to ``data/``), ``bytes``, ``sha256``
and ``source`` (the folder under ``raw/``).
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .paths import data_dir

__all__ = ["MANIFEST_NAME", "SOURCE_INFO", "file_sha256", "read_manifest", "verify", "sources", "Problem"]

MANIFEST_NAME = "manifest.csv"

#: Publisher, licence, years and unit of each bundled source, transcribed from
#: its ``data/raw/<source>/PROVENANCE.md`` (the citation of record).
#: ``licence_flag`` marks terms narrower than CC BY / public domain.
SOURCE_INFO: dict[str, dict[str, str]] = {
    "wgi": dict(
        title="Worldwide Governance Indicators, 2024 update",
        publisher="World Bank (Kaufmann & Kraay)", licence="CC BY 4.0", licence_flag="",
        years="1996-2023", units="country-year"),
    "vdem": dict(
        title="V-Dem Country-Year dataset v14 (subset)",
        publisher="V-Dem Institute, University of Gothenburg", licence="CC BY-SA 4.0", licence_flag="share-alike",
        years="1990-2023", units="country-year"),
    "ti_cpi": dict(
        title="Corruption Perceptions Index 2012-2024 (verbatim) + legacy 1995-2011",
        publisher="Transparency International", licence="CC BY-ND 4.0", licence_flag="no-derivatives",
        years="1995-2024", units="country-year"),
    "idea_turnout": dict(
        title="IDEA Voter Turnout Database; V-Dem v15 v2eltrnout via OWID",
        publisher="International IDEA; V-Dem Institute / Our World in Data",
        licence="IDEA terms of use (attribution; publications CC BY-NC-SA); V-Dem CC BY-SA 4.0, OWID CC BY 4.0",
        licence_flag="non-commercial (IDEA), share-alike (V-Dem)",
        years="1945-2025", units="election; country-year"),
    "wjp_rule_of_law": dict(
        title="WJP Rule of Law Index historical data",
        publisher="World Justice Project", licence="WJP terms of use (attribution; not a CC licence)",
        licence_flag="terms of use", years="2012-2024", units="country-edition"),
    "wdi_covariates": dict(
        title="World Development Indicators (selected)",
        publisher="World Bank", licence="CC BY 4.0", licence_flag="", years="1990-2023", units="country-year"),
    "open_data_indices": dict(
        title="Open Data Barometer 2013-2016; Global Open Data Index 2013-2015",
        publisher="World Wide Web Foundation; Open Knowledge Foundation",
        licence="ODB CC BY 4.0; GODI ODC-PDDL", licence_flag="", years="2013-2016", units="country-year"),
    "rti_rating": dict(
        title="Global Right to Information Rating: law year and scores",
        publisher="Access Info Europe & Centre for Law and Democracy", licence="CC BY-NC-SA 3.0",
        licence_flag="non-commercial, share-alike", years="law years 1766-2026", units="country (cross-section)"),
    "rti_laws": dict(
        title="RTI statutes: adoption and in-force dates, earlier instruments, later laws (curated)",
        publisher="hand-made fact tables (sources per row); RTI Rating columns from rti_rating",
        licence="facts with cited sources; RTI Rating columns CC BY-NC-SA 3.0", licence_flag="non-commercial, share-alike",
        years="1766-2025", units="country; country-event"),
    "ogp_membership": dict(
        title="OGP national and OGP Local participation panels",
        publisher="Open Government Partnership (via policy_lab_ndi)", licence="no licence stated (OGP open data)",
        licence_flag="unstated", years="2011-2019", units="country-year; local jurisdiction-year"),
    "ogp_foi_timing": dict(
        title="OGP cohorts, status 2016, Chile/Mexico action plans, FOI law dates",
        publisher="hand-made fact tables (sources per row); OKF DE 2030 Watch (status 2016, CC BY 3.0)",
        licence="facts with cited sources; status table CC BY 3.0", licence_flag="",
        years="2000-2027", units="country"),
    "open_up_guide": dict(
        title="Anti-Corruption Open Up Guide datasets; Mexico pilot facts",
        publisher="Open Data Charter (hand-made fact tables)", licence="facts with cited sources",
        licence_flag="", years="2015-2018", units="dataset; fact"),
    "country_reference": dict(
        title="ISO codes, UN M49 regions, World Bank groups",
        publisher="datasets/country-codes (ISO, UN M49, CLDR); World Bank", licence="ODC-PDDL",
        licence_flag="", years="-", units="country"),
    "country_centroids": dict(
        title="Country centroids (latitude, longitude) for Conley spatial SEs",
        publisher="Google DSPL canonical countries (github.com/google/dspl)", licence="BSD-3-Clause",
        licence_flag="", years="-", units="country"),
    "chile_cplt_municipal": dict(
        title="Chile CPLT municipal transparency audits; municipal e-gov index",
        publisher="Consejo para la Transparencia (CPLT); González-Bustamante & Aguilar (2023)",
        licence="CC BY 4.0", licence_flag="", years="2012-2021", units="commune-year (cut_com)"),
    "mexico_inai_mapadai": dict(
        title="INAI #MapaDAImx: state and federal access-to-information requests",
        publisher="INAI (via GobiernoFacil/mapadai)", licence="no data licence stated (official statistics; repo GPL-2.0)",
        licence_flag="unstated", years="2003-2015", units="state-year; agency-month"),
    "open_budget_survey": dict(
        title="IBP Open Budget Survey scores (budget transparency, oversight, participation)",
        publisher="International Budget Partnership (via World Bank Data360, galileukim/wdr2025gov)",
        licence="IBP open data (CC BY 4.0 per IBP)", licence_flag="", years="2006-2023", units="country-round"),
    "rti_awareness_use": dict(
        title="Awareness of the RTI law (surveys) and request volumes (hand-made, source per row)",
        publisher="CPLT, INAI, INEGI, UK Cabinet Office/MoJ FOI bulletins, US DOJ OIP, India CIC reports and press "
                  "(hand-made fact tables)", licence="facts with cited sources",
        licence_flag="", years="2003-2023", units="country-year"),
    "ogp_membership_timing": dict(
        title="OGP national participants: join, first action plan, exit (curated, source per field)",
        publisher="hand-made from OGP report data 2019 and opengovpartnership.org pages", licence="facts with cited sources",
        licence_flag="", years="2011-2025", units="country"),
    "ogp_commitments": dict(
        title="OGP commitments of Chile at commitment level (partial, hand-made)",
        publisher="hand-made from opengovpartnership.org member and commitment pages", licence="facts with cited sources",
        licence_flag="", years="2014-2020", units="commitment"),
    "brazil_ebt_cgu": dict(
        title="Escala Brasil Transparente municipal audits, rounds 1-3",
        publisher="Controladoria-Geral da União (CGU)", licence="Brazilian federal open data (no separate licence stated)",
        licence_flag="unstated", years="2015-2017", units="municipality-round (ibge_code)"),
}


@dataclass(frozen=True)
class Problem:
    """One manifest discrepancy: ``kind`` is ``changed``, ``missing`` or ``unlisted``."""

    kind: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest() -> pd.DataFrame:
    """Read ``data/manifest.csv``: ``path, bytes, sha256, source``.

    Raises
    ------
    ogimpact.errors.DataError
        If the manifest is missing or lacks a column.
    """
    path = data_dir() / MANIFEST_NAME
    if not path.is_file():
        raise DataError(f"{path} is missing; regenerate it with `python scripts/make_manifest.py`.")
    try:
        df = pd.read_csv(path, dtype={"path": str, "sha256": str, "source": str, "bytes": "int64"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as exc:
        # a corrupt manifest is named, never an "internal error" (issue 9)
        raise DataError(f"{path} is not a readable manifest ({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); "
                        "restore it from the repository or regenerate it with scripts/make_manifest.py.") from None
    missing = {"path", "bytes", "sha256", "source"} - set(df.columns)
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(sorted(missing))}; regenerate it with scripts/make_manifest.py.")
    return df


def verify() -> list[Problem]:
    """Re-hash every bundled file against the manifest.

    Returns
    -------
    list of Problem
        Changed files (size or hash differ), missing files (listed but
        absent) and unlisted files (under ``raw/`` but not in the manifest).
        Empty when everything matches.
    """
    root = data_dir()
    man = read_manifest()
    problems: list[Problem] = []
    listed = set()
    for row in man.itertuples(index=False):
        listed.add(row.path)
        p = root / row.path
        if not p.is_file():
            problems.append(Problem("missing", row.path))
            continue
        size = p.stat().st_size
        if size != row.bytes:
            problems.append(Problem("changed", row.path, f"{size} bytes, manifest says {row.bytes}"))
        elif file_sha256(p) != row.sha256:
            problems.append(Problem("changed", row.path, "sha256 differs from the manifest"))
    for p in sorted((root / "raw").rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            rel = p.relative_to(root).as_posix()
            if rel not in listed:
                problems.append(Problem("unlisted", rel))
    return problems


def _count_rows(path: Path) -> int:
    """Data rows of a CSV: non-blank records after the header.

    The verbatim CPI file has a title row and an all-empty row (";;;…", skipped
    as blank) before its header, so two non-blank records precede its data.
    """
    cpi = path.name.startswith("CPI20")
    skip = 2 if cpi else 1
    with open(path, newline="", encoding="utf-8-sig") as fh:
        n = sum(1 for rec in csv.reader(fh, delimiter=";" if cpi else ",") if any(f.strip() for f in rec))
    return max(n - skip, 0)


def sources() -> pd.DataFrame:
    """Summary of the bundled sources.

    Returns
    -------
    pandas.DataFrame
        One row per source folder: ``id, title, publisher, licence,
        licence_flag`` (non-commercial / no-derivatives / share-alike /
        unstated terms), ``files`` (data files, PROVENANCE excluded),
        ``rows`` (data rows over its CSV files), ``years, units``.
    """
    man = read_manifest()
    root = data_dir()
    out = []
    for src, grp in man.groupby("source", sort=True):
        if src == "raw":
            continue
        info = SOURCE_INFO.get(src, {})
        data_files = [p for p in grp["path"] if p.endswith(".csv")]
        rows = sum(_count_rows(root / p) for p in data_files if (root / p).is_file())
        out.append(
            {
                "id": src,
                "title": info.get("title", ""),
                "publisher": info.get("publisher", "see PROVENANCE.md"),
                "licence": info.get("licence", "see PROVENANCE.md"),
                "licence_flag": info.get("licence_flag", ""),
                "files": len(data_files),
                "rows": rows,
                "years": info.get("years", ""),
                "units": info.get("units", ""),
            }
        )
    return pd.DataFrame(out)
