"""Forward mode: tangents pushed forward beside the values, op by op, while ``f`` runs.

``jvp`` (transforms.py) opens a ``trace``: a dict node -> tangent, kept per
thread. While any trace is open, a recording layer (``recording.py``) wraps
``value._make``, ``Value._apply`` and ``Tensor._apply`` in versions that, once
an op is recorded, compute its output's tangent from its inputs' (``push``);
when the last trace closes it is removed, so recording costs nothing extra
outside jvp. Each op's forward rule is derived from its one entry in the op
table, by its ``kind`` (autograd/README.md, "Forward mode"); none is written twice.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import graph, recording, value
from .functions import expand, zeros_like
from .graph import Context, Function, Node, _GraphContext, enable_grad, is_grad_enabled
from .tensor import Tensor
from .value import Value

KINDS = ("elementwise", "linear", "multilinear", "other")


class Trace:
    """One jvp's tangents, node -> tangent (a node missing has tangent 0).

    ``graph``: tangents are nodes, computed by recorded ops, so they can be
    differentiated (by an outer jvp, or by reverse mode); else raw numbers.
    """

    __slots__ = ("tangents", "graph")

    def __init__(self, graph: bool) -> None:
        self.tangents: dict[Node, Any] = {}
        self.graph = graph


class _OpenTraces(threading.local):
    traces: tuple = ()  # innermost last; while a trace computes a tangent, only the outer ones are open


_open = _OpenTraces()


def is_tracing() -> bool:
    """True when a jvp is running in this thread (its ops' tangents are being computed)."""
    return bool(_open.traces)


graph.forward_mode_running = is_tracing  # grad inside jvp builds its gradients as graph


@contextmanager
def trace(differentiable: bool) -> Iterator[Trace]:
    """Open a forward-mode trace in this thread: ops recorded inside get tangents in it."""
    new = Trace(differentiable)
    recording.install(_LAYER)  # once per open trace in any thread: removed when the last one closes
    outer = _open.traces
    _open.traces = (*outer, new)
    try:
        yield new
    finally:
        _open.traces = outer
        recording.remove(_LAYER)


# --------------------------------------------------- the wrapped recording functions


def _tracing_make(inner: Callable) -> Callable:
    def traced_make(
        data: float, fn: type[Function], parents: tuple, saved: tuple, node_type: type = Value
    ) -> Value:
        """``value._make`` while a jvp runs: the node, then its tangent."""
        if issubclass(node_type, value._AppliedValue):  # a user's Function: its tangent comes in _apply
            return inner(data, fn, parents, saved, node_type)
        return _traced(lambda: inner(data, fn, parents, saved, node_type), fn, parents, {})

    return traced_make


def _tracing_apply(inner: Callable) -> Callable:
    def traced_apply(cls: type, fn: type[Function], inputs: tuple, params: dict) -> Node:
        """``Value._apply`` (a user's Function) or ``Tensor._apply`` in a jvp: the node, then its tangent."""
        return _traced(lambda: inner(cls, fn, inputs, params), fn, inputs, params)

    return traced_apply


def _traced(record: Callable[[], Node], fn: type[Function], inputs: tuple, params: dict) -> Node:
    """``record()``'s node with its tangents pushed, when an input carries one.

    Under ``no_grad`` the op is recorded all the same, for its tangent, and
    then cut loose: forward mode ignores ``no_grad``, as in PyTorch, and the
    result is a leaf for reverse mode (nothing flows back through it).
    """
    if not _carries_tangent(inputs):
        return record()
    if is_grad_enabled():
        out = record()
    else:
        with enable_grad():
            out = record()
    push(out, fn, out._parents if isinstance(out, Value) else inputs, params)
    return out if is_grad_enabled() else _cut(out)


def _carries_tangent(inputs: tuple) -> bool:
    return any(x in trace.tangents for trace in _open.traces for x in inputs if isinstance(x, Node))


def _cut(out: Node) -> Node:
    """``out`` cut from the graph, as under ``no_grad``: a leaf, constant to the ops before it.

    A Value becomes a constant; a Tensor stays a leaf that requires grad, so
    the ops after it are still recorded and get their tangents from it.
    """
    out._fn, out._parents = None, ()
    if isinstance(out, Tensor):
        out._ctx = None
    elif type(out) is Value:
        out.saved_tensors = ()
        out.__class__ = value._ConstantValue
    return out


_LAYER = recording.Layer("forward mode", {
    recording.MAKE: _tracing_make, recording.VALUE_APPLY: _tracing_apply,
    recording.TENSOR_APPLY: _tracing_apply,
})


# --------------------------------------------------------------- one op's tangent


def push(out: Node, fn: type[Function], inputs: tuple, params: dict) -> None:
    """Give the new node ``out`` its tangent in every open trace where an input has one.

    Outermost trace first; while a trace computes its tangent only the traces
    outside it are open, so the ops of that computation get tangents in the
    outer traces (jvp of jvp: ``out`` already has its outer tangents) and
    never recurse into their own.
    """
    traces = _open.traces
    for level in range(len(traces)):
        current = traces[level]
        tangents = [current.tangents.get(x) if isinstance(x, Node) else None for x in inputs]
        if all(t is None for t in tangents):
            continue
        _open.traces = traces[:level]
        try:
            tangent = tangent_of(out, fn, inputs, params, tangents, current.graph)
        finally:
            _open.traces = traces
        if tangent is not None:
            current.tangents[out] = tangent


def tangent_of(
    out: Node, fn: type[Function], inputs: tuple, params: dict, tangents: list, graph: bool
) -> Any:
    """d out = J t for the op ``fn`` that made ``out``, by the rule its ``kind`` names."""
    rule = _RULES.get(fn.kind)
    if rule is None:
        raise TypeError(
            f"jvp: {fn.__name__}.kind is {fn.kind!r}; forward mode knows the kinds {', '.join(KINDS)}: "
            f"set kind to one of them (\"other\" works for any op whose backward runs on nodes)"
        )
    return _as_tangent(rule(out, fn, inputs, params, tangents, graph), out, fn, graph)


def elementwise(
    out: Node, fn: type[Function], inputs: tuple, params: dict, tangents: list, graph: bool
) -> Any:
    """sum_k backward(g = t_k)[k]: the local derivative times the tangent, with no reduction.

    An elementwise op's backward returns local_k * g per input, summed down to
    the input's shape. Here each tangent is broadcast to the output's shape,
    and the context's ``shapes`` say every input had that shape, so nothing is
    summed: the same formula gives local_k * t_k, selections (where, ReLU's
    mask) included.
    """
    total = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        ctx = _context(out, graph, tuple(i == k for i in range(len(tangents))), unreduced=True)
        part = _per_input(fn.backward(ctx, t if isinstance(out, Value) else expand(t, out.shape)))[k]
        if part is not None:
            total = part if total is None else total + part
    return total


def linear(
    out: Node, fn: type[Function], inputs: tuple, params: dict, tangents: list, graph: bool
) -> Any:
    """forward(t_1, ..., t_n), zeros for inputs with no tangent: f is linear in all inputs together."""
    args = [zeros_like(_data(x)) if t is None else t for x, t in zip(inputs, tangents, strict=True)]
    return _forward(fn, args, params, out, graph)


def multilinear(
    out: Node, fn: type[Function], inputs: tuple, params: dict, tangents: list, graph: bool
) -> Any:
    """sum_k forward(x_1, ..., t_k, ..., x_n): f is linear in each input separately (a @ b)."""
    primals = [x if graph else _data(x) for x in inputs]
    total = None
    for k, t in enumerate(tangents):
        if t is not None:
            part = _forward(fn, [*primals[:k], t, *primals[k + 1:]], params, out, graph)
            total = part if total is None else total + part
    return total


def transposed(
    out: Node, fn: type[Function], inputs: tuple, params: dict, tangents: list, graph: bool
) -> Any:
    """J t = d/du <backward(u), t>: the op's own backward, transposed.

    backward(u) = J^T u is linear in the cotangent u, so <J^T u, t> = <u, J t>
    and its gradient in u is J t. One small computation per op: backward runs
    on a fresh node u of ones (the op's saved data as they are), and one reverse pass
    over those few ops, never over f's graph, gives J t. Works for any op
    whose backward runs on nodes (softmax, var, max, the fused losses, a
    user's Function).
    """
    ctx = _context(out, graph, tuple(t is not None for t in tangents), unreduced=False)
    u = Value(1.0) if isinstance(out, Value) else Tensor(np.ones_like(out.data), requires_grad=True)
    with enable_grad():
        try:
            grads = _per_input(fn.backward(ctx, u))
        except (TypeError, AttributeError) as error:
            raise _untransposable(fn, f"failed: {error}") from error
        pairing = None
        for k, (g, t) in enumerate(zip(grads, tangents, strict=False)):
            if t is None or g is None:
                continue
            if not isinstance(g, Node):  # linear in u = 1: numbers can only be an exact zero
                if np.any(g):
                    raise _untransposable(fn, f"returned numbers for input {k}, not a node built from g")
                continue
            _check_shape(g, t, fn, k)
            term = g * t if isinstance(g, Value) else (g * t).sum()
            pairing = term if pairing is None else pairing + term
    if pairing is None:
        return None
    (found,) = graph_backward(pairing, pairing.ones(), create_graph=graph, inputs=(u,))
    return found


def _untransposable(fn: type[Function], what: str) -> TypeError:
    return TypeError(
        f"jvp: {fn.__name__} has kind {fn.kind!r}, so its forward rule is its backward transposed, "
        f"run on a node g, which {what}. Write backward with Tensor methods and operators, or set "
        f"kind = \"elementwise\", \"linear\" or \"multilinear\" if the op is one"
    )


def graph_backward(*args: Any, **kwargs: Any) -> tuple:
    """``graph.backward``, looked up at each call (anomaly mode may swap the walk under it)."""
    return graph.backward(*args, **kwargs)


_RULES: dict[str, Callable[..., Any]] = {
    "elementwise": elementwise, "linear": linear, "multilinear": multilinear, "other": transposed,
}


# ---------------------------------------------------------------------- helpers


class _ForwardContext:
    """An op's backward context for a forward rule: its saved items, chosen inputs, shapes."""

    saved_tensors: tuple = ()
    shapes = None


def _context(out: Node, graph: bool, needs: tuple, unreduced: bool) -> _ForwardContext:
    """The op's context: saved items raw, or as nodes when tangents are nodes (as create_graph).

    ``needs_input_grad`` marks the inputs asked for; with ``unreduced`` every
    broadcast input's shape reads as the output's, so backward sums nothing.
    """
    ctx = _ForwardContext()
    base = out._ctx or out
    if graph:
        vars(ctx).update(vars(_GraphContext(out)))
    else:
        if isinstance(base, Context):
            vars(ctx).update(vars(base))
        ctx.saved_tensors = base.saved_tensors
    ctx.needs_input_grad = needs
    shapes = getattr(base, "shapes", None)
    if unreduced and shapes is not None:
        shapes = tuple(None if s is None else out.data.shape for s in shapes)
    ctx.shapes = shapes
    return ctx


def _forward(fn: type[Function], args: list, params: dict, out: Node, graph: bool) -> Any:
    """``fn``'s forward on ``args``: on raw data, or recorded when tangents are nodes."""
    if not graph:
        return fn.forward(Context(), *args, **params)
    if isinstance(out, Value) and hasattr(fn, "scalar"):
        return fn.scalar(*args)[0]  # a built-in Value op: its float forward runs on Values too
    return fn.apply(*args, **params)


def _as_tangent(t: Any, out: Node, fn: type[Function], graph: bool) -> Any:
    """A rule's result as a tangent of ``out``: its kind (node or raw), dtype and shape checked."""
    if t is None:
        return None
    if isinstance(out, Value):
        if graph:
            return t if isinstance(t, Node) else Value(float(t))
        return float(t.data if isinstance(t, Node) else t)
    if graph and not isinstance(t, Node):
        t = Tensor(np.asarray(t))
    if not graph:
        t = np.asarray(t.data if isinstance(t, Node) else t)
    if t.shape != out.data.shape:
        raise ValueError(
            f"jvp: the forward rule of {fn.__name__} (kind {fn.kind!r}) gave a tangent of shape "
            f"{t.shape} for an output of shape {out.data.shape}: an elementwise op's backward must "
            f"leave g unreduced where ctx.shapes says the input has the output's shape; set "
            f"kind = \"other\" if it does not"
        )
    if t.dtype != out.data.dtype:
        t = t.astype(out.data.dtype)
    return t


def _check_shape(g: Node, t: Any, fn: type[Function], k: int) -> None:
    shape = getattr(g, "shape", ())
    if not isinstance(g, Value) and tuple(shape) != tuple(np.shape(_data(t))):
        raise ValueError(
            f"jvp: {fn.__name__}.backward gave input {k} a gradient of shape {tuple(shape)}, but "
            f"the input has shape {np.shape(_data(t))}: return each input's gradient in its shape"
        )


def _per_input(grads: Any) -> tuple:
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x
