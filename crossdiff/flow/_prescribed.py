r"""A prescribed incompressible flow on a grid: the face-normal velocities of the upwind fluxes.

For a flow given by its **stream function** ψ (:class:`~crossdiff.model.Flow`), the normal
velocity of a face is the difference of ψ at the face's two corners over its length,

.. math::

    u_{x,\,i-1/2,\,j} = -\frac{\psi_{i-1/2,\,j+1/2} - \psi_{i-1/2,\,j-1/2}}{h_y}, \qquad
    u_{y,\,i,\,j-1/2} = \frac{\psi_{i+1/2,\,j-1/2} - \psi_{i-1/2,\,j-1/2}}{h_x},

the exact mean of ``𝐮 = ∇^⊥ψ`` over the face, so the discrete divergence of every cell vanishes
identically (the MAC / Arakawa C-grid velocity of a stream function; Harlow & Welch, Phys.
Fluids 8, 1965). For a flow given by its **velocity**, the normal component at the face centre
(midpoint rule, second order); its divergence is checked on the grid at construction: the exact
``∇·𝐮`` (by symbolic differentiation) at every cell centre must vanish relative to ``|∇𝐮|``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import ModelError
from ..grid import Grid
from ..model import SPACE, TIME, Kernel, Model, compile_kernel

__all__ = ["PrescribedFlow"]

_NO_DENSITIES = np.zeros((0, 1))  #: the kernels of a prescribed flow read no species

#: A velocity is divergence-free on the grid when ``max|∇·𝐮| <= DIVERGENCE_RTOL · max|∇𝐮|`` at
#: the cell centres: symbolic derivatives evaluated in float64 leave round-off of a few ulps of
#: the largest derivative, far below this, while a compressible flow has ``|∇·𝐮| ~ |∇𝐮|``.
DIVERGENCE_RTOL = 1e-8


class PrescribedFlow:
    """Face velocities of ``model.flow`` (prescribed) on ``grid``.

    Parameters
    ----------
    model : Model
        A model whose ``flow`` is prescribed (a velocity or a stream function).
    grid : Grid
        The velocity needs one component per axis; a stream function a 2D grid.

    Raises
    ------
    ModelError
        If the model has no prescribed flow, the number of velocity components is not the
        grid's dimension, a stream function is used off 2D, or the velocity is not
        divergence-free on the grid.
    """

    def __init__(self, model: Model, grid: Grid):
        flow = model.flow
        if flow is None or flow.kind != "prescribed":
            raise ModelError(f"model {model.name!r} has no prescribed flow")
        self.grid = grid
        values = model.parameter_symbols()

        def prep(expr: sp.Expr) -> sp.Expr:
            return model.expand(expr).xreplace(values)

        lo = [e[0] for e in grid.extent]
        centres = list(grid.coordinates)
        corners = [lo[a] + grid.spacing[a] * np.arange(n + 1) for a, n in enumerate(grid.cells)]
        self._stream = flow.stream is not None
        if self._stream:
            if grid.ndim != 2:
                raise ModelError(f"a flow given by a stream function needs a 2D grid, got {grid.ndim}D")
            assert flow.stream is not None
            psi = prep(flow.stream)
            self._kernels: tuple[Kernel, ...] = (compile_kernel(psi, [], "flow stream function"),)
            self._points = [tuple(np.meshgrid(corners[0], corners[1], indexing="ij", sparse=True)) + (0.0,)]
            self.time_dependent = TIME in psi.free_symbols
        else:
            if len(flow.velocity) != grid.ndim:
                raise ModelError(
                    f"the flow velocity has {len(flow.velocity)} component(s) but the grid has {grid.ndim} axes"
                )
            exprs = [prep(v) for v in flow.velocity]
            self._kernels = tuple(compile_kernel(e, [], f"flow velocity u_{'xyz'[a]}") for a, e in enumerate(exprs))
            self._points = []
            for a in range(grid.ndim):
                axes = [corners[b] if b == a else centres[b] for b in range(grid.ndim)]
                mesh = np.meshgrid(*axes, indexing="ij", sparse=True)
                self._points.append(tuple(mesh) + (0.0,) * (3 - grid.ndim))
            self.time_dependent = any(TIME in e.free_symbols for e in exprs)
            self._check_divergence(exprs)
        self._cache: tuple[float, tuple[np.ndarray, ...]] | None = None
        self.face_velocities(0.0)  # a flow singular on the grid fails here, not in the first step

    def _check_divergence(self, exprs: list[sp.Expr]) -> None:
        """``max|∇·𝐮| <= DIVERGENCE_RTOL · max|∇𝐮|`` at the cell centres, at ``t = 0`` and ``t = 1``."""
        g = self.grid
        div = sp.Add(*(sp.diff(e, SPACE[a]) for a, e in enumerate(exprs)))
        if div == 0:
            return
        grad = [sp.diff(e, SPACE[b]) for e in exprs for b in range(g.ndim)]
        mesh = np.meshgrid(*g.coordinates, indexing="ij", sparse=True)
        coords = tuple(mesh) + (0.0,) * (3 - g.ndim)
        div_k = compile_kernel(div, [], "divergence of the flow")
        grad_k = [compile_kernel(d, [], "gradient of the flow") for d in grad]
        for t in (0.0, 1.0):
            with np.errstate(all="ignore"):
                d = np.broadcast_to(np.abs(np.asarray(div_k(t, coords, _NO_DENSITIES), dtype=float)), g.shape)
                scale = max(float(np.max(np.abs(k(t, coords, _NO_DENSITIES)))) for k in grad_k)
            worst = int(np.argmax(d))
            if not np.isfinite(d).all() or d.flat[worst] > DIVERGENCE_RTOL * scale:
                where = ", ".join(
                    f"{a} = {c[i]:.4g}" for a, c, i in zip(g.axes, g.coordinates, np.unravel_index(worst, g.shape))
                )
                raise ModelError(
                    f"the flow velocity is not divergence-free: div u = {sp.sstr(div)} is {d.flat[worst]:.3g} at "
                    f"{where}, t = {t:g}; give a stream function (u = perp grad psi) or a divergence-free velocity"
                )

    def face_velocities(self, t: float) -> tuple[np.ndarray, ...]:
        """Normal velocity on the faces of each axis ``a``: shape ``grid.shape`` with ``n_a + 1``
        along axis ``a`` (faces ``0`` and ``n_a`` are the walls; equal on a periodic axis)."""
        if self._cache is not None and (not self.time_dependent or self._cache[0] == t):
            return self._cache[1]
        g = self.grid
        out: list[np.ndarray] = []
        if self._stream:
            corners = (g.cells[0] + 1, g.cells[1] + 1)
            psi = np.broadcast_to(np.asarray(self._kernels[0](t, self._points[0], _NO_DENSITIES), dtype=float), corners)
            out.append(np.ascontiguousarray(-np.diff(psi, axis=1) / g.spacing[1]))  # (nx + 1, ny)
            out.append(np.ascontiguousarray(np.diff(psi, axis=0) / g.spacing[0]))  # (nx, ny + 1)
        else:
            for a, k in enumerate(self._kernels):
                shape = tuple(n + 1 if b == a else n for b, n in enumerate(g.cells))
                out.append(
                    np.ascontiguousarray(
                        np.broadcast_to(np.asarray(k(t, self._points[a], _NO_DENSITIES), dtype=float), shape)
                    )
                )
        velocities = tuple(out)
        if not all(np.isfinite(v).all() for v in velocities):
            raise ModelError(f"the flow velocity is not finite on the grid at t = {t:g}")
        self._cache = (t, velocities)
        return velocities
