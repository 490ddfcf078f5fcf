"""Anomaly mode: find the op that PRODUCED the first NaN or infinity, forward or backward.

Turning the mode on installs a recording layer (``recording.py``) that wraps
``value._make``, ``Tensor._apply`` and ``graph.walk`` in checking versions;
turning it off removes it, so outside the mode not one extra instruction runs. While
it is on, every recorded op keeps the user's source line where it was made
(a Value in a ``_TracedValue`` with one extra slot, a Tensor on its ``ctx``)
and copies of the arrays it saved for backward. The flag is process-wide, as
PyTorch's (``torch.is_anomaly_enabled()`` is the same in every thread).
"""
from __future__ import annotations

import functools
import linecache
import math
import os
import sys
import threading
from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from . import functions as ops
from . import recording, value
from .graph import Node, _overlap
from .tensor import Tensor

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
           "set_detect_anomaly"]


class AnomalyError(RuntimeError):
    """The first NaN or infinity an op produced in anomaly mode; ``.node`` is that op's output.

    Also raised when an op's saved array was changed in place behind the
    graph's back (a write straight into ``.data``), which only anomaly mode
    can see. A RuntimeError, so code that catches PyTorch-style autograd
    errors catches it; ``draw_dot(root, highlight=err.node)`` shows where it is.
    """

    def __init__(self, message: str, node: Node | None) -> None:
        super().__init__(message)
        self.node = node


# ------------------------------------------------------------ switching it on


class _State:
    enabled = False
    check_nan = True


_state = _State()
_switch = threading.Lock()
_in_walk = threading.local()  # ops made by backward formulas (create_graph) are checked as backward


def is_anomaly_enabled() -> bool:
    """True while anomaly mode is on (in every thread, as PyTorch's flag)."""
    return _state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly mode also raises on NaN/inf (``check_nan``, on by default)."""
    return _state.check_nan


def _set(mode: bool, check_nan: bool) -> None:
    """Install the checking layer, or remove it (a refused install leaves the mode as it was)."""
    with _switch:
        if mode and not _state.enabled:
            recording.install(_LAYER)
        was_on, _state.enabled, _state.check_nan = _state.enabled, bool(mode), bool(check_nan)
        if was_on and not mode:
            recording.remove(_LAYER)


class set_detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Anomaly mode on (True) or off (False) from the call on; as a ``with`` block, restored after.

    ``check_nan=False`` keeps only the source lines and the saved-data check
    (PyTorch's ``check_nan``): no error for NaN/inf.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.previous = (_state.enabled, _state.check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        _set(*self.previous)


class detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Anomaly mode inside a ``with`` block or a decorated function (``@detect_anomaly`` or ``()``).

    Forward: an op whose output has a NaN/inf where its inputs are finite
    raises ``AnomalyError`` naming the op, the user's source line, and its
    inputs there. Backward: a formula that returns a NaN/inf gradient from a
    finite incoming gradient and finite inputs raises naming the op, its rule
    (the local derivative), the incoming gradient, the inputs and the line
    where the op was recorded. Ops that only pass a NaN/inf on are not blamed.
    Any other error in backward gets a note with the op's source line. A
    Tensor op's saved array that changed since it was recorded (even by a
    write into ``.data``, which versions cannot see) raises ``AnomalyError``
    too: a RuntimeError like the version check's own error (so one ``except``
    serves both), and it carries the op's node for ``draw_dot(highlight=)``.
    Every op is checked, recorded or not (``no_grad``); Values save floats,
    which cannot change in place. Blocks nest: each restores the mode it found.
    """

    def __new__(cls, check_nan: bool | Callable = True) -> Any:
        block = super().__new__(cls)
        block.check_nan, block._previous = True, []
        if callable(check_nan):  # @detect_anomaly without parentheses
            return block(check_nan)
        block.check_nan = bool(check_nan)
        return block

    def __enter__(self) -> None:
        previous = (_state.enabled, _state.check_nan)
        _set(True, self.check_nan)
        self._previous.append(previous)

    def __exit__(self, *exc_info: object) -> None:
        _set(*self._previous.pop())

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def run_in_anomaly_mode(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return run_in_anomaly_mode


# ------------------------------------------------------------ recording


class _TracedValue(value.Value):
    """A Value recorded in anomaly mode: it keeps where it was made (``_anomaly``)."""

    __slots__ = ("_anomaly",)


class _TracedAppliedValue(value._AppliedValue):
    """A user Function's Value recorded in anomaly mode."""

    __slots__ = ("_anomaly",)


_TRACED = {value.Value: _TracedValue, value._AppliedValue: _TracedAppliedValue}


class _Record:
    """Where an op was recorded (the user's frames, innermost first) and copies of what it saved."""

    __slots__ = ("trace", "snapshots")

    def __init__(self, trace: tuple, snapshots: tuple = ()) -> None:
        self.trace, self.snapshots = trace, snapshots


_OURS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), package) + os.sep
    for package in ("autograd", "nn")
)


def _checking_make(inner: Callable) -> Callable:
    def checked_make(
        data: float, fn: type, parents: tuple, saved: tuple, node_type: type = value.Value
    ) -> Any:
        """``value._make`` in anomaly mode: a traced node, and the forward NaN/inf check."""
        out = inner(data, fn, parents, saved, _TRACED.get(node_type, node_type))
        if out._fn is not None:
            out._anomaly = _Record(_user_trace())
        if data - data != 0 and _state.check_nan and not getattr(_in_walk, "on", False):
            _check_forward(out, fn, parents, {})
        return out

    return checked_make


def _checking_apply(inner: Callable) -> Callable:
    def checked_apply(cls: type, fn: type, inputs: tuple, params: dict) -> Tensor:
        """``Tensor._apply`` in anomaly mode: the op's source line, copies of what it saved, the check."""
        out = inner(cls, fn, inputs, params)
        ctx = out._ctx
        if ctx is not None:
            ctx._anomaly = _Record(_user_trace(), _snapshots(ctx))
        if _state.check_nan and out.data.dtype.kind == "f" and not getattr(_in_walk, "on", False):
            _check_forward(out, fn, inputs, params)
        return out

    return checked_apply


def _user_trace(limit: int = 8) -> tuple:
    """The calling frames outside autograd/ and nn/, innermost first: (file, line, function)."""
    frames, frame = [], sys._getframe(2)
    while frame is not None and len(frames) < limit:
        filename = frame.f_code.co_filename
        if not filename.startswith(_OURS):
            frames.append((filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return tuple(frames)


def _snapshots(ctx: Any) -> tuple:
    """(array, copy) for each array an op saved for backward (its saved items and ctx attributes)."""
    attributes = [v for k, v in vars(ctx).items() if k not in ("saved_tensors", "_anomaly")]
    return tuple(
        (item, item.copy()) for item in (*ctx.saved_tensors, *attributes) if isinstance(item, np.ndarray)
    )


def _record_of(node: Node) -> _Record | None:
    return getattr(node, "_anomaly", None) or getattr(node._ctx, "_anomaly", None)


# ------------------------------------------------------------ forward check


def _check_forward(out: Node, fn: type, inputs: tuple, params: dict) -> None:
    """Raise if ``out`` has a NaN/inf the inputs did not already have there."""
    raws = [x.data if isinstance(x, Node) else x for x in inputs]
    produced = _produced(fn, out.data, raws)
    if produced is None:
        return
    record = _record_of(out)
    trace = record.trace if record is not None else _user_trace()
    shown = _indices(produced)
    lines = [
        f"anomaly mode: {_op_name(fn)} produced {_kinds(out.data, produced)} in forward "
        f"from finite inputs{_count(out.data, produced)}",
        _recorded_at(trace),
        *_inputs_lines(fn, inputs, raws, shown, np.shape(out.data)),
    ]
    if params:
        lines.append("  with " + ", ".join(f"{k}={_short(v)}" for k, v in params.items()))
    raise AnomalyError("\n".join(lines), out)


def _produced(fn: type, result: Any, sources: list) -> Any:
    """Where ``result`` is non-finite and ``sources`` are not (a mask; True for scalars), else None.

    If every source is finite, every non-finite element was produced. If some
    source is not, only an elementwise op can say which elements are new:
    those whose sources (broadcast) are all finite there.
    """
    bad = _nonfinite(result)
    if not np.any(bad):
        return None
    masks = [_nonfinite(s) for s in sources]
    if not any(np.any(m) for m in masks):
        return bad
    shape = np.shape(result)
    if not _positional(fn) or not all(_broadcasts(np.shape(s), shape) for s in sources):
        return None
    new = np.array(bad)
    for mask in masks:
        new &= ~np.broadcast_to(mask, shape)
    return new if new.any() else None


def _nonfinite(x: Any) -> Any:
    """A mask of the NaN/inf elements of an array (a bool for a number); all False for non-floats."""
    if isinstance(x, float):
        return x - x != 0
    if isinstance(x, (np.ndarray, np.generic)):
        return ~np.isfinite(x) if x.dtype.kind in "fc" else np.zeros(x.shape, dtype=bool)
    return isinstance(x, Real) and not math.isfinite(x)


def _positional(fn: type) -> bool:
    """Does each output element depend only on the same element of each (broadcast) input?"""
    return fn.kind == "elementwise" or fn in (ops.Add, ops.Sub, ops.Neg, ops.Identity, ops.Cast)


def _broadcasts(shape: tuple, to: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, to) == to
    except ValueError:
        return False


# ------------------------------------------------------------ backward check


def _checking_walk(inner: Callable) -> Callable:
    return functools.partial(_checked_walk, inner)


def _checked_walk(
    inner: Callable, order: list[Node], create_graph: bool, gradient_of: Callable[[Node], Any] | None,
    receive: Callable[[Node, Any, tuple], None],
) -> None:
    """``graph.walk`` in anomaly mode: each op's saved data and gradients checked before ``receive``."""
    current: list = [None]

    def checked_gradient_of(node: Node) -> Any:
        current[0] = node
        record = _record_of(node)
        if record is not None and record.snapshots:
            _check_saved(node, record)
        return node.grad if gradient_of is None else gradient_of(node)

    def checked_receive(node: Node, node_grad: Any, grads: tuple) -> None:
        if _state.check_nan:
            _check_backward(node, node_grad, grads)
        receive(node, node_grad, grads)

    outer, _in_walk.on = getattr(_in_walk, "on", False), True
    try:
        inner(order, create_graph, checked_gradient_of, checked_receive)
    except Exception as error:
        record = _record_of(current[0]) if current[0] is not None else None
        if record is not None and not isinstance(error, AnomalyError) and hasattr(error, "add_note"):
            error.add_note(f"anomaly mode: the failing op, {_op_name(current[0]._fn)}, was "
                           f"{_recorded_at(record.trace).strip()}")
        raise
    finally:
        _in_walk.on = outer


_LAYER = recording.Layer("anomaly mode", {
    recording.MAKE: _checking_make, recording.TENSOR_APPLY: _checking_apply, recording.WALK: _checking_walk,
})


def _check_backward(node: Node, node_grad: Any, grads: tuple) -> None:
    """Raise if a gradient this op's formula returned is NaN/inf where its sources are finite."""
    raws = _raw_inputs(node)
    for position, (parent, grad) in enumerate(zip(node._parents, grads)):  # noqa: B905 (checked in walk)
        if grad is None or parent is None or not parent.requires_grad:
            continue
        grad_data = grad.data if isinstance(grad, Node) else grad
        if not np.any(_nonfinite(grad_data)):
            continue
        incoming = node_grad.data if isinstance(node_grad, Node) else node_grad
        produced = _produced(node._fn, grad_data, [incoming, *raws])
        if produced is not None:
            _raise_backward(node, position, incoming, grad_data, raws, produced)


def _raise_backward(node: Node, position: int, incoming: Any, grad: Any, raws: list, produced: Any) -> None:
    fn, shown = node._fn, _indices(produced)
    record = _record_of(node)
    shape = np.shape(grad)
    positional = _positional(fn) and all(_broadcasts(np.shape(s), shape) for s in (incoming, *raws))
    at = shown if positional else ()
    lines = [
        f"anomaly mode: the backward of {_op_name(fn)} produced {_kinds(grad, produced)} in the gradient "
        f"of its input {position}{_count(grad, produced)}, from a finite incoming gradient and finite inputs",
        f"  local derivative (its rule for input {position}): {_rule(fn, position)}",
        f"  incoming gradient g: {_show(incoming, at, shape)}",
        f"  its output out: {_show(node.data, at, shape)}",
        *_inputs_lines(fn, node._parents, raws, at, shape),
        _recorded_at(record.trace) if record is not None else "  (recorded outside anomaly mode: no line)",
    ]
    raise AnomalyError("\n".join(lines), node)


def _raw_inputs(node: Node) -> list:
    """The op's inputs' data as it saw them (constants included)."""
    inputs = getattr(node, "_inputs", None)
    return list(inputs) if inputs is not None else [p.data for p in node._parents]


def _check_saved(node: Node, record: _Record) -> None:
    """Raise if an array the op saved no longer equals its copy from record time."""
    for item, copy in record.snapshots:
        if np.array_equal(item, copy, equal_nan=item.dtype.kind in "fc"):
            continue
        changed = _indices(item != copy if item.shape == copy.shape else np.ones(copy.shape, bool))
        where = ", ".join(f"at {i}: was {_short(copy[i])}, now {_short(item[i])}" for i in changed)
        raise AnomalyError(
            f"anomaly mode: {_op_name(node._fn)} saved {_owner(node, item)} for its gradient, and its "
            f"values changed in place after the op was recorded ({where}), by a write the version "
            f"counter cannot see (into .data, or a NumPy out= call). The gradient would mix old and "
            f"new values: call backward() before changing the data, or run the forward again.\n"
            f"{_recorded_at(record.trace)}",
            node,
        )


def _owner(node: Node, array: np.ndarray) -> str:
    """Which input of ``node`` (or its output) holds ``array``'s memory, in words."""
    if array is node.data or _overlap(array, node.data):
        return f"its output (shape {node.data.shape})"
    for position, parent in enumerate(node._parents):
        if parent is not None and (array is parent.data or _overlap(array, parent.data)):
            label = f", label {parent.label!r}" if parent.label else ""
            return f"input {position} (shape {parent.data.shape}{label})"
    return f"an array of shape {array.shape}"


# ------------------------------------------------------------ messages


def _op_name(fn: type) -> str:
    symbol = fn.name()
    return fn.__name__ if symbol == fn.__name__ else f"{fn.__name__} ({symbol})"


def _rule(fn: type, position: int) -> str:
    if position < len(fn.rule) and fn.rule[position]:
        return fn.rule[position]
    return f"{fn.__name__}.backward (no rule text)"


def _recorded_at(trace: tuple) -> str:
    """Where the op was recorded (the innermost user frame) and the two user frames that called it."""
    if not trace:
        return "  (no source line outside autograd/ and nn/)"
    lines = [
        f"  {'recorded at' if depth == 0 else 'called from'} {filename}:{line} in {function}:\n"
        f"      {linecache.getline(filename, line).strip()}"
        for depth, (filename, line, function) in enumerate(trace[:3])
    ]
    return "\n".join(lines)


def _indices(mask: Any, limit: int = 3) -> tuple:
    """Up to ``limit`` indices (tuples) where ``mask`` is True; ((),) for a scalar."""
    mask = np.asarray(mask)
    return tuple(tuple(int(i) for i in index) for index in np.argwhere(mask)[:limit])


def _kinds(data: Any, mask: Any) -> str:
    values = np.asarray(data)[np.asarray(mask)] if np.ndim(data) else np.asarray([data])
    found = (("nan", np.isnan(values)), ("inf", values == np.inf), ("-inf", values == -np.inf))
    names = [name for name, mask in found if mask.any()]
    return " and ".join(names)


def _count(data: Any, mask: Any) -> str:
    if not np.ndim(data):
        return ""
    first = _indices(mask, 1)[0]
    return f" ({int(np.count_nonzero(mask))} of {np.size(data)} elements, first at {first})"


def _inputs_lines(fn: type, inputs: tuple, raws: list, indices: tuple, shape: tuple) -> list[str]:
    """One line per input: its value (Value), or its shape and its values at ``indices`` (Tensor)."""
    positional = _positional(fn) and all(_broadcasts(np.shape(r), shape) for r in raws)
    lines = []
    for position, (x, raw) in enumerate(zip(inputs, raws)):  # noqa: B905 (same length)
        kind = "Tensor" if isinstance(x, Tensor) else "Value" if isinstance(x, Node) else "constant"
        label = f" {x.label!r}" if isinstance(x, Node) and getattr(x, "label", "") else ""
        shown = _show(raw, indices if positional else (), shape)
        lines.append(f"  input {position} ({kind}{label}): {shown}")
    return lines


def _show(data: Any, indices: tuple, shape: tuple) -> str:
    """A number as is; an array as its shape and its values at ``indices`` (or its range)."""
    if not isinstance(data, np.ndarray) or data.ndim == 0:
        return _short(data)
    head = f"shape {data.shape} {data.dtype}"
    if indices:
        return head + ", " + ", ".join(f"at {i}: {_short(_at(data, i, shape))}" for i in indices)
    if data.size == 0 or data.dtype.kind not in "biuf":
        return head
    bad = int(np.count_nonzero(_nonfinite(data)))
    finite = data[np.isfinite(data)] if bad else data
    span = f", values in [{_short(finite.min())}, {_short(finite.max())}]" if finite.size else ""
    return head + span + (f", {bad} non-finite" if bad else "")


def _at(data: np.ndarray, index: tuple, shape: tuple) -> Any:
    """``data``'s element that broadcasting puts at ``index`` of ``shape``."""
    return np.broadcast_to(data, shape)[index]


def _short(x: Any) -> str:
    if isinstance(x, (np.ndarray, np.generic)) and np.ndim(x) == 0:
        x = x.item()
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape}"
    return repr(x)

