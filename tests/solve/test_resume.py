"""One resume for every scale: a run killed mid-way (SIGKILL) and continued with nothing but its
end time equals the run that was never interrupted.

The continued run takes everything from its file (model, parameters, grid, scale options,
stepper and its settings, limiter, save interval), counts its save times from the first start
and restarts the step-size controller where it was at the last frame, so the macroscopic and
fluid runs are bit-identical. A kinetic run file holds the densities, not the micro part of the
distributions: the continued run restarts from well-prepared distributions ``f = M ρ``
(docs/numerics.md, "Output"), which changes its densities by O(ε): measured 2.6e-5 here at
ε = 0.01; the bound below is 19 times that, for other machines' round-off in the step sizes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import h5netcdf
import numpy as np
import pytest

from crossdiff.cli import main
from crossdiff.io import committed_frames, open_run

#: (catalogue entry, grid, end time, save interval, extra options, how close the continued run is)
CASES = {
    "macroscopic": ("keller-segel-logistic", "96x96", "20", "1", [], 0.0),
    "fluid": ("keller-segel-fluid", "64x32", "0.3", "0.02", [], 0.0),
    "kinetic": ("cancer-invasion-kinetic", "400", "10", "0.5", ["--eps", "0.01"], 5e-4),
}


def _frames(path) -> int:
    """Frames written whole so far (0 while the writer holds the file or before it exists)."""
    try:
        with h5netcdf.File(path, "r") as f:
            return committed_frames(f)
    except (OSError, KeyError, ValueError):
        return 0


def _killed_run(args: list[str], path) -> int:
    """Start ``crossdiff run`` in a process, SIGKILL it once it has written two frames; the
    number of frames the file keeps."""
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "crossdiff", "run", *args], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _frames(path) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not finished, (
        f"the run ended before it could be killed: {proc.stderr.read().decode() if proc.stderr else ''}"
    )
    return _frames(path)


@pytest.mark.parametrize("scale", list(CASES))
def test_a_killed_run_resumed_with_only_its_end_time_equals_the_uninterrupted_run(tmp_path, capsys, scale):
    name, grid, t_end, every, extra, tolerance = CASES[scale]
    options = [name, "--grid", grid, "--t-end", t_end, "--save-every", every, *extra, "--quiet"]
    straight, killed = tmp_path / "straight.nc", tmp_path / "killed.nc"
    assert main(["run", *options, "--out", str(straight)]) == 0
    kept = _killed_run([*options, "--out", str(killed)], killed)
    with open_run(straight) as ds:
        total = ds.sizes["time"]
    assert 2 <= kept < total  # killed mid-way, its frames kept
    assert main(["run", name, "--resume", "--out", str(killed), "--t-end", t_end, "--quiet"]) == 0
    with open_run(straight) as a, open_run(killed) as b:
        np.testing.assert_array_equal(a["time"].values, b["time"].values)  # the same frame times, to the bit
        for key in set(a.attrs) | set(b.attrs):
            if key != "checkpoint" or tolerance == 0.0:  # the kinetic controller's last step differs
                assert str(a.attrs.get(key)) == str(b.attrs.get(key)), key
        for var in a.data_vars:
            if tolerance == 0.0:
                np.testing.assert_array_equal(a[var].values, b[var].values, err_msg=var)
            else:
                assert float(np.max(np.abs(a[var].values - b[var].values))) < tolerance, var
