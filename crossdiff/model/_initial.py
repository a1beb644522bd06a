"""A model's initial data evaluated on the cell centres of a domain (the expressions lambdified
through the compile cache, :func:`._compile.lambdified`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from ..errors import InputError, ModelError
from ..expressions import to_expr
from ._compile import lambdified
from ._model import NOISE, SPACE

__all__ = ["initial_fields"]


def initial_fields(
    model: Any, grid: Any, seed: int | None = None, overrides: Mapping[str, object] | None = None
) -> np.ndarray:
    """Evaluate the species' initial data on the cell centres of ``grid``.

    Parameters
    ----------
    model : Model or KineticModel
        Its species' ``initial`` expressions of ``x, y, z``, the parameters and ``noise``.
    grid : Grid
        Cell centres (``grid.mesh()``) and shape.
    seed : int, optional
        Seed of ``noise``: an array of independent uniform numbers in [-1, 1], drawn from
        ``numpy.random.default_rng([seed, i])`` for species ``i`` (reproducible, species
        independent). Default: the model's.
    overrides : mapping, optional
        Species names to arrays, numbers or expression strings replacing the model's.

    Returns
    -------
    ndarray
        Shape ``(n_species, *grid.shape)``.

    Raises
    ------
    InputError
        If a value is NaN or negative, an array has the wrong shape, or the seed is not a
        non-negative integer; :class:`ModelError` for an unknown symbol or species.
    """
    seed = model.defaults.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    overrides = dict(overrides or {})
    for key in overrides:
        model.index(key)
    mesh = grid.mesh()
    coords = {SPACE[a]: (mesh[a] if a < grid.ndim else 0.0) for a in range(3)}
    values = model.parameter_symbols()
    U = np.empty((model.n_species, *grid.shape))
    for i, s in enumerate(model.species):
        value = overrides.get(s.name, s.initial)
        if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple))):
            arr = np.asarray(value, dtype=float)
            if arr.shape != grid.shape:
                raise InputError(f"initial data of species {s.name!r} has shape {arr.shape}, grid is {grid.shape}")
            U[i] = arr
            continue
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = to_expr(value, f"initial data of species {s.name!r}")
        expr = model.expand(value).xreplace(values)
        unknown = expr.free_symbols - set(SPACE) - {NOISE}
        if unknown:
            raise ModelError(
                f"initial data of species {s.name!r}: unknown symbol {str(sorted(map(str, unknown))[0])!r}"
            )
        args = list(SPACE) + [NOISE]
        noise = np.random.default_rng([seed, i]).uniform(-1.0, 1.0, grid.shape) if NOISE in expr.free_symbols else 0.0
        func = lambdified(args, expr, cse=False)
        with np.errstate(all="ignore"):
            U[i] = np.broadcast_to(np.asarray(func(*[coords[a] for a in SPACE], noise), dtype=float), grid.shape)
        # a domain whose parts have parameter values of their own (a network's edges)
        for changed, cells in getattr(grid, "parameter_groups", list)():
            own = {**values, **{sp.Symbol(k): float(v) for k, v in changed.items()}}
            func = lambdified(args, model.expand(value).xreplace(own), cse=False)
            with np.errstate(all="ignore"):
                part = np.broadcast_to(np.asarray(func(*[coords[a] for a in SPACE], noise), dtype=float), grid.shape)
            U[i][cells] = part[cells]
    for i, name in enumerate(model.species_names):
        if not np.all(np.isfinite(U[i])):
            raise InputError(f"initial data of species {name!r} is not finite (NaN or inf)")
        if np.min(U[i]) < 0:
            raise InputError(
                f"initial data of species {name!r} is negative (min {np.min(U[i]):.3g}); densities must be >= 0"
            )
    return U
