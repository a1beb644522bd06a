"""Build the pages of docs/models/*.md by running every catalogue model.

Run from the repository root:  .venv/bin/python docs/build.py [NAME ...] [--no-figures]
Each model runs with its catalogue defaults (domain, grid, parameters, t_end) unless OVERRIDES
says otherwise (the reason is given there); 2D models show the last frame, 1D models a space-time
image. Writes docs/figures/<name>.png and prints the run summary.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import crossdiff as cd
from crossdiff.plot import plot_frame, plot_spacetime, save_figure

HERE = Path(__file__).parent
#: name -> (solve keyword overrides, reason)
OVERRIDES: dict[str, tuple[dict, str]] = {
    "keller-segel-fluid": (
        {"grid": cd.Grid((64, 32), ((0.0, 2.0), (0.0, 1.0)), ("periodic", "noflux")), "t_end": 0.6},
        "64×32 to t = 0.6, when the plumes have formed (the 128×64 run to t = 2 takes minutes)",
    ),
    "keller-segel-stokes": (
        {"grid": cd.Grid((64, 64))},
        "64×64 (the default 128² grid takes minutes)",
    ),
    "keller-segel-dish": (
        {"grid": cd.default_domain(cd.catalogue.load("keller-segel-dish"), (64, 64))},
        "the dish on 64×64 (the default 128² grid takes minutes)",
    ),
    "cancer-invasion-vessel": (
        {"grid": cd.default_domain(cd.catalogue.load("cancer-invasion-vessel"), (64, 64))},
        "the tissue on 64×64 (the default 96² grid takes minutes)",
    ),
}


def page(name: str) -> str:
    """The Markdown page of catalogue model ``name``."""
    model = cd.catalogue.load(name)
    path = cd.catalogue.path(name)
    header = [line[1:].strip() for line in path.read_text().splitlines() if line.startswith("#")]
    d = model.defaults
    lines = [
        f"# `{name}`",
        "",
        model.description,
        "",
        f"Reference: {model.reference}",
        "",
        "## Equations",
        "",
        "$$",
        r"\begin{aligned}",
    ]
    lines += [eq.replace(" = ", " &= ", 1) + r" \\" for eq in model.equations(latex=True)]
    lines += [r"\end{aligned}", "$$", ""]
    if model.definitions:
        lines += ["Definitions (replace with `--set NAME=EXPRESSION`):", ""]
        lines += [f"- `{k} = {v}`" for k, v in model.definitions.items()] + [""]
    lines += ["## Parameters", "", "| name | default | meaning |", "|---|---|---|"]
    lines += [f"| `{k}` | {v:g} | {model.parameter_info.get(k, '')} |" for k, v in model.parameters.items()]
    box = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in d.extent)
    lines += [
        "",
        "## Defaults",
        "",
        f"Domain {box}, {'×'.join(map(str, d.cells))} cells, "
        f"{d.boundary if isinstance(d.boundary, str) else '/'.join(d.boundary)} boundaries, "
        f"t_end = {d.t_end:g}"
        + (f", frames every {d.save_every:g}" if d.save_every else "")
        + f", noise seed {d.seed}.",
        "",
    ]
    if d.inside is not None or d.mask is not None:
        shape = cd.default_domain(model)
        lines += [
            f"Shape: `{'inside = ' + repr(d.inside) if d.inside is not None else 'mask = ' + repr(d.mask)}`, "
            f"on cut cells ([numerics](../numerics.md#domains-of-any-shape-cut-cells-crossdiffgridshape)): {shape.describe()}.",
            "",
        ]
    lines += [
        "Initial data:",
        "",
    ]
    lines += [f"- `{s.name}(0) = {s.initial}` ({s.long_name})" for s in model.species]
    lines += [
        "",
        "## Sources and choices",
        "",
        "From the header of the model file "
        f"(`crossdiff/catalogue/{name}.toml`); [R] marks a documented choice, not a citation.",
        "",
    ]
    lines += ["> " + h if h else ">" for h in header]
    lines += [
        "",
        "## Picture",
        "",
        f"`crossdiff run {name} --out {name}.nc && crossdiff plot {name}.nc`"
        + (" --spacetime" if len(d.cells) == 1 else "")
        + " (made by `docs/build.py`):",
        "",
        f"![{name}](../figures/{name}.png)",
        "",
    ]
    return "\n".join(lines)


def main(names: list[str]) -> None:
    figures = "--no-figures" not in names
    names = [n for n in names if not n.startswith("--")]
    for name in names or cd.catalogue.names():
        (HERE / "models" / f"{name}.md").write_text(page(name))
        if not figures:
            continue
        model = cd.catalogue.load(name)
        kwargs, _ = OVERRIDES.get(name, ({}, ""))
        t0 = time.perf_counter()
        sol = cd.solve(model, throw=False, **kwargs)
        ds = sol.to_xarray()
        fig = plot_spacetime(ds) if sol.grid.ndim == 1 else plot_frame(ds, streamlines="stream" in ds)
        picture = HERE / "figures" / f"{name}.png"
        picture.unlink(missing_ok=True)  # the repository's own generated picture, made anew
        save_figure(fig, picture, dpi=90)
        peaks = ", ".join(
            f"{n} in [{sol.final[i].min():.3g}, {sol.final[i].max():.3g}]" for i, n in enumerate(model.species_names)
        )
        print(
            f"{name}: {sol.status.label} t={sol.t_final:g} steps={sol.stats.n_steps} "
            f"wall={time.perf_counter() - t0:.1f}s; {peaks}",
            flush=True,
        )
        assert np.all(np.isfinite(sol.final))


if __name__ == "__main__":
    main(sys.argv[1:])
