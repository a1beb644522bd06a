"""``docs/kinetic-files.md`` documents every key the kinetic-file reader accepts, and its examples
are valid kinetic files whose limits are what the page says."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from crossdiff.derive import derive
from crossdiff.errors import KineticModelError
from crossdiff.kinetic import kinetic_from_dict

PAGE = Path(__file__).resolve().parents[2] / "docs" / "kinetic-files.md"

#: A minimal valid kinetic file (as parsed TOML).
_BASE: dict[str, Any] = {
    "velocity": {"space": "sphere", "dim": 1},
    "species": [{"name": "u", "turning": {"relaxation": 1}}],
}


def _species(d):
    return d["species"][0]


#: Row label of the page's key table -> where to put an unknown key in a file.
_PLACES: dict[str, Callable[[dict], dict]] = {
    "top level": lambda d: d,
    "`[kinetic]`": lambda d: d.setdefault("kinetic", {}),
    "`[velocity]`": lambda d: d["velocity"],
    "`[parameters]` entry": lambda d: d.setdefault("parameters", {}).setdefault("a", {"value": 1}),
    "`[domain]`": lambda d: d.setdefault("domain", {}),
    "`[[species]]`": _species,
    "`turning`": lambda d: _species(d)["turning"],
    "`bias`": lambda d: _species(d).setdefault("bias", {"kernel": "0"}),
    "`[paper]`": lambda d: d.setdefault("paper", {}),
    "`[paper.printed.NAME]`": lambda d: d.setdefault("paper", {}).setdefault("printed", {}).setdefault("u", {}),
    "`taxis` entry (in `printed`)": lambda d: (
        d.setdefault("paper", {}).setdefault("printed", {}).setdefault("u", {}).setdefault("taxis", [{}])[0]
    ),
}


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _documented() -> dict[str, set[str]]:
    """The page's table of keys: row label -> keys."""
    section = _page().split("## Every key", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in section.splitlines()[2:]:
        label, keys = (cell.strip() for cell in line.strip("|").split("|"))
        rows[label] = set(re.findall(r"`([^`]+)`", keys))
    return rows


def _accepted(place: Callable[[dict], dict]) -> set[str]:
    """The keys the reader accepts at ``place``, from its error message for an unknown key."""
    data = copy.deepcopy(_BASE)
    place(data)["zz_unknown"] = 1
    with pytest.raises(KineticModelError, match="unknown key 'zz_unknown'") as info:
        kinetic_from_dict(data)
    message = str(info.value)
    return set(message.split("allowed: ", 1)[1].split(", "))


def test_the_base_file_is_valid():
    assert kinetic_from_dict(copy.deepcopy(_BASE)).species_names == ("u",)


def test_the_key_table_has_a_row_for_every_table_of_the_reader():
    assert set(_documented()) == set(_PLACES)


@pytest.mark.parametrize("label", list(_PLACES))
def test_every_accepted_key_is_documented_and_nothing_else(label):
    assert _documented()[label] == _accepted(_PLACES[label])


def test_every_key_is_explained_below_the_table():
    body = _page().split("## Every key", 1)[1].split("\n\n", 2)[2]
    for label, keys in _documented().items():
        for key in keys:
            # the top-level keys are the tables, explained under their headings `[key]`, `[[key]]`
            spellings = (f"`[{key}]`", f"`[[{key}]]`") if label == "top level" else (f"`{key}`",)
            assert any(s in body for s in spellings), (label, key)


def _examples() -> list[dict]:
    return [tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", _page(), re.S)]


def test_the_examples_are_kinetic_files_with_the_stated_limits():
    run_and_tumble, two_velocities = (kinetic_from_dict(data) for data in _examples())
    limit = derive(run_and_tumble)
    D, R, sigma = limit["u"].D[0, 0], sp.Symbol("R"), sp.Symbol("sigma")
    assert sp.simplify(D - R**2 / (2 * sigma)) == 0
    assert D.subs({R: 1, sigma: sp.Rational(1, 2)}) == 1  # "D_u = R²/(2σ) = 1" at the defaults
    assert sp.simplify(limit["u"].chi["c"][0, 0] - sp.Symbol("chi")) == 0
    assert limit["c"].D[0, 0] == 1
    assert sp.simplify(limit["u"].psi - sp.sympify("u*(1 - u)")) == 0
    assert sp.simplify(limit["c"].psi - sp.sympify("u - c")) == 0
    lam = sp.Symbol("lam")
    assert sp.simplify(derive(two_velocities)["u"].D[0, 0] - 1 / (2 * lam)) == 0
