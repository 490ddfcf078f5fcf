"""The edges of every op, by kind of defect: axes, selection, special points, higher order, types, dtypes.

Each test names the defect class it guards (issue 11); the op table and the
PyTorch differential suite search the same edges with hypothesis.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from autograd import Function, Tensor, Value, concatenate, grad, gradcheck, maximum, minimum, stack, where
from autograd.functions import Linear, max_along, sum_along
from autograd.testing import axes, dtypes, permutations, shapes, special_values, tensors


def leaf(data, dtype=np.float64) -> Tensor:
    return Tensor(np.array(data, dtype=dtype), requires_grad=True)


def gradient_of(f, x: Tensor, upstream=None) -> np.ndarray:
    out = f(x)
    out.backward(np.ones(out.shape) if upstream is None else upstream)
    return x.grad


# ------------------------------------------------------------------ axes


def test_permute_with_a_negative_axis_gets_the_gradient_of_exactly_that_permutation():
    for shape in [(2, 2, 2), (2, 3, 4)]:
        data = np.arange(np.prod(shape), dtype=float).reshape(shape)
        upstream = np.random.default_rng(0).standard_normal(data.transpose(2, 0, 1).shape)
        got = gradient_of(lambda t: t.permute(-1, 0, 1), leaf(data), upstream)
        np.testing.assert_array_equal(got, upstream.transpose(1, 2, 0))


@settings(max_examples=30)
@given(x=tensors(shape=shapes(min_dims=1, max_dims=4)), data=st.data())
def test_any_permutation_with_negative_axes_is_the_numpy_one_forward_and_backward(x, data):
    order = data.draw(permutations(x.ndim))
    out = x.permute(*order)
    np.testing.assert_array_equal(out.data, x.data.transpose(order))
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream.transpose(np.argsort([a % x.ndim for a in order])))


REDUCTIONS = ["sum", "mean", "max", "min", "var", "logsumexp"]


@pytest.mark.parametrize("name", REDUCTIONS)
@settings(max_examples=20)
@given(x=tensors(shape=shapes(min_dims=1), unique=True), data=st.data())
def test_reduction_takes_negative_and_tuple_axes_and_dim_as_numpy_does(name, x, data):
    axis = data.draw(axes(x.ndim))
    by_axis = getattr(x, name)(axis=axis, keepdims=True)
    by_dim = getattr(x, name)(dim=axis, keepdims=True)
    if name == "logsumexp":
        expected = np.log(np.exp(x.data).sum(axis=axis, keepdims=True))
    else:
        expected = getattr(np, name)(x.data, axis=axis, keepdims=True)
    np.testing.assert_allclose(by_axis.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(by_dim.data, by_axis.data)
    by_axis.sum().backward()
    assert x.grad.shape == x.shape


@pytest.mark.parametrize("call", [
    lambda t: t.sum(0, dim=0), lambda t: t.mean(axis=1, dim=1), lambda t: t.softmax(-1, dim=-1),
    lambda t: t.squeeze(0, dim=0), lambda t: t.unsqueeze(0, dim=0), lambda t: concatenate([t], 0, dim=0),
])
def test_axis_and_dim_together_are_an_error(call):
    with pytest.raises(TypeError, match="not both"):
        call(leaf(np.ones((1, 2))))


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=2), lambda t: t.max(axis=(0, -2)), lambda t: t.permute(0, 0),
    lambda t: t.permute(0, 2), lambda t: t.swapaxes(0, 5), lambda t: t.softmax(axis=-3),
    lambda t: t.flatten(3), lambda t: concatenate([t, t], axis=2), lambda t: stack([t], axis=-4),
])
def test_an_axis_out_of_range_or_repeated_is_an_error_not_a_wrapped_axis(call):
    with pytest.raises((ValueError, np.exceptions.AxisError)):
        call(leaf(np.ones((2, 3))))


@pytest.mark.parametrize("name, ours, reference", [
    ("softmax", lambda t: t.softmax(dim=-2), None),
    ("log_softmax", lambda t: t.log_softmax(axis=(0, -1)), None),
    ("swapaxes", lambda t: t.swapaxes(-1, 0), lambda a: a.swapaxes(-1, 0)),
    ("flatten", lambda t: t.reshape(2, 3, 1).flatten(-2, -1), lambda a: a.reshape(2, -1)),
    ("squeeze", lambda t: t.reshape(2, 1, 3, 1).squeeze(dim=(-1, 1)), lambda a: a),
    ("unsqueeze", lambda t: t.unsqueeze(dim=-1), lambda a: a[..., None]),
    ("stack", lambda t: stack([t, 2 * t], dim=-1), lambda a: np.stack([a, 2 * a], axis=-1)),
    ("concatenate", lambda t: concatenate([t, 2 * t], dim=-1), lambda a: np.concatenate([a, 2 * a], -1)),
    ("index", lambda t: t[-1, [-1, 0, -1]], lambda a: a[-1, [-1, 0, -1]]),
])
def test_movement_and_softmax_ops_take_negative_axes_and_dim(name, ours, reference):
    x = leaf(np.arange(6.0).reshape(2, 3) / 7)
    out = ours(x)
    if reference is not None:
        np.testing.assert_allclose(out.data, reference(x.data))
    out.backward(np.arange(out.size, dtype=float).reshape(out.shape))
    assert x.grad.shape == x.shape and np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("shape", [(16, 1), (64, 10), (100, 64), (15, 10), (16, 65), (0, 10)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reductions_along_a_short_last_axis_equal_numpys_with_nan_and_inf(shape, dtype):
    """max_along / sum_along (by columns where rows are many and short) are NumPy's reductions."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    for row, values in enumerate([np.nan, np.inf, -np.inf]):
        if row < len(x):
            x[row, ::2] = values
    np.testing.assert_array_equal(max_along(x, (1,)), x.max(axis=1, keepdims=True))
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(sum_along(x, (1,)), x.sum(axis=1, keepdims=True), rtol=tol, atol=tol)
    assert sum_along(x, (1,)).dtype == max_along(x, (1,)).dtype == dtype


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(20, 0), (0, 3), (2, 0, 3)])
def test_softmax_over_an_empty_axis_or_batch_is_empty_as_in_pytorch(name, shape):
    x = leaf(np.zeros(shape))
    out = getattr(x, name)(dim=-1)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == shape


def test_logsumexp_over_an_empty_axis_is_minus_infinity_as_in_pytorch():
    x = leaf(np.zeros((4, 0)))
    with np.errstate(divide="ignore"):  # log 0, as NumPy says it
        out = x.logsumexp(dim=-1)
    np.testing.assert_array_equal(out.data, [-np.inf] * 4)
    out.sum().backward()
    assert x.grad.shape == (4, 0)


@pytest.mark.parametrize("name, reference", [
    ("softmax", lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True)),
    ("log_softmax", lambda a: a - np.log(np.exp(a).sum(axis=-1, keepdims=True))),
])
def test_softmax_over_a_batch_of_short_rows_matches_the_formula_and_passes_gradcheck(name, reference):
    """64 rows of 10 classes: the shape whose reductions run by columns."""
    x = leaf(np.random.default_rng(1).standard_normal((64, 10)) * 3)
    out = getattr(x, name)(dim=-1)
    np.testing.assert_allclose(out.data, reference(x.data), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: getattr(t, name)(dim=1), (x,))


# ------------------------------------------------------- selection, not * mask


def test_where_then_sqrt_gives_zero_not_nan_in_the_unselected_slot():
    x = leaf([4.0, 0.0, -1.0])
    where(x > 0, x, 0.0).sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.25, 0.0, 0.0])


@pytest.mark.parametrize("f, expected", [
    (lambda t: t.relu(), [0.0, 0.0, np.inf]),
    (lambda t: t.clip(-0.5, 0.5), [0.0, np.inf, 0.0]),
    (lambda t: maximum(t, 0.0), [0.0, np.inf / 2, np.inf]),
    (lambda t: minimum(t, 0.0), [np.inf, np.inf / 2, 0.0]),
    (lambda t: where(t > 0, t, 0.0), [0.0, 0.0, np.inf]),
    (lambda t: t[np.array([2, 2])], [0.0, 0.0, np.inf]),
])
def test_an_infinite_upstream_gradient_stays_out_of_the_slots_not_selected(f, expected):
    x = leaf([-1.0, 0.0, 1.0])
    out = f(x)
    out.backward(np.full(out.shape, np.inf))
    np.testing.assert_array_equal(x.grad, expected)


def test_where_then_sqrt_is_exact_at_second_order_and_zero_in_the_unselected_slot():
    x = leaf([4.0, -1.0])
    first = grad(lambda t: where(t > 0, t, 0.0).sqrt().sum(), create_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        second = grad(lambda t: first(t).sum())(x)
    np.testing.assert_array_equal(second, [-1 / 32, 0.0])


@pytest.mark.parametrize("f, expected_value, expected_grad", [
    (lambda t: t.relu(), np.nan, 1.0),
    (lambda t: t.abs(), np.nan, 0.0),
    (lambda t: t.clip(-1.0, 1.0), np.nan, 0.0),
    (lambda t: t.max(), np.nan, np.nan),
    (lambda t: maximum(t, 0.0), np.nan, 1.0),
    (lambda t: minimum(t, 0.0), np.nan, 1.0),
    (lambda t: t.leaky_relu(0.1), np.nan, 0.1),
])
def test_nan_propagates_with_pytorchs_gradient(f, expected_value, expected_grad):
    x = leaf(np.nan)
    out = f(x)
    out.backward()
    np.testing.assert_array_equal(out.data, expected_value)
    np.testing.assert_array_equal(x.grad, expected_grad)


# ----------------------------------------------------- special points (Tensor)


@pytest.mark.parametrize("f, x, expected", [
    (lambda t: t**0, 0.0, 0.0),
    (lambda t: t**0, np.inf, 0.0),
    (lambda t: t ** Tensor(np.array(0.0)), 0.0, 0.0),
    (lambda t: 0.0**t, 0.0, 0.0),
    (lambda t: 0.0**t, 2.0, 0.0),
    (lambda t: 0.0**t, -1.0, -np.inf),
    (lambda t: Tensor(np.array(0.0)) ** t, 3.0, 0.0),
    (lambda t: t.sqrt(), 0.0, np.inf),
    (lambda t: 1 / t, 1e-200, -np.inf),
])
def test_tensor_derivative_at_a_special_point_is_pytorchs(f, x, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(gradient_of(f, leaf(x)), expected)


@pytest.mark.parametrize("ddof", [3, 4, 7])
def test_var_with_ddof_at_least_the_count_is_inf_never_negative(ddof):
    x = leaf([1.0, 2.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = x.var(ddof=ddof)
    assert out.item() == np.inf


@pytest.mark.parametrize("f", [
    lambda t: t.sigmoid(), lambda t: t.tanh(), lambda t: t.exp(), lambda t: t.softplus(),
    lambda t: t.log_softmax(), lambda t: t.logsumexp(), lambda t: t.softmax(),
])
def test_saturating_ops_at_huge_inputs_are_finite_where_pytorch_is(f):
    x = leaf([-1e300, -750.0, -40.0, 0.0, 40.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = f(x)
        out.sum().backward()
    assert np.all(~np.isnan(out.data)) and np.all(np.isfinite(x.grad))


# ------------------------------------------------ higher order through Linear


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_linear_hessian_vector_product_equals_the_composed_ops_for_1d_2d_and_3d_inputs(batch):
    rng = np.random.default_rng(4)
    x0, w0, b0 = rng.standard_normal(batch + (4,)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    directions = [rng.standard_normal(a.shape) for a in (x0, w0, b0)]

    def hvp(layer):
        first = grad(lambda x, w, b: layer(x, w, b).tanh().sum(), argnums=(0, 1, 2), create_graph=True)
        along = lambda x, w, b: sum((g * v).sum() for g, v in zip(first(x, w, b), directions, strict=True))
        return grad(along, argnums=(0, 1, 2))(Tensor(x0), Tensor(w0), Tensor(b0))

    fused = hvp(Linear.apply)
    composed = hvp(lambda x, w, b: x @ w.T + b)
    for got, expected in zip(fused, composed, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------ types refused


@pytest.mark.parametrize("data", [
    np.array([1 + 2j]), np.array([object()]), np.array(["a", "b"]), [1 + 2j], "abc", None,
])
def test_non_real_data_is_refused_naming_the_dtype(data):
    with pytest.raises(TypeError, match="real numbers"):
        Tensor(data)


def test_complex_operand_is_refused_not_silently_dropped():
    with pytest.raises(TypeError, match="complex"):
        leaf([1.0]) * np.array([1j])


def test_complex_gradient_is_refused_not_cast_to_its_real_part():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="complex"):
        (x * 2).backward(np.array([1 + 1j, 1j]))


class ComplexBackward(Function):
    """2a, with a backward that returns a complex gradient (a user's bug)."""

    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g * (1 + 1j)


@pytest.mark.parametrize("make", [lambda: Value(1.0), lambda: leaf([1.0, 2.0])], ids=["Value", "Tensor"])
def test_a_complex_gradient_from_a_custom_backward_is_refused_naming_the_function(make):
    out = ComplexBackward.apply(make())
    with pytest.raises(TypeError, match=r"ComplexBackward.backward returned .*complex.*input 0"):
        (out if isinstance(out, Value) else out.sum()).backward()


@pytest.mark.parametrize("bad", [None, "text", 1j])
def test_custom_forward_returning_no_number_is_refused_naming_the_function(bad):
    class Broken(Function):
        @staticmethod
        def forward(ctx, a):
            return bad

    with pytest.raises(TypeError, match="Broken.forward"):
        Broken.apply(leaf([1.0]))
    with pytest.raises(TypeError, match="Broken.forward"):
        Broken.apply(Value(1.0))


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("other", [
    np.array([1, 2], dtype=np.int64), np.array([1.0, 2.0]), Tensor(np.array([0.5, 2.0])), 3, 2.5,
])
@pytest.mark.parametrize("op", [lambda a, b: a * b, lambda a, b: b / (a + 3), maximum, lambda a, b: a**2 + b])
def test_a_float32_parameter_gets_a_float32_gradient_whatever_it_is_mixed_with(other, op):
    p = leaf([1.0, -2.0], np.float32)
    op(p, other).sum().backward()
    assert p.grad.dtype == np.float32


@pytest.mark.parametrize("pick, reference", [(maximum, np.maximum), (minimum, np.minimum)])
@pytest.mark.parametrize("other", [0.5, np.array([0.5, 1.0], dtype=np.float16), [0.5, 1.0]])
def test_maximum_and_minimum_agree_on_float16(pick, reference, other):
    a = leaf([1.0, 0.25], np.float16)
    out = pick(a, other)
    out.sum().backward()
    expected_dtype = np.result_type(np.float16, other if not isinstance(other, list) else np.float32)
    assert out.dtype == expected_dtype and a.grad.dtype == np.float16
    np.testing.assert_array_equal(out.data, reference(a.data, np.asarray(other, dtype=out.dtype)))


# --------------------------------------------------------- edge strategies


@pytest.mark.parametrize("kind", ["nan", "inf", "-inf", "zero", "negative zero", "tiny", "huge"])
def test_special_values_reach_every_kind_of_edge(kind):
    kinds = {
        "nan": math.isnan, "inf": lambda v: v == math.inf, "-inf": lambda v: v == -math.inf,
        "zero": lambda v: v == 0, "negative zero": lambda v: v == 0 and math.copysign(1, v) < 0,
        "tiny": lambda v: 0 < abs(v) < 1e-200, "huge": lambda v: 1e200 < abs(v) < math.inf,
    }
    find(special_values(), kinds[kind], settings=settings(database=None, derandomize=True))


@pytest.mark.parametrize("kind", ["empty", "0-d", "nan", "float16", "tie"])
def test_edge_tensors_reach_empty_and_0d_shapes_nan_ties_and_mixed_dtypes(kind):
    kinds = {
        "empty": lambda t: t.size == 0, "0-d": lambda t: t.ndim == 0,
        "nan": lambda t: np.isnan(t.data).any(), "float16": lambda t: t.dtype == np.float16,
        "tie": lambda t: t.size > 1 and len(np.unique(t.data)) < t.size,
    }
    search = settings(database=None, derandomize=True, max_examples=2000)
    find(tensors(edges=True, dtype=dtypes()), kinds[kind], settings=search)


def test_default_strategies_still_sample_the_finite_interior():
    finite = settings(database=None, derandomize=True, max_examples=300)
    with pytest.raises(NoSuchExample):
        find(tensors(), lambda t: not np.all(np.isfinite(t.data)), settings=finite)

