"""The Run: one description of a simulation, built from arguments with the model's defaults,
read back from a run file, changed with validation, and run by ``solve(run)``."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import InputError, ModelError, OutputError
from crossdiff.fv import DEFAULT_LIMITER
from crossdiff.io import open_run, run_attributes
from crossdiff.solve import SCALES, KineticOptions, Run, scale_of
from crossdiff.time import GSAIMEX, IMEX


def test_defaults_come_from_the_model():
    model = cd.catalogue.load("may-nowak-taxis")
    run = Run(model)
    d = model.defaults
    assert run.domain == cd.default_grid(model) and run.domain.cells == d.cells
    assert run.t_end == d.t_end and run.seed == d.seed and run.limiter == DEFAULT_LIMITER == "mc"
    expected_every = d.save_every or d.t_end / 20
    assert run.save_every == expected_every
    assert isinstance(run.stepper, IMEX) and run.scale == "macro" and run.kinetic is None
    assert run.output is None and run.mode == "new" and not run.resume


def test_a_kinetic_run_needs_eps_and_follows_the_domain_dimension():
    with pytest.raises(InputError, match="needs eps"):
        Run("cancer-invasion-kinetic")
    run = Run("cancer-invasion-kinetic", cd.Grid((40,), ((0.0, 30.0),)), eps=0.1)
    assert run.scale == "kinetic" and run.model.dim == 1  # the velocity sphere of the domain
    assert isinstance(run.stepper, GSAIMEX) and run.kinetic == KineticOptions(0.1)
    with pytest.raises(InputError, match="ars443"):
        Run("cancer-invasion-kinetic", cd.Grid((40,), ((0.0, 30.0),)), eps=0.1, stepper="imex")
    with pytest.raises(InputError, match="eps applies to kinetic models only"):
        Run("keller-segel", eps=0.1)


def test_scales_are_chosen_by_the_registry():
    assert scale_of(cd.catalogue.load("keller-segel-fluid")) is SCALES["flow"]
    assert scale_of(cd.catalogue.load("keller-segel")) is SCALES["macro"]
    assert scale_of(cd.catalogue.load_kinetic("forager-scrounger-kinetic")) is SCALES["kinetic"]
    with pytest.raises(InputError, match="model must be a crossdiff Model"):
        scale_of(3.0)


def test_a_run_is_frozen_and_replace_validates():
    run = Run("keller-segel", cd.Grid((8, 8), ((-0.5, 0.5), (-0.5, 0.5))), 0.01)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.t_end = 2.0  # type: ignore[misc]
    assert run.replace(t_end=0.02).t_end == 0.02 and run.t_end == 0.01
    with pytest.raises(InputError, match="end time"):
        run.replace(t_end=-1.0)
    with pytest.raises(InputError, match="unknown limiter"):
        run.replace(limiter="superbee")
    with pytest.raises(InputError, match="no setting 'dt'"):
        run.replace(dt=0.1)
    with pytest.raises(InputError, match="eps applies to kinetic models only"):
        run.replace(eps=0.1)
    with pytest.raises(InputError, match="output mode"):
        run.replace(mode="append")
    with pytest.raises(InputError, match="resume needs the output file"):
        run.replace(mode="resume")
    with pytest.raises(ModelError):
        run.replace(initial={"nobody": 1.0})


def test_solve_of_a_run_equals_the_convenience_call():
    grid = cd.Grid((12, 12), ((0.0, 20.0), (0.0, 20.0)))
    run = Run("keller-segel-logistic", grid, 0.5, save_every=0.25, seed=3)
    a = cd.solve(run)
    b = cd.solve("keller-segel-logistic", grid, 0.5, save_every=0.25, seed=3)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert a.run is run and a.stats.n_steps == b.stats.n_steps


def _settings(run: Run) -> dict:
    return {
        "model": run.model.name,
        "parameters": dict(run.model.parameters),
        "domain": run.domain,
        "t_end": run.t_end,
        "save_every": run.save_every,
        "limiter": run.limiter,
        "seed": run.seed,
        "stepper": run.stepper.settings(),
        "kinetic": run.kinetic,
    }


def test_from_file_reads_back_everything_a_macroscopic_run_file_records(tmp_path):
    model = cd.catalogue.load("keller-segel-logistic").with_parameters(chi=7.5)
    grid = cd.Grid((10, 12), ((0.0, 20.0), (0.0, 24.0)), ("periodic", "noflux"))
    stepper = cd.IMEX(rtol=1e-5, atol=1e-8)
    run = Run(model, grid, 0.4, stepper=stepper, save_every=0.2, limiter="minmod", seed=11, output=tmp_path / "a.nc")
    cd.solve(run)
    back = Run.from_file(tmp_path / "a.nc")
    assert _settings(back) == _settings(run)
    assert back.mode == "resume" and back.output == tmp_path / "a.nc"
    attrs = run_attributes(tmp_path / "a.nc")
    assert attrs["scale"] == "macro" and attrs["domain"] == "box" and attrs["frames"] == 3


def test_from_file_reads_back_a_kinetic_run_without_its_model(tmp_path):
    """A kinetic run file holds its model (``kinetic_toml``): it resumes from the file alone,
    with the file's ε, velocities, distributions, stepper, limiter and save interval."""
    grid = cd.Grid((8, 8), ((0.0, 30.0), (0.0, 30.0)))
    model = cd.catalogue.load_kinetic("cancer-invasion-kinetic").with_parameters(chi=0.3)
    stepper = GSAIMEX(rtol=1e-4)
    out = tmp_path / "k.nc"
    run = Run(model, grid, 0.02, eps=0.05, velocities=8, save_f=True, stepper=stepper, save_every=0.01, output=out)
    run = run.replace(limiter="gminmod")
    first = cd.solve(run)
    back = Run.from_file(out)
    assert _settings(back) == _settings(run)
    resumed = cd.solve(back.replace(t_end=0.03))
    assert resumed.success and resumed.t_final == pytest.approx(0.03) and resumed.kinetic["velocities"] == 8
    assert first.kinetic["nodes"] == resumed.kinetic["nodes"]
    with open_run(out) as ds:
        np.testing.assert_allclose(ds["time"].values, [0.0, 0.01, 0.02, 0.03], atol=1e-14)
        assert ds["f_u1"].shape[0] == 4  # the distributions go on being written


def test_agree_names_both_values(tmp_path):
    out = tmp_path / "a.nc"
    cd.solve(Run("keller-segel", cd.Grid((8, 8), ((-0.5, 0.5), (-0.5, 0.5))), 0.01, save_every=0.005, output=out))
    run = Run.from_file(out)
    with pytest.raises(OutputError, match=r"save_every = 0.005; save_every = 0.002 contradicts it"):
        run.agree(save_every=0.002)
    with pytest.raises(OutputError, match=r"limiter = mc; --limiter minmod contradicts it"):
        run.agree({"limiter": "--limiter minmod"}, limiter="minmod")
    with pytest.raises(OutputError, match=r"has grid 8x8; grid 16x16 contradicts it"):
        run.agree(domain=cd.Grid((16, 16), ((-0.5, 0.5), (-0.5, 0.5))))
    with pytest.raises(OutputError, match="the stepper options given contradict it"):
        run.agree(stepper=cd.IMEX(rtol=1e-5))
    with pytest.raises(OutputError, match="seed does not apply"):
        run.agree(seed=2)
    with pytest.raises(OutputError, match="parameter chi is"):
        run.agree(model=run.model.with_parameters(chi=run.model.parameters["chi"] + 1))
    same = run.agree(model=run.model, stepper=cd.IMEX(), limiter="mc", save_every=0.005, t_end=0.02)
    assert same.t_end == 0.02 and same.stepper.settings() == run.stepper.settings()


def test_run_attributes_record_the_initial_data_given(tmp_path):
    out = tmp_path / "a.nc"
    grid = cd.Grid((16,), ((0.0, 1.0),))
    cd.solve(Run("keller-segel", grid, 0.001, initial={"u": "1 + 0.1*cos(pi*x)"}, output=out))
    attrs = run_attributes(out)
    assert json.loads(str(attrs["initial"])) == {"u": "1 + 0.1*cos(pi*x)"}
    assert float(attrs["t_end"]) == 0.001 and int(attrs["seed"]) == 0


def test_every_scale_registers_a_box_system():
    for name in SCALES:
        assert "box" in SCALES[name].systems, name


def test_options_that_cannot_apply_are_refused():
    from crossdiff.analysis import limit_convergence
    from crossdiff.kinetic import kinetic_from_dict, kinetic_to_dict

    data = kinetic_to_dict(cd.catalogue.load_kinetic("cancer-invasion-kinetic").in_dimension(1))
    data["velocity"] = {"space": "discrete", "points": [[-1.0], [1.0]], "weights": [1.0, 1.0]}
    for table in data["species"]:
        table.pop("equilibrium", None)
    discrete = kinetic_from_dict(data)
    grid = cd.Grid((16,), ((0.0, 30.0),))
    assert Run(discrete, grid, eps=0.1).kinetic.velocities is None
    with pytest.raises(InputError, match="velocities applies to a velocity sphere; .* discrete set of 2 velocities"):
        Run(discrete, grid, eps=0.1, velocities=8)
    with pytest.raises(InputError, match="eps 0.1 is given twice"):
        limit_convergence(cd.catalogue.load_kinetic("cancer-invasion-kinetic"), [0.1, 0.05, 0.1], grid, 0.1)
