"""A computed flow in the run file (vorticity, stream function and velocity beside the densities), resume,
and ``crossdiff plot --streamlines``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import crossdiff as cd
from crossdiff.errors import InputError
from crossdiff.grid import Grid
from crossdiff.model import Flow, Model, Species, save_model
from crossdiff.plot import plot_frame


def _cavity() -> Model:
    return Model(
        [Species("dye", diffusion=0.01, advected=True, initial="exp(-10*y)")],
        name="cavity",
        flow=Flow(kind="navier-stokes", viscosity=0.05, lid={"y_high": 1}),
    )


def test_run_file_holds_the_flow_and_resumes(tmp_path):
    out = tmp_path / "cavity.nc"
    grid = Grid((12, 12))
    first = cd.solve(_cavity(), grid, t_end=0.1, save_every=0.05, output=out)
    with xr.open_dataset(out) as ds:
        assert {"dye", "vorticity", "stream"} <= set(ds.data_vars)
        np.testing.assert_allclose(ds["stream"].values[-1], first.final[2], rtol=0, atol=0)
    resumed = cd.solve(_cavity(), t_end=0.2, save_every=0.05, output=out, resume=True)
    straight = cd.solve(_cavity(), grid, t_end=0.2, save_every=0.05)
    # resuming continues the same solution from the last frame (ψ recomputed from ω); the step
    # sequence restarts, so the two agree to the time error of the default rtol (0.5/12² ≈ 3.5e-3
    # per unit time; measured 7e-6), as for resumed runs without a flow (tests/io)
    assert resumed.t_final == pytest.approx(0.2)
    np.testing.assert_allclose(resumed.final, straight.final, rtol=1e-3, atol=1e-4)


def test_plot_streamlines(cli, tmp_path):
    model_file = save_model(_cavity(), tmp_path / "cavity.toml")
    out = tmp_path / "cavity.nc"
    res = cli("run", model_file, "--grid", "12x12", "--t-end", 0.05, "--save-every", 0.025, "--out", out)
    assert res.rc == 0, res.err
    res = cli("plot", out, "--streamlines", "--out", tmp_path / "c.png", "--movie", tmp_path / "c.gif")
    assert res.rc == 0, res.err
    assert (tmp_path / "c.png").stat().st_size > 1000 and (tmp_path / "c.gif").stat().st_size > 1000
    with xr.open_dataset(out) as ds:
        fig = plot_frame(ds, streamlines=True)
        panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
        assert [ax.get_title() for ax in panels] == ["dye"]  # the species only
        assert panels[0].collections, "no streamlines drawn"
    # a run without a flow: a clear error, exit 2
    plain = tmp_path / "plain.nc"
    cd.solve(Model([Species("u", diffusion=1, initial="x")]), Grid((8, 8)), t_end=0.01, output=plain)
    res = cli("plot", plain, "--streamlines")
    assert res.rc == 2 and "computed flow" in res.err
    with xr.open_dataset(plain) as ds, pytest.raises(InputError, match="computed flow"):
        plot_frame(ds, streamlines=True)


def _taylor_green() -> Model:
    return Model(
        [Species("dye", diffusion=0.1, advected=True, initial="1 + 0.1*cos(x)")],
        name="taylor-green",
        flow=Flow(kind="navier-stokes", viscosity=0.1, initial="2*sin(x)*sin(y)"),
    )


def test_run_file_holds_the_velocity(tmp_path):
    # Taylor–Green on [0, 2π]²: ψ = −sin x sin y e^{−2νt}, u_x = −∂_y ψ = sin x cos y e^{−2νt},
    # u_y = ∂_x ψ = −cos x sin y e^{−2νt}, exact for Navier–Stokes (u·∇ω = 0)
    nu, t_end = 0.1, 0.1
    errors = []
    for n in (16, 32):
        out = tmp_path / f"tg{n}.nc"
        grid = Grid((n, n), extent=((0, 2 * np.pi), (0, 2 * np.pi)), boundary="periodic")
        sol = cd.solve(_taylor_green(), grid, t_end=t_end, save_every=t_end, output=out)
        X, Y = grid.mesh()
        decay = np.exp(-2 * nu * np.array([0.0, t_end]))[:, None, None]
        with xr.open_dataset(out) as ds:
            assert {"dye", "vorticity", "stream", "u_x", "u_y"} <= set(ds.data_vars)
            ux, uy = ds["u_x"].values, ds["u_y"].values
            assert ux.shape == (2, n, n) and ds["u_x"].attrs["long_name"] == "x velocity"
        errors.append(
            max(
                np.abs(ux - np.sin(X) * np.cos(Y) * decay).max(),
                np.abs(uy + np.cos(X) * np.sin(Y) * decay).max(),
            )
        )
        # the velocity is the state's ψ differenced: the same in memory as in the file
        np.testing.assert_array_equal(sol.final[-2], ux[-1])
    # second order at the cell centres (ψ from ω to O(h²), corner means and differences O(h²)):
    # measured 4.9e-2, 1.3e-2 on 16², 32² (order 1.94); first order would give a ratio 0.5
    assert errors[1] < 0.3 * errors[0] and errors[1] < 2e-2, errors


def test_no_species_may_be_named_like_a_velocity():
    from crossdiff.errors import ModelError

    with pytest.raises(ModelError, match="name of a flow field"):
        Model([Species("u_x", diffusion=1)], flow=Flow(kind="stokes"))


def test_bdf_refuses_a_computed_flow_naming_the_stream_function(cli, tmp_path):
    model_file = save_model(_cavity(), tmp_path / "cavity.toml")
    res = cli("run", model_file, "--grid", "8x8", "--t-end", 0.01, "--stepper", "bdf", "--out", tmp_path / "c.nc")
    assert res.rc == 2
    assert "stream is an algebraic component" in res.err and "stream function" in res.err
    assert "use IMEX" in res.err and "Traceback" not in res.err
    # creeping Stokes: the vorticity is algebraic too
    stokes = Model([Species("dye", diffusion=0.01, advected=True)], name="s", flow=Flow(kind="stokes"))
    with pytest.raises(cd.errors.ModelError, match="vorticity, stream are algebraic components"):
        cd.solve(stokes, Grid((8, 8)), t_end=0.01, stepper="bdf")
