"""Relaxation kernels (37)-(40), the kernel order of docs/theory.md §2, and (36) = (39) = direct form."""

from __future__ import annotations

import pytest
import sympy as sp

from crossdiff.derive import derive
from crossdiff.derive._exact import calculus_for
from crossdiff.kinetic import (
    Bias,
    Equilibrium,
    KineticModel,
    KineticSpecies,
    Relaxation,
    Sphere,
    TurningKernel,
)
from crossdiff.kinetic import symbols as S

R, sigma, xi, a = sp.symbols("R sigma xi a")


def zero(expr) -> bool:
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(e) == 0 for e in expr)
    return sp.simplify(expr) == 0


def one_species(dim: int, equilibrium=None, bias=None, turning=None, params=None) -> KineticModel:
    species = [
        KineticSpecies(
            "u", turning=turning or Relaxation("sigma"), equilibrium=equilibrium or Equilibrium(), bias=bias
        ),
        KineticSpecies("c", turning=Relaxation(1)),
    ]
    return KineticModel(tuple(species), Sphere(dim, R), parameters={"R": 1, "sigma": 2, "xi": 1, **(params or {})})


@pytest.mark.parametrize("dim, measure", [(1, 2), (2, 2 * sp.pi * R), (3, 4 * sp.pi * R**2)])
def test_uniform_relaxation_D_is_R2_over_d_sigma(dim, measure):
    """(40) with M = 1/|V|: D = (1/sigma) ∫ v⊗v M = R²/(d sigma) I (docs/theory.md §3)."""
    kin = one_species(dim)
    assert zero(kin.velocity.measure - measure)
    d = derive(kin)
    assert zero(d.D["u"] - R**2 / (dim * sigma) * sp.eye(dim))


def test_theta_solves_L_theta_equals_vM_for_nonuniform_M():
    """theta = -v M / sigma solves L(theta) = v M for the relaxation operator (38), any M."""
    m = (1 + a * S.V[0] ** 2 / R**2) / ((1 + a / 2) * S.MEASURE)
    kin = one_species(2, equilibrium=Equilibrium(expr=m), turning=TurningKernel(expr="sigma*M_u"), params={"a": 0.5})
    calc = calculus_for(kin)
    m_v = calc.equilibrium("u")
    for comp in range(2):
        theta = -S.V[comp] * m_v / sigma
        image = calc.apply(calc.kernel(sp.Symbol("sigma") * S.m_symbol("u"), "u"), theta)
        assert zero(image - S.V[comp] * m_v)
        assert zero(calc.integrate(theta))
    # (40) with this M is anisotropic: D = diag(<vx^2 M>, <vy^2 M>)/sigma
    d = derive(kin)
    dxx = calc.integrate(S.V[0] ** 2 * m_v) / sigma
    dyy = calc.integrate(S.V[1] ** 2 * m_v) / sigma
    assert zero(d.D["u"] - sp.diag(dxx, dyy)) and not zero(dxx - dyy)


def test_general_kernel_sigma_M_equals_relaxation():
    """The kernel T0 = sigma M(v) written as a kernel takes the eigenfunction path, same D."""
    kin = one_species(2, turning=TurningKernel(expr="sigma*M_u"))
    assert zero(derive(kin).D["u"] - R**2 / (2 * sigma) * sp.eye(2))


KERNEL_41 = "-(xi*sigma_u*d/(absV**2*R**2))*vs_grad_c/Ms_u"


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_kernel_41_gives_alpha_42(dim):
    """(41) with the corrected kernel order gives alpha = xi grad c for every d (42)."""
    d = derive(one_species(dim, bias=Bias(kernel=KERNEL_41)))
    assert zero(d.alpha["u"] - xi * sp.Matrix(S.grad_symbols("c", dim)))


def test_printed_kernel_order_gives_repulsion():
    """docs/theory.md §5: with the printed order of (8), 𝒯(g)(v) = ∫ T(v*, v) g(v*) - T(v, v*) g(v) dv*, the
    kernel (41) gives alpha = -xi grad c. Swapping v and v* in the kernel emulates that order."""
    swapped = sp.sympify(KERNEL_41.replace("vs_grad_c", "v_grad_c").replace("Ms_u", "M_u"))
    d = derive(one_species(2, bias=Bias(kernel=swapped)))
    assert zero(d.alpha["u"] + xi * sp.Matrix(S.grad_symbols("c", 2)))


def test_alpha_36_equals_39_equals_direct_form():
    """For relaxation, (36) -∫ theta/M 𝒯^1(M) = (39) (1/sigma) ∫ v 𝒯^1(M) = the direct form."""
    m = (1 + a * S.V[0] ** 2 / R**2) / ((1 + a / 2) * S.MEASURE)
    kin = one_species(2, equilibrium=Equilibrium(expr=m), bias=Bias(kernel=KERNEL_41), params={"a": 0.5})
    calc = calculus_for(kin)
    from crossdiff.derive._coefficients import bias_source

    h = bias_source(calc, kin, "u", kin["u"].bias)
    m_v = calc.equilibrium("u")
    alpha = derive(kin).alpha["u"]
    for comp in range(2):
        theta = -S.V[comp] * m_v / sigma
        form36 = -calc.integrate(theta / m_v * h)
        form39 = calc.integrate(S.V[comp] * h) / sigma
        assert zero(form36 - alpha[comp]) and zero(form39 - alpha[comp])


def test_density_dependent_relaxation_rate():
    """sigma may depend on the densities (model (62)): D = R²/(d sigma(u)), with a warning."""
    kin = one_species(2, turning=Relaxation("1 + c**2"))
    d = derive(kin)
    c = sp.Symbol("c")
    assert zero(d.D["u"] - R**2 / (2 * (1 + c**2)) * sp.eye(2))
    assert any(n.kind == "check" and "positive densities" in n.text for n in d.notes)


def test_exponents_switch_diffusion_and_taxis():
    """∂t u = ∇·([p = 1] D ∇u − [b = 1] u α) + ψ (docs/theory.md §3 general rule)."""
    from dataclasses import replace

    base = one_species(2, bias=Bias(kernel=KERNEL_41))
    for p, b, has_d, has_chi in [(1, 1, True, True), (1, 2, True, False), (2, 1, False, True), (2, 2, False, False)]:
        kin = replace(base, species=(replace(base["u"], p=p, b=b), base["c"]))
        model = derive(kin).model
        assert (model["u"].diffusion != 0) == has_d
        assert bool(model["u"].taxis) == has_chi
