"""What a run did: decaying, growing, stationary or oscillating pattern, blow-up.

The criteria (documented in ``docs/sweeps.md``) look at one species ``u`` on the saved frames
``t_0 < ... < t_N = T``:

* **amplitude** of the pattern: the L2 deviation from the spatial mean, normalised by the
  domain size so that it does not depend on the grid,

  .. math:: A(t) = \\Big(\\frac{1}{|\\Omega|}\\int_\\Omega (u - \\bar u)^2\\,dx\\Big)^{1/2},
     \\qquad \\bar u = \\frac{1}{|\\Omega|}\\int_\\Omega u\\,dx,

  and its relative size ``a(t) = A(t)/s`` with ``s = max(|ū(T)|, max_t A(t))``.
* **dominant wavelength**: of the mode with most power in the final deviation ``u − ū``,
  expanded in the eigenfunctions of the Laplacian on the domain — cosines ``cos(π m x/L)`` on
  no-flux axes, Fourier modes ``exp(2π i m x/L)`` on periodic ones (the transforms of
  :class:`crossdiff.fv.SpectralLaplacian`); wavenumber ``|k|``, wavelength ``2π/|k|`` (the
  admissible modes of a bounded domain: docs/references.md [Mur03]; the DCT-II: [Str99]).
* a run the monitor stopped is ``blow-up`` (status blow-up) or ``failed`` (any other failure);
* else ``decaying`` when ``a(T) < flat`` (default 1e-4: the deviation has fallen to a ten-thousandth
  of the mean, far below the 1 % noise the catalogue starts from);
* else, over the last ``window`` (default a quarter) of the run, at least three frames, with the
  pattern's shape ``p = (u − ū)/A`` (RMS norm 1), its **shape change** ``max_t ‖p(t) − p(T)‖``
  (RMS norm, between 0 and 2) and **amplitude change** ``(max A − min A)/A(T)``, in this order:

  - amplitude falling throughout the window and below the initial ``A(t_0)``: ``decaying``;
  - amplitude rising throughout and at least doubled over the window: ``growing`` (an
    instability that had not saturated by ``T``: run longer to see what it becomes);
  - shape change > ``shape_tol`` (0.1), unless the shape is **settling** (its frame-to-frame
    change ``‖p(t_j) − p(t_{j-1})‖`` shrinks at every frame, to half or less over the window):
    ``oscillating`` (the pattern moves, oscillates, merges and re-emerges);
  - amplitude change ≤ ``amplitude_tol`` (0.05): ``stationary``;
  - amplitude rising throughout: ``growing``; falling throughout: ``stationary`` (a pattern
    settling after an overshoot, above the initial amplitude);
  - amplitude going up and down: ``oscillating`` (e.g. a breathing pattern).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InputError
from ..grid import Grid
from ..time import Status

__all__ = ["Classification", "BEHAVIOURS", "classify", "classify_frames", "pattern_amplitude", "dominant_mode"]

#: The behaviours a run is classified as, with their meaning (the report's legend).
BEHAVIOURS: dict[str, str] = {
    "decaying": "perturbations decay: the homogeneous state is stable",
    "growing": "a pattern is still growing at the end time (not saturated)",
    "stationary": "a stationary pattern",
    "oscillating": "a pattern whose shape or amplitude keeps changing (oscillating, travelling, merging)",
    "blow-up": "the monitor stopped the run: blow-up (mass concentrating beyond the grid)",
    "failed": "the run failed numerically (non-finite values, step-size collapse, ...)",
    "error": "the run could not start (bad parameters or settings)",
}


@dataclass(frozen=True)
class Classification:
    """The behaviour of one run and the numbers it was decided from.

    Attributes
    ----------
    behaviour : str
        A key of :data:`BEHAVIOURS`.
    species : str
        The species looked at.
    amplitude : float
        ``A(T)``, the RMS deviation from the spatial mean at the last frame (density units).
    relative_amplitude : float
        ``a(T) = A(T)/s`` (see the module docstring).
    wavelength, wavenumber : float
        Of the dominant mode of the last frame (NaN when decaying or flat).
    mode : tuple of int
        Its mode numbers per axis (``m`` of ``cos(π m x/L)`` or ``exp(2π i m x/L)``).
    shape_change, amplitude_change : float
        Over the final window (NaN when not computed).
    status : str
        The run's status label (``success``, ``blow-up``, ...).
    """

    behaviour: str
    species: str
    amplitude: float
    relative_amplitude: float
    wavelength: float
    wavenumber: float
    mode: tuple[int, ...]
    shape_change: float
    amplitude_change: float
    status: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (``mode`` as a list)."""
        out = asdict(self)
        out["mode"] = list(self.mode)
        return out


def pattern_amplitude(fields: np.ndarray, ndim: int) -> np.ndarray:
    """``A`` of the module docstring for each leading index of ``fields`` (space: the last ``ndim`` axes)."""
    axes = tuple(range(fields.ndim - ndim, fields.ndim))
    dev = fields - fields.mean(axis=axes, keepdims=True)
    return np.asarray(np.sqrt(np.mean(dev**2, axis=axes)))


def dominant_mode(field: np.ndarray, grid: Grid) -> tuple[float, tuple[int, ...]]:
    """Wavenumber ``|k|`` and mode numbers of the strongest non-constant mode of ``field``.

    The power spectrum is that of the transform diagonalising the finite-volume Laplacian
    (DCT-II on no-flux axes, DFT on periodic ones, :class:`crossdiff.fv.SpectralLaplacian`);
    ``k_a = π m_a/L_a`` on a no-flux axis, ``2π m_a/L_a`` on a periodic one. Returns ``(nan, ())``
    for a constant field.
    """
    from ..fv import SpectralLaplacian  # SciPy's transforms, imported when a spectrum is taken

    spectrum = np.abs(SpectralLaplacian(grid).forward(np.asarray(field, dtype=float) - np.mean(field))) ** 2
    spectrum.flat[0] = 0.0  # the mean
    if not np.any(spectrum > 0):
        return math.nan, ()
    index = np.unravel_index(int(np.argmax(spectrum)), spectrum.shape)
    modes, k2 = [], 0.0
    for a, i in enumerate(index):
        n, length = grid.cells[a], grid.extent[a][1] - grid.extent[a][0]
        if grid.periodic[a]:
            m = int(np.fft.fftfreq(n, 1.0 / n)[i])
            k = 2 * math.pi * m / length
        else:
            m = int(i)
            k = math.pi * m / length
        modes.append(m)
        k2 += k * k
    return math.sqrt(k2), tuple(modes)


def classify_frames(
    t: np.ndarray,
    fields: np.ndarray,
    grid: Grid,
    *,
    status: Status = Status.SUCCESS,
    species: str = "u",
    flat: float = 1e-4,
    window: float = 0.25,
    shape_tol: float = 0.1,
    amplitude_tol: float = 0.05,
) -> Classification:
    """Classify the frames ``fields`` (shape ``(len(t), *grid.shape)``) of one species.

    The criteria and defaults are those of the module docstring.

    Raises
    ------
    InputError
        Fewer than three frames of a successful run, shapes that do not match, or non-finite
        frames of a successful run.
    """
    t = np.asarray(t, dtype=float)
    fields = np.asarray(fields, dtype=float)
    if fields.ndim != grid.ndim + 1 or fields.shape[1:] != grid.shape or len(t) != len(fields):
        raise InputError(f"frames of shape {fields.shape} do not match {len(t)} times on a {grid.shape} grid")
    if len(t) == 0:
        raise InputError("no frames to classify")
    finite = np.all(np.isfinite(fields.reshape(len(t), -1)), axis=1)
    if status.success and not np.all(finite):
        raise InputError("the frames of a successful run are not finite")
    if not np.all(finite):  # a failed run: look at the frames before the failure
        keep = int(np.argmin(finite)) if not finite[0] or not np.all(finite) else len(t)
        t, fields = t[:keep], fields[:keep]
    if len(t) == 0:
        return Classification(
            "failed" if status is not Status.BLOWUP else "blow-up",
            species,
            *(math.nan,) * 4,
            (),
            math.nan,
            math.nan,
            status.label,
        )
    amp = pattern_amplitude(fields, grid.ndim)
    mean_T = float(np.mean(fields[-1]))
    scale = max(abs(mean_T), float(np.max(amp)))
    rel = amp / scale if scale > 0 else np.zeros_like(amp)
    k, mode = dominant_mode(fields[-1], grid) if amp[-1] > 0 else (math.nan, ())
    shape_change = amplitude_change = math.nan
    if not status.success:
        behaviour = "blow-up" if status is Status.BLOWUP else "failed"
    elif len(t) < 3:
        raise InputError(f"classifying a run needs at least 3 saved frames, got {len(t)}")
    elif rel[-1] < flat:
        behaviour = "decaying"
    else:
        start = t[-1] - window * (t[-1] - t[0])
        first = min(int(np.searchsorted(t, start)), len(t) - 3)
        A = amp[first:]
        with np.errstate(invalid="ignore", divide="ignore"):
            shapes = (
                fields[first:] - fields[first:].mean(axis=tuple(range(1, fields.ndim)), keepdims=True)
            ) / A.reshape((-1,) + (1,) * grid.ndim)
        space = tuple(range(1, fields.ndim))
        to_last = np.sqrt(np.mean((shapes - shapes[-1]) ** 2, axis=space))
        successive = np.sqrt(np.mean(np.diff(shapes, axis=0) ** 2, axis=space))
        shape_change = float(np.nanmax(to_last)) if np.all(A > 0) else 2.0
        amplitude_change = float((np.max(A) - np.min(A)) / A[-1])
        rising, falling = bool(np.all(np.diff(A) >= 0)), bool(np.all(np.diff(A) <= 0))
        # the shape converges when its frame-to-frame change shrinks steadily (spikes settling)
        settling = bool(np.all(np.diff(successive) <= 1e-3 * successive[0]) and successive[-1] <= 0.5 * successive[0])
        if falling and A[-1] < amp[0]:
            behaviour = "decaying"
        elif rising and A[-1] >= 2 * A[0]:
            behaviour = "growing"
        elif shape_change > shape_tol and not settling:
            behaviour = "oscillating"
        elif amplitude_change <= amplitude_tol:
            behaviour = "stationary"
        elif rising:
            behaviour = "growing"
        elif falling:
            behaviour = "stationary"
        else:
            behaviour = "oscillating"
    wavelength = 2 * math.pi / k if behaviour != "decaying" and k > 0 else math.nan
    return Classification(
        behaviour,
        species,
        float(amp[-1]),
        float(rel[-1]),
        wavelength,
        k if behaviour != "decaying" else math.nan,
        mode if behaviour != "decaying" else (),
        shape_change,
        amplitude_change,
        status.label,
    )


def classify(solution, species: str | None = None, **criteria: float) -> Classification:
    """Classify a :class:`crossdiff.Solution` by the frames of ``species`` (default the first).

    ``criteria`` are the keyword options of :func:`classify_frames` (``flat``, ``window``,
    ``shape_tol``, ``amplitude_tol``).

    Examples
    --------
    >>> import crossdiff as cd
    >>> from crossdiff.analysis import classify
    >>> model = cd.catalogue.load("may-nowak-taxis").with_settings({"chi": 8})
    >>> sol = cd.solve(model, cd.default_grid(model, (80,)), t_end=40)
    >>> classify(sol).behaviour
    'stationary'
    """
    if not hasattr(solution, "layout") or not hasattr(solution, "t"):
        raise InputError(f"classify needs a crossdiff Solution, got {type(solution).__name__}")
    names = solution.layout.field_names
    name = species or names[0]
    frames = solution[name]
    return classify_frames(solution.t, frames, solution.grid, status=solution.status, species=name, **criteria)
