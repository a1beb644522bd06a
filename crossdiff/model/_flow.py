r"""The flow that carries advected species: ``∂t u_i + ∇·(u_i 𝐮) = …`` with ``∇·𝐮 = 0``.

A model's ``flow`` (the ``[flow]`` table of a model file) is, for now, **prescribed**: a velocity
field ``𝐮(x, y, z, t)`` given by one expression per axis, or, in two dimensions, a stream function
``ψ(x, y, t)`` with

.. math::

    \mathbf{u} = \nabla^\perp\psi = (-\partial_y\psi,\ \partial_x\psi), \qquad
    \omega = \partial_x u_y - \partial_y u_x = \Delta\psi

(the convention of Majda & Bertozzi, *Vorticity and Incompressible Flow*, 2002, §2.1). A stream
function gives a flow that is divergence-free on the grid exactly (face velocities are
differences of ψ at the cell corners); a velocity is checked divergence-free on the grid by the
discretisation (:class:`crossdiff.flow.PrescribedFlow`). Species opt in with ``advected = true``.

This module holds the description only (expressions); the numbers come from :mod:`crossdiff.flow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ..errors import ModelError
from ..expressions import to_expr
from ..registry import Registry

__all__ = ["Flow", "FLOWS"]

#: Kinds of flow a model can have (model files' ``[flow] kind``).
FLOWS: Registry[str] = Registry("flow")
FLOWS.register(
    "prescribed", "prescribed", "a given velocity of x, y, z, t, or a 2D stream function (u = perp grad psi)"
)


@dataclass(frozen=True)
class Flow:
    r"""A prescribed incompressible flow ``𝐮`` (see the module docstring).

    Parameters
    ----------
    kind : str
        A name in :data:`FLOWS` (``"prescribed"``).
    velocity : sequence of expressions
        ``(u_x, u_y[, u_z])``, expressions of ``x, y, z, t`` and the parameters; or
    stream : expression
        ``ψ(x, y, t)`` in two dimensions, ``𝐮 = (−∂_y ψ, ∂_x ψ)``.

    Exactly one of ``velocity`` and ``stream`` is given.

    Examples
    --------
    >>> Flow(stream="(x**2 + y**2)/2").describe()
    ['vel = (-d psi/dy, d psi/dx), psi = x**2/2 + y**2/2']
    """

    kind: str = "prescribed"
    velocity: tuple[sp.Expr, ...] = ()
    stream: sp.Expr | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in FLOWS:
            raise ModelError(f"unknown flow kind {self.kind!r}; choose one of: {', '.join(FLOWS)}")
        object.__setattr__(self, "kind", self.kind.lower())
        velocity = self.velocity
        if isinstance(velocity, (str, sp.Basic)) or not isinstance(velocity, Sequence):
            raise ModelError(f"flow velocity must be a list of expressions, one per axis, got {velocity!r}")
        if velocity and self.stream is not None:
            raise ModelError("a flow is given by its velocity or by its stream function, not both")
        if not velocity and self.stream is None:
            raise ModelError("a prescribed flow needs a velocity = [u_x, u_y, ...] or a stream function")
        if velocity and not 1 <= len(velocity) <= 3:
            raise ModelError(f"flow velocity has 1 to 3 components, got {len(velocity)}")
        axes = "xyz"
        object.__setattr__(
            self,
            "velocity",
            tuple(to_expr(v, f"flow velocity u_{axes[a]}") for a, v in enumerate(velocity)),
        )
        if self.stream is not None:
            object.__setattr__(self, "stream", to_expr(self.stream, "flow stream function"))

    def expressions(self) -> dict[str, sp.Expr]:
        """Every expression of the flow, keyed by what it is (for validation)."""
        out = {f"flow velocity u_{'xyz'[a]}": v for a, v in enumerate(self.velocity)}
        if self.stream is not None:
            out["flow stream function"] = self.stream
        return out

    def describe(self, latex: bool = False) -> list[str]:
        """The flow's equations as text (or LaTeX), one line."""
        from ._show import to_latex

        if self.stream is not None:
            if latex:
                return [
                    rf"\mathbf{{u}} = \nabla^\perp\psi = (-\partial_y\psi, \partial_x\psi),\quad \psi = {to_latex(self.stream)}"
                ]
            return [f"vel = (-d psi/dy, d psi/dx), psi = {sp.sstr(self.stream)}"]
        if latex:
            return [r"\mathbf{u} = \left(" + ", ".join(to_latex(v) for v in self.velocity) + r"\right)"]
        return ["vel = (" + ", ".join(sp.sstr(v) for v in self.velocity) + ")"]

    def to_dict(self) -> dict[str, object]:
        """The ``[flow]`` table of a model file."""
        out: dict[str, object] = {"kind": self.kind}
        if self.stream is not None:
            out["stream"] = sp.sstr(self.stream)
        else:
            out["velocity"] = [sp.sstr(v) for v in self.velocity]
        return out
