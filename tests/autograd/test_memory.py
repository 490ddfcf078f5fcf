"""Differentiated graphs are freed by reference counting alone, without the cycle collector."""
from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import numpy as np
import pytest

from autograd import Tensor, Value, grad, value_and_grad


def cycles_made_by(work: Callable[[], None]) -> int:
    """How many objects ``work`` left that only the cycle collector could free."""
    gc.collect()
    gc.disable()
    try:
        work()
    finally:
        found = gc.collect()
        gc.enable()
    return found


def cube_sum(t):
    return (t * t * t).sum()


def test_second_order_grad_of_a_tensor_is_freed_without_the_collector():
    def work() -> None:
        x = Tensor(np.linspace(-1.0, 1.0, 1000))
        g = grad(cube_sum, create_graph=True)(x)
        gg = grad(lambda t: grad(cube_sum, create_graph=True)(t).sum())(x)
        assert np.allclose(gg, 6 * x.data)  # (assert_allclose makes classes on its first call)
        alive = weakref.ref(g.data)
        del g
        assert alive() is None

    assert cycles_made_by(work) == 0


def test_grad_of_values_with_create_graph_is_freed_without_the_collector():
    def work() -> None:
        value, g = value_and_grad(lambda v: (v * v).tanh() * v, create_graph=True)(Value(0.7))
        g2 = grad(lambda v: grad(lambda u: u * u * u, create_graph=True)(v))(Value(2.0))
        assert g2 == pytest.approx(12.0)

    assert cycles_made_by(work) == 0


def test_grad_leaves_its_inputs_without_a_gradient_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    g = grad(lambda t: (t * t * w).sum(), create_graph=True)(x)
    np.testing.assert_allclose(g.data, 2 * x.data * w.data)
    assert x.grad is None and w.grad is None


def test_value_backward_with_create_graph_keeps_only_values_on_intermediates():
    def work() -> None:
        x = Value(0.5)
        y = (x * x).tanh()
        z = y * x
        z.backward(create_graph=True)
        assert isinstance(x.grad, Value) and not x.grad.is_leaf  # differentiable, as asked
        assert y.grad.is_leaf and y.grad.data == pytest.approx(0.5)  # a value: no cycle through y
        x.grad = None  # the leaf's own cycle (x.grad refers to x), broken as PyTorch advises

    assert cycles_made_by(work) == 0


def test_tensor_backward_with_create_graph_is_freed_once_the_leaf_grad_is_cleared():
    def work() -> None:
        x = Tensor(np.linspace(0.1, 1.0, 1000), requires_grad=True)
        cube_sum(x).backward(create_graph=True)
        alive = weakref.ref(x.grad.data)
        x.grad = None
        assert alive() is None

    assert cycles_made_by(work) == 0


def test_first_order_backward_leaves_no_cycles():
    def work() -> None:
        x, v = Tensor(np.ones(3), requires_grad=True), Value(1.5)
        cube_sum(x).backward()
        (v * v * v).backward()

    assert cycles_made_by(work) == 0
