"""NumPy ufuncs on Values: recorded through the Value's own ops, or a clear TypeError naming the ufunc."""

import math

import numpy as np
import pytest

from autograd import Function, Tensor, Value


def numpy_op(forward_ufunc: np.ufunc, derivative_ufunc: np.ufunc) -> type[Function]:
    """A user's Function whose backward calls a NumPy ufunc on what it saved: g * derivative(a)."""

    class NumPyOp(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return forward_ufunc(a)

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * derivative_ufunc(a)

    return NumPyOp


CosByNumPy = numpy_op(np.sin, np.cos)  # the README's trap: fine here, np.cos(v) is v.cos()
CoshBySinh = numpy_op(np.cosh, np.sinh)  # np.sinh: no node records it


@pytest.mark.parametrize("call", [lambda v: np.sinh(v), lambda v: np.maximum(v, 0.0), lambda v: np.isnan(v),
                                  lambda v: np.arctan2(1.0, v), lambda v: np.float64(1.0) < v])
def test_a_ufunc_a_value_has_no_op_for_names_itself_and_the_way(call):
    with pytest.raises(TypeError) as error:
        call(Value(0.5))
    message = str(error.value)
    assert message.startswith("np.") and " on a Value: " in message
    assert "x.cos()" in message and "autograd.functions" in message and "x.data" in message


def test_the_error_names_the_ufunc_not_numpys_object_loop():
    with pytest.raises(TypeError, match=r"^np\.sinh on a Value") as error:
        np.sinh(Value(0.5))
    assert "x.sinh()" not in str(error.value)  # only ops a Value has are offered
    assert isinstance(error.value.__cause__, TypeError)  # NumPy's own message stays in the chain


def test_a_ufunc_with_a_value_op_is_recorded_as_that_op():
    x = Value(0.7)
    y = np.cos(x) * np.exp(x)
    assert isinstance(y, Value)
    y.backward()
    assert x.grad == pytest.approx((-math.sin(0.7) + math.cos(0.7)) * math.exp(0.7))


def test_numpy_scalars_and_arrays_still_combine_with_values():
    x = Value(3.0)
    assert isinstance(np.float64(2.0) * x, Value) and (np.float64(2.0) * x).data == 6.0
    assert (np.int64(2) - x).data == -1.0 and (np.float32(2.0) ** x).data == 8.0
    row = np.array([1.0, 2.0]) * x
    assert row.dtype == object and [v.data for v in row] == [3.0, 6.0]
    total = np.sum(row) + np.dot([x, x], [1.0, 2.0])
    total.backward()
    assert x.grad == 6.0


def test_np_cos_in_a_users_backward_is_right_at_second_order_on_values():
    x = Value(0.9)
    y = CosByNumPy.apply(x)
    y.backward(create_graph=True)
    dx = x.grad
    assert isinstance(dx, Value) and dx.data == pytest.approx(math.cos(0.9))
    x.grad = 0.0
    dx.backward()
    assert x.grad == pytest.approx(-math.sin(0.9))


def test_a_ufunc_without_a_node_op_in_a_users_backward_fails_clearly_at_second_order():
    x = Value(0.9)
    CoshBySinh.apply(x).backward()  # first order: backward runs on floats
    assert x.grad == pytest.approx(math.sinh(0.9))
    x = Value(0.9)
    with pytest.raises(TypeError, match=r"np\.sinh on a Value"):
        CoshBySinh.apply(x).backward(create_graph=True)
    t = Tensor([0.9], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.sinh on a Tensor"):  # the Tensor engine says the same
        CoshBySinh.apply(t).sum().backward(create_graph=True)

