"""Covariance conventions of linear (panel) regressions — the one place they live.

Every regression design in ``ogimpact`` asks :func:`compute_vcov` for its
covariance and writes the returned ``name`` and ``ssc`` into its options.

Conventions (``kind``)
----------------------
``classical``
    ``s² (X'X)⁻¹`` with ``s² = RSS / (n − K)``; t(n − K).
``robust``
    HC1 (White 1980 with the MacKinnon & White 1985 factor): ``n/(n − K)``
    times the sandwich; t(n − K).  Equals fixest ``"hetero"`` and Stata ``, robust``.
``cluster``
    CRV1 (Liang & Zeger 1986; Arellano 1987): sandwich of the cluster score
    sums with the small-sample factor ``G/(G − 1) · (n − 1)/(n − K)``;
    t(G − 1).  Two-way clustering (Cameron, Gelbach & Miller 2011):
    ``V₁ + V₂ − V₁₂``, every term with ``G_min/(G_min − 1)`` and t(G_min − 1)
    (fixest's default ``cluster.df = "min"``, ``t.df = "min"``).
``newey-west``
    Bartlett-kernel HAC (Newey & West 1987) with ``L`` lags.  On a panel
    (unit and time given) the autocovariances are taken *within* each unit
    over time gaps 1..L, as fixest ``vcov = NW(L) ~ unit + time``; the factor
    is fixest's ``T/(T − 1) · (n − 1)/(n − K)`` with T the number of periods
    (fixest treats the periods as the "clusters" of a HAC).  Without a unit it
    is the time-series estimator (factor ``n/(n − K)``).  t(n − K).

``cr3``
    Cluster jackknife (Bell & McCaffrey 2002; MacKinnon, Nielsen & Webb 2023):
    ``sum_g (b_(-g) - b)(b_(-g) - b)'`` with ``b_(-g)`` the fit without cluster g
    (on the within-transformed data), no further small-sample factor: clubSandwich
    ``CR3`` = pyfixest ``CRV3`` with its adjustments off; t(G − 1).
``driscoll-kraay``
    Driscoll & Kraay (1998): Bartlett-kernel HAC of the period sums of the scores
    ``h_t = sum_i x_it e_it`` with ``L`` lags, no small-sample factor (plm
    ``vcovSCC(type = "HC0")``; statsmodels ``cov_type="nw-groupsum"``); t(T − 1) as
    Stata ``xtscc``.
``conley``
    Spatial HAC (Conley 1999): ``sum_t sum_{i,j in t} 1[d_ij <= cutoff] s_i s_j'`` over
    pairs observed in the same period, great-circle (haversine, R = 6371 km) distance
    from ``lat``/``lon`` in degrees, uniform kernel, no small-sample factor; t(n − K).

What K counts (the small-sample ``K``)
--------------------------------------
``K = (number of estimated coefficients, intercept included) + (FE parameters)``
where absorbed fixed effects count their rank, *except* factors nested in the
cluster variable, which count only the one intercept they absorb.  This is
fixest's default ``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)``
and Stata ``reghdfe`` / ``xtreg, fe vce(cluster)``: the two coincide whenever
the absorbed FE are nested in the clusters (e.g. unit FE clustered by unit:
Grunfeld ``xtreg inv value capital, fe vce(cluster firm)`` gives K = 3).  They
differ for non-nested FE: Stata ``areg`` counts every FE level, and plain
``xtreg, fe`` without clustering uses ``n − N − k`` as here.

``--small-sample stata`` (:func:`small_sample_convention`)
---------------------------------------------------------
Multiplies ``cr3`` by ``(G − 1)/G`` (CV3 of MacKinnon, Nielsen & Webb 2023, Stata ``summclust``) and
``driscoll-kraay`` by ``T/(T − 1) · (n − 1)/(n − rank)`` (Stata ``xtscc``, Hoechle 2007, v1.4; rank =
regressors + constant, plus time dummies when time effects are absorbed).  ``cluster`` is already
reghdfe's / ``xtreg``'s and ``conley`` has no Stata factor here, so both are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import contextlib
import contextvars

import numpy as np
import pandas as pd

from ..errors import DesignError

__all__ = ["VcovResult", "compute_vcov", "small_sample_convention", "SMALL_SAMPLE_MODES", "cluster_meat", "cluster_scores", "classical_result", "cluster_result",
           "check_clusters", "vcov_matrix", "dof_k", "cluster_codes", "KINDS", "SSC_NAME"]

KINDS = ("classical", "robust", "cluster", "newey-west", "cr3", "driscoll-kraay", "conley")

#: name of the small-sample convention written into ``options['ssc']``
SSC_NAME = "fixest default = Stata reghdfe/xtreg for nested FE: (n-1)/(n-K), G/(G-1); FE nested in clusters not counted"

#: ``--small-sample``: "default" (the conventions above) or "stata" (Stata's factors for cr3 / driscoll-kraay)
_SMALL_SAMPLE = contextvars.ContextVar("ogimpact_small_sample", default="default")
SMALL_SAMPLE_MODES = ("default", "stata")


@contextlib.contextmanager
def small_sample_convention(mode: str | None):
    """Use ``mode`` ("default" or "stata") for every covariance computed inside the block.

    ``stata`` multiplies the cluster jackknife by (G-1)/G (MacKinnon, Nielsen & Webb 2023 CV3, Stata
    ``summclust``; ``jackknife, mse``) and Driscoll-Kraay by T/(T-1)*(n-1)/(n-rank) (Stata ``xtscc``,
    Hoechle 2007, v1.4: rank = regressors + constant, time dummies counted when time effects are in the
    model).  CRV1 is already reghdfe's/xtreg's, so it does not change; Conley has no Stata factor here.
    """
    m = (mode or "default").lower()
    if m not in SMALL_SAMPLE_MODES:
        raise DesignError(f"--small-sample takes {' or '.join(SMALL_SAMPLE_MODES)}, got {mode!r}.")
    token = _SMALL_SAMPLE.set(m)
    try:
        yield m
    finally:
        _SMALL_SAMPLE.reset(token)


@dataclass(frozen=True)
class VcovResult:
    """A covariance matrix with its inference convention.

    Attributes
    ----------
    V : array (k, k)
    df : float or None
        Degrees of freedom of the t reference distribution (None: normal).
    description : str
        One sentence naming the estimator and small-sample factor.
    name : str
        Short convention name for ``options['vcov']`` (e.g. ``"CRV1(id)"``).
    ssc : dict
        The small-sample factors actually applied (``n``, ``K``, ``G``, ``factor``).
    n_clusters : int or None
        Clusters (the smallest count for multiway clustering).
    """

    V: np.ndarray
    df: float | None
    description: str
    name: str
    ssc: dict = field(default_factory=dict)
    n_clusters: int | None = None

    def __iter__(self):  # allows ``V, df, description = compute_vcov(...)``
        return iter((self.V, self.df, self.description))


def cluster_codes(values) -> np.ndarray:
    """Integer codes of a cluster column; missing values raise a DesignError."""
    a = np.asarray(values)
    if a.dtype.kind in "iub":  # no missing values possible: counting codes, no hashing
        from .fe import codes

        return codes(a)
    s = pd.Series(a)
    if s.isna().any():
        raise DesignError(
            "the cluster variable has missing values; drop those rows or give them a cluster id."
        )
    c, _ = pd.factorize(s, sort=True)
    return c.astype(np.int64)


def dof_k(n_coef: int, fe_factors: Sequence[np.ndarray] = (), clusters: Sequence[np.ndarray] = ()) -> int:
    """The small-sample K: coefficients plus absorbed FE not nested in a cluster variable.

    Parameters
    ----------
    n_coef : int
        Estimated coefficients (the intercept included when the model has one
        that is not absorbed).
    fe_factors : list of int code arrays
        Absorbed fixed-effect factors.
    clusters : list of int code arrays
        Cluster variables (empty for classical / robust / HAC).
    """
    from .fe import count_fe_levels, nested_in

    if not len(fe_factors):
        return int(n_coef)
    nested = [any(nested_in(f, c) for c in clusters) for f in fe_factors]
    return int(n_coef + count_fe_levels(fe_factors, exclude=nested))


def _bread(X: np.ndarray) -> np.ndarray:
    XtX = X.T @ X
    try:
        return np.linalg.inv(XtX)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - callers drop collinear columns first
        raise DesignError("the regressors are perfectly collinear; drop one of them.") from exc


def _cluster_meat(S: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Sum over clusters of (sum of scores)(sum of scores)'."""
    return cluster_meat(S, g)


def _n_levels(c: np.ndarray) -> int:
    """Number of distinct values of an integer array (counting when non-negative)."""
    if len(c) and c.min() >= 0 and c.max() < 4 * len(c) + 1024:
        return int(np.count_nonzero(np.bincount(c)))
    return int(len(np.unique(c)))


def cluster_scores(X: np.ndarray, e: np.ndarray | None, g: np.ndarray, G: int | None = None) -> np.ndarray:
    """``G x p`` cluster sums of the scores ``X * e`` (``e`` None: of ``X``), one column at a time."""
    X = np.asarray(X, dtype=float)
    X = X.reshape(len(X), -1)
    G = int(g.max()) + 1 if G is None else int(G)
    Sg = np.empty((G, X.shape[1]))
    for j in range(X.shape[1]):
        x = X[:, j]
        Sg[:, j] = np.bincount(g, weights=x if e is None else x * e, minlength=G)
    return Sg


def cluster_meat(S: np.ndarray, g: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
    """Sum over clusters of (sum of scores)(sum of scores)'; scores ``S * e`` when ``e`` is given."""
    Sg = cluster_scores(S, e, np.asarray(g, dtype=np.int64))
    return Sg.T @ Sg


def classical_result(B: np.ndarray, rss: float, n: int, K: int) -> VcovResult:
    """The ``classical`` :class:`VcovResult` from the bread ``(X'X)^-1`` and the RSS."""
    s2 = float(rss) / (n - K)
    V = s2 * B
    return VcovResult(V, float(n - K), f"classical OLS: s^2 (X'X)^-1, s^2 = RSS/(n-K), n={n}, K={K}; t({n - K})",
                      "classical", {"n": n, "K": K, "factor": 1.0, "sigma2": s2})


def cluster_result(B: np.ndarray, meat: np.ndarray, n: int, K: int, Gs: Sequence[int],
                   names: Sequence[str]) -> VcovResult:
    """The CRV1 :class:`VcovResult` from the bread, the (combined) meat and the cluster counts."""
    Gmin = min(Gs)
    adj = (n - 1) / (n - K)
    cadj = Gmin / (Gmin - 1)
    f = adj * cadj
    V = f * B @ meat @ B
    nm = f"CRV1({','.join(names)})"
    desc = (f"cluster-robust CRV1 by {' and '.join(names)}: G/(G-1)*(n-1)/(n-K) with G={Gmin}, n={n}, K={K} "
            f"(factor {f:.6g}); t({Gmin - 1})")
    return VcovResult(V, float(Gmin - 1), desc, nm,
                      {"n": n, "K": K, "G": Gmin, "G_all": list(Gs), "factor": f, "cluster_df": "min"}, Gmin)


def check_clusters(cl: Sequence[np.ndarray], names: Sequence[str]) -> list[int]:
    """Cluster counts of each variable; a DesignError for a wrong number of variables or one cluster."""
    if not cl or len(cl) > 2:
        raise DesignError("cluster-robust covariance needs one or two cluster variables; give --cluster COL[,COL].")
    Gs = [_n_levels(c) for c in cl]
    if min(Gs) < 2:
        raise DesignError(
            f"the cluster variable {names[int(np.argmin(Gs))]!r} has a single cluster; cluster by a variable with several values."
        )
    return Gs


def _nw_panel_meat(S: np.ndarray, unit: np.ndarray | None, time: np.ndarray, lags: int) -> np.ndarray:
    """Bartlett HAC meat; autocovariances within unit at time gaps 1..lags."""
    t = np.asarray(time)
    u = np.zeros(len(t), dtype=np.int64) if unit is None else np.asarray(unit)
    meat = S.T @ S
    if lags <= 0:
        return meat
    idx = pd.MultiIndex.from_arrays([u, t])
    pos = pd.Series(np.arange(len(t)), index=idx)
    if pos.index.has_duplicates:
        raise DesignError(
            "Newey-West on a panel needs one row per (unit, time); aggregate the data or use --vcov cluster."
        )
    for lag in range(1, int(lags) + 1):
        w = 1.0 - lag / (lags + 1.0)
        prev = pos.reindex(pd.MultiIndex.from_arrays([u, t - lag])).to_numpy()
        ok = ~np.isnan(prev)
        if not ok.any():
            continue
        a = S[ok]
        b = S[prev[ok].astype(np.int64)]
        G = a.T @ b
        meat += w * (G + G.T)
    return meat


def _cr3(X: np.ndarray, e: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Cluster jackknife: sum over clusters of (b_(-g) - b)(b_(-g) - b)'."""
    XtX = X.T @ X
    G = int(g.max()) + 1
    order = np.argsort(g, kind="stable")
    bounds = np.searchsorted(g[order], np.arange(G + 1))
    p = X.shape[1]
    V = np.zeros((p, p))
    for c in range(G):
        idx = order[bounds[c]:bounds[c + 1]]
        if not len(idx):
            continue
        Xg = X[idx]
        A = XtX - Xg.T @ Xg
        try:
            d = np.linalg.solve(A, Xg.T @ e[idx])
        except np.linalg.LinAlgError:
            raise DesignError("the cluster jackknife (CR3) is undefined: leaving one cluster out makes the "
                              "regressors collinear; use --vcov cluster.") from None
        V += np.outer(d, d)
    return V


def _driscoll_kraay_meat(S: np.ndarray, time: np.ndarray, lags: int) -> tuple[np.ndarray, int]:
    tc = pd.factorize(pd.Series(time), sort=True)[0]
    T = int(tc.max()) + 1
    H = np.column_stack([np.bincount(tc, weights=S[:, j], minlength=T) for j in range(S.shape[1])])
    tv = np.sort(pd.unique(pd.Series(time)))
    meat = H.T @ H
    for lag in range(1, int(lags) + 1):
        w = 1.0 - lag / (lags + 1.0)
        G = H[lag:].T @ H[:-lag]
        meat += w * (G + G.T)
    return meat, len(tv)


def _haversine_km(lat1, lon1, lat2, lon2):
    r = np.pi / 180.0
    a = np.sin((lat2 - lat1) * r / 2) ** 2 + np.cos(lat1 * r) * np.cos(lat2 * r) * np.sin((lon2 - lon1) * r / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _conley_meat(S: np.ndarray, coords: np.ndarray, cutoff: float, time: np.ndarray | None) -> np.ndarray:
    lat, lon = coords[:, 0], coords[:, 1]
    if np.isnan(coords).any() or (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise DesignError("Conley covariance needs latitude in [-90, 90] and longitude in [-180, 180] in every row.")
    groups = [np.arange(len(S))] if time is None else [np.flatnonzero(time == v) for v in np.unique(time)]
    meat = np.zeros((S.shape[1], S.shape[1]))
    for idx in groups:
        for start in range(0, len(idx), 2000):
            blk = idx[start:start + 2000]
            d = _haversine_km(lat[blk][:, None], lon[blk][:, None], lat[idx][None, :], lon[idx][None, :])
            K = (d <= cutoff).astype(float)
            meat += S[blk].T @ (K @ S[idx])
    return (meat + meat.T) / 2


def _xtscc_rank(*, n_coef: int, K: int, unit) -> int:
    """The ``rank`` of Stata ``xtscc``: regressors + constant (+ time dummies when time effects are absorbed).

    With absorbed effects K = n_coef + FE levels: the unit effects (absorbed by ``xtscc, fe``) are replaced
    by one constant; any other absorbed levels (time effects) are regressors for xtscc.
    """
    if K <= n_coef:
        return int(K)
    n_units = len(pd.unique(np.asarray(unit))) if unit is not None else 0
    if n_units and K - n_coef >= n_units:
        return int(K - n_units + 1)
    return int(K)


def _new_kinds(kind, X, e, B, n, K, *, clusters, cluster_names, time, lags, coords, cutoff,
               unit=None) -> VcovResult:
    if kind == "cr3":
        cl = [np.asarray(c, dtype=np.int64) for c in clusters]
        names = list(cluster_names) or ["cluster1"]
        if len(cl) != 1:
            raise DesignError("--vcov cr3 takes one cluster variable; give --cluster COL.")
        Gs = check_clusters(cl, names)
        V = _cr3(X, e, cl[0])
        if _SMALL_SAMPLE.get() == "stata":
            f = (Gs[0] - 1) / Gs[0]
            return VcovResult(f * V, float(Gs[0] - 1), f"cluster jackknife CR3 by {names[0]} (G={Gs[0]}) with "
                              f"Stata's factor (G-1)/G = {f:.6g} (summclust CV3, MacKinnon, Nielsen & Webb 2023); "
                              f"t({Gs[0] - 1})", f"CR3({names[0]}),stata",
                              {"n": n, "K": K, "G": Gs[0], "factor": f, "small_sample": "stata"}, Gs[0])
        return VcovResult(V, float(Gs[0] - 1), f"cluster jackknife CR3 by {names[0]} (G={Gs[0]}), no small-sample "
                          f"factor (clubSandwich CR3 = pyfixest CRV3 without adjustments); t({Gs[0] - 1})",
                          f"CR3({names[0]})", {"n": n, "K": K, "G": Gs[0], "factor": 1.0}, Gs[0])
    S = X * e[:, None]
    if kind == "driscoll-kraay":
        if time is None:
            raise DesignError("Driscoll-Kraay covariance needs a time variable.")
        T = len(np.unique(time))
        if lags is None:
            lags = int(np.floor(4 * (T / 100) ** (2 / 9)))
        meat, T = _driscoll_kraay_meat(S, np.asarray(time), int(lags))
        V = B @ meat @ B
        if _SMALL_SAMPLE.get() == "stata":
            rank = _xtscc_rank(n_coef=X.shape[1], K=K, unit=unit)
            f = T / (T - 1) * (n - 1) / (n - rank)
            return VcovResult(f * V, float(T - 1), f"Driscoll-Kraay, Bartlett kernel, {lags} lag(s), Stata xtscc's "
                              f"factor T/(T-1)*(n-1)/(n-rank) = {f:.6g} (T={T}, n={n}, rank={rank}); t({T - 1})",
                              f"DK({lags}),stata", {"n": n, "K": K, "T": T, "rank": rank, "factor": f,
                                                    "lags": int(lags), "small_sample": "stata"}, None)
        return VcovResult(V, float(T - 1), f"Driscoll-Kraay, Bartlett kernel, {lags} lag(s) on the period sums of "
                          f"the scores, no small-sample factor (plm vcovSCC HC0); t({T - 1})",
                          f"DK({lags})", {"n": n, "K": K, "T": T, "factor": 1.0, "lags": int(lags)}, None)
    if coords is None or cutoff is None:
        raise DesignError("Conley covariance needs --lat COL --lon COL and --cutoff KM.")
    if not cutoff > 0:
        raise DesignError("--cutoff must be a positive distance in km.")
    meat = _conley_meat(S, np.asarray(coords, float), float(cutoff), None if time is None else np.asarray(time))
    V = B @ meat @ B
    return VcovResult(V, float(n - K), f"Conley spatial HAC, uniform kernel, cutoff {cutoff:g} km (haversine), pairs "
                      f"in the same period, no small-sample factor; t({n - K})", f"Conley({cutoff:g}km)",
                      {"n": n, "K": K, "factor": 1.0, "cutoff_km": float(cutoff)}, None)


def compute_vcov(
    X: np.ndarray,
    resid: np.ndarray,
    *,
    kind: str = "classical",
    k: int | None = None,
    clusters: Sequence[np.ndarray] = (),
    cluster_names: Sequence[str] = (),
    unit: np.ndarray | None = None,
    time: np.ndarray | None = None,
    lags: int | None = None,
    bread: np.ndarray | None = None,
    coords: np.ndarray | None = None,
    cutoff: float | None = None,
) -> VcovResult:
    """Covariance of OLS coefficients under one of the conventions of this module.

    Parameters
    ----------
    X : array (n, p)
        The regressors as estimated (after any within transformation).
    resid : array (n,)
        OLS residuals.
    kind : {"classical", "robust", "cluster", "newey-west"}
    k : int, optional
        Small-sample K (default ``p``); see :func:`dof_k` for fixed effects.
    clusters : list of int code arrays
        One (one-way) or two (two-way) cluster variables for ``kind="cluster"``.
    cluster_names : list of str
        Their column names (for the description).
    unit, time : arrays, optional
        Panel identifiers for ``newey-west`` (unit None = one time series).
    lags : int, optional
        Newey–West lags (default: ``floor(4 (T/100)^(2/9))``, Newey & West 1994).
    bread : array (p, p), optional
        ``(X'X)^-1`` when the caller already has it (saves a pass over X).
    coords, cutoff : (n, 2) latitude/longitude in degrees and the distance cutoff in km (``conley``).

    Returns
    -------
    VcovResult
    """
    if kind not in KINDS:
        raise DesignError(f"unknown covariance {kind!r}; use one of {', '.join(KINDS)}.")
    X = np.asarray(X, dtype=float)
    e = np.asarray(resid, dtype=float).reshape(-1)
    n, p = X.shape
    K = int(p if k is None else k)
    if n - K <= 0:
        raise DesignError(
            f"the model has {K} parameters but only {n} observations; drop regressors or fixed effects."
        )
    B = _bread(X) if bread is None else np.asarray(bread, dtype=float)
    if kind == "classical":
        return classical_result(B, float(e @ e), n, K)
    if kind == "robust":
        S = X * e[:, None]
        f = n / (n - K)
        V = f * B @ (S.T @ S) @ B
        return VcovResult(V, float(n - K), f"heteroskedasticity-robust HC1: n/(n-K) = {f:.6g}; t({n - K})",
                          "HC1", {"n": n, "K": K, "factor": f})
    if kind == "cluster":
        cl = [np.asarray(c, dtype=np.int64) for c in clusters]
        names = list(cluster_names) or [f"cluster{i + 1}" for i in range(len(cl))]
        Gs = check_clusters(cl, names)
        if len(cl) == 1:
            meat = cluster_meat(X, cl[0], e)
        else:
            inter = pd.factorize(pd.Series(cl[0]).astype(str) + "|" + pd.Series(cl[1]).astype(str))[0]
            meat = cluster_meat(X, cl[0], e) + cluster_meat(X, cl[1], e) - cluster_meat(X, inter, e)
        return cluster_result(B, meat, n, K, Gs, names)
    if kind in ("cr3", "driscoll-kraay", "conley"):
        return _new_kinds(kind, X, e, B, n, K, clusters=clusters, cluster_names=cluster_names, time=time,
                          lags=lags, coords=coords, cutoff=cutoff, unit=unit)
    if kind == "newey-west":
        S = X * e[:, None]
        if time is None:
            raise DesignError("Newey-West covariance needs a time variable.")
        if lags is None:
            T = len(np.unique(time))
            lags = int(np.floor(4 * (T / 100) ** (2 / 9)))
        if lags < 0:
            raise DesignError("--hac-lags must be a non-negative integer.")
        meat = _nw_panel_meat(S, unit, np.asarray(time), int(lags))
        # fixest: the "cluster" count of a HAC is the number of time periods
        T = int(len(np.unique(time))) if unit is not None else n
        f = (T / (T - 1) if T > 1 else 1.0) * (n - 1) / (n - K)
        V = f * B @ meat @ B
        where = "within unit (panel)" if unit is not None else "time series"
        return VcovResult(V, float(n - K),
                          f"Newey-West HAC, Bartlett kernel, {lags} lag(s), {where}; factor T/(T-1)*(n-1)/(n-K) = {f:.6g} "
                          f"(T = {T} periods); t({n - K})",
                          f"NW({lags})", {"n": n, "K": K, "T": T, "factor": f, "lags": int(lags)})
    raise DesignError(f"unknown covariance {kind!r}; use one of {', '.join(KINDS)}.")


def vcov_matrix(X, resid, **kw) -> tuple[np.ndarray, float | None, str]:
    """``(V, df_for_t, description)`` of :func:`compute_vcov` (same keywords)."""
    r = compute_vcov(X, resid, **kw)
    return r.V, r.df, r.description


def design_vcov_kwargs(panel, frame, kind: str | None, clusters, cluster_names, *, hac_lags=None, lat=None,
                       lon=None, cutoff=None, default: str = "cluster") -> dict:
    """Keywords of :func:`compute_vcov` (through ``fit_linear``) for a regression design's ``--vcov`` choice.

    ``kind`` None gives ``default``; ``cr3`` uses the design's clusters; ``driscoll-kraay`` the panel's
    periods; ``conley`` the ``lat``/``lon`` columns of ``frame`` and ``cutoff`` (km).
    """
    kind = (kind or default).lower()
    if kind not in KINDS:
        raise DesignError(f"unknown --vcov {kind!r}; use one of {', '.join(KINDS)}.")
    kw: dict = {"kind": kind, "clusters": clusters if kind in ("cluster", "cr3") else (),
                "cluster_names": cluster_names, "lags": hac_lags}
    if kind in ("newey-west", "driscoll-kraay", "conley"):
        kw["time"] = frame[panel.time].to_numpy()
    if kind in ("newey-west", "driscoll-kraay"):
        kw["unit"] = frame[panel.unit].to_numpy()
    if kind == "conley":
        if cutoff is None:
            raise DesignError("--vcov conley needs --cutoff KM (and --lat COL --lon COL in degrees, unless the units "
                              "are ISO3 countries, which use the bundled country centroids).")
        if not lat and not lon:
            from ..data.centroids import country_coords

            kw["coords"] = country_coords(frame[panel.unit])
        else:
            if not lat or not lon:
                raise DesignError("--vcov conley needs both --lat COL and --lon COL (degrees).")
            missing = [c for c in (lat, lon) if c not in frame.columns]
            if missing:
                raise DesignError(f"coordinate column(s) {missing} are not in the data; give --lat/--lon columns of "
                                  "the CSV, or leave both out for ISO3 country units (bundled centroids).")
            kw["coords"] = frame[[lat, lon]].to_numpy(float)
        kw["cutoff"] = float(cutoff)
    return kw

