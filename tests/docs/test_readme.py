"""The README works as typed: its shell tour, its Python snippet and its model file.

The convention (stated in a comment at the top of the README's tour):

- every fenced ``sh`` block is run, in the order of the file, in one empty directory; a block may
  hold ``crossdiff ...`` commands (several joined by ``&&``), comments, and
  ``cat > FILE <<'EOF'`` ... ``EOF`` blocks that write a file, and nothing else (the test refuses
  any other command, so that what it runs is what a reader types);
- every fenced ``python`` block is then run in that directory too;
- every fenced ``toml`` block is a valid model file.

``crossdiff ARGS`` runs ``crossdiff.cli.main(ARGS)``, the function the ``crossdiff`` console script
calls (checked against ``pyproject.toml``), in-process, so that it tests this checkout and costs no
interpreter start-up per command. Every command must exit 0; a command with ``--json`` must print
JSON; every file named by ``--out``, ``--movie`` or ``--save-model`` must exist afterwards, and a
run's file must end at its ``--t-end``.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from crossdiff.cli import main
from crossdiff.io import open_run
from crossdiff.model import model_from_dict

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


@dataclass
class Command:
    line: str  # as written in the README
    args: list[str] | None = None  # crossdiff arguments
    path: str | None = None  # or: a file to write ...
    text: str | None = None  # ... with this text


def parse(block: str) -> list[Command]:
    """The commands of one ``sh`` block, under the convention of this module."""
    commands: list[Command] = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.strip().startswith("#"):
            continue
        heredoc = re.fullmatch(r"cat > (\S+) <<'(\w+)'", line.strip())
        if heredoc:
            end = lines.index(heredoc.group(2), i)  # ValueError: an unterminated here-document
            commands.append(Command(line, path=heredoc.group(1), text="\n".join(lines[i:end]) + "\n"))
            i = end + 1
            continue
        tokens = shlex.split(line, comments=True)
        parts: list[list[str]] = [[]]
        for token in tokens:
            if token == "&&":
                parts.append([])
            else:
                parts[-1].append(token)
        for part in parts:
            if not part or part[0] != "crossdiff":
                raise ValueError(f"README sh blocks hold crossdiff commands and cat here-documents only: {line!r}")
            commands.append(Command(line, args=part[1:]))
    return commands


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_the_tour_is_the_console_script():
    """``crossdiff`` in the README is the console script, i.e. :func:`crossdiff.cli.main`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["crossdiff"] == "crossdiff.cli:main"


def test_the_convention_refuses_other_commands():
    assert [c.args for c in parse("crossdiff a b  # c\ncrossdiff x && crossdiff y --z 1\n")] == [
        ["a", "b"],
        ["x"],
        ["y", "--z", "1"],
    ]
    (write,) = parse("cat > f.toml <<'EOF'\n[model]\nEOF\n")
    assert (write.path, write.text) == ("f.toml", "[model]\n")
    for bad in ("rm -rf x", "crossdiff run m && ls", "python -m crossdiff models"):
        with pytest.raises(ValueError, match="crossdiff commands and cat here-documents only"):
            parse(bad)
    with pytest.raises(ValueError):
        parse("cat > f <<'EOF'\nno end\n")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_sh_blocks_are_valid_shell():
    script = "\n".join(_blocks("sh"))
    proc = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_the_command_line_tour_runs_as_typed(tmp_path, monkeypatch, capsys):
    blocks = _blocks("sh")
    assert len(blocks) >= 3  # the tour: catalogue runs, a model file, a kinetic file
    commands = [c for block in blocks for c in parse(block)]
    monkeypatch.chdir(tmp_path)
    for command in commands:
        if command.args is None:
            assert command.path is not None and command.text is not None
            Path(command.path).write_text(command.text, encoding="utf-8")
            continue
        args = command.args
        capsys.readouterr()
        rc = main(args)
        out, err = capsys.readouterr()
        assert rc == 0, f"`crossdiff {' '.join(args)}` exited {rc}: {err}"
        if "--json" in args:
            json.loads(out)
        for option in ("--out", "--movie", "--save-model"):
            target = _option(args, option)
            if target is not None:
                assert (tmp_path / target).is_file(), f"`crossdiff {' '.join(args)}` did not write {target}"
        if args[0] == "run" and "--t-end" in args:
            with open_run(tmp_path / (_option(args, "--out") or "")) as ds:
                assert float(ds["time"][-1]) == pytest.approx(float(_option(args, "--t-end") or "nan"))


def test_the_python_snippets_run(tmp_path, monkeypatch, capsys):
    blocks = _blocks("python")
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert "success" in capsys.readouterr().out.lower()
    assert (tmp_path / "ks.png").is_file() and (tmp_path / "ocv-python.nc").is_file()


def test_the_model_file_blocks_are_model_files():
    blocks = _blocks("toml")
    assert blocks
    for block in blocks:
        model = model_from_dict(tomllib.loads(block), source="README")
        assert model.species_names
