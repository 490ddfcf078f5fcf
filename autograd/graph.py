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

import functools
import inspect
import itertools
import threading
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

import numpy as np

from . import hooks


class _ThreadModes(threading.local):
    """Each thread's own grad mode; a thread that never set it records (True)."""

    enabled = True


class _GradMode:
    """Whether new ops are recorded in the calling thread: ``grad_mode.enabled``, read on every op.

    While every thread records (the usual case) ``enabled`` is a plain slot
    holding True, so an op pays one attribute read. While some thread has
    recording off, the object's class is ``_GradModeSomewhereOff``, whose
    ``enabled`` reads the calling thread's own mode (slower, always right).
    Change it only through ``set``.
    """

    __slots__ = ("enabled",)

    def set(self, mode: bool) -> None:
        """Switch recording on or off for the calling thread only."""
        global _threads_off
        mode = bool(mode)
        if _modes.enabled is mode:
            return
        with _mode_lock:
            _modes.enabled = mode
            _threads_off += -1 if mode else 1
            kind = _GradMode if _threads_off == 0 else _GradModeSomewhereOff
            if self.__class__ is not kind:
                self.__class__ = kind


class _GradModeSomewhereOff(_GradMode):
    __slots__ = ()

    @property
    def enabled(self) -> bool:  # type: ignore[override]
        return _modes.enabled


_modes = _ThreadModes()
_mode_lock = threading.Lock()
_threads_off = 0  # threads whose recording is off now (a thread that ends so keeps the slow path)
grad_mode = _GradMode()
grad_mode.enabled = True
next_order = itertools.count().__next__
last_write = 0  # the _order number of the latest in-place write to any node (see note_write)
# chaingrad's own Functions (autograd's ops, nn's fused losses) are tested: the driver trusts them.
_OWN_PACKAGES = (__name__.rpartition(".")[0] + ".", "nn.")
# True once a user's Function exists. Until then a first-order pass runs only chaingrad's formulas, on
# arrays and numbers, which record nothing in any mode, so ``_run`` leaves grad mode alone (switching it
# off and on costs 2% of a small MLP's step: the mode object changes class, see _GradMode).
_user_functions = False
_driver = threading.RLock()  # one backward pass at a time; a Function's backward may start another


class _ModeBlock:
    """Grad mode set to ``mode`` inside a ``with`` block or a decorated function."""

    mode: bool

    def __new__(cls, func: Callable | None = None) -> Any:
        block = super().__new__(cls)
        block._previous = []
        return block(func) if func is not None else block  # @no_grad without parentheses

    def __enter__(self) -> None:
        self._previous.append(_modes.enabled)
        grad_mode.set(self.mode)

    def __exit__(self, *exc_info: object) -> None:
        grad_mode.set(self._previous.pop())

    def __call__(self, func: Callable) -> Callable:
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def run_in_block(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return run_in_block

    def _wrap_generator(self, func: Callable) -> Callable:
        """A generator runs in the block each time it resumes, not only when it is made."""

        @functools.wraps(func)
        def run_in_block(*args: Any, **kwargs: Any) -> Any:
            generator, sent = func(*args, **kwargs), None
            while True:
                try:
                    with type(self)():
                        item = generator.send(sent)
                except StopIteration as stop:
                    return stop.value
                sent = yield item

        return run_in_block


class no_grad(_ModeBlock):  # noqa: N801 (PyTorch's name)
    """Record nothing inside the block (or the decorated function): results are constants."""

    mode = False


class enable_grad(_ModeBlock):  # noqa: N801 (PyTorch's name)
    """Record ops again inside the block (or the decorated function), e.g. within ``no_grad``."""

    mode = True


class set_grad_enabled:  # noqa: N801 (PyTorch's name)
    """Record ops (True) or not (False) in this thread, from the call on, as in PyTorch.

    ``set_grad_enabled(False)`` alone switches recording off; as a ``with``
    block, the mode from before the call comes back at the end.
    """

    def __init__(self, mode: bool) -> None:
        self.previous = _modes.enabled
        grad_mode.set(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        grad_mode.set(self.previous)


def is_grad_enabled() -> bool:
    """True when new ops are recorded for backward in this thread."""
    return _modes.enabled


def note_write() -> int:
    """A new number for an in-place write, remembered as the latest.

    Every op made before the write has a smaller ``_order``: backward compares
    the two to find saved data that changed after the op saved it.
    """
    global last_write
    last_write = number = next_order()
    return number


def mark_written(nodes: list[Node]) -> None:
    """Say that the data of each of ``nodes`` (Tensors) was changed in place: one write number for all.

    An optimizer step writes every parameter at once; one number for the
    step costs one call instead of one per parameter.
    """
    if nodes:
        number = note_write()
        for node in nodes:
            node._version = number


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
    _cleared_grad: Any = None  # an intermediate's grad at the start of a pass
    shapes = None  # input shapes of a broadcasting op (tensor contexts set it)
    _versioned = False  # True: in-place writes are counted (``_version``) and checked at backward
    _version = 0  # the note_write() number of the latest in-place write (0: never written)

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """Per input, whether it wants a gradient (PyTorch's ctx attribute)."""
        return tuple(p is not None and p.requires_grad for p in self._parents)

    @property
    def is_leaf(self) -> bool:
        """True for nodes no recorded op made (inputs, parameters, constants)."""
        return self._fn is None

    # The node protocol: what code outside the engines asks of a node instead of
    # switching on isinstance(x, Value) / Tensor.

    def wrap(self, data: Any) -> Node:
        """A new leaf of this node's type holding (a copy of) ``data``, needing no gradient."""
        raise NotImplementedError

    def as_data(self, x: Any) -> Any:
        """``x`` (a number or an array) as data of this node's kind, a fresh object."""
        raise NotImplementedError

    def zeros(self) -> Any:
        """Zeros shaped like ``data`` (0.0 for a scalar)."""
        raise NotImplementedError

    def ones(self) -> Any:
        """Ones shaped like ``data`` (1.0 for a scalar): the seed of a backward pass."""
        raise NotImplementedError

    def register_hook(self, hook: Callable[[Any], Any]) -> hooks.RemovableHandle:
        """Call ``hook(grad)`` when a backward pass has this node's gradient; a result replaces it.

        PyTorch's semantics (``autograd/hooks.py``); returns a handle with ``remove()``.
        """
        return hooks.register_hook(self, hook)

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
    """The context for ``create_graph=True``: saved items by role become graph nodes.

    ``forward`` saved raw data (floats, arrays); the op's ``saves`` says, by
    position, which saved item is input k (``k``), the output (``OUTPUT``) or
    a constant (``None``, and every item past the roles). Each input or output
    item is replaced by that node, so the derivative formula, run on nodes,
    builds a differentiable graph; constants stay raw.
    """

    shapes = None

    def __init__(self, node: Node) -> None:
        ctx = node._ctx or node
        if isinstance(ctx, Context):
            vars(self).update(vars(ctx))
        roles = getattr(ctx, "roles", None) or node._fn.saves or ()
        self.needs_input_grad = node.needs_input_grad
        self.saved_tensors = saved_nodes(node, ctx.saved_tensors, roles)


OUTPUT = "output"  # a role in ``Function.saves``: the saved item is the op's output


def saved_nodes(node: Node, saved: tuple, roles: tuple) -> tuple:
    """``saved`` with each item whose role is an input or the output replaced by that node.

    A role is an input position ``k``, a ``slice`` of input positions (for
    ops with any number of inputs), ``OUTPUT`` or ``None`` (a constant).
    """
    sources: list = []
    for role in roles:
        if type(role) is slice:
            sources.extend(node._parents[role])
        else:
            sources.append(node if role == OUTPUT else None if role is None else node._parents[role])
    sources.extend([None] * (len(saved) - len(sources)))
    return tuple(item if source is None else source for item, source in zip(saved, sources))  # noqa: B905


def roles_by_identity(saved: tuple, inputs: tuple, out: Any) -> tuple:
    """The roles of a user Function's saved items: the input or output object it saved.

    Only for Functions that declare no ``saves``: ``ctx.save_for_backward(x)``
    with the very array forward received (or returned) saves that input (the
    output), as PyTorch's ``save_for_backward`` does; anything else is a constant.
    """
    roles = []
    for item in saved:
        position = next((k for k, x in enumerate(inputs) if x is item), None)
        roles.append(OUTPUT if position is None and item is out else position)
    return tuple(roles)


class Function:
    """An op: ``forward(ctx, *inputs)`` on raw data, ``backward(ctx, grad)``.

    ``backward`` returns one gradient per positional input (``None`` where an
    input needs none), written with ``+ - * /`` and node methods so the same
    formula runs on numbers in a first-order pass and on nodes under
    ``create_graph=True``. Subclass it and call ``MyOp.apply(x, y)``.
    """

    symbol = ""
    rule: tuple[str, ...] = ()  # per input, its gradient as text (explain, pictures): ("g * cos(a)",)
    kind = "other"  # forward mode's rule: "elementwise", "linear", "multilinear" or "other" (forward.py)
    saves: tuple | None = None  # the roles of the saved items (see saved_nodes); None: found by identity
    _checks_grads = False  # True for a user's Function: the driver checks what backward returns

    def __init_subclass__(cls, **kwargs: Any) -> None:
        global _user_functions
        super().__init_subclass__(**kwargs)
        cls._checks_grads = not cls.__module__.startswith(_OWN_PACKAGES)
        _user_functions = _user_functions or cls._checks_grads

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


def topological_order(root: Node, boundary: frozenset = frozenset(), clear: bool = True) -> list[Node]:
    """The ops (non-leaf nodes needing a gradient) reachable from ``root``, consumers first.

    Why an order at all: in ``y = a * b; z = y + y`` the node ``y`` must hold
    both contributions from ``z`` before it passes its gradient on to ``a`` and
    ``b``. Sorting by descending creation number guarantees that. Each node
    found is marked with a token for this walk (cheaper than a visited set)
    and, when ``clear``, its ``.grad`` is reset for a new pass. Leaves only
    receive gradients, so they are not listed; nor are ``boundary`` nodes,
    where the walk stops, nor, given a boundary, ops that do not lead to it.
    In a Tensor graph each op is also checked for an input whose ``.data``
    was replaced since the op read it (``_replaced``), before any
    gradient is computed.
    """
    token = object()
    root._mark = token
    nodes = [root] if root._fn is not None else []
    found = nodes.append
    versioned, cleared = root._versioned, root._cleared_grad  # one graph, one node type: read once
    for node in nodes:  # the list grows while it is read: each node found is visited once
        if clear:
            node.grad = cleared
        if boundary and node in boundary:
            continue  # it collects its gradient and passes nothing on
        if versioned:  # has an input's .data been replaced since the op read it? (inline: once per op)
            inputs, position = node._inputs, 0
            for parent in node._parents:
                if parent is not None and parent.data is not inputs[position]:
                    _replaced(node, parent, inputs[position])
                position += 1
        for parent in node._parents:
            if (
                parent is not None and parent._fn is not None
                and parent._mark is not token and parent.requires_grad
            ):
                parent._mark = token
                found(parent)
    if boundary:
        nodes = _leading_to(boundary, nodes)
    nodes.sort(key=_order_of, reverse=True)
    return nodes


_order_of = attrgetter("_order")


def _leading_to(boundary: frozenset, nodes: list[Node]) -> list[Node]:
    """The ops with a path to a boundary node: no other op carries gradient there."""
    reaching, kept = set(boundary), []
    for node in sorted(nodes, key=_order_of):  # each op after its inputs
        if node not in boundary and any(parent in reaching for parent in node._parents):
            reaching.add(node)
            kept.append(node)
    return kept


def walk(
    order: list[Node], create_graph: bool, gradient_of: Callable[[Node], Any] | None,
    receive: Callable[[Node, Any, tuple], None],
) -> None:
    """THE backward walk: per op in ``order``, ``receive(node, its gradient, its inputs' gradients)``.

    It writes nothing into the nodes (as tinygrad's ``compute_gradient``): the
    consumer ``receive`` adds each input's gradient up where it keeps them,
    and ``gradient_of(node)`` reads the total back when the walk reaches the
    node (``order`` puts every consumer first). ``backward`` keeps them on
    ``.grad`` (``gradient_of`` None: read ``node.grad``), ``autograd.grad``
    and ``backward_steps`` in a dict. The caller sets grad mode (on with
    ``create_graph``: the formulas then build graph). A callback, not a
    generator: no tuple per node and no generator resume on the Value hot
    path (``backward_steps`` is the generator, built on it). Anomaly mode
    swaps this module-level name for a checking walk (``anomaly.py``): callers
    look ``walk`` up here at each pass.
    """
    for node in order:
        node_grad = node.grad if gradient_of is None else gradient_of(node)
        if node_grad is None:
            continue
        fn = node._fn
        grads = fn.backward(_GraphContext(node) if create_graph else node._ctx or node, node_grad)
        if type(grads) is not tuple:
            grads = tuple(grads) if type(grads) is list else (grads,)
        if _user_functions and fn._checks_grads:  # chaingrad's own Functions are trusted
            _check_grads(node, grads)
        receive(node, node_grad, grads)


def backward_steps(root: Node, grad: Any, create_graph: bool = False) -> Iterator[tuple]:
    """The steps of a backward pass from ``root``, computed aside: nothing is written to a node.

    Yields ``(node, node_grad, [(input, contribution), ...])`` per op, in the
    order backward runs them, each input with what this op adds to its
    gradient (None: nothing). For step-through pictures and ``explain``. An
    op's hooks run as in ``backward`` (its step shows the hooked gradient);
    leaves' hooks do not.
    """
    totals, steps = {root: grad}, []

    def receive(node: Node, node_grad: Any, grads: tuple) -> None:
        _add_into(totals, node._parents, grads, frozenset(), every=True)
        steps.append((node, node_grad, list(zip(node._parents, grads))))  # noqa: B905 (checked in walk)

    previous = _modes.enabled
    grad_mode.set(create_graph)
    try:
        order = topological_order(root, clear=False)
        if hooks.registry and hooks.any_hooks():  # ops' hooks change what flows on, as in backward
            hooks.walk_aside_with_hooks(order, create_graph, totals, (), receive)
        else:
            walk(order, create_graph, totals.get, receive)
    finally:
        grad_mode.set(previous)
    yield from steps


def forward_mode_running() -> bool:
    """True while a jvp runs in this thread (``forward.py`` replaces this function at import)."""
    return False


def backward(
    root: Node, grad: Any, create_graph: bool = False, inputs: tuple[Node, ...] = ()
) -> tuple[Any, ...]:
    """Reverse mode: push ``grad`` from ``root`` to every node that needs one.

    Leaves accumulate into ``.grad`` (a second call adds the same gradient
    again, as PyTorch does). An intermediate's ``.grad`` holds this pass's
    gradient if its type ``retains_grad`` (Value, as in micrograd) and is
    freed once used otherwise (Tensor, as in PyTorch; ``retain_grad()`` keeps
    it). With ``create_graph`` the formulas run on nodes, so the gradients are
    themselves differentiable; a leaf's ``.grad`` then refers to the leaf (a
    reference cycle, as in PyTorch: set it to None when done), an
    intermediate keeps only the value. Given ``inputs`` (``autograd.grad``),
    the pass stops at them, writes no node and returns their gradients (None
    where none arrived). A Tensor graph whose saved data changed in place
    since the forward is refused (``topological_order``, ``_check_written``). One pass runs at a
    time (a lock), so threads sharing leaves add up exactly; a Function's
    backward may run a pass itself, but must not wait for another thread's.
    """
    _driver.acquire()  # acquire and release, not ``with``: half the cost, on every pass
    try:
        if inputs:  # inside a jvp the gradients carry tangents, so they are built as graph (jvp of grad)
            return _gradients_at(root, grad, create_graph or forward_mode_running(), inputs)
        order = topological_order(root)
        if root._versioned:
            _check_written(order)
        if hooks.registry and hooks.any_hooks():  # one look per pass: no hooks, no extra work
            hooks.backward_with_hooks(root, grad, order, create_graph, _run)
        else:
            _run(root, grad, order, create_graph)
        if create_graph:
            _keep_values_only(order)
        return ()
    finally:
        _driver.release()


def _run(
    root: Node, grad: Any, order: list[Node], create_graph: bool,
    gradient_of: Callable[[Node], Any] | None = None, receive: Callable | None = None,
) -> None:
    """The chain rule over ``order``, each gradient added into its node's ``.grad`` (or as hooks say)."""
    if create_graph and not isinstance(grad, Node):
        grad = root.wrap(grad)
    old = root.grad
    root.grad = grad if old is None else old + grad
    if not (create_graph or receive or _user_functions):
        walk(order, False, gradient_of, _add_to_grads)  # chaingrad's formulas on arrays record nothing
        return
    previous = _modes.enabled
    grad_mode.set(create_graph)  # a user's Function or hook may build graph: only with create_graph
    try:
        walk(order, create_graph, gradient_of, receive or _add_to_grads)
    finally:
        grad_mode.set(previous)


def _add_to_grads(node: Node, node_grad: Any, grads: tuple) -> None:
    """``backward``'s consumer: each input's gradient added into its ``.grad`` (leaves: by type)."""
    for parent, parent_grad in zip(node._parents, grads):  # noqa: B905 (checked in walk)
        if parent_grad is not None and parent is not None and parent.requires_grad:
            old = parent.grad
            total = parent_grad if old is None else old + parent_grad
            # A Tensor leaf keeps an array of its own dtype that no one else holds: _own_grad makes one
            # unless it is one already (tested here: a call per leaf costs more than the test). Its shape
            # comes from code that guarantees it (the op table, checked user Functions): not measured again.
            if parent._fn is None and parent._checks_leaf_grad and not (
                type(total) is np.ndarray and total is not node_grad and total.base is None
                and total.dtype is parent.data.dtype
            ):
                total = parent._own_grad(total, total is node_grad)
            parent.grad = total
    if not node.retains_grad:
        node.grad = None


def _gradients_at(root: Node, grad: Any, create_graph: bool, inputs: tuple[Node, ...]) -> tuple[Any, ...]:
    """``autograd.grad``: the gradients of ``root`` at ``inputs``, kept aside (no ``.grad`` written)."""
    boundary = frozenset(inputs)
    order = topological_order(root, boundary, clear=False)
    if root._versioned:
        _check_written(order)
    if create_graph and not isinstance(grad, Node):
        grad = root.wrap(grad)
    totals = {root: grad} if root._fn is not None or root in boundary else {}

    def receive(node: Node, node_grad: Any, grads: tuple) -> None:
        _add_into(totals, node._parents, grads, boundary)

    previous = _modes.enabled
    grad_mode.set(create_graph)
    try:
        if hooks.registry and hooks.any_hooks():
            hooks.walk_aside_with_hooks(order, create_graph, totals, inputs, receive)
        else:
            walk(order, create_graph, totals.get, receive)
    finally:
        grad_mode.set(previous)
    found = [totals.get(x) for x in inputs]
    return tuple(
        x._own_grad(g, True) if g is not None and x._checks_leaf_grad and x._fn is None else g
        for x, g in zip(inputs, found)  # noqa: B905 (same length)
    )


def _add_into(totals: dict, parents: tuple, grads: tuple, boundary: frozenset, every: bool = False) -> None:
    """Add each input's gradient into ``totals``: ops' and boundary nodes' only, unless ``every``."""
    for parent, parent_grad in zip(parents, grads):  # noqa: B905 (checked in walk)
        if (
            parent_grad is not None and parent is not None and parent.requires_grad
            and (every or parent._fn is not None or parent in boundary)
        ):
            old = totals.get(parent)
            totals[parent] = parent_grad if old is None else old + parent_grad


def _keep_values_only(order: list[Node]) -> None:
    """After ``create_graph``: intermediates keep their gradient's value, not its graph.

    A gradient graph refers to the nodes it was computed from, so an
    intermediate holding it would be a reference cycle the cycle collector
    must find (hundreds of MB between its runs).
    """
    for node in order:
        grad = node.grad
        if isinstance(grad, Node):
            node.grad = node.wrap(grad.data)


def _check_grads(node: Node, grads: tuple) -> None:
    """A custom Function's gradients: one per input, each of its input's shape."""
    fn, parents = node._fn, node._parents
    if len(grads) != len(parents):
        raise ValueError(
            f"{fn.__name__}.backward returned {len(grads)} gradients for {len(parents)} inputs: "
            f"return one per input of forward, None for an input that needs none"
        )
    for position, (parent, grad) in enumerate(zip(parents, grads, strict=True)):
        if grad is None or parent is None:
            continue
        dtype = np.asarray(grad.data if isinstance(grad, Node) else grad).dtype
        if dtype.kind not in "biuf":
            raise TypeError(
                f"{fn.__name__}.backward returned a gradient of type {type(grad).__name__} (dtype "
                f"{dtype}) for input {position}: return real numbers (a complex gradient's imaginary "
                f"part would be dropped silently)"
            )
        shape = getattr(grad, "shape", None)
        expected = getattr(parent.data, "shape", None)
        if shape is not None and expected is not None and shape != expected:
            raise ValueError(
                f"{fn.__name__}.backward returned a gradient of shape {shape} for input "
                f"{position}, which has shape {expected}: return each input's gradient in that "
                f"input's shape (sum a broadcast gradient back)"
            )


def _replaced(node: Node, parent: Node, data: Any) -> None:
    """Refuse an op whose input ``parent`` got new ``.data`` after the op read ``data``, if it saved ``data``.

    Backward would mix the old values the op saved with the new ones
    (PyTorch's version check); ``topological_order`` looks for such inputs.
    """
    if _uses(node._ctx, data):
        _refuse(node, parent, "its .data was replaced (t.data = array)")


def _check_written(order: list[Node]) -> None:
    """Refuse a pass whose ops saved data that was written in place since (PyTorch's version check).

    An op's saved array that shares memory with a node written in place
    after the op was made (``t[i] = x``, an optimizer step: ``note_write``)
    would mix old and new values into the gradient. Looked at only when a
    write came after the oldest op of the graph (``last_write``), which a
    training step's graph, made after the optimizer's last step, never has.
    """
    if not order or last_write < order[-1]._order:
        return
    oldest = order[-1]._order
    written = {p for node in order for p in (node, *node._parents) if p is not None and p._version > oldest}
    for node in order:
        for changed in written:
            if changed._version > node._order and _uses(node._ctx, changed.data):
                _refuse(node, changed, "it was written in place (t[...] = x, an optimizer step)")


def _position(node: Node, parent: Node) -> int | None:
    """Which input of ``node`` is ``parent`` (by identity: Tensor's == is elementwise)."""
    return next((i for i, p in enumerate(node._parents) if p is parent), None)


def _uses(ctx: Any, array: Any) -> bool:
    """Whether ``ctx`` saved ``array`` or a view of its memory for backward."""
    attributes = (v for k, v in vars(ctx).items() if k != "saved_tensors")
    return any(item is array or _overlap(item, array) for item in (*ctx.saved_tensors, *attributes))


def _overlap(a: Any, b: Any) -> bool:
    """Whether two arrays share memory (True when NumPy finds it too hard to tell)."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.may_share_memory(a, b)):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10_000))
    except np.exceptions.TooHardError:
        return True


def _refuse(node: Node, changed: Node, how: str) -> None:
    position = _position(node, changed)
    label = f" (label {node.label!r})" if getattr(node, "label", "") else ""
    kind = "leaf tensor" if changed._fn is None else f"result of {changed._fn.__name__}"
    shape = changed.data.shape
    what = (
        f"its output (shape {shape})" if changed is node
        else f"input {position} (a {kind} of shape {shape})" if position is not None
        else f"a view of a {kind} of shape {shape}"
    )
    raise RuntimeError(
        f"backward: {node._fn.__name__}{label} saved {what} for its gradient, and {how} after "
        f"the op was recorded, so the gradient would mix old and new values. Call backward() "
        f"before changing the tensor (e.g. before opt.step()), or run the forward again after it."
    )
