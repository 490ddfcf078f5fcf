"""Value: a scalar node holding a Python float, drop-in for micrograd's Value.

Each op computes its forward with ``math`` inline (a float op is ~50 ns, so a
generic dispatch would dominate) and records the built-in ``Function`` whose
``backward`` is the derivative, shared with Tensor. The node is its own
backward context: ``saved_tensors`` is the plain tuple the op saved.

Special points follow IEEE 754 and PyTorch, forward and backward, instead of
Python's exceptions: ``1 / 0`` is inf, ``0 / 0`` nan, ``log 0`` -inf,
``log(-1)``, ``sqrt(-1)`` and ``(-8) ** 0.5`` nan, ``exp(1000)`` inf, and NaN
propagates (``relu(nan)`` is nan). Each check sits on the rare branch only.
An op computed under ``no_grad`` is a constant: its ``backward()`` raises.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from operator import mul
from typing import Any

import numpy as np

from . import functions as F
from .graph import Context, Function, Node, backward, grad_mode, next_order, roles_by_identity

Number = int | float

_new = object.__new__


class Value(Node):
    """A scalar in the graph: ``.data`` (float), ``.grad`` (float), ``.label``."""

    __slots__ = ("label",)
    requires_grad = True
    retains_grad = True  # every node shows its gradient, as in micrograd
    _fresh_grad = 0.0

    def __init__(self, data: Number, label: str = "") -> None:
        if isinstance(data, Value):
            data = data.data
        if not isinstance(data, Real):
            raise TypeError(f"Value needs a real number, got {type(data).__name__}: {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._fn = self._mark = None
        self._parents = self.saved_tensors = ()
        self._order = next_order()

    # --------------------------------------------------------------- recording

    @classmethod
    def _apply(cls, fn: type[Function], inputs: tuple, params: dict) -> Value:
        """Apply a user-defined Function to Values (and numbers)."""
        inputs = tuple(x if isinstance(x, Value) else Value(x) for x in inputs)
        ctx = Context()
        ctx.needs_input_grad = (True,) * len(inputs)
        data = fn.forward(ctx, *(x.data for x in inputs), **params)
        if not isinstance(data, Real):
            raise TypeError(
                f"{fn.__name__}.forward must return a real number for Values, got "
                f"{type(data).__name__}: {data!r}"
            )
        out = _make(float(data), fn, inputs, (), _AppliedValue)
        if out._fn is not None:
            if fn.saves is None:
                ctx.roles = roles_by_identity(ctx.saved_tensors, tuple(x.data for x in inputs), data)
            out._ctx = ctx
        return out

    def _wrap_constant(self, data: Any) -> Value:
        return Value(data)

    @property
    def _prev(self) -> tuple:
        """The inputs (micrograd's name), for code written against micrograd."""
        return self._parents

    @property
    def _op(self) -> str:
        """The op's symbol (micrograd's name); "" for a leaf."""
        return self._fn.name() if self._fn is not None else ""

    # -------------------------------------------------------------- arithmetic

    def __add__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _make(self.data + other.data, F.Add, (self, other), ())

    def __sub__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return _make(self.data - other.data, F.Sub, (self, other), ())

    def __mul__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        return _make(a * b, F.Mul, (self, other), (a, b))

    def __truediv__(self, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        try:
            out = a / b
        except ZeroDivisionError:  # IEEE: +-inf, or nan for 0 / 0
            out = F.ieee_float(np.divide, a, b)
        return _make(out, F.Div, (self, other), (a, b))

    def __pow__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            a, b = self.data, other.data
            out = _power(a, b)
            return _make(out, F.Pow, (self, other), (a, b, out))
        if not isinstance(other, Real):
            raise TypeError(f"pow: exponent must be a number or a Value, got {other!r}")
        a = self.data
        return _make(_power(a, other), F.PowConstant, (self,), (a, other))

    def __neg__(self) -> Value:
        return _make(-self.data, F.Neg, (self,), ())

    def __radd__(self, other: Number) -> Value:
        return Value(other) + self

    def __rsub__(self, other: Number) -> Value:
        return Value(other) - self

    def __rmul__(self, other: Number) -> Value:
        return Value(other) * self

    def __rtruediv__(self, other: Number) -> Value:
        return Value(other) / self

    def __rpow__(self, other: Number) -> Value:
        return Value(other) ** self

    # --------------------------------------------------------------- functions

    def exp(self) -> Value:
        """e**x (inf where it overflows)."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            out = math.inf
        return _make(out, F.Exp, (self,), (out,))

    def log(self) -> Value:
        """ln x;  log 0 = -inf, log(x < 0) = nan (IEEE, as PyTorch)."""
        x = self.data
        out = math.log(x) if x > 0.0 else F.log(x) + 0.0
        return _make(out, F.Log, (self,), (x,))

    def sqrt(self) -> Value:
        """sqrt x;  sqrt(x < 0) = nan (IEEE, as PyTorch)."""
        x = self.data
        out = math.sqrt(x) if x >= 0.0 else math.nan + 0.0
        return _make(out, F.Sqrt, (self,), (out,))

    def tanh(self) -> Value:
        """tanh x."""
        out = math.tanh(self.data)
        return _make(out, F.Tanh, (self,), (out,))

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x), stable for large |x|."""
        x = self.data
        if x >= 0.0:
            out = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            out = e / (1.0 + e)
        return _make(out, F.Sigmoid, (self,), (out,))

    def softplus(self) -> Value:
        """log(1 + e**x), stable for large |x|."""
        x = self.data
        out = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
        return _make(out, F.Softplus, (self,), (out,))

    def relu(self) -> Value:
        """max(x, 0);  relu(nan) is nan, and passes its gradient (PyTorch)."""
        x = self.data
        if x <= 0.0:
            return _make(0.0, F.Relu, (self,), (False,))
        return _make(x + 0.0, F.Relu, (self,), (True,))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        factor = 1.0 if self.data > 0.0 else float(slope)
        return _make(self.data * factor, F.LeakyRelu, (self,), (factor,))

    def abs(self) -> Value:
        """|x| (gradient 0 at 0, as in PyTorch)."""
        x = self.data
        sign = 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0
        return _make(abs(x), F.Abs, (self,), (sign,))

    __abs__ = abs

    # ---------------------------------------------------------------- backward

    def backward(self, grad: float | Value | None = None, create_graph: bool = False) -> None:
        """Reverse mode from this value: every node's ``.grad`` gets d(self)/d(node).

        ``grad`` is d(loss)/d(self), 1.0 when None. Leaves accumulate across
        calls; with ``create_graph`` the gradients are Values, so they can be
        differentiated again. The saved items are floats, so a backward after
        an optimizer step rebinds ``.data`` gives the gradient at the old values.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a Value computed under no_grad: it is a constant with no "
                "graph behind it; compute it outside no_grad() to differentiate it"
            )
        if grad is None:
            grad = 1.0
        elif not isinstance(grad, (Real, Value)) or isinstance(grad, bool):
            raise TypeError(f"backward(grad): grad must be a number or a Value, got {grad!r}")
        if isinstance(grad, Value) and not create_graph:
            grad = grad.data
        backward(self, grad if isinstance(grad, Value) else float(grad), create_graph)

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        """float(v): the number (no gradient), so math functions and NumPy take a Value."""
        return self.data

    def __repr__(self) -> str:
        """Full precision, as Python prints floats: ``Value(data=2.0, grad=138.83381924198252)``."""
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---- Python and NumPy habits

    def __int__(self) -> int:
        return int(self.data)

    def __round__(self, ndigits: int | None = None) -> float | int:
        """round(loss, 3), as round() of the float."""
        return round(self.data, ndigits)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats the number; ``f"{v}"`` is ``str(v)``, as in micrograd."""
        return format(self.data, spec) if spec else str(self)


def dot(weights: Sequence[Value], inputs: Sequence[Value | Number], bias: Value) -> Value:
    """bias + sum_i weights[i] * inputs[i] as one node (a neuron's pre-activation)."""
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs")
    inputs = [x if isinstance(x, Value) else Value(x) for x in inputs]
    w_data = [w.data for w in weights]
    x_data = [x.data for x in inputs]
    data = bias.data + sum(map(mul, w_data, x_data))
    return _make(data, F.Dot, (bias, *weights, *inputs), (*w_data, *x_data))


class _AppliedValue(Value):
    """A Value made by a user-defined Function: it keeps a Context."""

    __slots__ = ("_ctx",)


class _ConstantValue(Value):
    """An op's result computed under ``no_grad``: no graph, and no gradient wanted.

    A class, not a flag, so a Value stays as small as it is.
    """

    __slots__ = ()
    requires_grad = False


def _make(
    data: float, fn: type[Function], parents: tuple, saved: tuple, node_type: type = Value
) -> Value:
    """The output node of ``fn``; recorded only when grad mode is on (else a constant)."""
    if grad_mode.enabled:
        out = _new(node_type)
        out._fn, out._parents, out.saved_tensors = fn, parents, saved
    else:
        out = _new(_ConstantValue)
        out._fn, out._parents, out.saved_tensors = None, (), ()
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._mark = None
    out._order = next_order()
    return out


def _power(a: float, b: Number) -> float:
    """a ** b for floats, IEEE where Python raises or goes complex: 0 ** -1 = inf, (-8) ** 0.5 = nan."""
    try:
        out = a**b
    except ArithmeticError:  # 0 ** negative, overflow
        return F.ieee_float(np.power, np.float64(a), b)
    return out if type(out) is float else float(out) if type(out) is not complex else math.nan

