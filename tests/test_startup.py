"""Start-up: ``import crossdiff`` and the command line's parser import no heavy library, and
cost a bounded multiple of importing NumPy (docs/architecture.md, "Start-up"; bench/README.md).

Each check runs in a fresh interpreter (what a user pays), with this checkout first on the path.
The ``sys.modules`` checks are the robust guard; the timings, as ratios to NumPy's import on the
same machine at the same moment, catch a regression that the module lists do not name.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Libraries that cost 0.2-0.8 s each to import (bench/README.md, "Start-up").
HEAVY = ("sympy", "numba", "scipy", "xarray", "dask", "matplotlib", "pandas", "h5netcdf", "h5py")

#: Packages whose public names are imported on first use (crossdiff.lazy).
LAZY = (
    "crossdiff",
    "crossdiff.time",
    "crossdiff.fv",
    "crossdiff.solve",
    "crossdiff.analysis",
    "crossdiff.continuation",
)


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter on this checkout; its standard output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _loaded_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after ``code`` ran in a fresh interpreter."""
    out = _python(
        f"import sys\n{code}\nimport crossdiff, json\n"
        f"assert crossdiff.__file__.startswith({str(ROOT)!r}), crossdiff.__file__\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    return json.loads(out.splitlines()[-1])


def test_import_crossdiff_imports_no_heavy_library():
    assert _loaded_after("import crossdiff") == []


def test_the_command_line_parser_imports_no_heavy_library():
    code = "import contextlib, io\nfrom crossdiff.cli import build_parser, main\nbuild_parser()\n"
    code += "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help']); main(['run', '--help'])"
    assert _loaded_after(code) == []


def test_listing_the_catalogue_imports_no_heavy_library():
    code = "import contextlib, io\nfrom crossdiff.cli import main\n"
    code += "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['models']) == 0"
    assert _loaded_after(code) == []


def test_the_registries_list_their_choices_without_importing_them():
    code = (
        "import crossdiff.time as t, crossdiff.fv as fv, crossdiff.grid as g\n"
        "from crossdiff.solve import SCALES\n"
        "t.STEPPERS.help(); [t.stepper_options(n) for n in t.STEPPERS]; fv.LIMITERS.help()\n"
        "[SCALES[n].stepper for n in SCALES]; g.BOUNDARIES.help()\n"
        "assert 'crossdiff.time._steppers' not in sys.modules and 'crossdiff.fv._discretise' not in sys.modules"
    )
    assert _loaded_after(code) == []


def _best_seconds(code: str, tries: int = 5) -> float:
    """Best of ``tries`` fresh interpreters of the time ``code`` takes (``perf_counter``)."""
    timed = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    return min(float(_python(timed).split()[-1]) for _ in range(tries))


def _best_process_seconds(args: list[str], tries: int = 5) -> float:
    """Best of ``tries`` of the wall time of a whole ``python args`` process."""
    code = (
        "import subprocess, sys, time\nt = time.perf_counter()\n"
        f"subprocess.run([sys.executable, *{args!r}], check=True, stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t)"
    )
    return min(float(_python(code).split()[-1]) for _ in range(tries))


def test_import_time_is_a_small_multiple_of_numpys():
    # Measured on the reference 2-core machine (bench/README.md, "Start-up"): `import crossdiff`
    # costs 0.003-0.01 s (it imports only its lazy tables) against 0.06-0.15 s for NumPy, a ratio
    # of 0.05-0.1; before the lazy imports it was 0.8 s, 6-8 times NumPy. K = 1 leaves a tenfold
    # margin for a loaded machine and fails if SymPy (0.3-0.4 s) or Numba comes back.
    numpy = _best_seconds("import numpy")
    crossdiff = _best_seconds("import crossdiff")
    assert crossdiff <= 1.0 * numpy, f"import crossdiff {crossdiff:.3f} s, import numpy {numpy:.3f} s"


def test_help_time_is_a_small_multiple_of_numpys():
    # Whole processes: `crossdiff --help` measured 0.30-0.35 s against 0.13-0.17 s for
    # `python -c "import numpy"` (a ratio of 2.0-2.5; it builds every subcommand's parser and
    # imports NumPy through crossdiff.grid); before the lazy imports 1.2-1.3 s, 8 times. K' = 4
    # leaves a margin of 1.6 for load and fails if SymPy alone comes back (+0.3-0.4 s = +2.5×).
    numpy = _best_process_seconds(["-c", "import numpy"])
    helped = _best_process_seconds(["-m", "crossdiff", "--help"])
    assert helped <= 4.0 * numpy, f"crossdiff --help {helped:.3f} s, import numpy {numpy:.3f} s"


def _type_checking_imports(package: str) -> dict[str, str]:
    """Name -> relative module of the imports in the ``if TYPE_CHECKING:`` block of ``package``."""
    init = ROOT / package.replace(".", "/") / "__init__.py"
    names: dict[str, str] = {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                for alias in stmt.names:
                    names[alias.asname or alias.name] = "." * stmt.level + (stmt.module or "")
    return names


@pytest.mark.parametrize("package", LAZY)
def test_lazy_names_are_the_public_names_and_the_type_checkers(package):
    """The names type checkers see (the ``TYPE_CHECKING`` imports) are ``__all__`` and
    ``dir()``, and each resolves to the object of the module it is imported from there."""
    module = importlib.import_module(package)
    seen = _type_checking_imports(package)
    eager = {"__version__"}  # imported eagerly: it costs nothing
    assert set(seen) == set(module.__all__) - eager
    assert set(module.__all__) <= set(dir(module))
    for name, source in seen.items():
        if source == ".":  # `from . import catalogue`: a submodule
            expected = importlib.import_module(f"{package}.{name}")
        else:
            expected = getattr(importlib.import_module(source, package), name)
        assert getattr(module, name) is expected, (package, name)


def test_crossdiff_solve_is_the_function():
    """``crossdiff.solve`` names the subpackage and its function; the package attribute is the
    function however the subpackage was imported first."""
    out = _python(
        "import crossdiff.solve._scales\nimport crossdiff as cd\nfrom crossdiff.solve import solve\n"
        "print(callable(cd.solve), cd.solve is solve)"
    )
    assert out.split() == ["True", "True"]


def test_steppers_resolve_to_their_classes_and_scales_name_their_defaults():
    from crossdiff.solve import SCALES
    from crossdiff.time import BDF, GSAIMEX, IMEX, SSPRK3, STEPPERS

    assert STEPPERS["imex"] is IMEX and STEPPERS["ssprk3"] is SSPRK3 and STEPPERS["bdf"] is BDF
    assert STEPPERS["ars443"] is GSAIMEX
    for name in SCALES:
        scale = SCALES[name]
        assert scale.default_stepper().settings()[0] == scale.stepper  # what the help says


@pytest.mark.parametrize("kind", ["macro", "kinetic"])
def test_catalogue_summaries_agree_with_the_loaded_models(kind):
    from crossdiff import catalogue

    for name in catalogue.names(kind):
        summary = catalogue.summary(name, kind)
        model = catalogue.load(name) if kind == "macro" else catalogue.load_kinetic(name)
        assert (summary.name, summary.description) == (model.name, model.description)
        assert summary.species == tuple(model.species_names)
        if kind == "kinetic":
            assert summary.macro == model.macro
            assert summary.equation == (model.paper.equation if model.paper is not None else "")


# ---------------------------------------------------------------- the compile cache (crossdiff.model._cache)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh, empty kernel cache directory for this test (the module attribute, not the
    environment: tests never set environment variables in their own process)."""
    import crossdiff.model._codegen as codegen

    directory = tmp_path / "kernels"
    directory.mkdir()
    monkeypatch.setattr(codegen, "kernel_cache_dir", lambda: directory)
    return directory


def _nonlinear_model(chi: float = 10.0):
    """A model whose kernels are all non-constant and one singular at ``v = 0`` (so every kind
    of entry is written: kernels, singularity analyses, the fused reactions)."""
    from crossdiff.model import Model, Species, Taxis

    return Model(
        species=[
            Species("u", diffusion="D*(1 + u**2)", taxis=[Taxis("v", "chi/v")], reaction="r*u*(1 - u)*exp(-t)"),
            Species("v", diffusion=1, reaction="u/(1 + u) - v"),
        ],
        parameters={"D": 1.0, "chi": chi, "r": 1.0},
        name="cache-test",
    )


def _evaluations(compiled) -> list[np.ndarray]:
    """Every non-constant kernel of ``compiled`` evaluated on fixed positive states."""
    U = np.random.default_rng(3).uniform(0.1, 2.0, (compiled.n, 17))
    coords = (np.linspace(0, 1, 17), 0.0, 0.0)
    kernels = []
    for s in compiled.species:
        kernels += [s.diffusion, s.reaction, *(k for _, k in s.taxis)]
    return [k.evaluate_array(0.3, coords, U) for k in kernels if k is not None and not k.constant]


def _count_lambdify(monkeypatch) -> list[int]:
    """Count the calls of ``sympy.lambdify`` made by the compile path."""
    import crossdiff.model._compile as comp

    calls = [0]
    real = comp.sp.lambdify

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(comp.sp, "lambdify", counted)
    return calls


def test_the_compiled_model_is_cached_and_a_second_compilation_prints_nothing(cache_dir, monkeypatch):
    from crossdiff.model import compile_model

    calls = _count_lambdify(monkeypatch)
    first = compile_model(_nonlinear_model())
    cold = calls[0]
    assert cold == 4  # D(u), chi/v, the two reactions
    kinds = sorted(p.name.split("-")[0] for p in (cache_dir / "compiled").glob("*.json"))
    assert kinds.count("kernel") == 4 and "singular" in kinds  # where the Numba cache lives
    second = compile_model(_nonlinear_model())
    assert calls[0] == cold  # every kernel came from the cache
    assert second.positive == first.positive and second.positive[0][0] == 1  # chi/v: v > 0
    # the same source with the same NumPy functions: bitwise the same values
    for a, b in zip(_evaluations(first), _evaluations(second)):
        np.testing.assert_array_equal(a, b)


def test_initial_data_are_evaluated_through_the_cache(cache_dir, monkeypatch):
    import crossdiff as cd
    from crossdiff.model import Model, Species, initial_fields

    model = Model(species=[Species("u", diffusion=1, initial="1 + a*sin(x)*noise")], parameters={"a": 0.5})
    grid = cd.Grid((12,), extent=((0.0, 3.0),))
    calls = _count_lambdify(monkeypatch)
    first = initial_fields(model, grid)
    assert calls[0] == 1
    second = initial_fields(model, grid)
    assert calls[0] == 1  # the cached source
    np.testing.assert_array_equal(first, second)
    # exact: 1 + 0.5 sin(x) noise with the documented seeded noise
    noise = np.random.default_rng([0, 0]).uniform(-1.0, 1.0, grid.shape)
    np.testing.assert_allclose(second[0], 1 + 0.5 * np.sin(grid.coordinates[0]) * noise, rtol=1e-15)


def test_the_cache_is_never_used_for_other_parameters_or_another_version(cache_dir, monkeypatch):
    import crossdiff.model._cache as cache
    from crossdiff.model import compile_model

    calls = _count_lambdify(monkeypatch)
    base = _evaluations(compile_model(_nonlinear_model(chi=10.0)))
    cold = calls[0]
    other = _evaluations(compile_model(_nonlinear_model(chi=20.0)))
    assert calls[0] == cold + 1  # the sensitivity chi/v is new; the rest is shared
    # the sensitivity (third kernel) doubles with chi: computed for chi = 20, not read for 10
    np.testing.assert_allclose(other[2], 2 * base[2], rtol=1e-15)
    np.testing.assert_array_equal(other[0], base[0])
    monkeypatch.setattr(cache, "__version__", "0.0.0-other")
    cache._salt.cache_clear()
    try:
        compile_model(_nonlinear_model(chi=10.0))
        assert calls[0] == cold + 1 + 4  # another crossdiff version: every key is new
    finally:
        monkeypatch.undo()
        cache._salt.cache_clear()


@pytest.mark.parametrize(
    "damage",
    ["", "{not json", '{"format": 1, "key": "elsewhere", "payload": {}}', "source"],
)
def test_a_corrupt_or_stale_entry_is_ignored_and_rebuilt(cache_dir, monkeypatch, damage):
    from crossdiff.model import compile_model

    expected = _evaluations(compile_model(_nonlinear_model()))
    entries = sorted((cache_dir / "compiled").glob("*.json"))
    for path in entries:
        if damage == "source":  # valid entries whose code is broken or whose analysis is wrong
            entry = json.loads(path.read_text())
            payload = entry["payload"]
            if "source" in payload:
                payload["source"] = "def (:\n"
            else:
                payload["species"] = [99]
            path.write_text(json.dumps(entry))
        else:
            path.write_text(damage)
    calls = _count_lambdify(monkeypatch)
    compiled = compile_model(_nonlinear_model())
    assert calls[0] == 4  # every kernel compiled afresh
    assert compiled.positive and compiled.positive[0][0] == 1
    for a, b in zip(_evaluations(compiled), expected):
        np.testing.assert_array_equal(a, b)
    for path in entries:  # and rewritten whole
        assert json.loads(path.read_text())["format"] == 1


def test_the_fused_reactions_source_is_cached(cache_dir, monkeypatch):
    import crossdiff.model._codegen as codegen
    from crossdiff.model import compile_model, fused_reactions

    compiled = compile_model(_nonlinear_model())
    first = fused_reactions(compiled, [0, 1])
    assert first is not None and len(list((cache_dir / "compiled").glob("fused-*.json"))) == 1

    def no_printing(*args):
        raise AssertionError("printed again")

    monkeypatch.setattr(codegen, "_source", no_printing)
    second = fused_reactions(compiled, [0, 1])
    assert second is not None
    U = np.random.default_rng(5).uniform(0.1, 2.0, (2, 9))
    a, b = np.zeros_like(U), np.zeros_like(U)
    first(0.3, U, a)
    second(0.3, U, b)
    np.testing.assert_array_equal(a, b)


def test_the_compile_cache_can_be_turned_off(tmp_path):
    out = tmp_path / "ks.nc"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", "CROSSDIFF_CACHE": str(tmp_path / "k")}
    env["CROSSDIFF_NO_COMPILE_CACHE"] = "1"
    args = ["-m", "crossdiff", "run", "keller-segel-logistic", "--grid", "8x8", "--t-end", "0.01", "--out", str(out)]
    proc = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and not (tmp_path / "k" / "compiled").exists()
