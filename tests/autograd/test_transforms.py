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

import autograd
from autograd import Tensor, Value, hessian, hvp, jacobian, no_grad, numerical_grad, vjp

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
