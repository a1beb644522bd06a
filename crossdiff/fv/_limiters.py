"""Slope limiters of the MUSCL reconstruction: one registry, name → θ of the generalised minmod.

Every limiter of crossdiff is the generalised minmod limiter with a parameter ``θ ∈ [1, 2]``
(LeVeque, *Finite Volume Methods for Hyperbolic Problems*, 2002, ch. 6),

.. math::

    s_k = \\operatorname{minmod}\\big(θ (u_k - u_{k-1}),\\; (u_{k+1} - u_{k-1})/2,\\; θ (u_{k+1} - u_k)\\big),

the undivided slope of cell ``k`` (``minmod`` is the argument of least magnitude if all have the
same sign, zero otherwise). For ``θ ≤ 2`` the face values ``u_k ± s_k/2`` lie between the
neighbouring cell averages, which is what makes the upwind flux positivity preserving under the
CFL condition (Chertock & Kurganov, Numer. Math. 111, 2008). The compiled kernels
(:mod:`._transport`) and the NumPy reference (:func:`~crossdiff.fv.limited_slopes`) take ``θ``
from :data:`LIMITERS`; the command line takes its choices and help text from it.
"""

from __future__ import annotations

from ..registry import Registry

__all__ = ["LIMITERS", "DEFAULT_LIMITER"]

#: Slope limiters by name: the value is θ of the generalised minmod limiter.
LIMITERS: Registry[float] = Registry("limiter")
LIMITERS.register("mc", 2.0, "monotonised central, θ = 2: the least dissipative (default)")
LIMITERS.register("gminmod", 1.5, "generalised minmod, θ = 1.5")
LIMITERS.register("minmod", 1.0, "minmod, θ = 1: the most dissipative")

#: The limiter used unless another is named: the one place that says so.
DEFAULT_LIMITER = "mc"
