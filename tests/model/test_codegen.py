"""Fused compiled reaction kernels agree with the NumPy kernels (crossdiff.model._codegen)."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.fv import Discretisation
from crossdiff.fv._discretise import FUSED_MIN_CELLS
from crossdiff.model._codegen import fused_reactions, kernel_cache_dir
from crossdiff.model._compile import compile_model

# every function the expression parser allows, powers, parameters, t, constants
REACTIONS = [
    "a*u*(1 - u) - b*u*v/(1 + u)",
    "exp(-v)*sqrt(u) + log(1 + v^2) - max(u, v) + min(u, 1)*abs(v - 1) + Abs(u - 2)",
    "heaviside(v - 1)*u - sign(u - 1)*t + ln(u)",
    "sin(u)*cos(v) + tan(v/4) + atan(u) + sinh(v) - cosh(u/2) + tanh(u - v)",
    "u^2.5/(k + u^2) - v^(1/3)",
    "3",
    "0",
]


def _model(reaction: str, tau_v: float = 1.0) -> cd.Model:
    return cd.Model(
        species=[
            cd.Species("u", diffusion=1, reaction=reaction),
            cd.Species("v", diffusion=2, reaction="u - v", tau=tau_v),
        ],
        parameters={"a": 1.5, "b": 0.7, "k": 0.3},
    )


@pytest.mark.parametrize("reaction", REACTIONS)
def test_fused_reactions_equal_numpy_kernels(reaction):
    model = _model(reaction)
    cm = compile_model(model, 1)
    func = fused_reactions(cm, [0, 1])
    assert func is not None
    U = np.random.default_rng(3).uniform(0.1, 2.0, (2, 257))
    out = np.full_like(U, np.nan)
    func(np.float64(0.4), U, out)
    for i, s in enumerate(cm.species):
        expected = np.broadcast_to(s.reaction(0.4, (0.0, 0.0, 0.0), U), U.shape[1:])
        # the same arithmetic in another order (common subexpressions): round-off only
        assert np.allclose(out[i], expected, rtol=1e-13, atol=1e-13), reaction


def test_fused_reactions_follow_numpy_division_semantics():
    """Division by zero gives inf like NumPy (error_model="numpy"), so the monitor reports it."""
    cm = compile_model(_model("1/(u - 1)"), 1)
    func = fused_reactions(cm, [0])
    out = np.zeros((2, 1))
    func(np.float64(0.0), np.array([[1.0], [1.0]]), out)
    assert np.isinf(out[0, 0])


def test_space_dependent_reactions_keep_numpy_kernels():
    cm = compile_model(_model("u*(1 - x)"), 1)
    assert fused_reactions(cm, [0, 1]) is None


def test_discretisation_uses_fused_kernel_only_on_large_grids():
    model = _model(REACTIONS[0], tau_v=0.5)
    small = Discretisation(model, cd.Grid((64,)))
    large = Discretisation(model, cd.Grid((FUSED_MIN_CELLS,)))
    assert small._fused is None and large._fused is not None
    U = np.random.default_rng(4).uniform(0.1, 2.0, (2, FUSED_MIN_CELLS))
    fused = large.explicit(0.2, U)
    large._fused = None
    numpy_kernels = large.explicit(0.2, U)
    assert np.allclose(fused, numpy_kernels, rtol=1e-13, atol=1e-12)


def test_elliptic_species_are_not_in_the_fused_kernel():
    model = cd.Model(
        species=[
            cd.Species("u", diffusion=1, taxis=[cd.Taxis("v", "2")], reaction="u*(1 - u)", initial="1 + 0.1*cos(pi*x)"),
            cd.Species("v", diffusion=1, reaction="u - v", tau=0),
        ]
    )
    disc = Discretisation(model, cd.Grid((FUSED_MIN_CELLS,)))
    assert disc._fused is not None
    U = disc.initial_state(np.stack([np.full(FUSED_MIN_CELLS, 1.2), np.zeros(FUSED_MIN_CELLS)]))
    rate = disc.explicit(0.0, U)
    assert np.all(rate[1] == 0.0)
    assert np.allclose(rate[0], 1.2 * (1 - 1.2))  # flat u: no taxis flux


def test_cache_directory_falls_back_when_unwritable(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("CROSSDIFF_CACHE", str(blocked / "sub"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernel_cache_dir() == tmp_path / "xdg" / "crossdiff" / "kernels"
    monkeypatch.setenv("CROSSDIFF_CACHE", str(tmp_path / "mine"))
    assert kernel_cache_dir() == tmp_path / "mine"


def test_parameters_are_kernel_arguments_not_literals():
    """A parameter sweep compiles the kernel once: models differing only in parameter values
    share one compiled function, and each evaluates with its own values."""
    from crossdiff.model import _codegen

    base = _model(REACTIONS[0])
    other = base.with_parameters(a=4.0, b=0.1)
    before = len(_codegen._LOADED)
    f1 = fused_reactions(compile_model(base, 1), [0, 1])
    f2 = fused_reactions(compile_model(other, 1), [0, 1])
    assert len(_codegen._LOADED) <= before + 1
    U = np.random.default_rng(8).uniform(0.1, 2.0, (2, 33))
    for model, func in ((base, f1), (other, f2)):
        out = np.zeros_like(U)
        func(np.float64(0.0), U, out)
        a, b = model.parameters["a"], model.parameters["b"]
        u, v = U
        assert np.allclose(out[0], a * u * (1 - u) - b * u * v / (1 + u), rtol=1e-13)


def test_exponent_parameters_are_literals_with_correct_values():
    """Parameters in exponents are compiled in (fast integer powers); each value is right."""
    model = cd.Model(species=[cd.Species("u", diffusion=1, reaction="c*u^q")], parameters={"q": 2.0, "c": 3.0})
    U = np.random.default_rng(9).uniform(0.1, 2.0, (1, 17))
    for q in (2.0, 0.5):
        m = model.with_parameters(q=q)
        out = np.zeros_like(U)
        fused_reactions(compile_model(m, 1), [0])(np.float64(0.0), U, out)
        assert np.allclose(out[0], 3.0 * U[0] ** q, rtol=1e-14)
