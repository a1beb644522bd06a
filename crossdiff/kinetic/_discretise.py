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
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import sympy as sp
from numba import get_num_threads

from ..errors import InputError, KineticModelError
from ..fv import (
    DEFAULT_LIMITER,
    BoundaryKind,
    SpectralLaplacian,
    divergence,
    face_difference,
    face_mean,
    limited_slopes,
    upwind_transport,
)
from ..grid import Grid
from ..time import Coordinate, Counters, FailureReport, Layout, Status, Variable
from . import symbols as S
from ._kernels import face4, micro_explicit, relaxation_solve
from ._model import KineticModel
from ._nodal import NodalModel, turning_matrix
from ._operators import Relaxation

__all__ = ["KineticDiscretisation", "DEFAULT_DIRECTIONS", "check_eps"]

#: Default number of velocity directions on the circle (d = 2) and of polar nodes (d = 3).
DEFAULT_DIRECTIONS = {1: 2, 2: 16, 3: 6}


def check_eps(eps: object) -> float:
    """``ε`` as a float in ``(0, 1]``, or a one-line :class:`InputError`."""
    try:
        value = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"eps must be a number in (0, 1], got {eps!r}") from None
    if isinstance(eps, bool) or not (0 < value <= 1):
        raise InputError(f"eps must be in (0, 1], got {eps!r}")
    return value


def _reflection(nodes: np.ndarray, axis: int, weights: np.ndarray, m: Mapping[str, np.ndarray]) -> np.ndarray:
    """Index of the reflection ``v → v − 2 v_a e_a`` of every node, or a KineticModelError."""
    target = nodes.copy()
    target[:, axis] *= -1
    scale = max(1.0, float(np.max(np.abs(nodes))))
    out = np.empty(len(nodes), dtype=int)
    for k, p in enumerate(target):
        hit = np.flatnonzero(np.all(np.abs(nodes - p) <= 1e-9 * scale, axis=1))
        if hit.size != 1 or abs(weights[hit[0]] - weights[k]) > 1e-12 * weights[k]:
            raise KineticModelError(
                f"walls need a velocity set closed under reflection along axis {axis} (specular reflection); "
                f"{len(nodes)} velocities are not"
                + (" (use an even number of directions)" if nodes.shape[1] == 2 and len(nodes) % 2 else "")
            )
        out[k] = hit[0]
    for name, eq in m.items():
        if np.max(np.abs(eq[out] - eq)) > 1e-12 * np.max(np.abs(eq)):
            raise KineticModelError(f"walls need an equilibrium of {name!r} symmetric under reflection")
    return out


class _FieldFunction:
    """A kinetic expression of ``v``, ``v*``, the densities and their gradients, on arrays."""

    def __init__(self, nodal: NodalModel, expr: sp.Expr, species: str, what: str):
        model = nodal.model
        expr = nodal.numbers(model.expand(nodal.resolve(expr, species)))
        self.names = list(model.species_names)
        d = nodal.dim
        grads = [S.grad(n, a) for n in self.names for a in range(d)]
        eq = list(nodal.equilibria)
        self.args = [*nodal.v, *nodal.vs, *[S.m_symbol(s) for s in eq], *[S.ms_symbol(s) for s in eq]]
        self.args += [sp.Symbol(n) for n in self.names] + grads
        unknown = sorted(str(x) for x in expr.free_symbols - set(self.args))
        if unknown:
            raise KineticModelError(
                f"species {species!r}: the kinetic solver cannot evaluate {what} with {', '.join(unknown)}"
            )
        self.uses_state = bool(expr.free_symbols & set(self.args[2 * d + 2 * len(eq) :]))
        #: a kernel of v* only (``T(v, v*) = τ(v*)``, as every catalogue bias): applied in O(m)
        self.star_only = not expr.free_symbols & ({*nodal.v} | {S.m_symbol(s) for s in eq})
        self.uses_gradients = bool(expr.free_symbols & set(grads))
        self.func = sp.lambdify(self.args, expr, "numpy")
        self.nodal = nodal
        self.expr = expr
        #: for a kernel of ``v*`` only that is affine in ``v*``, ``τ(v*) = c_0 + c·v*`` (every bias
        #: of type (41)): the functions of the ``1 + d`` coefficients, evaluated on the faces
        #: only (never on faces × nodes); None otherwise
        self.affine: list | None = None
        if self.star_only:
            uniform = {
                S.ms_symbol(s): float(e[0]) for s, e in nodal.equilibria.items() if np.ptp(e) <= 1e-14 * abs(e[0])
            }
            linear = expr.xreplace(uniform)
            coefficients = [sp.diff(linear, x) for x in nodal.vs]
            star_symbols = set(nodal.vs) | {S.ms_symbol(s) for s in eq}
            if not any(c.free_symbols & star_symbols for c in coefficients):
                constant = linear.xreplace({x: 0 for x in nodal.vs})
                if not constant.free_symbols & star_symbols:
                    self.affine = [sp.lambdify(self.args, c, "numpy") for c in (constant, *coefficients)]

    def affine_fields(self, rho: np.ndarray, grads: np.ndarray | None) -> np.ndarray:
        """The coefficients ``(c_0, c_1, …, c_d)`` of an affine kernel of ``v*`` at the points of
        ``rho`` ``(n_species, *space)``: shape ``(1 + d, *space)``."""
        assert self.affine is not None
        d = self.nodal.dim
        space = rho.shape[1:]
        vals: list[object] = [0.0] * (2 * d + 2 * len(self.nodal.equilibria))
        vals += list(rho)
        for i in range(len(self.names)):
            for a in range(d):
                vals.append(grads[i, a] if grads is not None else 0.0)
        out = np.empty((1 + d, *space))
        with np.errstate(all="ignore"):
            for r, func in enumerate(self.affine):
                out[r] = func(*vals)
        return out

    def __call__(self, rho: np.ndarray, grads: np.ndarray | None, pair: bool, star: bool = False) -> np.ndarray:
        """Values on the nodes: ``(m, *space)``, or with ``pair`` ``(m, m, *space)`` (``[k, l] = (v_k, v*_l)``).

        ``rho``: ``(n_species, *space)``; ``grads``: ``(n_species, d, *space)`` or None.
        """
        nodal = self.nodal
        d, m = nodal.dim, nodal.size
        space = rho.shape[1:]
        pad = (1,) * len(space)
        pts = nodal.nodes
        if pair:
            vals = [pts[:, a].reshape((m, 1) + pad) for a in range(d)]
            vals += [pts[:, a].reshape((1, m) + pad) for a in range(d)]
            vals += [e.reshape((m, 1) + pad) for e in nodal.equilibria.values()]
            vals += [e.reshape((1, m) + pad) for e in nodal.equilibria.values()]
            lead: tuple[int, ...] = (1, 1)
            shape = (m, m) + space
        else:
            node_vals = [pts[:, a].reshape((m,) + pad) for a in range(d)]
            eq_vals = [e.reshape((m,) + pad) for e in nodal.equilibria.values()]
            zeros_v, zeros_m = [np.zeros((m,) + pad)] * d, [np.zeros((m,) + pad)] * len(nodal.equilibria)
            vals = zeros_v + node_vals + zeros_m + eq_vals if star else node_vals + zeros_v + eq_vals + zeros_m
            lead = (1,)
        vals += [r.reshape(lead + space) for r in rho]
        for i in range(len(self.names)):
            for a in range(d):
                vals.append(grads[i, a].reshape(lead + space) if grads is not None else np.zeros(lead + space))
        shape = ((m, m) if pair else (m,)) + space
        with np.errstate(all="ignore"):
            out = self.func(*vals)
        return np.broadcast_to(np.asarray(out, dtype=float), shape)


def _bias_size(A1: _Turning) -> int:
    """Points at which a turning operator is given."""
    values = A1.star if A1.star is not None else A1.matrix
    assert values is not None
    return int(np.prod(values.shape[1 if A1.star is not None else 2 :]))


def _star_matrix(A1: _Turning) -> np.ndarray:
    """The matrix ``(m, m, *space)`` of a kernel of ``v*`` only: off the diagonal ``w_l τ_l``."""
    tau = A1.star
    assert tau is not None
    m = tau.shape[0]
    out = np.broadcast_to((A1.w.reshape((m,) + (1,) * (tau.ndim - 1)) * tau)[None], (m,) + tau.shape).copy()
    idx = np.arange(m)
    out[idx, idx] -= float(A1.w.sum()) * tau
    return out


class _Turning:
    """A turning operator at every point: a matrix ``(m, m, *space)``, or for a kernel of ``v*``
    only, ``T(v, v*) = τ(v*)``, the values ``τ`` ``(m, *space)``, with
    ``(𝒯 g)_k = Σ_l w_l τ_l g_l − |V| τ_k g_k`` (:func:`crossdiff.kinetic.turning_matrix` of that
    kernel, applied in O(m) instead of O(m²)), or for such a kernel affine in ``v*`` only its
    coefficients ``(c_0, c)`` ``(1 + d, *space)`` (``τ_k = c_0 + c·v_k``; the values are formed
    only on request)."""

    def __init__(
        self,
        weights: np.ndarray,
        matrix: np.ndarray | None = None,
        star: np.ndarray | None = None,
        affine: np.ndarray | None = None,
        nodes: np.ndarray | None = None,
    ):
        self.w, self.matrix, self._star, self.affine, self.nodes = weights, matrix, star, affine, nodes

    @property
    def star(self) -> np.ndarray | None:
        """The values ``τ_k`` ``(m, *space)`` of a kernel of ``v*`` only (formed from the affine
        coefficients on first use), or None for a matrix."""
        if self._star is None and self.affine is not None:
            assert self.nodes is not None
            pad = (1,) * (self.affine.ndim - 1)
            tau = np.broadcast_to(self.affine[0], (len(self.w),) + self.affine.shape[1:]).copy()
            for b in range(self.nodes.shape[1]):
                tau += self.nodes[:, b].reshape((-1,) + pad) * self.affine[1 + b]
            self._star = tau
        return self._star

    def kernel_values(self) -> tuple[np.ndarray, bool] | None:
        """What :mod:`crossdiff.kinetic._kernels` takes: ``(C, affine)`` as 4D arrays, or None
        for a matrix."""
        if self.affine is not None:
            return face4(self.affine), True
        if self._star is not None:
            return face4(self._star), False
        return None

    def moment(self, u: np.ndarray) -> np.ndarray:
        """``Σ_k u_k τ_k`` at every point for a kernel of ``v*`` only (no array of nodes × points
        for an affine kernel)."""
        if self.affine is not None:
            assert self.nodes is not None
            out = float(u.sum()) * self.affine[0]
            for b in range(self.nodes.shape[1]):
                out = out + float(u @ self.nodes[:, b]) * self.affine[1 + b]
            return out
        tau = self.star
        assert tau is not None
        return np.einsum("k,k...->...", u, tau)

    def drift(self, M: np.ndarray, wv: np.ndarray) -> np.ndarray:
        """``Σ_k wv_k (𝒯 M)_k`` (with ``wv = w v_a``: the mean velocity ``⟨v_a 𝒯 M⟩``)."""
        if self.matrix is not None:
            return np.einsum("k,k...->...", wv, self.apply_vector(M))
        W = float(self.w.sum())
        return float(wv.sum()) * self.moment(self.w * M) - W * self.moment(wv * M)

    def apply(self, g: np.ndarray) -> np.ndarray:
        """``𝒯 g`` for ``g`` of shape ``(m, *space)``."""
        if self.matrix is not None:
            return np.einsum("kl...,l...->k...", self.matrix, g)
        tau = self.star
        assert tau is not None
        out = tau * g
        gain = np.einsum("k,k...->...", self.w, out)
        out *= -float(self.w.sum())
        out += gain[None]
        return out

    def apply_vector(self, v: np.ndarray) -> np.ndarray:
        """``𝒯 v`` for a vector ``v`` of shape ``(m,)`` (e.g. the equilibrium), shape ``(m, *space)``."""
        if self.matrix is not None:
            return np.einsum("kl...,l->k...", self.matrix, v)
        tau = self.star
        assert tau is not None
        vb = v.reshape((-1,) + (1,) * (tau.ndim - 1))
        return self.apply(np.broadcast_to(vb, tau.shape))


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
        Directions on the circle (d = 2, default 16; must be even with walls), polar nodes on
        the sphere (d = 3, ``2n²`` nodes, default 6); ignored on a discrete velocity set.
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
        self.eps = check_eps(eps)
        d = model.dim
        if grid.ndim != d:
            raise InputError(f"the kinetic model has velocity dimension {d}; the grid has {grid.ndim} axes")
        if velocities is not None and (
            isinstance(velocities, bool) or not isinstance(velocities, (int, np.integer)) or velocities < 2
        ):
            raise InputError(f"velocities must be an integer >= 2, got {velocities!r}")
        n = int(velocities) if velocities is not None else DEFAULT_DIRECTIONS[d]
        self.model, self.grid, self.limiter = model, grid, limiter
        self.nodal = NodalModel(model, n=n, values=values)
        self.velocities = n
        nodes, w = self.nodal.nodes, self.nodal.weights
        self.m = m = len(w)
        self.dim = d
        names = model.species_names
        self.n_species = ns = len(names)
        self.M = np.array([self.nodal.equilibria[s] for s in names])  # (ns, m)
        for i, s in enumerate(names):
            mass = float(w @ self.M[i])
            if abs(mass - 1) > 1e-10:
                raise KineticModelError(f"species {s!r}: the equilibrium integrates to {mass:.6g} on the nodes, not 1")
            flux = w @ (nodes * self.M[i][:, None])
            if np.max(np.abs(flux)) > 1e-10 * max(1.0, float(np.max(np.abs(nodes)))):
                raise KineticModelError(f"species {s!r}: the equilibrium has a mean velocity; the limit needs ∫vM = 0")
        # walls: specular reflection through reflected ghost values (no doubled domain). The
        # state is padded by one slot along every wall axis: the micro part ``g^a`` has the
        # ``n_a + 1`` faces ``0 … n_a`` of a wall axis (faces 0 and n_a are the walls); the
        # densities and the ``g^b`` of the other axes use the first ``n_a`` slots (the last is 0).
        self.walls = tuple(not p for p in grid.periodic)
        self.reflect = [
            _reflection(nodes, a, w, self.nodal.equilibria) if self.walls[a] else np.arange(m) for a in range(d)
        ]
        self.shape = tuple(c + 1 if wall else c for c, wall in zip(grid.cells, self.walls))
        self.h = grid.spacing
        self.spectral = SpectralLaplacian(grid)
        self._cells = tuple(slice(0, c) for c in grid.cells)
        self._face_slices = [
            tuple(slice(0, c + 1) if (b == a and self.walls[b]) else slice(0, c) for b, c in enumerate(grid.cells))
            for a in range(d)
        ]
        # species exponents and operators
        self.p = np.array([s.p for s in model.species])
        self.b = np.array([s.b for s in model.species])
        self._rate: list[_FieldFunction | None] = []
        self._kernel0: list[np.ndarray | None] = []
        self._kernel0_expr: list[_FieldFunction | None] = []
        for spec in model.species:
            if isinstance(spec.turning, Relaxation):
                rate = _FieldFunction(self.nodal, spec.turning.rate, spec.name, "the relaxation rate")
                if rate.uses_gradients:
                    raise KineticModelError(
                        f"species {spec.name!r}: a relaxation rate depending on gradients is not supported"
                    )
                self._rate.append(rate)
                self._kernel0.append(None)
                self._kernel0_expr.append(None)
            else:
                self._rate.append(None)
                if spec.turning.matrix is not None:
                    try:
                        table = np.array(
                            [[float(self.nodal.numbers(model.expand(x))) for x in row] for row in spec.turning.matrix]
                        )
                    except TypeError:
                        raise KineticModelError(
                            f"species {spec.name!r}: a turning matrix depending on the densities is not supported"
                        ) from None
                    self._kernel0.append(turning_matrix(table, w))
                    self._kernel0_expr.append(None)
                else:
                    f = _FieldFunction(self.nodal, spec.turning.expr, spec.name, "the turning kernel")
                    if f.uses_state:
                        self._kernel0.append(None)
                        self._kernel0_expr.append(f)
                    else:
                        zero = np.zeros((ns, 1))
                        self._kernel0.append(turning_matrix(f(zero, None, pair=True)[:, :, 0], w))
                        self._kernel0_expr.append(None)
        self._bias: list[_FieldFunction | None] = []
        for spec in model.species:
            if spec.bias is None:
                self._bias.append(None)
            elif spec.bias.kernel is None:
                raise KineticModelError(
                    f"species {spec.name!r}: the kinetic solver needs the bias as a kernel T1(v, v*), not as an operator"
                )
            else:
                self._bias.append(_FieldFunction(self.nodal, spec.bias.kernel, spec.name, "the bias kernel"))
        self._interaction = [
            None if s.interaction == 0 else _FieldFunction(self.nodal, s.interaction, s.name, "the interaction G")
            for s in model.species
        ]
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
        self._cache: dict[int, tuple[np.ndarray, tuple[np.ndarray, np.ndarray, list[_Turning | None]]]] = {}
        self._constant_rate = [
            None if r is None or r.uses_state else float(r(np.zeros((ns, 1)), None, pair=False).flat[0])
            for r in self._rate
        ]

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
        elif self.dim == 2:
            v_values, v_long = np.arctan2(nodes[:, 1], nodes[:, 0]), "velocity direction (angle; components vx, vy)"
        else:
            v_values, v_long = np.arange(self.m, dtype=float), "velocity node (components vx, vy, vz)"
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

    # ------------------------------------------------------------------ state helpers
    def _g(self, U: np.ndarray, a: int) -> np.ndarray:
        """The micro part ``g^a`` on the faces of axis ``a``: a view ``(ns, m, *faces)``."""
        ns = self.n_species
        return U[ns:].reshape(ns, self.dim, self.m, *U.shape[1:])[(slice(None), a, slice(None)) + self._face_slices[a]]

    def _rho(self, U: np.ndarray) -> np.ndarray:
        """The densities at the cell centres, ``(ns, *cells)`` (contiguous)."""
        return np.ascontiguousarray(U[(slice(None, self.n_species),) + self._cells])

    def _zero_pads(self, U: np.ndarray) -> None:
        """Zero the unused slots of the micro parts (along the wall axes other than their own)."""
        ns, d = self.n_species, self.dim
        micro = U[ns:].reshape(ns, d, self.m, *U.shape[1:])
        for a in range(d):
            for b in range(d):
                if b != a and self.walls[b]:
                    micro[(slice(None), a, slice(None)) + (slice(None),) * b + (self.grid.cells[b],)] = 0.0

    def _set_rho(self, U: np.ndarray, rho: np.ndarray) -> None:
        """Write densities (or their rates) into ``U``; the extra slot of a wall axis gets the
        wall cell's value (its reflected ghost), so that every stage sum, rate and error is the
        same extension of its densities and the error norms see no artificial zeros."""
        pad = [(0, 0)] + [(0, 1) if wall else (0, 0) for wall in self.walls]
        U[: self.n_species] = np.pad(rho, pad, mode="edge") if any(self.walls) else rho

    def _edge(self, x: np.ndarray, ax: int) -> np.ndarray:
        """``x`` with one reflected ghost cell at both ends of array axis ``ax`` (the even
        reflection of a cell-centred field at a wall: the ghost repeats the wall cell)."""
        return np.concatenate([np.take(x, [0], axis=ax), x, np.take(x, [-1], axis=ax)], axis=ax)

    def _face_mean(self, x: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """Mean of the two cells at every face of axis ``a`` (with walls: ``n + 1`` faces, the
        wall faces taking the wall cell's value)."""
        ax = lead + a
        return face_mean(self._edge(x, ax), ax, False) if self.walls[a] else face_mean(x, ax, True)

    def _face_difference(self, x: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """``x_right − x_left`` at every face of axis ``a`` (zero at walls)."""
        ax = lead + a
        return face_difference(self._edge(x, ax), ax, False) if self.walls[a] else face_difference(x, ax, True)

    def _centred(self, x: np.ndarray, b: int, lead: int = 1) -> np.ndarray:
        """Centred difference ``(x_{k+1} − x_{k−1}) / 2h`` along axis ``b`` (reflected at walls)."""
        ax = lead + b
        if self.walls[b]:
            e = self._edge(x, ax)
            n = x.shape[ax]
            return (np.take(e, range(2, n + 2), axis=ax) - np.take(e, range(n), axis=ax)) / (2 * self.h[b])
        return (np.roll(x, -1, axis=ax) - np.roll(x, 1, axis=ax)) / (2 * self.h[b])

    def _divergence(self, flux: np.ndarray, a: int, lead: int = 1) -> np.ndarray:
        """``(F_{k+1/2} − F_{k−1/2}) / h`` of face fluxes on axis ``a``; at walls only the
        interior faces count (no flux through a wall: mass conserved to round-off)."""
        ax = lead + a
        if self.walls[a]:
            n = flux.shape[ax] - 1
            return divergence(np.take(flux, range(1, n), axis=ax), ax, False, self.h[a])
        return divergence(flux, ax, True, self.h[a])

    def fields(self, U: np.ndarray) -> np.ndarray:
        return self._rho(U)

    def distributions(self, U: np.ndarray) -> np.ndarray:
        """``f_i(v_k)`` at the cell centres, ``(ns, m, *cells)``: ``M ρ + ε`` (mean over axes of
        the micro part averaged from the two faces)."""
        rho = self._rho(U)
        f = self.M.reshape(self.M.shape + (1,) * self.dim) * rho[:, None]
        micro = np.zeros_like(f)
        for a in range(self.dim):
            ga = self._g(U, a)
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
                face = self._face_mean(micro, a, lead=1)
                if self.walls[a]:
                    for j in (0, shape[a]):
                        index = (slice(None),) + (slice(None),) * a + (j,)
                        face[index] = 0.5 * (face[index] + face[index][self.reflect[a]])
                self._g(U, a)[i] = face
        self._set_rho(U, rho)
        return U

    # ------------------------------------------------------------------ local quantities
    def _gradients_at_faces(self, rho: np.ndarray, a: int) -> np.ndarray:
        """``∇ρ`` at the faces of axis ``a``: ``(ns, d, *faces)`` (compact along ``a``, averaged
        centred differences across; zero normal derivative at walls)."""
        faces = self._face_mean(rho, a)
        out = np.empty((rho.shape[0], self.dim, *faces.shape[1:]))
        for b in range(self.dim):
            if b == a:
                out[:, b] = self._face_difference(rho, a) / self.h[a]
            else:
                out[:, b] = self._face_mean(self._centred(rho, b), a)
        return out

    def _leading(self, i: int, rho_face: np.ndarray) -> np.ndarray | float | None:
        """The relaxation rate ``σ_i`` at the faces (array or float), or None for a kernel."""
        rate = self._rate[i]
        if rate is None:
            return None
        constant = self._constant_rate[i]
        if constant is not None:
            return constant
        value = rate(rho_face, None, pair=False)[0]
        return float(value.flat[0]) if not rate.uses_state else value

    def _matrix0(self, i: int, rho_face: np.ndarray) -> np.ndarray:
        """``𝒯_i^0`` as ``(m, m)`` or ``(m, m, *ext)``."""
        if self._kernel0[i] is not None:
            return self._kernel0[i]  # type: ignore[return-value]
        table = self._kernel0_expr[i](rho_face, None, pair=True)  # type: ignore[misc]
        w = self.nodal.weights
        wb = w.reshape((1, self.m) + (1,) * self.dim)
        diag = np.einsum("k,kl...->l...", w, table)
        out = table * wb
        idx = np.arange(self.m)
        out[idx, idx] -= diag
        return out

    def _bias_matrix(self, i: int, rho_face: np.ndarray, grads: np.ndarray) -> _Turning | None:
        """``𝒯_i^1`` at the faces (:func:`crossdiff.kinetic.turning_matrix` of the bias kernel)."""
        f = self._bias[i]
        if f is None:
            return None
        w = self.nodal.weights
        if f.affine is not None:
            return _Turning(w, affine=f.affine_fields(rho_face, grads), nodes=self.nodal.nodes)
        if f.star_only:
            return _Turning(w, star=np.asarray(f(rho_face, grads, pair=False, star=True)))
        table = f(rho_face, grads, pair=True)
        out = table * w.reshape((1, self.m) + (1,) * self.dim)
        diag = np.einsum("k,kl...->l...", w, table)
        idx = np.arange(self.m)
        out[idx, idx] -= diag
        return _Turning(w, matrix=out)

    def _faces(self, rho: np.ndarray, a: int) -> tuple[np.ndarray, np.ndarray, list[_Turning | None]]:
        """Face densities, gradients and bias matrices on axis ``a``, cached for the last
        densities (a stage's solve and its explicit part see the same ones)."""
        cached = self._cache.get(a)
        if cached is not None and cached[0].shape == rho.shape and np.array_equal(cached[0], rho):
            return cached[1]
        rho_face, grads = self._face_mean(rho, a), self._gradients_at_faces(rho, a)
        biases = [self._bias_matrix(i, rho_face, grads) for i in range(self.n_species)]
        value = (rho_face, grads, biases)
        self._cache[a] = (np.array(rho, copy=True), value)
        return value

    def _upwind_density(self, i: int, rho: np.ndarray, a: int, A1: _Turning) -> np.ndarray:
        """The density of species ``i`` at the faces of axis ``a`` reconstructed from the side the
        bias drift ``⟨v_a 𝒯^1 M⟩`` comes from (limited slopes, zero at wall cells): the upwind
        value of the macroscopic taxis flux."""
        drift = A1.drift(self.M[i], self.nodal.weights * self.nodal.nodes[:, a])
        slopes = limited_slopes(rho[i], a, not self.walls[a], self.limiter)  # 0 at wall cells
        east = rho[i] + 0.5 * slopes
        west = rho[i] - 0.5 * slopes
        if self.walls[a]:  # the reflected ghost's east value is the wall cell's west one
            left = np.concatenate([np.take(west, [0], axis=a), east], axis=a)
            right = np.concatenate([west, np.take(east, [-1], axis=a)], axis=a)
        else:
            left, right = np.roll(east, 1, axis=a), west  # from cell j−1 at face j
        return np.where(drift >= 0, left, right)

    def _gradient_coefficients(self, i: int) -> np.ndarray:
        """``−ε^{p−1} M_k v_k`` ``(m, d)``: the forcing ``−ε^{p−1} v·∇(Mρ)`` is ``coef @ ∇ρ``."""
        return -(self.eps ** (self.p[i] - 1)) * self.M[i][:, None] * self.nodal.nodes

    def _forcing_species(self, i: int, rho: np.ndarray, a: int) -> np.ndarray:
        """The stiff forcing ``F = −ε^{p−1} v·∇(Mρ) + ε^{b−1} ρ^{up} 𝒯^1 M`` of species ``i`` at
        the faces of axis ``a``, ``(m, *faces)`` (NumPy; the relaxation species of the stage
        solve use :func:`relaxation_solve`, which forms it face by face)."""
        _, grads, biases = self._faces(rho, a)
        out = np.tensordot(self._gradient_coefficients(i), grads[i], axes=1)
        A1 = biases[i]
        if A1 is not None:
            up = self._upwind_density(i, rho, a, A1)
            out += self.eps ** (self.b[i] - 1) * up[None] * A1.apply_vector(self.M[i])
        return out

    def prepare(self, t: float, U: np.ndarray) -> None:
        """Penalisation ``μ_i``: the largest limit diffusion of species ``i`` (``p_i = 1``),
        weighted by ``exp(−ε²/h)`` (Boscarino, Pareschi & Russo 2013) so that it vanishes in the
        kinetic regime."""
        self._mu = self._penalisation(self._rho(U))

    def _diffusion(self, i: int, rho: np.ndarray) -> float:
        """Largest limit diffusion ``D = ⟨v_a (−𝒯^0)^{-1} v_a M⟩`` of species ``i`` over the cells."""
        nodes, w = self.nodal.nodes, self.nodal.weights
        second = np.array([w @ (nodes[:, a] ** 2 * self.M[i]) for a in range(self.dim)])
        rate = self._leading(i, rho)
        if rate is not None:
            sigma = float(np.min(rate)) if isinstance(rate, np.ndarray) else rate
            return float(np.max(second)) / sigma if sigma > 0 else 0.0
        A0 = self._matrix0(i, rho)
        mats = [A0] if A0.ndim == 2 else [A0[(slice(None), slice(None), *j)] for j in np.ndindex(*A0.shape[2:])]
        best = 0.0
        for mat in mats[:: max(1, len(mats) // 64)]:
            pinv = np.linalg.pinv(mat)
            for a in range(self.dim):
                chi = pinv @ (nodes[:, a] * self.M[i])
                chi -= self.M[i] * (w @ chi)
                best = max(best, float(-(w @ (nodes[:, a] * chi))))
        return best

    def _penalisation(self, rho: np.ndarray) -> np.ndarray:
        weight = math.exp(-(self.eps**2) / min(self.h))
        return np.array([weight * self._diffusion(i, rho) if self.p[i] == 1 else 0.0 for i in range(self.n_species)])

    def _laplacian(self, rho: np.ndarray) -> np.ndarray:
        """The compact finite-volume Laplacian (no flux through walls), the operator of
        :class:`crossdiff.fv.SpectralLaplacian`."""
        out = np.zeros_like(rho)
        for a in range(self.dim):
            out += self._divergence(self._face_difference(rho, a) / self.h[a], a)
        return out

    def _mean_reaction(self, rho: np.ndarray) -> np.ndarray | None:
        """``⟨G_i⟩`` at the centres, ``(ns, *cells)``, one species at a time; None without G."""
        if all(f is None for f in self._interaction):
            return None
        out = np.zeros_like(rho)
        for i, f in enumerate(self._interaction):
            if f is not None:
                Gi = f(rho, None, pair=False)
                w = self.nodal.weights
                out[i] = float(w.sum()) * Gi[0] if Gi.strides[0] == 0 else np.einsum("k,k...->...", w, Gi)
        return out

    def explicit(self, t: float, U: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.counters.nfev += 1
        eps, d = self.eps, self.dim
        ns = self.n_species
        nodes, w = self.nodal.nodes, self.nodal.weights
        if out is None:
            out = np.zeros_like(U)
        # else a work array of the stepper: its unused slots are zero (as in every state of this system)
        rho = self._rho(U)
        # macro: −∇·⟨v g⟩ − μΔρ + ⟨G⟩ (the fluxes ⟨v_a g⟩ come from the micro part's kernel)
        drho = -self._mu.reshape((ns,) + (1,) * d) * self._laplacian(rho)
        G = self._mean_reaction(rho)
        if G is not None:
            drho += G
        # micro: −(1/ε)(I − Π)(v·∇g) + ε^{b−p−1} 𝒯^1 g + (1/ε)(I − Π) G
        no_tau = np.zeros((1, 1, 1, 1))
        for a in range(d):
            view = self._g(U, a)  # (ns, m, *faces of axis a)
            og = self._g(out, a)
            flux = np.empty((ns, *view.shape[2:]))
            self._transport(view, og, a)  # og = −v·∇g
            biases = self._faces(rho, a)[2] if any(f is not None for f in self._bias) else [None] * ns
            for i in range(ns):
                A1 = biases[i]
                values = A1.kernel_values() if A1 is not None else None
                factor = eps ** (self.b[i] - self.p[i] - 1)
                C, affine = values if values is not None else (no_tau, False)
                target = face4(og[i])
                micro_explicit(  # in place: (1/ε)(I − Π)(−v·∇g) + bias
                    target,
                    face4(view[i]),
                    target,
                    1.0 / eps,
                    factor if values is not None else 0.0,
                    C,
                    affine,
                    nodes,
                    self.M[i],
                    w,
                    w * nodes[:, a],
                    face4(flux[i], 0),
                    get_num_threads(),
                )
                if A1 is not None and values is None:  # a bias matrix
                    og[i] += factor * A1.apply(view[i])
            self._add_reaction(rho, a, og, 1.0 / eps)
            drho -= self._divergence(flux, a)
        self._set_rho(out, drho)
        return out

    def _add_reaction(self, rho: np.ndarray, a: int, out: np.ndarray, scale: float) -> None:
        """``out += scale (I − Π) G`` at the faces of axis ``a``, one species at a time."""
        if all(f is None for f in self._interaction):
            return
        state = self._face_mean(rho, a)
        w = self.nodal.weights
        for i, f in enumerate(self._interaction):
            if f is None:
                continue
            Gi = f(state, None, pair=False)
            if Gi.strides[0] == 0:  # G independent of v: (I − Π)G = (1 − M_k Σw) G, zero for uniform M
                coefficient = 1.0 - self.M[i] * float(w.sum())
                for kk in np.flatnonzero(np.abs(coefficient) > 1e-14):
                    out[i, kk] += (scale * coefficient[kk]) * Gi[0]
                continue
            Gi = np.array(Gi)
            mean = np.einsum("k,k...->...", w, Gi)
            for k in range(self.m):
                Gi[k] -= self.M[i, k] * mean
            Gi *= scale
            out[i] += Gi

    def _transport(self, g: np.ndarray, out: np.ndarray, a: int) -> None:
        """``out = −Σ_b ∂_b (v_b g^a)``: the limited upwind divergence along every axis
        (:func:`crossdiff.fv.upwind_transport`, one velocity at a time in cache: the micro part is
        read and written once per evaluation, not once per axis, and no state-sized copy of a
        wall axis's strided faces is made), for ``g^a`` ``(ns, m, *faces)`` (any strides;
        ``out`` likewise). At a wall the inflow values are :meth:`_inflow_ghosts`."""
        d = self.dim
        ghosts = [self._inflow_ghosts(g, a, b) for b in range(d)]
        kinds = tuple(BoundaryKind.INFLOW if wall else BoundaryKind.PERIODIC for wall in self.walls)
        for i in range(self.n_species):
            upwind_transport(
                g[i],
                self.nodal.nodes,
                tuple(self.h),
                out[i],
                limiter=self.limiter,
                boundary=kinds,
                ghosts=tuple(None if pair is None else (pair[0][i], pair[1][i]) for pair in ghosts),
            )

    def _inflow_ghosts(self, g: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The inflow values of ``g^a`` ``(ns, m, *faces)`` beyond the two walls of axis ``b``,
        each ``(ns, m, *faces without b)``; None for a periodic axis.

        Specular reflection ``g(x_wall, v) = g(x_wall, R_b v)``: across the faces of another
        axis (``b ≠ a``, cell positions along ``b``) the wall cell's value of the reflected
        velocity (:class:`crossdiff.fv.BoundaryKind` ``INFLOW``, the documented specular ghost);
        along the faces of ``a`` itself (``b = a``, points ``0 … n`` with the walls at ``0`` and
        ``n``) the reconstructed value of the mirror point (``−1 ↔ 1``, ``n + 1 ↔ n − 1``) with
        the reflected velocity, so that a wall point's ``g`` stays even in ``v_b``.
        """
        if not self.walls[b]:
            return None
        ax = 2 + b
        n = g.shape[ax]
        reflect = self.reflect[b]

        def point(k: int) -> np.ndarray:  # a view: np.take would copy all of a strided g first
            return g[(slice(None),) * ax + (k,)]

        def mirror(k: int) -> np.ndarray:  # g(R_b v) at point k along b
            return point(k)[:, reflect]

        # the ghost beyond each wall is the mirror of the point ``near`` (across: the wall cell;
        # along: the first point inside) with the reflected velocity; its value facing the wall
        # is reconstructed with its slope limited between its neighbours, the point beyond it and
        # the wall point itself, as on the doubled domain of the even reflection
        near_lo, near_hi = (1, n - 2) if b == a else (0, n - 1)
        ghosts = []
        for near, beyond, step in ((near_lo, 0, 1), (near_hi, n - 1, -1)):
            value = mirror(near)
            if n >= 3:
                triple = np.stack([point(beyond), value, mirror(near + step)])
                value = value - 0.5 * limited_slopes(triple, 0, False, self.limiter)[1]
            ghosts.append(np.ascontiguousarray(value))
        return ghosts[0], ghosts[1]

    def implicit(self, U: np.ndarray) -> np.ndarray:
        """The implicit part: ``μΔρ`` and ``ε^{−p−1}[𝒯^0 g + F(ρ)]`` (see the module docstring)."""
        eps, d = self.eps, self.dim
        out = np.zeros_like(U)
        rho = self._rho(U)
        self._set_rho(out, self._mu.reshape((-1,) + (1,) * d) * self._laplacian(rho))
        for a in range(d):
            rho_face = self._faces(rho, a)[0]
            g, res = self._g(U, a), self._g(out, a)
            for i in range(self.n_species):
                res[i] = self._apply0(i, rho_face, g[i]) + self._forcing_species(i, rho, a)
                res[i] *= eps ** (-self.p[i] - 1.0)
        return out

    def _apply0(self, i: int, rho_face: np.ndarray, g: np.ndarray) -> np.ndarray:
        rate = self._leading(i, rho_face)
        if rate is not None:
            return -rate * (
                g - self.M[i].reshape((self.m,) + (1,) * self.dim) * np.einsum("k,k...->...", self.nodal.weights, g)
            )
        A0 = self._matrix0(i, rho_face)
        return np.einsum("kl...,l...->k...", A0, g) if A0.ndim > 2 else np.tensordot(A0, g, axes=1)

    def solve_implicit(self, B: np.ndarray, gamma_dt: float, out: np.ndarray | None = None) -> np.ndarray:
        """``ρ = (I − γΔt μΔ)^{-1} B_ρ`` spectrally, then per face
        ``(ε^{p+1} I − γΔt 𝒯̃^0) g = ε^{p+1} B_g + γΔt F(ρ)``, with ``𝒯̃^0 = 𝒯^0 − κ M wᵀ``
        (the same on mean-free ``g``, invertible)."""
        self.counters.n_implicit_solves += 1
        eps, m, d = self.eps, self.m, self.dim
        if out is None:
            X = np.empty_like(B)
            self._zero_pads(X)
        else:  # a work array of the stepper: its unused slots are zero (as in every state of this system)
            X = out
        scales = np.repeat((gamma_dt * self._mu)[:, None], d, axis=1)
        rho = self.spectral.solve_diagonal(self._rho(B), scales)
        self._set_rho(X, rho)
        w, nodes = self.nodal.weights, self.nodal.nodes
        none3, none4 = np.zeros((1, 1, 1)), np.zeros((1, 1, 1, 1))
        for a in range(d):
            rho_face, grads, biases = self._faces(rho, a)
            Bg, Xg = self._g(B, a), self._g(X, a)
            for i in range(self.n_species):
                e = eps ** (self.p[i] + 1.0)
                rate = self._leading(i, rho_face)
                A1 = biases[i]
                values = A1.kernel_values() if A1 is not None else None
                if rate is not None and (A1 is None or values is not None):  # 𝒯̃^0 = −σ I, face by face
                    sigma = np.ascontiguousarray(np.broadcast_to(rate, rho_face.shape[1:]), dtype=float)
                    if A1 is not None and values is not None:
                        up, C, affine = self._upwind_density(i, rho, a, A1), values[0], values[1]
                        bias = eps ** (self.b[i] - 1)
                    else:
                        up, C, affine, bias = none3, none4, False, 0.0
                    relaxation_solve(
                        face4(Bg[i]),
                        face4(Xg[i]),
                        e,
                        gamma_dt,
                        face4(sigma, 0),
                        self._gradient_coefficients(i),
                        face4(grads[i]),
                        bias,
                        face4(up, 0),
                        C,
                        affine,
                        nodes,
                        self.M[i],
                        w,
                        get_num_threads(),
                    )
                    continue
                rhs = self._forcing_species(i, rho, a)
                rhs *= gamma_dt
                rhs += e * Bg[i]
                if rate is not None:
                    rhs /= e + gamma_dt * rate
                    Xg[i] = rhs
                    continue
                A0 = self._matrix0(i, rho_face)
                kappa = float(np.max(np.abs(A0)))
                deflate = kappa * np.outer(self.M[i], w)
                if A0.ndim == 2:
                    mat = e * np.eye(m) - gamma_dt * (A0 - deflate)
                    sol = np.linalg.solve(mat, rhs.reshape(m, -1))
                else:
                    mats = e * np.eye(m)[..., None] - gamma_dt * (A0.reshape(m, m, -1) - deflate[..., None])
                    sol = np.linalg.solve(np.moveaxis(mats, -1, 0), np.moveaxis(rhs.reshape(m, -1), -1, 0)[..., None])
                    sol = np.moveaxis(sol[..., 0], 0, -1)
                Xg[i] = sol.reshape((m,) + rhs.shape[1:])
        return X

    def constrain(self, t: float, U: np.ndarray) -> np.ndarray:
        return U

    def rhs(self, t: float, U: np.ndarray) -> np.ndarray:
        return self.explicit(t, U) + self.implicit(U)

    def imex_step_limit(self, t: float, U: np.ndarray) -> float:
        """Stability of the explicit part next to the implicit one (docs/kinetic.md, "Step").

        Per species, with the micro transport rate ``a = Σ_b max|v_b| / (ε h_b)``, the relaxation
        rate ``λ = σ/ε^{p+1}`` and the limit diffusion ``D``: where the relaxation dominates
        (``λ ≥ 5a``, the diffusive regime) only the explicit remainder ``(D − μ)Δ`` of the
        penalised diffusion bounds the step, ``h²/(2d(D − μ))`` (infinite as ε → 0, where
        ``μ → D``); otherwise ``max(1/a, 0.8 h²/(d D))`` (the transport CFL of the kinetic regime,
        the parabolic bound of the intermediate one). The constants are those of the measured
        amplification factors of ARS(4,4,3) on the two-velocity model (docs/kinetic.md). In the
        limit also the bias drift ``ε^{b−1}|⟨v 𝒯^1 M⟩|/σ`` (the taxis CFL of the macroscopic
        solver).
        """
        eps, d = self.eps, self.dim
        nodes = self.nodal.nodes
        rho = self._rho(U)
        a_rate = sum(float(np.max(np.abs(nodes[:, b]))) / (eps * self.h[b]) for b in range(d))
        h2 = min(self.h) ** 2
        limit = math.inf
        for i in range(self.n_species):
            lam = self._gap(i, rho) / eps ** (self.p[i] + 1.0)
            diffusion = self._diffusion(i, rho) if self.p[i] == 1 else 0.0
            if lam >= 5 * a_rate:
                excess = diffusion - self._mu[i]
                if excess > 0:
                    limit = min(limit, h2 / (2 * d * excess))
            else:
                limit = min(limit, max(1.0 / a_rate, 0.8 * h2 / (d * diffusion) if diffusion > 0 else 0.0))
            if self._bias[i] is not None:
                sigma = self._gap(i, rho)
                for a in range(d):
                    A1 = self._faces(rho, a)[2][i]
                    if A1 is None:
                        continue
                    drift = np.abs(A1.drift(self.M[i], self.nodal.weights * nodes[:, a]))
                    speed = float(np.max(drift)) * eps ** (self.b[i] - 1) / sigma if sigma > 0 else 0.0
                    if speed > 0:
                        limit = min(limit, self.h[a] / (d * speed))
        return limit

    def _gap(self, i: int, rho: np.ndarray) -> float:
        """The smallest relaxation rate of ``𝒯_i^0`` (``σ``, or the spectral gap of the matrix)."""
        rate = self._leading(i, self._face_mean(rho, 0))
        if rate is not None:
            return float(np.min(rate))
        A0 = self._matrix0(i, rho)
        mat = A0 if A0.ndim == 2 else A0.reshape(self.m, self.m, -1)[:, :, 0]
        ev = np.sort(np.abs(np.linalg.eigvals(mat).real))
        return float(ev[1]) if len(ev) > 1 else float(ev[0])

    def explain_negative(self, t: float, U: np.ndarray, rate: np.ndarray) -> FailureReport | None:
        """Why steps keep making a density negative, when the kinetic model itself does not keep
        ``f ≥ 0``: the turning kernel ``T = T⁰ + ε^b T¹`` (the rate of turning from ``v*`` to ``v``)
        must be non-negative, and a bias stronger than the relaxation makes it negative at large ε
        (for relaxation ``T⁰ = σ M(v)`` and a bias ``T¹ = τ(v*)``: ``σ min M + ε^b min τ < 0``).
        Then a NEGATIVE report naming the species, the place and the largest ε that keeps the
        kernel non-negative at the current state; None if every kernel is non-negative (the
        :class:`crossdiff.time.Monitor`'s own explanation follows)."""
        rho = self._rho(U)
        eps = self.eps
        for i, name in enumerate(self.model.species_names):
            if self._bias[i] is None:
                continue
            worst: tuple[float, int | None, float | None] = (0.0, None, None)  # (kernel, cell, largest eps)
            for a in range(self.dim):
                rho_face, _, biases = self._faces(rho, a)
                A1 = biases[i]
                if A1 is None:
                    continue
                sigma = self._leading(i, rho_face)
                eb = eps ** self.b[i]
                if sigma is not None and A1.star is not None:
                    gain = np.broadcast_to(np.asarray(sigma, dtype=float) * float(np.min(self.M[i])), A1.star.shape[1:])
                    bias = np.min(A1.star, axis=0)
                else:  # the off-diagonal entries of the turning matrices (the weights are > 0)
                    m = self.m
                    if m * m * _bias_size(A1) > 5e7:
                        continue
                    A0 = self._matrix0(i, rho_face) if sigma is None else None
                    off = ~np.eye(m, dtype=bool)
                    A1m = A1.matrix if A1.matrix is not None else _star_matrix(A1)
                    if A0 is None:
                        A0 = (
                            np.asarray(sigma, dtype=float)
                            * np.einsum("k,l->kl", self.M[i], self.nodal.weights)[(...,) + (None,) * self.dim]
                        )
                    A0 = np.broadcast_to(A0 if A0.ndim > 2 else A0[(...,) + (None,) * self.dim], A1m.shape)
                    total = (A0 + eb * A1m)[off]
                    k = np.argmin(total, axis=0)
                    gain = np.take_along_axis(A0[off], k[None], 0)[0]
                    bias = np.take_along_axis(A1m[off], k[None], 0)[0]
                kernel = gain + eb * bias
                face = int(np.argmin(kernel))
                value = float(kernel.ravel()[face])
                if value < worst[0]:
                    b = self.b[i]
                    g0, b0 = float(gain.ravel()[face]), float(bias.ravel()[face])
                    limit = (g0 / -b0) ** (1.0 / b) if b > 0 and g0 > 0 and b0 < 0 else None
                    index = [int(j) for j in np.unravel_index(face, kernel.shape)]
                    index[a] = min(index[a], self.grid.cells[a] - 1)
                    worst = (value, int(np.ravel_multi_index(tuple(index), self.grid.shape)), limit)
            value, flat, limit = worst
            if flat is not None:
                hint = f"use eps below {limit:.3g} (at the current state)" if limit else "use a smaller eps"
                return FailureReport(
                    Status.NEGATIVE,
                    t,
                    name,
                    self.layout.location(flat),
                    float(rho[i].ravel()[flat]),
                    f"the turning rate of {name} is negative (kernel T0 + eps^b T1 = {value:.3g}): its bias exceeds "
                    f"the relaxation at eps = {eps:g}, so the kinetic model does not keep f >= 0; {hint}",
                )
        return None

    def explicit_step_limit(self, t: float, U: np.ndarray) -> float:
        eps = self.eps
        rate = sum(float(np.max(np.abs(self.nodal.nodes[:, b]))) / (eps * self.h[b]) for b in range(self.dim))
        sig = max(self._gap(i, self._rho(U)) / eps ** (self.p[i] + 1.0) for i in range(self.n_species))
        return 1.0 / (rate + sig)

    def describe(self) -> str:
        return f"kinetic micro-macro AP scheme, eps = {self.eps:g}, {self.m} velocities, grid {self.grid.describe()}"
