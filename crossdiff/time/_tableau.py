"""Additive (IMEX) Runge–Kutta tableaux as validated data: one base, :class:`ButcherPair`, with
the pairs of :class:`~crossdiff.time.IMEX` (:class:`IMEXTableau`) and of
:class:`~crossdiff.time.GSAIMEX` (:class:`GSATableau`) as its kinds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ButcherPair", "IMEXTableau", "GSATableau", "KENCARP3", "KENCARP4", "ARS443", "upwind_courant_limit"]

_TOL = 1e-12


@dataclass(frozen=True)
class ButcherPair:
    """An additive (IMEX) Runge–Kutta method for ``y' = f_E(y) + f_I(y)``: the explicit tableau
    ``A_E`` (strictly lower triangular), the implicit ``A_I`` (lower triangular, an explicit first
    stage, one diagonal value ``γ`` after it, so every implicit stage solves
    ``(I − γΔt L) U_i = rhs`` with the same operator) and the weights of each part
    (:attr:`weights`). The base of :class:`IMEXTableau` (one weight vector shared by both parts)
    and :class:`GSATableau` (globally stiffly accurate: the weights are the last rows). Checked on
    construction (exceptions, not ``assert``); the order conditions of every exported pair are
    tested (``tests/time/test_tableau_order.py``).
    """

    name: str
    explicit: np.ndarray
    implicit: np.ndarray
    c: np.ndarray = field(init=False)
    gamma: float = field(init=False)

    def __post_init__(self) -> None:
        a_e, a_i = np.asarray(self.explicit, float), np.asarray(self.implicit, float)
        s = a_e.shape[0] if a_e.ndim == 2 else 0
        if a_e.shape != (s, s) or a_i.shape != (s, s) or s < 1:
            raise ValueError(f"{self.name}: tableaux must be square and of one size")
        if np.any(np.triu(a_e) != 0):
            raise ValueError(f"{self.name}: explicit tableau must be strictly lower triangular")
        if np.any(np.triu(a_i, 1) != 0) or a_i[0, 0] != 0:
            raise ValueError(f"{self.name}: implicit tableau must be ESDIRK (lower triangular, a_11 = 0)")
        diag = np.diag(a_i)[1:]
        if np.ptp(diag) > _TOL:
            raise ValueError(f"{self.name}: implicit diagonal must be constant")
        object.__setattr__(self, "explicit", a_e)
        object.__setattr__(self, "implicit", a_i)
        object.__setattr__(self, "c", a_e.sum(axis=1))
        object.__setattr__(self, "gamma", float(diag[0]))

    @property
    def stages(self) -> int:
        return self.explicit.shape[0]

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``(b_E, b_I)``: the weights of the explicit and the implicit part."""
        raise NotImplementedError

    def stability_function(self, z: np.ndarray) -> np.ndarray:
        """``R(z) = 1 + z b_Eᵀ (I − z A_E)⁻¹ 1`` of the explicit part (vectorised over ``z``)."""
        z = np.asarray(z, dtype=complex)
        a, b = self.explicit, self.weights[0]
        stages: list[np.ndarray] = []
        for i in range(self.stages):  # A_E strictly lower triangular: forward substitution
            stages.append(1 + z * sum(a[i, j] * stages[j] for j in range(i)) if i else np.ones_like(z))
        return 1 + z * sum(b[j] * stages[j] for j in range(self.stages))


@dataclass(frozen=True)
class IMEXTableau(ButcherPair):
    """An additive Runge–Kutta method: explicit ``A_E``, implicit ``A_I``, shared ``b, c``.

    The implicit part must be an ESDIRK (explicit first stage, one diagonal value ``γ``), so every
    implicit stage solves ``(I - γΔt L) U_i = rhs`` with the same operator. ``b_embedded`` gives the
    error estimate ``Δt Σ (b - b̂)_j K_j``. Consistency is checked on construction (exceptions, not
    ``assert``): row sums equal ``c``, ``Σ b = Σ b̂ = 1``.
    """

    b: np.ndarray
    b_embedded: np.ndarray
    order: int
    embedded_order: int
    reference: str = ""
    #: Largest Courant number ν for which the explicit part is stable on first-order upwind
    #: transport: ``|R(ν(e^{iθ} − 1))| <= 1`` for every θ, with ``R`` the stability function of
    #: ``(explicit, b)`` (computed by :func:`upwind_courant_limit`; tested).
    upwind_courant: float = 1.0

    def __post_init__(self) -> None:
        s = len(self.b)
        if np.shape(self.explicit) != (s, s) or np.shape(self.implicit) != (s, s):
            raise ValueError(f"{self.name}: tableaux must be {s}x{s}")
        super().__post_init__()
        if np.max(np.abs(self.c - self.implicit.sum(axis=1))) > 1e-10:
            raise ValueError(f"{self.name}: explicit and implicit row sums differ")
        for w, label in ((self.b, "b"), (self.b_embedded, "b_embedded")):
            if abs(np.sum(w) - 1) > 1e-10:
                raise ValueError(f"{self.name}: weights {label} must sum to 1")
        object.__setattr__(self, "b", np.asarray(self.b, float))
        object.__setattr__(self, "b_embedded", np.asarray(self.b_embedded, float))

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        return self.b, self.b


@dataclass(frozen=True)
class GSATableau(ButcherPair):
    """A globally stiffly accurate IMEX Runge–Kutta scheme (both tableaux ``s × s``).

    The implicit tableau has a zero first row and column and a constant diagonal ``γ`` after it;
    the explicit one is strictly lower triangular; the row sums agree (``c``), ``c_s = 1``.
    The weights are the last rows, so the new state is the last stage. Checked on construction.
    """

    order: int
    reference: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if np.any(self.implicit[:, 0] != 0):
            raise ValueError(f"{self.name}: implicit tableau must be lower triangular with a zero first column")
        if self.stages < 2 or self.gamma <= 0:
            raise ValueError(f"{self.name}: implicit diagonal must be a constant γ > 0")
        c = self.c
        if np.max(np.abs(c - self.implicit.sum(axis=1))) > 1e-12 or abs(c[-1] - 1) > 1e-12:
            raise ValueError(f"{self.name}: row sums must agree and end at c_s = 1")

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The last rows (globally stiffly accurate: the new state is the last stage)."""
        return self.explicit[-1], self.implicit[-1]


def upwind_courant_limit(tableau: ButcherPair, samples: int = 4001) -> float:
    """Largest ``ν`` with ``|R(ν(e^{iθ} − 1))| <= 1`` for all θ (bisection to 1e-6).

    The eigenvalues of first-order upwind transport at Courant number ``ν`` lie on that circle,
    in any dimension when ``ν = Δt Σ_a |a_a|/h_a``.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, samples)
    lo, hi = 0.0, 16.0
    while hi - lo > 1e-6:
        nu = 0.5 * (lo + hi)
        if np.all(np.abs(tableau.stability_function(nu * (np.exp(1j * theta) - 1))) <= 1 + 1e-12):
            lo = nu
        else:
            hi = nu
    return lo


_g = 1767732205903 / 4055673282236
_b = [1471266399579 / 7840856788654, -4482444167858 / 7529755066697, 11266239266428 / 11593286722821, _g]

#: ARK3(2)4L[2]SA of Kennedy & Carpenter, Appl. Numer. Math. 44 (2003) 139–181, Table 3:
#: third order, L-stable stiffly accurate ESDIRK implicit part, embedded second-order pair.
KENCARP3 = IMEXTableau(
    name="ARK3(2)4L[2]SA",
    explicit=np.array(
        [
            [0, 0, 0, 0],
            [2 * _g, 0, 0, 0],
            [5535828885825 / 10492691773637, 788022342437 / 10882634858940, 0, 0],
            [6485989280629 / 16251701735622, -4246266847089 / 9704473918619, 10755448449292 / 10357097424841, 0],
        ]
    ),
    implicit=np.array(
        [
            [0, 0, 0, 0],
            [_g, _g, 0, 0],
            [2746238789719 / 10658868560708, -640167445237 / 6845629431997, _g, 0],
            [_b[0], _b[1], _b[2], _g],
        ]
    ),
    b=np.array(_b),
    b_embedded=np.array(
        [
            2756255671327 / 12835298489170,
            -10771552573575 / 22201958757719,
            9247589265047 / 10645013368117,
            2193209047091 / 5459859503100,
        ]
    ),
    order=3,
    embedded_order=2,
    reference="Kennedy & Carpenter, Appl. Numer. Math. 44 (2003) 139-181, doi:10.1016/S0168-9274(02)00138-1",
    upwind_courant=1.832,
)


_b4 = [82889 / 524892, 0.0, 15625 / 83664, 69875 / 102672, -2260 / 8211, 1 / 4]

#: ARK4(3)6L[2]SA of Kennedy & Carpenter (2003), Table 5: fourth order, six stages (five implicit
#: solves), L-stable stiffly accurate ESDIRK implicit part (γ = 1/4), embedded third-order pair.
#: Two-thirds more work per step than :data:`KENCARP3`; fewer steps at tight tolerances.
KENCARP4 = IMEXTableau(
    name="ARK4(3)6L[2]SA",
    explicit=np.array(
        [
            [0, 0, 0, 0, 0, 0],
            [1 / 2, 0, 0, 0, 0, 0],
            [13861 / 62500, 6889 / 62500, 0, 0, 0, 0],
            [-116923316275 / 2393684061468, -2731218467317 / 15368042101831, 9408046702089 / 11113171139209, 0, 0, 0],
            [
                -451086348788 / 2902428689909,
                -2682348792572 / 7519795681897,
                12662868775082 / 11960479115383,
                3355817975965 / 11060851509271,
                0,
                0,
            ],
            [
                647845179188 / 3216320057751,
                73281519250 / 8382639484533,
                552539513391 / 3454668386233,
                3354512671639 / 8306763924573,
                4040 / 17871,
                0,
            ],
        ]
    ),
    implicit=np.array(
        [
            [0, 0, 0, 0, 0, 0],
            [1 / 4, 1 / 4, 0, 0, 0, 0],
            [8611 / 62500, -1743 / 31250, 1 / 4, 0, 0, 0],
            [5012029 / 34652500, -654441 / 2922500, 174375 / 388108, 1 / 4, 0, 0],
            [15267082809 / 155376265600, -71443401 / 120774400, 730878875 / 902184768, 2285395 / 8070912, 1 / 4, 0],
            _b4,
        ]
    ),
    b=np.array(_b4),
    b_embedded=np.array(
        [
            4586570599 / 29645900160,
            0.0,
            178811875 / 945068544,
            814220225 / 1159782912,
            -3700637 / 11593932,
            61727 / 225920,
        ]
    ),
    order=4,
    embedded_order=3,
    reference="Kennedy & Carpenter, Appl. Numer. Math. 44 (2003) 139-181, doi:10.1016/S0168-9274(02)00138-1",
    upwind_courant=2.117,
)


#: ARS(4,4,3): Ascher, Ruuth & Spiteri, Appl. Numer. Math. 25 (1997) 151–167, §2.8 — third
#: order, L-stable implicit part (γ = 1/2), globally stiffly accurate.
ARS443 = GSATableau(
    name="ARS(4,4,3)",
    explicit=np.array(
        [
            [0, 0, 0, 0, 0],
            [1 / 2, 0, 0, 0, 0],
            [11 / 18, 1 / 18, 0, 0, 0],
            [5 / 6, -5 / 6, 1 / 2, 0, 0],
            [1 / 4, 7 / 4, 3 / 4, -7 / 4, 0],
        ]
    ),
    implicit=np.array(
        [
            [0, 0, 0, 0, 0],
            [0, 1 / 2, 0, 0, 0],
            [0, 1 / 6, 1 / 2, 0, 0],
            [0, -1 / 2, 1 / 2, 1 / 2, 0],
            [0, 3 / 2, -3 / 2, 1 / 2, 1 / 2],
        ]
    ),
    order=3,
    reference="Ascher, Ruuth & Spiteri, Appl. Numer. Math. 25 (1997) 151-167",
)
