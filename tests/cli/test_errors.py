"""Bad input from the command line: exit code 2 and one line ``crossdiff: error: ...``, no traceback.

Every case runs ``crossdiff.cli.main`` in-process; one test runs the installed console script in
a subprocess to prove that no traceback escapes the real entry point either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KS_TOML


def assert_input_error(res, *words: str) -> None:
    """Exit 2, exactly one stderr line starting ``crossdiff: error:``, naming ``words``."""
    assert res.rc == 2, (res.rc, res.err)
    assert "Traceback" not in res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    assert lines[0].startswith("crossdiff: error: "), lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


def _edit(old: str, new: str) -> str:
    assert old in KS_TOML, old
    return KS_TOML.replace(old, new, 1)


# (id, model file text, words the message must contain)
BAD_FILES = [
    ("malformed-toml", "[model\nname = 'x'\n", ["malformed TOML"]),
    ("malformed-toml-value", _edit("r = 0.5", "r = 0.5.5"), ["malformed TOML"]),
    (
        "unknown-species-key",
        _edit('long_name = "cells"', 'long_name = "cells"\ndifusion = 1'),
        ["unknown key", "difusion"],
    ),
    ("unknown-domain-key", _edit("cells = [16]", "cells = [16]\ncell = 3"), ["unknown key", "'cell'"]),
    ("unknown-top-table", KS_TOML + "\n[paramters]\nq = 1\n", ["unknown key", "paramters"]),
    (
        "unknown-model-key",
        _edit('description = "test model"', 'description = "test model"\nauthor = "me"'),
        ["unknown key", "author"],
    ),
    (
        "unknown-taxis-key",
        _edit('sensitivity = "chi"', 'sensitivity = "chi", strength = 2'),
        ["unknown key", "strength"],
    ),
    ("taxis-unknown-signal", _edit('signal = "v"', 'signal = "w"'), ["unknown species", "'w'"]),
    ("taxis-no-signal", _edit('signal = "v", ', ""), ["signal"]),
    (
        "unknown-symbol",
        _edit('reaction = "r*u*(1 - u)"', 'reaction = "r*u*(1 - u) + foo"'),
        ["unknown symbol", "'foo'"],
    ),
    ("missing-parameter", _edit('reaction = "u - v"', 'reaction = "k*u - v"'), ["unknown symbol", "'k'", "parameter"]),
    ("unknown-function", _edit('reaction = "u - v"', 'reaction = "erf(u) - v"'), ["unknown function", "erf"]),
    ("syntax-error", _edit('reaction = "u - v"', 'reaction = "u -* v"'), ["cannot parse", "u -* v"]),
    (
        "python-code",
        _edit('reaction = "u - v"', "reaction = \"__import__('os').system('touch PWNED')\""),
        ["reaction of species 'v'", "unknown function"],
    ),
    ("negative-diffusion", _edit("diffusion = 1", "diffusion = -1"), ["negative diffusion", "'u'"]),
    ("negative-diffusion-param", _edit("diffusion = 1", 'diffusion = "-chi"'), ["negative diffusion", "'u'"]),
    ("negative-diffusion-tensor", _edit("diffusion = 1", "diffusion = [[1, 0], [0, -1]]"), ["positive semi-definite"]),
    ("nan-diffusion", _edit("diffusion = 1", "diffusion = nan"), ["diffusion", "finite"]),
    ("bool-diffusion", _edit("diffusion = 1", "diffusion = true"), ["diffusion", "bool"]),
    ("parameter-string", _edit("r = 0.5", 'r = "abc"'), ["parameter 'r'", "number"]),
    ("parameter-nan", _edit("r = 0.5", "r = nan"), ["parameter 'r'", "finite"]),
    ("parameter-no-value", _edit("r = 0.5", 'r = { description = "rate" }'), ["parameter 'r'", "no value"]),
    ("parameter-is-species", _edit("r = 0.5", "r = 0.5\nv = 1"), ["parameter 'v'", "species"]),
    ("duplicate-species", KS_TOML + '\n[[species]]\nname = "u"\n', ["'u'", "twice"]),
    (
        "reserved-name",
        _edit('name = "v"', 'name = "x"').replace('signal = "v"', 'signal = "x"').replace("u - v", "u - x"),
        ["reserved"],
    ),
    ("no-species", '[model]\nname = "empty"\n', ["species"]),
    ("negative-tau", _edit('reaction = "u - v"', 'reaction = "u - v"\ntau = -1'), ["tau", ">= 0"]),
    ("noise-in-reaction", _edit('reaction = "u - v"', 'reaction = "u - v + noise"'), ["noise", "initial"]),
    ("initial-depends-on-species", _edit('initial = "1"', 'initial = "u"'), ["initial data", "'u'"]),
    (
        "initial-nan-log",
        _edit('initial = "1 + 0.2*cos(pi*x)"', 'initial = "log(x - 100)"'),
        ["initial data", "'u'", "not finite"],
    ),
    (
        "initial-nan-sqrt",
        _edit('initial = "1 + 0.2*cos(pi*x)"', 'initial = "sqrt(0.5 - x)"'),
        ["initial data", "'u'", "not finite"],
    ),
    (
        "initial-complex",
        _edit('initial = "1 + 0.2*cos(pi*x)"', 'initial = "sqrt(-1)"'),
        ["initial data", "'u'", "complex"],
    ),
    (
        "initial-negative",
        _edit('initial = "1 + 0.2*cos(pi*x)"', 'initial = "x - 0.5"'),
        ["initial data", "'u'", "negative"],
    ),
    (
        "initial-division-by-zero",
        _edit('initial = "1"', 'initial = "1/0"'),
        ["initial data", "'v'", "division by zero"],
    ),
    # singular sensitivity 1/v with v(0) = 0 on half of the domain (Heaviside(0) = 1/2 elsewhere)
    (
        "singular-sensitivity",
        _edit('sensitivity = "chi"', 'sensitivity = "chi/v"').replace(
            'initial = "1"\n', 'initial = "heaviside(x - 0.5)"\n'
        ),
        ["initial data", "'v'", "> 0", "singular"],
    ),
    (
        "singular-log-sensitivity",
        _edit('sensitivity = "chi"', 'sensitivity = "log(v)"').replace(
            'initial = "1"\n', 'initial = "heaviside(x - 0.5)"\n'
        ),
        ["initial data", "'v'", "> 0"],
    ),
    ("domain-cells-zero", _edit("cells = [16]", "cells = [0]"), ["cells", "positive"]),
    ("domain-extent-reversed", _edit("extent = [[0, 1]]", "extent = [[1, 0]]"), ["extent"]),
    ("domain-t-end-negative", _edit("t_end = 0.01", "t_end = -1"), ["t_end", "positive"]),
    (
        "domain-negative-seed",
        _edit("t_end = 0.01", "t_end = 0.01\nseed = -1").replace("1 + 0.2*cos(pi*x)", "1 + 0.01*noise"),
        ["seed", "non-negative"],
    ),
    ("domain-bad-boundary", _edit('boundary = "noflux"', 'boundary = "dirichlet"'), ["boundary", "dirichlet"]),
    ("kinetic-file", "[kinetic]\nname = 'k'\n", ["kinetic"]),
]


@pytest.mark.parametrize("text, words", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_model_file_exits_2(cli, model_file, tmp_path, text, words):
    path = model_file(text)
    out = tmp_path / "run.nc"
    res = cli("run", path, "--out", out)
    assert_input_error(res, *words)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
    # validation happens before the run: no output file is left behind
    assert not out.exists()


def test_bad_model_file_also_fails_show(cli, model_file):
    res = cli("show", model_file(_edit("diffusion = 1", "diffusion = -1")))
    assert_input_error(res, "negative diffusion")


# (id, extra arguments of `crossdiff run m.toml --out run.nc`, words)
BAD_ARGS = [
    ("initial-unknown-species", ["--initial", "w=1"], ["unknown species", "'w'"]),
    ("initial-no-equals", ["--initial", "u"], ["--initial", "species=EXPRESSION"]),
    ("initial-nan-log", ["--initial", "u=log(x - 100)"], ["'u'", "not finite"]),
    ("initial-nan-sqrt", ["--initial", "v=sqrt(x - 2)"], ["'v'", "not finite"]),
    ("initial-complex", ["--initial", "u=sqrt(-1)"], ["'u'", "complex"]),
    ("initial-negative", ["--initial", "v=-1"], ["'v'", "negative"]),
    ("initial-unknown-symbol", ["--initial", "u=1 + q"], ["'u'", "unknown symbol", "'q'"]),
    ("initial-species-symbol", ["--initial", "u=v"], ["'u'", "'v'"]),
    ("initial-syntax", ["--initial", "u=1 +"], ["cannot parse"]),
    ("set-unknown-parameter", ["--set", "nope=1"], ["unknown parameter", "'nope'", "chi"]),
    ("set-non-numeric", ["--set", "chi=abc"], ["'chi'", "number", "abc"]),
    ("set-nan", ["--set", "chi=nan"], ["'chi'", "finite"]),
    ("set-no-equals", ["--set", "chi"], ["NAME=VALUE"]),
    ("grid-zero", ["--grid", "0"], ["invalid grid", "'0'"]),
    ("grid-negative", ["--grid", "-5"], ["invalid grid", "'-5'"]),
    ("grid-zero-axis", ["--grid", "10x0"], ["invalid grid", "10x0"]),
    ("grid-text", ["--grid", "abc"], ["invalid grid", "abc"]),
    ("grid-empty", ["--grid", ""], ["invalid grid"]),
    ("grid-4d", ["--grid", "2x2x2x2"], ["invalid grid", "1 to 3"]),
    ("grid-float", ["--grid", "10.5"], ["invalid grid"]),
    ("t-end-negative", ["--t-end", "-1"], ["end time", "positive"]),
    ("t-end-zero", ["--t-end", "0"], ["end time", "positive"]),
    ("t-end-nan", ["--t-end", "nan"], ["end time"]),
    ("t-end-text", ["--t-end", "soon"], ["--t-end", "soon"]),
    ("save-every-negative", ["--save-every", "-1"], ["--save-every", "expected a positive number"]),
    ("rtol-zero", ["--rtol", "0"], ["--rtol", "expected a positive number"]),
    ("seed-negative", ["--seed", "-1"], ["--seed", "non-negative"]),
    ("dt-absurdly-small", ["--stepper", "ssprk3", "--dt", "1e-300"], ["--dt", "steps"]),
    ("grid-too-large", ["--grid", "100000x100000x100000"], ["memory", "use a coarser grid"]),
    ("unknown-stepper", ["--stepper", "euler"], ["--stepper", "euler"]),
    ("unknown-limiter", ["--limiter", "superbee"], ["--limiter", "superbee"]),
    ("unknown-boundary", ["--boundary", "dirichlet"], ["--boundary", "dirichlet"]),
    ("dt-with-bdf", ["--stepper", "bdf", "--dt", "0.001"], ["--dt", "bdf"]),
    ("unknown-option", ["--colour", "red"], ["unrecognized arguments", "--colour"]),
    ("resume-missing-file", ["--resume"], ["resume", "not found"]),
]


@pytest.mark.parametrize("args, words", [c[1:] for c in BAD_ARGS], ids=[c[0] for c in BAD_ARGS])
def test_bad_run_arguments_exit_2(cli, model_file, tmp_path, args, words):
    res = cli("run", model_file(), "--out", tmp_path / "run.nc", *args)
    assert_input_error(res, *words)


def test_output_directory_missing(cli, model_file, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "run.nc"
    res = cli("run", model_file(), "--out", target)
    assert_input_error(res, "cannot write", "does not exist")
    assert not target.parent.exists()


def test_output_path_is_a_directory(cli, model_file, tmp_path):
    (tmp_path / "out.nc").mkdir()
    res = cli("run", model_file(), "--out", tmp_path / "out.nc")
    assert_input_error(res, "directory")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only directories")
def test_output_directory_read_only(cli, model_file, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = cli("run", model_file(), "--out", ro / "run.nc")
    finally:
        ro.chmod(0o700)
    assert_input_error(res, "cannot write")


def test_unknown_catalogue_name(cli, tmp_path):
    res = cli("run", "keller-segle", "--out", tmp_path / "r.nc")
    assert_input_error(res, "unknown catalogue model", "'keller-segle'", "keller-segel-logistic")
    assert_input_error(cli("show", "no-such-model"), "unknown catalogue model")


def test_missing_model_file(cli, tmp_path):
    res = cli("run", tmp_path / "missing.toml", "--out", tmp_path / "r.nc")
    assert_input_error(res, "not found", "missing.toml")


def test_model_file_not_utf8(cli, tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[model]\nname = "caf\xe9"\n')
    assert_input_error(cli("run", path, "--out", tmp_path / "r.nc"), "latin.toml")


def test_plot_missing_file(cli, tmp_path):
    assert_input_error(cli("plot", tmp_path / "none.nc"), "not found", "none.nc")


def test_plot_corrupt_file(cli, tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"this is not a NetCDF file\n" * 10)
    assert_input_error(cli("plot", bad, "--out", tmp_path / "x.png"), "cannot read", "bad.nc")
    assert not (tmp_path / "x.png").exists()


def test_plot_unknown_species(cli, model_file, tmp_path):
    out = tmp_path / "run.nc"
    assert cli("run", model_file(), "--out", out, "--quiet").rc == 0
    assert_input_error(cli("plot", out, "--species", "w", "--out", tmp_path / "x.png"), "unknown species", "'w'")


def test_plot_bad_options(cli, model_file, tmp_path):
    out = tmp_path / "run.nc"
    assert cli("run", model_file(), "--t-end", "0.005", "--out", out, "--quiet").rc == 0
    # these used to be internal errors (ZeroDivisionError, OverflowError) or silently frame 0
    assert_input_error(cli("plot", out, "--movie", tmp_path / "m.gif", "--fps", "0"), "--fps", "positive integer")
    assert_input_error(cli("plot", out, "--movie", tmp_path / "m.gif", "--fps", "-3"), "--fps", "positive integer")
    assert_input_error(cli("plot", out, "--time", "nan"), "--time", "finite")
    assert_input_error(cli("plot", out, "--movie", tmp_path / "m.xyz"), "movie format")
    assert_input_error(cli("plot", out, "--out", tmp_path / "no" / "x.png"), "cannot write")
    assert not (tmp_path / "m.gif").exists()


def test_plot_spacetime_needs_1d(cli, tmp_path):
    out = tmp_path / "run.nc"
    assert cli("run", "keller-segel", "--grid", "8x8", "--t-end", "0.001", "--out", out, "--quiet").rc == 0
    assert_input_error(cli("plot", out, "--spacetime", "--out", tmp_path / "st.png"), "1D")


def test_show_set_unknown_parameter(cli):
    assert_input_error(cli("show", "keller-segel", "--set", "nope=2"), "unknown parameter", "'nope'")


def test_no_command_and_unknown_command(cli):
    assert cli().rc == 2
    assert_input_error(cli("simulate"), "invalid choice")


def test_python_code_is_never_run(cli, model_file, tmp_path, monkeypatch):
    """Expressions are parsed, never evaluated: no file appears, whatever the trick."""
    monkeypatch.chdir(tmp_path)
    tricks = [
        "__import__('os').system('touch PWNED')",
        "(lambda: __import__('os').system('touch PWNED'))()",
        "[__import__('os').system('touch PWNED') for _ in 'a'][0]",
        "u.__class__.__mro__",
        "exp.__globals__",
        "open('PWNED', 'w')",
        "eval(\"open('PWNED', 'w')\")",
    ]
    for trick in tricks:
        # TOML basic strings need escaped double quotes
        text = _edit('reaction = "u - v"', 'reaction = "' + trick.replace('"', '\\"') + '"')
        assert_input_error(cli("run", model_file(text), "--out", tmp_path / "r.nc"), "reaction")
        assert not (tmp_path / "PWNED").exists(), trick


# --------------------------------------------------------------------------- formerly known bugs (fixed)
def test_large_integer_inside_function_runs(cli, model_file, tmp_path):
    text = _edit('reaction = "u - v"', 'reaction = "u - v + sin(10**20)*0.01*u"')
    res = cli("run", model_file(text), "--out", tmp_path / "r.nc", "--quiet")
    assert "internal error" not in res.err
    assert res.rc == 0, res.err


def test_negative_density_dependent_diffusion_is_input_error(cli, model_file, tmp_path):
    text = _edit("diffusion = 1", 'diffusion = "-u"')
    res = cli("run", model_file(text), "--out", tmp_path / "r.nc")
    assert_input_error(res, "diffusion", "'u'", "negative")


def test_time_only_singular_reaction_is_not_an_internal_error(cli, model_file, tmp_path):
    text = _edit('reaction = "u - v"', 'reaction = "u - v + pi/t"')
    res = cli("run", model_file(text), "--out", tmp_path / "r.nc", "--quiet")
    assert "internal error" not in res.err
    assert res.rc in (2, 3), res.err


# --------------------------------------------------------------------------- the real script
def _console_script() -> str:
    candidate = Path(sys.executable).with_name("crossdiff")
    found = str(candidate) if candidate.exists() else shutil.which("crossdiff")
    if not found:
        pytest.skip("crossdiff console script not installed")
    return found


def test_console_script_prints_no_traceback(model_file, tmp_path):
    script = _console_script()
    env = {k: v for k, v in os.environ.items() if k != "CROSSDIFF_DEBUG"}
    # one launch (each costs ~3 s of imports): a bad initial expression that used to escape as an
    # internal error (complex number) must come out as one line and exit 2
    bad = model_file(_edit('initial = "1"', 'initial = "sqrt(-1)"'))
    proc = subprocess.run(
        [script, "run", str(bad), "--grid", "8", "--out", str(tmp_path / "c.nc")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossdiff: error: "), proc.stderr
    assert "complex" in lines[0]


def test_numerical_failure_is_one_line_without_numpy_warnings(cli, model_file, tmp_path):
    """Absurd (finite) initial data overflow in the first step: exit 3, one line, no RuntimeWarning
    (on a terminal NumPy's warnings print two extra lines each)."""
    import warnings

    text = _edit('initial = "1 + 0.2*cos(pi*x)"', 'initial = "1e308"')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cli("run", model_file(text), "--out", tmp_path / "r.nc", "--quiet")
    assert res.rc == 3, res.err
    assert "Traceback" not in res.err
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossdiff: numerical failure: "), res.err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]


def test_solve_negative_seed_is_input_error(model_file):
    from crossdiff.errors import InputError
    from crossdiff.model import read_model_file
    from crossdiff.solve import solve

    model = read_model_file(model_file(_edit('initial = "1"', 'initial = "1 + 0.01*noise"')))
    with pytest.raises(InputError):
        solve(model, t_end=0.001, seed=-1)
