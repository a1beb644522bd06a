"""Small SemiDiscrete systems with exact solutions, written against the contract only (no finite
volumes): they show that any system that implements the protocol runs through the same loop."""

from __future__ import annotations

import math

import numpy as np

from crossdiff.time import Coordinate, Counters, Layout, Variable


class LogisticDecay:
    """``du/dt = u(1 − u)`` (explicit) ``− λ u`` (implicit), independently in every cell.

    Exact solution with ``r = 1 − λ``: ``u(t) = r u0 e^{rt} / (r + u0 (e^{rt} − 1))``.
    Optionally a second, velocity-like axis: the state is ``(1, n_v, n_x)`` and the field the sum
    over ``v`` with weights ``w`` (a kinetic-like layout).
    """

    def __init__(self, u0: np.ndarray, lam: float = 0.5, n_v: int = 0):
        self.lam = lam
        self.u0 = np.asarray(u0, dtype=float)
        nx = self.u0.shape[-1]
        self.n_v = n_v
        x = Coordinate("x", (np.arange(nx) + 0.5) / nx, "x (cell centre)")
        coords = (x,) if not n_v else (x, Coordinate("v", np.linspace(-1, 1, n_v), "velocity"))
        extras = () if not n_v else (Variable("f", ("v", "x"), "distribution"),)
        self.weights = np.full(n_v, 1.0 / n_v) if n_v else None
        self.layout = Layout(
            fields=(Variable("u", ("x",), "density"),),
            coordinates=coords,
            space=("x",),
            cell_volume=1.0 / nx,
            attrs={"model": "logistic-decay"},
            extras=extras,
        )
        self.differential = np.array([True])
        self.nonnegative = np.array([True])
        self.positive: tuple[tuple[int, str], ...] = ()
        self.counters = Counters()

    def exact(self, t: float) -> np.ndarray:
        r = 1.0 - self.lam
        e = math.exp(r * t)
        return (r * self.u0 * e / (r + self.u0 * (e - 1.0))).reshape(-1)

    def prepare(self, t, U):
        pass

    def explicit(self, t, U, out=None):
        self.counters.nfev += 1
        if out is None:
            out = np.empty_like(U)
        np.multiply(U, 1.0 - U, out=out)
        return out

    def implicit(self, U):
        return -self.lam * U

    def solve_implicit(self, B, gamma_dt, out=None):
        self.counters.n_implicit_solves += 1
        return np.divide(B, 1.0 + gamma_dt * self.lam, out=out)

    def constrain(self, t, U):
        return U

    def rhs(self, t, U):
        return self.explicit(t, U) + self.implicit(U)

    def imex_step_limit(self, t, U):
        return math.inf

    def explicit_step_limit(self, t, U):
        return 1.0 / (1.0 + self.lam + 2 * float(np.max(np.abs(U))))

    def fields(self, U):
        if not self.n_v:
            return U
        return np.einsum("v,ivx->ix", self.weights, U)

    def extras(self, U):
        return {"f": U[0]} if self.n_v else {}

    def initial_state(self, frame, t=0.0):
        u = np.asarray(frame["u"], dtype=float)[None]
        if self.n_v:  # equal in every velocity: the field is u
            return np.repeat(u[:, None, :], self.n_v, axis=1)
        return u.copy()
