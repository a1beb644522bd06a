"""Steady states, dispersion relations and critical values against hand-derived answers and
against simulation (issue 11, requirements 1-3)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.fft import dct

import crossdiff as cd
from crossdiff.analysis import critical, dispersion, select_state, steady_states
from crossdiff.errors import InputError, ParameterError
from crossdiff.model import RunDefaults

L = 4 * math.pi  # the mode m = 4 of [0, L] with no-flux walls has k = pi*4/L = 1
N = 128


def keller_segel_logistic(chi: float, D: float = 1.0, r: float = 1.0, cells: int = N) -> cd.Model:
    """u_t = D u_xx - chi (u v_x)_x + r u (1 - u),  v_t = v_xx + u - v  on [0, 4 pi], no-flux."""
    return cd.Model(
        species=(
            cd.Species(
                "u", diffusion="D", taxis=[cd.Taxis("v", "chi")], reaction="r*u*(1 - u)", initial="1 + 0.01*noise"
            ),
            cd.Species("v", diffusion=1, reaction="u - v", initial=1),
        ),
        parameters={"D": D, "chi": chi, "r": r},
        name="ks-logistic-1d",
        defaults=RunDefaults(extent=((0.0, L),), cells=(cells,)),
    )


def growth_ks_logistic(k: float, chi: float, D: float = 1.0, r: float = 1.0) -> float:
    """Largest eigenvalue of A(k) = [[-r - D k^2, chi k^2], [1, -1 - k^2]] (the derivation below)."""
    tr = -(r + D * k**2) - (1 + k**2)
    det = (r + D * k**2) * (1 + k**2) - chi * k**2
    return (tr + math.sqrt(tr**2 - 4 * det)) / 2


def test_keller_segel_logistic_states_and_threshold_by_hand():
    """Derivation. The reactions psi = (r u (1 - u), u - v) vanish at (0, 0) and (1, 1).
    J(0, 0) = [[r, 0], [1, -1]]: eigenvalues r > 0 and -1, unstable. J(1, 1) = [[-r, 0], [1, -1]]:
    eigenvalues -r, -1, stable. At (1, 1) the transport matrix is D_cal = [[D, -chi u*], [0, 1]]
    with u* = 1, so A(k) = J - k^2 D_cal = [[-r - D k^2, chi k^2], [1, -1 - k^2]], with
    tr A < 0 for all k, hence a mode grows iff det A(k) = (r + D k^2)(1 + k^2) - chi k^2 < 0, i.e.
    chi > chi_c(k) = (r + D k^2)(1 + k^2)/k^2 = D k^2 + r/k^2 + r + D. Its minimum over k > 0 is at
    k^2 = sqrt(r/D): chi_c = (sqrt(D) + sqrt(r))^2 = 4 for D = r = 1, at k = 1. On [0, 4 pi] with
    no-flux walls k = m/4, so m = 4 attains it: the critical value is 4 exactly, steady (A is real
    with tr < 0: a real eigenvalue crosses 0), wavelength 2 pi. Neighbours: chi_c(3/4) = chi_c(5/4)
    = 625/144 = 4.34..."""
    model = keller_segel_logistic(6.0)
    states = steady_states(model)
    values = sorted(tuple(s.values.values()) for s in states)
    assert values == [(0.0, 0.0), (1.0, 1.0)]
    by_value = {tuple(s.values.values()): s for s in states}
    assert by_value[(0.0, 0.0)].stability == "unstable"
    assert sorted(by_value[(0.0, 0.0)].eigenvalues.real) == pytest.approx([-1.0, 1.0], abs=1e-12)
    assert by_value[(1.0, 1.0)].stability == "stable"
    assert select_state(states).values == {"u": 1.0, "v": 1.0}
    d = dispersion(model)
    for k in (0.25, 1.0, 2.0, 5.0):  # the continuum against the closed form
        g = float(d.continuum["growth"].interp(k=k))
        assert g == pytest.approx(
            growth_ks_logistic(k, 6.0), abs=2e-3 * (1 + k**2)
        )  # linear interpolation of a smooth curve
    for _, row in d.modes.iterrows():  # admissible modes: exactly the closed form
        if row["k"] > 0:
            assert row["growth"] == pytest.approx(growth_ks_logistic(row["k"], 6.0), rel=1e-9, abs=1e-12)
    lo, hi = d.unstable_band[0]
    # the band edges solve det A = 0: k^4 - (chi - 2) k^2 + 1 = 0, k^2 = 2 -+ sqrt(3) for chi = 6
    assert lo == pytest.approx(math.sqrt(2 - math.sqrt(3)), rel=1e-8)  # band ends refined by Brent's method
    assert hi == pytest.approx(math.sqrt(2 + math.sqrt(3)), rel=1e-8)
    c = critical(model, "chi")
    assert c.value == pytest.approx(4.0, rel=1e-6)
    assert c.kind == "steady" and c.unstable == "above"
    assert c.wavenumber == pytest.approx(1.0, rel=1e-12) and c.mode == (4,)
    assert c.wavelength == pytest.approx(2 * math.pi)
    # the other parameter of the threshold: D_c solves (sqrt(D) + 1)^2 = 6, unstable below it
    cd_ = critical(model, "D")
    assert cd_.unstable == "below"
    # on the admissible modes the minimum over m of chi_c(m/4) with D free: chi = 6 = (r + D k^2)(1 + k^2)/k^2
    ks = np.arange(1, N) / 4
    D_c = max((6 * ks**2 / (1 + ks**2) - 1) / ks**2)
    assert cd_.value == pytest.approx(D_c, rel=1e-6)


def test_minimal_keller_segel_threshold_by_hand():
    """Minimal Keller-Segel u_t = Du u_xx - chi (u v_x)_x, v_t = Dv v_xx + a u - b v on [0, L].
    psi_u = 0, so u* is the mean of the initial data (mass is conserved) and v* = a u*/b. With
    A(k) = [[-Du k^2, chi u* k^2], [a, -Dv k^2 - b]]: tr < 0 and det = Du k^2 (Dv k^2 + b) -
    chi u* a k^2, so mode k grows iff chi u* a > Du (Dv k^2 + b). The right side increases with k:
    the first admissible mode k1 = pi/L decides, chi_c = Du (Dv k1^2 + b)/(a u*)."""
    Du, Dv, a, b, ustar, length = 0.5, 2.0, 1.5, 0.7, 2.0, 10.0
    model = cd.Model(
        species=(
            cd.Species(
                "u", diffusion="Du", taxis=[cd.Taxis("v", "chi")], initial=f"{ustar}*(1 + 0.5*cos(pi*x/{length}))"
            ),
            cd.Species("v", diffusion="Dv", reaction="a*u - b*v", initial=0),
        ),
        parameters={"Du": Du, "Dv": Dv, "a": a, "b": b, "chi": 1.0},
        defaults=RunDefaults(extent=((0.0, length),), cells=(100,)),
    )
    (state,) = steady_states(model)
    assert state.conserved == ("u",)
    assert state.values["u"] == pytest.approx(ustar, rel=1e-12)  # the cosine has mean 0 on the cell centres
    assert state.values["v"] == pytest.approx(a * ustar / b, rel=1e-12)
    assert state.stability == "neutral"  # the conserved mass: eigenvalue 0
    k1 = math.pi / length
    c = critical(model, "chi")
    assert c.value == pytest.approx(Du * (Dv * k1**2 + b) / (a * ustar), rel=1e-6)
    assert c.mode == (1,) and c.kind == "steady"


def test_may_nowak_infected_state_condition_and_threshold():
    model = cd.catalogue.load("may-nowak-taxis")
    states = steady_states(model)
    infected = next(s for s in states if s.values["u2"] > 0)
    assert infected.values == pytest.approx({"u1": 1.0, "u2": 1.0, "u3": 1.0})
    assert infected.conditions == ("beta*k*r/(d1*d2*d3) > 1",)  # R0 > 1 (docs/theory.md §1.5)
    assert str(infected.expressions["u1"]) == "d2*d3/(beta*k)"
    # R0 = r = 0.5 < 1: the infected state is negative, the analysis picks the infection-free one
    low = steady_states(model.with_settings({"r": 0.5}))
    assert [s.exists for s in low if s.values["u2"] != 0] == [False]
    assert select_state(low).values == pytest.approx({"u1": 0.5, "u2": 0.0, "u3": 0.0})
    c = critical(model, "chi", grid=cd.Grid((200,), ((0.0, 20.0),)))
    # with every rate 1 and r = 2 the continuum threshold is chi = 5 at k = 1 (docs/models); the
    # admissible k = pi m/20 closest to 1 is m = 6 (k = 0.942)
    assert c.mode == (6,) and c.kind == "steady"
    assert 5.0 < c.value < 5.05


def test_forager_scrounger_onset_is_oscillatory():
    c = critical(cd.catalogue.load("forager-scrounger"), "xi2")
    assert c.kind == "oscillatory" and c.frequency > 0.1
    # just above the value the leading eigenvalue is a complex pair with a small positive real part
    d = dispersion(cd.catalogue.load("forager-scrounger").with_settings({"xi2": c.value * (1 + 1e-4)}))
    assert d.onset == "oscillatory" and 0 < d.most_unstable.growth < 1e-2
    d = dispersion(cd.catalogue.load("forager-scrounger").with_settings({"xi2": c.value * (1 - 1e-4)}))
    assert not d.unstable_modes  # just below: nothing grows (k = 0 is neutral: conserved masses)
    # at the value the critical mode's leading eigenvalue is the complex pair +-i frequency
    d = dispersion(cd.catalogue.load("forager-scrounger").with_settings({"xi2": c.value}))
    row = d.modes[d.modes["m_x"] == c.mode[0]].iloc[0]
    assert abs(row["growth"]) < 1e-5 * c.frequency  # the bisection's 1e-6 relative in xi2
    assert row["frequency"] == pytest.approx(c.frequency, rel=1e-4)


def test_growth_rate_matches_simulation():
    """u* + eps w cos(x) with w the eigenvector of the unstable eigenvalue grows as exp(lambda t);
    the fitted rate of the cosine amplitude matches lambda within 2 %. (Measured: 0.04 %; the
    finite-volume Laplacian changes k^2 by (kh)^2/12 = 8e-4 relative on 128 cells, the time error
    is below the default tolerance, and the quadratic terms are 1e-4 of the linear ones.)"""
    chi = 6.0
    model = keller_segel_logistic(chi)
    d = dispersion(model)
    mode = next(cd_mode for cd_mode in d.unstable_modes if cd_mode.m == (4,))
    lam = mode.growth
    assert lam == pytest.approx(growth_ks_logistic(1.0, chi), rel=1e-12)
    grid = cd.Grid((N,), ((0.0, L),))
    x = grid.mesh()[0]
    eps = 1e-4
    # eigenvector of A(1) = [[-2, 6], [1, -2]] for lambda: w = (2 + lambda, 1)
    U0 = np.array([1 + eps * (2 + lam) * np.cos(x), 1 + eps * np.cos(x)])
    sol = cd.solve(model, grid, 5.0, save_every=0.25, initial=U0)
    amplitude = (sol.frames[:, 0] - 1) @ np.cos(x) * 2 / N
    measured = np.polyfit(sol.t, np.log(amplitude), 1)[0]
    assert measured == pytest.approx(lam, rel=0.02)


@pytest.mark.parametrize("factor", [0.95, 1.05])
def test_below_critical_decays_above_pattern_of_predicted_wavelength(factor):
    """chi = 0.95 chi_c: the seeded noise decays; chi = 1.05 chi_c: only the mode m = 4 grows
    (its neighbours need chi > 4.34), and the pattern that appears has wavelength 2 pi."""
    c = critical(keller_segel_logistic(6.0), "chi")
    model = keller_segel_logistic(factor * c.value)
    sol = cd.solve(model, cd.Grid((N,), ((0.0, L),)), 150.0, save_every=10.0, seed=1)
    dev = np.sqrt(np.mean((sol.frames[:, 0] - sol.frames[:, 0].mean(axis=-1, keepdims=True)) ** 2, axis=-1))
    if factor < 1:
        assert dev[-1] < 1e-3 * dev[0]  # decays (predicted rate -0.05: e^-7.5 = 6e-4 of the start)
    else:
        assert dev[-1] > 10 * dev[0]  # grows (predicted rate +0.05)
        coeffs = dct(sol.final[0] - sol.final[0].mean(), type=2)
        m = int(np.argmax(np.abs(coeffs)))
        assert m == 4
        assert 2 * L / m == pytest.approx(c.wavelength)


def test_bad_input_is_one_clear_error(cli):
    model = cd.catalogue.load("may-nowak-taxis")
    with pytest.raises(ParameterError, match="unknown parameter 'nope'"):
        critical(model, "nope")
    with pytest.raises(InputError, match="stable at both ends"):
        critical(model, "chi", bracket=(1.0, 2.0))
    with pytest.raises(InputError, match="depends on t or on the position"):
        steady_states(cd.Model(species=(cd.Species("u", diffusion=1, reaction="sin(x) - u"),)))
    res = cli("stability", "may-nowak-taxis", "--critical", "nope")
    assert res.rc == 2 and res.err.startswith("crossdiff: error: unknown parameter 'nope'")
    res = cli("stability", "may-nowak-taxis", "--bracket", "1")
    assert res.rc == 2 and "LOW,HIGH" in res.err


def test_cli_stability_json_and_plot(cli, tmp_path):
    out = tmp_path / "dispersion.png"
    res = cli("stability", "may-nowak-taxis", "--critical", "chi", "--json", "--plot", out)
    assert res.rc == 0, res.err
    data = json.loads(res.out)
    assert data["critical"]["parameter"] == "chi" and 5.0 < data["critical"]["value"] < 5.001
    assert data["dispersion"]["taxis_driven"] is True and data["dispersion"]["onset"] == "steady"
    assert any(s["conditions"] == ["beta*k*r/(d1*d2*d3) > 1"] for s in data["steady_states"])
    assert out.stat().st_size > 10_000
    res = cli("stability", "forager-scrounger", "--critical", "xi2")
    assert res.rc == 0, res.err
    assert "oscillatory onset" in res.out
