"""``crossdiff continue``: the diagram written, bad input exit 2, numerical failure exit 3 with
the partial diagram written."""

from __future__ import annotations

import json

import xarray as xr


def test_continue_writes_the_diagram_and_the_picture(cli, tmp_path):
    out, png = tmp_path / "d.nc", tmp_path / "d.png"
    args = ["continue", "keller-segel-logistic", "--param", "chi", "--range", "3.9,4.1", "--grid", "40"]
    r = cli(*args, "--set", "D=1", "--out", out, "--plot", png, "--points", "15")
    assert r.rc == 0, r.err
    assert "BP   on branch 0 at chi = 4.0" in r.out and f"wrote {out}" in r.out
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert set(ds["branch"].values) == {0, 1}
    assert png.stat().st_size > 0
    r = cli(*args, "--out", out)  # the output policy: an existing diagram needs --overwrite
    assert r.rc == 2 and "--overwrite" in r.err
    r = cli(*args, "--out", out, "--overwrite", "--json", "--branches", "0")
    assert r.rc == 0
    data = json.loads(r.out)
    assert data["parameter"] == "chi" and data["special"][0]["type"] == "BP"


def test_continue_bad_input_and_empty_range(cli):
    r = cli("continue", "keller-segel-logistic", "--param", "nope", "--range", "1,2", "--grid", "20")
    assert r.rc == 2 and "nope" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("continue", "keller-segel-logistic", "--param", "chi", "--range", "1,x")
    assert r.rc == 2 and "START,END" in r.err
    r = cli("continue", "keller-segel-logistic", "--param", "chi", "--range", "1,2", "--grid", "20")
    assert r.rc == 0 and "no branch point of the homogeneous state for chi between 1 and 2" in r.out


def test_continue_newton_failure_exits_3_with_the_partial_diagram(cli, tmp_path):
    out = tmp_path / "partial.nc"
    r = cli(
        "continue", "may-nowak-taxis", "--param", "d1", "--range", "0.1,0.3", "--grid", "20", "--branches", "0",
        "--max-newton", "1", "--newton-tol", "1e-15", "--ds-min", "1e-3", "--out", out,
    )  # fmt: skip
    assert r.rc == 3, r.err
    assert "did not converge" in r.err and str(out) in r.err
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.attrs["status"] == "failed" and ds.sizes["point"] >= 1
