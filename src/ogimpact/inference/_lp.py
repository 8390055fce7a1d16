"""Numerical helpers for HonestDiD sensitivity analysis (Rambachan & Roth 2023).

* R-compatible random normals, so the simulated least-favourable critical value
  of the conditional/hybrid test (Andrews, Roth & Pakes 2023, ARP) is the one R
  ``HonestDiD`` computes with ``seed = 0``: R's Mersenne-Twister seeding
  (``set.seed``), ``unif_rand`` and the default ``rnorm`` inversion method, and
  ``mvtnorm::rmvnorm``'s symmetric square root of the covariance.
* The moment-inequality linear program of ARP,

      eta(y) = min_{eta, delta} eta   s.t.  y - X delta <= eta * sd,

  solved through its dual, ``max lambda'y`` over the polytope
  ``{lambda >= 0, sd'lambda = 1, X'lambda = 0}``.  The polytope's vertices are
  enumerated once (they do not depend on ``y``), after which the LP value, the
  optimal dual vertex and the conditioning interval ``[v_lo, v_up]`` of the
  ARP conditional test are exact, vectorised matrix operations over a whole
  grid of null values or simulation draws.
* Quantiles of the truncated and folded normal distributions.

References
----------
Andrews, I., Roth, J. and Pakes, A. (2023). Inference for linear conditional
moment inequalities. *Review of Economic Studies* 90(6), 2763-2791.
Rambachan, A. and Roth, J. (2023). A more credible approach to parallel trends.
*Review of Economic Studies* 90(5), 2555-2591.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy import optimize
from scipy.special import ndtri

from ..numerics import dist as _dist

__all__ = [
    "r_rnorm",
    "r_rmvnorm",
    "r_quantile",
    "DualPolytope",
    "truncnorm_ppf",
    "folded_normal_quantile",
]

_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1), R's fixup() margin
_BIG = 134217728.0  # 2^27, R's norm_rand() INVERSION constant


# --------------------------------------------------------------------------- R's RNG
@lru_cache(maxsize=64)
def _r_mt_key(seed: int) -> np.ndarray:
    """The 624-word Mersenne-Twister state R's ``set.seed(seed)`` produces (cached: a pure-Python loop)."""
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):  # R's initial scrambling (read-only result: it is cached)
        s = (69069 * s + 1) & 0xFFFFFFFF
    key = np.empty(625, dtype=np.uint32)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        key[j] = s
    key = key[1:]  # word 0 is the position counter, reset to 624 by FixupSeeds
    key.setflags(write=False)
    return key


def _r_runif(n: int, seed: int) -> np.ndarray:
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": _r_mt_key(seed), "pos": 624}}
    u = bg.random_raw(n).astype(np.float64) * 2.3283064365386963e-10
    u = np.where(u <= 0.0, 0.5 * _I2_32M1, u)
    return np.where(1.0 - u <= 0.0, 1.0 - 0.5 * _I2_32M1, u)


def r_rnorm(n: int, *, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` of R (Mersenne-Twister, inversion)."""
    return _r_rnorm_cached(int(n), int(seed)).copy()


@lru_cache(maxsize=16)
def _r_rnorm_cached(n: int, seed: int) -> np.ndarray:
    # one HonestDiD run draws the same (n, seed) normals for every polyhedron and every Mbar
    u = _r_runif(2 * n, seed)
    z = ndtri((np.floor(_BIG * u[0::2]) + u[1::2]) / _BIG)
    z.setflags(write=False)
    return z


def r_rmvnorm(n: int, sigma: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)`` (method "eigen")."""
    sigma = np.atleast_2d(np.asarray(sigma, float))
    p = sigma.shape[0]
    w, V = np.linalg.eigh((sigma + sigma.T) / 2)
    root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    z = r_rnorm(n * p, seed=seed).reshape(n, p)  # rnorm fills the matrix by row
    return z @ root


def r_quantile(x: np.ndarray, p: float) -> float:
    """R's default (type 7) quantile, dropping NaN and -inf draws as ``na.rm``."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan")
    return float(np.quantile(x, p))


# --------------------------------------------------------------------------- dual LP
class DualPolytope:
    """Vertices of ``{lambda >= 0, sd'lambda = 1, X'lambda = 0}``.

    The dual of ARP's linear program: for any ``y``,
    ``eta(y) = max_v v'y`` over the vertices ``v`` (``-inf`` if there is none:
    the primal is then unbounded, as R's solver reports by an error flag).

    Parameters
    ----------
    X : array (m, k)
        Nuisance-parameter loadings of the moments (``k`` may be 0).
    sd : array (m,)
        Standard deviations that scale the moments.
    max_bases : int
        Guard on the number of candidate bases ``C(m, k+1)`` to enumerate.
    """

    def __init__(self, X: np.ndarray, sd: np.ndarray, *, max_bases: int = 2_000_000):
        X = np.asarray(X, float).reshape(len(sd), -1)
        sd = np.asarray(sd, float)
        m, k = X.shape
        W = np.column_stack([sd, X])  # (m, k+1)
        self.m, self.k = m, k
        n_bases = _n_choose(m, k + 1)
        if n_bases > max_bases:
            raise ValueError(
                f"too many post-period moments to enumerate ({n_bases} bases); "
                "use fewer post periods in the event study."
            )
        rhs = np.zeros(k + 1)
        rhs[0] = 1.0
        verts = []
        scale = max(np.abs(W).max(), 1e-300)
        for idx in _bases(m, k + 1):  # (c, k+1) index arrays, cached per (m, k+1)
            Ws = W[idx].transpose(0, 2, 1)  # (c, k+1, k+1): rows = columns of W_S'
            det = np.linalg.det(Ws / scale)
            ok = np.abs(det) > 1e-10
            if not ok.any():
                continue
            lam = np.linalg.solve(Ws[ok], np.broadcast_to(rhs, (int(ok.sum()), k + 1))[..., None])[..., 0]
            feas = (lam >= -1e-10 * np.abs(lam).max(axis=1, keepdims=True)).all(axis=1)
            if feas.any():
                ii, ll = idx[ok][feas], lam[feas]
                v = np.zeros((len(ii), m))
                v[np.arange(len(ii))[:, None], ii] = np.clip(ll, 0, None)
                verts.append(v)
        V = np.concatenate(verts) if verts else np.zeros((0, m))
        if len(V):  # drop duplicates (degenerate vertices reached from several bases)
            V = np.unique(np.round(V, 12), axis=0)
        self.V = V
        # support size and rank of the binding nuisance loadings, per vertex (R's
        # primal/dual switch: non-degenerate iff k+1 positive multipliers with X_B of full rank)
        tol_lambda = 1e-6
        self.degenerate = np.ones(len(V), dtype=bool)
        if len(V):
            support = V > tol_lambda
            exact = np.flatnonzero(support.sum(axis=1) == k + 1)  # candidates for non-degenerate vertices
            if len(exact) and k == 0:
                self.degenerate[exact] = False
            elif len(exact):
                XB = np.stack([X[support[j]] for j in exact])  # (n, k+1, k)
                self.degenerate[exact] = np.linalg.matrix_rank(XB) != min(k + 1, k)

    @property
    def empty(self) -> bool:
        return len(self.V) == 0

    def eta(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """LP value and optimal vertex index for each column of ``Y`` (m, n)."""
        Y = np.asarray(Y, float).reshape(self.m, -1)
        if self.empty:
            n = Y.shape[1]
            return np.full(n, -np.inf), np.full(n, -1)
        vals = self.V @ Y
        j = np.argmax(vals, axis=0)
        return vals[j, np.arange(Y.shape[1])], j

    def truncation(self, Y: np.ndarray, j: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Conditioning interval of ARP's test given the optimal vertex.

        For each column ``y`` of ``Y`` with optimal vertex ``g = V[j]``, write
        ``y = s + b c`` with ``c = g'y`` and ``b = sigma g / (g' sigma g)``; the
        event "``g`` stays optimal" is ``v_lo <= c <= v_up``.  Returns
        ``(v_lo, v_up, g' sigma g)``.
        """
        Y = np.asarray(Y, float).reshape(self.m, -1)
        n = Y.shape[1]
        vlo = np.full(n, -np.inf)
        vup = np.full(n, np.inf)
        s2 = np.full(n, np.nan)
        VY = self.V @ Y
        for jj in np.unique(j):
            cols = np.flatnonzero(j == jj)
            g = self.V[jj]
            sg = sigma @ g
            gsg = float(g @ sg)
            s2[cols] = gsg
            if gsg <= 0:
                continue
            b = sg / gsg
            q = self.V @ b  # (nv,)
            c = g @ Y[:, cols]  # (nc,)
            p = VY[:, cols] - np.outer(q, c)  # v's, (nv, nc)
            lo_rows = q < 1 - 1e-12
            up_rows = q > 1 + 1e-12
            if lo_rows.any():
                vlo[cols] = np.max(p[lo_rows] / (1 - q[lo_rows])[:, None], axis=0)
            if up_rows.any():
                vup[cols] = np.min(p[up_rows] / (1 - q[up_rows])[:, None], axis=0)
        return vlo, vup, s2


def _n_choose(m: int, r: int) -> int:
    from math import comb

    return comb(m, r) if 0 <= r <= m else 0


@lru_cache(maxsize=32)
def _bases(m: int, r: int) -> tuple[np.ndarray, ...]:
    """Every r-subset of range(m) as index arrays of at most 20,000 rows (read-only, cached)."""
    out = []
    for chunk in _chunks(combinations(range(m), r), 20000):
        a = np.array(chunk, dtype=int)
        a.setflags(write=False)
        out.append(a)
    return tuple(out)


def _chunks(it, size):
    buf = []
    for x in it:
        buf.append(x)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf


# --------------------------------------------------------------------------- distributions
def truncnorm_ppf(p: float, lo: np.ndarray, up: np.ndarray, *, mu=0.0, sd=1.0) -> np.ndarray:
    """Quantile of N(mu, sd^2) truncated to [lo, up] (``TruncatedNormal::norminvp``)."""
    lo = np.asarray(lo, float)
    up = np.asarray(up, float)
    mu = np.asarray(mu, float)
    sd = np.asarray(sd, float)
    a = (lo - mu) / sd
    b = (up - mu) / sd
    with np.errstate(invalid="ignore", divide="ignore"):
        q = _dist.truncnorm_ppf(p, a, b)
    return mu + sd * q


def folded_normal_quantile(p: float, mu: float) -> float:
    """The p-quantile of ``|N(mu, 1)|`` (exact; R HonestDiD simulates 1e6 draws)."""
    mu = abs(float(mu))
    if mu == 0:
        return float(ndtri(0.5 + p / 2))

    def f(c):
        return _dist.norm_cdf(c - mu) - _dist.norm_cdf(-c - mu) - p

    hi = mu + float(ndtri(p)) + 10.0
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-14))
