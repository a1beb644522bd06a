"""Kinetic models on a growing box from the command line: a run with --growth writes the
physical positions and lengths of every frame, its distributions integrate to its densities, it
resumes (as closely as on the fixed box); a kinetic model with a free boundary is refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crossdiff.io import open_run

ARGS = ("cancer-invasion-kinetic", "--grid", "16", "--eps", "0.1", "--growth", "exp(0.5*t)")


def test_a_kinetic_model_with_growth_runs_writes_positions_and_resumes(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    whole = cli("run", *ARGS, "--t-end", "0.4", "--save-every", "0.2", "--save-f", "--out", "whole.nc")
    assert whole.rc == 0, whole.err
    with open_run(tmp_path / "whole.nc") as ds:
        assert ds.attrs["domain"] == "growing" and ds.attrs["scale"] == "kinetic"
        times = ds["time"].values
        # the law's lengths and the cells' physical centres x(t) = ℓ(t) X (exact up to rounding)
        np.testing.assert_allclose(ds["length_x"].values, 30 * np.exp(0.5 * times), rtol=1e-12)
        np.testing.assert_allclose(ds["x_t"].values, np.exp(0.5 * times)[:, None] * ds["x"].values, rtol=1e-12)
        # the written distributions are f = F/J at each frame's time: ∫ f dv is the density
        weights = np.asarray(ds["v"].attrs["weights"])
        for name in ("u1", "u2", "u3"):
            rho = np.einsum("v,tvx->tx", weights, ds[f"f_{name}"].values)
            np.testing.assert_allclose(rho, ds[name].values, rtol=1e-12, atol=1e-14)
        whole_u = ds["u1"].values.copy()
    part = cli("run", *ARGS, "--t-end", "0.2", "--save-every", "0.2", "--save-f", "--out", "part.nc")
    assert part.rc == 0, part.err
    resumed = cli("run", "cancer-invasion-kinetic", "--out", "part.nc", "--resume", "--t-end", "0.4")
    assert resumed.rc == 0, resumed.err
    with open_run(tmp_path / "part.nc") as ds:
        np.testing.assert_array_equal(ds["time"].values, times)
        np.testing.assert_allclose(ds["length_x"].values, 30 * np.exp(0.5 * times), rtol=1e-12)
        # restarted from the saved distributions f = F/J of the last frame, whose micro part is
        # averaged to the faces again: not bit-exact, as on the fixed box (where the same runs
        # differ by 1.3e-3 at t = 0.4; here measured 9.5e-4); a state not rescaled by J(0.2) on
        # resume would be off by 10 % (e^{0.1} − 1) of the densities (max 0.9)
        np.testing.assert_allclose(ds["u1"].values, whole_u, rtol=0, atol=3e-3)


def test_a_kinetic_model_with_a_free_boundary_is_refused_in_one_line(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "cancer-invasion-kinetic", "--grid", "16", "--eps", "0.1", "--front=-u1_x", "--out", "r.nc")
    assert result.rc == 2 and result.err.count("\n") == 1, result.err
    assert "a free boundary (a moving front) is not supported for kinetic models" in result.err, result.err
    assert not (tmp_path / "r.nc").exists()


def test_a_kinetic_model_file_with_a_growth_law_runs_and_keeps_the_mass(tmp_path, monkeypatch, cli):
    """``[domain] growth`` in a kinetic model file (the parameters reach the law): ``u`` has no
    interaction, so its physical mass ``Σ u h(t)`` is kept to round-off (1e-12: a few hundred
    stages on 24 cells) while the interval grows by e^{0.2}."""
    from tests.kinetic.test_solver_cli import KINETIC_TOML

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "grow.toml"
    path.write_text(
        KINETIC_TOML.replace("chi = 0.5\n", "chi = 0.5\nr = 1.0\n").replace(
            "save_every = 0.1\n", 'save_every = 0.1\ngrowth = "exp(r*t)"\n'
        )
    )
    result = cli("run", path, "--eps", "0.05", "--out", "g.nc")
    assert result.rc == 0, result.err
    with open_run(tmp_path / "g.nc") as ds:
        lengths = ds["length_x"].values
        np.testing.assert_allclose(lengths, 2 * np.exp(ds["time"].values), rtol=1e-12)
        mass = ds["u"].values.sum(axis=1) * lengths / ds.sizes["x"]
    np.testing.assert_allclose(mass, mass[0], rtol=1e-12)


def test_a_kinetic_model_with_a_tissue_growth_velocity_is_refused(tmp_path, cli):
    # the kinetic cells follow a uniform stretch only: a non-uniform tissue velocity would be
    # ignored, so it is refused — in a kinetic file (no such key) and from Python
    import pytest

    import crossdiff as cd
    from crossdiff.errors import InputError

    kinetic = tmp_path / "k.toml"
    text = (
        Path(__file__).resolve().parents[2] / "crossdiff" / "catalogue" / "kinetic" / "cancer-invasion-kinetic.toml"
    ).read_text()
    kinetic.write_text(text.replace("[domain]", '[domain]\ngrowth_velocity = ["0.1*x", "0.1*y"]', 1))
    result = cli("run", kinetic, "--grid", "8x8", "--t-end", "0.1", "--eps", "0.1", "--out", tmp_path / "k.nc")
    assert result.rc == 2 and "growth_velocity" in result.err and result.err.count("\n") == 1, result.err
    model = cd.catalogue.load_kinetic("cancer-invasion-kinetic")
    box = cd.Grid((8, 8), ((0, 30), (0, 30)))
    domain = cd.GrowingGrid(box, cd.grid.TissueGrowth(("0.1*x", "0.1*y"), box.extent))
    with pytest.raises(InputError):
        cd.solve(model, domain, 0.1, eps=0.1)
    assert not (tmp_path / "k.nc").exists()
