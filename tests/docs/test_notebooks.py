"""The example notebooks (docs/notebooks) run headless from top to bottom and show what they say:
the threshold of Keller–Segel with logistic growth, a pattern above it, and the kinetic model's
order of convergence to its limit."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "docs" / "notebooks"


def _run(name: str, tmp_path: Path) -> list:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        parts.append(str(out.get("text", "")) + str(data.get("text/plain", "")) + str(data.get("text/html", "")))
    return "\n".join(parts)


def test_the_pattern_study_notebook(tmp_path):
    cells = _run("pattern-study.ipynb", tmp_path)
    assert "macroscopic model keller-segel-logistic" in _text(cells[0])  # the HTML display of the model
    assert "Critical(chi_c = " in _text(cells[1])
    assert "steady instability" in _text(cells[2])
    assert "success" in _text(cells[3])
    behaviour, amplitude, _ = _text(cells[4]).split()
    assert behaviour != "decaying" and float(amplitude) > 0.1  # above the threshold a pattern grows
    assert "image/png" in str(cells[-1].get("outputs", [{}])[0].get("data", {}))  # the picture is drawn


def test_the_micro_to_macro_notebook(tmp_path):
    cells = _run("micro-to-macro.ipynb", tmp_path)
    assert "\\begin{aligned}" in _text(cells[1])  # the limit in LaTeX
    orders = eval(_text(cells[2]))  # {'u1': 1.6, ...}: the fitted orders in eps
    assert min(orders.values()) >= 0.8  # the O(eps) of the Hilbert expansion (measured 1.6, 1.8, 0.9)
    assert "success" in _text(cells[3])
