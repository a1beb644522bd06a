r"""The asymptotic-preserving micro–macro discretisation of the kinetic model (``docs/kinetic.md``).

The kinetic equation of species ``i`` (paper (9)-(10)),

.. math::

    \varepsilon\,\partial_t f_i + v\cdot\nabla_x f_i
        = \varepsilon^{-p_i}\big(\mathcal T_i^0 + \varepsilon^{b_i}\mathcal T_i^1[f]\big)(f_i)
          + \varepsilon\, G_i(f, v),

is written in the micro–macro form of Lemou & Mieussens (SIAM J. Sci. Comput. 31, 2008),
extended to chemotaxis by Carrillo & Yan (Multiscale Model. Simul. 11, 2013): ``f_i = M_i ρ_i
+ ε g_i`` with ``ρ_i = ∫ f_i dv`` and ``∫ g_i dv = 0``, ``Π h = M ∫ h dv``,

.. math::

    \partial_t \rho + \nabla\cdot\langle v g\rangle &= \langle G\rangle, \\
    \partial_t g &= -\tfrac1\varepsilon (I-\Pi)(v\cdot\nabla g)
        + \tfrac1\varepsilon (I-\Pi) G + \varepsilon^{b-p-1}\mathcal T^1 g
        + \varepsilon^{-p-1}\Big[\mathcal T^0 g - \varepsilon^{p-1} v\cdot\nabla(M\rho)
        + \varepsilon^{b-1}\rho\,\mathcal T^1 M\Big].

Space: densities at cell centres, the micro part at the faces of each axis (one copy ``g^a``
per axis, on the faces normal to it: a staggered grid, so that ``∇·⟨v g⟩`` of
``g ≈ (𝒯^0)^{-1} v·∇(Mρ)`` is the compact Laplacian). The transport of ``g`` is the limited
upwind divergence of the finite volumes (:func:`crossdiff.fv.upwind_transport`); the density in
the bias flux is the limited upwind reconstruction (:func:`crossdiff.fv.limited_slopes`) with
the direction of the bias drift, as the taxis flux of the macroscopic solver.

Time: the bracket (stiff, ``ε^{-p-1}``) and a penalisation ``μΔρ`` (Boscarino, Pareschi &
Russo, SIAM J. Sci. Comput. 35 (2013) A22–A51) are implicit, the rest explicit, with the
globally stiffly accurate ARS(4,4,3) (:class:`crossdiff.time.GSAIMEX`). The implicit part is
block triangular: each stage solves ``(I − γΔt μΔ) ρ = B_ρ`` spectrally
(:class:`crossdiff.fv.SpectralLaplacian`), then the micro part pointwise given those densities
(rates and bias evaluated at them). As ``ε → 0`` the micro part becomes
``g = −(𝒯^0)^{-1}[v·∇(Mρ) − ρ 𝒯^1 M]`` at every stage, ``−∇·⟨vg⟩`` the macroscopic diffusion
and taxis, and with ``μ = D`` the explicit ``−∇·⟨vg⟩ − μΔρ`` keeps only the taxis: the limit
scheme is the IMEX scheme of the derived model with diffusion implicit.

No-flux walls are specular reflection ``f(x_wall, v) = f(x_wall, v − 2(v·n)n)`` on the
physical domain: the densities see reflected ghost cells (no flux; the implicit solve is the
DCT no-flux solve of :class:`crossdiff.fv.SpectralLaplacian`), the micro part has unknowns on
the wall faces, its transport takes the reflected velocity's value of the mirror point as the
inflow ghost (:class:`crossdiff.fv.BoundaryKind` ``INFLOW``), and the density flux
``⟨v·n g⟩`` through a wall is zero, so the mass is conserved to round-off. This is the scheme on
the doubled periodic domain of the even reflection (``x → −x, v → R v``) up to the wall cells'
own slopes (zero here), at half (1D) to an eighth (3D) of its cost.

The parts, one module each: the state on the staggered grid and its centre/face operations
(:mod:`._staggered`), kinetic expressions and turning operators at every point
(:mod:`._pointwise`), the species' operators at the faces (:mod:`._face_operators`), the
transport of the micro part (:mod:`._transport`), the explicit part (:mod:`._explicit`), the
implicit part and its stage solve (:mod:`._implicit`), the step limits (:mod:`._limits`); the
compiled per-point loops are :mod:`._kernels`. :class:`KineticDiscretisation` composes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..errors import InputError, KineticModelError
from ..fv import DEFAULT_LIMITER, SpectralLaplacian
from ..grid import Grid
from ..time import Coordinate, Counters, FailureReport, Layout, Variable
from . import symbols as S
from ._explicit import explicit_part
from ._face_operators import FaceOperators
from ._implicit import implicit_part, implicit_transport_step_limit, stage_solve
from ._limits import explain_negative, explicit_step_limit, imex_step_limit
from ._model import KineticModel
from ._nodal import NodalModel
from ._staggered import StaggeredGrid
from ._transport import ImplicitTransport, MicroTransport
from ._velocity import Sphere

__all__ = ["KineticDiscretisation", "DEFAULT_DIRECTIONS", "check_eps"]


#: The band of ``λ/a`` (relaxation rate over micro transport rate, ``σh/(εc)`` for ``p = 1``) in
#: which the micro transport is implicit (:func:`implicit_transport_species`): below 0.4 the
#: implicit scheme has unstable steps of 10-30 εh/c (measured on the telegraph model, docs/kinetic.md
#: "The ε ≈ h band"), from 5 on the regime is diffusive and the explicit transport is no bound
BAND = (0.4, 5.0)

#: The largest velocities × (doubled) domain points of one Fourier solve of the implicit transport
#: (:func:`implicit_transport_species`): above it (e.g. 256² × 32 with walls, 8.4M: 13 s a step on
#: one thread against 1.3 s with the transport explicit, same machine and load) its FFTs cost more than the steps save
SOLVE_POINTS = 2**21

#: Default number of velocity directions on the circle (d = 2) and of polar nodes (d = 3) on the
#: sphere (every velocity space's own default: ``space.default_resolution``).
DEFAULT_DIRECTIONS = {d: Sphere(d).default_resolution for d in (1, 2, 3)}


def check_eps(eps: object, model: KineticModel | None = None) -> float:
    """``ε`` as a float in ``(0, 1]``, or a one-line :class:`InputError` (a string is refused, as
    for every other number of a run); with ``model``, also an ``ε`` so small that the scheme's
    ``ε^{-(p+1)}`` (the stiff relaxation of (9)) overflows — it would surface as a non-finite
    right-hand side blamed on the model."""
    if isinstance(eps, (str, bytes)):
        raise InputError(f"eps must be a number in (0, 1], got {eps!r}")
    try:
        value = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"eps must be a number in (0, 1], got {eps!r}") from None
    if isinstance(eps, bool) or not (0 < value <= 1):
        raise InputError(f"eps must be in (0, 1], got {eps!r}")
    if model is not None:
        worst = max(int(s.p) for s in model.species) + 1
        if value**worst < 1e-300:
            raise InputError(
                f"eps = {value:g} is so small that eps^-{worst} overflows; "
                f"the smallest eps this model runs at is about {1e-300 ** (1 / worst):.0e}"
            )
    return value


def nodal_equilibria(
    model: KineticModel, velocities: int | None, values: Mapping[str, float] | None
) -> tuple[NodalModel, np.ndarray, int]:
    """The model on its velocity nodes (``velocities``: the quadrature's resolution, default the
    velocity space's) and the equilibria ``M`` per species, ``(n_species, m)``, checked to integrate
    to 1 with no mean velocity (the limit needs ``∫vM = 0``), and the resolution; one-line errors
    otherwise."""
    if velocities is not None and (
        isinstance(velocities, bool) or not isinstance(velocities, (int, np.integer)) or velocities < 2
    ):
        raise InputError(f"velocities must be an integer >= 2, got {velocities!r}")
    n = int(velocities) if velocities is not None else model.velocity.default_resolution
    nodal = NodalModel(model, n=n, values=values)
    nodes, w = nodal.nodes, nodal.weights
    M = np.array([nodal.equilibria[s] for s in model.species_names])
    for i, s in enumerate(model.species_names):
        mass = float(w @ M[i])
        if abs(mass - 1) > 1e-10:
            raise KineticModelError(f"species {s!r}: the equilibrium integrates to {mass:.6g} on the nodes, not 1")
        flux = w @ (nodes * M[i][:, None])
        if np.max(np.abs(flux)) > 1e-10 * max(1.0, float(np.max(np.abs(nodes)))):
            raise KineticModelError(f"species {s!r}: the equilibrium has a mean velocity; the limit needs ∫vM = 0")
    return nodal, M, n


def implicit_transport_species(ops: FaceOperators, eps: float) -> tuple[bool, ...]:
    """Which species get their micro transport implicit (``docs/kinetic.md``, "The ε ≈ h band"),
    by the local ratio of the relaxation rate ``λ = σ/ε^{p+1}`` to the micro transport rate
    ``a = Σ_b max|v_b|/(ε h_b)`` (``λ/a = σh/(εc)`` for ``p = 1``): all of them when every
    species relaxes with a constant rate ``σ`` (the stage solve is then diagonal in Fourier
    modes), no species is below :data:`BAND` ``[0]`` (the kinetic regime at this resolution,
    ``ε ≳ 2.5 σh/c``, where the explicit limited transport resolves the O(1) micro transport
    with the steps ``εh/c`` that its accuracy needs anyway, and where the implicit one has
    measured instabilities) and some species is below :data:`BAND` ``[1]`` (outside the
    diffusive regime: where the explicit transport's CFL ``εh/c`` bounds the step,
    :func:`~._limits.imex_step_limit`); none otherwise, and the scheme is the one with the
    transport explicit. Only where the Fourier solve is small: at most :data:`SOLVE_POINTS`
    velocities × points of the (doubled) domain per species and axis, and in 1D and 2D, where its
    stability and accuracy were measured (in 3D with walls an 8³ run at ε = 0.1 differed from the
    explicit transport by 4.5 % of the amplitude, unexplained: 3D keeps the explicit transport)."""
    if ops.dim > 2:
        return (False,) * ops.n_species
    nodes = ops.nodal.nodes
    rates = ops.constant_rate
    st = ops.staggered
    doubled = ops.m * math.prod(n * (2 if wall else 1) for n, wall in zip(st.grid.cells, st.walls))
    if doubled > SOLVE_POINTS or any(r is None or r <= 0 for r in rates):
        return (False,) * ops.n_species
    a_rate = sum(float(np.max(np.abs(nodes[:, b]))) / (eps * ops.h[b]) for b in range(ops.dim))
    ratios = [float(rates[i]) / eps ** (ops.p[i] + 1.0) / a_rate for i in range(ops.n_species)]  # type: ignore[arg-type]
    band = bool(BAND[0] <= min(ratios) < BAND[1])
    return (band,) * ops.n_species


class KineticDiscretisation:
    """The kinetic model on a grid and a velocity quadrature: a :class:`crossdiff.time.SemiDiscrete`.

    Parameters
    ----------
    model : KineticModel
    grid : Grid
        Periodic or no-flux (specular walls) axes; dimension = velocity dimension.
    eps : float
        ``ε ∈ (0, 1]``.
    velocities : int, optional
        The resolution ``n`` of the velocity quadrature (``model.velocity.quadrature(n)``;
        default ``model.velocity.default_resolution``): directions on the circle (d = 2,
        default 16; must be even with walls), polar nodes on the sphere (d = 3, ``2n²`` nodes,
        default 6), the same directions times ``⌊n/2⌋ + 1`` radii on a ball, Gauss–Hermite
        nodes per axis on ``R^d``; ignored on a discrete velocity set.
    limiter : str
        Slope limiter of the reconstructions.
    values : mapping, optional
        Parameter values replacing the model's.

    Notes
    -----
    State ``U``: ``(n_species (1 + d m), *shape)`` with ``shape`` the cells, plus one slot
    along every wall axis; components ``0 … n_species − 1`` are the densities ``ρ_i`` at the cell
    centres (``[:n]`` along a wall axis, the extra slot a copy of the wall cell), component ``n_species + (i d + a) m + k`` is
    ``g_i^a(v_k)`` at face ``j`` of axis ``a``, between cells ``j − 1`` and ``j`` (the periodic
    convention of :mod:`crossdiff.fv`; with walls faces ``0 … n``, the walls ``0`` and ``n``).
    The unused slots of the micro parts stay zero.
    """

    def __init__(
        self,
        model: KineticModel,
        grid: Grid,
        eps: float,
        velocities: int | None = None,
        limiter: str = DEFAULT_LIMITER,
        values: Mapping[str, float] | None = None,
    ):
        if not isinstance(model, KineticModel):
            raise InputError(f"model must be a KineticModel, got {type(model).__name__}")
        if not isinstance(grid, Grid):
            raise InputError(f"grid must be a crossdiff Grid, got {type(grid).__name__}")
        self.eps = check_eps(eps, model)
        d = model.dim
        if grid.ndim != d:
            raise InputError(f"the kinetic model has velocity dimension {d}; the grid has {grid.ndim} axes")
        self.model, self.grid, self.limiter = model, grid, limiter
        self.nodal, self.M, self.velocities = nodal_equilibria(model, velocities, values)  # M: (ns, m)
        nodes, w = self.nodal.nodes, self.nodal.weights
        self.m = m = len(w)
        self.dim = d
        names = model.species_names
        self.n_species = ns = len(names)
        self.staggered = StaggeredGrid(grid, ns, self.nodal)
        self.walls, self.reflect = self.staggered.walls, self.staggered.reflect
        self.shape, self.h = self.staggered.shape, self.staggered.h
        self.spectral = SpectralLaplacian(grid)
        #: the species' turning operators, forcing and interactions at the faces
        self.operators = FaceOperators(model, self.nodal, self.staggered, self.eps, self.M, limiter)
        self.p, self.b = self.operators.p, self.operators.b
        self.transport = MicroTransport(self.staggered, nodes, limiter)
        #: species whose micro transport is implicit (:func:`implicit_transport_species`)
        self.implicit_transport = implicit_transport_species(self.operators, self.eps)
        self._implicit = ImplicitTransport(self.staggered, nodes, w) if any(self.implicit_transport) else None
        self._layout = self._make_layout()
        n_components = ns * (1 + d * m)
        self.differential = np.ones(n_components, dtype=bool)
        #: the densities are non-negative components (the loop clips round-off and rejects steps
        #: that make them negative, as for the macroscopic solver); the micro parts are signed
        self.nonnegative = np.arange(n_components) < ns
        #: the components whose embedded error the stepper controls (:class:`crossdiff.time.GSAIMEX`)
        self.error_components = self.nonnegative.copy()
        self.positive: tuple[tuple[int, str], ...] = ()
        self.counters = Counters()
        self._mu = np.zeros(ns)

    # ------------------------------------------------------------------ layout
    def _make_layout(self) -> Layout:
        g = self.grid
        coords = [Coordinate(ax, c, f"{ax} (cell centre)", {"units": "1"}) for ax, c in zip(g.axes, g.coordinates)]
        nodes = self.nodal.nodes
        v_attrs: dict[str, object] = {"weights": self.nodal.weights.copy()}
        for a in range(self.dim):
            v_attrs[f"v{S.AXES[a]}"] = nodes[:, a].copy()
        if self.dim == 1:
            v_values, v_long = nodes[:, 0].copy(), "velocity"
        elif self.dim == 2 and isinstance(self.model.velocity, Sphere):
            v_values, v_long = np.arctan2(nodes[:, 1], nodes[:, 0]), "velocity direction (angle; components vx, vy)"
        else:
            components = ", ".join(f"v{ax}" for ax in S.AXES[: self.dim])
            v_values, v_long = np.arange(self.m, dtype=float), f"velocity node (components {components})"
        coords.append(Coordinate("v", v_values, v_long, v_attrs))
        fields = tuple(
            Variable(s.name, g.axes, s.long_name, {"description": f"density {s.name} = integral of f over v"})
            for s in self.model.species
        )
        extras = tuple(
            Variable(f"f_{s.name}", ("v", *g.axes), f"distribution of {s.long_name}", {}) for s in self.model.species
        )
        attrs = {
            "model": self.model.name,
            "scale": "kinetic",
            "eps": self.eps,
            "velocities": self.m,
            "walls": "specular reflection" if any(self.walls) else "periodic",
            **g.attributes(),
        }
        return Layout(fields, tuple(coords), g.axes, g.cell_volume, attrs, extras)

    @property
    def layout(self) -> Layout:
        return self._layout

    # ------------------------------------------------------------------ state
    def fields(self, U: np.ndarray) -> np.ndarray:
        return self.staggered.rho(U)

    def distributions(self, U: np.ndarray) -> np.ndarray:
        """``f_i(v_k)`` at the cell centres, ``(ns, m, *cells)``: ``M ρ + ε`` (mean over axes of
        the micro part averaged from the two faces)."""
        rho = self.staggered.rho(U)
        f = self.M.reshape(self.M.shape + (1,) * self.dim) * rho[:, None]
        micro = np.zeros_like(f)
        for a in range(self.dim):
            ga = self.staggered.g(U, a)
            if self.walls[a]:
                n = self.grid.cells[a]
                micro += 0.5 * (np.take(ga, range(n), axis=2 + a) + np.take(ga, range(1, n + 1), axis=2 + a))
            else:
                micro += 0.5 * (ga + np.roll(ga, -1, axis=2 + a))
        return f + (self.eps / self.dim) * micro

    def extras(self, U: np.ndarray) -> Mapping[str, np.ndarray]:
        f = self.distributions(U)
        return {f"f_{s}": np.ascontiguousarray(f[i]) for i, s in enumerate(self.model.species_names)}

    def initial_state(self, frame: Mapping[str, np.ndarray], t: float = 0.0) -> np.ndarray:
        """Well-prepared state ``f_i = M_i ρ_i`` (micro part zero) from the densities, or from the
        distributions ``f_<species>`` where the frame has them (then ``ρ_i = ∫ f_i dv`` and the
        micro part ``(f_i − M_i ρ_i)/ε`` averaged to the faces; at a wall its even part, the
        specular reflection)."""
        names = self.model.species_names
        shape = self.grid.shape
        rho = np.empty((self.n_species, *shape))
        for i, s in enumerate(names):
            if s not in frame:
                raise InputError(f"initial data: missing density {s!r}")
            rho[i] = np.broadcast_to(np.asarray(frame[s], dtype=float), shape)
        U = np.zeros((self.n_species * (1 + self.dim * self.m), *self.shape))
        given = [f"f_{s}" in frame for s in names]
        for i, s in enumerate(names):
            if not given[i]:
                continue
            f = np.asarray(frame[f"f_{s}"], dtype=float)
            if f.shape != (self.m, *shape):
                raise InputError(f"initial distribution f_{s} has shape {f.shape}, expected {(self.m, *shape)}")
            if not np.all(np.isfinite(f)):
                raise InputError(f"initial distribution f_{s} is not finite")
            rho[i] = (self.nodal.weights @ f.reshape(self.m, -1)).reshape(shape)
            micro = (f - self.M[i].reshape((self.m,) + (1,) * self.dim) * rho[i][None]) / self.eps
            for a in range(self.dim):
                face = self.staggered.face_mean(micro, a, lead=1)
                if self.walls[a]:
                    for j in (0, shape[a]):
                        index = (slice(None),) + (slice(None),) * a + (j,)
                        face[index] = 0.5 * (face[index] + face[index][self.reflect[a]])
                self.staggered.g(U, a)[i] = face
        self.staggered.set_rho(U, rho)
        return U

    def prepare(self, t: float, U: np.ndarray) -> None:
        """Penalisation ``μ_i``: the largest limit diffusion of species ``i`` (``p_i = 1``),
        weighted by ``exp(−ε²/h)`` (Boscarino, Pareschi & Russo 2013) so that it vanishes in the
        kinetic regime."""
        self._mu = self._penalisation(self.staggered.rho(U))

    def _penalisation(self, rho: np.ndarray) -> np.ndarray:
        weight = math.exp(-(self.eps**2) / min(self.h))
        # with the transport implicit the whole limit diffusion is implicit (docs/kinetic.md, "The ε ≈ h band")
        weights = [1.0 if implicit else weight for implicit in self.implicit_transport]
        return np.array(
            [weights[i] * self.operators.diffusion(i, rho) if self.p[i] == 1 else 0.0 for i in range(self.n_species)]
        )

    # ------------------------------------------------------------------ the SemiDiscrete parts
    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The explicit part (:func:`~._explicit.explicit_part`)."""
        self.counters.nfev += 1
        if out is None:
            out = np.zeros_like(U)
        # else a work array of the stepper: its unused slots are zero (as in every state of this system)
        return explicit_part(self.operators, self.transport, self._mu, U, out, self.implicit_transport)

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """The implicit part: ``μΔρ`` and ``ε^{−p−1}[𝒯^0 g + F(ρ)]`` (:func:`~._implicit.implicit_part`)."""
        return implicit_part(self.operators, self._mu, U, self._implicit, self.implicit_transport)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """``ρ = (I − γΔt μΔ)^{-1} B_ρ`` spectrally, then per face
        ``(ε^{p+1} I − γΔt 𝒯̃^0) g = ε^{p+1} B_g + γΔt F(ρ)`` (:func:`~._implicit.stage_solve`)."""
        self.counters.n_implicit_solves += 1
        if out is None:
            X = np.empty_like(B)
            self.staggered.zero_pads(X)
        else:  # a work array of the stepper: its unused slots are zero (as in every state of this system)
            X = out
        return stage_solve(
            self.operators, self.spectral, self._mu, B, gamma_dt, X, self._implicit, self.implicit_transport
        )

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        return U

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        return self.explicit(t, U) + self.implicit(U)

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        """Stability of the explicit part next to the implicit one (:func:`~._limits.imex_step_limit`;
        with the micro transport implicit :func:`~._implicit.implicit_transport_step_limit`)."""
        if any(self.implicit_transport):
            return implicit_transport_step_limit(self.operators, U)
        return imex_step_limit(self.operators, self._mu, U)

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        """Why steps keep making a density negative: a negative turning kernel ``T⁰ + ε^b T¹``
        (:func:`~._limits.explain_negative`), or None."""
        return explain_negative(self.operators, self.layout, t, U)

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        return explicit_step_limit(self.operators, U)

    def describe(self) -> str:
        return f"kinetic micro-macro AP scheme, eps = {self.eps:g}, {self.m} velocities, grid {self.grid.describe()}"
