"""Nothing hangs, nothing is lost, nothing is silently mixed (issue "trust", sections 1 and 2).

Each test covers a class of failure: a right-hand side that is not finite (from the start or
later, any stepper), runs that would exhaust memory or disk, oversized model files, resuming a
run (settings from the file, contradictions refused), output files that must not be
overwritten, and the Python API checking its arguments like the CLI.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.cli import main
from crossdiff.errors import InputError, ModelError, OutputError
from crossdiff.io import open_run
from crossdiff.kinetic import KineticModel, Sphere
from crossdiff.parsing import MAX_FILE_BYTES

MODEL = """
[model]
name = "{name}"
[domain]
extent = [[0, 1]]
cells = [32]
t_end = 1
[[species]]
name = "u"
diffusion = 1
reaction = "{reaction}"
initial = "{initial}"
"""


def _file(tmp_path, name, reaction, initial):
    path = tmp_path / f"{name}.toml"
    path.write_text(MODEL.format(name=name, reaction=reaction, initial=initial))
    return path


def _cli(capsys, *args):
    rc = main([str(a) for a in args])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.mark.parametrize("stepper", ["imex", "imex3", "ssprk3", "bdf"])
def test_nonfinite_from_the_start_ends_at_once(tmp_path, capsys, stepper):
    """sqrt(-u) on u = 1 is NaN at t = 0: every stepper reports non-finite at t = 0 (exit 3),
    keeping the initial frame, instead of spinning on a NaN step size."""
    path = _file(tmp_path, "nan", "sqrt(-u)", "1")
    out = tmp_path / f"{stepper}.nc"
    rc, _, err = _cli(capsys, "run", path, "--stepper", stepper, "--out", out, "--quiet")
    assert rc == 3 and "non-finite at t = 0" in err and "right-hand side is not finite" in err, err
    with open_run(out) as ds:
        assert ds.attrs["status"] == "non-finite" and ds.sizes["time"] == 1


def test_nonfinite_from_the_start_does_not_hang_in_a_real_process(tmp_path):
    """The same through the installed entry point, with a wall-clock guard: no hang."""
    path = _file(tmp_path, "nan", "log(u - 1.005)", "1")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "crossdiff.cli", "run", str(path), "--out", str(tmp_path / "x.nc")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3 and "non-finite" in proc.stderr and "Traceback" not in proc.stderr
    assert time.perf_counter() - start < 120


@pytest.mark.parametrize("stepper", ["imex", "bdf"])
def test_nan_appearing_later_is_reported_as_nonfinite(tmp_path, capsys, stepper):
    """log(u - 1.005) with u decaying from 1.2 to 1.005 turns NaN mid-run: the report says
    non-finite (not step collapse, not an internal error for BDF's singular factor), exit 3."""
    path = _file(tmp_path, "late", "log(u - 1.005)", "1.2")
    rc, _, err = _cli(capsys, "run", path, "--stepper", stepper, "--t-end", "5", "--out", tmp_path / "l.nc")
    assert rc == 3 and "numerical failure: non-finite at t = 0.08" in err, err


def test_too_many_frames_refused_with_an_estimate_before_anything_is_allocated(tmp_path, capsys):
    """--save-every 1e-9 to t = 1 is 10⁹ frames: refused at once (exit 2) with the estimate."""
    path = _file(tmp_path, "ok", "-u", "1")
    start = time.perf_counter()
    rc, _, err = _cli(capsys, "run", path, "--save-every", "1e-9", "--t-end", "1", "--out", tmp_path / "m.nc")
    assert rc == 2 and "GB" in err and "save fewer frames" in err, err
    assert time.perf_counter() - start < 20  # no list of 10⁹ save times was built
    assert not (tmp_path / "m.nc").exists()
    # the Python API refuses the same, also when frames would be kept in memory
    with pytest.raises(InputError, match="GB of memory"):
        cd.solve(cd.read_model_file(path), t_end=1.0, save_every=1e-9)


def test_oversized_model_file_refused_at_once(tmp_path, capsys):
    path = tmp_path / "big.toml"
    text = MODEL.format(name="big", reaction="-u", initial="1")
    path.write_text(text + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    start = time.perf_counter()
    rc, _, err = _cli(capsys, "run", path, "--out", tmp_path / "b.nc")
    assert rc == 2 and "limited to 1 MB" in err, err
    assert time.perf_counter() - start < 5


@pytest.fixture
def ocv_run(tmp_path, capsys):
    """A short oncolytic-virus run with a changed parameter and grid, as the first part of a run."""
    out = tmp_path / "run.nc"
    rc, _, err = _cli(
        capsys, "run", "oncolytic-virus", "--grid", "12x12", "--set", "beta=10", "--t-end", "0.05",
        "--save-every", "0.025", "--out", out, "--quiet",
    )  # fmt: skip
    assert rc == 0, err
    return out


def test_resume_takes_model_parameters_and_grid_from_the_file(ocv_run, capsys):
    rc, _, err = _cli(capsys, "run", "oncolytic-virus", "--out", ocv_run, "--resume", "--t-end", "0.1", "--quiet")
    assert rc == 0, err
    with open_run(ocv_run) as ds:
        np.testing.assert_allclose(ds["time"].values, [0, 0.025, 0.05, 0.075, 0.1], atol=1e-12)
        assert ds.sizes["x"] == 12 and ds.sizes["y"] == 12
        assert '"beta": 10.0' in ds.attrs["parameters"] and ds.attrs["status"] == "success"
    record = cd.Run.from_file(ocv_run)
    assert record.model.parameters["beta"] == 10.0 and record.domain.cells == (12, 12) and record.t_end == 0.1


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--set", "beta=3"], "beta = 10; --set beta=3 contradicts it"),
        (["--grid", "16x16"], "has grid 12x12; --grid 16x16 contradicts it"),
        (["--stepper", "ssprk3"], "the stepper options given contradict it"),
        (["--initial", "u1=1"], "--initial and --seed do not apply"),
    ],
)
def test_resume_refuses_contradictions(ocv_run, capsys, extra, fragment):
    before = ocv_run.read_bytes()
    rc, _, err = _cli(capsys, "run", "oncolytic-virus", "--out", ocv_run, "--resume", "--t-end", "0.1", *extra)
    assert rc == 2 and fragment in err and err.startswith("crossdiff: error: cannot resume"), err
    assert ocv_run.read_bytes() == before  # nothing appended


def test_resume_refuses_another_model(tmp_path, capsys):
    out = tmp_path / "ks.nc"
    assert _cli(capsys, "run", "keller-segel", "--grid", "8x8", "--t-end", "0.01", "--out", out, "--quiet")[0] == 0
    rc, _, err = _cli(capsys, "run", "keller-segel-logistic", "--out", out, "--resume", "--t-end", "0.02")
    assert rc == 2 and "holds a run of model 'keller-segel', not 'keller-segel-logistic'" in err, err


def test_python_resume_refuses_other_parameters(tmp_path):
    model = cd.catalogue.load("keller-segel").with_parameters(chi=2.0)
    grid = cd.Grid((8, 8), ((0, 1), (0, 1)))
    out = tmp_path / "py.nc"
    cd.solve(model, grid, 0.01, output=out)
    with pytest.raises(OutputError, match="parameter chi is 2.0 in the file but 3.0 here"):
        cd.solve(model.with_parameters(chi=3.0), grid, 0.02, output=out, resume=True)
    sol = cd.solve(model, None, 0.02, output=out, resume=True)  # the grid comes from the file
    assert sol.success and sol.grid.cells == (8, 8)


def test_output_never_overwrites_foreign_files_nor_runs_without_overwrite(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    rc, _, err = _cli(capsys, "run", "keller-segel", "--grid", "8x8", "--t-end", "0.01", "--out", notes)
    assert rc == 2 and "is not a crossdiff run; refusing to overwrite it" in err
    rc, _, err = _cli(capsys, "run", "keller-segel", "--grid", "8x8", "--t-end", "0.01", "--out", notes, "--overwrite")
    assert rc == 2 and notes.read_text() == "my notes\n"
    out = tmp_path / "run.nc"
    assert _cli(capsys, "run", "keller-segel", "--grid", "8x8", "--t-end", "0.01", "--out", out, "--quiet")[0] == 0
    before = out.read_bytes()
    rc, _, err = _cli(capsys, "run", "keller-segel", "--grid", "8x8", "--t-end", "0.02", "--out", out)
    assert rc == 2 and "already holds a crossdiff run" in err and out.read_bytes() == before
    args = ("run", "keller-segel", "--grid", "8x8", "--t-end", "0.02", "--out", out, "--quiet", "--overwrite")
    assert _cli(capsys, *args)[0] == 0
    with open_run(out) as ds:
        assert float(ds["time"].values[-1]) == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: cd.solve(None), InputError, "model must be a crossdiff Model or a catalogue name"),
        (lambda: cd.solve("no-such-model"), ModelError, "unknown catalogue model"),
        (lambda: cd.solve("keller-segel", stepper="rk45"), InputError, "unknown stepper 'rk45'"),
        (lambda: cd.solve("keller-segel", stepper=3), InputError, "stepper must be a crossdiff Stepper"),
        (lambda: cd.solve("keller-segel", output=5), InputError, "output must be a file path"),
        (lambda: cd.solve("keller-segel", grid="8x8"), InputError, "grid must be a Grid"),
        (lambda: cd.solve("keller-segel", monitor="strict"), InputError, "monitor must be a crossdiff Monitor"),
        (lambda: cd.Model(species=None), ModelError, "species must be a sequence of Species"),
        (lambda: cd.Model(species=[cd.Species("u")], parameters=[1, 2]), ModelError, "parameters must be a mapping"),
        (lambda: cd.Species("u", taxis=5), ModelError, "must be Taxis terms"),
        (lambda: KineticModel(species=None, velocity=Sphere(2)), ModelError, "sequence of KineticSpecies"),
        (lambda: cd.Monitor(peak_limit=-1), InputError, "peak_limit must be a positive number"),
        (lambda: cd.IMEX(rtol="tight"), InputError, "rtol must be a positive number"),
    ],
)
def test_python_api_checks_its_arguments(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_python_api_accepts_names(tmp_path):
    """What users type: a catalogue name for the model and a registered name for the stepper."""
    sol = cd.solve("keller-segel", cd.Grid((8, 8), ((0, 1), (0, 1))), 0.01, stepper="imex3")
    assert sol.success and "ARK3(2)4L[2]SA" in sol.stepper and sol.model.name == "keller-segel"


def test_the_resume_summary_counts_the_files_frames(ocv_run, capsys):
    """After --resume the summary says how many frames the file holds now, not only the new ones."""
    rc, out, err = _cli(capsys, "run", "oncolytic-virus", "--out", ocv_run, "--resume", "--t-end", "0.1")
    assert rc == 0, err
    assert f"wrote {ocv_run} (2 new frames, 5 in the file)" in out, out
