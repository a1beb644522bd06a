"""Assumption checks before deriving: (13), (14), (16), (17); a failure names the assumption and
the species."""

from __future__ import annotations

import pytest
import sympy as sp

from crossdiff.derive import derive
from crossdiff.errors import AssumptionError, InputError
from crossdiff.kinetic import (
    Bias,
    DiscreteVelocities,
    Equilibrium,
    KineticModel,
    KineticSpecies,
    Relaxation,
    Sphere,
    TurningKernel,
)

R = sp.Symbol("R")


def model(turning=None, equilibrium=None, bias=None, space=None, params=None) -> KineticModel:
    species = (
        KineticSpecies("cells", turning=turning or Relaxation(1), equilibrium=equilibrium or Equilibrium(), bias=bias),
        KineticSpecies("c", turning=Relaxation(1)),
    )
    return KineticModel(species, space or Sphere(2, R), parameters={"R": 1.0, **(params or {})})


def test_assumption_error_is_input_error():
    assert issubclass(AssumptionError, InputError)


def test_unnormalised_equilibrium():
    with pytest.raises(AssumptionError, match=r"species 'cells'.*\(16\).*∫M dv = 1"):
        derive(model(equilibrium=Equilibrium(expr="2/absV")))


def test_equilibrium_with_flux():
    with pytest.raises(AssumptionError, match=r"species 'cells'.*\(16\).*∫v M dv = 0"):
        derive(model(equilibrium=Equilibrium(expr="(1 + vx/R)/absV")))


def test_negative_equilibrium_on_discrete_set():
    space = DiscreteVelocities(((-1,), (0,), (1,)))
    with pytest.raises(AssumptionError, match="positive"):
        derive(model(equilibrium=Equilibrium(values=("3/4", "-1/2", "3/4")), space=space))


def test_nonpositive_relaxation_rate():
    with pytest.raises(AssumptionError, match=r"species 'cells'.*\(17\)"):
        derive(model(turning=Relaxation("-s"), params={"s": 1.0}))


def test_detailed_balance_failure_strict_and_relaxed():
    """A chiral kernel on three velocities of the circle (turns only counter-clockwise)."""
    space = DiscreteVelocities(((1, 0), ("-1/2", "sqrt(3)/2"), ("-1/2", "-sqrt(3)/2")))
    chiral = TurningKernel(matrix=((0, 1, 2), (2, 0, 1), (1, 2, 0)))  # rate 2 one way round, 1 the other
    with pytest.raises(AssumptionError, match=r"species 'cells'.*detailed balance \(14\)"):
        derive(model(turning=chiral, space=space))
    d = derive(model(turning=chiral, space=space), strict=False)
    assert any("direct form" in n.text for n in d.notes if n.kind == "warning")
    # the chirality rotates the flux: D is not symmetric
    D = d.D["cells"]
    assert sp.simplify(D[0, 1] + D[1, 0]) == 0 and D[0, 1] != 0


def test_lower_bound_failure():
    """A symmetric rate (detailed balance holds) that never turns between v1 and v3 violates (17)."""
    space = DiscreteVelocities(((-1,), (0,), (1,)))
    kernel = TurningKernel(matrix=((0, 1, 0), (1, 0, 1), (0, 1, 0)))
    with pytest.raises(AssumptionError, match=r"species 'cells'.*lower bound \(17\)"):
        derive(model(turning=kernel, space=space))


def test_bias_operator_violating_13():
    with pytest.raises(AssumptionError, match=r"species 'cells'.*\(13\)"):
        derive(model(bias=Bias(operator="c*M_cells")))


def test_bias_operator_satisfying_13():
    d = derive(model(bias=Bias(operator="vx*dx_c*M_cells + vy*dy_c*M_cells")))
    # alpha = (1/sigma) ∫ v (v·∇c) M dv = (R²/2) ∇c with sigma = 1
    assert sp.simplify(d.chi["cells"]["c"][0, 0] - R**2 / 2) == 0
    assert any("(13) verified" in n.text for n in d.notes)


def test_checks_reported_as_notes():
    d = derive(model())
    kinds = {(n.kind, n.species) for n in d.notes}
    assert ("check", "cells") in kinds and ("check", "c") in kinds
    assert any("(16)" in n.text for n in d.notes) and any("(17)" in n.text for n in d.notes)
