"""``crossdiff.plot``: no global matplotlib state, pictures of 1D/2D/3D runs, crossdiff's own errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import crossdiff as cd
from crossdiff.errors import InputError, OutputError
from crossdiff.plot import plot_frame, plot_spacetime, save_figure, save_movie

PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[2]


def _run(ndim: int, frames: int = 3) -> xr.Dataset:
    """A run laid out as :func:`crossdiff.io.open_run` returns it: dims ``(time, x[, y[, z]])``,
    cell-centre coordinates, species with ``long_name``, the model name in the attributes."""
    shape = (8, 6, 4)[:ndim]
    axes = ("x", "y", "z")[:ndim]
    coords: dict[str, np.ndarray] = {"time": np.linspace(0.0, 0.5, frames)}
    for a, n in zip(axes, shape):
        coords[a] = (np.arange(n) + 0.5) / n
    rng = np.random.default_rng(7)
    u = rng.random((frames, *shape))
    v = 2.0 + np.arange(frames * int(np.prod(shape)), dtype=float).reshape((frames, *shape))
    dims = ("time", *axes)
    return xr.Dataset(
        {"u": (dims, u, {"long_name": "cells"}), "v": (dims, v, {"long_name": "signal"})},
        coords=coords,
        attrs={"model": "test-model", "status": "success"},
    )


def _visible(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


# ----------------------------------------------------------------------------- no global state
_PROBE = textwrap.dedent(
    """
    import json, sys
    import matplotlib
    {select}
    before = matplotlib.get_backend()
    import crossdiff.plot
    after_import = matplotlib.get_backend()
    import numpy as np, xarray as xr
    ds = xr.Dataset({{"u": (("time", "x"), np.ones((2, 4)))}}, coords={{"time": [0.0, 1.0], "x": np.arange(4.0)}})
    crossdiff.plot.save_figure(crossdiff.plot.plot_frame(ds), sys.argv[1])
    print(json.dumps({{"before": before, "after_import": after_import, "after_plot": matplotlib.get_backend(),
                      "pyplot": "matplotlib.pyplot" in sys.modules}}))
    """
)


@pytest.mark.parametrize(
    ("select", "env_backend", "expected"),
    [
        ("", "svg", "svg"),  # chosen by the environment
        ('matplotlib.use("pdf")', None, "pdf"),  # chosen by the program before importing crossdiff
    ],
    ids=["MPLBACKEND", "matplotlib.use"],
)
def test_import_and_plotting_leave_the_backend_alone(tmp_path, select, env_backend, expected):
    # a fresh interpreter, so that nothing imported by this test session hides a switch
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if env_backend:
        env["MPLBACKEND"] = env_backend
    out = tmp_path / "probe.png"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(select=select), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["before"].lower() == expected
    assert seen["after_import"].lower() == expected, "importing crossdiff.plot switched the backend"
    assert seen["after_plot"].lower() == expected, "plotting switched the backend"
    assert seen["pyplot"] is False, "crossdiff.plot imported pyplot (global figure registry)"
    assert out.read_bytes()[:8] == PNG  # drawn through its own Agg canvas whatever the backend


def test_figures_are_not_registered_with_pyplot(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = plot_frame(_run(2))
    assert plt.get_fignums() == before
    save_figure(fig, tmp_path / "a.png")
    assert plt.get_fignums() == before


def test_save_figure_closes_a_pyplot_figure(tmp_path):
    # behaviour kept from the pyplot-based version: a figure pyplot manages is closed once written
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    assert plt.fignum_exists(fig.number)
    save_figure(fig, tmp_path / "p.png")
    assert not plt.fignum_exists(fig.number)
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG


# ----------------------------------------------------------------------------- pictures
def test_frame_1d_draws_the_requested_frame(tmp_path):
    ds = _run(1)
    fig = plot_frame(ds)
    axes = _visible(fig)
    assert len(axes) == 2
    for ax, name, label in zip(axes, ("u", "v"), ("cells", "signal")):
        (line,) = ax.get_lines()
        np.testing.assert_array_equal(line.get_xdata(), ds["x"].values)
        np.testing.assert_array_equal(line.get_ydata(), ds[name].values[-1])  # default: the last frame
        assert ax.get_title() == f"{name}: {label}"
    assert "test-model" in fig.get_suptitle() and "t = 0.5" in fig.get_suptitle()
    first = plot_frame(ds, 0, ["v"])
    (ax,) = _visible(first)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), ds["v"].values[0])
    assert "t = 0" in first.get_suptitle()
    path = save_figure(fig, tmp_path / "f1.png", dpi=50)
    assert path == tmp_path / "f1.png"
    assert path.read_bytes()[:8] == PNG
    assert _png_size(path) == (round(2 * 4.2 * 50), round(3.6 * 50))  # two panels side by side


def test_frame_2d_draws_images_with_colour_bars(tmp_path):
    ds = _run(2)
    fig = plot_frame(ds, index=1)
    axes = _visible(fig)
    assert len(axes) == 2
    for ax, name in zip(axes, ("u", "v")):
        (im,) = ax.get_images()
        np.testing.assert_array_equal(im.get_array(), ds[name].values[1].T)  # x horizontal, y vertical
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    path = save_figure(fig, tmp_path / "f2.png")
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000


def test_frame_3d_shows_the_middle_z_slice(tmp_path):
    ds = _run(3)
    fig = plot_frame(ds, species=["u"])
    (ax,) = _visible(fig)
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), ds["u"].values[-1][:, :, 2].T)
    assert save_figure(fig, tmp_path / "f3.png").read_bytes()[:8] == PNG


def test_many_species_wrap_at_four_panels_per_row():
    ds = _run(1)
    for k in range(3):
        ds[f"w{k}"] = ds["u"] * k
    fig = plot_frame(ds)  # 5 species: 2 rows (at most 4 a row), filled evenly: 3 + 2, one hidden
    assert len(_visible(fig)) == 5
    assert len(fig.axes) == 6
    assert tuple(fig.get_size_inches()) == pytest.approx((3 * 4.2, 2 * 3.6))
    for k in range(3, 6):
        ds[f"w{k}"] = ds["u"] * k
    fig = plot_frame(ds)  # 8 species: 2 rows of 4
    assert len(_visible(fig)) == len(fig.axes) == 8
    assert tuple(fig.get_size_inches()) == pytest.approx((4 * 4.2, 2 * 3.6))


def test_spacetime_1d(tmp_path):
    ds = _run(1, frames=4)
    fig = plot_spacetime(ds, ["u"])
    (ax,) = _visible(fig)
    (mesh,) = ax.collections
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(4, 8), ds["u"].values)  # t rows, x columns
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "t")
    assert save_figure(fig, tmp_path / "st.png").read_bytes()[:8] == PNG


def test_movie_has_one_frame_per_saved_frame(tmp_path):
    from PIL import Image

    for ndim, frames in ((1, 4), (2, 2)):
        path = save_movie(_run(ndim, frames=frames), tmp_path / f"m{ndim}.gif", fps=4)
        assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
        with Image.open(path) as im:
            assert im.n_frames == frames


def test_pictures_of_a_solved_run(tmp_path):
    # the same functions on what crossdiff.solve returns (Solution.to_xarray), 1D and 2D
    model = cd.Model(
        species=[
            cd.Species("u", long_name="cells", diffusion=1, taxis=[cd.Taxis("v", "2")], initial="1 + 0.2*cos(pi*x)"),
            cd.Species("v", diffusion=1, reaction="u - v", initial="1"),
        ]
    )
    for cells in ((16,), (8, 8)):
        sol = cd.solve(model, cd.Grid(cells), 0.02, save_every=0.01)
        ds = sol.to_xarray()
        fig = plot_frame(ds)
        assert len(_visible(fig)) == 2
        path = save_figure(fig, tmp_path / f"solved{len(cells)}.png")
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000
    st = save_figure(
        plot_spacetime(cd.solve(model, cd.Grid((16,)), 0.02, save_every=0.01).to_xarray()), tmp_path / "st.png"
    )
    assert st.read_bytes()[:8] == PNG


def test_cli_plot_on_a_netcdf_run(cli, tmp_path):
    run = tmp_path / "run.nc"
    _run(2).to_netcdf(run, engine="h5netcdf")
    png = tmp_path / "x.png"
    res = cli("plot", run, "--out", png)
    assert res.rc == 0, res.err
    assert f"wrote {png}" in res.out and png.read_bytes()[:8] == PNG


# ----------------------------------------------------------------------------- errors
def test_unknown_species_is_an_input_error():
    with pytest.raises(InputError, match=r"unknown species 'w' in the run; species: u, v"):
        plot_frame(_run(1), species=["w"])
    with pytest.raises(InputError, match="unknown species"):
        plot_spacetime(_run(1), species=["u", "nope"])
    with pytest.raises(InputError, match="unknown species"):
        save_movie(_run(1), "never.gif", species=["nope"])


def test_spacetime_of_a_2d_run_is_an_input_error():
    with pytest.raises(InputError, match="space-time images are for 1D runs"):
        plot_spacetime(_run(2))


def test_unwritable_picture_is_an_output_error(tmp_path):
    fig = plot_frame(_run(1))
    target = tmp_path / "missing" / "x.png"
    with pytest.raises(OutputError) as info:
        save_figure(fig, target)
    message = str(info.value)
    assert message.startswith("cannot write picture") and str(target) in message and "\n" not in message
    with pytest.raises(OutputError, match="cannot write picture"):
        save_figure(fig, tmp_path / "x.unknownformat")
    assert not (tmp_path / "missing").exists()


def test_movie_errors(tmp_path, monkeypatch):
    ds = _run(1)
    with pytest.raises(InputError, match=r"movie format \.avi not supported; use \.gif or \.mp4"):
        save_movie(ds, tmp_path / "m.avi")
    with pytest.raises(InputError, match=r"movie format \(none\) not supported"):
        save_movie(ds, tmp_path / "m")
    import crossdiff.plot as plot_module

    monkeypatch.setattr(plot_module.shutil, "which", lambda name: None)
    # no ffmpeg on the PATH: the binary of the dependency imageio-ffmpeg writes the MP4 (an ISO
    # media file: the box type "ftyp" at byte 4)
    written = save_movie(ds, tmp_path / "m.mp4")
    assert written.read_bytes()[4:8] == b"ftyp"
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # neither: a one-line error
    with pytest.raises(OutputError, match="needs ffmpeg"):
        save_movie(ds, tmp_path / "n.mp4")
    assert not (tmp_path / "n.mp4").exists()
    with pytest.raises(OutputError, match="cannot write movie"):
        save_movie(ds, tmp_path / "missing" / "m.gif")
    # errors are crossdiff's own: the CLI turns them into one-line messages with exit code 2
    assert issubclass(OutputError, InputError) and issubclass(InputError, cd.errors.CrossdiffError)


def test_pictures_a_scientist_can_put_on_a_slide():
    """Labelled colour bars, a nearly uniform field said to be so, the parameters and the per-panel
    colour scales stated in the title, no additive offset on 1D axes, a watchable movie rate."""
    from crossdiff.plot import movie_fps

    ds = _run(2)
    ds.attrs["parameters"] = '{"chi": 10.0, "r": 1.0}'
    ds["v"] = ds["v"] * 0 + 1.0 + 1e-3 * ds["u"]  # within 0.1 % of 1: nearly uniform
    fig = plot_frame(ds)
    fig.canvas.draw()
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert [b.get_ylabel() for b in bars] == ["u", "v (nearly uniform)"]
    title = fig.get_suptitle()
    assert "chi = 10, r = 1" in title and "colour scale per panel" in title
    line = plot_frame(_run(1) + 1.0)  # values about 1: matplotlib would write "+1" above the axis
    line.canvas.draw()
    assert all(not ax.yaxis.get_offset_text().get_text() for ax in _visible(line))
    assert movie_fps(7) == 2 and movie_fps(200) == 12 and movie_fps(36) == 6  # 3.5 s, 17 s, 6 s
    assert movie_fps(40, duration=10) == 4 and movie_fps(40, fps=25) == 25
    with pytest.raises(InputError, match="not both"):
        movie_fps(40, fps=5, duration=2)
