"""A reaction with |·| linearises (the derivative of |u − 1| is sign(u − 1), not a complex-analytic
Derivative that no printer evaluates): stability answers instead of an internal error."""

from __future__ import annotations

import numpy as np

from crossdiff.analysis import Linearisation
from crossdiff.model import Model, Species


def test_the_jacobian_of_an_absolute_value_is_its_sign():
    model = Model([Species("u", diffusion=1, reaction="abs(u - 1) - u", initial=1)])
    lin = Linearisation(model)
    p = lin.values()
    # d/du (|u − 1| − u) = sign(u − 1) − 1: −2 below 1, 0 above (exact)
    assert lin.jacobian(np.array([0.5]), p)[0, 0] == -2.0
    assert lin.jacobian(np.array([1.5]), p)[0, 0] == 0.0
