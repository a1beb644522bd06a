"""The derivation on the continuous velocity spaces (ball, R^d with a Maxwellian): the limit
diffusion ``D = ∫ v⊗v M dv / σ`` comes out symbolically and equals the quadrature-free formulas
``R²/((d + 2) σ)`` (uniform M on the ball) and ``T/σ`` (Maxwellian); the numerical derivation
agrees; the catalogue's Gaussian entry derives the catalogue's Keller–Segel model."""

from __future__ import annotations

import pytest
import sympy as sp

from crossdiff import catalogue
from crossdiff.derive import derive
from crossdiff.kinetic import Ball, Bias, Gaussian, KineticModel, KineticSpecies, Relaxation

R, T, SIGMA, CHI = sp.symbols("R T sigma chi")


def relaxation_model(space, bias: str | None = None) -> KineticModel:
    species = [KineticSpecies("u", Relaxation("sigma"), bias=None if bias is None else Bias(kernel=bias))]
    if bias is not None:
        species.append(KineticSpecies("c", Relaxation("sigma")))
    return KineticModel(species, space, parameters={"R": 1.5, "T": 0.5, "sigma": 2.0, "chi": 3.0}, name="relaxation")


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_ball_diffusion_is_r_squared_over_d_plus_2_sigma(dim):
    lim = derive(relaxation_model(Ball(dim, "R")))["u"]
    assert sp.simplify(lim.D - R**2 / ((dim + 2) * SIGMA) * sp.eye(dim)) == sp.zeros(dim)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_maxwellian_diffusion_is_temperature_over_sigma(dim):
    lim = derive(relaxation_model(Gaussian(dim, "T")))["u"]
    assert sp.simplify(lim.D - T / SIGMA * sp.eye(dim)) == sp.zeros(dim)


@pytest.mark.parametrize(
    "space, formula",
    [(Ball(1, "R"), 1.5**2 / (3 * 2.0)), (Ball(2, "R"), 1.5**2 / (4 * 2.0)), (Gaussian(2, "T"), 0.5 / 2.0)],
    ids=["ball-1d", "ball-2d", "gaussian-2d"],
)
def test_numeric_derivation_matches_the_formula(space, formula):
    """The quadrature path (default parameters): the rules integrate ``v_a² M`` exactly, so the
    diffusion agrees with the formula to round-off (1e-12 relative)."""
    lim = derive(relaxation_model(space), method="numeric", nodes=8)["u"]
    for a in range(space.dim):
        assert float(lim.D[a, a]) == pytest.approx(formula, rel=1e-12)
        for b in range(space.dim):
            if a != b:
                assert abs(float(lim.D[a, b])) < 1e-14


def test_maxwellian_bias_gives_keller_segel_taxis():
    """The bias ``T¹(v, v*) = k M(v) v·∇c`` on R^d: ``α = k T ∇c / σ`` (with ``k = χσ/T``: χ)."""
    model = relaxation_model(Gaussian(2, "T"), bias="(chi*sigma_u/T)*M_u*v_grad_c")
    derivation = derive(model)
    assert sp.simplify(derivation["u"].chi["c"] - CHI * sp.eye(2)) == sp.zeros(2)
    numeric = derive(model, method="numeric", nodes=6)
    assert float(numeric["u"].chi["c"][0, 0]) == pytest.approx(3.0, rel=1e-12)


def test_catalogue_gaussian_entry_derives_keller_segel():
    """keller-segel-gaussian-kinetic: D_u = D_c = 1, α_u = χ∇c, ψ_c = u − c: the coefficients
    of the catalogue's keller-segel (τ = 1; its chemical v is c here), no difference from its
    printed limit."""
    kinetic = catalogue.load_kinetic("keller-segel-gaussian-kinetic")
    assert isinstance(kinetic.velocity, Gaussian)
    derivation = derive(kinetic)
    assert not derivation.differences
    macro = catalogue.load("keller-segel")
    limit = derivation.model
    assert limit.name == "keller-segel" and limit.species_names == ("u", "c")
    rename = {sp.Symbol("v"): sp.Symbol("c")}
    for mine, theirs in zip(limit.species, macro.species):
        assert sp.simplify(mine.diffusion - theirs.diffusion) == 0
        assert sp.simplify(mine.reaction - theirs.reaction.xreplace(rename)) == 0
        assert [(t.signal, t.sensitivity) for t in mine.taxis] == [
            ("c" if t.signal == "v" else t.signal, t.sensitivity) for t in theirs.taxis
        ]
    assert derivation.velocity_text() == "R^2 with the Maxwellian of temperature T = 1"
