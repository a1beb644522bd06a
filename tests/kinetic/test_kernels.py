"""The compiled micro-part kernels against their NumPy formulas, and the affine bias path against
the values of the kernel at every node."""

from __future__ import annotations

import itertools

import numpy as np

import crossdiff as cd
from crossdiff.catalogue import load_kinetic
from crossdiff.kinetic import KineticDiscretisation
from crossdiff.kinetic._kernels import face4, micro_explicit, relaxation_solve


def _state(system: KineticDiscretisation, rng: np.random.Generator) -> np.ndarray:
    """A state with smooth positive densities and a random micro part (zero in the unused slots)."""
    x, y = system.grid.mesh()
    U = system.initial_state(
        {s: 1 + 0.3 * np.cos(x + k) * np.sin(0.5 * y) for k, s in enumerate(system.model.species_names)}
    )
    for a in range(system.dim):
        view = system.staggered.g(U, a)
        view[...] = rng.standard_normal(view.shape)
    return U


def test_affine_bias_equals_the_bias_at_every_node():
    """``cancer-invasion-kinetic``'s bias (51) is affine in v*: its coefficients give the same
    explicit part and stage solve as its values at the 8 nodes (same sums in another order:
    1e-12 relative)."""
    kin = load_kinetic("cancer-invasion-kinetic")
    grid = cd.Grid((12, 10), kin.defaults.extent)
    system = KineticDiscretisation(kin, grid, 0.05, velocities=8)
    assert system.operators.bias[0] is not None and system.operators.bias[0].affine is not None
    U = _state(system, np.random.default_rng(1))
    system.prepare(0.0, U)
    E1, X1 = system.explicit(0.0, U), system.solve_implicit(U, 1e-3)
    for f in system.operators.bias:
        if f is not None:
            f.affine = None
    system.operators.cache.clear()
    E2, X2 = system.explicit(0.0, U), system.solve_implicit(U, 1e-3)
    assert np.max(np.abs(E1 - E2)) <= 1e-12 * np.max(np.abs(E2))
    assert np.max(np.abs(X1 - X2)) <= 1e-12 * np.max(np.abs(X2))


def test_kernels_equal_their_numpy_formulas_on_strided_views():
    """Both kernels on non-contiguous views (the faces of a wall axis are a slice of the slots),
    with a bias given at the nodes and as affine coefficients, split into tasks for 1 or 3
    threads: equal to the NumPy formulas of their docstrings to round-off (1e-13 relative)."""
    rng = np.random.default_rng(2)
    m, d, shape = 6, 2, (7, 9)
    nodes = rng.standard_normal((m, d))
    w = rng.uniform(0.5, 1.0, m)
    M = rng.uniform(0.5, 1.0, m)
    slots = lambda lead: rng.standard_normal((*lead, shape[0] + 1, shape[1] + 1))[..., : shape[0], : shape[1]]  # noqa: E731
    B, dg, g = slots((m,)), slots((m,)), slots((m,))
    X, out = np.zeros((m, *shape)), np.zeros((m, *shape))
    grads, coef = rng.standard_normal((d, *shape)), rng.standard_normal((m, d))
    sigma, up = rng.uniform(1, 2, shape), rng.uniform(0, 1, shape)
    affine = rng.standard_normal((1 + d, *shape))
    tau = affine[0] + np.einsum("kb,b...->k...", nodes, affine[1:])
    W = w.sum()
    e, gdt, bias = 0.3, 0.2, 0.7
    for (C, is_affine), threads in itertools.product(((face4(tau), False), (face4(affine), True)), (1, 3)):
        relaxation_solve(
            face4(B),
            face4(X),
            e,
            gdt,
            face4(sigma, 0),
            coef,
            face4(grads),
            bias,
            face4(up, 0),
            C,
            is_affine,
            nodes,
            M,
            w,
            threads,
        )
        gain = np.einsum("k,k...->...", w * M, tau)
        F = np.einsum("kb,b...->k...", coef, grads) + bias * up * (gain - W * tau * M[:, None, None])
        expected = (e * B + gdt * F) / (e + gdt * sigma)
        assert np.max(np.abs(X - expected)) <= 1e-13 * np.max(np.abs(expected))
        flux = np.full(shape, np.nan)
        wv = w * nodes[:, 0]
        micro_explicit(
            face4(dg), face4(g), face4(out), 1 / 0.05, bias, C, is_affine, nodes, M, w, wv, face4(flux, 0), threads
        )
        assert np.max(np.abs(flux - np.einsum("k,k...->...", wv, g))) <= 1e-13 * np.max(np.abs(g))
        mean = np.einsum("k,k...->...", w, dg)
        expected = (dg - M[:, None, None] * mean) / 0.05 + bias * (np.einsum("k,k...->...", w, tau * g) - W * tau * g)
        assert np.max(np.abs(out - expected)) <= 1e-13 * np.max(np.abs(expected))


def test_kernels_on_the_padded_blocks_equal_them_on_the_face_views():
    """The discretisation hands the kernels the state's contiguous block of ``g_i^a`` with the
    padding of the wall axes (``StaggeredGrid.block``, vectorised loops) instead of its strided
    face view: the same arithmetic in the same order, so the results are equal bit for bit, and
    the padding slots are neither read into the result nor written (they stay as they were)."""
    kin = load_kinetic("cancer-invasion-kinetic")
    grid = cd.Grid((9, 7), kin.defaults.extent)  # walls on both axes: every face view is strided
    system = KineticDiscretisation(kin, grid, 0.05, velocities=8)
    st = system.staggered
    rng = np.random.default_rng(3)
    U = _state(system, rng)
    nodes, w, M = system.nodal.nodes, system.nodal.weights, system.M[0]
    for a in range(system.dim):
        view, block = st.g(U, a)[0], st.block(U, 0, a)
        assert block.flags.c_contiguous and not view.flags.c_contiguous
        assert np.shares_memory(view, block) and np.array_equal(block[(slice(None),) + st.face_slices[a]], view)
        faces = view.shape[1:]
        C = face4(rng.standard_normal((1 + system.dim, *faces)), 1)
        dg = rng.standard_normal(view.shape)
        padded_dg = rng.standard_normal(block.shape)  # the padding holds garbage: it must not matter
        padded_dg[(slice(None),) + st.face_slices[a]] = dg
        out_view, out_block = np.zeros(view.shape), np.full(block.shape, 7.0)
        flux_view, flux_block = np.zeros(faces), np.zeros(faces)
        for g, d_in, out, flux in ((view, dg, out_view, flux_view), (block, padded_dg, out_block, flux_block)):
            micro_explicit(
                face4(d_in), face4(g), face4(out), 20.0, 0.7, C, True, nodes, M, w, w * nodes[:, a], face4(flux, 0), 1
            )
        inside = (slice(None),) + st.face_slices[a]
        assert np.array_equal(out_block[inside], out_view) and np.array_equal(flux_block, flux_view)
        outside = np.ones(block.shape, dtype=bool)
        outside[inside] = False
        assert outside.any() and np.all(out_block[outside] == 7.0)
        sigma, up = rng.uniform(1, 2, faces), rng.uniform(0, 1, faces)
        grads, coef = rng.standard_normal((system.dim, *faces)), rng.standard_normal((len(w), system.dim))
        X_view, X_block = np.zeros(view.shape), np.full(block.shape, 7.0)
        for B, X in ((view, X_view), (block, X_block)):
            relaxation_solve(
                face4(B),
                face4(X),
                0.3,
                0.2,
                face4(sigma, 0),
                coef,
                face4(grads),
                0.5,
                face4(up, 0),
                C,
                True,
                nodes,
                M,
                w,
                1,
            )
        assert np.array_equal(X_block[inside], X_view) and np.all(X_block[outside] == 7.0)


def test_skipping_a_vanishing_projected_interaction_changes_nothing():
    """``(I − Π) G`` is zero at every node when ``G`` does not depend on ``v`` and the equilibrium
    is uniform (``1 − M_k Σ w = 0``): the explicit part skips evaluating it there
    (``projected_reaction_vanishes``), and is equal bit for bit to the one that evaluates it; on
    a Gaussian (non-uniform) equilibrium nothing is skipped."""
    kin = load_kinetic("cancer-invasion-kinetic")
    system = KineticDiscretisation(kin, cd.Grid((10, 8), kin.defaults.extent), 0.05, velocities=8)
    assert all(system.operators.projected_reaction_vanishes)
    U = _state(system, np.random.default_rng(4))
    system.prepare(0.0, U)
    skipped = system.explicit(0.0, U)
    system.operators.projected_reaction_vanishes = [False] * system.n_species
    assert np.array_equal(system.explicit(0.0, U), skipped)
    gaussian = load_kinetic("keller-segel-gaussian-kinetic")
    other = KineticDiscretisation(gaussian, cd.Grid((8,) * gaussian.dim, gaussian.defaults.extent), 0.05, velocities=8)
    assert any(f is not None for f in other.operators.interaction)
    assert not any(other.operators.projected_reaction_vanishes)
