"""``crossdiff run MODEL --initial DIAGRAM.nc:branch=B,point=P``: a time run from a point of a
bifurcation diagram, at its parameter value and on its grid."""

from __future__ import annotations

import numpy as np
import xarray as xr

from crossdiff.cli import main


def test_a_stable_patterned_state_of_a_diagram_stays_put_in_a_time_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["continue", "keller-segel-logistic", "--param", "chi", "--range", "2,5", "--grid", "40", "--out", "d.nc"]
    assert main(args) == 0
    with xr.open_dataset("d.nc", engine="h5netcdf") as ds:
        branch, stable = ds["branch"].values, ds["stability"].values.astype(str)
        rows = np.flatnonzero((branch == 1) & (stable == "stable"))
        assert rows.size, "the patterned branch has stable points"
        row = rows[len(rows) // 2]
        point, chi = int(ds["index"].values[row]), float(ds["parameter"].values[row])
        u0 = np.asarray(ds["u"].values[row])
    assert (
        main(
            [
                "run",
                "keller-segel-logistic",
                "--initial",
                f"d.nc:branch=1,point={point}",
                "--t-end",
                "5",
                "--out",
                "r.nc",
            ]
        )
        == 0
    )
    with xr.open_dataset("r.nc", engine="h5netcdf") as run:
        assert f'"chi": {chi!r}' in run.attrs["parameters"]  # the point's parameter value
        u = run["u"].values
    assert u.shape[1:] == u0.shape  # the diagram's grid
    # a steady state of the same discretisation: it moves only by Newton's tolerance and the time
    # error (both ~1e-8 of the amplitude), far below the pattern's amplitude (~1e-1)
    assert np.abs(u[-1] - u0).max() < 1e-5 * max(1.0, np.abs(u0).max())
    assert np.ptp(u0) > 1e-2  # a pattern, not the homogeneous state


def test_a_diagram_point_that_does_not_fit_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["continue", "keller-segel-logistic", "--param", "chi", "--range", "2,5", "--grid", "30", "--out", "d.nc"])
    capsys.readouterr()
    for extra, fragment in [
        (["--initial", "d.nc:branch=7,point=1"], "no point 1 on branch 7"),
        (["--initial", "d.nc:branch=1,point=1", "--grid", "50"], "contradicts the diagram's grid 30"),
        (["--initial", "d.nc:branch=1,point=1", "--initial", "u=1"], "give no other --initial"),
    ]:
        assert main(["run", "keller-segel-logistic", *extra, "--t-end", "1", "--out", "x.nc"]) == 2
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1, err
    assert main(["run", "may-nowak-taxis", "--initial", "d.nc:branch=1,point=1", "--out", "x.nc"]) == 2
    assert "is a diagram of model 'keller-segel-logistic'" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()
