"""Fits a report shows later, computed ahead in one forked worker while the notebook draws what it has.

A report notebook is one Python process that alternates between fitting and drawing.  On a machine with
a second core, :func:`ogimpact.reports.show.start` hands the fits of the later sections (the country
questions of the last measures, the staggered question of every measure with its HonestDiD sensitivity)
to a single worker process forked from the kernel, and each section takes its result from there when it
gets to it.  The worker runs the same functions with the same arguments and seeds, so the numbers, and
``results.json``, are the ones the inline computation gives (a test compares the bytes).

What the worker raises, warns and reads travels back with the result: an exception is raised again in
the cell that takes it, warnings are replayed there through the kernel's own filters (so they show where
they qualify a number), output it printed is written to the cell, and the bundled files it read join the
kernel's list (the manifest hashes them).

Off, with everything computed inline, when the platform cannot fork, the process may use one core only,
``OGIMPACT_REPORT_WORKERS=0`` is set (report batches set it: their reports already fill the cores), or
this process is itself a worker.  If the worker fails as a process (it died, a result would not pickle)
the section computes the result inline instead.
"""
from __future__ import annotations

import io
import multiprocessing as mp
import os
import sys
import warnings
from typing import Any, Callable

__all__ = ["Prefetch", "ENV", "enabled", "country_call", "staggered_call", "prefetch_country", "take"]

#: environment variable: ``0`` turns the report worker off (everything inline)
ENV = "OGIMPACT_REPORT_WORKERS"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def enabled() -> bool:
    """True when a report may use a forked worker (see the module docstring for when it does not)."""
    if os.environ.get(ENV, "").strip() == "0":
        return False
    if "fork" not in mp.get_all_start_methods() or mp.parent_process() is not None:
        return False
    return _cores() >= 2


def _run(fn: Callable, args: tuple, kwargs: dict) -> tuple:
    """In the worker: ``fn(*args, **kwargs)`` with its exception, warnings, output and data reads captured."""
    from ..data._io import files_read

    before = files_read()
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # the kernel's filters decide on replay
            try:
                value, raised = fn(*args, **kwargs), False
            except Exception as exc:  # noqa: BLE001 - raised again in the kernel, as inline
                value, raised = exc, True
    finally:
        sys.stdout, sys.stderr = saved
    sent = [(w.message, w.category, w.filename, w.lineno) for w in caught]
    return raised, value, sent, out.getvalue(), err.getvalue(), sorted(files_read() - before)


def _module_of(filename: str):
    for mod in list(sys.modules.values()):
        if getattr(mod, "__file__", None) == filename:
            return mod
    return None


def _replay(sent: list, out: str, err: str, reads: list) -> None:
    if out:
        sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    for message, category, filename, lineno in sent:
        mod = _module_of(filename)
        if mod is None:
            warnings.warn_explicit(message, category, filename, lineno)
        else:  # as warnings.warn from that module would: its registry, its name for the filters
            warnings.warn_explicit(message, category, filename, lineno, module=mod.__name__,
                                   registry=mod.__dict__.setdefault("__warningregistry__", {}),
                                   module_globals=mod.__dict__)
    if reads:
        from ..data import _io

        _io._READS.update(reads)


class Prefetch:
    """Jobs submitted ahead (``submit``) and taken by the section that shows them (``take``).

    ``take(key, fn, *args, **kwargs)`` returns the worker's result when ``key`` was submitted with the
    same function and arguments, else (or when the worker failed as a process) computes it here.
    """

    def __init__(self, active: bool | None = None):
        self.active = enabled() if active is None else bool(active)
        self._pool = None
        self._jobs: dict[Any, tuple] = {}

    def submit(self, key, fn: Callable, /, *args, **kwargs) -> None:
        if not self.active:
            return
        try:
            if self._pool is None:
                from ..parallel import process_pool

                self._pool = process_pool(1, method="fork")
            fut = self._pool.submit(_run, fn, args, kwargs)
        except Exception:  # noqa: BLE001 - no worker: the section computes inline
            self.active = False
            return
        self._jobs[key] = (fn, args, kwargs, fut)

    def take(self, key, fn: Callable, /, *args, **kwargs):
        job = self._jobs.pop(key, None)
        if job is not None and job[0] is fn and job[1] == args and job[2] == kwargs:
            try:
                raised, value, sent, out, err, reads = job[3].result()
            except Exception:  # noqa: BLE001 - the worker failed as a process: compute here
                return fn(*args, **kwargs)
            _replay(sent, out, err, reads)
            if raised:
                raise value
            return value
        if job is not None:
            job[3].cancel()
        return fn(*args, **kwargs)

    def close(self) -> None:
        """Cancel what was not taken and let the worker go."""
        for *_, fut in self._jobs.values():
            fut.cancel()
        self._jobs.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# --------------------------------------------------------------------------- the country report's jobs
def country_call(ctx, m):
    """Section 3's fit of measure ``m``: (function, args, kwargs), one declaration for prefetch and inline."""
    from . import sections

    p = ctx.parameters
    return sections.country_answer, (p["country"], p["intervention"], m), dict(
        designs=p["designs"], years=p.get("years"), variant=p.get("variant"), donor_rule=p.get("donor_rule"),
        placebo=p.get("placebo", True), seed=p.get("seed", 0), horizon=p.get("horizon", 5))


def staggered_call(ctx, m):
    """Section 4's fits of measure ``m`` (the CS staggered question and its HonestDiD sensitivity)."""
    from . import sections

    p = ctx.parameters
    return sections.staggered_with_sensitivity, (p["intervention"], m), dict(
        years=p.get("years"), variant=p.get("variant"), seed=p.get("seed", 0), horizon=p.get("horizon", 5))


def prefetch_country(ctx) -> None:
    """Queue in the report worker every measure's country question (in display order), then section 4's
    staggered fits: the kernel meanwhile shows sections 1-2 and then draws each result as it arrives
    (:mod:`ogimpact.reports.prefetch`)."""
    pf, measures = ctx.prefetch, list(ctx.parameters.get("measures") or [])
    if not pf.active or not measures:
        return
    for m in measures:
        fn, args, kw = country_call(ctx, m)
        pf.submit(("country", m), fn, *args, **kw)
    if "cs" in (ctx.parameters.get("designs") or ()):
        for m in measures:
            fn, args, kw = staggered_call(ctx, m)
            pf.submit(("staggered", m), fn, *args, **kw)


def take(ctx, key, call):
    """The result of ``call`` (function, args, kwargs): from the context's worker if queued, else inline."""
    fn, args, kw = call
    pf = getattr(ctx, "prefetch", None)
    return pf.take(key, fn, *args, **kw) if pf is not None else fn(*args, **kw)
