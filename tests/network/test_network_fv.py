"""Finite volumes on networks: a path of two edges is an interval; mass with taxis and strong
transmission contrasts; no negative values; the star graph's Laplacian spectrum at order 2."""

from __future__ import annotations

import math

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.analysis import network_modes
from crossdiff.fv import Discretisation, NetworkDiscretisation
from crossdiff.grid import Edge, Grid, Network, VertexCondition
from crossdiff.model import Model, Species, Taxis


def _keller_segel(reaction: str = "u*(1-u)", chi: float = 2.0) -> Model:
    return Model(
        species=(
            Species("u", diffusion=0.1, taxis=(Taxis("v", "chi"),), reaction=reaction),
            Species("v", diffusion=1.0, reaction="u - v"),
        ),
        parameters={"chi": chi},
        name="ks",
    )


def _initial(x: np.ndarray) -> np.ndarray:
    return np.stack([1 + 0.5 * np.cos(3 * x) ** 2 + 0.3 * np.sin(7 * x), 1 + 0.5 * np.sin(2 * x)])


def test_a_path_of_two_edges_is_an_interval_to_round_off():
    """Two edges of equal cells meeting at a Kirchhoff vertex: the vertex face is the interval's
    interior face (conductance g g'/(g + g') = 1/h), the end cells' slopes are limited against
    the ghost 2u_v − u_e = the neighbour across the vertex, the taxis flux is the same upwind
    flux; so the operators agree to round-off and so do 50 IMEX steps."""
    model = _keller_segel()
    path = Network(["A", "B", "C"], [("A", "B", 1.0), ("B", "C", 1.0)], h=0.05)
    grid = Grid((40,), ((0.0, 2.0),))
    U = _initial(grid.coordinates[0])
    net, box = NetworkDiscretisation(model, path), Discretisation(model, grid)
    scale = np.max(np.abs(box.explicit(0.0, U)))
    # the same floating-point operations inside the edges; the vertex cells' rates differ in
    # the last bits (the vertex face's conductance (2/h)²/(4/h) and its own division by h)
    assert np.max(np.abs(net.explicit(0.0, U) - box.explicit(0.0, U))) <= 1e-14 * scale
    # the second differences' terms are of size D/h² |u| (the result much smaller): a few ulps of them
    terms = 4.0 * 1.0 / 0.05**2 * np.max(np.abs(U))
    assert np.max(np.abs(net.implicit(U) - box.implicit(U))) <= 1e-15 * terms
    # the edges' Thomas solve with the vertex's Schur complement against the DCT solve: round-off
    # of two direct solvers (condition ~ 1 + γΔt·4D/h²)
    assert np.max(np.abs(net.solve_implicit(U, 0.01) - box.solve_implicit(U, 0.01))) <= 1e-14
    assert net.imex_step_limit(0.0, U) == pytest.approx(box.imex_step_limit(0.0, U), rel=1e-14)
    assert net.explicit_step_limit(0.0, U) == pytest.approx(box.explicit_step_limit(0.0, U), rel=1e-14)
    runs = [
        cd.solve(model, domain, 0.05, stepper=cd.time.IMEX(dt=1e-3), initial={"u": U[0], "v": U[1]}, save_every=0.05)
        for domain in (path, grid)
    ]
    assert all(r.success for r in runs)
    # 50 steps, each adding a few ulps of the solvers' difference (measured 5e-14 of max u ≈ 2.4)
    final = runs[1].frames[-1]
    assert np.max(np.abs(runs[0].frames[-1] - final)) <= 1e-13 * np.max(np.abs(final))


def _star(lengths, weights, h, centre: VertexCondition | None = None) -> Network:
    leaves = [f"L{k}" for k in range(len(lengths))]
    edges = [("O", leaf, ell, w) for leaf, ell, w in zip(leaves, lengths, weights)]
    return Network(["O", *leaves], edges, h, {"O": centre or VertexCondition()})


@pytest.mark.parametrize("permeability", [math.inf, 0.05])
def test_mass_is_kept_to_round_off_with_taxis_and_strong_contrasts_and_stays_non_negative(permeability):
    """No reactions: every face (interior or vertex pair) gives what it takes, so the mass
    Σ A h u is conserved to round-off; cross-sections 1000:1, lengths 4:1, a vertex of low
    permeability, and a strong chemotactic drive toward one edge."""
    model = _keller_segel(reaction="0", chi=8.0)
    star = _star([1.0, 0.5, 2.0, 1.0], [1.0, 1e-3, 10.0, 0.1], 0.05, VertexCondition(permeability=permeability))
    s = star.arc_length
    edge = star.edge_of_cell
    u = np.where(edge == 1, 2.0, 0.2) * (1 + 0.5 * np.cos(4 * s))
    v = np.where(edge == 0, 3.0 * np.exp(-10 * (s - 0.9) ** 2), 0.1)
    sol = cd.solve(model, star, 1.0, initial={"u": u, "v": v}, save_every=0.25)
    assert sol.success, sol.message
    mass = np.asarray(sol.mass())[:, 0]
    # round-off of sums of ~1e3 terms of size up to 1e1 over hundreds of steps: 1e-12 relative
    assert np.max(np.abs(mass - mass[0])) <= 1e-12 * mass[0], mass - mass[0]
    assert np.min(sol["u"]) >= 0.0
    # the drive moved mass: the run is not trivially static
    assert np.max(np.abs(sol["u"][-1] - sol["u"][0])) > 0.1


def _star_eigenvalues(n_edges: int, length: float, h: float, count: int) -> np.ndarray:
    """The smallest eigenvalues of the discrete −Δ on a star graph, from the operator itself:
    the diffusion system's L = M⁻¹K (D = 1) applied to the unit vectors."""
    model = Model(species=(Species("u", diffusion=1.0),), name="heat")
    star = _star([length] * n_edges, [1.0] * n_edges, h)
    system = NetworkDiscretisation(model, star)
    L = np.column_stack([system.implicit(unit[None])[0] for unit in np.eye(star.size)])
    values = np.sort(np.linalg.eigvals(-L).real)[:count]
    # the analysis layer's modes (a symmetric generalised problem) are the same numbers
    assert np.allclose(network_modes(star, count), values, rtol=1e-9, atol=1e-9)
    return values


def test_the_star_graphs_spectrum_is_reached_at_second_order():
    """Star of N equal edges (length ℓ), Kirchhoff centre, no-flux leaves: the eigenvalues of
    −Δ are (mπ/ℓ)² (once) and ((m+½)π/ℓ)² (N − 1 times) (Berkolaiko & Kuchment 2013, [BK13]:
    symmetric modes cos(k(ℓ−s)) need sin kℓ = 0, the others cos kℓ = 0)."""
    n_edges, ell = 3, 1.0
    exact = sorted(
        [(m * math.pi / ell) ** 2 for m in range(4)] + [((m + 0.5) * math.pi / ell) ** 2 for m in range(3)] * 2
    )[:8]
    errors = []
    for h in (0.1, 0.05, 0.025):
        values = _star_eigenvalues(n_edges, ell, h, 8)
        errors.append(np.abs(values - exact)[1:] / np.array(exact[1:]))
        assert abs(values[0]) < 1e-10  # the constant: mass is conserved
    orders = np.log2(np.array(errors[-2]) / np.array(errors[-1]))
    # second order: the cell-centred 3-point Laplacian and the exact elimination at the vertex
    assert np.all(orders > 1.9), orders
    # and of the 3-point Laplacian's size: 4/h² sin²(kh/2) is (kh)²/12 below k² (relative)
    k2 = np.array(exact[1:])
    assert np.all(errors[-1] <= 1.05 * k2 * 0.025**2 / 12), errors[-1]


def test_a_loop_is_a_periodic_interval():
    """A self-loop (supported): its two ends meet at one Kirchhoff vertex, which joins the last
    cell to the first like the wrap-around face of a periodic axis."""
    model = _keller_segel()
    ring = Network(["A"], [("A", "A", 2.0)], h=0.05)
    grid = Grid((40,), ((0.0, 2.0),), "periodic")
    x = grid.coordinates[0]
    U = np.stack([1 + 0.5 * np.cos(np.pi * x) ** 2, 1 + 0.5 * np.sin(np.pi * x)])
    net, box = NetworkDiscretisation(model, ring), Discretisation(model, grid)
    scale = np.max(np.abs(box.explicit(0.0, U)))
    assert np.max(np.abs(net.explicit(0.0, U) - box.explicit(0.0, U))) <= 1e-14 * scale
    # the second differences' terms are of size D/h² |u| (the result much smaller): a few ulps of them
    terms = 4.0 * 1.0 / 0.05**2 * np.max(np.abs(U))
    assert np.max(np.abs(net.implicit(U) - box.implicit(U))) <= 1e-15 * terms


def _heat(diffusion: str = "1") -> Model:
    return Model(species=(Species("u", diffusion=diffusion, initial="0.5"),), parameters={"D": 1.0}, name="heat")


def _steady(model: Model, network: Network) -> np.ndarray:
    """The steady state: ``L u + E(u) = 0`` solved directly (E holds the Dirichlet data)."""
    system = NetworkDiscretisation(model, network)
    zero = np.zeros((1, network.size))
    source = system.explicit(0.0, zero)[0]
    L = np.column_stack([system.implicit(unit[None])[0] for unit in np.eye(network.size)])
    return np.linalg.solve(L, -source)


def test_dirichlet_vertices_and_per_edge_diffusion_give_the_exact_piecewise_linear_steady_state():
    """u(A) = 1, u(C) = 0, D = 1 on A–B and D = 4 on B–C: u is linear on each edge with the flux
    D_e u' equal on both; the scheme reproduces piecewise-linear states exactly (the Dirichlet
    ghost cell and the vertex elimination are exact for them), so the cell values agree to
    the round-off of a dense solve."""
    vertices = {"A": VertexCondition("dirichlet", {"u": "1"}), "C": VertexCondition("dirichlet", {"u": "0"})}
    edges = [cd.grid.Edge("A", "B", 1.0), cd.grid.Edge("B", "C", 2.0, parameters={"D": 4.0})]
    path = Network(["A", "B", "C"], edges, 0.1, vertices)
    u = _steady(_heat("D"), path)
    flux = 1.0 / (1.0 / 1.0 + 2.0 / 4.0)  # resistances ℓ/D in series
    s, edge = path.arc_length, path.edge_of_cell
    exact = np.where(edge == 0, 1.0 - flux * s, (1.0 - flux) - flux / 4.0 * s)
    assert np.max(np.abs(u - exact)) < 1e-12


def test_a_permeable_vertex_is_a_membrane_between_two_edges():
    """Permeability p at B: j = p (u_1(B) − u_2(B)); with u(A) = 1, u(C) = 0, D = 1 and ℓ = 1
    the flux is 1/(1 + 1/p + 1), exactly reproduced (piecewise linear with a jump)."""
    p = 0.5
    vertices = {
        "A": VertexCondition("dirichlet", {"u": "1"}),
        "B": VertexCondition(permeability=p),
        "C": VertexCondition("dirichlet", {"u": "0"}),
    }
    path = Network(["A", "B", "C"], [("A", "B", 1.0), ("B", "C", 1.0)], 0.05, vertices)
    u = _steady(_heat(), path)
    flux = 1.0 / (2.0 + 1.0 / p)
    s, edge = path.arc_length, path.edge_of_cell
    exact = np.where(edge == 0, 1.0 - flux * s, flux * (1.0 - s))
    assert np.max(np.abs(u - exact)) < 1e-12


def test_an_inflow_vertex_adds_its_rate_to_the_mass_exactly():
    """Inflow q = 0.3 + 0.1 t at a leaf, no flux elsewhere, no reactions: the mass grows by
    ∫ q dt = 0.3 t + 0.05 t² (the time integration of a polynomial source of degree 1 is exact
    for the 4th-order IMEX scheme); the density stays non-negative."""
    vertices = {"L0": VertexCondition("inflow", {"u": "0.3 + 0.1*t"})}
    star = Network(
        ["O", "L0", "L1", "L2"], [("O", "L0", 1.0), ("O", "L1", 2.0, 0.5), ("O", "L2", 0.5, 3.0)], 0.05, vertices
    )
    sol = cd.solve(_heat(), star, 2.0, save_every=1.0)
    assert sol.success
    mass = np.asarray(sol.mass())[:, 0]
    t = np.asarray(sol.t)
    expected = mass[0] + 0.3 * t + 0.05 * t**2
    assert np.max(np.abs(mass - expected)) < 1e-11 * expected[-1]


def test_a_permeability_named_by_a_parameter_follows_the_model_and_sweeps():
    """``permeability = "p"``: the model's parameter p (what a sweep varies) sets the membrane."""
    vertices = {
        "A": VertexCondition("dirichlet", {"u": "1"}),
        "B": VertexCondition(permeability="p"),
        "C": VertexCondition("dirichlet", {"u": "0"}),
    }
    path = Network(["A", "B", "C"], [("A", "B", 1.0), ("B", "C", 1.0)], 0.05, vertices)
    model = Model(species=(Species("u", diffusion=1.0),), parameters={"p": 0.5}, name="heat")
    for p in (0.5, 4.0):
        u = _steady(model.with_parameters(p=p), path)
        flux = 1.0 / (2.0 + 1.0 / p)
        exact = np.where(path.edge_of_cell == 0, 1.0 - flux * path.arc_length, flux * (1.0 - path.arc_length))
        assert np.max(np.abs(u - exact)) < 1e-12
    with pytest.raises(cd.errors.ModelError, match="'p', which is not a parameter"):
        NetworkDiscretisation(_heat(), path)


def test_stability_on_a_network_reads_the_graph_spectrum():
    """The admissible modes of a star of three equal edges are its graph eigenfunctions:
    k = mπ/ℓ and (m+½)π/ℓ (twice), and the critical sensitivity of Keller–Segel with logistic
    growth on keller-segel-star lies just above the continuum's χ_c = (1 + √D)² = 1.7325 (D = 0.1),
    reached by a graph mode near k = D^(-1/4)."""
    from crossdiff.analysis import admissible_modes, critical

    _, k = admissible_modes(_star([1.0] * 3, [1.0] * 3, 0.0125))
    exact = np.sqrt(_star_exact())
    # second order in h = 1/80: relative errors of k below (kh)²/24 (half those of k²)
    assert np.all(np.abs(k[: exact.size, 0] - exact) <= 1.05 * exact**3 * 0.0125**2 / 24 + 1e-9)
    model = cd.catalogue.load("keller-segel-star")
    result = critical(model, "chi", grid=cd.default_domain(model))
    continuum = (1 + math.sqrt(0.1)) ** 2
    assert continuum <= result.value < continuum * (1 + 1e-3), result.value


def _star_exact() -> np.ndarray:
    return np.array(
        sorted([(m * math.pi) ** 2 for m in range(4)] + [((m + 0.5) * math.pi) ** 2 for m in range(3)] * 2)[:8]
    )


@pytest.mark.parametrize(
    "diffusion, tau, reaction_v, tolerance",
    [
        # D(u): the interval solves by conjugate gradients to relative residual 1e-10 (measured 7e-11)
        ("0.1*(1 + u)", 0, "u", 1e-9),
        # a quasi-stationary signal with decay: both direct solves (measured 5e-14)
        ("0.1", 0, "u - v", 1e-12),
    ],
)
def test_nonlinear_diffusion_and_quasi_stationary_species_on_a_path_are_the_interval(
    diffusion, tau, reaction_v, tolerance
):
    """Every term on a path of two edges: density-dependent diffusion (continuous through the
    vertex: its ends take the vertex's mean D, the interval's face mean) and a quasi-stationary
    signal (τ = 0; mean-free when it has no decay)."""
    model = Model(
        species=(
            Species("u", diffusion=diffusion, taxis=(Taxis("v", "2"),), reaction="0"),
            Species("v", diffusion=1.0, reaction=reaction_v, tau=tau),
        ),
        name="terms",
    )
    path = Network(["A", "B", "C"], [("A", "B", 1.0), ("B", "C", 1.0)], h=0.05)
    grid = Grid((40,), ((0.0, 2.0),))
    U = _initial(grid.coordinates[0])
    runs = [
        cd.solve(model, domain, 0.05, stepper=cd.time.IMEX(dt=1e-3), initial={"u": U[0], "v": U[1]}, save_every=0.05)
        for domain in (path, grid)
    ]
    assert all(r.success for r in runs)
    assert np.max(np.abs(runs[0].frames - runs[1].frames)) <= tolerance * np.max(np.abs(runs[1].frames))


def test_taxis_at_a_dirichlet_vertex_is_upwinded_with_its_value_and_stays_non_negative():
    """u = 0.2 held at a leaf while the signal, produced by u, peaks inside: the taxis flux at
    the vertex takes the end cell's value out and g in; no negative values, and the vertex is
    open (the mass changes, unlike at Kirchhoff vertices)."""
    model = _keller_segel(reaction="0", chi=4.0)
    vertices = {"L0": VertexCondition("dirichlet", {"u": "0.2"})}
    star = Network(["O", "L0", "L1"], [("O", "L0", 1.0), ("O", "L1", 1.0)], 0.05, vertices)
    s = star.arc_length
    sol = cd.solve(model, star, 1.0, initial={"u": 0.2 + 0 * s, "v": 1 + np.exp(-10 * s**2)}, save_every=0.5)
    assert sol.success, sol.message
    assert np.min(sol["u"]) >= 0.0
    assert np.asarray(sol.mass())[-1, 0] != np.asarray(sol.mass())[0, 0]


def _advected(diffusion: float = 0.01) -> Model:
    from crossdiff.model import Flow

    return Model(
        species=(Species("u", diffusion=diffusion, advected=True, reaction="0"),),
        parameters={"U": 1.0},
        flow=Flow(kind="prescribed", velocity=("U",)),
        name="advection",
    )


def test_advection_around_a_loop_is_advection_on_a_periodic_interval():
    """A velocity along the edge: the compiled upwind kernel inside, and at the loop's vertex the
    outflow of one end enters the other with the same limited face value as the periodic face."""
    ring = Network(["A"], [("A", "A", 2.0)], 0.05)
    grid = Grid((40,), ((0.0, 2.0),), "periodic")
    u0 = 1 + np.exp(-20 * (grid.coordinates[0] - 1) ** 2)
    runs = [
        cd.solve(_advected(), d, 1.0, stepper=cd.time.IMEX(dt=2e-3), initial={"u": u0}, save_every=1.0)
        for d in (ring, grid)
    ]
    assert all(r.success for r in runs)
    # 500 steps of the same fluxes up to the last bits (measured 1.6e-13 of max u = 2)
    assert np.max(np.abs(runs[0].frames[-1] - runs[1].frames[-1])) <= 1e-12


def test_two_rivers_mix_at_their_confluence():
    """Sources of concentration 1 (flow 1·1) and 0 (flow 1·3) merge into a river of cross-section
    4: downstream the well-mixed value (1·1 + 0·3)/4 = 1/4 exactly (upwinding carries constants
    exactly); the flow must balance at the vertex, and may not vary along an edge."""
    vertices = {"S1": VertexCondition("dirichlet", {"u": "1"}), "S2": VertexCondition("dirichlet", {"u": "0"})}
    edges = [cd.grid.Edge("S1", "J", 1.0, 1.0), cd.grid.Edge("S2", "J", 1.0, 3.0), cd.grid.Edge("J", "O", 1.0, 4.0)]
    rivers = Network(["S1", "S2", "J", "O"], edges, 0.05, vertices)
    sol = cd.solve(_advected(0.0), rivers, 5.0, initial={"u": np.zeros(rivers.size)}, save_every=5.0)
    assert sol.success
    downstream = sol["u"][-1][rivers.edge_of_cell == 2]
    assert np.max(np.abs(downstream - 0.25)) < 1e-12
    unbalanced = Network(["S1", "S2", "J", "O"], [*edges[:2], cd.grid.Edge("J", "O", 1.0, 1.0)], 0.05, vertices)
    with pytest.raises(cd.errors.ModelError, match="not conserved at vertex 'J'"):
        NetworkDiscretisation(_advected(0.0), unbalanced)
    from crossdiff.model import Flow

    varying = Model(
        species=(Species("u", diffusion=0.0, advected=True),), flow=Flow(kind="prescribed", velocity=("x",)), name="v"
    )
    with pytest.raises(cd.errors.ModelError, match="may depend on t and the edge's parameters only"):
        NetworkDiscretisation(varying, rivers)


def test_a_failure_report_on_a_network_names_the_edge_and_the_arc_length():
    """The monitor's report places a peak by its edge and arc length (the arc length alone is
    ambiguous: every edge has an s = 0.275): a bump of height 9 on the second edge only (per-edge
    initial data) exceeds the peak limit 5 at once, at its cell centre s = 0.275."""

    model = Model(species=(Species("u", diffusion=1.0, initial="1 + a*exp(-100*(x - 0.25)^2)"),), parameters={"a": 0.0})
    net = Network(["A", "B", "C"], [Edge("A", "B", 1.0), Edge("B", "C", 0.5, parameters={"a": 9.0})], 0.05)
    sol = cd.solve(model, net, 0.1, monitor=cd.Monitor(peak_limit=5.0), throw=False)
    assert sol.report is not None and sol.report.status is cd.Status.BLOWUP
    assert sol.report.where == "edge B–C (1) at s = 0.275" and sol.report.location == pytest.approx((0.275,))
    assert "edge B–C (1) at s = 0.275" in str(sol.report) and "x = (" not in str(sol.report)
    assert sol.report.as_dict()["where"] == "edge B–C (1) at s = 0.275"
    assert net.place(0) == "edge A–B (0) at s = 0.025"  # the first cell of the first edge
