"""What a notebook user sees: short reprs, HTML displays, labelled results, one-line refusals."""

from __future__ import annotations

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import InputError


@pytest.fixture(scope="module")
def solution():
    model = cd.catalogue.load("keller-segel-logistic")
    return cd.solve(model, cd.Grid((16, 16), model.defaults.extent), 1.0, save_every=0.5)


def test_reprs_are_one_short_line():
    model = cd.catalogue.load("oncolytic-virus")
    kinetic = cd.catalogue.load_kinetic("cancer-invasion-kinetic")
    for obj in (model, kinetic, cd.Run(model)):
        text = repr(obj)
        assert "\n" not in text and len(text) < 300 and "mappingproxy" not in text, text
    assert repr(model).startswith("Model('oncolytic-virus': species u1, u2, u3, u4;")
    assert repr(kinetic).startswith("KineticModel('cancer-invasion-kinetic': species u1, u2, u3;")


def test_html_displays_name_the_model_and_its_parameters():
    model = cd.catalogue.load("keller-segel-logistic")
    html = model._repr_html_()
    assert "keller-segel-logistic" in html and "<code>chi</code>" in html and "$$" in html  # equations in LaTeX
    kinetic = cd.catalogue.load_kinetic("cancer-invasion-kinetic")
    assert "velocity space: sphere" in kinetic._repr_html_()
    assert "frames every" in cd.Run(model)._repr_html_()


def test_solution_repr_html_and_labelled_mass(solution):
    text = repr(solution)
    assert text.startswith("Solution('keller-segel-logistic': success at t = 1 on 16x16") and len(text) < 300
    assert "<code>u</code>" in solution._repr_html_() and "success" in solution._repr_html_()
    mass = solution.mass()
    assert mass.dims == ("time", "species") and list(mass["species"].values) == ["u", "v"]
    np.testing.assert_array_equal(mass["time"].values, solution.t)
    # the labelled mass is the integral of the frames (cell volume (20/16)²)
    np.testing.assert_allclose(mass.sel(species="u").values, solution["u"].sum(axis=(1, 2)) * (20 / 16) ** 2)


def test_solve_refuses_an_unknown_option_in_one_line():
    with pytest.raises(InputError, match="solve\\(\\) takes no option 'sav_every'; options: .*save_every"):
        cd.solve("keller-segel", sav_every=1.0)


def test_analysis_and_derivation_reprs_say_what_they_found():
    from crossdiff import analysis
    from crossdiff.derive import derive

    model = cd.catalogue.load("may-nowak-taxis")
    assert repr(analysis.dispersion(model)).startswith(
        "Dispersion('may-nowak-taxis' at (u1 = 1, u2 = 1, u3 = 1): steady"
    )
    assert "every admissible mode decays" in repr(analysis.dispersion(model.with_parameters(chi=1.0)))
    assert repr(analysis.critical(model, "chi")).startswith("Critical(chi_c = 5.0001")
    limit = derive(cd.catalogue.load_kinetic("cancer-invasion-kinetic"))
    assert repr(limit).startswith("Derivation('cancer-invasion-kinetic' -> its limit: species u1, u2, u3")
    assert "\\begin{aligned}" in limit._repr_html_()
