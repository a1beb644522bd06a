"""Macroscopic models: species, diffusion, taxis and reaction terms, model files, and their
compilation to array kernels (used by the discretisations in :mod:`crossdiff.fv`).

``RunDefaults`` (:mod:`crossdiff.base`), ``parse_expression``, ``to_expr``
(:mod:`crossdiff.expressions`) and ``parse_toml`` (:mod:`crossdiff.parsing`) live in neutral
modules shared with :mod:`crossdiff.kinetic`; they are re-exported here.
"""

from ..base import RunDefaults
from ..expressions import parse_expression, to_expr
from ..parsing import parse_toml
from ._boundary import SIDE_CONDITIONS, SIDES, SideCondition
from ._codegen import fused_reactions
from ._compile import CompiledModel, DiffusionKind, Kernel, compile_kernel, compile_model
from ._file import model_from_dict, model_to_dict, read_model_file, save_model
from ._flow import FLOW_FIELDS, FLOWS, Flow
from ._initial import initial_fields
from ._model import NOISE, SPACE, TIME, Model, Species, Taxis, species_symbols
from ._show import latex_name, to_latex

__all__ = [
    "Model",
    "Species",
    "Taxis",
    "Flow",
    "SideCondition",
    "SIDE_CONDITIONS",
    "SIDES",
    "FLOWS",
    "FLOW_FIELDS",
    "RunDefaults",
    "parse_expression",
    "to_expr",
    "read_model_file",
    "save_model",
    "model_from_dict",
    "model_to_dict",
    "parse_toml",
    "compile_model",
    "compile_kernel",
    "CompiledModel",
    "DiffusionKind",
    "Kernel",
    "fused_reactions",
    "species_symbols",
    "initial_fields",
    "to_latex",
    "latex_name",
    "SPACE",
    "TIME",
    "NOISE",
]
