"""The methods appendix of a report: data, timing, donors, options, deviations, rubric, how to rerun.

Built from what the report recorded (every result's ``options``), the bundled data manifest and
PROVENANCE files, the intervention registry and the grading rubric — nothing is restated by hand
except the list of known deviations from reference software, each naming where it is decided.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Mapping

__all__ = ["appendix_markdown", "rerun_command", "data_sources", "manifest_sha256", "DEVIATIONS"]

#: known departures of the report's runs from the reference packages (design -> sentence)
DEVIATIONS = {
    "synth": "Synthetic control is {synth_kind} with the report's donor rule; inference is the placebo-in-space "
             "rank p-value (Abadie et al. 2010), not a confidence interval.",
    "sdid": "Synthetic DiD standard errors use the placebo method of R synthdid with {reps} placebo draws "
            "(synthdid's vcov default is 200) to keep a report within minutes.",
    "its": "Interrupted time series intervals use AR(1) REML with a Satterthwaite t reference "
           "(evidence.assess_runs.ITS_SE), not Newey–West normal intervals.",
    "cs": "Callaway–Sant'Anna uses analytic influence-function standard errors with normal critical values, as R did "
          "with bstrap = FALSE; R did's default multiplier bootstrap and uniform bands are not used here.",
    "twfe": "Clustered regression intervals use t(G−1) critical values, as Stata and fixest do (R did and metafor "
            "use the normal).",
    "sun-abraham": "Clustered intervals use t(G−1) critical values, as fixest::sunab does.",
    "imputation": "Standard errors are the two-stage (did2s) ones unless the options say bjs.",
}


def manifest_sha256() -> str | None:
    """sha256 of ``data/manifest.csv`` (the hash of every bundled file, in one)."""
    from ..data import data_dir

    p = Path(data_dir()) / "manifest.csv"
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None


#: report parameter -> its ``ogimpact report`` option, in the order the rerun command prints them
_OPTIONS = (("measures", "--measures"), ("designs", "--designs"), ("years", "--years"), ("variant", "--variant"),
            ("donor_rule", "--donor-rule"), ("horizon", "--horizon"), ("placebo", "--no-placebo"),
            ("seed", "--seed"), ("figures", "--figures"))


def _same(a: Any, b: Any) -> bool:
    norm = (lambda v: list(v) if isinstance(v, (list, tuple)) else v)
    return norm(a) == norm(b)


def rerun_command(kind: str, p: Mapping[str, Any]) -> str:
    """The exact ``ogimpact report`` command that rebuilds this report from its parameters ``p``.

    Every parameter of the report kind whose value differs from what the command gives when its option
    is left out (:func:`ogimpact.reports.params.cli_defaults`, the one home of those defaults) is
    spelled out; values are shell-quoted.  Parsing the command with the CLI gives back ``p``.
    """
    import shlex

    from .params import KINDS, cli_defaults

    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    q = shlex.quote
    names = {f for f in KINDS[kind].__dataclass_fields__}
    d = cli_defaults(kind, p.get("intervention"))
    parts = ["ogimpact", "report", kind]
    if kind == "country":
        parts.append(q(str(p.get("country"))))
    if "intervention" in names:
        parts.append(f"--intervention {q(str(p.get('intervention')))}")
    for name, flag in _OPTIONS:
        if name not in names or name not in p or _same(p[name], d.get(name)):
            continue
        v = p[name]
        if name == "placebo":
            if not v:
                parts.append(flag)
            continue  # placebo on is the only other value, and the default
        if v is None:  # years / variant left to the default: nothing to spell out (the default is None)
            continue
        if name in ("measures", "designs"):
            text = ",".join(map(str, v))
        elif name == "years":
            text = f"{v[0]}:{v[1]}"
        else:
            text = str(v)
        parts.append(f"{flag} {q(text)}")
    return " ".join(parts)


def _provenance_title(source: str) -> str | None:
    from ..data import data_dir

    f = Path(data_dir()) / "raw" / source / "PROVENANCE.md"
    if not f.exists():
        return None
    for line in f.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def data_sources(files: list[str] | None = None) -> list[dict]:
    """The bundled sources the report read: id, title, publisher, licence, version (PROVENANCE title)."""
    from ..data.manifest import sources

    if files is None:
        try:
            from ..data import files_read

            files = sorted(files_read())
        except ImportError:  # pragma: no cover
            files = []
    used = set()
    for f in files:
        parts = Path(f).as_posix().split("/")
        if "raw" in parts and parts.index("raw") + 1 < len(parts):
            used.add(parts[parts.index("raw") + 1])
    tab = sources()
    rows = []
    for _, r in tab.iterrows():
        if used and r["id"] not in used:
            continue
        rows.append({"id": r["id"], "title": r.get("title"), "publisher": r.get("publisher"),
                     "licence": r.get("licence"), "years": r.get("years"), "version": _provenance_title(r["id"])})
    return rows


def _fmt_value(v: Any) -> str:
    """An option value in words: no empty fields, ranges as "A–B", rows of excluded units counted by reason."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None or (isinstance(v, (str, list, tuple, dict)) and len(v) == 0):
        return "none"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        if len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return f"{v[0]}–{v[1]}"
        if all(isinstance(x, Mapping) for x in v):
            reasons = [str(x.get("reason") or x.get("status") or "listed") for x in v]
            counts = {r: reasons.count(r) for r in dict.fromkeys(reasons)}
            return f"{len(v)} rows (" + ", ".join(f"{k}: {n}" for k, n in counts.items()) + ")"
        items = [_fmt_value(x) for x in v]
        return ", ".join(items) if len(items) <= 12 else f"{len(items)} values ({', '.join(items[:6])}, …)"
    if isinstance(v, Mapping):
        parts = [f"{k}: {_fmt_value(x)}" for k, x in v.items()
                 if not (x is None or (isinstance(x, (str, list, tuple, dict)) and len(x) == 0))]
        return "; ".join(parts) or "none"
    return re.sub(r"(?<=[\w)])\.\.(?=[\w(])", " to ", str(v))  # "treat_time..last period" -> "... to ..."


#: an option that differs between a design's runs (one per outcome, unit ...)
VARIES = "varies by outcome (each run's value is in results.json)"


def _options_by_design(ctx) -> dict[str, dict]:
    """Each design's options over all its runs: a value shared by every run, else :data:`VARIES`."""
    runs: dict[str, list[dict]] = {}
    for e in ctx.entries:
        r = e.get("result") or {}
        d = e.get("design")
        if d and isinstance(r.get("options"), Mapping):
            runs.setdefault(d, []).append(dict(r["options"]))
    out: dict[str, dict] = {}
    for d, opts in runs.items():
        merged = {}
        for k in dict.fromkeys(k for o in opts for k in o):
            vals = [json.dumps(o.get(k), sort_keys=True, default=str) for o in opts]
            merged[k] = opts[0].get(k) if len(set(vals)) == 1 else VARIES
        out[d] = merged
    return out


def _donor_rules(ctx) -> tuple[dict, list[str]]:
    """The donor rule's parameters shared by every run, and one line per outcome (window, donors kept)."""
    rules, lines, seen = [], [], set()
    for e in ctx.entries:
        o = (e.get("result") or {}).get("options")
        rule = o.get("donor_rule") if isinstance(o, Mapping) else None
        if not isinstance(rule, Mapping):
            continue
        rules.append(rule)
        key = (e.get("measure"), e.get("unit"))
        if key in seen:
            continue
        seen.add(key)
        donors = o.get("donors")
        n = f"; {len(donors)} donors" if isinstance(donors, (list, tuple)) else ""
        where = f" ({e['unit']})" if e.get("unit") else ""
        lines.append(f"- {e.get('measure')}{where}: window {_fmt_value(rule.get('window'))}{n}")
    if not rules:
        return {}, []
    shared = {k: v for k, v in rules[0].items()
              if all(json.dumps(r.get(k), sort_keys=True, default=str) == json.dumps(v, sort_keys=True, default=str)
                     for r in rules)}
    return shared, lines


def _parameter_lines(kind: str, p: Mapping[str, Any]) -> list[str]:
    """Every report parameter with its value and the default the command gives it."""
    from .params import KINDS, cli_defaults

    if kind not in KINDS:
        return []
    d = cli_defaults(kind, p.get("intervention"))
    words = {"years": "every year the data cover", "variant": "the registry default"}

    def fmt(name, v):
        return words[name] if v is None and name in words else _fmt_value(v)

    out = []
    for name in KINDS[kind].__dataclass_fields__:
        v = p.get(name)
        if name in ("country", "intervention"):  # the command always names them
            out.append(f"- {name} = {_fmt_value(v)} [required]")
        elif name in d:
            mark = "" if _same(v, d[name]) else " (not the default)"
            out.append(f"- {name} = {fmt(name, v)}{mark} [default: {fmt(name, d[name])}]")
        else:
            out.append(f"- {name} = {_fmt_value(v)} [required]")
    return out


def _interventions_of(ctx) -> list[str]:
    """The interventions a report is about: its parameter, else those of its evidence-map entries."""
    p = ctx.parameters
    if p.get("intervention"):
        return [p["intervention"]]
    ids = []
    for e in ctx.entries:
        role = str(e.get("role") or "")
        if role.startswith("evidence_map:"):
            ids.append(role.split(":", 1)[1])
    return list(dict.fromkeys(ids))


def appendix_markdown(ctx) -> str:
    """The methods appendix as Markdown."""
    from ..evidence.rubric import load_rubric
    from .presentation import DESIGN_NAMES, clean_prose

    p = ctx.parameters
    lines = ["## Methods appendix", ""]
    # data
    lines += ["### Data sources", "", "| Source | Publisher | Licence | Version | Years |", "|---|---|---|---|---|"]
    for s in data_sources():
        cells = [s["title"] or s["id"], s["publisher"], s["licence"], s["version"] or "see PROVENANCE.md",
                 s["years"]]
        lines.append("| " + " | ".join(str(c or "—").replace("|", "/") for c in cells) + " |")
    lines.append("")
    # timing
    ivs = _interventions_of(ctx)
    if ivs:
        from .. import interventions as iv

        lines += ["### Intervention timing", ""]
        for i in ivs:
            try:
                it = iv.get(i)
            except Exception:  # noqa: BLE001 - an id the registry no longer has: say so
                lines += [f"- {i}: not in the intervention registry.", ""]
                continue
            v = p.get("variant") or it.default_variant
            lines += ([f"**{it.label}** ({i})", ""] if len(ivs) > 1 else []) + [
                clean_prose(it.definition), "",
                f"Timing variant used: **{v}**{'' if p.get('variant') else ' (the registry default)'} — "
                f"{clean_prose(it.variants.get(v, ''))}", ""]
    # report parameters
    plines = _parameter_lines(ctx.kind, p)
    if plines:
        lines += ["### Report parameters", "", *plines, ""]
    opts = _options_by_design(ctx)
    # donors
    shared, per_outcome = _donor_rules(ctx)
    if shared or per_outcome:
        lines += ["### Donor rule", "", f"{_fmt_value(shared)}.", ""]
        if per_outcome:
            lines += ["Per outcome:", "", *per_outcome, ""]
    # options
    if opts:
        lines += ["### Every option of every design (defaults included)", ""]
        for d, o in opts.items():
            shown = {k: v for k, v in o.items() if k not in ("donor_rule",)}
            lines.append(f"- **{DESIGN_NAMES.get(d, d)}**: " + "; ".join(
                f"{k} = {_fmt_value(v)}".replace("*", "\\*") for k, v in shown.items()))  # "b1*t" is not emphasis
        lines.append("")
    # deviations
    devs = []
    for d, o in opts.items():
        if d in DEVIATIONS:
            kind = ("the outcome-only SCM (augsynth's / scpi's default: every pre-period outcome, equal V)"
                    if o.get("predictors") in (None, "", "none") else
                    f"Stata synth's predictor-based fit (predictors {_fmt_value(o.get('predictors'))})")
            devs.append(f"- {DEVIATIONS[d].format(reps=o.get('placebo_reps', o.get('reps', 50)), synth_kind=kind)}")
    if devs:
        lines += ["### Deviations from reference software", "", *devs, ""]
    # rubric
    rub = load_rubric()
    checks = rub.data.get("checks", {})
    lines += ["### Grading rubric", "", f"Rubric {rub.data.get('rubric')} version {rub.version} "
              f"(grading.yaml sha256 {rub.sha256[:16]}…). Thresholds:", ""]
    for name, vals in checks.items():
        if isinstance(vals, Mapping):
            lines.append(f"- {name.replace('_', ' ')}: " + ", ".join(f"{k} = {v}" for k, v in vals.items()))
    up = rub.data.get("upgrade") or {}
    if up:
        lines.append("- upgrade: " + ", ".join(f"{k} = {v}" for k, v in up.items()))
    lines.append("")
    # rerun
    lines += ["### How to rerun", "", "```", rerun_command(ctx.kind, p), "```", "",
              f"Bundled data: data/manifest.csv sha256 `{manifest_sha256()}` (check with `ogimpact data verify`). "
              "The report folder's manifest.json records the package versions, git commit, seed, per-section "
              "timings and the sha256 of every data file read.", ""]
    return "\n".join(lines)


def _json(o) -> str:  # pragma: no cover - debugging aid
    return json.dumps(o, indent=1, default=str)
