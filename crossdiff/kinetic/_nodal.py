"""Turning operators as matrices on the nodes of a velocity quadrature.

The kernel ``T(v, v*)`` is the rate of turning FROM ``v*`` TO ``v`` (``docs/theory.md`` §2;
the paper's printed (8), (11), (12) swap the arguments), and

.. math::

    \\mathcal T(g)(v) = \\int_V \\big[ T(v, v^*)\\, g(v^*) - T(v^*, v)\\, g(v) \\big]\\, dv^*.

On a quadrature ``{(v_k, w_k)}`` of ``V`` (:meth:`Sphere.quadrature`,
:meth:`DiscreteVelocities.quadrature`) both integrals become sums, and
``(𝒯 g)(v_k) ≈ Σ_l A_kl g(v_l)`` with

.. math::

    A_{kl} = w_l\\, T(v_k, v_l) - \\delta_{kl} \\sum_m w_m\\, T(v_m, v_k).

Whatever the kernel, ``Σ_k w_k A_kl = 0``: the discrete operator conserves the quadrature's mass
``Σ_k w_k g_k`` exactly, as ``∫ 𝒯(g) dv = 0`` does (paper (13)). Under detailed balance
``T(v, v*) M(v*) = T(v*, v) M(v)`` (paper (14)) at the nodes, ``A M = 0``: the equilibrium is
an equilibrium of the matrix too. On a discrete velocity set the quadrature is the set's own
measure and the matrix is exact. :class:`NodalModel` evaluates a kinetic model's equilibria and
kernels (expressions of :mod:`crossdiff.kinetic.symbols`) on the nodes and builds the matrices
of its leading-order operators ``𝒯_i^0`` and of its biases ``𝒯_i^1`` at given densities and
gradients; the derivation's numerical path (``crossdiff.derive(..., method="numeric")``) and a
kinetic solver use the same objects.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from ..errors import KineticModelError
from . import symbols as S
from ._model import KineticModel
from ._operators import Relaxation
from ._velocity import Quadrature

__all__ = ["turning_matrix", "relaxation_matrix", "NodalModel"]


def turning_matrix(kernel: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The matrix of the turning operator with kernel ``T`` on quadrature nodes.

    Parameters
    ----------
    kernel : ndarray, shape (m, m)
        ``kernel[k, l] = T(v_k, v_l)``, the rate of turning from ``v_l`` to ``v_k``.
    weights : ndarray, shape (m,)
        The quadrature weights ``w_k``.

    Returns
    -------
    ndarray, shape (m, m)
        ``A_kl = w_l T(v_k, v_l) − δ_kl Σ_m w_m T(v_m, v_k)``, so that
        ``(𝒯 g)(v_k) = ∫ [T(v_k, v*) g(v*) − T(v*, v_k) g(v_k)] dv* ≈ Σ_l A_kl g(v_l)``
        (module docstring; paper (8) with the corrected argument order). The weighted column
        sums ``Σ_k w_k A_kl`` vanish: mass is conserved exactly.
    """
    table = np.asarray(kernel, dtype=float)
    w = np.asarray(weights, dtype=float)
    if table.ndim != 2 or table.shape != (w.size, w.size):
        raise KineticModelError(
            f"a turning kernel on {w.size} nodes must be a {w.size}x{w.size} table, got shape {table.shape}"
        )
    return table * w[None, :] - np.diag(w @ table)


def relaxation_matrix(rate: float, equilibrium: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The matrix of the relaxation operator ``𝒯^0(g) = −σ (g − M ∫ g dv)`` (paper (37)-(38)).

    It is :func:`turning_matrix` of the kernel ``T(v, v*) = σ M(v)``:
    ``A = σ (M wᵀ − (Σ_m w_m M_m) I)``, which is ``−σ (g − M Σ_l w_l g_l)`` exactly when the
    quadrature integrates ``M`` to one (as it does for a normalised ``M`` on a discrete set).

    Parameters
    ----------
    rate : float
        ``σ > 0``.
    equilibrium : ndarray, shape (m,)
        ``M(v_k)``.
    weights : ndarray, shape (m,)
        The quadrature weights.
    """
    m = np.asarray(equilibrium, dtype=float)
    return turning_matrix(float(rate) * np.broadcast_to(m[:, None], (m.size, m.size)), weights)


class NodalModel:
    """A kinetic model on the nodes of a velocity quadrature: equilibria, kernels, turning matrices.

    Parameters
    ----------
    model : KineticModel
        The kinetic model.
    n : int
        Resolution of the quadrature on a sphere (see :meth:`Sphere.quadrature`); ignored on a
        discrete velocity set.
    values : mapping of str to float, optional
        Parameter values that replace the model's defaults.

    Attributes
    ----------
    quadrature : Quadrature
        The nodes ``v_k`` (``(m, d)``) and weights ``w_k`` (``(m,)``).
    equilibria : dict of str to ndarray
        ``M_s(v_k)`` of every species ``s``.

    Notes
    -----
    Kernels are expressions of the names in :mod:`crossdiff.kinetic.symbols`. The state at a
    point is a mapping of those names to numbers: the densities (by species name) and the
    gradient components ``dx_s, dy_s, dz_s``. Distributions named in a kernel (``f_s``,
    ``fs_s``) take their leading-order form ``f_s = M_s u_s`` (paper (27)); definitions are
    expanded.

    Examples
    --------
    >>> from crossdiff.catalogue import load_kinetic
    >>> from crossdiff.kinetic import NodalModel
    >>> nodal = NodalModel(load_kinetic("oncolytic-virus-kinetic"), n=16)
    >>> a = nodal.leading_matrix("u1")
    >>> bool(abs(nodal.quadrature.weights @ a).max() < 1e-12)
    True
    """

    def __init__(self, model: KineticModel, n: int = 64, values: Mapping[str, float] | None = None):
        if not isinstance(model, KineticModel):
            raise KineticModelError(f"NodalModel needs a KineticModel, got {type(model).__name__}")
        self.model = model
        self.dim = model.dim
        self.values: dict[sp.Symbol, sp.Expr] = {
            **model.parameter_symbols(),
            **{sp.Symbol(k): sp.Float(v) for k, v in (values or {}).items()},
        }
        self.quadrature: Quadrature = model.velocity.quadrature(n, self.values)
        self.v, self.vs = S.velocity(self.dim), S.velocity_star(self.dim)
        self._m_v: dict[str, sp.Expr] = {}
        self._m_vs: dict[str, sp.Expr] = {}
        self.equilibria: dict[str, np.ndarray] = {}
        for s in model.species_names:
            eq = model[s].equilibrium
            if eq.values is not None:  # tabulated: placeholder symbols, replaced by the arrays
                self._m_v[s], self._m_vs[s] = S.m_symbol(s), S.ms_symbol(s)
                self.equilibria[s] = np.array([float(self.numbers(x)) for x in eq.values])
            else:
                expr = self.numbers(model.equilibrium_expr(s))
                self._m_v[s] = expr
                self._m_vs[s] = expr.xreplace(dict(zip(self.v, self.vs)))
                self.equilibria[s] = self.evaluate(expr)

    # ------------------------------------------------------------------ nodes
    @property
    def nodes(self) -> np.ndarray:
        """The velocities ``v_k``, shape ``(m, d)``."""
        return self.quadrature.nodes

    @property
    def weights(self) -> np.ndarray:
        """The weights ``w_k``, shape ``(m,)``."""
        return self.quadrature.weights

    @property
    def size(self) -> int:
        """The number of nodes ``m``."""
        return self.quadrature.size

    # ------------------------------------------------------------------ expressions on the nodes
    def numbers(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with ``R``, ``d``, ``absV`` and the parameters replaced by their values."""
        return expr.xreplace(self.model.constants()).xreplace(self.values)

    @property
    def velocity_symbols(self) -> set[sp.Symbol]:
        """The symbols :meth:`evaluate` fills in: ``v``, ``v*`` and tabulated ``M_s``, ``Ms_s``."""
        placeholders = {x for s in self.equilibria for x in (S.m_symbol(s), S.ms_symbol(s))}
        return set(self.v) | set(self.vs) | placeholders

    def resolve(self, expr: sp.Expr, species: str) -> sp.Expr:
        """The kinetic names of ``expr`` resolved for ``species`` and the parameters set.

        The result is an expression of :attr:`velocity_symbols`, the densities, their gradients
        and the definitions (see :meth:`KineticModel.resolve`).
        """
        return self.numbers(self.model.resolve(expr, species, self.v, self.vs, self._m_v, self._m_vs))

    def evaluate(self, expr: sp.Expr, pair: bool = False) -> np.ndarray:
        """The values of ``expr`` (of :attr:`velocity_symbols` only) on the nodes.

        Returns shape ``(m,)`` (``g(v_k)``; ``v*`` taken as zero) or, with ``pair``, ``(m, m)``
        (``g(v_k, v*_l)``).
        """
        names = list(self.equilibria)
        syms = [*self.v, *self.vs, *[S.m_symbol(s) for s in names], *[S.ms_symbol(s) for s in names]]
        points, n = self.nodes, self.size
        if pair:
            vals = [points[:, None, a] for a in range(self.dim)] + [points[None, :, a] for a in range(self.dim)]
            vals += [self.equilibria[s][:, None] for s in names] + [self.equilibria[s][None, :] for s in names]
        else:
            vals = [points[:, a] for a in range(self.dim)] + [np.zeros(n)] * self.dim
            vals += [self.equilibria[s] for s in names] + [np.zeros(n)] * len(names)
        shape = (n, n) if pair else (n,)
        with np.errstate(all="raise"):
            try:
                out = sp.lambdify(syms, expr, "numpy")(*vals)
            except (FloatingPointError, ZeroDivisionError):
                raise KineticModelError(f"{sp.sstr(expr)} is not finite on the velocity nodes") from None
        return np.broadcast_to(np.asarray(out, dtype=float), shape).copy()

    def kernel(self, kernel: sp.Expr | tuple, species: str, state: Mapping[str, float] | None = None) -> np.ndarray:
        """The table ``T(v_k, v_l)``, shape ``(m, m)``, of a kernel of ``species`` at ``state``.

        Parameters
        ----------
        kernel : sympy.Expr or tuple of tuples
            An expression of ``v``, ``v*`` and the kinetic names, or a table on a discrete set
            (``kernel[k][l] = T(v_k, v_l)``).
        species : str
            The species whose equilibrium ``M``/``Ms`` refer to.
        state : mapping of str to float, optional
            The densities and gradients at the point (see the class notes).
        """
        if isinstance(kernel, tuple):
            return np.array(
                [[float(self._at(self.numbers(self.model.expand(x)), state, species)) for x in row] for row in kernel]
            )
        expr = self.numbers(self.model.expand(self.resolve(kernel, species)))
        return self.evaluate(self._at(expr, state, species), pair=True)

    def _at(self, expr: sp.Expr, state: Mapping[str, float] | None, species: str) -> sp.Expr:
        """``expr`` with the state's values; every name left must be a velocity symbol."""
        out = expr.xreplace({sp.Symbol(k): sp.Float(v) for k, v in (state or {}).items()})
        missing = sorted(str(x) for x in out.free_symbols - self.velocity_symbols)
        if missing:
            raise KineticModelError(f"species {species!r}: the state needs values of {', '.join(missing)}")
        return out

    # ------------------------------------------------------------------ matrices
    def leading_matrix(self, species: str, state: Mapping[str, float] | None = None) -> np.ndarray:
        """The matrix of ``𝒯_s^0`` on the nodes (:func:`relaxation_matrix` or :func:`turning_matrix`).

        ``state`` gives the densities a density-dependent rate or kernel needs.
        """
        turning = self.model[species].turning
        if isinstance(turning, Relaxation):
            rate = self._at(self.numbers(self.model.expand(turning.rate)), state, species)
            return relaxation_matrix(float(rate), self.equilibria[species], self.weights)
        table = self.kernel(turning.matrix if turning.matrix is not None else turning.expr, species, state)
        return turning_matrix(table, self.weights)

    def bias_matrix(self, species: str, state: Mapping[str, float]) -> np.ndarray:
        """The matrix of the bias ``𝒯_s^1[f]`` at a point with the given densities and gradients.

        Zero for a species without bias. A bias given as an operator (``Bias.operator``) has no
        kernel, hence no matrix: :class:`KineticModelError`.
        """
        bias = self.model[species].bias
        if bias is None:
            return np.zeros((self.size, self.size))
        if bias.kernel is None:
            raise KineticModelError(f"species {species!r}: a bias given as an operator has no kernel, hence no matrix")
        return turning_matrix(self.kernel(bias.kernel, species, state), self.weights)
