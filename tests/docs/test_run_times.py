"""The run times the documentation states hold: every ``crossdiff`` command of the README's tour
and of the docs' quick starts ends its line with its measured time (``# … (2 s)``), and the
commands take that time within a factor 3, as a ratio to a reference command measured in the
same test (so that the check holds on a slower or busier machine).

Times are CPU seconds (user + system, of the command and the processes it waits for) of
``crossdiff ARGS`` started as a new process, as a user types it: start-up included. On an
otherwise idle machine they are the wall times; unlike wall times they do not grow with what
else the machine runs. The fast test runs the reference and the cheap commands (documented at
most :data:`CHEAP` seconds, needing no file of a dearer command); the slow test runs them all.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from .test_readme import Command, parse

ROOT = Path(__file__).resolve().parents[2]
#: Pages whose ``sh`` blocks state run times: the README's tour and the quick starts of docs/.
PAGES = [ROOT / "README.md", ROOT / "docs" / "sweeps.md", ROOT / "docs" / "kinetic.md"]
#: The reference: the first run of the README's tour.
REFERENCE = "crossdiff run oncolytic-virus --grid 64x64 --t-end 4 --save-every 1 --set xi1=0.05 --out ocv.nc"
#: Commands documented at most this many seconds are cheap: the fast test runs them.
CHEAP = 1.0
#: The agreement asked of a measured time, as a factor either way (of the ratio to the reference).
FACTOR = 3.0
#: A stated time: ``(2 s)``, ``(0.7 s)`` or ``(3 min)`` ending the comment of a command's line.
TIME = re.compile(r"#.*\((\d+(?:\.\d+)?) (s|min)\)\s*$")


def documented(line: str) -> float | None:
    """The time stated at the end of ``line``, in seconds (None: none stated)."""
    found = TIME.search(line)
    if found is None:
        return None
    return float(found.group(1)) * (60.0 if found.group(2) == "min" else 1.0)


def lines(page: Path) -> list[tuple[str, list[Command]]]:
    """The lines of ``page``'s ``sh`` blocks as typed, each with its commands (a here-document is
    one line with the file it writes), in order."""
    text = page.read_text(encoding="utf-8")
    out: list[tuple[str, list[Command]]] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
        for command in parse(block):
            if out and out[-1][0] == command.line and command.args is not None:
                out[-1][1].append(command)  # a && b: one line, one time
            else:
                out.append((command.line, [command]))
    return out


def cpu_seconds(commands: list[Command], cwd: Path) -> float:
    """CPU seconds of the commands of one line run as new processes in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    total = 0.0
    for command in commands:
        if command.args is None:
            (cwd / str(command.path)).write_text(str(command.text), encoding="utf-8")
            continue
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [sys.executable, "-m", "crossdiff", *command.args], cwd=cwd, env=env, capture_output=True, text=True
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert proc.returncode == 0, f"{command.line}: {proc.stderr}"
        total += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return total


def check_times(page_lines: list[tuple[str, list[Command]]], cwd: Path, cheap_only: bool) -> list[str]:
    """Run the lines (only the cheap ones with ``cheap_only``) and the reference; one message per
    line whose time is off by more than :data:`FACTOR` relative to the reference."""
    ref_line, ref_commands = next((line, c) for line, c in page_lines if line.startswith(REFERENCE))
    ref_doc = documented(ref_line)
    assert ref_doc is not None
    # the smaller of two runs: the first may compile the model's kernels (a fresh clone's cold cache)
    times = []
    for k in range(2):
        (cwd / f"reference-{k}").mkdir()
        times.append(cpu_seconds(ref_commands, cwd / f"reference-{k}"))
    reference = min(times)
    scale = reference / ref_doc  # this machine's seconds per documented second
    wrong = []
    for line, commands in page_lines:
        stated = documented(line)
        if commands[0].args is None:
            cpu_seconds(commands, cwd)  # a here-document: write the file
            continue
        assert stated is not None
        if cheap_only and stated > CHEAP:
            continue
        took = cpu_seconds(commands, cwd)
        if not stated / FACTOR <= took / scale <= stated * FACTOR:
            wrong.append(f"{line.split('#')[0].strip()}: states {stated:g} s, took {took / scale:.2g} s here")
    return wrong


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_documented_command_states_its_time(page):
    found = lines(page)
    assert any(c.args for _, commands in found for c in commands)
    missing = [line for line, commands in found if commands[0].args is not None and documented(line) is None]
    assert not missing, f"{page.name}: commands without a stated time (# … (N s)): {missing}"


def test_the_time_convention():
    assert documented("crossdiff models   # the catalogue (0.2 s)") == 0.2
    assert documented("crossdiff sweep m --out d   # (3 min)") == 180.0
    assert documented("crossdiff models   # the catalogue") is None
    assert documented("crossdiff models   # 2 s and more") is None


def test_cheap_commands_take_the_time_stated(tmp_path):
    wrong = check_times(lines(ROOT / "README.md"), tmp_path, cheap_only=True)
    assert not wrong, wrong


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_takes_the_time_stated(page, tmp_path):
    page_lines = lines(page)
    if not any(line.startswith(REFERENCE) for line, _ in page_lines):
        page_lines = [*(x for x in lines(ROOT / "README.md") if x[0].startswith(REFERENCE)), *page_lines]
    wrong = check_times(page_lines, tmp_path, cheap_only=False)
    assert not wrong, wrong
