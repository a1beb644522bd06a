"""Sweeps on Dask: a LocalCluster, a scheduler and a worker in separate processes, restarts
(also after killing a sweep), failed runs recorded, refusals, and the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crossdiff as cd
from crossdiff.errors import OutputError
from crossdiff.io import open_run
from crossdiff.sweep import load_sweep, sweep

ROOT = Path(__file__).resolve().parents[2]
LINE = cd.Grid((32,), ((0.0, 20.0),))
#: small May-Nowak runs: chi = 4 decays, chi = 8 forms a pattern (threshold 5, tests/analysis/test_patterns.py)
SMALL = {"grid": LINE, "t_end": 20.0, "processes": False, "workers": 2}


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "mn"
    return sweep("may-nowak-taxis", ["chi=4,8", "D1=0.5,1"], out, **SMALL)


def test_local_cluster_four_runs(small_sweep):
    res = small_sweep
    assert (res.ran, res.skipped, res.total) == (4, 0, 4) and res.complete
    table = res.table
    assert list(table["chi"]) == [4.0, 4.0, 8.0, 8.0] and list(table["D1"]) == [0.5, 1.0, 0.5, 1.0]
    assert list(table["status"]) == ["success"] * 4
    assert list(table["behaviour"][:2]) == ["decaying"] * 2
    assert all(b in ("stationary", "oscillating", "growing") for b in table["behaviour"][2:])
    # every run wrote its NetCDF file, with the run's own parameters
    for _, row in table.iterrows():
        ds = open_run(res.directory / row["file"])
        params = json.loads(ds.attrs["parameters"])
        assert (params["chi"], params["D1"]) == (row["chi"], row["D1"])
        assert float(ds["time"][-1]) == pytest.approx(20.0)
        ds.close()
    # the Parquet summary is the table
    stored = pd.read_parquet(res.directory / "summary.parquet")
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), table.reset_index(drop=True), check_dtype=False)


def test_restart_skips_finished_runs(small_sweep):
    out = small_sweep.directory
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "runs").iterdir()}
    again = sweep("may-nowak-taxis", ["chi=4,8", "D1=0.5,1"], out, **SMALL)
    assert (again.ran, again.skipped) == (0, 4)
    after = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "runs").iterdir()}
    assert after == before  # nothing rewritten
    pd.testing.assert_frame_equal(again.table, small_sweep.table)


def test_another_sweep_in_the_same_directory_refused(small_sweep, tmp_path, cli):
    out = small_sweep.directory
    with pytest.raises(OutputError, match="another sweep.*parameter grid"):
        sweep("may-nowak-taxis", ["chi=4,9", "D1=0.5,1"], out, **SMALL)
    with pytest.raises(OutputError, match="another sweep"):  # same grid, other end time
        sweep("may-nowak-taxis", ["chi=4,8", "D1=0.5,1"], out, **{**SMALL, "t_end": 10.0})
    res = cli("sweep", "may-nowak-taxis", "--param", "chi=4,8", "--param", "D1=0.5,1", "--grid", "32", "--out", out)
    assert res.rc == 2 and "another sweep" in res.err  # the default end time differs
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    res = cli("sweep", "may-nowak-taxis", "--param", "chi=4", "--grid", "16", "--t-end", "1", "--out", foreign)
    assert res.rc == 2 and "not a crossdiff sweep" in res.err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


BLOW = cd.Model(
    species=[cd.Species("u", diffusion="D", reaction="a*u**2", initial="1 + 0.1*cos(pi*x)")],
    parameters={"a": 0.0, "D": 1.0},
    name="blow",
)


def test_failed_runs_recorded_not_fatal(tmp_path):
    """u_t = D u_xx + a u^2 from u ~ 1 blows up near t = 1/a; D < 0 is refused by the model."""
    res = sweep(
        BLOW,
        {"D": [-1.0, 1.0], "a": [0.0, 1.0]},
        tmp_path / "b",
        grid=cd.Grid((16,), ((0, 1),)),
        t_end=2.0,
        processes=False,
        workers=1,
    )
    assert res.complete and res.ran == 4
    rows = {(r.D, r.a): r for r in res.table.itertuples()}
    for a in (0.0, 1.0):
        assert rows[(-1.0, a)].status == "error" and "negative diffusion" in rows[(-1.0, a)].message
        assert pd.isna(rows[(-1.0, a)].file)
    assert rows[(1.0, 0.0)].behaviour == "decaying"
    blown = rows[(1.0, 1.0)]
    assert blown.status == "blow-up" and blown.behaviour == "blow-up"
    assert 0.9 < blown.t_final < 1.0  # u' = u^2 from max u = 1.1: blow-up before t = 1/1.1 + diffusion delay
    assert (res.directory / blown.file).is_file()  # the frames before the blow-up are kept
    again = sweep(
        BLOW,
        {"D": [-1.0, 1.0], "a": [0.0, 1.0]},
        tmp_path / "b",
        grid=cd.Grid((16,), ((0, 1),)),
        t_end=2.0,
        processes=False,
        workers=1,
    )
    assert (again.ran, again.skipped) == (0, 4)  # failed runs are finished runs too


def test_run_lost_on_the_cluster_is_retried(tmp_path, monkeypatch):
    """A task that raises on the cluster (a worker that died, a missing import) is not the run's
    result: it gets no record, the sweep goes on, and the next invocation runs it."""
    import crossdiff.sweep._sweep as module

    real = module.execute_run

    def flaky(spec):
        if spec.parameters["chi"] == 8.0:
            raise RuntimeError("worker lost")
        return real(spec)

    monkeypatch.setattr(module, "execute_run", flaky)
    first = sweep("may-nowak-taxis", ["chi=4,8"], tmp_path / "l", grid=LINE, t_end=5.0, processes=False, workers=1)
    assert first.ran == 1 and len(first.lost) == 1 and "chi=8: RuntimeError: worker lost" in first.lost[0]
    assert list(first.table["chi"]) == [4.0] and not first.complete
    monkeypatch.setattr(module, "execute_run", real)
    second = sweep("may-nowak-taxis", ["chi=4,8"], tmp_path / "l", grid=LINE, t_end=5.0, processes=False, workers=1)
    assert (second.ran, second.skipped, second.lost) == (1, 1, []) and second.complete


def _wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_scheduler_and_worker_in_separate_processes(tmp_path):
    dask = str(Path(sys.executable).with_name("dask"))
    sched_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--dashboard-address",
                    ":0",
                    "--scheduler-file",
                    str(sched_file),
                ],
                env=_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait_for(lambda: sched_file.is_file() and sched_file.stat().st_size > 0, 60, "the scheduler")
        address = json.loads(sched_file.read_text())["address"]
        worker = subprocess.Popen(
            [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--dashboard-address", ":0"],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(worker)
        res = sweep("may-nowak-taxis", ["chi=4,8"], tmp_path / "remote", grid=LINE, t_end=20.0, scheduler=address)
        assert res.complete and list(res.table["status"]) == ["success"] * 2
        assert list(res.table["behaviour"])[0] == "decaying"
        # both runs ran in the worker process, not here
        assert {int(w.rsplit(":", 1)[1]) for w in res.table["worker"]} == {worker.pid}
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_unreachable_scheduler_is_an_input_error(cli, tmp_path, monkeypatch):
    import crossdiff.sweep._sweep as module

    monkeypatch.setattr(module, "CONNECT_TIMEOUT", 1.0)  # nothing listens on port 9: no need to wait 10 s
    res = cli(
        "sweep",
        "may-nowak-taxis",
        "--param",
        "chi=4",
        "--grid",
        "16",
        "--t-end",
        "1",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--out",
        tmp_path / "s",
    )
    assert res.rc == 2 and "cannot connect to the Dask scheduler" in res.err


def test_killed_sweep_loses_nothing_finished(tmp_path):
    """SIGKILL the whole sweep (client, cluster, workers) after its first runs finished; running
    it again computes only the rest, and leaves the finished runs' files untouched."""
    out = tmp_path / "killed"
    args = ["--param", "chi=6:9:4", "--grid", "64", "--t-end", "40"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crossdiff",
            "sweep",
            "may-nowak-taxis",
            *args,
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill reaches the cluster's processes too
    )
    try:
        _wait_for(
            lambda: len(list((out / "runs").glob("*.json"))) >= 1 if (out / "runs").is_dir() else False, 120, "a run"
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = {p.name: p.read_bytes() for p in (out / "runs").glob("*.json")}
    assert 1 <= len(done) < 4  # killed mid-way (each run takes about 0.5 s, the kill follows within 0.05 s)
    grid = cd.default_grid(cd.catalogue.load("may-nowak-taxis"), (64,))  # what --grid 64 gives
    res = sweep(
        "may-nowak-taxis",
        ["chi=6:9:4"],
        out,
        grid=grid,
        t_end=40.0,
        processes=False,
        workers=1,
    )
    assert (res.skipped, res.ran) == (len(done), 4 - len(done))
    assert res.complete and list(res.table["status"]) == ["success"] * 4
    assert {name: (out / "runs" / name).read_bytes() for name in done} == done
    assert not list((out / "runs").glob("*.partial.nc"))  # the run cut off was redone and renamed
    assert np.all(np.diff(res.table["chi"]) > 0)


def test_report_table_plot_and_json(small_sweep, cli, tmp_path):
    out = small_sweep.directory
    res = cli("sweep-report", out, "--out", tmp_path / "s.png", "--threshold", "5")
    assert res.rc == 0, res.err
    assert "decaying" in res.out and "chi = 5" in res.out
    assert (tmp_path / "s.png").stat().st_size > 10_000
    res = cli("sweep-report", out, "--json")
    data = json.loads(res.out)
    # without --threshold: the critical chi of linear stability on the sweep's [0, 20] (5.014 at
    # mode m = 6, derived in tests/analysis/test_patterns.py), to the analysis' 1e-6
    assert data["runs"] == 4 and data["threshold"] == pytest.approx(5.014, abs=1e-3) and len(data["table"]) == 4
    assert data["table"][0]["chi"] == 4.0 and data["table"][0]["behaviour"] == "decaying"
    loaded = load_sweep(out)
    pd.testing.assert_frame_equal(loaded.table, small_sweep.table)
    assert cli("sweep-report", tmp_path, "--json").rc == 2  # not a sweep directory
    assert cli("sweep-report", out, "--x", "beta").rc == 2  # not swept


def test_cli_sweep_json_and_restart(cli, tmp_path, monkeypatch):
    import crossdiff.sweep._sweep as module

    real = module._client  # the CLI's cluster as threads of this process: no worker start-up here
    monkeypatch.setattr(module, "_client", lambda scheduler, workers, processes, n: real(scheduler, workers, False, n))
    out = tmp_path / "c"
    args = ["sweep", "may-nowak-taxis", "--param", "chi=4", "--grid", "16", "--t-end", "2", "--out", out]
    res = cli(*args, "--workers", "1", "--json")
    assert res.rc == 0, res.err
    data = json.loads(res.out)
    assert (data["runs"], data["ran"], data["skipped"], data["lost"]) == (1, 1, 0, [])
    assert data["behaviour"] == {"decaying": 1}  # chi = 4 < 5.014: below the taxis threshold
    res = cli(*args)  # nothing left to run: no cluster is started
    assert res.rc == 0 and "0 run now, 1 already finished" in res.out
