"""``crossdiff models`` and ``crossdiff show``."""

from __future__ import annotations

import re

import pytest

from crossdiff import __version__, catalogue


def test_models_lists_every_catalogue_entry(cli):
    res = cli("models")
    assert res.rc == 0 and res.err == ""
    macro, kinetic = res.out.strip().split("\n\n")
    rows = macro.splitlines()
    assert rows[0].split()[:3] == ["model", "species", "paper"]
    listed = [row.split()[0] for row in rows[1:]]
    assert listed == catalogue.names()
    for name in catalogue.names():
        model = catalogue.load(name)
        row = next(r for r in rows if r.split()[0] == name)
        assert ", ".join(model.species_names) in row
        assert model.description in row


def test_models_lists_the_kinetic_entries_in_their_own_section(cli):
    kinetic = cli("models").out.strip().split("\n\n")[1].splitlines()
    assert kinetic[0].startswith("kinetic models") and "crossdiff derive" in kinetic[0]
    assert kinetic[1].split("  ")[0] == "kinetic model" and "limit" in kinetic[1]
    assert [row.split()[0] for row in kinetic[2:]] == catalogue.names(kind="kinetic")
    assert catalogue.names(kind="kinetic")  # the section is not empty
    for row, name in zip(kinetic[2:], catalogue.names(kind="kinetic")):
        model = catalogue.load_kinetic(name)
        assert ", ".join(model.species_names) in row and model.description in row
        assert f"  {model.macro}  " in row and model.macro in catalogue.names()  # its limit is a catalogue model
        assert f"paper {model.paper.equation}" in row


@pytest.mark.parametrize("name", catalogue.names())
def test_show_prints_equations_and_every_parameter(cli, name):
    model = catalogue.load(name)
    res = cli("show", name)
    assert res.rc == 0 and res.err == ""
    assert res.out.startswith(f"{name}: ")
    for equation in model.equations():
        assert equation in res.out
    params = res.out.split("\nparameters:\n", 1)[1].split("\n\n", 1)[0]
    for key, value in model.parameters.items():
        assert re.search(rf"^  {re.escape(key)}\s+= {value:<12g}", params, re.M), (key, params)
        if model.parameter_info.get(key):
            assert model.parameter_info[key] in params
    for s in model.species:
        assert f"  {s.name}(0) = " in res.out
    assert "defaults: domain" in res.out


@pytest.mark.parametrize("name", catalogue.names())
def test_show_latex(cli, name):
    model = catalogue.load(name)
    res = cli("show", name, "--latex")
    assert res.rc == 0
    assert "equations (LaTeX):" in res.out
    eq_lines = res.out.split("equations (LaTeX):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(eq_lines) == model.n_species
    for line, s in zip(eq_lines, model.species):
        # parabolic species show \partial_t, quasi-stationary ones (tau = 0) start with 0 =
        assert (r"\partial_t" in line) != (model.tau_value(s.name) == 0), line
    assert r"\partial_t" in res.out
    assert "du/dt" not in res.out


def test_show_set_changes_parameter_and_definition(cli):
    res = cli("show", "forager-scrounger", "--set", "xi1=2.5", "--set", "f=u1*(1 - u1)")
    assert res.rc == 0, res.err
    assert re.search(r"^  xi1\s+= 2\.5 ", res.out, re.M)
    assert "f = u1*(1 - u1)" in res.out


def test_show_model_file(cli, model_file):
    res = cli("show", model_file())
    assert res.rc == 0, res.err
    assert res.out.startswith("ks: test model")
    assert "chi = 1.5" in res.out and "sensitivity" in res.out


def test_version_and_help(cli):
    res = cli("--version")
    assert res.rc == 0 and __version__ in res.out
    res = cli("--help")
    assert res.rc == 0
    for command in ("models", "show", "run", "plot"):
        assert command in res.out


@pytest.mark.parametrize("name", catalogue.names())
def test_show_latex_spells_names_as_symbols(cli, name):
    """No parameter or definition name appears as a run of italic letters: ``lam`` is λ, Greek names
    are letters, other words (``source``) are upright."""
    model = catalogue.load(name)
    res = cli("show", name, "--latex")
    equations = res.out.split("equations (LaTeX):\n", 1)[1].split("\n\n", 1)[0]
    for key in [*model.parameters, *model.definitions]:
        head = re.match(r"[A-Za-z]+", key).group(0)
        if len(head) > 1:
            assert not re.search(rf"(?<![\\{{A-Za-z]){head}(?![A-Za-z])", equations), (key, equations)
    if "lam" in model.parameters:
        assert r"\lambda" in equations


def test_show_a_kinetic_model_and_derive_notes_name_their_species(cli):
    """``show`` takes a kinetic catalogue entry (it listed only macroscopic ones), and the notes of
    ``derive`` say which species each check is about."""
    res = cli("show", "forager-scrounger-kinetic")
    assert res.rc == 0 and "kinetic model (docs/kinetic.md) on sphere" in res.out, res.err
    assert "u1: relaxation at rate R**2/d" in res.out and "crossdiff derive forager-scrounger-kinetic" in res.out
    res = cli("derive", "forager-scrounger-kinetic")
    assert "[check] u3: relaxation T0" in res.out


def test_help_states_the_defaults(cli):
    text = " ".join(cli("run", "--help").out.split())
    for fragment in (
        "default: the model's, else t_end/20",
        "default 0.5/N^2",
        "default: 1e6 times the initial maximum",
    ):
        assert fragment in text, fragment


def test_converge_and_blowup_take_the_run_options(cli):
    """``converge`` takes the kinetic runs' tolerances and a seed; ``blowup`` a boundary, a
    stepper and a seed (the same options as ``run``, from the same registries)."""
    res = cli(
        "converge", "cancer-invasion-kinetic", "--eps", "0.1,0.05", "--grid", "24", "--t-end", "0.05",
        "--rtol", "1e-4", "--seed", "3", "--json",
    )  # fmt: skip
    assert res.rc == 0, res.err
    res = cli("converge", "cancer-invasion-kinetic", "--eps", "0.1,0.05", "--grid", "24", "--stepper", "imex")
    assert res.rc == 2 and "ars443" in res.err, res.err
    res = cli(
        "blowup", "keller-segel-elliptic", "--set", "mass=31.41592653589793", "--grids", "16,32", "--t-end", "0.002",
        "--boundary", "noflux", "--stepper", "imex3", "--rtol", "1e-4", "--seed", "2", "--json",
    )  # fmt: skip
    assert res.rc == 0, res.err
    res = cli("blowup", "keller-segel", "--grids", "16,32", "--seed", "-1")
    assert res.rc == 2 and "non-negative integer" in res.err
