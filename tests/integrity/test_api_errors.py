"""Bad arguments to the public Python API get crossdiff's own exception types with a message that
names the argument, never a raw ValueError, TypeError or AttributeError from deep inside."""

from __future__ import annotations

import pytest

import crossdiff as cd
from crossdiff import analysis, catalogue
from crossdiff.derive import derive
from crossdiff.errors import CrossdiffError
from crossdiff.flow import discretise
from crossdiff.sweep import plot_sweep, predicted_threshold, sweep

MODEL = catalogue.load("keller-segel-logistic")

CASES = [
    (lambda: analysis.dispersion("keller-segel"), "model must be a Model"),
    (lambda: analysis.dispersion(MODEL, points=0), "points must be an integer >= 2"),
    (lambda: analysis.dispersion(MODEL, k_max=-1.0), "k_max must be a positive number"),
    (lambda: analysis.critical(MODEL, "chi", bracket=(5, "a")), "bracket high must be a finite number"),
    (lambda: analysis.critical(MODEL, "chi", bracket=5), "bracket must be two numbers"),
    (lambda: analysis.blowup_study(MODEL, grids=["a", "b"]), "invalid grid"),
    (lambda: analysis.extrapolate([1.0, 0.5], [1.0]), "one time per grid spacing"),
    (lambda: analysis.classify(None), "classify needs a crossdiff Solution"),
    (lambda: catalogue.load_kinetic(None), "named by a catalogue name or a file path"),
    (lambda: catalogue.load_kinetic(3), "named by a catalogue name or a file path"),
    (lambda: catalogue.resolve_any(None), "named by a catalogue name or a file path"),
    (lambda: derive(MODEL), "derive needs a KineticModel \\(a macroscopic Model is a limit already\\)"),
    (lambda: derive(None), "derive needs a KineticModel \\(got NoneType\\)"),
    (lambda: discretise(None, cd.Grid((8,))), "model must be a Model, got NoneType"),
    (lambda: sweep(MODEL, ["chi=1,2"], None), "out \\(the result directory\\) must be a file or directory path"),
    (lambda: sweep(MODEL, ["chi=1,2"], 3), "must be a file or directory path, got 3"),
    (lambda: plot_sweep(None), "result .* must be a SweepResult"),
    (lambda: predicted_threshold(MODEL, "unknown"), "unknown parameter 'unknown'"),
    (lambda: cd.Run("cancer-invasion-kinetic", eps="0.1"), "eps must be a number in \\(0, 1\\], got '0.1'"),
    (lambda: cd.solve(MODEL, t_end="a"), "end time must be a positive number"),
]


@pytest.mark.parametrize(("call", "fragment"), CASES, ids=[f for _, f in CASES])
def test_bad_arguments_get_crossdiff_errors_naming_them(call, fragment):
    with pytest.raises(CrossdiffError, match=fragment) as info:
        call()
    assert "\n" not in str(info.value)


def test_messages_name_the_real_cause(cli, tmp_path):
    """An ε whose powers overflow, a directory given as a run file, a negative boundary value of a
    density: each refused up front with its own cause (before: 'sqrt or log of a negative
    number', 'not found', a failure blamed on the reaction)."""
    grid = cd.Grid((8,), ((0.0, 30.0),))
    with pytest.raises(CrossdiffError, match="eps = 1e-200 is so small that eps\\^-3 overflows"):
        cd.solve("cancer-invasion-kinetic", grid, 0.1, eps=1e-200)
    res = cli("plot", tmp_path)
    assert res.rc == 2 and "is a directory, not a run file" in res.err, res.err
    model = cd.Model(
        species=[cd.Species("u", diffusion=1, initial=1, boundary={"x_low": {"dirichlet": -1}})], name="negative-wall"
    )
    with pytest.raises(CrossdiffError, match="dirichlet value of species 'u' on side x_low is negative"):
        cd.solve(model, cd.Grid((16,)), 0.1)
