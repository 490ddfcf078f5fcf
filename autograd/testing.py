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
"""
from __future__ import annotations

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


def floats(min_value: float = -3.0, max_value: float = 3.0, width: int = 64) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value] (no nan, no inf)."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)


def values(min_value: float = -3.0, max_value: float = 3.0) -> st.SearchStrategy[Value]:
    """Value leaves holding finite floats in [min_value, max_value]."""
    return floats(min_value, max_value).map(Value)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
           ) -> st.SearchStrategy[Shape]:
    """Array shapes, 0-d included by default; small sides keep checks cheap."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (size-1 axes, 0-d, missing axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side,
    ).map(lambda drawn: drawn.input_shapes)


def tensors(shape: ShapeArg = None, dtype: Any = np.float64, min_value: float = -3.0,
            max_value: float = 3.0, elements: st.SearchStrategy | None = None,
            unique: bool = False, requires_grad: bool = True) -> st.SearchStrategy[Tensor]:
    """Tensors of ``dtype`` (float64 by default) with finite elements in [min_value, max_value].

    ``shape`` is a tuple, a strategy of shapes, or None for ``shapes()``.
    ``unique=True`` draws distinct elements (no ties, e.g. for max).
    """
    dtype = np.dtype(dtype)
    if shape is None:
        shape = shapes()
    if elements is None:
        elements = floats(min_value, max_value, width=8 * dtype.itemsize)
    arrays = hnp.arrays(dtype, shape, elements=elements, unique=unique)
    return arrays.map(lambda array: Tensor(array, requires_grad=requires_grad))


def axes(ndim: int, allow_none: bool = True) -> st.SearchStrategy[None | int | tuple[int, ...]]:
    """A reduction's ``axis`` argument for an ``ndim``-d array: None, an int or a tuple."""
    options = [hnp.valid_tuple_axes(ndim)]
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_none:
        options.append(st.none())
    return st.one_of(*options)


def assert_gradients_match(f: Callable, *inputs: Any, **gradcheck_kwargs: Any) -> None:
    """Assert that backprop through ``f`` matches central differences at ``inputs``.

    Runs ``autograd.gradcheck`` (same keyword arguments: eps, atol, rtol, mode,
    order) and fails with its ``GradcheckError``, an AssertionError whose
    message names the input, the element and the analytic and numerical values.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    gradcheck(f, *inputs, **gradcheck_kwargs)
