"""vjp, jvp, jacobian, hessian, hvp: torch.func's results, closed forms, errors.

Each function of the table is written twice, once on chaingrad's Tensor and
once on torch (as ``lib`` calls), and compared in float64 to 1e-10. The
torch-free tests check closed forms (the Hessian of x^T A x is A + A^T),
central differences, the kinds of results and the error messages.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_gradcheck import Cube
from test_op_table import BINARY_OPS, UNARY_OPS, VALUE_BINARY, VALUE_UNARY, dag_output, dag_steps

import autograd
import autograd.functions as ops
from autograd import (
    Tensor,
    Value,
    concatenate,
    forward,
    graph,
    hessian,
    hvp,
    jacobian,
    no_grad,
    numerical_grad,
    stack,
    value,
    vjp,
)
from autograd.testing import broadcastable_shapes, tensors

TOL = 1e-10
rng = np.random.default_rng(7)
W = rng.standard_normal((3, 4))
B = rng.standard_normal(4)


def _mat(lib, x):
    return x @ (Tensor(W) if lib is None else lib.tensor(W))


# Functions R^(2x3) -> various shapes, written once per library: lib is None for chaingrad, else torch.
FUNCTIONS = {
    "elementwise": lambda lib, x: x.tanh() * x.exp() + x * x * x,
    "matmul": lambda lib, x: _mat(lib, x).sigmoid(),
    "softmax": lambda lib, x: _mat(lib, x).softmax(-1) if lib is None else _mat(lib, x).softmax(dim=-1),
    "sum_axis_0": lambda lib, x: (x * x).sum(axis=0) if lib is None else (x * x).sum(dim=0),
    "mean_axis_-1_keepdims": lambda lib, x: (
        x.exp().mean(axis=-1, keepdims=True) if lib is None else x.exp().mean(dim=-1, keepdim=True)),
    "broadcast": lambda lib, x: _mat(lib, x) * (Tensor(B) if lib is None else lib.tensor(B)) + x.sum(),
}
SCALAR_FUNCTIONS = {
    "quadratic_form": lambda lib, x: (_mat(lib, x) * _mat(lib, x)).sum(),
    "log_softmax_loss": lambda lib, x: (
        -_mat(lib, x).log_softmax(-1)[:, 1].sum() if lib is None
        else -_mat(lib, x).log_softmax(dim=-1)[:, 1].sum()),
    "tanh_mean": lambda lib, x: (x.tanh() * x).mean(),
}


def two_by_three() -> np.ndarray:
    return np.random.default_rng(3).standard_normal((2, 3))


def ours(fn):
    return lambda *xs: fn(None, *xs)


def theirs(fn, torch):
    return lambda *xs: fn(torch, *xs)


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    return torch


# ---------------------------------------------------------- against torch.func


@pytest.mark.parametrize("name", FUNCTIONS)
def test_vjp_matches_torch_func_vjp(torch, name):
    x = two_by_three()
    out, vjp_fn = vjp(ours(FUNCTIONS[name]), x)
    expected_out, expected_fn = torch.func.vjp(theirs(FUNCTIONS[name], torch), torch.tensor(x))
    v = np.random.default_rng(1).standard_normal(out.shape)
    np.testing.assert_allclose(out, expected_out.numpy(), rtol=0, atol=TOL)
    (got,) = vjp_fn(v)
    (expected,) = expected_fn(torch.tensor(v))
    np.testing.assert_allclose(got, expected.numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_jacobian_matches_torch_jacrev_in_shape_and_value(torch, name):
    x = two_by_three()
    got = jacobian(ours(FUNCTIONS[name]))(x)
    expected = torch.func.jacrev(theirs(FUNCTIONS[name], torch))(torch.tensor(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
def test_hessian_matches_torch_func_hessian(torch, name):
    x = two_by_three()
    got = hessian(ours(SCALAR_FUNCTIONS[name]))(x)
    expected = torch.func.hessian(theirs(SCALAR_FUNCTIONS[name], torch))(torch.tensor(x)).numpy()
    assert got.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
def test_hvp_matches_torch_forward_over_reverse(torch, name):
    x, v = two_by_three(), np.random.default_rng(5).standard_normal((2, 3))
    value, (got,) = hvp(ours(SCALAR_FUNCTIONS[name]), (x,), (v,))
    g = torch.func.grad(theirs(SCALAR_FUNCTIONS[name], torch))
    _, expected = torch.func.jvp(g, (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(got, expected.numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(value, SCALAR_FUNCTIONS[name](torch, torch.tensor(x)).item(), atol=TOL)


def vector_of_two(lib, x, w):
    return (x @ w).tanh() * x.sum()


def scalar_of_two(lib, x, w):
    return ((x @ w).tanh() ** 2).sum()


def blocks(tree) -> list:
    """The arrays of a nested tuple, depth first."""
    return [leaf for item in tree for leaf in blocks(item)] if isinstance(tree, tuple) else [tree]


@pytest.mark.parametrize("transform, torch_name, f", [
    (jacobian, "jacrev", vector_of_two), (hessian, "hessian", scalar_of_two),
])
def test_tuple_argnums_give_torch_funcs_blocks(torch, transform, torch_name, f):
    x, w = two_by_three(), W.copy()
    got = transform(ours(f), argnums=(0, 1))(x, w)
    expected = getattr(torch.func, torch_name)(theirs(f, torch), argnums=(0, 1))(
        torch.tensor(x), torch.tensor(w))
    assert len(blocks(got)) == len(blocks(expected)) == (2 if transform is jacobian else 4)
    for g, e in zip(blocks(got), blocks(expected), strict=True):
        assert g.shape == tuple(e.shape)
        np.testing.assert_allclose(g, e.numpy(), rtol=0, atol=TOL)


def scalar_function(a, b, c):
    """R^3 -> R written with Values (and, through the same methods, with 0-d torch tensors)."""
    return (a * b).tanh() + (c * a).exp() * b - (b * b + 1.0).log() / c


def test_value_engine_jacobian_hessian_and_hvp_match_torch(torch):
    point = (0.3, -0.7, 1.2)
    everything = (0, 1, 2)
    torch_point = tuple(torch.tensor(p, dtype=torch.float64) for p in point)
    values = tuple(Value(p) for p in point)

    got_grad = jacobian(scalar_function, everything)(*values)
    expected_grad = torch.func.jacrev(scalar_function, everything)(*torch_point)
    got_h = hessian(scalar_function, everything)(*point)
    expected_h = torch.func.hessian(scalar_function, everything)(*torch_point)
    tangent = (0.5, 2.0, -1.0)
    _, got_hv = hvp(scalar_function, point, tangent)
    _, expected_hv = torch.func.jvp(
        torch.func.grad(scalar_function, everything), torch_point,
        tuple(torch.tensor(t, dtype=torch.float64) for t in tangent))
    for i in range(3):
        assert isinstance(got_grad[i], Value)
        assert got_grad[i].data == pytest.approx(expected_grad[i].item(), abs=TOL)
        assert got_hv[i] == pytest.approx(expected_hv[i].item(), abs=TOL)
        for j in range(3):
            assert got_h[i][j] == pytest.approx(expected_h[i][j].item(), abs=TOL)


def test_value_vjp_matches_torch_and_takes_a_cotangent(torch):
    out, vjp_fn = vjp(scalar_function, 0.3, -0.7, 1.2)
    expected_out, expected_fn = torch.func.vjp(
        scalar_function, *(torch.tensor(p, dtype=torch.float64) for p in (0.3, -0.7, 1.2)))
    assert out == pytest.approx(expected_out.item(), abs=TOL)
    for g, e in zip(vjp_fn(2.5), expected_fn(torch.tensor(2.5, dtype=torch.float64)), strict=True):
        assert g == pytest.approx(e.item(), abs=TOL)


# ------------------------------------------------------------ forward mode


@pytest.mark.parametrize("name", FUNCTIONS)
def test_jvp_matches_torch_func_jvp(torch, name):
    x, t = two_by_three(), np.random.default_rng(9).standard_normal((2, 3))
    out, tangent_out = autograd.jvp(ours(FUNCTIONS[name]), (x,), (t,))
    expected_out, expected = torch.func.jvp(theirs(FUNCTIONS[name], torch), (torch.tensor(x),),
                                            (torch.tensor(t),))
    np.testing.assert_allclose(out, expected_out.numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(tangent_out, expected.numpy(), rtol=0, atol=TOL)


def test_jvp_on_values_matches_torch_func_jvp(torch):
    point, tangent = (0.3, -0.7, 1.2), (0.5, 2.0, -1.0)
    out, tangent_out = autograd.jvp(scalar_function, tuple(Value(p) for p in point), tangent)
    _, expected = torch.func.jvp(scalar_function, tuple(torch.tensor(p, dtype=torch.float64) for p in point),
                                 tuple(torch.tensor(t, dtype=torch.float64) for t in tangent))
    assert tangent_out.data == pytest.approx(expected.item(), abs=TOL)


def test_jvp_refuses_a_tangent_of_another_shape():
    with pytest.raises(ValueError, match="shape"):
        autograd.jvp(lambda x: x * 2.0, (np.ones(3),), (np.ones(2),))


# ------------------------------------------------------------- closed forms


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    A = np.random.default_rng(0).standard_normal((4, 4))
    x = np.random.default_rng(1).standard_normal(4)
    H = hessian(lambda x: (x * (Tensor(A) @ x)).sum())(x)
    np.testing.assert_allclose(H, A + A.T, rtol=0, atol=1e-12)


def test_jacobian_of_a_linear_map_is_its_matrix_in_input_and_output_shape():
    M = np.random.default_rng(0).standard_normal((2, 3, 4))  # maps R^4 to R^(2x3)
    J = jacobian(lambda x: Tensor(M) @ x)(np.ones(4))
    assert J.shape == (2, 3, 4)
    np.testing.assert_array_equal(J, M)


def test_jacobian_of_a_scalar_function_is_its_gradient():
    x = two_by_three()
    J = jacobian(lambda x: (x.tanh() ** 2).sum())(x)
    np.testing.assert_allclose(J, autograd.grad(lambda x: (x.tanh() ** 2).sum())(x), rtol=0, atol=1e-15)


def test_jacobian_agrees_with_central_differences_row_by_row():
    f = ours(FUNCTIONS["softmax"])
    x = two_by_three()
    J = jacobian(f)(x)
    for idx in np.ndindex(*J.shape[:2]):
        (row,) = numerical_grad(lambda x, idx=idx: f(x)[idx], x)
        np.testing.assert_allclose(J[idx], row, rtol=0, atol=1e-8)


def test_jacobian_of_a_tuple_output_is_a_tuple_over_outputs():
    J = jacobian(lambda x: (x * 2.0, (x * x).sum()))(np.array([1.0, 3.0]))
    assert isinstance(J, tuple) and len(J) == 2
    np.testing.assert_array_equal(J[0], np.diag([2.0, 2.0]))
    np.testing.assert_array_equal(J[1], [2.0, 6.0])


def test_jacobian_of_an_empty_output_is_empty_with_the_right_shape():
    J = jacobian(lambda x: x[:0] * 2.0)(np.ones(3))
    assert J.shape == (0, 3)


def test_jacobian_of_an_output_that_ignores_the_input_is_zero():
    J = jacobian(lambda x, y: y * 2.0, argnums=0)(np.ones(2), Tensor(np.ones(3)))
    assert isinstance(J, Tensor) and J.shape == (3, 2) and not J.data.any()


def rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


def test_hvp_is_the_hessian_times_the_vector_on_rosenbrock():
    x = np.array([-1.2, 1.0, 0.5, 2.0])
    v = np.array([0.3, -1.0, 2.0, 0.1])
    value, (hv,) = hvp(rosenbrock, (x,), (v,))
    np.testing.assert_allclose(hv, rosenbrock_hessian(x) @ v, rtol=1e-13)
    np.testing.assert_allclose(hessian(rosenbrock)(x), rosenbrock_hessian(x), rtol=1e-13)
    assert value == pytest.approx(rosenbrock(Tensor(x)).item())


def test_vjp_of_vjp_gives_the_second_derivative():
    def derivative(x):
        _, vjp_fn = vjp(lambda y: (y * y).tanh(), x)
        return vjp_fn(1.0)[0]

    x = 0.7
    _, outer = vjp(derivative, x)
    (second,) = outer(1.0)
    t = math.tanh(x * x)  # d^2/dx^2 tanh(x^2) = 2(1 - t^2) - 8 x^2 t (1 - t^2)
    assert second == pytest.approx(2 * (1 - t * t) - 8 * x * x * t * (1 - t * t), rel=1e-12)


def test_vjp_fn_can_be_called_again_and_sums_tuple_outputs():
    out, vjp_fn = vjp(lambda x, y: (x * y, (x * x).sum()), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    first = vjp_fn((np.array([1.0, 0.0]), 2.0))
    again = vjp_fn((np.array([1.0, 0.0]), 2.0))
    for got in (first, again):
        np.testing.assert_array_equal(got[0], [3.0 + 4.0, 8.0])
        np.testing.assert_array_equal(got[1], [1.0, 0.0])
    np.testing.assert_array_equal(out[0], [3.0, 8.0])


def test_vjp_leaves_closed_over_parameters_untouched():
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    scale = Value(1.5)
    _, vjp_fn = vjp(lambda x: x * w * scale.data, np.array([1.0, 1.0]))
    (g,) = vjp_fn(np.ones(2))
    np.testing.assert_array_equal(g, [3.0, 4.5])
    assert w.grad is None


# ------------------------------------------------- what comes back, and when


def test_plain_numbers_and_arrays_in_give_plain_floats_and_arrays_out():
    out, vjp_fn = vjp(lambda a, x: a * x, np.array(2.0), np.array(3.0))
    assert isinstance(vjp(lambda a: a * a, 2.0)[0], float)
    assert isinstance(vjp(lambda a: a * a, 2.0)[1](1.0)[0], float)
    assert type(out) is np.ndarray
    g = vjp_fn(np.array(1.0))
    assert type(g[0]) is np.ndarray and g[0] == 3.0 and type(g[1]) is np.ndarray and g[1] == 2.0
    assert isinstance(hessian(lambda a: a * a * a)(2.0), float)


def test_values_and_tensors_in_give_differentiable_values_and_tensors_out():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    H = hessian(lambda x: (x * x * x).sum())(x)
    assert isinstance(H, Tensor) and H.requires_grad
    H.sum().backward()  # d/dx sum(diag(6 x)) = 6
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    a = Value(0.5)
    d2 = hessian(lambda a: a * a * a)(a)
    assert isinstance(d2, Value) and d2.data == pytest.approx(3.0)
    d2.backward()
    assert a.grad == pytest.approx(6.0)


def test_a_cotangent_that_needs_grad_makes_the_vjp_differentiable_in_it():
    M = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    v = Tensor(np.array([1.0, -1.0, 2.0]), requires_grad=True)
    _, vjp_fn = vjp(lambda x: Tensor(M) @ x, np.array([0.5, 0.25]))
    (g,) = vjp_fn(v)  # v^T M
    assert isinstance(g, Tensor) and g.requires_grad
    g.sum().backward()  # d/dv sum(v^T M) = M 1
    np.testing.assert_allclose(v.grad, M.sum(axis=1))


def test_a_tensor_that_needs_no_grad_gives_constant_tensors():
    J = jacobian(lambda x: x * x)(Tensor(np.array([1.0, 2.0])))
    assert isinstance(J, Tensor) and not J.requires_grad
    np.testing.assert_array_equal(J.data, np.diag([2.0, 4.0]))


def test_float32_arrays_keep_their_dtype():
    J = jacobian(lambda x: x * 2.0)(np.ones(3, dtype=np.float32))
    assert J.dtype == np.float32


def test_transforms_differentiate_inside_no_grad():
    with no_grad():
        H = hessian(lambda x: (x ** 4).sum())(np.array([1.0, -2.0]))
    np.testing.assert_allclose(H, np.diag([12.0, 48.0]))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("bad", [3, True, np.array([1, 2]), Tensor(np.array([1, 2]))])
def test_integer_arguments_are_refused_by_name(bad):
    with pytest.raises(TypeError, match="integer"):
        jacobian(lambda x: x * 2.0)(bad)


def test_an_argument_that_is_not_a_number_is_refused():
    with pytest.raises(TypeError, match="argument 0 is str"):
        vjp(lambda x: x, "x")


def test_a_cotangent_of_another_shape_is_refused():
    _, vjp_fn = vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent has shape \(2,\).*output has shape \(3,\)"):
        vjp_fn(np.ones(2))


def test_hvp_refuses_tangents_of_another_shape_or_number():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\), but primal 0 has shape \(3,\)"):
        hvp(lambda x: (x * x).sum(), (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="2 tangents for 1 primals"):
        hvp(lambda x: (x * x).sum(), (np.ones(3),), (np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match="primals must be a tuple"):
        hvp(lambda x: (x * x).sum(), np.ones(3), (np.ones(3),))


@pytest.mark.parametrize("argnums, error, message", [
    (1, ValueError, "out of range"), ((0, 0), ValueError, "twice"), (1.0, TypeError, "int"),
    ((), TypeError, "non-empty"),
])
def test_bad_argnums_are_refused(argnums, error, message):
    with pytest.raises(error, match=message):
        jacobian(lambda x: x * 2.0, argnums=argnums)(np.ones(2))


def test_negative_argnums_count_from_the_end():
    J = jacobian(lambda x, y: x * y, argnums=-1)(np.array([2.0]), np.array([5.0]))
    np.testing.assert_array_equal(J, [[2.0]])


def test_f_returning_a_plain_number_is_refused():
    with pytest.raises(TypeError, match="f must return a Value or a Tensor"):
        jacobian(lambda x: 3.0)(np.ones(2))


# ------------------------------------------- forward mode: every op of the table



def smooth_point(shape, seed: int) -> np.ndarray:
    """Inputs in [-3, 3] away from every kink of the table (0, -1, 2) and from ties."""
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    return np.where(np.abs(x) < 0.1, x + 0.3, x) + np.where(np.abs(x + 1) < 0.1, 0.3, 0) + np.where(
        np.abs(x - 2) < 0.1, 0.3, 0)


def torch_jvp(torch, f, primals, tangents):
    def as_torch(x):
        return torch.tensor(np.asarray(x, dtype=np.float64))

    out, tangent = torch.func.jvp(f, tuple(map(as_torch, primals)), tuple(map(as_torch, tangents)))
    return out.detach().numpy(), tangent.detach().numpy()


def assert_jvp_matches_torch(torch, ours_f, theirs_f, primals, seed=11):
    tangents = [np.random.default_rng(seed + k).standard_normal(np.shape(p)) for k, p in enumerate(primals)]
    out, tangent_out = autograd.jvp(ours_f, tuple(primals), tuple(tangents))
    expected_out, expected = torch_jvp(torch, theirs_f, primals, tangents)
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=TOL)
    np.testing.assert_allclose(tangent_out, expected, rtol=1e-12, atol=TOL)


@pytest.mark.parametrize("op", UNARY_OPS, ids=lambda op: op.name)
def test_jvp_of_every_unary_op_of_the_table_matches_torch(torch, op):
    x = smooth_point((2, 3), 0)
    assert_jvp_matches_torch(torch, op.engine, lambda t: (op.torch or op.f)(*_as_tuple(op.shift(t))), [x])


@pytest.mark.parametrize("op", BINARY_OPS, ids=lambda op: op.name)
def test_jvp_of_every_binary_op_broadcasts_the_tangents_as_torch(torch, op):
    a, b = smooth_point((2, 3), 1), smooth_point((3,), 2)
    assert_jvp_matches_torch(torch, op.engine, lambda s, t: (op.torch or op.f)(*op.shift(s, t)), [a, b])
    assert_jvp_matches_torch(torch, op.engine, lambda s, t: (op.torch or op.f)(*op.shift(s, t)), [b, a])


@pytest.mark.parametrize("op", VALUE_UNARY + VALUE_BINARY, ids=lambda op: op.name)
def test_jvp_of_every_value_op_matches_torch_on_0d_tensors(torch, op):
    arity = 1 if op in VALUE_UNARY else 2
    point = tuple(float(smooth_point((), 3 + k)) for k in range(arity))
    tangent = (0.7, -1.3)[:arity]
    out, tangent_out = autograd.jvp(op.engine, tuple(Value(p) for p in point), tangent)
    expected_out, expected = torch_jvp(
        torch, lambda *ts: (op.torch or op.f)(*_as_tuple(op.shift(*ts))), point, tangent)
    assert isinstance(tangent_out, Value)
    assert out.data == pytest.approx(float(expected_out), rel=1e-12, abs=TOL)
    assert tangent_out.data == pytest.approx(float(expected), rel=1e-12, abs=TOL)


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _functional(torch, name):
    return getattr(torch.nn.functional, name)


TARGETS = np.random.default_rng(4).uniform(0.1, 0.9, (4, 3))
SIGNS = np.sign(np.random.default_rng(5).standard_normal((4, 3)))
CLASSES = np.array([2, 0, 1, 2])
WEIGHT, BIAS = np.random.default_rng(6).standard_normal((5, 3)), np.random.default_rng(7).standard_normal(5)

# The ops that are not elementwise: (ours, torch's), on a (4, 3) input, negative and tuple axes included.
NOT_ELEMENTWISE = {
    "sum_tuple_axes_keepdims": (lambda x: x.sum(axis=(0, -1), keepdims=True),
                                lambda x: x.sum(dim=(0, -1), keepdim=True)),
    "mean_axis_-1": (lambda x: x.mean(axis=-1), lambda x: x.mean(dim=-1)),
    "var_axis_0_ddof_1": (lambda x: x.var(axis=0, ddof=1), lambda x: x.var(dim=0, correction=1)),
    "var_all": (lambda x: x.var(), lambda x: x.var(correction=0)),
    "max_axis_-1": (lambda x: x.max(axis=-1), lambda x: x.amax(dim=-1)),
    "min_all": (lambda x: x.min(), lambda x: x.amin()),
    "logsumexp_axis_-2_keepdims": (lambda x: x.logsumexp(axis=-2, keepdims=True),
                                   lambda x: x.logsumexp(dim=-2, keepdim=True)),
    "softmax_axis_0": (lambda x: x.softmax(axis=0), lambda x: x.softmax(dim=0)),
    "log_softmax_axis_-1": (lambda x: x.log_softmax(-1), lambda x: x.log_softmax(dim=-1)),
    "reshape": (lambda x: x.reshape(2, -1) * x.reshape(2, -1), lambda x: x.reshape(2, -1) * x.reshape(2, -1)),
    "permute_negative": (lambda x: x.reshape(2, 2, 3).permute(-1, 0, 1).exp(),
                         lambda x: x.reshape(2, 2, 3).permute(-1, 0, 1).exp()),
    "broadcast_to": (lambda x: x.broadcast_to((2, 4, 3)).tanh(), lambda x: x.broadcast_to((2, 4, 3)).tanh()),
    "basic_index": (lambda x: x[1:, -1] * x[0, :1], lambda x: x[1:, -1] * x[0, :1]),
    "integer_index_with_repeats": (lambda x: x[np.array([0, 0, -1]), 1:].sin(),
                                   lambda x: x[[0, 0, -1], 1:].sin()),
    "concatenate": (lambda x: concatenate([x, x.exp()], axis=-1),
                    lambda x: __import__("torch").cat([x, x.exp()], -1)),
    "stack": (lambda x: stack([x, x * x], axis=1), lambda x: __import__("torch").stack([x, x * x], dim=1)),
    "matmul_2d": (lambda x: x @ x.T, lambda x: x @ x.T),
    "matmul_vector": (lambda x: x[0] @ x.T, lambda x: x[0] @ x.T),
    "matmul_batched": (lambda x: x.reshape(2, 2, 3) @ x.T, lambda x: x.reshape(2, 2, 3) @ x.T),
    "linear_with_bias": (lambda x: _nn().functional.linear(x, Tensor(WEIGHT), Tensor(BIAS)),
                         lambda x: _theirs("linear")(x, _t(WEIGHT), _t(BIAS))),
    "mse_mean": (lambda x: _nn().functional.mse_loss(x, TARGETS),
                 lambda x: _theirs("mse_loss")(x, _t(TARGETS))),
    "bce_sum": (lambda x: _nn().functional.binary_cross_entropy(x.sigmoid(), TARGETS, reduction="sum"),
                lambda x: _theirs("binary_cross_entropy")(x.sigmoid(), _t(TARGETS), reduction="sum")),
    "bce_with_logits_none": (
        lambda x: _nn().functional.binary_cross_entropy_with_logits(x, TARGETS, reduction="none"),
        lambda x: _theirs("binary_cross_entropy_with_logits")(x, _t(TARGETS), reduction="none")),
    "hinge_mean": (lambda x: _nn().functional.hinge_loss(x, SIGNS),
                   lambda x: (1 - _t(SIGNS) * x).clamp(min=0).mean()),
    "cross_entropy_mean": (lambda x: _nn().functional.cross_entropy(x, CLASSES),
                           lambda x: _theirs("cross_entropy")(x, __import__("torch").tensor(CLASSES))),
    "cross_entropy_none": (lambda x: _nn().functional.cross_entropy(x, CLASSES, reduction="none"),
                           lambda x: _theirs("cross_entropy")(x, __import__("torch").tensor(CLASSES),
                                                              reduction="none")),
    "0d_sum_of_a_0d_product": (lambda x: (x[1, 2] * x[0, 0]).sum().exp(),
                               lambda x: (x[1, 2] * x[0, 0]).sum().exp()),
}


def _nn():
    import nn
    return nn


def _theirs(name):
    import torch
    return getattr(torch.nn.functional, name)


def _t(array):
    import torch
    return torch.tensor(array)


@pytest.mark.parametrize("name", NOT_ELEMENTWISE)
def test_jvp_of_every_reduction_movement_linear_algebra_and_loss_op_matches_torch(torch, name):
    ours_f, theirs_f = NOT_ELEMENTWISE[name]
    assert_jvp_matches_torch(torch, ours_f, theirs_f, [smooth_point((4, 3), 8)])


def test_every_op_of_the_table_gets_a_forward_rule_in_these_tests(torch, monkeypatch):
    """Each Function in functions.py is pushed forward at least once by the cases above (and Affine, Cast,
    ScatterAdd and Identity here)."""
    seen = set()
    real = forward.tangent_of

    def spy(out, fn, *rest):
        seen.add(fn)
        return real(out, fn, *rest)

    monkeypatch.setattr(forward, "tangent_of", spy)
    for op in UNARY_OPS:
        test_jvp_of_every_unary_op_of_the_table_matches_torch(torch, op)
    for op in BINARY_OPS:
        test_jvp_of_every_binary_op_broadcasts_the_tangents_as_torch(torch, op)
    for name in NOT_ELEMENTWISE:
        test_jvp_of_every_reduction_movement_linear_algebra_and_loss_op_matches_torch(torch, name)
    test_affine_on_values_pushes_forward_as_its_expanded_sum()
    test_a_cast_passes_the_tangent_on_in_the_new_dtype()
    test_forward_over_reverse_gives_the_hessian_vector_product(torch)
    test_jvp_of_jvp_gives_second_directional_derivatives(torch)
    test_forward_over_reverse_through_an_index_with_repeats()
    abstract = {ops.FromInput, ops.FromOutput, ops.ScaleBy, ops.Select, ops.PointwiseLoss}
    table = {c for c in vars(ops).values()
             if isinstance(c, type) and issubclass(c, graph.Function) and c.__module__ == ops.__name__}
    assert table - abstract - seen == set()


def test_affine_on_values_pushes_forward_as_its_expanded_sum():
    w, x, b = [Value(0.5), Value(-2.0)], [Value(1.5), Value(3.0)], Value(0.25)

    def neuron(*v):
        return value.affine(list(v[:2]), list(v[2:4]), v[4])

    tangents = (0.1, 0.2, -0.3, 0.4, 1.0)
    _, got = autograd.jvp(neuron, (*w, *x, b), tangents)
    expected = 1.0 + 0.1 * 1.5 + 0.2 * 3.0 + 0.5 * -0.3 + -2.0 * 0.4
    assert got.data == pytest.approx(expected, rel=1e-15)


def test_a_cast_passes_the_tangent_on_in_the_new_dtype():
    x, t = np.array([1.0, 2.0]), np.array([0.1, 1e-9])
    out, tangent = autograd.jvp(lambda x: x.astype(np.float32) * 2.0, (x,), (t,))
    assert out.dtype == tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, (t * 2).astype(np.float32))


# ------------------------------------------------- forward mode: structure


@settings(max_examples=20, deadline=None)
@given(steps=dag_steps(), shapes=broadcastable_shapes(num_shapes=3, max_side=3), data=st.data())
def test_jvp_of_a_random_dag_is_the_transpose_of_its_gradient(steps, shapes, data):
    """<grad f, t> = J t for random broadcasting DAGs of the table's smooth ops with shared nodes."""
    leaves = [data.draw(tensors(shape=shape)).data for shape in shapes]
    tangents = [np.random.default_rng(k).standard_normal(shape) for k, shape in enumerate(shapes)]
    _, directional = autograd.jvp(lambda *xs: dag_output(steps, *xs), tuple(leaves), tuple(tangents))
    gradients = autograd.grad(lambda *xs: dag_output(steps, *xs), argnums=(0, 1, 2))(*leaves)
    expected = sum(float((g * t).sum()) for g, t in zip(gradients, tangents, strict=True))
    assert float(directional) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_jvp_through_a_scalar_mlp_of_values_is_its_gradient_along_the_tangent():
    """nn.scalar's neurons are Affine nodes (kind other: transposed) with many inputs."""
    import nn

    model = nn.scalar.MLP(3, [8, 8, 1])
    x, t = [0.5, -1.0, 2.0], [1.0, 0.25, -0.5]
    _, directional = autograd.jvp(lambda *xs: model(list(xs)), tuple(x), tuple(t))
    gradients = autograd.grad(lambda *xs: model(list(xs)), argnums=(0, 1, 2))(*x)
    assert directional == pytest.approx(sum(g * d for g, d in zip(gradients, t, strict=True)), rel=1e-12)


def test_a_tensor_needing_no_grad_gives_constant_tensors():
    out, tangent = autograd.jvp(lambda x: x.exp(), (Tensor(np.array([0.0, 1.0])),), (np.ones(2),))
    assert isinstance(tangent, Tensor) and not tangent.requires_grad and not out.requires_grad
    np.testing.assert_allclose(tangent.data, np.exp([0.0, 1.0]))


def test_the_tangent_of_a_broadcast_input_is_broadcast_not_summed():
    a, b = np.array([1.0, 2.0, 3.0]), np.ones((2, 3))
    _, tangent = autograd.jvp(lambda a, b: a + b, (a, b), (np.array([1.0, 10.0, 100.0]), np.zeros((2, 3))))
    np.testing.assert_array_equal(tangent, [[1.0, 10.0, 100.0]] * 2)
    _, tangent = autograd.jvp(lambda a, b: a * b, (b * 2.0, a), (np.zeros((2, 3)), np.array([1.0, 0.0, 1.0])))
    np.testing.assert_array_equal(tangent, [[2.0, 0.0, 2.0]] * 2)


def test_tuple_primals_and_tuple_outputs_match_torch(torch):
    def f(x, y):
        return (x * y).tanh(), (x @ y.T).sum()

    x, y = two_by_three(), np.random.default_rng(8).standard_normal((2, 3))
    tx, ty = np.ones((2, 3)), np.random.default_rng(9).standard_normal((2, 3))
    (out1, out2), (t1, t2) = autograd.jvp(f, (x, y), (tx, ty))
    (e1, e2), (f1, f2) = torch.func.jvp(f, (torch.tensor(x), torch.tensor(y)),
                                        (torch.tensor(tx), torch.tensor(ty)))
    for got, expected in ((out1, e1), (out2, e2), (t1, f1), (t2, f2)):
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=TOL)
    assert isinstance(t2, np.ndarray) and t2.shape == ()


def test_plain_floats_give_floats_and_an_output_that_ignores_the_input_has_zero_tangent():
    out, tangent = autograd.jvp(lambda a: a * a * a, (2.0,), (0.5,))
    assert type(out) is float and type(tangent) is float and tangent == 6.0
    out, tangent = autograd.jvp(lambda x, y: y * 2.0, (np.ones(2), np.ones(3)), (np.ones(2), np.zeros(3)))
    np.testing.assert_array_equal(tangent, np.zeros(3))


# Cube (x**3) declares no kind: forward mode transposes its backward (the fallback for any op).
class ElementwiseCube(Cube):
    """The same op declared elementwise: its backward runs on the tangent itself (NumPy inside is fine)."""

    kind = "elementwise"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return np.multiply(3 * x * x, g)


class NumpyCube(Cube):
    """kind "other" with a backward that only runs on numbers: forward mode cannot transpose it."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return np.multiply(3 * x * x, np.asarray(g))


@pytest.mark.parametrize("cube", [Cube, ElementwiseCube])
def test_a_custom_function_with_or_without_a_kind_pushes_forward(cube):
    x, t = np.array([1.0, -2.0, 0.5]), np.array([1.0, 0.5, -2.0])
    _, tangent = autograd.jvp(lambda x: cube.apply(x).sin(), (x,), (t,))
    np.testing.assert_allclose(tangent, np.cos(x**3) * 3 * x**2 * t, rtol=1e-14)
    _, tangent = autograd.jvp(lambda a: cube.apply(a) * a, (Value(1.5),), (2.0,))
    assert tangent.data == pytest.approx(4 * 1.5**3 * 2.0, rel=1e-14)


def test_a_custom_function_forward_mode_cannot_derive_says_what_to_add():
    message = r"NumpyCube has kind 'other'.*numbers for input 0.*kind = \"elementwise\""
    with pytest.raises(TypeError, match=message):
        autograd.jvp(lambda x: NumpyCube.apply(x), (np.ones(2),), (np.ones(2),))


def test_an_unknown_kind_is_refused_by_name():
    class Typo(Cube):
        kind = "elementwize"

    message = r"Typo.kind is 'elementwize'.*elementwise, linear, multilinear, other"
    with pytest.raises(TypeError, match=message):
        autograd.jvp(lambda x: Typo.apply(x), (np.ones(2),), (np.ones(2),))


def test_jvp_runs_no_reverse_pass_and_writes_no_gradient(monkeypatch):
    walks = []
    real = graph.walk
    monkeypatch.setattr(graph, "walk", lambda order, *rest: (walks.append(order), real(order, *rest))[1])
    w = Tensor(W, requires_grad=True)
    for name in ("elementwise", "matmul", "sum_axis_0", "broadcast"):
        autograd.jvp(ours(FUNCTIONS[name]), (two_by_three(),), (np.ones((2, 3)),))
    autograd.jvp(lambda x: (x @ w).tanh().sum(), (two_by_three(),), (np.ones((2, 3)),))
    assert walks == [] and w.grad is None


def test_an_op_with_kind_other_transposes_only_its_own_backward(monkeypatch):
    """softmax's rule runs a reverse pass over the few ops of its backward, never over f's graph."""
    walked, made = [], []
    real_walk, real_push = graph.walk, forward.push
    monkeypatch.setattr(graph, "walk", lambda order, *r: (walked.extend(order), real_walk(order, *r))[1])
    monkeypatch.setattr(forward, "push", lambda out, *rest: (made.append(out), real_push(out, *rest))[1])
    x = Tensor(two_by_three(), requires_grad=True)
    autograd.jvp(lambda x: ((x * 2.0).softmax(-1) * x).sum(), (x,), (np.ones((2, 3)),))
    assert walked and not any(node is m for node in walked for m in made)
    assert len(walked) <= 6 and x.grad is None


def test_recording_is_put_back_after_jvp_even_when_f_raises():
    make, apply = value._make, Tensor.__dict__["_apply"]
    with pytest.raises(ZeroDivisionError):
        autograd.jvp(lambda x: x * (1 / 0), (np.ones(2),), (np.ones(2),))
    autograd.jvp(lambda x: x * x, (np.ones(2),), (np.ones(2),))
    assert value._make is make and Tensor.__dict__["_apply"] is apply and not forward.is_tracing()


def test_recorders_swapped_under_a_running_jvp_are_refused_not_silently_wrong():
    original, apply = value._make, Tensor.__dict__["_apply"]

    def f(x):
        value._make = original  # a swap by hand, not through autograd.recording: the tracing recorder is gone
        return x * x

    with pytest.raises(RuntimeError, match=r"value\._make was swapped by hand while forward mode was on"):
        autograd.jvp(f, (np.ones(2),), (np.ones(2),))
    assert value._make is original and Tensor.__dict__["_apply"] is apply


def test_forward_mode_ignores_no_grad_inside_f_as_torch(torch):
    def f(x, lib=None):
        with (no_grad() if lib is None else lib.no_grad()):
            y = x * 2.0
            z = y * 3.0  # made only of a no_grad result: still a tangent
        return y * x + z * 0.5

    out, tangent = autograd.jvp(f, (np.array([1.0, 3.0]),), (np.array([1.0, 1.0]),))
    _, expected = torch.func.jvp(lambda x: f(x, torch), (torch.tensor([1.0, 3.0], dtype=torch.float64),),
                                 (torch.ones(2, dtype=torch.float64),))
    np.testing.assert_allclose(tangent, expected.numpy())
    x = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    out, _ = autograd.jvp(f, (x,), (np.ones(2),))
    out.sum().backward()  # the no_grad products are constants for reverse mode: d/dx (2 x0) * x = 2 x0
    np.testing.assert_allclose(x.grad, [2.0, 6.0])
    _, on_values = autograd.jvp(f, (3.0,), (1.0,))
    assert on_values == 2 * 2 * 3.0 + 3.0


def test_jvp_in_two_threads_keeps_each_threads_tangents():
    import threading

    results = {}

    def run(k):
        for _ in range(20):
            results[k] = autograd.jvp(lambda x: (x * float(k)).sin().sum(), (np.ones(50),), (np.ones(50),))[1]

    threads = [threading.Thread(target=run, args=(k,)) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in (1, 2):
        assert results[k] == pytest.approx(50 * k * np.cos(k))


# ---------------------------------------------- forward mode: higher order


def test_jvp_of_jvp_gives_second_directional_derivatives(torch):
    v, u = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.25, -0.5])

    def f(x):  # the same spelling on both libraries
        return ((x * x).sum().sin() * x).softmax(-1)

    def inner(x):
        return autograd.jvp(f, (x,), (v,))[1]

    x = np.array([0.3, -0.2, 0.9])
    _, got = autograd.jvp(inner, (x,), (u,))
    _, expected = torch.func.jvp(lambda x: torch.func.jvp(f, (x,), (torch.tensor(v),))[1], (torch.tensor(x),),
                                 (torch.tensor(u),))
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=TOL)


def test_forward_over_reverse_gives_the_hessian_vector_product(torch):
    x, v = two_by_three(), np.random.default_rng(5).standard_normal((2, 3))
    f = ours(SCALAR_FUNCTIONS["log_softmax_loss"])
    _, got = autograd.jvp(autograd.grad(f), (x,), (v,))  # torch.func's jvp(grad(f)): no flag needed
    _, (expected,) = hvp(f, (x,), (v,))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=TOL)
    _, by_vjp = autograd.jvp(lambda x: vjp(f, x)[1](np.array(1.0))[0], (x,), (v,))
    assert type(got) is type(by_vjp) is np.ndarray
    np.testing.assert_allclose(by_vjp, expected, rtol=1e-12, atol=TOL)


def test_second_derivatives_of_a_value_function_by_jvp_of_jvp_and_jvp_of_grad():
    def f(a):
        return (a * a).sin() * a  # f'' = -4 a^3 sin(a^2) + 6 a cos(a^2)

    a = 0.7
    second = -4 * a**3 * math.sin(a * a) + 6 * a * math.cos(a * a)
    _, by_jvp = autograd.jvp(lambda a: autograd.jvp(f, (a,), (1.0,))[1], (a,), (1.0,))
    _, by_grad = autograd.jvp(autograd.grad(f), (a,), (1.0,))
    _, on_value = autograd.jvp(autograd.grad(f), (Value(a),), (1.0,))
    assert by_jvp == pytest.approx(second, rel=1e-13) and by_grad == pytest.approx(second, rel=1e-13)
    assert isinstance(on_value, Value) and on_value.data == pytest.approx(second, rel=1e-13)


def test_forward_over_reverse_through_an_index_with_repeats():
    """grad of sum(x[[0, 0, 1]]**3) scatters 3 x**2 back (ScatterAdd); its jvp is 12 x0 t0, 6 x1 t1, 0."""
    x, t = np.array([0.5, -2.0, 3.0]), np.array([1.0, 0.25, 4.0])
    gradient = autograd.grad(lambda x: (x[np.array([0, 0, 1])] ** 3).sum())
    _, got = autograd.jvp(gradient, (x,), (t,))
    np.testing.assert_allclose(got, [12 * 0.5 * 1.0, 6 * -2.0 * 0.25, 0.0], rtol=1e-15)


def test_reverse_over_forward_differentiates_the_tangent(torch):
    v = np.array([1.0, -2.0, 0.5])

    def directional(x):
        return autograd.jvp(lambda y: (y.tanh() * y).sum(), (x,), (v,))[1]

    got = autograd.grad(directional)(np.array([0.2, -0.4, 1.1]))
    g = torch.func.grad(lambda x: torch.func.jvp(lambda y: (y.tanh() * y).sum(), (x,), (torch.tensor(v),))[1])
    np.testing.assert_allclose(got, g(torch.tensor([0.2, -0.4, 1.1], dtype=torch.float64)).numpy(),
                               rtol=1e-12, atol=TOL)


# ------------------------------------------------------ forward mode: errors


def test_jvp_refuses_tangents_of_another_number_a_non_tuple_and_integers():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(2,\), but primal 0 has shape \(3,\)"):
        autograd.jvp(lambda x: x * 2.0, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="2 tangents for 1 primals"):
        autograd.jvp(lambda x: x, (np.ones(3),), (np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match="primals must be a tuple"):
        autograd.jvp(lambda x: x, np.ones(3), (np.ones(3),))
    with pytest.raises(TypeError, match="integer"):
        autograd.jvp(lambda x: x * 2.0, (3,), (1.0,))
    with pytest.raises(TypeError, match="f must return a Value or a Tensor"):
        autograd.jvp(lambda x: 3.0, (np.ones(2),), (np.ones(2),))
