"""Quadratures (one signature for spheres and discrete sets) and the matrices of the turning
operators on their nodes: mass conservation, relaxation, detailed balance, the kernel order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from crossdiff.catalogue import load_kinetic
from crossdiff.derive import derive
from crossdiff.errors import KineticModelError
from crossdiff.kinetic import (
    Bias,
    DiscreteVelocities,
    Equilibrium,
    KineticModel,
    KineticSpecies,
    NodalModel,
    Quadrature,
    Relaxation,
    Sphere,
    TurningKernel,
    relaxation_matrix,
    turning_matrix,
)
from crossdiff.kinetic import (
    symbols as S,
)

R = sp.Symbol("R")
RNG = np.random.default_rng(7)


def monomials(dim: int, degree: int):
    """Every exponent tuple of total degree <= ``degree`` in ``dim`` variables."""
    return [a for a in itertools.product(range(degree + 1), repeat=dim) if sum(a) <= degree]


# --------------------------------------------------------------------------- quadratures
@pytest.mark.parametrize(
    "space", [Sphere(1, 2), Sphere(2, 2), Sphere(3, 2), DiscreteVelocities(((-1, 0), (1, 0), (0, 2)), (1, 1, 2))]
)
def test_one_quadrature_signature(space):
    quad = space.quadrature(6)
    assert isinstance(quad, Quadrature)
    nodes, weights = quad
    assert nodes.shape == (quad.size, space.dim) and weights.shape == (quad.size,)
    assert np.all(weights > 0)
    assert weights.sum() == pytest.approx(float(space.measure), rel=1e-13)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_sphere_quadrature_integrates_v_tensor_v_exactly(dim):
    """∫ v⊗v dv = (|V| R²/d) I (docs/theory.md §3), by the quadrature and exactly."""
    sphere = Sphere(dim, R)
    nodes, weights = sphere.quadrature(4, {"R": 1.7})
    measure = float(sphere.measure.subs(R, 1.7))
    second = np.einsum("k,ka,kb->ab", weights, nodes, nodes)
    np.testing.assert_allclose(second, measure * 1.7**2 / dim * np.eye(dim), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dim, n, degree", [(2, 5, 4), (2, 8, 7), (3, 2, 3), (3, 3, 5)])
def test_sphere_quadrature_is_exact_up_to_the_stated_degree(dim, n, degree):
    """d = 2: exact for polynomials of degree <= n - 1; d = 3: degree <= 2n - 1."""
    sphere = Sphere(dim, 2)
    nodes, weights = sphere.quadrature(n)
    v = S.velocity(dim)
    for alpha in monomials(dim, degree):
        mono = sp.Mul(*[c**a for c, a in zip(v, alpha)])
        exact = float(sphere.integrate(mono))
        approx = weights @ np.prod(nodes ** np.array(alpha), axis=1)
        assert approx == pytest.approx(exact, abs=1e-11 * 2**degree), alpha


def test_sphere_quadrature_is_not_exact_beyond_the_stated_degree():
    """The bound is sharp: vx^n on n equispaced angles of the circle is wrong."""
    sphere = Sphere(2, 1)
    nodes, weights = sphere.quadrature(4)
    assert weights @ nodes[:, 0] ** 4 != pytest.approx(float(sphere.integrate(S.V[0] ** 4)))


def test_discrete_set_ignores_n_and_takes_parameter_values():
    space = DiscreteVelocities((("-a",), ("a",)), ("w", "w"))
    q1, q2 = space.quadrature(3, {"a": 2.0, "w": 0.5}), space.quadrature(None, {sp.Symbol("a"): 2.0, "w": 0.5})
    np.testing.assert_array_equal(q1.nodes, q2.nodes)
    np.testing.assert_array_equal(q1.nodes[:, 0], [-2.0, 2.0])
    np.testing.assert_array_equal(q1.weights, [0.5, 0.5])
    with pytest.raises(KineticModelError, match="numeric once the parameters are set"):
        space.quadrature(3)


def test_sphere_quadrature_needs_a_numeric_radius_and_two_nodes():
    with pytest.raises(KineticModelError, match="radius must be numeric"):
        Sphere(2, R).quadrature(8)
    with pytest.raises(KineticModelError, match="at least 2 nodes"):
        Sphere(2, 1).quadrature(1)


# --------------------------------------------------------------------------- matrices
def test_turning_matrix_conserves_mass_for_any_kernel():
    """Σ_k w_k A_kl = 0 (weighted column sums), whatever T."""
    weights = RNG.uniform(0.5, 2.0, 7)
    a = turning_matrix(RNG.uniform(0, 3, (7, 7)), weights)
    np.testing.assert_allclose(weights @ a, 0, atol=1e-13)


def test_turning_matrix_is_the_gain_minus_loss_sum():
    """(𝒯 g)(v_k) = Σ_l w_l [T(v_k, v_l) g_l − T(v_l, v_k) g_k]: T is the rate FROM v_l TO v_k."""
    weights = RNG.uniform(0.5, 2.0, 5)
    kernel, g = RNG.uniform(0, 1, (5, 5)), RNG.uniform(0, 1, 5)
    direct = [sum(weights[l] * (kernel[k, l] * g[l] - kernel[l, k] * g[k]) for l in range(5)) for k in range(5)]
    np.testing.assert_allclose(turning_matrix(kernel, weights) @ g, direct, rtol=1e-13)
    with pytest.raises(KineticModelError, match="5x5"):
        turning_matrix(kernel[:4], weights)


@pytest.mark.parametrize("space", [Sphere(2, 1.5), Sphere(3, 1.5), DiscreteVelocities(((-1,), (0,), (1,)), (1, 2, 1))])
def test_relaxation_matrix_is_minus_sigma_g_minus_M_int_g(space):
    """(38): 𝒯^0(g) = −σ (g − M ∫ g), exactly for an M the quadrature integrates to one."""
    nodes, weights = space.quadrature(8)
    m = np.exp(nodes[:, 0])
    m /= weights @ m
    g = RNG.uniform(0, 1, len(weights))
    a = relaxation_matrix(2.5, m, weights)
    np.testing.assert_allclose(a @ g, -2.5 * (g - m * (weights @ g)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights @ a, 0, atol=1e-13)
    np.testing.assert_allclose(a @ m, 0, atol=1e-13)


def one_species(turning, equilibrium=None, bias=None) -> KineticModel:
    species = (
        KineticSpecies("u", turning=turning, equilibrium=equilibrium or Equilibrium(), bias=bias),
        KineticSpecies("c", turning=Relaxation(1)),
    )
    return KineticModel(species, Sphere(2, R), parameters={"R": 1.0, "sigma": 2.0, "a": 0.5, "xi": 1.5})


NON_UNIFORM_M = "(1 + a*vx**2/R**2)/((1 + a/2)*absV)"


def test_detailed_balance_makes_M_an_equilibrium_of_the_matrix():
    """T(v, v*) M(v*) = T(v*, v) M(v) (14) ⇒ A M = 0, with an M of no symmetry in v."""
    m_expr = Equilibrium(expr="(1 + a*vx/R + a*vy**3/R**3)/absV")
    balanced = one_species(TurningKernel(expr="sigma*M_u*(1 + vx*vsx + vy**2*vsy**2)"), m_expr)
    nodal = NodalModel(balanced, n=32)
    a = nodal.leading_matrix("u")
    m = nodal.equilibria["u"]
    np.testing.assert_allclose(a @ m, 0, atol=1e-12)
    np.testing.assert_allclose(nodal.weights @ a, 0, atol=1e-12)
    # the same kernel without the symmetry T(v, v*) M(v*) = T(v*, v) M(v): M is no equilibrium
    unbalanced = one_species(TurningKernel(expr="sigma*M_u*(1 + vx*vsx*vsy**2)"), m_expr)
    a = NodalModel(unbalanced, n=32).leading_matrix("u")
    assert np.abs(a @ m).max() > 1e-3


def test_nodal_relaxation_matrix_and_density_dependent_rates():
    kin = one_species(Relaxation("sigma*(1 + c**2)"))
    nodal = NodalModel(kin, n=16)
    expected = relaxation_matrix(2.0 * (1 + 0.25), nodal.equilibria["u"], nodal.weights)
    np.testing.assert_allclose(nodal.leading_matrix("u", {"c": 0.5}), expected, rtol=1e-14)
    with pytest.raises(KineticModelError, match="state needs values of c"):
        nodal.leading_matrix("u")


KERNEL_41 = "-(xi*sigma_u*d/(absV**2*R**2))*vs_grad_c/Ms_u"


@pytest.mark.parametrize("equilibrium", [None, NON_UNIFORM_M])
def test_bias_matrix_gives_the_derived_alpha(equilibrium):
    """With relaxation, α = (1/σ) ∫ v 𝒯^1(M) dv (39): the bias matrix at a point, applied to M,
    gives the α the derivation finds ((42): ξ ∇c, attraction, with the kernel order T(v, v*) =
    rate from v* to v)."""
    eq = Equilibrium(expr=equilibrium) if equilibrium else None
    kin = one_species(Relaxation("sigma"), eq, Bias(kernel=KERNEL_41))
    nodal = NodalModel(kin, n=48)
    state = {"u": 0.7, "c": 1.1, "dx_c": 0.3, "dy_c": -0.2}
    b = nodal.bias_matrix("u", state)
    np.testing.assert_allclose(nodal.weights @ b, 0, atol=1e-13)
    alpha = nodal.weights @ (nodal.nodes * (b @ nodal.equilibria["u"])[:, None]) / 2.0
    derived = (
        derive(kin).alpha["u"].xreplace({sp.Symbol(k): v for k, v in state.items()}).xreplace({sp.Symbol("xi"): 1.5})
    )
    np.testing.assert_allclose(alpha, np.array(derived.tolist(), dtype=float).ravel(), rtol=1e-10)
    np.testing.assert_allclose(alpha, [1.5 * 0.3, 1.5 * -0.2], rtol=1e-10)


def test_bias_matrix_needs_the_state_and_a_kernel():
    kin = one_species(Relaxation("sigma"), bias=Bias(kernel=KERNEL_41))
    nodal = NodalModel(kin, n=8)
    with pytest.raises(KineticModelError, match="dx_c, dy_c"):
        nodal.bias_matrix("u", {})
    assert not nodal.bias_matrix("c", {}).any()
    operator = one_species(Relaxation("sigma"), bias=Bias(operator="xi*v_grad_c*M_u"))
    with pytest.raises(KineticModelError, match="operator has no kernel"):
        NodalModel(operator, n=8).bias_matrix("u", {"dx_c": 1, "dy_c": 0})


def test_catalogue_model_on_nodes():
    """Every species of a catalogue model: mass-conserving matrices, M an equilibrium of 𝒯^0."""
    kin = load_kinetic("oncolytic-virus-kinetic")
    nodal = NodalModel(kin, n=16, values={"xi1": 0.5})
    assert nodal.quadrature.size == 16 and nodal.nodes.shape == (16, 2)
    state = {name: 1.0 for name in kin.species_names} | {str(g): 0.1 for g in S.grad_symbols("u3", 2)}
    for s in kin.species_names:
        a, b = nodal.leading_matrix(s, state), nodal.bias_matrix(s, state)
        np.testing.assert_allclose(nodal.weights @ a, 0, atol=1e-12)
        np.testing.assert_allclose(nodal.weights @ b, 0, atol=1e-12)
        np.testing.assert_allclose(a @ nodal.equilibria[s], 0, atol=1e-12)
        assert nodal.weights @ nodal.equilibria[s] == pytest.approx(1.0, rel=1e-13)


def test_tabulated_kernel_on_a_discrete_set():
    space = DiscreteVelocities(((-1,), (0,), (1,)), (1, 2, 1))
    kin = KineticModel(
        (
            KineticSpecies(
                "u",
                turning=TurningKernel(matrix=(("0", "lam", "lam"), ("lam", 0, "lam"), ("lam", "lam", 0))),
                equilibrium=Equilibrium(values=(0.25, 0.25, 0.25)),
            ),
        ),
        space,
        parameters={"lam": 2.0},
    )
    nodal = NodalModel(kin)
    a = nodal.leading_matrix("u")
    table = 2.0 * (1 - np.eye(3))
    np.testing.assert_allclose(a, turning_matrix(table, [1, 2, 1]))
    np.testing.assert_allclose(a @ nodal.equilibria["u"], 0, atol=1e-14)


def test_tabulated_kernel_may_depend_on_the_densities():
    space = DiscreteVelocities(((-1,), (1,)))
    kin = KineticModel(
        (KineticSpecies("u", turning=TurningKernel(matrix=((0, "lam*u"), ("lam*u", 0)))),),
        space,
        parameters={"lam": 2.0},
    )
    nodal = NodalModel(kin)
    np.testing.assert_allclose(nodal.leading_matrix("u", {"u": 3.0}), [[-6.0, 6.0], [6.0, -6.0]])
    with pytest.raises(KineticModelError, match="state needs values of u"):
        nodal.leading_matrix("u")
