"""``crossdiff run`` with kinetic models, ``crossdiff converge`` and ``crossdiff plot --compare``."""

from __future__ import annotations

import json

import numpy as np

from crossdiff.io import open_run

#: A 1D kinetic chemotaxis file (relaxation, bias of type (41), interaction) on a coarse grid.
KINETIC_TOML = """
[kinetic]
name = "ks-kinetic"
description = "test kinetic model"

[velocity]
space = "sphere"
dim = 1
radius = "R"

[parameters]
R = 1.0
chi = 0.5

[domain]
extent = [[0.0, 2.0]]
cells = [24]
boundary = "noflux"
t_end = 0.2
save_every = 0.1

[[species]]
name = "u"
turning = { relaxation = "R**2/d" }
bias = { kernel = "-(chi*sigma_u*d/(absV**2*R**2))*vs_grad_S/Ms_u" }
initial = "1 + 0.5*cos(pi*x)"

[[species]]
name = "S"
turning = { relaxation = "R**2/d" }
interaction = "(u - S)/absV"
initial = "1 + 0.5*cos(2*pi*x)"
"""


def _model_file(tmp_path):
    path = tmp_path / "ks_kinetic.toml"
    path.write_text(KINETIC_TOML)
    return path


def test_run_kinetic_file_json_save_f_and_resume(cli, tmp_path):
    model = _model_file(tmp_path)
    out = tmp_path / "kin.nc"
    res = cli("run", model, "--eps", "1e-6", "--out", out, "--json", "--save-f")
    assert res.rc == 0, res.err
    summary = json.loads(res.out)
    assert summary["kinetic"]["eps"] == 1e-6 and summary["kinetic"]["velocities"] == 2
    assert summary["steps"] > 0 and summary["status"] == "success"
    ds = open_run(out)
    assert ds["f_u"].dims == ("time", "v", "x") and list(ds["v"].values) == [-1.0, 1.0]
    np.testing.assert_allclose(ds["f_u"].values.sum(axis=1), ds["u"].values, rtol=1e-12)
    ds.close()
    res = cli("run", model, "--t-end", "0.3", "--out", out, "--resume", "--quiet")
    assert res.rc == 0, res.err
    ds = open_run(out)
    assert float(ds["time"].values[-1]) == 0.3 and float(ds.attrs["eps"]) == 1e-6
    ds.close()


def test_run_kinetic_bad_input_exit_2_one_line(cli, tmp_path):
    model = _model_file(tmp_path)
    for args in (
        ("run", model, "--out", tmp_path / "a.nc"),  # no --eps
        ("run", model, "--eps", "0", "--out", tmp_path / "b.nc"),
        ("run", model, "--eps", "1.5", "--out", tmp_path / "c.nc"),
        ("run", model, "--eps", "0.1", "--stepper", "imex", "--out", tmp_path / "d.nc"),
        ("run", "keller-segel", "--eps", "0.1", "--out", tmp_path / "e.nc"),
        ("run", "keller-segel", "--save-f", "--out", tmp_path / "f.nc"),
        ("run", "oncolytic-virus-kinetic", "--eps", "0.1", "--velocities", "7", "--grid", "4x4"),
        ("run", "no-such-kinetic-model", "--eps", "0.1"),
        ("converge", model, "--eps", "0.1,2"),
        ("converge", "keller-segel", "--eps", "0.1"),
    ):
        res = cli(*args)
        assert res.rc == 2, (args, res.err)
        assert res.err.startswith("crossdiff: error:") and res.err.count("\n") == 1, res.err


def test_converge_json_table_and_plot(cli, tmp_path):
    """The table has per-species L1/L∞ and fitted orders; here ≥ 0.8 (measured about 2)."""
    model = _model_file(tmp_path)
    png = tmp_path / "conv.png"
    res = cli("converge", model, "--eps", "0.1,0.05", "--json", "--plot", png)
    assert res.rc == 0, res.err
    table = json.loads(res.out)
    assert table["eps"] == [0.1, 0.05] and table["species"] == ["u", "S"]
    for name in ("u", "S"):
        assert len(table["l1"][name]) == 2 and all(e > 0 for e in table["l1"][name])
        assert table["order_l1"][name] >= 0.8
        assert table["linf"][name][1] < table["linf"][name][0]
    assert png.stat().st_size > 0


def test_plot_compare_kinetic_and_macro_runs(cli, tmp_path):
    model = _model_file(tmp_path)
    kin, mac = tmp_path / "kin.nc", tmp_path / "mac.nc"
    assert cli("run", model, "--eps", "0.01", "--out", kin, "--quiet", "--save-f").rc == 0
    limit = tmp_path / "limit.toml"
    assert cli("derive", model, "--save-model", limit).rc == 0
    assert cli("run", limit, "--out", mac, "--quiet").rc == 0
    png = tmp_path / "cmp.png"
    res = cli("plot", kin, "--compare", mac, "--out", png)
    assert res.rc == 0, res.err
    assert png.stat().st_size > 0


def test_run_refuses_what_derive_refuses(cli, tmp_path):
    """A kinetic file whose turning operator cannot relax to its equilibrium (here a zero
    relaxation rate) is refused by ``run`` as by ``derive``, before any step (it ran to a
    "success" before)."""
    path = tmp_path / "zero-rate.toml"
    path.write_text(KINETIC_TOML.replace('turning = { relaxation = "R**2/d" }', "turning = { relaxation = 0 }", 1))
    out = tmp_path / "z.nc"
    res = cli("run", path, "--eps", "0.1", "--out", out, "--quiet")
    assert res.rc == 2 and "relaxation" in res.err and not out.exists(), res.err
    assert cli("derive", path).rc == 2
