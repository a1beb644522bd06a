"""Macroscopic models: species, diffusion, taxis and reaction terms, model files."""

from ._expr import parse_expression
from ._file import model_from_dict, model_to_dict, read_model_file, save_model
from ._model import Model, RunDefaults, Species, Taxis

__all__ = [
    "Model",
    "Species",
    "Taxis",
    "RunDefaults",
    "parse_expression",
    "read_model_file",
    "save_model",
    "model_from_dict",
    "model_to_dict",
]
