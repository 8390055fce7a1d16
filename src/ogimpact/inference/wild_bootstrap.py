"""Restricted wild cluster bootstrap (WCR) of one linear restriction, as Stata ``boottest``.

Cameron, Gelbach & Miller (2008, *REStat* 90(3)) and Roodman, MacKinnon,
Nielsen & Webb (2019, "Fast and wild: bootstrap inference in Stata using
boottest", *Stata Journal* 19(1)).  The null ``beta[term] = null`` is imposed on
the bootstrap data-generating process (restricted residuals), cluster signs are
drawn from Rademacher or Webb (2014) six-point weights, and every bootstrap t
uses the same CRV1 small-sample factor as the analytic t, so the original t
statistic equals boottest's.  With ``2^G <= B`` Rademacher (``6^G <= B`` Webb)
draws, every sign vector is enumerated and the test is deterministic.

Computation follows the "fast" algebra of Roodman et al. (2019, sec. 4): with
``A = (X'X)^-1``, cluster score sums ``s_g = X_g' u_r,g`` and ``a_g = e'A s_g``,
a bootstrap coefficient is ``null + a'v`` and the bootstrap cluster scores of
the tested coefficient are ``(diag(a) - C) v`` with ``C[g, h] = e'A X_g'X_g A s_h``,
so all draws are a few (G x G)(G x B) products, linear in the null value, which
makes the test inversion for the CI cheap.

p-value: symmetric, ``P(|t*| > |t|)`` with exact ties ``|t*| = |t|`` counted
half.  The sign vectors ``v = +1`` (which reproduces the sample) and ``v = -1``
always tie; boottest's printed 19/256 for the ``post_self = .04`` test of its
unit-test log counts one of the two, which is the ties-half rule.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from ..errors import DesignError

__all__ = ["wild_cluster_bootstrap", "bootstrap_estimate", "draw_weights", "WEIGHTS", "REQUEST_KEY"]

#: ``Estimate.extras`` key of a regression design's bootstrap request (the same string as
#: ``ogimpact.designs.panel_regression.BOOTSTRAP_REQUEST``; inference never imports designs)
REQUEST_KEY = "wild_bootstrap_request"

WEIGHTS = ("rademacher", "webb")
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def draw_weights(G: int, B: int, *, weights: str = "rademacher", rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Cluster weights as a (G, B_eff) array, and whether they are a full enumeration."""
    if weights == "rademacher":
        pts = np.array([-1.0, 1.0])
    elif weights == "webb":
        pts = _WEBB
    else:
        raise DesignError(f"unknown bootstrap weights {weights!r}; use 'rademacher' or 'webb'.")
    m = len(pts)
    if G * np.log(m) <= np.log(B) + 1e-12:
        V = np.array(list(itertools.product(pts[::-1], repeat=G)), dtype=float).T
        return V, True
    return pts[rng.integers(0, m, size=(G, B))], False


#: (G x draws) float arrays alive at once: weights (and their integer draw), two score products, a temporary
_WORK_ARRAYS = 6


def _draws_fit_in_memory(G: int, B: int, weights: str) -> None:
    """Refuse ``B`` draws whose (G x B) work arrays exceed half the available memory (issue 9: never MemoryError)."""
    m = 6 if weights == "webb" else 2
    n_draws = m ** G if G * np.log(m) <= np.log(B) + 1e-12 else B  # full enumeration needs m^G columns
    need = float(_WORK_ARRAYS) * G * n_draws * 8
    try:
        import os

        avail = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        avail = 8.0 * 2 ** 30
    if need > 0.5 * avail:
        most = int(0.5 * avail / (_WORK_ARRAYS * G * 8))
        raise DesignError(f"--wild-bootstrap {B} with {G} clusters needs about {need / 2 ** 30:.1f} GiB but "
                          f"{avail / 2 ** 30:.1f} GiB of memory is available (limit: half of it); use at most "
                          f"{most:,} draws (999 or 9999 is usual).")


def _cluster_sum(M: np.ndarray, g: np.ndarray, G: int) -> np.ndarray:
    out = np.zeros((G, M.shape[1]))
    np.add.at(out, g, M)
    return out


def wild_cluster_bootstrap(
    X: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    *,
    term: int,
    null: float = 0.0,
    B: int = 999,
    weights: str = "rademacher",
    seed: int | None = None,
    alpha: float = 0.05,
    ci: bool = True,
    k: int | None = None,
    term_name: str | None = None,
    fe: Sequence[np.ndarray] = (),
) -> dict:
    """Restricted wild cluster bootstrap-t test of ``beta[term] = null`` (WCR, boottest).

    Parameters
    ----------
    X : array (n, p)
        Regressors; with fixed effects, pass them partialled out (within-transformed),
        as boottest does after ``areg``/``reghdfe``.
    y : array (n,)
        Outcome (partialled out likewise).
    clusters : array (n,)
        Cluster ids (one-way).
    term : int
        Column of ``X`` tested.
    null : float
        Value under H0.
    B : int
        Number of bootstrap draws; full enumeration when 2^G <= B (Rademacher).
    weights : {"rademacher", "webb"}
    seed : int, optional
        Seed of the random draws (a fresh one is drawn and reported when None).
    alpha : float
        1 - level of the CI (inverted bootstrap test).
    ci : bool
        Compute the CI (test inversion).
    k : int, optional
        Small-sample K of the CRV1 factor ``G/(G-1)(n-1)/(n-K)`` (default ``p``;
        add the absorbed FE not nested in the clusters to match reghdfe / fixest).
    term_name : str, optional
        Name written as ``term`` in the result (default: the column index).
    fe : list of int code arrays, optional
        Fixed-effect factors.  ``X`` and ``y`` are partialled out of them here
        (idempotent if they already are), and — for factors not nested in the
        clusters — so is every bootstrap sample, which makes the test identical
        to the bootstrap of the regression with explicit FE dummies (with nested
        FE partialling the bootstrap data changes nothing).

    Returns
    -------
    dict
        ``{term, null, t, p_value, ci_low, ci_high, draws, weights, enumerated,
        estimate, se, df, seed, ptype, alpha}``; ``t`` is the analytic CRV1 t of
        the sample, ``draws`` the number of bootstrap draws used.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    n, p = X.shape
    if not 0 <= int(term) < p:
        raise DesignError(f"bootstrap term index {term} is outside the {p} regressors.")
    if B is None or int(B) < 1:
        raise DesignError("the number of bootstrap draws must be a positive integer (e.g. --wild-bootstrap 999).")
    from ..numerics.vcov import cluster_codes

    g = cluster_codes(clusters)
    G = int(g.max()) + 1
    if G < 2:
        raise DesignError("the wild cluster bootstrap needs at least two clusters; cluster by a variable with several values.")
    K = int(p if k is None else k)
    ssc = G / (G - 1) * (n - 1) / (n - K)
    j = int(term)
    fe = [np.asarray(f) for f in fe]
    non_nested = []
    if fe:
        from ..numerics.fe import demean, nested_in

        Z = demean(np.column_stack([y, X]), fe)
        y, X = Z[:, 0], Z[:, 1:]
        non_nested = [f for f in fe if not nested_in(f, g)]
    A = np.linalg.inv(X.T @ X)
    beta = A @ (X.T @ y)
    u = y - X @ beta
    Sg = _cluster_sum(X * u[:, None], g, G)
    q = A[:, j]
    se = float(np.sqrt(ssc * np.sum((Sg @ q) ** 2)))
    if not se > 0:
        raise DesignError("the tested coefficient has a zero standard error; the bootstrap t is undefined.")
    # restricted residuals u_r(theta) = u0 - theta * u1
    Xr = np.delete(X, j, axis=1)
    if Xr.shape[1]:
        Ar = np.linalg.pinv(Xr.T @ Xr)
        u0 = y - Xr @ (Ar @ (Xr.T @ y))
        u1 = X[:, j] - Xr @ (Ar @ (Xr.T @ X[:, j]))
    else:
        u0, u1 = y.copy(), X[:, j].copy()
    S0 = _cluster_sum(X * u0[:, None], g, G)
    S1 = _cluster_sum(X * u1[:, None], g, G)
    a0, a1 = S0 @ q, S1 @ q
    W = _cluster_sum(X * (X @ q)[:, None], g, G)  # rows (X_g'X_g q)'
    R = W @ A
    C0, C1 = R @ S0.T, R @ S1.T
    if non_nested:
        # F[g, h] = q' X_g' (M_FE (u_r restricted to cluster h))_g: FE projection of each cluster's residuals
        F0, F1 = _fe_scores(X @ q, u0, g, G, fe), _fe_scores(X @ q, u1, g, G, fe)
    else:
        F0, F1 = np.diag(a0), np.diag(a1)
    _draws_fit_in_memory(G, int(B), weights)
    ss = np.random.SeedSequence(seed)
    seed_used = int(ss.entropy) if seed is None else int(seed)
    rng = np.random.default_rng(ss)
    V, enumerated = draw_weights(G, int(B), weights=weights, rng=rng)
    nB = V.shape[1]
    P0 = (F0 - C0) @ V
    P1 = (F1 - C1) @ V
    n0, n1 = a0 @ V, a1 @ V

    def stats(theta: float) -> tuple[float, np.ndarray]:
        num = n0 - theta * n1
        den = np.sqrt(ssc * np.sum((P0 - theta * P1) ** 2, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = np.where(den > 0, num / den, 0.0)
        return (beta[j] - theta) / se, tstar

    def pval(theta: float) -> float:
        t, tstar = stats(theta)
        at, ats = abs(t), np.abs(tstar)
        tol = 1e-9 * max(1.0, at)
        gt = np.sum(ats > at + tol)
        tie = np.sum(np.abs(ats - at) <= tol)
        return float((gt + 0.5 * tie) / nB)

    t_obs, _ = stats(null)
    p = pval(null)
    lo = hi = float("nan")
    if ci:
        lo, hi = _invert(pval, float(beta[j]), se, alpha)
    return {
        "term": term_name if term_name is not None else j,
        "null": float(null),
        "t": float(t_obs),
        "p_value": p,
        "ci_low": lo,
        "ci_high": hi,
        "draws": int(nB),
        "weights": weights,
        "enumerated": bool(enumerated),
        "estimate": float(beta[j]),
        "se": se,
        "df": G - 1,
        "n_clusters": G,
        "seed": None if enumerated else seed_used,
        "ptype": "symmetric (ties |t*| = |t| count half)",
        "method": "WCR (null imposed), CRV1 t with G/(G-1)(n-1)/(n-K)",
        "alpha": float(alpha),
    }


def _fe_scores(xq: np.ndarray, u: np.ndarray, g: np.ndarray, G: int, fe, chunk: int = 256) -> np.ndarray:
    """G x G matrix: cluster sums of ``xq * M_FE(u * 1[cluster h])`` for every h (chunked over h)."""
    from ..numerics.fe import demean

    n = len(u)
    F = np.zeros((G, G))
    for start in range(0, G, chunk):
        hs = np.arange(start, min(G, start + chunk))
        U = np.zeros((n, len(hs)))
        m = (g >= hs[0]) & (g <= hs[-1])
        U[np.flatnonzero(m), g[m] - hs[0]] = u[m]
        F[:, hs] = _cluster_sum(demean(U, fe) * xq[:, None], g, G)
    return F


def _invert(pval, est: float, se: float, alpha: float) -> tuple[float, float]:
    """Endpoints where the bootstrap p-value crosses alpha, by bracketing and bisection."""
    ends = []
    for sign in (-1.0, 1.0):
        inner, step = est, se
        outer = est + sign * step
        it = 0
        while pval(outer) >= alpha and it < 60:
            inner = outer
            step *= 2.0
            outer = est + sign * step
            it += 1
        if it >= 60:
            ends.append(sign * np.inf)
            continue
        for _ in range(60):
            mid = 0.5 * (inner + outer)
            if pval(mid) >= alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-10 * max(1.0, abs(est), se):
                break
        ends.append(0.5 * (inner + outer))
    return float(ends[0]), float(ends[1])


def bootstrap_estimate(res):
    """Run the wild cluster bootstrap a regression design requested and attach it to its result.

    The regression designs (``panel``, ``twfe``, ``event-study``) check a ``wild_bootstrap=``
    request against their fit and store the partialled data as plain keyword arguments under
    ``res.extras[REQUEST_KEY]``; this function (called by :func:`ogimpact.estimation.estimate`,
    after the fit) runs :func:`wild_cluster_bootstrap` on them and returns the result with
    ``wild_bootstrap`` set and the request removed.  A result without a request is returned as is.

    Parameters
    ----------
    res : ogimpact.results.Estimate

    Returns
    -------
    ogimpact.results.Estimate
    """
    req = (res.extras or {}).get(REQUEST_KEY)
    if req is None:
        return res
    wb = wild_cluster_bootstrap(**req)
    extras = {k: v for k, v in res.extras.items() if k != REQUEST_KEY}
    return res.replace(wild_bootstrap=wb, extras=extras)
