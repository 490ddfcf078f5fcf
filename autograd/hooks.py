"""Gradient hooks: ``node.register_hook(fn)`` on a Value or a Tensor, with PyTorch's semantics.

``fn(grad)`` runs when backward has the node's whole gradient for the pass and
may return a replacement: an op's replacement is what flows on to its inputs
(and what a retained ``.grad`` shows), a leaf's is what is added into its
``.grad``. Hooks live in one registry here, not on the nodes (a Value has no
room to spare: a graph holds millions), and ``graph.backward`` looks at it
once per pass: only when it is not empty does the pass take the consumers
below. ``RemovableHandle`` is the one handle of every hook (nn's module hooks too).
"""
from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from . import graph

Hook = Callable[[Any], Any]

# id(node) -> (node, {handle id: hook}) in registration order. The node is kept here, so its id
# names no other node while it has hooks; ``_prune`` lets go of nodes nothing else refers to.
registry: dict[int, tuple[Any, dict[int, Hook]]] = {}
_lock = threading.Lock()
_kept_after_prune = 0


class RemovableHandle:
    """What a ``register_*hook`` call returns: ``remove()`` unregisters the hook (also as ``with``).

    ``table`` maps handle ids to hooks; ``extra`` are tables of per-hook
    options (keyed by the same id) that forget it too, as in PyTorch.
    """

    _ids = itertools.count()  # next() on it is atomic: handles made in two threads never share an id

    def __init__(
        self, table: dict[int, Any], *, extra: tuple[dict[int, Any], ...] = (), node_id: int | None = None
    ) -> None:
        self.table, self.id = table, next(RemovableHandle._ids)
        self._extra, self._node_id = extra, node_id

    def remove(self) -> None:
        """Unregister the hook; a second call does nothing."""
        with _lock:
            for table in (self.table, *self._extra):
                table.pop(self.id, None)
            entry = registry.get(self._node_id)
            if entry is not None and entry[1] is self.table and not self.table:
                del registry[self._node_id]  # no hook left anywhere: backward takes its plain path

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_hook(node: graph.Node, hook: Hook) -> RemovableHandle:
    """Call ``hook(grad)`` whenever a backward pass has ``node``'s gradient (see the module doc).

    Several hooks run in registration order, each given the previous one's
    result (None keeps the gradient). Returns a handle whose ``remove()``
    unregisters this hook.
    """
    if not callable(hook):
        raise TypeError(f"register_hook needs a function grad -> grad or None, got {type(hook).__name__}")
    if not node.requires_grad:
        kind = "tensor" if isinstance(node.data, np.ndarray) else "Value (computed under no_grad)"
        raise RuntimeError(
            f"cannot register a hook on a {kind} that doesn't require gradient: no gradient "
            f"is ever computed for it (make it with requires_grad=True, or outside no_grad)"
        )
    with _lock:
        entry = registry.get(id(node))
        if entry is None:
            if len(registry) >= 2 * _kept_after_prune + 16:
                _prune()
            entry = registry[id(node)] = (node, {})
        handle = RemovableHandle(entry[1], node_id=id(node))
        entry[1][handle.id] = hook
    return handle


def _reference_counts(table: dict) -> list[tuple[int, int]]:
    """Per registry entry, how many references its node has (counted the same way for the baseline)."""
    return [(key, sys.getrefcount(entry[0])) for key, entry in list(table.items())]


_ONLY_HERE = _reference_counts({0: (object(), None)})[0][1]  # a node the registry alone refers to


def _prune() -> None:
    """Forget the nodes only the registry refers to: no graph reaches them, no pass can need them.

    Hooks on intermediates are usually registered anew each forward and never
    removed (as in PyTorch, where they die with the tensor); without this the
    registry would keep every step's graph alive. Call it holding ``_lock``.
    """
    global _kept_after_prune
    forgotten = True
    while forgotten:  # again: a node forgotten may have been the last to refer to another
        forgotten = [key for key, references in _reference_counts(registry) if references <= _ONLY_HERE]
        for key in forgotten:
            del registry[key]
    _kept_after_prune = len(registry)


def any_hooks() -> bool:
    """Whether a pass must run hooks: the registry holds a node something else still refers to."""
    with _lock:
        _prune()
        return bool(registry)


def hook_names(node: graph.Node) -> list[str]:
    """The names of ``node``'s hooks in the order they run (for pictures); [] without hooks."""
    entry = registry.get(id(node))
    if entry is None or entry[0] is not node:
        return []
    return [getattr(hook, "__name__", type(hook).__name__) for hook in list(entry[1].values())]


def run_hooks(node: graph.Node, grad: Any, create_graph: bool) -> Any:
    """``grad`` passed through ``node``'s hooks in registration order; each may replace it.

    The hooks are read when the node's turn comes, so a hook removed earlier
    in the pass does not run; a hook removed by another hook of the same node
    still runs this time (PyTorch's order).
    """
    entry = registry.get(id(node))
    if entry is None:
        return grad
    for hook in list(entry[1].values()):
        result = hook(grad)
        if result is not None:
            grad = _checked(node, hook, result, create_graph)
    return grad


def _checked(node: graph.Node, hook: Hook, result: Any, create_graph: bool) -> Any:
    """A hook's replacement as the pass needs it (a node under ``create_graph``), or an error naming it."""
    name = getattr(hook, "__name__", type(hook).__name__)
    is_node = isinstance(result, graph.Node)
    raw = result.data if is_node else result
    if isinstance(node.data, float):
        if not isinstance(raw, Real):
            raise TypeError(f"hook {name!r} returned {type(result).__name__}: a Value's hook returns None "
                            f"or the gradient as a number")
        raw = float(raw)
    else:
        shape = getattr(raw, "shape", None)
        if shape is None:
            raise TypeError(f"hook {name!r} returned {type(result).__name__}: a tensor's hook returns None "
                            f"or an array of the tensor's shape {node.data.shape}")
        if shape != node.data.shape:
            raise RuntimeError(f"hook {name!r} has changed the size of value: it returned shape {shape} "
                               f"for a tensor of shape {node.data.shape}; return a gradient of that shape")
        if type(raw) is not np.ndarray or raw.dtype != node.data.dtype:
            raw = node.as_data(raw)  # a gradient has its tensor's dtype
    if create_graph:
        return result if is_node else node.wrap(raw)
    return raw


# ------------------------------------------------------------------ the passes
# Both take graph.walk as it is; only the consumers change, and only while hooks exist.


def backward_with_hooks(root: graph.Node, grad: Any, order: list, create_graph: bool, run: Callable) -> None:
    """``backward``'s pass with hooks: ``run`` (graph._run) given hook-aware consumers.

    An op's hooks run when the walk reaches it, on its total gradient; the
    result is what its ``.grad`` keeps (if retained) and what flows on. A
    hooked leaf collects the pass's total aside (its ``.grad`` set aside
    meanwhile) and, right after its last consumer ran (PyTorch runs a leaf's
    accumulation as soon as it is ready), its hooks run on that total and
    the result is added into ``.grad``.
    """
    leaves = _hooked_ends(root, order, lambda node: node._fn is None)
    before = {leaf: leaf.grad for leaf in leaves}
    for leaf in before:
        leaf.grad = None

    def gradient_of(node: graph.Node) -> Any:
        node_grad = node.grad
        if node_grad is not None and id(node) in registry:
            node_grad = node.grad = run_hooks(node, node_grad, create_graph)
        return node_grad

    def finish(leaf: graph.Node) -> None:
        total, old = leaf.grad, before[leaf]
        new = old
        if total is not None:
            hooked = run_hooks(leaf, total, create_graph)
            new = hooked if old is None else old + hooked
            if leaf._checks_leaf_grad:
                new = leaf._own_grad(new, new is not total and old is None)
        del before[leaf]  # only now: should a hook fail, the leaf gets its old gradient back
        leaf.grad = new

    receive = _finishing_after_last_consumer(order, leaves, graph._add_to_grads, finish)
    try:
        run(root, grad, order, create_graph, gradient_of, receive)
        for leaf in list(before):
            finish(leaf)
    finally:
        for leaf, old in before.items():  # a pass that failed half way leaves unfinished leaves as they were
            leaf.grad = old


def walk_aside_with_hooks(
    order: list, create_graph: bool, totals: dict, inputs: tuple, receive: Callable
) -> None:
    """``autograd.grad``'s walk with hooks: ops' hooks and the inputs' (leaf or not) change the totals.

    As in ``torch.autograd.grad``, an input's hooks run on its gradient
    before it is returned; hooks of leaves that are not inputs do not run.
    """
    ends = list({id(node): node for node in inputs if id(node) in registry}.values())
    pending = {id(end) for end in ends}

    def gradient_of(node: graph.Node) -> Any:
        node_grad = totals.get(node)
        if node_grad is not None and id(node) in registry:
            node_grad = totals[node] = run_hooks(node, node_grad, create_graph)
        return node_grad

    def finish(end: graph.Node) -> None:
        pending.discard(id(end))
        if totals.get(end) is not None:
            totals[end] = run_hooks(end, totals[end], create_graph)

    graph.walk(order, create_graph, gradient_of, _finishing_after_last_consumer(order, ends, receive, finish))
    for end in ends:  # the root, or inputs whose last consumer passed no gradient
        if id(end) in pending:
            finish(end)


def _hooked_ends(root: graph.Node, order: list, wanted: Callable[[graph.Node], bool]) -> list:
    """The hooked nodes ``wanted`` among the inputs of ``order``'s ops (and the root), each once."""
    ends = {id(root): root} if id(root) in registry and wanted(root) else {}
    for node in order:
        for parent in node._parents:
            if parent is not None and id(parent) in registry and wanted(parent):
                ends[id(parent)] = parent
    return list(ends.values())


def _finishing_after_last_consumer(order: list, ends: list, receive: Callable, finish: Callable) -> Callable:
    """``receive`` followed, after each op, by ``finish(end)`` for every end whose last consumer it is."""
    if not ends:
        return receive
    wanted = {id(end) for end in ends}
    last: dict[int, Any] = {}
    for node in order:
        for parent in node._parents:
            if parent is not None and id(parent) in wanted:
                last[id(parent)] = node
    due: dict[int, list] = {}
    for node in order:  # each op's ends in the order of its inputs, as PyTorch readies them
        for parent in node._parents:
            if parent is not None and last.get(id(parent)) is node:
                ends_here = due.setdefault(id(node), [])
                if all(end is not parent for end in ends_here):
                    ends_here.append(parent)

    def receive_then_finish(node: graph.Node, node_grad: Any, grads: tuple) -> None:
        receive(node, node_grad, grads)
        for end in due.pop(id(node), ()):
            finish(end)

    return receive_then_finish
