"""The one home of BLAS thread pinning and of the local process pools.

Many small dense solves (placebo refits, conformal grids, the designs of an assessment) run
faster with BLAS on one thread, and worker processes must not oversubscribe the cores: each
worker pins ``OPENBLAS_NUM_THREADS=1``, ``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1`` and tells the
already-loaded OpenBLAS/MKL/OpenMP so directly (forked workers inherit an initialised BLAS; the
libraries are found in ``/proc/self/maps`` and set through their ``*_set_num_threads`` entry
points, as threadpoolctl does), and asks Linux to end it when its parent dies
(``prctl(PR_SET_PDEATHSIG)``).

* :func:`pin_blas_threads` – pin this process (the worker initializer);
* :func:`pinned_env` – context: the pinning variables set, so child processes inherit them;
* :func:`one_blas_thread` – context: one thread inside, all cores (``OGIMPACT_BLAS_THREADS``) after;
* :func:`blas_threads` – context: ``n`` OpenBLAS threads inside, the previous counts restored after;
* :func:`process_pool` – a ``ProcessPoolExecutor`` with the pinning + parent-death initializer;
* :func:`run_tasks` – ordered ``map`` over such a pool (in-process for one job).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing as mp
import os
from typing import Any

__all__ = ["die_with_parent", "pin_blas_threads", "pinned_env", "one_blas_thread", "blas_threads",
           "process_pool", "run_tasks"]

_PIN = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_SETTERS = ("openblas_set_num_threads", "openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "scipy_openblas_set_num_threads64_", "MKL_Set_Num_Threads", "omp_set_num_threads")


def die_with_parent() -> bool:
    """In a worker process: ask Linux to SIGTERM it when its parent dies (``prctl(PR_SET_PDEATHSIG)``).

    A ``kill -9`` of a report or synth run then takes its placebo/batch workers with it instead
    of leaving them running under init. No-op (False) in the main process or off Linux.
    """
    import signal
    import sys

    parent = mp.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) != 0:  # 1 = PR_SET_PDEATHSIG
            return False
    except (OSError, AttributeError):
        return False
    if parent.pid is not None and os.getppid() != parent.pid:  # the parent died before prctl took effect
        os._exit(1)
    return True


def pin_blas_threads(n: int = 1) -> int:
    """Pin the BLAS libraries already loaded in this process to ``n`` threads; returns how many were set.

    Used as the initializer of forked workers (their BLAS was initialised before the
    fork, so the environment variables alone would come too late); in a worker it also
    calls :func:`die_with_parent`.
    """
    die_with_parent()
    for k in _PIN:
        os.environ[k] = str(n)
    done = 0
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({ln.split()[-1] for ln in fh if any(s in ln.lower() for s in ("openblas", "mkl_rt", "libgomp"))})
    except OSError:  # not Linux: the spawn path sets the environment before numpy loads
        return 0
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(n))
                done += 1
    return done


@contextlib.contextmanager
def pinned_env():
    """Context: BLAS thread variables set to 1, so worker processes started inside inherit them."""
    old = {k: os.environ.get(k) for k in _PIN}
    os.environ.update(_PIN)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def one_blas_thread():
    """Run the many small (T x J) solves with BLAS on one thread, then restore all cores.

    Multi-threaded BLAS on matrices this small is dozens of times slower on a loaded machine.
    """
    pin_blas_threads(1)
    try:
        yield
    finally:
        pin_blas_threads(int(os.environ.get("OGIMPACT_BLAS_THREADS", os.cpu_count() or 1)))


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Limit OpenBLAS to ``n`` threads inside the block (the previous counts restored afterwards).

    An assessment fits many small dense regressions one after another; on a shared machine
    OpenBLAS's threads then mostly wait for each other (the Sun–Abraham QR took 5x longer with
    2 threads than with 1 under load).  A no-op when the user set ``OPENBLAS_NUM_THREADS`` /
    ``OMP_NUM_THREADS`` or the libraries cannot be found (non-Linux).
    """
    libs: list[tuple[Any, Any]] = []
    if not (os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")):
        try:
            with open("/proc/self/maps", encoding="utf-8") as fh:
                paths = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
            for path in paths:
                lib = ctypes.CDLL(path)
                for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                                  ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                                  ("openblas_get_num_threads", "openblas_set_num_threads")):
                    g, st = getattr(lib, get, None), getattr(lib, set_, None)
                    if g is not None and st is not None:
                        libs.append((st, int(g())))
                        st(int(n))
                        break
        except (OSError, AttributeError, ValueError):
            pass
    try:
        yield
    finally:
        for st, old in libs:
            try:
                st(old)
            except (OSError, ValueError):  # pragma: no cover
                pass


def process_pool(max_workers: int, *, method: str | None = None) -> cf.ProcessPoolExecutor:
    """A process pool whose workers pin BLAS to one thread and die with their parent.

    ``method`` is the start method: ``None`` uses the platform default; ``"auto"`` prefers fork
    (no re-import of the caller's ``__main__``, fast start) and falls back to spawn.  Start the
    pool inside :func:`pinned_env` so spawned workers have the environment before numpy loads.
    """
    if method == "auto":
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method) if method else None
    return cf.ProcessPoolExecutor(max_workers=max_workers, mp_context=ctx, initializer=pin_blas_threads)


def run_tasks(fn, tasks: list, *, n_jobs: int | None = None) -> list:
    """Run ``fn`` over ``tasks`` in a pinned process pool; results in task order.

    ``n_jobs=1`` (or a single task) runs in this process.
    """
    n = min(len(tasks), n_jobs or os.cpu_count() or 1)
    if n <= 1:
        return [fn(t) for t in tasks]
    with pinned_env(), process_pool(n, method="auto") as ex:
        return list(ex.map(fn, tasks, chunksize=1))
