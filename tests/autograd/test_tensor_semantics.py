"""Tensor contracts outside the math: dtypes, backward's arguments and errors, .grad lifetime."""
from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, get_default_dtype, set_default_dtype


@pytest.fixture
def default_dtype_restored():
    previous = get_default_dtype()
    yield
    set_default_dtype(previous)


# ------------------------------------------------------------------ dtypes


def test_float32_stays_float32_through_a_whole_network_step():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w = Tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(5, dtype=np.float32), requires_grad=True)
    hidden = (x @ w + b).tanh()
    logits = hidden[:, [0, 2, 2]] * 0.5 - hidden.var(axis=1, keepdims=True)
    loss = -logits.log_softmax(axis=1)[np.arange(4), [0, 1, 2, 1]].mean() + hidden.max() / 3
    loss.backward()
    assert loss.dtype == np.float32
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


@pytest.mark.parametrize("data", [1.5, 3, [1, 2], [[0.5, 1.0]], True])
def test_python_numbers_and_lists_become_float32(data):
    assert Tensor(data).dtype == np.float32


def test_arrays_keep_their_dtype():
    assert Tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert Tensor(np.zeros(2, dtype=np.int64)).dtype == np.int64


@pytest.mark.parametrize("scalar", [np.float64(1.5), np.float16(1.5), np.int32(2)])
def test_numpy_scalars_keep_their_dtype(scalar):
    assert Tensor(scalar).dtype == scalar.dtype


def test_explicit_dtype_wins():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_set_default_dtype_changes_what_python_data_becomes(default_dtype_restored):
    set_default_dtype(np.float64)
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert get_default_dtype() == np.float64


def test_set_default_dtype_rejects_a_non_floating_dtype(default_dtype_restored):
    with pytest.raises(TypeError, match="int64"):
        set_default_dtype(np.int64)


def test_integer_tensor_serves_as_data_without_gradient():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    counts = Tensor(np.array([2, 0, 1]))
    (x * counts).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])
    assert counts.grad is None


def test_requires_grad_on_integer_data_is_a_type_error_naming_the_dtype():
    with pytest.raises(TypeError, match="int64"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        Tensor(np.arange(3)).requires_grad_()


def test_non_numeric_data_is_a_type_error():
    with pytest.raises(TypeError):
        Tensor(["a", "b"])


# ---------------------------------------------------------------- backward


def test_backward_on_a_non_scalar_without_grad_names_the_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2).backward()


def test_backward_with_a_wrong_shape_grad_names_both_shapes():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_with_an_explicit_grad_is_a_vector_jacobian_product():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x * x).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


def test_backward_on_a_tensor_that_needs_no_grad_is_an_error():
    with pytest.raises(RuntimeError, match="requires_grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_one_element_tensor_of_any_shape_backpropagates_without_grad():
    x = Tensor(np.array([[2.0]]), requires_grad=True)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_grad_is_none_before_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    assert x.grad is None and y.grad is None


@pytest.mark.parametrize("f, expected", [
    (lambda t: t.exp(), np.exp(2.0)),
    (lambda t: t * t, 4.0),  # two contributions, accumulated
    (lambda t: t.sum() * 3 + t, 4.0),
], ids=["one_contribution", "two_contributions", "contributions_via_sum"])
def test_zero_dimensional_input_gets_a_zero_dimensional_array_gradient(f, expected):
    x = Tensor(np.array(2.0), requires_grad=True)
    f(x).backward()
    assert isinstance(x.grad, np.ndarray), type(x.grad)
    assert x.grad.shape == () and x.grad == pytest.approx(expected)


def first_derivative_at(op, s: float) -> float:
    x = Tensor(np.array(s), requires_grad=True)
    op(x).backward()
    return float(x.grad)


@pytest.mark.parametrize("op", [lambda t: t.exp(), lambda t: (t * t + 1).sqrt(), lambda t: t.sum().tanh()])
def test_zero_dimensional_tensor_has_second_derivatives(op):
    x = Tensor(np.array(0.5), requires_grad=True)
    op(x).backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.backward()
    eps = 1e-5
    numerical = (first_derivative_at(op, 0.5 + eps) - first_derivative_at(op, 0.5 - eps)) / (2 * eps)
    assert float(x.grad) == pytest.approx(numerical, rel=1e-6)


def test_gradient_has_the_input_dtype_and_shape_after_broadcasting():
    x = Tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    (x + Tensor(np.ones((2, 1, 4), dtype=np.float32))).sum().backward()
    assert x.grad.shape == (3, 1) and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, np.full((3, 1), 8.0))


def test_intermediate_gradients_are_freed_unless_retained_as_in_pytorch():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = x * 3
    (y * y).sum().backward()
    assert y.grad is None
    np.testing.assert_array_equal(x.grad, 18 * x.data)


def test_leaf_accumulates_while_retained_intermediate_shows_this_pass_only():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = (y * y).sum()
    z.backward()
    first_x, first_y = x.grad.copy(), y.grad.copy()
    z.backward()
    np.testing.assert_array_equal(x.grad, 2 * first_x)
    np.testing.assert_array_equal(y.grad, first_y)
    np.testing.assert_array_equal(first_x, 18 * x.data)


def test_each_leaf_owns_its_gradient_array():
    a, b = (Tensor(np.array([1.0, 2.0]), requires_grad=True) for _ in range(2))
    y = a + b  # Add hands the same upstream array to both inputs
    y.retain_grad()
    (y * Tensor(np.array([5.0, 6.0]))).backward(np.ones(2))
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, y.grad)
    a.grad *= 0
    np.testing.assert_array_equal(b.grad, [5.0, 6.0])


def test_detach_cuts_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_comparisons_return_plain_boolean_arrays():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for result in (x > 1.5, x >= 2, x < Tensor([2.0]), x <= 1, x == 2, x != 2):
        assert type(result) is np.ndarray and result.dtype == bool
    np.testing.assert_array_equal(x > 1.5, [False, True, True])
