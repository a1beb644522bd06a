"""The paper's Section 4 derivations, exactly: (41)+(44)-(47) -> (48), (50)-(54) -> (55),
(57) -> (58), (60)-(61) -> (62); each kinetic catalogue entry's limit is the macroscopic entry."""

from __future__ import annotations

import functools

import pytest
import sympy as sp

from crossdiff import catalogue
from crossdiff.catalogue import load_kinetic
from crossdiff.derive import derive
from crossdiff.kinetic import Bias
from crossdiff.kinetic import symbols as S

PAIRS = {
    "oncolytic-virus-kinetic": "oncolytic-virus",
    "cancer-invasion-kinetic": "cancer-invasion",
    "forager-scrounger-kinetic": "forager-scrounger",
    "nonlinear-singular-kinetic": "nonlinear-singular",
}


@functools.cache
def derived(name: str):
    return derive(load_kinetic(name))


def zero(expr) -> bool:
    """Exactly zero (a scalar or every entry of a matrix): simplify(a - b) == 0."""
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(e) == 0 for e in expr)
    return sp.simplify(expr) == 0


def sym(text: str) -> sp.Symbol:
    return sp.Symbol(text)


def test_oncolytic_virus_48():
    d = derived("oncolytic-virus-kinetic")
    I2 = sp.eye(2)
    for s, D in (("u1", "D1"), ("u2", "D2"), ("u4", "D4")):
        assert zero(d.D[s] - sym(D) * I2)
    # (42): alpha_l = xi_l grad u3, chi_l = xi_l I
    for s, xi in (("u1", "xi1"), ("u2", "xi2"), ("u4", "xi4")):
        grad3 = sp.Matrix(S.grad_symbols("u3", 2))
        assert zero(d.alpha[s] - sym(xi) * grad3)
        assert set(d.chi[s]) == {"u3"}
    u1, u2, u3, u4 = sp.symbols("u1 u2 u3 u4")
    mu1, r, rho, k, theta, delta2, alpha1, alpha2, mu3, beta, delta4 = sp.symbols(
        "mu1 r rho k theta delta2 alpha1 alpha2 mu3 beta delta4"
    )
    infection = rho * u1 * u4 / (k + theta * u1)
    assert zero(d.psi["u1"] - (mu1 * u1 * (1 - u1**r) - infection))
    assert zero(d.psi["u2"] - (infection - delta2 * u2))
    assert zero(d.psi["u3"] - (-u3 * (alpha1 * u1 + alpha2 * u2) + mu3 * u3 * (1 - u3)))
    assert zero(d.psi["u4"] - (beta * u2 - delta4 * u4 - infection))
    # q = 2: the ECM has a D_3 (35) but no diffusion in the limit (43)
    assert zero(d.D["u3"] - sym("R") ** 2 / (2 * sym("sigma3")) * I2)
    assert d["u3"].effective_D() == sp.zeros(2, 2)
    assert d.model["u3"].diffusion == 0
    assert not d.differences or all(n.species == "" for n in d.differences)  # only the general paper notes


def test_cancer_invasion_55():
    d = derived("cancer-invasion-kinetic")
    sigma, chi, xi = sp.symbols("sigma chi xi")
    assert zero(d.D["u1"] - sp.eye(2))  # (50) D1 = I
    assert zero(d.D["u2"] - sp.eye(2) / sigma)  # (50) D2 = I/sigma
    assert zero(d.chi["u1"]["u2"] - chi * sp.eye(2))
    assert zero(d.chi["u1"]["u3"] - xi * sp.eye(2))
    u1, u2 = sp.symbols("u1 u2")
    assert zero(d.psi["u2"] + (u2 - u1) / sigma)  # (53) -> -(u2 - u1)/sigma
    assert d.model["u3"].diffusion == 0  # q = 2


def test_forager_scrounger_58():
    d = derived("forager-scrounger-kinetic")
    assert zero(d.D["u1"][0, 0] - 1) and zero(d.D["u2"][0, 0] - 1)
    assert zero(d.D["u3"][0, 0] - sym("D"))  # q = 1: D3 survives
    assert zero(d.chi["u1"]["u3"][0, 0] - sym("xi1"))
    assert zero(d.chi["u2"]["u1"][0, 0] - sym("xi2"))  # the cascade
    u1, u2, u3 = sp.symbols("u1 u2 u3")
    lam, mu = sp.symbols("lam mu")
    assert zero(d.psi["u3"] - (-lam * (u1 + u2) * u3 - mu * u3 + sym("source")))


def test_nonlinear_singular_62():
    d = derived("nonlinear-singular-kinetic")
    u1, u2 = sp.symbols("u1 u2")
    assert zero(d.D["u1"][0, 0] - sym("D"))  # D(u1, u2) = R^2/(d sigma1)
    assert zero(d.chi["u1"]["u2"][0, 0] - 1 / u2)  # logarithmic sensitivity
    assert zero(d.D["u2"][0, 0] - sym("eta"))  # eta = R^2/(d sigma2)
    assert zero(d.psi["u1"] - (-u1 * u2 + sym("H")))
    assert zero(d.psi["u2"] - (-u2 + u1 * u2 + sym("K")))
    # the singular sensitivity is reported
    assert any("u2 > 0" in n.text for n in d.notes if n.species == "u1")


@pytest.mark.parametrize("kinetic_name", sorted(PAIRS))
def test_limit_is_the_macroscopic_catalogue_entry(kinetic_name):
    """Normalised coefficients D/tau, chi/tau, psi/tau agree with the macro entry, and so do the
    default parameters (docs/theory.md §3)."""
    limit = derived(kinetic_name).model
    macro = catalogue.load(PAIRS[kinetic_name])
    assert limit.species_names == macro.species_names
    assert limit.name == macro.name
    for s_lim, s_mac in zip(limit.species, macro.species):
        tau = macro.expand(s_mac.tau)
        assert zero(limit.expand(s_lim.diffusion) - macro.expand(s_mac.diffusion) / tau), s_lim.name
        taxis_l = {t.signal: limit.expand(t.sensitivity) for t in s_lim.taxis}
        taxis_m = {t.signal: macro.expand(t.sensitivity) / tau for t in s_mac.taxis}
        for signal in set(taxis_l) | set(taxis_m):
            assert zero(taxis_l.get(signal, 0) - taxis_m.get(signal, 0)), (s_lim.name, signal)
        assert zero(limit.expand(s_lim.reaction) - macro.expand(s_mac.reaction) / tau), s_lim.name
    for key, value in macro.parameters.items():
        assert limit.parameters[key] == pytest.approx(value), key
    assert dict(limit.definitions) == dict(macro.definitions)
    assert limit.defaults.extent == macro.defaults.extent


def test_printed_kernels_give_what_the_mathematics_gives():
    """docs/theory.md §5: (51) and the biases before (57) taken as printed (grad f_j) give alpha/|V|;
    (62) prints eta = R^2/(sigma1 d) where the mathematics gives R^2/(sigma2 d)."""
    d = derived("cancer-invasion-kinetic")
    bias_notes = [n for n in d.differences if n.species == "u1" and "bias kernel as printed" in n.text]
    assert len(bias_notes) == 1 and "chi/(2*pi*R)" in bias_notes[0].text and "xi/(2*pi*R)" in bias_notes[0].text
    d = derived("forager-scrounger-kinetic")
    texts = {n.species: n.text for n in d.differences if "bias kernel as printed" in n.text}
    assert "xi1/2" in texts["u1"] and "xi2/2" in texts["u2"]  # |V| = 2 in 1D
    d = derived("nonlinear-singular-kinetic")
    eta_notes = [n for n in d.differences if n.species == "u2" and "diffusion" in n.text]
    assert len(eta_notes) == 1 and "gives eta" in eta_notes[0].text


def test_printed_bias_with_nonuniform_M3_is_anisotropic():
    """docs/theory.md §5: with a non-uniform M_3 the xi term of (51), read with grad f_3, is anisotropic."""
    from dataclasses import replace

    from crossdiff.kinetic import Equilibrium

    kin = load_kinetic("cancer-invasion-kinetic")
    a = sp.Symbol("a")
    m3 = Equilibrium(expr=(1 + a * S.V[0] ** 2 / S.RADIUS**2) / ((1 + a / 2) * S.MEASURE))
    species = tuple(
        replace(s, equilibrium=m3)
        if s.name == "u3"
        else replace(s, bias=Bias(kernel="-(chi*vs_grad_fs_u2 + xi*vs_grad_fs_u3)/absV"))
        if s.name == "u1"
        else s
        for s in kin.species
    )
    kin = replace(kin, species=species, parameters={**kin.parameters, "a": 0.5}, paper=None)
    chi3 = derive(kin).chi["u1"]["u3"]
    assert not zero(chi3[0, 0] - chi3[1, 1]) and zero(chi3[0, 1])


def test_r_of_f3_as_printed_gives_r_of_u3_over_V():
    """docs/theory.md §5: (57)'s r(f_3) gives r(u_3/|V|) in psi_3; with r(s) = s**2 explicitly."""
    from dataclasses import replace

    kin = load_kinetic("forager-scrounger-kinetic")
    printed = "(-lam*(u1 + u2)*u3 - mu*u3 + fs_u3**2)/absV".replace("fs_u3", "f_u3")
    species = tuple(replace(s, interaction=printed) if s.name == "u3" else s for s in kin.species)
    psi3 = derive(replace(kin, species=species, paper=None)).psi["u3"]
    u1, u2, u3, lam, mu = sp.symbols("u1 u2 u3 lam mu")
    assert zero(psi3 - (-lam * (u1 + u2) * u3 - mu * u3 + (u3 / 2) ** 2))


def test_every_paper_note_reaches_the_derivation():
    for name in PAIRS:
        d = derived(name)
        kin = d.kinetic
        for text in kin.paper.notes:
            assert any(text in n.text and n.differs for n in d.notes)
        # and every species has a paper comparison
        compared = {n.species for n in d.notes if n.kind == "paper" and n.species}
        assert compared >= set(kin.paper.printed)
