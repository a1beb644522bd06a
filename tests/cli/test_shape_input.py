"""Bad shapes on the command line: one line naming the problem, exit 2, nothing written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from crossdiff.cli import main


def _mask_picture(path, size):
    Image.fromarray(np.full((size[1], size[0]), 0, dtype=np.uint8)).save(path)
    return str(path)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--inside", "x + y"], "not a condition"),
        (["--inside", "x^2 + w^2 < 4"], "unknown symbol 'w'"),
        (["--inside", "x < -5"], "contains no cell"),
        (["--inside", "(x-10)^2 + (y-10)^2 < 0.01"], "leaves no whole cell"),
        (["--inside", "x < 5", "--mask", "m.png"], "not both"),
        (["--boundary", "periodic", "--inside", "x < 10"], "reaches the periodic sides"),
        (["--mask", "missing.png"], "cannot read mask picture"),
        (["--mask", "small.png"], "is 8x8 pixels; the grid is 16x16 cells"),
    ],
)
def test_bad_shapes_exit_2_in_one_line_writing_nothing(tmp_path, monkeypatch, capsys, args, fragment):
    monkeypatch.chdir(tmp_path)
    _mask_picture(tmp_path / "small.png", (8, 8))
    code = main(["run", "keller-segel-logistic", "--grid", "16x16", "--t-end", "0.1", "--out", "r.nc", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err and err.count("\n") == 1, err
    assert not (tmp_path / "r.nc").exists()


def test_a_mask_picture_runs_and_a_kinetic_model_on_a_shape_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    picture = np.full((16, 16), 255, dtype=np.uint8)
    picture[3:13, 4:12] = 0  # dark: a rectangle of 8 x 10 cells inside
    Image.fromarray(picture).save(tmp_path / "dish.png")
    assert main(["run", "keller-segel-logistic", "--grid", "16x16", "--t-end", "0.2", "--mask", "dish.png"]) == 0
    out = capsys.readouterr().out
    assert "80 active cells (0 cut)" in out  # a mask is whole cells: 8 x 10 of them
    code = main(
        [
            "run",
            "oncolytic-virus-kinetic",
            "--grid",
            "16x16",
            "--t-end",
            "0.1",
            "--inside",
            "x < 1e9",
            "--eps",
            "0.1",
            "--out",
            "k.nc",
        ]
    )
    assert code == 2 and "kinetic models do not run on a shape domain" in capsys.readouterr().err
    assert not (tmp_path / "k.nc").exists()
