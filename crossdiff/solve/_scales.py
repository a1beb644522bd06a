"""Scales: how a run of each kind of model becomes a semi-discrete system, starts and resumes.

A :class:`Scale` is registered in :data:`SCALES` once per kind of model: ``"macro"`` (a
:class:`~crossdiff.model.Model` discretised by finite volumes, a prescribed flow included),
``"flow"`` (a model whose flow is computed, :class:`~crossdiff.flow.FlowSystem`) and
``"kinetic"`` (a :class:`~crossdiff.kinetic.KineticModel`, the asymptotic-preserving
:class:`~crossdiff.kinetic.KineticDiscretisation`). For each domain kind
(:data:`crossdiff.grid.DOMAINS`) a scale registers how its models are discretised on it; a new
domain kind (a shape, a growing domain, a network) is a new entry in those tables, and a new
scale a new registration: :func:`crossdiff.solve.solve` stays one path.
"""

from __future__ import annotations

import json
import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError, OutputError
from ..grid import Grid, domain_kind
from ..registry import Registry
from ..time import stepper_from_name

# The discretisations, the model classes and the output layer are imported where a scale uses
# them: the command line lists the scales (and their default steppers) in its help without them.
if TYPE_CHECKING:
    from ..fv import Discretisation
    from ..kinetic import KineticDiscretisation
    from ..time import SemiDiscrete, Stepper
    from ._run import KineticOptions, Run

__all__ = ["Scale", "SCALES", "scale_of"]


class Scale(ABC):
    """How the runs of one kind of model are built, started, written and resumed.

    Attributes
    ----------
    name : str
        The name stored in run files (attribute ``scale``).
    kinetic : bool
        Whether its runs take :class:`~crossdiff.solve.KineticOptions`.
    stepper : str
        The registered name (:data:`~crossdiff.time.STEPPERS`) of its default stepper.
    systems : mapping of str to callable
        Per domain kind (:data:`crossdiff.grid.DOMAINS`), ``build(run) -> SemiDiscrete``.
    """

    name: str = ""
    kinetic: bool = False
    stepper: str = "imex"
    systems: Mapping[str, Callable[[Run], SemiDiscrete]] = {}

    @abstractmethod
    def accepts(self, model: object) -> bool:
        """Whether ``model`` is of this scale."""

    def on_domain(self, model: Any, domain: Any) -> Any:
        """The model as it runs on ``domain`` (kinetic: the velocity sphere of its dimension)."""
        return model

    def default_stepper(self) -> Stepper:
        """The stepper of a run that names none: the registered :attr:`stepper`."""
        return stepper_from_name(self.stepper)

    def check_stepper(self, stepper: Stepper) -> None:
        """Refuse a stepper that cannot run this scale (one line); every stepper runs by default."""
        return None

    def check_options(self, model: Any, options: Any) -> None:
        """Refuse scale options that cannot apply to ``model`` (one line)."""
        return None

    def system(self, run: Run) -> SemiDiscrete:
        """The semi-discrete system of ``run`` on its domain."""
        kind = domain_kind(run.domain).name
        build = self.systems.get(kind)
        if build is None:
            raise InputError(f"{self.name} models do not run on a {kind} domain")
        return build(run)

    def sizes(self, run: Run) -> tuple[int, int]:
        """Numbers of float64 in the state and in the fields of one frame, known before the
        system is built (what :func:`~crossdiff.solve.check_run_size` estimates from)."""
        n = run.model.n_species * run.domain.size
        return n, n

    def initial_state(self, run: Run, system: Any) -> np.ndarray:
        """The consistent state at ``t = 0`` from the model's initial data and ``run.initial``."""
        from ..model import initial_fields

        model, grid = run.model, run.domain
        initial = run.initial
        if isinstance(initial, np.ndarray):
            if initial.shape != (model.n_species, *grid.shape):
                raise InputError(f"initial state has shape {initial.shape}, expected {(model.n_species, *grid.shape)}")
            initial = {n: initial[i] for i, n in enumerate(model.species_names)}
        return system.initial_state(initial_fields(model, grid, run.seed, initial))

    def resumed_state(self, run: Run, system: Any) -> tuple[float, np.ndarray]:
        """Time and consistent state of the last frame of ``run.output`` (all the fields the
        file holds: the species, and a computed flow's)."""
        from ..io import last_frame

        assert run.output is not None
        t0, U0, _ = last_frame(run.output)
        _check_frame(U0, (len(system.layout.fields), *run.domain.shape), t0, run.t_end)
        if system.layout.motion is None:
            return t0, system.initial_state(U0, t0)
        # a domain that moves: the last frame's lengths too (a free boundary's position)
        from ..io import last_frame_variables

        lengths = last_frame_variables(run.output, [f"length_{a}" for a in system.layout.space])
        frame = {name: U0[i] for i, name in enumerate(system.layout.field_names)}
        return t0, system.initial_state({**frame, **lengths}, t0)

    def run_attributes(self, run: Run, system: Any) -> dict[str, object]:
        """Attributes a run file records for this scale besides the system's layout."""
        return {}

    def info(self, run: Run, system: Any) -> dict | None:
        """What the :class:`~crossdiff.solve.Solution` reports of this scale (``kinetic``)."""
        return None

    def save_extras(self, run: Run) -> bool:
        """Whether the system's extras (distributions) are written and kept."""
        return False

    def options_from_attributes(self, attrs: Mapping[str, object], path: Path) -> KineticOptions | None:
        return None

    def model_from_attributes(self, attrs: Mapping[str, object], where: str, fallback: Any = None) -> Any:
        """The model a run file records (its ``model_toml``)."""
        from ..model import model_from_dict
        from ._run import model_from_toml

        if "model_toml" not in attrs:
            raise OutputError(f"{where} does not hold its model (no model_toml)")
        return model_from_toml(attrs["model_toml"], where, lambda d: model_from_dict(d, str(attrs.get("model", ""))))

    def model_dict(self, model: Any) -> dict[str, Any]:
        from ..model import model_to_dict

        return model_to_dict(model)

    def check_same_model(self, have: Any, want: Any, where: str, labels: Mapping[str, str] | None = None) -> None:
        """Refuse ``want`` if it is not the model ``have`` that a run file records, naming the
        first difference: the name, a parameter, a definition, the equations. ``labels``:
        ``{"model": "--set"}`` names the option that changed parameters."""
        if not self.accepts(want):
            raise OutputError(f"{where} holds a {self.name} run; the model given is not one")
        if want.name != have.name:
            raise OutputError(f"{where} holds a run of model {have.name!r}, not {want.name!r}")
        flag = (labels or {}).get("model")
        path = where.removesuffix(": it")
        for key in sorted(set(have.parameters) | set(want.parameters)):
            a, b = have.parameters.get(key), want.parameters.get(key)
            if a != b:
                if flag:
                    raise OutputError(f"{where} was run with {key} = {a:g}; {flag} {key}={b:g} contradicts it")
                raise OutputError(f"{path}: parameter {key} is {a!r} in the file but {b!r} here")
        for key in sorted(set(have.definitions) | set(want.definitions)):
            a, b = have.definitions.get(key), want.definitions.get(key)
            if str(a) != str(b):
                given = f"{flag} {key}={b}" if flag else f"{key} = {b}"
                raise OutputError(f"{where} was run with {key} = {a}; {given} contradicts it")
        mine, theirs = self.model_dict(have), self.model_dict(want)
        mine.pop("domain", None), theirs.pop("domain", None)  # run defaults: the run's own settings count
        if mine != theirs:
            raise OutputError(f"{path}: its equations differ from this model's")


def _check_frame(U: np.ndarray, shape: tuple[int, ...], t0: float, t_end: float) -> None:
    if U.shape != shape:
        raise InputError(f"cannot resume: the file's state has shape {U.shape}, expected {shape}")
    if t0 >= t_end:
        raise InputError(f"cannot resume: the run file already reaches t = {t0:g} >= end time {t_end:g}")


def _finite_volumes(run: Run) -> Discretisation:
    from ..fv import Discretisation
    from ..model import Model

    model = run.model
    assert isinstance(model, Model)
    flow = None
    if model.flow is not None:
        from ..flow import PrescribedFlow

        flow = PrescribedFlow(model, run.domain)  # type: ignore[arg-type]  # a box: the "box" system
    return Discretisation(model, run.domain, limiter=run.limiter, flow=flow)  # type: ignore[arg-type]


def _cut_cells(run: Run) -> Discretisation:
    from ..fv import CutCellDiscretisation
    from ..grid import Shape
    from ..model import Model

    assert isinstance(run.model, Model) and isinstance(run.domain, Shape)
    return CutCellDiscretisation(run.model, run.domain, limiter=run.limiter)


def _growing(run: Run) -> Discretisation:
    from ..fv import GrowingDiscretisation
    from ..grid import GrowingGrid
    from ..model import Model

    assert isinstance(run.model, Model) and isinstance(run.domain, GrowingGrid)
    if run.model.flow is not None:
        raise InputError(
            f"model {run.model.name!r} has a flow: flows on a growing domain are not supported (growth moves the "
            "tissue; a flow relative to it is future work)"
        )
    return GrowingDiscretisation(run.model, run.domain, limiter=run.limiter)


def _front(run: Run) -> Discretisation:
    from ..fv import FrontDiscretisation
    from ..grid import FrontGrid
    from ..model import Model

    assert isinstance(run.model, Model) and isinstance(run.domain, FrontGrid)
    return FrontDiscretisation(run.model, run.domain, limiter=run.limiter)


def _network(run: Run) -> Discretisation:
    from ..fv import NetworkDiscretisation
    from ..grid import Network
    from ..model import Model

    assert isinstance(run.model, Model) and isinstance(run.domain, Network)
    return NetworkDiscretisation(run.model, run.domain, limiter=run.limiter)


class MacroScale(Scale):
    """Macroscopic models (:class:`~crossdiff.model.Model`) by finite volumes; a prescribed flow
    is injected as face velocities (:class:`~crossdiff.flow.PrescribedFlow`); on a shape by cut
    cells (:class:`~crossdiff.fv.CutCellDiscretisation`); on a growing box by cells that move with
    the tissue (:class:`~crossdiff.fv.GrowingDiscretisation`)."""

    name = "macro"
    systems = {
        "box": _finite_volumes,
        "shape": _cut_cells,
        "growing": _growing,
        "front": _front,
        "network": _network,
    }

    def accepts(self, model: object) -> bool:
        from ..model import Model

        return isinstance(model, Model) and not (model.flow is not None and model.flow.computed)


def _flow_system(run: Run) -> SemiDiscrete:
    from ..flow import FlowSystem

    return FlowSystem(run.model, run.domain, limiter=run.limiter)  # type: ignore[arg-type]


class FlowScale(MacroScale):
    """Macroscopic models whose flow is computed (Stokes / Navier–Stokes): the species' finite
    volumes with the vorticity and stream function (:class:`~crossdiff.flow.FlowSystem`)."""

    name = "flow"
    systems = {"box": _flow_system}

    def accepts(self, model: object) -> bool:
        from ..model import Model

        return isinstance(model, Model) and model.flow is not None and model.flow.computed

    def sizes(self, run: Run) -> tuple[int, int]:
        """The species, vorticity and stream function; the frames add the velocity (u_x, u_y)."""
        size = run.domain.size
        return (run.model.n_species + 2) * size, (run.model.n_species + 4) * size


def _kinetic_system(run: Run) -> KineticDiscretisation:
    from ..kinetic import KineticDiscretisation, KineticModel

    assert isinstance(run.model, KineticModel) and run.kinetic is not None
    opts = run.kinetic
    grid = run.domain
    assert isinstance(grid, Grid)  # the "box" system
    return KineticDiscretisation(run.model, grid, opts.eps, velocities=opts.velocities, limiter=run.limiter)


def _kinetic_growing(run: Run) -> KineticDiscretisation:
    from ..grid import GrowingGrid
    from ..kinetic import GrowingKineticDiscretisation, KineticModel

    assert isinstance(run.model, KineticModel) and run.kinetic is not None
    assert isinstance(run.domain, GrowingGrid)
    opts = run.kinetic
    return GrowingKineticDiscretisation(
        run.model, run.domain, opts.eps, velocities=opts.velocities, limiter=run.limiter
    )


def _kinetic_network_system(run: Run) -> SemiDiscrete:
    from ..grid import Network
    from ..kinetic import KineticModel, NetworkKineticDiscretisation

    assert isinstance(run.model, KineticModel) and run.kinetic is not None
    assert isinstance(run.domain, Network)
    opts = run.kinetic
    return NetworkKineticDiscretisation(
        run.model, run.domain, opts.eps, velocities=opts.velocities, limiter=run.limiter
    )


def _kinetic_front(run: Run) -> KineticDiscretisation:
    """Refused: a kinetic model's walls reflect its particles (no flux), and its front would need
    the particles carried relative to the moving cells and the speed from their boundary values."""
    raise InputError(
        f"kinetic model {run.model.name!r}: a free boundary (a moving front) is not supported for kinetic "
        "models; use a growth law (--growth) or the derived macroscopic model"
    )


class KineticScale(Scale):
    """Kinetic models (:class:`~crossdiff.kinetic.KineticModel`) by the asymptotic-preserving
    micro–macro scheme with the globally stiffly accurate stepper ARS(4,4,3) (docs/kinetic.md); on
    a growing box with the particles moving with the tissue
    (:class:`~crossdiff.kinetic.GrowingKineticDiscretisation`)."""

    name = "kinetic"
    kinetic = True
    stepper = "ars443"
    systems = {
        "box": _kinetic_system,
        "growing": _kinetic_growing,
        "front": _kinetic_front,
        "network": _kinetic_network_system,
    }

    def accepts(self, model: object) -> bool:
        # no kinetic model exists before its class is imported: a macroscopic run does not
        # import the kinetic layer to find that its model is not kinetic
        kinetic = sys.modules.get("crossdiff.kinetic._model")
        return kinetic is not None and isinstance(model, kinetic.KineticModel)

    def on_domain(self, model: Any, domain: Any) -> Any:
        """The model on the velocity sphere of the domain's dimension, checked as ``derive``
        checks it (a negative or zero turning operator, a zero relaxation rate, a negative
        kernel: :func:`crossdiff.derive.check_assumptions`; detailed balance is not required)."""
        from ..derive import check_assumptions

        model = model.in_dimension(domain.ndim)  # a velocity sphere follows the domain
        check_assumptions(model, strict=False)
        return model

    def check_options(self, model: Any, options: KineticOptions) -> None:
        """Refuse options that cannot apply: a velocity count for a discrete velocity set (its
        points are the velocities)."""
        from ..kinetic import DiscreteVelocities

        if options.velocities is not None and isinstance(model.velocity, DiscreteVelocities):
            raise InputError(
                f"velocities applies to a velocity sphere; {model.name!r} has a discrete set of "
                f"{model.velocity.node_count()} velocities"
            )

    def sizes(self, run: Run) -> tuple[int, int]:
        """``n_species (1 + d m)`` values per cell (a wall axis one slot more) for ``m``
        velocities (:meth:`~crossdiff.kinetic.Sphere.node_count`); the frames hold the densities
        (and the distributions with ``save_f``)."""
        from ..kinetic import KineticModel

        assert isinstance(run.model, KineticModel) and run.kinetic is not None
        d, grid = run.model.dim, run.domain
        n = run.kinetic.velocities or run.model.velocity.default_resolution
        m = run.model.velocity.node_count(n)
        padded = math.prod(c + (0 if p else 1) for c, p in zip(grid.cells, grid.periodic))
        if domain_kind(grid).name == "network":  # every edge one face more than cells
            padded = grid.size + len(grid.edges)  # type: ignore[union-attr]
        ns = run.model.n_species
        return ns * (1 + d * m) * padded, ns * grid.size * (1 + (m if run.kinetic.save_f else 0))

    def check_stepper(self, stepper: Stepper) -> None:
        from ..time import GSAIMEX

        if not isinstance(stepper, GSAIMEX):
            raise InputError(
                "kinetic models are solved with the asymptotic-preserving stepper ars443 "
                f"(crossdiff.time.GSAIMEX), not {stepper.describe()}"
            )

    def initial_state(self, run: Run, system: Any) -> np.ndarray:
        from ..model import initial_fields

        names = run.model.species_names
        initial = run.initial
        if isinstance(initial, np.ndarray):
            if initial.shape != (len(names), *run.domain.shape):
                raise InputError(f"initial state has shape {initial.shape}, expected {(len(names), *run.domain.shape)}")
            initial = {n: initial[i] for i, n in enumerate(names)}
        given = dict(initial or {})
        distributions = {k: given.pop(k) for k in list(given) if k.startswith("f_")}
        rho0 = initial_fields(run.model, run.domain, run.seed, given)
        return system.initial_state({**{n: rho0[i] for i, n in enumerate(names)}, **distributions})

    def resumed_state(self, run: Run, system: Any) -> tuple[float, np.ndarray]:
        """From the densities of the last frame with well-prepared distributions ``f = M ρ``,
        or from the distributions where the file holds them (``save_f``)."""
        from ..io import last_frame, last_frame_variables

        assert run.output is not None
        names = run.model.species_names
        t0, rho, _ = last_frame(run.output)
        _check_frame(rho, (len(names), *run.domain.shape), t0, run.t_end)
        # from the saved distributions where the file has them (save_f), else f = M ρ
        saved_f = last_frame_variables(run.output, [f"f_{s}" for s in names])
        return t0, system.initial_state({**{n: rho[i] for i, n in enumerate(names)}, **saved_f}, t0)

    def run_attributes(self, run: Run, system: Any) -> dict[str, object]:
        import tomli_w

        from ..kinetic import DiscreteVelocities, kinetic_to_dict

        assert run.kinetic is not None
        sphere = not isinstance(run.model.velocity, DiscreteVelocities)  # type: ignore[union-attr]
        return {
            "kinetic_toml": tomli_w.dumps(kinetic_to_dict(run.model)),  # type: ignore[arg-type]
            "save_f": int(run.kinetic.save_f),
            "velocity_resolution": system.velocities if sphere else 0,  # a discrete set: its points
        }

    def info(self, run: Run, system: Any) -> dict | None:
        assert run.kinetic is not None
        return {
            "eps": run.kinetic.eps,
            "velocities": system.m,
            "nodes": system.nodal.nodes.tolist(),
            "weights": system.nodal.weights.tolist(),
        }

    def save_extras(self, run: Run) -> bool:
        return run.kinetic is not None and run.kinetic.save_f

    def options_from_attributes(self, attrs: Mapping[str, object], path: Path) -> KineticOptions | None:
        from ..io import last_frame_variables
        from ._run import KineticOptions

        where = f"run file {str(path)!r}"
        if "eps" not in attrs:
            raise OutputError(f"{where} does not record its eps")
        velocities = int(np.asarray(attrs.get("velocity_resolution", 0))) or None
        if "save_f" in attrs:
            save_f = bool(int(np.asarray(attrs["save_f"])))
        else:  # a file of an earlier version: it holds distributions if it was saved with them
            species = str(attrs.get("species", "")).split(",")
            save_f = bool(last_frame_variables(path, [f"f_{s}" for s in species]))
        return KineticOptions(float(np.asarray(attrs["eps"])), velocities, save_f)

    def model_from_attributes(self, attrs: Mapping[str, object], where: str, fallback: Any = None) -> Any:
        from ..kinetic import kinetic_from_dict
        from ._run import model_from_toml

        if "kinetic_toml" not in attrs:
            if fallback is None:
                raise OutputError(
                    f"{where} does not hold its kinetic model (written by an earlier crossdiff): give the model"
                )
            return fallback
        return model_from_toml(
            attrs["kinetic_toml"], where, lambda d: kinetic_from_dict(d, str(attrs.get("model", "")))
        )

    def model_dict(self, model: Any) -> dict[str, Any]:
        from ..kinetic import kinetic_to_dict

        data = kinetic_to_dict(model)
        return json.loads(json.dumps(data, default=str))


#: Scales by name, in the order :func:`scale_of` tries them.
SCALES: Registry[Scale] = Registry("scale")
SCALES.register("kinetic", KineticScale(), "kinetic models of active particles, asymptotic-preserving in eps")
SCALES.register("flow", FlowScale(), "macroscopic models with a computed (Stokes / Navier-Stokes) flow")
SCALES.register("macro", MacroScale(), "macroscopic cross-diffusion-reaction models by finite volumes")


def scale_of(model: object) -> Scale:
    """The scale that runs ``model``.

    Raises
    ------
    InputError
        If no registered scale accepts it.
    """
    for name in SCALES:
        if SCALES[name].accepts(model):
            return SCALES[name]
    raise InputError(
        f"model must be a crossdiff Model or a catalogue name (or a KineticModel), got {type(model).__name__}"
    )
