"""Differential tests against PyTorch: values, first and second derivatives of every op, at the edges.

Each op of the op table (test_op_table.py) and each axis, movement and
linear-algebra op below runs on chaingrad (Value and float64 Tensor) and on
torch, on inputs drawn from the edge strategies (special values: 0, kinks,
ties, tiny and huge numbers, +-inf, NaN; negative and tuple axes; empty and
0-d shapes). Outputs, vector-Jacobian products and Hessian-vector products
must agree, NaN in the same places. Skipped without torch.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_op_table import BINARY_OPS, UNARY_OPS, VALUE_BINARY, VALUE_UNARY, assert_same_numbers, ids

from autograd import Tensor, Value, concatenate, grad, stack
from autograd.functions import Linear
from autograd.testing import (
    axes,
    broadcastable_shapes,
    permutations,
    shapes,
    special_values,
    tensors,
)

torch = pytest.importorskip("torch")

EDGE = settings(max_examples=8, deadline=None)  # ~700 examples in all: under a minute
RTOL = 1e-9


@contextmanager
def quiet():
    """NumPy's warnings at special points (divide by zero, invalid) are expected here."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def cotangent(shape: tuple, seed: int) -> np.ndarray:
    """A fixed, finite upstream gradient with distinct entries (a permuted gradient shows)."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape)


def ours_derivatives(f, leaves: list, seed: int = 0):
    """f(*leaves), its vector-Jacobian product and a Hessian-vector product, by chaingrad."""
    def loss(*xs):
        out = f(*xs)
        if isinstance(out, Tensor):
            return (out * cotangent(out.shape, seed)).sum()
        return out * float(cotangent((), seed))

    argnums = tuple(range(len(leaves)))
    first = grad(loss, argnums)(*leaves)
    directions = [cotangent(np.shape(g), seed + 1 + i) for i, g in enumerate(first)]

    def directional(*xs):
        total = 0.0
        for g, v in zip(grad(loss, argnums, create_graph=True)(*xs), directions, strict=True):
            total = total + ((g * v).sum() if isinstance(g, Tensor) else g * float(v))
        return total if isinstance(total, (Tensor, Value)) else Value(total)

    second = grad(directional, argnums)(*leaves)
    return f(*leaves).data, first, second


def torch_derivatives(f, arrays: list, seed: int = 0):
    """The same three quantities by torch (float64); a derivative torch leaves unused is 0."""
    leaves = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*leaves)
    loss = (out * torch.from_numpy(cotangent(tuple(out.shape), seed))).sum()
    first = torch.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    first = [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, first, strict=True)]
    directions = [torch.from_numpy(cotangent(tuple(g.shape), seed + 1 + i)) for i, g in enumerate(first)]
    total = sum((g * v).sum() for g, v in zip(first, directions, strict=True))
    if total.requires_grad:
        second = torch.autograd.grad(total, leaves, allow_unused=True)
        second = [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, second, strict=True)]
    else:
        second = [torch.zeros_like(x) for x in leaves]
    plain = lambda ts: [t.detach().numpy(force=True) for t in ts]  # force: torch's ZeroTensor
    return out.detach().numpy(), plain(first), plain(second)


def assert_agrees_with_torch(ours_f, torch_f, arrays: list, as_values: bool = False, rtol: float = RTOL,
                             orders: int = 2):
    """Values and derivatives (up to ``orders``) of ``ours_f`` and ``torch_f`` at ``arrays`` agree."""
    with quiet():
        leaves = [Value(float(a)) if as_values else Tensor(np.asarray(a, np.float64)) for a in arrays]
        ours = ours_derivatives(ours_f, leaves)
        theirs = torch_derivatives(torch_f, arrays)
    for order, (mine, expected) in enumerate(zip(ours[: orders + 1], theirs[: orders + 1], strict=True)):
        if order == 0:
            assert_same_numbers(mine, expected, rtol)
            continue
        for i, (g, e) in enumerate(zip(mine, expected, strict=True)):
            try:
                assert_same_numbers(g, e, rtol, atol=1e-12)
            except AssertionError as error:
                raise AssertionError(f"derivative of order {order}, input {i}: {error}") from None


def torch_of(op):
    return op.torch or op.f


# ---------------------------------------------------------- elementwise ops


@pytest.mark.parametrize("op", VALUE_UNARY, ids=ids)
@EDGE
@given(x=special_values())
def test_unary_op_on_value_agrees_with_torch_at_special_points(op, x):
    assume(op.defined(x))
    assert_agrees_with_torch(op.f, torch_of(op), [x], as_values=True, orders=1 + op.regular(x))


@pytest.mark.parametrize("op", UNARY_OPS, ids=ids)
@EDGE
@given(x=tensors(edges=True))
def test_unary_op_on_tensor_agrees_with_torch_at_special_points(op, x):
    assume(op.defined(x))
    assert_agrees_with_torch(op.f, torch_of(op), [x.data], orders=1 + op.regular(x))


@pytest.mark.parametrize("op", VALUE_BINARY, ids=ids)
@EDGE
@given(a=special_values(), b=special_values())
def test_binary_op_on_values_agrees_with_torch_at_special_points(op, a, b):
    assume(op.defined(a, b))
    assert_agrees_with_torch(op.f, torch_of(op), [a, b], as_values=True, orders=1 + op.regular(a, b))


@pytest.mark.parametrize("op", BINARY_OPS, ids=ids)
@EDGE
@given(shapes=broadcastable_shapes(max_side=3), data=st.data())
def test_binary_op_on_tensors_agrees_with_torch_at_special_points(op, shapes, data):
    a, b = (data.draw(tensors(shape=shape, edges=True)).data for shape in shapes)
    assume(op.defined(a, b))
    assert_agrees_with_torch(op.f, torch_of(op), [a, b], orders=1 + op.regular(a, b))


# ------------------------------------------------------------------ axes


def torch_dims(axis, ndim: int):
    return tuple(range(ndim)) if axis is None else axis


REDUCTIONS = {
    "sum": (lambda t, a, k: t.sum(axis=a, keepdims=k), lambda t, a, k: t.sum(dim=a, keepdim=k)),
    "mean": (lambda t, a, k: t.mean(dim=a, keepdims=k), lambda t, a, k: t.mean(dim=a, keepdim=k)),
    "max": (lambda t, a, k: t.max(axis=a, keepdims=k), lambda t, a, k: t.amax(dim=a, keepdim=k)),
    "min": (lambda t, a, k: t.min(dim=a, keepdims=k), lambda t, a, k: t.amin(dim=a, keepdim=k)),
    "var": (lambda t, a, k: t.var(axis=a, keepdims=k), lambda t, a, k: t.var(dim=a, keepdim=k, correction=0)),
    "var_ddof_2": (lambda t, a, k: t.var(dim=a, keepdims=k, ddof=2),
                   lambda t, a, k: t.var(dim=a, keepdim=k, correction=2)),
    "logsumexp": (lambda t, a, k: t.logsumexp(axis=a, keepdims=k),
                  lambda t, a, k: t.logsumexp(dim=a, keepdim=k)),
}


@st.composite
def reduction_cases(draw, edges: bool = True):
    x = draw(tensors(shape=shapes(min_dims=1, max_side=3), edges=edges))
    axis = draw(axes(x.ndim))
    assume(axis != ())  # NumPy reduces nothing over (); torch reduces everything
    return x.data, axis, draw(st.booleans())


def _order_decides_the_sum(x):
    """Finite terms of both signs spanning more than float64's 16 digits: 1 + 1e300 - 1e300 is 0
    or 1 by summation order (NumPy's pairwise sum and torch's lanes differ; neither is wrong)."""
    finite = np.abs(x[np.isfinite(x) & (x != 0)])
    signs = np.sign(x[np.isfinite(x) & (x != 0)])
    return finite.size > 1 and finite.max() > 1e15 * finite.min() and signs.min() != signs.max()


@pytest.mark.parametrize("name", REDUCTIONS)
@EDGE
@given(case=reduction_cases())
def test_reduction_over_negative_and_tuple_axes_agrees_with_torch(name, case):
    x, axis, keepdims = case
    ours, theirs = REDUCTIONS[name]
    if name in ("max", "min"):
        assume(x.size)
    else:
        assume(not _order_decides_the_sum(x))
    assert_agrees_with_torch(lambda t: ours(t, axis, keepdims),
                             lambda t: theirs(t, torch_dims(axis, x.ndim), keepdims), [x])


SOFTMAX_FAMILY = {
    "softmax": (lambda t, a: t.softmax(dim=a), lambda t, a: t.softmax(dim=a)),
    "log_softmax": (lambda t, a: t.log_softmax(a), lambda t, a: t.log_softmax(dim=a)),
}


@pytest.mark.parametrize("name", SOFTMAX_FAMILY)
@EDGE
@given(x=tensors(shape=shapes(min_dims=1, max_side=3), edges=True), data=st.data())
def test_softmax_family_over_a_negative_axis_agrees_with_torch(name, x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    ours, theirs = SOFTMAX_FAMILY[name]
    assert_agrees_with_torch(lambda t: ours(t, axis), lambda t: theirs(t, axis), [x.data])


@EDGE
@given(x=tensors(shape=shapes(min_dims=1, max_dims=4, max_side=3)), data=st.data())
def test_permute_with_negative_axes_agrees_with_torch(x, data):
    order = data.draw(permutations(x.ndim))
    assert_agrees_with_torch(lambda t: t.permute(*order) * t.permute(*order),
                             lambda t: t.permute(*order) * t.permute(*order), [x.data])


def test_permute_minus_one_zero_one_gets_the_gradient_of_that_permutation():
    x = np.arange(8.0).reshape(2, 2, 2)
    assert_agrees_with_torch(lambda t: t.permute(-1, 0, 1), lambda t: t.permute(-1, 0, 1), [x])
    x = np.arange(24.0).reshape(2, 3, 4)
    assert_agrees_with_torch(lambda t: t.permute(-1, 0, 1), lambda t: t.permute(-1, 0, 1), [x])


MOVES = {
    "swapaxes": (lambda t, a, b: t.swapaxes(a, b), lambda t, a, b: t.swapaxes(a, b)),
    "flatten": (lambda t, a, b: t.flatten(min(a % t.ndim, b % t.ndim), max(a % t.ndim, b % t.ndim)),
                lambda t, a, b: t.flatten(min(a % t.ndim, b % t.ndim), max(a % t.ndim, b % t.ndim))),
    "unsqueeze": (lambda t, a, b: t.unsqueeze(dim=a), lambda t, a, b: t.unsqueeze(a)),
    "squeeze_then_sum": (lambda t, a, b: t.reshape(t.shape + (1,)).squeeze(-1).sum(axis=a),
                         lambda t, a, b: t.reshape(t.shape + (1,)).squeeze(-1).sum(dim=a)),
    "stack": (lambda t, a, b: stack([t, t * t], dim=a), lambda t, a, b: torch.stack([t, t * t], dim=a)),
    "concatenate": (lambda t, a, b: concatenate([t, t.exp()], axis=a),
                    lambda t, a, b: torch.cat([t, t.exp()], a)),
    "index": (lambda t, a, b: t[..., np.array([b, b, -1])], lambda t, a, b: t[..., torch.tensor([b, b, -1])]),
}


@pytest.mark.parametrize("name", MOVES)
@EDGE
@given(x=tensors(shape=shapes(min_dims=1, max_side=3), edges=True), data=st.data())
def test_movement_op_with_negative_axes_agrees_with_torch(name, x, data):
    a = data.draw(st.integers(-x.ndim, x.ndim - 1))
    b = data.draw(st.integers(-x.shape[-1], x.shape[-1] - 1)) if name == "index" else a
    if name == "index":
        assume(x.shape[-1])
    ours, theirs = MOVES[name]
    assert_agrees_with_torch(lambda t: ours(t, a, b) ** 2, lambda t: theirs(t, a, b) ** 2, [x.data])


# -------------------------------------------------------- linear algebra


@EDGE
@given(batch=st.sampled_from([(), (2,), (2, 3)]), sides=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_linear_hessian_vector_products_agree_with_torch_for_1d_2d_and_3d_inputs(batch, sides):
    n_in, n_out = sides
    rng = np.random.default_rng(len(batch) * 10 + n_in)
    x, w = rng.standard_normal(batch + (n_in,)), rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out)
    assert_agrees_with_torch(lambda x, w, b: Linear.apply(x, w, b).tanh(),
                             lambda x, w, b: torch.nn.functional.linear(x, w, b).tanh(), [x, w, b])


@EDGE
@given(a_shape=st.sampled_from([(3,), (2, 3), (2, 2, 3)]), b_shape=st.sampled_from([(3,), (3, 2), (2, 3, 2)]))
def test_matmul_hessian_vector_products_agree_with_torch(a_shape, b_shape):
    rng = np.random.default_rng(len(a_shape) * 3 + len(b_shape))
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    assert_agrees_with_torch(lambda a, b: (a @ b).tanh(), lambda a, b: (a @ b).tanh(), [a, b])
