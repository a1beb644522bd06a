"""Fast solves with the finite-volume Laplacian by discrete sine, cosine and Fourier transforms.

On a uniform grid the standard 3-point (per axis) finite-volume Laplacian is diagonalised by a
fast transform chosen by the walls of each axis (Strang, *The discrete cosine transform*, SIAM
Rev. 41, 1999, Table 1, the cell-centred "half-sample" boundaries). A **Neumann** (no-flux) wall
reflects the ghost cell, ``u_{-1} = u_0``; a **Dirichlet** wall (value zero on the face)
reflects it with the opposite sign, ``u_{-1} = −u_0``. Along an axis of ``n`` cells of width
``h``, ``k = 0 … n−1``:

=====================  ===========  ======================================
walls (low, high)      transform    eigenvalue ``λ_k``
=====================  ===========  ======================================
periodic               DFT          ``−4/h² sin²(π k / n)``
Neumann, Neumann       DCT-II       ``−4/h² sin²(π k / 2n)``
Dirichlet, Dirichlet   DST-II       ``−4/h² sin²(π (k+1) / 2n)``
Dirichlet, Neumann     DST-IV       ``−4/h² sin²(π (2k+1) / 4n)``
Neumann, Dirichlet     DCT-IV       ``−4/h² sin²(π (2k+1) / 4n)``
=====================  ===========  ======================================

Hence ``(I - Σ_a c_a ∂_aa) u = b`` costs two transforms and a division. The data of a
Dirichlet wall (a non-zero value) enter the right-hand side, not the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft
from numba import njit

from ..grid import Grid
from ..threads import FFT_GRAIN, threads_for

__all__ = ["SpectralLaplacian", "WallKind"]

#: The kind of one wall of a non-periodic axis for the spectral operator.
WallKind = str  # "neumann" or "dirichlet"
_WALLS = ("neumann", "dirichlet")
#: (low, high) walls -> (transform family, type)
_TRANSFORMS = {
    ("neumann", "neumann"): ("dct", 2),
    ("dirichlet", "dirichlet"): ("dst", 2),
    ("dirichlet", "neumann"): ("dst", 4),
    ("neumann", "dirichlet"): ("dct", 4),
}


def _eigenvalues(n: int, h: float, periodic: bool, walls: tuple[str, str]) -> np.ndarray:
    """Eigenvalues of the 3-point second difference along one axis (module docstring table)."""
    k = np.arange(n)
    if periodic:
        arg = np.pi * k / n
    else:
        family, kind = _TRANSFORMS[walls]
        if kind == 4:
            arg = np.pi * (2 * k + 1) / (4 * n)
        elif family == "dst":
            arg = np.pi * (k + 1) / (2 * n)
        else:
            arg = np.pi * k / (2 * n)
    return -4.0 / h**2 * np.sin(arg) ** 2


@dataclass(frozen=True)
class SpectralLaplacian:
    """Transforms and eigenvalues of the per-axis FV Laplacians on ``grid``.

    Fields carry leading (batch) axes, e.g. the species axis.

    Parameters
    ----------
    grid : Grid
    workers : int, optional
        FFT threads; default :func:`crossdiff.threads.threads_for` of each transform's size
        (``grain=FFT_GRAIN``): one thread for small fields, the cores left free for large ones.
    walls : tuple of (low, high) per axis, optional
        ``"neumann"`` (default) or ``"dirichlet"`` (homogeneous) for each wall of a non-periodic
        axis; ignored on periodic axes. Picks the transform of each axis (module docstring).
    """

    grid: Grid
    workers: int | None = None
    walls: tuple[tuple[WallKind, WallKind], ...] | None = None
    _eig: tuple[np.ndarray, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nd = self.grid.ndim
        given = self.walls if self.walls is not None else (("neumann", "neumann"),) * nd
        pairs = [tuple(w) for w in given]
        if len(pairs) != nd or not all(len(w) == 2 and w[0] in _WALLS and w[1] in _WALLS for w in pairs):
            raise ValueError(f"walls must be one (low, high) pair of {_WALLS} per axis, got {self.walls!r}")
        walls = tuple((str(w[0]), str(w[1])) for w in pairs)
        walls = tuple(("neumann", "neumann") if per else w for w, per in zip(walls, self.grid.periodic))
        object.__setattr__(self, "walls", walls)
        eig = []
        for a, (n, h, per) in enumerate(zip(self.grid.cells, self.grid.spacing, self.grid.periodic)):
            lam = _eigenvalues(n, h, per, walls[a])
            shape = [1] * nd
            shape[a] = n
            eig.append(lam.reshape(shape))
        object.__setattr__(self, "_eig", tuple(eig))

    @property
    def axis_eigenvalues(self) -> tuple[np.ndarray, ...]:
        """Eigenvalues of ``∂_aa`` per axis, shaped to broadcast against a spectral field."""
        return self._eig

    def symbol(self, coefficients) -> np.ndarray:
        """Eigenvalues of ``Σ_a c_a ∂_aa`` on the grid (broadcast to the grid shape)."""
        out = np.zeros(self.grid.shape)
        for c, lam in zip(coefficients, self._eig):
            if c:
                out = out + c * lam
        return out

    @property
    def _complex(self) -> bool:
        return any(self.grid.periodic)

    def _axes(self, ndim: int) -> tuple[dict[tuple[str, int], list[int]], list[int]]:
        """Array axes of an ``ndim`` array by real transform (``("dct", 2)``, …) and the
        periodic (DFT) ones."""
        lead = ndim - self.grid.ndim
        real: dict[tuple[str, int], list[int]] = {}
        fft = []
        assert self.walls is not None  # set in __post_init__
        for a, (per, walls) in enumerate(zip(self.grid.periodic, self.walls)):
            if per:
                fft.append(lead + a)
            else:
                real.setdefault(_TRANSFORMS[walls], []).append(lead + a)
        return real, fft

    def _threads(self, size: int) -> int:
        return self.workers if self.workers is not None else threads_for(size, FFT_GRAIN)

    def forward(self, u: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Transform the last ``ndim`` axes (a DCT or DST on walled axes, DFT on periodic ones)."""
        real, axes_fft = self._axes(u.ndim)
        workers = self._threads(u.size)
        out = u
        for (family, kind), axes in real.items():
            transform = sfft.dctn if family == "dct" else sfft.dstn
            out = transform(out, type=kind, axes=axes, norm="ortho", workers=workers, overwrite_x=overwrite)
            overwrite = True  # later transforms work on our own copy
        if axes_fft:
            out = sfft.fftn(out, axes=axes_fft, workers=workers, overwrite_x=overwrite)
        return out

    def inverse(self, v: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Inverse of :meth:`forward`; returns a real array."""
        real, axes_fft = self._axes(v.ndim)
        workers = self._threads(v.size)
        out = v
        if axes_fft:
            out = sfft.ifftn(out, axes=axes_fft, workers=workers, overwrite_x=overwrite).real
            overwrite = True
        for (family, kind), axes in real.items():
            transform = sfft.idctn if family == "dct" else sfft.idstn
            out = transform(out, type=kind, axes=axes, norm="ortho", workers=workers, overwrite_x=overwrite)
            overwrite = True
        return np.ascontiguousarray(out)

    def solve(self, b: np.ndarray, symbol: np.ndarray, shift: float | np.ndarray = 1.0) -> np.ndarray:
        """Solve ``(shift - L) u = b`` where ``L`` has eigenvalues ``symbol``.

        ``symbol`` and ``shift`` may carry the leading batch axes of ``b`` (one operator per
        species). The zero mode is left unchanged when ``shift - symbol`` vanishes there (the
        singular no-flux Poisson problem; the caller fixes the mean).
        """
        return self.inverse(self.forward(b) * self.inverse_symbol(symbol, shift))

    @staticmethod
    def inverse_symbol(symbol: np.ndarray, shift: float | np.ndarray = 1.0) -> np.ndarray:
        """``1 / (shift - symbol)``, with 1 where the denominator vanishes (see :meth:`solve`)."""
        denom = shift - symbol
        return 1.0 / np.where(denom == 0, 1.0, denom)

    def solve_diagonal(self, b: np.ndarray, scales: np.ndarray, overwrite: bool = False) -> np.ndarray:
        r"""Solve ``(I - Σ_a s_{m,a} ∂_aa) u_m = b_m`` for a batch ``b`` of shape ``(M, *grid.shape)``.

        ``scales`` is ``(M, ndim)`` with ``s >= 0`` (e.g. ``γΔt D_{i,a}/τ_i`` per species): every
        batch member may have its own per-axis coefficients, so all species go through one pair
        of batched transforms. The division by ``1 - Σ_a s_a λ_a >= 1`` is done in one compiled
        pass from the per-axis eigenvalues, with no grid-sized symbol stored. With ``overwrite``
        the transforms may work in the storage of ``b``.
        """
        spectrum = self.forward(b, overwrite=overwrite)
        m = spectrum.shape[0]
        lam = [np.ravel(e) for e in self._eig] + [np.zeros(1)] * (3 - self.grid.ndim)
        sc = np.zeros((m, 3))
        sc[:, : self.grid.ndim] = scales
        view = spectrum.reshape((m, *(len(x) for x in lam)))
        _divide_by_symbol(view, lam[0], lam[1], lam[2], np.ascontiguousarray(sc))
        return self.inverse(spectrum, overwrite=True)


@njit(cache=True)
def _divide_by_symbol(spec, lx, ly, lz, scales):
    """``spec[m, i, j, k] /= 1 - s_m0 lx_i - s_m1 ly_j - s_m2 lz_k`` (real or complex ``spec``)."""
    nm, nx, ny, nz = spec.shape
    for m in range(nm):
        sx, sy, sz = scales[m, 0], scales[m, 1], scales[m, 2]
        for i in range(nx):
            ax = 1.0 - sx * lx[i]
            for j in range(ny):
                axy = ax - sy * ly[j]
                for k in range(nz):
                    spec[m, i, j, k] /= axy - sz * lz[k]
