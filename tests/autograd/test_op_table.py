"""THE op table: every elementwise op once, with its NumPy reference and its special points.

One table (as MiniTorch's tests keep it): each op as the engine writes it
(the same spelling runs on Values, Tensors and, where PyTorch spells it the
same, torch tensors), its NumPy reference, PyTorch's spelling where it
differs, the map (``shift``) into its smooth domain for inputs in [-3, 3]
(log of x + 4, 1 / (x + 3.5), sqrt of x**2 + 1), and its kinks. The smooth
interior is checked against NumPy and central differences, first and second
derivatives, on Values and float64 Tensors; at the special points
(``autograd.testing.special_values``: 0, kinks, ties, +-inf, NaN, tiny and
huge numbers) forward values must equal NumPy's with NaN in the same places,
backward must not raise, and Value and Tensor must agree. The PyTorch
differential suite (test_torch_differential.py) runs this same table.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Tensor, Value, maximum, minimum, numerical_grad, where
from autograd.testing import (
    assert_gradients_match,
    broadcastable_shapes,
    dtypes,
    special_values,
    tensors,
    values,
)


def same(*xs):
    return xs if len(xs) > 1 else xs[0]


@dataclass(frozen=True)
class Op:
    """An op as the engine writes it, its references, its smooth domain and its kinks."""

    name: str
    f: Callable  # the bare op, on Values and Tensors (and torch tensors unless ``torch`` is given)
    reference: Callable  # NumPy
    torch: Callable | None = None  # PyTorch's spelling, when it differs from ``f``
    shift: Callable = same  # drawn inputs -> inputs inside the op's smooth domain
    kinks: tuple[float, ...] = ()
    on_values: bool = True
    undefined: Callable | None = None  # inputs where NumPy, PyTorch and C disagree: not compared
    # inputs where PyTorch's second derivative comes from its selections, not the calculus:
    # NaN from 0 * inf inside its formula for the selected 0 of 0**b (b >= 0), and a**b's
    # Hessian at b = 0, asymmetric in torch (d/db of its selected 0 is 0, d/da of db is 1):
    # chaingrad keeps exact second derivatives there; only first derivatives are compared
    singular: Callable | None = None

    def regular(self, *xs) -> bool:
        """True unless some element is a point where only the first derivative is compared with torch."""
        if self.singular is None:
            return True
        with np.errstate(all="ignore"):
            return not np.any(self.singular(*np.broadcast_arrays(*(np.asarray(getattr(x, "data", x))
                                                                   for x in xs))))

    def defined(self, *xs) -> bool:
        """True unless some element is a point where the references themselves disagree."""
        if self.undefined is None:
            return True
        with np.errstate(all="ignore"):
            return not np.any(self.undefined(*(np.asarray(getattr(x, "data", x)) for x in xs)))

    def engine(self, *xs):
        """The op on inputs shifted into its smooth domain."""
        return self.f(*_tuple(self.shift(*xs)))

    def numpy(self, *xs):
        return self.reference(*_tuple(self.shift(*xs)))

    def __repr__(self) -> str:
        return self.name


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def arithmetic(name: str, f: Callable, shift: Callable = same, undefined: Callable | None = None,
               singular: Callable | None = None) -> Op:
    """An op written with operators only: the same expression is its NumPy and PyTorch reference."""
    return Op(name, f, f, shift=shift, undefined=undefined, singular=singular)


def minus_inf(x):
    """(-inf) ** fraction and (-0.0) ** fraction: C's pow gives inf and +0 (and
    their derivatives), NumPy's and PyTorch's x**0.5 (a sqrt) nan and -0."""
    return (x == -np.inf) | ((x == 0) & np.signbit(x))


def minus_inf_to_a_fraction(a, b):
    return minus_inf(a) & (b != np.round(b))


def sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def plus(k: float) -> Callable:
    return lambda x: x + k


def functional(name: str) -> Callable:
    """torch.nn.functional.<name>, looked up when called (torch is optional)."""
    def call(*args, **kwargs):
        import torch
        return getattr(torch.nn.functional, name)(*args, **kwargs)
    return call


def torch_where(a, b):
    import torch
    return torch.where(a > b, 2 * a, b)


def torch_where_sqrt(x):
    import torch
    return torch.where(x > 0, x, 0.0).sqrt()


def torch_binary(name: str) -> Callable:
    def call(a, b):
        import torch
        return getattr(torch, name)(a, b)
    return call


UNARY_OPS = [
    arithmetic("neg", lambda x: -x),
    arithmetic("add_number", lambda x: x + 2.5),
    arithmetic("number_add", lambda x: 2.5 + x),
    arithmetic("sub_number", lambda x: x - 1.5),
    arithmetic("number_sub", lambda x: 1.5 - x),
    arithmetic("mul_number", lambda x: x * 3.0),
    arithmetic("number_mul", lambda x: -2 * x),
    arithmetic("div_number", lambda x: x / 4.0),
    arithmetic("number_div", lambda x: 1 / x, shift=plus(3.5)),
    arithmetic("square", lambda x: x**2),
    arithmetic("cube", lambda x: x**3),
    arithmetic("pow_zero", lambda x: x**0),
    arithmetic("pow_one", lambda x: x**1),
    arithmetic("pow_half", lambda x: x**0.5, shift=plus(3.5), undefined=minus_inf),
    arithmetic("pow_fraction", lambda x: x**1.5, shift=plus(3.5), undefined=minus_inf),
    arithmetic("pow_negative", lambda x: x**-2, shift=plus(3.5)),
    arithmetic("number_pow", lambda x: 2**x),
    arithmetic("zero_pow", lambda x: 0.0**x, shift=plus(4.0), singular=lambda x: x >= 0),
    Op("exp", lambda x: x.exp(), np.exp),
    Op("log", lambda x: x.log(), np.log, shift=plus(4.0)),
    Op("sqrt", lambda x: x.sqrt(), np.sqrt, shift=lambda x: x * x + 1),
    Op("tanh", lambda x: x.tanh(), np.tanh),
    Op("sin", lambda x: x.sin(), np.sin),
    Op("cos", lambda x: x.cos(), np.cos),
    Op("sigmoid", lambda x: x.sigmoid(), sigmoid),
    Op("softplus", lambda x: x.softplus(), lambda x: np.logaddexp(0, x), functional("softplus")),
    Op("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), kinks=(0.0,)),
    Op("leaky_relu", lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x),
       lambda x: functional("leaky_relu")(x, 0.1), kinks=(0.0,)),
    Op("abs", lambda x: x.abs(), np.abs, kinks=(0.0,)),
    Op("clip", lambda x: x.clip(-1.0, 2.0), lambda x: np.clip(x, -1.0, 2.0), kinks=(-1.0, 2.0),
       on_values=False),
    Op("where_sqrt", lambda x: where(x > 0, x, 0.0).sqrt(), lambda x: np.sqrt(np.where(x > 0, x, 0.0)),
       torch_where_sqrt, kinks=(0.0,), on_values=False),
]

BINARY_OPS = [
    arithmetic("add", lambda a, b: a + b),
    arithmetic("sub", lambda a, b: a - b),
    arithmetic("mul", lambda a, b: a * b),
    arithmetic("div", lambda a, b: a / b, shift=lambda a, b: (a, b + 3.5)),
    arithmetic("pow", lambda a, b: a**b, shift=lambda a, b: (a + 4, b), undefined=minus_inf_to_a_fraction,
               singular=lambda a, b: (a == 0) | (b == 0)),
    Op("maximum", maximum, np.maximum, torch_binary("maximum"), kinks=(0.0,), on_values=False),
    Op("minimum", minimum, np.minimum, torch_binary("minimum"), kinks=(0.0,), on_values=False),
    Op("where", lambda a, b: where(a > b, 2 * a, b), lambda a, b: np.where(a > b, 2 * a, b),
       torch_where, kinks=(0.0,), on_values=False),
]

VALUE_UNARY = [op for op in UNARY_OPS if op.on_values]
VALUE_BINARY = [op for op in BINARY_OPS if op.on_values]
SMOOTH_UNARY = [op for op in UNARY_OPS if not op.kinks]
SMOOTH_BINARY = [op for op in BINARY_OPS if not op.kinks]
EDGES = settings(max_examples=15)  # per op: the table has ~40 ops, so ~600 edge examples a test
KINK_MARGIN = 1e-3  # central differences with eps 1e-6 must not straddle a kink


def away_from_kinks(op: Op, *points: np.ndarray) -> bool:
    """True when no point (for a binary op: the difference a - b) sits near a kink."""
    x = np.asarray(points[0] - points[1] if len(points) == 2 else points[0])
    return all(np.all(np.abs(x - k) > KINK_MARGIN) for k in op.kinks)


def ids(op: Op) -> str:
    return op.name


# ---------------------------------------------------------------- Value


@pytest.mark.parametrize("op", VALUE_UNARY, ids=ids)
@given(x=values())
def test_unary_op_on_value_matches_reference_and_numerical_first_and_second_derivatives(op, x):
    assume(away_from_kinks(op, x.data))
    assert op.engine(x).data == pytest.approx(op.numpy(x.data), rel=1e-12, abs=1e-12)
    assert_gradients_match(op.engine, x)
    assert_gradients_match(op.engine, x, order=2)


@pytest.mark.parametrize("op", VALUE_BINARY, ids=ids)
@given(a=values(), b=values())
def test_binary_op_on_values_matches_reference_and_numerical_first_and_second_derivatives(op, a, b):
    assert op.engine(a, b).data == pytest.approx(op.numpy(a.data, b.data), rel=1e-12, abs=1e-12)
    assert_gradients_match(op.engine, a, b)
    assert_gradients_match(op.engine, a, b, order=2)


@pytest.mark.parametrize("op", VALUE_BINARY, ids=ids)
@given(a=values(), b=st.floats(-3, 3))
def test_binary_op_takes_a_number_on_either_side_of_a_value(op, a, b):
    assert op.engine(a, b).data == pytest.approx(op.numpy(a.data, b), rel=1e-12, abs=1e-12)
    assert op.engine(b, a).data == pytest.approx(op.numpy(b, a.data), rel=1e-12, abs=1e-12)
    assert_gradients_match(lambda x: op.engine(x, b) * op.engine(b, x), a)


# --------------------------------------------------------------- Tensor


@pytest.mark.parametrize("op", UNARY_OPS, ids=ids)
@given(x=tensors())
def test_unary_op_on_tensor_matches_reference_and_numerical_first_and_second_derivatives(op, x):
    assume(away_from_kinks(op, x.data))
    out = op.engine(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.data, op.numpy(x.data), rtol=1e-12, atol=1e-12)
    assert_gradients_match(op.engine, x)
    assert_gradients_match(op.engine, x, order=2, mode="directional")


@pytest.mark.parametrize("op", BINARY_OPS, ids=ids)
@given(shapes=broadcastable_shapes(), data=st.data())
def test_binary_op_broadcasts_with_input_shaped_first_and_second_derivatives(op, shapes, data):
    a, b = (data.draw(tensors(shape=shape)) for shape in shapes)
    assume(away_from_kinks(op, *np.broadcast_arrays(a.data, b.data)))
    out = op.engine(a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(out.data, op.numpy(a.data, b.data), rtol=1e-12, atol=1e-12)
    (out * out).sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert_gradients_match(op.engine, a, b)
    assert_gradients_match(op.engine, a, b, order=2, mode="directional")


@pytest.mark.parametrize("op", UNARY_OPS, ids=ids)
@given(x=tensors(dtype=np.float32))
def test_unary_op_keeps_float32_through_forward_and_backward(op, x):
    out = op.engine(x)
    out.sum().backward()
    assert out.dtype == np.float32
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", BINARY_OPS, ids=ids)
@given(shapes=broadcastable_shapes(), data=st.data())
def test_binary_op_keeps_float32_through_forward_and_backward(op, shapes, data):
    a, b = (data.draw(tensors(shape=shape, dtype=np.float32)) for shape in shapes)
    out = op.engine(a, b)
    out.sum().backward()
    assert out.dtype == np.float32
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


# ------------------------------------------------------- special points


def assert_same_numbers(actual, expected, rtol=1e-12, atol=1e-300):
    """Equal within rtol, with NaN in the same places and infinities of the same sign."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN positions differ")
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def value_derivatives(f, x: float):
    """f(x), f'(x) and f''(x) on a Value (create_graph), as floats."""
    leaf = Value(x)
    out = f(leaf)
    out.backward(create_graph=True)
    first = leaf.grad
    second = 0.0
    if isinstance(first, Value) and first._fn is not None:
        leaf.grad = 0.0
        first.backward()
        second = leaf.grad
    return out.data, float(first), float(second)


def tensor_derivatives(f, x: np.ndarray):
    """f(x), d sum f / dx and the diagonal second derivative on a Tensor (create_graph), as arrays."""
    leaf = Tensor(x, requires_grad=True)
    out = f(leaf)
    out.sum().backward(create_graph=True)
    first = leaf.grad
    second = np.zeros_like(x)
    if isinstance(first, Tensor) and first.requires_grad:
        leaf.grad = None
        first.sum().backward()
        second = leaf.grad
    return out.data, np.asarray(first.data if isinstance(first, Tensor) else first), second


@pytest.mark.parametrize("op", UNARY_OPS, ids=ids)
@EDGES
@given(x=tensors(edges=True))
def test_unary_op_at_special_points_matches_numpy_and_backward_never_raises(op, x):
    assume(op.defined(x))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = op.f(x)
        assert_same_numbers(out.data, op.reference(x.data))
        out.sum().backward()
    assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


@pytest.mark.parametrize("op", VALUE_UNARY, ids=ids)
@EDGES
@given(x=special_values())
def test_value_and_tensor_agree_at_special_points_to_the_second_derivative(op, x):
    assume(op.defined(x))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        on_value = value_derivatives(op.f, x)
        on_tensor = tensor_derivatives(op.f, np.array(x))
    for name, v, t in zip(("value", "first", "second"), on_value, on_tensor, strict=True):
        assert_same_numbers(v, t), name


@pytest.mark.parametrize("op", BINARY_OPS, ids=ids)
@EDGES
@given(shapes=broadcastable_shapes(), data=st.data())
def test_binary_op_at_special_points_matches_numpy_and_backward_never_raises(op, shapes, data):
    a, b = (data.draw(tensors(shape=shape, edges=True)) for shape in shapes)
    assume(op.defined(a, b))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = op.f(a, b)
        assert_same_numbers(out.data, op.reference(a.data, b.data))
        out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("op", VALUE_BINARY, ids=ids)
@EDGES
@given(a=special_values(), b=special_values())
def test_binary_value_op_agrees_with_tensor_at_special_points(op, a, b):
    assume(op.defined(a, b))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        x, y = Value(a), Value(b)
        out = op.f(x, y)
        out.backward()
        s, t = Tensor(np.array(a), requires_grad=True), Tensor(np.array(b), requires_grad=True)
        expected = op.f(s, t)
        expected.backward()
    assert_same_numbers(out.data, expected.data)
    assert_same_numbers([x.grad, y.grad], [s.grad, t.grad])


@pytest.mark.parametrize("op", BINARY_OPS, ids=ids)
@EDGES
@given(shapes=broadcastable_shapes(), dtype_a=dtypes(), dtype_b=dtypes(), data=st.data())
def test_mixed_dtypes_follow_numpy_and_each_gradient_has_its_input_dtype(op, shapes, dtype_a, dtype_b, data):
    a = data.draw(tensors(shape=shapes[0], dtype=dtype_a))
    b = data.draw(tensors(shape=shapes[1], dtype=dtype_b))
    with np.errstate(all="ignore"):
        out = op.f(a, b)
        expected = op.reference(a.data, b.data)
        out.sum().backward()
    assert out.dtype == np.asarray(expected).dtype
    assert a.grad.dtype == dtype_a and b.grad.dtype == dtype_b


@pytest.mark.parametrize("op", [op for op in BINARY_OPS if op.name not in ("where", "pow")], ids=ids)
@pytest.mark.parametrize("number", [2, 2.5])
def test_a_python_number_does_not_promote_a_float16_or_float32_tensor(op, number):
    for dtype in (np.float16, np.float32):
        x = Tensor(np.array([1.0, 3.0], dtype=dtype), requires_grad=True)
        out = op.f(x, number)
        out.sum().backward()
        assert out.dtype == dtype and x.grad.dtype == dtype


# ------------------------------------------------- random expression DAGs


def squash(x):
    """3 tanh(x / 3): keeps every op's input in the table's safe domain [-3, 3]."""
    return (x / 3).tanh() * 3


def squash_reference(x):
    return np.tanh(x / 3) * 3


@st.composite
def dag_steps(draw, max_steps: int = 8):
    """A random DAG as steps (op, i, j): apply op to earlier nodes i and j (shared freely)."""
    ops = SMOOTH_UNARY + SMOOTH_BINARY
    step = st.tuples(st.sampled_from(ops), st.integers(0, 2**16), st.integers(0, 2**16))
    return draw(st.lists(step, min_size=1, max_size=max_steps))


def evaluate_dag(steps, leaves, use_engine: bool):
    """Every node of the DAG, leaves first; operands are picked from all earlier nodes."""
    nodes = list(leaves)
    for op, i, j in steps:
        f, squash_fn = (op.engine, squash) if use_engine else (op.numpy, squash_reference)
        operands = [squash_fn(nodes[k % len(nodes)]) for k in (i, j)]
        nodes.append(f(operands[0]) if op in SMOOTH_UNARY else f(*operands))
    return nodes


def dag_output(steps, *leaves):
    """The sum of every node the DAG made, so each one reaches the output."""
    total = 0.0
    for node in evaluate_dag(steps, leaves, use_engine=True)[len(leaves):]:
        total = total + (node.sum() if isinstance(node, Tensor) else node)
    return total


def assert_backprop_matches_numerical(f, *leaves):
    f(*leaves).backward()
    expected = numerical_grad(f, *leaves)
    for leaf, numerical in zip(leaves, expected, strict=True):
        backprop = np.zeros_like(numerical) if leaf.grad is None else leaf.grad  # an unused leaf
        np.testing.assert_allclose(backprop, numerical, rtol=1e-5, atol=1e-5)


@settings(max_examples=30)
@given(steps=dag_steps(), leaves=st.lists(values(), min_size=1, max_size=3))
def test_random_value_dag_with_shared_nodes_matches_numerical_gradient(steps, leaves):
    nodes = evaluate_dag(steps, leaves, use_engine=True)
    reference = evaluate_dag(steps, [v.data for v in leaves], use_engine=False)
    np.testing.assert_allclose([n.data for n in nodes], reference, rtol=1e-10, atol=1e-12)
    assert_backprop_matches_numerical(lambda *xs: dag_output(steps, *xs), *leaves)


@settings(max_examples=25)
@given(steps=dag_steps(), shapes=broadcastable_shapes(num_shapes=3, max_side=3), data=st.data())
def test_random_tensor_dag_with_shared_nodes_matches_numerical_gradient(steps, shapes, data):
    leaves = [data.draw(tensors(shape=shape)) for shape in shapes]
    nodes = evaluate_dag(steps, leaves, use_engine=True)
    reference = evaluate_dag(steps, [t.data for t in leaves], use_engine=False)
    for node, expected in zip(nodes, reference, strict=True):
        np.testing.assert_allclose(node.data, expected, rtol=1e-10, atol=1e-12)
    assert_backprop_matches_numerical(lambda *xs: dag_output(steps, *xs), *leaves)


def test_zero_power_of_a_0d_intermediate_passes_a_zero_array_back():
    """x**0 on a 0-d tensor sends back a 0-d zero (NumPy's 0-d math gives scalars), not a float."""
    x = Tensor(np.array(3.0), requires_grad=True)
    out = ((x * 2.0) ** 0) * 2.0  # the upstream g is a NumPy scalar; x * 2.0 saved a float
    out.backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == () and x.grad == 0.0
