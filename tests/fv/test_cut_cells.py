"""Finite volumes on shapes (cut cells): conservation, positivity, exact rates and orders.

Each test checks a number the scheme was not tuned to: the mass of a run without reactions, an
exact Neumann eigenvalue of the disc (a Bessel zero), a manufactured solution, and the box
scheme itself on a shape that is the whole box.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import jv

import crossdiff as cd
from crossdiff.catalogue import load
from crossdiff.errors import ModelError
from crossdiff.fv import CutCellDiscretisation, CutCells, Discretisation
from crossdiff.grid import Grid, Shape
from crossdiff.model import Model, Species
from crossdiff.time import stepper_from_name

#: j'_11, the first zero of J_1': the slowest Neumann mode of the unit disc decays at rate j'_11²
J11 = 1.841183781

#: strong taxis toward the boundary: u climbs a fixed signal v = r²/81 that peaks on the circle
#: r = 9 (speed up to 1.1, Péclet number 100 across the disc: u piles up against the wall)
_KS = Model(
    [
        Species(
            "u", diffusion=0.1, taxis={"signal": "v", "sensitivity": 5}, initial="1 + 0.5*exp(-((x-13)^2 + (y-11)^2))"
        ),
        Species("v", initial="((x-10)^2 + (y-10)^2)/81"),
    ]
)

_BOX = Grid((32, 32), ((0.0, 20.0), (0.0, 20.0)))
_SHAPES = {
    "disc": "(x-10)^2 + (y-10)^2 < 81",
    "annulus": "(x-10)^2 + (y-10)^2 < 81 & (x-10)^2 + (y-10)^2 > 9",
    "disc with an off-centre hole": "(x-10)^2 + (y-10)^2 < 81 & ~((x-7)^2 + (y-9)^2 < 4)",
}


@pytest.mark.parametrize("condition", list(_SHAPES.values()), ids=list(_SHAPES))
def test_mass_is_conserved_and_densities_stay_non_negative(condition):
    """Without reactions in u, ``Σ κ u h²`` is constant to round-off (every flux is one face's,
    with the same aperture on both sides), and the upwind taxis keeps u ≥ 0 while the cells
    aggregate against the boundary."""
    shape = Shape(_BOX, condition)
    sol = cd.solve(_KS, shape, t_end=3.0, save_every=1.0)
    mass = sol.mass().values[:, 0]
    # 1e-12 relative: round-off of ~10³ cells over ~10² steps is ~1e-14
    assert np.max(np.abs(mass / mass[0] - 1)) < 1e-12
    assert np.min(sol.frames[:, 0]) >= 0.0
    outside = ~shape.active
    assert np.all(sol.frames[:, :, outside] == 0.0)
    assert sol.final[0].max() > 5.0  # the taxis acted: u piled up against the boundary


def test_a_shape_that_is_the_whole_box_is_the_box():
    """Apertures and volume fractions of 1 give the box scheme: the operators to round-off, and
    the whole run (the conjugate-gradient solve is exact in one iteration: its preconditioner is
    the box's solve)."""
    model = load("keller-segel-logistic")
    box = Grid((24, 20), ((0.0, 12.0), (0.0, 10.0)))
    whole = Shape(box, "x > -1")
    cut, flat = CutCellDiscretisation(model, whole), Discretisation(model, box)
    U = 1 + np.random.default_rng(1).random((2, 24, 20))
    # round-off of sums of O(10²) terms of size O(10): 1e-12
    assert np.abs(cut.explicit(0.0, U) - flat.explicit(0.0, U)).max() < 1e-12
    assert np.abs(cut.implicit(U) - flat.implicit(U)).max() < 1e-12
    assert np.abs(cut.solve_implicit(U, 0.3) - flat.solve_implicit(U, 0.3)).max() < 1e-12
    a, b = cd.solve(model, whole, 2.0, save_every=1.0), cd.solve(model, box, 2.0, save_every=1.0)
    assert a.stats.n_steps == b.stats.n_steps
    assert np.abs(a.final - b.final).max() < 1e-11


def _disc_mode_rate(n: int) -> float:
    """Decay rate of the Neumann mode ``J_1(j'_11 r) cos θ`` of the unit disc on ``n²`` cells,
    from its amplitude at two times after the faster modes have gone."""
    box = Grid((n, n), ((-1.1, 1.1), (-1.1, 1.1)))
    disc = Shape(box, "x^2 + y^2 < 1")
    X, Y = box.mesh()
    phi = jv(1, J11 * np.hypot(X, Y)) * np.cos(np.arctan2(Y, X))
    model = Model([Species("u", diffusion=1, initial=1)])
    # a tight time tolerance: the default's time error (~3e-4 of the rate) would hide the space error
    imex = stepper_from_name("imex", rtol=1e-8)
    sol = cd.solve(model, disc, t_end=0.5, save_every=0.25, initial={"u": 1 + 0.1 * phi}, stepper=imex)
    k = disc.volume_fraction
    amp = [float(np.sum(k * (u[0] - 1) * phi)) for u in sol.frames]
    return float(np.log(amp[1] / amp[2]) / 0.25)


def test_a_neumann_mode_of_the_disc_decays_at_its_exact_rate():
    """Exact rate ``D j'_11² = 3.38995…``; measured errors 7.4e-4 (32²) and 1.8e-4 (64²): second
    order (the next mode, j'_21, decays 2.75× faster and is gone by t = 0.25 to 1e-3 of its size;
    its share of the amplitude's projection is far below these errors)."""
    errors = [abs(_disc_mode_rate(n) / J11**2 - 1) for n in (32, 64)]
    assert errors[1] < 5e-4
    assert errors[0] / errors[1] > 3.0  # order > 1.58; measured 2.0


def _mms_errors(n: int) -> tuple[float, float]:
    """L∞ and L1 errors of ``0 = Δc − c + f`` (no flux on the unit circle) with the exact
    ``c = 2 + cos(π r)`` (``∂c/∂r = 0`` at ``r = 1``), against the exact cut-cell averages."""
    r = "sqrt(x**2 + y**2)"
    f = f"pi**2*cos(pi*{r}) + pi*sin(pi*{r})/{r} + cos(pi*{r}) + 2"
    model = Model([Species("c", diffusion=1, reaction=f"{f} - c", initial=1)])
    box = Grid((n, n), ((-1.1, 1.1), (-1.1, 1.1)))
    disc = Shape(box, "x^2 + y^2 < 1")
    # decay rate ≥ 1: by t = 30 the transient is below e^-30
    sol = cd.solve(model, disc, t_end=30, save_every=30)
    fine = 8  # exact averages over each cut cell's part inside the disc, by sub-sampling
    h = box.spacing
    total, inside = np.zeros(box.shape), np.zeros(box.shape)
    for i in range(fine):
        for j in range(fine):
            X, Y = np.meshgrid(
                box.coordinates[0] - h[0] / 2 + (i + 0.5) * h[0] / fine,
                box.coordinates[1] - h[1] / 2 + (j + 0.5) * h[1] / fine,
                indexing="ij",
            )
            m = X**2 + Y**2 < 1
            total += (2 + np.cos(np.pi * np.hypot(X, Y))) * m
            inside += m
    X, Y = box.mesh()
    exact = np.where(inside > 0, total / np.maximum(inside, 1), 2 + np.cos(np.pi * np.hypot(X, Y)))
    err = np.abs(sol.final[0] - exact)[disc.active]
    return float(err.max()), float(np.sum(err * disc.volume_fraction[disc.active]) * box.cell_volume)


def test_manufactured_solution_on_a_disc_converges_at_second_order():
    """Measured: L∞ 1.93e-2, 4.50e-3 and L1 3.57e-2, 7.92e-3 at 32², 64² (orders 2.1, 2.2)."""
    coarse, fine = _mms_errors(32), _mms_errors(64)
    orders = np.log2(np.array(coarse) / np.array(fine))
    assert np.all(orders >= 1.8), orders


def test_small_cut_cells_do_not_limit_the_explicit_step():
    """A disc that leaves slivers of 1e-3 of a cell: the merged groups exchanging fluxes are
    at least half a cell, and the taxis step limit is that of the box within a factor 2."""
    box = Grid((40, 40), ((0.0, 20.0), (0.0, 20.0)))
    disc = Shape(box, "(x-10.02)^2 + (y-10.01)^2 < 8.03^2")
    assert disc.smallest_fraction < 1e-2
    cut = CutCells(disc)
    assert cut.smallest_volume >= 0.5
    model = load("keller-segel-logistic")
    system, flat = CutCellDiscretisation(model, disc), Discretisation(model, box)
    X, Y = box.mesh()
    U = np.stack([1 + np.exp(-((X - 10) ** 2 + (Y - 17) ** 2) / 4), 1 + X / 20])
    U[:, ~disc.active] = 0.0
    limit = system.transport_limit(0.0, system.initial_state(U), 1.0)
    assert limit > 0.5 * flat.transport_limit(0.0, np.where(disc.active, U, 1.0), 1.0)


def test_a_quasi_stationary_species_on_a_shape():
    """``0 = DΔv − v + u`` with u = 1 has the exact solution v = 1 (no flux); with u varying the
    solve keeps ``∫ v = ∫ u`` (integrate the equation over the shape)."""
    model = Model(
        [
            Species("u", diffusion=1, initial="1 + 0.3*cos(x)"),
            Species("v", diffusion=2, tau=0, reaction="u - v", initial=0),
        ]
    )
    disc = Shape(Grid((24, 24), ((0.0, 6.0), (0.0, 6.0))), "(x-3)^2 + (y-3)^2 < 6")
    system = CutCellDiscretisation(model, disc)
    U = system.initial_state({"u": np.ones(disc.shape), "v": np.zeros(disc.shape)})
    assert np.abs(U[1][disc.active] - 1).max() < 1e-8  # CG to relative 1e-10 of the residual
    X, Y = disc.mesh()
    U = system.initial_state({"u": 1 + 0.3 * np.cos(X) + 0 * Y, "v": np.zeros(disc.shape)})
    mu, mv = disc.integrate(U[0]), disc.integrate(U[1])
    assert abs(mv / mu - 1) < 1e-9


def test_a_ball_in_3d_conserves_mass():
    box = Grid((10, 10, 10), ((0.0, 10.0), (0.0, 10.0), (0.0, 10.0)))
    ball = Shape(box, "(x-5)^2 + (y-5)^2 + (z-5)^2 < 16")
    v = "((x-5)^2 + (y-5)^2 + (z-5)^2)/16"
    sol = cd.solve(_KS, ball, t_end=0.5, save_every=0.5, initial={"u": "1 + 0.5*exp(-(x-6)^2)", "v": v})
    mass = sol.mass().values[:, 0]
    assert abs(mass[-1] / mass[0] - 1) < 1e-12
    assert np.min(sol.final[0]) >= 0.0


@pytest.mark.parametrize(
    "species, fragment",
    [
        (Species("u", diffusion=1, initial=1, boundary={"x_low": {"dirichlet": 1}}), "side x_low"),
        (Species("u", diffusion=[[1, 0.5], [0.5, 1]], initial=1), "cross terms"),
    ],
)
def test_what_does_not_run_on_a_shape_is_refused_in_one_line(species, fragment):
    disc = Shape(Grid((8, 8), ((0.0, 2.0), (0.0, 2.0))), "(x-1)^2 + (y-1)^2 < 0.8")
    with pytest.raises(ModelError, match=fragment) as info:
        CutCellDiscretisation(Model([species]), disc)
    assert "\n" not in str(info.value)
