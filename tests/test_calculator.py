"""The calculator: the arithmetic is right for any inputs, written so that the figure check reads the result back."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.calculator import compute
from rag.figures import parse_figures, same_quantity
from rag.types import Figure

_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 1))


def _fig(value: float, scale: float = 1e6) -> Figure:
    return Figure(text=f"{value:,.1f}", value=value, unit="", scale=scale, decimals=1)


@given(_values, _values)
def test_change_is_the_newer_minus_the_older_and_reads_back(a: float, b: float) -> None:
    r = compute("change", [_fig(a), _fig(b)])
    assert math.isclose(r.value, (a - b) * 1e6, rel_tol=1e-9, abs_tol=1e-3)
    (stated,) = parse_figures(r.text)
    assert same_quantity(stated, Figure(text="", value=r.value, unit="", decimals=6))


@given(_values, _values.filter(lambda x: abs(x) >= 0.1))
def test_growth_is_relative_to_the_older_in_percent(a: float, b: float) -> None:
    r = compute("growth", [_fig(a), _fig(b)], decimals=2)
    assert r.unit == "%"
    assert abs(r.value - round((a - b) / abs(b) * 100, 2)) < 1e-9
    assert (r.value > 0) == (a > b) or r.value == 0


@given(st.lists(_values, min_size=1, max_size=5))
def test_average_and_sum(values: list[float]) -> None:
    figs = [_fig(v) for v in values]
    assert math.isclose(compute("sum", figs).value, sum(values) * 1e6, rel_tol=1e-9, abs_tol=1e-3)
    assert math.isclose(compute("average", figs).value, sum(values) / len(values) * 1e6, rel_tol=1e-9, abs_tol=1e-3)


def test_the_arithmetic_is_written_out() -> None:
    a, b = parse_figures("44.1 56.7")
    assert compute("change", [a, b]).expression == "44.1 − 56.7 = -12.6"
    assert compute("growth", [a, b], decimals=2).expression == "(44.1 − 56.7) / 56.7 = -22.22%"
    assert compute("average", [a, b]).expression == "the mean of 44.1 and 56.7 = 50.4"


@pytest.mark.parametrize("op, inputs, message", [
    ("median", [1.0, 2.0], "op must be one of"),
    ("change", [1.0], "change needs at least 2 inputs"),
    ("growth", [1.0, 0.0], "growth from zero"),
])
def test_what_cannot_be_computed_says_why(op: str, inputs: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute(op, [_fig(v) for v in inputs])
