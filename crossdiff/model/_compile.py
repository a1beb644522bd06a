"""Compilation of a :class:`Model`'s expressions into NumPy kernels.

Every expression is expanded (definitions), has its parameters substituted, and is turned into a
vectorised NumPy function with :func:`sympy.lambdify`. The printed source of each function and
where each expression is singular are kept in the compile cache (:mod:`._cache`), keyed by the
expression's structure: a second run of a model executes the same source without printing it.
Constant expressions stay Python floats, so the discretisation can pick fast paths (e.g. a
spectral solve for constant diffusion).
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ModelError
from ._cache import cache_enabled, cache_key, load_entry, store_entry
from ._model import SPACE, TIME, Model, species_symbols

__all__ = ["Kernel", "DiffusionKind", "CompiledModel", "compile_model", "compile_kernel"]

_ARGS_DOC = "(t, coords, U) with coords a tuple of 3 arrays/scalars and U[i] the density of species i"


@dataclass(frozen=True)
class Kernel:
    """A compiled scalar expression ``f(t, x, y, z, u_1..u_n)``.

    ``constant`` is set when the expression does not depend on anything (then ``value`` is it).
    ``depends`` lists the indices of the species it depends on.
    """

    expr: sp.Expr
    func: Callable[..., Any] | None
    constant: bool
    value: float
    depends: tuple[int, ...]
    uses_space_time: bool

    def __call__(self, t: float, coords: tuple, U: np.ndarray) -> np.ndarray | float:
        """Evaluate on fields; returns an array of the field shape, or a float if constant."""
        if self.constant:
            return self.value
        # t as a NumPy float: 1/t at t = 0 is inf (reported by the monitor), not ZeroDivisionError
        assert self.func is not None  # set for every non-constant kernel
        return self.func(np.float64(t), *coords, *U)

    def evaluate_array(self, t: float, coords: tuple, U: np.ndarray) -> np.ndarray:
        """Like ``__call__`` but always an array of the field shape."""
        out = self(t, coords, U)
        return np.broadcast_to(np.asarray(out, dtype=float), U.shape[1:])


def compile_kernel(expr: sp.Expr, symbols: list[sp.Symbol], what: str) -> Kernel:
    """Compile ``expr`` of ``t, x, y, z`` and the species ``symbols`` to a :class:`Kernel`
    (vectorised NumPy from ``sympy.lambdify``); ``what`` names it in errors."""
    free = expr.free_symbols
    if not free:
        try:
            value = complex(expr)
        except (TypeError, ValueError):
            raise ModelError(f"{what}: cannot evaluate constant {expr}") from None
        if value.imag != 0 or not np.isfinite(value.real):
            raise ModelError(f"{what}: constant value {expr} is not a finite real number")
        return Kernel(expr, None, True, float(value.real), (), False)
    # integers beyond int64 would reach NumPy as Python objects (e.g. sin(10**20)): use floats
    big = {n: sp.Float(n) for n in expr.atoms(sp.Integer) if abs(int(n)) > 2**53}
    if big:
        expr = expr.xreplace(big)
    args = [TIME, *SPACE, *symbols]
    func = lambdified(args, expr)
    depends = tuple(i for i, s in enumerate(symbols) if s in free)
    return Kernel(expr, func, False, float("nan"), depends, bool(free & {TIME, *SPACE}))


#: where the globals of a lambdified function come from: these modules, by the same name
_ORIGINS = {"numpy": np, "builtins": builtins, "functools": functools}


def lambdified(args: list[sp.Symbol], expr: sp.Expr, cse: bool = True) -> Callable[..., Any]:
    """``sympy.lambdify(args, expr, modules="numpy", cse=cse)``, its source taken from the
    compile cache when this expression was compiled before (the same source, executed with the
    same NumPy objects: the same function)."""
    if not cache_enabled():
        return sp.lambdify(args, expr, modules="numpy", cse=cse)
    key = cache_key("kernel", sp.srepr(expr), sp.srepr(args), f"cse={cse}")
    entry = load_entry("kernel", key)
    if entry is not None:
        func = _rebuild(entry)
        if func is not None:
            return func
    func = sp.lambdify(args, expr, modules="numpy", cse=cse)
    payload = _source_of(func)
    if payload is not None:
        store_entry("kernel", key, payload)
    return func


def _global_names(code: Any) -> set[str]:
    """Every name the code object (and those nested in it) may look up as a global."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _global_names(const)
    return names


def _source_of(func: Callable[..., Any]) -> dict[str, Any] | None:
    """The cache payload of a lambdified function: its source, its name and where each global
    it uses comes from; None when a global is not a module attribute of the same name."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):  # pragma: no cover - lambdify registers its source in linecache
        return None
    origins = {}
    for name in sorted(_global_names(func.__code__) & set(func.__globals__)):
        value = func.__globals__[name]
        origin = next((m for m, mod in _ORIGINS.items() if getattr(mod, name, None) is value), None)
        if origin is None:
            return None  # e.g. a number lambdify bound (I = 1j): not cached
        origins[name] = origin
    return {"source": source, "name": func.__name__, "globals": origins}


def _rebuild(entry: dict[str, Any]) -> Callable[..., Any] | None:
    """The function of a cache payload, or None if the payload is malformed."""
    try:
        namespace = {name: getattr(_ORIGINS[origin], name) for name, origin in entry["globals"].items()}
        exec(compile(entry["source"], "<crossdiff compiled kernel>", "exec"), namespace)
        func = namespace[entry["name"]]
    except Exception:  # a corrupt entry is rebuilt, never an error
        return None
    return func if callable(func) else None


class DiffusionKind(Enum):
    """How a species diffuses; the discretisation picks its scheme from this."""

    NONE = "none"  #: D = 0
    CONSTANT = "constant"  #: constant scalar
    TENSOR = "tensor"  #: constant symmetric tensor
    NONLINEAR = "nonlinear"  #: scalar depending on densities, t or x


@dataclass(frozen=True)
class CompiledSpecies:
    """Kernels of one species."""

    name: str
    tau: float
    diffusion_kind: DiffusionKind
    diffusion: Kernel | None  # scalar (constant or nonlinear)
    tensor: np.ndarray | None  # constant d x d tensor
    taxis: tuple[tuple[int, Kernel], ...]  # (signal index, sensitivity)
    reaction: Kernel

    @property
    def scalar_diffusion(self) -> Kernel:
        """The scalar diffusion kernel (kinds ``CONSTANT`` and ``NONLINEAR``)."""
        if self.diffusion is None:
            raise ModelError(f"species {self.name!r} has no scalar diffusion")
        return self.diffusion

    @property
    def diffusion_tensor(self) -> np.ndarray:
        """The constant ``d × d`` diffusion tensor (kind ``TENSOR``)."""
        if self.tensor is None:
            raise ModelError(f"species {self.name!r} has no diffusion tensor")
        return self.tensor


@dataclass(frozen=True)
class CompiledModel:
    """A model ready for numerics: numbers and NumPy kernels only.

    Attributes
    ----------
    species : tuple of CompiledSpecies
    positive : tuple of (species index, reason)
        Species that must stay strictly positive because some expression is singular where
        they vanish (e.g. the logarithmic sensitivity ``1/u2``).
    elliptic : tuple of int
        Quasi-stationary species (``tau = 0``).
    """

    model: Model
    species: tuple[CompiledSpecies, ...]
    positive: tuple[tuple[int, str], ...]
    elliptic: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.species)


def _singular_species(expr: sp.Expr, symbols: list[sp.Symbol]) -> list[int]:
    """Indices of species at whose zero ``expr`` is singular (denominator or log vanishes);
    kept in the compile cache (``sympy.simplify`` is the slow part of compiling a model)."""
    if not cache_enabled():
        return _find_singular(expr, symbols)
    key = cache_key("singular", sp.srepr(expr), sp.srepr(symbols))
    entry = load_entry("singular", key)
    hits = entry.get("species") if entry is not None else None
    if isinstance(hits, list) and all(isinstance(i, int) and 0 <= i < len(symbols) for i in hits):
        return hits
    hits = _find_singular(expr, symbols)
    store_entry("singular", key, {"species": hits})
    return hits


def _find_singular(expr: sp.Expr, symbols: list[sp.Symbol]) -> list[int]:
    hits = []
    _, denom = sp.fraction(sp.together(expr))
    logs = [a.args[0] for a in expr.atoms(sp.log)]
    for i, s in enumerate(symbols):
        if s not in expr.free_symbols:
            continue
        candidates = ([denom] if s in denom.free_symbols else []) + [a for a in logs if s in a.free_symbols]
        for c in candidates:
            try:
                at_zero = sp.simplify(c.subs(s, 0))
            except (ZeroDivisionError, TypeError):  # pragma: no cover - defensive
                at_zero = sp.S.Zero
            if at_zero == 0 or at_zero.has(sp.zoo, sp.nan):
                hits.append(i)
                break
    return hits


def compile_model(model: Model, ndim: int | None = None) -> CompiledModel:
    """Compile ``model`` (with its current parameters) into NumPy kernels.

    Parameters
    ----------
    model : Model
    ndim : int, optional
        Space dimension of the grid; checked against tensor diffusion sizes.
    """
    symbols = species_symbols(model)
    values = model.parameter_symbols()
    compiled = []
    positive: dict[int, str] = {}
    elliptic = []
    for i, s in enumerate(model.species):

        def prep(expr: sp.Expr) -> sp.Expr:
            return model.expand(expr).xreplace(values)

        tau = model.tau_value(s.name)
        if tau == 0:
            elliptic.append(i)
        tensor = None
        diffusion = None
        if s.is_tensor:
            tensor = np.array(s.diffusion.applyfunc(prep).tolist(), dtype=float)
            if ndim is not None and tensor.shape != (ndim, ndim):
                raise ModelError(
                    f"diffusion tensor of species {s.name!r} is {tensor.shape[0]}x{tensor.shape[1]} "
                    f"but the grid has {ndim} dimension(s)"
                )
            kind = DiffusionKind.NONE if not tensor.any() else DiffusionKind.TENSOR
            if kind is DiffusionKind.TENSOR and np.allclose(tensor, tensor[0, 0] * np.eye(len(tensor))):
                diffusion = compile_kernel(sp.Float(tensor[0, 0]), symbols, f"diffusion of {s.name!r}")
                kind, tensor = DiffusionKind.CONSTANT, None
        else:
            diffusion = compile_kernel(prep(s.diffusion), symbols, f"diffusion of species {s.name!r}")
            if diffusion.constant:
                kind = DiffusionKind.NONE if diffusion.value == 0 else DiffusionKind.CONSTANT
            else:
                kind = DiffusionKind.NONLINEAR
                for j in _singular_species(diffusion.expr, symbols):
                    positive.setdefault(
                        j, f"diffusion of species {s.name!r} ({sp.sstr(s.diffusion)}) is singular at {symbols[j]} = 0"
                    )
        taxis = []
        for term in s.taxis:
            j = model.index(term.signal)
            kern = compile_kernel(
                prep(term.sensitivity), symbols, f"sensitivity of species {s.name!r} towards {term.signal!r}"
            )
            if kern.constant and kern.value == 0:
                continue
            for k in _singular_species(kern.expr, symbols):
                positive.setdefault(
                    k,
                    f"sensitivity {sp.sstr(term.sensitivity)} of species {s.name!r} towards {term.signal!r} "
                    f"is singular at {symbols[k]} = 0",
                )
            taxis.append((j, kern))
        reaction = compile_kernel(prep(s.reaction), symbols, f"reaction of species {s.name!r}")
        for k in _singular_species(reaction.expr, symbols):
            positive.setdefault(k, f"reaction of species {s.name!r} is singular at {symbols[k]} = 0")
        compiled.append(CompiledSpecies(s.name, tau, kind, diffusion, tensor, tuple(taxis), reaction))
    return CompiledModel(model, tuple(compiled), tuple(sorted(positive.items())), tuple(elliptic))
