"""Low-level numerics shared by ``designs`` and ``inference``.

Fixed-effect absorption (:mod:`.fe`, :mod:`.sparse_fe`), the least-squares engine (:mod:`.lsq`) and the
covariance conventions (:mod:`.vcov`). This package imports neither ``ogimpact.designs`` nor
``ogimpact.inference``; both depend on it.
"""
