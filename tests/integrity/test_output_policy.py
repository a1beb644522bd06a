"""Nothing overwrites a file crossdiff did not write: every command that writes a picture, a movie
or a model file follows the policy of ``run --out`` (crossdiff.output.claim_output)."""

from __future__ import annotations

import pytest

import crossdiff as cd
from crossdiff.errors import OutputError
from crossdiff.io import open_run
from crossdiff.output import MARK, written_by_crossdiff
from crossdiff.plot import plot_frame, save_figure


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ks.nc"
    cd.solve("keller-segel-logistic", cd.Grid((24,), ((0.0, 20.0),)), 0.5, save_every=0.25, output=out)
    return out


def _commands(run_file, target):
    return {
        "plot --out": ["plot", run_file, "--out", target.with_suffix(".png")],
        "plot --movie": ["plot", run_file, "--movie", target.with_suffix(".gif")],
        "stability --plot": [
            "stability",
            "keller-segel-logistic",
            "--grid",
            "32",
            "--plot",
            target.with_suffix(".png"),
        ],
        "derive --save-model": ["derive", "forager-scrounger-kinetic", "--save-model", target.with_suffix(".toml")],
    }


@pytest.mark.parametrize("command", ["plot --out", "plot --movie", "stability --plot", "derive --save-model"])
def test_a_writer_never_overwrites_a_file_it_did_not_write(cli, run_file, tmp_path, command):
    args = _commands(run_file, tmp_path / "mine")[command]
    target = args[-1]
    target.write_text("the user's own notes\n")
    res = cli(*args, "--overwrite")  # not even when asked to
    assert res.rc == 2 and "was not written by crossdiff; refusing to overwrite it" in res.err, res.err
    assert target.read_text() == "the user's own notes\n"


@pytest.mark.parametrize("command", ["plot --out", "plot --movie", "stability --plot", "derive --save-model"])
def test_a_file_crossdiff_wrote_is_replaced_only_with_overwrite(cli, run_file, tmp_path, command):
    args = _commands(run_file, tmp_path / "ours")[command]
    target = args[-1]
    assert cli(*args).rc == 0 and written_by_crossdiff(target)
    before = target.read_bytes()
    res = cli(*args)
    assert res.rc == 2 and "already exists; overwrite it with --overwrite" in res.err, res.err
    assert target.read_bytes() == before
    assert cli(*args, "--overwrite").rc == 0 and written_by_crossdiff(target)


def test_the_python_writers_follow_the_same_policy(run_file, tmp_path):
    model = cd.catalogue.load("keller-segel")
    own = tmp_path / "my-model.toml"
    own.write_text("# my model\n")
    with pytest.raises(OutputError, match="was not written by crossdiff"):
        cd.save_model(model, own, overwrite=True)
    path = cd.save_model(model, tmp_path / "ks.toml")
    assert path.read_text().startswith(f"# {MARK}\n") and cd.read_model_file(path).name == "keller-segel"
    with pytest.raises(OutputError, match="already exists"):
        cd.save_model(model, path)
    with open_run(run_file) as ds:
        picture = save_figure(plot_frame(ds), tmp_path / "frame.png")
    assert written_by_crossdiff(picture) and MARK.encode() in picture.read_bytes()[:4096]
    with pytest.raises(OutputError, match="it is a directory"):
        cd.save_model(model, tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        cd.save_model(model, tmp_path / "missing" / "m.toml")
