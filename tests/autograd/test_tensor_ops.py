"""Tensor ops beyond the elementwise table: matmul, reductions, indexing, movement, softmax.

Each forward is compared with NumPy and each gradient with central
differences in float64, over hypothesis-drawn shapes, axes and indices
(0-d and size-1 edge cases included).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, concatenate, maximum, minimum, stack
from autograd.functions import Linear
from autograd.testing import (
    assert_gradients_match,
    axes,
    broadcastable_shapes,
    shapes,
    tensors,
)


def assert_matches_numpy_and_numerical_gradient(f, reference, *inputs, **gradcheck_kwargs):
    """Forward equals the NumPy reference; backprop matches central differences."""
    out = f(*inputs)
    expected = np.asarray(reference(*(x.data for x in inputs)))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert_gradients_match(f, *inputs, **gradcheck_kwargs)


def assert_input_shaped_gradients(out, *inputs):
    """After backward, each input's gradient has exactly its shape and dtype."""
    out.sum().backward()
    for x in inputs:
        assert isinstance(x.grad, np.ndarray), type(x.grad)
        assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


# ------------------------------------------------------------------ matmul

side = st.integers(1, 3)


@st.composite
def matmul_operands(draw):
    """Operands for every case NumPy's matmul defines: 1-d and n-d on each side."""
    n, m, k = draw(side), draw(side), draw(side)
    batch_a, batch_b = draw(broadcastable_shapes(max_dims=2, max_side=3))
    a_shape = draw(st.sampled_from([(m,), batch_a + (n, m)]))
    b_shape = draw(st.sampled_from([(m,), batch_b + (m, k)]))
    return draw(tensors(shape=a_shape)), draw(tensors(shape=b_shape))


@pytest.mark.parametrize("a_shape, b_shape", [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 4)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)),
])
def test_matmul_gradients_have_each_operand_shape_in_every_numpy_case(a_shape, b_shape):
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal(a_shape), requires_grad=True)
    b = Tensor(rng.standard_normal(b_shape), requires_grad=True)
    assert_input_shaped_gradients(a @ b, a, b)
    assert_matches_numpy_and_numerical_gradient(lambda x, y: x @ y, np.matmul, a, b)


@given(operands=matmul_operands())
def test_matmul_matches_numpy_and_numerical_gradient_with_broadcast_batches(operands):
    assert_matches_numpy_and_numerical_gradient(lambda x, y: x @ y, np.matmul, *operands)


def test_matmul_takes_plain_arrays_on_either_side():
    rng = np.random.default_rng(1)
    w, v = rng.standard_normal((3, 2)), rng.standard_normal(4)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert_matches_numpy_and_numerical_gradient(lambda t: v @ (t @ w), lambda t: v @ (t @ w), x)


@given(x=tensors(shape=shapes(min_dims=1, max_dims=3)), data=st.data())
def test_linear_matches_matmul_plus_bias(x, data):
    out_features = data.draw(side)
    weight = data.draw(tensors(shape=(out_features, x.shape[-1])))
    bias = data.draw(tensors(shape=(out_features,)))
    assert_matches_numpy_and_numerical_gradient(
        Linear.apply, lambda x, w, b: x @ w.T + b, x, weight, bias
    )


def test_linear_skips_the_gradient_of_an_input_batch_that_needs_none():
    x = Tensor(np.ones((4, 3)))
    weight = Tensor(np.ones((2, 3)), requires_grad=True)
    Linear.apply(x, weight).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(weight.grad, np.full((2, 3), 4.0))


# -------------------------------------------------------------- reductions

REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "var": np.var,
    "logsumexp": lambda a, axis=None, keepdims=False: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
}


@st.composite
def reduction_cases(draw):
    """A tensor with well-separated elements (max/min are smooth there), an axis and keepdims."""
    x = draw(tensors(unique=True))
    assume(x.size < 2 or np.min(np.diff(np.sort(x.data, axis=None))) > 1e-3)
    return x, draw(axes(x.ndim)), draw(st.booleans())


@pytest.mark.parametrize("name", REDUCTIONS)
@given(case=reduction_cases())
def test_reduction_over_any_axis_matches_numpy_and_numerical_gradient(name, case):
    x, axis, keepdims = case
    reduce = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)
    reference = lambda a: REDUCTIONS[name](a, axis=axis, keepdims=keepdims)
    assert_matches_numpy_and_numerical_gradient(reduce, reference, x)


@given(x=tensors(shape=shapes(min_dims=1)), data=st.data())
def test_var_with_ddof_one_matches_numpy(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assume(x.shape[axis] > 1)
    reduce = lambda t: t.var(axis=axis, ddof=1)
    assert_matches_numpy_and_numerical_gradient(reduce, lambda a: np.var(a, axis=axis, ddof=1), x)


@pytest.mark.parametrize("reduction, data, expected", [
    ("max", [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    ("min", [2.0, 1.0, 1.0, 5.0], [0.0, 0.5, 0.5, 0.0]),
    ("max", [4.0, 4.0, 4.0, 4.0], [0.25, 0.25, 0.25, 0.25]),
])
def test_max_and_min_split_the_gradient_evenly_between_ties(reduction, data, expected):
    x = Tensor(np.array(data), requires_grad=True)
    getattr(x, reduction)().backward()
    np.testing.assert_array_equal(x.grad, expected)


def test_max_along_an_axis_splits_ties_within_each_row_only():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [5.0, 2.0, 0.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("pick, expected_a", [(maximum, 0.5), (minimum, 0.5)])
def test_elementwise_maximum_and_minimum_split_ties_evenly(pick, expected_a):
    a = Tensor(np.array([2.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([2.0, 1.0]), requires_grad=True)
    pick(a, b).sum().backward()
    winner_a = 1.0 if pick is maximum else 0.0
    np.testing.assert_array_equal(a.grad, [expected_a, winner_a])
    np.testing.assert_array_equal(b.grad, [1 - expected_a, 1 - winner_a])


# ---------------------------------------------------------------- indexing

BASIC_INDICES = {
    "int": 1,
    "negative_int": -1,
    "slice": slice(1, None),
    "step_slice": (slice(None), slice(None, None, 2)),
    "reversed_slice": slice(None, None, -1),
    "none_and_ellipsis": (None, Ellipsis, 0),
    "ellipsis_slice": (Ellipsis, slice(0, 2)),
    "int_and_slice": (0, slice(1, 3)),
    "int_array_with_repeats": np.array([0, 2, 0, 0]),
    "int_arrays_paired": (np.array([0, 1, 1]), np.array([3, 3, 0])),
    "int_array_and_slice": (slice(None), np.array([1, 1, -1])),
    "list_index": [2, 2],
    "boolean_mask": np.array([[True, False, True, True], [False, False, True, False],
                              [True, True, True, True]]),
    "boolean_rows": np.array([True, False, True]),
}


@pytest.mark.parametrize("index", BASIC_INDICES.values(), ids=BASIC_INDICES.keys())
def test_indexing_matches_numpy_and_gradients_scatter_back(index):
    x = Tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    assert_matches_numpy_and_numerical_gradient(lambda t: t[index], lambda a: a[index], x)


@given(x=tensors(shape=shapes(min_dims=1)), data=st.data())
def test_integer_array_index_with_repeats_accumulates_gradient(x, data):
    n = x.shape[0]
    index = data.draw(hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(-n, n - 1)))
    x[index].sum().backward()
    counts = np.bincount(index % n, minlength=n).astype(float)
    expected = np.broadcast_to(counts.reshape((n,) + (1,) * (x.ndim - 1)), x.shape)
    np.testing.assert_array_equal(x.grad, expected)
    x.grad = None
    assert_matches_numpy_and_numerical_gradient(lambda t: t[index], lambda a: a[index], x)


@given(x=tensors(shape=shapes(min_dims=1)), data=st.data())
def test_boolean_mask_selects_like_numpy_and_routes_gradient_to_selected_elements(x, data):
    mask = data.draw(hnp.arrays(bool, x.shape))
    x[mask].sum().backward()
    np.testing.assert_array_equal(x.grad, mask.astype(float))
    x.grad = None
    assert_matches_numpy_and_numerical_gradient(lambda t: t[mask], lambda a: a[mask], x)


def test_index_may_be_an_integer_tensor():
    x = Tensor(np.arange(4.0), requires_grad=True)
    index = Tensor(np.array([3, 3, 1]))
    x[index].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0, 2.0])


# ---------------------------------------------------------------- movement

MOVEMENT = {
    "reshape": ((2, 3, 2), lambda t: t.reshape(4, -1), lambda a: a.reshape(4, -1)),
    "reshape_tuple": ((2, 3, 2), lambda t: t.reshape((3, 4)), lambda a: a.reshape((3, 4))),
    "transpose_reverses": ((2, 3, 4), lambda t: t.transpose(), lambda a: a.transpose()),
    "transpose_axes": ((2, 3, 4), lambda t: t.transpose(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    "permute": ((2, 3, 4), lambda t: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "T": ((2, 3), lambda t: t.T, lambda a: a.T),
    "swapaxes": ((2, 3, 4), lambda t: t.swapaxes(0, -1), lambda a: a.swapaxes(0, -1)),
    "flatten": ((2, 3, 4), lambda t: t.flatten(), lambda a: a.reshape(-1)),
    "flatten_from_1": ((2, 3, 4), lambda t: t.flatten(1), lambda a: a.reshape(2, -1)),
    "flatten_0d": ((), lambda t: t.flatten(), lambda a: a.reshape(1)),
    "squeeze_all": ((1, 3, 1), lambda t: t.squeeze(), lambda a: a.squeeze()),
    "squeeze_axis": ((1, 3, 1), lambda t: t.squeeze(-1), lambda a: a.squeeze(-1)),
    "unsqueeze": ((2, 3), lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    "unsqueeze_negative": ((2, 3), lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    "broadcast_to": ((3, 1), lambda t: t.broadcast_to((2, 3, 4)), lambda a: np.broadcast_to(a, (2, 3, 4))),
    "concatenate_with_itself": ((2, 3), lambda t: concatenate([t, t * 2], axis=1),
                                lambda a: np.concatenate([a, a * 2], axis=1)),
    "stack_with_itself": ((2, 3), lambda t: stack([t, -t, t], axis=-1), lambda a: np.stack([a, -a, a], -1)),
}


@pytest.mark.parametrize("case", MOVEMENT.values(), ids=MOVEMENT.keys())
def test_movement_op_matches_numpy_and_numerical_gradient(case):
    shape, move, reference = case
    x = Tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    assert_matches_numpy_and_numerical_gradient(move, reference, x)


@given(data=st.data(), count=st.integers(1, 3))
def test_concatenate_gives_each_input_its_slice_of_the_gradient(data, count):
    base = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    parts = [data.draw(tensors(shape=base[: axis % len(base)] + (n,) + base[axis % len(base) + 1 :]))
             for n in sizes]
    join = lambda *ts: concatenate(ts, axis=axis)
    assert_matches_numpy_and_numerical_gradient(join, lambda *a: np.concatenate(a, axis=axis), *parts)


@given(shape=shapes(), data=st.data(), count=st.integers(1, 3))
def test_stack_matches_numpy_and_numerical_gradient(shape, data, count):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [data.draw(tensors(shape=shape)) for _ in range(count)]
    join = lambda *ts: stack(ts, axis=axis)
    assert_matches_numpy_and_numerical_gradient(join, lambda *a: np.stack(a, axis=axis), *parts)


@pytest.mark.parametrize("bounds", [dict(min=0.0), dict(max=0.5), dict(min=-0.5, max=0.5)])
def test_clip_with_one_or_two_bounds_passes_gradient_only_inside(bounds):
    x = Tensor(np.array([-1.0, -0.25, 0.25, 1.0]), requires_grad=True)
    x.clip(**bounds).sum().backward()
    inside = np.ones(4, dtype=bool)
    if "min" in bounds:
        inside &= x.data >= bounds["min"]
    if "max" in bounds:
        inside &= x.data <= bounds["max"]
    np.testing.assert_array_equal(x.grad, inside.astype(float))


# ----------------------------------------------------------------- softmax


def stable_logsumexp(a, axis):
    peak = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak


SOFTMAX_FAMILY = {
    "softmax": (lambda t, axis: t.softmax(axis), lambda a, axis: np.exp(a - stable_logsumexp(a, axis))),
    "log_softmax": (lambda t, axis: t.log_softmax(axis), lambda a, axis: a - stable_logsumexp(a, axis)),
    "logsumexp": (lambda t, axis: t.logsumexp(axis, keepdims=True), stable_logsumexp),
}


@st.composite
def tensors_with_an_axis(draw, magnitude: float):
    x = draw(tensors(shape=shapes(min_dims=1), min_value=-magnitude, max_value=magnitude))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@pytest.mark.parametrize("name", SOFTMAX_FAMILY)
@given(case=tensors_with_an_axis(magnitude=3.0))
def test_softmax_family_matches_numpy_and_numerical_gradient(name, case):
    x, axis = case
    op, reference = SOFTMAX_FAMILY[name]
    assert_matches_numpy_and_numerical_gradient(lambda t: op(t, axis), lambda a: reference(a, axis), x)


@pytest.mark.parametrize("name", SOFTMAX_FAMILY)
@given(case=tensors_with_an_axis(magnitude=1e4))
def test_softmax_family_is_finite_and_correct_at_magnitude_1e4(name, case):
    x, axis = case
    op, reference = SOFTMAX_FAMILY[name]
    out = op(x, axis)
    out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(out.data, reference(x.data, axis), rtol=1e-12, atol=1e-12)
    # eps 1e-3: outputs near 1e4 would drown a 1e-6 step in rounding; softmax's curvature is O(1)
    assert_gradients_match(lambda t: op(t, axis), x, eps=1e-3)


def test_softmax_rows_sum_to_one_even_for_huge_logits():
    x = Tensor(np.array([[1e4, -1e4, 0.0], [1e4, 1e4, 1e4]]))
    np.testing.assert_allclose(x.softmax(axis=1).data, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
