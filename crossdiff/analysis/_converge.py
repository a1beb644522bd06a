"""``limit_convergence(kinetic_model, eps_values, grid, t_end)``: the kinetic model at each ε
against its derived macroscopic limit on the same grid (``crossdiff converge``, docs/kinetic.md).

For each ε the kinetic model is solved with the asymptotic-preserving scheme
(:class:`crossdiff.kinetic.KineticDiscretisation`) and compared at ``t_end`` with the run of
``derive(model).model`` (:func:`crossdiff.derive.derive`) on the same grid from the same
initial data: per species the L1 difference ``Σ |ρ_i − u_i| h^d`` and the L∞ difference, and
the order in ε fitted by least squares to ``log error = order · log ε + c`` (paper §3: the
Hilbert expansion predicts ``O(ε)``; well-prepared data give ``O(ε²)`` where the first-order
corrector has zero mean flux).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..grid import Grid, Network, default_domain
from ..kinetic import KineticModel, check_eps
from ..progress import StudyProgress, progress_mode
from ..solve import Run, Solution, solve
from ..time import GSAIMEX, IMEX, Stepper

__all__ = ["LimitConvergence", "limit_convergence", "fitted_order"]


def fitted_order(eps: Sequence[float], errors: Sequence[float]) -> float | None:
    """Least-squares slope of ``log error`` against ``log ε`` (None with fewer than two positive errors)."""
    e, err = np.asarray(eps, dtype=float), np.asarray(errors, dtype=float)
    keep = err > 0
    if keep.sum() < 2:
        return None
    return float(np.polyfit(np.log(e[keep]), np.log(err[keep]), 1)[0])


@dataclass
class LimitConvergence:
    """The table of :func:`limit_convergence`.

    Attributes
    ----------
    model : str
    eps : list of float
    species : list of str
    l1, linf : dict of str to list of float
        Per species, the differences at ``t_end`` for each ε.
    order_l1, order_linf : dict of str to float or None
        Fitted orders in ε.
    steps : list of int
        Steps of each kinetic run.
    grid : str
    t_end : float
    velocities : int
    """

    model: str
    eps: list[float]
    species: list[str]
    l1: dict[str, list[float]]
    linf: dict[str, list[float]]
    order_l1: dict[str, float | None]
    order_linf: dict[str, float | None]
    steps: list[int]
    grid: str
    t_end: float
    velocities: int
    wall_time: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def limit_convergence(
    model: KineticModel,
    eps_values: Sequence[float],
    grid: Grid | Network | None = None,
    t_end: float | None = None,
    *,
    velocities: int | None = None,
    reference: Stepper | None = None,
    kinetic_stepper: Stepper | None = None,
    seed: int | None = None,
    progress: bool | str = False,
) -> LimitConvergence:
    """Differences between the kinetic model at each ε and its derived limit on one grid.

    Parameters
    ----------
    model : KineticModel
    eps_values : sequence of float
        Values of ε in (0, 1] (at least one).
    grid : Grid, optional
        Default: the model's domain.
    t_end : float, optional
        Default: the model's end time.
    velocities : int, optional
        Directions on the circle (2D).
    reference : Stepper, optional
        Stepper of the macroscopic run (default :class:`~crossdiff.time.IMEX` with ``rtol = 1e-7``).
    kinetic_stepper : Stepper, optional
        Stepper of the kinetic runs (default :class:`~crossdiff.time.GSAIMEX` with
        ``rtol = 1e-5``, ``atol = 1e-6``: the time error must stay below the differences measured).
    seed : int, optional
        Seed of ``noise`` in the initial data of both models (default the model's).
    progress : bool or {"bar", "log"}
        Progress of the study, the macroscopic run and one kinetic run per ε
        (:class:`crossdiff.progress.StudyProgress`), and of each run: ``True`` bars on a terminal
        and lines elsewhere, as ``solve(progress=True)``.

    Raises
    ------
    InputError
        Bad ε, grid or time; :class:`~crossdiff.errors.NumericalError` if a run fails.
    """
    from ..derive import derive

    if not isinstance(model, KineticModel):
        raise InputError(f"converge needs a kinetic model, got {type(model).__name__}")
    eps_list = [check_eps(e) for e in eps_values]
    if not eps_list:
        raise InputError("converge needs at least one value of eps")
    repeated = sorted({e for e in eps_list if eps_list.count(e) > 1})
    if repeated:
        raise InputError(f"eps {repeated[0]:g} is given twice: an order in eps needs distinct values")
    grid = grid if grid is not None else default_domain(model)
    model = model.in_dimension(grid.ndim)  # a velocity sphere follows the grid
    macro = derive(model).model
    shown = StudyProgress("converge", len(eps_list) + 1, progress_mode(progress))
    with shown:
        return _limit_runs(model, macro, eps_list, grid, t_end, velocities, reference, kinetic_stepper, seed, shown)


def _integral(grid: Grid | Network, values: np.ndarray) -> float:
    """``∫ values``: the cell volume of a box, ``Σ A_e h_e`` of a network's cells."""
    if isinstance(grid, Network):
        return float(grid.integrate(values))
    return float(np.sum(values) * grid.cell_volume)


def _limit_runs(
    model: KineticModel,
    macro: Any,
    eps_list: list[float],
    grid: Grid | Network,
    t_end: float | None,
    velocities: int | None,
    reference: Stepper | None,
    kinetic_stepper: Stepper | None,
    seed: int | None,
    shown: StudyProgress,
) -> LimitConvergence:
    """The runs of :func:`limit_convergence` and its table."""
    shown.started("the derived macroscopic limit")
    ref: Solution = solve(
        Run(macro, grid, t_end, stepper=reference or IMEX(rtol=1e-7), save_every=t_end, seed=seed),
        progress=shown.run_progress,
    )
    shown.finished(f"the derived macroscopic limit to t = {ref.t_final:g}")
    kinetic = Run(
        model,
        grid,
        ref.t_final,
        eps=eps_list[0],
        velocities=velocities,
        stepper=kinetic_stepper or GSAIMEX(rtol=1e-5, atol=1e-6),
        save_every=ref.t_final,
        seed=seed,
    )
    names = list(model.species_names)
    l1: dict[str, list[float]] = {n: [] for n in names}
    linf: dict[str, list[float]] = {n: [] for n in names}
    steps, walls = [], []
    m = 0
    for eps in eps_list:
        shown.started(f"eps = {eps:g}")
        sol = solve(kinetic.replace(eps=eps), progress=shown.run_progress)
        m = int(sol.kinetic["velocities"]) if sol.kinetic else 0
        steps.append(sol.stats.n_steps)
        walls.append(sol.stats.wall_stepping)
        for i, n in enumerate(names):
            diff = np.abs(sol.final[i] - ref.final[macro.index(n)])
            l1[n].append(_integral(grid, diff))
            linf[n].append(float(np.max(diff)))
        shown.finished(f"eps = {eps:g}: L1 difference of {names[0]} {l1[names[0]][-1]:.3g}, {sol.stats.n_steps} steps")
    return LimitConvergence(
        model=model.name,
        eps=eps_list,
        species=names,
        l1=l1,
        linf=linf,
        order_l1={n: fitted_order(eps_list, l1[n]) for n in names},
        order_linf={n: fitted_order(eps_list, linf[n]) for n in names},
        steps=steps,
        grid=grid.describe(),
        t_end=ref.t_final,
        velocities=m,
        wall_time=walls,
    )
