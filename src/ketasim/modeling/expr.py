"""Safe expressions: a whitelisting parser and the code it generates.

An expression is text such as ``"-(k10 + k12) * central + k21 * periph"`` or
``"hill(conc, ec50, n)"``. It is parsed with :func:`ast.parse` (no evaluation) and every node is
checked against a whitelist: numbers, names, ``+ - * / **``, unary minus, the functions in
:data:`FUNCTIONS` and comparisons inside ``piecewise``. Anything else (attributes, subscripts,
strings, lambdas, keyword arguments, ...) is rejected with a one-line :class:`KetasimError`.

A parsed :class:`Expr` renders to Python/Numba source (:meth:`Expr.to_python`) and to an SBML
Level 3 infix formula (:meth:`Expr.to_sbml`); code is generated only from the checked tree, never
from the input text.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import NoReturn, cast

from ketasim.errors import KetasimError
from ketasim.units import show

#: Allowed functions and their number of arguments.
#: ``hill(x, x50, n) = x**n / (x50**n + x**n)``;
#: ``piecewise(a, condition, b)`` is ``a`` where the condition holds, else ``b`` (SBML order).
FUNCTIONS = {"exp": 1, "log": 1, "sqrt": 1, "min": 2, "max": 2, "hill": 3, "piecewise": 3}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_PYTHON_FUNCTIONS = {"exp": "math.exp", "log": "math.log", "sqrt": "math.sqrt",
                     "min": "min", "max": "max"}


@dataclass(frozen=True)
class Expr:
    """A checked expression: its source text and its syntax tree."""

    text: str
    tree: ast.expr

    @cached_property
    def names(self) -> frozenset[str]:
        """Every variable name the expression reads."""
        return frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)
                         and not _is_function_name(self.tree, n))

    def to_python(self) -> str:
        """Python source (``math`` functions) that Numba compiles."""
        return _render(self.tree, _python_call)

    def derivative(self, wrt: Callable[[str], ast.expr | None]) -> Expr | None:
        """The derivative of the expression as an Expr, or None where it is zero.

        ``wrt(name)`` gives the derivative of each name (a tree, or None for zero): e.g. the
        constant 1 for the variable itself and the name of an assignment's own derivative.
        """
        tree = _d(self.tree, wrt)
        return None if tree is None else Expr(ast.unparse(tree), tree)

    def to_sbml(self) -> str:
        """SBML Level 3 infix formula (libsbml ``parseL3Formula`` syntax); ``t`` is time."""
        return _render(self.tree, _sbml_call, power="^", time="time")


#: Bounds of one expression: assumption: the largest built-in expression has under 300
#: characters and nests under 10 deep; these bounds leave room while keeping the parser, the
#: code generator and the compiler far from Python's recursion and memory limits.
MAX_LENGTH, MAX_DEPTH = 4_000, 40
#: Largest integer literal (digits): a 400-digit integer overflows a float at simulation.
MAX_DIGITS = 15


def _depth(node: ast.AST) -> int:
    """Nesting depth of ``node``, iteratively (a deep tree must not overflow the stack)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return deepest


def parse(text: str, field: str = "expression") -> Expr:
    """Parse and check ``text``; raise :class:`KetasimError` naming ``field`` if not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise KetasimError(f"{field}: expected a non-empty expression, got {show(text)}")
    if len(text) > MAX_LENGTH:
        raise KetasimError(f"{field}: an expression of {len(text):,} characters is longer than "
                           f"{MAX_LENGTH:,}; split it into assignments")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise KetasimError(f"{field}: cannot parse {show(text)}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise KetasimError(f"{field}: nested too deeply to parse") from None
    if _depth(tree) > MAX_DEPTH:
        raise KetasimError(f"{field}: nested more than {MAX_DEPTH} deep; split it into "
                           "assignments")
    _check(tree, field, in_condition=False)
    return Expr(text.strip(), tree)


def _is_function_name(tree: ast.expr, name: ast.Name) -> bool:
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(tree))


def _check(node: ast.expr, field: str, in_condition: bool) -> None:
    def fail(what: str) -> NoReturn:
        raise KetasimError(f"{field}: {what} is not allowed in an expression; allowed: numbers, "
                           f"names, + - * / **, {', '.join(FUNCTIONS)}")

    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            fail(f"the constant {show(node.value)}")
        if isinstance(node.value, int) and abs(node.value) >= 10**MAX_DIGITS:
            raise KetasimError(f"{field}: the integer {show(node.value)} has more than "
                               f"{MAX_DIGITS} digits; write it as a float (e.g. 1e20)")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            fail(f"the function name {node.id!r} without a call")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            fail(f"the operator {type(node.op).__name__}")
        _check(node.left, field, False)
        _check(node.right, field, False)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            fail(f"the operator {type(node.op).__name__}")
        _check(node.operand, field, False)
    elif isinstance(node, ast.Compare):
        if not in_condition or len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            fail("a comparison outside the condition of piecewise(a, condition, b)")
        _check(node.left, field, False)
        _check(node.comparators[0], field, False)
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            fail(f"the call {ast.unparse(node.func)}(...)")
        if len(node.args) != FUNCTIONS[name]:
            raise KetasimError(f"{field}: {name}() takes {FUNCTIONS[name]} arguments, "
                               f"got {len(node.args)}")
        for i, arg in enumerate(node.args):
            _check(arg, field, in_condition=(name == "piecewise" and i == 1))
        if name == "piecewise" and not isinstance(node.args[1], ast.Compare):
            fail("a piecewise condition that is not a comparison")
    else:
        fail(type(node).__name__)


def _render(node: ast.expr, call, power: str = "**", time: str = "t") -> str:
    def r(n: ast.expr) -> str:
        return _render(n, call, power, time)

    if isinstance(node, ast.Constant):
        return repr(float(cast(float, node.value)))  # _check admits int and float constants only
    if isinstance(node, ast.Name):
        return time if node.id == "t" else node.id
    if isinstance(node, ast.BinOp):
        op = power if isinstance(node.op, ast.Pow) else _BINARY[type(node.op)]
        return f"({r(node.left)} {op} {r(node.right)})"
    if isinstance(node, ast.UnaryOp):
        return f"({'-' if isinstance(node.op, ast.USub) else '+'}{r(node.operand)})"
    if isinstance(node, ast.Compare):
        return f"({r(node.left)} {_COMPARE[type(node.ops[0])]} {r(node.comparators[0])})"
    name, args = _call_parts(node)
    return call(name, [r(a) for a in args], power)


def _call_parts(node: ast.expr) -> tuple[str, list[ast.expr]]:
    """Name and arguments of a call (in a checked tree, every other node is handled first)."""
    call = cast(ast.Call, node)  # _check admits calls of function names only
    return cast(ast.Name, call.func).id, call.args


def _python_call(name: str, args: list[str], power: str) -> str:
    if name == "hill":
        x, x50, n = args
        return f"({x} {power} {n} / ({x50} {power} {n} + {x} {power} {n}))"
    if name == "piecewise":
        a, cond, b = args
        return f"({a} if {cond} else {b})"
    return f"{_PYTHON_FUNCTIONS[name]}({', '.join(args)})"


def _sbml_call(name: str, args: list[str], power: str) -> str:
    if name == "hill":
        return _python_call(name, args, power)
    if name in ("min", "max"):
        a, b = args
        cond = f"({a} {'<' if name == 'min' else '>'} {b})"
        return f"piecewise({a}, {cond}, {b})"
    if name == "log":
        return f"ln({args[0]})"
    return f"{name}({', '.join(args)})"


# -- symbolic differentiation (for the exact Jacobian of the stiff solver) --------------------
def _num(value: float) -> ast.expr:
    return ast.Constant(float(value))


def _call(name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(name), list(args), [])


def _add(a: ast.expr | None, b: ast.expr | None, sub: bool = False) -> ast.expr | None:
    if b is None:
        return a
    if a is None:
        return ast.UnaryOp(ast.USub(), b) if sub else b
    return ast.BinOp(a, ast.Sub() if sub else ast.Add(), b)


def _mul(a: ast.expr | None, b: ast.expr | None) -> ast.expr | None:
    if a is None or b is None:
        return None
    for x, y in ((a, b), (b, a)):
        if isinstance(x, ast.Constant) and x.value == 1.0:
            return y
    return ast.BinOp(a, ast.Mult(), b)


def _div(a: ast.expr | None, b: ast.expr) -> ast.expr | None:
    return None if a is None else ast.BinOp(a, ast.Div(), b)


def _d(node: ast.expr, wrt: Callable[[str], ast.expr | None]) -> ast.expr | None:
    """Derivative of a checked tree; None stands for zero."""
    if isinstance(node, ast.Constant):
        return None
    if isinstance(node, ast.Name):
        return wrt(node.id)
    if isinstance(node, ast.UnaryOp):
        inner = _d(node.operand, wrt)
        return inner if isinstance(node.op, ast.UAdd) or inner is None \
            else ast.UnaryOp(ast.USub(), inner)
    if isinstance(node, ast.BinOp):
        a, b = node.left, node.right
        da, db = _d(a, wrt), _d(b, wrt)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return _add(da, db, sub=isinstance(node.op, ast.Sub))
        if isinstance(node.op, ast.Mult):
            return _add(_mul(da, b), _mul(a, db))
        if isinstance(node.op, ast.Div):  # da/b - a*db/b**2
            return _add(_div(da, b), _div(_mul(a, db), ast.BinOp(b, ast.Pow(), _num(2))),
                        sub=True)
        # a**b = exp(b*log(a)): a**b * (db*log(a) + b*da/a); db = 0 gives b*a**(b-1)*da
        if db is None:
            return _mul(_mul(b, ast.BinOp(a, ast.Pow(), ast.BinOp(b, ast.Sub(), _num(1)))), da)
        return _mul(node, _add(_mul(db, _call("log", a)), _div(_mul(b, da), a)))
    name, args = _call_parts(node)
    if name == "hill":  # x**n / (x50**n + x**n)
        x, x50, n = args
        xn = ast.BinOp(x, ast.Pow(), n)
        return _d(ast.BinOp(xn, ast.Div(), ast.BinOp(ast.BinOp(x50, ast.Pow(), n), ast.Add(),
                                                     xn)), wrt)
    if name == "piecewise":
        da, db = _d(args[0], wrt), _d(args[2], wrt)
        if da is None and db is None:
            return None
        return _call("piecewise", da or _num(0), args[1], db or _num(0))
    if name in ("min", "max"):
        da, db = _d(args[0], wrt), _d(args[1], wrt)
        if da is None and db is None:
            return None
        cond = ast.Compare(args[0], [ast.Lt() if name == "min" else ast.Gt()], [args[1]])
        return _call("piecewise", da or _num(0), cond, db or _num(0))
    inner = _d(args[0], wrt)
    if name == "exp":
        return _mul(node, inner)
    if name == "log":
        return _div(inner, args[0])
    return _div(inner, ast.BinOp(_num(2), ast.Mult(), node))  # sqrt
