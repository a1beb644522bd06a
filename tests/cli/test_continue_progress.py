"""``crossdiff continue`` takes the progress options of every long command."""

from __future__ import annotations

from crossdiff.cli import main


def test_continue_quiet_and_no_progress(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["continue", "keller-segel-logistic", "--param", "chi", "--range", "2,5", "--grid", "30"]
    assert main([*base, "--out", "a.nc", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == "" and (tmp_path / "a.nc").is_file()
    assert main([*base, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Diagram('keller-segel-logistic' in chi") and err == ""
