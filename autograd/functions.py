"""Built-in ops: a table of calculus, one ``Function`` per op.

Each ``backward`` is the op's derivative, written once. It runs on raw data
(floats, arrays) in a first-order pass and on nodes (Value, Tensor) under
``create_graph=True``, so it only uses arithmetic, methods that ndarray and
Tensor share (``sum reshape transpose swapaxes``, indexing, ``@``) and the
small dispatching helpers below. ``forward`` runs on NumPy arrays (Tensor);
Value computes its forward with ``math`` inline and records the same class.
Piecewise-constant factors (ReLU's mask, abs's sign) are saved as constants:
their derivative is zero, so this is exact at every order. A gradient that
selects (ReLU, clip, where, maximum) selects with ``where``, never ``g * mask``:
an inf or NaN upstream stays out of the slots it does not reach, as in PyTorch.

Special points follow PyTorch (IEEE 754): ``1 / 0`` is inf, ``0 ** -1`` inf,
``log 0`` -inf, ``d(x**0)/dx`` is 0. Python floats raise where NumPy gives
these, so a formula that can divide by zero or overflow on Value's floats is
wrapped in ``ieee_floats``: the rare failing call is rerun on float64.
Axes are normalised once (``normalize_axes``): negatives and tuples as NumPy.
"""
from __future__ import annotations

import functools
import math
from operator import mul
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .graph import OUTPUT, Function, Node

# ---------------------------------------------------------------- helpers


def exp(x: Any) -> Any:
    """e**x on a node, a float or an array (inf where a float overflows)."""
    if isinstance(x, Node):
        return x.exp()
    if type(x) is float or type(x) is int:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf
    return np.exp(x)


def expm1(x: Any) -> Any:
    """e**x - 1, accurate near 0 for floats and arrays (a node gets exp(x) - 1)."""
    if isinstance(x, Node):
        return x.exp() - 1
    if type(x) is float or type(x) is int:
        try:
            return math.expm1(x)
        except OverflowError:
            return math.inf
    return np.expm1(x)


def log(x: Any) -> Any:
    """Natural log on a node, a float or an array; for floats log 0 = -inf, log(x < 0) = nan."""
    if isinstance(x, Node):
        return x.log()
    if type(x) is float or type(x) is int:
        return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan
    return np.log(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e**-x) on a node, a float or an array (stable: see ``stable_sigmoid``)."""
    return x.sigmoid() if isinstance(x, Node) else stable_sigmoid(x)


def sin(x: Any) -> Any:
    """sin x on a node, a float or an array (nan at +-inf, where ``math.sin`` raises)."""
    if isinstance(x, Node):
        return x.sin()
    return _math_or_nan(math.sin, x) if type(x) is float else np.sin(x)


def cos(x: Any) -> Any:
    """cos x on a node, a float or an array (nan at +-inf, where ``math.cos`` raises)."""
    if isinstance(x, Node):
        return x.cos()
    return _math_or_nan(math.cos, x) if type(x) is float else np.cos(x)


def _math_or_nan(function: Any, x: float) -> float:
    try:
        return function(x)
    except ValueError:  # math's domain error: IEEE (NumPy, PyTorch) gives nan
        return math.nan


def zeros_like(x: Any) -> Any:
    """An exact zero gradient shaped like ``x`` (``x * 0`` is NaN where x is inf); a float for Values."""
    if isinstance(x, (np.ndarray, np.generic)):  # a NumPy scalar (0-d math) too: it has a shape
        return np.zeros_like(x)
    if isinstance(x, Node) and isinstance(x.data, np.ndarray):
        return x.wrap(np.zeros_like(x.data))
    return 0.0


def data_of(x: Any) -> Any:
    """A node's raw data; anything else unchanged (conditions are taken on raw data)."""
    return x.data if isinstance(x, Node) else x


def ieee_float(ufunc: Any, *args: float) -> float:
    """``ufunc`` on float64 scalars as a Python float: inf and nan where Python's float ops raise."""
    with np.errstate(all="ignore"):
        return float(ufunc(*args))


def ieee_floats(formula: Any) -> Any:
    """``formula`` with IEEE results on Python floats (1/0 = inf, 0**-1 = inf, overflow = inf).

    Python's floats raise ZeroDivisionError or OverflowError, or return a complex
    number, where NumPy and PyTorch give inf or nan. The formula runs as is;
    only when such a float call fails is it rerun on float64 scalars (errors
    silenced), so the common path pays nothing.
    """

    @functools.wraps(formula)
    def wrapped(*args: Any) -> Any:
        try:
            out = formula(*args)
        except ArithmeticError:
            if not _on_floats(args):
                raise
        else:
            if not _has_complex(out):
                return out
        with np.errstate(all="ignore"):
            out = formula(*map(_as_float64, args))
        return tuple(map(_as_float, out)) if type(out) is tuple else _as_float(out)

    return wrapped


def _on_floats(args: tuple) -> bool:
    return not any(isinstance(a, (Node, np.ndarray)) for a in args[1:] or args)


def _has_complex(out: Any) -> bool:
    return type(out) is complex or (type(out) is tuple and complex in map(type, out))


class _Float64Context:
    """A Value's backward context with its saved floats as float64 scalars."""

    shapes = None

    def __init__(self, ctx: Any) -> None:
        self.saved_tensors = tuple(map(_as_float64, ctx.saved_tensors))
        self.needs_input_grad = ctx.needs_input_grad


def _as_float64(x: Any) -> Any:
    if type(x) is float or type(x) is int:
        return np.float64(x)
    return _Float64Context(x) if hasattr(x, "saved_tensors") else x


def _as_float(x: Any) -> Any:
    return None if x is None else float(x)


def power(a: float, b: float) -> float:
    """a ** b for floats, IEEE where Python raises or goes complex: 0 ** -1 = inf, (-8) ** 0.5 = nan."""
    try:
        out = a**b
    except ArithmeticError:  # 0 ** negative, overflow
        return ieee_float(np.power, np.float64(a), b)
    return out if type(out) is float else float(out) if type(out) is not complex else math.nan


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``axis`` (an int, a sequence, or None for all) as a tuple of axes in 0..ndim-1.

    Negative axes count from the end, as in NumPy; an axis out of range or
    named twice is an ``AxisError`` naming it. None stays None.
    """
    if axis is None:
        return None
    return normalize_axis_tuple(axis, ndim)


def expand(x: Any, shape: tuple) -> Any:
    """Broadcast ``x`` to ``shape`` (the adjoint of ``sum_to``)."""
    if x.shape == shape:
        return x
    return Expand.apply(x, shape=shape) if isinstance(x, Node) else np.broadcast_to(x, shape)


def sum_to(x: Any, shape: tuple) -> Any:
    """Sum a broadcast gradient back to an input's ``shape``."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    return x.sum(axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


def column_sums(x: Any) -> Any:
    """x summed over its rows, as ones @ x: a matrix-vector product beats a reduction along axis 0."""
    return _ones(len(x), x.dtype) @ x


def max_along(x: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    """``x.max(axis, keepdims=True)``; along the short last axis of a 2-D array, by columns.

    NumPy reduces a 2-D array along its last axis one row at a time: for a
    few elements per row (the classes of a batch of logits) that is one loop
    call per row, 5 to 10 times slower than reducing the transposed copy over
    its first axis, one vector loop per column ((1024, 10) float32: 53 us
    against 5 us). The values are the same, NaN included. Over an empty axis
    it is 0 (NumPy's max has no identity; softmax's result is empty anyway).
    """
    if not x.size:
        return np.zeros(keepdims_shape(x.shape, axis), x.dtype)
    if _short_rows(x, axis):
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0).reshape(-1, 1)
    return x.max(axis=axis, keepdims=True)


def sum_along(x: np.ndarray, axis: tuple[int, ...] | None) -> np.ndarray:
    """``x.sum(axis, keepdims=True)``; along the short last axis of a 2-D array, as x @ ones.

    The row sums of a batch of logits as a matrix-vector product, for the
    reason ``max_along`` gives ((1024, 10) float32: 17 us against 4 us);
    float32 and float64 only, the types BLAS multiplies.
    """
    if _short_rows(x, axis) and x.dtype.char in "fd":
        return (x @ _ones(x.shape[1], x.dtype)).reshape(-1, 1)
    return x.sum(axis=axis, keepdims=True)


def _short_rows(x: np.ndarray, axis: tuple[int, ...] | None) -> bool:
    """A reduction along the last axis of a 2-D array of many short rows (where NumPy's is slow)."""
    return x.ndim == 2 and axis == (1,) and x.shape[1] <= 64 and x.shape[0] >= 16


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def scatter_add(x: Any, shape: tuple, index: Any) -> Any:
    """Zeros of ``shape`` with ``x`` added at ``index``; repeats accumulate."""
    if isinstance(x, Node):
        return ScatterAdd.apply(x, shape=shape, index=index)
    out = np.zeros(shape, dtype=x.dtype)
    if _is_basic(index):
        out[index] = x  # slices and ints never repeat an element
    else:
        np.add.at(out, index, x)
    return out


def _is_basic(index: Any) -> bool:
    """True for indexing by ints, slices, None and Ellipsis only."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice, np.integer)) for p in parts)


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` holds, else ``y``, for nodes, arrays and (one bool) scalars.

    A selection, not ``x * mask``: an inf or NaN in the slot not chosen stays
    out. On nodes it is the differentiable ``Where``, so exact at every order.
    """
    if type(condition) is bool:  # a Value's condition
        return x if condition else y
    if isinstance(x, Node) or isinstance(y, Node):
        return Where.apply(condition, x, y)
    return np.where(condition, x, y)


def masked(g: Any, mask: Any) -> Any:
    """g where ``mask`` holds, else 0: ``where(mask, g, 0)``, at the speed of ``g * mask``.

    NumPy's ``where`` is ten times slower than a product on a random mask, and
    the product is the same selection unless g holds an inf or NaN off the
    mask (inf * 0 is NaN): only then, seen as a NaN in the product, it selects.
    """
    if type(mask) is bool or isinstance(g, Node):
        return where(mask, g, 0.0)
    out = g * mask
    if out.size and np.isnan(out.max()):  # max propagates NaN; one pass, cheaper than isnan().any()
        return np.where(mask, g, 0.0).astype(out.dtype, copy=False)
    return out


def keepdims_shape(shape: tuple, axis: Any) -> tuple:
    """The shape a reduction over ``axis`` has with ``keepdims=True``."""
    if axis is None:
        return (1,) * len(shape)
    axes = normalize_axis_tuple(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def drop_axes(x: np.ndarray, axis: Any) -> np.ndarray:
    """Remove the size-1 axes a ``keepdims=True`` reduction over ``axis`` left."""
    return x.reshape(()) if axis is None else np.squeeze(x, axis=axis)


def _binary_grads(ctx: Any, ga: Any, gb: Any) -> tuple:
    """Gradients of a broadcasting binary op, summed to each input's shape."""
    a_shape, b_shape = ctx.shapes
    return (
        None if a_shape is None or ga is None else sum_to(ga, a_shape),
        None if b_shape is None or gb is None else sum_to(gb, b_shape),
    )


def _shapes(*inputs: Any) -> tuple:
    return tuple(getattr(x, "shape", None) for x in inputs)


# ------------------------------------------------------- elementwise, binary


class Add(Function):
    """a + b;  da = g, db = g."""

    symbol = "+"
    rule = ("g", "g")
    kind = "linear"

    @staticmethod
    def scalar(a, b):
        return a + b, ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shapes(a, b)
        return a + b

    @staticmethod
    def backward(ctx, g):
        if ctx.shapes is None:
            return g, g
        return _binary_grads(ctx, g, g)


class Sub(Function):
    """a - b;  da = g, db = -g."""

    symbol = "-"
    rule = ("g", "-g")
    kind = "linear"

    @staticmethod
    def scalar(a, b):
        return a - b, ()

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shapes(a, b)
        return a - b

    @staticmethod
    def backward(ctx, g):
        if ctx.shapes is None:
            return g, -g
        return _binary_grads(ctx, g, -g)


class Mul(Function):
    """a * b;  da = g * b, db = g * a."""

    symbol = "*"
    rule = ("g * b", "g * a")
    kind = "elementwise"
    saves = (0, 1)

    @staticmethod
    def scalar(a, b):
        return a * b, (a, b)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shapes(a, b)
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if ctx.shapes is None:
            return g * b, g * a
        return _binary_grads(ctx, g * b, g * a)


class Div(Function):
    """a / b;  da = g / b, db = -g * (a / b) / b (PyTorch's order: no b**2 to overflow)."""

    symbol = "/"
    rule = ("g / b", "-g * (a / b) / b")
    kind = "elementwise"
    saves = (0, 1)

    @staticmethod
    def scalar(a, b):
        try:
            return a / b, (a, b)
        except ZeroDivisionError:  # IEEE: +-inf, or nan for 0 / 0
            return ieee_float(np.divide, a, b), (a, b)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shapes(a, b)
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    @ieee_floats
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga, gb = g / b, -g * (a / b / b)
        return (ga, gb) if ctx.shapes is None else _binary_grads(ctx, ga, gb)


class Pow(Function):
    """a ** b;  da = g * b * a**(b-1), db = g * a**b * log(a), with PyTorch's values where they are 0 * inf.

    Where b = 0, da is 0 (x**0 is constant in x), written g * b / a so that its
    derivative in b stays exact (PyTorch's plain 0 makes its Hessian
    asymmetric there), and 0 outright where a is 0 or NaN. db is 0 where
    a = 0 and b >= 0 (0**b is constant in b). A branch not chosen is computed
    at a harmless base (1), so its inf never meets a zero gradient at the
    next order (the double-where rule).
    """

    symbol = "**"
    rule = ("g * b * a ** (b - 1)", "g * out * log(a)")
    kind = "elementwise"
    saves = (0, 1, OUTPUT)

    @staticmethod
    def scalar(a, b):
        out = power(a, b)
        return out, (a, b, out)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shapes(a, b)
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    @ieee_floats
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        a_data, b_data = data_of(a), data_of(b)
        ga = gb = None
        if needs[0]:
            zero_b = b_data == 0
            regular = zero_b & (a_data == a_data) & (a_data != 0)  # b = 0 at a number base
            at_zero = where(regular, g * b / where(regular, a, 1.0), 0.0)
            ga = where(zero_b, at_zero, g * (b * where(zero_b, 1.0, a) ** (b - 1)))
        if needs[1]:
            zero_a = (a_data == 0) & (b_data >= 0)
            gb = where(zero_a, 0.0, g * out * log(where(zero_a, 1.0, a)))
        return (ga, gb) if ctx.shapes is None else _binary_grads(ctx, ga, gb)


class PowConstant(Function):
    """a ** n for a constant number n;  da = g * n * a**(n-1), and 0 for n = 0 (PyTorch)."""

    symbol = "**"
    rule = ("g * n * a ** (n - 1)",)
    kind = "elementwise"
    saves = (0, None)

    @staticmethod
    def scalar(a, exponent):
        return power(a, exponent), (a, exponent)

    @staticmethod
    def forward(ctx, a, *, exponent):
        ctx.save_for_backward(a, exponent)
        return a**exponent

    @staticmethod
    @ieee_floats
    def backward(ctx, g):
        a, n = ctx.saved_tensors
        return g * (n * a ** (n - 1)) if n != 0 else zeros_like(g)  # PyTorch's order: 0 * huge stays 0


class Maximum(Function):
    """max(a, b) elementwise;  the larger input gets g, ties g / 2 each, NaN g to both (PyTorch)."""

    symbol = "maximum"
    rule = ("g where a > b (g / 2 at ties)", "g where b > a (g / 2 at ties)")
    kind = "elementwise"
    function = staticmethod(np.maximum)
    loses = staticmethod(np.less)  # a loses to b where a < b

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.shapes = _shapes(a, b)
        ctx.save_for_backward(cls.loses(a, b), cls.loses(b, a), np.equal(a, b))
        return cls.function(a, b)

    @staticmethod
    def backward(ctx, g):
        a_loses, b_loses, tie = ctx.saved_tensors
        shared = where(tie, g * 0.5, g)
        return _binary_grads(ctx, where(a_loses, 0.0, shared), where(b_loses, 0.0, shared))


class Minimum(Maximum):
    """min(a, b) elementwise;  the smaller input gets g, ties g / 2 each, NaN g to both (PyTorch)."""

    symbol = "minimum"
    rule = ("g where a < b (g / 2 at ties)", "g where b < a (g / 2 at ties)")
    kind = "elementwise"
    function = staticmethod(np.minimum)
    loses = staticmethod(np.greater)


class Where(Function):
    """condition ? x : y, with a constant boolean condition."""

    symbol = "where"
    rule = ("", "g where condition", "g where not condition")
    kind = "elementwise"

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.shapes = (None,) + _shapes(x, y)
        ctx.save_for_backward(np.asarray(condition, dtype=bool))
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, g):
        (condition,) = ctx.saved_tensors
        _, x_shape, y_shape = ctx.shapes
        gx = None if x_shape is None else sum_to(masked(g, condition), x_shape)
        gy = None if y_shape is None else sum_to(masked(g, ~condition), y_shape)
        return None, gx, gy


# -------------------------------------------------------- elementwise, unary


class Neg(Function):
    """-a;  da = -g."""

    symbol = "neg"
    rule = ("-g",)
    kind = "linear"

    @staticmethod
    def scalar(a):
        return -a, ()

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class FromInput(Function):
    """An elementwise y = f(a) whose derivative is a function of a:  da = g * slope(a).

    Subclasses give ``function`` (on a float with ``math``, on an array with
    NumPy) and ``slope``, written with the dispatching helpers so that on a
    node (create_graph) it records ops: ``cos``, never ``np.cos``.
    """

    kind = "elementwise"
    saves = (0,)

    @classmethod
    def scalar(cls, a):
        return cls.function(a), (a,)

    @classmethod
    def forward(cls, ctx, a):
        ctx.save_for_backward(a)
        return cls.function(a)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors  # the input (or, for FromOutput, the output)
        return g * cls.slope(x)


class Sin(FromInput):
    """sin a;  da = g * cos(a)."""

    symbol = "sin"
    rule = ("g * cos(a)",)
    function = staticmethod(sin)
    slope = staticmethod(cos)


class Cos(FromInput):
    """cos a;  da = -g * sin(a)."""

    symbol = "cos"
    rule = ("-g * sin(a)",)
    function = staticmethod(cos)

    @staticmethod
    def slope(a):
        return -sin(a)


class FromOutput(FromInput):
    """An elementwise y = f(a) whose derivative is a function of y:  da = g * slope(y).

    Subclasses give ``function`` (NumPy), ``scalar`` (math) and ``slope``; the
    output is saved, so under create_graph the slope is differentiated through y.
    """

    saves = (OUTPUT,)

    @classmethod
    def forward(cls, ctx, a):
        out = cls.function(a)
        ctx.save_for_backward(out)
        return out


class Exp(FromOutput):
    """e**a;  da = g * e**a (the output, saved)."""

    symbol = "exp"
    rule = ("g * out",)
    kind = "elementwise"
    function = staticmethod(np.exp)

    @staticmethod
    def scalar(a):
        try:
            out = math.exp(a)
        except OverflowError:
            out = math.inf
        return out, (out,)

    @staticmethod
    def slope(out):
        return out


class Sqrt(FromOutput):
    """sqrt a;  da = g / (2 sqrt a)."""

    symbol = "sqrt"
    rule = ("g / (2 * out)",)
    kind = "elementwise"
    function = staticmethod(np.sqrt)

    @staticmethod
    def scalar(a):
        out = math.sqrt(a) if a >= 0.0 else math.nan  # IEEE, as PyTorch
        return out, (out,)

    @staticmethod
    @ieee_floats
    def slope(out):
        return 0.5 / out


class Tanh(FromOutput):
    """tanh a;  da = g * (1 - tanh(a)**2)."""

    symbol = "tanh"
    rule = ("g * (1 - out ** 2)",)
    kind = "elementwise"
    function = staticmethod(np.tanh)

    @staticmethod
    def scalar(a):
        out = math.tanh(a)
        return out, (out,)

    @staticmethod
    def slope(out):
        return 1 - out * out


class Sigmoid(FromOutput):
    """s(a) = 1 / (1 + e**-a);  da = g * s * (1 - s)."""

    symbol = "sigmoid"
    rule = ("g * out * (1 - out)",)
    kind = "elementwise"

    @staticmethod
    def scalar(a):
        out = stable_sigmoid(a)
        return out, (out,)

    @staticmethod
    def function(a):
        return stable_sigmoid(a)

    @staticmethod
    def slope(out):
        return out * (1 - out)


def stable_sigmoid(a: Any) -> Any:
    """1 / (1 + e**-a) for a float or an array, never exponentiating a large positive number."""
    if type(a) is float:
        if a >= 0.0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class Softplus(FromOutput):
    """softplus a = log(1 + e**a);  da = g * sigmoid(a) = g * (1 - e**-out) = -g * expm1(-out)."""

    symbol = "softplus"
    rule = ("g * sigmoid(a)",)
    kind = "elementwise"

    @staticmethod
    def scalar(a):
        out = max(a, 0.0) + math.log1p(math.exp(-abs(a)))
        return out, (out,)

    @staticmethod
    def function(a):
        return np.logaddexp(0, a)

    @staticmethod
    def slope(out):
        return -expm1(-out)


class Log(Function):
    """ln a;  da = g / a."""

    symbol = "log"
    rule = ("g / a",)
    kind = "elementwise"
    saves = (0,)

    @staticmethod
    def scalar(a):
        return log(a), (a,)

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    @ieee_floats
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class ScaleBy(Function):
    """a * k for a constant factor k (abs's sign, a leaky slope)."""

    symbol = "scale"

    @staticmethod
    def backward(ctx, g):
        (factor,) = ctx.saved_tensors
        return g * factor


class Select(Function):
    """An op whose gradient passes g where a constant mask holds and is 0 elsewhere."""

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        if mask is True:  # a Value's mask is one bool: the common scalar path
            return g
        return masked(g, mask)


class Relu(Select):
    """max(a, 0);  da = g where not a <= 0 (NaN propagates, with its gradient, as in PyTorch).

    A Value saves the mask, one bool. A Tensor saves its output instead (the
    node holds it anyway) and makes the mask in backward, ``out != 0`` (out
    is 0 where a <= 0, positive where a > 0, NaN where a is NaN: one pass),
    so the forward is NumPy's maximum alone and no bool array lives between
    the passes. The output is saved as a constant, the mask's source: the
    mask's derivative is 0, so that is right at every order.
    """

    symbol = "ReLU"
    rule = ("g if a > 0 else 0",)
    kind = "elementwise"

    @staticmethod
    def scalar(a):
        if a <= 0.0:
            return 0.0, (False,)
        return a, (True,)

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors  # a Value's mask (a bool), a Tensor's output
        if type(out) is bool:
            return g if out else 0.0
        return masked(g, out != 0)


class LeakyRelu(ScaleBy):
    """a if a > 0 else slope * a;  da = g * (1 if a > 0 else slope)."""

    symbol = "leaky_relu"
    rule = ("g if a > 0 else slope * g",)
    kind = "elementwise"

    @staticmethod
    def scalar(a, slope=0.01):
        factor = 1.0 if a > 0.0 else float(slope)
        return a * factor, (factor,)

    @staticmethod
    def forward(ctx, a, *, slope=0.01):
        factor = np.where(a > 0, 1, slope).astype(a.dtype)
        ctx.save_for_backward(factor)
        return a * factor


class Abs(ScaleBy):
    """|a|;  da = g * sign(a) (0 at 0, as PyTorch)."""

    symbol = "abs"
    rule = ("g * sign(a)",)
    kind = "elementwise"

    @staticmethod
    def scalar(a):
        return abs(a), (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0,)

    @staticmethod
    def forward(ctx, a):
        sign = np.sign(np.nan_to_num(a, nan=0.0))  # PyTorch's sgn(nan) is 0 in the gradient
        ctx.save_for_backward(sign)
        return np.abs(a)


class Clip(Select):
    """clip(a, low, high);  da = g where low <= a <= high, else 0 (also at NaN, as PyTorch)."""

    symbol = "clip"
    rule = ("g if low <= a <= high else 0",)
    kind = "elementwise"

    @staticmethod
    def forward(ctx, a, *, low=None, high=None):
        inside = np.ones_like(a, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        ctx.save_for_backward(inside)
        return np.clip(a, low, high)


# ---------------------------------------------------------------- reductions


class Sum(Function):
    """sum over axis;  da = g broadcast back to a's shape."""

    symbol = "sum"
    rule = ("g broadcast to a's shape",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        axis = normalize_axes(axis, a.ndim)
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return np.asarray(a.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, g):
        return spread_back(ctx, g)


def spread_back(ctx: Any, g: Any) -> Any:
    """A reduction's gradient broadcast back over the reduced axes to the input's shape."""
    if not ctx.keepdims:
        g = g.reshape(keepdims_shape(ctx.shape, ctx.axis))
    return expand(g, ctx.shape)


class Mean(Function):
    """mean over axis;  da = g / n broadcast back to a's shape."""

    symbol = "mean"
    rule = ("g / n broadcast to a's shape",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        axis = normalize_axes(axis, a.ndim)
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        out = np.asarray(a.mean(axis=axis, keepdims=keepdims))
        ctx.count = a.size // max(out.size, 1) if a.size else 1
        return out

    @staticmethod
    def backward(ctx, g):
        return spread_back(ctx, g / ctx.count)


class Var(Function):
    """var over axis: sum((a - mean)**2) / max(n - ddof, 0);  da = g * 2 (a - mean) / (n - ddof).

    PyTorch's formula (no gradient through the mean: its terms sum to zero),
    so an inf or NaN stays in its own slot. With ddof >= n the value is inf
    or nan, never negative, as in PyTorch.
    """

    symbol = "var"
    rule = ("g * 2 * (a - mean(a)) / (n - ddof)",)
    saves = (0,)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False, ddof=0):
        axis = normalize_axes(axis, a.ndim)
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.scale = float(np.float64(2.0) / (count - ddof))  # a Python float: no float64 promotion
        ctx.save_for_backward(a)
        centered = a - a.mean(axis=axis, keepdims=True)
        return np.asarray((centered * centered).sum(axis=axis, keepdims=keepdims) / max(count - ddof, 0))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        centered = a - a.mean(axis=ctx.axis, keepdims=True)
        return spread_back(ctx, g) * centered * ctx.scale


class Amax(Function):
    """max over axis; ties share the gradient evenly (PyTorch's amax)."""

    symbol = "max"
    rule = ("g shared among the maxima",)

    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, a, *, axis=None, keepdims=False):
        axis = normalize_axes(axis, a.ndim)
        out = cls.reduce(a, axis=axis, keepdims=True)
        winners = a == out
        share = winners / winners.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(share.astype(a.dtype, copy=False))
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return out if keepdims else drop_axes(out, axis)

    @staticmethod
    def backward(ctx, g):
        (share,) = ctx.saved_tensors
        return spread_back(ctx, g) * share


class Amin(Amax):
    """min over axis; ties share the gradient evenly (PyTorch's amin)."""

    symbol = "min"
    rule = ("g shared among the minima",)
    reduce = staticmethod(np.min)


# ------------------------------------------------------------------ movement


class Reshape(Function):
    """reshape;  da = g reshaped back."""

    symbol = "reshape"
    rule = ("g reshaped to a's shape",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    """permute axes;  da = g permuted by the inverse permutation."""

    symbol = "transpose"
    rule = ("g with the axes permuted back",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, axes):
        if axes is None:
            axes = tuple(reversed(range(a.ndim)))
        axes = normalize_axis_tuple(axes, a.ndim, "axes")  # negatives as NumPy; repeats refused
        if len(axes) != a.ndim:
            raise ValueError(f"transpose: axes {axes} do not permute the {a.ndim} axes of shape {a.shape}")
        ctx.inverse = tuple(int(i) for i in np.argsort(axes))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse)


class Expand(Function):
    """broadcast_to(shape);  da = g summed back to a's shape."""

    symbol = "expand"
    rule = ("g summed to a's shape",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.shape)


class GetItem(Function):
    """a[index];  da = g scattered back, repeated indices accumulating."""

    symbol = "getitem"
    rule = ("g scattered into zeros at index",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, index):
        ctx.shape, ctx.index = a.shape, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, g):
        return scatter_add(g, ctx.shape, ctx.index)


class ScatterAdd(Function):
    """zeros(shape) with a added at index (GetItem's adjoint);  da = g[index]."""

    symbol = "scatter_add"
    rule = ("g[index]",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, shape, index):
        ctx.index = index
        return scatter_add(a, shape, index)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


class Identity(Function):
    """x, as a new node (a boundary for the functional ``grad``);  dx = g."""

    symbol = "identity"
    rule = ("g",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, g):
        return g


class Concatenate(Function):
    """concatenate along axis;  each input gets its slice of g."""

    symbol = "concatenate"
    rule = ("g's slice at this input's place along axis",)  # one entry: every input's rule
    kind = "linear"

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("concatenate needs at least one array")
        ctx.axis = axis = normalize_axis_index(axis, max(arrays[0].ndim, 1))
        out = np.concatenate(arrays, axis=axis)
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return out

    @staticmethod
    def backward(ctx, g):
        axis = ctx.axis
        starts = [0, *ctx.bounds]
        ends = [*ctx.bounds, g.shape[axis]]
        lead = (slice(None),) * axis
        return tuple(g[lead + (slice(s, e),)] for s, e in zip(starts, ends, strict=True))


# ------------------------------------------------------------- linear algebra


class Affine(Function):
    """b + sum_i w_i x_i, a scalar neuron in one node;  db = g, dw_i = g x_i, dx_i = g w_i.

    Inputs are (b, w_1..w_n, x_1..x_n); one node instead of 2n keeps scalar
    graphs (nn.scalar) small: fewer nodes to build, walk and collect.
    """

    symbol = "affine"
    rule = ("g", "g * x_i", "g * w_i")  # for b, then a run of w_i and a run of x_i (i = 1..n)
    saves = (slice(1, None),)

    @staticmethod
    def scalar(bias, *weights_then_inputs):
        n = len(weights_then_inputs) // 2
        return bias + sum(map(mul, weights_then_inputs[:n], weights_then_inputs[n:])), weights_then_inputs

    @staticmethod
    def forward(ctx, bias, *weights_then_inputs):
        n = len(weights_then_inputs) // 2
        ctx.save_for_backward(*weights_then_inputs)
        weights, inputs = weights_then_inputs[:n], weights_then_inputs[n:]
        return bias + sum(w * x for w, x in zip(weights, inputs, strict=True))

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        n = len(saved) // 2
        return (g, *[g * x for x in saved[n:]], *[g * w for w in saved[:n]])


class MatMul(Function):
    """a @ b with NumPy's rules;  da = g @ b.T, db = a.T @ g (batched, summed)."""

    symbol = "@"
    rule = ("g @ b.T", "a.T @ g")
    kind = "multilinear"
    saves = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.asarray(a @ b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_shape, b_shape = a.shape, b.shape
        if a.ndim == 1:  # (k,) @ b: a row vector; g gains the row axis
            g = g.reshape(g.shape[:-1] + (1, g.shape[-1]) if b.ndim > 1 else (1,) + g.shape)
            a = a.reshape(1, -1)
        if b.ndim == 1:
            b, g = b.reshape(-1, 1), g.reshape(g.shape + (1,))
        ga = sum_to(g @ b.swapaxes(-1, -2), a.shape).reshape(a_shape)
        gb = sum_to(a.swapaxes(-1, -2) @ g, b.shape).reshape(b_shape)
        return ga, gb


class Linear(Function):
    """x @ W.T + b (PyTorch's layout, W is (out, in)): one node for a layer.

    dx = g @ W, dW = g.T @ x, db = g summed over the batch; dx is skipped when
    x needs no gradient (an input batch).
    """

    symbol = "linear"
    rule = ("g @ W", "g.T @ x", "g summed over the batch")
    saves = (0, 1)

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        flat = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        out = flat @ weight.T
        if bias is not None:
            out += bias
        ctx.save_for_backward(x, weight)  # x itself, not the reshaped copy: it is the input at every order
        return out.reshape(x.shape[:-1] + (weight.shape[0],)) if x.ndim != 2 else out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        batched = x.ndim != 2  # x was flattened to (rows, in) in forward
        flat = x.reshape(-1, x.shape[-1]) if batched else x
        if batched:
            g = g.reshape(-1, g.shape[-1])
        gx = g @ weight if needs[0] else None
        if batched and gx is not None:
            gx = gx.reshape(x.shape)
        gw = g.T @ flat if needs[1] else None
        if len(needs) == 2:  # applied without a bias
            return gx, gw
        return gx, gw, column_sums(g) if needs[2] else None


# ------------------------------------------------------------------- softmax


class LogSoftmax(Function):
    """log softmax along axis: a - logsumexp(a);  da = g - softmax * sum(g)."""

    symbol = "log_softmax"
    rule = ("g - exp(out) * sum(g)",)
    saves = (OUTPUT,)

    @staticmethod
    def forward(ctx, a, *, axis=-1):
        axis = normalize_axes(axis, a.ndim)
        shifted = a - max_along(a, axis)
        if not shifted.size:  # an empty axis or batch: empty, without log(0) of the empty rows' sums
            out = shifted
        else:
            out = shifted - np.log(sum_along(np.exp(shifted), axis))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - exp(out) * g.sum(axis=ctx.axis, keepdims=True)


class Softmax(Function):
    """softmax along axis: e**a / sum(e**a);  da = s * (g - sum(g * s))."""

    symbol = "softmax"
    rule = ("out * (g - sum(g * out))",)
    saves = (OUTPUT,)

    @staticmethod
    def forward(ctx, a, *, axis=-1):
        axis = normalize_axes(axis, a.ndim)
        e = np.exp(a - max_along(a, axis))
        out = e / sum_along(e, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(axis=ctx.axis, keepdims=True))


class LogSumExp(Function):
    """log(sum(e**a)) along axis, shifted by the max;  da = g * e**(a - out)."""

    symbol = "logsumexp"
    rule = ("g * exp(a - out)",)
    saves = (0, OUTPUT)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        axis = normalize_axes(axis, a.ndim)
        peak = max_along(a, axis)
        peak = np.where(np.isfinite(peak), peak, 0)
        out = np.log(sum_along(np.exp(a - peak), axis)) + peak
        out = out if keepdims else drop_axes(out, axis)
        ctx.save_for_backward(a, out)
        ctx.kept = keepdims_shape(a.shape, axis)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g.reshape(ctx.kept) * exp(a - out.reshape(ctx.kept))


# ------------------------------------------------- fused losses (nn.functional)


class PointwiseLoss(Function):
    """A loss l(x, y) per element, then reduced; one node.

    Subclasses give ``pointwise`` (NumPy, forward only), ``derivative``
    (dl/dx) and ``target_derivative`` (dl/dy), written so they run on arrays
    and on nodes, less a constant ``scale`` that multiplies g instead of every
    element. Backward is derivative * scale * g, with g spread over the
    elements by the reduction; dl/dy only when the target requires grad.
    """

    scale = 1.0

    @staticmethod
    def pointwise(x: np.ndarray, y: np.ndarray, **options: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def derivative(x: Any, y: Any, **options: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def target_derivative(x: Any, y: Any, **options: Any) -> Any:
        raise NotImplementedError

    saves = (0, 1)

    @classmethod
    def forward(cls, ctx, x, y, *, reduction="mean", **options):
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.count, ctx.options = reduction, x.size, options
        return reduce_array(cls.pointwise(x, y, **options), reduction)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        g = spread(g, ctx.reduction, ctx.count, cls.scale)
        dx = cls.derivative(x, y, **ctx.options) * g if ctx.needs_input_grad[0] else None
        if not ctx.needs_input_grad[1]:
            return dx, None
        return dx, cls.target_derivative(x, y, **ctx.options) * g


def reduce_array(losses: np.ndarray, reduction: str) -> np.ndarray:
    """Per-element losses reduced as asked: their mean, their sum, or unchanged."""
    if reduction == "none":
        return losses
    total = np.add.reduce(losses, axis=None)  # a NumPy scalar: ndarray.sum, mean and /= cost more
    return np.array(total / losses.size if reduction == "mean" else total)


def spread(g: Any, reduction: str, count: int, scale: float = 1.0) -> Any:
    """The upstream gradient per element, times ``scale``: g / n for a mean, g for a sum or none."""
    if reduction == "mean":
        return g * (scale / count)
    return g * scale if scale != 1.0 else g


class MSE(PointwiseLoss):
    """(x - y)**2;  dx = 2 (x - y), dy = -2 (x - y) (the 2 is ``scale``: it multiplies g once)."""

    symbol = "mse_loss"
    rule = ("2 * (x - y) * g / n", "2 * (y - x) * g / n")
    scale = 2.0

    @staticmethod
    def pointwise(x, y):
        diff = x - y
        return diff * diff

    @staticmethod
    def derivative(x, y):
        return x - y

    @staticmethod
    def target_derivative(x, y):
        return y - x


_BCE_EPSILON = float(np.float32(1e-12))  # as PyTorch: its gradient at p = 0 or 1 is exactly ours


class BCE(PointwiseLoss):
    """-(y log x + (1 - y) log(1 - x)), logs clamped at -100.

    dx = (x - y) / (x (1 - x)) (denominator at least PyTorch's EPSILON, a float32 1e-12),
    dy = log(1 - x) - log x.
    """

    symbol = "binary_cross_entropy"
    rule = ("(x - y) / (x * (1 - x)) * g / n", "(log(1 - x) - log(x)) * g / n")

    @staticmethod
    def pointwise(x, y):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        return -(y * log_x + (1 - y) * log_1mx)

    @staticmethod
    def derivative(x, y):
        return (x - y) / ((1 - x) * x).clip(min=_BCE_EPSILON)

    @staticmethod
    def target_derivative(x, y):
        if isinstance(x, Node):
            return (1 - x).log() - x.log()
        with np.errstate(divide="ignore"):  # PyTorch's value at x = 0 or 1: +-inf
            return np.log1p(-x) - np.log(x)


class BCEWithLogits(PointwiseLoss):
    """softplus(x) - x y = BCE(sigmoid(x), y), stable for any x;  dx = sigmoid(x) - y, dy = -x."""

    symbol = "bce_with_logits"
    rule = ("(sigmoid(x) - y) * g / n", "-x * g / n")

    @staticmethod
    def pointwise(x, y):
        return Softplus.function(x) - x * y

    @staticmethod
    def derivative(x, y):
        return sigmoid(x) - y

    @staticmethod
    def target_derivative(x, y):
        return -x


class Hinge(PointwiseLoss):
    """max(0, margin - y x) for y in {-1, +1} (the SVM loss);  dx = -y, dy = -x where margin > y x."""

    symbol = "hinge_loss"
    rule = ("-y * g / n where margin > y * x", "-x * g / n where margin > y * x")

    @staticmethod
    def pointwise(x, y, margin=1.0):
        return np.maximum(margin - y * x, 0)

    @staticmethod
    def derivative(x, y, margin=1.0):
        return -y * _active(x, y, margin)

    @staticmethod
    def target_derivative(x, y, margin=1.0):
        return -x * _active(x, y, margin)


def _active(x: Any, y: Any, margin: float) -> np.ndarray:
    """Where the hinge is on (margin > y x), as a constant mask of x's dtype."""
    return (margin - data_of(y) * data_of(x) > 0).astype(data_of(x).dtype)


# ---------------------------------------------------------- cross entropy


class CrossEntropy(Function):
    """-log softmax(x)[target] per row;  dx = (softmax(x) - onehot(target)) g."""

    symbol = "cross_entropy"
    saves = (0,)
    rule = ("(softmax(x) - onehot(target)) * g / n", "")

    @staticmethod
    def forward(ctx, logits, target, *, reduction="mean"):
        shifted = logits - max_along(logits, (1,))
        exps = np.exp(shifted)
        totals = sum_along(exps, (1,))
        rows = np.arange(len(target))
        losses = np.log(totals[:, 0]) - shifted[rows, target]
        ctx.save_for_backward(logits)
        ctx.probs, ctx.target, ctx.reduction = exps / totals, target, reduction
        return reduce_array(losses, reduction)

    @staticmethod
    def backward(ctx, g):
        (logits,) = ctx.saved_tensors
        probs = logits.softmax(axis=1) if isinstance(logits, Node) else ctx.probs
        onehot = np.zeros(probs.shape, dtype=probs.dtype)
        onehot[np.arange(len(ctx.target)), ctx.target] = 1
        if ctx.reduction == "none":
            return (probs - onehot) * g.reshape(-1, 1), None
        return (probs - onehot) * spread(g, ctx.reduction, len(ctx.target)), None


# ---------------------------------------------------------------- dtype casts


class Cast(Function):
    """a converted to another floating dtype;  da = g converted back to a's dtype."""

    symbol = "cast"
    rule = ("g cast back to a's dtype",)
    kind = "linear"

    @staticmethod
    def forward(ctx, a, *, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return cast(g, ctx.dtype)


def cast(x: Any, dtype: np.dtype) -> Any:
    """``x`` in ``dtype``: recorded for a node, a plain conversion for an array."""
    if x.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype) if isinstance(x, Node) else x.astype(dtype)
