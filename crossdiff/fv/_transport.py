r"""Compiled (Numba) upwind transport: the conservative divergence of a limited upwind flux.

Along one axis of a field viewed as ``(pre, n, post)`` (:func:`~crossdiff.fv.axis_view`), with
``n`` cells of width ``h`` and face ``k`` between cells ``k − 1`` and ``k`` (faces ``0`` and
``n`` are the walls),

.. math::

    \mathrm{out}_k \mathrel{-}= \mathrm{scale}\,\frac{F_{k+1/2} - F_{k-1/2}}{h}, \qquad
    F = a^+ u^- + a^- u^+, \quad u^- = u_k + s_k/2, \quad u^+ = u_{k+1} - s_{k+1}/2,

the conservative finite-volume update (LeVeque, *Finite Volume Methods for Hyperbolic Problems*,
2002, eq. 4.4) of the upwind flux with the limited MUSCL reconstruction: ``a⁺ = max(a, 0)``,
``a⁻ = min(a, 0)`` and generalised-minmod slopes ``s`` (:data:`~crossdiff.fv.LIMITERS`). Face
values lie between the neighbouring cell averages, so forward Euler keeps ``u ≥ 0`` for
``Δt max|a| / h ≤ 1/2`` (Chertock & Kurganov, Numer. Math. 111, 2008).

One piece of code per idea, shared by every transport term:

* the formulas, inlined into the loops: the limited slope (:func:`_limited_slope`), the upwind
  flux of a face (:func:`_upwind`), and the face speed ``a`` (:func:`_face_speed`, resolved at
  compile time by the type of its source: a constant ``float``, an array of face velocities, or
  :class:`_TaxisSpeed`, whose ``a = χ̄ (w_{k} − w_{k−1}) / h`` is computed in the loop, never
  stored);
* two loop skeletons: along the contiguous axis (``post == 1``: per line, slopes, face fluxes
  and their differences in three vectorisable passes, :func:`_along`) and across lines
  (``post > 1``: loops vectorised over the contiguous ``post`` axis with a running face flux,
  :func:`_across`). Both are single-threaded: with Numba's OpenMP layer, threads spinning after
  a parallel region slowed the FFT threads of the implicit solves by more than a parallel kernel
  saved (2 cores). :func:`upwind_transport` (many independent fields, the kinetic micro part,
  whose implicit solve has no FFT of that size) spreads its fields over Numba's threads
  (``NUMBA_NUM_THREADS``);
* the entry points: :func:`upwind_divergence` (given face velocities: advection by a flow,
  kinetic transport ``v·∇f``) and :func:`taxis_divergence` (the taxis flux of ``u`` up ``∇w``).

Kernels are compiled on first use and cached on disk (``cache=True``). The NumPy functions
:func:`~crossdiff.fv.upwind_flux` and :func:`~crossdiff.fv.divergence` are the reference;
``tests/fv`` checks the two agree to round-off.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ..threads import numba_threads
from ._limiters import DEFAULT_LIMITER, LIMITERS

__all__ = ["BoundaryKind", "upwind_divergence", "upwind_transport", "taxis_divergence"]


class BoundaryKind(IntEnum):
    """What the upwind flux does at one wall of an axis (the value is the kernels' code).

    * ``NOFLUX``: no flux through the wall, whatever the wall velocity (a reflected ghost cell,
      so the wall cell has zero slope).
    * ``PERIODIC``: the last and first cells are neighbours (on both walls of an axis or none).
    * ``INFLOW``: the wall is an upwind face whose outside value ``g`` is given per wall
      (ghost values): ``F = a⁺ g + a⁻ u_0`` at the low wall, ``F = a⁺ u_{n−1} + a⁻ g`` at the
      high wall. The wall cell has zero slope, as at a no-flux wall, so what leaves carries the
      wall cell's average: specular reflection of kinetic transport is ``INFLOW`` with ``g`` the
      wall cell of the reflected velocity's distribution: what one loses at the wall the other
      gains, so the pair's total is conserved to round-off.
    """

    NOFLUX = 0
    PERIODIC = 1
    INFLOW = 2


_NOFLUX = int(BoundaryKind.NOFLUX)
_PERIODIC = int(BoundaryKind.PERIODIC)
_INFLOW = int(BoundaryKind.INFLOW)


class _TaxisSpeed(NamedTuple):
    """Source of the taxis face speed ``a = χ̄ (w_r − w_l) / h``: ``chi`` the cell values of the
    sensitivity (``χ̄`` their mean over the face) or one constant ``float``."""

    w: np.ndarray
    chi: np.ndarray | float
    inv_h: float


# ---------------------------------------------------------------------- the formulas (inlined)
@njit(inline="always")
def _limited_slope(um: float, u0: float, up: float, theta: float) -> float:
    """Generalised minmod ``minmod(θ(u_0 − u_−), (u_+ − u_−)/2, θ(u_+ − u_0))``."""
    dl = u0 - um
    dr = up - u0
    m = min(theta * abs(dl), 0.5 * abs(dl + dr), theta * abs(dr))
    return 0.5 * (np.sign(dl) + np.sign(dr)) * m


@njit(inline="always")
def _upwind(a: float, left: float, right: float) -> float:
    """Upwind flux ``a⁺ left + a⁻ right`` of a face with speed ``a`` and face values from the
    left and right cells."""
    return max(a, 0.0) * left + min(a, 0.0) * right


def _face_speed(source, face, left, right):  # pragma: no cover - replaced by the overload in compiled code
    """Speed ``a`` at index ``face`` of the face between the cells at ``left`` and ``right``
    (index tuples). At a wall ``left == right`` (the reflected ghost cell)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_face_speed, inline="always")
def _face_speed_impl(source, face, left, right):
    if isinstance(source, (types.Float, types.Integer)):
        return lambda source, face, left, right: source
    if isinstance(source, types.Array):
        return lambda source, face, left, right: source[face]
    if getattr(source, "instance_class", None) is _TaxisSpeed:  # a Numba named-tuple type
        if isinstance(source[1], types.Array):  # the cell values of chi
            return lambda source, face, left, right: (
                0.5 * (source.chi[left] + source.chi[right]) * (source.w[right] - source.w[left]) * source.inv_h
            )
        return lambda source, face, left, right: source.chi * (source.w[right] - source.w[left]) * source.inv_h
    return None


# ---------------------------------------------------------------------- the two loop skeletons
@njit(cache=True)
def _along(u, speed, inv_h, low, high, low_ghost, high_ghost, theta, out, scale):
    """``out -= scale (F_{k+1/2} − F_{k−1/2})/h`` along the contiguous axis: 2D ``(line, k)``
    arrays; ghosts ``(line, 1)``. Per line: slopes, fluxes of the ``n + 1`` faces, differences."""
    pre, n = u.shape
    periodic = low == _PERIODIC
    slope = np.empty(n)
    flux = np.empty(n + 1)
    for p in range(pre):
        row = u[p]
        for k in range(1, n - 1):
            slope[k] = _limited_slope(row[k - 1], row[k], row[k + 1], theta)
        if periodic and n > 1:
            slope[0] = _limited_slope(row[n - 1], row[0], row[1], theta)
            slope[n - 1] = _limited_slope(row[n - 2], row[n - 1], row[0], theta)
        else:
            slope[0] = 0.0
            slope[n - 1] = 0.0
        for k in range(1, n):
            a = _face_speed(speed, (p, k), (p, k - 1), (p, k))
            flux[k] = _upwind(a, row[k - 1] + 0.5 * slope[k - 1], row[k] - 0.5 * slope[k])
        if periodic:
            a = _face_speed(speed, (p, 0), (p, n - 1), (p, 0))
            flux[0] = _upwind(a, row[n - 1] + 0.5 * slope[n - 1], row[0] - 0.5 * slope[0])
            flux[n] = flux[0]
        else:
            flux[0] = 0.0
            flux[n] = 0.0
            if low == _INFLOW:
                a = _face_speed(speed, (p, 0), (p, 0), (p, 0))
                flux[0] = _upwind(a, low_ghost[p, 0], row[0] - 0.5 * slope[0])
            if high == _INFLOW:
                a = _face_speed(speed, (p, n), (p, n - 1), (p, n - 1))
                flux[n] = _upwind(a, row[n - 1] + 0.5 * slope[n - 1], high_ghost[p, 0])
        res = out[p]
        for k in range(n):
            res[k] -= scale * (flux[k + 1] - flux[k]) * inv_h


@njit(cache=True)
def _across(u, speed, inv_h, low, high, low_ghost, high_ghost, theta, out, scale):
    """``out -= scale (F_{k+1/2} − F_{k−1/2})/h`` across lines: ``(pre, n, post)`` arrays, ghosts
    ``(pre, post)``. Per block ``p``: slopes of all cells, then one running face flux per line,
    every loop over the contiguous ``post`` axis."""
    pre, n, post = u.shape
    periodic = low == _PERIODIC
    last = n - 1
    slope = np.empty((n, post))
    prev = np.empty(post)
    for p in range(pre):
        for k in range(n):
            if periodic:
                km = k - 1 if k > 0 else last
                kp = k + 1 if k < last else 0
            elif k == 0 or k == last:
                slope[k, :] = 0.0
                continue
            else:
                km, kp = k - 1, k + 1
            for q in range(post):
                slope[k, q] = _limited_slope(u[p, km, q], u[p, k, q], u[p, kp, q], theta)
        # the low wall face
        if periodic:
            for q in range(post):
                a = _face_speed(speed, (p, 0, q), (p, last, q), (p, 0, q))
                prev[q] = _upwind(a, u[p, last, q] + 0.5 * slope[last, q], u[p, 0, q] - 0.5 * slope[0, q])
        elif low == _INFLOW:
            for q in range(post):
                a = _face_speed(speed, (p, 0, q), (p, 0, q), (p, 0, q))
                prev[q] = _upwind(a, low_ghost[p, q], u[p, 0, q] - 0.5 * slope[0, q])
        else:
            prev[:] = 0.0
        # interior faces
        for k in range(last):
            for q in range(post):
                a = _face_speed(speed, (p, k + 1, q), (p, k, q), (p, k + 1, q))
                f = _upwind(a, u[p, k, q] + 0.5 * slope[k, q], u[p, k + 1, q] - 0.5 * slope[k + 1, q])
                out[p, k, q] -= scale * (f - prev[q]) * inv_h
                prev[q] = f
        # the high wall face
        if periodic:
            for q in range(post):
                a = _face_speed(speed, (p, 0, q), (p, last, q), (p, 0, q))
                f = _upwind(a, u[p, last, q] + 0.5 * slope[last, q], u[p, 0, q] - 0.5 * slope[0, q])
                out[p, last, q] -= scale * (f - prev[q]) * inv_h
        elif high == _INFLOW:
            for q in range(post):
                a = _face_speed(speed, (p, n, q), (p, last, q), (p, last, q))
                f = _upwind(a, u[p, last, q] + 0.5 * slope[last, q], high_ghost[p, q])
                out[p, last, q] -= scale * (f - prev[q]) * inv_h
        else:
            for q in range(post):
                out[p, last, q] += scale * prev[q] * inv_h


# ---------------------------------------------------------------------- taxis
@njit(cache=True)
def _taxis(u, w, chi, chi_const, use_const, inv_h, kind, theta, out, scale):
    """Taxis through the skeleton of the layout of ``u`` (2D: along, 3D: across)."""
    no_ghost = np.zeros((1, 1))
    if u.ndim == 2:
        if use_const:
            _along(u, _TaxisSpeed(w, chi_const, inv_h), inv_h, kind, kind, no_ghost, no_ghost, theta, out, scale)
        else:
            _along(u, _TaxisSpeed(w, chi, inv_h), inv_h, kind, kind, no_ghost, no_ghost, theta, out, scale)
    elif use_const:
        _across(u, _TaxisSpeed(w, chi_const, inv_h), inv_h, kind, kind, no_ghost, no_ghost, theta, out, scale)
    else:
        _across(u, _TaxisSpeed(w, chi, inv_h), inv_h, kind, kind, no_ghost, no_ghost, theta, out, scale)


def taxis_divergence(
    u: np.ndarray,
    w: np.ndarray,
    chi: np.ndarray,
    chi_const: float,
    use_const: bool,
    h: float,
    periodic: bool,
    theta: float,
    out: np.ndarray,
    scale: float,
) -> None:
    """``out -= scale · (F_{k+1/2} − F_{k−1/2}) / h`` for the taxis flux of ``u`` up ``∇w``.

    The upwind divergence (module docstring) with face speed ``a = χ̄ (w_{k+1} − w_k) / h``,
    computed in the loop (no face-velocity array): ``χ̄`` the mean of the two adjacent cell
    values of ``chi``, or ``chi_const`` when ``use_const`` (``chi`` is then ignored). No-flux
    walls or periodic (``periodic``); ``theta`` of the limiter (:data:`~crossdiff.fv.LIMITERS`).
    Arrays are C-contiguous ``(pre, n, post)`` views (:func:`~crossdiff.fv.axis_view`). The
    positivity-preserving upwind taxis flux of Chertock & Kurganov (Numer. Math. 111, 2008).
    """
    kind = _PERIODIC if periodic else _NOFLUX
    if u.shape[2] == 1:
        pre, n = u.shape[0], u.shape[1]
        _taxis(
            u.reshape(pre, n),
            w.reshape(pre, n),
            chi.reshape(chi.shape[0], chi.shape[1]),
            chi_const,
            use_const,
            1.0 / h,
            kind,
            theta,
            out.reshape(pre, n),
            scale,
        )
    else:
        _taxis(u, w, chi, chi_const, use_const, 1.0 / h, kind, theta, out, scale)


# ---------------------------------------------------------------------- given face velocities
_NO_GHOST = np.zeros((1, 1))


def _walls(boundary: BoundaryKind | tuple[BoundaryKind, BoundaryKind]) -> tuple[int, int]:
    if type(boundary) is BoundaryKind:  # one kind for both walls: the common case, kept cheap
        return int(boundary), int(boundary)
    low, high = (boundary, boundary) if isinstance(boundary, int) else boundary
    low, high = BoundaryKind(low), BoundaryKind(high)
    if (low is BoundaryKind.PERIODIC) != (high is BoundaryKind.PERIODIC):
        raise ValueError(f"periodic is a condition on both walls of an axis, got low {low.name}, high {high.name}")
    return int(low), int(high)


def _ghost(values: float | np.ndarray | None, kind: int, wall: str, pre: int, post: int) -> np.ndarray:
    if kind != _INFLOW:
        if values is not None:
            raise ValueError(
                f"ghost values given for the {wall} wall, whose boundary is {BoundaryKind(kind).name}, not INFLOW"
            )
        return _NO_GHOST
    if values is None:
        raise ValueError(f"the {wall} wall is INFLOW: give its ghost values ({wall}=...)")
    try:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=float), (pre, post)))
    except ValueError:
        raise ValueError(
            f"{wall} ghost values of shape {np.shape(values)} do not broadcast to the wall's "
            f"(pre, post) = {(pre, post)}"
        ) from None


def _face_velocities(velocity: np.ndarray, shape: tuple[int, int, int], periodic: bool) -> np.ndarray:
    """``velocity`` as ``(pre, faces, post)`` float64: the array itself when it has that shape,
    else a broadcast view (zero strides, no copy)."""
    pre, n, post = shape
    speed = np.asarray(velocity, dtype=float)
    faces = (n + 1, n) if periodic else (n + 1,)
    if speed.ndim == 3 and speed.shape[1] in faces and speed.shape[0] == pre and speed.shape[2] == post:
        return np.ascontiguousarray(speed)
    m = speed.shape[1] if speed.ndim == 3 else 0
    if m == 1:  # one value along the axis: the same on every face
        m = n + 1
    if m in faces:
        try:
            return np.broadcast_to(speed, (pre, m, post))
        except ValueError:
            pass
    raise ValueError(
        f"velocity of shape {speed.shape} for u of shape {shape}: expected an array broadcastable "
        f"to (pre, n + 1, post){' or (pre, n, post)' if periodic else ''}"
    )


def upwind_divergence(
    u: np.ndarray,
    velocity: float | np.ndarray,
    h: float,
    out: np.ndarray,
    *,
    limiter: str = DEFAULT_LIMITER,
    boundary: BoundaryKind | tuple[BoundaryKind, BoundaryKind] = BoundaryKind.NOFLUX,
    low: float | np.ndarray | None = None,
    high: float | np.ndarray | None = None,
    scale: float = 1.0,
) -> None:
    r"""Subtract the conservative upwind divergence of ``u`` moved with ``velocity`` from ``out``.

    .. math::

        \mathrm{out}_k \mathrel{-}= \mathrm{scale}\,\frac{F_{k+1/2} - F_{k-1/2}}{h}, \qquad
        F = a^+ (u_k + s_k/2) + a^- (u_{k+1} - s_{k+1}/2),

    along the middle axis of ``(pre, n, post)`` views, with the limited MUSCL reconstruction of
    generalised-minmod slopes ``s`` (LeVeque 2002, eq. 4.4 and ch. 6). Exactly conservative:
    with no-flux walls ``Σ_k out_k`` does not change; forward Euler ``u + Δt·out`` stays
    non-negative for ``u, g ≥ 0`` and ``Δt max|a| / h ≤ 1/2`` (Chertock & Kurganov, Numer. Math.
    111, 2008). Used by advection with a flow and by kinetic transport ``v·∇f``.

    Parameters
    ----------
    u : ndarray, shape (pre, n, post)
        The transported field, C-contiguous (:func:`~crossdiff.fv.axis_view`).
    velocity : float or ndarray broadcastable to (pre, n + 1, post)
        Face velocities: ``velocity[:, k, :]`` on the face between cells ``k − 1`` and ``k``
        (``k = 0`` and ``n`` are the walls; with periodic walls the two are one face, read at
        ``k = 0``, and ``n`` faces suffice). A float is one constant velocity (kinetic transport
        along the axis), without any array; an array of shape ``(pre, 1, 1)`` one velocity per
        line, broadcast without a copy (several kinetic velocities in one call).
    h : float
        Cell width along the axis (positive).
    out : ndarray, shape (pre, n, post)
        C-contiguous; the divergence is subtracted in place. Must not overlap ``u``.
    limiter : str
        Name in :data:`~crossdiff.fv.LIMITERS`.
    boundary : BoundaryKind or (BoundaryKind, BoundaryKind)
        The kind of both walls, or ``(low, high)``; see :class:`BoundaryKind`.
    low, high : float or ndarray broadcastable to (pre, post), optional
        Ghost (inflow) values outside the low and high wall; required for an ``INFLOW`` wall,
        refused for the others. Specular reflection at the low wall of ``f(v)`` is
        ``low = axis_view(f(−v), axis)[:, 0, :]`` (and the same with ``n − 1`` at the high wall).
    scale : float
        Factor of the divergence (``1/τ``, a stage weight).

    Raises
    ------
    ValueError
        For inconsistent shapes, a non-contiguous ``out``, or boundary kinds and ghost values
        that do not match.
    """
    theta = LIMITERS[limiter]
    low_kind, high_kind = _walls(boundary)
    if u.ndim != 3 or out.shape != u.shape:
        raise ValueError(f"u and out must be (pre, n, post) views of one shape, got {u.shape} and {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous (an axis_view of a C-contiguous array)")
    if np.may_share_memory(u, out):
        raise ValueError("out must not overlap u: the flux of a face reads both of its cells")
    pre, n, post = u.shape
    low_ghost = _ghost(low, low_kind, "low", pre, post)
    high_ghost = _ghost(high, high_kind, "high", pre, post)
    u = np.ascontiguousarray(u, dtype=float)
    speed: float | np.ndarray
    if isinstance(velocity, (float, int, np.floating, np.integer)):
        speed = float(velocity)
    else:
        speed = _face_velocities(velocity, u.shape, low_kind == _PERIODIC)
    if not h > 0:
        raise ValueError(f"the cell width h must be positive, got {h!r}")
    inv_h = 1.0 / h
    if post == 1:  # along the contiguous axis: 2D (line, k) arrays, vectorised over k
        if not isinstance(speed, float):
            speed = speed[:, :, 0]
        _along(
            u.reshape(pre, n),
            speed,
            inv_h,
            low_kind,
            high_kind,
            low_ghost,
            high_ghost,
            theta,
            out.reshape(pre, n),
            scale,
        )
    else:
        _across(u, speed, inv_h, low_kind, high_kind, low_ghost, high_ghost, theta, out, scale)


# ---------------------------------------------------------------------- many lines, every axis
@njit(cache=True, parallel=True)
def _lines(u, out, velocity, inv_h, kinds, lo0, hi0, lo1, hi1, lo2, hi2, theta, threads):
    """Per line ``l`` of ``u`` ``(L, A, B, C)``: copy it into a contiguous work array, subtract
    the upwind divergence along every axis there (in cache), write ``out[l]`` once. The lines
    are independent: spread over the threads (each with its own work arrays)."""
    lines, A, B, C = u.shape
    d = velocity.shape[1]
    first = 3 - d
    size = max(1, (lines + 2 * threads - 1) // (2 * threads))  # two tasks a thread
    for task in prange((lines + size - 1) // size):
        slab = np.empty((A, B, C))
        res = np.empty((A, B, C))
        for line in range(task * size, min(lines, (task + 1) * size)):
            shape = (A, B, C)
            res[:] = 0.0
            for i in range(A):
                for j in range(B):
                    for k in range(C):
                        slab[i, j, k] = u[line, i, j, k]
            for b in range(d):
                speed = velocity[line, b]
                if speed == 0.0:
                    continue
                p = first + b
                pre = 1
                for q in range(p):
                    pre *= shape[q]
                n = shape[p]
                post = 1
                for q in range(p + 1, 3):
                    post *= shape[q]
                if b == 0:
                    lo, hi = lo0[line], hi0[line]
                elif b == 1:
                    lo, hi = lo1[line], hi1[line]
                else:
                    lo, hi = lo2[line], hi2[line]
                kind = kinds[b]
                if post == 1:
                    _along(
                        slab.reshape((pre, n)), speed, inv_h[b], kind, kind, lo, hi, theta, res.reshape((pre, n)), 1.0
                    )
                else:
                    _across(
                        slab.reshape((pre, n, post)),
                        speed,
                        inv_h[b],
                        kind,
                        kind,
                        lo,
                        hi,
                        theta,
                        res.reshape((pre, n, post)),
                        1.0,
                    )
            for i in range(A):
                for j in range(B):
                    for k in range(C):
                        out[line, i, j, k] = res[i, j, k]


def upwind_transport(
    u: np.ndarray,
    velocity: np.ndarray,
    h: tuple[float, ...],
    out: np.ndarray,
    *,
    limiter: str = DEFAULT_LIMITER,
    boundary: tuple[BoundaryKind, ...],
    ghosts: tuple[tuple[np.ndarray, np.ndarray] | None, ...],
) -> None:
    r"""``out_l = −Σ_b ∂_b (a_{l,b} u_l)`` for many fields ``u_l`` each moving with its own constant
    velocity ``a_l`` (kinetic transport ``v·∇g`` of every velocity of a quadrature).

    The upwind divergence of :func:`upwind_divergence` along every axis, one field at a time:
    it is copied into a contiguous work array, transported along every axis there (in cache)
    and written to ``out`` once, all in compiled code (one call for all the fields).

    Parameters
    ----------
    u : ndarray, shape (L, *space)
        ``L`` fields on a grid of 1–3 axes; any strides.
    velocity : ndarray, shape (L, d)
        The velocity of each field.
    h : tuple of float
        Cell widths.
    out : ndarray, shape (L, *space)
        Overwritten; any strides; must not overlap ``u``.
    limiter : str
        Name in :data:`~crossdiff.fv.LIMITERS`.
    boundary : tuple of BoundaryKind
        Per axis: ``PERIODIC``, ``NOFLUX`` or ``INFLOW`` (both walls alike).
    ghosts : tuple
        Per axis: None, or for ``INFLOW`` the values ``(low, high)`` outside the two walls, each
        of shape ``(L, *space without that axis)``.
    """
    theta = LIMITERS[limiter]
    space = u.shape[1:]
    d = len(space)
    if not 1 <= d <= 3 or out.shape != u.shape or velocity.shape != (u.shape[0], d):
        raise ValueError(f"u {u.shape}, out {out.shape}, velocity {velocity.shape}: expected (L, *space) and (L, d)")
    if np.may_share_memory(u, out):
        raise ValueError("out must not overlap u")
    pad = (1,) * (3 - d)
    u4 = u.reshape((u.shape[0],) + pad + space)
    out4 = out.reshape(u4.shape)
    kinds = np.array([int(k) for k in boundary], dtype=np.int64)
    arrays = []
    for b in range(3):
        pair = ghosts[b] if b < d else None
        if pair is None or b >= d or kinds[b] != _INFLOW:
            arrays += [np.zeros((u.shape[0], 1, 1))] * 2
            continue
        pre, post = math.prod(space[:b]), math.prod(space[b + 1 :])
        arrays += [np.ascontiguousarray(np.asarray(g, dtype=float).reshape(u.shape[0], pre, post)) for g in pair]
    inv_h = np.array([1.0 / x for x in h], dtype=float)
    lo0, hi0, lo1, hi1, lo2, hi2 = arrays
    _lines(
        u4,
        out4,
        np.ascontiguousarray(velocity, dtype=float),
        inv_h,
        kinds,
        lo0,
        hi0,
        lo1,
        hi1,
        lo2,
        hi2,
        theta,
        numba_threads(u.size),
    )
