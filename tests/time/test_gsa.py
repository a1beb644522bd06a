"""The globally stiffly accurate stepper (ARS(4,4,3)) against its tableau, and its fused stage sums."""

from __future__ import annotations

import numpy as np

from crossdiff.time import ARS443, GSAIMEX, Observer, Recorder, SaveAt, gsa_scatter, gsa_start, integrate

from ._toy import LogisticDecay

U0 = np.linspace(0.05, 0.9, 16)[None]


class _Solves(LogisticDecay):
    """The toy, recording the ``out`` of every solve (part of the contract: every system takes it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outs = []

    def solve_implicit(self, B, gamma_dt, out=None):
        self.outs.append(out)
        return super().solve_implicit(B, gamma_dt, out=out)


def _reference_step(system, t, U, dt):
    """ARS(4,4,3) written out from its tableaux, every stage's E and L stored."""
    a_e, a_i, c, g = ARS443.explicit, ARS443.implicit, ARS443.c, ARS443.gamma
    E, L, stages = [], [], []
    for i in range(ARS443.stages):
        rhs = U + dt * sum(a_e[i, j] * E[j] + a_i[i, j] * L[j] for j in range(i))
        stage = U.copy() if i == 0 else system.solve_implicit(rhs, g * dt)
        stages.append(stage)
        E.append(system.explicit(t + c[i] * dt, stage))
        L.append(system.implicit(stage))
    return stages[-1]


def test_step_equals_the_tableau_written_out():
    """The fused, low-storage step is the scheme of the tableau: same result to round-off (the
    sums are the same up to their order: 1e-15 relative on values of order 1), every stage but the
    last solved into the stepper's work array (``out``); two steps in a row reuse the work arrays
    without mixing them."""
    system = _Solves(U0)
    stepper = GSAIMEX(dt=0.1).bind(system)
    U = system.initial_state({"u": U0[0]})
    result = stepper.step(system, 0.0, U, 0.1, None)
    work = result.state[0]
    stage_buffer = work[ARS443.stages - 1]
    assert all(out is not None and out.ctypes.data == stage_buffer.ctypes.data for out in system.outs[:-1])
    assert system.outs[-1] is None  # no earlier state to reuse yet: the new state is a fresh array
    ref = _reference_step(system, 0.0, U, 0.1)
    assert np.max(np.abs(result.U - ref)) < 1e-14
    again = stepper.step(system, 0.1, result.U, 0.1, result.state)
    assert again.state[0] is result.state[0]  # the work arrays are kept
    assert np.max(np.abs(again.U - _reference_step(system, 0.1, ref, 0.1))) < 1e-14


def test_third_order_on_the_logistic_decay():
    """Fixed steps 0.2, 0.1, 0.05 to t = 2 against the exact solution: ARS(4,4,3) is third order
    for the additive pair (Ascher, Ruuth & Spiteri 1997), so the error falls ~8x per halving;
    the fitted order must be at least 2.7 (measured 2.9–3.0)."""
    errors = []
    for dt in (0.2, 0.1, 0.05):
        system = LogisticDecay(U0)
        run = integrate(system, GSAIMEX(dt=dt), system.initial_state({"u": U0[0]}), (0.0, 2.0), save=SaveAt(2.0))
        assert run.success
        errors.append(float(np.max(np.abs(run.U[0] - system.exact(2.0)))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 2.7), (errors, orders)


def test_fused_stage_sums_equal_numpy():
    """The two kernels of the step against their NumPy formulas (exact arithmetic of the same
    operations up to order: 1e-15 relative), on a length that is not a multiple of the block."""
    rng = np.random.default_rng(0)
    n, rows = 5000 + 17, 4
    u, e, stage, rhs = (rng.standard_normal(n) for _ in range(4))
    coefficients = rng.standard_normal(rows)
    acc = np.empty((rows, n))
    gsa_start(acc, u, e, coefficients)
    assert np.max(np.abs(acc - (u + coefficients[:, None] * e))) < 1e-14
    before = acc.copy()
    ci, ce = rng.standard_normal(rows), rng.standard_normal(rows)
    gsa_scatter(acc, 2, stage, rhs, 4.0, ci, e, ce)
    expected = before.copy()
    expected[2:] += ci[2:, None] * (stage - rhs) * 4.0 + ce[2:, None] * e
    assert np.max(np.abs(acc - expected)) < 1e-13
    assert np.array_equal(acc[:2], before[:2])  # rows before `first` untouched


def test_states_are_reused_only_when_nothing_refers_to_them():
    """The new state goes into an earlier state's array only when nothing else refers to it:
    an observer that keeps every state it is shown (references, not copies) still finds each
    one as it was; a run without it alternates between two arrays; both runs agree exactly."""

    class Keeper(Observer):
        def __init__(self):
            self.kept, self.copies = [], []

        def step(self, t, U):
            self.kept.append(U)
            self.copies.append(U.copy())

    results, ids = [], []
    for keep in (True, False):
        system = LogisticDecay(U0)
        keeper = Keeper()
        seen = Recorder(keep_frames=False)
        if not keep:
            original = system.solve_implicit

            def solve(B, gamma_dt, out=None):  # record which arrays the new states went into
                X = original(B, gamma_dt, out=out)
                ids.append(id(X))
                return X

            system.solve_implicit = solve
        observers = [keeper, seen] if keep else [seen]
        run = integrate(
            system,
            GSAIMEX(dt=0.05),
            system.initial_state({"u": U0[0]}),
            (0.0, 1.0),
            save=SaveAt(0.5),
            observers=observers,
        )
        assert run.success
        results.append(run.U)
        if keep:
            assert len(keeper.kept) == 20
            for kept, copy in zip(keeper.kept, keeper.copies):
                assert np.array_equal(kept, copy)
    assert np.array_equal(results[0], results[1])
    last_stage_ids = ids[3::4]  # four solves a step, the last one the new state
    assert len(set(last_stage_ids[2:])) == 2  # from the third step on: two arrays in turn
