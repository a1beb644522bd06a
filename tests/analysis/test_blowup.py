"""Blow-up studies on grid sequences and the monitor's multi-spike criterion (issue 11, req. 4)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.analysis import blowup_study, extrapolate
from crossdiff.errors import InputError
from crossdiff.fv import Discretisation
from crossdiff.time import Status


def test_extrapolate_recovers_a_power_law():
    """t_h = T* - C h^p exactly: three grids give T*, p to round-off; the GCI is the
    Richardson correction times 1.25."""
    T, C, p = 0.5, 3.0, 1.7
    h = [0.1, 0.05, 0.025, 0.0125]
    t = [T - C * x**p for x in h]
    est, err, order, _ = extrapolate(h, t)
    assert est == pytest.approx(T, rel=1e-10)
    assert order == pytest.approx(p, rel=1e-8)
    assert err == pytest.approx(1.25 * (t[-1] - t[-2]) / (2**p - 1), rel=1e-8)
    # two grids: order 2 assumed
    est2, _, order2, note = extrapolate(h[:2], [T - C * x**2 for x in h[:2]])
    assert est2 == pytest.approx(T, rel=1e-12) and order2 == 2.0 and "assumed" in note
    # times that do not converge: no estimate
    assert extrapolate(h[:3], [0.1, 0.3, 0.2])[0] is None


def _elliptic_ks_supercritical():
    return cd.catalogue.load("keller-segel-elliptic").with_settings({"mass": 10 * math.pi})


def test_blowup_study_parabolic_elliptic_converges():
    """Parabolic-elliptic Keller-Segel, mass 10 pi > 8 pi (Chertock-Kurganov data): the
    resolution-loss times increase towards T* under refinement; the extrapolation from
    32, 64, 128 cells per axis has an error estimate that covers the later, finer estimate.
    (Measured: t_h = 0.00399, 0.00733, 0.00837, 0.00858 on 32..256; T* = 0.00885 +- 0.0006 from
    32-128, 0.00863 +- 6e-5 from 64-256.)"""
    study = blowup_study(_elliptic_ks_supercritical(), (32, 64, 128), t_end=0.02)
    assert study.blew_up and list(study.runs["status"]) == ["blow-up"] * 3
    times = study.runs["time"].to_numpy()
    assert np.all(np.diff(times) > 0)  # finer grids resolve the collapse longer
    assert np.all(np.diff(np.diff(times)) < 0)  # ... by shrinking increments: converging
    for loc in study.runs["location"]:
        assert np.hypot(*loc) < 0.03  # at the centre
    assert times[-1] < study.t_star < times[-1] + 2 * (times[-1] - times[-2])
    assert 1.0 < study.order < 3.0  # the resolution argument predicts about 2
    assert study.error < 0.1 * study.t_star


@pytest.mark.slow
def test_blowup_study_refined_estimate_within_error():
    """Adding the 256² grid (10 s): the new estimate lies within the previous error bar, and its
    own error bar is smaller."""
    coarse = blowup_study(_elliptic_ks_supercritical(), (32, 64, 128), t_end=0.02)
    fine = blowup_study(_elliptic_ks_supercritical(), (64, 128, 256), t_end=0.02)
    assert abs(fine.t_star - coarse.t_star) < coarse.error
    assert fine.error < coarse.error


def test_blowup_study_says_when_nothing_blows_up(cli):
    res = cli("blowup", "keller-segel-elliptic", "--grids", "16,32", "--t-end", "0.01", "--json")
    assert res.rc == 0, res.err
    data = json.loads(res.out)
    assert data["blew_up"] is False and data["t_star"] is None
    assert data["note"].startswith("no blow-up seen up to t = 0.01")
    assert [r["status"] for r in data["runs"]] == ["success", "success"]
    res = cli("blowup", "keller-segel-elliptic", "--grids", "32")
    assert res.rc == 2 and "at least two grids" in res.err
    res = cli("blowup", "keller-segel-elliptic", "--grids", "32,16")
    assert res.rc == 2 and "coarse to fine" in res.err
    with pytest.raises(InputError, match="at least two grids"):
        blowup_study("keller-segel-elliptic", (32,))


def _monitor_on(field0: np.ndarray, monitor: cd.Monitor) -> cd.Monitor:
    model = cd.Model(species=(cd.Species("u", diffusion=1),))
    grid = cd.Grid(field0.shape, ((0.0, 1.0), (0.0, 1.0)))
    monitor.start(Discretisation(model, grid), 0.0, field0[None].copy())
    return monitor


def test_monitor_catches_many_spikes_at_once():
    """Eight one-cell spikes, each holding 6 % of the mass: no 3x3 block holds half of the mass
    (the single-peak criterion sees 6 %), but together the unresolved spikes hold 48 % > 25 %."""
    n = 32
    u0 = np.ones((n, n))
    u = np.full((n, n), 0.5)
    spikes = [(4, 4), (4, 20), (12, 10), (12, 28), (20, 4), (20, 20), (28, 10), (28, 28)]
    # spike value s: its 3x3 block s + 8 b holds 6 % of the total n² b + 8 (s - b), b = 0.5
    b, share = 0.5, 0.06
    s = (share * (n * n * b - 8 * b) - 8 * b) / (1 - 8 * share)
    for i, j in spikes:
        u[i, j] = s
    assert np.max([u[i - 1 : i + 2, j - 1 : j + 2].sum() for i, j in spikes]) / u.sum() == pytest.approx(0.06)
    old = _monitor_on(u0, cd.Monitor(spikes=1.0))  # the single-peak criterion alone
    assert old.check(1.0, u[None]) is None
    report = _monitor_on(u0, cd.Monitor()).check(1.0, u[None])
    assert report is not None and report.status is Status.BLOWUP
    assert "48% of the mass of u is in spikes" in report.detail
    # resolved bumps of the same mass (Gaussians two cells wide) are not reported
    x = (np.arange(n) + 0.5)[:, None]
    y = (np.arange(n) + 0.5)[None, :]
    smooth = 0.5 + sum(20 * np.exp(-((x - i - 0.5) ** 2 + (y - j - 0.5) ** 2) / 8) for i, j in spikes)
    assert _monitor_on(u0, cd.Monitor()).check(1.0, smooth[None]) is None
    with pytest.raises(InputError, match="spikes must be a fraction"):
        cd.Monitor(spikes=2.0)


def test_monitor_reports_may_nowak_spikes():
    """2D May-Nowak with chi = 6 on [0, 10]²: the healthy cells collapse into one-cell spikes whose
    peaks grow fourfold per refinement (88 on 64², 359 on 128² on [0, 20]², t = 40): unresolved
    concentration, now reported as blow-up instead of running on with a grid-bound peak."""
    model = cd.catalogue.load("may-nowak-taxis")
    sol = cd.solve(model, cd.Grid((32, 32), ((0.0, 10.0), (0.0, 10.0))), 40.0, save_every=40.0, throw=False)
    assert sol.status is Status.BLOWUP and sol.report.species == "u1"
    assert "spikes of one cell" in sol.report.detail
    assert 20.0 < sol.report.time < 40.0
