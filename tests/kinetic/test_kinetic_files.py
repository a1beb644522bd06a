"""Kinetic objects, files and the kinetic catalogue: strict parsing, one-line errors."""

from __future__ import annotations

import textwrap

import pytest
import sympy as sp

from crossdiff.catalogue import load_kinetic
from crossdiff.catalogue import names as catalogue_names
from crossdiff.errors import ExpressionError, InputError, KineticModelError
from crossdiff.kinetic import (
    DiscreteVelocities,
    KineticModel,
    KineticSpecies,
    Relaxation,
    Sphere,
    read_kinetic_file,
)

GOOD = """
[kinetic]
name = "toy"

[velocity]
space = "sphere"
dim = 2
radius = "R"

[parameters]
R = 1
chi = { value = 2.0, description = "sensitivity" }

[[species]]
name = "u"
turning = { relaxation = "R**2/d" }
bias = { kernel = "-(chi/absV)*vs_grad_c" }
interaction = "u*(1 - u)/absV"
initial = "1 + 0.01*noise"

[[species]]
name = "c"
turning = { relaxation = 1 }
interaction = "(u - c)/absV"
"""


def write(tmp_path, text: str, name: str = "k.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_catalogue_names_and_loading():
    names = catalogue_names("kinetic")
    assert {
        "oncolytic-virus-kinetic",
        "cancer-invasion-kinetic",
        "forager-scrounger-kinetic",
        "nonlinear-singular-kinetic",
    } <= set(names)
    for name in names:
        kin = load_kinetic(name)
        assert isinstance(kin, KineticModel) and kin.name == name and kin.paper is not None


def test_unknown_catalogue_name_lists_the_valid_ones():
    with pytest.raises(KineticModelError, match="oncolytic-virus-kinetic"):
        load_kinetic("no-such-model")


def test_good_file(tmp_path):
    kin = read_kinetic_file(write(tmp_path, GOOD))
    assert kin.dim == 2 and kin.species_names == ("u", "c")
    assert kin.parameter_info["chi"] == "sensitivity"
    assert kin.velocity.measure == 2 * sp.pi * sp.Symbol("R")
    assert kin.defaults.extent == ((0.0, 1.0), (0.0, 1.0))


@pytest.mark.parametrize(
    "change, message",
    [
        (('space = "sphere"', 'space = "torus"'), "space must be one of 'sphere', 'ball', 'gaussian', 'discrete'"),
        (('space = "sphere"', 'space = "gaussian"'), "radius is only for space = 'sphere' or 'ball'"),
        (('space = "sphere"', 'space = "ball"\ntemperature = 1'), "temperature is only for space = 'gaussian'"),
        (("dim = 2", "dim = 4"), "dim must be 1, 2 or 3"),
        (('name = "toy"', 'name = "toy"\ncolour = 1'), "unknown key 'colour' in \\[kinetic\\]"),
        (('initial = "1 + 0.01*noise"', "initial = 1\nturnin = 1"), "unknown key 'turnin'"),
        (("turning = { relaxation = 1 }", 'turning = { relaxation = 1, kernel = "1" }'), "exactly one of"),
        (("-(chi/absV)*vs_grad_c", "-(chi/absV)*vs_grad_w"), "unknown or misplaced symbol 'vs_grad_w'"),
        (("u*(1 - u)/absV", "u*(1 - vsx)/absV"), "misplaced symbol 'vsx' in the interaction"),
        (("u*(1 - u)/absV", "u*(1 - vz)/absV"), "velocity components in d = 2"),
        (("R = 1", "R = 1\nM_u = 2"), "reserved"),
        (("-(chi/absV)*vs_grad_c", "-(chi/absV)*vs_grad_c*sigma_c*sigma_q"), "sigma_q"),
        (("R**2/d", "R**2/"), "cannot parse expression"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, change, message):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError, match=message) as info:
        read_kinetic_file(path)
    assert "\n" not in str(info.value) and "k.toml" in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(KineticModelError, match="not found"):
        read_kinetic_file(tmp_path / "missing.toml")
    with pytest.raises(KineticModelError, match="malformed TOML"):
        read_kinetic_file(write(tmp_path, "[kinetic\n"))
    with pytest.raises(KineticModelError, match="not a kinetic model file"):
        read_kinetic_file(write(tmp_path, "[model]\nname = 'x'\n"))
    with pytest.raises(KineticModelError, match="missing 'turning'"):
        read_kinetic_file(write(tmp_path, GOOD.replace("turning = { relaxation = 1 }\n", "")))


def test_discrete_velocity_files(tmp_path):
    text = """
    [velocity]
    space = "discrete"
    points = [[-1], [0], [1]]
    weights = [1, 2, 1]
    [parameters]
    lam = 1
    [[species]]
    name = "u"
    equilibrium = [0.25, 0.5, 0.25]
    turning = { matrix = [["0", "lam", "lam"], ["lam", 0, "lam"], ["lam", "lam", 0]] }
    """
    kin = read_kinetic_file(write(tmp_path, text))
    assert isinstance(kin.velocity, DiscreteVelocities) and kin.velocity.measure == 4
    bad = text.replace("[0.25, 0.5, 0.25]", "[0.5, 0.5]")
    with pytest.raises(KineticModelError, match="equilibrium has 2 values, but the velocity set has 3"):
        read_kinetic_file(write(tmp_path, bad))
    bad = text.replace('["lam", "lam", 0]]', '["lam", "lam"]]')
    with pytest.raises(KineticModelError, match="square"):
        read_kinetic_file(write(tmp_path, bad))
    bad = text.replace('space = "discrete"', 'space = "sphere"\ndim = 1')
    with pytest.raises(KineticModelError, match="only for space"):
        read_kinetic_file(write(tmp_path, bad))


def test_tables_need_a_discrete_set():
    from crossdiff.kinetic import Equilibrium

    with pytest.raises(KineticModelError, match="discrete velocity set"):
        KineticModel(
            (KineticSpecies("u", turning=Relaxation(1), equilibrium=Equilibrium(values=(1, 2))),), Sphere(2, 1)
        )


def test_python_objects_validate():
    with pytest.raises(KineticModelError, match="integer >= 1"):
        KineticSpecies("u", turning=Relaxation(1), p=0)
    with pytest.raises(KineticModelError, match="defined twice"):
        KineticModel((KineticSpecies("u", turning=Relaxation(1)),) * 2, Sphere(1, 1))
    with pytest.raises(ExpressionError):
        Relaxation("import os")
    with pytest.raises(KineticModelError, match="radius must be positive"):
        Sphere(2, -1)
    with pytest.raises(KineticModelError, match="distinct"):
        DiscreteVelocities(((1,), (1,)))
    with pytest.raises(KineticModelError, match="clashes with the sphere radius"):
        KineticModel((KineticSpecies("u", turning=Relaxation(1)),), Sphere(2, 2), parameters={"R": 1})
