"""The admissible modes of a domain: the wave vectors of a box's cosine/Fourier modes, and the
eigenvalues of a shape's or a network's discrete no-flux Laplacian, which the dispersion relation
(:func:`crossdiff.analysis.dispersion`) and the critical values are evaluated on."""

from __future__ import annotations

import itertools

import numpy as np

from ..grid import Domain, GrowingGrid, Network, Shape

__all__ = ["admissible_modes", "shape_modes", "network_modes", "SHAPE_MODES"]

#: At most this many modes are evaluated (the highest wave numbers of very fine grids are left out).
_MAX_MODES = 1 << 20


#: Modes of a shape found by the sparse eigen-solve at least (the slowest: patterns of the shape's
#: size; :func:`dispersion` asks for those below its unstable band)
SHAPE_MODES = 120


def shape_modes(shape: Shape, count: int = SHAPE_MODES) -> np.ndarray:
    """The smallest ``count`` eigenvalues ``μ_n = k_n²`` of ``−Δ_h`` with no flux on ``shape``:
    the generalised sparse problem ``−A v = μ K v`` of the cut cells
    (:class:`~crossdiff.fv.CutCells`: ``A`` the aperture-weighted Laplacian, ``K`` the volume
    fractions), by shift-invert Lanczos (ARPACK). On a disc of radius ``R`` they approach
    ``(j'_{mn}/R)²`` at second order (docs/numerics.md)."""
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    from ..fv import CutCells

    cut = CutCells(shape, merge_below=0.0)
    A = cut.laplacian([1.0] * shape.ndim)
    n = cut.cells.size
    count = max(1, min(int(count), n - 2))
    K = sps.diags(cut.kappa_active)
    if n <= 600:  # small: dense, all of them
        import scipy.linalg as sla

        mu = sla.eigh((-A).toarray(), K.toarray(), eigvals_only=True)
    else:
        # shift below 0: −A − σK is positive definite (the constant mode has μ = 0)
        sigma = -1e-3 * float(np.max(np.abs(A.diagonal())))
        mu = spla.eigsh(-A, k=count, M=K, sigma=sigma, which="LM", return_eigenvectors=False)
    mu = np.sort(np.maximum(mu, 0.0))[:count]
    mu[0] = 0.0  # the constant mode, exactly
    return mu


def network_modes(network: Network, count: int = SHAPE_MODES) -> np.ndarray:
    """The smallest ``count`` eigenvalues ``μ_n = k_n²`` of the network's ``−Δ_h`` (Kirchhoff
    vertices, no flux at the leaves): ``−K v = μ M v`` of :class:`~crossdiff.fv.NetworkCells`
    (``M`` the cell volumes ``A h``). On a star of ``N`` equal edges ``ℓ`` they approach
    ``(mπ/ℓ)²`` and ``((m+½)π/ℓ)²`` (``N − 1`` times) at second order (docs/networks.md)."""
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla

    from ..fv import NetworkCells

    cells = NetworkCells(network)
    A = cells.graph_laplacian()
    n = network.size
    count = max(1, min(int(count), n - 2))
    K = sps.diags(cells.measure)
    if n <= 600:
        import scipy.linalg as sla

        mu = sla.eigh((-A).toarray(), K.toarray(), eigvals_only=True)
    else:
        sigma = -1e-3 * float(np.max(np.abs(A.diagonal() / cells.measure)))
        mu = spla.eigsh(-A, k=count, M=K, sigma=sigma, which="LM", return_eigenvectors=False)
    mu = np.sort(np.maximum(mu, 0.0))[:count]
    mu[: network.components] = 0.0  # the constants of each part, exactly
    return mu


def admissible_modes(
    grid: Domain, max_modes: int = _MAX_MODES, k_max: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mode numbers ``(M, d)`` and wave vectors ``(M, d)`` of ``grid``'s domain and boundaries.

    No-flux axis: ``k_a = π m/L_a``, ``m = 0 … N_a − 1`` (the cosine modes the grid resolves);
    periodic axis: ``k_a = 2π m/L_a``, ``m = 0 … N_a/2`` (``±m`` have the same growth rate).
    A shape (:class:`~crossdiff.grid.Shape`): the eigenfunctions of its discrete no-flux Laplacian
    (:func:`shape_modes`), numbered ``n = 0, 1, …`` (shape ``(M, 1)``), with ``k = √μ_n``: the
    :data:`SHAPE_MODES` slowest, or, to reach ``k_max``, as many as Weyl's law counts below it
    (``|Ω| k^d / (4π)`` in 2D, ``|Ω| k³ / (6π²)`` in 3D, ``|Ω| k / π`` in 1D) and a fifth more.
    A growing domain (:class:`~crossdiff.grid.GrowingGrid`): the modes of its box at ``t = 0``
    (for another time, pass ``domain.at(t)``: the box of that size).
    """
    if isinstance(grid, GrowingGrid):
        grid = grid.box
    if isinstance(grid, Network):  # the graph Laplacian's eigenfunctions, numbered
        count = SHAPE_MODES
        if k_max:
            count = max(count, int(1.2 * k_max * grid.length / np.pi) + 10)  # Weyl: Σℓ k / π
        mu = network_modes(grid, min(count, max_modes))
        return np.arange(mu.size)[:, None], np.sqrt(mu)[:, None]
    if isinstance(grid, Shape):
        count = SHAPE_MODES
        if k_max:
            weyl = {1: k_max / np.pi, 2: k_max**2 / (4 * np.pi), 3: k_max**3 / (6 * np.pi**2)}[grid.ndim]
            count = max(count, int(1.2 * weyl * grid.measure) + 10)
        mu = shape_modes(grid, min(count, max_modes))
        return np.arange(mu.size)[:, None], np.sqrt(mu)[:, None]
    per_axis = []
    cap = max(2, int(max_modes ** (1.0 / grid.ndim)))
    for (lo, hi), n, bc in zip(grid.extent, grid.cells, grid.boundary):
        L = hi - lo
        if bc == "periodic":
            m = np.arange(0, min(n // 2, cap) + 1)
            per_axis.append((m, 2 * np.pi * m / L))
        else:
            m = np.arange(0, min(n, cap))
            per_axis.append((m, np.pi * m / L))
    ms = np.array(list(itertools.product(*[a[0] for a in per_axis])), dtype=int)
    ks = np.array(list(itertools.product(*[a[1] for a in per_axis])), dtype=float)
    return ms.reshape(-1, grid.ndim), ks.reshape(-1, grid.ndim)
