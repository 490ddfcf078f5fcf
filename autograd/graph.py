"""The graph core that Value and Tensor share.

A node holds ``data``, ``grad``, the ``Function`` that made it (``_fn``) and
its inputs (``_parents``; ``None`` stands for a constant input that is not a
node). ``Function.backward(ctx, grad)`` reads ``ctx.saved_tensors`` and returns
one gradient per input. Built-in scalar ops save a plain tuple on the node and
the node itself is the context, so a first-order pass allocates nothing per
node; ops applied generically keep a ``Context`` in ``_ctx`` (a slot only the
node types that need it have: every byte of a Value counts, a graph holds
millions). Grad mode
(``no_grad``), the topological order and the backward driver live here, once.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from operator import attrgetter
from typing import Any


class _GradMode:
    """Whether new ops are recorded; read on every op, so a plain attribute."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


grad_mode = _GradMode()
next_order = itertools.count().__next__


@contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Record ops (True) or not (False) inside the block; the old mode comes back after."""
    previous, grad_mode.enabled = grad_mode.enabled, mode
    try:
        yield
    finally:
        grad_mode.enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Record nothing inside the block: results are constants (as in PyTorch)."""
    return set_grad_enabled(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record ops again inside the block, e.g. within ``no_grad``."""
    return set_grad_enabled(True)


def is_grad_enabled() -> bool:
    """True when new ops are recorded for backward."""
    return grad_mode.enabled


class Node:
    """What every graph node has; subclasses say what ``data`` is.

    ``_order`` numbers nodes as they are created. Every node is created after
    its inputs, so the nodes reachable from a root, sorted by descending
    ``_order``, come each after all of its consumers: a valid reverse
    topological order, found without a depth-first post-order walk.
    """

    __slots__ = ("data", "grad", "_fn", "_parents", "saved_tensors", "_order", "_mark")
    requires_grad: bool
    retains_grad: bool  # does an intermediate keep its .grad after a pass?
    _checks_leaf_grad = False  # True: a leaf's grad goes through _own_grad(grad, passed_through)
    _ctx: Any = None  # a Context, for ops applied generically; else the node is its context
    _fresh_grad: Any = None  # an intermediate's grad at the start of a pass
    shapes = None  # input shapes of a broadcasting op (tensor contexts set it)

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Per input, whether it wants a gradient (PyTorch's ctx attribute)."""
        return tuple(p is not None and p.requires_grad for p in self._parents)

    @property
    def is_leaf(self) -> bool:
        """True for nodes no recorded op made (inputs, parameters, constants)."""
        return self._fn is None

    def _wrap_constant(self, data: Any) -> Node:
        """A node of this node's type holding ``data``, needing no gradient."""
        raise NotImplementedError

    def _bump_version(self) -> None:
        """Say that ``data`` was changed in place (an optimizer step, ``t[i] = x``).

        Backward then refuses a graph that saved the old data. A Value's saved
        items are immutable floats, so only Tensor counts versions.
        """


class Context:
    """The backward context of an op applied generically (``Function.apply``).

    Holds ``saved_tensors``, ``needs_input_grad`` and whatever ``forward`` sets
    (``ctx.axis = 1``), as PyTorch's ``ctx`` does.
    """

    saved_tensors: tuple = ()
    needs_input_grad: tuple = ()
    shapes = None

    def save_for_backward(self, *items: Any) -> None:
        self.saved_tensors = items


class _GraphContext:
    """The context for ``create_graph=True``: saved data become graph nodes.

    ``forward`` saved raw data (floats, arrays). Each saved item that *is* the
    data of an input or of the output (every node owns a distinct data object)
    is replaced by that node, so the derivative formula, run on nodes, builds
    a differentiable graph. Other saved items stay constants.
    """

    shapes = None

    def __init__(self, node: Node) -> None:
        ctx = node._ctx or node
        by_identity = {id(node.data): node}
        for parent in node._parents:
            if parent is not None:
                by_identity.setdefault(id(parent.data), parent)
        if isinstance(ctx, Context):
            vars(self).update(vars(ctx))
        self.needs_input_grad = node.needs_input_grad
        self.saved_tensors = tuple(by_identity.get(id(item), item) for item in ctx.saved_tensors)


class Function:
    """An op: ``forward(ctx, *inputs)`` on raw data, ``backward(ctx, grad)``.

    ``backward`` returns one gradient per positional input (``None`` where an
    input needs none), written with ``+ - * /`` and node methods so the same
    formula runs on numbers in a first-order pass and on nodes under
    ``create_graph=True``. Subclass it and call ``MyOp.apply(x, y)``.
    """

    symbol = ""

    @staticmethod
    def forward(ctx: Any, *inputs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Node:
        """Run ``forward`` on the inputs' data and record the op in the graph."""
        for x in inputs:
            if isinstance(x, Node):
                return type(x)._apply(cls, inputs, params)
        raise TypeError(f"{cls.__name__}.apply needs at least one Value or Tensor input")

    @classmethod
    def name(cls) -> str:
        """The op's short name, as pictures and ``_op`` show it."""
        return cls.symbol or cls.__name__


def topological_order(root: Node, boundary: frozenset = frozenset()) -> list[Node]:
    """The ops (non-leaf nodes needing a gradient) reachable from ``root``, consumers first.

    Why an order at all: in ``y = a * b; z = y + y`` the node ``y`` must hold
    both contributions from ``z`` before it passes its gradient on to ``a`` and
    ``b``. Sorting by descending creation number guarantees that. Each node
    found is marked with a token for this walk (cheaper than a visited set)
    and its ``.grad`` is reset for the new pass. Leaves only receive
    gradients, so they are not listed; nor are ``boundary`` nodes, where the
    walk stops.
    """
    token = object()
    root._mark = token
    nodes = [root] if root._fn is not None else []
    found = nodes.append
    for node in nodes:  # the list grows while it is read: each node found is visited once
        node.grad = node._fresh_grad
        if boundary and node in boundary:
            continue  # it collects its gradient and passes nothing on
        for parent in node._parents:
            if (
                parent is not None and parent._fn is not None
                and parent._mark is not token and parent.requires_grad
            ):
                parent._mark = token
                found(parent)
    if boundary:
        nodes = [node for node in nodes if node not in boundary]
    nodes.sort(key=_order_of, reverse=True)
    return nodes


_order_of = attrgetter("_order")


def backward(
    root: Node, grad: Any, create_graph: bool = False, inputs: tuple[Node, ...] = ()
) -> None:
    """Reverse mode: push ``grad`` from ``root`` to every node that needs one.

    Leaves accumulate into ``.grad`` (a second call adds the same gradient
    again, as PyTorch does). An intermediate's ``.grad`` holds this pass's
    gradient if its type ``retains_grad`` (Value, as in micrograd) and is
    freed once used otherwise (Tensor, as in PyTorch; ``retain_grad()`` keeps
    it). With ``create_graph`` the formulas run on nodes, so the gradients are
    themselves differentiable. Given ``inputs``, the pass stops at them and
    leaves every other ``.grad`` as it was (``autograd.grad``).
    """
    boundary = frozenset(inputs)
    order = topological_order(root, boundary)
    untouched = [(leaf, leaf.grad) for leaf in _leaves(order) - boundary] if inputs else ()
    if create_graph and not isinstance(grad, Node):
        grad = root._wrap_constant(grad)
    old = root.grad
    root.grad = grad if old is None else old + grad
    previous, grad_mode.enabled = grad_mode.enabled, create_graph
    try:
        for node in order:
            fn, node_grad, generic = node._fn, node.grad, node._ctx
            if node_grad is None:
                continue
            ctx = _GraphContext(node) if create_graph else generic or node
            grads = fn.backward(ctx, node_grad)
            if type(grads) is not tuple:
                grads = (grads,)
            if generic is not None and len(grads) != len(node._parents):
                raise ValueError(
                    f"{fn.__name__}.backward returned {len(grads)} gradients for "
                    f"{len(node._parents)} inputs"
                )
            for parent, parent_grad in zip(node._parents, grads):  # noqa: B905 (checked above)
                if parent_grad is not None and parent is not None and parent.requires_grad:
                    old = parent.grad
                    total = parent_grad if old is None else old + parent_grad
                    if parent._checks_leaf_grad and parent._fn is None:
                        total = parent._own_grad(total, total is node_grad)
                    parent.grad = total
            if not node.retains_grad:
                node.grad = None
    finally:
        grad_mode.enabled = previous
        for node, old in untouched:
            node.grad = old


def _leaves(ops: list[Node]) -> set[Node]:
    """The leaves that feed the given ops."""
    return {p for op in ops for p in op._parents if p is not None and p._fn is None}
