"""Dirichlet and Robin sides per species: manufactured solutions (second order), steady states
reached to round-off, inflow of an advected species, validation, model files."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import ModelError
from crossdiff.fv import Discretisation
from crossdiff.grid import Grid
from crossdiff.model import Flow, Model, Species, model_from_dict, model_to_dict


def _cell_averages(f, grid: Grid) -> np.ndarray:
    """Cell averages by the 3×3 Gauss rule (error ~h^6, far below the scheme's h^2)."""
    nodes, weights = np.polynomial.legendre.leggauss(3)
    X, Y = grid.mesh()
    hx, hy = grid.spacing
    return sum(
        wi * wj / 4 * f(X + xi * hx / 2, Y + yj * hy / 2)
        for xi, wi in zip(nodes, weights)
        for yj, wj in zip(nodes, weights)
    )


def _exact(x, y):
    return (1 + x**2) * np.cos(y)


# u = (1 + x²) cos y solves 0 = Δu − u + 2x² cos y on [0, 1]²; its sides: u = cos y at x = 0;
# at x = 1 ∂n u = 2 cos y = α(g − u) with α = 2, g = 3 cos y, or u = 2 cos y; ∂n u = 0 at y = 0;
# u = (1 + x²) cos 1 at y = 1
SIDES = {
    "robin": {"x_high": {"robin": 2, "value": "3*cos(y)"}},
    "dirichlet": {"x_high": {"dirichlet": "2*cos(y)"}},
}


@pytest.mark.parametrize("kind", sorted(SIDES))
def test_manufactured_steady_state_second_order(kind):
    errors = []
    for n in (16, 32, 64):
        boundary = {"x_low": {"dirichlet": "cos(y)"}, "y_high": {"dirichlet": "(1 + x**2)*cos(1)"}, **SIDES[kind]}
        model = Model([Species("c", diffusion=1, reaction="2*x**2*cos(y) - c", initial=1, boundary=boundary)])
        grid = Grid((n, n))
        # decay rate ≥ 1 + 2π²·… : at t = 40 the transient is below e^-40
        sol = cd.solve(model, grid, t_end=40, save_every=40, progress=False)
        assert sol.success
        errors.append(float(np.abs(sol.final[0] - _cell_averages(_exact, grid)).max()))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured (max norm) 1.1e-3, 2.8e-4, 7.0e-5 for both: orders 1.97, 1.98
    assert np.all(orders > 1.9), (errors, orders)
    assert errors[-1] < 1e-4


def test_time_dependent_dirichlet_second_order():
    # u = t + x²/2 solves u_t = u_xx; u = t at x = 0 and t + 1/2 at x = 1
    errors = []
    for n in (16, 32, 64):
        model = Model(
            [
                Species(
                    "c",
                    diffusion=1,
                    initial="x**2/2",
                    boundary={"x_low": {"dirichlet": "t"}, "x_high": {"dirichlet": "t + 1/2"}},
                )
            ]
        )
        grid = Grid(n)
        sol = cd.solve(model, grid, t_end=0.5, save_every=0.5, progress=False)
        x = grid.coordinates[0]
        exact = 0.5 + x**2 / 2 + grid.spacing[0] ** 2 / 24  # cell averages of x²/2
        errors.append(float(np.abs(sol.final[0] - exact).max()))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # the ghost cell is exact for linear data, the wall cell's O(h²) truncation error of the
    # quadratic profile gives O(h²); measured orders ≈ 2
    assert np.all(orders > 1.8), (errors, orders)


@pytest.mark.parametrize(
    ("cells", "boundary", "sides", "profile"),
    [
        # 1D, Dirichlet on both ends: u = 1 + 2x (DST-II)
        ((16,), "noflux", {"x_low": {"dirichlet": 1}, "x_high": {"dirichlet": 3}}, lambda x, y: 1 + 2 * x),
        # 2D, periodic in x, Dirichlet at y = 0 and Robin at y = 1: u = 1 + b y with
        # b = α(g − 1 − b) → b = α(g − 1)/(1 + α) = 2·1/3 for α = 2, g = 2 (CG)
        (
            (8, 12),
            ("periodic", "noflux"),
            {"y_low": {"dirichlet": 1}, "y_high": {"robin": 2, "value": 2}},
            lambda x, y: 1 + 2 / 3 * y,
        ),
        # Neumann at x = 0 and Dirichlet at x = 1: the constant 2 (DCT-IV)
        ((10, 6), "noflux", {"x_high": {"dirichlet": 2}}, lambda x, y: 2 + 0 * x),
    ],
)
def test_linear_steady_state_to_round_off(cells, boundary, sides, profile):
    model = Model([Species("c", diffusion=1, initial="0.3 + x", boundary=sides)])
    grid = Grid(cells, boundary=boundary)
    # steps of at most 1 (the save times): the implicit solves' condition number γΔt·4D/h² stays
    # ≤ ~10³, so their round-off stays ~1e-13 (with steps of 100, it is 1e-10)
    sol = cd.solve(model, grid, t_end=40, save_every=1, progress=False)
    mesh = grid.mesh()
    exact = profile(mesh[0], mesh[1] if grid.ndim > 1 else 0.0)
    # the ghost cells extrapolate linear profiles exactly: the semi-discrete steady state is the
    # linear profile itself (the right-hand side vanishes there to round-off), and at t = 40 the
    # transient (slowest rate π²/4) is e^-98
    disc = Discretisation(model, grid)
    assert np.abs(disc.rhs(0.0, exact[None])).max() < 1e-11 * max(grid.spacing) ** -2
    assert np.abs(sol.final[0] - exact).max() < 1e-12


def test_quasi_stationary_species_with_dirichlet_sides():
    # 0 = Δv − v + 2x² cos y with the sides of the Dirichlet case: the exact cell averages to O(h²)
    boundary = {
        "x_low": {"dirichlet": "cos(y)"},
        "x_high": {"dirichlet": "2*cos(y)"},
        "y_high": {"dirichlet": "(1 + x**2)*cos(1)"},
    }
    model = Model(
        [
            Species("u", initial=1),
            Species("v", diffusion=1, tau=0, reaction="2*x**2*cos(y) - v", boundary=boundary),
        ]
    )
    errors = []
    for n in (16, 32):
        grid = Grid((n, n))
        disc = Discretisation(model, grid)
        U = disc.initial_state({"u": np.ones(grid.shape), "v": np.zeros(grid.shape)})
        errors.append(float(np.abs(U[1] - _cell_averages(_exact, grid)).max()))
    assert np.log2(errors[0] / errors[1]) > 1.9, errors
    assert disc.nonnegative[1]  # not the mean-free form: the Dirichlet data fix the constant


def test_advected_species_flows_in_through_a_dirichlet_side():
    # u_t + u_x = 0 on [0, 1], u = 1 flows in at x = 0 and out at x = 1: the state becomes 1
    model = Model(
        [Species("u", advected=True, initial=0, boundary={"x_low": {"dirichlet": 1}, "x_high": {"dirichlet": 0}})],
        flow=Flow(velocity=["1"]),
    )
    grid = Grid(32)
    sol = cd.solve(model, grid, t_end=3, save_every=1, progress=False)
    assert sol.success
    assert sol.frames.min() >= 0
    # after the front has left (t > 1) upwind values are ones: the flux balance is exact
    np.testing.assert_allclose(sol.final[0], 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("species", "grid", "message"),
    [
        (Species("c", diffusion=1, boundary={"x_low": {"dirichlet": 1}}), Grid(8, boundary="periodic"), "periodic"),
        (Species("c", diffusion=1, boundary={"y_low": {"dirichlet": 1}}), Grid(8), "1 axis"),
    ],
)
def test_sides_against_the_grid(species, grid, message):
    with pytest.raises(ModelError, match=message):
        Discretisation(Model([species]), grid)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Species("c", boundary={"top": {"dirichlet": 1}}), "unknown side"),
        (lambda: Species("c", boundary={"x_low": {"neumann": 1}}), "expected"),
        (lambda: Species("c", boundary={"x_low": "dirichlet"}), "give"),
        (lambda: Species("c", boundary={"x_low": {"dirichlet": True}}), "number or an expression"),
        (lambda: Species("c", boundary=["x_low"]), "table of sides"),
        (lambda: Model([Species("c", diffusion=1, boundary={"x_low": {"robin": -1, "value": 0}})]), "alpha must be"),
        (lambda: Model([Species("c", diffusion="c", boundary={"x_low": {"dirichlet": 1}})]), "constant scalar"),
        (lambda: Model([Species("c", diffusion=1, boundary={"x_low": {"dirichlet": "k"}})]), "unknown symbol 'k'"),
        (lambda: Model([Species("c", diffusion=1, boundary={"x_low": {"dirichlet": "c"}})]), "unknown symbol 'c'"),
    ],
)
def test_bad_sides_are_refused(build, message):
    with pytest.raises(ModelError, match=message):
        build()


def test_model_file_round_trip_and_per_axis_domain():
    data = {
        "model": {"name": "oxygen"},
        "parameters": {"alpha": 2.0, "c_air": 1.0},
        "domain": {"extent": [[0, 2], [0, 1]], "cells": [8, 4], "boundary": ["periodic", "noflux"]},
        "species": [
            {
                "name": "c",
                "diffusion": 1,
                "boundary": {"y_high": {"robin": "alpha", "value": "c_air"}, "y_low": {"dirichlet": "x*t"}},
            }
        ],
    }
    model = model_from_dict(data)
    assert model.defaults.boundary == ("periodic", "noflux")
    assert model.species[0].sides["y_high"].kind == "robin"
    assert model_from_dict(model_to_dict(model)) == model
    grid = cd.default_grid(model)
    assert grid.periodic == (True, False)
    with pytest.raises(ModelError, match="one of them per axis"):
        model_from_dict({**data, "domain": {"boundary": ["periodic", "walls"]}})
