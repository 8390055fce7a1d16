"""Design declarations: the one record per design agrees with the fit functions, the CLI and docs/designs.md."""
from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest

from ogimpact.designs import declarations as dec
from ogimpact.estimation import DESIGNS, REGRESSION, SINGLE_UNIT

ROOT = Path(__file__).resolve().parents[1]


def test_every_design_is_declared_once_and_estimation_reads_the_declarations():
    assert list(DESIGNS) == list(dec.names())
    assert len(set(dec.names())) == len(dec.DECLARATIONS)
    for d in dec.DECLARATIONS:
        assert DESIGNS[d.name] == (d.module, d.function_name)
        assert d.family in dec.FAMILIES
    assert tuple(d.name for d in dec.by_family("single_unit")) == SINGLE_UNIT
    assert tuple(d.name for d in dec.by_family("regression")) == REGRESSION


@pytest.mark.parametrize("name", dec.names())
def test_declared_defaults_are_the_fit_functions_defaults(name):
    d = dec.get(name)
    params = dict(inspect.signature(d.function()).parameters)
    if d.inference_function() is not None:  # options of the after-fit inference step (synth)
        params.update({k: v for k, v in inspect.signature(d.inference_function()).parameters.items() if k != "res"})
    for o in d.options:
        assert o.name in params, f"{name}: option {o.name!r} is not a keyword of {d.fit} or {d.inference}"
        assert params[o.name].default == o.default, f"{name}.{o.name}: declared {o.default!r}, fit function " \
                                                      f"{params[o.name].default!r}"


def _cli_parsers():
    from ogimpact.cli import build_parser

    root = build_parser()
    est = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction)).choices["estimate"]
    return next(a for a in est._actions if isinstance(a, argparse._SubParsersAction)).choices


#: CLI defaults that differ from the fit function on purpose (the CLI states a seed; strings parsed later)
_CLI_DIFFERS = {"seed", "effects", "fe", "window", "placebo", "inference"}


@pytest.mark.parametrize("name", dec.names())
def test_cli_choices_and_defaults_agree_with_the_declaration(name):
    sub = _cli_parsers()[name]
    assert sub.description == dec.get(name).description
    by_dest = {a.dest: a for a in sub._actions}
    d = dec.get(name)
    for o in d.options:
        a = by_dest.get(o.name) or by_dest.get({"lam": "lam", "v": "v_given", "n_jobs": "workers"}.get(o.name, ""))
        if a is None or o.name in _CLI_DIFFERS:
            continue
        if a.choices:
            assert set(a.choices) == set(o.choices), f"{name} {o.flag}: CLI {a.choices} vs declared {o.choices}"
        if a.default is not None and not isinstance(a.default, bool):
            assert a.default == o.default, f"{name} {o.flag}: CLI default {a.default!r} vs declared {o.default!r}"


def test_docs_designs_md_is_generated_from_the_declarations():
    page = (ROOT / "docs" / "designs.md").read_text(encoding="utf-8")
    assert page == dec.designs_markdown(), "docs/designs.md is stale: run python scripts/make_design_docs.py"


def test_fit_function_is_resolved_lazily():
    import subprocess
    import sys

    code = ("import sys; import ogimpact.designs.declarations as d; "
            "assert 'ogimpact.designs.callaway_santanna' not in sys.modules; "
            "f = d.get('cs').function(); assert f.__name__ == 'fit_cs'")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(ROOT / "src")})


def test_the_recipe_runs_declared_designs_with_declared_options():
    from ogimpact.evidence import recipe
    from ogimpact.evidence.assess_runs import RECIPE_SETTINGS

    assert set(recipe.COUNTRY_DESIGNS) - {"cs_cohort"} == {d.name for d in dec.by_family("single_unit")}
    assert {dec.get(d).family for d in recipe.STAGGERED_DESIGNS} <= {"staggered", "regression"}
    for name, settings in RECIPE_SETTINGS.items():
        d = dec.get("cs" if name == "cs_cohort" else name)
        for k, v in settings.items():
            o = d.option(k)  # KeyError: not a declared option
            assert not o.choices or v in o.choices, (name, k, v)
