"""Pictures of a run on a network: the graph coloured by a density, space–time with the edges
end to end, a movie; a network without positions is laid out from its Laplacian."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import LineCollection

import crossdiff as cd
from crossdiff.grid import Network
from crossdiff.plot import network_layout, plot_frame, plot_spacetime, save_movie


def _run():
    model = cd.catalogue.load("keller-segel-star")
    return cd.solve(model, cd.default_domain(model, (60,)), 0.5, save_every=0.25).to_xarray()


def test_the_graph_is_drawn_with_its_edges_coloured_by_the_density(tmp_path):
    ds = _run()
    fig = plot_frame(ds)
    cells = ds.sizes["cell"]
    lines = [
        c
        for ax in fig.axes
        for c in ax.collections
        if isinstance(c, LineCollection) and c.get_array() is not None and np.size(c.get_array()) == cells
    ]
    assert len(lines) == 2  # one per species, a segment per cell
    # every cell is a segment coloured by its value
    assert np.array_equal(np.asarray(lines[0].get_array()), np.asarray(ds["u"].values[-1]))
    fig = plot_spacetime(ds)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["O–A", "O–B", "O–C"]
    path = save_movie(ds, tmp_path / "star.gif")
    assert path.is_file() and path.stat().st_size > 0


def test_a_network_without_positions_gets_a_spectral_layout():
    net = Network(["A", "B", "C", "D"], [("A", "B", 1.0), ("B", "C", 1.0), ("C", "D", 1.0), ("D", "A", 1.0)], 0.5)
    pos = np.array(list(network_layout(net).values()))
    # a ring of four equal edges: the layout's points are distinct and equally far from their mean
    radii = np.linalg.norm(pos - pos.mean(axis=0), axis=1)
    assert np.allclose(radii, radii[0]) and radii[0] > 0


def test_compare_lays_the_edges_end_to_end_with_gaps():
    ds = _run()
    from crossdiff.plot import plot_compare

    fig = plot_compare(ds, ds)
    x = fig.axes[0].lines[0].get_xdata()
    assert np.sum(np.isnan(x)) == 2  # three edges, two gaps
    assert np.nanmax(x) == pytest.approx(26.0 - 26.0 / 60 / 2, rel=0.05)  # the edges' total length
