"""The points of a continued branch (state, parameter, tangent, leading eigenvalues), the tests on
neighbouring points that detect folds, branch points (simple or double) and Hopf points, and the
special points and branches :func:`crossdiff.continuation.continuation` returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Point", "Special", "Branch"]


@dataclass
class Point:
    """A converged point of a branch."""

    x: np.ndarray
    p: float
    tangent: np.ndarray  # (t_x, t_p), unit in the weighted norm
    eigenvalues: np.ndarray
    iterations: int = 0
    vectors: np.ndarray | None = None
    chord: Any = field(default=None, repr=False)  # (BorderedLU of [F_x F_p; r], r) here
    #: the sign of ``det [F_x F_p; r]`` (``r·t > 0``) once known (:attr:`sign`)
    known_sign: int | None = None

    @property
    def sign(self) -> int:
        """The sign of ``det [F_x F_p; r]``: it changes where an odd number of real eigenvalues
        crosses zero away from folds (0: unknown). From the chord's factors, when first asked."""
        if self.known_sign is None:
            self.known_sign = self.chord[0].sign() if self.chord is not None else 0
        return self.known_sign

    @property
    def n_real(self) -> int:
        """Real eigenvalues with positive real part."""
        lam = self.eigenvalues
        return int(np.sum((lam.real > 0) & ~_complex(lam)))

    @property
    def n_complex(self) -> int:
        """Complex eigenvalues (both of each pair) with positive real part."""
        lam = self.eigenvalues
        return int(np.sum((lam.real > 0) & _complex(lam)))

    @property
    def n_unstable(self) -> int:
        return int(np.sum(self.eigenvalues.real > 0))


def _cluster(pt: Point, d: int, positive: bool) -> np.ndarray:
    """Indices of the ``d`` real eigenvalues of ``pt`` nearest zero on one side of it."""
    lam = pt.eigenvalues
    real = ~_complex(lam)
    side = real & ((lam.real > 0) if positive else (lam.real <= 0))
    idx = np.flatnonzero(side)
    return idx[np.argsort(np.abs(lam.real[idx]))[:d]]


def _basis(V: np.ndarray, d: int) -> np.ndarray:
    """An orthonormal basis of the real space of eigenvectors ``V`` of a ``d``-fold real eigenvalue
    (they may come as a complex pair with imaginary parts at round-off: real and imaginary parts)."""
    U, _, _ = np.linalg.svd(np.concatenate([V.real, V.imag], axis=1), full_matrices=False)
    return U[:, :d]


def _unit(V: np.ndarray) -> np.ndarray:
    return V / np.maximum(np.linalg.norm(V, axis=0), 1e-300)


def _double(a: Point, b: Point, d: int, up: bool | None = None) -> bool:
    """Whether ``d`` equal real eigenvalues (to 1e-3) crossed zero together between ``a`` and
    ``b``: the ``d`` nearest zero on the side they leave at ``a`` and on the side they reach at
    ``b`` are equal, and span the same space (the cosines of the principal angles between their
    eigenvectors above 0.9, where both points kept them). The eigenvectors tell a crossing from an
    eigenvalue that merely left the computed set, which the values alone do not once several
    pairs of a square's modes are unstable."""
    up = b.n_real > a.n_real if up is None else up
    ia, ib = _cluster(a, d, positive=not up), _cluster(b, d, positive=up)
    if ia.size < d or ib.size < d:
        return False
    for pt, idx in ((a, ia), (b, ib)):
        v = pt.eigenvalues.real[idx]
        if np.ptp(v) > 1e-3 * np.max(np.abs(v)):
            return False
    if a.vectors is None or b.vectors is None:
        return True
    Qa, Qb = _basis(a.vectors[:, ia], d), _basis(b.vectors[:, ib], d)
    return bool(np.min(np.linalg.svd(Qa.T @ Qb, compute_uv=False)) > 0.9)


def _multiple(a: Point, b: Point) -> bool:
    """Whether the real eigenvalues that changed sign between ``a`` and ``b`` are one multiple
    eigenvalue (equal to 1e-3 of their size at ``b``; e.g. modes ``(m,n)`` and ``(n,m)`` of a
    square): one crossing, which no smaller step separates."""
    d = abs(b.n_real - a.n_real)
    if d < 2 or b.n_complex != a.n_complex:
        return False
    lam = b.eigenvalues
    real = np.sort(lam.real[~_complex(lam)])
    near = real[np.argsort(np.abs(real))[:d]]  # the d real eigenvalues nearest zero
    return bool(np.all(np.sign(near) == np.sign(near[0])) and np.ptp(near) <= 1e-3 * np.max(np.abs(near)))


def _complex(lam: np.ndarray) -> np.ndarray:
    return np.abs(lam.imag) > 1e-8 * np.maximum(1.0, np.abs(lam))


@dataclass
class Special:
    """A located special point."""

    kind: str  # "BP", "fold", "Hopf"
    point: Point
    after: int  # index on its branch of the point before it
    multiplicity: int = 1
    frequency: float = 0.0
    mode: tuple[int, ...] = ()
    wavenumber: float = math.nan
    vector: np.ndarray | None = None
    corner: bool = False  # at a corner of a piecewise-smooth branch (not located by a test function)


@dataclass
class Branch:
    """The points of one branch and what was found on it."""

    index: int
    origin: str
    points: list[Point] = field(default_factory=list)
    special: list[Special] = field(default_factory=list)
    end: str = ""
