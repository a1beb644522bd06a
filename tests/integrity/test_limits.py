"""Sizes a user can type are bounded before work starts: estimated, refused in one line with the
estimate, before anything is allocated (no hang, no gigabytes first)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import crossdiff as cd
from crossdiff.errors import InputError, KineticModelError, ModelError
from crossdiff.kinetic import Sphere
from crossdiff.sweep import MAX_POINTS, plan_sweep, sweep

#: Seconds within which a refusal must come: the checks are arithmetic; the bound leaves room for
#: a loaded machine (each case measured below 0.1 s here, imports aside).
PROMPT = 5.0


def test_a_grid_too_large_is_refused_before_it_is_allocated(tmp_path):
    out = tmp_path / "big.nc"
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"needs about .* GB of memory \(.*\), more than"):
        cd.solve("keller-segel", cd.Grid((100_000_000,)), 1.0)
    with pytest.raises(InputError, match="would write about .* GB .* more than the .* GB free there"):
        cd.solve("keller-segel", cd.Grid((100_000_000,)), 1.0, output=out, keep_frames=False)
    assert time.perf_counter() - start < PROMPT and not out.exists()


def test_velocities_too_many_are_refused_at_once(cli, tmp_path):
    start = time.perf_counter()
    res = cli("run", "cancer-invasion-kinetic", "--eps", "0.1", "--velocities", "10000000", "--out", tmp_path / "k.nc")
    assert res.rc == 2 and "fewer velocities" in res.err and "\n" not in res.err.strip(), res.err
    assert time.perf_counter() - start < PROMPT and not (tmp_path / "k.nc").exists()


def test_a_numeric_derivation_on_too_many_nodes_is_refused(cli):
    start = time.perf_counter()
    res = cli("derive", "cancer-invasion-kinetic", "--numeric", "--nodes", "100000000")
    assert res.rc == 2 and "more than 20,000" in res.err, res.err
    assert time.perf_counter() - start < PROMPT


def test_sweeps_too_large_are_refused_before_their_runs_are_listed(tmp_path):
    model = cd.catalogue.load("may-nowak-taxis")
    grid = cd.default_grid(model, (16,))
    start = time.perf_counter()
    with pytest.raises(InputError, match=f"1,002,001 runs \\(1001 x 1001\\), more than {MAX_POINTS:,}: split it"):
        plan_sweep(model, ["chi=0:10:1001", "d1=0.1:1:1001"], grid=grid, t_end=1.0)
    with pytest.raises(InputError, match="workers need about .* GB of memory"):
        sweep(model, ["chi=1,2"], tmp_path / "s", grid=grid, t_end=1.0, workers=1_000_000)
    assert time.perf_counter() - start < PROMPT and not (tmp_path / "s").exists()


def test_a_huge_model_file_is_refused_by_its_size_first(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text("# padding\n" * 5_000_000)  # 50 MB
    start = time.perf_counter()
    for load in (cd.catalogue.resolve_any, lambda p: cd.Run(str(p))):
        with pytest.raises(ModelError, match="model files are limited to 1 MB"):
            load(str(path))
    assert time.perf_counter() - start < PROMPT


def test_wall_reflection_is_found_in_n_log_n():
    """The specular reflection of every velocity (walls): a k-d tree, the same indices as the
    all-pairs comparison it replaced, and 2·10⁵ directions in well under a second."""
    from crossdiff.kinetic._staggered import reflection  # the function under test

    q = Sphere(2).quadrature(12)
    brute = [int(np.argmin(np.max(np.abs(q.nodes - p * np.array([-1.0, 1.0])), axis=1))) for p in q.nodes]
    np.testing.assert_array_equal(reflection(q.nodes, 0, q.weights, {}), brute)
    big = Sphere(2).quadrature(200_000)
    start = time.perf_counter()
    out = reflection(big.nodes, 1, big.weights, {})
    assert time.perf_counter() - start < PROMPT
    np.testing.assert_allclose(big.nodes[out, 1], -big.nodes[:, 1], atol=1e-12)
    with pytest.raises(KineticModelError, match="closed under reflection"):
        odd = Sphere(2).quadrature(7)
        reflection(odd.nodes, 0, odd.weights, {})
