"""Every catalogue model runs from the CLI, and its model file round-trips through save_model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossdiff import catalogue, default_grid, solve
from crossdiff.model import read_model_file, save_model
from crossdiff.time import IMEX

NAMES = catalogue.names()
T_END = 0.02  # a few steps of every model: the point is "runs", not accuracy


def _small_grid(model) -> str:
    """A small grid of the same dimension as the model's default."""
    return "x".join(["32"] if len(model.defaults.cells) == 1 else ["16"] * len(model.defaults.cells))


def test_catalogue_is_not_empty():
    # the paper's case studies plus the Keller-Segel references (SPEC §1)
    for name in (
        "may-nowak-taxis",
        "oncolytic-virus",
        "cancer-invasion",
        "forager-scrounger",
        "nonlinear-singular",
        "keller-segel",
        "keller-segel-elliptic",
    ):
        assert name in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_model_runs_from_cli(cli, tmp_path, name):
    model = catalogue.load(name)
    out = tmp_path / f"{name}.nc"
    res = cli(
        "run", name, "--grid", _small_grid(model), "--t-end", T_END, "--save-every", T_END / 2, "--out", out, "--json"
    )
    assert res.rc == 0, res.err
    assert res.err == ""
    summary = json.loads(res.out)
    assert summary["status"] == "success", summary["message"]
    assert summary["model"] == name
    assert summary["t_final"] == pytest.approx(T_END, rel=1e-12)
    assert summary["frames"] == 3  # t = 0, T/2, T
    assert list(summary["species"]) == list(model.species_names)
    for info in summary["species"].values():
        assert np.isfinite(info["mass"]) and info["min"] >= 0 and np.isfinite(info["max"])
    assert out.is_file()


def _assert_same_model(a, b):
    assert (a.name, a.description, a.reference) == (b.name, b.description, b.reference)
    assert a.species_names == b.species_names
    assert dict(a.parameters) == dict(b.parameters)
    assert dict(a.parameter_info) == dict(b.parameter_info)
    assert dict(a.definitions) == dict(b.definitions)
    assert a.defaults == b.defaults
    assert a.equations() == b.equations()
    assert a.equations(latex=True) == b.equations(latex=True)
    for s, t in zip(a.species, b.species):
        assert s.long_name == t.long_name
        assert s.diffusion == t.diffusion
        assert s.taxis == t.taxis
        assert s.reaction == t.reaction
        assert s.tau == t.tau
        assert s.initial == t.initial


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_file_round_trips(tmp_path, name):
    original = read_model_file(catalogue.path(name))
    saved = save_model(original, tmp_path / "copy.toml")
    again = read_model_file(saved)
    _assert_same_model(original, again)
    # and a second round trip is a fixed point of the text
    text = saved.read_text()
    assert save_model(again, tmp_path / "copy2.toml").read_text() == text

    # identical simulations: equal SymPy expressions compile to the same NumPy code, so the
    # arithmetic is the same operation for operation and the results are bitwise equal
    cells = (32,) if len(original.defaults.cells) == 1 else (12,) * len(original.defaults.cells)
    a = solve(original, default_grid(original, cells), 0.01, stepper=IMEX())
    b = solve(again, default_grid(again, cells), 0.01, stepper=IMEX())
    assert a.success and b.success
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.final, b.final)
