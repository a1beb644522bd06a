"""Fast solves with the finite-volume Laplacian by discrete cosine / Fourier transforms.

On a uniform grid the standard 3-point (per axis) finite-volume Laplacian with no-flux walls
(reflected ghost cells) is diagonalised by the DCT-II, and with periodic boundaries by the DFT.
Its eigenvalues along an axis with ``n`` cells of width ``h`` are

.. math::

    \\lambda_k = -\\frac{4}{h^2}\\sin^2\\!\\Big(\\frac{\\pi k}{2n}\\Big)\\ \\text{(no-flux)},\\qquad
    \\lambda_k = -\\frac{4}{h^2}\\sin^2\\!\\Big(\\frac{\\pi k}{n}\\Big)\\ \\text{(periodic)},

(Strang, *The discrete cosine transform*, SIAM Rev. 41, 1999). Hence
``(I - Σ_a c_a ∂_aa) u = b`` costs two transforms and a division.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft
from numba import njit

from ..grid import Grid

__all__ = ["SpectralLaplacian"]


@dataclass(frozen=True)
class SpectralLaplacian:
    """Transforms and eigenvalues of the per-axis FV Laplacians on ``grid``.

    Fields carry ``lead`` leading (batch) axes, e.g. the species axis.
    """

    grid: Grid
    workers: int | None = None  #: FFT threads; default 1 below 256² cells (threads cost more than they gain), else all
    _eig: tuple[np.ndarray, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.workers is None:
            object.__setattr__(self, "workers", 1 if self.grid.size < 256 * 256 else -1)
        eig = []
        nd = self.grid.ndim
        for a, (n, h, per) in enumerate(zip(self.grid.cells, self.grid.spacing, self.grid.periodic)):
            k = np.arange(n)
            arg = np.pi * k / n if per else np.pi * k / (2 * n)
            lam = -4.0 / h**2 * np.sin(arg) ** 2
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

    def _axes(self, ndim: int) -> tuple[list[int], list[int]]:
        """Array axes of the no-flux (DCT) and periodic (DFT) grid axes of an ``ndim`` array."""
        lead = ndim - self.grid.ndim
        per = self.grid.periodic
        return [lead + a for a, p in enumerate(per) if not p], [lead + a for a, p in enumerate(per) if p]

    def forward(self, u: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Transform the last ``ndim`` axes (DCT-II on no-flux axes, DFT on periodic ones)."""
        axes_dct, axes_fft = self._axes(u.ndim)
        out = u
        if axes_dct:
            out = sfft.dctn(out, type=2, axes=axes_dct, norm="ortho", workers=self.workers, overwrite_x=overwrite)
        if axes_fft:
            out = sfft.fftn(out, axes=axes_fft, workers=self.workers, overwrite_x=overwrite or bool(axes_dct))
        return out

    def inverse(self, v: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """Inverse of :meth:`forward`; returns a real array."""
        axes_dct, axes_fft = self._axes(v.ndim)
        out = v
        if axes_fft:
            out = sfft.ifftn(out, axes=axes_fft, workers=self.workers, overwrite_x=overwrite).real
        if axes_dct:
            out = sfft.idctn(
                out, type=2, axes=axes_dct, norm="ortho", workers=self.workers, overwrite_x=overwrite or bool(axes_fft)
            )
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
