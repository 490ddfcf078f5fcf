"""Every elementwise op, once, against a plain NumPy reference and central differences.

One table (as MiniTorch's tests keep it): each op with its NumPy reference,
shifted into a safe domain for inputs in [-3, 3] (log of x + 4, 1 / (x + 3.5),
sqrt of x**2 + 1). The same hypothesis strategies and the same gradient check
run every op on Values and on float64 Tensors, first and second derivatives;
random expression DAGs over a few leaves then combine the table's ops with
shared sub-expressions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Tensor, maximum, minimum, numerical_grad, where
from autograd.testing import assert_gradients_match, broadcastable_shapes, tensors, values


@dataclass(frozen=True)
class Op:
    """An op as the engine writes it, its NumPy reference, and where it has kinks."""

    name: str
    engine: Callable
    reference: Callable
    kinks: tuple[float, ...] = ()
    on_values: bool = True

    def __repr__(self) -> str:
        return self.name


def arithmetic(name: str, f: Callable) -> Op:
    """An op written with operators only: the same expression is its own NumPy reference."""
    return Op(name, f, f)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY_OPS = [
    arithmetic("neg", lambda x: -x),
    arithmetic("add_number", lambda x: x + 2.5),
    arithmetic("number_add", lambda x: 2.5 + x),
    arithmetic("sub_number", lambda x: x - 1.5),
    arithmetic("number_sub", lambda x: 1.5 - x),
    arithmetic("mul_number", lambda x: x * 3.0),
    arithmetic("number_mul", lambda x: -2 * x),
    arithmetic("div_number", lambda x: x / 4.0),
    arithmetic("number_div", lambda x: 1 / (x + 3.5)),
    arithmetic("square", lambda x: x**2),
    arithmetic("cube", lambda x: x**3),
    arithmetic("pow_fraction", lambda x: (x + 3.5) ** 1.5),
    arithmetic("pow_negative", lambda x: (x + 3.5) ** -2),
    arithmetic("number_pow", lambda x: 2**x),
    Op("exp", lambda x: x.exp(), np.exp),
    Op("log", lambda x: (x + 4).log(), lambda x: np.log(x + 4)),
    Op("sqrt", lambda x: (x * x + 1).sqrt(), lambda x: np.sqrt(x * x + 1)),
    Op("tanh", lambda x: x.tanh(), np.tanh),
    Op("sigmoid", lambda x: x.sigmoid(), sigmoid),
    Op("softplus", lambda x: x.softplus(), lambda x: np.log1p(np.exp(x))),
    Op("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), kinks=(0.0,)),
    Op("leaky_relu", lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x), kinks=(0.0,)),
    Op("abs", lambda x: x.abs(), np.abs, kinks=(0.0,)),
    Op("clip", lambda x: x.clip(-1.0, 2.0), lambda x: np.clip(x, -1.0, 2.0), (-1.0, 2.0), False),
]

BINARY_OPS = [
    arithmetic("add", lambda a, b: a + b),
    arithmetic("sub", lambda a, b: a - b),
    arithmetic("mul", lambda a, b: a * b),
    arithmetic("div", lambda a, b: a / (b + 3.5)),
    arithmetic("pow", lambda a, b: (a + 4) ** b),
    Op("maximum", maximum, np.maximum, kinks=(0.0,), on_values=False),
    Op("minimum", minimum, np.minimum, kinks=(0.0,), on_values=False),
    Op("where", lambda a, b: where(a > b, 2 * a, b), lambda a, b: np.where(a > b, 2 * a, b), (0.0,), False),
]

VALUE_UNARY = [op for op in UNARY_OPS if op.on_values]
VALUE_BINARY = [op for op in BINARY_OPS if op.on_values]
SMOOTH_UNARY = [op for op in UNARY_OPS if not op.kinks]
SMOOTH_BINARY = [op for op in BINARY_OPS if not op.kinks]
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
    assert op.engine(x).data == pytest.approx(op.reference(x.data), rel=1e-12, abs=1e-12)
    assert_gradients_match(op.engine, x)
    assert_gradients_match(op.engine, x, order=2)


@pytest.mark.parametrize("op", VALUE_BINARY, ids=ids)
@given(a=values(), b=values())
def test_binary_op_on_values_matches_reference_and_numerical_first_and_second_derivatives(op, a, b):
    assert op.engine(a, b).data == pytest.approx(op.reference(a.data, b.data), rel=1e-12, abs=1e-12)
    assert_gradients_match(op.engine, a, b)
    assert_gradients_match(op.engine, a, b, order=2)


@pytest.mark.parametrize("op", VALUE_BINARY, ids=ids)
@given(a=values(), b=st.floats(-3, 3))
def test_binary_op_takes_a_number_on_either_side_of_a_value(op, a, b):
    assert op.engine(a, b).data == pytest.approx(op.reference(a.data, b), rel=1e-12, abs=1e-12)
    assert op.engine(b, a).data == pytest.approx(op.reference(b, a.data), rel=1e-12, abs=1e-12)
    assert_gradients_match(lambda x: op.engine(x, b) * op.engine(b, x), a)


# --------------------------------------------------------------- Tensor


@pytest.mark.parametrize("op", UNARY_OPS, ids=ids)
@given(x=tensors())
def test_unary_op_on_tensor_matches_reference_and_numerical_first_and_second_derivatives(op, x):
    assume(away_from_kinks(op, x.data))
    out = op.engine(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.data, op.reference(x.data), rtol=1e-12, atol=1e-12)
    assert_gradients_match(op.engine, x)
    assert_gradients_match(op.engine, x, order=2, mode="directional")


@pytest.mark.parametrize("op", BINARY_OPS, ids=ids)
@given(shapes=broadcastable_shapes(), data=st.data())
def test_binary_op_broadcasts_with_input_shaped_first_and_second_derivatives(op, shapes, data):
    a, b = (data.draw(tensors(shape=shape)) for shape in shapes)
    assume(away_from_kinks(op, *np.broadcast_arrays(a.data, b.data)))
    out = op.engine(a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(out.data, op.reference(a.data, b.data), rtol=1e-12, atol=1e-12)
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
        f, squash_fn = (op.engine, squash) if use_engine else (op.reference, squash_reference)
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
