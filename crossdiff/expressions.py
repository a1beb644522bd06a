"""Safe parsing of expression strings into SymPy, shared by macroscopic and kinetic models.

Strings from model files (macroscopic and kinetic) are parsed with :mod:`ast` and converted node by node into SymPy
objects; nothing is ever passed to :func:`eval`, so a model file cannot run code. Only
arithmetic, numbers, names and a fixed list of mathematical functions are accepted.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
import warnings
from collections.abc import Callable, Sequence
from numbers import Real

import sympy as sp

from .errors import ExpressionError

__all__ = ["parse_expression", "to_expr", "real_jacobian", "FUNCTIONS", "CONSTANTS", "RESERVED"]

#: Functions an expression may call, by the name used in model files.
FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "atan": sp.atan,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "min": sp.Min,
    "max": sp.Max,
    "heaviside": lambda a: sp.Heaviside(a, sp.Rational(1, 2)),
    "sign": sp.sign,
}

#: Named constants.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

#: Names that cannot be used for species or parameters.
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"t", "x", "y", "z", "noise"}

_BINOPS: dict[type, Callable[[sp.Expr, sp.Expr], sp.Expr] | None] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: None,  # see _power
    ast.BitXor: None,  # '^' is read as a power, as mathematicians write it
}
_MAX_LENGTH = 10_000
#: Largest decimal exponent of a constant power (SymPy evaluates ``10**10**10`` exactly and
#: would hang; no model needs numbers beyond double precision).
_MAX_DIGITS = 400


def _power(base: sp.Expr, exponent: sp.Expr, text: str) -> sp.Expr:
    """``base**exponent``, refusing constant powers too large to evaluate exactly."""
    if base.is_number and exponent.is_number:
        try:
            b = sp.Abs(base).evalf(15)
            e = sp.Abs(exponent).evalf(15)
            if b.is_Float and e.is_Float and b != 0 and b != 1:
                digits = e * abs(sp.log(b, 10).evalf(15))
                if digits.is_Float and digits > _MAX_DIGITS:
                    raise ExpressionError(f"constant power too large in expression {text!r}")
        except (TypeError, ValueError, ArithmeticError) as err:
            if isinstance(err, ExpressionError):
                raise
    return base**exponent


def _convert(node: ast.AST, text: str) -> sp.Expr:
    if isinstance(node, ast.Expression):
        return _convert(node.body, text)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"unsupported constant {value!r} in expression {text!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ExpressionError(f"non-finite number in expression {text!r}")
        return sp.Integer(value) if isinstance(value, int) else sp.Float(value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise ExpressionError(f"function {node.id!r} used without arguments in {text!r}")
        if node.id.startswith("_"):
            raise ExpressionError(f"names may not start with '_' ({node.id!r} in {text!r})")
        return sp.Symbol(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _convert(node.left, text), _convert(node.right, text)
        if isinstance(node.op, (ast.Pow, ast.BitXor)):
            return _power(left, right, text)
        op = _BINOPS[type(node.op)]
        assert op is not None  # only the powers have no operator here
        return op(left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _convert(node.operand, text)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(f"unknown function {name!r} in {text!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords or not node.args:
            raise ExpressionError(f"function {node.func.id!r} needs positional arguments in {text!r}")
        args = [_convert(a, text) for a in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except TypeError as err:
            raise ExpressionError(f"wrong number of arguments to {node.func.id!r} in {text!r}") from err
    raise ExpressionError(f"unsupported syntax {ast.unparse(node)!r} in expression {text!r}")


def _caret_to_power(text: str) -> str:
    """Rewrite the token ``^`` as ``**`` so that it has the precedence of a power.

    (Parsed as Python's XOR it would bind more loosely than ``+``: ``1 - u^r`` would be
    ``(1 - u)**r`` and ``R^2/d`` would be ``R**(2/d)``.)
    """
    if "^" not in text:
        return text
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as err:  # IndentationError is a SyntaxError
        raise SyntaxError(str(err)) from err
    out = [
        (tok.type, "**") if tok.type == tokenize.OP and tok.string == "^" else (tok.type, tok.string) for tok in tokens
    ]
    return tokenize.untokenize(out).strip()


def parse_expression(text: str) -> sp.Expr:
    """Parse an expression string into SymPy without evaluating any Python code.

    Parameters
    ----------
    text : str
        Arithmetic in Python syntax (``^`` is accepted for powers), e.g. ``"mu*u1*(1 - u1**r)"``.

    Returns
    -------
    sympy.Expr
        The expression; every free name becomes a plain :class:`sympy.Symbol`.

    Raises
    ------
    ExpressionError
        If the string is not an expression of numbers, names, arithmetic and the allowed
        functions (:data:`FUNCTIONS`).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"expression longer than {_MAX_LENGTH} characters")
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("empty expression")
    try:
        with warnings.catch_warnings():
            # e.g. '1if u else 2' or '"\\d"': the tokenizer warns on stderr before we reject it
            warnings.simplefilter("ignore")
            tree = ast.parse(_caret_to_power(stripped), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as err:
        raise ExpressionError(f"cannot parse expression {text!r}: invalid syntax") from err
    try:
        expr = _convert(tree, stripped)
    except RecursionError as err:
        raise ExpressionError(f"expression {text!r} is nested too deeply") from err
    except (ZeroDivisionError, OverflowError, ValueError) as err:
        if isinstance(err, ExpressionError):
            raise
        raise ExpressionError(f"cannot evaluate constant part of {text!r}: {err}") from err
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(f"expression {text!r} is infinite or undefined (division by zero?)")
    for node in sp.preorder_traversal(expr):
        # a constant that is not real (sqrt(-1), log(-2), (-8)**(1/3)) would reach the numerics as
        # a complex number: densities, rates and coefficients are real
        if node.is_number and node.is_extended_real is False:
            raise ExpressionError(f"expression {text!r} has a complex (non-real) constant {sp.sstr(node)!r}")
    return expr


def to_expr(value: object, what: str) -> sp.Expr:
    """Convert a string, a real number or a SymPy expression into a SymPy expression.

    Parameters
    ----------
    value : str, int, float or sympy.Expr
        The value as written by the user.
    what : str
        Where the value comes from, for the error message (e.g. ``"reaction of species 'u'"``).
    """
    if isinstance(value, sp.Basic):
        if not isinstance(value, sp.Expr):
            raise ExpressionError(f"{what}: expected a scalar expression, got {type(value).__name__}")
        return value
    if isinstance(value, bool):
        raise ExpressionError(f"{what}: expected a number or an expression, got a boolean")
    if isinstance(value, Real):
        if not math.isfinite(float(value)):
            raise ExpressionError(f"{what}: value {value!r} is not finite")
        return (
            sp.Integer(int(value)) if float(value).is_integer() and isinstance(value, int) else sp.Float(float(value))
        )
    if isinstance(value, str):
        try:
            return parse_expression(value)
        except ExpressionError as err:
            raise ExpressionError(f"{what}: {err}") from None
    raise ExpressionError(f"{what}: expected a number or an expression string, got {type(value).__name__}")


def real_jacobian(exprs: Sequence[sp.Expr], wrt: Sequence[sp.Symbol]) -> sp.Matrix:
    """``∂ exprs_i / ∂ wrt_j`` with every name taken real (densities, parameters, coordinates are):
    ``|u − 1|`` differentiates to ``sign(u − 1)``, not to the complex-analytic ``Derivative(re(u))``
    that no array printer can evaluate. The result is in the original (assumption-free) symbols."""
    names = set().union(*(sp.sympify(e).free_symbols for e in exprs)) | set(wrt)
    real = {s: sp.Symbol(s.name, real=True) for s in names if isinstance(s, sp.Symbol)}
    back = {r: s for s, r in real.items()}
    matrix = sp.Matrix([sp.sympify(e).xreplace(real) for e in exprs]).jacobian([real[s] for s in wrt])
    return matrix.xreplace(back)
