"""Lazy public names of a package (PEP 562): a name is imported from its module when first used.

``import crossdiff`` and the command line's ``--help`` must not pay for SymPy, Numba, SciPy,
xarray or Dask before they are needed (docs/architecture.md, "Start-up"). A package lists its
public names by module; :func:`attach` gives the module-level ``__getattr__`` and ``__dir__``
that import a module on first use of one of its names and keep the name in the package's
namespace (later uses are plain attribute look-ups). The package also imports the same names in
an ``if TYPE_CHECKING:`` block, so that type checkers and editors see them;
``tests/test_startup.py`` checks that both lists agree with ``__all__``.

This is the pattern of the ``lazy_loader`` package that SciPy and scikit-image use,
written out because it is twenty lines.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence

__all__ = ["attach"]


def attach(
    package: str, exports: Mapping[str, Sequence[str]], submodules: Sequence[str] = ()
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` of ``package`` exporting ``exports`` lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to sequence of str
        Relative module name (``"._steppers"``) -> the public names it provides.
    submodules : sequence of str
        Submodules that are public names themselves (``"catalogue"``).

    Examples
    --------
    In a package's ``__init__.py``::

        __getattr__, __dir__ = attach(__name__, {".grid": ["Grid"]}, submodules=["catalogue"])
    """
    where = {name: module for module, names in exports.items() for name in names}
    where.update({name: f".{name}" for name in submodules})

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module, package)
        value = imported if name in submodules else getattr(imported, name)
        setattr(sys.modules[package], name, value)  # the next look-up does not come here
        return value

    def __dir__() -> list[str]:  # the public names, as lazy_loader's
        return sorted(set(where) | set(getattr(sys.modules[package], "__all__", ())))

    return __getattr__, __dir__
