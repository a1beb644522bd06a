"""The continuous velocity spaces: the ball ``|v| <= R`` and ``R^d`` with a Maxwellian
(``crossdiff.kinetic.Ball``, ``Gaussian``): exact moments against the closed forms, the
quadratures' exactness, kinetic files with ``space = "ball"`` / ``"gaussian"``, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from crossdiff.errors import InputError, KineticModelError
from crossdiff.kinetic import (
    Ball,
    Gaussian,
    KineticModel,
    KineticSpecies,
    Relaxation,
    ball_moment,
    gaussian_moment,
    kinetic_from_dict,
    kinetic_to_dict,
)
from crossdiff.kinetic import symbols as S

R, T = sp.symbols("R T", positive=True)


def _double_factorial(k: int) -> int:
    return math.prod(range(k - 1, 0, -2)) if k > 0 else 1


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_ball_measure_and_second_moment(dim):
    """|B_R| = π^(d/2) R^d / Γ(d/2 + 1) and ∫ v_a² dv = |B_R| R²/(d + 2) (exact, symbolic R)."""
    ball = Ball(dim, R)
    measure = sp.pi ** sp.Rational(dim, 2) * R**dim / sp.gamma(sp.Rational(dim, 2) + 1)
    assert sp.simplify(ball.measure - measure) == 0
    v = S.velocity(dim)
    assert sp.simplify(ball.integrate(v[0] ** 2) - measure * R**2 / (dim + 2)) == 0
    assert ball.integrate(v[0] * v[-1] ** 2) == 0  # odd moments vanish
    assert sp.simplify(ball.integrate(3 * v[0] ** 2 + 1) - measure * (1 + 3 * R**2 / (dim + 2))) == 0


def test_ball_moment_in_1d_is_the_interval_integral():
    for k in range(7):
        exact = sp.integrate(sp.Symbol("w") ** k, (sp.Symbol("w"), -R, R))
        assert sp.simplify(ball_moment((k,), R) - exact) == 0


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_gaussian_moments_of_the_maxwellian(dim):
    """∫ M_T = 1, ∫ v M_T = 0, ∫ v_a² M_T = T, ∫ v_a⁴ M_T = 3T² (symbolic T): the Gaussian moments."""
    space = Gaussian(dim, T)
    m = space.default_equilibrium
    v = S.velocity(dim)
    assert sp.simplify(space.integrate(m)) == 1
    assert all(space.integrate(c * m) == 0 for c in v)
    assert sp.simplify(space.integrate(v[-1] ** 2 * m)) == T
    assert sp.simplify(space.integrate(v[0] ** 4 * m)) == 3 * T**2
    # a parameter factor and a Maxwellian of another temperature
    a = sp.Symbol("a")
    other = (2 * sp.pi * a) ** sp.Rational(-dim, 2) * sp.exp(-sum(c**2 for c in v) / (2 * a))
    assert sp.simplify(space.integrate(sp.Symbol("k") * v[0] ** 2 * other) - sp.Symbol("k") * a) == 0


def test_gaussian_moment_formula():
    for k in range(0, 9):
        exact = sp.integrate(sp.Symbol("w") ** k * sp.exp(-T * sp.Symbol("w") ** 2), (sp.Symbol("w"), -sp.oo, sp.oo))
        assert sp.simplify(gaussian_moment(k, T) - exact) == 0


@pytest.mark.parametrize(
    "expr, message",
    [
        (sp.Integer(1), "does not decay has no integral"),
        (S.V[0] ** 2, "does not decay in vx"),
        (sp.exp(-(S.V[0] ** 2)) / (1 + S.V[0] ** 2), "polynomial times a Gaussian"),
        (sp.exp(-((S.V[0] - 1) ** 2)), "centred"),
        (sp.exp(S.V[0] ** 2), "does not decay in vx"),
    ],
)
def test_gaussian_integrals_without_closed_form_are_one_line_errors(expr, message):
    with pytest.raises(KineticModelError, match=message) as info:
        Gaussian(1).integrate(expr)
    assert "\n" not in str(info.value)


def test_ball_refuses_non_polynomial_integrands():
    with pytest.raises(KineticModelError, match="polynomial in v"):
        Ball(2).integrate(sp.exp(-(S.V[0] ** 2)))


@pytest.mark.parametrize("dim, n", [(1, 5), (2, 8), (2, 9), (3, 4), (3, 6)])
def test_ball_quadrature_exact_to_its_degree(dim, n):
    """Every monomial of degree <= the stated degree (2n − 1, n − 1, 2⌊n/2⌋ − 1 in 1D, 2D, 3D)
    integrates to its exact moment to round-off (1e-12 relative: the rules are exact)."""
    ball = Ball(dim, 1.5)
    quad = ball.quadrature(n)
    assert quad.size == ball.node_count(n)
    assert np.all(quad.weights > 0) and np.all(np.linalg.norm(quad.nodes, axis=1) <= 1.5 + 1e-12)
    degree = {1: 2 * n - 1, 2: n - 1, 3: 2 * (n // 2) - 1}[dim]
    for alpha in itertools.product(range(degree + 1), repeat=dim):
        if sum(alpha) > degree:
            continue
        exact = float(ball_moment(alpha, sp.Rational(3, 2)))
        value = quad.integrate(np.prod(quad.nodes**alpha, axis=1))
        assert value == pytest.approx(exact, rel=1e-12, abs=1e-12), alpha


@pytest.mark.parametrize("dim, n", [(1, 6), (2, 4), (3, 3)])
def test_gauss_hermite_rule_exact_for_the_maxwellian_moments(dim, n):
    """∫ v^α M_T dv for α_a <= 2n − 1 on every axis: (α_a − 1)!! T^(α_a/2) per even axis, exact
    to round-off (1e-12 relative)."""
    t = 0.7
    quad = Gaussian(dim, t).quadrature(n)
    assert quad.size == Gaussian(dim).node_count(n) == n**dim
    m = np.exp(-np.sum(quad.nodes**2, axis=1) / (2 * t)) / (2 * np.pi * t) ** (dim / 2)
    for alpha in itertools.product(range(2 * n), repeat=dim):
        exact = math.prod(0.0 if k % 2 else _double_factorial(k) * t ** (k / 2) for k in alpha)
        value = quad.integrate(m * np.prod(quad.nodes**alpha, axis=1))
        assert value == pytest.approx(exact, rel=1e-12, abs=1e-12 * (1 + abs(exact))), alpha


@pytest.mark.parametrize("space", [Ball(2, 1), Ball(3, 2), Gaussian(2, 0.5), Gaussian(3)])
def test_quadratures_are_closed_under_reflection(space):
    """Walls need every reflection v_a → −v_a to map nodes onto nodes of equal weight."""
    quad = space.quadrature(4)
    for a in range(space.dim):
        mirrored = quad.nodes.copy()
        mirrored[:, a] *= -1
        order = np.lexsort(np.round(mirrored, 12).T)
        reference = np.lexsort(np.round(quad.nodes, 12).T)
        assert np.allclose(mirrored[order], quad.nodes[reference], atol=1e-12)
        assert np.allclose(quad.weights[order], quad.weights[reference], rtol=1e-12)


def test_bad_spaces_are_one_line_errors():
    for make, message in [
        (lambda: Ball(4), "dimension must be 1, 2 or 3"),
        (lambda: Ball(2, -1), "radius must be positive"),
        (lambda: Gaussian(0), "dimension must be 1, 2 or 3"),
        (lambda: Gaussian(2, 0), "temperature must be positive"),
        (lambda: Gaussian(1).quadrature(201), "at most 200 nodes"),
        (lambda: Ball(2).quadrature(1), "at least 2 nodes"),
        (lambda: Gaussian(2, "T").quadrature(4), "numeric once the parameters are set"),
        (lambda: Ball(2).discrete(), "not a finite velocity set"),
    ]:
        with pytest.raises(KineticModelError, match=message) as info:
            make()
        assert "\n" not in str(info.value)


def _file(space: dict, species: dict | None = None) -> dict:
    return {
        "kinetic": {"name": "toy"},
        "velocity": space,
        "parameters": {"T": 0.5, "sigma": 2.0, "R": 1.5},
        "species": [{"name": "u", "turning": {"relaxation": "sigma"}, "initial": 1, **(species or {})}],
    }


def test_kinetic_files_with_ball_and_gaussian_round_trip():
    import tomllib

    import tomli_w

    ball = kinetic_from_dict(_file({"space": "ball", "dim": 2, "radius": "R"}), source="ball")
    assert ball.velocity == Ball(2, sp.Symbol("R"))
    gauss = kinetic_from_dict(
        {**_file({"space": "gaussian", "dim": 3, "temperature": "T"}), "parameters": {"T": 0.5, "sigma": 2.0}},
        source="gauss",
    )
    assert gauss.velocity == Gaussian(3, sp.Symbol("T"))
    for model in (ball, gauss):
        back = kinetic_from_dict(tomllib.loads(tomli_w.dumps(kinetic_to_dict(model))), source=model.name)
        assert back == model
    # the default equilibria: uniform 1/|B_R| on the ball, the Maxwellian on R^d
    assert ball.equilibrium_expr("u") == 1 / (sp.pi * sp.Symbol("R") ** 2)
    assert gauss.equilibrium_expr("u") == Gaussian(3, sp.Symbol("T")).default_equilibrium


@pytest.mark.parametrize(
    "space, species, message",
    [
        ({"space": "gaussian", "dim": 1}, {"interaction": "u/absV"}, "absV.*infinite on R\\^d"),
        ({"space": "gaussian", "dim": 1, "temperature": "Q"}, {}, "temperature uses unknown symbol 'Q'"),
        ({"space": "ball", "dim": 2, "radius": 2}, {}, "clashes with the ball radius"),
        (
            {"space": "ball", "dim": 2, "radius": "R"},
            {"equilibrium": [0.5, 0.5]},
            "tables need a discrete velocity set",
        ),
        ({"space": "gaussian", "dim": 2, "radius": 1}, {}, "radius is only for space = 'sphere' or 'ball'"),
        ({"space": "ball", "dim": 5}, {}, "dim must be 1, 2 or 3"),
        ({"space": ["ball"], "dim": 1}, {}, "space must be one of"),
    ],
)
def test_bad_ball_and_gaussian_files(space, species, message):
    data = _file(space, species)
    if space.get("space") == "gaussian":
        data["parameters"] = {"T": 0.5, "sigma": 2.0}
    with pytest.raises(InputError, match=message) as info:
        kinetic_from_dict(data, source="bad")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("space", [Ball(2, "R"), Gaussian(2, "T")])
def test_continuous_spaces_follow_the_grid_dimension(space):
    model = KineticModel(
        [KineticSpecies("u", Relaxation("sigma"))], space, parameters={"R": 1.0, "T": 1.0, "sigma": 1.0}, name="toy"
    )
    for d in (1, 3):
        moved = model.in_dimension(d)
        assert type(moved.velocity) is type(space) and moved.dim == d
        assert moved.velocity.with_dim(2) == space
