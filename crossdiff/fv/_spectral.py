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
            out = sfft.idctn(out, type=2, axes=axes_dct, norm="ortho", workers=self.workers,
                             overwrite_x=overwrite or bool(axes_fft))
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

    def solve_with(self, b: np.ndarray, inverse_symbol: np.ndarray, overwrite: bool = False) -> np.ndarray:
        """:meth:`solve` with a precomputed :meth:`inverse_symbol` (reused across stages).

        With ``overwrite`` the transforms may work in the storage of ``b`` (fewer temporaries).
        """
        spectrum = self.forward(b, overwrite=overwrite)
        spectrum *= inverse_symbol
        return self.inverse(spectrum, overwrite=True)
