"""The report worker (ogimpact.reports.prefetch) and the other report speed-ups give the same bytes.

A country report fits ahead in one forked worker; what it returns, raises, warns and reads must be what
the inline call gives, a failed worker must not fail the report, and results.json must be byte-identical
with the worker on and off.  Also: the one-draw SVG extent (plots.style.page_bbox) matches matplotlib's
tight bounding box where texts overflow, reused cohort panels are copies, and json_safe's fast path keeps
its meaning.
"""
from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest

from ogimpact.errors import OgimpactError, OgimpactWarning
from ogimpact.reports import prefetch as pf_mod
from ogimpact.reports.prefetch import Prefetch

needs_fork = pytest.mark.skipif(not pf_mod.enabled(), reason="the report worker needs fork and two cores")


# --------------------------------------------------------------------------- jobs (module level: picklable)
def _pid_and_sum(a, b=0):
    return os.getpid(), a + b


def _raises(msg):
    raise OgimpactError(msg)


def _warns_then_returns(x):
    warnings.warn(OgimpactWarning("few_clusters", "only 4 clusters: the standard error is unreliable"))
    print("printed in the worker")
    return x * 2


def _reads_a_file():
    from ogimpact.data import _io

    _io._READS.add("raw/_test_source/_prefetch_probe.csv")
    return True


def _dies_in_worker(parent_pid):
    if os.getpid() != parent_pid:
        os._exit(3)  # the worker process dies mid-job
    return "computed inline"


# --------------------------------------------------------------------------- the worker
def _submit_then_take(submitted: tuple, taken: tuple):
    """Submit ``_pid_and_sum(*submitted)`` to a fresh worker, take ``_pid_and_sum(*taken)``."""
    pf = Prefetch()
    try:
        pf.submit("k", _pid_and_sum, *submitted)
        return pf.take("k", _pid_and_sum, *taken)
    finally:
        pf.close()


@needs_fork
def test_taken_result_comes_from_the_worker_and_equals_the_inline_value():
    pid, total = _submit_then_take((2, 3), (2, 3))
    assert total == _pid_and_sum(2, 3)[1] == 5
    assert pid != os.getpid(), "the job should have run in the forked worker"


@needs_fork
def test_other_arguments_than_submitted_are_computed_inline():
    assert _submit_then_take((2, 3), (2, 4)) == (os.getpid(), 6)


@needs_fork
def test_an_exception_in_the_worker_is_raised_again_where_the_result_is_taken():
    pf = Prefetch()
    try:
        pf.submit("k", _raises, "the question cannot be posed")
        with pytest.raises(OgimpactError, match="the question cannot be posed"):
            pf.take("k", _raises, "the question cannot be posed")
    finally:
        pf.close()


@needs_fork
def test_warnings_and_output_of_the_worker_are_replayed_in_the_taking_process(capsys):
    pf = Prefetch()
    try:
        pf.submit("k", _warns_then_returns, 21)
        with pytest.warns(OgimpactWarning, match="only 4 clusters") as rec:
            assert pf.take("k", _warns_then_returns, 21) == 42
    finally:
        pf.close()
    assert rec[0].message.code == "few_clusters"
    assert "printed in the worker" in capsys.readouterr().out


@needs_fork
def test_bundled_files_read_by_the_worker_join_the_manifest_list():
    from ogimpact.data import _io, files_read

    _io._READS.discard("raw/_test_source/_prefetch_probe.csv")
    pf = Prefetch()
    try:
        pf.submit("k", _reads_a_file)
        assert "raw/_test_source/_prefetch_probe.csv" not in files_read()
        assert pf.take("k", _reads_a_file) is True
    finally:
        pf.close()
    assert "raw/_test_source/_prefetch_probe.csv" in files_read()
    _io._READS.discard("raw/_test_source/_prefetch_probe.csv")


@needs_fork
def test_a_worker_that_dies_falls_back_to_the_inline_computation():
    pf = Prefetch()
    try:
        pf.submit("k", _dies_in_worker, os.getpid())
        assert pf.take("k", _dies_in_worker, os.getpid()) == "computed inline"
    finally:
        pf.close()


def test_workers_off_by_environment_computes_everything_inline(monkeypatch):
    monkeypatch.setenv(pf_mod.ENV, "0")
    assert not pf_mod.enabled()
    pf = Prefetch()
    pf.submit("k", _pid_and_sum, 1, b=1)  # ignored
    assert pf.take("k", _pid_and_sum, 1, b=1) == (os.getpid(), 2)
    pf.close()


def test_batches_of_parallel_reports_turn_the_report_worker_off(tmp_path, monkeypatch):
    """Reports run side by side already fill the cores: their kernels get OGIMPACT_REPORT_WORKERS=0."""
    from ogimpact.reports import CountryParams, batch

    monkeypatch.delenv(pf_mod.ENV, raising=False)
    seen = {}

    def fake_run_report(params, **kw):
        seen["env"] = os.environ.get(pf_mod.ENV)
        raise RuntimeError("stop here")

    monkeypatch.setattr("ogimpact.reports.runner.run_report", fake_run_report)
    params = CountryParams(country="CHL", intervention="rti_law").validate()
    batch._run_one(params, str(tmp_path), 60, False)
    assert seen["env"] == "0"
    monkeypatch.delenv(pf_mod.ENV, raising=False)
    batch._run_one(params, str(tmp_path), 60)
    assert seen["env"] is None


@pytest.mark.slow
@needs_fork
def test_results_json_is_byte_identical_with_the_report_worker_on_and_off(tmp_path, monkeypatch):
    from ogimpact.reports import CountryParams, run_report

    params = dict(country="CHL", intervention="rti_law", measures=("wgi.cc", "wgi.ge"), designs=("its", "cs"))
    monkeypatch.setenv(pf_mod.ENV, "0")
    off = run_report(CountryParams(**params), out_root=tmp_path / "off")
    monkeypatch.delenv(pf_mod.ENV)
    on = run_report(CountryParams(**params), out_root=tmp_path / "on")
    assert (on.path / "results.json").read_bytes() == (off.path / "results.json").read_bytes()
    import json

    m_on, m_off = (json.loads((o.path / "manifest.json").read_text()) for o in (on, off))
    assert m_on["data_files"] == m_off["data_files"], "the worker's data reads must reach the manifest"


# --------------------------------------------------------------------------- one-draw SVG extent
def _figure(*, legend=True, source="x" * 40, title="A short title"):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from ogimpact.plots.style import finish

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot([1, 2, 3], [1, 3, 2], label="a rather long legend label for the line" if legend else None)
    finish(ax, title=title, xlabel="Year", ylabel="Value", source=source, legend=legend)
    return fig


def test_page_extent_grows_to_an_overflowing_legend_and_source_line_as_tight_does():
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_svg import RendererSVG
    import io

    from ogimpact.plots.style import page_bbox

    fig = _figure(source="S" * 260)
    bb = page_bbox(fig)
    w, h = fig.get_size_inches()
    assert bb.x1 > w + 0.5, "the long source line reaches past the figure: the extent must grow"
    dpi = fig.dpi
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.dpi = 72
        tight = fig.get_tightbbox(RendererSVG(w, h, io.StringIO(), image_dpi=72)).padded(0.1)
        fig.dpi = dpi
    # tolerance: matplotlib's tight box also crops the fixed white margins left and below (kept here)
    assert abs(bb.x1 - tight.x1) < 0.05
    assert bb.x0 == 0 and bb.y0 == 0 and bb.y1 == pytest.approx(h)
    plt.close(fig)


def test_page_extent_is_the_figure_when_nothing_overflows_and_the_svg_is_drawn_once(monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from ogimpact.plots.style import page_bbox, svg_bytes

    fig = _figure(legend=False)
    bb = page_bbox(fig)
    w, h = fig.get_size_inches()
    assert (bb.x0, bb.y0, bb.x1, bb.y1) == pytest.approx((0, 0, w, h))
    draws = []
    orig = Figure.draw

    def counting(self, renderer):
        draws.append(1)
        return orig(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting)
    svg = svg_bytes(fig)
    assert svg.startswith(b"<?xml") and b"</svg>" in svg
    assert len(draws) == 1, "bbox_inches='tight' would draw the figure twice"
    assert svg == svg_bytes(fig), "the SVG must be deterministic"
    plt.close(fig)


# --------------------------------------------------------------------------- reused cohort panels
def test_reused_cohort_panels_are_copies_and_reuse_is_off_by_default():
    from ogimpact.evidence import assess_runs as runs

    assert runs._COHORT_PANELS is None
    runs.keep_cohort_panels(True)
    try:
        a = runs.registry_cohort_panel("rti_law", "wgi.cc")
        a.frame.loc[a.frame.index[0], "wgi.cc"] = 99.0
        a.info["mutated"] = True
        b = runs.registry_cohort_panel("rti_law", "wgi.cc")
    finally:
        runs.keep_cohort_panels(False)
    fresh = runs.registry_cohort_panel("rti_law", "wgi.cc")
    assert b.frame is not a.frame and "mutated" not in b.info
    assert b.frame.equals(fresh.frame) and b.info == fresh.info
    assert runs._COHORT_PANELS is None


# --------------------------------------------------------------------------- json_safe fast path
def test_json_safe_fast_path_keeps_its_meaning():
    from ogimpact.results import dumps, json_safe

    doc = {"a": 1.5, "nan": float("nan"), "inf": -math.inf, 3: [True, 2, None, "s", {"x": np.float64(2.0)}],
           "np": np.array([1.0, np.nan]), "t": (1, 2), "b": np.bool_(True), "i": np.int64(7)}
    out = json_safe(doc)
    assert out == {"a": 1.5, "nan": None, "inf": None, "3": [True, 2, None, "s", {"x": 2.0}], "np": [1.0, None],
                   "t": [1, 2], "b": True, "i": 7}
    assert type(out["3"][0]) is bool and type(out["i"]) is int and type(out["3"][4]["x"]) is float
    assert dumps(doc) == dumps(out)


def test_the_fast_kernel_exit_is_only_armed_in_a_report_kernel(monkeypatch):
    import atexit

    from ogimpact.reports.kernel_exit import exit_kernel_fast

    registered = []
    monkeypatch.setattr(atexit, "register", lambda fn, *a, **k: registered.append(fn))
    monkeypatch.setenv("OGIMPACT_REPORT_DIR", "/tmp/some-report")
    exit_kernel_fast()  # a test process is no IPython kernel
    monkeypatch.delenv("OGIMPACT_REPORT_DIR")
    exit_kernel_fast()
    assert registered == []


# --------------------------------------------------------------------------- the report engine's saves
@pytest.mark.slow
def test_the_report_engine_writes_the_notebook_once_and_keeps_a_failed_one(tmp_path, monkeypatch):
    import nbformat
    import papermill as pm
    import papermill.engines as pm_engines

    from ogimpact.reports.engine import ENGINE_NAME

    writes = []
    real = pm_engines.write_ipynb
    monkeypatch.setattr(pm_engines, "write_ipynb", lambda nb, path, **kw: (writes.append(path), real(nb, path, **kw)))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"x = {i}") for i in range(5)] + [nbformat.v4.new_code_cell("x")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "in.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(src), str(out), kernel_name="python3", engine_name=ENGINE_NAME, progress_bar=False)
    assert writes == [str(out)], "papermill's engine would write it at every cell start and end (12 times)"
    done = nbformat.read(out, as_version=4)
    assert done.cells[-1].outputs[0]["data"]["text/plain"] == "4"
    # a failing cell: the partial notebook is still written, with the error
    nb.cells.insert(2, nbformat.v4.new_code_cell("raise ValueError('boom')"))
    nbformat.write(nb, src)
    with pytest.raises(pm.PapermillExecutionError):
        pm.execute_notebook(str(src), str(out), kernel_name="python3", engine_name=ENGINE_NAME, progress_bar=False)
    failed = nbformat.read(out, as_version=4)
    assert any("boom" in str(o) for c in failed.cells for o in c.get("outputs", []))
