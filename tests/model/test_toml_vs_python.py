"""A model written as a TOML file and the same model built in Python give the same answer."""

from __future__ import annotations

import numpy as np

from crossdiff.grid import Grid
from crossdiff.model import Model, Species, Taxis, read_model_file
from crossdiff.solve import solve
from crossdiff.time import IMEX, SSPRK3

TOML = """
[model]
name = "ks-logistic-2d"

[parameters]
D = 0.8
chi = { value = 4.0, description = "sensitivity" }
r = 1.0
alpha = 0.5

[definitions]
growth = "r*u*(1 - u)"

[domain]
extent = [[0, 4], [0, 2]]
cells = [12, 8]
boundary = "noflux"
t_end = 0.2

[[species]]
name = "u"
long_name = "cells"
diffusion = "D"
taxis = [{ signal = "v", sensitivity = "chi/(1 + alpha*v)" }]
reaction = "growth"
initial = "1 + 0.3*exp(-((x - 2)^2 + (y - 1)^2))"

[[species]]
name = "v"
diffusion = [[1, 0], [0, 0.5]]
reaction = "u - v"
initial = "1 + 0.1*cos(pi*x/4)"
"""


def python_model() -> Model:
    return Model(
        species=(
            Species(
                "u",
                long_name="cells",
                diffusion="D",
                taxis=(Taxis("v", "chi/(1 + alpha*v)"),),
                reaction="growth",
                initial="1 + 0.3*exp(-((x - 2)**2 + (y - 1)**2))",
            ),
            Species("v", diffusion=[[1, 0], [0, 0.5]], reaction="u - v", initial="1 + 0.1*cos(pi*x/4)"),
        ),
        parameters={"D": 0.8, "chi": 4.0, "r": 1.0, "alpha": 0.5},
        definitions={"growth": "r*u*(1 - u)"},
        name="ks-logistic-2d",
    )


def test_toml_and_python_models_agree(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(TOML)
    from_file = read_model_file(path)
    in_python = python_model()
    assert from_file.species_names == in_python.species_names
    assert from_file.equations() == in_python.equations()

    grid = Grid((12, 8), ((0, 4), (0, 2)))
    for stepper in (IMEX(rtol=1e-5), SSPRK3(dt=1e-3)):
        a = solve(from_file, grid, 0.2, stepper=stepper)
        b = solve(in_python, grid, 0.2, stepper=stepper)
        assert a.success and b.success
        # same expressions -> same compiled kernels -> the same arithmetic; 1e-13 leaves room only
        # for a different summation order, which must not happen here (taxis makes it non-trivial)
        np.testing.assert_allclose(a.final, b.final, rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(a.t, b.t)
        # and the run did something (taxis + growth move the state away from the initial data)
        assert np.max(np.abs(a.final - a.frames[0])) > 1e-3
