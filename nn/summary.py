"""``nn.summary``: a model as a table of layers, as Keras's ``model.summary()`` and torchinfo show it.

One forward pass of an example input (in eval mode) gives each layer's output
shape; parameters are counted where they are registered, each shared one
once, so the column adds up to the total. The pass also records a graph, and
its node count is the figure that explains why a scalar engine is slow: one
node per multiply-add, where a Tensor network records one per layer.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, Value, enable_grad
from autograd.graph import Node

from .module import Module
from .training import evaluation, model_dtype


class Row(NamedTuple):
    """One module of the table: ``params`` counts those registered on it (or, folded, below it)."""

    name: str
    type: str
    depth: int
    output_shape: str
    params: int
    trainable: str  # "yes", "no", "partly", or "--" without parameters


class Summary(NamedTuple):
    """What ``summary`` found; ``str()`` is the table."""

    rows: list[Row]
    total_params: int
    trainable_params: int
    param_bytes: int
    trainable_bytes: int
    graph_nodes: int

    def __str__(self) -> str:
        return table(self)

    def __repr__(self) -> str:
        return (f"Summary(layers={len(self.rows) - 1}, total_params={self.total_params}, "
                f"trainable_params={self.trainable_params}, graph_nodes={self.graph_nodes})")


def summary(model: Module, input: Any, depth: int | None = 1,
            print_fn: Callable[[str], Any] | None = print) -> Summary:
    """Print and return the layer table of ``model`` run on ``input``.

    ``input`` is an example input (array, Tensor, or a list of numbers or
    Values for an ``nn.scalar`` network) or a tuple of ints: the shape of one
    (batch axis included for Tensor networks; the input length for scalar
    ones), filled with uniform numbers in [0, 1). ``depth`` is how many levels
    of sub-modules get their own rows (None: all); deeper ones are folded into
    their ancestor's row. The model's weights, modes and random generator are
    left as they were.
    """
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be >= 0 or None, got {depth}")
    shown = list(walk(model, depth))
    with recording([module for _, module, _ in shown]) as outputs, evaluation(model), enable_grad():
        result = model(example(model, input))
    rows = []
    for (name, module, level), params in zip(shown, owned_parameters(model, shown), strict=True):
        rows.append(Row(name or type(module).__name__, type(module).__name__, level,
                        shape_of(outputs.get(id(module))), sum(map(size, params)), trainable(params)))
    params = model.parameters()
    learned = [p for p in params if p.requires_grad]
    made = Summary(rows, sum(map(size, params)), sum(map(size, learned)), sum(map(nbytes, params)),
                   sum(map(nbytes, learned)), count_ops(result))
    if print_fn is not None:
        print_fn(str(made))
    return made


def walk(model: Module, depth: int | None) -> Iterator[tuple[str, Module, int]]:
    """(dotted name, module, level) of the model (level 0) and its sub-modules down to ``depth``.

    A module registered twice is listed once, under its first name (as PyTorch's ``named_modules``).
    """
    seen: set[int] = set()

    def visit(prefix: str, module: Module, level: int) -> Iterator[tuple[str, Module, int]]:
        yield prefix, module, level
        if depth is not None and level >= depth:  # folded: its sub-modules are in its row
            seen.update(id(m) for m in module.modules())
            return
        seen.add(id(module))
        for name, child in module.named_children():
            if id(child) not in seen:
                yield from visit(f"{prefix}.{name}" if prefix else name, child, level + 1)

    return visit("", model, 0)


def owned_parameters(model: Module, shown: list[tuple[str, Module, int]]) -> list[list[Any]]:
    """Per shown row, the parameters it counts: its own and those of folded sub-modules, each once."""
    index = {id(module): i for i, (_, module, _) in enumerate(shown)}
    owned: list[list[Any]] = [[] for _ in shown]
    seen: set[int] = set()

    def visit(module: Module, row: int) -> None:
        row = index.get(id(module), row)
        below = {id(p) for child in module.children() for p in child.parameters()}
        for p in module.parameters():
            if id(p) not in below and id(p) not in seen:
                seen.add(id(p))
                owned[row].append(p)
        for child in module.children():
            visit(child, row)

    visit(model, 0)
    return owned


@contextmanager
def recording(modules: Sequence[Module]) -> Iterator[dict[int, Any]]:
    """Inside the block, each module's first output is kept in the dict (by ``id``).

    A forward hook per module records it; the hooks (and the hook tables they
    added to the instances) are removed after, whatever happens.
    """
    outputs: dict[int, Any] = {}

    def keep(module: Module, args: Any, output: Any) -> None:
        outputs.setdefault(id(module), output)

    with ExitStack() as stack:
        for module in modules:
            stack.callback(forget_new_attributes, module, dict(vars(module)))
            stack.callback(module.register_forward_hook(keep).remove)
        yield outputs


def forget_new_attributes(module: Module, before: dict[str, Any]) -> None:
    """Drop what registering a hook added to the instance (a hook table), so it runs as before."""
    for name in set(vars(module)) - set(before):
        object.__delattr__(module, name)
    if "_hooks" in before:  # the table a hook made in place of the instance's None
        object.__setattr__(module, "_hooks", before["_hooks"])


def example(model: Module, input: Any) -> Any:
    """The input to run: as given, or made from a shape tuple (without touching nn's generator)."""
    if not (isinstance(input, tuple) and all(isinstance(n, (int, np.integer)) for n in input)):
        return input
    numbers = np.random.default_rng(0).random(input)
    if any(isinstance(p, Value) for p in model.parameters()):  # a scalar net is called on a list of floats
        return numbers.tolist()
    return Tensor(numbers.astype(model_dtype(model)))


def shape_of(output: Any) -> str:
    """``(1, 64)`` for an array, ``()`` for a Value, per item for a tuple; ``--`` if never called."""
    if output is None:
        return "--"
    if isinstance(output, Node):
        return str(np.shape(output.data))
    if isinstance(output, list) and all(isinstance(x, Value) for x in output):  # a scalar layer's output
        return f"({len(output)},)"
    if isinstance(output, (tuple, list)):
        return "[" + ", ".join(shape_of(x) for x in output) + "]"
    shape = getattr(output, "shape", None)
    return str(tuple(shape)) if shape is not None else type(output).__name__


def size(p: Any) -> int:
    return int(np.size(p.data))


def nbytes(p: Any) -> int:
    """Bytes of a parameter's numbers (a Value holds one float64)."""
    return int(np.asarray(p.data).nbytes)


def trainable(params: list[Any]) -> str:
    flags = {bool(p.requires_grad) for p in params}
    return "--" if not flags else "partly" if len(flags) == 2 else "yes" if flags == {True} else "no"


def count_ops(output: Any) -> int:
    """How many op nodes the forward recorded: those reachable from the output(s), each once."""
    stack = [x for x in (output if isinstance(output, (list, tuple)) else [output]) if hasattr(x, "_fn")]
    seen = {id(x) for x in stack}
    ops = 0
    while stack:
        node = stack.pop()
        if node._fn is not None:
            ops += 1
            for parent in node._parents:
                if parent is not None and id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
    return ops


# --------------------------------------------------------------------- table


def table(made: Summary) -> str:
    """The rows and totals as text, columns sized to their contents."""
    head = ("Layer (type)", "Output shape", "Param #", "Trainable")
    body = [(layer_name(row), row.output_shape, f"{row.params:,}" if row.params else "--", row.trainable)
            for row in made.rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(4)]
    rule = "=" * (sum(widths) + 3 * 3)
    frozen, frozen_bytes = made.total_params - made.trainable_params, made.param_bytes - made.trainable_bytes
    totals = [
        f"Total params: {made.total_params:,} ({human_bytes(made.param_bytes)})",
        f"Trainable params: {made.trainable_params:,} ({human_bytes(made.trainable_bytes)})",
        f"Non-trainable params: {frozen:,} ({human_bytes(frozen_bytes)})",
        f"Graph nodes recorded by one forward pass: {made.graph_nodes:,}",
    ]
    return "\n".join([rule, format_line(head, widths), rule, *(format_line(line, widths) for line in body),
                      rule, *totals, rule])


def layer_name(row: Row) -> str:
    """The model's type on the first row; below it, each module's dotted name and type, indented by depth."""
    return row.type if row.depth == 0 else "  " * (row.depth - 1) + f"{row.name} ({row.type})"


def format_line(cells: Sequence[str], widths: list[int]) -> str:
    name, shape, params, flag = cells
    return f"{name:<{widths[0]}}   {shape:<{widths[1]}}   {params:>{widths[2]}}   {flag:>{widths[3]}}"


def human_bytes(count: float) -> str:
    """1,234,567 -> '1.18 MB' (powers of 1024, as Keras)."""
    units = ["B", "KB", "MB", "GB"]
    while count >= 1024 and len(units) > 1:
        count /= 1024
        units.pop(0)
    return f"{count:.2f} {units[0]}"
