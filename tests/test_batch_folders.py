"""Batch entries that differ in any parameter get their own report folder, and the index links
each row to its own folder (issue 9: "two batch entries that differ only in years or seed write the
same folder; the index links both rows to whichever finished last").

The batch runs for real (spec → validated params → ``run_report`` → folder rename → ``index.html``);
only papermill's notebook execution is replaced by a stub that writes what a notebook writes.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from ogimpact.reports import batch, runner
from ogimpact.reports.params import CountryParams, CrossCountryParams, EvidenceParams, param_hash


def test_default_parameters_keep_the_old_slug():
    assert CountryParams(country="CHL").validate().slug == "chl-rti_law"
    assert CountryParams(country="CHL", intervention="ogp_member", variant="first_action_plan").validate().slug \
        == "chl-ogp_member-first_action_plan"
    assert CrossCountryParams().validate().slug == "rti_law-default"
    assert EvidenceParams().validate().slug == "evidence-map"


@pytest.mark.parametrize("change", [{"years": "2000:2015"}, {"seed": 3}, {"placebo": False},
                                    {"designs": ("synth",)}, {"measures": ("wgi.cc",)}, {"donor_rule": "untreated"}])
def test_every_non_default_parameter_changes_the_slug(change):
    base = CountryParams(country="CHL").validate()
    other = CountryParams(country="CHL", **change).validate()
    assert other.slug != base.slug and other.slug.startswith(base.slug + "-")
    assert re.fullmatch(r"chl-rti_law-[0-9a-f]{8}", other.slug)


def test_slug_hash_is_stable_and_ignores_spelling_of_the_same_value():
    a = CountryParams(country="chl", years="2000:2015").validate()
    b = CountryParams(country="CHL", years=(2000, 2015)).validate()
    assert a.slug == b.slug
    # sha256 of the sorted JSON of the non-default values: the same on every machine and run
    import hashlib

    want = hashlib.sha256(b'{"years":[2000,2015]}').hexdigest()[:8]
    assert param_hash(a, ("country", "intervention", "variant")) == want and a.slug.endswith(want)
    assert CrossCountryParams(seed=1).validate().slug != CrossCountryParams(seed=2).validate().slug
    assert EvidenceParams(seed=2).validate().slug.startswith("evidence-map-")


def _fake_execute(nb_in, nb_out, parameters=None, **kw):
    import nbformat

    out = Path(parameters["output_dir"])
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"seed {parameters.get('seed')} years {parameters.get('years')}"))
    nbformat.write(nb, nb_out)
    (out / "results.json").write_text(json.dumps({"headline": {"seed": parameters.get("seed")}}))


def test_batch_entries_differing_in_years_or_seed_get_their_own_folders(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute)
    monkeypatch.setattr(runner, "bundled_data_problems", lambda: [])  # verified elsewhere (test_reports_honest)
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs:\n  - {country: CHL}\n  - {country: CHL, years: '2000:2015'}\n"
                    "  - {country: CHL, seed: 3}\n")
    out = tmp_path / "out"
    runs = batch.run_batch(spec, out_root=out, progress=False)
    assert [r["status"] for r in runs] == ["ok"] * 3
    paths = [Path(r["path"]) for r in runs]
    assert len(set(paths)) == 3 and paths[0].name == "chl-rti_law"
    for r, p, want in zip(runs, paths, [(0, None), (0, [2000, 2015]), (3, None)]):
        man = json.loads((p / "manifest.json").read_text())
        assert (man["parameters"]["seed"], man["parameters"]["years"]) == want and man["slug"] == p.name
        assert r["slug"] == p.name
    page = (out / "index.html").read_text()
    links = [html.unescape(h) for h in re.findall(r'<a href="([^"]+)">', page)]
    assert links == [f"country/{p.name}/report.html" for p in paths]  # one row, one folder, in spec order
    assert all((out / link).exists() for link in links)


def test_identical_entries_are_still_refused_before_running(tmp_path, monkeypatch):
    from ogimpact.errors import OgimpactError

    monkeypatch.setattr(batch, "_run_one", lambda *a, **k: pytest.fail("a report ran"))
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs:\n  - {country: CHL, years: '2000:2015'}\n  - {country: chl, years: [2000, 2015]}\n")
    with pytest.raises(OgimpactError, match=r"entries 0 and 1 would both write .*they are identical"):
        batch.run_batch(spec, out_root=tmp_path / "out", progress=False)


def test_retired_donor_rule_all_is_refused_with_the_alternatives():
    from ogimpact.errors import OgimpactError

    with pytest.raises(OgimpactError, match="all-untreated"):
        CountryParams(country="CHL", donor_rule="all").validate()
