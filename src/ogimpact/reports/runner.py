"""Run a parameterised notebook with Papermill and write a report folder.

A report folder ``reports/<kind>/<slug>/`` holds ``report.ipynb`` (executed),
``report.html`` (inputs hidden), ``results.json`` (every estimate shown, in
the result JSON form, byte-identical for the same parameters) and
``manifest.json`` (parameters, sha256 of every data file read, package
versions, git commit, seed, start/end times, status).

Everything is written into a private temporary folder next to the target and
renamed into place only on success, so concurrent runs never clobber each
other and a reader never sees a half-written report.  A failing cell leaves
``reports/<kind>/<slug>.failed/`` with a ``failed`` manifest and the partial
notebook, and the run raises :class:`ReportFailed` (CLI exit 1).
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import OgimpactError, RunError
from ..results import dumps

__all__ = ["run_report", "ReportFailed", "ReportOutcome", "NOTEBOOKS", "notebook_dir", "reports_root"]

NOTEBOOKS = {
    "country": "country_report.ipynb",
    "cross-country": "cross_country.ipynb",
    "evidence": "evidence_review.ipynb",
}
RESULTS_ENV = "OGIMPACT_REPORT_DIR"
READS_FILE = "_data_reads.json"


class ReportFailed(RunError):
    """A report's notebook failed; the partial output is in ``path``."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class ReportOutcome:
    kind: str
    slug: str
    path: Path
    status: str
    seconds: float
    headline: dict

    def to_dict(self) -> dict:
        return {"kind": self.kind, "slug": self.slug, "path": str(self.path), "status": self.status,
                "seconds": round(self.seconds, 2), "headline": self.headline}


def repo_root() -> Path:
    from ..data import data_dir

    return Path(data_dir()).resolve().parent


def notebook_dir() -> Path:
    """``OGIMPACT_NOTEBOOKS``, else the checkout's ``notebooks/``, else the installed copy ``ogimpact/_notebooks``."""
    from ..data.paths import checkout_root, package_dir

    env = os.environ.get("OGIMPACT_NOTEBOOKS")
    if env:
        return Path(env)
    root = checkout_root()
    if root is not None:
        return root / "notebooks"
    return package_dir() / "_notebooks"


def reports_root() -> Path:
    """``OGIMPACT_REPORTS_DIR``, else the checkout's ``reports/``; from an installed package, ``./reports``."""
    from ..data.paths import checkout_root

    env = os.environ.get("OGIMPACT_REPORTS_DIR")
    if env:
        return Path(env)
    root = checkout_root()
    return (root if root is not None else Path.cwd()) / "reports"


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        pass
    return None


def _package_versions() -> dict:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for pkg in ("ogimpact", "numpy", "scipy", "pandas", "statsmodels", "linearmodels", "matplotlib",
                "papermill", "nbconvert", "nbformat", "ipykernel", "pyyaml"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _data_hashes(files: list[str]) -> dict:
    """sha256 of each data file read (from the verified manifest when listed, else hashed now)."""
    from ..data import data_dir, file_sha256, read_manifest

    root = Path(data_dir())
    try:
        man = read_manifest()
        known = dict(zip(man["path"], man["sha256"]))
    except Exception:  # noqa: BLE001 - a missing manifest just means hashing now
        known = {}
    out = {}
    for f in sorted(set(files)):
        p = Path(f)
        rel = p.resolve().relative_to(root.resolve()).as_posix() if p.is_absolute() else f
        full = root / rel
        out[rel] = file_sha256(full) if full.exists() else None
        if known.get(rel) and out[rel] != known[rel]:
            out[rel + " (manifest)"] = known[rel]
    return out


def _banner(html_path: Path, modified: list[str]) -> None:
    """Put a banner at the top of the report naming the bundled files that differ from the manifest."""
    text = html_path.read_text(encoding="utf-8")
    items = "".join(f"<li>{html.escape(m)}</li>" for m in modified)
    div = ('<div style="background:#fde2e1;border:2px solid #b00;padding:8px;margin:8px" class="data-modified">'
           "<b>Built on modified bundled data</b> (--allow-modified-data): these files differ from "
           f"data/manifest.csv or are missing:<ul>{items}</ul></div>")
    i = text.find("<body")
    j = text.find(">", i) + 1 if i >= 0 else 0
    html_path.write_text(text[:j] + div + text[j:], encoding="utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _export_html(nb_path: Path, html_path: Path, *, title: str | None = None, exporter=None) -> None:
    """report.ipynb -> a self-contained, offline report.html (see :mod:`ogimpact.reports.html_export`)."""
    from .html_export import export_html

    export_html(nb_path, html_path, title=title, exporter=exporter)


class _Warmup:
    """Prepare the HTML exporter in a thread while the notebook runs in its kernel (this process waits)."""

    def __init__(self):
        import threading

        self.exporter = None
        self._thread = threading.Thread(target=self._run, name="ogimpact-html-warmup", daemon=True)
        self._thread.start()

    def _run(self):
        try:
            from .html_export import prepare_exporter

            self.exporter = prepare_exporter()
        except Exception:  # noqa: BLE001 - the export after the run makes its own and reports any error
            self.exporter = None

    def get(self):
        self._thread.join()
        return self.exporter


def _section_timings(nb_path: Path) -> dict:
    """Seconds per report section, from the executed notebook's per-cell papermill durations."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    out: dict[str, float] = {}
    section = "setup"
    for c in nb.cells:
        if c.cell_type == "markdown":
            head = next((ln.lstrip("#").strip() for ln in c.source.splitlines() if ln.startswith("#")), None)
            if head:
                section = head
            continue
        if "parameters" in c.metadata.get("tags", []) or "injected-parameters" in c.metadata.get("tags", []):
            continue
        d = (c.metadata.get("papermill") or {}).get("duration")
        if d is not None:
            key = "methods appendix and summary" if "show.finish(" in c.source else section
            out[key] = round(out.get(key, 0.0) + float(d), 3)
    return out


def _safe_timings(nb_path: Path) -> dict:
    try:
        return _section_timings(nb_path) if nb_path.exists() else {}
    except Exception:  # noqa: BLE001 - timings never fail a report
        return {}


def _redirect_stderr(path: Path):
    """Point file descriptor 2 at ``path`` (child processes inherit it); returns the saved descriptor."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
        return saved
    except OSError:  # pragma: no cover - no fd 2 (embedded interpreters)
        return None


def _restore_stderr(saved) -> None:
    if saved is None:
        return
    try:
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
    os.dup2(saved, 2)
    os.close(saved)


def _replace_dir(src: Path, dst: Path) -> None:
    """Move folder ``src`` to ``dst``, replacing any previous ``dst`` (rename-based, never half-written).

    Two runs finishing at once may race for ``dst``: each moves the current
    ``dst`` aside and retries its own rename, so the last finisher wins with a
    complete folder and neither fails.
    """
    olds = []
    for _ in range(50):
        if dst.exists():
            old = dst.with_name(f".{dst.name}.old-{uuid.uuid4().hex[:8]}")
            try:
                os.replace(dst, old)
                olds.append(old)
            except FileNotFoundError:
                pass
        try:
            os.replace(src, dst)
            break
        except OSError:
            time.sleep(0.05)
    else:  # pragma: no cover - 50 lost races in a row
        raise RunError(f"could not move the finished report into {dst}; another run keeps replacing it.")
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


def bundled_data_problems() -> list[str]:
    """Bundled files that differ from ``data/manifest.csv`` or are missing (``"path (changed: ...)"``).

    A corrupt manifest is a failed run with its cause named (:class:`~ogimpact.errors.RunError`).
    """
    from ..data.manifest import verify
    from ..errors import RunError

    try:
        problems = verify()
    except OgimpactError:
        raise
    except Exception as exc:  # noqa: BLE001 - an unreadable manifest.csv
        raise RunError(f"data/manifest.csv cannot be read ({type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:200]}); restore it from the repository.") from None
    return [f"{p.path} ({p.kind}{': ' + p.detail if getattr(p, 'detail', '') else ''})"
            for p in problems if p.kind in ("changed", "missing")]


def _host_tag() -> str:
    """Short tag of this machine in temp-folder names (a pid means nothing on another host)."""
    import hashlib
    import socket

    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def _tmp_prefix(slug: str) -> str:
    """``.<slug>.tmp-<host>-<pid>-``: the owner of a temp folder can be checked by the next run."""
    return f".{slug}.tmp-{_host_tag()}-{os.getpid()}-"


def _pid_alive(pid: int, since: float) -> bool:
    """Whether process ``pid`` runs and started before ``since`` (epoch seconds; a later start is a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:  # Linux: a zombie is dead; a process started after the folder was made is another process
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            return False
        btime = next(float(ln.split()[1]) for ln in Path("/proc/stat").read_text().splitlines()
                     if ln.startswith("btime "))
        started = btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return started <= since + 2.0
    except (OSError, ValueError, IndexError, StopIteration):
        return True  # not Linux: the pid exists


def _clean_stale_tmp(dest_parent: Path, slug: str | None = None, older_than: float = 6 * 3600) -> list[Path]:
    """Remove temporary report folders left by killed runs; returns those removed.

    A temp folder is named ``.<slug>.tmp-<host>-<pid>-<random>``: when ``<host>`` is this machine
    and process ``<pid>`` is gone (or is a newer process reusing the pid), its run was killed and
    the folder is removed at once, whatever its slug.  Folders of live runs are kept, and folders
    of other hosts or without an owner (older layout) only when younger than ``older_than``
    seconds.  ``slug`` is accepted for callers of the older signature; every slug is checked.
    """
    removed = []
    now = time.time()
    host = _host_tag()
    try:
        candidates = [d for d in Path(dest_parent).glob(".*.tmp-*") if d.is_dir()]
    except OSError:
        return removed
    for d in candidates:
        try:
            owner = d.name.rsplit(".tmp-", 1)[1].split("-")
            made = d.stat().st_mtime
            if len(owner) >= 3 and owner[0] == host and owner[1].isdigit():
                pid = int(owner[1])
                stale = pid != os.getpid() and not _pid_alive(pid, since=made)
            else:
                stale = now - made > older_than
            if stale:
                shutil.rmtree(d, ignore_errors=True)
                if not d.exists():
                    removed.append(d)
        except (OSError, ValueError, IndexError):
            continue
    return removed


def _figure_files(folder: Path) -> list[dict]:
    """The figure exports of a report (``--figures png``): name and sha256, in report order."""
    import hashlib

    d = folder / "figures"
    if not d.is_dir():
        return []
    return [{"file": f"figures/{f.name}", "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
            for f in sorted(d.iterdir()) if f.is_file() and not f.name.startswith(".")]


def run_report(params, *, out_root: str | Path | None = None, timeout: int = 600, kernel: str = "python3",
               progress: bool = False, allow_modified_data: bool = False, pdf: bool = False) -> ReportOutcome:
    """Execute the notebook of ``params.kind`` with ``params`` and write its report folder.

    Parameters
    ----------
    params : CountryParams | CrossCountryParams | EvidenceParams (validated here again)
    out_root : folder holding ``<kind>/<slug>/`` (default: the repository's ``reports/``)
    timeout : seconds allowed per notebook cell
    kernel : Jupyter kernel name (the installed environment's ``python3``)
    pdf : also print ``report.pdf`` with the system Chromium (:func:`ogimpact.reports.html_export.export_pdf`)

    Raises
    ------
    OgimpactError : invalid parameters (nothing is run)
    ReportFailed : a cell failed (partial output kept in ``<slug>.failed/``)
    """
    import papermill as pm

    params = params.validate()
    kind = params.kind
    root = Path(out_root) if out_root is not None else reports_root()
    nb_in = notebook_dir() / NOTEBOOKS[kind]
    if not nb_in.exists():
        raise OgimpactError(f"notebook {nb_in} is missing; restore notebooks/ from the repository.")
    dest_parent = (root / kind).resolve()
    dest_parent.mkdir(parents=True, exist_ok=True)
    dest = dest_parent / params.slug
    if dest.parent != dest_parent:  # defence in depth: slug() already forbids separators
        raise OgimpactError("the report folder would escape the reports directory; check the parameters.")
    modified = bundled_data_problems()
    if modified and not allow_modified_data:
        from ..errors import RunError

        raise RunError(f"the bundled data differ from data/manifest.csv: {'; '.join(modified[:5])[:400]}"
                       f"{f' and {len(modified) - 5} more' if len(modified) > 5 else ''}; restore the files, "
                       "or pass --allow-modified-data to build the report anyway (recorded in its manifest).")
    _clean_stale_tmp(dest_parent)  # temp folders of killed runs (their owner pid is gone)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(params.slug), dir=dest_parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700: report folders follow the umask
    nb_params = params.notebook_parameters()
    nb_params["output_dir"] = str(tmp)
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    manifest = {
        "kind": kind,
        "slug": params.slug,
        "notebook": f"notebooks/{NOTEBOOKS[kind]}",
        "parameters": params.notebook_parameters(),
        "seed": getattr(params, "seed", None),
        "status": "running",
        "started": started.isoformat(timespec="seconds"),
        "finished": None,
        "seconds": None,
        "git_commit": _git_commit(repo_root()),
        "packages": _package_versions(),
        "data_files": {},
        "data_modified": modified,
        "error": None,
    }
    env_before = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = str(tmp)
    error = None
    # the Jupyter kernel writes its own log lines (transport warnings, shutdown notices) to the stderr it
    # inherits: send them to kernel.log in the report folder (kept only when the run fails)
    kernel_log = tmp / "kernel.log"
    saved_fd = _redirect_stderr(kernel_log)
    warm = _Warmup()
    try:
        from .engine import ENGINE_NAME

        pm.execute_notebook(
            str(nb_in), str(tmp / "report.ipynb"), parameters=nb_params, kernel_name=kernel, engine_name=ENGINE_NAME,
            progress_bar=progress, request_save_on_cell_execute=False, execution_timeout=timeout,
            cwd=str(tmp), log_output=False,
        )
    except pm.PapermillExecutionError as exc:
        error = f"cell {exc.exec_count} raised {exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - kernel death, timeout ...
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"
    finally:
        _restore_stderr(saved_fd)
        if env_before is None:
            os.environ.pop(RESULTS_ENV, None)
        else:
            os.environ[RESULTS_ENV] = env_before
    reads_path = tmp / READS_FILE
    reads = json.loads(reads_path.read_text()) if reads_path.exists() else []
    if reads_path.exists():
        reads_path.unlink()
    manifest["data_files"] = _data_hashes(reads)
    if error is None and not (tmp / "results.json").exists():
        error = "the notebook did not write results.json (it must call ReportContext.save())"
    if error is None:
        try:
            from .presentation import question

            _export_html(tmp / "report.ipynb", tmp / "report.html", title=question(kind, params.notebook_parameters()),
                         exporter=warm.get())
            if modified:
                _banner(tmp / "report.html", modified)
        except Exception as exc:  # noqa: BLE001
            error = f"HTML export failed: {type(exc).__name__}: {exc}"
    if error is None and pdf:
        try:
            from .html_export import export_pdf

            export_pdf(tmp / "report.html", tmp / "report.pdf")
        except OgimpactError as exc:
            error = f"PDF export failed: {exc}"
        except Exception as exc:  # noqa: BLE001
            error = f"PDF export failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    seconds = time.perf_counter() - t0
    manifest.update(
        status="ok" if error is None else "failed",
        finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        seconds=round(seconds, 2),
        error=error,
        timings={"total_seconds": round(seconds, 2), "sections": _safe_timings(tmp / "report.ipynb")},
        figures=_figure_files(tmp),
    )
    (tmp / "manifest.json").write_text(dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if error is None and kernel_log.exists():
        kernel_log.unlink()
    if error is not None:
        failed = dest_parent / f"{params.slug}.failed"
        _replace_dir(tmp, failed)
        kept = [n for n in ("report.ipynb", "manifest.json", "kernel.log") if (failed / n).exists()]
        raise ReportFailed(f"report {kind}/{params.slug} failed: {error}; "
                           + (f"{', '.join(kept)} kept in {failed}" if kept else f"see {failed}"), failed)
    headline = {}
    try:
        headline = json.loads((tmp / "results.json").read_text()).get("headline", {})
    except Exception:  # noqa: BLE001
        pass
    _replace_dir(tmp, dest)
    stale = dest_parent / f"{params.slug}.failed"
    if stale.exists():
        shutil.rmtree(stale, ignore_errors=True)
    return ReportOutcome(kind=kind, slug=params.slug, path=dest, status="ok", seconds=seconds, headline=headline)
