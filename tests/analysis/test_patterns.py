"""Classification of runs: amplitude and wavelength on exact fields, behaviours on synthetic
frames with a known answer, and on runs whose behaviour is known from linear stability."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.analysis import classify, classify_frames, dominant_mode, pattern_amplitude
from crossdiff.errors import InputError
from crossdiff.time import Status

LINE = cd.Grid((100,), ((0.0, 20.0),))


def _cos(grid: cd.Grid, m: int, a: float = 1.0) -> np.ndarray:
    x = grid.coordinates[0]
    length = grid.extent[0][1] - grid.extent[0][0]
    return 1.0 + a * np.cos(math.pi * m * x / length)


def test_amplitude_of_a_cosine():
    # the mean of cos^2(pi m x/L) over cell centres is exactly 1/2 for 0 < m < n (discrete orthogonality)
    u = _cos(LINE, 7, 0.3)
    assert pattern_amplitude(u[None], 1)[0] == pytest.approx(0.3 / math.sqrt(2), rel=1e-12)


@pytest.mark.parametrize("m", [1, 7, 30])
def test_wavelength_of_a_noflux_mode(m):
    # cos(pi m x/L) is a DCT-II basis vector on the cell centres: all power in mode m, k = pi m/L
    k, mode = dominant_mode(_cos(LINE, m, 0.1), LINE)
    assert mode == (m,)
    assert k == pytest.approx(math.pi * m / 20.0, rel=1e-14)
    assert 2 * math.pi / k == pytest.approx(40.0 / m, rel=1e-14)


def test_wavelength_periodic_2d():
    grid = cd.Grid((32, 16), ((0.0, 8.0), (0.0, 4.0)), "periodic")
    x, y = grid.mesh()
    u = 2 + np.sin(2 * math.pi * 3 * x / 8) * np.cos(2 * math.pi * 2 * y / 4)
    k, mode = dominant_mode(u, grid)
    assert tuple(abs(m) for m in mode) == (3, 2)
    assert k == pytest.approx(2 * math.pi * math.hypot(3 / 8, 2 / 4), rel=1e-14)
    assert math.isnan(dominant_mode(np.ones(grid.shape), grid)[0])


def _frames(t, amplitude, shape_of_time):
    return np.stack([1 + amplitude(s) * shape_of_time(s) for s in t])


T = np.linspace(0.0, 40.0, 21)
X = LINE.coordinates[0]


@pytest.mark.parametrize(
    "amplitude, shape, behaviour",
    [
        (lambda s: 0.01 * math.exp(-s), lambda s: np.cos(math.pi * 5 * X / 20), "decaying"),
        (lambda s: 0.01 * math.exp(-0.02 * s), lambda s: np.cos(math.pi * 5 * X / 20), "decaying"),  # slow, > flat
        (lambda s: 0.5 * (1 - math.exp(-s)), lambda s: np.cos(math.pi * 5 * X / 20), "stationary"),
        (lambda s: 1e-3 * math.exp(0.1 * s), lambda s: np.cos(math.pi * 5 * X / 20), "growing"),
        (lambda s: 0.5, lambda s: np.cos(math.pi * 5 * X / 20 - 0.3 * s), "oscillating"),  # travelling
        (lambda s: 0.5 + 0.2 * math.sin(s), lambda s: np.cos(math.pi * 5 * X / 20), "oscillating"),  # breathing
        # settling after an overshoot, from small initial data
        (
            lambda s: 0.5 + 0.4 * math.exp(-0.1 * s) if s > 0 else 0.01,
            lambda s: np.cos(math.pi * 5 * X / 20),
            "stationary",
        ),
        # a pattern drifting into place: its shape change (0.13 over the window) shrinks at every frame
        (lambda s: 0.5, lambda s: np.cos(math.pi * 5 * (X - 6 * 0.9**s) / 20), "stationary"),
    ],
)
def test_behaviours_of_synthetic_frames(amplitude, shape, behaviour):
    found = classify_frames(T, _frames(T, amplitude, shape), LINE)
    assert found.behaviour == behaviour
    if behaviour != "decaying":
        assert found.wavelength == pytest.approx(8.0)  # cos(pi 5 x/20): wavelength 2*20/5
    else:
        assert math.isnan(found.wavelength)


def test_failed_runs_take_the_status():
    frames = _frames(T, lambda s: 0.5, lambda s: np.cos(math.pi * 5 * X / 20))
    frames[-1, 3] = np.inf
    found = classify_frames(T, frames, LINE, status=Status.BLOWUP)
    assert found.behaviour == "blow-up" and found.status == "blow-up"
    assert found.amplitude == pytest.approx(0.5 / math.sqrt(2), rel=1e-12)  # from the last finite frame
    assert classify_frames(T, frames, LINE, status=Status.STEP_COLLAPSE).behaviour == "failed"
    with pytest.raises(InputError, match="not finite"):
        classify_frames(T, frames, LINE)
    with pytest.raises(InputError, match="at least 3"):
        classify_frames(T[:2], frames[:2], LINE)


def test_pure_diffusion_decays_at_the_exact_rate():
    """u_t = u_xx from 1 + 0.1 cos(pi m x/L): the sampled cosine is an eigenvector of the
    finite-volume Laplacian with eigenvalue -(4/h^2) sin^2(pi m/(2n)) (the DCT-II), so the
    semi-discrete amplitude is exactly 0.1/sqrt(2) exp(lambda t)."""
    grid = cd.Grid((40,), ((0.0, 10.0),))
    model = cd.Model(species=[cd.Species("u", diffusion=1, initial="1 + 0.1*cos(pi*3*x/10)")], name="heat")
    sol = cd.solve(model, grid, t_end=4.0, save_every=0.5, stepper=cd.IMEX(rtol=1e-9))
    found = classify(sol)
    h = 10.0 / 40
    lam = -4 / h**2 * math.sin(math.pi * 3 / 80) ** 2
    exact = 0.1 / math.sqrt(2) * math.exp(lam * 4.0)  # 2.05e-3: above `flat`, so decided by the trend
    # the time error is of the order of rtol = 1e-9 relative to the mean 1, i.e. 5e-7 of the amplitude
    assert found.amplitude == pytest.approx(exact, rel=1e-5)
    assert found.behaviour == "decaying"  # amplitude falls monotonically, below the initial one


def test_may_nowak_below_and_above_the_taxis_threshold():
    """May-Nowak with taxis at u* = (1, 1, 1) (all rates 1, r = 2). With s = k^2 the linearised
    matrix is [[-2-s, chi s, -1], [1, -1-s, 1], [0, 1, -1-s]] (the taxis term -chi div(u1 grad u2)
    linearises to +chi s in the u1 row), whose determinant is -s (s+2)^2 + chi s (s+1) - 1; the
    state loses stability through a real eigenvalue where it changes sign, i.e. for
    chi > g(s) = (s (s+2)^2 + 1)/(s (s+1)), minimal at s = 1 with g = 5. On [0, 20] the no-flux
    modes are k = pi m/20: g = 5.238 (m=5), 5.014 (m=6), 5.036 (m=7), 5.212 (m=8), so at chi = 5.2
    only m = 6, 7 grow, and at chi = 4 every mode decays."""
    model = cd.catalogue.load("may-nowak-taxis")
    below = classify(cd.solve(model.with_settings({"chi": 4}), LINE, t_end=40))
    assert below.behaviour == "decaying"
    near = classify(cd.solve(model.with_settings({"chi": 5.2}), LINE, t_end=100))
    assert near.behaviour == "growing"
    assert near.mode[0] in (6, 7)
    above = classify(cd.solve(model.with_settings({"chi": 8}), LINE, t_end=40))
    assert above.behaviour == "stationary"
    assert above.relative_amplitude > 0.5  # saturated spikes, not a small perturbation


def test_keller_segel_logistic_spatiotemporal_irregular():
    """Painter & Hillen (Physica D 240, 2011): 1D Keller-Segel with logistic growth, D = 0.1,
    chi = 5, r = 1 on [0, 20] is spatio-temporally irregular: aggregates keep merging and emerging."""
    model = cd.catalogue.load("keller-segel-logistic").with_settings({"D": 0.1, "chi": 5})
    found = classify(cd.solve(model, LINE, t_end=100))
    assert found.behaviour == "oscillating"
    assert found.shape_change > 0.5  # the pattern is rearranged, far beyond the tolerance 0.1
