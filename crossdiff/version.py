"""The version of crossdiff (one place; the package, the CLI and the output files read it here)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
