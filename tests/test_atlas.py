"""The evidence atlas (issue 15): cell plan, keys and cache, reuse, byte-identical builds on every engine,
continue-on-error, the tidy CSV, diff, the CLI.

Bounded: one intervention (rti_law), one measure (wgi.cc), one country (MEX) — two cells, built once per
module in-process; the pool and LocalCluster builds recompute the same two cells into fresh caches.
The site is tested in headless Chromium (Playwright, network blocked) on the same two-cell atlas.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from ogimpact.reports.atlas import cells as cells_mod
from ogimpact.reports.atlas.build import CSV_COLUMNS, build_atlas
from ogimpact.reports.atlas.cache import COMPONENTS, CellCache, cell_key, key_components
from ogimpact.reports.atlas.cells import CROSS, plan_cells, run_cell, summarise
from ogimpact.reports.atlas.diff import diff_atlases
from ogimpact.cli import main

SMALL = dict(measures=["wgi.cc"], country_measures=["wgi.cc"], countries=["MEX"])


def _data_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file of a built atlas except manifest.json (the only file with timings)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def small_atlas(tmp_path_factory):
    base = tmp_path_factory.mktemp("atlas")
    m = build_atlas(["rti_law"], out=base / "atlas", cache_dir=base / "cache", progress=False, **SMALL)
    return base, m


# ------------------------------------------------------------------ plan
def test_plan_cells_keeps_adopters_with_enough_pre_periods():
    from ogimpact import interventions as iv

    plan = plan_cells(["rti_law"], measures=["wgi.cc"], country_measures=["wgi.cc"])
    ids = {cells_mod.cell_id(s) for s in plan}
    assert "rti_law__wgi.cc__cross-country" in ids
    t = iv.timing("rti_law").set_index("unit")["cohort"]
    # WGI starts in 1996: a 2002 adopter (Mexico) has 6 pre-years >= 5; Sweden's 1766 law has none
    assert int(t["MEX"]) == 2002 and "rti_law__wgi.cc__MEX" in ids
    assert "rti_law__wgi.cc__SWE" not in ids
    for s in plan:
        if s["country"]:
            assert s["cohort"] - 1996 >= 5 and s["cohort"] <= 2023
    never = {u for u, c in t.items() if not (c == c and c > 0)}
    assert not ({s["country"] for s in plan} & never)


def test_plan_defaults_every_country_measure_and_one_country_measure_per_domain():
    from ogimpact import measures as ms

    plan = plan_cells(["ogp_member"])
    cross = [s for s in plan if s["country"] is None]
    assert {s["measure"] for s in cross} == {m.id for m in ms.catalogue() if m.unit_level == "country"}
    per_country = {s["measure"] for s in plan if s["country"]}
    assert per_country == set(cells_mod.country_measures_default("ogp_member"))
    assert sorted(ms.get(m).domain for m in per_country) == sorted(ms.DOMAINS)  # one per domain of the gap map


def test_plan_refuses_other_unit_levels():
    from ogimpact.errors import OgimpactError

    with pytest.raises(OgimpactError, match="country-level"):
        plan_cells(["brazil_lai_regulation"])
    with pytest.raises(OgimpactError, match="country-level"):
        plan_cells(["rti_law"], measures=["ebt.score"])


# ------------------------------------------------------------------ keys
def test_key_components_name_what_changed():
    s = plan_cells(["rti_law"], **SMALL)[0]
    a = key_components(s)
    assert set(a) == set(COMPONENTS)
    assert cell_key(a) == cell_key(key_components(dict(s)))  # stable
    b = key_components({**s, "seed": 1})
    assert [k for k in COMPONENTS if a[k] != b[k]] == ["params"]
    c = key_components({**s, "measure": "vdem.v2x_partipdem"})
    assert {k for k in COMPONENTS if a[k] != c[k]} == {"data", "params"}  # another source file, another spec
    d = key_components({**s, "intervention": "ogp_member"})
    assert {k for k in COMPONENTS if a[k] != d[k]} == {"timing", "params"}
    from ogimpact.reports.atlas.cache import environment

    env = environment()
    assert env["python"].count(".") == 2 and env["numpy"]  # the library versions a cell's numbers depend on


# ------------------------------------------------------------------ adapter
def test_summarise_passes_through_recipe_keys_and_falls_back():
    spec = {"intervention": "rti_law", "measure": "wgi.cc", "country": None}
    new = summarise(spec, {"grade": "Low", "headline": "RTI laws: no detectable change in control of corruption.",
                           "grade_target": "the ATT", "estimand": {"text": "ATT over post years"},
                           "headline_estimate": {"design": "cs", "estimate": 0.1, "ci_low": -0.1, "ci_high": 0.3},
                           "reasons": ["r1"]})
    assert new["headline"].startswith("RTI laws") and new["grade_target"] == "the ATT"
    assert new["estimand"] == "ATT over post years" and new["estimate"] == 0.1 and new["reasons"] == ["r1"]
    old = summarise(spec, {"grade": "Low", "headline": {"design": "cs", "estimate": 0.118, "ci_low": -0.002,
                                                         "ci_high": 0.238, "p_value": 0.054}})
    assert old["grade_target"] is None and "among adopting countries" in old["estimand"]
    assert old["headline"] == ("Low evidence: cs estimate 0.118, 95% CI -0.002 to 0.238, p = 0.054 on "
                               "WGI Control of Corruption.")


def test_run_cell_sorts_errors_into_not_estimable_and_failed(monkeypatch):
    from ogimpact.errors import OgimpactError

    spec = plan_cells(["rti_law"], **SMALL)[0]

    def bad_input(s):
        raise OgimpactError("too few pre-periods; pick another country.")

    def crash(s):
        raise RuntimeError("boom")

    monkeypatch.setattr(cells_mod, "_assess", bad_input)
    r = run_cell(spec)
    assert r["status"] == "not estimable" and r["summary"]["grade"] == "Insufficient" and "pre-periods" in r["error"]
    monkeypatch.setattr(cells_mod, "_assess", crash)
    r = run_cell(spec)
    assert r["status"] == "failed" and r["error"] == "RuntimeError: boom"


# ------------------------------------------------------------------ build, reuse, byte identity
def test_build_writes_one_row_per_cell_and_a_manifest_with_keys_status_and_times(small_atlas):
    base, m = small_atlas
    root = base / "atlas"
    assert m["n_cells"] == 2 and m["n_computed"] == 2 and m["n_failed"] == 0
    with open(root / "data" / "atlas.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2
    assert [r["country"] for r in rows] == [CROSS, "MEX"]
    for r in rows:
        assert r["grade"] in ("High", "Moderate", "Low", "Very low", "Insufficient") and r["headline"] and r["estimand"]
        assert r["estimate"] and r["design"]
    cross = rows[0]
    assert cross["ci_low"] and float(cross["ci_low"]) < float(cross["estimate"]) < float(cross["ci_high"])
    man = json.loads((root / "manifest.json").read_text())
    assert [c["status"] for c in man["cells"]] == ["computed", "computed"]
    assert all(len(c["key"]) == 64 and c["seconds"] > 0 for c in man["cells"])
    # timings only in the manifest
    for p in (root / "data").rglob("*.json"):
        assert '"seconds"' not in p.read_text()
    # each cell's file holds the assessment of exactly that cell
    doc = json.loads((root / "data" / "cells" / "rti_law__wgi.cc__MEX.json").read_text())
    a = doc["result"]["assessments"][0]
    assert a["country"] == "MEX" and a["measure"] == "wgi.cc" and doc["summary"]["grade"] == a["grade"]


def test_second_build_reuses_every_cell_and_writes_the_same_bytes(small_atlas, tmp_path):
    base, _ = small_atlas
    before = _data_hashes(base / "atlas")
    m = build_atlas(["rti_law"], out=base / "atlas", cache_dir=base / "cache", progress=False, **SMALL)
    assert m["n_reused"] == 2 and m["n_computed"] == 0
    assert _data_hashes(base / "atlas") == before
    # into a fresh folder from the cache: the same bytes again
    m2 = build_atlas(["rti_law"], out=tmp_path / "copy", cache_dir=base / "cache", progress=False, **SMALL)
    assert m2["n_reused"] == 2 and _data_hashes(tmp_path / "copy") == before


def test_cache_files_are_byte_stable(small_atlas, tmp_path):
    base, _ = small_atlas
    cache = CellCache(base / "cache")
    n, size = cache.size()
    assert n == 2 and size > 0
    key = next(iter(json.loads((base / "atlas" / "manifest.json").read_text())["cells"]))["key"]
    rec = cache.get(key)
    other = CellCache(tmp_path)
    other.put(key, rec)
    assert other.path(key).read_bytes() == cache.path(key).read_bytes()


def test_process_pool_and_local_cluster_builds_are_byte_identical(small_atlas, tmp_path):
    pytest.importorskip("dask.distributed")
    base, _ = small_atlas
    want = _data_hashes(base / "atlas")
    m = build_atlas(["rti_law"], out=tmp_path / "pool", cache_dir=tmp_path / "c1", workers=2, progress=False, **SMALL)
    assert m["n_computed"] == 2 and m["engine"] == "local pool x2"
    assert _data_hashes(tmp_path / "pool") == want
    m = build_atlas(["rti_law"], out=tmp_path / "dask", cache_dir=tmp_path / "c2", scheduler="local:2", progress=False,
                    **SMALL)
    assert m["n_computed"] == 2 and m["engine"] == "dask local:2" and m["n_failed"] == 0
    assert _data_hashes(tmp_path / "dask") == want


def _fake_assess(fail: set):
    def fake(spec):
        if spec.get("country") in fail:
            raise RuntimeError("simulated worker crash")
        return {"intervention": spec["intervention"], "options": {},
                "assessments": [{"measure": spec["measure"], "country": spec.get("country"), "grade": "Low",
                                 "headline": {"design": "cs", "estimate": 0.5, "ci_low": 0.1, "ci_high": 0.9},
                                 "reasons": ["fake"], "designs": [], "checks": []}]}
    return fake


def test_build_continues_on_error_and_does_not_cache_failures(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cells_mod, "_assess", _fake_assess({"MEX"}))
    rc = main(["atlas", "build", "--interventions", "rti_law", "--measures", "wgi.cc", "--country-measures", "wgi.cc",
               "--countries", "MEX", "--out", str(tmp_path / "a"), "--cache", str(tmp_path / "cache"),
               "--no-progress"])
    out = capsys.readouterr()
    assert rc == 1
    assert "failed cells" in out.out and "rti_law__wgi.cc__MEX" in out.out and "simulated worker crash" in out.out
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert [c["status"] for c in man["cells"]] == ["computed", "failed"] and man["n_failed"] == 1
    with open(tmp_path / "a" / "data" / "atlas.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[1]["status"] == "failed" and rows[1]["grade"] == "Insufficient"
    assert CellCache(tmp_path / "cache").size()[0] == 1  # the failure is not cached
    # the next build reuses the good cell and retries the failed one
    monkeypatch.setattr(cells_mod, "_assess", _fake_assess(set()))
    m = build_atlas(["rti_law"], out=tmp_path / "a", cache_dir=tmp_path / "cache", progress=False, **SMALL)
    assert [c["status"] for c in m["cells"]] == ["reused", "computed"] and m["n_failed"] == 0
    # --rebuild recomputes everything
    m = build_atlas(["rti_law"], out=tmp_path / "a", cache_dir=tmp_path / "cache", progress=False, rebuild=True,
                    **SMALL)
    assert [c["status"] for c in m["cells"]] == ["computed", "computed"]


# ------------------------------------------------------------------ diff
def test_diff_names_the_changed_component(small_atlas, tmp_path):
    base, _ = small_atlas
    new = tmp_path / "new"
    shutil.copytree(base / "atlas", new)
    idx = json.loads((new / "data" / "atlas.json").read_text())
    c = idx["cells"][1]
    c["summary"]["grade"] = "High" if c["summary"]["grade"] != "High" else "Low"
    c["components"]["rubric"] = "0" * 64
    idx["cells"][0]["components"]["data"] = "1" * 64  # inputs changed, grade and headline did not
    (new / "data" / "atlas.json").write_text(json.dumps(idx))
    d = diff_atlases(base / "atlas", new)
    assert [x["id"] for x in d["changed"]] == ["rti_law__wgi.cc__MEX"]
    assert d["changed"][0]["why"] == ["rubric"] and d["n_unchanged"] == 1
    c["components"]["environment"] = "2" * 64
    (new / "data" / "atlas.json").write_text(json.dumps(idx))
    assert diff_atlases(base / "atlas", new)["changed"][0]["why"] == ["rubric", "software environment"]
    assert diff_atlases(base / "atlas", base / "atlas")["changed"] == []


def test_cli_diff_and_errors(small_atlas, capsys):
    base, _ = small_atlas
    assert main(["atlas", "diff", str(base / "atlas"), str(base / "atlas"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == []
    assert main(["atlas", "diff", str(base), str(base / "atlas")]) == 2
    assert "not a built atlas" in capsys.readouterr().err
    assert main(["atlas", "build", "--interventions", "no_such", "--out", str(base / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ogimpact: error:") and "Traceback" not in err
    assert main(["atlas", "build", "--interventions", "rti_law", "--scheduler", "local:x",
                 "--measures", "wgi.cc", "--country-measures", "none", "--cache", str(base / "cache"),
                 "--out", str(base / "y"), "--rebuild"]) == 2


# ------------------------------------------------------------------ the site in a real browser, network blocked
def _chromium() -> str | None:
    for c in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if c and Path(c).exists():
            return c
    return None


def test_site_in_headless_chromium_offline(small_atlas):
    pw = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) not installed")
    exe = _chromium()
    if exe is None:
        pytest.skip("system Chromium not installed (.ci/run installs it); Playwright never downloads browsers here")
    from urllib.parse import unquote, urlparse

    base, m = small_atlas
    root = (base / "atlas").resolve()
    pages = sorted(root.rglob("*.html"))
    assert {p.relative_to(root).parts[0] for p in pages} == {"index.html", "cells", "countries", "gap"}
    errors, remote = [], []
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            ctx = browser.new_context(offline=True)
            ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (remote.append(route.request.url), route.abort()))
            page = ctx.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            for f in pages:
                page.goto(f.as_uri())
                footer = page.locator("footer").inner_text()
                assert m["atlas_version"] in footer and "ogimpact atlas build --interventions rti_law" in footer
                assert "rubric" in footer and "data version" in footer
                for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                    u = urlparse(href)
                    assert u.scheme == "file", href
                    assert Path(unquote(u.path)).is_file(), f"{f.name}: broken link {href}"
            # the filter box
            page.goto((root / "index.html").as_uri())
            rows = page.locator("#cells tbody tr")
            assert rows.count() == 2 and page.locator("#shown").inner_text() == "2"
            page.fill("#f-country", "mexico")
            assert page.locator("#shown").inner_text() == "1"
            assert page.locator("#cells tbody tr:visible").count() == 1
            grade = page.locator("#cells tbody tr:visible").get_attribute("data-grade")
            page.select_option("#f-grade", grade)
            assert page.locator("#shown").inner_text() == "1"
            page.fill("#f-country", "")
            page.fill("#f-measure", "no-such-measure")
            assert page.locator("#shown").inner_text() == "0"
            page.fill("#f-measure", "wgi.cc")
            page.select_option("#f-grade", "")
            assert page.locator("#shown").inner_text() == "2"
            # a gap-map bubble opens the measures and countries behind it
            page.click("table.gap a")
            assert "gap/rti_law--access-to-information-corruption.html" in page.url
            assert page.locator("text=wgi.cc").count() >= 1 and page.locator("a[href='../countries/MEX.html']").count() == 1
            # a cell page: headline, estimate table, figure, reasons, JSON download
            page.goto((root / "cells" / "rti_law__wgi.cc__MEX.html").as_uri())
            assert page.locator("h2:text('Estimates') + table tbody tr").count() >= 3
            assert page.locator("figure svg path").count() == 2
            assert page.locator("a[download][href$='rti_law__wgi.cc__MEX.json']").count() == 1
        finally:
            browser.close()
    assert errors == [] and remote == []


def test_the_adapter_passes_the_cell_spec_to_the_assessment(monkeypatch):
    import ogimpact.evidence.assess as assess_mod

    seen = []

    class _T:
        def to_dict(self):
            return {"assessments": [{"grade": "Low", "headline": None, "reasons": []}],
                    "options": {"seconds": {"total": 1.0}}}

    monkeypatch.setattr(assess_mod, "assess", lambda iv, **kw: (seen.append((iv, kw)), _T())[1])
    spec = {**plan_cells(["rti_law"], **SMALL)[1], "seed": 7}
    r = run_cell(spec)
    iv, kw = seen[0]
    assert iv == "rti_law" and kw["measures"] == ["wgi.cc"] and kw["country"] == "MEX" and kw["seed"] == 7
    assert kw["window"] == (-5, 5) and kw["sdid_reps"] == 50
    assert "seconds" not in r["result"]["options"]  # timings never enter the data files
    assert r["summary"]["headline"] == "Low: no estimate of the effect on WGI Control of Corruption."


def test_rebuild_command_names_only_what_differs_from_the_defaults():
    from ogimpact.reports.atlas.build import rebuild_command
    from ogimpact.reports.atlas.cells import PARAM_DEFAULTS

    assert rebuild_command(["rti_law", "ogp_member"], None, None, None, PARAM_DEFAULTS) == \
        "ogimpact atlas build --interventions rti_law,ogp_member"
    assert rebuild_command(["rti_law"], ["wgi.cc"], [], ["MEX"], {**PARAM_DEFAULTS, "seed": 3}) == \
        "ogimpact atlas build --interventions rti_law --measures wgi.cc --country-measures none --countries MEX --seed 3"
