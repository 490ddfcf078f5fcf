"""Tensor: an n-d node holding a NumPy array, on the same graph core as Value.

It speaks NumPy's argument language (``axis``, ``keepdims``, ``transpose(*axes)``)
and PyTorch's names where NumPy has none (``unsqueeze``, ``backward``,
``detach``, ``requires_grad``; ``dim=`` beside ``axis=``). Every op is a
``Function`` from ``functions.py`` applied through ``Tensor._apply``;
broadcasting gradients are summed back to each input's shape there.

Dtypes follow one rule, NumPy 2's (NEP 50), which for these cases is also
PyTorch's: arrays and tensors promote by dtype (float32 with float64 gives
float64), Python numbers do not promote (float32 * 2.5 stays float32), and
Python lists become the default dtype (float32). A gradient always has its
tensor's dtype: a float32 parameter gets a float32 ``.grad`` whatever it was
mixed with. Only real numbers are data: complex, object and string arrays
are refused.
"""
from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from inspect import signature
from typing import Any, Union

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from . import functions as ops
from . import graph
from .graph import Context, Function, Node, backward, grad_mode, next_order, note_write, roles_by_identity

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
        _check_real(data.dtype, "an array")
        return data.astype(dtype, copy=False) if dtype is not None else data
    if isinstance(data, (list, tuple)) and any(_needs_grad(x) for x in data):
        raise TypeError(
            "a list of tensors that require grad would become numbers without a gradient: "
            "join them with autograd.stack(...) or concatenate(...), or .detach() them"
        )
    if dtype is None:
        dtype = np.asarray(data).dtype
        _check_real(dtype, type(data).__name__)
        dtype = _default_dtype
    else:
        _check_real(np.dtype(dtype), "dtype=")
    return np.array(data, dtype=dtype)


def _check_real(dtype: np.dtype, what: str) -> None:
    """Refuse data that is not real numbers (complex, object, strings), naming the dtype."""
    if dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor needs real numbers (bool, int or float), got {what} of dtype {dtype}; "
            f"convert it first (e.g. .real for complex data, float() for strings)"
        )


_NO_PARAMS: dict[str, Any] = {}  # an op's params when it takes none (``_apply`` only reads them)


def _unary(fn: type[Function]) -> Callable[[Tensor], Tensor]:
    """The Tensor method of a one-input op in the table: ``fn`` applied to the tensor.

    Made once per op at import and calling ``Tensor._apply`` itself (looked up
    at each call: anomaly mode may swap it), so an activation on the training
    hot path costs the op, not ``Function.apply``'s dispatch as well.
    """

    def op(self: Tensor) -> Tensor:
        return Tensor._apply(fn, (self,), _NO_PARAMS)

    op.__name__ = op.__qualname__ = fn.__name__.lower()
    op.__doc__ = fn.__doc__
    return op


def _binary(fn: type[Function], reflected: bool = False) -> Callable[[Tensor, ArrayLike], Tensor]:
    """The Tensor operator of a two-input op (``reflected``: ``other <op> self``, as ``__radd__``)."""

    def op(self: Tensor, other: ArrayLike) -> Tensor:
        inputs = (_operand(other), self) if reflected else (self, _operand(other))
        return Tensor._apply(fn, inputs, _NO_PARAMS)

    op.__name__ = op.__qualname__ = f"__{'r' if reflected else ''}{fn.__name__.lower()}__"
    op.__doc__ = fn.__doc__
    return op


class Tensor(Node):
    """An n-d array in the graph: ``.data`` (ndarray), ``.grad`` (ndarray or None)."""

    # ``_parameter``: set (True) only by ``nn.Parameter``, which marks a Tensor rather than subclassing it.
    # ``_inputs``: an op's input arrays as it read them (backward checks that no input's data was replaced).
    __slots__ = ("_ctx", "requires_grad", "retains_grad", "label", "_version", "_parameter", "_inputs")
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
        self.data = array
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
        """Run ``fn.forward`` on the inputs' arrays; record it if any input needs a grad.

        Anomaly mode swaps this method for a checking one (``anomaly.py``).
        """
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
        if params:
            data = fn.forward(ctx, *raw, **params)
        elif len(raw) == 1:  # no *args call for one to three inputs: it costs as much as a small op
            data = fn.forward(ctx, raw[0])
        elif len(raw) == 2:
            data = fn.forward(ctx, raw[0], raw[1])
        elif len(raw) == 3:
            data = fn.forward(ctx, raw[0], raw[1], raw[2])
        else:
            data = fn.forward(ctx, *raw)
        if type(data) is not np.ndarray:
            data = _as_output_array(fn, ctx, data)
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
            out._inputs = raw
            if params:
                ctx.params = params  # check_graph re-runs forward with them
            if graph._user_functions and fn._checks_grads and fn.saves is None:  # a user's: roles by identity
                ctx.roles = roles_by_identity(ctx.saved_tensors, raw, data)
            out._parents = inputs if not constants else tuple(
                [x if isinstance(x, Tensor) else None for x in inputs]
            )
        else:
            out.requires_grad = False
            out._fn = out._ctx = None
            out._parents = ()
        out._order = next_order()
        return out

    def wrap(self, data: Any) -> Tensor:
        return Tensor(np.array(as_array(data, self.dtype)))

    def as_data(self, x: Any) -> np.ndarray:
        return np.array(x, dtype=self.dtype)

    def zeros(self) -> np.ndarray:
        return np.zeros_like(self.data)

    def ones(self) -> np.ndarray:
        return np.ones_like(self.data)

    def _own_grad(self, grad: Any, passed_through: bool) -> Any:
        """A leaf's ``.grad``: an array of the leaf's shape and dtype that no one else holds.

        A view (a broadcast or reshape of another gradient) or the consumer's
        own gradient passed through unchanged (``a + b`` hands the same array
        to both) is copied; a NumPy scalar (0-d math gives those) becomes a
        0-d array; a gradient of the wrong shape (a custom Function's bug) is
        an error. (``backward`` calls this only for a gradient that needs it:
        see ``graph._add_to_grads``.)
        """
        data = self.data
        if type(grad) is np.ndarray:
            if passed_through or grad.base is not None:
                grad = grad.copy()
        elif not isinstance(grad, Tensor):  # a Tensor under create_graph stays a node
            grad = np.array(grad)
        if grad.dtype != data.dtype and type(grad) is np.ndarray:
            if grad.dtype.kind not in "biuf":
                raise TypeError(
                    f"gradient of dtype {grad.dtype} for a tensor of dtype {data.dtype}: a "
                    f"Function's backward must return real gradients"
                )
            grad = grad.astype(data.dtype)  # a gradient has its tensor's dtype (PyTorch)
        if grad.shape != data.shape:
            raise ValueError(
                f"gradient of shape {grad.shape} for a tensor of shape {data.shape}: a "
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
        """The element count (NumPy's property); ``t.size()`` and ``t.size(dim)`` give PyTorch's shape."""
        return _Size(self.data)

    @property
    def T(self) -> Tensor:
        """Axes reversed, as ``ndarray.T``."""
        return self.transpose()

    def __len__(self) -> int:
        if not self.data.ndim:
            raise TypeError("len() of a 0-d tensor")
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
        """The same data as a new leaf that needs no gradient, sharing this tensor's version count.

        A write through either (``d[0] = 5``) is a write to both, so a graph
        that saved the data refuses backward, as PyTorch's shared counter does.
        """
        return _Detached(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of a leaf in place; returns self.

        A computed tensor cannot stop requiring grad (that would cut the graph
        silently): use ``detach()``, as PyTorch says.
        """
        if not requires_grad and self._fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def __repr__(self) -> str:
        """``Tensor([2., 4.], grad_fn=<MulBackward>)`` for a result, ``requires_grad=True`` on a leaf."""
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        dtype = "" if self.dtype == _default_dtype else f", dtype={self.dtype}"
        if self._fn is not None:
            extra = f", grad_fn={self.grad_fn!r}"
        else:
            extra = ", requires_grad=True" if self.requires_grad else ""
        parameter = "Parameter containing:\n" if getattr(self, "_parameter", False) else ""
        return f"{parameter}Tensor({body}{dtype}{extra})"

    # -------------------------------------------------------------- arithmetic

    __add__ = _binary(ops.Add)
    __radd__ = _binary(ops.Add, reflected=True)
    __sub__ = _binary(ops.Sub)
    __rsub__ = _binary(ops.Sub, reflected=True)
    __mul__ = _binary(ops.Mul)
    __rmul__ = _binary(ops.Mul, reflected=True)
    __truediv__ = _binary(ops.Div)
    __rtruediv__ = _binary(ops.Div, reflected=True)

    def __pow__(self, other: ArrayLike) -> Tensor:
        if isinstance(other, (int, float)):
            return ops.PowConstant.apply(self, exponent=other)
        return ops.Pow.apply(self, _operand(other))

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return ops.Pow.apply(_operand(other), self)

    __matmul__ = _binary(ops.MatMul)
    __rmatmul__ = _binary(ops.MatMul, reflected=True)
    __neg__ = _unary(ops.Neg)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.GetItem.apply(self, index=_raw_index(index))

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

    exp = _unary(ops.Exp)
    log = _unary(ops.Log)
    sqrt = _unary(ops.Sqrt)
    abs = _unary(ops.Abs)

    __abs__ = abs

    tanh = _unary(ops.Tanh)
    sin = _unary(ops.Sin)
    cos = _unary(ops.Cos)
    sigmoid = _unary(ops.Sigmoid)
    relu = _unary(ops.Relu)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        return ops.LeakyRelu.apply(self, slope=slope)

    softplus = _unary(ops.Softplus)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Values limited to [min, max]; the gradient is 0 where clipped."""
        return ops.Clip.apply(self, low=min, high=max)

    # -------------------------------------------------------------- reductions

    # Axes: an int, a tuple or None (all), negatives counting from the end, as in
    # NumPy; ``dim=`` is PyTorch's name for ``axis=`` (give one of them).

    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        return ops.Sum.apply(self, axis=_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        return ops.Mean.apply(self, axis=_axis(axis, dim), keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Largest element(s); ties share the gradient evenly."""
        return ops.Amax.apply(self, axis=_axis(axis, dim), keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Smallest element(s); ties share the gradient evenly."""
        return ops.Amin.apply(self, axis=_axis(axis, dim), keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *, dim: Axis = None) -> Tensor:
        """sum((x - mean)**2) / max(n - ddof, 0), NumPy's default ddof=0.

        With ddof >= n the divisor is 0, so the result is inf (or nan for
        equal elements), never negative, as in PyTorch.
        """
        return ops.Var.apply(self, axis=_axis(axis, dim), keepdims=keepdims, ddof=ddof)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """log(sum(exp(x))), shifted by the max so 1e4 does not overflow."""
        return ops.LogSumExp.apply(self, axis=_axis(axis, dim), keepdims=keepdims)

    def softmax(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """e**x / sum(e**x) along ``axis`` (the last one when none is given)."""
        return ops.Softmax.apply(self, axis=_axis(axis, dim, default=-1))

    def log_softmax(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """x - logsumexp(x) along ``axis`` (the last one when none is given)."""
        return ops.LogSoftmax.apply(self, axis=_axis(axis, dim, default=-1))

    # ---------------------------------------------------------------- movement

    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape; ``reshape(2, -1)`` or ``reshape((2, -1))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Axes permuted (reversed when none are given), as ``ndarray.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return ops.Transpose.apply(self, axes=axes or None)

    permute = transpose

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Two axes exchanged (negative axes count from the end)."""
        axes = list(range(self.ndim))
        axis1, axis2 = (normalize_axis_index(a, self.ndim) for a in (axis1, axis2))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return self.transpose(axes)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes start_dim..end_dim merged into one (all of them by default; a 0-d tensor gives (1,))."""
        if not self.ndim:
            return self.reshape(1)
        start, end = (normalize_axis_index(a, self.ndim) for a in (start_dim, end_dim))
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape
        return self.reshape(shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :])

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Size-1 axes removed (all of them, or those named; naming a longer axis is an error)."""
        shape = np.squeeze(np.empty(self.shape, dtype=bool), axis=_axis(axis, dim)).shape
        return self.reshape(shape)

    def unsqueeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """A size-1 axis inserted at ``axis`` (counted in the result, as NumPy's expand_dims)."""
        axis = _axis(axis, dim)
        if axis is None:
            raise TypeError("unsqueeze() needs an axis (axis= or dim=)")
        return self.reshape(np.expand_dims(np.empty(self.shape, dtype=bool), axis).shape)

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """Repeated along new or size-1 axes; the gradient sums back."""
        return ops.Expand.apply(self, shape=tuple(shape))

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
            data = self.data
            if data.size != 1:
                raise RuntimeError(
                    f"backward() without a grad needs a one-element tensor, got shape "
                    f"{self.shape}; reduce it first (.sum(), .mean()) or pass grad= of that shape"
                )
            grad = np.ones(data.shape, data.dtype) if data.ndim else np.array(1, data.dtype)
        else:
            if not (create_graph and isinstance(grad, Tensor)):
                grad = as_array(as_array(grad), self.dtype)  # refuses complex before casting
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(): grad has shape {grad.shape}, but the tensor has shape {self.shape}"
                )
        backward(self, grad, create_graph)

    # ---- NumPy and PyTorch habits
    # Python numbers from one-element tensors, NumPy's array protocols (np.asarray,
    # ufuncs, np.sum ...) and the names PyTorch users type first.

    def _number(self, what: str, error: type[Exception] = ValueError) -> Any:
        """The single element as a NumPy scalar, or ``error`` naming the shape."""
        if self.data.size != 1:
            raise error(
                f"{what}: only one element tensors can be converted to Python scalars, got shape "
                f"{self.shape}; pick an element (t[i]) or reduce first (t.sum(), t.mean())"
            )
        return self.data.reshape(-1)[0]

    def __float__(self) -> float:
        """float(t) of a one-element tensor (any shape): a plain number, no gradient."""
        return float(self._number("float()"))

    def __int__(self) -> int:
        return int(self._number("int()"))

    def __round__(self, ndigits: int | None = None) -> float | int:
        """round(loss, 3) of a one-element tensor, as round() of a float."""
        return round(self._number("round()").item(), ndigits)

    def __index__(self) -> int:
        """As NumPy: a 0-d integer tensor is an index (``range(t)``, ``items[t]``)."""
        return operator.index(self.data)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats a one-element tensor's number.

        With no spec, a 0-d tensor shows its number (``f"{loss}"``, as in
        PyTorch) and any other tensor its repr.
        """
        if not spec:
            return str(self.data[()]) if not self.data.ndim else str(self)
        return format(self._number(f"format spec {spec!r}", TypeError), spec)

    def __iter__(self) -> Iterator[Tensor]:
        """The rows along the first axis, each recorded as ``t[i]``."""
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __contains__(self, item: Any) -> bool:
        """``x in t`` as NumPy: any element equal to x."""
        return _raw(item) in self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The numbers, for ``np.asarray(t)``, ``np.array(t)`` and ``plt.plot(t)``.

        No gradient flows through them. Unlike PyTorch's ``numpy()``, a tensor
        that requires grad gives its numbers too (plotting a parameter is what
        one wants); NumPy functions that would compute with them are routed
        through ``__array_ufunc__`` and ``__array_function__`` instead. Shares
        memory with ``.data`` unless ``copy=True`` or a new ``dtype`` is asked.
        """
        data = self.data
        if dtype is not None and data.dtype != dtype:
            if copy is False:
                raise ValueError(f"np.asarray(copy=False): {data.dtype} to {dtype} needs a copy")
            return data.astype(dtype)
        return data.copy() if copy else data

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on tensors (``np.exp(t)``, ``ndarray + t``, ``np.maximum(t, 0)``).

        A ufunc with a Tensor op records that op; comparisons and
        piecewise-constant ufuncs (gradient 0) give plain arrays, like the
        comparison operators; any other runs on the numbers of tensors that
        need no gradient and raises a TypeError naming the Tensor method for
        tensors that do.
        """
        if method == "__call__" and not kwargs:
            op = _UFUNC_OPS.get(ufunc)
            if op is not None:
                return op(*inputs)
        name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        return _on_numbers(name, function, inputs, kwargs, ufunc in _CONSTANT_UFUNCS)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """NumPy functions on tensors: ``np.sum(t, axis=0)`` is ``t.sum(axis=0)``.

        The functions with a Tensor op record it (sum mean max min var
        reshape transpose squeeze expand_dims swapaxes ravel concatenate stack
        where clip broadcast_to dot argmax argmin); the others follow the
        ufunc rule above.
        """
        adapter = _FUNCTION_OPS.get(func)
        if adapter is not None:
            try:
                _signature(adapter).bind(*args, **kwargs)
            except TypeError:
                hint = _METHOD_HINTS.get(func.__name__, f"t.{func.__name__}(...)")
                raise TypeError(
                    f"np.{func.__name__} on a Tensor records only {_parameters(adapter)}; use "
                    f"{hint} (and t.astype(dtype) for a dtype)"
                ) from None
            return adapter(*args, **kwargs)
        name = f"{func.__module__.replace('numpy', 'np', 1)}.{func.__name__}"
        return _on_numbers(name, func, args, kwargs, func in _CONSTANT_FUNCTIONS)

    @property
    def grad_fn(self) -> BackwardFunction | None:
        """The op that made this tensor (``<MulBackward>``); None for a leaf, as in PyTorch."""
        return None if self._fn is None else BackwardFunction(self._fn)

    def numel(self) -> int:
        """The number of elements (PyTorch's name; ``.size`` is NumPy's property)."""
        return self.data.size

    def tolist(self) -> Any:
        """The numbers as (nested) Python lists; a 0-d tensor gives a number."""
        return self.data.tolist()

    def cpu(self) -> Tensor:
        """This tensor: chaingrad computes on the CPU (so ``t.detach().cpu().numpy()`` runs)."""
        return self

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for ``reshape``: ``view(2, -1)`` or ``view((2, -1))``."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            raise TypeError(f"view({shape[0]!r}): view takes a shape; for a new dtype use astype()")
        return self.reshape(*shape)

    def argmax(
        self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
        keepdim: bool = False,
    ) -> Any:
        """Index of the largest element (of the flattened tensor, or along axis/dim): ints, no gradient."""
        return np.argmax(self.data, axis=_axis_or_dim(axis, dim), keepdims=keepdims or keepdim)

    def argmin(
        self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
        keepdim: bool = False,
    ) -> Any:
        """Index of the smallest element (of the flattened tensor, or along axis/dim): ints, no gradient."""
        return np.argmin(self.data, axis=_axis_or_dim(axis, dim), keepdims=keepdims or keepdim)

    def astype(self, dtype: Any) -> Tensor:
        """A copy in ``dtype`` (NumPy's name); its gradient comes back in this tensor's dtype.

        To an integer or boolean dtype the result is a constant, as in PyTorch:
        only floating-point tensors carry gradients.
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            return Tensor(self.data.astype(dtype))
        return ops.Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        """In float32 (PyTorch's name): this tensor if it already is."""
        return self if self.dtype == np.float32 else self.astype(np.float32)

    def double(self) -> Tensor:
        """In float64 (PyTorch's name): this tensor if it already is."""
        return self if self.dtype == np.float64 else self.astype(np.float64)


# ---- NumPy and PyTorch habits: the helpers of the section above


class BackwardFunction:
    """What ``Tensor.grad_fn`` gives: the op that made a tensor, shown as ``<MulBackward>``.

    PyTorch numbers its names (``MulBackward0``); here the name is the
    ``Function``'s class name, so a custom ``Cube`` shows as ``<CubeBackward>``.
    """

    __slots__ = ("function",)

    def __init__(self, function: type[Function]) -> None:
        self.function = function

    def name(self) -> str:
        return f"{self.function.__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class _Size(int):
    """``t.size``: NumPy's element count, an int; called, PyTorch's ``size()``: the shape."""

    def __new__(cls, data: np.ndarray) -> _Size:
        size = super().__new__(cls, data.size)
        size.shape = data.shape
        return size

    def __call__(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]


def _axis_or_dim(axis: Axis, dim: Axis) -> Axis:
    """NumPy's ``axis=`` or PyTorch's ``dim=``, not both."""
    if dim is None:
        return _axis(axis)
    if axis is not None:
        raise TypeError("give axis= (NumPy's name) or dim= (PyTorch's), not both")
    return _axis(dim)


def _reflected(name: str, reflected: str) -> Callable[[Any, Any], Tensor]:
    """``np.add(a, b)`` as ``a + b``, with ``b.__radd__(a)`` when only b is a Tensor."""

    def op(a: Any, b: Any) -> Tensor:
        return getattr(a, name)(b) if isinstance(a, Tensor) else getattr(b, reflected)(a)

    return op


_UFUNC_OPS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: _reflected("__add__", "__radd__"),
    np.subtract: _reflected("__sub__", "__rsub__"),
    np.multiply: _reflected("__mul__", "__rmul__"),
    np.true_divide: _reflected("__truediv__", "__rtruediv__"),
    np.power: _reflected("__pow__", "__rpow__"),
    np.matmul: _reflected("__matmul__", "__rmatmul__"),
    np.maximum: lambda a, b: maximum(a, b),
    np.minimum: lambda a, b: minimum(a, b),
    np.negative: lambda a: -a,
    np.exp: lambda a: a.exp(),
    np.log: lambda a: a.log(),
    np.sqrt: lambda a: a.sqrt(),
    np.tanh: lambda a: a.tanh(),
    np.sin: lambda a: a.sin(),
    np.cos: lambda a: a.cos(),
    np.absolute: lambda a: a.abs(),
    np.square: lambda a: a**2,
}

# Boolean results and piecewise-constant functions: their gradient is 0, so a
# plain array is exact, as for the comparison operators.
_CONSTANT_UFUNCS = frozenset([
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor, np.sign, np.floor, np.ceil, np.rint, np.trunc,
])
_WRITE_INTO_FIRST = frozenset(
    [np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis]
)
_CONSTANT_FUNCTIONS = frozenset([
    np.shape, np.ndim, np.size, np.result_type, np.allclose, np.isclose, np.array_equal,
    np.array_equiv, np.argsort, np.nonzero, np.flatnonzero, np.argwhere, np.count_nonzero,
    np.any, np.all, np.round, np.around, np.fix,
])


def _np_sum(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return a.sum(axis=axis, keepdims=keepdims)


def _np_mean(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return a.mean(axis=axis, keepdims=keepdims)


def _np_max(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return a.max(axis=axis, keepdims=keepdims)


def _np_min(a: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return a.min(axis=axis, keepdims=keepdims)


def _np_var(a: Tensor, axis: Axis = None, *, ddof: int = 0, keepdims: bool = False) -> Tensor:
    return a.var(axis=axis, keepdims=keepdims, ddof=ddof)


def _np_reshape(a: Tensor, shape: Any) -> Tensor:
    return a.reshape(shape)


def _np_transpose(a: Tensor, axes: Any = None) -> Tensor:
    return a.transpose() if axes is None else a.transpose(axes)


def _np_squeeze(a: Tensor, axis: Axis = None) -> Tensor:
    return a.squeeze(axis)


def _np_expand_dims(a: Tensor, axis: int) -> Tensor:
    return a.unsqueeze(axis)


def _np_swapaxes(a: Tensor, axis1: int, axis2: int) -> Tensor:
    return a.swapaxes(axis1, axis2)


def _np_ravel(a: Tensor) -> Tensor:
    return a.reshape(-1)


def _np_concatenate(arrays: Sequence[ArrayLike], axis: int | None = 0) -> Tensor:
    if axis is None:
        return concatenate([_node(x).reshape(-1) for x in arrays])
    return concatenate(arrays, axis=axis)


def _np_stack(arrays: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    return stack(arrays, axis=axis)


def _np_where(condition: Any, x: ArrayLike | None = None, y: ArrayLike | None = None) -> Any:
    if x is None and y is None:  # np.where(mask): the indices, plain ints
        return np.nonzero(_raw(condition))
    return where(condition, x, y)


def _np_clip(a: Tensor, a_min: Any = None, a_max: Any = None) -> Tensor:
    return _node(a).clip(_raw(a_min), _raw(a_max))


def _np_broadcast_to(array: Tensor, shape: tuple[int, ...]) -> Tensor:
    return array.broadcast_to(shape)


def _np_dot(a: ArrayLike, b: ArrayLike) -> Tensor:
    if np.ndim(a) not in (1, 2) or np.ndim(b) not in (1, 2):
        raise TypeError(
            f"np.dot of shapes {np.shape(a)} and {np.shape(b)} on Tensors: use a @ b "
            f"(np.matmul's rules) or a * b for a number"
        )
    return ops.MatMul.apply(_operand(a), _operand(b))


def _np_argmax(a: Tensor, axis: int | None = None, keepdims: bool = False) -> Any:
    return a.argmax(axis=axis, keepdims=keepdims)


def _np_argmin(a: Tensor, axis: int | None = None, keepdims: bool = False) -> Any:
    return a.argmin(axis=axis, keepdims=keepdims)


_FUNCTION_OPS: dict[Any, Callable[..., Any]] = {
    np.sum: _np_sum, np.mean: _np_mean, np.max: _np_max, np.amax: _np_max, np.min: _np_min,
    np.amin: _np_min, np.var: _np_var, np.reshape: _np_reshape, np.transpose: _np_transpose,
    np.squeeze: _np_squeeze, np.expand_dims: _np_expand_dims, np.swapaxes: _np_swapaxes,
    np.ravel: _np_ravel, np.concatenate: _np_concatenate, np.stack: _np_stack,
    np.where: _np_where, np.clip: _np_clip, np.broadcast_to: _np_broadcast_to, np.dot: _np_dot,
    np.argmax: _np_argmax, np.argmin: _np_argmin,
}
_METHOD_HINTS = {
    "add.reduce": "t.sum(axis=...)", "maximum.reduce": "t.max(axis=...)",
    "minimum.reduce": "t.min(axis=...)", "std": "t.var(axis=...) ** 0.5",
    "expand_dims": "t.unsqueeze(axis)", "amax": "t.max(...)", "amin": "t.min(...)",
    "ravel": "t.reshape(-1)", "average": "t.mean(axis=...)", "linalg.norm": "(t**2).sum() ** 0.5",
    "concatenate": "autograd.concatenate(tensors, axis)", "stack": "autograd.stack(tensors, axis)",
    "where": "autograd.where(condition, x, y)", "dot": "a @ b",
}


_signature = functools.cache(signature)


def _parameters(adapter: Callable[..., Any]) -> str:
    return ", ".join(f"{name}=" for name in list(_signature(adapter).parameters)[1:]) or "its input"


def _on_numbers(name: str, function: Any, args: Any, kwargs: dict, constant: bool) -> Any:
    """A NumPy function chaingrad does not record, run on the tensors' numbers.

    Allowed where no gradient is lost: the result is constant by nature
    (``constant``), or no tensor involved requires grad. Otherwise a
    TypeError names the Tensor way.
    """
    tensors = [x for x in _flat((*args, *kwargs.values())) if isinstance(x, Tensor)]
    writes_first = name.endswith(".at") or function in _WRITE_INTO_FIRST
    if any(isinstance(x, Tensor) for x in _flat((kwargs.get("out", ()),))) or (
        writes_first and isinstance(args[0], Tensor)
    ):
        raise TypeError(
            f"{name} would write into a Tensor in place, behind the graph's back: use the "
            f"result of a Tensor op instead (or write into t.data for a constant)"
        )
    if not constant and any(t.requires_grad for t in tensors):
        hint = _METHOD_HINTS.get(name.removeprefix("np."))
        method = hint or "Tensor methods and operators"
        why = (
            f"recorded only without the keywords {'= '.join(kwargs)}=" if function in _UFUNC_OPS
            else f"chaingrad records no {name}"
        )
        raise TypeError(
            f"{name} on a Tensor that requires grad would give numbers without a gradient "
            f"({why}). Use {method}; call it on t.detach().numpy() for "
            f"constant numbers, or subclass autograd.Function for a new op. NumPy calls recorded "
            f"on Tensors: {' '.join(sorted(_RECORDED))}"
        )
    return function(*_numbers(args), **{k: _numbers(v) for k, v in kwargs.items()})


_RECORDED = [u.__name__ for u in _UFUNC_OPS] + [
    f.__name__ for f in _FUNCTION_OPS if f.__name__ not in ("amax", "amin")
]


def _needs_grad(x: Any) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _flat(items: Any) -> list:
    """The items, with those inside lists and tuples (one level: np.concatenate's list)."""
    out = []
    for x in items:
        if isinstance(x, (list, tuple)):
            out.extend(x)
        else:
            out.append(x)
    return out


def _numbers(x: Any) -> Any:
    """Tensors replaced by their arrays (in a list or tuple too)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_numbers(item) for item in x)
    return x


class _Detached(Tensor):
    """What ``detach()`` returns: the source's memory, and a version count shared with the source.

    Its ``_version`` is the later of its own writes and the source's, and a
    write to it is a write to the source too: backward then sees a change
    through either name.
    """

    __slots__ = ("_source", "_own_version")

    def __init__(self, source: Tensor) -> None:
        self._source, self._own_version = source, 0
        super().__init__(source.data)

    @property
    def _version(self) -> int:  # type: ignore[override]
        return max(self._own_version, self._source._version)

    @_version.setter
    def _version(self, number: int) -> None:
        self._own_version = number
        if number > self._source._version:
            self._source._version = number


def _as_output_array(fn: type[Function], ctx: Context, result: Any) -> np.ndarray:
    """A forward's non-array result (NumPy gives scalars for 0-d math) as an array.

    A saved item that was that result is swapped for the array, so the output
    is saved as the array the node holds.
    None, strings and complex numbers are refused, naming the Function.
    """
    data = np.asarray(result)
    if data.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn.__name__}.forward must return real numbers (an array or a number), got "
            f"{type(result).__name__}: {result!r:.60}"
        )
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


def _axis(axis: Axis, dim: Axis = None, default: Axis = None) -> Axis:
    """The axis argument given as ``axis=`` or ``dim=`` (PyTorch's name), never both."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"give axis= or dim= (the same argument), not both: axis={axis}, dim={dim}")
        axis = dim
    if axis is None:
        return default
    return tuple(axis) if isinstance(axis, list) else axis


# ------------------------------------------------------------------ functions


def concatenate(tensors: Iterable[ArrayLike], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (0 by default); each gets its slice of the gradient."""
    tensors = [_node(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    return ops.Concatenate.apply(*tensors, axis=_axis(axis, dim, default=0))


def stack(tensors: Iterable[ArrayLike], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along a new axis (0 by default; counted in the result, as ``np.stack``)."""
    tensors = [_node(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    axis = normalize_axis_index(_axis(axis, dim, default=0), tensors[0].ndim + 1)
    return concatenate([t.unsqueeze(axis) for t in tensors], axis=axis)


def where(condition: Any, x: ArrayLike, y: ArrayLike) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (condition needs no gradient)."""
    return ops.Where.apply(np.asarray(_raw(condition), dtype=bool), _node(x), _operand(y))


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise max; ties split the gradient evenly."""
    return ops.Maximum.apply(_node(a), _operand(b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise min; ties split the gradient evenly."""
    return ops.Minimum.apply(_node(a), _operand(b))


def _node(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)
