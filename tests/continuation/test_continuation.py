"""Continuation of steady states: the Jacobian, branch points against the dispersion relation,
branch switching, conserved masses, quasi-stationary species, Hopf points, the diagram's output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crossdiff import catalogue
from crossdiff.analysis import Linearisation, critical, initial_means
from crossdiff.continuation import (
    ColouredJacobian,
    ContinuationError,
    Settings,
    SteadyProblem,
    column_colouring,
    continuation,
)
from crossdiff.errors import InputError, ParameterError
from crossdiff.fv import jacobian_sparsity
from crossdiff.grid import Grid

KSL = catalogue.load("keller-segel-logistic")


def dense_jacobian(problem: SteadyProblem, x: np.ndarray, p: float) -> np.ndarray:
    """Central differences column by column (error O(h²) with h = 1e-6)."""
    D = np.zeros((x.size, x.size))
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = 1e-6
        D[:, j] = (problem.residual(x + e, p) - problem.residual(x - e, p)) / 2e-6
    return D


def discrete_k2(grid: Grid, modes: tuple[int, ...]) -> float:
    """``Σ_a (4/h_a²) sin²(k_a h_a/2)``: the symbol of the finite-volume Laplacian on a no-flux
    cosine mode (docs/continuation.md, "Verification")."""
    total = 0.0
    for (lo, hi), n, m in zip(grid.extent, grid.cells, modes):
        h = (hi - lo) / n
        total += 4 / h**2 * math.sin(math.pi * m / (hi - lo) * h / 2) ** 2
    return total


def discrete_threshold(model, parameter: str, k2: float, bracket: tuple[float, float], u=None) -> float:
    """The parameter value at which the leading eigenvalue of ``J − K(k)`` crosses zero, for
    ``|k|² = k2`` (the dispersion relation of :class:`crossdiff.analysis.Linearisation`) at the
    homogeneous state ``u`` (default: all ones, the coexistence state of the models used here)."""
    from scipy.optimize import brentq

    lin = Linearisation(model)
    u = np.ones(model.n_species) if u is None else np.asarray(u, dtype=float)

    def growth(value: float) -> float:
        p = lin.values(changes={parameter: value})
        return float(np.max(lin.eigenvalues(u, p, np.array([[math.sqrt(k2)]])).real))

    return brentq(growth, *bracket, xtol=1e-14, rtol=1e-13)


# ---------------------------------------------------------------------- the Jacobian


@pytest.mark.parametrize(
    "name, cells",
    [("keller-segel-logistic", (24,)), ("keller-segel", (24,)), ("keller-segel-elliptic", (6, 5))],
)
def test_coloured_jacobian_matches_dense_differences(name, cells):
    model = catalogue.load(name)
    grid = Grid(cells, tuple((0.0, 2.0) for _ in cells), "noflux")
    problem = SteadyProblem(model, "chi", grid)
    rng = np.random.default_rng(1)
    x = problem.pack(1.0 + 0.3 * rng.random((problem.n, *grid.shape)))
    x[problem.n_state :] = 0.2  # nonzero multipliers
    J = problem.jacobian(x, 3.0).toarray()
    D = dense_jacobian(problem, x, 3.0)
    # forward differences with step √ε: error ~1e-8 of the entries' scale; central ones O(1e-12/1e-6)
    assert np.max(np.abs(J - D)) <= 1e-6 * np.max(np.abs(D))
    # the bordering: one multiplier and one mean per conserved species
    assert problem.n_unknowns == problem.n_state + len(problem.fixed)
    expected = {"keller-segel-logistic": (), "keller-segel": (0,), "keller-segel-elliptic": (0,)}[name]
    assert problem.fixed == expected


def test_parameter_derivative_is_the_derivative():
    grid = Grid((20,), ((0.0, 5.0),), "noflux")
    problem = SteadyProblem(KSL, "chi", grid)
    x = problem.pack(1.0 + 0.2 * np.cos(np.pi * np.stack([grid.coordinates[0]] * 2) / 5.0))
    Fp = problem.parameter_derivative(x, 4.0)
    central = (problem.residual(x, 4.0 + 1e-5) - problem.residual(x, 4.0 - 1e-5)) / 2e-5
    # F is affine in chi (the taxis flux): both differences are exact up to round-off
    assert np.max(np.abs(Fp - central)) <= 1e-6 * np.max(np.abs(central))


def test_colouring_separates_columns_that_share_a_row():
    grid = Grid((7, 6), ((0.0, 1.0), (0.0, 1.0)), "noflux")
    pattern = jacobian_sparsity(grid, 2).tocsc()
    colour = column_colouring(pattern)
    for c in range(int(colour.max()) + 1):
        cols = np.flatnonzero(colour == c)
        rows = pattern[:, cols].nonzero()[0]
        assert rows.size == np.unique(rows).size  # no row hit twice within one colour
    one_d = column_colouring(jacobian_sparsity(Grid((40,), ((0.0, 1.0),), "noflux"), 2))
    assert one_d.max() + 1 == 10  # 5 cells of reach per species, whatever the number of cells
    assert ColouredJacobian(pattern).n_colours == int(colour.max()) + 1


# ---------------------------------------------------------------------- branch points


def test_branch_points_match_the_critical_values_in_1d():
    grid = Grid((100,), ((0.0, 10.0),), "noflux")
    diagram = continuation(KSL, "chi", (3.5, 5.0), grid=grid, branches=0)
    bps = diagram.branch_points(0)
    # the admissible modes crossing in the range: m = 3, 4, 5, 2 (chi_c(k) = (1 + k²)²/k²)
    assert sorted(int(m) for m in bps["mode"]) == [2, 3, 4, 5]
    first = critical(KSL, "chi", grid=grid, bracket=(3.5, 5.0))
    # second-order finite volumes: k_h² = k²(1 − (kh)²/12 + …) moves chi_c by 4.4e-5 here (mode 3
    # sits near the minimum of chi_c(k), where the shift is second order)
    assert bps["parameter"].iloc[0] == pytest.approx(first.value, rel=1e-4)
    assert int(bps["mode"].iloc[0]) == first.mode[0]
    for _, bp in bps.iterrows():
        k2 = discrete_k2(grid, (int(bp["mode"]),))
        exact = discrete_threshold(KSL, "chi", k2, (3.0, 6.0))
        # the located point against the dispersion relation on the discrete wave number: the
        # Jacobian by forward differences (1e-8) and the location to 1e-9 in arclength
        assert bp["parameter"] == pytest.approx(exact, rel=1e-6)


def test_branch_points_in_2d_with_their_multiplicity():
    grid = Grid((12, 12), ((0.0, 5.0), (0.0, 5.0)), "noflux")
    diagram = continuation(KSL, "chi", (3.9, 4.3), grid=grid, branches=0, settings=Settings(n_eig=6))
    bps = diagram.branch_points(0)
    found = {tuple(sorted(int(m) for m in str(b["mode"]).split(","))): b for _, b in bps.iterrows()}
    # (1,1) is simple, (2,0)/(0,2) a double eigenvalue of the square: one point, multiplicity 2
    assert set(found) == {(1, 1), (0, 2)}
    assert int(found[(1, 1)]["multiplicity"]) == 1 and int(found[(0, 2)]["multiplicity"]) == 2
    for modes, bp in found.items():
        exact = discrete_threshold(KSL, "chi", discrete_k2(grid, modes), (3.0, 6.0))
        assert bp["parameter"] == pytest.approx(exact, rel=1e-6)


def test_range_without_branch_points_is_said_not_an_error():
    grid = Grid((40,), ((0.0, 10.0),), "noflux")
    diagram = continuation(KSL, "chi", (1.0, 2.0), grid=grid, branches=2)
    assert diagram.special.empty and len(diagram.branches) == 1
    assert "no branch point" in diagram.note
    assert (diagram.points["stability"] == "stable").all()
    assert np.allclose(diagram.points["norm"], 0.0, atol=1e-12)


# ---------------------------------------------------------------------- patterned branches


@pytest.fixture(scope="module")
def patterned():
    """The first patterned branch of Keller–Segel with logistic growth on [0, 10] (mode 3)."""
    grid = Grid((50,), ((0.0, 10.0),), "noflux")
    return grid, continuation(KSL, "chi", (3.9, 4.3), grid=grid, branches=1, settings=Settings(ds_max=0.02))


def test_switching_onto_the_patterned_branch(patterned):
    grid, diagram = patterned
    branch = diagram.points[diagram.points["branch"] == 1]
    assert len(branch) > 5
    bp = diagram.branch_points(0).iloc[0]
    assert branch["parameter"].iloc[0] == pytest.approx(bp["parameter"], rel=1e-12)  # starts there
    # a pitchfork (supercritical here): norm² grows linearly in chi − chi_c near the branch point
    near = branch.iloc[1:4]
    slope = near["norm"] ** 2 / (near["parameter"] - bp["parameter"])
    assert float(slope.max() / slope.min()) < 1.3
    # each point is a steady state of the discretisation, with the critical mode's shape
    problem = SteadyProblem(KSL, "chi", grid)
    from crossdiff.analysis import dominant_mode

    for k in (3, len(branch) - 1):
        row = branch.iloc[k]
        U = diagram.state(1, int(row["point"]))
        assert np.max(np.abs(problem.residual(problem.pack(U), row["parameter"]))) < 1e-8
        assert dominant_mode(U[0], grid)[1] == (3,)


def test_stable_patterned_state_stays_put_in_a_time_run(patterned):
    import crossdiff as cd

    grid, diagram = patterned
    branch = diagram.points[(diagram.points["branch"] == 1) & (diagram.points["stability"] == "stable")]
    row = branch.iloc[-1]
    U = diagram.state(1, int(row["point"]))
    model = KSL.with_settings({"chi": float(row["parameter"])})
    sol = cd.solve(model, grid, 5.0, initial=U, save_every=5.0)
    final = sol.to_xarray()["u"].isel(time=-1).values
    # a steady state of the same discretisation (residual below 1e-10): the run leaves it in place
    # to round-off (measured 3e-12); a state 5 % off moves by 1e-2 in the same time
    assert np.max(np.abs(final - U[0])) < 1e-8 * np.max(U[0])


# ---------------------------------------------------------------------- conserved masses


@pytest.mark.parametrize("name", ["keller-segel", "keller-segel-elliptic"])
def test_mass_is_fixed_along_the_branches(name):
    """Minimal Keller–Segel (no growth: the cell mass is conserved), parabolic–parabolic and with
    a quasi-stationary chemical: continued with the mass fixed (bordered system), the branch
    point at chi_c = (1 + k_h²)/u* for both (the steady problems are the same)."""
    model = catalogue.load(name)
    grid = Grid((40,), ((-0.5, 0.5),), "noflux")
    u_star = initial_means(model, grid)
    diagram = continuation(model, "chi", (0.03, 0.15), grid=grid, branches=1, settings=Settings(points=40))
    bp = diagram.branch_points(0).iloc[0]
    assert bp["mode"] == "1"
    expected = (1.0 + discrete_k2(grid, (1,))) / u_star[0]
    assert bp["parameter"] == pytest.approx(expected, rel=1e-6)  # as in the 1D test above
    # the bordering holds the mean: to the Newton tolerance (1e-10 relative), on every branch
    assert np.allclose(diagram.points["mean_u"], u_star[0], rtol=1e-9)
    pattern = diagram.points[diagram.points["branch"] == 1]
    assert pattern["norm"].iloc[-1] > 1e-2 * u_star[0]  # the boundary spike grows
    problem = SteadyProblem(model, "chi", grid)
    last = pattern.iloc[-1]
    x = problem.pack(diagram.state(1, int(last["point"])))
    x[problem.n_state :] = 0.0  # the multiplier of a steady state vanishes
    assert np.max(np.abs(problem.residual(x, last["parameter"]))) < 1e-6 * u_star[0]


# ---------------------------------------------------------------------- Hopf points


def test_hopf_point_of_forager_scrounger_agrees_with_the_oscillatory_onset():
    model = catalogue.load("forager-scrounger")
    grid = Grid((60,), ((0.0, 20.0),), "noflux")
    diagram = continuation(model, "xi1", (2.5, 3.1), grid=grid, branches=0)
    hopf = diagram.special[diagram.special["type"] == "Hopf"].iloc[0]
    assert diagram.branch_points(0).empty  # no real eigenvalue crosses
    # the discrete dispersion relation: the largest growth over the admissible modes with their
    # discrete wave numbers, its zero and the frequency there
    from scipy.optimize import brentq

    lin = Linearisation(model)
    u = np.ones(3)
    kh = np.sqrt([discrete_k2(grid, (m,)) for m in range(1, 60)])[:, None]

    def leading(value: float) -> complex:
        lam = lin.eigenvalues(u, lin.values(changes={"xi1": value}), kh)
        flat = lam.ravel()
        return complex(flat[np.nanargmax(flat.real)])

    onset = brentq(lambda v: leading(v).real, 2.5, 3.1, xtol=1e-13)
    lam = lin.eigenvalues(u, lin.values(changes={"xi1": onset}), kh)
    assert hopf["mode"] == str(1 + int(np.argmax(np.nanmax(lam.real, axis=1))))  # the mode that crosses
    assert hopf["parameter"] == pytest.approx(onset, rel=1e-6)
    assert hopf["frequency"] == pytest.approx(abs(leading(onset).imag), rel=1e-5)
    # the continuum onset that `crossdiff stability --critical xi1` reports: the discrete wave
    # numbers of mode 9 on 60 cells are 0.7 % smaller (kh = 0.47), which moves it by 8.5e-4
    reported = critical(model, "xi1", grid=grid, bracket=(2.5, 3.1))
    assert reported.kind == "oscillatory"
    assert hopf["parameter"] == pytest.approx(reported.value, rel=2e-3)
    assert hopf["frequency"] == pytest.approx(reported.frequency, rel=2e-2)


# ---------------------------------------------------------------------- bad input, output


def test_bad_input_is_refused_in_one_line():
    grid = Grid((20,), ((0.0, 10.0),), "noflux")
    with pytest.raises(ParameterError, match="nope"):
        continuation(KSL, "nope", (1.0, 2.0), grid=grid)
    with pytest.raises(InputError, match="empty"):
        continuation(KSL, "chi", (2.0, 2.0), grid=grid)
    with pytest.raises(InputError, match="periodic"):
        continuation(KSL, "chi", (2.0, 3.0), grid=Grid((20,), ((0.0, 10.0),), "periodic"))
    with pytest.raises(InputError, match="points"):
        Settings(points=1)


def test_newton_failure_keeps_the_partial_diagram():
    # May–Nowak's infected state moves with d1; one Newton iteration (three chord iterations) to
    # a tolerance of 1e-15 cannot follow it: the steps shrink below the smallest allowed
    model = catalogue.load("may-nowak-taxis")
    grid = Grid((20,), ((0.0, 10.0),), "noflux")
    settings = Settings(max_newton=1, newton_tol=1e-15, ds_min=1e-3)
    with pytest.raises(ContinuationError, match="did not converge on branch 0") as info:
        continuation(model, "d1", (0.1, 0.3), grid=grid, branches=0, settings=settings)
    partial = info.value.diagram
    assert partial is not None and partial.status == "failed"
    assert len(partial.points) >= 1 and "did not converge" in partial.note


def test_diagram_file_and_picture(tmp_path, patterned):
    import xarray as xr

    from crossdiff.continuation import is_diagram, read_state
    from crossdiff.errors import OutputError

    grid, diagram = patterned
    path = diagram.write(tmp_path / "d.nc")
    assert is_diagram(path)
    ds = xr.open_dataset(path, engine="h5netcdf")
    assert ds.attrs["continued_parameter"] == "chi" and ds.attrs["status"] == "complete"
    assert ds["u"].shape == (len(diagram.points), 50)
    np.testing.assert_array_equal(ds["u"].values, diagram.states[:, 0])
    assert list(ds["special_type"].values) == list(diagram.special["type"])
    ds.close()
    # a state read back starts a time run (the model at that parameter value)
    model, fields = read_state(path, 1, 5)
    np.testing.assert_array_equal(fields, diagram.state(1, 5))
    row = diagram.points[(diagram.points["branch"] == 1) & (diagram.points["point"] == 5)].iloc[0]
    assert model.parameters["chi"] == row["parameter"] and model.name == KSL.name
    with pytest.raises(InputError, match="no point 999"):
        read_state(path, 1, 999)
    with pytest.raises(OutputError, match="not a bifurcation diagram"):
        read_state(tmp_path / "missing.nc", 0, 0)
    with pytest.raises(OutputError, match="overwrite"):
        diagram.write(path)
    diagram.write(path, overwrite=True)
    foreign = tmp_path / "mine.nc"
    foreign.write_text("not crossdiff's")
    with pytest.raises(OutputError, match="not written by crossdiff"):
        diagram.write(foreign, overwrite=True)
    fig = diagram.plot()
    lines = fig.axes[0].get_lines()
    assert {"-", "--"} <= {line.get_linestyle() for line in lines}  # stable and unstable parts
    assert "o" in {line.get_marker() for line in lines}  # the branch points marked
    assert len(fig.axes) == 2  # the diagram and a thumbnail of the patterned branch


def test_one_discretisation_serves_every_parameter_value():
    """The parameter becomes a field of a last species (one compiled model for the whole
    continuation); the residual equals that of the model rebuilt at each value."""
    from crossdiff.fv import Discretisation

    model = catalogue.load("may-nowak-taxis")  # d1 is also in the initial data
    grid = Grid((12,), ((0.0, 10.0),), "noflux")
    problem = SteadyProblem(model, "d1", grid)
    assert problem._shared is not None
    rng = np.random.default_rng(3)
    U = 1.0 + 0.2 * rng.random((3, 12))
    for value in (0.4, 1.3):
        rebuilt = Discretisation(model.with_settings({"d1": value}), grid).rhs(0.0, U)
        # the same arithmetic but for the order of the terms: round-off
        assert np.allclose(problem.residual(problem.pack(U), value), rebuilt.ravel(), rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------------- folds and hysteresis


def bistable_model():
    """``u_t = Δu + p + w − w³/3``, ``w = u − 3``: the homogeneous states ``p = w³/3 − w`` fold at
    ``w = ∓1``, ``p = ±2/3``; the outer branches are stable (``ψ'(w) = 1 − w² < 0``), the middle
    one unstable: a hysteresis loop in ``p``."""
    from crossdiff.model import Model, Species

    return Model(
        (Species("u", diffusion=1, reaction="p + (u - 3) - (u - 3)**3/3", initial=1),),
        parameters={"p": -2.0},
        name="bistable",
    )


def test_folds_are_located_and_the_hysteresis_confirmed_by_time_runs():
    import crossdiff as cd
    from crossdiff.time import IMEX

    model = bistable_model()
    grid = Grid((10,), ((0.0, 1.0),), "noflux")
    diagram = continuation(model, "p", (-2.0, 2.0), grid=grid, branches=0)
    folds = diagram.special[diagram.special["type"] == "fold"]
    assert diagram.branch_points(0).empty  # the count changes at folds only
    # the exact folds (+2/3 at u = 2, then -2/3 at u = 4), located to 1e-9 in arclength
    np.testing.assert_allclose(folds["parameter"], [2 / 3, -2 / 3], rtol=1e-7)
    mean = diagram.points["mean_u"].to_numpy()
    stable = (diagram.points["stability"] == "stable").to_numpy()
    assert np.all(stable[np.abs(mean - 3) > 1.01]) and not np.any(stable[np.abs(mean - 3) < 0.99])
    # at p = 0 both outer states exist: time runs from either side stay on their own branch
    for start, end in ((3 - math.sqrt(3), 3 - math.sqrt(3)), (3 + math.sqrt(3), 3 + math.sqrt(3))):
        U = np.full((1, 10), start + 0.1)  # a little off the state, inside its basin
        stepper = IMEX(rtol=1e-7, atol=1e-9)
        sol = cd.solve(model.with_settings({"p": 0.0}), grid, 10.0, initial=U, save_every=10.0, stepper=stepper)
        final = sol.to_xarray()["u"].isel(time=-1).values
        # attracted at rate |ψ'| = 2: e^{-20} of the offset, then the stepper's tolerance (1e-7);
        # the two states are 2√3 apart
        assert np.max(np.abs(final - end)) < 1e-5


def test_direction_of_bifurcation_agrees_with_the_amplitude_coefficient():
    """The weakly nonlinear coefficient (docs/theory.md §6.3) against the continued branch:
    ``p − p_c ≈ slope · norm²`` near the branch point of mode 3 of Keller–Segel with logistic growth."""
    from crossdiff.continuation import pitchfork

    k = 3 * math.pi / 10
    chi_c = (1 + k * k) ** 2 / (k * k)  # the continuum threshold of mode 3 on [0, 10]
    pf = pitchfork(KSL, "chi", chi_c, k, np.ones(2))
    assert pf.direction == "forward" and pf.slope == pytest.approx(3.5817, rel=1e-4)
    grid = Grid((200,), ((0.0, 10.0),), "noflux")
    diagram = continuation(KSL, "chi", (4.0, 4.05), grid=grid, branches=1, settings=Settings(ds_max=0.002, points=4))
    branch = diagram.points[diagram.points["branch"] == 1]
    bp = diagram.branch_points(0).iloc[0]
    first = branch.iloc[1]
    numerical = (first["parameter"] - bp["parameter"]) / first["norm"] ** 2
    # O(h²) of the discretisation (1.5 % on 100 cells, 0.35 % on 200) and O(ε²) of the expansion
    assert numerical == pytest.approx(pf.slope, rel=1e-2)


def volume_filling_model():
    """Keller–Segel with logistic growth and the volume-filling sensitivity ``χ(2 − u)`` (Painter
    & Hillen [PH02], packing density ``γ = 2``; ``χ(1)`` = chi, so the homogeneous state ``u = v = 1``
    loses stability where that of ``keller-segel-logistic`` does): its first patterned branch is
    subcritical (theory §6.3: slope −2.92 for mode 3 on ``[0, 10]``) and turns back at a fold."""
    from crossdiff.model import Model, Species, Taxis

    return Model(
        (
            Species("u", diffusion=1, taxis=(Taxis("v", "chi*(2 - u)"),), reaction="u*(1 - u)", initial=1),
            Species("v", diffusion=1, reaction="u - v", initial=1),
        ),
        parameters={"chi": 4.0},
        name="volume-filling",
    )


def test_subcritical_pattern_folds_and_the_hysteresis_is_confirmed_by_time_runs():
    """A fold on a subcritical patterned branch: between the fold and the branch point the
    homogeneous state and the pattern are both stable (time runs from either stay or return),
    the unstable branch between them is the threshold, and below the fold the pattern decays."""
    import crossdiff as cd
    from crossdiff.continuation import pitchfork
    from crossdiff.time import IMEX

    model = volume_filling_model()
    k = 3 * math.pi / 10
    pf = pitchfork(model, "chi", (1 + k * k) ** 2 / (k * k), k, np.ones(2))
    assert pf.direction == "backward" and pf.slope == pytest.approx(-2.9216, rel=1e-4)
    grid = Grid((50,), ((0.0, 10.0),), "noflux")
    diagram = continuation(model, "chi", (3.0, 4.3), grid=grid, branches=1, settings=Settings(ds_max=0.02, points=72))
    bp = diagram.branch_points(0).iloc[0]
    branch = diagram.points[diagram.points["branch"] == 1]
    # it leaves backwards, with the weakly nonlinear slope: measured -2.69 on 50 cells (the
    # O(h²) of the discretisation, 1.5 % on 100 cells for keller-segel-logistic, and O(ε²))
    first = branch.iloc[1]
    assert (first["parameter"] - bp["parameter"]) / first["norm"] ** 2 == pytest.approx(pf.slope, rel=0.15)
    folds = diagram.special[(diagram.special["type"] == "fold") & (diagram.special["branch"] == 1)]
    assert len(folds) == 1
    fold = folds.iloc[0]
    chi_f = float(fold["parameter"])
    assert 3.7 < chi_f < bp["parameter"] - 0.1  # measured 3.78958 (3.7424 on 200 cells), the BP 4.01477
    # unstable (one eigenvalue) from the branch point to the fold, stable beyond it (from 100
    # cells on a second eigenvalue is unstable on 3.85 > chi > fold: docs/continuation.md)
    before = branch[(branch["point"] >= 1) & (branch["point"] <= fold["point"])]
    after = branch[branch["point"] > fold["point"]]
    assert (before["n_unstable"] == 1).all() and (after["stability"] == "stable").all()
    # the stable pattern at chi between the fold and the branch point (measured 3.898)
    row = after.iloc[np.argmin(np.abs(after["parameter"].to_numpy() - 3.9))]
    chi = float(row["parameter"])
    assert chi_f < chi < bp["parameter"]
    P = diagram.state(1, int(row["point"]))

    def run(value: float, initial: np.ndarray, t_end: float) -> np.ndarray:
        sol = cd.solve(
            model.with_settings({"chi": value}),
            grid,
            t_end,
            initial=initial,
            save_every=t_end,
            stepper=IMEX(rtol=1e-7, atol=1e-9),
        )
        return np.asarray(sol.to_xarray()["u"].isel(time=-1).values)

    amplitude = float(np.max(np.abs(P[0] - 1)))  # 0.713
    # the pattern itself stays (a steady state of the same discretisation: measured 1.8e-7, the
    # stepper's tolerance 1e-7)
    assert np.max(np.abs(run(chi, P, 50.0) - P[0])) < 1e-5
    # 10 % above or below it, it returns: the offset 0.071 falls to 8.2e-6 and 1.3e-5 by t = 150
    # (the pattern's slowest decay, near the fold, is about e^{-0.06 t}; asserted 7e-4)
    for scale in (0.9, 1.1):
        final = run(chi, 1 + scale * (P - 1), 150.0)
        assert np.max(np.abs(final - P[0])) < 1e-3 * amplitude
    # half of it (below the unstable branch, norm 0.21 at this chi) decays to the homogeneous
    # state, which is stable too: both states are attractors (0.36 falls to 8.1e-3 by t = 150,
    # at mode 3's rate near the branch point, about 0.03; asserted 0.021)
    final = run(chi, 1 + 0.5 * (P - 1), 150.0)
    assert np.max(np.abs(final - 1)) < 0.03 * amplitude
    # below the fold there is no pattern: the one at the fold decays (to 3.8e-7 by t = 200)
    final = run(3.7, diagram.state(1, int(fold["point"])), 200.0)
    assert np.max(np.abs(final - 1)) < 1e-4


def test_a_corner_of_a_piecewise_smooth_branch_is_crossed():
    """``u_t = Δu + min(u − 2p − 3, p + 4 − u)``: the homogeneous states are the half-lines
    ``u = p + 4`` (stable, ``ψ_u = −1``) and ``u = 2p + 3`` (unstable, ``ψ_u = 1``) for ``p ≤ 1``,
    meeting at the non-smooth fold ``(p, u) = (1, 5)`` at an angle of about 10° in the arclength
    norm: no hyperplane orthogonal to the incoming tangent meets the outgoing half-line, which
    stopped the continuation with "Newton's method did not converge" (as on May–Nowak's branch of
    mode 7 at χ = 5.6825, where the taxis limiter switches in one cell) until the corner was crossed
    along the tangent of the piece beyond it."""
    from crossdiff.model import Model, Species

    model = Model(
        (Species("u", diffusion=1, reaction="min(u - 2*p - 3, p + 4 - u)", initial=1),),
        parameters={"p": -1.0},
        name="corner",
    )
    grid = Grid((6,), ((0.0, 1.0),), "noflux")
    diagram = continuation(model, "p", (-1.0, 2.0), grid=grid, branches=0, state=1)
    assert diagram.status == "complete" and "left the range" in diagram.branches["end"][0]
    folds = diagram.special[diagram.special["type"] == "fold"]
    assert len(folds) == 1 and bool(folds["corner"].iloc[0])
    # the corner is the last point before it: the steps had shrunk below 1e-3 of the first
    # (0.03 in arclength), so it is within 3e-5 of (1, 5)
    assert abs(folds["parameter"].iloc[0] - 1.0) < 3e-5
    pts = diagram.points
    p, u = pts["parameter"].to_numpy(), pts["mean_u"].to_numpy()
    before = np.arange(len(pts)) <= folds["point"].iloc[0]
    # both half-lines exactly (the equations are linear on each piece: Newton's tolerance)
    np.testing.assert_allclose(u[before], p[before] + 4, atol=1e-9)
    np.testing.assert_allclose(u[~before], 2 * p[~before] + 3, atol=1e-9)
    assert p[-1] < -1.0  # back through the whole range on the unstable half-line
    assert set(pts["stability"][before]) == {"stable"} and set(pts["stability"][~before]) == {"unstable"}


def test_branch_points_only_where_an_eigenvalue_crosses_zero():
    """May–Nowak with taxis, χ from 3 to 9 on 40 cells of [0, 20]: modes 3 to 15 lose stability one
    after the other, so that more eigenvalues are unstable than the few computed near zero and
    eigenvalues enter and leave the computed set between points. Before the crossings were told by
    the sign of the bordered determinant, these changes of the count were reported as further
    branch points of modes already unstable (on 100 cells: six of them, modes 3, 4, 11, 12, 13)."""
    model = catalogue.load("may-nowak-taxis")
    grid = Grid((40,), ((0.0, 20.0),), "noflux")
    diagram = continuation(model, "chi", (3.0, 9.0), grid=grid, branches=0, settings=Settings(n_eig=4))
    bps = diagram.branch_points(0)
    h = 0.5
    expected = {}
    for m in range(1, 40):
        k2 = 4 / h**2 * math.sin(math.pi * m / 20 * h / 2) ** 2
        try:
            expected[m] = discrete_threshold(model, "chi", k2, (3.0, 9.0))
        except ValueError:  # no sign change in the range: the mode stays stable
            continue
    # one branch point per mode that crosses, at its discrete threshold (regula falsi to 1e-9)
    assert sorted(int(m) for m in bps["mode"]) == sorted(expected)
    for _, bp in bps.iterrows():
        assert bp["parameter"] == pytest.approx(expected[int(bp["mode"])], rel=1e-6)


def test_catalogue_pages_show_their_diagrams():
    """Issue 22, part 5: the pages of Keller–Segel with logistic growth and May–Nowak carry their
    bifurcation diagram (picture in docs/figures, made by docs/build.py, and what it shows)."""
    import importlib.util
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs"
    spec = importlib.util.spec_from_file_location("crossdiff_docs_build_diagrams", docs / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert {"keller-segel-logistic", "may-nowak-taxis"} <= set(build.DIAGRAMS)
    for name in build.DIAGRAMS:
        page = (docs / "models" / f"{name}.md").read_text(encoding="utf-8")
        assert "## Bifurcation diagram" in page and f"(../figures/{name}-diagram.png)" in page
        assert (docs / "figures" / f"{name}-diagram.png").stat().st_size > 10_000
