"""The papermill engine of report runs: papermill's nbclient engine, saving the notebook once at the end.

Papermill writes the whole output notebook at the start and at the end of every cell.  A report
notebook grows to about 1 MB of SVG figures, so those 36 writes (each a JSON dump of the growing
notebook, 20 ms on average) cost about half a second, spent while the kernel waits for its next cell.
The runner executes into a private temporary folder that is renamed into place only when the run is
complete, so nothing reads the intermediate saves; the notebook is written when the run ends, whether
it succeeded or a cell failed (papermill then also writes it with the error, as it always does), so
``<slug>.failed/report.ipynb`` keeps the partial notebook.
"""
from __future__ import annotations

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

__all__ = ["ENGINE_NAME", "ReportEngine"]

ENGINE_NAME = "ogimpact-report"


class _SaveAtEnd(NotebookExecutionManager):
    """Papermill's execution manager, writing the notebook only from :meth:`notebook_complete`."""

    _ending = False

    def save(self, **kwargs):
        if self._ending:
            super().save(**kwargs)

    def notebook_complete(self, **kwargs):
        self._ending = True
        super().notebook_complete(**kwargs)


class ReportEngine(NBClientEngine):
    """:class:`papermill.engines.NBClientEngine` with :class:`_SaveAtEnd` as its execution manager."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        nb_man = _SaveAtEnd(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                            autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register(ENGINE_NAME, ReportEngine)
