"""The registries (one source of truth for named choices) and the shared validators."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossdiff.cli import main
from crossdiff.errors import InputError, ParameterError
from crossdiff.fv import LIMITERS
from crossdiff.grid import BOUNDARIES
from crossdiff.registry import Deferred, Registry
from crossdiff.time import STEPPERS, Stepper, stepper_from_name
from crossdiff.validation import finite_number, non_negative_integer, non_negative_number, positive_number


def test_a_deferred_entry_is_imported_on_first_lookup_only():
    """Names, help and options come from the registration; the object from its import path,
    once (the command line lists the steppers without importing their kernels)."""
    r: Registry[object] = Registry("codec")
    r.register("json", Deferred("json:dumps"), "JSON text", {"indent": "spaces per level"})
    assert (
        r.names() == ("json",)
        and r.help() == "json (JSON text)"
        and r.options("json") == {"indent": "spaces per level"}
    )
    r.check_options("json", ["indent"])
    assert isinstance(r._entries["json"].value, Deferred)  # not imported by any of the above
    import json

    assert r["json"] is json.dumps and r.entry("json").value is json.dumps
    assert not isinstance(r._entries["json"].value, Deferred)  # kept


def test_registry_lookup_order_and_errors():
    r: Registry[int] = Registry("colour")
    r.register("red", 1, "warm")
    r.register("blue", 2)
    assert r["RED"] == 1 and "blue" in r and "green" not in r and len(r) == 2
    assert r.names() == ("red", "blue") and list(r) == ["red", "blue"]
    assert r.help() == "red (warm), blue"
    with pytest.raises(InputError, match="unknown colour 'green'; choose one of: red, blue"):
        r["green"]
    with pytest.raises(ValueError, match="already registered"):
        r.register("red", 3)
    with pytest.raises(ValueError, match="lower case"):
        r.register("Green", 3)


def test_every_registered_stepper_builds_and_is_a_stepper():
    for name in STEPPERS:
        assert isinstance(stepper_from_name(name), Stepper)
    with pytest.raises(InputError, match="unknown stepper 'rk4'; choose one of: imex, imex3, ssprk3, bdf"):
        stepper_from_name("rk4")


@pytest.mark.parametrize(
    ("option", "registry"), [("--stepper", STEPPERS), ("--limiter", LIMITERS), ("--boundary", BOUNDARIES)]
)
def test_cli_choices_and_help_come_from_the_registries(option, registry, capsys):
    """`crossdiff run --help` lists exactly the registered names with their summaries."""
    assert main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "{" + ",".join(registry.names()) + "}" in text
    for name in registry:
        summary = registry.entry(name).summary
        assert " ".join(summary.split()) in text
    assert main(["run", "keller-segel", option, "nonsense"]) == 2
    assert "invalid choice: 'nonsense'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "1", None, True, np.array([1.0])])
def test_positive_number_refuses(bad):
    with pytest.raises(InputError, match="rtol must be a positive number"):
        positive_number(bad, "rtol")


def test_validators_accept_and_convert():
    assert positive_number(np.float32(0.5), "x") == 0.5 and isinstance(positive_number(2, "x"), float)
    assert non_negative_number(0, "x") == 0.0 and finite_number(-3, "x") == -3.0
    assert non_negative_integer(np.int64(4), "n") == 4
    for bad in (-1, 1.5, True):
        with pytest.raises(InputError, match="n must be a non-negative integer"):
            non_negative_integer(bad, "n")
    with pytest.raises(ParameterError):  # the error type is the caller's choice
        finite_number(math.inf, "beta", ParameterError)
