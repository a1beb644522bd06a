"""Order conditions of every IMEX tableau that :mod:`crossdiff.time` exports, checked algebraically.

An additive Runge–Kutta method ``(A_E, A_I, b_E, b_I)`` for ``y' = f_E(y) + f_I(y)`` has order
``p`` when ``b_σ · Φ(t) = 1/γ(t)`` for every rooted tree ``t`` with at most ``p`` vertices whose
vertices are coloured E or I, ``σ`` the colour of the root (Kennedy & Carpenter 2003,
docs/references.md [KC03]; for one colour these are Butcher's classical conditions, Hairer,
Nørsett & Wanner, docs/references.md [HNW93]). Here ``Φ(t)`` is the elementary weight: a leaf is
the vector of ones, and a vertex with children ``(colour_k, t_k)`` is the componentwise product of
``A_{colour_k} Φ(t_k)``; ``γ(t)`` is the tree's density, ``|t|`` times the densities of its
subtrees. The pairs of :class:`~crossdiff.time.IMEXTableau` share ``b = b_E = b_I`` (the root's
colour does not matter); the globally stiffly accurate :class:`~crossdiff.time.GSATableau`
(ARS(4,4,3)) has the last rows of its tableaux as weights, different for the two parts.
Monochrome trees give the classical conditions of each part (1, 2, 4, 8 conditions up to orders
1–4); trees with both colours are the coupling conditions, e.g. at order 4
``b · A_E A_I c = b · A_I A_E c = 1/24``.

The tableaux are collected from the module, so a tableau added to :mod:`crossdiff.time` is covered
without editing this file.

Tolerance. The coefficients are rational numbers rounded to doubles (relative error ≤ 2⁻⁵³ ≈ 1.1e-16
each); a condition of order ≤ 5 sums at most ``s⁴ = 1296`` products of at most five coefficients of
magnitude ≤ 1.1, so its rounding error is far below 1e-12 (the residuals measured are ≤ 2e-16). The
conditions one order above a method's order fail by at least 3e-4 for the exported methods, so
``_TOL = 1e-12`` separates "holds" from "fails" by eight orders of magnitude, and ``_FAILS = 1e-8``
is a safe lower bound for a genuine failure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

import crossdiff.time

_TOL = 1e-12
_FAILS = 1e-8

#: A rooted tree: the sorted tuple of its root's children, each ``(colour, subtree)``.
Tree = tuple[tuple[str, "Tree"], ...]

#: every tableau the package exports (its names are imported on first use: ask for each)
TABLEAUX = [
    v for v in (getattr(crossdiff.time, n) for n in crossdiff.time.__all__) if isinstance(v, crossdiff.time.ButcherPair)
]
#: the pairs with an embedded solution (``b_embedded``)
EMBEDDED = [t for t in TABLEAUX if isinstance(t, crossdiff.time.IMEXTableau)]


# ----------------------------------------------------------------------------- rooted trees
@cache
def trees(order: int, colours: str) -> tuple[Tree, ...]:
    """Every rooted tree with ``order`` vertices, non-root vertices coloured from ``colours``."""
    if order == 1:
        return ((),)
    found: set[Tree] = set()

    def children(remaining: int, largest: int) -> Iterator[Tree]:
        # multisets of subtrees whose sizes add up to ``remaining``, sizes non-increasing
        if remaining == 0:
            yield ()
            return
        for k in range(min(remaining, largest), 0, -1):
            for sub in trees(k, colours):
                for colour in colours:
                    for rest in children(remaining - k, k):
                        yield ((colour, sub),) + rest

    for kids in children(order - 1, order - 1):
        found.add(tuple(sorted(kids)))
    return tuple(sorted(found))


def size(t: Tree) -> int:
    return 1 + sum(size(sub) for _, sub in t)


def density(t: Tree) -> int:
    """``γ(t) = |t| ∏ γ(t_k)`` over the subtrees ``t_k`` of the root."""
    g = size(t)
    for _, sub in t:
        g *= density(sub)
    return g


def weight(t: Tree, parts: dict[str, np.ndarray], ones: np.ndarray) -> np.ndarray:
    """The elementary weight vector ``Φ(t)`` (see the module docstring)."""
    out = ones
    for colour, sub in t:
        out = out * (parts[colour] @ weight(sub, parts, ones))
    return out


def residuals(
    b: np.ndarray | dict[str, np.ndarray], parts: dict[str, np.ndarray], order: int, colours: str
) -> list[float]:
    """``|b_σ · Φ(t) − 1/γ(t)|`` for every tree with exactly ``order`` vertices and every root
    colour ``σ`` of ``colours`` (``b``: one weight vector for every colour, or one per colour)."""
    weights = b if isinstance(b, dict) else {colour: b for colour in colours}
    ones = np.ones(len(next(iter(parts.values()))))
    return [
        abs(float(weights[root] @ weight(t, parts, ones)) - 1.0 / density(t))
        for t in trees(order, colours)
        for root in colours
    ]


def parts_of(tableau: crossdiff.time.ButcherPair) -> dict[str, np.ndarray]:
    return {"E": tableau.explicit, "I": tableau.implicit}


def weights_of(tableau: crossdiff.time.ButcherPair) -> dict[str, np.ndarray]:
    b_e, b_i = tableau.weights
    return {"E": b_e, "I": b_i}


def worst_residual(
    tableau: crossdiff.time.ButcherPair, parts: dict[str, np.ndarray], b: dict[str, np.ndarray]
) -> float:
    """The largest residual of every condition up to the tableau's order, couplings included."""
    return max(max(residuals(b, parts, n, "EI")) for n in range(1, tableau.order + 1))


# ----------------------------------------------------------------------------- the machinery itself
def test_tree_counts_are_the_known_ones():
    # rooted trees with 1..5 vertices: 1, 1, 2, 4, 9 (so 1, 2, 4, 8 conditions up to order 1..4)
    assert [len(trees(n, "E")) for n in range(1, 6)] == [1, 1, 2, 4, 9]
    assert list(itertools.accumulate(len(trees(n, "E")) for n in range(1, 5))) == [1, 2, 4, 8]
    # two colours on the non-root vertices: order 2 -> 2, order 3 -> 3 (bushy) + 4 (tall) = 7
    assert [len(trees(n, "EI")) for n in range(1, 4)] == [1, 2, 7]
    # the order-4 coupling conditions b·A A' c = 1/24 appear for all four (A, A') pairs
    tall = [t for t in trees(4, "EI") if len(t) == 1 and len(t[0][1]) == 1 and len(t[0][1][0][1]) == 1]
    assert sorted((t[0][0], t[0][1][0][0]) for t in tall if t[0][1][0][1][0][0] == "E") == [
        ("E", "E"),
        ("E", "I"),
        ("I", "E"),
        ("I", "I"),
    ]
    assert {density(t) for t in tall} == {24}


def _rk4() -> tuple[np.ndarray, np.ndarray]:
    a = np.array([[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1.0, 0]])
    return a, np.array([1, 2, 2, 1]) / 6


def test_classical_rk4_is_order_four_exactly():
    # the check must see both sides: RK4 (exactly order 4) passes 1..4 and fails at 5
    a, b = _rk4()
    for n in range(1, 5):
        assert max(residuals(b, {"E": a}, n, "E")) < _TOL
    assert max(residuals(b, {"E": a}, 5, "E")) > _FAILS


def test_coupling_conditions_catch_a_mismatched_pair():
    # Explicit RK4 paired with a (fully implicit) part that has the same b and c and classical
    # order 4 of its own: A_I = A_RK4 + D, with D chosen (by hand, in exact arithmetic) so that
    # D 1 = 0, b·Dc = b·Dc² = b·(c∘Dc) = 0 and b·(A D + D A + D²) c = 0. Each part alone passes
    # every condition to order 4, but b·A_I A_E c = 1/12 instead of 1/24: only the coupling
    # (mixed-colour) trees can see that, so this pair must fail at order 4.
    a, b = _rk4()
    d = np.array([[0, 0, 0, 0], [-1 / 8, -1 / 2, 1 / 2, 1 / 8], [1 / 8, 0, 0, -1 / 8], [0, 0, 0, 0]])
    a_i = a + d
    for part in (a, a_i):
        for n in range(1, 5):
            assert max(residuals(b, {"E": part}, n, "E")) < _TOL
    c = a.sum(axis=1)
    assert abs(b @ a_i @ a @ c - 1 / 12) < _TOL
    mixed = [t for t in trees(4, "EI") if {col for col, _ in _vertices(t)} == {"E", "I"}]
    worst = max(abs(float(b @ weight(t, {"E": a, "I": a_i}, np.ones(4))) - 1 / density(t)) for t in mixed)
    assert worst > _FAILS
    assert max(residuals(b, {"E": a, "I": a_i}, 4, "EI")) > _FAILS


def _vertices(t: Tree) -> Iterator[tuple[str, Tree]]:
    """The coloured (non-root) vertices of ``t``, each with its subtree."""
    for colour, sub in t:
        yield colour, sub
        yield from _vertices(sub)


# ----------------------------------------------------------------------------- every exported tableau
def test_the_collection_finds_the_exported_tableaux():
    names = {t.name for t in TABLEAUX}
    assert {crossdiff.time.KENCARP3.name, crossdiff.time.KENCARP4.name, crossdiff.time.ARS443.name} <= names
    assert {t.name for t in EMBEDDED} == names - {crossdiff.time.ARS443.name}


def test_ars443_weights_are_its_last_rows():
    # globally stiffly accurate: U^{n+1} is the last stage, so b_E, b_I are the last rows; they
    # differ (the root colour of the trees matters), and c_s = 1
    ars = crossdiff.time.ARS443
    b_e, b_i = ars.weights
    assert np.array_equal(b_e, ars.explicit[-1]) and np.array_equal(b_i, ars.implicit[-1])
    assert not np.array_equal(b_e, b_i) and ars.c[-1] == 1.0 and ars.order == 3


@pytest.mark.parametrize("tableau", TABLEAUX, ids=lambda t: t.name)
@pytest.mark.parametrize("part", ["E", "I"])
def test_each_part_has_the_classical_order(tableau, part):
    for n in range(1, tableau.order + 1):
        worst = max(residuals(weights_of(tableau), parts_of(tableau), n, part))
        assert worst < _TOL, f"{tableau.name} part {part}: order-{n} condition off by {worst:.2e}"


@pytest.mark.parametrize("tableau", TABLEAUX, ids=lambda t: t.name)
def test_coupling_conditions_hold_to_the_order(tableau):
    for n in range(1, tableau.order + 1):
        worst = max(residuals(weights_of(tableau), parts_of(tableau), n, "EI"))
        assert worst < _TOL, f"{tableau.name}: order-{n} coupling condition off by {worst:.2e}"


def _perturbed(tableau: crossdiff.time.ButcherPair, part: str, i: int, j: int, delta: float):
    """The tableau's parts and weights with the coefficient ``(i, j)`` of ``part`` changed by
    ``delta`` (the weights of a globally stiffly accurate pair are its last rows, so they change
    with them)."""
    parts = {k: m.copy() for k, m in parts_of(tableau).items()}
    parts[part][i, j] += delta
    if isinstance(tableau, crossdiff.time.GSATableau):
        return parts, {"E": parts["E"][-1], "I": parts["I"][-1]}
    return parts, weights_of(tableau)


@pytest.mark.parametrize("tableau", TABLEAUX, ids=lambda t: t.name)
def test_a_perturbed_coefficient_breaks_the_order(tableau):
    """Every coefficient matters: changed by 1e-6 (each entry the structure leaves free: below
    the diagonal of A_E, on and below that of A_I past its zero first row, and each weight), some
    condition up to the stated order fails by more than _FAILS. So the checks above would catch a
    mistyped coefficient of any exported tableau, ARS(4,4,3) included."""
    delta = 1e-6
    s = tableau.stages
    free = [("E", i, j) for i in range(s) for j in range(i)]
    first = 1 if isinstance(tableau, crossdiff.time.GSATableau) else 0  # GSA: zero first column
    free += [("I", i, j) for i in range(1, s) for j in range(first, i + 1)]
    for part, i, j in free:
        parts, b = _perturbed(tableau, part, i, j, delta)
        worst = worst_residual(tableau, parts, b)
        assert worst > _FAILS, f"{tableau.name}: A_{part}[{i}, {j}] + {delta:g} still passes ({worst:.2e})"
    for part in "EI":
        for j in range(s):
            b = {k: v.copy() for k, v in weights_of(tableau).items()}
            b[part][j] += delta
            worst = worst_residual(tableau, parts_of(tableau), b)
            assert worst > _FAILS, f"{tableau.name}: b_{part}[{j}] + {delta:g} still passes ({worst:.2e})"


@pytest.mark.parametrize("tableau", EMBEDDED, ids=lambda t: t.name)
def test_embedded_weights_have_the_embedded_order(tableau):
    for n in range(1, tableau.embedded_order + 1):
        worst = max(residuals(tableau.b_embedded, parts_of(tableau), n, "EI"))
        assert worst < _TOL, f"{tableau.name}: embedded order-{n} condition off by {worst:.2e}"


@pytest.mark.parametrize("tableau", TABLEAUX, ids=lambda t: t.name)
def test_the_stated_order_is_sharp(tableau):
    # one order above the stated one some condition fails clearly: the stated order is the order
    assert max(residuals(weights_of(tableau), parts_of(tableau), tableau.order + 1, "EI")) > _FAILS


@pytest.mark.parametrize("tableau", EMBEDDED, ids=lambda t: t.name)
def test_the_stated_embedded_order_is_sharp(tableau):
    assert max(residuals(tableau.b_embedded, parts_of(tableau), tableau.embedded_order + 1, "EI")) > _FAILS
    # an embedded pair of lower order, else the error estimate Δt Σ (b − b̂)_j K_j would not
    # measure the leading local error
    assert tableau.embedded_order < tableau.order


def _exact(x: float) -> Fraction:
    return Fraction(x)


@pytest.mark.parametrize("tableau", TABLEAUX, ids=lambda t: t.name)
def test_written_out_conditions_agree_with_the_tree_sums(tableau):
    """The order 3 and 4 conditions written out (explicit/implicit/mixed), in exact arithmetic,
    for the weights of each part (one shared vector for an IMEXTableau, two for ARS(4,4,3)).

    Computed with :class:`fractions.Fraction` on the stored doubles, so the only error is the
    rounding of the coefficients themselves: that is what the 1e-12 tolerance allows for.
    """
    mats = {k: [[_exact(x) for x in row] for row in m] for k, m in parts_of(tableau).items()}
    s = tableau.stages

    def mv(m: Sequence[Sequence[Fraction]], v: Sequence[Fraction]) -> list[Fraction]:
        return [sum((m[i][j] * v[j] for j in range(s)), Fraction(0)) for i in range(s)]

    def dot(u: Sequence[Fraction], v: Sequence[Fraction]) -> Fraction:
        return sum((x * y for x, y in zip(u, v)), Fraction(0))

    def sq(v: Sequence[Fraction]) -> list[Fraction]:
        return [x * x for x in v]

    # c of each part (row sums): equal for the exported pairs, checked by the conditions below
    cs = {k: mv(mats[k], [Fraction(1)] * s) for k in "EI"}
    c = cs["E"]
    distinct = {tuple(w) for w in weights_of(tableau).values()}
    conditions: list[tuple[int, str, Fraction, Fraction]] = []
    for w in sorted(distinct):
        b = [_exact(x) for x in w]
        conditions += [
            (1, "Σb", sum(b, Fraction(0)), Fraction(1)),
            (2, "b·c", dot(b, c), Fraction(1, 2)),
            (3, "b·c²", dot(b, sq(c)), Fraction(1, 3)),
        ]
        for k in "EI":
            conditions.append((3, f"b·A_{k}c", dot(b, mv(mats[k], cs[k])), Fraction(1, 6)))
        conditions.append((4, "b·c³", dot(b, [x**3 for x in c]), Fraction(1, 4)))
        for k in "EI":
            ac = mv(mats[k], c)
            conditions.append((4, f"b·(c∘A_{k}c)", dot(b, [x * y for x, y in zip(c, ac)]), Fraction(1, 8)))
            conditions.append((4, f"b·A_{k}c²", dot(b, mv(mats[k], sq(c))), Fraction(1, 12)))
            for k2 in "EI":
                conditions.append((4, f"b·A_{k}A_{k2}c", dot(b, mv(mats[k], mv(mats[k2], c))), Fraction(1, 24)))
    checked = 0
    for order, label, value, target in conditions:
        if order <= tableau.order:
            assert abs(float(value - target)) < _TOL, f"{tableau.name}: {label} = {float(value)} != {target}"
            checked += 1
    # per weight vector: 5 written-out conditions up to order 3 (both parts), 14 up to order 4
    assert checked == {3: 5, 4: 14}[tableau.order] * len(distinct)
