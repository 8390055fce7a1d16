"""The propensity-score logit of `cs` never returns a silent non-converged fit (issue 9, item 7)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from ogimpact.designs import callaway_santanna as cs
from ogimpact.errors import DesignError, OgimpactWarning


def _cell(seed=0, n1=200):
    r = np.random.default_rng(seed)
    x = r.normal(size=n1)
    D = (r.uniform(size=n1) < 1 / (1 + np.exp(-0.5 * x))).astype(float)
    X = np.column_stack([np.ones(n1), x])
    DY = (0.3 * D + 0.2 * x + r.normal(size=n1))[:, None]
    return DY, D, X


def test_logit_irls_reports_iterations_and_reason():
    DY, D, X = _cell()
    info: dict = {}
    beta, ok = cs.logit_irls(X, D, info=info)
    assert ok and "reason" not in info and 2 <= info["iterations"] < 20
    info = {}
    _, ok = cs.logit_irls(X, D, maxit=1, info=info)
    assert not ok and info == {"iterations": 1, "reason": "max_iterations"}


def test_non_converged_propensity_logit_is_a_warning_with_its_iteration_count(monkeypatch):
    DY, D, X = _cell()
    real = cs.logit_irls
    monkeypatch.setattr(cs, "logit_irls", lambda X, d, **kw: real(X, d, **{**kw, "maxit": 2}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        att, inf, beta = cs.did_batch("dr", DY, D, X, len(D), label="cohort 5 in period(s) 6")
    w = [c.message for c in caught if isinstance(c.message, OgimpactWarning)]
    assert [m.code for m in w] == ["not_converged"]
    assert "2 Newton-Raphson iterations" in w[0].message and "cohort 5" in w[0].message
    assert np.isfinite(att).all()


def test_singular_propensity_logit_is_a_named_design_error():
    DY, D, X = _cell()
    X = np.column_stack([X, X[:, 1]])  # a duplicated covariate: singular information matrix
    with pytest.raises(DesignError, match="cannot be fitted .*singular information matrix"):
        cs.did_batch("ipw", DY, D, X, len(D), label="cohort 5 in period(s) 6")
