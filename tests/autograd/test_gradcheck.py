"""Trusting gradients: numerical_grad, gradcheck (full, directional, order 2), grad, autograd.testing."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from autograd import (
    Function,
    GradcheckError,
    Tensor,
    Value,
    grad,
    gradcheck,
    no_grad,
    numerical_grad,
    value_and_grad,
)
from autograd.testing import (
    assert_gradients_match,
    axes,
    broadcastable_shapes,
    shapes,
    tensors,
    values,
)


class WrongSquare(Function):
    """x**2 with a deliberately wrong derivative: 3x instead of 2x."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a


class SquareWithFrozenSlope(Function):
    """x**2 whose saved slope 2x is a fresh number: right at order 1, a constant at order 2."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(2 * a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (slope,) = ctx.saved_tensors
        return g * slope


class UnreducedBroadcastAdd(Function):
    """a + b that forgets to sum the broadcast gradient back to b's shape."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


# ---------------------------------------------------------------- numerical_grad


def test_numerical_grad_of_known_functions():
    (dx,) = numerical_grad(lambda v: v.exp(), Value(0.5))
    assert dx == pytest.approx(math.exp(0.5), rel=1e-8)
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    da, db = numerical_grad(lambda a, b: (a * a * b).sum(), x, Tensor(2.0))
    np.testing.assert_allclose(da, 4 * x.data, rtol=1e-8)
    assert db == pytest.approx(30.0, rel=1e-8)


def test_numerical_grad_leaves_its_inputs_unchanged():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    numerical_grad(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    assert x.grad is None


# ------------------------------------------------------------------ gradcheck


@pytest.mark.parametrize("x", [Value(1.5), Tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)],
                         ids=["Value", "Tensor"])
def test_gradcheck_catches_a_deliberately_wrong_custom_function(x):
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: WrongSquare.apply(t), x)
    error = info.value
    assert error.input_index == 0
    assert error.analytic == pytest.approx(1.5 * error.numerical, rel=1e-6)
    message = str(error)
    for part in ("input 0", "element", "analytic", "numerical", f"{error.analytic:.10g}"):
        assert part in message


def test_gradcheck_error_names_the_worst_element_of_the_right_input():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([[0.5, -3.0], [1.0, 0.25]]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda p, q: (p * 2).sum() + WrongSquare.apply(q).sum(), a, b)
    assert info.value.input_index == 1 and info.value.element == (0, 1)
    assert info.value.analytic == pytest.approx(-9.0) and info.value.numerical == pytest.approx(-6.0)
    assert "input 1" in str(info.value) and "(0, 1)" in str(info.value)


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_returns_true_for_a_correct_function_of_several_inputs():
    assert gradcheck(lambda a, b: (a * b).tanh() / (b * b + 1), Value(0.3), Value(-1.2)) is True
    a, b = Tensor(np.array([[0.3], [1.0]])), Tensor(np.array([1.0, -2.0, 0.5]))
    assert gradcheck(lambda p, q: (p * q).tanh().sum() * q, a, b) is True


def test_gradcheck_checks_a_non_scalar_output_through_a_projection():
    x = Tensor(np.array([0.1, 0.2, 0.3]))
    assert gradcheck(lambda t: t.exp(), x)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: WrongSquare.apply(t), x)


def test_gradcheck_reports_a_gradient_of_the_wrong_shape_naming_the_function():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"UnreducedBroadcastAdd.*shape \(2, 3\) for input 1.*shape \(3,\)"):
        gradcheck(lambda p, q: UnreducedBroadcastAdd.apply(p, q), a, b)


def test_gradcheck_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        gradcheck(lambda v: v * 2, Value(1.0), mode="fast")


def test_directional_mode_passes_a_correct_function_on_a_large_input():
    x = Tensor(np.random.default_rng(0).standard_normal((40, 30)))
    assert gradcheck(lambda t: (t.tanh() @ t.T).logsumexp(), x, mode="directional", directions=2)


@pytest.mark.parametrize("x", [Value(1.5), Tensor(np.array([0.5, -1.0, 2.0]))], ids=["Value", "Tensor"])
def test_directional_mode_catches_a_wrong_gradient(x):
    with pytest.raises(GradcheckError, match="direction"):
        gradcheck(lambda t: WrongSquare.apply(t), x, mode="directional")


@pytest.mark.parametrize("x", [Value(1.5), Tensor(np.array([0.5, -1.0, 2.0]))], ids=["Value", "Tensor"])
def test_order_2_catches_a_derivative_that_is_right_only_at_first_order(x):
    assert gradcheck(lambda t: SquareWithFrozenSlope.apply(t), x)
    with pytest.raises(GradcheckError, match="order-2"):
        gradcheck(lambda t: SquareWithFrozenSlope.apply(t), x, order=2)


def test_order_2_passes_for_built_in_ops_on_both_engines():
    assert gradcheck(lambda v: (v * v).tanh() * v.exp(), Value(0.4), order=2)
    x = Tensor(np.array([[0.2, -0.7], [1.1, 0.3]]))
    assert gradcheck(lambda t: (t @ t).softmax(axis=0)[0].sum() + t.var(), x, order=2)


@pytest.mark.parametrize("w_shape", [(3,), (3, 1), (3, 2)])
def test_order_2_checks_every_input_of_a_function_of_several(w_shape):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((4, 3)))
    w = Tensor(rng.standard_normal(w_shape), requires_grad=True)
    assert gradcheck(lambda x, w: (x @ w).tanh().sum(), x, w, order=2)
    assert gradcheck(lambda a, b: (a * b * a).exp(), Value(0.3), Value(-0.8), order=2)


# -------------------------------------------------------------- grad functional


def test_grad_of_a_float_function_returns_a_float():
    assert grad(lambda x: x * x * x)(2.0) == pytest.approx(12.0)


def test_grad_of_an_array_function_returns_an_array_of_its_shape():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = grad(lambda t: (t * t).sum())(x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, 2 * x)


def test_grad_with_argnums_tuple_returns_one_gradient_per_argument():
    f = lambda x, y, z: x * y + y * y * z
    gx, gz = grad(f, argnums=(0, 2))(2.0, 0.5, 3.0)
    assert gx == pytest.approx(0.5) and gz == pytest.approx(0.25)
    assert grad(f, argnums=1)(2.0, 0.5, 3.0) == pytest.approx(2.0 + 2 * 0.5 * 3.0)


def test_value_and_grad_returns_the_value_too():
    value, g = value_and_grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    assert value == pytest.approx(5.0)
    np.testing.assert_allclose(g, [2.0, 4.0])


def test_grad_leaves_the_gradients_of_other_nodes_alone():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    gx = grad(lambda t: (w * t).sum())(x)
    np.testing.assert_allclose(gx, w.data)
    assert w.grad is None and x.grad is None


def test_grad_of_a_value_argument_returns_its_derivative():
    a = Value(0.5)
    assert grad(lambda v: v.tanh())(a) == pytest.approx(1 - math.tanh(0.5) ** 2)
    assert a.grad == 0.0


def test_nested_grad_gives_higher_derivatives():
    f = lambda x: x**4
    second = grad(grad(f, create_graph=True))
    third = grad(grad(grad(f, create_graph=True), create_graph=True))
    assert second(2.0) == pytest.approx(48.0)
    assert third(2.0) == pytest.approx(48.0)


def test_grad_differentiates_even_inside_no_grad():
    with no_grad():
        assert grad(lambda x: x * x)(3.0) == pytest.approx(6.0)


def test_grad_of_a_non_scalar_result_is_an_error_naming_the_shape():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        grad(lambda t: t * 2)(np.ones(3))


# ---------------------------------------------------------- autograd.testing


class Cube(Function):
    """The custom op of autograd.testing's docstring example."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a**3

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a * a


@given(tensors(shape=(3,)))
def test_a_custom_function_is_property_tested_in_three_lines(x):
    assert_gradients_match(lambda x: Cube.apply(x).sum(), x)


@given(values())
def test_assert_gradients_match_fails_with_gradchecks_message(x):
    with pytest.raises(AssertionError, match="analytic .* vs numerical"):
        assert_gradients_match(lambda v: WrongSquare.apply(v + 5), x)


@given(tensors())
def test_tensors_are_float64_leaves_that_require_grad_with_finite_elements(x):
    assert x.dtype == np.float64 and x.requires_grad
    assert np.all(np.isfinite(x.data)) and np.all(np.abs(x.data) <= 3)


@given(tensors(dtype=np.float32, shape=shapes(min_dims=2), min_value=0, max_value=1))
def test_tensors_take_dtype_shape_and_bounds(x):
    assert x.dtype == np.float32 and x.ndim >= 2
    assert np.all((x.data >= 0) & (x.data <= 1))


@given(values(min_value=1, max_value=2))
def test_values_stay_in_their_domain(v):
    assert isinstance(v, Value) and 1 <= v.data <= 2


@given(broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast_together(drawn):
    assert len(drawn) == 3
    np.broadcast_shapes(*drawn)


@pytest.mark.parametrize("kind", ["0-d", "size-1", "other"])
def test_broadcastable_shapes_reach_size_one_axes_and_zero_dimensions(kind):
    def shape_kind(shape):
        return "0-d" if shape == () else "size-1" if 1 in shape else "other"

    search = settings(max_examples=2000, database=None, derandomize=True)
    find(broadcastable_shapes(), lambda drawn: any(shape_kind(s) == kind for s in drawn), settings=search)


@given(st.integers(0, 4).flatmap(lambda n: st.tuples(st.just(n), axes(n))))
def test_axes_are_valid_reduction_axes_for_the_rank(case):
    ndim, axis = case
    np.zeros((2,) * ndim).sum(axis=axis)  # raises for an invalid axis


# ------------------------------------------------------------ non-finite


class NanSlope(Function):
    """2x whose backward returns NaN: a broken derivative that must not pass."""

    @staticmethod
    def forward(ctx, a):
        return 2 * a

    @staticmethod
    def backward(ctx, g):
        return g * math.nan


NON_FINITE_CASES = {  # f, input, the (input, element) named in full mode
    "custom backward returns NaN, Tensor": (
        lambda t: NanSlope.apply(t).sum(), Tensor(np.array([0.5, 1.5])), (0, (0,))),
    "custom backward returns NaN, Value": (lambda v: NanSlope.apply(v), Value(0.5), (0, ())),
    "sqrt at 0 (infinite slope)": (lambda t: t.sqrt().sum(), Tensor(np.array([1.0, 0.0])), (0, (1,))),
    "log outside its domain (f is NaN)": (
        lambda t: t.log().sum(), Tensor(np.array([2.0, -1.0])), (-1, ())),
}


@pytest.mark.parametrize("mode", ["full", "directional"])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("case", NON_FINITE_CASES.values(), ids=NON_FINITE_CASES.keys())
def test_gradcheck_fails_on_non_finite_values_naming_them(case, order, mode):
    f, x, (input_index, element) = case
    with np.errstate(all="ignore"), pytest.raises(GradcheckError, match="non-finite") as info:
        gradcheck(f, x, order=order, mode=mode)
    error = info.value
    assert not (math.isfinite(error.analytic) and math.isfinite(error.numerical))
    if mode == "full" and order == 1:
        assert (error.input_index, error.element) == (input_index, element)
        if input_index >= 0:
            assert f"input {input_index}" in str(error) and f"element {element}" in str(error)


def test_gradcheck_names_the_first_non_finite_element_even_after_a_finite_mismatch():
    a, b = Tensor(np.array([1.0, 2.0])), Tensor(np.array([3.0, 0.0]))
    with np.errstate(all="ignore"), pytest.raises(GradcheckError, match="non-finite") as info:
        gradcheck(lambda p, q: WrongSquare.apply(p).sum() + q.sqrt().sum(), a, b)
    assert info.value.input_index == 1 and info.value.element == (1,)
    assert math.isinf(info.value.analytic) and math.isnan(info.value.numerical)


def test_assert_gradients_match_fails_on_nan():
    with pytest.raises(AssertionError, match="non-finite"):
        assert_gradients_match(lambda t: NanSlope.apply(t).sum(), Tensor(np.array([1.0])))


def test_numerical_grad_divides_by_the_step_actually_taken():
    """At 1e8 the step 1e-6 rounds to a multiple of 1.5e-8; 2 eps would be off by 0.6%."""
    (g,) = numerical_grad(lambda t: (t * 3.0).sum(), Tensor(np.array([1e8])))
    assert g[0] == pytest.approx(3.0, rel=1e-2)
    (g,) = numerical_grad(lambda v: v * 1.0, Value(3e7))
    assert g == pytest.approx(1.0, rel=1e-3)


def test_numerical_grad_reports_nan_outside_the_domain():
    with np.errstate(all="ignore"):
        (g,) = numerical_grad(lambda t: t.log().sum(), Tensor(np.array([-1.0])))
    assert math.isnan(g[0])
