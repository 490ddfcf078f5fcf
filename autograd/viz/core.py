"""What every picture needs: a read-only walk, names, numbers and gradient health.

Drawing must not change anything, so the walk here only reads ``_parents``
(``graph.topological_order`` resets intermediate gradients as it goes, and
marks nodes). The rest turns nodes into short text: names, numbers to 4
significant digits, a gradient's magnitude and whether it vanished or exploded.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from operator import attrgetter
from typing import Any

import numpy as np

from ..graph import Node

VANISHING = 1e-7  # a gradient this small relative to the largest one in view has vanished
EXPLODING = 1e6  # a gradient magnitude above this (or nan/inf) has exploded


def graph_nodes(root: Node) -> list[Node]:
    """Every node reachable from ``root``, constants included, consumers first.

    Read-only: no ``_mark``, no ``.grad`` reset. The order is the engine's own
    invariant (a node is created after its inputs, so descending ``_order`` is
    a reverse topological order; see ``graph.topological_order``).
    """
    if not isinstance(root, Node):
        raise TypeError(f"expected a Value or a Tensor, got {type(root).__name__}")
    seen = {id(root): root}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent is not None and id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=attrgetter("_order"), reverse=True)


def fmt(x: Any) -> str:
    """A number in 4 significant digits, scientific when needed: 0.1235, 1235, 1.235e5, 1e-8."""
    x = float(x)
    if x == 0.0:
        return "0"
    text = f"{x:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def is_constant(node: Node) -> bool:
    """True for inputs that need no gradient (a Tensor with ``requires_grad=False``)."""
    return not node.requires_grad


def parameter_names(params: Any) -> dict[int, str]:
    """``{id(parameter): name}`` from ``params``: a dict of name -> parameter
    (``dict(model.named_parameters())``) or the model itself."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters") and not isinstance(params, dict):
        params = dict(params.named_parameters())
    if not isinstance(params, dict):
        raise TypeError(f"params must be a model or a dict of name -> parameter, got {type(params).__name__}")
    for name, param in params.items():
        if not isinstance(param, Node):
            raise TypeError(f"params[{name!r}] is a {type(param).__name__}, not a Value or Tensor")
    return {id(param): name for name, param in params.items()}


def module_titles(params: Any) -> dict[str, str]:
    """``{module name: "0: Linear(2→16)"}`` for a model; for a dict of parameters,
    the name and its parameter count ("0: 48 parameters")."""
    if params is None:
        return {}
    if hasattr(params, "named_modules") and not isinstance(params, dict):
        return {name: f"{name}: {layer_title(module)}" for name, module in params.named_modules() if name}
    counts: dict[str, int] = {}
    for name, param in params.items():
        parts = name.split(".")
        for end in range(1, len(parts)):
            module = ".".join(parts[:end])
            counts[module] = counts.get(module, 0) + int(np.size(param.data))
    return {module: f"{module}: {count:,} parameters" for module, count in counts.items()}


def layer_title(module: Any) -> str:
    """"Linear(2→16)" for a layer with in/out features, else "Neuron(2, relu)" from ``extra_repr``."""
    kind = type(module).__name__
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return f"{kind}({module.in_features}→{module.out_features})"
    extra = module.extra_repr() if hasattr(module, "extra_repr") else ""
    return f"{kind}({extra})" if extra else kind


def node_names(nodes: list[Node], param_names: dict[int, str]) -> dict[int, str]:
    """A short name per node: parameter name, else label, else by role in creation
    order: ``in1 in2 ...`` for leaves, ``v1 v2 ...`` for Value ops, ``t1 t2 ...`` for
    Tensor ops; a generated name never repeats a label in the graph."""
    taken = {getattr(node, "label", "") for node in nodes} | set(param_names.values())
    names, counts = {}, Counter()
    for node in reversed(nodes):
        name = param_names.get(id(node)) or getattr(node, "label", "")
        while not name or (name in taken and id(node) not in param_names and not getattr(node, "label", "")):
            role = "in" if node._fn is None else "v" if isinstance(node.data, float) else "t"
            counts[role] += 1
            name = f"{role}{counts[role]}"
        names[id(node)] = name
    return names


def raw(x: Any) -> Any:
    """The number or array inside a gradient (a node under ``create_graph=True``)."""
    return x.data if isinstance(x, Node) else x


def magnitude(grad: Any) -> float | None:
    """|g| for a number, the L2 norm for an array, None when there is no gradient."""
    grad = raw(grad)
    if grad is None:
        return None
    if isinstance(grad, (int, float)):
        return abs(float(grad))
    array = np.asarray(grad, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sqrt(np.sum(array * array)))


def health(size: float, largest: float, vanishing: float = VANISHING, exploding: float = EXPLODING) -> str:
    """"exploding" (nan/inf or > ``exploding``), "vanishing" (<= ``vanishing`` x ``largest``) or "ok"."""
    if not math.isfinite(size) or size > exploding:
        return "exploding"
    if size <= vanishing * largest or size == 0.0:
        return "vanishing"
    return "ok"


def summary(data: Any) -> str:
    """A number as itself, an array as its shape and dtype."""
    data = raw(data)
    if isinstance(data, float):
        return fmt(data)
    array = np.asarray(data)
    if array.size == 1:
        return f"{fmt(array.item())}, {_shape(array)} {array.dtype}"
    return f"{_shape(array)} {array.dtype}"


def grad_summary(grad: Any) -> str:
    """A gradient in a few characters: the number, or the norm of an array."""
    grad = raw(grad)
    if grad is None:
        return "none"
    if isinstance(grad, (int, float)) or np.size(grad) == 1:
        return fmt(np.asarray(grad).item())
    return f"‖g‖ {fmt(magnitude(grad))}"


def _shape(array: np.ndarray) -> str:
    return str(tuple(array.shape))


INFIX = frozenset({"+", "-", "*", "/", "@", "**"})


@functools.cache
def derivative_rules(fn: type) -> tuple[str, list[str]]:
    """An op's formula and per-input derivative rules, from the op table's data.

    Its ``rule`` (one text per input) names the inputs a, b, c ... by position
    and its ``name()`` gives the formula: Mul -> ``("a * b", ["da = g * b",
    "db = g * a"])``. A Function without ``rule`` (a user's op) gives its
    docstring's first line, as written, or its name, and no rules; the
    docstring is shown, never parsed.
    """
    if not fn.rule:
        return (fn.__doc__ or fn.name()).strip().splitlines()[0].strip(), []
    letters = [chr(ord("a") + k) for k in range(len(fn.rule))]
    symbol = fn.name()
    if symbol in INFIX:
        formula = f"a {symbol} b" if len(letters) == 2 else f"a {symbol} n"
    else:
        formula = f"{symbol}({', '.join(letters)})"
    return formula, [f"d{letter} = {text or 'none'}" for letter, text in zip(letters, fn.rule, strict=True)]
