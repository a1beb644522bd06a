"""One loader for the macroscopic and the kinetic catalogue."""

from __future__ import annotations

import pytest

from crossdiff import catalogue, kinetic
from crossdiff.errors import InputError, KineticModelError, ModelError
from crossdiff.kinetic import KineticModel
from crossdiff.model import Model


def test_names_by_kind():
    macro, kin = catalogue.names(), catalogue.names("kinetic")
    assert catalogue.names("macro") == macro and "keller-segel" in macro
    assert "oncolytic-virus-kinetic" in kin and not set(macro) & set(kin)
    assert macro == sorted(macro) and kin == sorted(kin)
    with pytest.raises(InputError, match="unknown catalogue kind 'micro'; choose one of: macro, kinetic"):
        catalogue.names("micro")


def test_paths_and_loading():
    assert catalogue.path("keller-segel").name == "keller-segel.toml"
    assert catalogue.path("oncolytic-virus-kinetic", "kinetic").parent.name == "kinetic"
    assert isinstance(catalogue.load("keller-segel"), Model)
    assert isinstance(catalogue.load_kinetic("oncolytic-virus-kinetic"), KineticModel)


def test_every_kinetic_entry_names_a_macroscopic_one():
    for name in catalogue.names("kinetic"):
        kin = catalogue.load_kinetic(name)
        assert kin.macro in catalogue.names(), name


def test_names_or_paths(tmp_path):
    by_name = catalogue.resolve_model("keller-segel")
    by_path = catalogue.resolve_model(str(catalogue.path("keller-segel")))
    assert by_name == by_path
    kin_path = catalogue.path("cancer-invasion-kinetic", "kinetic")
    assert catalogue.load_kinetic(kin_path) == catalogue.load_kinetic("cancer-invasion-kinetic")
    with pytest.raises(ModelError, match="not found"):
        catalogue.resolve_model(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: catalogue.load("nope"), ModelError, ["unknown catalogue model 'nope'", "keller-segel"]),
        (lambda: catalogue.resolve_model("nope"), ModelError, ["unknown catalogue model 'nope'"]),
        (
            lambda: catalogue.path("nope", "kinetic"),
            KineticModelError,
            ["unknown kinetic model 'nope'", "oncolytic-virus-kinetic"],
        ),
        (lambda: catalogue.load_kinetic("keller-segel"), KineticModelError, ["unknown kinetic model 'keller-segel'"]),
    ],
)
def test_unknown_names_list_the_entries_of_their_kind(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_the_kinetic_package_does_not_know_the_catalogue():
    # one loader, one direction (catalogue -> kinetic): no re-exports under historical names
    for name in ("kinetic_names", "kinetic_path", "load_kinetic"):
        assert not hasattr(kinetic, name)
    path = catalogue.path("oncolytic-virus-kinetic", "kinetic")
    assert path.stem in catalogue.names("kinetic")
    assert catalogue.load_kinetic("oncolytic-virus-kinetic") == kinetic.read_kinetic_file(path)
