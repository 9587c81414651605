"""The calculator: an operation over cited input figures, with the arithmetic written out as the answer shows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.figures import format_quantity
from rag.types import Figure

OPERATIONS = ("change", "growth", "average", "sum", "ratio")


@dataclass(frozen=True)
class Result:
    """A computed figure: its value, how it is written, and the arithmetic over the inputs as written."""

    value: float
    text: str
    expression: str
    unit: str


def _scale_of(inputs: Sequence[Figure]) -> float:
    scales = {f.scale for f in inputs}
    return scales.pop() if len(scales) == 1 else 1.0


def compute(op: str, inputs: Sequence[Figure], *, decimals: int | None = None) -> Result:
    """Apply ``op`` to the inputs, most recent period first.

    change: inputs[0] − inputs[1]; growth: (inputs[0] − inputs[1]) / |inputs[1]| in percent; average and sum: over
    all inputs; ratio: inputs[0] / inputs[1] (in percent when both are money or counts of one kind).

    Raises:
        ValueError: an unknown operation, too few inputs, or a division by zero.
    """
    if op not in OPERATIONS:
        raise ValueError(f"op must be one of {', '.join(OPERATIONS)}, got {op!r}.")
    need = 2 if op in ("change", "growth", "ratio") else 1
    if len(inputs) < need:
        raise ValueError(f"{op} needs at least {need} inputs, got {len(inputs)}.")
    unit: str = inputs[0].unit if inputs[0].unit not in ("count",) else ""
    if any(f.unit == "%" for f in inputs) and op in ("change", "average", "sum"):
        unit = "%"
    scale = _scale_of(inputs)
    names = [f.text for f in inputs]
    if op == "change":
        value = inputs[0].quantity - inputs[1].quantity
        expression = f"{names[0]} − {_paren(names[1])}"
        out_unit = unit
    elif op == "growth":
        base = inputs[1].quantity
        if base == 0:
            raise ValueError("growth from zero is not defined.")
        value = (inputs[0].quantity - base) / abs(base) * 100
        expression = f"({names[0]} − {_paren(names[1])}) / {_abs(names[1])}"
        out_unit = "%"
    elif op == "ratio":
        base = inputs[1].quantity
        if base == 0:
            raise ValueError("a ratio to zero is not defined.")
        value = inputs[0].quantity / base
        expression = f"{names[0]} / {_paren(names[1])}"
        out_unit = "ratio"
    elif op == "sum":
        value = sum(f.quantity for f in inputs)
        expression = " + ".join(_paren(n) for n in names)
        out_unit = unit
    else:
        value = sum(f.quantity for f in inputs) / len(inputs)
        # the count is written in words: a bare "2" in the answer would be a figure the check cannot find
        expression = f"the mean of {', '.join(_paren(n) for n in names[:-1])} and {_paren(names[-1])}"
        out_unit = unit
    if decimals is not None:
        shown = round(value / (1.0 if out_unit in ("%", "ratio") else scale), decimals)
        value = shown * (1.0 if out_unit in ("%", "ratio") else scale)
    text = _write(value, out_unit, scale)
    return Result(value, text, f"{expression} = {text}", out_unit)


def _write(value: float, unit: str, scale: float) -> str:
    if unit == "ratio":
        return f"{value:.4f}".rstrip("0").rstrip(".")
    hint = scale if scale in (1e3, 1e6, 1e9, 1e4, 1e8) else 1.0
    if unit == "%":
        return format_quantity(round(value, 3), "%")
    return format_quantity(value, unit if unit in ("CNY", "USD", "HKD", "EUR") else "", hint)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _abs(text: str) -> str:
    return f"|{text}|" if text.startswith(("-", "(")) else text


def evaluate(expression: str, values: dict[str, float]) -> float:
    """The value of an arithmetic expression over named values (+ - * / parentheses, abs()).

    Raises:
        ValueError: a name without a value, a division by zero, or anything that is not arithmetic.
    """
    import ast

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(f"no value for {node.id}")
            return values[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "abs" \
                and len(node.args) == 1:
            return abs(walk(node.args[0]))
        if isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                if b == 0:
                    raise ValueError("division by zero")
                return a / b
        raise ValueError(f"{type(node).__name__} is not arithmetic")

    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {expression!r}") from exc
    return walk(tree)
