"""Growing domains from the command line and model files: runs, resumes, and bad growth laws
refused in one line (exit 2, nothing written)."""

from __future__ import annotations

import numpy as np
import pytest

from crossdiff.io import open_run

_MODEL = """
[model]
name = "heat-growing"
[parameters]
r = 0.5
[[species]]
name = "u"
diffusion = 0.01
initial = "1 + 0.5*cos(pi*x)"
[domain]
extent = [[0, 1]]
cells = [32]
t_end = 2
growth = "exp(r*t)"
"""


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "grow.toml"
    path.write_text(_MODEL)
    return path


def test_a_model_file_with_growth_runs_and_writes_physical_positions(tmp_path, monkeypatch, cli, model_file):
    monkeypatch.chdir(tmp_path)
    result = cli("run", model_file, "--out", "g.nc", "--save-every", "1")
    assert result.rc == 0, result.err
    ds = open_run(tmp_path / "g.nc")
    np.testing.assert_allclose(ds["length_x"].values, np.exp(0.5 * np.array([0.0, 1.0, 2.0])), rtol=1e-12)
    assert ds.attrs["domain"] == "growing"
    # --set reaches the growth law through the model's parameters
    result = cli("run", model_file, "--out", "g2.nc", "--save-every", "1", "--set", "r=0.25")
    assert result.rc == 0, result.err
    np.testing.assert_allclose(open_run(tmp_path / "g2.nc")["length_x"].values[-1], np.exp(0.5), rtol=1e-12)


def test_a_growing_run_resumes_exactly(tmp_path, monkeypatch, cli, model_file):
    monkeypatch.chdir(tmp_path)
    assert cli("run", model_file, "--out", "whole.nc", "--save-every", "0.5").rc == 0
    assert cli("run", model_file, "--out", "part.nc", "--save-every", "0.5", "--t-end", "1").rc == 0
    resumed = cli("run", model_file, "--out", "part.nc", "--resume", "--t-end", "2")
    assert resumed.rc == 0, resumed.err
    whole, part = open_run(tmp_path / "whole.nc"), open_run(tmp_path / "part.nc")
    np.testing.assert_array_equal(whole["time"].values, part["time"].values)
    # the controller restarts from its state at the last frame: the same steps, the same numbers
    np.testing.assert_allclose(part["u"].values, whole["u"].values, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(part["x_t"].values, whole["x_t"].values, rtol=1e-14)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--growth", "2 + t"], "must be 1 at t = 0"),
        (["--growth", "exp(x*t)"], "a function of t alone"),
        (["--growth", "exp(k*t)"], "unknown symbols k"),
        (["--growth", "1 - t", "--t-end", "2"], "not positive at t = 1"),
        (["--growth", "1 - 0.99*t", "--t-end", "1"], "below one cell"),
        (["--growth", "1/(1 - t)", "--t-end", "2"], "not finite at t = 1"),
        (["--growth", "exp(t)", "--growth", "1", "--growth", "1"], "3 laws for 1 axes"),
        (["--growth", "exp(t)", "--inside", "x < 0.5"], "a shape that grows is not supported"),
    ],
)
def test_bad_growth_laws_exit_2_in_one_line_writing_nothing(tmp_path, monkeypatch, cli, args, fragment):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "keller-segel-logistic", "--grid", "32", "--t-end", "0.1", "--out", "r.nc", *args)
    assert result.rc == 2
    assert fragment in result.err and result.err.count("\n") == 1, result.err
    assert not (tmp_path / "r.nc").exists()


def test_growth_with_a_computed_flow_is_refused(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    flow = cli("run", "keller-segel-fluid", "--grid", "16x16", "--growth", "exp(t)", "--out", "f.nc")
    assert flow.rc == 2 and "growing domain" in flow.err and flow.err.count("\n") == 1, flow.err
    assert not (tmp_path / "f.nc").exists()


def test_a_bad_growth_law_in_a_model_file_is_one_line(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(_MODEL.replace('growth = "exp(r*t)"', "growth = true"))
    result = cli("run", bad, "--out", "b.nc")
    assert result.rc == 2 and "[domain] growth must be an expression of t" in result.err, result.err
    shaped = tmp_path / "shaped.toml"
    shaped.write_text(_MODEL.replace('growth = "exp(r*t)"', 'growth = "exp(r*t)"\ninside = "x < 0.5"'))
    result = cli("run", shaped, "--out", "s.nc")
    assert result.rc == 2 and "growth on a shape" in result.err, result.err
    assert not list(tmp_path.glob("*.nc"))


def test_stability_on_a_growing_domain_takes_the_modes_of_the_box_at_a_time(cli):
    import json

    result = cli("stability", "schnakenberg-growing", "--time", "100", "--json")
    assert result.rc == 0, result.err
    data = json.loads(result.out)
    # L(100) = e^{0.01·100} = e: the admissible wave numbers are mπ/e; the band (1.006, 4.716) holds
    # m = 1..4, and m = 2 (k = 2π/e = 2.3115) grows fastest
    assert data["time"] == 100 and "[0, 2.71828]" in data["grid"]
    assert data["dispersion"]["n_unstable_modes"] == 4
    assert data["dispersion"]["most_unstable"]["k"] == pytest.approx(2 * np.pi / np.e, rel=1e-12)
    wrong = cli("stability", "keller-segel", "--time", "1")
    assert wrong.rc == 2 and "--time applies to a growing domain" in wrong.err


@pytest.mark.parametrize(
    "model, args, fragment",
    [
        ("du-lin-invasion", ["--front=-mu*w_x"], "names unknown symbols w_x"),
        ("keller-segel-logistic", ["--grid", "16x16", "--front=-u_x"], "a free boundary moves the high end of a 1D"),
        ("keller-segel-logistic", ["--grid", "16", "--boundary", "periodic", "--front=-u_x"], "periodic axis"),
        ("du-lin-invasion", ["--growth", "exp(t)"], "takes no growth law"),
    ],
)
def test_bad_free_boundaries_exit_2_writing_nothing(tmp_path, monkeypatch, cli, model, args, fragment):
    monkeypatch.chdir(tmp_path)
    result = cli("run", model, "--t-end", "0.1", "--out", "r.nc", *args)
    assert result.rc == 2
    assert fragment in result.err and result.err.count("\n") == 1, result.err
    assert not (tmp_path / "r.nc").exists()


def test_a_free_boundary_run_writes_the_front_and_resumes(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    assert cli("run", "du-lin-invasion", "--t-end", "4", "--save-every", "2", "--out", "f.nc").rc == 0
    with open_run(tmp_path / "f.nc") as ds:
        lengths, last_centres = ds["length_x"].values, ds["x_t"].values[:, -1]
    assert lengths[0] == 2.0 and np.all(np.diff(lengths) > 0)  # spreading: the range grows
    np.testing.assert_allclose(last_centres, lengths * (1 - 0.5 / 100), rtol=1e-12)  # last centre
    # resumed from the last frame's front position and state: the run to t = 8 in one go
    assert cli("run", "du-lin-invasion", "--out", "f.nc", "--resume", "--t-end", "8").rc == 0
    assert cli("run", "du-lin-invasion", "--t-end", "8", "--save-every", "2", "--out", "whole.nc").rc == 0
    part, whole = open_run(tmp_path / "f.nc"), open_run(tmp_path / "whole.nc")
    np.testing.assert_array_equal(part["time"].values, whole["time"].values)
    # the position comes back as a + length_x (one rounding), the controller from its checkpoint
    np.testing.assert_allclose(part["length_x"].values, whole["length_x"].values, rtol=1e-12)
    np.testing.assert_allclose(part["u"].values, whole["u"].values, rtol=1e-9, atol=1e-12)
    again = cli("run", "du-lin-invasion", "--out", "f.nc", "--resume", "--t-end", "10", "--front=-u_x")
    assert again.rc == 2 and "continues with the front its file records" in again.err


def test_a_model_file_with_a_growth_velocity_runs_and_a_bad_one_is_refused(tmp_path, monkeypatch, cli, model_file):
    monkeypatch.chdir(tmp_path)
    apical = tmp_path / "apical.toml"
    apical.write_text(
        model_file.read_text().replace('growth = "exp(r*t)"', 'growth_velocity = "r*max(0, x - (L - 0.5))"')
    )
    result = cli("run", apical, "--out", "a.nc", "--save-every", "1")
    assert result.rc == 0, result.err
    np.testing.assert_allclose(open_run(tmp_path / "a.nc")["length_x"].values, [1.0, 1.25, 1.5], rtol=1e-9)
    bad = tmp_path / "bad.toml"
    bad.write_text(model_file.read_text().replace('growth = "exp(r*t)"', 'growth_velocity = "r*(1 + x)"'))
    result = cli("run", bad, "--out", "b.nc")
    assert result.rc == 2 and "must vanish at the fixed end" in result.err, result.err
    assert not (tmp_path / "b.nc").exists()


def test_show_describes_growth_and_a_free_boundary(cli):
    grow = cli("show", "schnakenberg-growing")
    assert grow.rc == 0 and "growth: L(t)/L(0) = exp(rho*t)" in grow.out
    front = cli("show", "du-lin-invasion")
    assert front.rc == 0 and "free boundary: the high end moves at s' = -mu*u_x" in front.out
