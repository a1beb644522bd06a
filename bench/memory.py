"""Peak memory of a 4-species 512^2 crossdiff run (issue 3 target: under 300 MB).

    .venv/bin/python bench/memory.py [--model oncolytic-virus] [--grid 512x512] [--t-end 1]

Runs ``crossdiff run MODEL --grid 512x512 --t-end T --out TMP.nc --json`` (the command a user
types: NetCDF output written frame by frame, frames not kept in memory) in a fresh process and
reads that process's peak resident set size from ``os.wait4`` (``ru_maxrss``). For comparison it
also runs the Python API with frames kept in memory (``cd.solve(..., save_every=t_end/4)``).
The state itself is 4 × 512² × 8 B = 8.4 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def peak_of(cmd: list[str]) -> tuple[float, int, str, str]:
    """(wall seconds, exit code, stdout, stderr) of ``cmd`` run as a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    # communicate() already reaped the child; RUSAGE_CHILDREN holds the max over reaped children,
    # so each measurement is taken by a fresh wrapper process (see main)
    return wall, proc.returncode, out, err


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="oncolytic-virus")
    ap.add_argument("--grid", default="512x512")
    ap.add_argument("--t-end", type=float, default=1.0)
    ap.add_argument("--child", choices=["cli", "api"], help=argparse.SUPPRESS)
    ap.add_argument("--json")
    a = ap.parse_args(argv)

    if a.child:  # measure one child of this wrapper process and print its peak
        import resource

        if a.child == "cli":
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [
                    str(BIN / "crossdiff"),
                    "run",
                    a.model,
                    "--grid",
                    a.grid,
                    "--t-end",
                    repr(a.t_end),
                    "--out",
                    str(Path(tmp) / "run.nc"),
                    "--json",
                ]
                wall, rc, out, err = peak_of(cmd)
        else:
            n = [int(v) for v in a.grid.split("x")]
            code = (
                "import crossdiff as cd; m = cd.catalogue.load(%r); g = cd.default_grid(m, %r); "
                "s = cd.solve(m, g, t_end=%r, save_every=%r); "
                "print('{\"steps\": %%d}' %% s.stats.n_steps)" % (a.model, tuple(n), a.t_end, a.t_end / 4)
            )
            wall, rc, out, err = peak_of([sys.executable, "-c", code])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        steps = None
        if rc == 0:
            try:
                steps = json.loads(out.strip().splitlines()[-1] if a.child == "api" else out).get("steps")
            except (ValueError, IndexError):
                pass
        print(json.dumps({"peak_rss_mb": peak, "wall_s": wall, "rc": rc, "steps": steps, "stderr": err[-500:]}))
        return 0

    results = {}
    for child in ("cli", "api"):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                child,
                "--model",
                a.model,
                "--grid",
                a.grid,
                "--t-end",
                repr(a.t_end),
            ],
            capture_output=True,
            text=True,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results[child] = r
        what = "CLI (NetCDF output, frames on disk)" if child == "cli" else "API (cd.solve, 5 frames kept in memory)"
        status = "ok" if r["rc"] == 0 else f"FAILED rc={r['rc']}: {r['stderr']}"
        print(
            f"{a.model} {a.grid} t_end={a.t_end:g}, {what}: peak RSS {r['peak_rss_mb']:.0f} MB, "
            f"{r['wall_s']:.1f} s, {r['steps']} steps [{status}]  target < 300 MB: "
            f"{'met' if r['peak_rss_mb'] < 300 else 'NOT met'}"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
