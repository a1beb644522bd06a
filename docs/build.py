"""Build the pages of docs/models/*.md by running every catalogue model (macroscopic and kinetic).

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
    where = (
        f"Domain {box}, {'×'.join(map(str, d.cells))} cells, "
        f"{d.boundary if isinstance(d.boundary, str) else '/'.join(d.boundary)} boundaries, "
    )
    if d.network is not None:  # a network ([network] table): its edges and vertex conditions
        where = f"A {cd.default_domain(model).describe()} ([networks](../networks.md)), "
    lines += [
        "",
        "## Defaults",
        "",
        where
        + f"t_end = {d.t_end:g}"
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
    if d.front is not None:
        lines += [
            f"Free boundary: the high end moves at `s' = {d.front}` (front fixing; "
            "[theory §7.6](../theory.md), [numerics](../numerics.md)); pictures in physical coordinates.",
            "",
        ]
    if d.growth is not None:
        laws = [d.growth] if isinstance(d.growth, str) else list(d.growth)
        lines += [
            "Growth: the length scale L(t)/L(0) = "
            + ", ".join(f"`{law}`" for law in laws)
            + " (cells move with the tissue; [theory §7](../theory.md), [numerics](../numerics.md)); "
            "pictures in physical coordinates.",
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
    if name in DIAGRAMS:
        lines += diagram_section(name)
    return "\n".join(lines)


#: name -> (parameter, range, 1D cells, branches, what the diagram shows: the figures measured on it)
#: of the bifurcation diagrams on the catalogue pages (docs/continuation.md), drawn by
#: :func:`draw_diagram` into docs/figures/NAME-diagram.png
DIAGRAMS: dict[str, tuple[str, tuple[float, float], int, int, str]] = {
    "keller-segel-logistic": (
        "chi",
        (3.5, 7.0),
        100,
        2,
        "On 100 cells of [0, 20] the homogeneous state u = v = 1 loses stability at χ = 4.0148 to mode 6 "
        "(k = 0.942, the admissible mode nearest the continuum's critical k = 1, χ_c = 4), then to modes "
        "7, 8, 5, 9, … — twelve branch points up to χ = 7, each at the threshold of the discrete dispersion "
        "relation. Both branches followed are **supercritical** pitchforks (they leave forward, norm² linear "
        "in χ − χ_c: no hysteresis at onset, the weakly nonlinear coefficient of docs/theory.md §6.3 says so "
        "too). The branch of mode 6 (two peaks inside, half a peak at each wall) is **stable** from its "
        "onset up to a Hopf point at χ = 5.490 (frequency 0.272, mode 10): beyond it the stationary peaks are unstable to oscillations, "
        "and further Hopf points (χ = 6.40, 6.88, 6.95) and two **folds** (χ = 6.870, 6.996, an S-shaped "
        "turn where a small middle peak appears) follow. The branch of mode 7 is born unstable (mode 6 "
        "grows on it) and is stabilised at a secondary branch point at χ = 4.063; from there it is stable "
        "to χ = 7 (three peaks inside, half a peak at one wall): for χ > 4.063 two stable patterns "
        "coexist, and which one a run ends on depends on its initial data. 180 points, 20 special points in 3 s.",
    ),
    "may-nowak-taxis": (
        "chi",
        (4.0, 9.0),
        100,
        2,
        "On 100 cells of [0, 20] the infected state u* = (1, 1, 1) loses stability at χ = 5.0148 (mode 6; "
        "the continuum threshold is χ = 5, docs/theory.md §4), then at 5.0346 (mode 7) and to thirteen "
        "modes in all up to χ = 9, each branch point at its discrete threshold to 10⁻⁹. Both pitchforks "
        "are **supercritical**. The branch of mode 6 is **stable** from its onset to χ = 9 while the "
        "healthy cells concentrate into spikes (two inside, half a one at each wall; at χ = 9 the peak "
        "u1 = 10.8 fills one cell, its neighbours hold 2: bounded in 1D, but no longer resolved). The branch of mode 7 is stable after "
        "a secondary branch point at χ = 5.055 up to a **fold** at χ = 6.166, turns back unstable and "
        "turns forward again, stable, at a **corner** at χ = 5.6825 where the taxis limiter of one cell "
        "switches (a non-smooth fold: docs/continuation.md): between them three states of mode 7 "
        "coexist, two of them stable — a thin hysteresis loop of the discretisation of the narrow "
        "spikes, which moves with the grid (on 200 cells: fold at χ = 7.174, corner at "
        "6.355). 307 points, 16 special points in 3 s.",
    ),
}


def diagram_section(name: str) -> list[str]:
    """The catalogue page's section on the bifurcation diagram of ``name`` (:data:`DIAGRAMS`)."""
    parameter, (lo, hi), cells, branches, text = DIAGRAMS[name]
    return [
        "## Bifurcation diagram",
        "",
        f"`crossdiff continue {name} --param {parameter} --range {lo:g},{hi:g} --grid {cells} "
        f"--branches {branches} --plot {name}-diagram.png` ([continuation](../continuation.md); made by "
        "`docs/build.py`): the norm (RMS deviation from the mean) of the steady states against "
        f"{parameter}, stable solid, unstable dashed, branch points ○, folds □, Hopf points △, and the "
        "last state of each patterned branch.",
        "",
        text,
        "",
        f"![bifurcation diagram of {name}](../figures/{name}-diagram.png)",
        "",
    ]


def draw_diagram(name: str, picture: Path) -> str:
    """Continue catalogue model ``name`` as :data:`DIAGRAMS` says and draw its diagram into
    ``picture``; returns a one-line summary."""
    from crossdiff.continuation import continuation

    parameter, bounds, cells, branches, _ = DIAGRAMS[name]
    model = cd.catalogue.load(name)
    t0 = time.perf_counter()
    diagram = continuation(model, parameter, bounds, grid=cd.default_grid(model, (cells,)), branches=branches)
    picture.unlink(missing_ok=True)
    save_figure(diagram.plot(), picture, dpi=90)
    return f"{name} diagram: {diagram!r} wall={time.perf_counter() - t0:.1f}s"


#: Cells per axis at most in the pictures of the manual (:func:`draw` with ``small=True``): the
#: site draws every model while it is built, so its grids are coarse (the pages' pictures are not).
SMALL_CELLS = {1: 200, 2: 48}
#: name -> (end time, reason) of the manual's pictures where the catalogue's end time takes minutes
SMALL_T_END: dict[str, tuple[float, str]] = {
    "forager-scrounger": (50.0, "the oscillations to t = 300 take 170 000 steps (80 s)"),
}


def draw(name: str, picture: Path, small: bool = False) -> str:
    """Run catalogue model ``name`` (with :data:`OVERRIDES`; ``small``: on at most
    :data:`SMALL_CELLS` cells per axis; a kinetic model as :data:`KINETIC_RUNS` says) and draw its
    picture into ``picture``; returns a one-line summary of the run."""
    kinetic = name in cd.catalogue.names("kinetic")
    model = cd.catalogue.load_kinetic(name) if kinetic else cd.catalogue.load(name)
    kwargs, _ = OVERRIDES.get(name, ({}, ""))
    kwargs = dict(kwargs)
    if kinetic:
        cells, t_end = KINETIC_RUNS[name]
        on = cd.default_domain if model.defaults.network is not None else cd.default_grid  # a network's cells in all
        kwargs.update(grid=on(model, cells), t_end=t_end, eps=KINETIC_EPS, save_every=t_end / 20)
    elif small and model.defaults.network is None:
        grid = kwargs.get("grid") or cd.default_domain(model)
        cap = SMALL_CELLS[grid.ndim]
        cells = tuple(max(8, round(n * min(1.0, cap / max(grid.cells)))) for n in grid.cells)
        kwargs["grid"] = (
            cd.Grid(cells, grid.extent, grid.boundary)
            if isinstance(grid, cd.Grid)
            else cd.default_domain(model, cells, grid.boundary[0])  # a shape, a growing box
        )
        if name in SMALL_T_END:
            kwargs["t_end"] = SMALL_T_END[name][0]
    t0 = time.perf_counter()
    sol = cd.solve(model, throw=False, **kwargs)
    ds = sol.to_xarray()
    fig = plot_spacetime(ds) if sol.grid.ndim == 1 else plot_frame(ds, streamlines="stream" in ds)
    picture.unlink(missing_ok=True)  # the repository's own generated picture, made anew
    save_figure(fig, picture, dpi=90)
    assert np.all(np.isfinite(sol.final))
    peaks = ", ".join(
        f"{n} in [{sol.final[i].min():.3g}, {sol.final[i].max():.3g}]" for i, n in enumerate(model.species_names)
    )
    return (
        f"{name}: {sol.status.label} on {sol.grid.describe()} t={sol.t_final:g} steps={sol.stats.n_steps} "
        f"wall={time.perf_counter() - t0:.1f}s; {peaks}"
    )


#: name -> (cells, end time) of the pictures of the kinetic catalogue models, at ε = :data:`KINETIC_EPS`
#: (the catalogue's grids and end times take minutes to hours at small ε; docs/kinetic.md)
KINETIC_RUNS: dict[str, tuple[tuple[int, ...], float]] = {
    "cancer-invasion-kinetic": ((24, 24), 6.0),
    "forager-scrounger-kinetic": ((100,), 1.0),
    "keller-segel-gaussian-kinetic": ((12, 12), 0.02),
    "nonlinear-singular-kinetic": ((100,), 5.0),
    "oncolytic-virus-kinetic": ((24, 24), 10.0),
    "sir-network-kinetic": ((136,), 10.0),
}
KINETIC_EPS = 0.05


def kinetic_page(name: str) -> str:
    """The Markdown page of kinetic catalogue model ``name``: the model, its derived limit and a picture."""
    from crossdiff.derive import derive

    model = cd.catalogue.load_kinetic(name)
    path = cd.catalogue.path(name, "kinetic")
    header = [line[1:].strip() for line in path.read_text().splitlines() if line.startswith("#")]
    d = model.defaults
    cells, t_end = KINETIC_RUNS[name]
    limit = derive(model).model
    lines = [f"# `{name}`", "", model.description, "", f"Reference: {model.reference}", ""]
    if model.macro:
        lines += [f"Its macroscopic limit is the catalogue model [`{model.macro}`]({model.macro}.md).", ""]
    lines += [
        "## Derived limit",
        "",
        f"`crossdiff derive {name}` (the Hilbert expansion, docs/derivations.md) gives, as ε → 0:",
        "",
        "$$",
        r"\begin{aligned}",
    ]
    lines += [eq.replace(" = ", " &= ", 1) + r" \\" for eq in limit.equations(latex=True)]
    lines += [r"\end{aligned}", "$$", ""]
    if model.definitions:
        lines += ["Definitions (replace with `--set NAME=EXPRESSION`):", ""]
        lines += [f"- `{k} = {v}`" for k, v in model.definitions.items()] + [""]
    lines += ["## Parameters", "", "| name | default | meaning |", "|---|---|---|"]
    lines += [f"| `{k}` | {v:g} | {model.parameter_info.get(k, '')} |" for k, v in model.parameters.items()]
    box = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in d.extent)
    where = (
        f"Domain {box}, {'×'.join(map(str, d.cells))} cells, "
        f"{d.boundary if isinstance(d.boundary, str) else '/'.join(d.boundary)} boundaries, "
    )
    if d.network is not None:  # a network ([network] table): its edges and vertex conditions
        where = f"A {cd.default_domain(model).describe()} ([networks](../networks.md)), "
    lines += [
        "",
        "## Defaults",
        "",
        f"Velocities: {model.velocity}. " + where + f"t_end = {d.t_end:g}, noise seed {d.seed}.",
        "",
        "Initial data:",
        "",
    ]
    lines += [f"- `{s.name}(0) = {s.initial}` ({s.long_name})" for s in model.species]
    lines += [
        "",
        "## Sources and choices",
        "",
        f"From the header of the kinetic file (`crossdiff/catalogue/kinetic/{name}.toml`).",
        "",
    ]
    lines += ["> " + h if h else ">" for h in header]
    grid = "x".join(map(str, cells))
    lines += [
        "",
        "## Picture",
        "",
        f"`crossdiff run {name} --eps {KINETIC_EPS:g} --grid {grid} --t-end {t_end:g} --save-every {t_end / 20:g} "
        f"--out {name}.nc && "
        f"crossdiff plot {name}.nc" + (" --spacetime" if len(cells) == 1 else "") + "` (made by `docs/build.py`; "
        "a short run on a coarse grid: the catalogue's take minutes at small ε):",
        "",
        f"![{name}](../figures/{name}.png)",
        "",
    ]
    return "\n".join(lines)


def all_names() -> list[str]:
    """Every catalogue model with a page: macroscopic, then kinetic."""
    return cd.catalogue.names() + cd.catalogue.names("kinetic")


def main(argv: list[str]) -> None:
    figures = "--no-figures" not in argv
    kinetic = cd.catalogue.names("kinetic")
    for name in [n for n in argv if not n.startswith("--")] or all_names():
        (HERE / "models" / f"{name}.md").write_text(kinetic_page(name) if name in kinetic else page(name))
        if figures:
            print(draw(name, HERE / "figures" / f"{name}.png"), flush=True)
            if name in DIAGRAMS:
                print(draw_diagram(name, HERE / "figures" / f"{name}-diagram.png"), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
