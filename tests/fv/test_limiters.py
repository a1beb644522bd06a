"""One registry of slope limiters (``crossdiff.fv.LIMITERS``: name → θ of the generalised minmod)."""

from __future__ import annotations

import numpy as np
import pytest

from crossdiff.errors import InputError
from crossdiff.fv import LIMITERS, limited_slopes


def test_registry_holds_the_generalised_minmod_family():
    """minmod θ = 1, gminmod θ = 1.5, mc θ = 2 (LeVeque 2002, ch. 6), each with a summary for
    the command line's help; θ ≤ 2 keeps face values between neighbours (positivity)."""
    assert dict((name, LIMITERS[name]) for name in LIMITERS) == {"mc": 2.0, "gminmod": 1.5, "minmod": 1.0}
    assert LIMITERS.names()[0] == "mc"  # the default comes first
    for name in LIMITERS:
        summary = LIMITERS.entry(name).summary
        assert summary and "\n" not in summary and f"θ = {LIMITERS[name]:g}" in summary
        assert name in LIMITERS.help()
    with pytest.raises(InputError, match="unknown limiter 'superbee'; choose one of: mc, gminmod, minmod"):
        LIMITERS["superbee"]


def _minmod(*values: float) -> float:
    if all(v > 0 for v in values):
        return min(values)
    if all(v < 0 for v in values):
        return max(values)
    return 0.0


@pytest.mark.parametrize("limiter", LIMITERS.names())
@pytest.mark.parametrize("periodic", [False, True])
def test_numpy_reference_is_the_generalised_minmod_of_its_theta(limiter, periodic):
    """``limited_slopes`` derives its limiter from θ alone: cell by cell it equals
    minmod(θ Δ₋, (Δ₋ + Δ₊)/2, θ Δ₊), with zero slope in no-flux wall cells."""
    theta = LIMITERS[limiter]
    u = np.random.default_rng(1).uniform(0.0, 1.0, 30) ** 2
    n = u.size
    expected = np.zeros(n)
    for k in range(n):
        if not periodic and k in (0, n - 1):
            continue  # reflected ghost cell: Δ = 0 on the wall side
        dl, dr = u[k] - u[k - 1], u[(k + 1) % n] - u[k]
        expected[k] = _minmod(theta * dl, 0.5 * (dl + dr), theta * dr)
    # the same three products and one comparison per cell: equal to the last bit up to the
    # order of the mean's two additions
    assert np.allclose(limited_slopes(u, 0, periodic, limiter), expected, rtol=1e-15, atol=0)


def test_docstring_examples_of_the_fv_modules_run():
    """The examples in the docstrings of the fv modules are what they print."""
    import doctest

    from crossdiff.fv import _faces, _kernels, _limiters, _sparsity, _transport

    for module in (_faces, _kernels, _limiters, _sparsity, _transport):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module.__name__
