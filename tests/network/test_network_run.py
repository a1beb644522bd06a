"""Networks in the run layer: model files with ``[network]``, ``crossdiff run``, run files, resume,
the constructors (CSV, networkx-like graphs) and bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import json

import h5netcdf
import numpy as np
import pytest

from crossdiff import default_domain as cd_default_domain
from crossdiff import solve as cd_solve
from crossdiff.cli import main
from crossdiff.errors import GridError
from crossdiff.grid import DOMAINS, Edge, Network, VertexCondition, domain_kind
from crossdiff.solve import Run

_MODEL = """
[model]
name = "heat-net"

[parameters]
D = 1.0

[domain]
{domain}
t_end = 0.5
save_every = 0.25

[network]
h = 0.1
{network}

[[species]]
name = "u"
diffusion = "D"
reaction = "0"
initial = "1 + 0.5*cos(3*x)"
"""

_GOOD = """nodes = ["A", "B", "C", "D"]
edges = [["A", "B", 1.0], ["B", "C", 0.5, 2.0], ["B", "D", 1.5]]
[network.vertices.C]
kind = "dirichlet"
u = "1 + 0.1*t"
"""


def _file(tmp_path, network: str = _GOOD, domain: str = "") -> str:
    path = tmp_path / "heat-net.toml"
    path.write_text(_MODEL.format(network=network, domain=domain), encoding="utf-8")
    return str(path)


def test_a_model_file_with_a_network_runs_writes_its_network_and_resumes_bit_identically(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = _file(tmp_path)
    assert main(["run", model, "--out", "full.nc", "--t-end", "1", "--quiet"]) == 0
    assert main(["run", model, "--out", "part.nc", "--t-end", "0.5", "--quiet"]) == 0
    assert main(["run", model, "--out", "part.nc", "--t-end", "1", "--resume", "--quiet"]) == 0
    with h5netcdf.File("full.nc", "r") as a, h5netcdf.File("part.nc", "r") as b:
        assert a.attrs["domain"] == "network"
        table = json.loads(a.attrs["network"])
        assert table["edges"][1] == ["B", "C", 0.5, 2.0] and table["vertices"]["C"]["u"] == "1 + 0.1*t"
        assert a.dimensions["cell"].size == 30  # 10 + 5 + 15 cells of h = 0.1
        # the cell volumes A h: their sum is Σ A ℓ = 1 + 2·0.5 + 1.5
        assert np.sum(a.variables["cell_measure"][...]) == pytest.approx(3.5, rel=1e-14)
        # the controller restarts from its state at the last frame: the same steps, the same numbers
        assert np.array_equal(a.variables["u"][...], b.variables["u"][...])
    run = Run.from_file("full.nc")
    assert isinstance(run.domain, Network) and run.domain == Network.from_table(table)


def test_the_network_domain_kind_and_its_constructors(tmp_path):
    assert domain_kind(Network(["A", "B"], [("A", "B", 1.0)], 0.1)) is DOMAINS["network"]
    csv = tmp_path / "edges.csv"
    csv.write_text("a,b,length,weight\nA,B,1.0,2\nB,C,0.5,\n", encoding="utf-8")
    from_csv = Network.from_csv(csv, 0.1)
    assert from_csv.nodes == ("A", "B", "C") and from_csv.edges[0].weight == 2.0 and from_csv.edges[1].weight == 1.0

    class Graph:  # what networkx.Graph offers: nodes(data=True), edges(data=True)
        def nodes(self, data=False):
            return [("A", {"pos": (0, 0)}), ("B", {"pos": (1, 0)}), ("C", {"pos": (1, 1)})]

        def edges(self, data=False):
            return [("A", "B", {"length": 1.0, "weight": 2.0}), ("B", "C", {"length": 0.5})]

    from_graph = Network.from_networkx(Graph(), 0.1)
    assert from_graph.positions["C"] == (1, 1) and from_graph.edges[0].weight == 2.0
    assert Network.from_table(from_graph.to_table()) == from_graph  # the [network] table round-trips
    assert [e.length for e in from_graph.edges] == [1.0, 0.5]
    # at least two cells per edge; the cells' widths add up to the lengths
    tiny = Network(["A", "B"], [("A", "B", 0.01)], 0.1)
    assert tiny.size == 2 and np.sum(tiny.cell_spacing) == pytest.approx(0.01)


def test_a_disconnected_network_is_allowed_and_said(tmp_path, monkeypatch, capsys):
    net = Network(["A", "B", "C", "D"], [("A", "B", 1.0), ("C", "D", 1.0)], 0.1)
    assert net.components == 2 and "2 disconnected parts" in net.describe()
    monkeypatch.chdir(tmp_path)
    model = _file(tmp_path, 'nodes = ["A", "B", "C", "D"]\nedges = [["A", "B", 1.0], ["C", "D", 1.0]]')
    assert main(["run", model, "--out", "x.nc", "--t-end", "0.1"]) == 0
    assert "2 disconnected parts" in capsys.readouterr().out


BAD = {
    "unknown node": ('nodes = ["A", "B"]\nedges = [["A", "Z", 1.0]]', "unknown node 'Z'"),
    "zero length": ('nodes = ["A", "B"]\nedges = [["A", "B", 0.0]]', "lengths must be positive"),
    "negative length": ('nodes = ["A", "B"]\nedges = [["A", "B", -1.0]]', "lengths must be positive"),
    "duplicate edge": ('nodes = ["A", "B"]\nedges = [["A", "B", 1.0], ["B", "A", 1.0]]', "repeats edge 0"),
    "condition of no node": (
        'nodes = ["A", "B"]\nedges = [["A", "B", 1.0]]\n[network.vertices.Q]\nkind = "noflux"',
        "node 'Q', which the network does not have",
    ),
    "unknown kind": (
        'nodes = ["A", "B"]\nedges = [["A", "B", 1.0]]\n[network.vertices.A]\nkind = "open"\nu = "1"',
        "unknown vertex condition 'open'",
    ),
    "inflow inside": (
        'nodes = ["A", "B", "C"]\nedges = [["A", "B", 1.0], ["B", "C", 1.0]]\n[network.vertices.B]\nkind = "inflow"\nu = "1"',
        "needs a vertex of one edge",
    ),
    "no edges": ('nodes = ["A"]\nedges = []', "at least one edge"),
    "value of no species": (
        'nodes = ["A", "B"]\nedges = [["A", "B", 1.0]]\n[network.vertices.A]\nkind = "dirichlet"\nw = "1"',
        "'w' is not a species",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_networks_are_refused_in_one_line_with_exit_2_and_nothing_written(case, tmp_path, monkeypatch, capsys):
    network, message = BAD[case]
    monkeypatch.chdir(tmp_path)
    assert main(["run", _file(tmp_path, network), "--out", "x.nc"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.nc").exists()


def test_a_network_with_a_2d_domain_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    model = _file(tmp_path, _GOOD, domain="extent = [[0, 1], [0, 1]]\ncells = [10, 10]")
    assert main(["run", model, "--out", "x.nc"]) == 2
    assert "[domain] is 2D" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_python_errors_are_grid_errors():
    with pytest.raises(GridError, match="cross-sections must be positive"):
        Network(["A", "B"], [Edge("A", "B", 1.0, 0.0)], 0.1)
    with pytest.raises(GridError, match="permeability must be positive"):
        Network(["A", "B"], [("A", "B", 1.0)], 0.1, {"A": VertexCondition(permeability=-1.0)})
    with pytest.raises(GridError, match="cell size h must be positive"):
        Network(["A", "B"], [("A", "B", 1.0)], 0.0)


def test_grid_on_a_network_sets_about_that_many_cells_and_boundary_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    model = _file(tmp_path)
    assert main(["run", model, "--grid", "60", "--out", "fine.nc", "--t-end", "0.1", "--quiet"]) == 0
    with h5netcdf.File("fine.nc", "r") as f:
        assert f.dimensions["cell"].size == 60  # h = 3/60: 20 + 10 + 30 cells
    assert main(["run", model, "--boundary", "periodic", "--out", "x.nc"]) == 2
    assert "vertex conditions" in capsys.readouterr().err and not (tmp_path / "x.nc").exists()


def test_initial_data_and_kernels_use_each_edges_parameters():
    """sir-network: the infection starts only on the roads that leave Milano (I0 = 0.01 there,
    0 elsewhere), and the total population S + I + R is conserved (the reactions sum to zero,
    the vertices conserve mass): to round-off of the sums over 272 cells and 100 steps."""
    from crossdiff import catalogue
    from crossdiff.model import initial_fields

    model = catalogue.load("sir-network")
    net = cd_default_domain(model)
    U = initial_fields(model, net)
    from_milano = np.isin(net.edge_of_cell, [e for e, edge in enumerate(net.edges) if edge.a == "Milano"])
    assert np.max(U[1][from_milano]) == pytest.approx(0.01 * np.exp(-((net.h / 2 / 0.2) ** 2)), rel=1e-12)
    assert np.all(U[1][~from_milano] == 0.0)
    sol = cd_solve(model, net, 4.0, save_every=2.0)
    total = np.asarray(sol.mass()).sum(axis=1)
    assert np.max(np.abs(total - total[0])) < 1e-12 * total[0]
    infected = np.asarray(sol["I"][-1])
    assert np.max(infected[net.edge_of_cell == 3]) > 1e-3  # Venezia–Bologna: reached by t = 4


def test_a_geojson_edge_list(tmp_path):
    """Two roads meeting at a named town: the shared endpoint is one node, lengths from the
    property or the polyline (3-4-5 triangle legs: 5 + 5)."""
    roads = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [3, 4]}, "properties": {"name": "Town"}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [3, 4]]}, "properties": {}},
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[3, 4], [6, 4], [6, 0]]},
                "properties": {"length": 7.5, "weight": 2.0},
            },
        ],
    }
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(roads), encoding="utf-8")
    net = Network.from_geojson(path, 0.5)
    assert set(net.nodes) == {"Town", "n1", "n2"} and net.degree["Town"] == 2
    assert [e.length for e in net.edges] == [5.0, 7.5] and net.edges[1].weight == 2.0
    assert net.positions["Town"] == (3.0, 4.0)
    (tmp_path / "bad.geojson").write_text("{}", encoding="utf-8")
    with pytest.raises(GridError, match="not a FeatureCollection"):
        Network.from_geojson(tmp_path / "bad.geojson", 0.5)


def test_a_run_file_holds_the_node_and_edge_tables_for_plain_xarray(tmp_path, monkeypatch):
    """The network as NetCDF variables: ``node(node)`` with positions, ``edge_from/edge_to(edge)``
    (node indices), ``edge_length``, ``edge_weight``, and ``cell_edge(cell)``: what a reader needs
    without crossdiff (exact integers and the lengths given; the cell positions interpolate the
    node positions, so exact to round-off)."""
    import xarray as xr

    monkeypatch.chdir(tmp_path)
    network = 'nodes = { A = [0, 0], B = [1, 0], C = [1, 0.5], D = [-1, 1] }\nedges = [["A", "B", 1.0], ["B", "C", 0.5, 2.0], ["B", "D", 1.5]]\n'
    model = _file(tmp_path, network)
    assert main(["run", model, "--out", "net.nc", "--t-end", "0.5", "--quiet"]) == 0
    assert main(["run", model, "--out", "net.nc", "--t-end", "0.75", "--resume", "--quiet"]) == 0
    with xr.open_dataset("net.nc", engine="h5netcdf") as ds:
        assert list(ds["node"].values) == ["A", "B", "C", "D"]
        assert list(ds["node_x"].values) == [0, 1, 1, -1] and list(ds["node_y"].values) == [0, 0, 0.5, 1]
        assert list(ds["edge_from"].values) == [0, 1, 1] and list(ds["edge_to"].values) == [1, 2, 3]
        assert list(ds["edge_length"].values) == [1.0, 0.5, 1.5] and list(ds["edge_weight"].values) == [1, 2, 1]
        edge = ds["cell_edge"].values
        assert list(np.bincount(edge)) == [10, 5, 15] and ds["cell_edge"].dims == ("cell",)
        # a cell's position: its edge's node a plus the arc length along the straight edge
        a, b = ds["edge_from"].values[edge], ds["edge_to"].values[edge]
        f = ds["cell"].values / ds["edge_length"].values[edge]
        x = (1 - f) * ds["node_x"].values[a] + f * ds["node_x"].values[b]
        assert np.max(np.abs(ds["cell_x"].values - x)) < 1e-14  # round-off of the same interpolation
        # the same field, grouped by edge with plain xarray: the mass Σ u A h per edge adds up
        mass = (ds["u"].isel(time=-1) * ds["cell_measure"]).groupby(ds["cell_edge"]).sum()
        assert mass.sizes["cell_edge"] == 3
        assert float(mass.sum()) == pytest.approx(float((ds["u"].isel(time=-1) * ds["cell_measure"]).sum()), rel=1e-14)
        assert ds.sizes["time"] == 4  # t = 0, 0.25, 0.5 and the resumed 0.75


def test_an_in_memory_result_on_a_network_has_the_same_tables():
    net = Network(["A", "B", "C"], [("A", "B", 1.0), ("B", "C", 2.0, 0.5)], 0.25)
    tables = {name: (dims, values) for name, dims, values, _ in net.tables()}
    assert tables["cell_edge"][0] == ("cell",) and list(np.bincount(tables["cell_edge"][1])) == [4, 8]
    assert "node_x" not in tables  # no positions: no node coordinates
    assert list(tables["edge_weight"][1]) == [1.0, 0.5]
