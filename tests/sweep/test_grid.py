"""Parameter grids: ranges, lists, products, and the errors of bad ``--param`` values."""

from __future__ import annotations

import pytest

import crossdiff as cd
from crossdiff.errors import ParameterError
from crossdiff.sweep import ParameterGrid, parse_values


def test_range_is_inclusive_and_evenly_spaced():
    values = parse_values("0:10:21")
    assert len(values) == 21
    assert values[0] == 0.0 and values[-1] == 10.0
    assert values[1] == pytest.approx(0.5, abs=1e-15)  # linspace step (10 - 0)/20


def test_lists_and_single_values():
    assert parse_values("0.1,1") == (0.1, 1.0)
    assert parse_values("2.5") == (2.5,)
    assert parse_values("3:3:1") == (3.0,)


def test_product_order_first_parameter_slowest():
    grid = ParameterGrid.parse(["chi=0:10:3", "D1=0.1,1"])
    assert len(grid) == 6 and grid.names == ("chi", "D1")
    assert grid.points() == [
        {"chi": 0.0, "D1": 0.1},
        {"chi": 0.0, "D1": 1.0},
        {"chi": 5.0, "D1": 0.1},
        {"chi": 5.0, "D1": 1.0},
        {"chi": 10.0, "D1": 0.1},
        {"chi": 10.0, "D1": 1.0},
    ]
    assert ParameterGrid({"chi": [1, 2], "D1": 0.5}).points() == [{"chi": 1.0, "D1": 0.5}, {"chi": 2.0, "D1": 0.5}]


@pytest.mark.parametrize(
    "spec",
    [
        "chi",
        "chi=",
        "chi=a,b",
        "chi=0:10",
        "chi=0:10:0",
        "chi=0:10:2.5",
        "chi=1:2:1",
        "chi=1,1",
        "chi=nan",
        "chi=0:inf:3",
    ],
)
def test_bad_values_refused(spec):
    with pytest.raises(ParameterError):
        ParameterGrid.parse([spec])


def test_a_parameter_twice_refused():
    with pytest.raises(ParameterError, match="swept twice"):
        ParameterGrid.parse(["chi=1,2", "chi=3"])


def test_unknown_parameter_of_the_model():
    model = cd.catalogue.load("may-nowak-taxis")
    ParameterGrid.parse(["chi=1,2"]).check(model)
    with pytest.raises(ParameterError, match="unknown parameter 'khi'.*chi"):
        ParameterGrid.parse(["khi=1,2"]).check(model)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--param", "khi=0:10:3"], "unknown parameter 'khi'"),
        (["--param", "chi=0:10:x"], "count"),
        (["--param", "chi=a,b"], "not a number"),
        (["--param", "chi=1,2", "--workers", "0"], "positive integer"),
        (["--param", "chi=1,2", "--t-end", "1", "--save-every", "1"], "at least 3 frames"),
        (["--param", "chi=1,2", "--species", "u9"], "unknown species"),
        (["--param", "chi=1,2", "--set", "chi=3"], "contradicts --param"),
    ],
)
def test_cli_bad_param_exits_2(cli, tmp_path, args, message):
    res = cli("sweep", "may-nowak-taxis", "--grid", "16", "--out", tmp_path / "sw", *args)
    assert res.rc == 2
    assert message in res.err and len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "sw").exists()  # nothing written for a refused sweep
