"""Fingerprints of ten stepper/catalogue runs: steps, rejections and a hash of every saved frame.

A refactor of the run layer or of the time steppers must leave these bit-identical: run this
script before and after and compare the lines (``diff``). Each run is a few seconds on 2 cores.

    python bench/fingerprint.py > before.txt     # on the old code
    python bench/fingerprint.py > after.txt      # on the new code
    diff before.txt after.txt                    # no output: bit-identical

Only the public API that every version keeps is used: ``crossdiff.solve(model, grid, t_end,
stepper=..., save_every=...)`` with a catalogue name (kinetic runs with ``eps``).
"""

from __future__ import annotations

import hashlib
import os
import sys

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

import crossdiff as cd

#: (label, model, cells, extent or None for the model's, t_end, stepper, save_every, kinetic options)
CASES: list[tuple[str, str, tuple[int, ...], tuple | None, float, str, float, dict]] = [
    ("ks-logistic imex", "keller-segel-logistic", (32, 32), None, 2.0, "imex", 0.5, {}),
    ("ks-logistic imex3", "keller-segel-logistic", (32, 32), None, 2.0, "imex3", 0.5, {}),
    ("ks-logistic ssprk3", "keller-segel-logistic", (24, 24), None, 0.5, "ssprk3", 0.25, {}),
    ("cancer 1D bdf", "cancer-invasion", (100,), ((0.0, 30.0),), 1.0, "bdf", 0.5, {}),
    ("may-nowak imex", "may-nowak-taxis", (24, 24), None, 1.0, "imex", 0.5, {}),
    ("oncolytic 1D imex", "oncolytic-virus", (120,), ((0.0, 20.0),), 2.0, "imex", 1.0, {}),
    ("forager-scrounger imex", "forager-scrounger", (100,), None, 5.0, "imex", 2.5, {}),
    ("ks-elliptic imex", "keller-segel-elliptic", (24, 24), None, 0.002, "imex", 0.001, {}),
    ("ks-fluid imex", "keller-segel-fluid", (32, 16), None, 0.05, "imex", 0.025, {}),
    ("cancer-kinetic 1D ars443", "cancer-invasion-kinetic", (64,), ((0.0, 30.0),), 0.5, "ars443", 0.25, {"eps": 0.1}),
    (
        "fs-kinetic 2D ars443",
        "forager-scrounger-kinetic",
        (12, 12),
        ((0.0, 20.0), (0.0, 20.0)),
        0.2,
        "ars443",
        0.1,
        {"eps": 0.05, "velocities": 8},
    ),
]


def fingerprint(case) -> str:
    label, name, cells, extent, t_end, stepper, every, kinetic = case
    model = cd.catalogue.load_kinetic(name) if name in cd.catalogue.names("kinetic") else cd.catalogue.load(name)
    grid = cd.default_grid(model, cells) if extent is None else cd.Grid(cells, extent, model.defaults.boundary)
    sol = cd.solve(model, grid, t_end, stepper=stepper, save_every=every, **kinetic)
    frames = np.ascontiguousarray(sol._frames())
    digest = hashlib.sha256(frames.tobytes() + np.ascontiguousarray(sol.state).tobytes()).hexdigest()[:16]
    s = sol.stats
    return (
        f"{label:26s} steps {s.n_steps:5d} rejected {s.n_rejected:3d} nfev {s.nfev:6d} "
        f"frames {len(sol.t):3d} t {sol.t_final:.17g} sha {digest}"
    )


def main(argv: list[str]) -> int:
    wanted = set(argv)
    for case in CASES:
        if wanted and case[0] not in wanted:
            continue
        print(fingerprint(case), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
