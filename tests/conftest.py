"""Shared fixtures: run the CLI in-process, write model files."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest


@dataclass
class CliResult:
    rc: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """``cli(*args) -> CliResult``: ``crossdiff.cli.main(args)`` with captured stdout/stderr."""
    from crossdiff.cli import main

    def run(*args: object) -> CliResult:
        capsys.readouterr()  # drop anything printed before
        rc = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(rc, captured.out, captured.err)

    return run


#: A small 1D Keller-Segel model file; tests replace pieces of it.
KS_TOML = """
[model]
name = "ks"
description = "test model"

[parameters]
chi = { value = 1.5, description = "sensitivity" }
r = 0.5

[domain]
extent = [[0, 1]]
cells = [16]
boundary = "noflux"
t_end = 0.01

[[species]]
name = "u"
long_name = "cells"
diffusion = 1
taxis = [{ signal = "v", sensitivity = "chi" }]
reaction = "r*u*(1 - u)"
initial = "1 + 0.2*cos(pi*x)"

[[species]]
name = "v"
long_name = "signal"
diffusion = 1
reaction = "u - v"
initial = "1"
"""


@pytest.fixture
def model_file(tmp_path):
    """``model_file(text=KS_TOML, name="m.toml") -> path`` of a model file in ``tmp_path``."""

    def write(text: str = KS_TOML, name: str = "m.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
