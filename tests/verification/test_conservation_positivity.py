"""Mass conservation, positivity and blow-up reporting (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.fv import Discretisation
from crossdiff.time import SSPRK3, Status


def _keller_segel(chi: float, tau: float = 1.0) -> cd.Model:
    return cd.Model(
        species=[
            cd.Species("u", diffusion=1, taxis=[cd.Taxis("v", "chi")], initial="1 + 0.5*noise"),
            cd.Species("v", diffusion=1, reaction="u - v", tau=tau, initial=1),
        ],
        parameters={"chi": chi},
        name="ks-minimal",
    )


@pytest.mark.parametrize(
    "stepper", [cd.IMEX(), cd.SSPRK3(), cd.BDF(rtol=1e-6, atol=1e-8)], ids=["imex", "ssprk3", "bdf"]
)
def test_mass_conserved_to_roundoff_keller_segel(stepper):
    """Minimal Keller-Segel with no-flux walls: ∫u is conserved to round-off.

    Every flux vanishes on the walls and interior fluxes cancel pairwise, so the only change
    of Σu is floating-point round-off: ~1e-16 per operation, relative 1e-12 leaves a margin of
    about 1e3-1e4 over the few hundred steps of this run.
    """
    model = _keller_segel(chi=10.0).with_species("u", initial="1 + 0.5*cos(pi*x/4)*cos(pi*y/4)")
    grid = cd.Grid((24, 24), ((0, 4), (0, 4)))
    # mass 16 >> 2 pi/chi: both corners collapse into one-cell spikes by t = 0.9, which the
    # multi-spike criterion reports as blow-up (issue 11); conservation is the point here
    sol = cd.solve(model, grid, 1.0, stepper=stepper, save_every=0.25, monitor=cd.Monitor(spikes=None))
    mass = sol.mass()[:, 0]
    assert sol.success
    assert np.max(np.abs(mass - mass[0])) / mass[0] < 1e-12
    # the run did something: aggregation changed the peak
    assert sol.final[0].max() > 1.5 * sol.frames[0, 0].max()


def test_mass_conserved_periodic_and_1d():
    model = _keller_segel(chi=20.0)
    for grid in (cd.Grid((200,), ((0, 10),)), cd.Grid((16, 32), ((0, 2), (0, 4)), boundary=("periodic", "noflux"))):
        sol = cd.solve(model, grid, 0.5, save_every=0.5)
        mass = sol.mass()[:, 0]
        assert abs(mass[-1] - mass[0]) / mass[0] < 1e-12  # round-off only (see above)


def test_mass_conserved_with_nonlinear_and_tensor_diffusion():
    model = cd.Model(
        species=[
            cd.Species("u", diffusion="1 + u**2", taxis=[cd.Taxis("v", "2/(1 + v)")], initial="1 + 0.5*noise"),
            cd.Species("v", diffusion=[[1.0, 0.4], [0.4, 0.5]], reaction="u - v", initial="1 + 0.2*noise"),
            cd.Species("w", diffusion=[[2.0, 0.0], [0.0, 0.1]], initial="1 + 0.3*noise"),
        ],
        name="nonlinear-tensor",
    )
    grid = cd.Grid((20, 20), ((0, 2), (0, 2)))
    sol = cd.solve(model, grid, 0.3, save_every=0.3)
    mass = sol.mass()
    # u and w have no reactions: conserved up to round-off and the Krylov tolerance (1e-10
    # relative residual per solve, whose mass defect is far smaller since the operator conserves)
    assert abs(mass[-1, 0] - mass[0, 0]) / mass[0, 0] < 1e-10
    assert abs(mass[-1, 2] - mass[0, 2]) / mass[0, 2] < 1e-10


def test_positivity_sharp_aggregation_discrete_scheme():
    """The discrete SSPRK3 + limited upwind scheme keeps u >= 0 exactly under its CFL step.

    Strongly taxis-dominated (χ = 200) aggregation from rough data in 1D and 2D; each step is taken
    directly (no clipping, no rejection), so this checks the scheme itself.
    """
    for grid in (cd.Grid((128,), ((0, 4),)), cd.Grid((32, 32), ((0, 4), (0, 4)))):
        model = _keller_segel(chi=200.0)
        disc = Discretisation(model, grid)
        U = cd.solve(model, grid, 1e-9, save_every=1e-9).frames[0]  # initial data only
        stepper = SSPRK3(cfl=0.9)
        t, peak0 = 0.0, U[0].max()
        for _ in range(300):
            dt = stepper.step_limit(disc, t, U)
            U = stepper.step(disc, t, U, dt, None).U
            t += dt
            assert U.min() >= 0.0
        assert U[0].max() > 3 * peak0  # sharp aggregation did happen


def test_positivity_default_stepper_sharp_aggregation():
    model = _keller_segel(chi=200.0)
    grid = cd.Grid((48, 48), ((0, 4), (0, 4)))
    # chi = 200: the aggregates collapse to one-cell spikes (84 % of the mass by t = 0.1), which
    # the multi-spike criterion reports as blow-up (issue 11); positivity is the point here
    sol = cd.solve(model, grid, 0.1, save_every=0.01, monitor=cd.Monitor(spikes=None))
    assert sol.success
    assert sol.frames[:, 0].min() >= 0.0
    assert sol.final[0].max() > 20 * sol.frames[0, 0].max()  # sharp aggregates (peak ~100 from 1.5)


def test_blowup_parabolic_elliptic_reported(tmp_path):
    """Parabolic-elliptic KS with mass 10π > 8π (Chertock-Kurganov data) blows up at the centre."""
    model = cd.catalogue.load("keller-segel-elliptic").with_parameters(mass=10 * np.pi)
    out = tmp_path / "blowup.nc"
    with pytest.raises(cd.NumericalError) as info:
        cd.solve(model, t_end=0.1, save_every=0.001, output=out)
    report = info.value.report
    assert report.status is Status.BLOWUP
    assert report.species == "u"
    assert np.hypot(*report.location) < 0.05  # at the centre of [-1/2, 1/2]^2
    assert 0 < report.time < 0.1
    ds = cd.io.open_run(out)
    assert ds.sizes["time"] >= 2 and np.isfinite(ds["u"].values).all()
    assert ds.attrs["status"] == "blow-up"
    ds.close()


def test_subcritical_mass_does_not_blow_up():
    model = cd.catalogue.load("keller-segel-elliptic").with_parameters(mass=4 * np.pi)
    sol = cd.solve(model, t_end=0.05, save_every=0.05)
    assert sol.success
