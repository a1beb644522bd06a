"""What macroscopic and kinetic models share (crossdiff.base.ModelBase): parameter and definition
tables, ``with_parameters`` / ``with_definitions`` / ``with_settings``, expansion of definitions."""

from __future__ import annotations

import pytest
import sympy as sp

from crossdiff import catalogue
from crossdiff.base import ModelBase, RunDefaults
from crossdiff.errors import KineticModelError, ModelError, ParameterError
from crossdiff.kinetic import KineticModel, KineticSpecies, Relaxation, Sphere
from crossdiff.model import Model, Species


def macro() -> Model:
    return catalogue.load("forager-scrounger")


def kinetic() -> KineticModel:
    return catalogue.load_kinetic("forager-scrounger-kinetic")


@pytest.fixture(params=["macro", "kinetic"])
def model(request) -> ModelBase:
    return macro() if request.param == "macro" else kinetic()


def test_both_scales_share_the_base(model):
    assert isinstance(model, ModelBase)
    assert isinstance(model.defaults, RunDefaults)
    assert "f" in model.definitions and "xi1" in model.parameters


def test_models_pickle_and_copy(model):
    """A sweep sends models to other processes: pickling and deep copies give equal models."""
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(model)) == model
    assert copy.deepcopy(model) == model


def test_numbers_set_parameters_and_expressions_replace_definitions(model):
    changed = model.with_settings(["xi1=2.5", "f = u1*(1 - u1)"])
    assert changed.parameters["xi1"] == 2.5
    assert changed.definitions["f"] == sp.sympify("u1*(1 - u1)")
    assert type(changed) is type(model) and changed.species == model.species
    # the original is unchanged (models are immutable)
    assert model.parameters["xi1"] != 2.5 and model.definitions["f"] != changed.definitions["f"]


def test_settings_from_a_mapping(model):
    changed = model.with_settings({"xi1": 3, "xi2": "0.25", "f": 1})
    assert changed.parameters["xi1"] == 3.0 and changed.parameters["xi2"] == 0.25
    assert changed.definitions["f"] == 1
    assert model.with_settings({}) is model and model.with_settings([]) is model


@pytest.mark.parametrize(
    "setting, words",
    [
        (["nope=1"], ["unknown parameter 'nope'", "known:", "xi1", "f"]),
        (["xi1=abc"], ["parameter 'xi1'", "needs a number", "'abc'"]),
        (["xi1=nan"], ["parameter 'xi1'", "finite"]),
        (["xi1=inf"], ["parameter 'xi1'", "finite"]),
        ({"xi1": float("nan")}, ["parameter 'xi1'", "finite"]),
        ({"xi1": True}, ["parameter 'xi1'", "boolean"]),
        (["xi1"], ["NAME=VALUE", "'xi1'"]),
    ],
)
def test_bad_settings_are_parameter_errors(model, setting, words):
    with pytest.raises(ParameterError) as info:
        model.with_settings(setting)
    text = str(info.value)
    assert "\n" not in text
    for word in words:
        assert word in text, (word, text)


def test_a_bad_definition_expression_is_refused(model):
    with pytest.raises(ModelError, match="definition 'f'"):
        model.with_settings(["f=u1 +"])


def test_with_parameters_and_with_definitions_on_both_scales(model):
    assert model.with_parameters(xi1=0.5).parameters["xi1"] == 0.5
    with pytest.raises(ParameterError, match="unknown parameter 'q'"):
        model.with_parameters(q=1)
    with pytest.raises(ParameterError, match="unknown definition 'nope'"):
        model.with_definitions(nope="u1")


def test_expand_substitutes_definitions_recursively():
    species = (Species("u", diffusion=1, reaction="g"),)
    model = Model(species, parameters={"r": 2}, definitions={"g": "r*h", "h": "u*(1 - u)"})
    assert model.expand(sp.Symbol("g")) == sp.sympify("r*u*(1 - u)")
    with pytest.raises(ModelError, match="definition 'g' refers to itself"):
        Model(species, parameters={"r": 2}, definitions={"g": "r*h", "h": "g"})
    with pytest.raises(KineticModelError, match="refers to itself"):
        KineticModel((KineticSpecies("u", turning=Relaxation("g")),), Sphere(2, 1), definitions={"g": "h", "h": "g"})


@pytest.mark.parametrize(
    "kwargs, message, kinetic_error",
    [
        ({"parameters": {"u": 1}}, "parameter 'u' has the name of a species", KineticModelError),
        ({"parameters": {"a": 1}, "definitions": {"a": "u"}}, "definition 'a' clashes", KineticModelError),
        ({"parameters": {"2a": 1}}, "invalid parameter name '2a'", KineticModelError),
        ({"parameters": {"pi": 1}}, "reserved", KineticModelError),
        ({"parameters": {"a": "1"}}, "parameter 'a': expected a number", ParameterError),
        ({"parameters": {"a": float("inf")}}, "parameter 'a' must be a finite number", ParameterError),
    ],
)
def test_parameter_and_definition_tables_are_checked_alike(kwargs, message, kinetic_error):
    with pytest.raises(ModelError, match=message):
        Model((Species("u", diffusion=1),), **kwargs)
    with pytest.raises(kinetic_error, match=message):
        KineticModel((KineticSpecies("u", turning=Relaxation(1)),), Sphere(2, 1), **kwargs)


def test_kinetic_parameter_symbols_keep_integers_exact():
    kin = KineticModel((KineticSpecies("u", turning=Relaxation(1)),), Sphere(2, 1), parameters={"a": 2, "b": 0.5})
    values = kin.parameter_symbols()
    assert values[sp.Symbol("a")] == 2 and values[sp.Symbol("a")].is_Integer
    assert Model((Species("u", diffusion=1),), parameters={"a": 2}).parameter_symbols()[sp.Symbol("a")].is_Float


@pytest.mark.parametrize(
    "table, message",
    [
        ({"t_end": -1}, r"\[domain\] t_end must be a positive number"),
        ({"save_every": float("nan")}, r"\[domain\] save_every must be a positive number"),
        ({"seed": -1}, r"\[domain\] seed must be a non-negative integer"),
        ({"extent": [[0, "a"]]}, r"\[domain\] extent entry must be a finite number"),
        ({"extent": [[1, 0]]}, "high > low"),
        ({"cells": [0]}, "positive integers"),
        ({"cells": [4, 4]}, "cells has 2 entries but extent has 1"),
        ({"boundary": "open"}, "'noflux' or 'periodic'"),
        ({"colour": 1}, "unknown key 'colour'"),
    ],
)
def test_domain_table(table, message):
    with pytest.raises(ModelError, match=message):
        RunDefaults.from_table(table)
    with pytest.raises(KineticModelError):
        RunDefaults.from_table(table, KineticModelError)


def test_domain_table_values():
    d = RunDefaults.from_table({"extent": [[0, 2], [0, 3]], "cells": [8, 12], "t_end": 5, "seed": 3})
    assert d.extent == ((0.0, 2.0), (0.0, 3.0)) and d.cells == (8, 12) and d.t_end == 5.0 and d.seed == 3
