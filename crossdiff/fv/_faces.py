"""Face quantities and the conservative divergence on a uniform grid.

Conventions, along one axis with ``n`` cells and spacing ``h``:

* **no-flux**: interior faces only, ``n - 1`` of them; face ``k`` lies between cells ``k`` and
  ``k + 1``. The boundary fluxes are zero by construction, so :func:`divergence` conserves
  ``Σ u h^d`` to round-off whatever the fluxes are.
* **periodic**: ``n`` faces; face ``k`` lies between cells ``k - 1`` (wrapped) and ``k``.

The divergence of face fluxes ``F`` is ``(F_{k+1/2} - F_{k-1/2}) / h`` (LeVeque, *Finite Volume
Methods for Hyperbolic Problems*, 2002, eq. 4.4).
"""

from __future__ import annotations

import numpy as np

from ._limiters import DEFAULT_LIMITER, LIMITERS

__all__ = ["face_difference", "face_mean", "divergence", "limited_slopes", "upwind_flux"]


def _sl(ndim: int, axis: int, s: slice) -> tuple:
    index = [slice(None)] * ndim
    index[axis] = s
    return tuple(index)


def face_difference(u: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """``u_right - u_left`` at every face of ``axis`` (see module conventions)."""
    if periodic:
        return u - np.roll(u, 1, axis=axis)
    return np.diff(u, axis=axis)


def face_mean(u: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """Arithmetic mean of the two cells adjacent to each face."""
    if periodic:
        return 0.5 * (u + np.roll(u, 1, axis=axis))
    nd = u.ndim
    return 0.5 * (u[_sl(nd, axis, slice(None, -1))] + u[_sl(nd, axis, slice(1, None))])


def divergence(flux: np.ndarray, axis: int, periodic: bool, h: float, out: np.ndarray | None = None) -> np.ndarray:
    """The discrete divergence ``(F_{k+1/2} - F_{k-1/2}) / h`` per cell.

    With ``out`` given, the divergence is *added* to it (and ``out`` returned).
    """
    if periodic:
        div = (np.roll(flux, -1, axis=axis) - flux) / h
        if out is None:
            return div
        out += div
        return out
    nd = flux.ndim
    shape = list(flux.shape)
    shape[axis] += 1
    if out is None:
        out = np.zeros(shape)
    # cell k receives +F_{k+1/2} (face k) and -F_{k-1/2} (face k-1); boundary faces carry no flux
    out[_sl(nd, axis, slice(None, -1))] += flux / h
    out[_sl(nd, axis, slice(1, None))] -= flux / h
    return out


def _minmod3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    same = (np.sign(a) == np.sign(b)) & (np.sign(b) == np.sign(c))
    return np.where(same, np.sign(b) * np.minimum(np.minimum(np.abs(a), np.abs(b)), np.abs(c)), 0.0)


def _generalised_minmod(dl: np.ndarray, dr: np.ndarray, theta: float) -> np.ndarray:
    """Generalised-minmod slopes ``minmod(θ dl, (dl + dr)/2, θ dr)`` from the left and right
    differences of each cell (the NumPy reference of the compiled limiter; θ from
    :data:`~crossdiff.fv.LIMITERS`)."""
    return _minmod3(theta * dl, 0.5 * (dl + dr), theta * dr)


def limited_slopes(u: np.ndarray, axis: int, periodic: bool, limiter: str = DEFAULT_LIMITER) -> np.ndarray:
    """Limited cell slopes ``s_k`` (undivided: ``u`` changes by ``s_k`` across cell ``k``).

    ``limiter`` is a name in :data:`~crossdiff.fv.LIMITERS` (generalised minmod with its θ).
    No-flux boundary cells use a reflected ghost cell, so their slope is zero.
    """
    theta = LIMITERS[limiter]
    if periodic:
        dl = u - np.roll(u, 1, axis=axis)
        dr = np.roll(u, -1, axis=axis) - u
        return _generalised_minmod(dl, dr, theta)
    d = np.diff(u, axis=axis)
    nd = u.ndim
    zero = np.zeros_like(u[_sl(nd, axis, slice(0, 1))])
    dl = np.concatenate([zero, d], axis=axis)
    dr = np.concatenate([d, zero], axis=axis)
    return _generalised_minmod(dl, dr, theta)


def upwind_flux(
    u: np.ndarray, velocity: np.ndarray, axis: int, periodic: bool, limiter: str = DEFAULT_LIMITER
) -> np.ndarray:
    """Upwind flux ``F = a⁺ u⁻ + a⁻ u⁺`` of ``u`` transported with face velocity ``a``.

    ``u⁻`` and ``u⁺`` are the limited piecewise-linear reconstructions (MUSCL) from the cells
    left and right of the face: ``u⁻ = u_k + s_k/2``, ``u⁺ = u_{k+1} - s_{k+1}/2``. Second order
    on smooth solutions away from extrema; non-negative face values for non-negative ``u``.
    """
    s = limited_slopes(u, axis, periodic, limiter)
    east = u + 0.5 * s  # value at the right face of each cell
    west = u - 0.5 * s  # value at the left face of each cell
    nd = u.ndim
    if periodic:
        left = np.roll(east, 1, axis=axis)  # from cell k-1 at face k
        right = west
    else:
        left = east[_sl(nd, axis, slice(None, -1))]
        right = west[_sl(nd, axis, slice(1, None))]
    return np.maximum(velocity, 0.0) * left + np.minimum(velocity, 0.0) * right
