"""What NumPy, PyTorch and Python users type first, on Tensor and Value (issue 13).

Each habit either works as in NumPy/PyTorch or fails with an error naming the
fix; never an object array, never numbers silently cut from the graph.
"""
from __future__ import annotations

import math
import operator
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Function, Tensor, Value, gradcheck, no_grad


def leaf(shape=(2, 3), seed=0, dtype=np.float64) -> Tensor:
    data = np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype(dtype)
    return Tensor(data, requires_grad=True)


# ------------------------------------------------------------ Python numbers


def test_value_converts_like_its_float():
    v = Value(2.0) ** 3 * 17.354103655
    x = v.data
    assert float(v) == x and int(v) == int(x)
    assert round(v) == round(x) and round(v, 3) == round(x, 3)
    assert f"{v:.3f}" == f"{x:.3f}" and f"{v:.2e}" == f"{x:.2e}" and f"{v:>12.1f}" == f"{x:>12.1f}"
    assert math.exp(Value(1.0)) == math.e


def test_value_formats_with_no_spec_as_its_repr():
    v = Value(1.5)
    assert f"{v}" == str(v) == repr(v)


def test_value_prints_full_precision_as_python_floats_do():
    a = Value(2.0)
    b = a**3 * 17.354
    b.backward()
    assert repr(b) == f"Value(data={b.data!r}, grad=1.0)"
    assert repr(a) == f"Value(data=2.0, grad={a.grad!r})"
    assert repr(Value(0.1, label="w")) == "Value(data=0.1, grad=0.0, label='w')"


def test_value_repr_matches_micrograd():
    micrograd = pytest.importorskip("micrograd.engine")
    ours, theirs = Value(-4.0), micrograd.Value(-4.0)
    ours_out = (ours * 2.123456789 + ours**2).relu() * 0.3 + ours
    theirs_out = (theirs * 2.123456789 + theirs**2).relu() * 0.3 + theirs
    ours_out.backward()
    theirs_out.backward()
    assert repr(ours) == repr(theirs)  # Value(data=-4.0, grad=-1.0865...)
    assert repr(ours_out).split(",")[0] == repr(theirs_out).split(",")[0]  # micrograd's root grad is int 1


def test_value_repr_under_create_graph_shows_the_gradient_node():
    x = Value(3.0)
    (x * x).backward(create_graph=True)
    assert repr(x) == "Value(data=3.0, grad=Value(data=6.0, grad=0.0))"


@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
def test_one_element_tensor_converts_to_python_numbers(shape):
    t = Tensor(np.full(shape, 2.567), requires_grad=True)
    assert float(t) == 2.567 and type(float(t)) is float
    assert int(t) == 2 and int(-t) == -2  # truncates, as int(float)
    assert round(t) == 3 and round(t, 2) == 2.57
    assert f"{t:.3f}" == "2.567" and f"{t:.2e}" == "2.57e+00"
    assert math.sqrt(Tensor(np.full(shape, 4.0))) == 2.0


@settings(deadline=None, max_examples=40)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 6))
def test_tensor_numbers_match_float64_numbers(x, ndigits):
    t = Tensor(np.array([[x]]))
    assert float(t) == x
    assert round(t, ndigits) == round(x, ndigits)
    assert f"{t:.{ndigits}e}" == f"{x:.{ndigits}e}" and f"{t:g}" == f"{x:g}"


def test_loss_formats_as_numpy_scalar_in_f_string():
    loss = Tensor(0.1) * 1.0  # float32
    assert f"{loss}" == str(np.float32(0.1)) == "0.1"
    assert f"{loss:.3f}" == "0.100"
    t = Tensor([1.0, 2.0])
    assert f"{t}" == str(t)  # no spec: the repr, not an error


@pytest.mark.parametrize("convert", [float, int, round, lambda t: round(t, 2)])
@pytest.mark.parametrize("shape", [(2,), (2, 3), (0,)])
def test_conversion_of_many_elements_names_the_shape(convert, shape):
    with pytest.raises(ValueError, match=r"only one element tensors .* shape " + re.escape(str(shape))):
        convert(Tensor(np.ones(shape)))


def test_format_spec_on_many_elements_raises_type_error_naming_the_shape():
    with pytest.raises(TypeError, match=r"format spec '\.3f'.*shape \(2, 3\)"):
        f"{Tensor(np.ones((2, 3))):.3f}"


def test_conversion_errors_match_pytorch_type():
    torch = pytest.importorskip("torch")
    for convert in (float, int):
        with pytest.raises(ValueError) as theirs:
            convert(torch.ones(2))
        with pytest.raises(ValueError) as ours:
            convert(Tensor(np.ones(2)))
        assert str(theirs.value) in str(ours.value)


@pytest.mark.parametrize("data", [0.0, 1.5, [0.0], [2.0], [[3.0]], [1.0, 2.0], []])
def test_bool_follows_numpy(data):
    array = np.array(data)
    try:
        expected = bool(array)
    except ValueError:
        with pytest.raises(ValueError):
            bool(Tensor(array))
    else:
        assert bool(Tensor(array)) is expected


@pytest.mark.parametrize(
    "array", [np.array(3), np.array(-2, np.int32), np.array([3]), np.array(3.0), np.array([[1]])]
)
def test_operator_index_follows_numpy(array):
    try:
        expected = operator.index(array)
    except TypeError:
        with pytest.raises(TypeError):
            operator.index(Tensor(array))
    else:
        assert operator.index(Tensor(array)) == expected
        assert ["a", "b", "c", "d"][Tensor(array)] == ["a", "b", "c", "d"][expected]


# ------------------------------------------------------- NumPy's array protocol


def test_np_asarray_gives_the_numbers_of_a_tensor_requiring_grad():
    w = leaf()
    array = np.asarray(w)
    assert type(array) is np.ndarray and array.dtype == np.float64
    assert np.shares_memory(array, w.data)  # as .numpy(): no copy
    np.testing.assert_array_equal(np.array(w), w.data)
    assert not np.shares_memory(np.array(w), w.data)
    assert np.asarray(w, dtype=np.float32).dtype == np.float32
    assert np.asarray(Tensor(2.5)).shape == ()


def test_np_asarray_refuses_copy_false_when_a_dtype_change_copies():
    with pytest.raises(ValueError, match="float64 to float32 needs a copy"):
        np.asarray(leaf(), dtype=np.float32, copy=False)


def test_matplotlib_plots_the_numbers_of_parameters():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w, m = leaf((5,)), leaf((3, 3), seed=1)
    fig, ax = plt.subplots()
    try:
        (line,) = ax.plot(w)
        np.testing.assert_array_equal(line.get_ydata(), w.data)
        (line,) = ax.plot(w, w * 2)
        np.testing.assert_array_equal(line.get_ydata(), 2 * w.data)
        np.testing.assert_array_equal(ax.imshow(m).get_array(), m.data)
        counts, _, _ = ax.hist(w, bins=3)
        assert counts.sum() == 5
    finally:
        plt.close(fig)


def test_list_of_tensors_requiring_grad_is_not_silently_detached():
    w = leaf((2,))
    with pytest.raises(TypeError, match=r"autograd\.stack"):
        Tensor([w[0], w[1]])
    with pytest.raises(TypeError, match=r"autograd\.stack"):
        w + [w[0], w[1]]
    np.testing.assert_array_equal(Tensor([Tensor(1.0), 2.0]).data, [1.0, 2.0])  # constants are numbers


# ------------------------------------------------------------------- ufuncs

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

UFUNC_CALLS = {
    "exp": lambda t: np.exp(t),
    "log": lambda t: np.log(t),
    "sqrt": lambda t: np.sqrt(t),
    "tanh": lambda t: np.tanh(t),
    "abs": lambda t: np.abs(t),
    "negative": lambda t: np.negative(t),
    "square": lambda t: np.square(t),
    "add": lambda t: np.add(t, 1),
    "add ndarray left": lambda t: np.add(A, t),
    "subtract ndarray left": lambda t: np.subtract(A, t),
    "multiply": lambda t: np.multiply(t, A),
    "true_divide ndarray left": lambda t: np.true_divide(A, t),
    "power": lambda t: np.power(t, 3),
    "power ndarray left": lambda t: np.power(2.0, t),
    "matmul ndarray left": lambda t: np.matmul(A.T, t),
    "maximum": lambda t: np.maximum(t, 1.0),
    "minimum ndarray left": lambda t: np.minimum(A, t),
    "operator ndarray + t": lambda t: A + t,
    "operator ndarray - t": lambda t: A - t,
    "operator ndarray * t": lambda t: A * t,
    "operator ndarray / t": lambda t: A / t,
    "operator ndarray ** t": lambda t: np.abs(A) ** t,
    "operator ndarray @ t": lambda t: A.T @ t,
    "operator np.float64 * t": lambda t: np.float64(2) * t,
    "operator np.float32 - t": lambda t: np.float32(2) - t,
    "operator t + np.float64": lambda t: t + np.float64(2),
}


@pytest.mark.parametrize("name", UFUNC_CALLS)
def test_numpy_ufunc_on_tensor_records_the_op(name):
    call = UFUNC_CALLS[name]
    t = leaf()
    out = call(t)
    assert isinstance(out, Tensor) and out.grad_fn is not None
    np.testing.assert_allclose(out.data, call(t.data), rtol=1e-12)
    assert out.dtype == call(t.data).dtype
    assert gradcheck(call, t.data)


@pytest.mark.parametrize("name", ["exp", "add ndarray left", "operator ndarray @ t", "maximum"])
def test_numpy_ufunc_gradient_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    call = UFUNC_CALLS[name]
    torch_call = {
        "exp": torch.exp, "maximum": lambda x: torch.clamp(x, min=1.0),
        "add ndarray left": lambda x: torch.from_numpy(A) + x,
        "operator ndarray @ t": lambda x: torch.from_numpy(A.T) @ x,
    }[name]
    t, x = leaf(), torch.tensor(leaf().data, requires_grad=True)
    call(t).sum().backward()
    torch_call(x).sum().backward()
    np.testing.assert_allclose(t.grad, x.grad.numpy(), rtol=1e-12)


def test_numpy_ufunc_on_float32_tensor_keeps_numpy_dtype_rules():
    t = leaf(dtype=np.float32)
    assert (np.ones(3, np.float32) + t[0]).dtype == np.float32
    assert (np.float64(2) * t).dtype == (np.float64(2) * t.data).dtype
    assert np.exp(t).dtype == np.float32


@pytest.mark.parametrize(
    "call, hint",
    [
        (lambda t: np.sinh(t), "Tensor methods and operators"),
        (lambda t: np.add.reduce(t, axis=0), r"t\.sum\(axis=\.\.\.\)"),
        (lambda t: np.maximum.accumulate(t), "Tensor methods"),
        (lambda t: np.exp(t, dtype=np.float32), "recorded only without the keywords dtype="),
    ],
)
def test_unrecorded_ufunc_on_tensor_requiring_grad_names_the_way(call, hint):
    with pytest.raises(TypeError, match=hint) as error:
        call(leaf())
    assert "detach().numpy()" in str(error.value)


def test_unrecorded_ufunc_on_a_constant_tensor_gives_its_numbers():
    t = Tensor(A)
    np.testing.assert_array_equal(np.sinh(t), np.sinh(A))
    np.testing.assert_array_equal(np.add.reduce(t, axis=0), A.sum(axis=0))
    with no_grad():  # a result made under no_grad is a constant too
        np.testing.assert_array_equal(np.cos(leaf() * 1), np.cos(leaf().data))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: np.greater(t, 1.0), lambda t: np.ones(3) < t, lambda t: A == t,
        lambda t: np.isnan(t), lambda t: np.isfinite(t), lambda t: np.sign(t),
        lambda t: np.floor(t), lambda t: np.round(t, 1),
    ],
)
def test_comparisons_and_zero_gradient_ufuncs_give_plain_arrays(call):
    t = leaf()
    out = call(t)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, call(t.data))


@pytest.mark.parametrize(
    "write",
    [
        lambda t: np.exp(np.zeros(3), out=t), lambda t: np.add.at(t, [0, 0], 1.0),
        lambda t: np.copyto(t, np.zeros(3)), lambda t: np.put(t, [0], 5.0),
        lambda t: np.putmask(t, np.ones(3, bool), 0.0),
    ],
)
def test_numpy_never_writes_into_a_tensor(write):
    t = Tensor(np.ones(3))
    with pytest.raises(TypeError, match="would write into a Tensor in place"):
        write(t)
    np.testing.assert_array_equal(t.data, 1.0)


def test_ndarray_in_place_ops_with_a_tensor_on_the_right():
    t = Tensor(np.ones(3))
    array = np.zeros(3)
    array += t  # a constant: NumPy's in-place add on the numbers
    np.testing.assert_array_equal(array, 1.0)
    with pytest.raises(TypeError, match="requires grad"):
        array += leaf((3,))


# ---------------------------------------------------------- NumPy functions

FUNCTION_CALLS = {
    "sum": lambda t: np.sum(t, axis=0),
    "mean keepdims": lambda t: np.mean(t, axis=-1, keepdims=True),
    "max": lambda t: np.max(t, axis=1),
    "amin": lambda t: np.amin(t),
    "var ddof": lambda t: np.var(t, axis=0, ddof=1),
    "reshape": lambda t: np.reshape(t, (3, 2)),
    "transpose": lambda t: np.transpose(t),
    "transpose axes": lambda t: np.transpose(t[None], (2, 0, 1)),
    "squeeze": lambda t: np.squeeze(t[:, None]),
    "expand_dims": lambda t: np.expand_dims(t, axis=-1),
    "swapaxes": lambda t: np.swapaxes(t, 0, 1),
    "ravel": lambda t: np.ravel(t),
    "concatenate with ndarray": lambda t: np.concatenate([t, A], axis=1),
    "concatenate axis None": lambda t: np.concatenate((t, A), axis=None),
    "stack": lambda t: np.stack([t, t * 2], axis=-1),
    "where": lambda t: np.where(A > 0, t, 0.0),
    "clip": lambda t: np.clip(t, 0.6, 1.5),
    "broadcast_to": lambda t: np.broadcast_to(t[0], (4, 3)),
    "dot matrix": lambda t: np.dot(t, A.T),
    "dot vectors": lambda t: np.dot(t[0], A[1]),
}


@pytest.mark.parametrize("name", FUNCTION_CALLS)
def test_numpy_function_on_tensor_records_the_tensor_op(name):
    call = FUNCTION_CALLS[name]
    t = leaf()
    out = call(t)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, call(t.data), rtol=1e-12)
    assert gradcheck(call, t.data)


def test_numpy_argmax_argmin_and_shape_queries_give_numpy_answers():
    t = leaf((3, 4))
    for axis in (None, 0, -1):
        assert np.array_equal(np.argmax(t, axis=axis), np.argmax(t.data, axis=axis))
        assert np.array_equal(np.argmin(t, axis), np.argmin(t.data, axis))
    assert np.shape(t) == (3, 4) and np.ndim(t) == 2 and np.size(t) == 12
    assert np.allclose(t, t.data)
    np.testing.assert_array_equal(np.where(Tensor(A > 0)), np.where(A > 0))


def test_numpy_function_with_unrecorded_keywords_names_the_method():
    with pytest.raises(TypeError, match=r"np\.sum on a Tensor records only axis=, keepdims=.*t\.sum"):
        np.sum(leaf(), dtype=np.float32)
    with pytest.raises(TypeError, match=r"np\.concatenate .* axis=; use autograd\.concatenate"):
        np.concatenate([leaf(), leaf()], dtype=np.float32)


@pytest.mark.parametrize(
    "call, hint",
    [
        (lambda t: np.cumsum(t), "Tensor methods"),
        (lambda t: np.std(t), r"t\.var\(axis=\.\.\.\) \*\* 0\.5"),
        (lambda t: np.linalg.norm(t), r"np\.linalg\.norm.*\(t\*\*2\)\.sum\(\) \*\* 0\.5"),
        (lambda t: np.dot(t[None], A.T), "use a @ b"),
    ],
)
def test_unrecorded_numpy_function_on_tensor_requiring_grad_names_the_way(call, hint):
    with pytest.raises(TypeError, match=hint):
        call(leaf())


def test_unrecorded_numpy_function_on_a_constant_tensor_gives_its_numbers():
    np.testing.assert_array_equal(np.cumsum(Tensor(A)), np.cumsum(A))
    assert np.linalg.norm(Tensor([3.0, 4.0])) == 5.0


# ---------------------------------------------------------- PyTorch's names


@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"dim": 1}, {"dim": -1, "keepdim": True},
                                    {"axis": -2, "keepdims": True}])
def test_argmax_argmin_give_plain_ints_like_numpy_and_pytorch(kwargs):
    data = np.array([[1.0, 5.0, 5.0], [7.0, -2.0, 0.0]])
    t = Tensor(data, requires_grad=True)
    axis = kwargs.get("axis", kwargs.get("dim"))
    keep = kwargs.get("keepdims", kwargs.get("keepdim", False))
    for method in ("argmax", "argmin"):
        got = getattr(t, method)(**kwargs)
        assert not isinstance(got, Tensor)
        assert np.asarray(got).dtype.kind == "i"
        np.testing.assert_array_equal(got, getattr(np, method)(data, axis=axis, keepdims=keep))


def test_argmax_matches_pytorch_including_ties():
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 5.0, 5.0], [7.0, -2.0, 7.0]])
    assert Tensor(data).argmax() == torch.tensor(data).argmax().item()
    np.testing.assert_array_equal(Tensor(data).argmax(dim=1, keepdim=True),
                                  torch.tensor(data).argmax(dim=1, keepdim=True).numpy())


def test_argmax_refuses_both_axis_and_dim():
    with pytest.raises(TypeError, match="axis= .* or dim="):
        Tensor(A).argmax(axis=0, dim=0)


def test_numel_is_the_element_count_and_size_stays_numpys_property():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.numel() == 24 == t.size == t.data.size and isinstance(t.size, int)
    assert Tensor(1.0).numel() == 1 == Tensor(1.0).size and Tensor(np.zeros((0, 3))).numel() == 0
    assert range(t.size)[-1] == 23 and t.size * 2 == 48 and f"{t.size}" == "24"


def test_size_called_gives_the_shape_as_pytorch():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.size() == (2, 3, 4) and t.size(0) == 2 and t.size(-1) == 4
    assert Tensor(1.0).size() == ()
    with pytest.raises(IndexError):
        t.size(3)
    torch = pytest.importorskip("torch")
    theirs = torch.zeros(2, 3, 4)
    assert theirs.size() == t.size() and theirs.size(-1) == t.size(-1)


@pytest.mark.parametrize("source, method, target", [
    (np.float32, "double", np.float64), (np.float64, "float", np.float32),
    (np.float32, "astype", np.float64), (np.float64, "astype", np.float16),
])
def test_casts_are_differentiable_and_the_gradient_comes_back_in_the_source_dtype(source, method, target):
    x = leaf((3,), dtype=source)
    y = x.astype(target) if method == "astype" else getattr(x, method)()
    assert y.dtype == target and repr(y.grad_fn) == "<CastBackward>"
    np.testing.assert_array_equal(y.data, x.data.astype(target))
    (y * y).sum().backward()
    assert x.grad.dtype == source
    np.testing.assert_allclose(x.grad, 2 * x.data, rtol=1e-3)


def test_cast_has_second_derivatives():
    assert gradcheck(lambda x: (x.astype(np.float32).double() ** 3).sum(), np.array([0.5, 1.5]),
                     order=2, eps=1e-3, atol=1e-2, rtol=1e-2)
    x = leaf((2,), dtype=np.float32)
    (x.double() ** 3).sum().backward(create_graph=True)
    assert x.grad.dtype == np.float32 and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data, rtol=1e-6)


def test_float_and_double_return_the_tensor_itself_when_already_that_dtype():
    x32, x64 = leaf(dtype=np.float32), leaf()
    assert x32.float() is x32 and x64.double() is x64
    copy = x64.astype(np.float64)  # NumPy's astype copies
    assert copy is not x64 and not np.shares_memory(copy.data, x64.data)


def test_cast_to_integer_is_a_constant_as_in_pytorch():
    x = leaf()
    ints = x.astype(np.int64)
    assert ints.dtype == np.int64 and not ints.requires_grad and ints.grad_fn is None
    torch = pytest.importorskip("torch")
    assert not torch.ones(2, requires_grad=True).long().requires_grad


def test_view_is_reshape():
    t = leaf()
    assert t.view(3, 2).shape == (3, 2) == t.view((3, -1)).shape == t.view([-1, 2]).shape
    t.view(-1).sum().backward()
    np.testing.assert_array_equal(t.grad, np.ones((2, 3)))
    with pytest.raises(TypeError, match="astype"):
        t.view(np.float32)


class Twice(Function):
    """2a;  da = 2g."""

    forward = staticmethod(lambda ctx, a: 2 * a)
    backward = staticmethod(lambda ctx, g: 2 * g)


def test_grad_fn_is_none_on_leaves_and_names_the_op_of_results():
    w = leaf()
    assert w.grad_fn is None and Tensor(A).grad_fn is None
    assert repr((w * 2).grad_fn) == "<MulBackward>" and (w + 1).grad_fn.name() == "AddBackward"
    assert repr(Twice.apply(w).grad_fn) == "<TwiceBackward>"
    assert (w * 2).grad_fn.function.__name__ == "Mul"
    with no_grad():
        assert (w * 2).grad_fn is None
    assert (Tensor(A) * 2).grad_fn is None


def test_repr_names_the_op_of_a_result_as_pytorch_does():
    w = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(w) == "Tensor([1., 2.], requires_grad=True)"
    assert repr(w * 2) == "Tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr((w * 2).sum()) == "Tensor(6., grad_fn=<SumBackward>)"
    assert repr(w.double() * 2) == "Tensor([2., 4.], dtype=float64, grad_fn=<MulBackward>)"
    assert repr(w.detach()) == "Tensor([1., 2.])"
    torch = pytest.importorskip("torch")
    theirs = repr(torch.tensor([1.0, 2.0], requires_grad=True) * 2)
    assert theirs == "tensor([2., 4.], grad_fn=<MulBackward0>)"  # the form we follow


def test_requires_grad_false_on_a_computed_tensor_raises_as_pytorch():
    w = leaf()
    h = w * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables") as ours:
        h.requires_grad_(False)
    assert "var.detach()" in str(ours.value) and h.requires_grad
    assert h.requires_grad_(True) is h  # already true: allowed, as in PyTorch
    assert w.requires_grad_(False) is w and not w.requires_grad
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        (torch.ones(2, requires_grad=True) * 2).requires_grad_(False)
    assert str(theirs.value) == str(ours.value)


def test_requires_grad_on_an_integer_tensor_is_refused():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3)).requires_grad_()


def test_zero_d_tensor_has_no_length_and_no_iteration_as_pytorch():
    t = Tensor(3.0)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(t)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        sum(t)
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(t)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(torch.tensor(3.0))
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(torch.tensor(3.0))


def test_iteration_yields_rows_recorded_as_indexing():
    w = leaf((3, 2))
    rows = list(w)
    assert len(rows) == len(w) == 3
    assert all(isinstance(r, Tensor) and r.shape == (2,) and r.grad_fn is not None for r in rows)
    total = sum(w)  # Python's sum over rows
    np.testing.assert_allclose(total.data, w.data.sum(axis=0))
    total.sum().backward()
    np.testing.assert_array_equal(w.grad, np.ones((3, 2)))
    a, b = Tensor([1.0, 2.0])  # unpacking
    assert float(a) == 1.0 and float(b) == 2.0


def test_in_follows_numpy():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 3.0 in t and 5.0 not in t and (3.0 in t) == (3.0 in t.data)
    assert 2.0 in Tensor(2.0)


def test_tolist_and_cpu():
    t = leaf()
    assert t.tolist() == t.data.tolist() and Tensor(2.5).tolist() == 2.5
    assert t.cpu() is t
    np.testing.assert_array_equal(t.detach().cpu().numpy(), t.data)
