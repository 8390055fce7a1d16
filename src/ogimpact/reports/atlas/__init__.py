"""The open-government evidence atlas: every intervention × measure × country graded, as an offline site.

* :mod:`.cells` – the plan of cells and the one adapter into the assessment (``run_cell``);
* :mod:`.cache` – content-hash keys of a cell's inputs and the local cell cache;
* :mod:`.build` – ``build_atlas``: reuse, run (local pool or Dask), write data files, site and manifest;
* :mod:`.site`, :mod:`.figures` – the static HTML pages and their inline SVG figures;
* :mod:`.diff` – what changed between two builds and why.
"""
