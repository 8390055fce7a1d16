"""Pool workers die with their parent (issue 9, item 6): a kill -9 leaves no orphan at parent 1."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

SCRIPT = r"""
import concurrent.futures as cf, multiprocessing as mp, os, sys
from ogimpact.parallel import pin_blas_threads
def f(x):
    return os.getpid()
if __name__ == "__main__":
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("fork"), initializer=pin_blas_threads) as ex:
        print(ex.submit(f, 1).result(), flush=True)
        os.kill(os.getpid(), 9)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux-only")
def test_placebo_pool_worker_dies_when_parent_is_killed(tmp_path):
    out = tmp_path / "pid.txt"
    with open(out, "w") as fh:
        subprocess.run([sys.executable, "-c", SCRIPT], stdout=fh, stderr=subprocess.DEVNULL,
                       env={**os.environ}, timeout=60)
    pid = int(out.read_text().split()[0])
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    pytest.fail(f"worker {pid} outlived its killed parent")
