"""Steppers as frozen option objects with their options on the registry, and the optional
capabilities of a system, read once when a stepper binds to it (never looked for in a step)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from crossdiff.errors import InputError
from crossdiff.time import (
    BDF,
    GSAIMEX,
    IMEX,
    KENCARP3,
    SSPRK3,
    STEPPERS,
    Capabilities,
    ExplainsNegative,
    FailureReport,
    FiltersError,
    HasErrorComponents,
    HasJacobianSparsity,
    IController,
    Monitor,
    SaveAt,
    SemiDiscrete,
    Status,
    integrate,
    stepper_from_name,
    stepper_options,
)

from ._toy import LogisticDecay

U0 = np.linspace(0.05, 0.9, 16)[None]

#: what each name takes, in order (the command line and stored run files rely on it)
OPTIONS = {
    "imex": ["rtol", "atol", "dt", "cfl"],
    "imex3": ["rtol", "atol", "dt", "cfl"],
    "ssprk3": ["dt", "cfl"],
    "bdf": ["rtol", "atol"],
    "ars443": ["rtol", "atol", "dt", "dt_max", "cfl"],
}


# ----------------------------------------------------------------------------- options on the registry
def test_stepper_options_list_what_each_stepper_takes():
    assert set(STEPPERS.names()) == set(OPTIONS)
    for name, expected in OPTIONS.items():
        options = stepper_options(name)
        assert list(options) == expected
        for option, help_text in options.items():
            assert help_text and "\n" not in help_text, (name, option)
        assert stepper_options(name.upper()) == options  # names are case-insensitive
    with pytest.raises(InputError, match="unknown stepper 'rk45'"):
        stepper_options("rk45")


def test_an_option_a_stepper_does_not_take_is_one_line_naming_both():
    with pytest.raises(InputError) as err:
        stepper_from_name("bdf", dt=0.1)
    assert str(err.value) == "the bdf stepper takes no option 'dt' (it takes rtol, atol)"
    with pytest.raises(InputError, match=r"the ssprk3 stepper takes no option 'rtol' \(it takes dt, cfl\)"):
        stepper_from_name("ssprk3", rtol=1e-4)
    with pytest.raises(InputError, match="the imex stepper takes no option 'tableau'"):
        stepper_from_name("imex", tableau=KENCARP3)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_stored_settings_rebuild_the_stepper(name):
    """``settings()`` (stored in run files) names only options the registry lists, and rebuilds
    the same stepper: a resumed run continues with it."""
    for options in ({}, {"dt": 0.01}):
        stepper = stepper_from_name(name, **({} if name == "bdf" else options))
        stored = stepper.settings()
        assert stored is not None and stored[0] == name
        assert set(stored[1]) <= set(OPTIONS[name])
        again = stepper_from_name(*stored[:1], **stored[1])
        assert again.settings() == stored and again.describe() == stepper.describe()


def test_the_option_dicts_of_older_run_files_still_resume():
    # as written by earlier versions (bench/fingerprint.py runs)
    imex = stepper_from_name("imex", rtol=None, atol=None, cfl=1.6936)
    assert imex.settings() == ("imex", {"rtol": None, "atol": None, "cfl": 1.6936})
    assert stepper_from_name("bdf", rtol=1e-6, atol=1e-8).settings() == ("bdf", {"rtol": 1e-6, "atol": 1e-8})
    assert stepper_from_name("ssprk3", cfl=0.9).settings() == ("ssprk3", {"cfl": 0.9})
    ars = stepper_from_name("ars443", rtol=1e-5, atol=1e-6, cfl=0.5, dt_max=0.01)
    assert ars.settings() == ("ars443", {"rtol": 1e-5, "atol": 1e-6, "cfl": 0.5, "dt_max": 0.01})


# ----------------------------------------------------------------------------- frozen steppers
@pytest.mark.parametrize("stepper", [IMEX(), SSPRK3(), BDF(), GSAIMEX()], ids=lambda s: type(s).__name__)
def test_a_stepper_refuses_attribute_assignment(stepper):
    with pytest.raises(dataclasses.FrozenInstanceError):
        stepper.dt = 0.1
    with pytest.raises(dataclasses.FrozenInstanceError):
        stepper.name = "other"


def test_replace_validates_and_derives_again():
    imex = IMEX(rtol=1e-4)
    third = dataclasses.replace(imex, tableau=KENCARP3, cfl=None)
    assert third.name == "IMEX ARK3(2)4L[2]SA" and third.order == 3 and third.rtol == 1e-4
    assert third.cfl == pytest.approx(0.8 * KENCARP3.upwind_courant)
    assert imex.order == 4  # the original is unchanged
    with pytest.raises(InputError, match="rtol must be a positive number"):
        dataclasses.replace(imex, rtol=0)
    with pytest.raises(InputError, match=r"cfl must be in \(0, 1\]"):
        dataclasses.replace(SSPRK3(), cfl=2.0)
    assert dataclasses.replace(BDF(rtol=1e-8), atol=None).atol == pytest.approx(1e-10)


# ----------------------------------------------------------------------------- capabilities
class _Filtered(LogisticDecay):
    """The toy with an error filter (as a computed flow's vorticity), counting its calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filtered = 0

    def filter_error(self, error, gamma_dt):
        self.filtered += 1
        return error / (1.0 + gamma_dt * self.lam)


class _Sparse(LogisticDecay):
    """The toy with its (diagonal) Jacobian pattern, counting how often it is asked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = 0

    def jacobian_sparsity(self):
        import scipy.sparse as sps

        self.asked += 1
        return sps.identity(self.u0.size, format="csr")


class _Controlled(LogisticDecay):
    """The toy listing the components its error control measures (as a kinetic system)."""

    error_components = np.array([True])


class _Explains(LogisticDecay):
    """The toy explaining negative densities itself (as a kinetic system)."""

    def explain_negative(self, t, U, rate):
        return FailureReport(Status.NEGATIVE, t, detail="the toy says why")


def _run(system, stepper, **kwargs):
    return integrate(system, stepper, system.initial_state({"u": U0[0]}), (0.0, 1.0), save=SaveAt(0.5), **kwargs)


def test_capabilities_are_read_from_the_system():
    toy = LogisticDecay(U0)
    assert Capabilities.of(toy) == Capabilities()
    assert isinstance(toy, SemiDiscrete)
    assert not isinstance(toy, FiltersError | HasJacobianSparsity | HasErrorComponents | ExplainsNegative)
    assert Capabilities.of(_Filtered(U0)) == Capabilities(filter_error=True)
    assert isinstance(_Filtered(U0), FiltersError)
    assert Capabilities.of(_Sparse(U0)) == Capabilities(jacobian_sparsity=True)
    assert isinstance(_Sparse(U0), HasJacobianSparsity)
    assert Capabilities.of(_Controlled(U0)) == Capabilities(error_components=True)
    assert isinstance(_Controlled(U0), HasErrorComponents)
    assert Capabilities.of(_Explains(U0)) == Capabilities(explain_negative=True)
    assert isinstance(_Explains(U0), ExplainsNegative)
    none = LogisticDecay(U0)
    none.filter_error = None  # a member set to None offers nothing
    assert Capabilities.of(none) == Capabilities()


def test_bind_records_the_capabilities_on_a_copy():
    stepper = IMEX(rtol=1e-4)
    assert stepper.capabilities is None
    bound = stepper.bind(_Filtered(U0))
    assert bound is not stepper and stepper.capabilities is None
    assert bound.capabilities == Capabilities(filter_error=True)
    assert bound.settings() == stepper.settings() and bound.describe() == stepper.describe()
    assert IMEX().bind(LogisticDecay(U0)).capabilities == Capabilities()  # nothing optional: binds too


def test_imex_runs_without_a_filter_and_calls_one_offered():
    plain = _run(LogisticDecay(U0), IMEX(rtol=1e-6))
    assert plain.success
    filtered = _Filtered(U0)
    run = _run(filtered, IMEX(rtol=1e-6))  # unbound: integrate binds it
    assert run.success and filtered.filtered == run.stats.n_steps + run.stats.n_rejected
    # a stepper already bound is not bound again: it keeps what its system offered
    other = _Filtered(U0)
    _run(other, IMEX(rtol=1e-6).bind(LogisticDecay(U0)))
    assert other.filtered == 0
    # a step of an unbound stepper (a hand-written loop) reads the capabilities at that step
    direct = _Filtered(U0)
    IMEX(rtol=1e-6).step(direct, 0.0, direct.initial_state({"u": U0[0]}), 0.1, None)
    assert direct.filtered == 1


def test_bdf_uses_the_jacobian_pattern_only_where_offered():
    sparse = _Sparse(U0)
    run = _run(sparse, BDF(rtol=1e-6))
    assert run.success and sparse.asked >= 1
    assert _run(LogisticDecay(U0), BDF(rtol=1e-6)).success


def test_error_components_select_what_is_controlled():
    system, plain = _Controlled(U0), LogisticDecay(U0)
    U = system.initial_state({"u": U0[0]})
    controlled = GSAIMEX(rtol=1e-6).bind(system)
    assert controlled.step(system, 0.0, U, 0.1, None).error is not None
    assert GSAIMEX(rtol=1e-6).bind(plain).step(plain, 0.0, U.copy(), 0.1, None).error is None

    # the controller measures only the listed components once bound to such a system
    class Two:
        differential = np.array([True, True])
        error_components = np.array([True, False])

    U2 = np.ones((2, 8))
    error = np.zeros((2, 8))
    error[1] = 1.0  # a large estimate on the component that is not controlled
    controller = IController(rtol=1e-6)
    assert controller.error_norm(Two(), U2, U2, error) > 1e3  # unbound: every component
    assert controller.bind(Two()).error_norm(Two(), U2, U2, error) == 0.0
    bound = controller.bind(plain)
    assert bound.bind(plain) is bound
    run = _run(system, GSAIMEX(rtol=1e-6))
    assert run.success and run.stats.n_steps > 0


def test_the_monitor_asks_a_system_that_explains_negatives_first():
    for system, detail in ((_Explains(U0), "the toy says why"), (LogisticDecay(U0), None)):
        monitor = Monitor()
        U = system.initial_state({"u": U0[0]})
        monitor.start(system, 0.0, U)
        report = monitor.explain_negative(0.0, U, np.zeros_like(U))
        assert (report.detail if report is not None else None) == detail
