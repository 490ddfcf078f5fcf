"""Hypothesis strategies and a gradient assertion for property-testing ops.

The strategies make finite Values, float64 Tensors, shapes, mutually
broadcastable shapes and reduction axes; ``assert_gradients_match`` compares
backprop with central differences (``gradcheck``). A custom Function is
property-tested in three lines:

    from hypothesis import given
    from autograd.testing import assert_gradients_match, tensors

    @given(tensors(shape=(3,)))
    def test_my_op(x):
        assert_gradients_match(lambda x: MyOp.apply(x).sum(), x)

By default they sample the smooth interior. Ask for the edges, where bugs
live, with ``edges=True``: ``floats``, ``values`` and ``tensors`` then also
draw ``special_values()`` (0, -0, kinks, ties, tiny and huge numbers, +-inf,
NaN), ``shapes`` and ``tensors`` empty and 0-d shapes; ``dtypes()`` draws
float16/32/64, ``axes`` and ``permutations`` negative and tuple axes:

    @given(tensors(edges=True))
    def test_my_op_at_the_edges(x):
        MyOp.apply(x).sum().backward()  # must not raise; compare with a reference
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .gradcheck import gradcheck
from .tensor import Tensor
from .value import Value

Shape = tuple[int, ...]
ShapeArg = Shape | st.SearchStrategy | None


SPECIAL_VALUES = (
    0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0,  # zero (kinks of relu/abs, border of log/sqrt), ties, x**0.5
    1e-300, -1e-300, 5e-324,  # tiny: 1/x overflows, x*x underflows
    1e300, -1e300, 40.0, -40.0, 710.0, -750.0,  # huge: exp over/underflows, sigmoid and tanh saturate
    math.inf, -math.inf, math.nan,
)


def special_values(width: int = 64) -> st.SearchStrategy[float]:
    """The points where ops have edges: 0, -0, +-1, tiny and huge numbers, +-inf, NaN.

    Each fits ``width`` (16, 32 or 64 bits): numbers too large become +-inf, too
    small 0, as a cast to that dtype would make them.
    """
    if width == 64:
        return st.sampled_from(SPECIAL_VALUES)
    dtype = np.dtype(f"float{width}")
    with np.errstate(over="ignore", under="ignore"):
        cast = tuple(dict.fromkeys(float(dtype.type(v)) for v in SPECIAL_VALUES if not math.isnan(v)))
    return st.sampled_from((*cast, math.nan))


def floats(min_value: float = -3.0, max_value: float = 3.0, width: int = 64,
           edges: bool = False) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value] (no nan, no inf); with ``edges`` also ``special_values()``."""
    inner = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
    return st.one_of(special_values(width), inner) if edges else inner


def values(min_value: float = -3.0, max_value: float = 3.0, edges: bool = False
           ) -> st.SearchStrategy[Value]:
    """Value leaves holding finite floats in [min_value, max_value] (``edges``: special values too)."""
    return floats(min_value, max_value, edges=edges).map(Value)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4,
           edges: bool = False) -> st.SearchStrategy[Shape]:
    """Array shapes, 0-d included by default; small sides keep checks cheap; ``edges``: empty ones too."""
    if edges:
        min_side = 0
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def dtypes(widths: tuple[int, ...] = (16, 32, 64)) -> st.SearchStrategy[np.dtype]:
    """Floating dtypes (float16, float32, float64 by default), to mix in one expression."""
    return st.sampled_from([np.dtype(f"float{w}") for w in widths])


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (size-1 axes, 0-d, missing axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side,
    ).map(lambda drawn: drawn.input_shapes)


def tensors(shape: ShapeArg = None, dtype: Any = np.float64, min_value: float = -3.0,
            max_value: float = 3.0, elements: st.SearchStrategy | None = None,
            unique: bool = False, requires_grad: bool = True, edges: bool = False
            ) -> st.SearchStrategy[Tensor]:
    """Tensors of ``dtype`` (float64 by default) with finite elements in [min_value, max_value].

    ``shape`` is a tuple, a strategy of shapes, or None for ``shapes()``;
    ``dtype`` a dtype or a strategy of dtypes (``dtypes()``).
    ``unique=True`` draws distinct elements (no ties, e.g. for max).
    ``edges=True`` also draws ``special_values()`` (ties are then common, as
    the same special value repeats) and, when no shape is given, empty shapes.
    """
    if isinstance(dtype, st.SearchStrategy):
        return dtype.flatmap(lambda d: tensors(shape, d, min_value, max_value, elements, unique,
                                               requires_grad, edges))
    dtype = np.dtype(dtype)
    if shape is None:
        shape = shapes(edges=edges)
    if elements is None:
        elements = floats(min_value, max_value, width=8 * dtype.itemsize, edges=edges)
    arrays = hnp.arrays(dtype, shape, elements=elements, unique=unique)
    return arrays.map(lambda array: Tensor(array, requires_grad=requires_grad))


def axes(ndim: int, allow_none: bool = True) -> st.SearchStrategy[None | int | tuple[int, ...]]:
    """A reduction's ``axis`` argument for an ``ndim``-d array: None, an int or a tuple (negatives too)."""
    options = [hnp.valid_tuple_axes(ndim)]
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_none:
        options.append(st.none())
    return st.one_of(*options)


def permutations(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """A ``transpose``/``permute`` argument for an ``ndim``-d array, each axis possibly negative."""
    signs = st.lists(st.booleans(), min_size=ndim, max_size=ndim)
    return st.tuples(st.permutations(range(ndim)), signs).map(
        lambda drawn: tuple(a - ndim if negative else a for a, negative in zip(*drawn, strict=True))
    )


def assert_gradients_match(f: Callable, *inputs: Any, **gradcheck_kwargs: Any) -> None:
    """Assert that backprop through ``f`` matches central differences at ``inputs``.

    Runs ``autograd.gradcheck`` (same keyword arguments: eps, atol, rtol, mode,
    order) and fails with its ``GradcheckError``, an AssertionError whose
    message names the input, the element and the analytic and numerical values.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    gradcheck(f, *inputs, **gradcheck_kwargs)
