r"""The explicit part of :class:`~crossdiff.kinetic.KineticDiscretisation` (``docs/kinetic.md``):
the non-stiff terms of the micro–macro system,

.. math::

    E_\rho = -\nabla\cdot\langle v g\rangle - \mu\Delta\rho + \langle G\rangle, \qquad
    E_g = -\tfrac1\varepsilon (I-\Pi)(v\cdot\nabla g) + \varepsilon^{b-p-1}\mathcal T^1 g
        + \tfrac1\varepsilon (I-\Pi) G,

(Lemou & Mieussens, SIAM J. Sci. Comput. 31, 2008; Carrillo & Yan, Multiscale Model. Simul. 11,
2013), with ``−μΔρ`` the explicit half of the penalisation (Boscarino, Pareschi & Russo, SIAM J.
Sci. Comput. 35 (2013) A22–A51). The transport of the micro part is :class:`~._transport.MicroTransport`;
the projection, the bias and the density fluxes ``⟨v_a g⟩`` are one compiled pass per species
and axis (:func:`~._kernels.micro_explicit`).
"""

from __future__ import annotations

import numpy as np

from ..threads import numba_threads
from ._face_operators import FaceOperators
from ._kernels import face4, micro_explicit
from ._transport import MicroTransport

__all__ = ["explicit_part"]


def explicit_part(
    ops: FaceOperators,
    transport: MicroTransport,
    mu: np.ndarray,
    U: np.ndarray,
    out: np.ndarray,
    implicit_transport: tuple[bool, ...] = (),
) -> np.ndarray:
    """The explicit part ``E(U)`` into ``out`` (zero in the unused slots of the micro parts):
    ``−∇·⟨v g⟩ − μΔρ + ⟨G⟩`` for the densities, ``−(1/ε)(I − Π)(v·∇g) + ε^{b−p−1} 𝒯^1 g +
    (1/ε)(I − Π) G`` for the micro parts, with the penalisation ``mu`` ``(n_species,)``; without
    the transport ``−(1/ε)(I − Π)(v·∇g)`` of the species marked in ``implicit_transport`` (in the
    implicit part, :class:`~._transport.ImplicitTransport`)."""
    st = ops.staggered
    eps, d = ops.eps, ops.dim
    ns = ops.n_species
    nodes, w = ops.nodal.nodes, ops.nodal.weights
    rho = st.rho(U)
    # macro: −∇·⟨v g⟩ − μΔρ + ⟨G⟩ (the fluxes ⟨v_a g⟩ come from the micro part's kernel)
    drho = -mu.reshape((ns,) + (1,) * d) * st.laplacian(rho)
    G = ops.mean_reaction(rho)
    if G is not None:
        drho += G
    # micro: −(1/ε)(I − Π)(v·∇g) + ε^{b−p−1} 𝒯^1 g + (1/ε)(I − Π) G
    no_tau = np.zeros((1, 1, 1, 1))
    for a in range(d):
        view = st.g(U, a)  # (ns, m, *faces of axis a)
        og = st.g(out, a)
        flux = np.empty((ns, *view.shape[2:]))
        transport(view, og, a, implicit_transport)  # og = −v·∇g (0 where implicit)
        biases = ops.faces(rho, a)[2] if any(f is not None for f in ops.bias) else [None] * ns
        for i in range(ns):
            A1 = biases[i]
            values = A1.kernel_values() if A1 is not None else None
            factor = eps ** (ops.b[i] - ops.p[i] - 1)
            C, affine = values if values is not None else (no_tau, False)
            target = face4(st.block(out, i, a))  # og[i] with the padding: contiguous (vectorised loops)
            micro_explicit(  # in place: (1/ε)(I − Π)(−v·∇g) + bias
                target,
                face4(st.block(U, i, a)),
                target,
                1.0 / eps,
                factor if values is not None else 0.0,
                C,
                affine,
                nodes,
                ops.M[i],
                w,
                w * nodes[:, a],
                face4(flux[i], 0),
                numba_threads(og[i].size),
            )
            if A1 is not None and values is None:  # a bias matrix
                og[i] += factor * A1.apply(view[i])
        ops.add_reaction(rho, a, og, 1.0 / eps)
        drho -= st.divergence(flux, a)
    st.set_rho(out, drho)
    return out
