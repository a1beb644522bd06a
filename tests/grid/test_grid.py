"""``crossdiff.grid``: validation and its messages, spacing, cell centres, integration, text forms.

Tolerances: the integrals below sum at most a few hundred values of size <= 100, so their round-off
is below 1e-14 relative; ``rel=1e-13`` leaves a margin of ten while any error of the rule itself
(of order h² ~ 1e-2 on these grids) is eleven orders of magnitude larger and would fail.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from crossdiff.errors import GridError, InputError
from crossdiff.grid import BOUNDARIES, Grid, parse_cells


# ----------------------------------------------------------------------------- construction
def test_defaults_and_normalised_fields():
    g = Grid((8, 4))
    assert g.cells == (8, 4) and g.ndim == 2 and g.shape == (8, 4) and g.size == 32
    assert g.extent == ((0.0, 1.0), (0.0, 1.0))
    assert g.boundary == ("noflux", "noflux") and g.periodic == (False, False)
    assert g.axes == ("x", "y")
    # a bare int, NumPy integers and integer-valued extents are normalised to plain Python types
    h = Grid(np.int64(5), extent=[(np.int32(-1), 3)], boundary=["periodic"])
    assert h.cells == (5,) and type(h.cells[0]) is int
    assert h.extent == ((-1.0, 3.0),) and all(type(v) is float for v in h.extent[0])
    assert h.boundary == ("periodic",) and h.periodic == (True,) and h.axes == ("x",)
    assert Grid((2, 2, 2)).axes == ("x", "y", "z")
    assert Grid((3, 3), boundary=("noflux", "periodic")).periodic == (False, True)
    assert set(BOUNDARIES) == {"noflux", "periodic"}


def test_grid_is_frozen_and_hashable():
    g = Grid((4,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.cells = (8,)  # type: ignore[misc]
    assert g == Grid(4) and hash(g) == hash(Grid(4))
    assert g != Grid((4,), boundary="periodic")


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"cells": ()}, ["1 to 3 axes", "got 0"]),
        ({"cells": (2, 2, 2, 2)}, ["1 to 3 axes", "got 4"]),
        ({"cells": (0,)}, ["positive integer", "got 0"]),
        ({"cells": (8, -2)}, ["positive integer", "got -2"]),
        ({"cells": (2.0,)}, ["positive integer", "got 2.0"]),
        ({"cells": (True,)}, ["positive integer", "got True"]),
        ({"cells": "8"}, ["positive integer", "got '8'"]),
        ({"cells": (4,), "extent": ((0, 1), (0, 1))}, ["extent has 2 axes", "cells has 1"]),
        ({"cells": (4,), "extent": (1,)}, ["(low, high) pairs", "got 1"]),
        ({"cells": (4,), "extent": ((0, 1, 2),)}, ["(low, high) pairs", "(0, 1, 2)"]),
        ({"cells": (4,), "extent": (("a", "b"),)}, ["(low, high) pairs", "('a', 'b')"]),
        ({"cells": (4,), "extent": ((1, 1),)}, ["extent (1.0, 1.0)", "high > low"]),
        ({"cells": (4,), "extent": ((2, -1),)}, ["extent (2.0, -1.0)", "high > low"]),
        ({"cells": (4,), "extent": ((0, math.inf),)}, ["(0.0, inf)", "finite"]),
        ({"cells": (4,), "extent": ((math.nan, 1),)}, ["(nan, 1.0)", "finite"]),
        ({"cells": (4,), "boundary": ("noflux", "noflux")}, ["boundary has 2 entries", "1 axes"]),
        ({"cells": (4, 4), "boundary": ("noflux",)}, ["boundary has 1 entries", "2 axes"]),
        ({"cells": (4,), "boundary": "wall"}, ["unknown boundary condition 'wall'", "noflux, periodic"]),
        ({"cells": (4, 4), "boundary": ("noflux", "Periodic")}, ["'Periodic'", "noflux, periodic"]),
    ],
)
def test_invalid_grids_raise_grid_error_naming_the_problem(kwargs, fragments):
    with pytest.raises(GridError) as info:
        Grid(**kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "\n" not in message  # one line, as the CLI prints it
    assert isinstance(info.value, InputError)  # the CLI maps it to exit code 2


# ----------------------------------------------------------------------------- geometry
def test_spacing_and_cell_volume():
    g = Grid((64, 32), extent=((0, 2), (-1, 0)))
    assert g.spacing == (2 / 64, 1 / 32)
    assert g.cell_volume == pytest.approx(2 / 64 * 1 / 32, rel=1e-15)
    # spacing is (high - low) / cells, exactly, for a non-dyadic box too
    h = Grid((3, 7, 5), extent=((0, 1), (2.5, 3), (-math.pi, math.pi)))
    assert h.spacing == (1 / 3, 0.5 / 7, 2 * math.pi / 5)
    assert h.cell_volume == pytest.approx(np.prod(h.spacing), rel=1e-15)


def test_cell_centres():
    g = Grid((4, 5), extent=((0, 2), (-1, 1)))
    x, y = g.coordinates
    np.testing.assert_array_equal(x, [0.25, 0.75, 1.25, 1.75])  # lo + h (k + 1/2), h = 1/2: exact
    np.testing.assert_allclose(y, [-0.8, -0.4, 0.0, 0.4, 0.8], atol=1e-15)
    for (lo, hi), h, c in zip(g.extent, g.spacing, g.coordinates):
        assert c[0] == pytest.approx(lo + h / 2) and c[-1] == pytest.approx(hi - h / 2)
        np.testing.assert_allclose(np.diff(c), h, rtol=1e-12)
    # mesh: the centres broadcast to the grid shape with "ij" indexing (x along axis 0)
    mx, my = g.mesh()
    assert mx.shape == my.shape == g.shape
    np.testing.assert_array_equal(mx[:, 0], x)
    np.testing.assert_array_equal(my[0, :], y)
    np.testing.assert_array_equal(mx[:, 3], x)


def _cell_averages_1d(antiderivative, lo: float, hi: float, n: int) -> np.ndarray:
    edges = np.linspace(lo, hi, n + 1)
    return (antiderivative(edges[1:]) - antiderivative(edges[:-1])) / np.diff(edges)


def test_integrate_is_exact_on_cell_averages_of_polynomials_1d():
    # u = 5x⁴ − 3x² + 2 on [-1, 2]: ∫ = [x⁵ − x³ + 2x] = (32 − 8 + 4) − (−1 + 1 − 2) = 30
    g = Grid((13,), extent=((-1, 2),))
    avg = _cell_averages_1d(lambda x: x**5 - x**3 + 2 * x, -1, 2, 13)
    # exact up to round-off: 13 terms of size <= 100, relative rounding 1e-16 each
    assert g.integrate(avg) == pytest.approx(30.0, rel=1e-13)


def test_integrate_is_exact_on_cell_averages_in_2d_and_3d():
    # 2D: u = x² y² + x on [0, 2] x [-1, 1]: ∫ = (8/3)(2/3) + 2·2 = 16/9 + 4
    g = Grid((7, 5), extent=((0, 2), (-1, 1)))
    ax = _cell_averages_1d(lambda x: x**3 / 3, 0, 2, 7)  # averages of x²
    bx = _cell_averages_1d(lambda x: x**2 / 2, 0, 2, 7)  # averages of x
    ay = _cell_averages_1d(lambda y: y**3 / 3, -1, 1, 5)  # averages of y²
    avg = np.outer(ax, ay) + np.outer(bx, np.ones(5))  # cell averages of a product factorise
    assert g.integrate(avg) == pytest.approx(16 / 9 + 4, rel=1e-13)
    # 3D: u = x y z² on [0, 1]^2 x [0, 3]: ∫ = (1/2)(1/2)(9) = 9/4
    h = Grid((3, 4, 6), extent=((0, 1), (0, 1), (0, 3)))
    a = _cell_averages_1d(lambda s: s**2 / 2, 0, 1, 3)
    b = _cell_averages_1d(lambda s: s**2 / 2, 0, 1, 4)
    c = _cell_averages_1d(lambda s: s**3 / 3, 0, 3, 6)
    assert h.integrate(np.einsum("i,j,k->ijk", a, b, c)) == pytest.approx(9 / 4, rel=1e-13)


def test_integrate_on_point_values_is_the_midpoint_rule():
    # point values at the centres: exact for linear u, and for u = x² low by exactly (hi − lo) h²/12
    g = Grid((10,), extent=((0, 3),))
    (x,) = g.coordinates
    assert g.integrate(2 * x + 1) == pytest.approx(9 + 3, rel=1e-14)
    h = g.spacing[0]
    assert g.integrate(x**2) == pytest.approx(9 - 3 * h**2 / 12, rel=1e-14)


def test_integrate_keeps_leading_axes():
    # a stack of species: one integral per species (only the last ndim axes are summed)
    g = Grid((4, 6), extent=((0, 2), (0, 3)))
    stack = np.stack([np.ones(g.shape), 2 * np.ones(g.shape), np.zeros(g.shape)])
    np.testing.assert_allclose(g.integrate(stack), [6.0, 12.0, 0.0], rtol=1e-14)
    assert np.ndim(g.integrate(np.ones(g.shape))) == 0


# ----------------------------------------------------------------------------- text forms
@pytest.mark.parametrize(
    ("grid", "text"),
    [
        (Grid((128, 128), extent=((0, 20), (0, 20))), "128x128 on [0, 20]x[0, 20], noflux"),
        (Grid((400,)), "400 on [0, 1], noflux"),
        (Grid((16, 8), extent=((-0.5, 0.5), (0, 2.5)), boundary="periodic"), "16x8 on [-0.5, 0.5]x[0, 2.5], periodic"),
        (
            Grid((4, 4, 2), boundary=("noflux", "periodic", "noflux")),
            "4x4x2 on [0, 1]x[0, 1]x[0, 1], noflux/periodic/noflux",
        ),
    ],
)
def test_describe(grid, text):
    assert grid.describe() == text


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("128x128", (128, 128)),
        ("400", (400,)),
        (400, (400,)),
        (np.int64(7), (7,)),
        ([128, 64], (128, 64)),
        ((8, 4, 2), (8, 4, 2)),
        ("64*32", (64, 32)),
        ("8X8", (8, 8)),
        (" 8 x 8 ", (8, 8)),
        ([2, "3"], (2, 3)),
    ],
)
def test_parse_cells_accepts(text, cells):
    parsed = parse_cells(text)
    assert parsed == cells and all(type(n) is int for n in parsed)
    assert Grid(parsed).cells == cells  # what it returns is a valid grid


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "expected cell counts like 400 or 128x128"),
        ("abc", "expected cell counts"),
        ("8x", "expected cell counts"),
        ("1.5", "expected cell counts"),
        ([1.5], "expected cell counts"),
        ("0", "must be positive"),
        ("-3", "must be positive"),
        ("16x0", "must be positive"),
        (0, "must be positive"),
        ([], "1 to 3 axes"),
        ("2x2x2x2", "1 to 3 axes"),
    ],
)
def test_parse_cells_refuses(text, fragment):
    with pytest.raises(GridError) as info:
        parse_cells(text)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)  # the message quotes what was given


@pytest.mark.parametrize("text", [True, None, 3.5])
def test_parse_cells_refuses_non_counts_with_grid_error(text):
    with pytest.raises(GridError):
        parse_cells(text)
