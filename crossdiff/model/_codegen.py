"""Fused compiled reaction kernels: every species' reaction in one pass over the cells.

The NumPy kernels of :mod:`._compile` evaluate an expression such as
``mu1*u1*(1 - u1**r) - rho*u1*u4/(k + theta*u1)`` as a chain of whole-array operations, each
reading and writing a temporary. On large grids that traffic dominates the explicit part of a
step. :func:`fused_reactions` prints the reactions (after common-subexpression elimination)
into the body of one cell loop::

    for c in range(N):
        u_0 = U[0, c]; u_1 = U[1, c]; ...
        x0 = ...                        # shared subexpressions
        out[0, c] = ...; out[1, c] = ...

and compiles it with Numba (``error_model="numpy"``: division by zero gives inf/nan as in
NumPy, so the failure monitor sees the same values). The source is written to a cache directory
under a name that is the hash of the source, so ``cache=True`` keeps the machine code between
runs: a second run of the same model loads it in milliseconds. Parameters are arguments of the
kernel, not literals, so a parameter sweep compiles it once for all its points; only parameters
that appear in an exponent are literals (an integer power compiles to products).

Cache directory: ``$CROSSDIFF_CACHE``, else ``$XDG_CACHE_HOME/crossdiff/kernels``, else
``~/.cache/crossdiff/kernels``; if none is writable, a per-user directory in the temporary
directory. Models whose reactions depend on x, y or z, or use a function the printer does not
know, keep the NumPy kernels (``fused_reactions`` returns None). The printed source is also kept
in the compile cache (:mod:`._cache`), keyed by the reactions' structure, so a second run of a
model neither eliminates common subexpressions nor prints again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ._cache import cache_enabled, cache_key, load_entry, store_entry
from ._model import SPACE, TIME, species_symbols

__all__ = ["fused_reactions", "kernel_cache_dir"]

_LOADED: dict[str, Callable] = {}


class _Printer(PythonCodePrinter):
    """Python source for Numba: ``math`` functions, float literals."""

    def _print_Integer(self, expr):  # 2 -> 2.0 keeps every operation in floating point
        return f"{float(expr)!r}" if abs(int(expr)) > 2**31 else super()._print_Integer(expr)


def kernel_cache_dir() -> Path | None:
    """The first writable cache directory (see the module docstring), or None."""
    candidates = []
    if os.environ.get("CROSSDIFF_CACHE"):
        candidates.append(Path(os.environ["CROSSDIFF_CACHE"]))
    base = os.environ.get("XDG_CACHE_HOME")
    candidates.append((Path(base) if base else Path.home() / ".cache") / "crossdiff" / "kernels")
    candidates.append(
        Path(tempfile.gettempdir()) / f"crossdiff-kernels-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    )
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
            return path
        except OSError:
            continue
    return None


def _source(exprs: Sequence[tuple[int, sp.Expr]], symbols: list[sp.Symbol], parameters: list[sp.Symbol]) -> str | None:
    printer = _Printer({"standard": "python3", "fully_qualified_modules": True})
    names = {s: sp.Symbol(f"u_{k}") for k, s in enumerate(symbols)}
    names.update({s: sp.Symbol(f"p_{k}") for k, s in enumerate(parameters)})
    names[TIME] = sp.Symbol("t")
    replaced = [sp.sympify(e).xreplace(names) for _, e in exprs]
    temps, reduced = sp.cse(replaced, symbols=sp.numbered_symbols("w_"))
    used = set().union(*(e.free_symbols for e in reduced), *(v.free_symbols for _, v in temps))
    body = [f"        u_{k} = U[{k}, c]" for k in range(len(symbols)) if sp.Symbol(f"u_{k}") in used]
    for name, value in temps:
        body.append(f"        {name} = {printer.doprint(value)}")
    for (i, _), e in zip(exprs, reduced):
        body.append(f"        out[{i}, c] = {printer.doprint(e)}")
    if printer._not_supported:
        return None
    return "\n".join(
        [
            "import math",
            "from numba import njit",
            "",
            "",
            '@njit(cache=True, error_model="numpy")',
            "def reactions(t, U, out, p):",
            *[f"    p_{k} = p[{k}]" for k in range(len(parameters))],
            "    for c in range(U.shape[1]):",
            *body,
            "",
        ]
    )


def fused_reactions(compiled, indices: Sequence[int]) -> Callable[[float, np.ndarray, np.ndarray], None] | None:
    """A compiled ``f(t, U, out)`` writing ``out[i, c] = ψ_i(U[:, c], t)`` for ``i`` in ``indices``.

    ``U`` and ``out`` are ``(n_species, cells)`` C-contiguous arrays. Returns None when the
    reactions depend on space, cannot be printed, or the code cannot be compiled or cached
    (the caller keeps the NumPy kernels).
    """
    model = compiled.model
    exprs = [(i, sp.sympify(model.expand(sp.sympify(model.species[i].reaction)))) for i in indices]
    if not exprs or any(e.free_symbols & set(SPACE) for _, e in exprs):
        return None
    symbols = species_symbols(model)
    values = model.parameter_symbols()
    # parameters in exponents stay literals: u**2 compiles to a product, u**p to a pow() call
    # per cell (4× slower on oncolytic-virus); a sweep over an exponent compiles per value
    in_exponents = {s for _, e in exprs for pw in e.atoms(sp.Pow) for s in pw.exp.free_symbols if s in values}
    exprs = [(i, e.xreplace({s: values[s] for s in in_exponents})) for i, e in exprs]
    parameters = sorted({s for _, e in exprs for s in e.free_symbols if s in values}, key=str)
    source = _cached_source(exprs, symbols, parameters)
    if source is None:
        return None
    bound = np.array([float(values[s]) for s in parameters])
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    func = _LOADED.get(digest) or _load(source, digest, len(symbols), len(parameters))
    if func is None:
        return None

    def reactions(t: float, U: np.ndarray, out: np.ndarray) -> None:
        func(t, U, out, bound)

    return reactions


def _cached_source(
    exprs: Sequence[tuple[int, sp.Expr]], symbols: list[sp.Symbol], parameters: list[sp.Symbol]
) -> str | None:
    """:func:`_source`, from the compile cache when these reactions were printed before."""
    key = None
    if cache_enabled():
        key = cache_key("fused", sp.srepr([(i, e) for i, e in exprs]), sp.srepr(symbols), sp.srepr(parameters))
        entry = load_entry("fused", key)
        if entry is not None and isinstance(entry.get("source"), str):
            return entry["source"]
    try:
        source = _source(exprs, symbols, parameters)
    except Exception:
        return None
    if source is not None and key is not None:
        store_entry("fused", key, {"source": source})
    return source


def _load(source: str, digest: str, n_species: int, n_parameters: int) -> Callable | None:
    """Write ``source`` to the cache directory (atomically), import it and compile or load it."""
    directory = kernel_cache_dir()
    if directory is None:
        return None
    path = directory / f"crossdiff_reactions_{digest}.py"
    try:
        if not path.exists() or path.read_text() != source:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)  # atomic: concurrent runs (sweeps) never see half a file
        name = f"crossdiff_reactions_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a plain .py file always has one
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        func = module.reactions
        # compile (or load) now, not mid-run
        func(0.5, np.full((n_species, 1), 0.5), np.zeros((n_species, 1)), np.full(n_parameters, 0.5))
    except Exception:
        return None
    _LOADED[digest] = func
    return func
