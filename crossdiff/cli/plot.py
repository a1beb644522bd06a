"""``crossdiff plot RUN.nc``: pictures and movies of a run."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..validation import finite_number
from ._common import argument, positive_float, positive_int


def run(args) -> int:
    from ..io import open_run
    from ..output import claim_output
    from ..plot import plot_compare, plot_frame, plot_spacetime, save_figure, save_movie

    if args.spacetime and args.compare:
        raise InputError("--spacetime and --compare draw different pictures: give one of them")
    out = Path(args.out) if args.out else (Path(args.run).with_suffix(".png") if not args.movie else None)
    for path, what in ((out, "picture"), (args.movie, "movie")):  # before any work: nothing is lost
        if path is not None:
            claim_output(path, overwrite=args.overwrite, what=what)
    ds = open_run(args.run)
    if ds.sizes.get("time", 0) == 0:
        raise InputError(f"run file {args.run!r} has no frames")
    species = args.species.split(",") if args.species else None
    written = []
    if out is not None:
        times = ds["time"].values
        if args.compare:
            other = open_run(args.compare)
            index = -1 if args.time is None else int(abs(times - args.time).argmin())
            fig = plot_compare(ds, other, index, species)
            other.close()
        elif args.spacetime:
            fig = plot_spacetime(ds, species)
        else:
            index = -1 if args.time is None else int(abs(times - args.time).argmin())
            fig = plot_frame(ds, index, species, streamlines=args.streamlines)
        written.append(save_figure(fig, out, overwrite=args.overwrite))
    if args.movie:
        movie = save_movie(
            ds,
            args.movie,
            species,
            fps=args.fps,
            streamlines=args.streamlines,
            overwrite=args.overwrite,
            duration=args.duration,
        )
        written.append(movie)
    ds.close()
    for path in written:
        print(f"wrote {path}")
    return 0


_finite_float = argument(finite_number, "a finite number")


def register(sub) -> None:
    p = sub.add_parser("plot", help="plot a run: last frame (PNG), space-time image (1D) or movie (GIF/MP4)")
    p.add_argument("run", help="NetCDF file written by crossdiff run")
    p.add_argument("--out", help="picture file (default RUN.png)")
    p.add_argument("--movie", help="also write all frames as a movie (.gif or .mp4)")
    p.add_argument("--time", type=_finite_float, help="plot the frame nearest this time (default: last)")
    p.add_argument("--species", help="comma-separated species to plot (default: all)")
    p.add_argument("--spacetime", action="store_true", help="1D runs: space-time images instead of lines")
    p.add_argument("--compare", metavar="RUN2.nc", help="draw a second run beside it (e.g. the macroscopic limit)")
    p.add_argument(
        "--streamlines",
        action="store_true",
        help="2D runs with a computed flow: draw its streamlines over the densities",
    )
    p.add_argument(
        "--fps", type=positive_int, help="movie frames per second (default: 6 s of movie, 2 to 12 per second)"
    )
    p.add_argument("--duration", type=positive_float, help="seconds the movie plays (instead of --fps)")
    p.add_argument("--overwrite", action="store_true", help="replace pictures and movies crossdiff wrote before")
    p.set_defaults(func=run)
