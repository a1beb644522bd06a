"""The picture of docs/networks.md: steady states at vertices (continuity and flux conservation,
a permeable vertex's jump, cross-sections at a star's centre).

Run from the repository root:  .venv/bin/python docs/network_figure.py
Writes docs/figures/network-vertices.png.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from crossdiff.fv import NetworkDiscretisation
from crossdiff.grid import Network, VertexCondition
from crossdiff.model import Model, Species

HERE = Path(__file__).resolve().parent
HEAT = Model(species=(Species("u", diffusion=1.0, initial="0"),), name="heat")


def steady(network: Network) -> np.ndarray:
    """``L u + E(0) = 0``: the steady state with the vertices' Dirichlet data."""
    system = NetworkDiscretisation(HEAT, network)
    source = system.explicit(0.0, np.zeros((1, network.size)))[0]
    L = np.column_stack([system.implicit(unit[None])[0] for unit in np.eye(network.size)])
    return np.linalg.solve(L, -source)


def main() -> Path:
    fig = Figure(figsize=(9.0, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    ends = {"A": VertexCondition("dirichlet", {"u": "1"}), "C": VertexCondition("dirichlet", {"u": "0"})}
    for p in (math.inf, 2.0, 0.5):
        path = Network(
            ["A", "B", "C"], [("A", "B", 1.0), ("B", "C", 1.0)], 0.05, {**ends, "B": VertexCondition(permeability=p)}
        )
        u = steady(path)
        x = path.arc_length + path.edge_of_cell  # the edges end to end
        for e in range(2):
            on = path.edge_of_cell == e
            left.plot(
                x[on],
                u[on],
                "o-",
                ms=2.5,
                lw=1,
                color={math.inf: "C0", 2.0: "C1", 0.5: "C2"}[p],
                label=(f"p = {p:g}" if p < math.inf else "continuity (p = ∞)") if e == 0 else None,
            )
    left.axvline(1.0, color="gray", lw=0.6)
    left.set_xlabel("A → B → C")
    left.set_ylabel("u")
    left.set_title("a vertex B: continuity, or a membrane j = p [u]", fontsize=9)
    left.legend(fontsize=8)
    leaves = {
        "L0": VertexCondition("dirichlet", {"u": "1"}),
        "L1": VertexCondition("dirichlet", {"u": "0"}),
        "L2": VertexCondition("dirichlet", {"u": "0"}),
    }
    star = Network(["O", "L0", "L1", "L2"], [("O", "L0", 1.0), ("O", "L1", 1.0), ("O", "L2", 0.5, 4.0)], 0.05, leaves)
    u = steady(star)
    for e, label in enumerate(
        ["O–L0 (A = 1, u = 1 at L0)", "O–L1 (A = 1, u = 0 at L1)", "O–L2 (A = 4, ℓ = 0.5, u = 0 at L2)"]
    ):
        on = star.edge_of_cell == e
        right.plot(star.arc_length[on], u[on], "o-", ms=2.5, lw=1, label=label)
    right.set_xlabel("distance from the centre O")
    right.set_title("a star's centre: one value, Σ A_e u'_e = 0", fontsize=9)
    right.legend(fontsize=8)
    out = HERE / "figures" / "network-vertices.png"
    fig.savefig(out, dpi=90)
    return out


if __name__ == "__main__":
    print(main())
