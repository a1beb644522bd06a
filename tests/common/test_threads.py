"""The thread policy (crossdiff.threads): cores from the affinity mask and the cgroup quota, less
the load; one thread for small work; explicit choices; invalid values refused; results that do
not depend on the thread count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import pytest

import crossdiff.threads as threads
from crossdiff.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
_OWN_LOAD = threads._own_load


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    """No explicit choice, no cgroup files, an idle machine; the decision recomputed."""
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "CGROUP_ROOT", tmp_path / "cgroup")
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(threads, "_own_load", lambda: 0.0)
    threads.set_threads(None)
    threads.set_cores(None)
    yield
    threads.set_threads(None)
    threads.set_cores(None)


def machine(monkeypatch, cores: int, load: float = 0.0, pool: int | None = None) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(threads, "_pool", lambda: pool if pool is not None else cores)
    threads.refresh()


def test_idle_16_cores_keeps_all_cores_for_large_work(monkeypatch):
    """An idle 16-core machine: the kernels of a 256² × 32 kinetic step (one species' micro part
    on the faces of an axis: 32 × 256 × 257 values; the stage sums: 3 rows of a 12.9 M state) get
    all 16 threads; small work one thread; in between one thread per GRAIN elements."""
    machine(monkeypatch, 16, load=0.3)
    assert threads.available_cores() == 16
    assert threads.threads_for(32 * 256 * 257) == 16
    assert threads.threads_for(3 * 12_900_000) == 16
    assert threads.threads_for(16 * 32 * 33) == 1  # 2D 32² × 16: the bench's small grid
    assert threads.threads_for(200 * 16) == 1
    assert threads.threads_for(3 * threads.GRAIN) == 3
    assert threads.threads_for(2 * threads.GRAIN - 1) == 1


def test_load_takes_cores_away(monkeypatch):
    machine(monkeypatch, 16, load=3.4)
    assert threads.threads_for(2**30) == 13
    machine(monkeypatch, 2, load=0.9)  # one other busy process on 2 cores
    assert threads.threads_for(2**30) == 1
    machine(monkeypatch, 2, load=6.0)  # a busy 2-core machine
    assert threads.threads_for(2**30) == 1
    machine(monkeypatch, 2, load=0.2)
    assert threads.threads_for(2**30) == 2


def test_own_work_is_not_other_work(monkeypatch):
    """A process that has kept a core busy for minutes finds load 1.2 on an otherwise idle 2-core
    machine: its own part (1.0) is not counted, so both cores; another busy process: one."""
    machine(monkeypatch, 2, load=1.2)
    monkeypatch.setattr(threads, "_own_load", lambda: 1.0)
    threads.refresh()
    assert threads.threads_for(2**30) == 2
    machine(monkeypatch, 2, load=2.2)
    assert threads.threads_for(2**30) == 1


def test_own_load_of_this_process():
    """The real estimate (the fixture replaces it): between 0 and the pool, and more than 0 for
    this process, which has been computing for a while."""
    own = _OWN_LOAD()
    assert 0.0 < own <= int(numba.config.NUMBA_NUM_THREADS)


def test_load_is_sampled_once(monkeypatch):
    """The decision is kept (our own threads would otherwise count as load) until refresh()."""
    machine(monkeypatch, 8, load=0.0)
    assert threads.threads_for(2**30) == 8
    monkeypatch.setattr(os, "getloadavg", lambda: (8.0, 8.0, 8.0))
    assert threads.threads_for(2**30) == 8
    threads.refresh()
    assert threads.threads_for(2**30) == 1


@pytest.mark.parametrize(
    "files, cores",
    [
        ({"cpu.max": "max 100000\n"}, 16),
        ({"cpu.max": "150000 100000\n"}, 1),  # 1.5 CPUs: rounded down
        ({"cpu.max": "400000 100000\n"}, 4),
        ({"cpu.max": "50000 100000\n"}, 1),  # half a CPU: still one
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 16),  # v1, no quota
        ({"cpu.max": "garbage\n"}, 16),
    ],
)
def test_cgroup_quota_bounds_the_cores(monkeypatch, tmp_path, files, cores):
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    machine(monkeypatch, 16)
    assert threads.available_cores() == cores
    assert threads.threads_for(2**30) == cores


def test_affinity_bounds_the_cores(monkeypatch):
    machine(monkeypatch, 3, pool=16)
    assert threads.available_cores() == 3 and threads.threads_for(2**30) == 3


def test_numba_pool_bounds_every_count(monkeypatch):
    machine(monkeypatch, 16, pool=2)
    assert threads.threads_for(2**30) == 2
    threads.set_threads(8)
    assert threads.threads_for(10) == 2  # NUMBA_NUM_THREADS=2: the pool has no more


def test_explicit_choice_wins_for_any_size(monkeypatch):
    machine(monkeypatch, 16, load=10.0)
    monkeypatch.setenv(threads.ENV, "3")
    threads.refresh()
    assert threads.threads_for(1) == 3 and threads.threads_for(2**30) == 3
    threads.set_threads(5)  # set_threads (--threads) before the environment
    assert threads.threads_for(1) == 5
    threads.set_threads(None)
    assert threads.threads_for(1) == 3
    monkeypatch.delenv(threads.ENV)
    threads.refresh()
    assert threads.threads_for(1) == 1 and threads.threads_for(2**30) == 6


def test_set_cores_and_using(monkeypatch):
    machine(monkeypatch, 16)
    with threads.using(cores=4):
        assert threads.threads_for(2**30) == 4 and threads.threads_for(1) == 1
        with threads.using(threads=2):
            assert threads.threads_for(1) == 2
        assert threads.threads_for(1) == 1
    assert threads.threads_for(2**30) == 16


def test_sweep_share_counts_the_load_against_the_machine(monkeypatch):
    """A worker's share of 8 of 16 cores, its sibling busy on 8: still 8; more load: fewer."""
    machine(monkeypatch, 16, load=8.0)
    threads.set_cores(8)
    assert threads.threads_for(2**30) == 8
    machine(monkeypatch, 16, load=12.2)
    assert threads.threads_for(2**30) == 4


def test_blas_follows_the_budget(monkeypatch):
    from threadpoolctl import threadpool_info

    machine(monkeypatch, 2, load=4.0)  # busy: BLAS too on one thread
    threads.threads_for(1)
    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}
    threads.set_threads(int(numba.config.NUMBA_NUM_THREADS))
    threads.threads_for(1)
    expected = {int(numba.config.NUMBA_NUM_THREADS)}
    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == expected


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5", "", "2 threads"])
def test_invalid_environment_refused(monkeypatch, value):
    machine(monkeypatch, 2)
    monkeypatch.setenv(threads.ENV, value)
    threads.refresh()
    if not value:  # empty: as if unset
        assert threads.threads_for(2**30) == 2
        return
    with pytest.raises(InputError, match="CROSSDIFF_THREADS must be a positive integer"):
        threads.threads_for(1)


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "many"])
def test_invalid_set_threads_refused(value):
    with pytest.raises(InputError, match="positive integer"):
        threads.set_threads(value)


def test_numba_threads_sets_numbas_count():
    pool = int(numba.config.NUMBA_NUM_THREADS)
    threads.set_threads(pool)
    assert threads.numba_threads(1) == pool and numba.get_num_threads() == pool
    threads.set_threads(None)
    assert threads.numba_threads(1) == 1 and numba.get_num_threads() == 1


@pytest.mark.parametrize("args", [["--threads", "0"], ["--threads", "two"], ["--threads", "-3"]])
def test_cli_refuses_bad_threads(cli, tmp_path, args):
    res = cli("run", "keller-segel", "--t-end", "0.01", "--out", tmp_path / "a.nc", *args)
    assert res.rc == 2 and len(res.err.strip().splitlines()) == 1 and "--threads" in res.err


def test_cli_refuses_bad_environment(cli, tmp_path, monkeypatch):
    monkeypatch.setenv(threads.ENV, "lots")
    res = cli("run", "keller-segel", "--t-end", "0.01", "--out", tmp_path / "a.nc")
    assert (
        res.rc == 2 and res.err.strip() == "crossdiff: error: CROSSDIFF_THREADS must be a positive integer, got 'lots'"
    )
    assert not (tmp_path / "a.nc").exists()
    res = cli("sweep", "keller-segel", "--param", "chi=1", "--out", tmp_path / "s")
    assert res.rc == 2 and "CROSSDIFF_THREADS" in res.err and not (tmp_path / "s").exists()


def test_cli_threads_option_is_used(cli, tmp_path, monkeypatch):
    """``--threads`` overrides ``CROSSDIFF_THREADS`` (capped by Numba's pool) for the run."""
    monkeypatch.setenv(threads.ENV, "1")
    threads.refresh()
    res = cli("run", "keller-segel", "--grid", "16x16", "--t-end", "0.01", "--out", tmp_path / "a.nc", "--threads", "2")
    assert res.rc == 0, res.err
    assert threads._explicit == 2  # the CLI's choice, kept by the process
    assert threads.threads_for(1) == min(2, int(numba.config.NUMBA_NUM_THREADS))


def test_sweep_workers_use_the_threads_given(cli, tmp_path, monkeypatch):
    """``sweep --threads N``: each run on a worker uses N threads."""
    import crossdiff.sweep._sweep as module

    real_client, real_run = module._client, module._execute_run
    seen = []
    monkeypatch.setattr(
        module, "_client", lambda scheduler, workers, processes, n: real_client(scheduler, workers, False, n)
    )
    monkeypatch.setattr(module, "_execute_run", lambda spec: (seen.append(threads.threads_for(1)), real_run(spec))[1])
    args = ["sweep", "may-nowak-taxis", "--param", "chi=4", "--grid", "16", "--t-end", "0.5", "--out", tmp_path / "s"]
    res = cli(*args, "--workers", "1", "--threads", "2", "--quiet")
    assert res.rc == 0, res.err
    assert seen == [min(2, int(numba.config.NUMBA_NUM_THREADS))]
    assert threads.threads_for(1) == min(2, int(numba.config.NUMBA_NUM_THREADS))  # the CLI's own choice


_SAME_RESULT = textwrap.dedent(
    """
    import json, os, numba
    import numpy as np
    import crossdiff as cd
    from crossdiff.threads import threads_for, using

    states, used = [], []
    for n in (1, 2):
        with using(threads=n):
            used.append(threads_for(1))
            grid = cd.Grid((24, 20), ((0.0, 1.0), (0.0, 1.0)))
            sol = cd.solve("cancer-invasion-kinetic", grid, 0.02, eps=0.01, velocities=8)
            assert sol.success
            states.append(np.asarray(sol.state, dtype=float).ravel())
    diff = float(np.max(np.abs(states[0] - states[1])) / np.max(np.abs(states[0])))
    print(json.dumps({"used": used, "diff": diff, "wait": os.environ.get("OMP_WAIT_POLICY"),
                      "layer": numba.threading_layer()}))
    """
)


def test_kinetic_run_same_on_one_and_two_threads(tmp_path):
    """A 2D kinetic run with every kernel and transform on one thread and on two (a process with a
    pool of two: NUMBA_NUM_THREADS=2) gives the same densities to round-off; importing crossdiff
    made OpenMP's idle threads sleep (OMP_WAIT_POLICY=PASSIVE)."""
    env = {k: v for k, v in os.environ.items() if k not in (threads.ENV, "OMP_WAIT_POLICY")}
    env.update(NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", _SAME_RESULT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout.strip().splitlines()[-1])
    assert data["used"] == [1, 2]
    assert data["diff"] <= 1e-13
    assert data["wait"] == "PASSIVE"
