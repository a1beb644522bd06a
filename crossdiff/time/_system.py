r"""The semi-discrete system: the one contract between a spatial discretisation and time stepping.

A discretisation in space (finite volumes for the macroscopic models, the kinetic
discretisation, a flow coupling) turns a PDE into the system of ordinary differential equations

.. math::

    \frac{dU}{dt} = E(t, U) + L\,U, \qquad 0 = g(t, U) \text{ (algebraic components)},

where ``E`` is the explicit (non-stiff) part, ``L`` a linear stiff part that IMEX steppers treat
implicitly through solves of ``(I − γΔt L) X = B``, and ``g`` algebraic constraints (e.g. the
quasi-stationary species of a parabolic–elliptic model), re-imposed after every stage by
:meth:`SemiDiscrete.constrain`. Steppers, the integration loop, monitors and writers use only
this protocol, so a new scale or term is a new implementation of it, never a new loop.

State layout: ``U`` is a float64 array whose first axis indexes the **components** (species);
:meth:`SemiDiscrete.fields` maps it to the observed densities, shape
``(n_components, *space_shape)``, component ``i`` to field ``i`` (for finite volumes
``fields(U)`` is ``U``; for a kinetic state ``(n, n_v, *space)`` it integrates over velocity).

Optional capabilities: a system may offer more than the contract, each a small protocol of its
own (:class:`FiltersError`, :class:`HasJacobianSparsity`, :class:`HasErrorComponents`,
:class:`ExplainsNegative`). What a system offers is read once per run, when a stepper binds to it
(:meth:`~crossdiff.time.Stepper.bind` records its :class:`Capabilities`), a controller binds to it
(:meth:`~crossdiff.time.Controller.bind`) or the :class:`~crossdiff.time.Monitor` starts; the
step itself never looks for attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ._events import FailureReport

__all__ = [
    "SemiDiscrete",
    "Layout",
    "Variable",
    "Coordinate",
    "Counters",
    "FiltersError",
    "HasJacobianSparsity",
    "HasErrorComponents",
    "ExplainsNegative",
    "TimeDependentImplicit",
    "TimeDependentFields",
    "Motion",
    "Capabilities",
    "field_map",
]


@dataclass(frozen=True)
class Coordinate:
    """One dimension of the output: its name, the coordinate values and a long name."""

    name: str
    values: np.ndarray
    long_name: str = ""
    attrs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Variable:
    """One output variable: name, dimensions of one frame (without ``time``), long name, attributes."""

    name: str
    dims: tuple[str, ...]
    long_name: str = ""
    attrs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """What the state of a system means, for the output layer (NetCDF, xarray, plots).

    Attributes
    ----------
    fields : tuple of Variable
        The densities, one per component, on the spatial dims (written at every saved frame).
    coordinates : tuple of Coordinate
        Every dimension a variable uses (spatial axes first).
    space : tuple of str
        Names of the spatial dimensions, in array order.
    cell_volume : float
        Volume of a cell: ``Σ u · cell_volume`` is the integral over the domain.
    attrs : mapping
        Global attributes describing the model and the discretisation (JSON-able scalars,
        strings or 1D arrays).
    extras : tuple of Variable
        Further variables a system can write on request (e.g. distributions ``(v, x, y)``).
    weights : ndarray, optional
        The fraction of each cell inside the domain (a shape's volume fractions, on the spatial
        dims): ``Σ u · weights · cell_volume`` is then the integral, and cells of weight 0 are
        outside the domain (missing values in the output). None: every cell is whole.
    motion : Motion, optional
        How the cells move on a domain that changes with time (a growing domain): the
        coordinates above are then the cells' reference positions (at ``t = 0``), and
        ``motion`` gives their physical positions and volumes at time ``t`` (the output writes
        them with every frame). None: the cells stay where they are.
    weights_name, weights_long_name : str
        The output variable holding ``weights`` and its long name (a shape's
        ``volume_fraction``; a network's cell volumes ``cell_measure``).
    """

    fields: tuple[Variable, ...]
    coordinates: tuple[Coordinate, ...]
    space: tuple[str, ...]
    cell_volume: float
    attrs: Mapping[str, object] = field(default_factory=dict)
    extras: tuple[Variable, ...] = ()
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    motion: Motion | None = field(default=None, compare=False, repr=False)

    def cell_volume_at(self, t: float) -> float:
        """The volume of a cell at time ``t`` (``cell_volume`` unless the cells move)."""
        return self.cell_volume if self.motion is None else self.cell_volume * self.motion.volume_scale(t)

    weights_name: str = "volume_fraction"
    weights_long_name: str = "fraction of the cell inside the domain (0: outside, values missing)"
    #: the cell of a flat index in words, for failure reports, where its coordinates do not say
    #: it (a network: ``"edge B–C at s = 0.35"``; the arc length alone is ambiguous). None: none.
    place: Callable[[int], str] | None = field(default=None, compare=False, repr=False)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.fields)

    @property
    def space_shape(self) -> tuple[int, ...]:
        sizes = {c.name: len(c.values) for c in self.coordinates}
        return tuple(sizes[d] for d in self.space)

    def coordinate(self, name: str) -> Coordinate:
        for c in self.coordinates:
            if c.name == name:
                return c
        raise KeyError(name)

    def where(self, flat: int) -> str | None:
        """The cell with flat index ``flat`` in words (:attr:`place`), or None."""
        return None if self.place is None else self.place(flat)

    def location(self, flat: int) -> tuple[float, ...]:
        """Coordinates of the cell with flat (C-order) index ``flat`` in a field."""
        index = np.unravel_index(flat, self.space_shape)
        return tuple(float(self.coordinate(d).values[k]) for d, k in zip(self.space, index))


@dataclass
class Counters:
    """Work counters a system increments: right-hand-side evaluations and linear solves."""

    nfev: int = 0
    n_implicit_solves: int = 0
    n_krylov_solves: int = 0


@runtime_checkable
class SemiDiscrete(Protocol):
    """The semi-discrete system ``dU/dt = E(t, U) + L U`` with algebraic constraints.

    Attributes
    ----------
    layout : Layout
        Names, dimensions, coordinates and attributes of the variables.
    differential : ndarray of bool
        Per component: True if it evolves by a differential equation, False if it is algebraic
        (set by :meth:`constrain`; excluded from error norms and from ``L``).
    nonnegative : ndarray of bool
        Per component: True if it is a density that must stay ``>= 0``.
    positive : tuple of (int, str)
        Components that must stay ``> 0`` (e.g. the signal of a singular sensitivity ``1/v``),
        with the reason, used in failure reports.
    counters : Counters
        Work counters the system increments.

    Notes
    -----
    Optional capabilities, each a protocol of its own, read once per run (:class:`Capabilities`)
    when a stepper binds to the system (:meth:`~crossdiff.time.Stepper.bind`):

    * :class:`FiltersError`: ``filter_error(error, γΔt)``, the embedded error estimate filtered
      where it has stiff components (called by :class:`~crossdiff.time.IMEX` after each step);
    * :class:`HasJacobianSparsity`: ``jacobian_sparsity()``, the pattern of ``d rhs/dU``
      (:class:`~crossdiff.time.BDF`);
    * :class:`HasErrorComponents`: ``error_components``, the components whose error is
      controlled (:class:`~crossdiff.time.GSAIMEX`, :class:`~crossdiff.time.IController`);
    * :class:`ExplainsNegative`: ``explain_negative(t, U, rate)``, asked by the
      :class:`~crossdiff.time.Monitor` when steps keep producing negative densities;
    * :class:`TimeDependentImplicit`: ``implicit_at(t, U)``, ``solve_implicit_at(t, B, γΔt)``,
      an operator ``L(t)`` (the IMEX steppers pass each stage's time);
    * :class:`TimeDependentFields`: ``fields_at(t, U)``, fields that depend on time as well as
      on the state (the writers and the recorder).
    """

    @property
    def layout(self) -> Layout: ...

    @property
    def differential(self) -> np.ndarray: ...

    @property
    def nonnegative(self) -> np.ndarray: ...

    @property
    def positive(self) -> tuple[tuple[int, str], ...]: ...

    @property
    def counters(self) -> Counters: ...

    def prepare(self, t: float, U: np.ndarray) -> None:
        """Start of a step at ``(t, U)``: freeze state-dependent coefficients of ``L``."""
        ...

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``E(t, U)``, written into ``out`` (not ``U``) when given."""
        ...

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """``L U`` (zero for algebraic components)."""
        ...

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """The solution ``X`` of ``(I − γΔt L) X = B``, written into ``out`` (not ``B``) and
        returned when ``out`` is given (a stepper's work array: no fresh state-sized allocation,
        :class:`~crossdiff.time.GSAIMEX`), else a new array. Every system takes ``out``."""
        ...

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        """Impose the algebraic constraints on ``U`` in place (and return it)."""
        ...

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        """The whole right-hand side ``E(t, U) + L U``."""
        ...

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        """Largest stable step of the explicit part ``E`` with ``L`` implicit, at Courant number
        one (``inf`` if none); IMEX steppers multiply it by their Courant number."""
        ...

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        """Largest forward-Euler step keeping ``E + L`` stable and non-negative (``inf`` if none)."""
        ...

    def fields(self, U: np.ndarray) -> np.ndarray:
        """The fields of ``layout.fields`` at ``U``, shape ``(n_fields, *layout.space_shape)``:
        the densities, with field ``i`` the state's component ``i`` where ``i`` is below the
        number of components (a kinetic state has fewer fields than components; a computed
        flow appends its velocity, derived, after its components)."""
        ...

    def extras(self, U: np.ndarray) -> Mapping[str, np.ndarray]:
        """The layout's extra variables at ``U`` by name (e.g. distributions); empty if none."""
        ...

    def initial_state(self, frame: Mapping[str, np.ndarray], t: float = 0.0) -> np.ndarray:
        """A consistent state at time ``t`` from values of the layout's variables (fields, and
        extras where given): e.g. the algebraic components solved, or a kinetic equilibrium."""
        ...


# ----------------------------------------------------------------------------- optional capabilities
@runtime_checkable
class FiltersError(Protocol):
    """A system whose embedded error estimate must be filtered by ``(I − γΔt L)^{-1}`` where it
    has stiff components the estimate cannot measure (Hairer & Wanner 1996, §IV.8; the vorticity
    of :class:`crossdiff.flow.FlowSystem`). :class:`~crossdiff.time.IMEX` calls it after each step."""

    def filter_error(self, error: np.ndarray, gamma_dt: float) -> np.ndarray:
        """The filtered estimate (``error`` may be overwritten)."""
        ...


@runtime_checkable
class HasJacobianSparsity(Protocol):
    """A system that knows the sparsity pattern of ``d rhs/dU`` (the stencil's; finite volumes:
    :func:`crossdiff.fv.jacobian_sparsity`), for :class:`~crossdiff.time.BDF`'s Newton solves."""

    def jacobian_sparsity(self) -> Any:
        """The pattern, a SciPy sparse matrix of shape ``(U.size, U.size)``."""
        ...


@runtime_checkable
class HasErrorComponents(Protocol):
    """A system whose error control measures only some components (an asymptotic-preserving
    kinetic system: the densities, not the stiff micro part). Read by
    :class:`~crossdiff.time.GSAIMEX` (which then estimates the error of those components only) and
    by :class:`~crossdiff.time.IController`."""

    @property
    def error_components(self) -> np.ndarray:
        """Per component: True where the embedded error is controlled."""
        ...


@runtime_checkable
class ExplainsNegative(Protocol):
    """A system that can explain why steps keep producing negative densities (e.g. a kinetic
    system whose turning kernel is negative at its ε); the :class:`~crossdiff.time.Monitor` asks
    it before its own explanation."""

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        """A report, or None if it cannot tell (``rate = dU/dt`` at ``U``)."""
        ...


@runtime_checkable
class TimeDependentImplicit(Protocol):
    """A system whose stiff operator depends on time, ``L = L(t)`` (a growing domain: the
    diffusion scales like ``ℓ(t)^{-2}``). Steppers that know a stage's time call these instead
    of :meth:`~SemiDiscrete.implicit` and :meth:`~SemiDiscrete.solve_implicit` (which then
    mean the operator at the time of the last :meth:`~SemiDiscrete.prepare`)."""

    def implicit_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """``L(t) U``."""
        ...

    def solve_implicit_at(self, t: float, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """The solution ``X`` of ``(I − γΔt L(t)) X = B`` (into ``out`` when given)."""
        ...


@runtime_checkable
class TimeDependentFields(Protocol):
    """A system whose state maps to the observed fields by a time-dependent factor (a growing
    domain: the state is the mass per reference volume ``J(t) u``, conserved to round-off, the
    field the density ``u``). :meth:`~SemiDiscrete.fields` stays the state's own densities (what
    the :class:`~crossdiff.time.Monitor` checks: non-negative, finite, conserved); the writers and
    the recorder write ``fields_at``."""

    def fields_at(self, t: float, U: np.ndarray) -> np.ndarray:
        """The fields of ``layout.fields`` at time ``t``."""
        ...


class Motion(Protocol):
    """How the cells of a domain that changes with time move (:attr:`Layout.motion`)."""

    def centres(self, t: float) -> tuple[np.ndarray, ...]:
        """Per axis, the physical cell centres at time ``t``."""
        ...

    def lengths(self, t: float) -> np.ndarray:
        """Per axis, the physical length of the domain at time ``t``."""
        ...

    def volume_scale(self, t: float) -> float:
        """The volume of a cell at time ``t`` over its volume at ``t = 0``."""
        ...


def field_map(system: SemiDiscrete, capabilities: Capabilities | None = None) -> Any:
    """The map ``(t, U) -> fields`` of ``system`` (its ``fields_at``, else ``fields(U)``), looked
    up once (writers and recorders bind it when a run starts)."""
    caps = capabilities if capabilities is not None else Capabilities.of(system)
    if caps.fields_at:
        return system.fields_at  # type: ignore[attr-defined]
    return lambda t, U: system.fields(U)


@dataclass(frozen=True)
class Capabilities:
    """Which optional capabilities a system offers, read once (:meth:`of`) when a stepper binds."""

    filter_error: bool = False
    jacobian_sparsity: bool = False
    error_components: bool = False
    explain_negative: bool = False
    implicit_at: bool = False
    fields_at: bool = False

    @classmethod
    def of(cls, system: object) -> Capabilities:
        """The capabilities of ``system``: each protocol's member present and not None."""
        return cls(
            filter_error=_offers(system, "filter_error"),
            jacobian_sparsity=_offers(system, "jacobian_sparsity"),
            error_components=_offers(system, "error_components"),
            explain_negative=callable(getattr(system, "explain_negative", None)),
            implicit_at=_offers(system, "solve_implicit_at"),
            fields_at=_offers(system, "fields_at"),
        )


def _offers(system: object, name: str) -> bool:
    """Whether ``system`` has the member ``name`` (a member set to None offers nothing)."""
    return getattr(system, name, None) is not None
