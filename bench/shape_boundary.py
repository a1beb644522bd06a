"""Dirichlet and Robin conditions on a shape's curved boundary: the figures of docs/numerics.md
("Conditions on the curved boundary").

    .venv/bin/python bench/shape_boundary.py [--grids 32 64 128]

Manufactured ``c = 1 + x² + y²/2 + sin x cos y`` on the unit disc, ``0 = Δc − c + f``, with
``c`` given on the circle (Dirichlet) or ``∂n c = 2 (g − c)`` (Robin), run to t = 30 (decay
rate ≥ 1: the transient is below e⁻³⁰) and compared with the exact cut-cell averages
(sub-sampled 8×8 per cell): L1 and L∞ errors and their orders; then the conjugate-gradient
iterations from zero of the implicit solve on the 256² disc for ``s = γΔt`` from 1e-3 to 1e3.
"""

from __future__ import annotations

import argparse

import numpy as np

import crossdiff as cd
from crossdiff.fv import CutCellDiscretisation
from crossdiff.grid import Grid, Shape
from crossdiff.model import Model, Species

EXACT = "1 + x^2 + y^2/2 + sin(x)*cos(y)"
SOURCE = f"({EXACT}) - (3 - 2*sin(x)*cos(y))"
ROBIN_VALUE = f"{EXACT} + ((2*x + cos(x)*cos(y))*x + (y - sin(x)*sin(y))*y)/sqrt(x^2 + y^2)/2"
CONDITIONS = {"dirichlet": {"dirichlet": EXACT}, "robin": {"robin": 2, "value": ROBIN_VALUE}}


def exact_averages(box: Grid, fine: int = 8) -> np.ndarray:
    h = box.spacing
    total, inside = np.zeros(box.shape), np.zeros(box.shape)
    for i in range(fine):
        for j in range(fine):
            X, Y = np.meshgrid(
                box.coordinates[0] - h[0] / 2 + (i + 0.5) * h[0] / fine,
                box.coordinates[1] - h[1] / 2 + (j + 0.5) * h[1] / fine,
                indexing="ij",
            )
            m = X**2 + Y**2 < 1
            total += (1 + X**2 + Y**2 / 2 + np.sin(X) * np.cos(Y)) * m
            inside += m
    X, Y = box.mesh()
    return np.where(inside > 0, total / np.maximum(inside, 1), 1 + X**2 + Y**2 / 2 + np.sin(X) * np.cos(Y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, nargs="+", default=[32, 64, 128])
    args = parser.parse_args()
    for name, condition in CONDITIONS.items():
        errors = []
        for n in args.grids:
            model = Model(
                [Species("c", diffusion=1, reaction=f"{SOURCE} - c", initial=1, boundary={"shape": condition})]
            )
            box = Grid((n, n), ((-1.1, 1.1), (-1.1, 1.1)))
            disc = Shape(box, "x^2 + y^2 < 1")
            sol = cd.solve(model, disc, t_end=30, save_every=30)
            err = np.abs(sol.final[0] - exact_averages(box))[disc.active]
            l1 = float(np.sum(err * disc.volume_fraction[disc.active]) * box.cell_volume)
            errors.append((l1, float(err.max())))
            print(f"{name:9s} {n:4d}²  L1 {l1:.3e}  Linf {err.max():.3e}")
        e = np.array(errors)
        print(
            f"{name:9s} orders L1 {np.round(np.log2(e[:-1, 0] / e[1:, 0]), 2)}  Linf {np.round(np.log2(e[:-1, 1] / e[1:, 1]), 2)}"
        )
    disc = Shape(Grid((256, 256), ((0.0, 20.0), (0.0, 20.0))), "(x-10)^2 + (y-10)^2 < 81")
    for name, condition in {"noflux": None, "dirichlet": {"dirichlet": 0}, "robin": {"robin": 1, "value": 0}}.items():
        species = Species("u", diffusion=1, initial=1, boundary={"shape": condition} if condition else None)
        system = CutCellDiscretisation(Model([species]), disc)
        mg = system._multigrid(0)
        f = np.zeros(disc.box.size)
        f[system.cut.cells] = system.cut.kappa_active
        iterations = []
        for s in (1e-3, 1e-1, 1e1, 1e3):
            mg.solve(f, 1.0, s, 1e-10)
            iterations.append(mg.iterations)
        print(f"{name:9s} 256² CG iterations from zero, s = 1e-3, 1e-1, 1e1, 1e3: {iterations}")


if __name__ == "__main__":
    main()
