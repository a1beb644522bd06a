"""Kinetic models on networks (issue 21 part 3): the micro–macro AP scheme on every edge with the
vertex transmission of crossdiff.kinetic.NetworkKineticDiscretisation — a path of two edges is
the interval, mass to round-off through vertices of strong cross-section contrast with taxis,
non-negative densities, the ε → 0 limit on a star graph, the command line, bad input."""

from __future__ import annotations

import json

import h5netcdf
import numpy as np
import pytest

import crossdiff as cd
from crossdiff.analysis import limit_convergence
from crossdiff.cli import main
from crossdiff.derive import derive
from crossdiff.errors import InputError
from crossdiff.grid import Network, VertexCondition
from crossdiff.kinetic import (
    Bias,
    KineticModel,
    KineticSpecies,
    NetworkKineticDiscretisation,
    Relaxation,
    Sphere,
)
from crossdiff.time import GSAIMEX, IMEX


def chemotaxis() -> KineticModel:
    """Keller–Segel behind a relaxation kernel with the bias (41) towards ``S`` (as in
    tests/kinetic/test_solver.py)."""
    return KineticModel(
        [
            KineticSpecies(
                "u",
                Relaxation("R**2/d"),
                bias=Bias(kernel="-(chi*sigma_u*d/(absV**2*R**2))*vs_grad_S/Ms_u"),
                initial="1 + 0.5*cos(pi*x)",
            ),
            KineticSpecies("S", Relaxation("R**2/(d*DS)"), interaction="(u - S)/absV", initial="1 + 0.5*cos(2*pi*x)"),
        ],
        Sphere(1, "R"),
        parameters={"R": 1.0, "chi": 0.5, "DS": 1.0},
        name="ks-kinetic",
    )


def heat() -> KineticModel:
    return KineticModel(
        [KineticSpecies("u", Relaxation(1.0), initial="1 + 0.5*cos(pi*x)")], Sphere(1, 1.0), name="heat"
    )


def star(h: float = 1 / 16, weights: tuple[float, float, float] = (1.0, 1.0, 2.0)) -> Network:
    """Three edges of different lengths and cross-sections at ``o``, one pointing into it."""
    return Network(
        ["o", "a", "b", "c"],
        [("o", "a", 1.0, weights[0]), ("o", "b", 0.75, weights[1]), ("c", "o", 0.5, weights[2])],
        h=h,
    )


def test_path_of_two_edges_is_the_interval_at_every_eps():
    """Two equal edges meeting at a vertex against the box scheme on the interval they make
    (specular walls at both ends), fixed steps: equal to round-off (measured 8e-15–7e-14 over
    ε = 1 … 1e-8; the vertex density (ρ_a + ρ_b)/2 and its ghost 2ρ_v − ρ_a differ from ρ_b by
    an ulp, so the bound is round-off amplified over 100 steps, 1e-12)."""
    model = chemotaxis()
    n = 16
    path = Network(["a", "b", "c"], [("a", "b", 1.0), ("b", "c", 1.0)], h=1.0 / n)
    grid = cd.Grid((2 * n,), ((0.0, 2.0),))
    x = grid.coordinates[0]
    initial = np.array([1 + 0.5 * np.cos(np.pi * x), 1 + 0.5 * np.cos(2 * np.pi * x)])
    for eps in (1.0, 0.01, 1e-8):
        on_path = cd.solve(model, path, 0.1, eps=eps, stepper=GSAIMEX(dt=0.002), initial=initial)
        on_interval = cd.solve(model, grid, 0.1, eps=eps, stepper=GSAIMEX(dt=0.002), initial=initial)
        assert np.max(np.abs(on_path.final - on_interval.final)) < 1e-12, eps


@pytest.mark.parametrize(
    "edges",
    [[("a", "a", 2.0)], [("a", "b", 0.5), ("b", "c", 0.5), ("c", "a", 1.0)]],
    ids=["self-loop", "ring"],
)
def test_a_loop_is_the_periodic_interval(edges):
    """One edge from a node to itself (self-loops are supported), and a ring of three edges,
    against the box scheme on the periodic interval of the same cells: round-off (measured
    1.2e-14–2.4e-14 at ε = 1, 0.01, 1e-8)."""
    nodes = sorted({n for a, b, _ in edges for n in (a, b)})
    net = Network(nodes, edges, h=1 / 16)
    grid = cd.Grid((32,), ((0.0, 2.0),), "periodic")
    x = grid.coordinates[0]
    initial = np.array([1 + 0.5 * np.cos(np.pi * x), 1 + 0.5 * np.cos(2 * np.pi * x)])
    for eps in (1.0, 1e-8):
        on_loop = cd.solve(chemotaxis(), net, 0.05, eps=eps, stepper=GSAIMEX(dt=0.002), initial=initial)
        periodic = cd.solve(chemotaxis(), grid, 0.05, eps=eps, stepper=GSAIMEX(dt=0.002), initial=initial)
        assert np.max(np.abs(on_loop.final - periodic.final)) < 1e-12, eps


@pytest.mark.parametrize("eps", [0.5, 0.05, 1e-6])
def test_mass_to_round_off_and_nonnegative_with_taxis_and_contrast(eps):
    """A star whose cross-sections differ 100-fold, with taxis through the vertex: the mass
    ``Σ A_e h_e ρ`` of the cells (u; S has a reaction) is conserved to 1e-12 relative (the
    vertex faces' fluxes are balanced after every stage solve) and no density is negative."""
    net = star(1 / 12, (100.0, 1.0, 0.5))
    sol = cd.solve(chemotaxis(), net, 0.2, eps=eps, save_every=0.1)
    assert sol.success
    mass = sol.mass().values[:, 0]
    assert np.max(np.abs(mass - mass[0])) < 1e-12 * mass[0]
    assert sol.final.min() >= 0


def test_limit_on_a_star_graph_order_in_eps_and_ap():
    """The kinetic solution against the macroscopic network solution of the derived model on a
    star graph (unequal lengths and cross-sections): L1 order in ε ≥ 0.8 (the issue's bound;
    measured 1.05 for ε = 0.1, 0.05, 0.025: the data are not continuous at the vertex, an O(ε)
    layer there), and at ε = 1e-8 the two agree to 1e-5 (measured 2.6e-6: the limit scheme is the
    macroscopic network scheme, only the time discretisations differ)."""
    net = star(1 / 12)
    table = limit_convergence(heat(), [0.1, 0.05, 0.025], net, 0.2)
    assert table.order_l1["u"] >= 0.8, table.l1
    macro = cd.solve(derive(heat()).model, net, 0.2, stepper=IMEX(rtol=1e-8)).final
    limit = cd.solve(heat(), net, 0.2, eps=1e-8)
    assert float(net.integrate(np.abs(limit.final[0] - macro[0]))) < 1e-5


def test_transmission_rule_weights_and_velocity_map():
    """The vertex transmission: beyond the end of an edge the faces of the other ends, weighted
    ``A/h`` and with the velocity carried to the other edge's frame (the same index where one
    edge ends and the other starts at the vertex, the reflected one where both start)."""
    net = Network(["o", "a", "b"], [("o", "a", 1.0, 1.0), ("o", "b", 1.0, 3.0)], h=0.25)
    system = NetworkKineticDiscretisation(heat(), net, 0.5)
    tr = system.transport
    # end 0 (edge 0 at o, low) sees edge 1's faces 1 and 2 with the reflected velocity, weight 1
    rows = tr.sources[0]
    assert [(j, face, beta) for j, face, beta, _ in rows] == [(1, 6, 1.0), (2, 7, 1.0)]
    assert list(rows[0][3]) == [1, 0]
    assert tr.sources[1] == []  # a leaf: the box's specular wall


def test_cli_run_and_converge_on_the_catalogue_network(tmp_path):
    """``crossdiff run`` and ``crossdiff converge`` of the kinetic SIR on the seven cities
    (coarse): the run writes its file; converge fits an order ≥ 0.8 for every species (measured
    1.8 on 136 cells, t = 2)."""
    out = tmp_path / "k.nc"
    assert (
        main(["run", "sir-network-kinetic", "--eps", "0.1", "--t-end", "0.5", "--grid", "68", "--out", str(out)]) == 0
    )
    with h5netcdf.File(out, "r") as f:  # the node and edge tables (as on a macroscopic run)
        edge, n = np.asarray(f["cell_edge"][...]), f.dimensions["edge"].size
        assert f.dimensions["node"].size == 7 and n == len(json.loads(f.attrs["network"])["edges"])
        assert list(edge) == sorted(edge) and set(edge) == set(range(n))  # cells numbered edge after edge
    code = main(["converge", "sir-network-kinetic", "--eps", "0.2,0.1,0.05", "--t-end", "1", "--grid", "68", "--json"])
    assert code == 0


def test_cli_converge_json_orders(capsys):
    main(["converge", "sir-network-kinetic", "--eps", "0.2,0.1", "--t-end", "0.5", "--grid", "68", "--json"])
    table = json.loads(capsys.readouterr().out)
    assert set(table["order_l1"]) == {"S", "I", "R"}
    assert all(v >= 0.8 for v in table["order_l1"].values()), table


def test_bad_input_is_one_line():
    """A Dirichlet vertex, a permeable vertex and a 2D velocity space are refused in one line."""
    dirichlet = Network(["o", "a"], [("o", "a", 1.0)], h=0.25, vertices={"a": VertexCondition("dirichlet", {"u": "1"})})
    with pytest.raises(InputError, match="vertex 'a'.*Kirchhoff") as err:
        NetworkKineticDiscretisation(heat(), dirichlet, 0.5)
    assert "\n" not in str(err.value)
    permeable = Network(
        ["o", "a", "b"], [("o", "a", 1.0), ("o", "b", 1.0)], h=0.25, vertices={"o": VertexCondition(permeability=2.0)}
    )
    with pytest.raises(InputError, match="permeability"):
        NetworkKineticDiscretisation(heat(), permeable, 0.5)
    flat = KineticModel([KineticSpecies("u", Relaxation(1.0), initial="1")], Sphere(2, 1.0), name="flat")
    with pytest.raises(InputError, match="1D"):
        NetworkKineticDiscretisation(flat, star(), 0.5)


def test_resume_from_the_saved_distributions(tmp_path):
    """A run saved with ``--save-f`` and resumed from its last frame against the uninterrupted
    run: the restart averages the micro part back to the faces, so the two differ by O(h²)
    (measured 4.8e-6 of max I = 0.12 on 68 cells; bound 1e-4)."""
    import xarray as xr

    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    common = ["sir-network-kinetic", "--eps", "0.1", "--grid", "68", "--save-f"]
    assert main(["run", *common, "--t-end", "1", "--out", str(a)]) == 0
    assert main(["run", "sir-network-kinetic", "--t-end", "2", "--out", str(a), "--resume"]) == 0
    assert main(["run", *common, "--t-end", "2", "--out", str(b)]) == 0
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        assert float(da.time[-1]) == 2.0
        assert float(abs(da.I[-1] - db.I[-1]).max()) < 1e-4


def test_per_edge_values_of_a_rate_are_refused_in_one_line():
    """Per-edge parameters reach a kinetic model's initial data only: a per-edge value of a
    parameter of its turning rate is refused (one line), of its initial data accepted."""
    model = KineticModel(
        [KineticSpecies("u", Relaxation("s"), initial="1 + a*x")], Sphere(1, 1.0), parameters={"s": 1.0, "a": 0.0}
    )
    rate = Network(["o", "p"], [{"from": "o", "to": "p", "length": 1.0, "parameters": {"s": 2.0}}], h=0.25)
    with pytest.raises(InputError, match="per-edge values of s") as err:
        NetworkKineticDiscretisation(model, rate, 0.5)
    assert "\n" not in str(err.value)
    data = Network(["o", "p"], [{"from": "o", "to": "p", "length": 1.0, "parameters": {"a": 1.0}}], h=0.25)
    sol = cd.solve(model, data, 0.01, eps=0.5)
    assert sol.final[0, -1] > 1.5  # 1 + a x with a = 1 near x = 1


BAD_FILE = """
[kinetic]
name = "bad"
[velocity]
space = "sphere"
dim = DIM
radius = 1.0
[network]
h = 0.25
nodes = ["o", "a"]
edges = [["o", "a", 1.0]]
[network.vertices.a]
kind = "dirichlet"
u = "1"
[[species]]
name = "u"
turning = { relaxation = 1.0 }
initial = "1"
"""


@pytest.mark.parametrize(("dim", "message"), [(1, "Kirchhoff"), (2, "edges are 1D")])
def test_cli_bad_kinetic_network_file_exit_2_nothing_written(tmp_path, capsys, dim, message):
    """A kinetic file with a Dirichlet vertex, or with a 2D velocity space on a network: one
    line, exit 2, no file."""
    path = tmp_path / "bad.toml"
    path.write_text(BAD_FILE.replace("DIM", str(dim)))
    out = tmp_path / "bad.nc"
    assert main(["run", str(path), "--eps", "0.5", "--t-end", "0.1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()
