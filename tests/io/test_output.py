"""NetCDF output of ``crossdiff run``: layout, frames after a failure, ``--resume``, plots."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import crossdiff as cd
from crossdiff import __version__, catalogue
from crossdiff.io import open_run
from crossdiff.model import read_model_file


def _open(path):
    return xr.open_dataset(path, engine="h5netcdf")


@pytest.fixture(scope="module")
def run_1d(tmp_path_factory):
    """The test KS model run in 1D to t = 0.04, 5 frames (shared by several tests)."""
    from crossdiff.cli import main
    from tests.conftest import KS_TOML

    tmp = tmp_path_factory.mktemp("run1d")
    model = tmp / "m.toml"
    model.write_text(KS_TOML)
    out = tmp / "run.nc"
    assert main(["run", str(model), "--t-end", "0.04", "--save-every", "0.01", "--out", str(out), "--quiet"]) == 0
    return model, out


def test_netcdf_layout_1d(run_1d):
    model_path, out = run_1d
    model = read_model_file(model_path)
    with _open(out) as ds:
        assert ds["u"].dims == ("time", "x") and ds["v"].dims == ("time", "x")
        assert ds.sizes["x"] == 16
        np.testing.assert_allclose(ds["time"].values, [0, 0.01, 0.02, 0.03, 0.04], rtol=0, atol=1e-12)
        assert set(ds.data_vars) == {"u", "v"}
        assert ds["u"].attrs["long_name"] == "cells" and ds["v"].attrs["long_name"] == "signal"
        assert ds.attrs["model"] == "ks"
        assert json.loads(ds.attrs["parameters"]) == dict(model.parameters)
        assert ds.attrs["grid"].startswith("16 on [0, 1]")
        assert "IMEX" in ds.attrs["stepper"]
        assert ds.attrs["crossdiff_version"] == __version__
        assert ds.attrs["status"] == "success"
        # cell centres of [0, 1] with 16 cells
        np.testing.assert_allclose(ds["x"].values, (np.arange(16) + 0.5) / 16, rtol=1e-15)
        assert np.all(np.isfinite(ds["u"].values)) and ds["u"].values.min() >= 0
        # frame 0 is the initial data 1 + 0.2 cos(pi x); exact up to round-off
        np.testing.assert_allclose(ds["u"].values[0], 1 + 0.2 * np.cos(np.pi * ds["x"].values), rtol=1e-14)


def test_netcdf_layout_2d(cli, tmp_path):
    out = tmp_path / "ks.nc"
    res = cli("run", "keller-segel-logistic", "--grid", "16x12", "--t-end", "0.01", "--out", out, "--quiet")
    assert res.rc == 0, res.err
    model = catalogue.load("keller-segel-logistic")
    with _open(out) as ds:
        for name in model.species_names:
            assert ds[name].dims == ("time", "x", "y")
            assert ds[name].attrs["long_name"] == model[name].long_name
        assert (ds.sizes["x"], ds.sizes["y"]) == (16, 12)
        assert ds.attrs["model"] == "keller-segel-logistic"
        assert json.loads(ds.attrs["parameters"]) == dict(model.parameters)
        for key in ("grid", "stepper", "crossdiff_version"):
            assert ds.attrs[key]
        # the stored model file reproduces the model
        assert "keller-segel-logistic" in ds.attrs["model_toml"]


def test_frames_survive_a_blow_up(cli, tmp_path):
    out = tmp_path / "blowup.nc"
    res = cli(
        "run",
        "keller-segel-elliptic",
        "--set",
        "mass=31.4159",
        "--grid",
        "32x32",
        "--t-end",
        "0.05",
        "--out",
        out,
        "--quiet",
    )
    assert res.rc == 3, res.err
    assert "Traceback" not in res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossdiff: numerical failure: "), res.err
    assert "blow-up" in lines[0]
    with _open(out) as ds:
        assert ds.sizes["time"] >= 1
        assert ds.attrs["status"] == "blow-up"
        assert "failure" in ds.attrs
        u = ds["u"].values
        assert np.all(np.isfinite(u)) and np.all(np.isfinite(ds["v"].values))
        assert ds["time"].values[-1] < 0.05
        # no-flux walls, no reactions: the mass is conserved to round-off up to the last frame
        # written (1e-10 relative: a few hundred steps of sums of ~1e3 cells; the negative clipping
        # is mass-conservative), and frame 0 carries the requested mass (midpoint rule of a
        # Gaussian whose tails at the walls are exp(-25): 1e-6 is generous)
        mass = u.sum(axis=(1, 2)) * (1 / 32) ** 2
        np.testing.assert_allclose(mass, mass[0], rtol=1e-10)
        np.testing.assert_allclose(mass[0], 31.4159, rtol=1e-6)


def test_resume_continues_a_run(cli, model_file, tmp_path):
    path = model_file()
    split, whole = tmp_path / "split.nc", tmp_path / "whole.nc"
    assert cli("run", path, "--t-end", "0.02", "--save-every", "0.01", "--out", split, "--quiet").rc == 0
    res = cli("run", path, "--resume", "--t-end", "0.04", "--save-every", "0.01", "--out", split, "--quiet")
    assert res.rc == 0, res.err
    assert cli("run", path, "--t-end", "0.04", "--save-every", "0.01", "--out", whole, "--quiet").rc == 0
    with _open(split) as a, _open(whole) as b:
        np.testing.assert_allclose(a["time"].values, [0, 0.01, 0.02, 0.03, 0.04], atol=1e-12)
        np.testing.assert_allclose(a["time"].values, b["time"].values, atol=1e-12)
        # frames up to t = 0.02 are the same computation
        np.testing.assert_array_equal(a["u"].values[:3], b["u"].values[:3])
        # after the restart the adaptive IMEX stepper starts from a fresh step-size guess instead
        # of the step the uninterrupted run had reached, so the step sequence differs; both are
        # within the error control (rtol = 1e-4 per step), so compare at 1e-3 relative
        np.testing.assert_allclose(a["u"].values[-1], b["u"].values[-1], rtol=1e-3)
        np.testing.assert_allclose(a["v"].values[-1], b["v"].values[-1], rtol=1e-3)
        assert a.attrs["status"] == "success"


def test_resume_refuses_incompatible_grid(cli, model_file, tmp_path):
    path = model_file()
    out = tmp_path / "run.nc"
    assert cli("run", path, "--t-end", "0.01", "--out", out, "--quiet").rc == 0
    res = cli("run", path, "--resume", "--grid", "20", "--t-end", "0.02", "--out", out, "--quiet")
    assert res.rc == 2 and res.err.startswith("crossdiff: error: ") and "resume" in res.err, res.err


def test_plot_png_movie_and_spacetime(cli, run_1d, tmp_path):
    _, out = run_1d
    png, gif, st = tmp_path / "x.png", tmp_path / "x.gif", tmp_path / "st.png"
    res = cli("plot", out, "--out", png, "--movie", gif)
    assert res.rc == 0, res.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert gif.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == 5  # one movie frame per saved frame
    res = cli("plot", out, "--spacetime", "--out", st)
    assert res.rc == 0, res.err
    assert st.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the picture this test wrote before is replaced only with --overwrite (the policy of run --out)
    assert str(png) in cli("plot", out, "--time", "0.02", "--species", "u", "--out", png, "--overwrite").out


def test_plot_2d_frame(cli, tmp_path):
    out = tmp_path / "r.nc"
    assert cli("run", "keller-segel", "--grid", "12x12", "--t-end", "0.002", "--out", out, "--quiet").rc == 0
    res = cli("plot", out)  # default picture name: RUN.png
    assert res.rc == 0, res.err
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_resume_from_corrupt_or_foreign_file(cli, model_file, tmp_path):
    path = model_file()
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not hdf5\n" * 8)
    res = cli("run", path, "--resume", "--t-end", "0.02", "--out", junk)
    assert res.rc == 2 and res.err.startswith("crossdiff: error: cannot read run file") and "Traceback" not in res.err
    other = tmp_path / "other.nc"
    assert cli("run", "keller-segel", "--grid", "8x8", "--t-end", "0.001", "--out", other, "--quiet").rc == 0
    res = cli("run", path, "--resume", "--t-end", "0.02", "--out", other)
    assert res.rc == 2 and "cannot resume" in res.err, res.err


def test_a_reader_of_a_running_run_does_not_end_it(tmp_path):
    """HDF5 locks a file while a process reads it (a plot of a running run): the writer waits for
    the lock (``crossdiff.io.LOCK_WAIT``) instead of failing the run."""
    import subprocess
    import sys

    grid = cd.Grid((8,), ((0.0, 1.0),))
    out = tmp_path / "run.nc"
    cd.solve("keller-segel", grid, 0.002, save_every=0.001, output=out)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import h5netcdf, time; f = h5netcdf.File({str(out)!r}, 'r'); print(1, flush=True); time.sleep(1.5)",
        ],
        stdout=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == b"1"  # the reader holds it now
    sol = cd.solve("keller-segel", None, 0.004, output=out, resume=True)
    reader.wait()
    assert sol.success and len(open_run(out)["time"]) == 5
