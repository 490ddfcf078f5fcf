"""Data changed between forward and backward: refused by name for Tensors, consistent for Values."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Function, Tensor, Value, grad, no_grad

REFUSED = "modified|written in place|replaced"


def leaf(*values: float) -> Tensor:
    return Tensor(np.array(values), requires_grad=True)


def sgd_step(p: Tensor, lr: float = 0.1) -> None:
    """What an optimizer does: write the parameter in place, then say so."""
    p.data -= lr * p.grad
    p._bump_version()


# --------------------------------------------------------------- refused


def test_backward_after_an_in_place_step_names_the_op_and_the_input():
    w = leaf(1.0, 2.0)
    loss = (w * w).sum()
    loss.backward()
    sgd_step(w)
    with pytest.raises(RuntimeError, match=r"Mul saved input 0 \(a leaf tensor of shape \(2,\)\).*"
                                           r"written in place.*backward\(\) before"):
        loss.backward()


def test_backward_after_setitem_on_an_input_is_refused():
    x = Tensor(np.array([[0.5, -1.0]]))  # needs no gradient, but MatMul saved it for w's
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    loss = (x @ w).sum()
    x[0, 0] = 4.0
    with pytest.raises(RuntimeError, match=r"MatMul saved input 0.*written in place"):
        loss.backward()


def test_replacing_data_of_a_saved_input_is_refused():
    w = leaf(1.0, 2.0)
    loss = ((w + 1.0) * 3.0).exp().sum()
    loss2 = (w * w).sum()
    w.data = w.data - 1.0
    with pytest.raises(RuntimeError, match=r"Mul saved input 0.*\.data was replaced"):
        loss2.backward()
    loss.backward()  # Add saved no input data: this gradient is still exact
    np.testing.assert_allclose(w.grad, 3 * np.exp(3 * np.array([2.0, 3.0])))


def test_replacing_data_of_an_intermediate_beside_a_constant_input_is_refused():
    w = leaf(1.0, 2.0)
    h = w * 2.0
    loss = (h * np.array([3.0, 4.0])).sum()  # Mul's inputs: h and a constant (None among its parents)
    h.data = h.data + 1.0
    with pytest.raises(RuntimeError, match=r"Mul saved input 0 \(a result of Mul.*\.data was replaced"):
        loss.backward()
    assert w.grad is None  # refused before any gradient was written


def test_writing_a_saved_output_names_the_label():
    w = leaf(0.1, 0.2)
    h = w.exp()
    h.label = "h"
    loss = h.sum()
    with no_grad():
        h[0] = 0.0
    with pytest.raises(RuntimeError, match=r"Exp \(label 'h'\) saved its output"):
        loss.backward()


def test_writing_a_base_whose_view_was_saved_is_refused():
    w = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = Tensor(np.ones((4, 3)))
    loss = (x @ w.T).tanh().sum()  # MatMul saved w.T, a view of w's memory
    loss.backward()
    sgd_step(w)
    with pytest.raises(RuntimeError, match=r"MatMul saved a view of a leaf tensor of shape \(2, 3\)"):
        loss.backward()


def test_a_refused_backward_changes_no_gradient():
    w = leaf(1.0, 2.0)
    b = leaf(0.5)
    loss = (w * w).sum() + b.sum() * 2.0
    sgd_step_grad = np.array([0.3, 0.3])
    w.grad = sgd_step_grad.copy()
    sgd_step(w)
    with pytest.raises(RuntimeError):
        loss.backward()
    assert b.grad is None
    np.testing.assert_array_equal(w.grad, sgd_step_grad)


def test_a_custom_function_that_saved_its_input_is_checked_too():
    class Square(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    w = leaf(1.0, 3.0)
    loss = Square.apply(w).sum()
    with no_grad():
        w[1] = 0.0
    with pytest.raises(RuntimeError, match="Square saved input 0"):
        loss.backward()


def test_an_nn_optimizer_step_before_a_second_backward_is_refused():
    model = nn.Linear(2, 3)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    loss = model(Tensor(np.ones((4, 2), dtype=np.float32))).tanh().sum()
    loss.backward()
    opt.step()
    for p in model.parameters():  # until nn's optimizers count their own writes
        p._bump_version()
    with pytest.raises(RuntimeError, match=REFUSED):
        loss.backward()


# ---------------------------------------------------------------- allowed


def test_writing_an_input_the_ops_did_not_save_is_fine():
    w = leaf(1.0, 2.0)
    loss = (w + 1.0).sum() * 2.0
    with no_grad():
        w[0] = 7.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])


def test_relu_saves_its_output_as_pytorch_does_so_only_a_write_to_the_output_is_refused():
    w = leaf(-1.0, 2.0)
    h = w.relu()
    h.sum().backward()
    with no_grad():
        w[...] = [3.0, -4.0]  # the input: the mask came from the output, which did not change
    h.sum().backward()
    np.testing.assert_array_equal(w.grad, [0.0, 2.0])
    with no_grad():
        h[0] = 5.0
    with pytest.raises(RuntimeError, match=r"Relu saved its output"):
        h.sum().backward()


def test_forward_after_the_step_gives_the_new_gradient():
    w = leaf(1.0, 2.0)
    (w * w).sum().backward()
    sgd_step(w)
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * np.array([0.8, 1.6]))


def test_functional_grad_is_checked_as_well():
    w = leaf(1.0, 2.0)
    h = w * w

    def f(x):
        return (x * h).sum()

    sgd_step_grad = np.array([1.0, 1.0])
    w.grad = sgd_step_grad
    sgd_step(w)  # h's Mul saved w's old data, but f's pass stops before h
    np.testing.assert_allclose(grad(f)(Tensor(np.ones(2))), [1.0, 4.0])


# ---------------------------------------------------------------- setitem


def test_setitem_writes_numpy_style_and_counts_a_version():
    t = Tensor(np.zeros((2, 3)))
    before = t._version
    t[:, 1] = Tensor(np.array([5.0, 6.0]))
    t[0] = 1.0
    np.testing.assert_array_equal(t.data, [[1, 1, 1], [0, 6, 0]])
    assert t._version > before


def test_setitem_on_a_tensor_that_requires_grad_is_refused_outside_no_grad():
    w = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 3.0
    h = w * 2.0
    with pytest.raises(RuntimeError, match="requires grad"):
        h[0] = 3.0
    with no_grad():
        w[0] = 3.0
    np.testing.assert_array_equal(w.data, [3.0, 2.0])


def test_setitem_of_a_value_that_requires_grad_is_refused_as_its_gradient_would_be_lost():
    t = Tensor(np.zeros(2))
    with pytest.raises(RuntimeError, match="a value that requires grad"):
        t[0] = leaf(1.0)[0]


# ----------------------------------------------------------------- Values


def test_value_backward_after_an_optimizer_step_gives_exactly_the_old_gradient():
    """Values save floats, which no step can change: the old gradient, not a mix."""
    w, b = Value(1.5), Value(-0.5)
    loss = (w * w * b + b.tanh()) * w
    loss.backward()
    first = (w.grad, b.grad)
    opt = nn.optim.SGD([w, b], lr=0.1)
    opt.step()
    assert w.data != 1.5
    w.grad = b.grad = 0.0
    loss.backward()
    assert (w.grad, b.grad) == first


# ------------------------------------------------- writes through detach()


def test_a_write_through_a_detached_alias_is_refused_at_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    alias = x.detach()
    alias[0] = 5.0  # the same memory as x: PyTorch's shared version counter refuses this too
    with pytest.raises(RuntimeError, match="written in place"):
        y.backward()


def test_a_write_to_the_source_of_a_saved_detached_alias_is_refused_at_backward():
    t, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    z = (t.detach() * w).sum()  # Mul saved the alias, which is t's memory
    t[0] = 7.0
    with pytest.raises(RuntimeError, match="written in place"):
        z.backward()


def test_detach_of_detach_shares_the_count_and_unwritten_aliases_change_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    inner = x.detach().detach()
    y.backward()  # no write: the gradient as usual
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    y = (x * x).sum()
    inner[1] = 0.0
    with pytest.raises(RuntimeError, match="written in place"):
        y.backward()
