"""Stability on a shape: the admissible modes are the eigenfunctions of its discrete no-flux
Laplacian (a sparse eigen-solve), checked against the Bessel zeros of the disc."""

from __future__ import annotations

import numpy as np

from crossdiff.analysis import dispersion, shape_modes
from crossdiff.catalogue import load
from crossdiff.cli import main
from crossdiff.grid import Grid, Shape, default_domain

#: zeros of J'_m on the unit disc: the Neumann eigenvalues are their squares (Abramowitz & Stegun
#: table 9.5): j'_11, j'_21, j'_01, j'_31; each m > 0 twice (cos mθ and sin mθ)
J_PRIME = {"11": 1.841183781, "21": 3.054236928, "01": 3.831705970, "31": 4.201188941}


def _disc_eigenvalues(n: int) -> dict[str, float]:
    disc = Shape(Grid((n, n), ((-1.1, 1.1), (-1.1, 1.1))), "x^2 + y^2 < 1")
    mu = shape_modes(disc, 10)
    assert mu[0] == 0.0 and mu[1] > 1.0  # the constant mode, then a gap
    # sorted: 0, j'11² ×2, j'21² ×2, j'01², j'31² ×2
    return {"11": mu[1:3].mean(), "21": mu[3:5].mean(), "01": mu[5], "31": mu[6:8].mean()}


def test_the_modes_of_a_disc_are_the_bessel_zeros_at_second_order():
    """Measured relative errors at 32², 64²: j'11 7.5e-4, 1.8e-4; j'01 2.7e-3, 7.1e-4; j'31
    3.3e-3, 7.9e-4 (order 2.0); j'21 below 5e-4 (a cancellation makes its error small and
    irregular, so it enters only by size)."""
    coarse, fine = _disc_eigenvalues(32), _disc_eigenvalues(64)
    for key, j in J_PRIME.items():
        e_coarse, e_fine = abs(coarse[key] / j**2 - 1), abs(fine[key] / j**2 - 1)
        assert e_fine < 1e-3, (key, e_fine)
        if key != "21":
            assert np.log2(e_coarse / e_fine) >= 1.5, (key, e_coarse, e_fine)


def test_dispersion_on_a_dish_uses_the_shapes_modes():
    """Keller–Segel with logistic growth at D = r = 1: unstable for k with χ k²/(1 + k²) > k² + 1;
    at χ = 10 the band is 0.356 < k < 2.81. The dish's admissible modes cover the band, and the
    growing ones are exactly those with k in it."""
    model = load("keller-segel-dish")
    dish = default_domain(model, (32, 32))
    d = dispersion(model, grid=dish)
    assert "n" in d.modes.columns and len(d.modes) > 60
    (lo, hi) = d.unstable_band[0]
    assert abs(lo - 0.3564) < 1e-3 and abs(hi - 2.8059) < 1e-3
    growing = d.modes[d.modes.growth > 0]
    assert np.all((growing.k > lo) & (growing.k < hi))
    assert d.modes.k.max() > hi  # the modes reach beyond the band


def test_stability_critical_on_a_dish(capsys):
    """The continuum's threshold is χ_c = (√D + √r)² = 4 at k = 1; the dish's nearest mode
    (k = 1.0126 on 32²) needs a little more, within 1e-3."""
    assert main(["stability", "keller-segel-dish", "--grid", "32x32", "--critical", "chi"]) == 0
    out = capsys.readouterr().out
    value = float(out.split("chi_c = ")[1].split()[0])
    assert 4.0 <= value < 4.004
