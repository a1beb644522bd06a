"""The integration loop, step-size controllers and observers, on systems with exact solutions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import InputError
from crossdiff.fv import Discretisation
from crossdiff.io import FrameWriter, open_run
from crossdiff.model import initial_fields
from crossdiff.time import (
    IMEX,
    SSPRK3,
    FixedStep,
    IController,
    Monitor,
    Observer,
    PIController,
    Recorder,
    SaveAt,
    SemiDiscrete,
    Status,
    StopWhen,
    integrate,
)

from ._toy import LogisticDecay

U0 = np.linspace(0.05, 0.9, 16)[None]  # one component, 16 independent cells


def _run(system, stepper, t_end=4.0, every=1.0, controller=None, observers=()):
    U = system.initial_state({"u": U0[0]})
    rec = Recorder()
    run = integrate(
        system, stepper, U, (0.0, t_end), save=SaveAt(every), observers=[rec, *observers], controller=controller
    )
    return run, rec


def test_both_systems_implement_the_contract():
    model = cd.catalogue.load("keller-segel")
    assert isinstance(Discretisation(model, cd.Grid((8, 8))), SemiDiscrete)
    assert isinstance(LogisticDecay(U0), SemiDiscrete)


@pytest.mark.parametrize("controller_cls", [IController, PIController])
def test_global_error_follows_rtol_and_rejections_are_rare(controller_cls):
    """Tolerance proportionality on a smooth problem: the global error at t = 4 shrinks with
    rtol (atol far below), stays within a modest multiple of it, and few steps are rejected.

    A controller that grows the step 3x too fast (the bug this test exists for) gives about one
    rejection per accepted step (each grown step has error ~3^(q+1) = 81 > 1) and fails the
    rejection bound."""
    errors = []
    for rtol in (1e-4, 1e-6, 1e-8):
        system = LogisticDecay(U0)
        run, _ = _run(system, IMEX(), every=4.0, controller=controller_cls(rtol=rtol, atol=1e-12))
        assert run.success
        err = float(np.max(np.abs(run.U[0] - system.exact(4.0)) / np.abs(system.exact(4.0))))
        errors.append(err)
        # global error of a tolerance-controlled run: the local error is held below rtol·|u| per
        # step and accumulates over the 6–45 steps of the run (measured: 0.5–22 × rtol)
        assert err < 50 * rtol
        # smooth problem: after the first steps, rejections are the exception
        assert run.stats.n_rejected <= max(2, 0.1 * run.stats.n_steps)
    # two decades of rtol give at least one decade of error (measured 15–35×)
    assert errors[1] < errors[0] / 10 and errors[2] < errors[1] / 10


def test_pi_controller_takes_no_more_steps_than_twice_i_control():
    """PI control differs from I control but stays an efficient controller on a smooth problem."""
    steps = {}
    for cls in (IController, PIController):
        run, _ = _run(LogisticDecay(U0), IMEX(), controller=cls(rtol=1e-6, atol=1e-12))
        steps[cls] = run.stats.n_steps
    assert steps[PIController] <= 2 * steps[IController] and steps[IController] <= 2 * steps[PIController]


def test_fixed_step_count_and_order():
    """FixedStep takes exactly ceil(interval/dt) steps per save interval; IMEX (ARK4(3)6L[2]SA)
    has order 4 on the toy problem: halving dt divides the error by 2^4 (±0.3 in the exponent)."""
    errs = []
    for dt in (0.2, 0.1, 0.05):
        system = LogisticDecay(U0)
        run, rec = _run(system, IMEX(dt=dt))
        assert run.stats.n_steps == 4 * round(1.0 / dt) and run.stats.n_rejected == 0
        assert rec.times == [0.0, 1.0, 2.0, 3.0, 4.0]
        errs.append(float(np.max(np.abs(run.U[0] - system.exact(4.0)))))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 4) < 0.3), orders


def test_save_times_are_lazy_and_land_on_the_end():
    times = SaveAt(1e-9).times(0.0, 1.0)
    assert list(itertools.islice(times, 3)) == pytest.approx([1e-9, 2e-9, 3e-9])  # a generator
    assert list(SaveAt(0.3).times(0.0, 1.0)) == pytest.approx([0.3, 0.6, 0.9, 1.0])
    ends = list(SaveAt(0.1).times(0.0, 1.0))
    assert len(ends) == 10 and ends[-1] == 1.0  # 10 × 0.1 lands exactly on 1, no extra frame
    assert list(SaveAt(5.0).times(0.0, 1.0)) == [1.0]
    with pytest.raises(InputError, match="save interval must be a positive number"):
        SaveAt(0.0)


class _Log(Observer):
    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def start(self, system, t0, U0):
        self.calls.append(("start", t0))

    def step(self, t, U):
        if self.stop_at is not None and t >= self.stop_at:
            return cd.time.FailureReport(Status.BLOWUP, t, detail="stop requested")
        return None

    def save(self, t, U):
        self.calls.append(("save", t))

    def finish(self, t, U, status, report):
        self.calls.append(("finish", status))


def test_observer_lifecycle_and_a_report_stops_the_run():
    log = _Log()
    run, _ = _run(LogisticDecay(U0), IMEX(), t_end=2.0, observers=[log])
    assert log.calls == [("start", 0.0), ("save", 0.0), ("save", 1.0), ("save", 2.0), ("finish", Status.SUCCESS)]
    log = _Log(stop_at=1.5)
    run, rec = _run(LogisticDecay(U0), IMEX(dt=0.25), t_end=4.0, observers=[log])
    assert run.status is Status.BLOWUP and run.t == pytest.approx(1.5)
    # the state at the failure is saved after the last regular frame, then finish
    assert rec.times == pytest.approx([0.0, 1.0, 1.5]) and log.calls[-1] == ("finish", Status.BLOWUP)


def test_interrupt_records_status_then_raises():
    class Interrupt(Observer):
        def step(self, t, U):
            raise KeyboardInterrupt

    log = _Log()
    with pytest.raises(KeyboardInterrupt):
        _run(LogisticDecay(U0), IMEX(), observers=[log, Interrupt()])
    assert log.calls[-1] == ("finish", Status.INTERRUPTED)


def test_nonfinite_fixed_step_without_monitor_is_reported():
    """A fixed step that overflows (explicit logistic far beyond stability) ends the run as
    non-finite even with no monitor among the observers."""
    system = LogisticDecay(np.full((1, 4), 0.5))
    U = system.initial_state({"u": np.full(4, 0.5)})
    run = integrate(system, SSPRK3(dt=1e3), U * 1e100, (0.0, 1e4), save=SaveAt(1e4))
    assert run.status is Status.NONFINITE


def test_ssprk3_follows_the_stability_limit():
    """Adaptive SSPRK3 steps at cfl × the forward-Euler limit 1/(1 + λ + 2 max u) of the toy.
    max u decreases from 0.9 towards the attractor 1 − λ = 0.5, so the limit lies in
    [1/3.3, 1/2.5] and 4 time units take between 4·2.5/0.9 ≈ 11.1 and 4·3.3/0.9 ≈ 14.7 steps,
    plus at most one shortened step per save interval (4)."""
    run, _ = _run(LogisticDecay(U0), SSPRK3(cfl=0.9))
    assert run.success and 11 <= run.stats.n_steps <= 19


def test_output_layer_does_not_assume_a_model(tmp_path):
    """A kinetic-like state (1, n_v, n_x) whose field integrates over v is written through the
    same FrameWriter and recorded through the same Recorder, with dims (time, x), and its
    distributions (time, v, x) on request."""
    system = LogisticDecay(U0, n_v=3)
    U = system.initial_state({"u": U0[0]})
    path = tmp_path / "toy.nc"
    writer = FrameWriter(path, system.layout, IMEX().describe(), extras=True)
    rec = Recorder()
    run = integrate(system, IMEX(), U, (0.0, 2.0), save=SaveAt(1.0), observers=[rec, writer, Monitor()])
    assert run.success and run.U.shape == (1, 3, 16)
    with open_run(path) as ds:
        assert ds["u"].dims == ("time", "x") and ds.attrs["model"] == "logistic-decay"
        # the distributions, written on request through the same writer
        assert ds["f"].dims == ("time", "v", "x") and ds.sizes["v"] == 3
        np.testing.assert_allclose(ds["f"].values[-1].mean(axis=0), ds["u"].values[-1], rtol=1e-12)
        assert ds.attrs["status"] == "success" and ds.sizes["time"] == 3
        # every velocity relaxes alike here, so the field is the exact logistic solution
        np.testing.assert_allclose(ds["u"].values[-1], system.exact(2.0), rtol=1e-3)
    np.testing.assert_allclose(rec.stacked()[-1, 0], system.exact(2.0), rtol=1e-3)


def test_integrate_rejects_bad_arguments():
    system = LogisticDecay(U0)
    with pytest.raises(InputError, match="end time"):
        integrate(system, IMEX(), U0.copy(), (1.0, 1.0), save=SaveAt(1.0))
    with pytest.raises(InputError, match="Observer"):
        integrate(system, IMEX(), U0.copy(), (0.0, 1.0), save=SaveAt(1.0), observers=[object()])
    with pytest.raises(InputError, match="rtol must be a positive number"):
        IController(rtol=-1)
    with pytest.raises(InputError, match="dt must be a positive number"):
        FixedStep(dt=0.0)
    with pytest.raises(InputError, match="peak_limit must be a positive number"):
        Monitor(peak_limit=-1)


def test_steps_held_by_the_stability_limit_are_counted():
    """SSPRK3 steps at its CFL limit (the error control has no estimate): every step that is not
    cut to land on a save time is counted as limited; IMEX on the toy (no limit) has none."""
    run, _ = _run(LogisticDecay(U0), SSPRK3(cfl=0.9))
    assert run.stats.n_steps - 4 <= run.stats.n_limited <= run.stats.n_steps
    run, _ = _run(LogisticDecay(U0), IMEX())
    assert run.stats.n_limited == 0


def test_stop_when_ends_the_run_on_purpose(tmp_path):
    """``StopWhen``: every cell of the logistic toy tends to ``r = 1 − λ = 0.5``; the top one
    decays from 0.9, and the run stops at the first accepted step where max u < 0.8, with
    STOPPED, a success: the time reached is within one step (0.01) after the exact crossing
    time, and the stopped state is saved as the last frame."""
    system = LogisticDecay(U0)
    stop = StopWhen(lambda t, u: float(u.max()) < 0.8, "the top cell fell below 0.8")
    rec = Recorder()
    U = system.initial_state({"u": U0[0]})
    run = integrate(system, IMEX(dt=0.01), U, (0.0, 4.0), save=SaveAt(1.0), observers=[rec, stop])
    assert run.status is Status.STOPPED and run.status.success
    # exact: u(t) = r u0 e^{rt}/(r + u0 (e^{rt} − 1)) of the top cell (u0 = 0.9) is 0.8 at
    # t* = ln(0.8 (u0 − r)/(u0 (0.8 − r)))/r = 0.340
    r, u0 = 0.5, 0.9
    t_star = np.log(0.8 * (u0 - r) / (u0 * (0.8 - r))) / r
    assert t_star <= run.t < t_star + 0.01 + 1e-12
    assert rec.times[-1] == run.t and "the top cell fell below 0.8" in str(run.report)
    with pytest.raises(InputError, match="callable"):
        StopWhen(0.8)


def test_solve_with_stop_when_returns_a_success_and_the_file_says_why(tmp_path):
    """Through ``crossdiff.solve`` (which raises on failures, not on a stop): a 1D logistic
    Keller–Segel run stopped when the peak of u first exceeds 1.02 of its start (the pattern
    grows from the cosine perturbation) is a success, ends before t_end, and its file records
    the status "stopped" with the reason."""
    model = cd.catalogue.load("keller-segel-logistic")
    grid = cd.Grid((32,), ((0.0, 10.0),))
    out = tmp_path / "stop.nc"
    start = initial_fields(model, grid)[0].max()
    stop = StopWhen(lambda t, u: float(u[0].max()) > 1.02 * start, "the peak grew by 2 %")
    sol = cd.solve(model, grid, 50.0, observers=[stop], output=out)
    assert sol.success and sol.status is Status.STOPPED and sol.t_final < 50.0
    assert sol.final[0].max() > 1.02 * start
    attrs = open_run(out).attrs
    assert attrs["status"] == "stopped" and "peak grew by 2 %" in attrs["stopped"]


def test_progress_lines_for_logs_and_the_choice_of_display():
    """``ProgressLog`` writes plain lines at most every ``interval`` seconds (here 0: after every
    step) with the time reached, the fraction done and the steps; ``solve(progress=...)`` picks a
    bar on a terminal and lines elsewhere, and refuses anything else."""
    import io

    import crossdiff as cd
    from crossdiff.time import ProgressLog

    stream = io.StringIO()
    cd.solve("keller-segel", cd.Grid((8,), ((0.0, 1.0),)), 0.002, observers=[ProgressLog(0.002, 1e-9, stream)])
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("t = ") and "steps" in line for line in lines)
    assert "of 0.002 (100 %)" in lines[-1]
    with pytest.raises(cd.InputError, match="progress must be True, False, 'bar' or 'log'"):
        cd.solve("keller-segel", cd.Grid((8,), ((0.0, 1.0),)), 0.002, progress="loud")


def _spike_mass_by_filters(u: np.ndarray) -> float:
    """The monitor's spike mass by its definition, with SciPy's filters: cells equal to the
    maximum of their 3^d block (cells beyond a wall left out), positive, every face neighbour
    (0 beyond a wall) below a quarter of them; the mass of their blocks if there are two or more."""
    from scipy.ndimage import maximum_filter, uniform_filter

    peak = (u == maximum_filter(u, size=3, mode="constant", cval=-np.inf)) & (u > 0)
    padded = np.pad(u, 1)
    for axis in range(u.ndim):
        for shift in (-1, 1):
            neighbour = np.roll(padded, shift, axis=axis)[(slice(1, -1),) * u.ndim]
            peak &= neighbour < 0.25 * u
    if np.count_nonzero(peak) < 2:
        return 0.0
    block = uniform_filter(u, size=3, mode="constant", cval=0.0) * 3**u.ndim
    return float(np.sum(block[peak]))


@pytest.mark.parametrize("shape", [(24, 17), (9, 8, 7)])
def test_compiled_spike_mass_matches_its_definition(shape):
    """The compiled spike search (one pass) against the filter formulation, on fields with spikes
    at walls, corners and inside, plateaus (equal neighbours: no spike) and a single spike (0)."""
    rng = np.random.default_rng(7)
    for trial in range(20):
        u = rng.uniform(0.0, 1.0, shape) ** 4  # steep random field: many one-cell maxima
        if trial % 4 == 1:
            u[(0,) * u.ndim] = 50.0  # a spike in the corner
            u[tuple(n - 1 for n in shape)] = 40.0
        if trial % 4 == 2:
            u[...] = 0.1
            u[(1,) * u.ndim] = 30.0  # one spike only: 0
        if trial % 4 == 3:
            u[(2,) * u.ndim] = u[(3,) + (2,) * (u.ndim - 1)] = 20.0  # a two-cell plateau: not a spike
            u[(0,) * u.ndim] = 20.0
        expected = _spike_mass_by_filters(u)
        got = Monitor._spike_mass(u)
        if u.max() <= 4 * u.mean():
            assert got == 0.0  # the shortcut: no cell can stand out that far
            continue
        # the block sums are added in another order: equal to round-off (a few ulps of the mass)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_field_summary_matches_numpy():
    """The monitor's one-pass summary against NumPy's reductions: first minimum, first largest
    magnitude, first maximum (ties included), the sum, and a row with a NaN flagged."""
    from crossdiff.time import field_summary

    rng = np.random.default_rng(3)
    F = rng.normal(size=(3, 500))
    F[1, [10, 400]] = 9.0  # a tie: the first maximum counts
    F[1, 20] = -9.0  # |−9| ties with 9 later than index 10
    F[2, 77] = np.nan
    finite, i_min, i_abs, i_max, totals = field_summary(F)
    assert finite.tolist() == [True, True, False]
    for i in range(2):
        assert i_min[i] == np.argmin(F[i]) and i_max[i] == np.argmax(F[i])
        assert i_abs[i] == np.argmax(np.abs(F[i]))
        # sequential against pairwise summation of 500 numbers of size 1: a few ulps of 500
        assert totals[i] == pytest.approx(np.sum(F[i]), abs=1e-11)
    assert i_max[1] == 10 and i_abs[1] == 10
