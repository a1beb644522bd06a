"""Progress of the long commands (``converge``, ``blowup``, ``sweep``) and of their library calls:
a bar on a terminal, lines elsewhere (each run's start and end with the runs done and the time
left, and at least every 10 s), ``--progress/--no-progress`` and ``--quiet``
(:mod:`crossdiff.progress`)."""

from __future__ import annotations

import io
import re
import sys
import time

import pytest

import crossdiff as cd
from crossdiff.errors import InputError
from crossdiff.progress import StudyProgress, progress_mode

BLOWUP = ["blowup", "keller-segel-elliptic", "--set", "mass=31.41592653589793", "--grids", "16,32", "--t-end", "0.002"]
CONVERGE = ["converge", "cancer-invasion-kinetic", "--eps", "0.1", "--grid", "16", "--t-end", "0.01"]
SWEEP = ["sweep", "may-nowak-taxis", "--param", "chi=4,8", "--grid", "16", "--t-end", "2", "--workers", "1"]


def test_progress_mode():
    assert progress_mode(False) is None and progress_mode(None) is None
    assert progress_mode("bar") == "bar" and progress_mode("log") == "log"
    assert progress_mode(True) == "log"  # pytest's captured standard error is no terminal
    with pytest.raises(InputError, match="progress must be"):
        progress_mode("yes")


def test_study_progress_lines_and_estimate():
    out = io.StringIO()
    with StudyProgress("study", 3, "log", work=[1.0, 1.0, 2.0], stream=out) as shown:
        assert shown.left() is None  # nothing finished: no estimate
        for label in ("a", "b", "c"):
            shown.started(label)
            shown.finished(f"{label} ok")
            left = shown.left()
            assert left is not None and left >= 0.0
    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("study: run 1 of 3 (a) started; ")
    assert re.match(r"study: run 3 of 3 done \(c ok\) in \d+\.\d s; \d+ s so far, about 0 s left$", lines[-1])
    # a resumed study counts the runs done before; no lines at all without a mode
    quiet = io.StringIO()
    with StudyProgress("study", 3, None, done=2, stream=quiet) as shown:
        shown.finished("c")
    assert shown.done == 3 and quiet.getvalue() == ""


def test_study_progress_heartbeat():
    """While runs go on elsewhere (a sweep's cluster), a line at least every ``interval`` seconds."""
    out = io.StringIO()
    with StudyProgress("sweep", 2, "log", interval=0.05, stream=out) as shown:
        shown.heartbeat()
        for _ in range(200):  # wait for the first beat (at most 10 s on a busy machine)
            if out.getvalue():
                break
            time.sleep(0.05)
    assert "sweep: 0 of 2 runs done, running; " in out.getvalue()


def test_blowup_progress_options(cli):
    res = cli(*BLOWUP, "--progress")
    assert res.rc == 0, res.err
    lines = res.err.splitlines()
    assert lines[0].startswith("blowup: run 1 of 2 (16x16 on ")
    assert any(re.match(r"blowup: run 2 of 2 done \(32x32: success at t = 0\.002\) in ", line) for line in lines), (
        res.err
    )
    # the runs' own progress goes to the same lines (solve's ProgressLog) only every 10 s: none here
    assert len(lines) == 4 and "blow-up study on 2 grids" in res.out
    for flags in ((), ("--no-progress",), ("--quiet",), ("--progress", "--quiet"), ("--progress", "--json")):
        res = cli(*BLOWUP, *flags)
        assert res.rc == 0 and res.err == "", (flags, res.err)
        assert (res.out == "") == ("--quiet" in flags), flags


def test_converge_progress_and_quiet(cli):
    res = cli(*CONVERGE, "--progress")
    assert res.rc == 0, res.err
    assert "converge: run 1 of 2 (the derived macroscopic limit) started" in res.err
    assert re.search(r"converge: run 2 of 2 done \(eps = 0\.1: L1 difference of \w+ [\d.e-]+, \d+ steps\)", res.err)
    assert "eps" in res.out
    res = cli(*CONVERGE, "--quiet")
    assert res.rc == 0 and res.out == "" and res.err == ""


def test_sweep_progress_lines_and_bar(cli, tmp_path, capsys, monkeypatch):
    import crossdiff.sweep

    in_process = crossdiff.sweep.sweep  # the command's sweep on threads here (no worker processes to start)
    monkeypatch.setattr(crossdiff.sweep, "sweep", lambda *a, **k: in_process(*a, **{**k, "processes": False}))
    res = cli(*SWEEP, "--out", tmp_path / "s", "--progress")
    assert res.rc == 0, res.err
    done = [line for line in res.err.splitlines() if " done (chi=" in line]
    assert len(done) == 2 and done[-1].startswith("sweep: run 2 of 2 done (chi="), res.err
    # the library's bar: tqdm on standard error, counting the runs
    cd.sweep.sweep("may-nowak-taxis", ["chi=4,8"], tmp_path / "u", grid=cd.Grid((16,), ((0.0, 20.0),)),
                   t_end=2.0, processes=False, workers=1, progress="bar")  # fmt: skip
    assert "sweep:   0%| " in capsys.readouterr().err  # tqdm draws the bar at once (and at most 10 times a second)


def test_a_terminal_gets_a_bar_by_default(cli, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    res = cli(*BLOWUP)
    assert res.rc == 0
    assert "blowup:   0%|" in res.err and "0/2" in res.err and "run 1 of 2" not in res.err
