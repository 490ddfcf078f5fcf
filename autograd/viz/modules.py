"""Which module each node belongs to, and how a big graph collapses into summaries.

The rule (from the dotted names of ``model.named_parameters()``):
- a parameter belongs to its name's module: "0.weight" -> "0",
  "layers.1.neurons.2.w.0" -> "layers.1.neurons.2" (trailing list indices and
  the attribute name are dropped); a name without a module ("w") has none;
- an op belongs to module M when it lies on a path from a parameter of M to an
  op that consumes a parameter of M (so ``x @ W.T + b`` is all inside M, while
  an activation after the last such op, or the loss, is outside).
Boxes nest by name: "encoder.fc" is drawn inside "encoder"; list containers
("layers" in "layers.0") get no box of their own.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..graph import Node

_EMPTY: frozenset = frozenset()


def module_of_parameter(name: str) -> str:
    """The module part of a dotted parameter name; "" for a top-level parameter."""
    parts = name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def box_chain(module: str) -> list[str]:
    """The boxes a module is drawn in, outermost first: "layers.0.neurons.1" ->
    ["layers.0", "layers.0.neurons.1"] (a prefix followed by an index is a list, not a box)."""
    parts = module.split(".") if module else []
    return [
        ".".join(parts[: i + 1])
        for i in range(len(parts))
        if i == len(parts) - 1 or not parts[i + 1].isdigit()
    ]


def assign_modules(nodes: list[Node], param_names: dict[int, str]) -> dict[int, str]:
    """``{id(node): module}`` for parameters and the ops inside a module (rule above).

    ``nodes`` come consumers first. One pass in creation order collects the
    modules each node descends from (``below``), one pass the other way the
    modules whose parameter-consuming ops it feeds (``above``); a module in
    both sets has the node on one of its paths.
    """
    own = {key: module_of_parameter(name) for key, name in param_names.items()}
    own = {key: module for key, module in own.items() if module}
    if not own:
        return {}
    consumes = {}
    for node in nodes:
        modules = {own[id(p)] for p in node._parents if p is not None and id(p) in own}
        if modules:
            consumes[id(node)] = frozenset(modules)
    below: dict[int, frozenset] = {}
    for node in reversed(nodes):
        found = _union(below.get(id(p), _EMPTY) for p in node._parents if p is not None)
        below[id(node)] = found | {own[id(node)]} if id(node) in own else found
    above: dict[int, frozenset] = {}
    for node in nodes:
        mine = above.get(id(node), _EMPTY) | consumes.get(id(node), _EMPTY)
        above[id(node)] = mine
        for parent in node._parents:
            if parent is not None and not mine <= above.get(id(parent), _EMPTY):
                above[id(parent)] = above.get(id(parent), _EMPTY) | mine
    modules = dict(own)
    for node in nodes:
        if node._fn is not None:
            both = below[id(node)] & above[id(node)]
            if both:
                modules[id(node)] = min(both)
    return modules


def infer_modules(nodes: list[Node]) -> tuple[dict[int, str], dict[str, str]]:
    """Modules for a graph drawn without ``params``: ``({id(node): "layer1.unit3"}, titles)``.

    A unit is the ops that read the same trainable leaves (a neuron's weights,
    read once per sample) with those leaves; its layer is one more than the
    deepest unit feeding it. So a scalar MLP still folds per neuron and per layer.
    """
    parent_of: dict[int, int] = {}

    def find(key: int) -> int:
        while parent_of.get(key, key) != key:
            key = parent_of[key]
        return key

    readers: dict[int, int] = {}  # trainable leaf -> the first op reading it
    for node in nodes:
        if node._fn is None:
            continue
        for parent in node._parents:
            if parent is not None and parent._fn is None and parent.requires_grad:
                first, mine = find(readers.setdefault(id(parent), id(node))), find(id(node))
                if first != mine:
                    parent_of[mine] = first
    leaves = Counter(find(op) for op in readers.values())
    units = {}  # op -> its unit: ops sharing trainable leaves, at least two leaves (weights and a bias)
    for node in nodes:
        if node._fn is not None and leaves[find(id(node))] >= 2:
            units[id(node)] = find(id(node))
    layer: dict[int, int] = {}
    reach: dict[int, int] = {}
    for node in reversed(nodes):  # creation order
        depth = max((reach.get(id(p), 0) for p in node._parents if p is not None), default=0)
        if id(node) in units:
            root = units[id(node)]
            layer[root] = max(layer.get(root, 0), depth + 1)
            depth = layer[root]
        reach[id(node)] = depth
    numbers: dict[int, str] = {}
    per_layer: Counter = Counter()
    for node in reversed(nodes):
        root = units.get(id(node))
        if root is not None and root not in numbers:
            numbers[root] = f"layer{layer[root]}.unit{per_layer[layer[root]]}"
            per_layer[layer[root]] += 1
    modules = {key: numbers[root] for key, root in units.items()}
    for leaf, op in readers.items():
        if find(op) in numbers:
            modules[leaf] = numbers[find(op)]
    titles = {f"layer{depth}": f"layer {depth} ({count} unit{'s' if count != 1 else ''}, "
                               "found by shared weights)" for depth, count in per_layer.items()}
    return modules, titles


def _union(sets) -> frozenset:
    """The union of frozensets, sharing the object when there is only one distinct set."""
    result = _EMPTY
    for s in sets:
        if not s <= result:
            result = s if not result else result | s
    return result


@dataclass
class Collapse:
    """Where each collapsed node went (``group[id(node)]``) and the note that says so."""

    group: dict[int, str] = field(default_factory=dict)
    note: str | None = None


REST = "rest of the graph"
KEEP_NEAR_OUTPUT = 5  # at least this many nodes near the output stay when the rest collapses


def plan_collapse(nodes: list[Node], modules: dict[int, str], budget: int, min_level: int = 1) -> Collapse:
    """Collapse until the picture has at most ``budget`` values (an op's node rides with its output).

    First modules, at the deepest box level that fits; if none does, the
    nodes outside modules too, keeping the few nearest the output (the loss
    of a batch of samples would otherwise crowd the network out). Leaves and
    ops that belong with one group join it (``_absorb``). Box levels above
    ``min_level`` are not tried (a module's own view folds only what is inside it).
    """
    cost = dict.fromkeys(map(id, nodes), 1)
    if sum(cost.values()) <= budget:
        return Collapse()
    chains = {key: box_chain(module) for key, module in modules.items()}
    depth = max(map(len, chains.values()), default=0)
    levels = [(level, _absorb(nodes, {key: chain[:level][-1] for key, chain in chains.items()}))
              for level in range(depth, min_level - 1, -1)]
    for level, group in levels:
        if _picture_size(nodes, cost, group) <= budget:
            return Collapse(group, _note(nodes, group, f"module (box level {level})"))
    fitting = [group for _, group in levels if len(set(group.values())) + 1 + KEEP_NEAR_OUTPUT <= budget]
    group = fitting[0] if fitting else {}
    room = min(budget - len(set(group.values())) - 1, max(KEEP_NEAR_OUTPUT, budget // 5))
    for node in nodes:
        if id(node) not in group:
            if cost[id(node)] <= room:
                room -= cost[id(node)]
            else:
                room = 0
                group[id(node)] = REST
    return Collapse(group, _note(nodes, group, "module, then the nodes farthest from the output"))


def _absorb(nodes: list[Node], group: dict[int, str]) -> dict[int, str]:
    """Small things join the group they belong with: a leaf read only by one group
    (an input wrapped for a neuron), an op fed only by one group (its activation)."""
    readers: dict[int, set] = defaultdict(set)
    for node in nodes:
        for parent in node._parents:
            if parent is not None:
                readers[id(parent)].add(group.get(id(node)))
    for node in nodes:
        found = readers[id(node)]
        if node._fn is None and id(node) not in group and len(found) == 1 and None not in found:
            group[id(node)] = next(iter(found))
    for node in reversed(nodes):
        if node._fn is not None and id(node) not in group:
            sources = {group.get(id(p)) for p in node._parents if p is not None}
            if len(sources) == 1 and None not in sources:
                group[id(node)] = sources.pop()
    return group


def _picture_size(nodes: list[Node], cost: dict[int, int], group: dict[int, str]) -> int:
    return sum(cost[id(n)] for n in nodes if id(n) not in group) + len(set(group.values()))


def _note(nodes: list[Node], group: dict[int, str], how: str) -> str:
    sizes = Counter(group.values())
    listed = ", ".join(f"{name} ({count})" for name, count in sizes.most_common(6))
    more = f" and {len(sizes) - 6} more" if len(sizes) > 6 else ""
    return (
        f"{len(group):,} of {len(nodes):,} values collapsed by {how} into {len(sizes)} "
        f"summary node{'s' if len(sizes) != 1 else ''}: {listed}{more}"
    )
