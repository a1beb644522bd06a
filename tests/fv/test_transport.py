"""The compiled upwind divergence (``crossdiff.fv.upwind_divergence``) and the taxis wrapper over it.

Checked against the NumPy reference (``upwind_flux`` + ``divergence``) on every axis of 1D, 2D and
3D grids (the last axis runs the along-the-contiguous-axis loop, the others the across-lines
loop), for every registered limiter and boundary kind; and against the laws the scheme is built
on: exact conservation, positivity under the CFL condition, conservation of a reflected pair.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossdiff.errors import InputError
from crossdiff.fv import (
    LIMITERS,
    BoundaryKind,
    axis_view,
    divergence,
    face_difference,
    upwind_divergence,
    upwind_flux,
    upwind_transport,
)
from crossdiff.fv._transport import taxis_divergence

from ._previous_taxis import previous_taxis_divergence

NOFLUX, PERIODIC, INFLOW = BoundaryKind.NOFLUX, BoundaryKind.PERIODIC, BoundaryKind.INFLOW
SHAPES = [(23,), (12, 9), (6, 5, 7)]
# every axis of every shape: (shape, axis); the last axis is the contiguous one
AXES = [(s, a) for s in SHAPES for a in range(len(s))]
BOUNDARIES = [(NOFLUX, NOFLUX), (PERIODIC, PERIODIC), (INFLOW, INFLOW), (INFLOW, NOFLUX), (NOFLUX, INFLOW)]
# Both sides compute the same flux formulas, each face once, in a different order of operations
# (NumPy: the flux array, then divergence(); the kernel: fused): they agree to a few ulps of the
# largest term, so 1e-12 relative to max|ref| is round-off with a margin of ~100.
ROUND_OFF = 1e-12


def _id(v):
    return "-".join(b.name.lower() for b in v) if isinstance(v, tuple) else str(v)


def _take(a: np.ndarray, axis: int, index) -> np.ndarray:
    return np.take(a, index, axis=axis)


def reference(u, velocity, axis, h, limiter, boundary, low=None, high=None):
    """``−(F_{k+1/2} − F_{k−1/2})/h`` from the NumPy face operators. ``velocity`` has ``n + 1``
    faces along ``axis`` (face k between cells k − 1 and k); ghosts have ``u``'s shape without ``axis``."""
    n = u.shape[axis]
    lo, hi = boundary
    if lo is PERIODIC:
        flux = upwind_flux(u, _take(velocity, axis, range(n)), axis, True, limiter)
        return -divergence(flux, axis, True, h)
    flux = upwind_flux(u, _take(velocity, axis, range(1, n)), axis, False, limiter)
    div = divergence(flux, axis, False, h)
    # wall cells have zero slope: their face value at the wall is the cell average
    if lo is INFLOW:
        a = _take(velocity, axis, 0)
        wall = np.maximum(a, 0.0) * low + np.minimum(a, 0.0) * _take(u, axis, 0)
        np.moveaxis(div, axis, 0)[0] -= wall / h
    if hi is INFLOW:
        a = _take(velocity, axis, n)
        wall = np.maximum(a, 0.0) * _take(u, axis, n - 1) + np.minimum(a, 0.0) * high
        np.moveaxis(div, axis, 0)[n - 1] += wall / h
    return -div


def _fields(shape, axis, seed):
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.0, 1.0, shape) ** 3  # rough: many limited slopes, some at zero
    faces = list(shape)
    faces[axis] += 1
    velocity = rng.normal(size=faces)  # both signs
    wall_shape = shape[:axis] + shape[axis + 1 :]
    low, high = rng.uniform(0.0, 1.0, wall_shape), rng.uniform(0.0, 1.0, wall_shape)
    return u, velocity, low, high


def _wall_view(g: np.ndarray, shape, axis) -> np.ndarray:
    """A ghost field (``shape`` without ``axis``) as the kernel's ``(pre, post)``."""
    return g.reshape(math.prod(shape[:axis]), math.prod(shape[axis + 1 :]))


@pytest.mark.parametrize("shape,axis", AXES, ids=lambda v: str(v))
@pytest.mark.parametrize("limiter", LIMITERS.names())
@pytest.mark.parametrize("boundary", BOUNDARIES, ids=_id)
def test_upwind_divergence_matches_numpy_reference(shape, axis, limiter, boundary):
    """Random data and velocities of both signs: the kernel equals upwind_flux + divergence."""
    u, velocity, low, high = _fields(shape, axis, 1)
    h = 0.37
    inflow = {
        k: _wall_view(g, shape, axis)
        for k, g, b in (("low", low, boundary[0]), ("high", high, boundary[1]))
        if b is INFLOW
    }
    ref = reference(u, velocity, axis, h, limiter, boundary, low, high)
    out = np.zeros(shape)
    upwind_divergence(
        axis_view(u, axis),
        axis_view(velocity, axis),
        h,
        axis_view(out, axis),
        limiter=limiter,
        boundary=boundary,
        **inflow,
    )
    assert np.max(np.abs(out - ref)) <= ROUND_OFF * np.max(np.abs(ref))


@pytest.mark.parametrize("shape,axis", AXES, ids=lambda v: str(v))
@pytest.mark.parametrize("boundary", BOUNDARIES, ids=_id)
def test_scalar_velocity_is_a_constant_face_velocity(shape, axis, boundary):
    """A float velocity gives exactly what the same constant array gives (no array is needed)."""
    u, _, low, high = _fields(shape, axis, 2)
    inflow = {
        k: _wall_view(g, shape, axis)
        for k, g, b in (("low", low, boundary[0]), ("high", high, boundary[1]))
        if b is INFLOW
    }
    faces = list(shape)
    faces[axis] += 1
    for c in (-0.8, 1.3):
        a, b = np.zeros(shape), np.zeros(shape)
        upwind_divergence(axis_view(u, axis), c, 0.1, axis_view(a, axis), boundary=boundary, **inflow)
        upwind_divergence(
            axis_view(u, axis), axis_view(np.full(faces, c), axis), 0.1, axis_view(b, axis), boundary=boundary, **inflow
        )
        assert np.array_equal(a, b)


def test_periodic_accepts_n_faces():
    """Periodic walls are one face: ``n`` face velocities give what ``n + 1`` give."""
    u, velocity, _, _ = _fields((12, 9), 0, 3)
    a, b = np.zeros(u.shape), np.zeros(u.shape)
    upwind_divergence(axis_view(u, 0), axis_view(velocity, 0), 0.1, axis_view(a, 0), boundary=PERIODIC)
    upwind_divergence(
        axis_view(u, 0), axis_view(np.ascontiguousarray(velocity[:12]), 0), 0.1, axis_view(b, 0), boundary=PERIODIC
    )
    assert np.array_equal(a, b)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("limiter", LIMITERS.names())
def test_noflux_conserves_exactly(shape, limiter):
    """No-flux walls: Σ_k out_k = 0 for any velocities (a flux leaves one cell and enters the
    next). Every axis accumulated into one ``out``."""
    rng = np.random.default_rng(4)
    u = rng.uniform(0.0, 1.0, shape) ** 3
    out = np.zeros(shape)
    for axis in range(len(shape)):
        faces = list(shape)
        faces[axis] += 1
        upwind_divergence(
            axis_view(u, axis), axis_view(rng.normal(size=faces), axis), 0.05, axis_view(out, axis), limiter=limiter
        )
    # telescoping sum in floating point: each of the ~N terms is rounded once (relative 2^-53),
    # so |Σ out| ≤ N ε max|out|; 1e-13 Σ|out| bounds it for these N ≤ 210 cells
    assert abs(out.sum()) <= 1e-13 * np.abs(out).sum()
    assert np.abs(out).sum() > 1.0  # the fluxes are not trivially zero


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("limiter", LIMITERS.names())
@pytest.mark.parametrize("boundary", BOUNDARIES, ids=_id)
def test_forward_euler_positive_under_cfl(shape, limiter, boundary):
    """u + Δt·out ≥ 0 for u, g ≥ 0 at Δt Σ_a max|a_a|/h_a = 1/2 (Chertock & Kurganov 2008: the
    update is a convex combination of non-negative face values), on data with exact zeros and
    spikes, every axis at once."""
    rng = np.random.default_rng(5)
    u = np.where(rng.uniform(size=shape) < 0.3, 0.0, rng.uniform(0.0, 1.0, shape) ** 4)
    h = [0.1, 0.2, 0.05][: len(shape)]
    velocities, rate = [], 0.0
    for axis in range(len(shape)):
        faces = list(shape)
        faces[axis] += 1
        v = rng.normal(size=faces)
        velocities.append(v)
        rate += np.max(np.abs(v)) / h[axis]
    dt = 0.5 / rate
    out = np.zeros(shape)
    for axis, v in enumerate(velocities):
        wall = (math.prod(shape[:axis]), math.prod(shape[axis + 1 :]))  # (pre, post)
        inflow = {k: rng.uniform(0.0, 1.0, wall) for k, b in zip(("low", "high"), boundary) if b is INFLOW}
        upwind_divergence(
            axis_view(u, axis),
            axis_view(v, axis),
            h[axis],
            axis_view(out, axis),
            limiter=limiter,
            boundary=boundary,
            **inflow,
        )
    new = u + dt * out
    # a convex combination of non-negative numbers, rounded: at worst a few ulps below zero
    assert new.min() >= -1e-15 * u.max()


def test_cfl_bound_is_sharp_for_mc():
    """u = (0, 1, 4, 4, …), a = 1: the mc slope of cell 1 is 2, its outflow face value 2 = 2u_1,
    so forward Euler leaves exactly 0 there at Δt a/h = 1/2 and a negative value just above."""
    u = np.array([0.0, 1.0, 4.0, 4.0, 4.0, 4.0])
    out = np.zeros(6)
    upwind_divergence(axis_view(u, 0), 1.0, 1.0, axis_view(out, 0), limiter="mc")
    assert (u + 0.5 * out)[1] == 0.0 and (u + 0.5 * out).min() == 0.0
    assert (u + 0.51 * out)[1] < 0.0


@pytest.mark.parametrize("shape,axis", AXES, ids=lambda v: str(v))
@pytest.mark.parametrize("limiter", LIMITERS.names())
def test_specular_reflection_conserves_each_pair(shape, axis, limiter):
    """Kinetic transport of f(v) and f(−v) with specular reflection at both walls, written with
    the INFLOW hook (the incoming distribution is the reflected velocity's in the wall cell):
    the pair's total Σ (f(v) + f(−v)) does not change, though each one's does."""
    rng = np.random.default_rng(6)
    f_plus, f_minus = (rng.uniform(0.0, 1.0, shape) ** 2 for _ in range(2))
    c, h = 1.7, 0.1
    vp, vm = axis_view(f_plus, axis), axis_view(f_minus, axis)
    out_plus, out_minus = np.zeros(shape), np.zeros(shape)
    n = shape[axis]
    for f, v, other, out in ((vp, c, vm, out_plus), (vm, -c, vp, out_minus)):
        upwind_divergence(
            f, v, h, axis_view(out, axis), limiter=limiter, boundary=INFLOW, low=other[:, 0, :], high=other[:, n - 1, :]
        )
    change = out_plus.sum() + out_minus.sum()
    # the wall terms cancel exactly (the same product, opposite signs); the rest telescopes with
    # one rounding per term: |Σ| ≤ N ε max|out|, bounded by 1e-13 Σ|out| for N ≤ 420 terms
    assert abs(change) <= 1e-13 * (np.abs(out_plus).sum() + np.abs(out_minus).sum())
    assert abs(out_plus.sum()) > 1e-3  # each alone changes: mass is handed over at the walls


# ---------------------------------------------------------------------- taxis
GRID_AXES = AXES + [((16, 16), 0), ((16, 16), 1)]


@pytest.mark.parametrize("shape,axis", GRID_AXES, ids=lambda v: str(v))
@pytest.mark.parametrize("limiter", LIMITERS.names())
@pytest.mark.parametrize("periodic", [False, True])
def test_taxis_wrapper_equals_previous_kernel(shape, axis, limiter, periodic):
    """The taxis wrapper over the shared skeletons gives the results of the kernels it replaced
    (kept in ``_previous_taxis``): the same operations in the same order, so equal to round-off
    (bitwise on the machine it was written on); constant and cell-valued sensitivity."""
    rng = np.random.default_rng(7)
    u, w, chi = (rng.uniform(0.1, 2.0, shape) for _ in range(3))
    theta = LIMITERS[limiter]
    for const in (True, False):
        new, old = np.zeros(shape), np.zeros(shape)
        args = (axis_view(u, axis), axis_view(w, axis), axis_view(chi, axis), 0.7, const, 0.3, periodic, theta)
        taxis_divergence(*args, axis_view(new, axis), 1.3)
        previous_taxis_divergence(*args, axis_view(old, axis), 1.3)
        # same formulas in the same order: at most an ulp from a compiler's reassociation
        assert np.max(np.abs(new - old)) <= 1e-14 * np.max(np.abs(old))


@pytest.mark.parametrize("shape,axis", AXES, ids=lambda v: str(v))
@pytest.mark.parametrize("periodic", [False, True])
def test_taxis_is_upwind_divergence_of_its_face_speed(shape, axis, periodic):
    """Taxis = upwind_divergence with the face velocity a = χ̄ (w_k − w_{k−1})/h materialised."""
    rng = np.random.default_rng(8)
    u, w, chi = (rng.uniform(0.1, 2.0, shape) for _ in range(3))
    n, h = shape[axis], 0.3
    idx = np.arange(n + 1)
    left, right = np.take(np.arange(n), idx - 1, mode="wrap"), np.take(np.arange(n), idx, mode="wrap")
    if not periodic:  # the wall faces are not read under no-flux
        left, right = np.clip(idx - 1, 0, n - 1), np.clip(idx, 0, n - 1)
    chi_face = 0.5 * (np.take(chi, left, axis) + np.take(chi, right, axis))
    velocity = chi_face * (np.take(w, right, axis) - np.take(w, left, axis)) * (1.0 / h)
    taxis, upwind = np.zeros(shape), np.zeros(shape)
    taxis_divergence(
        axis_view(u, axis),
        axis_view(w, axis),
        axis_view(chi, axis),
        0.0,
        False,
        h,
        periodic,
        2.0,
        axis_view(taxis, axis),
        1.0,
    )
    upwind_divergence(
        axis_view(u, axis),
        axis_view(velocity, axis),
        h,
        axis_view(upwind, axis),
        boundary=PERIODIC if periodic else NOFLUX,
    )
    # the same face speeds and fluxes: equal to round-off of the largest term
    assert np.max(np.abs(taxis - upwind)) <= 1e-14 * np.max(np.abs(upwind))


def test_taxis_matches_numpy_reference_every_limiter():
    """Every registered limiter's θ through the taxis kernel equals the NumPy reference."""
    rng = np.random.default_rng(9)
    u, w = (rng.uniform(0.1, 2.0, (14, 11)) for _ in range(2))
    for limiter in LIMITERS:
        for axis in (0, 1):
            h = 0.2
            ref = -divergence(
                upwind_flux(u, 0.7 * face_difference(w, axis, False) / h, axis, False, limiter), axis, False, h
            )
            out = np.zeros(u.shape)
            taxis_divergence(
                axis_view(u, axis),
                axis_view(w, axis),
                np.zeros((1, 1, 1)),
                0.7,
                True,
                h,
                False,
                LIMITERS[limiter],
                axis_view(out, axis),
                1.0,
            )
            assert np.max(np.abs(out - ref)) <= ROUND_OFF * np.max(np.abs(ref))


# ---------------------------------------------------------------------- what is refused
def _call(**kw):
    u = np.ones((3, 8, 4))
    args = {"u": u, "velocity": 1.0, "h": 0.1, "out": np.zeros_like(u)} | kw
    upwind_divergence(args.pop("u"), args.pop("velocity"), args.pop("h"), args.pop("out"), **args)


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"boundary": INFLOW}, ["low wall is INFLOW", "low="]),
        ({"boundary": (NOFLUX, INFLOW)}, ["high wall is INFLOW"]),
        ({"low": 1.0}, ["low wall", "NOFLUX", "not INFLOW"]),
        ({"boundary": (PERIODIC, NOFLUX)}, ["periodic", "both walls"]),
        ({"boundary": INFLOW, "low": np.ones((2, 4)), "high": 0.0}, ["low ghost", "(3, 4)"]),
        ({"velocity": np.ones((3, 8, 4))}, ["velocity of shape (3, 8, 4)", "(pre, n + 1, post)"]),
        ({"velocity": np.ones((2, 9, 4))}, ["velocity of shape (2, 9, 4)", "broadcastable"]),
        ({"velocity": np.ones(9)}, ["velocity of shape (9,)"]),
        ({"h": 0.0}, ["cell width", "positive"]),
        ({"out": np.zeros((3, 4, 8)).transpose(0, 2, 1)}, ["C-contiguous"]),
        ({"out": np.zeros((3, 8, 5))}, ["one shape"]),
    ],
)
def test_inconsistent_arguments_are_refused(kwargs, words):
    with pytest.raises(ValueError) as err:
        _call(**kwargs)
    for w in words:
        assert w in str(err.value)


def test_out_overlapping_u_is_refused():
    u = np.ones((3, 8, 4))
    with pytest.raises(ValueError, match="overlap"):
        upwind_divergence(u, 1.0, 0.1, u)


def test_unknown_limiter_lists_the_registered_ones():
    with pytest.raises(InputError, match="superbee.*mc, gminmod, minmod"):
        _call(limiter="superbee")


@pytest.mark.parametrize("shape,axis", AXES, ids=lambda v: str(v))
def test_one_velocity_per_line_broadcasts(shape, axis):
    """A ``(pre, 1, 1)`` velocity (one kinetic velocity per line) gives what the full array gives."""
    u, _, _, _ = _fields(shape, axis, 10)
    pre, n, post = axis_view(u, axis).shape
    per_line = np.random.default_rng(11).normal(size=(pre, 1, 1))
    a, b = np.zeros(shape), np.zeros(shape)
    upwind_divergence(axis_view(u, axis), per_line, 0.2, axis_view(a, axis))
    upwind_divergence(axis_view(u, axis), np.repeat(np.repeat(per_line, n + 1, 1), post, 2), 0.2, axis_view(b, axis))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("walls", [False, True])
@pytest.mark.parametrize("shape", [(17,), (9, 11), (5, 6, 7)])
def test_upwind_transport_is_the_sum_of_the_axes(walls, shape):
    """``upwind_transport`` (every axis of each field in one compiled call, on strided views)
    equals minus the sum of :func:`upwind_divergence` along each axis, field by field, with the
    same ghost values at INFLOW walls: the same floating-point operations in the same order
    per axis, so equal to round-off of the sum over axes (1e-13 relative)."""
    rng = np.random.default_rng(7)
    d, lines = len(shape), 4
    slots = rng.standard_normal((lines, *[n + 1 for n in shape]))
    u = slots[(slice(None),) + tuple(slice(0, n) for n in shape)]  # a strided view
    velocity = rng.standard_normal((lines, d))
    h = tuple(rng.uniform(0.5, 1.5, d))
    kind = BoundaryKind.INFLOW if walls else BoundaryKind.PERIODIC
    ghosts = []
    for b in range(d):
        rest = shape[:b] + shape[b + 1 :]
        ghosts.append((rng.standard_normal((lines, *rest)), rng.standard_normal((lines, *rest))) if walls else None)
    out = np.full(u.shape, np.nan)
    upwind_transport(u, velocity, h, out, limiter="mc", boundary=(kind,) * d, ghosts=tuple(ghosts))
    expected = np.zeros(u.shape)
    for line in range(lines):
        field = np.ascontiguousarray(u[line])
        for b in range(d):
            view, res = axis_view(field, b), axis_view(expected[line], b)
            pre, _, post = view.shape
            extra = {}
            if walls:
                extra = {"low": ghosts[b][0][line].reshape(pre, post), "high": ghosts[b][1][line].reshape(pre, post)}
            upwind_divergence(view, float(velocity[line, b]), h[b], res, limiter="mc", boundary=kind, **extra)
    assert np.max(np.abs(out - expected)) <= 1e-13 * np.max(np.abs(expected))
