"""Tensor: an n-d node holding a NumPy array, on the same graph core as Value.

It speaks NumPy's argument language (``axis``, ``keepdims``, ``transpose(*axes)``)
and PyTorch's names where NumPy has none (``unsqueeze``, ``backward``,
``detach``, ``requires_grad``). Every op is a ``Function`` from
``functions.py`` applied through ``Tensor._apply``; broadcasting gradients are
summed back to each input's shape there.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Union

import numpy as np

from . import functions as F
from .graph import Context, Function, Node, backward, grad_mode, next_order, note_write

ArrayLike = Union["Tensor", np.ndarray, float, int, Sequence]
Axis = int | tuple[int, ...] | None

_new = object.__new__
_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """The dtype Python numbers and lists become (float32 unless changed)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"the default dtype must be a floating dtype, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype Python numbers and lists become."""
    return _default_dtype


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """An ndarray for ``data``: arrays keep their dtype, Python data gets the default."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.generic):  # a NumPy scalar (np.float64(1.0)) keeps its dtype too
        data = np.asarray(data)
    if isinstance(data, np.ndarray):
        return data.astype(dtype, copy=False) if dtype is not None else data
    if dtype is None:
        dtype = np.asarray(data).dtype
        if dtype.kind in "biuf":
            dtype = _default_dtype
        else:
            raise TypeError(f"Tensor needs numbers, got {type(data).__name__} of dtype {dtype}")
    return np.array(data, dtype=dtype)


class Tensor(Node):
    """An n-d array in the graph: ``.data`` (ndarray), ``.grad`` (ndarray or None)."""

    __slots__ = ("_ctx", "requires_grad", "retains_grad", "label", "_version")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected op
    __hash__ = Node.__hash__  # comparisons return arrays, identity stays the hash
    _checks_leaf_grad = True
    _versioned = True

    def __init__(
        self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None, label: str = ""
    ) -> None:
        array = as_array(data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}"
            )
        # A view: shares memory with the array given, but is an object of its own
        # (create_graph matches saved data to nodes by identity).
        self.data = array.view()
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.retains_grad = False
        self.label = label
        self._fn = self._ctx = self._mark = None
        self._parents = self.saved_tensors = ()
        self._version = 0
        self._order = next_order()

    # --------------------------------------------------------------- recording

    @classmethod
    def _apply(cls, fn: type[Function], inputs: tuple, params: dict) -> Tensor:
        """Run ``fn.forward`` on the inputs' arrays; record it if any input needs a grad."""
        ctx = Context()
        raw, needs, constants = [], [], False
        for x in inputs:  # one plain loop: comprehensions cost a call each
            if isinstance(x, Tensor):
                raw.append(x.data)
                needs.append(x.requires_grad)
            else:
                raw.append(x)
                needs.append(False)
                constants = True
        ctx.needs_input_grad = needs = tuple(needs)
        data = fn.forward(ctx, *raw, **params) if params else fn.forward(ctx, *raw)
        if type(data) is not np.ndarray:
            data = _as_output_array(ctx, data)
        out = _new(Tensor)
        out.data = data
        out.grad = out._mark = None
        out.label = ""
        out.saved_tensors = ()
        out.retains_grad = False
        out._version = 0
        if True in needs and grad_mode.enabled:
            out.requires_grad = True
            out._fn, out._ctx = fn, ctx
            ctx._inputs = raw  # backward checks that no saved input's data was replaced
            out._parents = inputs if not constants else tuple(
                [x if isinstance(x, Tensor) else None for x in inputs]
            )
        else:
            out.requires_grad = False
            out._fn = out._ctx = None
            out._parents = ()
        out._order = next_order()
        return out

    def _wrap_constant(self, data: Any) -> Tensor:
        return Tensor(as_array(data, self.dtype))

    def _own_grad(self, grad: Any, passed_through: bool) -> Any:
        """A leaf's ``.grad``: an array of the leaf's shape that no one else holds.

        A view (a broadcast or reshape of another gradient) or the consumer's
        own gradient passed through unchanged (``a + b`` hands the same array
        to both) is copied; a NumPy scalar (0-d math gives those) becomes a
        0-d array; a gradient of the wrong shape (a custom Function's bug) is
        an error.
        """
        if type(grad) is np.ndarray:
            if passed_through or grad.base is not None:
                grad = grad.copy()
        elif not isinstance(grad, Tensor):  # a Tensor under create_graph stays a node
            grad = np.array(grad)
        if grad.shape != self.data.shape:
            raise ValueError(
                f"gradient of shape {grad.shape} for a tensor of shape {self.data.shape}: a "
                f"Function's backward must return each input's gradient in that input's shape"
            )
        return grad

    def _bump_version(self) -> None:
        """Count an in-place change of ``data``: backward refuses graphs that saved the old data."""
        self._version = note_write()

    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        """``t[index] = value`` in place (NumPy's assignment), outside the graph.

        Allowed on a tensor that needs no gradient, or on any tensor under
        ``no_grad`` (initializing a parameter, as in PyTorch). A graph that
        saved the old data is refused at backward.
        """
        if grad_mode.enabled and (self.requires_grad or getattr(value, "requires_grad", False)):
            who = "a tensor that requires grad" if self.requires_grad else "a value that requires grad"
            raise RuntimeError(
                f"t[...] = x on {who} would not be differentiated: write under no_grad() "
                f"(e.g. to initialize a parameter), or build the result with where()/concatenate()"
            )
        self.data[_raw_index(index)] = _raw(value)
        self._bump_version()

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's ``.grad`` after backward (PyTorch's name)."""
        self.retains_grad = True

    def __bool__(self) -> bool:
        return bool(self.data)

    # -------------------------------------------------------------- attributes

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> Tensor:
        """Axes reversed, as ``ndarray.T``."""
        return self.transpose()

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data as a new leaf that needs no gradient."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of a leaf in place; returns self."""
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        dtype = "" if self.dtype == _default_dtype else f", dtype={self.dtype}"
        return f"Tensor({body}{dtype}{extra})"

    # -------------------------------------------------------------- arithmetic

    def __add__(self, other: ArrayLike) -> Tensor:
        return F.Add.apply(self, _operand(other))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return F.Add.apply(_operand(other), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return F.Sub.apply(self, _operand(other))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return F.Sub.apply(_operand(other), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return F.Mul.apply(self, _operand(other))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return F.Mul.apply(_operand(other), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return F.Div.apply(self, _operand(other))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return F.Div.apply(_operand(other), self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        if isinstance(other, (int, float)):
            return F.PowConstant.apply(self, exponent=other)
        return F.Pow.apply(self, _operand(other))

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return F.Pow.apply(_operand(other), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return F.MatMul.apply(self, _operand(other))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return F.MatMul.apply(_operand(other), self)

    def __neg__(self) -> Tensor:
        return F.Neg.apply(self)

    def __getitem__(self, index: Any) -> Tensor:
        return F.GetItem.apply(self, index=_raw_index(index))

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other: ArrayLike) -> np.ndarray:
        return self.data < _raw(other)

    def __le__(self, other: ArrayLike) -> np.ndarray:
        return self.data <= _raw(other)

    def __gt__(self, other: ArrayLike) -> np.ndarray:
        return self.data > _raw(other)

    def __ge__(self, other: ArrayLike) -> np.ndarray:
        return self.data >= _raw(other)

    def __eq__(self, other: ArrayLike) -> np.ndarray:  # type: ignore[override]
        return self.data == _raw(other)

    def __ne__(self, other: ArrayLike) -> np.ndarray:  # type: ignore[override]
        return self.data != _raw(other)

    # ------------------------------------------------------------- elementwise

    def exp(self) -> Tensor:
        return F.Exp.apply(self)

    def log(self) -> Tensor:
        return F.Log.apply(self)

    def sqrt(self) -> Tensor:
        return F.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return F.Abs.apply(self)

    __abs__ = abs

    def tanh(self) -> Tensor:
        return F.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return F.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return F.Relu.apply(self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        return F.LeakyRelu.apply(self, slope=slope)

    def softplus(self) -> Tensor:
        return F.Softplus.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Values limited to [min, max]; the gradient is 0 where clipped."""
        return F.Clip.apply(self, low=min, high=max)

    # -------------------------------------------------------------- reductions

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.Sum.apply(self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.Mean.apply(self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Largest element(s); ties share the gradient evenly."""
        return F.Amax.apply(self, axis=_axis(axis), keepdims=keepdims, reduce=np.max)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Smallest element(s); ties share the gradient evenly."""
        return F.Amax.apply(self, axis=_axis(axis), keepdims=keepdims, reduce=np.min)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """sum((x - mean)**2) / (n - ddof), NumPy's default ddof=0."""
        axis = _axis(axis)
        centered = self - self.mean(axis=axis, keepdims=True)
        count = self.size // int(np.prod(F.keepdims_shape(self.shape, axis)))
        return (centered * centered).sum(axis=axis, keepdims=keepdims) / (count - ddof)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))), shifted by the max so 1e4 does not overflow."""
        return F.LogSumExp.apply(self, axis=_axis(axis), keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return F.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return F.LogSoftmax.apply(self, axis=axis)

    # ---------------------------------------------------------------- movement

    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape; ``reshape(2, -1)`` or ``reshape((2, -1))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return F.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Axes permuted (reversed when none are given), as ``ndarray.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return F.Transpose.apply(self, axes=axes or tuple(reversed(range(self.ndim))))

    permute = transpose

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Two axes exchanged."""
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return self.transpose(axes)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes start_dim..end_dim merged into one (all of them by default)."""
        shape = self.shape
        start, end = start_dim % max(self.ndim, 1), end_dim % max(self.ndim, 1)
        return self.reshape(shape[:start] + (-1,) + shape[end + 1 :]) if self.ndim else self.reshape(1)

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Size-1 axes removed (all of them, or those named)."""
        return self.reshape(np.squeeze(np.empty(self.shape, dtype=bool), axis=axis).shape)

    def unsqueeze(self, axis: int) -> Tensor:
        """A size-1 axis inserted at ``axis``."""
        return self.reshape(np.expand_dims(np.empty(self.shape, dtype=bool), axis).shape)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """Repeated along new or size-1 axes; the gradient sums back."""
        return F.Expand.apply(self, shape=tuple(shape))

    # ---------------------------------------------------------------- backward

    def backward(self, grad: ArrayLike | None = None, create_graph: bool = False) -> None:
        """Reverse mode from this tensor; ``grad`` defaults to 1 for one element.

        Leaves accumulate into ``.grad``; with ``create_graph`` the gradients
        are Tensors in the graph, so they can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad)"
            )
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() without a grad needs a one-element tensor, got shape "
                    f"{self.shape}; reduce it first (.sum(), .mean()) or pass grad= of that shape"
                )
            grad = np.ones(self.data.shape, self.dtype) if self.data.ndim else np.array(1, self.dtype)
        else:
            grad = grad if create_graph and isinstance(grad, Tensor) else as_array(grad, self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(): grad has shape {grad.shape}, but the tensor has shape {self.shape}"
                )
        backward(self, grad, create_graph)


def _as_output_array(ctx: Context, result: Any) -> np.ndarray:
    """A forward's non-array result (NumPy gives scalars for 0-d math) as an array.

    A saved item that was that result is swapped for the array, so create_graph
    still recognizes the output by identity and differentiates through it.
    """
    data = np.asarray(result)
    ctx.saved_tensors = tuple(data if item is result else item for item in ctx.saved_tensors)
    return data


def _operand(x: ArrayLike) -> Tensor | np.ndarray | float | int:
    """A Tensor stays a node; a number stays a (weakly typed) number; else an array."""
    if isinstance(x, (Tensor, int, float)):
        return x
    return as_array(x)


def _raw(x: ArrayLike) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _axis(axis: Axis) -> Axis:
    return tuple(axis) if isinstance(axis, list) else axis


# ------------------------------------------------------------------ functions


def concatenate(tensors: Iterable[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets its slice of the gradient."""
    return F.Concatenate.apply(*[_node(t) for t in tensors], axis=axis)


def stack(tensors: Iterable[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return concatenate([_node(t).unsqueeze(axis) for t in tensors], axis=axis)


def where(condition: Any, x: ArrayLike, y: ArrayLike) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (condition needs no gradient)."""
    return F.Where.apply(np.asarray(_raw(condition), dtype=bool), _node(x), _operand(y))


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise max; ties split the gradient evenly."""
    return F.Maximum.apply(_node(a), _operand(b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise min; ties split the gradient evenly."""
    return -maximum(-_node(a), -_node(b) if isinstance(b, Tensor) else -as_array(b))


def _node(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)
