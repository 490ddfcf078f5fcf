"""Second and third derivatives through create_graph, against numerical differentiation.

Each higher derivative is checked against central differences of the
derivative one order lower, itself computed by backprop.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor, Value, grad, numerical_grad
from autograd.testing import assert_gradients_match, floats, tensors, values


def derivative(f, x: float) -> float:
    """df/dx at x by backprop, as a float."""
    return float(grad(f)(x))


def numerical_derivative(f, x: float, eps: float = 1e-5) -> float:
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def tanh(x):
    return x.tanh()


def d_tanh(x):
    """d tanh / dx as a differentiable Value."""
    return grad(tanh, create_graph=True)(x)


def d2_tanh(x):
    return grad(d_tanh, create_graph=True)(x)


@given(x=floats())
def test_second_derivative_of_tanh_matches_numerical_derivative_of_the_first(x):
    expected = numerical_derivative(lambda t: derivative(tanh, t), x)
    t = np.tanh(x)
    assert derivative(d_tanh, x) == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert derivative(d_tanh, x) == pytest.approx(-2 * t * (1 - t * t), rel=1e-10, abs=1e-12)


@given(x=floats(-2, 2))
def test_third_derivative_of_tanh_matches_numerical_derivative_of_the_second(x):
    expected = numerical_derivative(lambda t: derivative(d_tanh, t), x)
    t = np.tanh(x)
    assert derivative(d2_tanh, x) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert derivative(d2_tanh, x) == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-9, abs=1e-10)


def small_function(x, y):
    """A function of two scalars with every Hessian entry nonzero."""
    return x * x * y + (x * y).exp() + (y + 4).log() * x


def gradient_entry(i: int):
    """(x, y) -> the i-th entry of small_function's gradient, by first-order backprop."""
    return lambda x, y: Value(grad(small_function, argnums=(0, 1))(x.data, y.data)[i])


@given(x=values(-1.5, 1.5), y=values(-1.5, 1.5))
def test_hessian_entries_match_numerical_derivatives_of_the_gradient(x, y):
    small_function(x, y).backward(create_graph=True)
    gradient = (x.grad, y.grad)
    for i, entry in enumerate(gradient):
        x.grad, y.grad = 0.0, 0.0
        entry.backward()
        row = numerical_grad(gradient_entry(i), x, y, eps=1e-5)
        assert [x.grad, y.grad] == pytest.approx(list(row), rel=1e-5, abs=1e-6)


def test_hessian_is_symmetric():
    x, y = Value(0.3), Value(-0.8)
    d = grad(small_function, argnums=(0, 1), create_graph=True)
    dxdy = grad(lambda a, b: d(a, b)[0], argnums=1)(x, y)
    dydx = grad(lambda a, b: d(a, b)[1], argnums=0)(x, y)
    assert dxdy == pytest.approx(dydx, rel=1e-12)


def test_newton_method_on_a_scalar_converges_quadratically_to_a_stationary_point():
    f = lambda x: x**4 - 3 * x**2 + x
    x = Value(2.0)
    steps = []
    for _ in range(8):
        first = grad(f, create_graph=True)(x)
        second = grad(lambda v: grad(f, create_graph=True)(v))(x)
        step = first.data / second
        x = Value(x.data - step)
        steps.append(abs(step))
    assert abs(grad(f)(x)) < 1e-12
    assert 4 * x.data**3 - 6 * x.data + 1 == pytest.approx(0.0, abs=1e-12)
    assert steps[3] < steps[2] ** 1.5  # quadratic convergence near the root


# -------------------------------------------------------- Tensor: HVP of an MLP


def mlp_loss(w1, b1, w2, b2, x, y):
    """Mean squared error of a 2-layer tanh MLP, built from Tensor ops only."""
    hidden = (x @ w1 + b1).tanh()
    prediction = hidden @ w2 + b2
    return ((prediction - y) ** 2).mean()


@st.composite
def mlp_problems(draw):
    sizes = (3, 4, 2)
    shapes = [(sizes[0], sizes[1]), (sizes[1],), (sizes[1], sizes[2]), (sizes[2],)]
    params = [draw(tensors(shape=s, min_value=-1, max_value=1)) for s in shapes]
    direction = [draw(tensors(shape=s, min_value=-1, max_value=1)).data for s in shapes]
    x = draw(tensors(shape=(5, sizes[0]), requires_grad=False))
    y = draw(tensors(shape=(5, sizes[2]), requires_grad=False))
    return params, direction, x, y


def loss_gradient(params, x, y):
    return grad(lambda *p: mlp_loss(*p, x, y), argnums=tuple(range(len(params))))(*params)


@settings(max_examples=15)
@given(problem=mlp_problems())
def test_hessian_vector_product_of_mlp_loss_matches_finite_differences_of_gradient(problem):
    params, direction, x, y = problem
    loss = mlp_loss(*params, x, y)
    loss.backward(create_graph=True)
    grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    sum(((g * v).sum() for g, v in zip(grads, direction, strict=True)), Tensor(0.0)).backward()
    hvp = [p.grad for p in params]
    eps = 1e-5
    shifted = lambda sign: [Tensor(p.data + sign * eps * v) for p, v in zip(params, direction, strict=True)]
    plus, minus = loss_gradient(shifted(1), x, y), loss_gradient(shifted(-1), x, y)
    for analytic, g_plus, g_minus in zip(hvp, plus, minus, strict=True):
        np.testing.assert_allclose(analytic, (g_plus - g_minus) / (2 * eps), rtol=1e-5, atol=1e-7)


@settings(max_examples=20)
@given(x=tensors(shape=(2, 3)))
def test_second_derivatives_through_every_tensor_reduction_and_movement(x):
    def f(t):
        parts = [t.softmax(axis=1), t.log_softmax(axis=0), t.logsumexp(axis=1, keepdims=True),
                 t.var(axis=0), t.T @ t, t[[0, 0, 1], 1:], t.reshape(3, 2).mean(axis=0)]
        return sum(((p * p).sum() for p in parts), Tensor(0.0))
    assert_gradients_match(f, x, order=2)


@given(x=floats(-2, 2))
def test_third_derivative_of_a_tensor_function_matches_numerical_derivative_of_the_second(x):
    f = lambda t: (t.sigmoid() * t).sum()
    d1 = lambda t: grad(f, create_graph=True)(t).sum()
    d2 = lambda t: grad(d1, create_graph=True)(t).sum()
    second = lambda s: float(grad(d1)(np.array([s]))[0])
    third = float(grad(d2)(np.array([x]))[0])
    assert third == pytest.approx(numerical_derivative(second, x), rel=1e-5, abs=1e-6)
