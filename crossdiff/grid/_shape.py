"""Domains of any shape: a region cut out of a box grid, described by cut cells.

A :class:`Shape` is the part of a box :class:`~crossdiff.grid.Grid` where a condition on the
position holds (``inside = "(x-10)^2 + (y-10)^2 < 100"``, unions, intersections and holes by
``&``, ``|``, ``~``), or where a mask (a boolean array, or a picture: dark = inside) is set. The
finite volumes of the box become *cut cells* (an embedded-boundary description, Colella et al.
2006, docs/references.md [CGKM06]): each cell carries the fraction ``κ`` of its volume inside the
shape, each face the fraction ``a`` of its area inside (its aperture). Conservative fluxes
through the apertures and volumes weighted by ``κ`` keep mass to round-off on any shape.

Geometry of a condition (second order in ``h``): the condition becomes a level set ``φ`` (``< 0``
inside; for ``f < g`` it is ``f − g``, for ``A & B`` the larger of the two, for ``A | B`` the
smaller, ``~A`` its negative), sampled at the cell corners and interpolated linearly:

* a face's aperture is the fraction of its edge (1D cut) or area where the interpolant is
  negative: exact for a linear ``φ`` along an edge (``a = φ₀/(φ₀ − φ₁)`` where it changes sign),
  and for a face of a 3D cell the 2D rule below;
* a 2D cell's volume fraction is that of the two triangles of its diagonal, on each of which the
  interpolant is linear: with one corner value ``φ_a < 0 ≤ φ_b, φ_c`` the triangle's fraction
  is ``φ_a² / ((φ_a − φ_b)(φ_a − φ_c))`` (one minus that when only ``φ_a ≥ 0``);
* a 3D cell's volume fraction is the mean of the 2D fractions of four Gauss–Legendre sections
  in ``z`` (``φ`` linear in ``z`` between the corner layers).

A mask is a staircase: whole cells in or out, faces open where both cells are inside.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GridError
from ._box import Grid, OnBox
from ._front import Front, FrontGrid
from ._growth import GrowingGrid, Growth, TissueGrowth

__all__ = ["Shape", "read_mask", "default_domain"]

#: Cells whose volume fraction is below this count as outside (a sliver of 1e-12 of a cell is
#: round-off of the level set, not a cell of the domain).
_EMPTY = 1e-12


def _level_set(text: str, parameters: Mapping[str, float], ndim: int) -> Callable[..., np.ndarray]:
    """``φ(x, y, z)`` (negative inside) of a condition such as ``"(x-1)^2 + y^2 < 1 & x > 0"``.

    Raises
    ------
    GridError
        If the text is not a condition (a relation, or ``&``, ``|``, ``~`` of relations), or names
        a symbol that is neither a coordinate of the grid nor a parameter.
    """
    import ast

    import sympy as sp

    from ..expressions import parse_expression

    where = f"inside = {text!r}"
    # &, | and ~ (and &&, ||) are "and", "or", "not": Python's & binds tighter than <, so that
    # "x < 1 & y < 1" would read as "x < (1 & y) < 1"
    words = text.replace("&&", "&").replace("||", "|").replace("&", " and ").replace("|", " or ")
    words = words.replace("~", " not ").replace("^", "**")
    try:
        tree_ast = ast.parse(words.strip(), mode="eval").body
    except SyntaxError:
        raise GridError(f"{where}: cannot parse the condition (invalid syntax)") from None

    def side(node: ast.AST) -> sp.Expr:
        try:
            return parse_expression(ast.unparse(node))
        except Exception as err:  # the parser's one-line errors, naming the key
            raise GridError(f"{where}: {err}") from None

    def convert(node: ast.AST) -> Any:
        if isinstance(node, ast.BoolOp):
            return ("max" if isinstance(node.op, ast.And) else "min", [convert(v) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ("neg", [convert(node.operand)])
        if isinstance(node, ast.Compare):
            terms = [node.left, *node.comparators]
            parts = []
            for op, lhs, rhs in zip(node.ops, terms, terms[1:]):
                if isinstance(op, (ast.Lt, ast.LtE)):
                    parts.append(("expr", side(lhs) - side(rhs)))
                elif isinstance(op, (ast.Gt, ast.GtE)):
                    parts.append(("expr", side(rhs) - side(lhs)))
                else:
                    raise GridError(f"{where}: use <, <=, > or >= in a condition, not {ast.unparse(op)!r}")
            return parts[0] if len(parts) == 1 else ("max", parts)
        raise GridError(f"{where}: not a condition (use <, > and &, |, ~ to combine them), got {ast.unparse(node)!r}")

    coords = [sp.Symbol(a) for a in "xyz"[:ndim]]
    values = {sp.Symbol(k): float(v) for k, v in parameters.items()}

    def symbols(node: Any) -> set:
        kind, arg = node
        return set(arg.free_symbols) if kind == "expr" else set().union(*(symbols(a) for a in arg))

    tree = convert(tree_ast)
    free = symbols(tree) - set(coords) - set(values)
    if free:
        names = ", ".join(sorted(map(str, free)))
        raise GridError(f"{where}: unknown symbol {names!r} (the grid's coordinates are {', '.join(map(str, coords))})")

    def build(node: Any) -> Callable[..., np.ndarray]:
        kind, arg = node
        if kind == "expr":
            f = sp.lambdify(coords, arg.xreplace(values), modules="numpy")
            return lambda *c: np.broadcast_to(np.asarray(f(*c), dtype=float), np.broadcast(*c).shape)
        parts = [build(a) for a in arg]
        if kind == "neg":
            return lambda *c: -parts[0](*c)
        combine = np.maximum if kind == "max" else np.minimum

        def combined(*c: np.ndarray) -> np.ndarray:
            out = parts[0](*c)
            for p in parts[1:]:
                out = combine(out, p(*c))
            return out

        return combined

    return build(tree)


def _segment_fraction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fraction of a segment where the linear interpolant of its end values ``a, b`` is negative."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(a < 0, a / (a - b), b / (b - a))
    return np.where((a < 0) & (b < 0), 1.0, np.where((a >= 0) & (b >= 0), 0.0, cut))


def _triangle_fraction(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Fraction of a triangle where the linear interpolant of its corner values is negative."""
    values = np.stack([a, b, c])
    negative = values < 0
    count = negative.sum(axis=0)
    # the corner alone on its side: the only negative one (count 1) or the only non-negative (count 2)
    lonely = np.where(count == 1, np.argmax(negative, axis=0), np.argmax(~negative, axis=0))
    p = np.take_along_axis(values, lonely[None], axis=0)[0]
    others = [np.take_along_axis(values, ((lonely + k) % 3)[None], axis=0)[0] for k in (1, 2)]
    with np.errstate(divide="ignore", invalid="ignore"):
        corner = p * p / ((p - others[0]) * (p - others[1]))
    out = np.where(count == 1, corner, 1.0 - corner)
    return np.where(count == 3, 1.0, np.where(count == 0, 0.0, out))


def _square_fraction(c00: np.ndarray, c10: np.ndarray, c01: np.ndarray, c11: np.ndarray) -> np.ndarray:
    """Fraction of a square (corner values ``c_ij`` at ``(i, j)``) where the piecewise-linear
    interpolant on its two triangles (split along the ``00–11`` diagonal) is negative."""
    return 0.5 * (_triangle_fraction(c00, c10, c11) + _triangle_fraction(c00, c11, c01))


#: Gauss–Legendre sections of a 3D cell in z (points in [0, 1] and weights).
_GAUSS = tuple((0.5 * (1 + p), 0.5 * w) for p, w in zip(*np.polynomial.legendre.leggauss(4)))


def read_mask(path: str | Path, shape: Sequence[int]) -> np.ndarray:
    """A mask file on a grid of ``shape`` cells: a picture on a 2D grid, dark pixels (luminance
    below one half) inside, its columns ``x`` and its rows ``y`` from the top (high ``y``) down;
    or a NumPy ``.npy`` array of the grid's shape (any dimension), nonzero inside.

    Raises
    ------
    GridError
        If the file cannot be read, or its size is not the grid's.
    """
    from PIL import Image, UnidentifiedImageError

    if str(path).endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise GridError(f"cannot read mask array {str(path)!r}: {err}") from None
        if array.shape != tuple(shape):
            raise GridError(f"mask array {str(path)!r} has shape {array.shape}; the grid has {tuple(shape)} cells")
        return np.asarray(array != 0)

    try:
        with Image.open(path) as image:
            gray = np.asarray(image.convert("L"), dtype=float) / 255.0
    except (OSError, UnidentifiedImageError) as err:
        raise GridError(f"cannot read mask picture {str(path)!r}: {err}") from None
    if len(shape) != 2 or gray.shape != (shape[1], shape[0]):
        raise GridError(
            f"mask picture {str(path)!r} is {gray.shape[1]}x{gray.shape[0]} pixels; the grid is "
            f"{'x'.join(map(str, shape))} cells (one pixel a cell)"
        )
    return (gray < 0.5)[::-1].T.copy()


@dataclass(frozen=True, eq=False)
class Shape(OnBox):
    """The part of a box grid inside a condition or a mask, as cut cells (module docstring).

    Parameters
    ----------
    box : Grid
        The box and its cells; the shape's cells are those of the box.
    inside : str, optional
        A condition on ``x, y, z`` (and ``parameters``): ``"(x-10)^2 + (y-10)^2 < 100"``.
    mask : array of bool, optional
        Instead of ``inside``: the cells inside, shape ``box.shape``.
    parameters : mapping, optional
        Values of names the condition uses besides the coordinates.

    Raises
    ------
    GridError
        Neither or both of ``inside`` and ``mask``; a bad condition (not a condition, unknown
        symbols) or mask (wrong shape); a shape with no cell, or with no whole cell; a shape that
        reaches a periodic side of the box (the box wraps there; a shape needs walls).

    Examples
    --------
    >>> disc = Shape(Grid((40, 40), ((0, 20), (0, 20))), "(x-10)^2 + (y-10)^2 < 64")
    >>> round(disc.measure / (math.pi * 64), 4)  # the disc's area, to second order in h
    1.0
    """

    inside: str | None = None
    mask: np.ndarray | None = field(default=None, repr=False)
    parameters: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.box, Grid):
            raise GridError(f"a shape is cut out of a crossdiff Grid, got {type(self.box).__name__}")
        if (self.inside is None) == (self.mask is None):
            raise GridError("a shape needs one of inside (a condition on x, y, z) and mask (the cells inside)")
        if self.inside is not None and not isinstance(self.inside, str):
            raise GridError(f"inside must be a condition such as 'x^2 + y^2 < 1', got {self.inside!r}")
        if self.mask is not None:
            mask = np.asarray(self.mask)
            if mask.shape != self.box.shape:
                raise GridError(f"the mask has shape {mask.shape}; the grid has {self.box.shape} cells")
            object.__setattr__(self, "mask", mask.astype(bool))
        object.__setattr__(self, "parameters", dict(self.parameters))
        self._check()

    # ---------------------------------------------------------------- cut cells
    @cached_property
    def _phi(self) -> np.ndarray | None:
        """The level set at the cell corners, shape ``cells + 1`` (None for a mask)."""
        if self.inside is None:
            return None
        nodes = [lo + h * np.arange(n + 1) for (lo, _), h, n in zip(self.extent, self.spacing, self.cells)]
        f = _level_set(self.inside, self.parameters, self.ndim)
        with np.errstate(all="ignore"):
            phi = np.array(f(*np.meshgrid(*nodes, indexing="ij")), dtype=float)
        if not np.all(np.isfinite(phi)):
            raise GridError(f"inside = {self.inside!r} is not finite everywhere on the box")
        return phi

    @cached_property
    def volume_fraction(self) -> np.ndarray:
        """``κ``: the fraction of each cell's volume inside the shape, shape ``cells``."""
        phi = self._phi
        if phi is None:
            assert self.mask is not None
            return self.mask.astype(float)
        if self.ndim == 1:
            return _segment_fraction(phi[:-1], phi[1:])
        if self.ndim == 2:
            return _square_fraction(phi[:-1, :-1], phi[1:, :-1], phi[:-1, 1:], phi[1:, 1:])
        out = np.zeros(self.cells)
        for s, w in _GAUSS:  # sections in z, phi linear in z between the corner layers
            layer = (1 - s) * phi[:, :, :-1] + s * phi[:, :, 1:]
            out += w * _square_fraction(layer[:-1, :-1], layer[1:, :-1], layer[:-1, 1:], layer[1:, 1:])
        return out

    @cached_property
    def apertures(self) -> tuple[np.ndarray, ...]:
        """``a``: per axis, the fraction of each face's area inside the shape, shape ``cells``
        with one more along that axis (faces ``0 … n``; the box's walls are faces 0 and n)."""
        phi = self._phi
        out = []
        for a in range(self.ndim):
            if phi is None:
                assert self.mask is not None
                m = self.mask
                pad = [(1, 1) if b == a else (0, 0) for b in range(self.ndim)]
                inside = np.pad(m, pad)  # outside the box counts as outside
                lo = inside[tuple(slice(0, -1) if b == a else slice(None) for b in range(self.ndim))]
                hi = inside[tuple(slice(1, None) if b == a else slice(None) for b in range(self.ndim))]
                out.append((lo & hi).astype(float))
                continue
            face = np.moveaxis(phi, a, 0)  # the faces normal to axis a: phi on their corners
            if self.ndim == 1:
                fraction = (face < 0).astype(float)
            elif self.ndim == 2:
                fraction = _segment_fraction(face[:, :-1], face[:, 1:])
            else:
                fraction = _square_fraction(face[:, :-1, :-1], face[:, 1:, :-1], face[:, :-1, 1:], face[:, 1:, 1:])
            out.append(np.moveaxis(fraction, 0, a))
        return tuple(out)

    @cached_property
    def active(self) -> np.ndarray:
        """The cells of the domain (volume fraction above round-off)."""
        return self.volume_fraction > _EMPTY

    @property
    def measure(self) -> float:
        """The shape's length, area or volume: ``Σ κ h^d``."""
        return float(np.sum(self.volume_fraction) * self.cell_volume)

    @property
    def smallest_fraction(self) -> float:
        """The smallest volume fraction of an active cell (what a cut-cell scheme must not let
        limit its step)."""
        return float(np.min(self.volume_fraction[self.active]))

    def integrate(self, field: np.ndarray) -> float | np.ndarray:
        """``Σ κ u h^d`` over the last ``ndim`` axes (the cut cells' averages times their volume)."""
        axes = tuple(range(-self.ndim, 0))
        return np.sum(field * self.volume_fraction, axis=axes) * self.cell_volume

    def _check(self) -> None:
        kappa = self.volume_fraction
        what = f"inside = {self.inside!r}" if self.inside is not None else "the mask"
        if not np.any(kappa > _EMPTY):
            raise GridError(f"the shape of {what} contains no cell of the {self.box.describe()} grid")
        if not np.any(kappa >= 1 - 1e-12):
            raise GridError(f"the shape of {what} leaves no whole cell of the grid: refine the grid")
        for a, periodic in enumerate(self.periodic):
            if periodic and np.any(np.take(self.apertures[a], 0, axis=a) > 0):
                raise GridError(
                    f"the shape of {what} reaches the periodic sides of the {self.axes[a]} axis; a shape needs "
                    "walls there (boundary noflux) or must stay clear of them"
                )

    # ---------------------------------------------------------------- description and files
    def describe(self) -> str:
        """``"disc in 64x64 on [0, 20]x[0, 20]: area 201.1, 3208 active cells (812 cut)"``."""
        kappa = self.volume_fraction
        word = ("length", "area", "volume")[self.ndim - 1]
        cut = int(np.sum(self.active & (kappa < 1 - 1e-12)))
        what = f"inside {self.inside}" if self.inside is not None else "a mask"
        return (
            f"{what} in {self.box.describe()}: {word} {self.measure:.6g}, "
            f"{int(np.sum(self.active))} active cells ({cut} cut)"
        )

    def with_parameters(self, **values: float) -> Shape:
        """The same shape with the condition's parameters replaced by ``values`` where it has them
        (a sweep over a parameter the condition uses)."""
        if self.inside is None or not set(values) & set(self.parameters):
            return self
        params = {**self.parameters, **{k: float(v) for k, v in values.items() if k in self.parameters}}
        return Shape(self.box, self.inside, parameters=params)

    def attributes(self) -> dict[str, object]:
        """The shape as run-file attributes: the box's, and ``inside`` (with the parameters it
        uses, JSON) or ``mask`` (the cells inside, 0/1 flattened)."""
        import json

        attrs = dict(self.box.attributes())
        attrs["grid"] = self.describe()
        if self.inside is not None:
            attrs["inside"] = self.inside
            attrs["inside_parameters"] = json.dumps(self.parameters)
        else:
            assert self.mask is not None
            attrs["mask"] = self.mask.astype(np.int8).ravel()
        return attrs

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, object]) -> Shape:
        """The shape :meth:`attributes` wrote."""
        import json

        box = Grid.from_attributes(attrs)
        if "inside" in attrs:
            params = json.loads(str(attrs.get("inside_parameters", "{}")))
            return cls(box, str(attrs["inside"]), parameters=params)
        if "mask" not in attrs:
            raise GridError("the run file's shape has neither inside nor mask")
        return cls(box, mask=np.asarray(attrs["mask"]).reshape(box.shape).astype(bool))

    def __repr__(self) -> str:
        return f"Shape({self.describe()})"


def default_domain(
    model: Any,
    cells: Sequence[int] | None = None,
    boundary: str | None = None,
    inside: str | None = None,
    mask: str | Path | np.ndarray | None = None,
    growth: str | Sequence[str] | None = None,
    front: str | None = None,
) -> Grid | Shape | GrowingGrid | FrontGrid:
    """A model's default domain: its box (:func:`~crossdiff.grid.default_grid`), cut to the shape
    its ``[domain]`` gives (``inside`` or ``mask``), growing by its ``[domain] growth``, or with its
    high end moving at its ``[domain] front`` speed; or cut to the ``inside`` / ``mask``, growing
    by the ``growth`` or moving at the ``front`` speed given here instead (a condition or a
    growth law may use the model's parameters).

    Raises
    ------
    GridError
        A bad condition or mask (:class:`Shape`), a bad growth law (:class:`Growth`), both
        ``inside`` and ``mask`` given, or a shape that grows (not supported).
    """
    from ._box import default_grid

    box = default_grid(model, cells, boundary)
    if inside is not None and mask is not None:
        raise GridError("give one of inside (a condition) and mask (the cells inside), not both")
    defaults = getattr(model, "defaults", None) or model
    if inside is None and mask is None:
        inside, mask = getattr(defaults, "inside", None), getattr(defaults, "mask", None)
    if growth is None:
        growth = getattr(defaults, "growth", None)
    if front is None:
        front = getattr(defaults, "front", None)
    parameters = dict(getattr(model, "parameters", {}) or {})
    if growth is not None and (inside is not None or mask is not None):
        raise GridError("a shape that grows is not supported: give a growth law on a box, or a shape without growth")
    if front is not None and (growth is not None or inside is not None or mask is not None):
        raise GridError("a free boundary moves the end of an interval: it takes no growth law and no shape")
    if front is not None:
        names = tuple(getattr(model, "species_names", ()))
        return FrontGrid(box, Front(front, names, parameters))
    velocity = getattr(defaults, "growth_velocity", None)
    if velocity is not None:
        if growth is not None or inside is not None or mask is not None:
            raise GridError("a growth velocity moves the tissue of a box: it takes no growth law and no shape")
        laws = (velocity,) if isinstance(velocity, str) else tuple(velocity)
        return GrowingGrid(box, TissueGrowth(laws, box.extent, parameters))
    if growth is not None:
        laws = (growth,) if isinstance(growth, str) else tuple(growth)
        return GrowingGrid(box, Growth(laws, parameters, ndim=box.ndim))
    if inside is not None:
        return Shape(box, inside, parameters=parameters)
    if mask is not None:
        cells_inside = mask if isinstance(mask, np.ndarray) else read_mask(mask, box.shape)
        return Shape(box, mask=cells_inside)
    return box
