"""``crossdiff derive``: plain, --latex, --json, --save-model, errors (exit 2, one line)."""

from __future__ import annotations

import json

import pytest

from crossdiff.cli import main
from crossdiff.model import read_model_file


def test_plain_output_shows_coefficients_system_and_differences(capsys):
    assert main(["derive", "cancer-invasion-kinetic"]) == 0
    out = capsys.readouterr().out
    assert "DIFFERENCES FROM THE PAPER" in out
    assert out.index("DIFFERENCES FROM THE PAPER") < out.index("Coefficients")  # prominently, first
    assert "bias kernel as printed" in out and "chi/(2*pi*R)" in out
    assert "D_u1 = I" in out and "alpha_u1 = (chi) grad(u2) + (xi) grad(u3)" in out
    assert "du1/dt = lap(u1) - div(chi*u1 grad u2) - div(xi*u1 grad u3)" in out
    assert "[check]" in out


def test_latex_output(capsys):
    assert main(["derive", "nonlinear-singular-kinetic", "--latex"]) == 0
    out = capsys.readouterr().out
    assert r"\begin{aligned}" in out and r"\partial_t u_{1}" in out
    assert r"\alpha_{u_{1}} = \frac{1}{u_{2}}\,\nabla u_{2}" in out
    assert "% DIFFERENCE FROM THE PAPER: species u2: diffusion" in out


def test_json_output(capsys):
    assert main(["derive", "oncolytic-virus-kinetic", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    u1 = data["species"]["u1"]
    assert u1["D"] == [["D1", "0"], ["0", "D1"]]
    assert u1["chi"] == {"u3": [["xi1", "0"], ["0", "xi1"]]}
    assert data["species"]["u3"]["diffusion_in_limit"] is False
    assert data["model_runnable"] is True
    assert any("(8), (11), (12)" in t for t in data["differences_from_paper"])


def test_save_model_round_trip(tmp_path, capsys):
    path = tmp_path / "limit.toml"
    assert main(["derive", "forager-scrounger-kinetic", "--save-model", str(path)]) == 0
    assert "wrote the limit model" in capsys.readouterr().out
    model = read_model_file(path)
    assert model.name == "forager-scrounger" and model.species_names == ("u1", "u2", "u3")
    assert str(model["u2"].taxis[0].sensitivity) == "xi2" and model["u2"].taxis[0].signal == "u1"


def test_numeric_flag(capsys):
    assert main(["derive", "forager-scrounger-kinetic", "--numeric", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "numeric"
    assert float(data["species"]["u1"]["chi"]["u3"][0][0]) == pytest.approx(10.0)


def test_kinetic_file_argument_and_bad_files(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "[velocity]\nspace = 'sphere'\ndim = 2\n[[species]]\nname = 'u'\nturning = { relaxation = 1 }\nspeed = 3\n"
    )
    assert main(["derive", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crossdiff: error: bad.toml: unknown key 'speed'") and err.count("\n") == 1
    good = tmp_path / "good.toml"
    good.write_text(bad.read_text().replace("speed = 3\n", ""))
    assert main(["derive", str(good)]) == 0
    assert "D_u = (1/2) I" in capsys.readouterr().out
    assert main(["derive", "no-such-kinetic"]) == 2
    assert "available: " in capsys.readouterr().err


def test_failed_assumption_exits_2(tmp_path, capsys):
    path = tmp_path / "m.toml"
    path.write_text(
        "[velocity]\nspace = 'sphere'\ndim = 1\n[[species]]\nname = 'u'\n"
        "equilibrium = '(1 + vx)/absV'\nturning = { relaxation = 1 }\n"
    )
    assert main(["derive", str(path)]) == 2
    err = capsys.readouterr().err
    assert "species 'u'" in err and "(16)" in err and "Traceback" not in err


def test_anisotropic_limit_cannot_be_saved(tmp_path, capsys):
    path = tmp_path / "aniso.toml"
    path.write_text(
        "[velocity]\nspace = 'discrete'\npoints = [[-1, 0], [1, 0]]\n"
        "[[species]]\nname = 'u'\nturning = { relaxation = 1 }\nbias = { kernel = '-vs_grad_c' }\n"
        "[[species]]\nname = 'c'\nturning = { relaxation = 1 }\n"
    )
    assert main(["derive", str(path)]) == 0
    assert "not runnable by the macroscopic solver" in capsys.readouterr().out
    assert main(["derive", str(path), "--save-model", str(tmp_path / "x.toml")]) == 2
    assert "scalar sensitivities only" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name",
    ["oncolytic-virus-kinetic", "cancer-invasion-kinetic", "forager-scrounger-kinetic", "nonlinear-singular-kinetic"],
)
def test_docs_show_the_system_as_crossdiff_prints_it(name, capsys):
    """docs/derivations.md holds the current `crossdiff derive NAME --latex` output."""
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "derivations.md").read_text(encoding="utf-8")
    assert main(["derive", name, "--latex"]) == 0
    latex = "\n".join(line for line in capsys.readouterr().out.splitlines() if not line.startswith("%")).strip()
    assert latex in doc


def test_plain_output_prints_only_what_enters_the_limit(tmp_path, capsys):
    """No D for a species with p >= 2 (the ECM of (48)), the radius's value, not ``R = R``."""
    assert main(["derive", "oncolytic-virus-kinetic"]) == 0
    out = capsys.readouterr().out
    assert "velocity space: sphere R S^1 in d = 2, R = 1\n" in out and "R = R" not in out
    coefficients = out.split("Coefficients", 1)[1].split("\n\n", 1)[0]
    assert "D_u1 = (D1) I" in coefficients and "psi_u3 = " in coefficients
    assert "D_u3" not in coefficients and "sigma3" not in coefficients
    assert main(["derive", "oncolytic-virus-kinetic", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)  # the JSON keeps every coefficient, with the switches
    assert data["species"]["u3"]["D"][0][0] == "R**2/(2*sigma3)" and data["velocity"].endswith("R = 1")
    # a bias of order eps^2 (b = 2): no alpha; a radius given by an expression shows its value
    path = tmp_path / "b2.toml"
    path.write_text(
        "[velocity]\nspace = 'sphere'\ndim = 1\nradius = '2*s'\n[parameters]\ns = 1.5\n"
        "[[species]]\nname = 'u'\nb = 2\nturning = { relaxation = 1 }\nbias = { kernel = '-vs_grad_c/absV' }\n"
        "[[species]]\nname = 'c'\nturning = { relaxation = 1 }\n"
    )
    assert main(["derive", str(path)]) == 0
    out = capsys.readouterr().out
    assert "R = 2*s = 3\n" in out
    coefficients = out.split("Coefficients", 1)[1].split("\n\n", 1)[0]
    assert "D_u = " in coefficients and "alpha_u" not in coefficients and "psi_u = 0" in coefficients
    assert main(["derive", str(path), "--latex"]) == 0
    assert r"\alpha" not in capsys.readouterr().out


def test_discrete_velocities_show_the_parameter_values(tmp_path, capsys):
    path = tmp_path / "discrete.toml"
    path.write_text(
        "[velocity]\nspace = 'discrete'\npoints = [['-a'], ['a']]\n[parameters]\na = 2\n"
        "[[species]]\nname = 'u'\nturning = { relaxation = 1 }\n"
    )
    assert main(["derive", str(path)]) == 0
    assert "velocity space: 2 discrete velocities in d = 1: (-a), (a) with a = 2\n" in capsys.readouterr().out


def test_latex_names_greek_abbreviations_and_words(capsys):
    """``lam`` is printed as λ, a multi-letter definition upright (forager-scrounger's psi_3)."""
    assert main(["derive", "forager-scrounger-kinetic", "--latex"]) == 0
    out = capsys.readouterr().out
    assert r"\psi_{u_{3}} = - \lambda u_{3} \left(u_{1} + u_{2}\right) - \mu u_{3} + \mathrm{source}" in out
    assert " lam " not in out and "-  " not in out
