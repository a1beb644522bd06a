"""Shapes cut out of a box: cut-cell volume fractions and face apertures, second order in h."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import GridError
from crossdiff.grid import DOMAINS, Shape, domain_kind, read_mask


def _order(errors, ns):
    return float(np.polyfit(np.log(ns), np.log(errors), 1)[0]) * -1


def test_the_area_of_a_disc_converges_at_second_order():
    ns = [20, 40, 80, 160]
    errors = []
    for n in ns:
        disc = Shape(cd.Grid((n, n), ((0.0, 20.0), (0.0, 20.0))), "(x-10)^2 + (y-10)^2 < 64")
        errors.append(abs(disc.measure - 64 * math.pi) / (64 * math.pi))
    # measured 4.9e-3, 1.2e-3, 3.2e-4, 8.0e-5: order 1.98 (the piecewise-linear level set)
    assert _order(errors, ns) >= 1.9 and errors[-1] < 1e-4, errors


def test_the_volume_of_a_ball_converges_at_second_order():
    ns = [16, 32]
    errors = []
    for n in ns:
        ball = Shape(cd.Grid((n, n, n), ((0, 2), (0, 2), (0, 2))), "(x-1)^2 + (y-1)^2 + (z-1)^2 < 0.64")
        errors.append(abs(ball.measure - 4 / 3 * math.pi * 0.512) / (4 / 3 * math.pi * 0.512))
    assert _order(errors, ns) >= 1.8, errors  # sections in z of the 2D rule: second order too


def test_a_linear_boundary_is_exact():
    """A half-plane: its level set is linear, which the piecewise-linear interpolant reproduces,
    so fractions and apertures are exact (round-off)."""
    box = cd.Grid((10, 8), ((0.0, 10.0), (0.0, 8.0)))
    half = Shape(box, "x + 0.5*y < 7.3")
    # area of {x + y/2 < 7.3} in [0, 10] x [0, 8]: the trapezoid between x = 7.3 at y = 0 and 3.3 at y = 8
    assert half.measure == pytest.approx(0.5 * (7.3 + 3.3) * 8, rel=1e-13)
    # x-faces at x = 1..9 (face i at x = i): open below the line, i.e. y < 2 (7.3 - x)
    ax = half.apertures[0]
    for i in range(11):
        for j in range(8):
            expect = np.clip(2 * (7.3 - i) - j, 0.0, 1.0)  # fraction of [j, j+1] below the line
            assert ax[i, j] == pytest.approx(expect, abs=1e-12)


def test_holes_unions_and_several_components():
    box = cd.Grid((80, 80), ((0.0, 20.0), (0.0, 20.0)))
    annulus = Shape(box, "(x-10)^2 + (y-10)^2 < 64 & ~((x-10)^2 + (y-10)^2 < 9)")
    assert annulus.measure == pytest.approx(math.pi * (64 - 9), rel=2e-3)
    two = Shape(box, "(x-5)^2 + (y-5)^2 < 9 | (x-15)^2 + (y-15)^2 < 4")
    # radii of 12 and 8 cells: the disc above errs by 4.9e-3 at 8 cells a radius
    assert two.measure == pytest.approx(math.pi * (9 + 4), rel=6e-3)
    assert "active cells" in two.describe() and "area" in two.describe()


def test_masks_are_staircases_and_pictures_are_read_dark_inside(tmp_path):
    from PIL import Image

    box = cd.Grid((6, 4), ((0.0, 6.0), (0.0, 4.0)))
    mask = np.zeros((6, 4), bool)
    mask[1:4, 1:3] = True
    shape = Shape(box, mask=mask)
    assert shape.measure == 6.0 and shape.smallest_fraction == 1.0
    assert shape.apertures[0][2, 1] == 1.0 and shape.apertures[0][1, 1] == 0.0  # open only between inside cells
    picture = np.full((4, 6), 255, np.uint8)  # rows: y from the top
    picture[4 - 3 : 4 - 1, 1:4] = 0  # dark where the mask is set
    Image.fromarray(picture).save(tmp_path / "mask.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "mask.png", box.shape), mask)
    with pytest.raises(GridError, match="6x4 pixels; the grid is 8x4 cells"):
        read_mask(tmp_path / "mask.png", (8, 4))


def test_a_shape_is_a_domain_kind_and_round_trips_through_file_attributes():
    box = cd.Grid((16, 16), ((0.0, 2.0), (0.0, 2.0)))
    disc = Shape(box, "(x-1)^2 + (y-1)^2 < R^2", parameters={"R": 0.7})
    assert domain_kind(disc) is DOMAINS["shape"] and domain_kind(box) is DOMAINS["box"]
    back = Shape.from_attributes(disc.attributes())
    np.testing.assert_array_equal(back.volume_fraction, disc.volume_fraction)
    masked = Shape(box, mask=disc.volume_fraction > 0.5)
    np.testing.assert_array_equal(Shape.from_attributes(masked.attributes()).mask, masked.mask)
    np.testing.assert_allclose(disc.integrate(np.ones(box.shape)), disc.measure)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda b: Shape(b, "(x-50)^2 + y^2 < 1"), "contains no cell"),
        (lambda b: Shape(b, "(x-1)^2 + (y-1)^2 < 0.01"), "leaves no whole cell"),
        (lambda b: Shape(b, "x + y"), "not a condition"),
        (lambda b: Shape(b, "x^2 + q < 1"), "unknown symbol 'q'"),
        (lambda b: Shape(b, "x <"), "invalid syntax"),
        (lambda b: Shape(b), "needs one of inside"),
        (lambda b: Shape(b, "x < 1", mask=np.ones(b.shape, bool)), "needs one of inside"),
        (lambda b: Shape(b, mask=np.ones((3, 3), bool)), "the mask has shape"),
        (lambda b: Shape(cd.Grid((8, 8), ((0, 2), (0, 2)), "periodic"), "x < 1"), "reaches the periodic sides"),
    ],
)
def test_bad_shapes_are_refused_in_one_line(make, fragment):
    with pytest.raises(GridError, match=fragment) as info:
        make(cd.Grid((8, 8), ((0.0, 2.0), (0.0, 2.0))))
    assert "\n" not in str(info.value)


def test_a_run_on_a_shape_says_which_scales_run_there():
    """Macroscopic models run on shapes (cut cells); a scale without a discretisation on shapes
    (``SCALES[...].systems["shape"]``) says so in one line."""
    disc = Shape(cd.Grid((16, 16), ((0.0, 20.0), (0.0, 20.0))), "(x-10)^2 + (y-10)^2 < 64")
    assert cd.solve(cd.Run("keller-segel-logistic", disc, 0.5)).success
    with pytest.raises(cd.InputError, match="flow models do not run on a shape domain"):
        cd.solve(cd.Run("keller-segel-fluid", disc, 1.0))
