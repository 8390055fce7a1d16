"""Typed, validated report parameters.

Parameters are checked *before* anything runs: an unknown country, measure,
intervention or design is an :class:`OgimpactError` listing the valid
choices (CLI exit 2).  Validation is strict by construction — ids must match
the registry and a conservative character set — so a parameter string can
neither inject code into the executed notebook nor escape ``reports/``
through the folder name (see ``slug``).
"""
from __future__ import annotations

import re
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from ..errors import OgimpactError
from ..parse import id_list, span

__all__ = [
    "CountryParams",
    "CrossCountryParams",
    "EvidenceParams",
    "DEFAULT_MEASURES",
    "COUNTRY_DESIGNS",
    "CROSS_DESIGNS",
    "slug",
    "params_from_dict",
    "cli_defaults",
    "KINDS",
]

#: domain-balanced default outcome set (one per domain where the source allows)
from ..measures import DEFAULT_MEASURES  # noqa: E402  (one home: the catalogue)
from ..donors import DEFAULT_RULE  # noqa: E402  (one home: the donor rules)
COUNTRY_DESIGNS = ("synth", "sdid", "its", "cs")
CROSS_DESIGNS = ("twfe", "cs", "sun-abraham", "imputation")
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_ISO3 = re.compile(r"^[A-Z]{3}$")


def slug(*parts: str) -> str:
    """A safe folder name from validated parts: lower-case ``[a-z0-9_.-]`` joined by ``-``."""
    s = "-".join(str(p) for p in parts).lower()
    s = re.sub(r"[^a-z0-9_.\-]+", "_", s).strip("._-")
    if not s or s in (".", ".."):
        raise OgimpactError("the report parameters give an empty folder name; check country/intervention.")
    return s[:120]


def param_hash(params, named: tuple[str, ...] = ()) -> str | None:
    """Short stable hash of the parameters that differ from their defaults (``None`` when all are default).

    Two reports whose parameters differ in anything (years, seed, measures, designs, placebo ...) get
    different folders: the slug ends with this hash.  ``named`` parameters are already spelled out in
    the slug and left out.  Stable across runs and machines: sha256 of the sorted JSON of the values.
    """
    import hashlib
    import json

    diff = {}
    for f in fields(params):
        if f.name in named:
            continue
        default = f.default if f.default is not MISSING else MISSING
        v = getattr(params, f.name)
        if default is MISSING or v != default:
            diff[f.name] = list(v) if isinstance(v, tuple) else v
    if not diff:
        return None
    text = json.dumps(diff, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise OgimpactError(
            f"{what} {value!r} is not a valid id (letters, digits, '_', '.', '-' only); "
            f"run `ogimpact {'measures' if 'measure' in what else 'interventions'}` for the valid ids."
        )
    return value


def _valid_countries() -> dict[str, str]:
    from ..data import independent_countries

    ref = independent_countries()
    name_col = "name" if "name" in ref.columns else ref.columns[1]
    return dict(zip(ref["iso3"], ref[name_col]))


def _check_measures(measures, *, level: str | None = None) -> tuple[str, ...]:
    from .. import measures as ms

    if isinstance(measures, str):
        measures = id_list(measures)
    if not measures:
        raise OgimpactError("measures is empty; give at least one measure id (see `ogimpact measures`).")
    out = []
    for m in measures:
        _check_id(m, "measure")
        mm = ms.get(m)  # unknown -> OgimpactError with the valid ids
        if level and mm.unit_level != level:
            raise OgimpactError(f"measure {m!r} is at {mm.unit_level} level; this report needs {level}-level measures.")
        out.append(m)
    return tuple(dict.fromkeys(out))


def _check_years(years) -> tuple[int, int] | None:
    if years is None:
        return None
    a, b = span(years, name="years")
    if not (1900 <= a < b <= 2100):
        raise OgimpactError(f"years {a}:{b} are out of range or reversed; give first:last with first < last.")
    return (a, b)


def _check_designs(designs, allowed) -> tuple[str, ...]:
    if isinstance(designs, str):
        designs = id_list(designs)
    bad = [d for d in designs if d not in allowed]
    if bad:
        raise OgimpactError(f"unknown design(s) {', '.join(map(repr, bad))}; choose from {', '.join(allowed)}.")
    return tuple(designs)


#: figure export formats a report can write beside report.html (``--figures``); figures are SVG in the HTML
FIGURE_FORMATS = ("png",)
#: parameters that change what is written, not the analysis: left out of the folder's parameter hash
OUTPUT_ONLY = ("figures",)


def _check_figures(f) -> str | None:
    if f in (None, ""):
        return None
    if f not in FIGURE_FORMATS:
        raise OgimpactError(f"figures export {f!r} is not supported; use --figures png (300-dpi PNG files in "
                            "figures/ beside report.html), or leave it out.")
    return str(f)


def _check_horizon(h) -> int:
    if isinstance(h, bool) or not isinstance(h, int) or h < 0:
        raise OgimpactError(f"horizon must be a whole number of periods >= 0 (e.g. 5), got {h!r}.")
    return int(h)


def _check_donor_rule(rule) -> None:
    """A donor rule of :mod:`ogimpact.donors` (``registry`` = the former name of ``untreated``)."""
    from ..donors import parse_rule

    if not isinstance(rule, str) or len(rule) > 200:
        raise OgimpactError(f"donor_rule must be a donor rule such as 'similar' or 'untreated', got {rule!r}.")
    if rule == "all":
        raise OgimpactError("donor_rule 'all' (every other unit, adopters in the window included) was retired with "
                            "the answers recipe: a donor treated in the window contaminates the comparison; use "
                            "'untreated' (the former 'registry'), 'all-untreated', 'region' or 'similar' [similar].")
    if rule != "registry":
        parse_rule(rule)


@dataclass(frozen=True)
class CountryParams:
    """Parameters of ``country_report.ipynb`` (one country x one intervention)."""

    country: str
    intervention: str = "rti_law"
    measures: tuple[str, ...] = DEFAULT_MEASURES
    years: tuple[int, int] | None = None
    designs: tuple[str, ...] = COUNTRY_DESIGNS
    variant: str | None = None
    donor_rule: str = DEFAULT_RULE
    placebo: bool = True
    seed: int = 0
    horizon: int = 5
    figures: str | None = None

    kind = "country"

    def validate(self) -> "CountryParams":
        from .. import interventions as iv

        if not isinstance(self.country, str) or not _ISO3.match(self.country.upper()):
            raise OgimpactError(f"country {self.country!r} is not an ISO3 code (three letters, e.g. CHL).")
        ctry = self.country.upper()
        valid = _valid_countries()
        if ctry not in valid:
            sample = ", ".join(sorted(valid)[:12])
            raise OgimpactError(f"unknown country {ctry!r}; valid ISO3 codes include {sample} ... "
                                "(see data/raw/country_reference).")
        _check_id(self.intervention, "intervention")
        intervention = iv.get(self.intervention)
        if intervention.unit_level != "country":
            raise OgimpactError(f"intervention {self.intervention!r} is at {intervention.unit_level} level; "
                                "a country report needs a country-level intervention.")
        if self.variant is not None:
            _check_id(self.variant, "variant")
            if intervention.variants and self.variant not in intervention.variants:
                raise OgimpactError(f"unknown variant {self.variant!r} of {self.intervention!r}; choose from "
                                    f"{', '.join(intervention.variants)}.")
        timing = iv.timing(self.intervention, variant=self.variant)
        row = timing[timing["unit"] == ctry]
        if row.empty or not (row["cohort"].fillna(0) > 0).any():
            adopters = sorted(map(str, timing.loc[timing["cohort"].fillna(0) > 0, "unit"]))
            more = " ..." if len(adopters) > 15 else ""
            raise OgimpactError(
                f"{ctry} has no adoption date for {self.intervention!r}"
                f"{' (variant ' + repr(self.variant) + ')' if self.variant else ''}, so a country report has no "
                f"treatment to evaluate; choose an adopting country, e.g. {', '.join(adopters[:15])}{more}."
            )
        _check_donor_rule(self.donor_rule)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise OgimpactError(f"seed must be a non-negative integer, got {self.seed!r}.")
        return CountryParams(
            country=ctry,
            intervention=self.intervention,
            measures=_check_measures(self.measures, level="country"),
            years=_check_years(self.years),
            designs=_check_designs(self.designs, COUNTRY_DESIGNS),
            variant=self.variant,
            donor_rule=self.donor_rule,
            placebo=bool(self.placebo),
            seed=int(self.seed),
            horizon=_check_horizon(self.horizon),
            figures=_check_figures(self.figures),
        )

    @property
    def slug(self) -> str:
        # a non-default timing variant is a different analysis: it gets its own folder; any other
        # non-default parameter adds a short hash (two batch entries never share a folder)
        h = param_hash(self, ("country", "intervention", "variant") + OUTPUT_ONLY)
        return slug(self.country, self.intervention, *([self.variant] if self.variant else []), *([h] if h else []))

    def notebook_parameters(self) -> dict:
        d = asdict(self)
        d["measures"] = list(self.measures)
        d["designs"] = list(self.designs)
        d["years"] = list(self.years) if self.years else None
        return d


@dataclass(frozen=True)
class CrossCountryParams:
    """Parameters of ``cross_country.ipynb`` (one intervention across all adopters)."""

    intervention: str = "rti_law"
    measures: tuple[str, ...] = DEFAULT_MEASURES[:2]
    years: tuple[int, int] | None = None
    designs: tuple[str, ...] = CROSS_DESIGNS
    variant: str | None = None
    seed: int = 0
    horizon: int = 5
    figures: str | None = None

    kind = "cross-country"

    def validate(self) -> "CrossCountryParams":
        from .. import interventions as iv

        _check_id(self.intervention, "intervention")
        intervention = iv.get(self.intervention)
        if self.variant is not None:
            _check_id(self.variant, "variant")
            if intervention.variants and self.variant not in intervention.variants:
                raise OgimpactError(f"unknown variant {self.variant!r} of {self.intervention!r}; choose from "
                                    f"{', '.join(intervention.variants)}.")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise OgimpactError(f"seed must be a non-negative integer, got {self.seed!r}.")
        return CrossCountryParams(
            intervention=self.intervention,
            measures=_check_measures(self.measures, level=intervention.unit_level),
            years=_check_years(self.years),
            designs=_check_designs(self.designs, CROSS_DESIGNS),
            variant=self.variant,
            seed=int(self.seed),
            horizon=_check_horizon(self.horizon),
            figures=_check_figures(self.figures),
        )

    @property
    def slug(self) -> str:
        h = param_hash(self, ("intervention", "variant") + OUTPUT_ONLY)
        return slug(self.intervention, self.variant or "default", *([h] if h else []))

    def notebook_parameters(self) -> dict:
        d = asdict(self)
        d["measures"] = list(self.measures)
        d["designs"] = list(self.designs)
        d["years"] = list(self.years) if self.years else None
        return d


@dataclass(frozen=True)
class EvidenceParams:
    """Parameters of ``evidence_review.ipynb`` (every intervention x measure in the registry)."""

    measures: tuple[str, ...] = ()
    seed: int = 0
    horizon: int = 5
    figures: str | None = None

    kind = "evidence"

    def validate(self) -> "EvidenceParams":
        ms = _check_measures(self.measures) if self.measures else ()
        if not isinstance(self.seed, int) or self.seed < 0:
            raise OgimpactError(f"seed must be a non-negative integer, got {self.seed!r}.")
        return EvidenceParams(measures=ms, seed=int(self.seed), horizon=_check_horizon(self.horizon),
                              figures=_check_figures(self.figures))

    @property
    def slug(self) -> str:
        h = param_hash(self, OUTPUT_ONLY)
        return "evidence-map" + (f"-{h}" if h else "")

    def notebook_parameters(self) -> dict:
        return {"measures": list(self.measures), "seed": self.seed, "horizon": self.horizon, "figures": self.figures}


_KINDS = {"country": CountryParams, "cross-country": CrossCountryParams, "evidence": EvidenceParams}
#: report kind -> its parameter class
KINDS = dict(_KINDS)


def cli_defaults(kind: str, intervention: str | None = None) -> dict:
    """What ``ogimpact report KIND`` gives each parameter when its option is left out (notebook form).

    The parameter classes' field defaults, except that a country report's measures and designs
    default to the intervention's own (``interventions.get(id).measures`` / ``.designs``) when the
    registry lists them.  The CLI builds its parameters from this, and the methods appendix's rerun
    command leaves out exactly the options whose value equals it: one home for "the default".
    """
    if kind not in _KINDS:
        raise OgimpactError(f"unknown report kind {kind!r}; choose from {', '.join(_KINDS)}.")
    out = {}
    for f in fields(_KINDS[kind]):
        if f.default is MISSING:
            continue
        v = f.default
        out[f.name] = list(v) if isinstance(v, tuple) else v
    if kind == "country" and intervention:
        from .. import interventions

        try:
            iv = interventions.get(intervention)
        except Exception:  # noqa: BLE001 - an unknown or mistyped id is reported by the validation
            iv = None
        if iv is not None:
            if iv.measures:
                out["measures"] = list(iv.measures)
            if iv.designs:
                out["designs"] = [d for d in COUNTRY_DESIGNS if d in iv.designs]
    return out


def params_from_dict(kind: str, d: dict) -> Any:
    """Build and validate the parameters of report ``kind`` from a plain dict (e.g. a batch entry)."""
    if kind not in _KINDS:
        raise OgimpactError(f"unknown report kind {kind!r}; choose from {', '.join(_KINDS)}.")
    cls = _KINDS[kind]
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise OgimpactError(f"unknown {kind} report parameter(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}.")
    for f in fields(cls):  # YAML values are typed: `placebo: "false"` is a string, not False
        if f.name in d and f.default is not MISSING and d[f.name] is not None:
            v, want = d[f.name], type(f.default)
            if want is bool and not isinstance(v, bool):
                raise OgimpactError(f"{kind} report parameter {f.name!r} must be true or false (unquoted), "
                                    f"got {str(v)[:60]!r} ({type(v).__name__}).")
            if want is int and (isinstance(v, bool) or not isinstance(v, int)):
                raise OgimpactError(f"{kind} report parameter {f.name!r} must be a whole number, "
                                    f"got {str(v)[:60]!r} ({type(v).__name__}).")
    if kind == "country":  # the defaults of `ogimpact report country` (one home: cli_defaults)
        dflt = cli_defaults(kind, d.get("intervention", cls.__dataclass_fields__["intervention"].default))
        d = {**{k: tuple(dflt[k]) for k in ("measures", "designs") if k not in d}, **d}
    return cls(**d).validate()
