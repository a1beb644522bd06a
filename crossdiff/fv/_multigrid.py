r"""Geometric multigrid for the implicit diffusion of cut cells, as a conjugate-gradient preconditioner.

The implicit diffusion solve of a shape (:mod:`._cut`) is

.. math::

    (σ K − s A)\, u = f, \qquad
    \big((σ K − s A) u\big)_c = σ κ_c u_c + s \sum_{f \in c} W_f (u_c − u_{c'}),

with ``K = diag(κ)`` the volume fractions, ``W_f = a_f D_f / h²`` the aperture-weighted face
weights of the Laplacian ``A`` (symmetric, ``1ᵀA = 0``), ``σ > 0`` and ``s = γΔt``. It is
solved by conjugate gradients (Hestenes & Stiefel 1952; docs/references.md [HS52]) preconditioned
by one V-cycle of a cell-centred geometric multigrid on the cut cells (Trottenberg, Oosterlee &
Schüller 2001, [TOS01]; the embedded-boundary form: Johansen & Colella 1998,
[JC98]):

* **Coarse cells** are the unions of ``2^d`` fine cells (one more layer of empty cells where a
  side is odd; an axis of one cell is not coarsened); a coarse cell is active if one of its
  children is. Its volume fraction is the sum
  of its children's (``K_H = Rᵀ K_h R`` with ``R`` the piecewise-constant prolongation), and the
  weight of a coarse face is half the sum of the weights of the ``2^{d−1}`` fine faces in it
  (the sum divided by the coarsening factor along the face's normal): the
  rediscretised Laplacian of the coarse cut cells, ``a_H D/H² · (H/h)^d`` with ``a_H`` their mean
  aperture (the Galerkin product ``Rᵀ A R`` would be twice that, which spoils piecewise-constant
  transfers). No coarse level needs the shape again, and the hierarchy is made
  once per operator: ``σ`` and ``s`` are numbers passed to the kernels, so the adaptive step
  (``s`` changes every step) never rebuilds it.
* **A condition on the shape's boundary** (Dirichlet, Robin: :mod:`._cut`) adds a diagonal
  ``B`` (``σ K − s (A − B)``): a coarse cell's weight is the sum of its children's.
* **Transfers**: restriction sums the children's residuals, prolongation adds the coarse
  correction to every active child (``R``, ``Rᵀ``).
* **Smoothing**: red–black Gauss–Seidel, red then black before the coarse correction and black
  then red after it, so that the V-cycle is a symmetric positive-definite operator and a valid
  preconditioner of conjugate gradients.
* **The coarsest level** (at most :data:`COARSEST_CELLS` active cells) is solved exactly
  (Cholesky factors kept per ``s``).

The compiled kernels see every level as a 3D box (a 1D or 2D one gets leading axes of one cell,
which are never coarsened) and skip the cells outside the shape (volume fraction 0); closed faces
have weight 0. On the box a cut cell's row costs what a whole cell's does, so a V-cycle costs
about what it would on the box: the shape adds no work beyond its active cells.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._krylov import one_blas_thread

__all__ = ["CutCellMultigrid", "COARSEST_CELLS"]

#: The coarsest level of a hierarchy has at most this many active cells (solved densely).
COARSEST_CELLS = 400


# The six-face gather is written out in each kernel: a shared @njit(inline="always") helper
# returning (acc, total) was measured 2.7× slower per step on a 192² disc (the loops no longer
# vectorise).
@njit(cache=True)
def _smooth(x, b, mass, w0, w1, w2, wb, sigma, s, colour):
    """Gauss–Seidel on the cells of one colour (``i + j + k ≡ colour``; no two are neighbours):
    ``x_c = (b_c + s Σ W x_{c'}) / (σ κ_c + s Σ W)``."""
    n0, n1, n2 = x.shape
    for i in range(n0):
        for j in range(n1):
            for k in range((colour + i + j) % 2, n2, 2):
                m = mass[i, j, k]
                if m == 0.0:
                    continue
                acc = 0.0  # Σ_f W_f x_{c'} and Σ_f W_f over the six faces (written out: fast)
                total = 0.0
                w = w0[i, j, k]
                if w != 0.0:
                    acc += w * x[i - 1, j, k]
                    total += w
                w = w0[i + 1, j, k]
                if w != 0.0:
                    acc += w * x[i + 1, j, k]
                    total += w
                w = w1[i, j, k]
                if w != 0.0:
                    acc += w * x[i, j - 1, k]
                    total += w
                w = w1[i, j + 1, k]
                if w != 0.0:
                    acc += w * x[i, j + 1, k]
                    total += w
                w = w2[i, j, k]
                if w != 0.0:
                    acc += w * x[i, j, k - 1]
                    total += w
                w = w2[i, j, k + 1]
                if w != 0.0:
                    acc += w * x[i, j, k + 1]
                    total += w
                total += wb[i, j, k]  # the shape's boundary (Dirichlet/Robin): diagonal only
                x[i, j, k] = (b[i, j, k] + s * acc) / (sigma * m + s * total)


@njit(cache=True)
def _apply_dot(x, out, mass, w0, w1, w2, wb, sigma, s):
    """``out = (σ K − s A) x`` (0 outside the shape); returns ``x · out``."""
    n0, n1, n2 = x.shape
    dot = 0.0
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                m = mass[i, j, k]
                if m == 0.0:
                    out[i, j, k] = 0.0
                    continue
                acc = 0.0  # Σ_f W_f x_{c'} and Σ_f W_f over the six faces (written out: fast)
                total = 0.0
                w = w0[i, j, k]
                if w != 0.0:
                    acc += w * x[i - 1, j, k]
                    total += w
                w = w0[i + 1, j, k]
                if w != 0.0:
                    acc += w * x[i + 1, j, k]
                    total += w
                w = w1[i, j, k]
                if w != 0.0:
                    acc += w * x[i, j - 1, k]
                    total += w
                w = w1[i, j + 1, k]
                if w != 0.0:
                    acc += w * x[i, j + 1, k]
                    total += w
                w = w2[i, j, k]
                if w != 0.0:
                    acc += w * x[i, j, k - 1]
                    total += w
                w = w2[i, j, k + 1]
                if w != 0.0:
                    acc += w * x[i, j, k + 1]
                    total += w
                total += wb[i, j, k]
                v = (sigma * m + s * total) * x[i, j, k] - s * acc
                out[i, j, k] = v
                dot += v * x[i, j, k]
    return dot


@njit(cache=True)
def _restrict_residual(x, b, mass, w0, w1, w2, wb, sigma, s, coarse, r0, r1, r2):
    # r0, r1, r2: log2 of the coarsening factors (0 or 1)
    """``coarse = Rᵀ (b − (σK − sA) x)``: each active cell's residual added to its parent's."""
    n0, n1, n2 = x.shape
    coarse[...] = 0.0
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                m = mass[i, j, k]
                if m == 0.0:
                    continue
                acc = 0.0  # Σ_f W_f x_{c'} and Σ_f W_f over the six faces (written out: fast)
                total = 0.0
                w = w0[i, j, k]
                if w != 0.0:
                    acc += w * x[i - 1, j, k]
                    total += w
                w = w0[i + 1, j, k]
                if w != 0.0:
                    acc += w * x[i + 1, j, k]
                    total += w
                w = w1[i, j, k]
                if w != 0.0:
                    acc += w * x[i, j - 1, k]
                    total += w
                w = w1[i, j + 1, k]
                if w != 0.0:
                    acc += w * x[i, j + 1, k]
                    total += w
                w = w2[i, j, k]
                if w != 0.0:
                    acc += w * x[i, j, k - 1]
                    total += w
                w = w2[i, j, k + 1]
                if w != 0.0:
                    acc += w * x[i, j, k + 1]
                    total += w
                total += wb[i, j, k]
                coarse[i >> r0, j >> r1, k >> r2] += b[i, j, k] - (sigma * m + s * total) * x[i, j, k] + s * acc


@njit(cache=True)
def _prolong_add(x, mass, coarse, r0, r1, r2):
    """``x += R e``: every active cell gets its parent's correction."""
    n0, n1, n2 = x.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                if mass[i, j, k] != 0.0:
                    x[i, j, k] += coarse[i >> r0, j >> r1, k >> r2]


@njit(cache=True)
def _cg_update(x, r, p, q, alpha):
    """``x += α p``, ``r −= α q`` (flat); returns ``r · r``."""
    rr = 0.0
    for c in range(x.size):
        x[c] += alpha * p[c]
        v = r[c] - alpha * q[c]
        r[c] = v
        rr += v * v
    return rr


@njit(cache=True)
def _dot(u, v):
    total = 0.0
    for c in range(u.size):
        total += u[c] * v[c]
    return total


@njit(cache=True)
def _cg_direction(p, z, beta):
    """``p = z + β p`` (flat)."""
    for c in range(p.size):
        p[c] = z[c] + beta * p[c]


class _Level:
    """One level: the 3D box arrays of the cut-cell operator (volume fractions, face weights)."""

    def __init__(self, mass: np.ndarray, faces: list[np.ndarray], boundary: np.ndarray | None = None):
        self.mass = np.ascontiguousarray(mass, dtype=float)
        #: the diagonal weights of the shape's boundary (Dirichlet/Robin; 0: no flux)
        self.boundary = np.zeros(self.mass.shape) if boundary is None else np.ascontiguousarray(boundary, dtype=float)
        self.shape = self.mass.shape
        self.faces = [np.ascontiguousarray(w, dtype=float) for w in faces]
        self.active = int(np.count_nonzero(self.mass))
        self.ratio = (1, 1, 1)  #: coarsening factor per axis to the next level
        self.shifts = (0, 0, 0)  #: its log2, for the kernels
        w0, w1, w2 = self.faces
        self.args: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            self.mass,
            w0,
            w1,
            w2,
            self.boundary,
        )

    def coarsen(self) -> _Level:
        """The next level: ``2`` cells merged along every axis longer than one cell (mass summed,
        face weights rediscretised: summed over the coarse face, divided by the factor along
        the face's normal)."""
        r0, r1, r2 = (2 if n > 1 else 1 for n in self.shape)
        ratio = (r0, r1, r2)
        even = tuple(n + n % r for n, r in zip(self.shape, ratio))
        coarse_shape = tuple(e // r for e, r in zip(even, ratio))
        mass = np.zeros(even)
        mass[tuple(slice(0, n) for n in self.shape)] = self.mass
        split_cells = [d for n, r in zip(coarse_shape, ratio) for d in (n, r)]
        coarse_mass = mass.reshape(split_cells).sum(axis=(1, 3, 5))
        bnd = np.zeros(even)
        bnd[tuple(slice(0, n) for n in self.shape)] = self.boundary
        # the boundary's diagonal weights summed (the Galerkin product Rᵀ B R; halving them for
        # Dirichlet, β = 1/d with d doubled, took 22 iterations at 256² instead of 16)
        coarse_boundary = bnd.reshape(split_cells).sum(axis=(1, 3, 5))
        faces = []
        for a, w in enumerate(self.faces):
            wp = np.pad(w, [(0, e - n) for e, n in zip(even, self.shape)])
            take = [slice(None)] * 3
            take[a] = slice(0, even[a] + 1, ratio[a])  # the fine faces on coarse faces
            wc = wp[tuple(take)]
            split = []
            for b in range(3):
                split += [wc.shape[b], 1] if b == a else [wc.shape[b] // ratio[b], ratio[b]]
            faces.append(wc.reshape(split).sum(axis=(1, 3, 5)) / ratio[a])
        self.ratio = ratio
        self.shifts = (r0 // 2, r1 // 2, r2 // 2)
        return _Level(coarse_mass, faces, coarse_boundary)

    def dense(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The active cells' flat indices, volume fractions and ``−A`` (dense: the coarsest level)."""
        cells = np.flatnonzero(self.mass.ravel())
        where = np.full(self.mass.size, -1)
        where[cells] = np.arange(cells.size)
        index = where.reshape(self.shape)
        laplace = np.zeros((cells.size, cells.size))
        for a, w in enumerate(self.faces):
            inner = [slice(None)] * 3
            inner[a] = slice(1, -1)
            lo, hi = [slice(None)] * 3, [slice(None)] * 3
            lo[a], hi[a] = slice(0, -1), slice(1, None)
            wi = w[tuple(inner)]
            open_ = wi != 0
            i, k, v = index[tuple(lo)][open_], index[tuple(hi)][open_], wi[open_]
            np.add.at(laplace, (i, k), -v)
            np.add.at(laplace, (k, i), -v)
            np.add.at(laplace, (i, i), v)
            np.add.at(laplace, (k, k), v)
        laplace[np.diag_indices(cells.size)] += self.boundary.ravel()[cells]
        return cells, self.mass.ravel()[cells], laplace


class CutCellMultigrid:
    """Conjugate gradients with a multigrid V-cycle for ``(σ K − s A) u = f`` (module docstring).

    Parameters
    ----------
    kappa : ndarray
        Volume fractions on the box (0 outside the shape), 1D, 2D or 3D.
    faces : list of ndarray
        Per axis ``a``, the face weights ``W = a_f D_f / h²`` (the box's shape with ``n_a + 1``
        along ``a``; 0 on closed faces and the box's walls).
    boundary : ndarray, optional
        The diagonal weights ``B_c`` of a Dirichlet or Robin condition on the shape's boundary
        (the box's shape; the operator is then ``σ K − s (A − B)``, still symmetric).
    """

    def __init__(self, kappa: np.ndarray, faces: list[np.ndarray], boundary: np.ndarray | None = None):
        kappa = np.asarray(kappa, dtype=float)
        lead = (1,) * (3 - kappa.ndim)
        shape = lead + kappa.shape
        weights = [
            np.zeros((2, *shape[1:])) if a == 0 else np.zeros((*shape[:a], 2, *shape[a + 1 :]))
            for a in range(3 - kappa.ndim)
        ]
        weights += [np.asarray(w, dtype=float).reshape(lead + np.shape(w)) for w in faces]
        bnd = None if boundary is None else np.reshape(boundary, shape)
        level = _Level(kappa.reshape(shape), weights, bnd)
        self.levels = [level]
        while level.active > COARSEST_CELLS and max(level.shape) > 1:
            level = level.coarsen()
            self.levels.append(level)
        self._coarsest: dict[tuple[float, float], tuple] = {}
        self.iterations = 0  #: conjugate-gradient iterations of the last solve
        self.shape = shape
        self.size = kappa.size

    def _coarse_solve(self, b: np.ndarray, sigma: float, s: float) -> np.ndarray:
        import scipy.linalg as sla

        level = self.levels[-1]
        key = (sigma, s)
        if key not in self._coarsest:
            if len(self._coarsest) >= 8:
                self._coarsest.clear()
            cells, mass, laplace = level.dense()
            self._coarsest[key] = (cells, sla.cho_factor(np.diag(sigma * mass) + s * laplace))
        cells, factor = self._coarsest[key]
        x = np.zeros(level.shape)
        x.ravel()[cells] = sla.cho_solve(factor, b.ravel()[cells])
        return x

    def vcycle(self, b: np.ndarray, sigma: float, s: float, depth: int = 0) -> np.ndarray:
        """One V-cycle from ``x = 0`` (3D box arrays): red–black Gauss–Seidel, the coarse
        correction, black–red Gauss–Seidel (a symmetric positive-definite map)."""
        level = self.levels[depth]
        if depth == len(self.levels) - 1:
            return self._coarse_solve(b, sigma, s)
        x = np.zeros(level.shape)
        _smooth(x, b, *level.args, sigma, s, 0)
        _smooth(x, b, *level.args, sigma, s, 1)
        coarse = np.empty(self.levels[depth + 1].shape)
        _restrict_residual(x, b, *level.args, sigma, s, coarse, *level.shifts)
        _prolong_add(x, level.mass, self.vcycle(coarse, sigma, s, depth + 1), *level.shifts)
        _smooth(x, b, *level.args, sigma, s, 1)
        _smooth(x, b, *level.args, sigma, s, 0)
        return x

    def apply(self, x: np.ndarray, sigma: float, s: float) -> np.ndarray:
        """``(σ K − s A) x`` (flat box arrays, 0 outside the shape)."""
        out = np.zeros(self.shape)
        _apply_dot(x.reshape(self.shape), out, *self.levels[0].args, sigma, s)
        return out.ravel()

    def solve(self, *args, **kwargs) -> tuple[np.ndarray, bool]:
        """:meth:`_solve` with BLAS on one thread (the coarsest level's dense solves)."""
        with one_blas_thread():
            return self._solve(*args, **kwargs)

    def _solve(
        self, f: np.ndarray, sigma: float, s: float, rtol: float, x0: np.ndarray | None = None, maxiter: int = 200
    ) -> tuple[np.ndarray, bool]:
        """Solve ``(σ K − s A) u = f`` (flat box arrays, ``f`` 0 outside the shape) by
        preconditioned conjugate gradients from ``x0`` to ``‖f − (σK − sA) u‖₂ ≤ rtol ‖f‖₂``.
        Returns ``u`` and whether it converged."""
        f = np.ascontiguousarray(f, dtype=float).ravel()
        target = rtol**2 * _dot(f, f)
        self.iterations = 0
        if target == 0.0:  # f = 0: the solution is 0 (whatever the first guess)
            return np.zeros(self.size), True
        x = np.zeros(self.size) if x0 is None else np.array(x0, dtype=float).ravel()
        r = f - self.apply(x, sigma, s) if x0 is not None else f.copy()
        if _dot(r, r) <= target:
            return x, True
        z = self.vcycle(r.reshape(self.shape), sigma, s).ravel()
        p = z.copy()
        q = np.zeros(self.shape)
        rz = _dot(r, z)
        args = self.levels[0].args
        for k in range(1, maxiter + 1):
            alpha = rz / _apply_dot(p.reshape(self.shape), q, *args, sigma, s)
            rr = _cg_update(x, r, p, q.ravel(), alpha)
            self.iterations = k
            if rr <= target:
                return x, True
            z = self.vcycle(r.reshape(self.shape), sigma, s).ravel()
            rz_new = _dot(r, z)
            _cg_direction(p, z, rz_new / rz)
            rz = rz_new
        return x, False
