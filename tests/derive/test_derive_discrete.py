"""General kernels: discrete velocity sets (exact linear systems), the numerical derivation
(quadrature) and its agreement with the exact one; the flip and von Mises models (beyond the
paper) against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.special import iv

from crossdiff.catalogue import load_kinetic
from crossdiff.derive import derive
from crossdiff.errors import KineticModelError
from crossdiff.kinetic import (
    Bias,
    DiscreteVelocities,
    KineticModel,
    KineticSpecies,
    Relaxation,
    Sphere,
    TurningKernel,
)

R, lam, a = sp.symbols("R lam a")
FLIP = "lam*(1 - vx*vsx/R**2)/2"  # rate lam from v* to -v*, 0 from v* to v*


def zero(expr) -> bool:
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(e) == 0 for e in expr)
    return sp.simplify(expr) == 0


def flip_model(turning: TurningKernel, bias: Bias | None = None) -> KineticModel:
    species = (KineticSpecies("u", turning=turning, bias=bias), KineticSpecies("S", turning=Relaxation(1)))
    return KineticModel(species, Sphere(1, R), parameters={"R": 1.5, "lam": 2.0, "a": 0.3})


@pytest.mark.parametrize("turning", [TurningKernel(expr=FLIP), TurningKernel(matrix=(("0", "lam"), ("lam", "0")))])
def test_flip_kernel_1d(turning):
    """Hand calculation: on {-R, R} with flip rate lam, L = lam [[-1, 1], [1, -1]], v M = (-R/2, R/2),
    theta = -v M/(2 lam), D = -Σ v theta = R²/(2 lam). A bias T1 = -a v*·∇S (v ≠ v*) gives
    𝒯1(M)(±R) = ±a R ∂S, i.e. 2 a ∂S v M, so α = a R² ∂S / lam (χ = a R²/lam)."""
    bias = Bias(kernel="-a*vsx*dx_S*(1 - vx*vsx/R**2)/2")
    d = derive(flip_model(turning, bias))
    assert zero(d.D["u"][0, 0] - R**2 / (2 * lam))
    assert zero(d.chi["u"]["S"][0, 0] - a * R**2 / lam)
    assert any("detailed balance" in n.text and n.species == "u" for n in d.notes if n.kind == "check")


def test_flip_numeric_equals_exact():
    kin = flip_model(TurningKernel(expr=FLIP), Bias(kernel="-a*vsx*dx_S*(1 - vx*vsx/R**2)/2"))
    exact, numeric = derive(kin), derive(kin, method="numeric")
    values = kin.parameter_symbols()
    assert float(numeric.D["u"][0, 0]) == pytest.approx(float(exact.D["u"][0, 0].xreplace(values)), rel=1e-12)
    assert float(numeric.chi["u"]["S"][0, 0]) == pytest.approx(
        float(exact.chi["u"]["S"][0, 0].xreplace(values)), rel=1e-12
    )


def von_mises(kappa: float = 2.0) -> KineticModel:
    """2D, uniform M, T0(v, v*) = sigma exp(kappa v·v*/R²): turning prefers small angles."""
    kernel = TurningKernel(expr="sigma*exp(kappa*(vx*vsx + vy*vsy)/R**2)")
    species = (KineticSpecies("u", turning=kernel),)
    return KineticModel(species, Sphere(2, R), parameters={"R": 1.0, "sigma": 1.5, "kappa": kappa})


@pytest.mark.parametrize("kappa", [0.5, 2.0])
def test_von_mises_2d_against_bessel(kappa):
    """Hand calculation: with uniform M, L(v M) = -(λ0 - λ1) v M where
    λ0 = ∫ T(v*, v) dv* = 2πR sigma I0(kappa) and λ1 = R⁻² ∫ T(v, v*) v·v* dv* = 2πR sigma I1(kappa),
    so D = (1/(λ0 - λ1)) ∫ v⊗v M dv = R² / (2 · 2πR sigma (I0 - I1)) I."""
    kin = von_mises(kappa)
    d = derive(kin, method="numeric", nodes=48)
    r, sigma = 1.0, 1.5
    expected = r**2 / (2 * 2 * np.pi * r * sigma * (iv(0, kappa) - iv(1, kappa)))
    D = np.array(d.D["u"].tolist(), dtype=float)
    # trapezoidal rule on smooth periodic integrands: spectral, round-off level at 48 nodes
    np.testing.assert_allclose(D, expected * np.eye(2), rtol=1e-10, atol=1e-12)


def test_von_mises_has_no_closed_form_symbolically():
    with pytest.raises(KineticModelError, match="numeric"):
        derive(von_mises())


def test_polynomial_kernel_on_sphere_exact_and_numeric_agree():
    """T0 = sigma (1 + b v·v*/R²)/|V| (|b| < 1): eigenfunction v M with λ = sigma(1 - b/2) in 2D."""
    kernel = TurningKernel(expr="sigma*(1 + b*(vx*vsx + vy*vsy)/R**2)/absV")
    kin = KineticModel(
        (KineticSpecies("u", turning=kernel),), Sphere(2, R), parameters={"R": 2.0, "sigma": 3.0, "b": 0.5}
    )
    exact = derive(kin)
    sigma, b = sp.symbols("sigma b")
    assert zero(exact.D["u"] - R**2 / (2 * sigma * (1 - b / 2)) * sp.eye(2))
    numeric = derive(kin, method="numeric", nodes=16)
    expected = float((R**2 / (2 * sigma * (1 - b / 2))).xreplace(kin.parameter_symbols()))
    np.testing.assert_allclose(np.array(numeric.D["u"].tolist(), dtype=float), expected * np.eye(2), rtol=1e-12)


@pytest.mark.parametrize("name", ["oncolytic-virus-kinetic", "cancer-invasion-kinetic", "nonlinear-singular-kinetic"])
def test_numeric_path_agrees_with_symbolic_on_catalogue(name):
    """Quadrature (trapezoid on the circle: exact for the degree-2 moments) equals the exact result
    at the default parameters, for D, chi and psi (round-off tolerance)."""
    kin = load_kinetic(name)
    exact, numeric = derive(kin), derive(kin, method="numeric", nodes=12)
    values = {**kin.parameter_symbols()}
    dens = {sp.Symbol(n): sp.Rational(k + 2, 3) for k, n in enumerate(kin.species_names)}

    def num(expr):
        return complex(kin.expand(expr).xreplace(values).xreplace(dens)).real

    for s in kin.species_names:
        for e, n in zip(exact.D[s], numeric.D[s]):
            assert num(n) == pytest.approx(num(e), rel=1e-10, abs=1e-12)
        assert set(numeric.chi[s]) <= set(exact.chi[s]) | set()
        for signal, tensor in exact.chi[s].items():
            for e, n in zip(tensor, numeric.chi[s].get(signal, sp.zeros(kin.dim, kin.dim))):
                assert num(n) == pytest.approx(num(e), rel=1e-10, abs=1e-12)
        assert num(numeric.psi[s]) == pytest.approx(num(exact.psi[s]), rel=1e-10, abs=1e-12)


def test_3d_quadrature_matches_exact_moments():
    kin = KineticModel(
        (
            KineticSpecies(
                "u", turning=Relaxation("sigma"), bias=Bias(kernel="-(xi*sigma_u*d/(absV**2*R**2))*vs_grad_c/Ms_u")
            ),
            KineticSpecies("c", turning=Relaxation(1)),
        ),
        Sphere(3, R),
        parameters={"R": 2.0, "sigma": 3.0, "xi": 0.7},
    )
    numeric = derive(kin, method="numeric", nodes=6)
    np.testing.assert_allclose(np.array(numeric.D["u"].tolist(), dtype=float), 4 / 9 * np.eye(3), rtol=1e-12)
    np.testing.assert_allclose(np.array(numeric.chi["u"]["c"].tolist(), dtype=float), 0.7 * np.eye(3), rtol=1e-12)


def test_anisotropic_discrete_set_gives_anisotropic_D():
    """{±R e1} in 2D (docs/theory.md §3): D = diag(R²/sigma, 0); never assume D ∝ I. The limit model
    takes the constant tensor; an anisotropic sensitivity is refused by .model."""
    space = DiscreteVelocities(((-R, 0), (R, 0)))
    sp_u = KineticSpecies("u", turning=Relaxation("sigma"), bias=Bias(kernel="-(xi/2)*vs_grad_c"))
    kin = KineticModel(
        (sp_u, KineticSpecies("c", turning=Relaxation(1))), space, parameters={"R": 1.0, "sigma": 2.0, "xi": 1.0}
    )
    d = derive(kin)
    sigma, xi = sp.symbols("sigma xi")
    assert zero(d.D["u"] - sp.diag(R**2 / sigma, 0))
    assert zero(d.chi["u"]["c"] - sp.diag(xi * R**2 / sigma, 0))
    with pytest.raises(KineticModelError, match="scalar sensitivities only"):
        _ = d.model
    assert "alpha_u" in d.to_dict()["species"]["u"] or d.to_dict()["species"]["u"]["alpha"] is not None


def test_nonseparable_kernel_is_refused_numerically():
    kin = KineticModel(
        (
            KineticSpecies("u", turning=Relaxation(1), bias=Bias(kernel="exp(vs_grad_c)")),
            KineticSpecies("c", turning=Relaxation(1)),
        ),
        Sphere(2, R),
        parameters={"R": 1.0},
    )
    with pytest.raises(KineticModelError, match="separate"):
        derive(kin, method="numeric", nodes=8)
