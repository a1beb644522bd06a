"""Writes the example notebooks of this folder from the cells below (their outputs are not kept:
the test suite, ``tests/docs/test_notebooks.py``, executes them headless).

    python docs/notebooks/make.py && ruff format docs/notebooks
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

PATTERNS = [
    (
        "md",
        "# A pattern study: Keller–Segel with logistic growth\n\n"
        "Where does the homogeneous state lose stability, which mode grows, and what does a run "
        "just above the threshold do? (docs/analysis.md)",
    ),
    (
        "code",
        "%matplotlib inline\nimport crossdiff as cd\nfrom crossdiff import analysis\n\n"
        "model = cd.catalogue.load('keller-segel-logistic')\nmodel  # parameters and equations",
    ),
    (
        "code",
        "grid = cd.default_grid(model, (80,))  # 1D on the model's x-interval\n"
        "crit = analysis.critical(model, 'chi', grid=grid)\ncrit",
    ),
    ("code", "disp = analysis.dispersion(model.with_parameters(chi=1.2 * crit.value), grid=grid)\ndisp"),
    (
        "code",
        "run = cd.Run(model.with_parameters(chi=1.2 * crit.value), grid, t_end=40, save_every=4)\n"
        "sol = cd.solve(run)\nsol",
    ),
    (
        "code",
        "found = analysis.classify(sol)\nprint(found.behaviour, round(found.amplitude, 3), round(found.wavelength, 2))",
    ),
    ("code", "sol.mass()  # a labelled DataArray (time, species)"),
    (
        "code",
        "from crossdiff.plot import plot_spacetime\nplot_spacetime(sol.to_xarray())  # a matplotlib Figure",
    ),
]

MICRO_MACRO = [
    (
        "md",
        "# From the kinetic model to its limit\n\n"
        "The Hilbert expansion of a kinetic model of active particles (docs/theory.md), and the "
        "kinetic solution's densities approaching the limit as ε → 0 (docs/kinetic.md).",
    ),
    (
        "code",
        "import crossdiff as cd\nfrom crossdiff.analysis import limit_convergence\nfrom crossdiff.derive import derive\n\n"
        "kinetic = cd.catalogue.load_kinetic('cancer-invasion-kinetic')\nkinetic",
    ),
    ("code", "limit = derive(kinetic)\nlimit  # D, alpha, psi and the limit system in LaTeX"),
    (
        "code",
        "grid = cd.Grid((60,), ((0.0, 30.0),))  # the sphere model in 1D: velocities ±R\n"
        "study = limit_convergence(kinetic, [0.1, 0.05, 0.025], grid, 0.2)\n"
        "{name: round(order, 2) for name, order in study.order_l1.items()}",
    ),
    (
        "code",
        "sol = cd.solve(cd.Run(kinetic, grid, 0.2, eps=0.05))\nsol",
    ),
]


def notebook(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(t) if k == "md" else nbformat.v4.new_code_cell(t) for k, t in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def main() -> None:
    nbformat.write(notebook(PATTERNS), HERE / "pattern-study.ipynb")
    nbformat.write(notebook(MICRO_MACRO), HERE / "micro-to-macro.ipynb")


if __name__ == "__main__":
    main()
