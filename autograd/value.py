"""Value: a scalar node holding a Python float, drop-in for micrograd's Value.

Each op computes its forward with ``math`` inline (a float op is ~50 ns, so a
generic dispatch would dominate) and records the built-in ``Function`` whose
``backward`` is the derivative, shared with Tensor. The node is its own
backward context: ``saved_tensors`` is the plain tuple the op saved.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from operator import mul
from typing import Any

from . import functions as F
from .graph import Context, Function, Node, backward, grad_mode, next_order

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
        # A fresh float object per node: create_graph matches saved data by identity.
        self.data = float(data) * 1.0
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
            raise TypeError(f"{fn.__name__}.forward must return a number for Values, got {data!r}")
        # Keep the very float forward returned: it may be saved for create_graph.
        out = _make(data if type(data) is float else float(data), fn, inputs, (), _AppliedValue)
        out._ctx = ctx if out._fn is not None else None
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
        if b == 0.0:
            raise ZeroDivisionError(f"division: {a} / 0")
        return _make(a / b, F.Div, (self, other), (a, b))

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
        """e**x."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data}): result too large") from None
        return _make(out, F.Exp, (self,), (out,))

    def log(self) -> Value:
        """ln x, for x > 0."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log({x}): math domain error (log needs x > 0)")
        return _make(math.log(x), F.Log, (self,), (x,))

    def sqrt(self) -> Value:
        """sqrt x, for x >= 0."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt({x}): math domain error (sqrt needs x >= 0)")
        out = math.sqrt(x)
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
        """max(x, 0)."""
        x = self.data
        if x > 0.0:
            return _make(x + 0.0, F.Relu, (self,), (1.0,))
        return _make(float(0), F.Relu, (self,), (0.0,))  # a zero of its own (not a shared constant)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        factor = 1.0 if self.data > 0.0 else float(slope)
        return _make(self.data * factor, F.LeakyRelu, (self,), (factor,))

    def abs(self) -> Value:
        """|x| (gradient 0 at 0, as in PyTorch)."""
        x = self.data
        sign = 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0
        return _make(x * sign, F.Abs, (self,), (sign,))

    __abs__ = abs

    # ---------------------------------------------------------------- backward

    def backward(self, grad: float | Value | None = None, create_graph: bool = False) -> None:
        """Reverse mode from this value: every node's ``.grad`` gets d(self)/d(node).

        ``grad`` is d(loss)/d(self), 1.0 when None. Leaves accumulate across
        calls; with ``create_graph`` the gradients are Values, so they can be
        differentiated again. The saved items are floats, so a backward after
        an optimizer step rebinds ``.data`` gives the gradient at the old values.
        """
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
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={_format_grad(self.grad)}{label})"


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


def _make(
    data: float, fn: type[Function], parents: tuple, saved: tuple, node_type: type = Value
) -> Value:
    """The output node of ``fn``; recorded only when grad mode is on."""
    out = _new(node_type)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._mark = None
    if grad_mode.enabled:
        out._fn, out._parents, out.saved_tensors = fn, parents, saved
    else:
        out._fn, out._parents, out.saved_tensors = None, (), ()
    out._order = next_order()
    return out


def _power(a: float, b: Number) -> float:
    """a ** b, raising where Python would return a complex number."""
    if a < 0.0 and not float(b).is_integer():
        raise ValueError(f"pow({a}, {b}): negative base with a non-integer exponent")
    if a == 0.0 and b < 0:
        raise ZeroDivisionError(f"pow({a}, {b}): zero to a negative power")
    try:
        return float(a**b) * 1.0
    except OverflowError:
        raise OverflowError(f"pow({a}, {b}): result too large") from None


def _format_grad(grad: Any) -> str:
    return f"{grad:.6g}" if isinstance(grad, float) else repr(grad)
