"""``Run``: the one description of a simulation, whatever its scale and domain.

A :class:`Run` holds everything that decides what a simulation computes and where it writes:
the model, the domain, the scale's options (ε, velocities, whether distributions are saved),
the stepper with its settings, the limiter, the save interval, the end time, the initial data
and seed, and the output policy. It is built from arguments (``Run(model, …)``: the model's
defaults are filled in here and nowhere else), read back from a run file
(:meth:`Run.from_file`: everything the file records), and changed with :meth:`Run.replace`
(which validates like the constructor). The command line only parses into a ``Run``;
:func:`crossdiff.solve` runs one.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalogue import resolve_any
from ..errors import InputError, OutputError
from ..fv import DEFAULT_LIMITER, LIMITERS
from ..grid import DOMAINS, Domain, Grid, default_domain, domain_kind
from ..io import is_run, last_frame, run_attributes
from ..time import Stepper, stepper_from_name
from ..validation import non_negative_integer, positive_number
from ._scales import Scale, scale_of

if TYPE_CHECKING:  # the kinetic layer is imported by kinetic runs only
    from ..kinetic import KineticModel
    from ..model import Model

__all__ = ["Run", "KineticOptions", "OUTPUT_MODES"]

#: What a run does with its output file: write a new one (refusing to replace any file),
#: replace a crossdiff run, or continue the run it holds.
OUTPUT_MODES = ("new", "overwrite", "resume")


@dataclass(frozen=True)
class KineticOptions:
    """The options of a kinetic run (docs/kinetic.md).

    Parameters
    ----------
    eps : float
        The scaling parameter ε in (0, 1].
    velocities : int, optional
        Velocity directions on the circle (2D) or polar nodes on the sphere (3D); default the
        discretisation's (:class:`~crossdiff.kinetic.KineticDiscretisation`).
    save_f : bool
        Keep and write the distributions ``f_<species>(v, x, …)``.
    """

    eps: float
    velocities: int | None = None
    save_f: bool = False

    def __post_init__(self) -> None:
        from ..kinetic import check_eps

        object.__setattr__(self, "eps", check_eps(self.eps))
        v = self.velocities
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2):
            raise InputError(f"velocities must be an integer >= 2, got {v!r}")
        if v is not None:
            object.__setattr__(self, "velocities", int(v))
        if not isinstance(self.save_f, (bool, np.bool_)):
            raise InputError(f"save_f must be True or False, got {self.save_f!r}")
        object.__setattr__(self, "save_f", bool(self.save_f))


@dataclass(frozen=True, init=False, eq=False)
class Run:
    """One simulation: what to solve, on which domain, how, and where to write it.

    Parameters
    ----------
    model : Model, KineticModel or str
        The model, or a catalogue name or model file of either scale.
    domain : Grid, optional
        Default: the model's default domain (its domain kind's ``default``,
        :func:`crossdiff.grid.default_grid` for a box). A kinetic model on a velocity sphere
        follows the domain's dimension (:meth:`~crossdiff.kinetic.KineticModel.in_dimension`).
    t_end : float, optional
        End time; default the model's.
    stepper : Stepper or str, optional
        A stepper or a registered name (:data:`~crossdiff.time.STEPPERS`); default the scale's
        (:class:`~crossdiff.time.IMEX` for macroscopic models, :class:`~crossdiff.time.GSAIMEX`
        for kinetic ones).
    save_every : float, optional
        Interval between saved frames; default the model's, else ``t_end / 20``.
    limiter : str, optional
        Slope limiter of the upwind fluxes; default :data:`crossdiff.fv.DEFAULT_LIMITER`.
    seed : int, optional
        Seed of ``noise`` in the initial data; default the model's.
    initial : mapping or ndarray, optional
        Initial data per species (arrays, numbers or expressions; kinetic models also
        distributions ``f_<species>``) replacing the model's, or the whole state as an array
        ``(n_species, *domain.shape)``.
    kinetic : KineticOptions, optional
        Kinetic models only; or give ``eps``, ``velocities``, ``save_f`` directly.
    output : path-like, optional
        NetCDF file written frame by frame.
    mode : {"new", "overwrite", "resume"}
        ``"new"`` never replaces a file; ``"overwrite"`` replaces a crossdiff run; ``"resume"``
        continues the run in ``output`` (:meth:`from_file` builds such a run).
    keep_frames : bool, optional
        Keep the frames in memory (default: only when there is no output file).

    Raises
    ------
    InputError
        One line naming the bad argument (:class:`~crossdiff.errors.ModelError`,
        :class:`~crossdiff.errors.GridError` and the like are subclasses).

    Examples
    --------
    >>> import crossdiff as cd
    >>> run = cd.Run("keller-segel-logistic", cd.Grid((32, 32), ((0, 20), (0, 20))), t_end=1.0)
    >>> run.scale, run.save_every, run.limiter
    ('macro', 1.0, 'mc')
    >>> run.replace(t_end=2.0).t_end
    2.0
    """

    model: Model | KineticModel
    domain: Domain
    t_end: float
    stepper: Stepper
    save_every: float
    limiter: str
    seed: int
    initial: Mapping[str, object] | np.ndarray | None
    kinetic: KineticOptions | None
    output: Path | None
    mode: str
    keep_frames: bool | None
    _scale: Scale = field(repr=False)

    def __init__(
        self,
        model: Model | KineticModel | str,
        domain: Domain | None = None,
        t_end: float | None = None,
        *,
        stepper: Stepper | str | None = None,
        save_every: float | None = None,
        limiter: str | None = None,
        seed: int | None = None,
        initial: Mapping[str, object] | np.ndarray | None = None,
        kinetic: KineticOptions | None = None,
        eps: float | None = None,
        velocities: int | None = None,
        save_f: bool | None = None,
        output: str | Path | None = None,
        mode: str = "new",
        keep_frames: bool | None = None,
        _scale: Scale | None = None,
    ):
        if isinstance(model, (str, Path)):
            model = resolve_any(str(model))
        scale = scale_of(model)
        if domain is None:
            domain = default_domain(model)
        kind = domain_kind(domain)  # a registered kind, or one line naming what was given
        if kind.name not in scale.systems:
            on = ", ".join(scale.systems)
            raise InputError(f"{scale.name} models do not run on a {kind.name} domain (they run on: {on})")
        resolved: Model | KineticModel = scale.on_domain(model, domain)
        kinetic = _kinetic_options(scale, resolved, kinetic, eps, velocities, save_f)
        scale.check_options(resolved, kinetic)
        defaults = resolved.defaults
        assert defaults is not None  # every model has them (ModelBase subclasses fill them)
        t_end = positive_number(defaults.t_end if t_end is None else t_end, "end time")
        if kind.check is not None:
            kind.check(domain, t_end)
        every = save_every if save_every is not None else (defaults.save_every or t_end / 20)
        stepper = _stepper(stepper, scale)
        limiter = DEFAULT_LIMITER if limiter is None else limiter
        LIMITERS.entry(limiter)  # one line listing the limiters
        if mode not in OUTPUT_MODES:
            raise InputError(f"output mode must be one of {', '.join(OUTPUT_MODES)}, got {mode!r}")
        path = _output_path(output, mode)
        if initial is not None and not isinstance(initial, np.ndarray):
            if not isinstance(initial, Mapping):
                raise InputError(f"initial must be a mapping of species to data or an array, got {initial!r}")
            for key in initial:  # a species of the model (kinetic: or its distribution f_<species>)
                resolved.index(key[2:] if scale.kinetic and str(key).startswith("f_") else key)
            initial = MappingProxyType(dict(initial))
        del _scale  # dataclasses.replace passes it back; the scale follows the model
        values = {
            "model": resolved,
            "domain": domain,
            "t_end": t_end,
            "stepper": stepper,
            "save_every": positive_number(every, "save interval"),
            "limiter": limiter,
            "seed": non_negative_integer(defaults.seed if seed is None else seed, "seed"),
            "initial": initial,
            "kinetic": kinetic,
            "output": path,
            "mode": mode,
            "keep_frames": None if keep_frames is None else bool(keep_frames),
            "_scale": scale,
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def scale(self) -> str:
        """The name of the run's scale (:data:`~crossdiff.solve.SCALES`): ``"macro"``,
        ``"flow"`` (a computed flow) or ``"kinetic"``."""
        return self._scale.name

    def sizes(self) -> tuple[int, int]:
        """Numbers of float64 in the run's state and in one saved frame, known before anything
        is built (:meth:`Scale.sizes`): what memory and disk estimates start from."""
        return self._scale.sizes(self)

    @property
    def resume(self) -> bool:
        """Whether the run continues the one in :attr:`output`."""
        return self.mode == "resume"

    def replace(self, **changes: Any) -> Run:
        """A copy with some fields changed, validated like a new run (unknown names refused)."""
        known = {f.name for f in fields(self) if not f.name.startswith("_")} | {"eps", "velocities", "save_f"}
        for key in changes:
            if key not in known:
                raise InputError(f"a Run has no setting {key!r}; settings: {', '.join(sorted(known))}")
        loose = [k for k in ("eps", "velocities", "save_f") if k in changes]
        if loose and self.kinetic is None:
            raise InputError(f"{loose[0]} applies to kinetic models only; {self.model.name!r} is macroscopic")
        if loose:
            base = self.kinetic or KineticOptions(changes.get("eps", 1.0))
            kinetic_changes = {k: changes.pop(k) for k in ("eps", "velocities", "save_f") if k in changes}
            changes["kinetic"] = replace(base, **kinetic_changes)
        return replace(self, **changes)

    def attributes(self, stepper: Stepper | None = None) -> dict[str, object]:
        """What a run file records of this run besides the system's layout (model, domain):
        the settings that :meth:`from_file` reads back. ``stepper``: the run's stepper as bound
        to its system (its resolved tolerances are what ran), default the run's."""
        settings = (stepper or self.stepper).settings()
        attrs: dict[str, object] = {
            "scale": self.scale,
            "domain": domain_kind(self.domain).name,
            "t_end": self.t_end,
            "save_every": self.save_every,
            "limiter": self.limiter,
            "seed": self.seed,
            "stepper_name": settings[0] if settings else "",
            "stepper_options": json.dumps(settings[1] if settings else {}),
        }
        if isinstance(self.initial, Mapping) and self.initial:
            attrs["initial"] = json.dumps({k: _describe_initial(v) for k, v in self.initial.items()})
        elif isinstance(self.initial, np.ndarray):
            attrs["initial"] = json.dumps("an array given in Python")
        return attrs

    @classmethod
    def from_file(cls, path: str | Path, model: Model | KineticModel | None = None) -> Run:
        """The run stored in the run file ``path``, set to continue it (``mode="resume"``):
        model (parameters and definitions), domain, scale options, stepper and its settings,
        limiter, save interval, end time and seed, as the file records them.

        Raises
        ------
        OutputError
            If the file is missing, unreadable, not a crossdiff run, or lacks what rebuilds the
            run (the message says what). ``model`` serves only for a kinetic run file written
            before run files held their kinetic model.
        """
        path = Path(path)
        if not path.is_file():
            raise OutputError(f"cannot resume: run file {str(path)!r} not found")
        attrs = run_attributes(path)  # "cannot read run file …" if it is no NetCDF file
        where = f"run file {str(path)!r}"
        if "crossdiff_version" not in attrs or not is_run(path):
            raise OutputError(f"cannot resume: {where} is not a crossdiff run")
        scale = _recorded_scale(attrs)
        recorded = scale.model_from_attributes(attrs, where, model)
        try:
            domain = DOMAINS[str(attrs.get("domain", "box"))].from_attributes(attrs)
        except InputError as err:
            raise OutputError(f"{where}: cannot rebuild its domain ({err})") from None
        t_end = attrs.get("t_end")
        return cls(
            recorded,
            domain,
            float(np.asarray(t_end)) if t_end is not None else last_frame(path)[0],
            stepper=_recorded_stepper(attrs, where),
            save_every=_number(attrs.get("save_every")),
            limiter=str(attrs.get("limiter", DEFAULT_LIMITER)),
            seed=int(np.asarray(attrs["seed"])) if "seed" in attrs else None,
            kinetic=scale.options_from_attributes(attrs, path),
            output=path,
            mode="resume",
        )

    def agree(self, flags: Mapping[str, str] | None = None, **given: Any) -> Run:
        """This run (read from a file) with the settings given to continue it: each must equal
        what the file records, except ``t_end`` (a new end time) and the in-memory
        ``keep_frames``; ``None`` means not given.

        Parameters
        ----------
        flags : mapping, optional
            How the caller spelled each setting (``{"domain": "--grid 16x16"}``), for messages.
        **given
            Settings of :class:`Run` (and ``eps``, ``velocities``, ``save_f``).

        Raises
        ------
        OutputError
            Naming the file's value and the one given, for the first that differs; a seed or
            initial data (they do not apply when continuing a run).
        """
        where = f"cannot resume {str(self.output)!r}: it"
        labels = dict(flags or {})
        changes: dict[str, Any] = {}
        for key, value in given.items():
            if value is None or (key == "save_f" and value is False):
                continue
            if key in ("t_end", "keep_frames"):
                changes[key] = value
            elif key in ("seed", "initial"):
                raise OutputError(f"cannot resume {str(self.output)!r}: {key} does not apply when continuing a run")
            elif key == "model":
                model = resolve_any(value) if isinstance(value, str) else value
                self._scale.check_same_model(self.model, self._scale.on_domain(model, self.domain), where, labels)
            elif key == "stepper":
                _check_same_stepper(self.stepper, value, where)
            else:
                _check_same(key, self._value(key), value, where, labels.get(key))
        return self.replace(**changes) if changes else self

    def _value(self, key: str) -> object:
        if key in ("eps", "velocities", "save_f"):
            return getattr(self.kinetic, key) if self.kinetic is not None else None
        if key not in {f.name for f in fields(self)}:
            raise InputError(f"a Run has no setting {key!r}")
        return getattr(self, key)

    def describe(self) -> str:
        """One line: model, scale, domain, end time and stepper."""
        eps = f", eps={self.kinetic.eps:g}" if self.kinetic is not None else ""
        return (
            f"{self.model.name} ({self.scale}{eps}) on {self.domain.describe()} to t = {self.t_end:g}, "
            f"{self.stepper.describe()}"
        )

    def __repr__(self) -> str:
        return f"Run({self.describe()})"

    def _repr_html_(self) -> str:
        """Notebook display: the run's settings."""
        from html import escape

        items = {
            "model": f"{self.model.name} ({self.scale})",
            "domain": self.domain.describe(),
            "end time": f"{self.t_end:g}, frames every {self.save_every:g}",
            "stepper": self.stepper.describe(),
            "limiter": self.limiter,
            "seed": str(self.seed),
            "output": f"{self.output} ({self.mode})" if self.output else "in memory",
        }
        if self.kinetic is not None:
            items["kinetic"] = f"eps = {self.kinetic.eps:g}, velocities {self.kinetic.velocities or 'default'}"
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in items.items())
        return f"<div><b>Run</b><table>{rows}</table></div>"


def _kinetic_options(
    scale: Scale,
    model: object,
    options: KineticOptions | None,
    eps: float | None,
    velocities: int | None,
    save_f: bool | None,
) -> KineticOptions | None:
    """The kinetic options from ``kinetic=`` or the separate keywords (not both); refused for a
    macroscopic model, required (ε) for a kinetic one."""
    loose = {"eps": eps, "velocities": velocities, "save_f": save_f or None}
    given = {k: v for k, v in loose.items() if v is not None}
    name = getattr(model, "name", "this model")
    if not scale.kinetic:
        for key in ("kinetic", *given):
            if key in given or (key == "kinetic" and options is not None):
                raise InputError(f"{key} applies to kinetic models only; {name!r} is macroscopic")
        return None
    if options is not None and given:
        raise InputError(f"give kinetic=KineticOptions(...) or {', '.join(given)}, not both")
    if options is not None:
        if not isinstance(options, KineticOptions):
            raise InputError(f"kinetic must be a KineticOptions, got {type(options).__name__}")
        return options
    if eps is None:
        raise InputError(f"kinetic model {name!r} needs eps (ε in (0, 1]), e.g. eps=0.01")
    return KineticOptions(eps, velocities, bool(save_f))


def _stepper(stepper: Stepper | str | None, scale: Scale) -> Stepper:
    """A registered name, a Stepper, or the scale's default, checked by the scale."""
    if isinstance(stepper, str):
        stepper = stepper_from_name(stepper)
    elif stepper is None:
        stepper = scale.default_stepper()
    if not isinstance(stepper, Stepper):
        raise InputError(f"stepper must be a crossdiff Stepper or its name, got {type(stepper).__name__}")
    scale.check_stepper(stepper)
    return stepper


def _output_path(output: object, mode: str) -> Path | None:
    if output is None:
        if mode == "resume":
            raise InputError("resume needs the output file of the run to continue")
        return None
    if not isinstance(output, (str, Path)) or not str(output):
        raise InputError(f"output must be a file path, got {output!r}")
    return Path(output)


def _describe_initial(value: object) -> object:
    """An initial-data override as a run file records it (expressions and numbers as given)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    return "an array given in Python"


def _number(value: object) -> float | None:
    return None if value is None else float(np.asarray(value))


def _recorded_scale(attrs: Mapping[str, object]) -> Scale:
    from ._scales import SCALES

    name = str(attrs.get("scale", "") or ("flow" if attrs.get("flow") else "macro"))
    return SCALES[name]


def _recorded_stepper(attrs: Mapping[str, object], where: str) -> Stepper | None:
    """The stepper the file records (its name and options), or None when it has none."""
    name = str(attrs.get("stepper_name", "") or "")
    if not name:
        return None
    try:
        return stepper_from_name(name, **json.loads(str(attrs.get("stepper_options", "{}"))))
    except (ValueError, TypeError, InputError) as err:
        raise OutputError(f"{where}: cannot rebuild its stepper {name!r} ({err})") from None


def _same_value(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return a == b


def _show(value: object) -> str:
    if isinstance(value, Grid):
        return value.describe()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _check_same(key: str, have: object, want: object, where: str, label: str | None) -> None:
    if key == "eps":
        from ..kinetic import check_eps

        want = check_eps(want)
    if isinstance(have, Grid) and isinstance(want, Grid):
        if have == want:
            return
        cells = "x".join(map(str, have.cells))
        if have.cells != want.cells:
            raise OutputError(
                f"{where} has grid {cells}; {label or 'grid ' + 'x'.join(map(str, want.cells))} contradicts it"
            )
        raise OutputError(f"{where} has the domain {have.describe()}; {label or want.describe()} contradicts it")
    if not _same_value(have, want):
        raise OutputError(
            f"{where} was run with {key} = {_show(have)}; {label or f'{key} = {_show(want)}'} contradicts it"
        )


def _check_same_stepper(have: Stepper, want: Stepper | str, where: str) -> None:
    """A stepper given to continue a run agrees with the file's when it has the same name and
    every option it sets has the file's value (options left to their defaults agree)."""
    given = stepper_from_name(want) if isinstance(want, str) else want
    mine, theirs = have.settings(), given.settings() if isinstance(given, Stepper) else None
    if mine is None or theirs is None:
        if mine is None and theirs is None:
            return
        raise OutputError(f"{where} was run with {have.describe()}; the stepper options given contradict it")
    if mine[0] != theirs[0] or any(
        value is not None and not _same_value(mine[1].get(key), value) for key, value in theirs[1].items()
    ):
        raise OutputError(
            f"{where} was run with {have.describe()}; the stepper options given contradict it ({given.describe()})"
        )


def model_from_toml(text: object, where: str, reader: Any) -> Any:
    """A model from the TOML text a run file stores, read by ``reader`` (``model_from_dict``
    or ``kinetic_from_dict``)."""
    try:
        return reader(tomllib.loads(str(text)))
    except (tomllib.TOMLDecodeError, InputError) as err:
        raise OutputError(f"{where}: cannot rebuild its model ({err})") from None
