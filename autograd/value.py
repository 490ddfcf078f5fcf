"""Value: a scalar node holding a Python float, drop-in for micrograd's Value.

Each op's forward on a float is the ``scalar`` of its entry in the op table
(``functions.py``, with ``math``: a float op is ~50 ns, so a generic dispatch
would dominate); the methods are made from the table once, at import, and
record the same ``Function`` Tensor applies. The node is its own backward
context: ``saved_tensors`` is the plain tuple ``scalar`` returned.

Special points follow IEEE 754 and PyTorch, forward and backward, instead of
Python's exceptions: ``1 / 0`` is inf, ``0 / 0`` nan, ``log 0`` -inf,
``log(-1)``, ``sqrt(-1)`` and ``(-8) ** 0.5`` nan, ``exp(1000)`` inf, and NaN
propagates (``relu(nan)`` is nan). Each check sits on the rare branch only.
An op computed under ``no_grad`` is a constant: its ``backward()`` raises.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np

from . import functions as ops
from .graph import Context, Function, Node, backward, grad_mode, next_order, roles_by_identity

Number = int | float

_new = object.__new__


def _unary(fn: type[Function]) -> Callable[..., Value]:
    """The Value method of a one-input op: its ``scalar`` forward, recorded as ``fn``.

    Made once per op at import, so a call costs the forward and ``_make`` only.
    """
    scalar = fn.scalar

    def op(self: Value, *params: Any) -> Value:
        out, saved = scalar(self.data, *params)
        return _make(out, fn, (self,), saved)

    op.__name__ = op.__qualname__ = fn.__name__.lower()
    op.__doc__ = fn.__doc__
    return op


def _binary(fn: type[Function]) -> Callable[[Value, Value | Number], Value]:
    """The Value operator of a two-input op (a number becomes a constant Value)."""
    scalar = fn.scalar

    def op(self: Value, other: Value | Number) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out, saved = scalar(self.data, other.data)
        return _make(out, fn, (self, other), saved)

    op.__name__ = op.__qualname__ = fn.__name__.lower()
    op.__doc__ = fn.__doc__
    return op


class Value(Node):
    """A scalar in the graph: ``.data`` (float), ``.grad`` (float), ``.label``."""

    __slots__ = ("label",)
    requires_grad = True
    retains_grad = True  # every node shows its gradient, as in micrograd
    _cleared_grad = 0.0

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
            if params:
                ctx.params = params  # check_graph re-runs forward with them
            out._ctx = ctx
        return out

    def wrap(self, data: Any) -> Value:
        return Value(float(data))

    def as_data(self, x: Any) -> float:
        return float(x)

    def zeros(self) -> float:
        return 0.0

    def ones(self) -> float:
        return 1.0

    @property
    def _prev(self) -> tuple:
        """The inputs (micrograd's name), for code written against micrograd."""
        return self._parents

    @property
    def _op(self) -> str:
        """The op's symbol (micrograd's name); "" for a leaf."""
        return self._fn.name() if self._fn is not None else ""

    # -------------------------------------------------------------- arithmetic
    # Each op's forward on a float is its table entry's ``scalar`` (functions.py);
    # the methods are made from the table once, at import (see _unary, _binary).

    __add__ = _binary(ops.Add)
    __sub__ = _binary(ops.Sub)
    __mul__ = _binary(ops.Mul)
    __truediv__ = _binary(ops.Div)
    __neg__ = _unary(ops.Neg)

    def __pow__(self, other: Value | Number) -> Value:
        """self ** other: a Value exponent is differentiated too, a number is a constant."""
        if isinstance(other, Value):
            return _pow(self, other)
        if not isinstance(other, Real):
            raise TypeError(f"pow: exponent must be a number or a Value, got {other!r}")
        return _pow_constant(self, other)

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
    # Special points follow IEEE 754 and PyTorch (see the module docstring).

    exp = _unary(ops.Exp)
    sin = _unary(ops.Sin)
    cos = _unary(ops.Cos)
    log = _unary(ops.Log)
    sqrt = _unary(ops.Sqrt)
    tanh = _unary(ops.Tanh)
    sigmoid = _unary(ops.Sigmoid)
    softplus = _unary(ops.Softplus)
    relu = _unary(ops.Relu)
    leaky_relu = _unary(ops.LeakyRelu)
    abs = _unary(ops.Abs)
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

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on Values run NumPy's object loop on the Values themselves:
        ``np.cos(v)`` is ``v.cos()`` and ``np.float64(2) * v`` is ``2.0 * v``, recorded.
        A ufunc with no Value op (``np.sinh(v)``, ``np.maximum(v, 0)``) raises a TypeError
        naming it and what to use, instead of NumPy's "no callable sinh method".
        (A method of the class: it adds nothing to a Value's size.)"""
        args = [np.asarray(x, dtype=object) if isinstance(x, Value) else x for x in inputs]
        try:
            return getattr(ufunc, method)(*args, **kwargs)
        except (TypeError, AttributeError) as error:
            name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            ops_made = [n for n, f in vars(Value).items() if getattr(f, "__qualname__", "") == n]  # exp ...
            raise TypeError(
                f"{name} on a Value: a Value records only its own ops ({error}). Use its methods "
                f"({' '.join(f'x.{n}()' for n in ops_made)}) and operators (+ - * / **); in a Function's "
                f"backward, the helpers of autograd.functions (exp log sin cos sigmoid ...: floats and "
                f"nodes alike); {name} on x.data for the number, with no gradient; or subclass "
                f"autograd.Function for a new op."
            ) from error


def affine(weights: Sequence[Value], inputs: Sequence[Value | Number], bias: Value) -> Value:
    """bias + sum_i weights[i] * inputs[i] as one node (a neuron's pre-activation, ``ops.Affine``)."""
    if len(weights) != len(inputs):
        raise ValueError(f"affine: {len(weights)} weights but {len(inputs)} inputs")
    inputs = [x if isinstance(x, Value) else Value(x) for x in inputs]
    out, saved = ops.Affine.scalar(bias.data, *[w.data for w in weights], *[x.data for x in inputs])
    return _make(out, ops.Affine, (bias, *weights, *inputs), saved)


def _pow(base: Value, exponent: Value) -> Value:
    out, saved = ops.Pow.scalar(base.data, exponent.data)
    return _make(out, ops.Pow, (base, exponent), saved)


def _pow_constant(base: Value, exponent: Number) -> Value:
    out, saved = ops.PowConstant.scalar(base.data, exponent)
    return _make(out, ops.PowConstant, (base,), saved)


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
    """The output node of ``fn``; recorded only when grad mode is on (else a constant).

    Anomaly mode swaps this module-level function for a checking one (``anomaly.py``).
    """
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
