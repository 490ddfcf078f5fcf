"""Recording layers: anomaly mode and forward mode compose in any order and leave the plain functions."""
import math
import sys
import threading

import numpy as np
import pytest
from test_gradcheck import Cube  # a user's Function: kind "other", its jvp rule is backward transposed

import autograd
from autograd import (
    AnomalyError,
    Tensor,
    Value,
    detect_anomaly,
    graph,
    is_anomaly_enabled,
    recording,
    set_detect_anomaly,
    value,
)
from autograd.forward import is_tracing

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's log(0) warnings

HERE = __file__
PLAIN = tuple(entry.current() for entry in recording.ENTRY_POINTS)  # as the engine defines them


def installed() -> tuple:
    return tuple(entry.current() for entry in recording.ENTRY_POINTS)


def assert_plain() -> None:
    """No layer left, and every entry point is the very object the engine defined (zero cost)."""
    assert recording.layers() == ()
    assert all(now is plain for now, plain in zip(installed(), PLAIN, strict=True))


@pytest.fixture(autouse=True)
def plain_before_and_after():
    assert_plain()
    yield
    assert_plain()


def test_the_plain_entry_points_are_the_engines_own_functions():
    assert value._make.__module__ == "autograd.value" and value._make.__qualname__ == "_make"
    assert Tensor.__dict__["_apply"].__func__.__qualname__ == "Tensor._apply"
    assert Value.__dict__["_apply"].__func__.__qualname__ == "Value._apply"
    assert graph.walk.__module__ == "autograd.graph" and graph.walk.__qualname__ == "walk"


def f_value(x):
    return (x.sin() * x + Cube.apply(x)).tanh()


def df_value(x):
    inner = math.sin(x) * x + x**3
    return (1 - math.tanh(inner) ** 2) * (math.cos(x) * x + math.sin(x) + 3 * x * x)


def f_tensor(x):
    return (x.exp() * x).sum() + Cube.apply(x).sum()


def df_tensor(x, v):
    return float(np.sum((np.exp(x) * (1 + x) + 3 * x * x) * v))


X, V = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -2.0])


def line_after() -> int:
    return sys._getframe(1).f_lineno + 1


def log_of_zero(x):
    """An op that produces -inf from finite inputs: anomaly mode raises, naming the line below."""
    return (x * 0.0).log()


# ------------------------------------------------------------ every order


def test_anomaly_inside_f_of_a_jvp_keeps_the_tangents_and_checks_the_ops():
    def f(x):
        with detect_anomaly():
            assert is_anomaly_enabled() and is_tracing()
            return f_value(x)

    assert autograd.jvp(f, (0.7,), (1.0,))[1] == pytest.approx(df_value(0.7))

    def g(x):
        with detect_anomaly():
            return f_tensor(x)

    assert autograd.jvp(g, (X,), (V,))[1] == pytest.approx(df_tensor(X, V))


def test_anomaly_inside_f_of_a_jvp_raises_at_the_users_line():
    def f(x):
        with detect_anomaly():
            y = x * 2.0
            f.line = line_after()
            return y + (y - y).log()

    for primal, tangent in ((0.7, 1.0), (X, V)):
        with pytest.raises(AnomalyError, match=r"Log \(log\) produced -inf in forward") as caught:
            autograd.jvp(f, (primal,), (tangent,))
        assert f"{HERE}:{f.line}" in str(caught.value)
        assert_plain()


def test_a_jvp_inside_anomaly_mode_keeps_the_tangents_and_checks_the_ops():
    with detect_anomaly():
        assert autograd.jvp(f_value, (0.7,), (1.0,))[1] == pytest.approx(df_value(0.7))
        assert autograd.jvp(f_tensor, (X,), (V,))[1] == pytest.approx(df_tensor(X, V))
        with pytest.raises(AnomalyError, match="Log"):
            autograd.jvp(log_of_zero, (X,), (V,))
        assert recording.layers() == (autograd.anomaly._LAYER,) and not is_tracing()
        assert is_anomaly_enabled()


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_anomaly_switched_on_and_off_inside_f_loses_no_tangent(engine):
    """The bug this module fixes: switching anomaly mode inside f used to drop the tracer."""
    f, primal, tangent, expected = (
        (f_value, 0.7, 1.0, df_value(0.7)) if engine == "value" else (f_tensor, X, V, df_tensor(X, V))
    )

    def toggled(x):
        set_detect_anomaly(True)
        y = f(x)
        set_detect_anomaly(False)
        return y * 2.0 + f(x)  # recorded after the mode went off: still traced

    assert autograd.jvp(toggled, (primal,), (tangent,))[1] == pytest.approx(3 * expected)


def test_anomaly_switched_off_inside_f_of_a_jvp_run_in_anomaly_mode():
    def f(x):
        with set_detect_anomaly(False):
            y = f_tensor(x)
            assert not is_anomaly_enabled() and is_tracing()
        return y

    with detect_anomaly():
        assert autograd.jvp(f, (X,), (V,))[1] == pytest.approx(df_tensor(X, V))
        assert is_anomaly_enabled() and recording.layers() == (autograd.anomaly._LAYER,)


def test_nested_jvps_with_anomaly_mode_inside_the_inner_f_give_second_derivatives():
    def inner(x):
        with detect_anomaly(check_nan=False):  # both jvps open: three layers
            assert len(recording.layers()) == 2 and autograd.anomaly.is_anomaly_check_nan_enabled() is False
            return x.sin() * x

    def first(x):
        return autograd.jvp(inner, (x,), (1.0,))[1]

    # d2/dx2 (x sin x) = 2 cos x - x sin x
    assert autograd.jvp(first, (0.7,), (1.0,))[1] == pytest.approx(2 * math.cos(0.7) - 0.7 * math.sin(0.7))


def test_grad_of_a_jvp_in_anomaly_mode():
    with detect_anomaly():
        dd = autograd.grad(lambda x: autograd.jvp(lambda y: y.sin() * y, (x,), (1.0,))[1])(0.7)
    assert dd == pytest.approx(2 * math.cos(0.7) - 0.7 * math.sin(0.7))


# ------------------------------------------------------------ putting the plain functions back


def test_an_error_inside_f_removes_only_the_jvps_layer():
    with detect_anomaly():
        with pytest.raises(ZeroDivisionError):
            autograd.jvp(lambda x: x * (1 / 0), (X,), (V,))
        assert recording.layers() == (autograd.anomaly._LAYER,)
    with pytest.raises(ZeroDivisionError):
        autograd.jvp(lambda x: detect_anomaly()(lambda: x * (1 / 0))(), (X,), (V,))


class Spy:
    """A layer over every entry point that logs its name on each call, then calls the function below."""

    def __init__(self, name: str, log: list) -> None:
        def wrapper(inner):
            def spied(*args):
                log.append(name)
                return inner(*args)

            return spied

        self.layer = recording.Layer(name, dict.fromkeys(recording.ENTRY_POINTS, wrapper))


def test_layers_wrap_in_install_order_and_come_off_in_any_order():
    log = []
    a, b, c = (Spy(name, log).layer for name in "abc")

    def one_value_op():
        log.clear()
        Value(2.0) * 3.0
        return "".join(log)

    recording.install(a)
    recording.install(b)
    assert one_value_op() == "ba"  # the last installed is called first
    recording.remove(a)  # from the middle of the stack
    assert one_value_op() == "b"
    recording.install(c)
    recording.install(a)
    assert one_value_op() == "acb"
    log.clear()
    (Tensor([1.0], requires_grad=True) * 2.0).sum().backward()
    assert log.count("a") == log.count("b") == log.count("c") > 0  # Tensor._apply and graph.walk too
    log.clear()
    Cube.apply(Value(1.0))
    assert log == ["a", "c", "b"] * 2  # Value._apply, then the value._make it calls
    for layer in (c, b, a):
        recording.remove(layer)
    assert one_value_op() == ""


def test_a_layer_installed_twice_stays_until_removed_twice():
    layer = Spy("twice", []).layer
    recording.install(layer)
    recording.install(layer)
    recording.remove(layer)
    assert recording.layers() == (layer,) and value._make is not PLAIN[0]
    recording.remove(layer)
    with pytest.raises(ValueError, match="not installed"):
        recording.remove(layer)


def test_a_layer_wraps_only_its_entry_points():
    layer = recording.Layer("make only", {recording.MAKE: lambda inner: lambda *args: inner(*args)})
    recording.install(layer)
    try:
        assert value._make is not PLAIN[0] and installed()[1:] == PLAIN[1:]
    finally:
        recording.remove(layer)


def test_a_swap_by_hand_under_a_layer_is_refused_and_the_install_changes_nothing():
    with detect_anomaly():
        value._make = PLAIN[0]  # behind the mechanism's back: anomaly mode's Value check is gone
        with pytest.raises(RuntimeError, match=r"value\._make was swapped by hand while anomaly mode"):
            autograd.jvp(f_value, (0.7,), (1.0,))
        assert recording.layers() == (autograd.anomaly._LAYER,) and not is_tracing()
        with pytest.raises(AnomalyError):  # the chain is rebuilt: the check is back
            Value(-1.0).log()
        assert autograd.jvp(f_value, (0.7,), (1.0,))[1] == pytest.approx(df_value(0.7))


# ------------------------------------------------------------ threads


def test_anomaly_toggled_in_one_thread_while_another_runs_jvps():
    """The swap is process-wide, the traces per thread: each thread's tangents stay right."""
    interval, errors, results = sys.getswitchinterval(), [], []
    sys.setswitchinterval(1e-6)

    def jvps():
        for _ in range(30):
            results.append(autograd.jvp(f_tensor, (X,), (V,))[1])

    def toggles():
        for _ in range(30):
            with detect_anomaly():
                y = Tensor(X, requires_grad=True)
                (y * y).sum().backward()
                assert not is_tracing()  # the other thread's traces are not this thread's
                results.append(float(y.grad @ V))

    def run(work):
        try:
            work()
        except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in (jvps, jvps, toggles)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    expected = sorted([df_tensor(X, V)] * 60 + [float(2 * X @ V)] * 30)
    assert sorted(results) == pytest.approx(expected)
