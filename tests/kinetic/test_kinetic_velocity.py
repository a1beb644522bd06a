"""Velocity spaces: exact sphere moments, quadratures, discrete sets."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from crossdiff.errors import KineticModelError
from crossdiff.kinetic import DiscreteVelocities, Sphere
from crossdiff.kinetic import symbols as S

R = sp.Symbol("R")


@pytest.mark.parametrize(
    "dim, measure, second",
    [(1, 2, 2 * R**2), (2, 2 * sp.pi * R, sp.pi * R**3), (3, 4 * sp.pi * R**2, sp.Rational(4, 3) * sp.pi * R**4)],
)
def test_sphere_measure_and_second_moments(dim, measure, second):
    """|V| and ∫ v⊗v dv = (|V| R²/d) I (docs/theory.md §3: 2R², πR³ I, (4π/3) R⁴ I)."""
    sphere = Sphere(dim, R)
    v = S.velocity(dim)
    assert sp.simplify(sphere.measure - measure) == 0
    for a in range(dim):
        for b in range(dim):
            expected = second if a == b else 0
            assert sp.simplify(sphere.integrate(v[a] * v[b]) - expected) == 0
        assert sphere.integrate(v[a]) == 0


def test_fourth_moment_2d_by_parametrisation():
    """∫ vx⁴ over R S¹ = R⁵ ∫ cos⁴ = 3πR⁵/4; ∫ vx² vy² = πR⁵/4."""
    sphere = Sphere(2, R)
    vx, vy = S.velocity(2)
    assert sp.simplify(sphere.integrate(vx**4) - 3 * sp.pi * R**5 / 4) == 0
    assert sp.simplify(sphere.integrate(vx**2 * vy**2) - sp.pi * R**5 / 4) == 0


def test_non_polynomial_integrand_is_refused():
    with pytest.raises(KineticModelError, match="numerical derivation"):
        Sphere(2, R).integrate(sp.exp(S.V[0]))


@pytest.mark.parametrize("dim, n", [(2, 8), (3, 4)])
def test_quadrature_is_exact_for_low_degree(dim, n):
    sphere = Sphere(dim, 2)
    nodes, weights = sphere.quadrature(n)
    assert np.allclose(np.linalg.norm(nodes, axis=1), 2.0)
    v = S.velocity(dim)
    for mono in [sp.Integer(1), v[0] ** 2, v[0] ** 2 * v[-1] ** 2, v[-1] ** 4]:
        exact = float(sphere.integrate(mono))
        f = sp.lambdify(v, mono, "numpy")
        approx = weights @ np.broadcast_to(f(*nodes.T), weights.shape)
        assert approx == pytest.approx(exact, rel=1e-12)


def test_discrete_set():
    space = DiscreteVelocities(((-1, 0), (1, 0), (0, 2)), (1, 1, 2))
    assert space.measure == 4 and space.dim == 2
    vx, vy = S.velocity(2)
    assert space.integrate(vx**2 + vy) == 2 + 4
    with pytest.raises(KineticModelError, match="weights"):
        DiscreteVelocities(((1,), (2,)), (1,))
    with pytest.raises(KineticModelError, match="positive"):
        DiscreteVelocities(((1,), (2,)), (1, 0))
