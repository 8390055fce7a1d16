"""``kill -9`` of a report or a batch leaves no process and no temp folder behind (issue 9: "kill −9 of
a report can leave placebo worker processes alive with parent 1 and hidden .tmp-* folders that are never
cleaned").

These tests really kill a process.  The chain is the real one: the CLI (``report country`` or
``report batch --workers 2``) → batch pool workers (``prctl(PR_SET_PDEATHSIG)``) → the Jupyter kernel
papermill starts (its own session; ipykernel's parent poller ends it within a second of its parent's
death) → the placebo pool of ``ogimpact.parallel.run_tasks`` inside the kernel (PDEATHSIG again).  The
notebook is a stub that starts that pool with two sleeping tasks, so every process stays alive until it is
killed; each wait is bounded and anything still alive is killed in ``finally``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux")

SRC = Path(__file__).resolve().parents[1] / "src"

STUB_CELL = """
import os, pathlib, time
pathlib.Path(os.environ["OGI_KILL_MARKS"], f"kernel-{os.getpid()}").write_text(str(os.getppid()))
from ogimpact.parallel import run_tasks
run_tasks(time.sleep, [120, 120], n_jobs=2)  # the pool placebo refits use, two workers sleeping
"""


def _stub_notebooks(folder: Path) -> Path:
    import nbformat

    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(STUB_CELL))
    for name in ("country_report.ipynb", "cross_country.ipynb", "evidence_review.ipynb"):
        nbformat.write(nb, folder / name)
    return folder


def _stat(pid: int):
    try:
        s = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    return f[0], int(f[1]), int(f[19])  # state, ppid, start time


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                kids.setdefault(st[1], []).append(int(d))
    return kids


def _descendants(pid: int) -> dict[int, int]:
    """pid -> start time of every process below ``pid``."""
    kids, out, todo = _children(), {}, [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            st = _stat(c)
            if st and st[0] not in "ZX":
                out[c] = st[2]
                todo.append(c)
    return out


def _alive(procs: dict[int, int]) -> list[int]:
    out = []
    for pid, start in procs.items():
        st = _stat(pid)
        if st and st[0] not in "ZX" and st[2] == start:
            out.append(pid)
    return out


def _kill_tree_and_check(argv, marks: Path, n_kernels: int, env: dict, cwd: Path):
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tree: dict[int, int] = {}
    try:
        deadline = time.time() + 120  # kernel start-up on a loaded two-core machine
        while time.time() < deadline:
            kernels = [int(p.name.split("-")[1]) for p in marks.glob("kernel-*")]
            kids = _children()
            if len(kernels) == n_kernels and all(len(kids.get(k, [])) >= 2 for k in kernels):
                break
            assert proc.poll() is None, "the run ended before its workers started"
            time.sleep(0.2)
        else:
            pytest.fail("the kernels and their placebo pools did not start within 120 s")
        tree = _descendants(proc.pid)
        kernels = set(kernels)
        assert kernels <= set(tree), (kernels, tree)
        assert len(tree) >= n_kernels * 3  # each kernel and its two pool workers (batch: and its batch worker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 8  # PDEATHSIG is immediate; ipykernel polls its parent once a second
        while _alive(tree) and time.time() < deadline:
            time.sleep(0.1)
        left = _alive(tree)
        assert not left, f"{len(left)} of {len(tree)} processes outlived the killed run: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid in _alive(tree):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture
def killable(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OGIMPACT_NOTEBOOKS": str(_stub_notebooks(tmp_path / "nb")), "OGI_KILL_MARKS": str(marks)}
    return marks, env


def _fake_execute(nb_in, nb_out, parameters=None, **kw):
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(), nb_out)
    (Path(parameters["output_dir"]) / "results.json").write_text(json.dumps({"headline": {}}))


def test_kill_9_of_a_batch_leaves_no_process_and_the_next_run_cleans_its_temp_folders(tmp_path, killable,
                                                                                     monkeypatch):
    marks, env = killable
    spec = tmp_path / "spec.yaml"
    spec.write_text("runs:\n  - {country: CHL}\n  - {country: MEX}\n")
    out = tmp_path / "out"
    _kill_tree_and_check([sys.executable, "-m", "ogimpact", "report", "batch", str(spec), "--workers", "2",
                          "--out", str(out)], marks, n_kernels=2, env=env, cwd=tmp_path)
    stale = sorted(p.name for p in (out / "country").glob(".*.tmp-*"))
    assert len(stale) == 2 and {s.split(".tmp-")[0] for s in stale} == {".chl-rti_law", ".mex-rti_law"}

    # the next run (one entry only) removes both temp folders of the killed run before it starts
    import papermill

    from ogimpact.reports import batch, runner

    monkeypatch.setattr(papermill, "execute_notebook", _fake_execute)
    monkeypatch.setattr(runner, "bundled_data_problems", lambda: [])
    again = tmp_path / "again.yaml"
    again.write_text("runs:\n  - {country: CHL}\n")
    runs = batch.run_batch(again, out_root=out, progress=False)
    assert runs[0]["status"] == "ok"
    assert sorted(p.name for p in (out / "country").iterdir()) == ["chl-rti_law"]


def test_kill_9_of_a_country_report_leaves_no_kernel_or_placebo_worker(tmp_path, killable):
    marks, env = killable
    _kill_tree_and_check([sys.executable, "-m", "ogimpact", "report", "country", "CHL", "--intervention", "rti_law",
                          "--out", str(tmp_path / "out")], marks, n_kernels=1, env=env, cwd=tmp_path)
    assert len(list((tmp_path / "out" / "country").glob(".chl-rti_law.tmp-*"))) == 1  # cleaned by the next run


def test_temp_folder_of_a_live_run_is_kept_and_of_a_dead_one_removed(tmp_path):
    from ogimpact.reports import runner

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        host = runner._host_tag()
        live_dir = tmp_path / f".chl-rti_law.tmp-{host}-{sleeper.pid}-abcd1234"
        dead_dir = tmp_path / f".mex-rti_law.tmp-{host}-{dead.pid}-abcd1234"
        other_host = tmp_path / f".per-rti_law.tmp-ffffff-{dead.pid}-abcd1234"
        mine = tmp_path / f".col-rti_law.tmp-{host}-{os.getpid()}-abcd1234"
        for d in (live_dir, dead_dir, other_host, mine):
            d.mkdir()
        removed = runner._clean_stale_tmp(tmp_path)
        assert removed == [dead_dir]  # a fresh folder of another host is never judged by a local pid
        assert live_dir.exists() and other_host.exists() and mine.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
