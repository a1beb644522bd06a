"""kinetic_to_dict: the inverse of kinetic_from_dict, through TOML text (what a run file stores)."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
import sympy as sp
import tomli_w

import crossdiff as cd
from crossdiff import catalogue
from crossdiff.derive import derive
from crossdiff.expressions import to_expr
from crossdiff.kinetic import (
    DiscreteVelocities,
    KineticDiscretisation,
    KineticModel,
    TurningKernel,
    kinetic_from_dict,
    kinetic_to_dict,
)
from crossdiff.model import model_to_dict

#: A discrete velocity set with a turning matrix, a tabulated equilibrium, a bias kernel and
#: expressions that sstr would not write back exactly (a 17-digit float, heaviside, min, max).
DISCRETE = {
    "kinetic": {"name": "toy-discrete", "description": "two velocities", "macro": "toy"},
    "velocity": {"space": "discrete", "points": [[-1], [1]], "weights": [1, 1]},
    "parameters": {"lam": {"value": 2.0, "description": "turning rate"}, "chi": 0.5, "k": 0.1},
    "definitions": {"g": "u*(0.30000000000000004 - u)"},
    "domain": {"extent": [[0.0, 10.0]], "cells": [32], "boundary": "periodic", "t_end": 3.0, "seed": 7},
    "species": [
        {
            "name": "u",
            "long_name": "walkers",
            "equilibrium": [0.5, 0.5],
            "turning": {"matrix": [[0, "lam"], ["lam", 0]]},
            "bias": {"kernel": "-chi*vsx*dx_c/2"},
            "interaction": "g/2",
            "initial": "1 + 0.1*heaviside(x - 5)",
        },
        {
            "name": "c",
            "turning": {"relaxation": 1},
            "interaction": "(u - c)/2",
            "initial": "max(0.5, min(1, 1 + k*x))",
        },
    ],
}

#: A sphere with a general turning kernel, a non-uniform equilibrium and a bias operator.
KERNELS = {
    "kinetic": {"name": "toy-kernels", "reference": "made up"},
    "velocity": {"space": "sphere", "dim": 2, "radius": 2},
    "parameters": {"lam": 1.5, "chi": 0.25},
    "domain": {"extent": [[0.0, 4.0], [0.0, 2.0]], "cells": [8, 4], "boundary": ["periodic", "noflux"]},
    "species": [
        {
            "name": "u",
            "p": 1,
            "turning": {"kernel": "lam*M_u"},
            "bias": {"operator": "chi*v_grad_c*M_u"},
            "interaction": "u*(1 - u)/absV",
        },
        {
            "name": "c",
            "b": 2,
            "equilibrium": "(1 + vx**2/8)/(absV*5/4)",
            "turning": {"relaxation": "lam"},
            "interaction": "(u - c)/absV",
        },
    ],
    "paper": {"equation": "(1)", "printed": {"u": {"diffusion": "1/lam", "bias": "chi*v_grad_c"}}},
}


def through_toml(model: KineticModel) -> KineticModel:
    """``model`` written as TOML text and read back."""
    text = tomli_w.dumps(kinetic_to_dict(model))
    return kinetic_from_dict(tomllib.loads(text), source=model.name)


def discrete_model() -> KineticModel:
    return kinetic_from_dict(DISCRETE, source="toy-discrete")


def cases() -> list[tuple[str, KineticModel]]:
    out = [(name, catalogue.load_kinetic(name)) for name in catalogue.names("kinetic")]
    ci = catalogue.load_kinetic("cancer-invasion-kinetic")
    out.append(("cancer-invasion-kinetic in 1D", ci.in_dimension(1)))
    out.append(("cancer-invasion-kinetic chi = 0.1 + 0.2", ci.with_settings({"chi": 0.1 + 0.2})))
    fs = catalogue.load_kinetic("forager-scrounger-kinetic")
    out.append(("forager-scrounger-kinetic in 1D", fs.in_dimension(1)))
    out.append(("discrete velocities", discrete_model()))
    out.append(("turning and bias kernels", kinetic_from_dict(KERNELS, source="toy-kernels")))
    return out


CASES = cases()


def test_the_catalogue_is_covered():
    assert len(catalogue.names("kinetic")) >= 4
    assert {name for name, _ in CASES} >= set(catalogue.names("kinetic"))


@pytest.mark.parametrize("model", [m for _, m in CASES], ids=[n for n, _ in CASES])
def test_round_trip_rebuilds_the_model(model):
    data = kinetic_to_dict(model)
    assert "None" not in repr(data)  # no None anywhere: keys are omitted instead
    rebuilt = through_toml(model)
    assert kinetic_to_dict(rebuilt) == data  # a fixed point
    assert rebuilt == model  # the same dataclass, field by field (expressions structurally equal)
    assert rebuilt.species_names == model.species_names
    assert dict(rebuilt.parameters) == dict(model.parameters)
    assert dict(rebuilt.parameter_info) == dict(model.parameter_info)
    assert dict(rebuilt.definitions) == dict(model.definitions)
    assert rebuilt.defaults == model.defaults
    assert rebuilt.velocity == model.velocity
    assert (rebuilt.name, rebuilt.macro, rebuilt.paper) == (model.name, model.macro, model.paper)
    for s, r in zip(model.species, rebuilt.species):
        assert (r.turning, r.equilibrium, r.bias, r.p, r.b) == (s.turning, s.equilibrium, s.bias, s.p, s.b)
        assert sp.srepr(r.interaction) == sp.srepr(s.interaction)
        assert sp.srepr(r.initial) == sp.srepr(s.initial)


@pytest.mark.parametrize("model", [m for _, m in CASES], ids=[n for n, _ in CASES])
def test_round_trip_derives_the_same_limit(model):
    rebuilt = through_toml(model)
    a, b = derive(model), derive(rebuilt)
    for name in model.species_names:
        assert sp.simplify(sp.Matrix(a.D[name]) - sp.Matrix(b.D[name])) == sp.zeros(model.dim, model.dim)
        assert set(a.chi[name]) == set(b.chi[name])
        for signal, chi in a.chi[name].items():
            assert sp.simplify(sp.Matrix(chi) - sp.Matrix(b.chi[name][signal])).is_zero_matrix
        assert sp.simplify(a.psi[name] - b.psi[name]) == 0
    assert model_to_dict(a.model) == model_to_dict(b.model)
    assert [str(n) for n in a.notes] == [str(n) for n in b.notes]


def test_expressions_keep_every_digit_and_the_file_functions():
    model = discrete_model()
    data = kinetic_to_dict(model)
    assert data["definitions"]["g"] == "u*(0.30000000000000004 - u)"
    assert "heaviside(" in data["species"][0]["initial"]
    assert "max(" in data["species"][1]["initial"] and "min(" in data["species"][1]["initial"]
    assert data["species"][0]["equilibrium"] == [0.5, 0.5]
    assert data["species"][0]["turning"] == {"matrix": [[0, "lam"], ["lam", 0]]}
    assert data["species"][0]["bias"] == {"kernel": "-chi*dx_c*vsx/2"}
    assert "equilibrium" not in data["species"][1]  # uniform: the key is left out
    assert data["velocity"] == {"space": "discrete", "points": [[-1], [1]], "weights": [1, 1], "dim": 1}
    assert data["domain"]["boundary"] == "periodic" and "save_every" not in data["domain"]
    assert "paper" not in data
    rebuilt = through_toml(model)
    assert rebuilt.definitions["g"] == to_expr("u*(0.30000000000000004 - u)", "g")
    assert rebuilt.definitions["g"] != to_expr("u*(0.3 - u)", "g")  # what sstr's 15 digits would give
    assert isinstance(rebuilt.velocity, DiscreteVelocities)
    assert isinstance(rebuilt["u"].turning, TurningKernel) and rebuilt["u"].turning.matrix is not None


def test_kernels_operators_and_paper_tables():
    data = kinetic_to_dict(kinetic_from_dict(KERNELS, source="toy-kernels"))
    u, c = data["species"]
    assert u["turning"] == {"kernel": "M_u*lam"} and u["bias"] == {"operator": "M_u*chi*v_grad_c"}
    assert "equilibrium" not in u and c["equilibrium"] == "4/5*((vx**2/8 + 1)/absV)"  # sstr: 4*(...)/(5*absV)
    assert c["turning"] == {"relaxation": "lam"} and (c["p"], c["b"]) == (1, 2) and "bias" not in c
    assert data["velocity"] == {"space": "sphere", "dim": 2, "radius": 2}
    assert data["domain"]["boundary"] == ["periodic", "noflux"]
    assert data["paper"] == {
        "equation": "(1)",
        "printed": {"u": {"diffusion": "1/lam", "bias": {"kernel": "chi*v_grad_c"}}},
    }
    assert data["kinetic"] == {"name": "toy-kernels", "reference": "made up"}


def test_a_changed_parameter_is_what_the_file_stores():
    model = catalogue.load_kinetic("cancer-invasion-kinetic").with_settings({"xi": 0.1 + 0.2})
    data = kinetic_to_dict(model)
    assert data["parameters"]["xi"]["value"] == 0.1 + 0.2
    assert through_toml(model).parameters["xi"] == 0.1 + 0.2 != 0.3
    assert through_toml(model).parameters != catalogue.load_kinetic("cancer-invasion-kinetic").parameters


def _frame(system: KineticDiscretisation, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    (x,) = system.grid.coordinates
    frame = {}
    for i, name in enumerate(names):
        rho = 1.0 + 0.5 * np.cos(2 * np.pi * x / 30.0 + i)
        frame[name] = rho
        tilt = 1.0 + 0.2 * np.sin(2 * np.pi * x / 15.0 + i)[None] * system.nodal.nodes[:, :1]
        frame[f"f_{name}"] = system.M[i][:, None] * rho[None] * tilt
    return frame


@pytest.mark.parametrize(
    "model",
    [catalogue.load_kinetic("cancer-invasion-kinetic").in_dimension(1), discrete_model()],
    ids=["cancer-invasion-kinetic in 1D", "discrete velocities"],
)
def test_round_trip_discretises_bit_identically(model):
    grid = cd.Grid((16,), ((0.0, 30.0),))
    rebuilt = through_toml(model)
    a, b = KineticDiscretisation(model, grid, eps=0.1), KineticDiscretisation(rebuilt, grid, eps=0.1)
    assert np.array_equal(a.M, b.M)
    frame = _frame(a, model.species_names)
    Ua, Ub = a.initial_state(frame), b.initial_state(frame)
    assert np.array_equal(Ua, Ub)
    assert np.any(Ua[len(model.species_names) :] != 0)  # the micro part is exercised too
    ra = a.explicit(0.0, Ua, np.zeros_like(Ua))
    rb = b.explicit(0.0, Ub, np.zeros_like(Ub))
    assert np.all(np.isfinite(ra)) and np.any(ra != 0)
    assert np.array_equal(ra, rb)
