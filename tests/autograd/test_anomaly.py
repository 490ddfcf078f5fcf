"""Anomaly mode names the op that PRODUCED the first NaN/inf, its line and inputs, on both engines."""
import math
import sys
import threading

import numpy as np
import pytest

import autograd
import nn
from autograd import (
    AnomalyError,
    Function,
    Tensor,
    Value,
    detect_anomaly,
    draw_dot,
    graph,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
    value,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's divide-by-zero warnings

HERE = __file__


def next_line() -> int:
    """The line number after the caller's current line (where the op under test is written)."""
    return sys._getframe(1).f_lineno + 1


def assert_points_at(error: AnomalyError, line: int, code: str) -> None:
    message = str(error)
    assert f"{HERE}:{line}" in message, message
    assert code in message, message


@pytest.fixture(autouse=True)
def anomaly_off_after():
    yield
    assert not is_anomaly_enabled(), "a test left anomaly mode on"


def engines(data: float):
    return [Value(data, label="x"), Tensor([1.0, data, 2.0], requires_grad=True, dtype=np.float64, label="x")]


# ------------------------------------------------------------ forward


FORWARD = [  # (how, an input that makes it non-finite, the op's class, what it makes)
    (lambda x: x.log(), 0.0, "Log", "-inf"),
    (lambda x: x.sqrt(), -1.0, "Sqrt", "nan"),
    (lambda x: (x * 0) / (x * 0), 0.0, "Div", "nan"),
    (lambda x: x.exp(), 1000.0, "Exp", "inf"),
]


@pytest.mark.parametrize(("op", "data", "name", "kind"), FORWARD, ids=["log0", "sqrt-1", "0/0", "exp-inf"])
@pytest.mark.parametrize("engine", [0, 1], ids=["Value", "Tensor"])
def test_forward_nan_names_the_producing_op_and_the_users_line(op, data, name, kind, engine):
    x = engines(data)[engine]
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        line = next_line()
        (op(x) * 2).tanh()  # the ops after the producer never run: the first anomaly raises
    message = str(caught.value)
    assert f"{name} " in message.splitlines()[0] and f"produced {kind} in forward" in message
    assert_points_at(caught.value, line, "(op(x) * 2).tanh()")
    assert caught.value.node._fn.__name__ == name
    assert isinstance(caught.value, RuntimeError)


def test_forward_message_gives_value_inputs_and_tensor_indices():
    with detect_anomaly():
        with pytest.raises(AnomalyError) as scalar:
            Value(3.0, label="a") / Value(0.0, label="b") * 0
        t = Tensor([[1.0, 2.0], [0.0, 4.0]], requires_grad=True, dtype=np.float64)
        with pytest.raises(AnomalyError) as array:
            t.log()
    assert "input 0 (Value 'a'): 3.0" in str(scalar.value)
    assert "input 1 (Value 'b'): 0.0" in str(scalar.value)
    assert "(1 of 4 elements, first at (1, 0))" in str(array.value)
    assert "input 0 (Tensor): shape (2, 2) float64, at (1, 0): 0.0" in str(array.value)


def test_forward_nan_passed_on_from_an_input_is_not_blamed():
    with detect_anomaly():
        v = Value(math.inf) * 2 + 1  # inf was already in the input
        t = (Tensor([np.nan, 1.0], requires_grad=True) * 3).exp() @ Tensor([1.0, 1.0])
        assert math.isinf(v.data) and np.isnan(t.data)
        with pytest.raises(AnomalyError) as caught:  # a NEW inf beside one passed on is blamed
            Tensor([np.inf, 0.0, 1.0], requires_grad=True).log()
    assert "Log" in str(caught.value) and "first at (1,)" in str(caught.value)


def test_forward_overflow_of_a_broadcast_sum_is_produced():
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        Tensor([1e308], dtype=np.float64, requires_grad=True) + Tensor([[1e308], [1.0]], dtype=np.float64)
    assert "Add" in str(caught.value) and "first at (0, 0)" in str(caught.value)


class Reciprocal(Function):
    """1 / a;  da = -g / a**2."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.float64(1.0) / a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g / (a * a)


@pytest.mark.parametrize("engine", [0, 1], ids=["Value", "Tensor"])
def test_forward_inf_in_a_custom_function_names_it(engine):
    x = engines(0.0)[engine]
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        line = next_line()
        Reciprocal.apply(x) + 1
    assert "Reciprocal produced inf in forward" in str(caught.value)
    assert_points_at(caught.value, line, "Reciprocal.apply(x) + 1")


def test_nn_fused_ops_point_at_the_users_line():
    model = nn.Linear(2, 1)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as linear:
            x = Tensor([[1e30, 1e30]], dtype=np.float32)
            model.weight.data[...] = 1e30
            line_model = next_line()
            model(x)
        with pytest.raises(AnomalyError) as loss:
            big = Tensor([1e200], dtype=np.float64, requires_grad=True)
            line_loss = next_line()
            nn.functional.mse_loss(big, Tensor([0.0], dtype=np.float64))
    assert_points_at(linear.value, line_model, "model(x)")
    assert_points_at(loss.value, line_loss, "nn.functional.mse_loss(big")


# ------------------------------------------------------------ backward


BACKWARD = [  # finite forward, non-finite derivative: (how, the op's class, its rule)
    (lambda x: x.sqrt(), "Sqrt", "g / (2 * out)"),
    (lambda x: x**0.5, "PowConstant", "g * n * a ** (n - 1)"),
    (lambda x: x.sqrt() * 0, "Sqrt", "g / (2 * out)"),  # g = 0 arrives: 0 * inf is nan, made by sqrt
]


@pytest.mark.parametrize(("op", "name", "rule"), BACKWARD, ids=["sqrt", "pow-half", "sqrt-times-0"])
@pytest.mark.parametrize("engine", [0, 1], ids=["Value", "Tensor"])
def test_backward_nan_names_the_producing_op_its_rule_and_line(op, name, rule, engine):
    x = engines(0.0)[engine]
    with detect_anomaly():
        line = next_line()
        y = op(x * 3)
        loss = (y.exp() * 2).sum() if engine else y.exp() * 2  # later ops only pass the inf on
        assert np.all(np.isfinite(loss.data))
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert f"the backward of {name}" in message and f"its rule for input 0): {rule}" in message
    assert_points_at(caught.value, line, "y = op(x * 3)")
    assert caught.value.node._fn.__name__ == name
    if engine:
        assert "first at (1,)" in message and "input 0 (Tensor): shape (3,) float64, at (1,): 0.0" in message


class NanBackward(Function):
    """a * 2 with a broken backward."""

    rule = ("nan (a bug)",)

    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return g * np.nan


@pytest.mark.parametrize("engine", [0, 1], ids=["Value", "Tensor"])
def test_backward_nan_of_a_custom_function_names_it(engine):
    x = engines(1.0)[engine]
    with detect_anomaly():
        line = next_line()
        out = NanBackward.apply(x).tanh()
        with pytest.raises(AnomalyError) as caught:
            (out.sum() if engine else out).backward()
    assert "the backward of NanBackward" in str(caught.value) and "nan (a bug)" in str(caught.value)
    assert_points_at(caught.value, line, "NanBackward.apply(x)")


def test_backward_under_create_graph_blames_the_formulas_op():
    x = Tensor([0.0, 1.0], requires_grad=True, dtype=np.float64)
    with detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(AnomalyError) as caught:
            y.backward(create_graph=True)
    assert "the backward of Sqrt" in str(caught.value)


def test_graph_recorded_outside_is_checked_in_backward_without_a_line():
    x = Value(0.0)
    y = x.sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        y.backward()
    assert "Sqrt" in str(caught.value) and "recorded outside anomaly mode" in str(caught.value)


class Failing(Function):
    @staticmethod
    def forward(ctx, a):
        return a + 1

    @staticmethod
    def backward(ctx, g):
        raise ValueError("broken backward")


def test_other_errors_in_backward_get_a_note_with_the_ops_line():
    x = Tensor([1.0], requires_grad=True)
    with detect_anomaly():
        line = next_line()
        y = Failing.apply(x).sum()
        with pytest.raises(ValueError, match="broken backward") as caught:
            y.backward()
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    if sys.version_info >= (3, 11):
        assert f"{HERE}:{line}" in notes and "Failing" in notes


# ------------------------------------------------------------ finite graphs, off, switching


def mlp_gradients(engine: int) -> list:
    if engine == 0:
        a, b = Value(0.3), Value(-1.2)
        loss = ((a * b).tanh() + (a - b).exp() / (b * b) + a.sigmoid() ** 2).log()
        loss.backward()
        return [loss.data, a.grad, b.grad]
    w = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, dtype=np.float64)
    x = Tensor(np.linspace(0.5, 2, 3), requires_grad=True, dtype=np.float64)
    loss = ((w @ x).tanh().exp().sum() / x.sqrt().sum()).log()
    loss.backward()
    return [loss.data, w.grad, x.grad]


@pytest.mark.parametrize("engine", [0, 1], ids=["Value", "Tensor"])
def test_finite_graph_gives_identical_results_in_anomaly_mode(engine):
    off = mlp_gradients(engine)
    with detect_anomaly():
        on = mlp_gradients(engine)
    for a, b in zip(off, on, strict=True):
        np.testing.assert_array_equal(a, b)


def test_functional_grad_second_order_and_edge_shapes_work_in_anomaly_mode():
    def f(x):
        return (x * x.sin()).sum()

    x = Tensor([0.5, -1.0], requires_grad=True, dtype=np.float64)
    off = (autograd.grad(f)(x), autograd.hessian(f)(np.array([0.5, -1.0])))
    with detect_anomaly():
        on = (autograd.grad(f)(x), autograd.hessian(f)(np.array([0.5, -1.0])))
        v = Value(0.7)  # a Value in: its gradient as a float (grad's rule)
        dv = autograd.grad(lambda v: v.tanh() ** 3)(v)
        empty = Tensor(np.zeros((0, 3)), requires_grad=True)
        empty.log().sum().backward()  # nothing to check: no element
        scalar = Tensor(0.0, requires_grad=True, dtype=np.float64)
        with pytest.raises(AnomalyError, match=r"Log \(log\) produced -inf"):
            scalar.log()
    np.testing.assert_array_equal(off[0].data, on[0].data)
    np.testing.assert_array_equal(off[1], on[1])
    assert dv == autograd.grad(lambda v: v.tanh() ** 3)(Value(0.7))
    assert empty.grad.shape == (0, 3)


def test_off_nothing_raises_and_nothing_is_swapped():
    plain = (value._make, Tensor.__dict__["_apply"], graph.walk)
    with detect_anomaly():
        assert value._make is not plain[0] and graph.walk is not plain[2]
    assert (value._make, Tensor.__dict__["_apply"], graph.walk) == plain
    x = Value(0.0)
    y = x.sqrt() + x.log()
    y.backward()
    assert math.isinf(x.grad) and type(y) is Value and Value.__slots__ == ("label",)


def test_decorator_with_and_without_parentheses():
    @detect_anomaly
    def bare():
        return is_anomaly_enabled()

    @detect_anomaly()
    def called():
        Value(-1.0).sqrt()

    assert bare() is True and not is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        called()


def test_nested_blocks_and_set_detect_anomaly_restore_the_mode():
    with detect_anomaly():
        with detect_anomaly(check_nan=False):
            assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
            assert math.isnan(Value(-1.0).sqrt().data)  # check_nan=False: lines only, no error
        assert is_anomaly_check_nan_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)


def test_the_mode_is_process_wide_as_in_pytorch():
    seen = []

    def other_thread():
        seen.append(is_anomaly_enabled())
        try:
            Tensor([0.0], requires_grad=True).log()
        except AnomalyError as error:
            seen.append(error)

    with detect_anomaly():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert seen[0] is True and isinstance(seen[1], AnomalyError)


# ------------------------------------------------------------ saved data written behind the graph's back


WRITES = [
    (lambda x: x.data.__setitem__(0, 5.0), "at (0,): was 1.0, now 5.0"),
    (lambda x: np.add(x.data, 1, out=x.data), "at (0,): was 1.0, now 2.0"),
]


@pytest.mark.parametrize(("write", "change"), WRITES, ids=["setitem", "ufunc-out"])
def test_write_into_data_of_a_saved_input_is_caught(write, change):
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64, label="x")
    with detect_anomaly():
        line = next_line()
        y = (x * x).sum()
        write(x)
        with pytest.raises(AnomalyError) as caught:
            y.backward()
    message = str(caught.value)
    assert "Mul (*) saved input 0 (shape (2,), label 'x')" in message and change in message
    assert_points_at(caught.value, line, "y = (x * x).sum()")
    assert isinstance(caught.value, RuntimeError)


def test_write_into_a_saved_output_is_caught_and_unsaved_data_is_free():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    with detect_anomaly():
        y = x.exp()
        y.data[1] = 0.0
        with pytest.raises(AnomalyError, match=r"Exp \(exp\) saved its output"):
            y.sum().backward()
        z = x + 1  # Add saves nothing: changing its input changes no gradient
        x.data[0] = 7.0
        z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# ------------------------------------------------------------ pictures, nn


@pytest.mark.parametrize("engine", [0, 1], ids=["Value", "Tensor"])
def test_highlight_marks_the_flagged_node(engine):
    x = engines(0.0)[engine]
    with detect_anomaly():
        y = x.sqrt()
        loss = (y * 2).sum() if engine else y * 2
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    assert caught.value.node is y
    plain = draw_dot(loss).source
    marked = draw_dot(loss, highlight=caught.value.node).source
    assert "penwidth=3" in marked and "penwidth=3" not in plain
    assert marked.count("#d62728") >= 2  # the node and its path to the root
    with detect_anomaly(), pytest.raises(AnomalyError) as forward:
        x.log()
    assert "penwidth=3" in draw_dot(forward.value.node, highlight=forward.value.node).source


def test_nn_training_step_in_anomaly_mode_matches_off():
    start = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)).state_dict()

    def step():
        np.random.seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        model.load_state_dict({k: v.copy() for k, v in start.items()})
        opt = nn.optim.Adam(model.parameters(), lr=1e-2)
        x, y = Tensor(np.random.randn(16, 2)), Tensor((np.random.rand(16, 1) > 0.5).astype(np.float32))
        for _ in range(2):
            loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.data.copy() for p in model.parameters()]

    off = step()
    with detect_anomaly():
        on = step()
    for a, b in zip(off, on, strict=True):
        np.testing.assert_array_equal(a, b)
