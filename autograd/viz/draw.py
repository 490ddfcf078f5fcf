"""draw_dot: a graphviz picture of the graph behind a Value or a Tensor, and save().

One record per value (name | data | grad), one small node per op, edges in
the direction data flows (micrograd's picture). Parameters named by
``params`` sit in boxes per module; ``color_by_grad`` paints gradient
magnitudes on a log scale; ``max_nodes`` collapses what does not fit. The
backward frames reuse the same painter with their own gradients (``Overlay``).
"""
from __future__ import annotations

import math
import os
import re
import textwrap
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .. import functions as ops
from ..graph import Node
from ..hooks import hook_names
from .core import (
    EXPLODING,
    VANISHING,
    fmt,
    grad_summary,
    graph_nodes,
    health,
    is_constant,
    magnitude,
    module_titles,
    node_names,
    parameter_names,
    summary,
)
from .modules import REST, Collapse, assign_modules, box_chain, infer_modules, plan_collapse
from .render import Digraph, render
from .render import GraphvizNotInstalled as GraphvizNotInstalled

DEFAULT_MAX_NODES = 150  # values (records); dot lays out ~300 nodes in about a second
EDGES_PER_NODE = 3  # a collapsed picture draws at most this many edges per value it may show
MIN_MAX_NODES = 8
LABELLED_MERGED_EDGES = 40
RANKDIRS = ("LR", "TB", "RL", "BT")
FILE_FORMATS = ("svg", "png", "pdf")
# A sequential colour scale from small to large gradients (ColorBrewer YlGnBu).
SCALE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")
VANISHING_STYLE = {"fillcolor": "#d9d9d9", "style": "filled,dashed", "color": "#636363"}
EXPLODING_STYLE = {"fillcolor": "#e31a1c", "fontcolor": "white", "color": "#67000d", "penwidth": "3"}
FOCUS, RECEIVER = "#d62728", "#ff7f0e"
HOOKED = {"color": "#7b3294", "penwidth": "2.5"}  # a node with gradient hooks


@dataclass
class Overlay:
    """What a backward frame changes in a picture: its own gradients (missing = not
    reached yet), the node visited, the nodes it sends to, notes on edges."""

    grads: dict[int, Any]
    focus: Node | None = None
    receivers: set = field(default_factory=set)
    edge_notes: dict = field(default_factory=dict)  # (id(consumer), input index) -> text
    caption: str = ""


def draw_dot(
    root: Node,
    format: str = "svg",
    rankdir: str = "LR",
    show_grad: bool = True,
    params: dict | None = None,
    color_by_grad: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    highlight: Node | None = None,
) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` of the graph behind ``root`` (no ``dot`` needed to build it).

    ``params`` maps names to parameters (``dict(model.named_parameters())``):
    they are labelled, and each module's nodes are boxed (the rule: see
    ``autograd/viz/modules.py``; "0.weight" is in box "0"); pass the model
    itself to label the boxes with their layers ("0: Linear(2→16)"). ``color_by_grad``
    colours nodes and edges by |grad| on a log scale and marks vanishing and
    exploding gradients, with a legend. Beyond ``max_nodes`` values (op nodes
    ride along) the farthest parts collapse into summary nodes, with a note
    saying what was collapsed, and edges are capped at 3 per value too.
    ``highlight`` marks one node (e.g. the one anomaly mode flagged) and its
    path to the root. Drawing reads the graph only: no value or gradient changes.
    """
    check_options(rankdir, max_nodes)
    if format not in graphviz.FORMATS:
        raise ValueError(f"format {format!r} is not a graphviz output format")
    painter = Painter(root, rankdir, show_grad, params, color_by_grad, max_nodes, highlight=highlight)
    return painter.paint(Digraph(name="graph", format=format))


def check_options(rankdir: str, max_nodes: int) -> None:
    """A clear error for a layout direction or node budget that cannot work."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < MIN_MAX_NODES:
        raise ValueError(f"max_nodes must be an int >= {MIN_MAX_NODES}, got {max_nodes!r}")


def save(graph_or_root: graphviz.Digraph | Node, path: str | Path, **draw_options: Any) -> Path:
    """Write the picture to ``path`` in one call; the format is the suffix (svg, png, pdf).

    Given a Value or Tensor, draws it first with ``draw_options`` (``draw_dot``'s).
    Renders with Graphviz's ``dot`` or, without it, graphviz-pure (no pdf: see
    ``autograd/viz/render.py``). The file appears whole or not at all: the
    picture goes to a temporary file in the same folder, then replaces ``path``.
    """
    path = Path(path)
    file_format = path.suffix.lstrip(".").lower()
    if file_format not in FILE_FORMATS:
        raise ValueError(f"cannot tell the format from {path.name!r}: use a suffix among {FILE_FORMATS}")
    graph = graph_or_root
    if not isinstance(graph, graphviz.Digraph):
        graph = draw_dot(graph_or_root, **draw_options)
    picture = pipe(graph, file_format)
    partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        partial.write_bytes(picture)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def pipe(graph: graphviz.Digraph, file_format: str) -> bytes:
    """The rendered picture as bytes, through ``dot`` or graphviz-pure; ``GraphvizNotInstalled``
    (saying what to install) when neither is there, or for a pdf without ``dot``."""
    return render(graph.source, file_format, graph.engine, graph.encoding)


class Painter:
    """Turns the nodes behind a root into graphviz statements (see ``draw_dot``)."""

    def __init__(
        self, root: Node, rankdir: str, show_grad: bool, params: dict | None,
        color_by_grad: bool, max_nodes: int, overlay: Overlay | None = None, highlight: Node | None = None,
    ) -> None:
        self.rankdir, self.show_grad, self.max_nodes, self.overlay = rankdir, show_grad, max_nodes, overlay
        self.nodes = graph_nodes(root)
        self.keys = {id(node): f"n{index}" for index, node in enumerate(self.nodes)}  # stable ids, root n0
        self.param_names = parameter_names(params)
        self.titles = module_titles(params)
        self.names = node_names(self.nodes, self.param_names)
        self.modules = assign_modules(self.nodes, self.param_names)
        if isinstance(params, dict):  # no layer types: say which ops each module runs
            self.titles = op_titles(self.nodes, self.modules, self.titles)
        self.marked = path_to_root(self.nodes, highlight) if highlight is not None else set()
        self.highlight = highlight
        self.scale = Scale([magnitude(self.grad(n)) for n in self.nodes]) if color_by_grad else None
        self.boxes: dict[str, list] = defaultdict(list)  # box path ("" = none) -> node statements
        self.collapse = self.plan(max_nodes - 1)  # room for the note

    def plan(self, budget: int) -> Collapse:
        """What to collapse so that at most ``budget`` values and ``EDGES_PER_NODE`` times as many
        edges are drawn. Without ``params`` over budget, units found by shared weights stand in
        for modules (``infer_modules``)."""
        if len(self.nodes) > budget and not self.modules:
            self.modules, titles = infer_modules(self.nodes)
            self.titles = {**titles, **self.titles}
        collapse = plan_collapse(self.nodes, self.modules, budget)
        while collapse.group and budget > MIN_MAX_NODES:
            self.collapse = collapse
            if len(self.edges()) <= EDGES_PER_NODE * self.max_nodes:
                break
            budget = max(MIN_MAX_NODES, budget * 2 // 3)
            collapse = plan_collapse(self.nodes, self.modules, budget)
        return collapse

    def grad(self, node: Node) -> Any:
        """The gradient to show: the node's, or the frame's own bookkeeping."""
        if self.overlay is None:
            return node.grad
        return self.overlay.grads.get(id(node))

    def paint(self, dot: graphviz.Digraph) -> graphviz.Digraph:
        """Add every statement to ``dot``: records and ops in their boxes, edges, note, legend."""
        dot.attr(rankdir=self.rankdir, fontname="Helvetica", newrank="true")
        dot.attr("node", fontname="Helvetica", fontsize="11")
        dot.attr("edge", arrowsize="0.7", fontname="Helvetica")
        for node in self.nodes:
            if id(node) not in self.collapse.group:
                self.value_node(node)
        self.group_nodes()
        for tail, head, attrs in self.edges():
            dot.edge(tail, head, id=f"e:{self.stable(tail)}->{self.stable(head)}", **attrs)
        emit_boxes(dot, self.boxes, self.titles)
        if self.collapse.note:
            note = f"{self.collapse.note} (max_nodes={self.max_nodes})"
            dot.node("collapsed-note", "\\n".join(textwrap.wrap(note, 60)), shape="note", style="filled",
                     fillcolor="#fffbe6")
        if self.scale is not None:
            Legend(self.scale).draw(dot)
        if self.overlay is not None and self.overlay.caption:
            dot.attr(label=self.overlay.caption, labelloc="t", fontsize="14")
        return dot

    # ------------------------------------------------------------------ nodes

    def value_node(self, node: Node) -> None:
        """The record of one value, and the op that made it."""
        box = self.box_of(id(node))
        data = summary(node.data)
        fields = [f"data {data}" if isinstance(node.data, float) else data]
        if self.names[id(node)] != data:  # a number leaf is named by its value: say it once
            fields.insert(0, self.names[id(node)] + (" (const)" if is_constant(node) else ""))
        if self.show_grad:
            fields.append(self.grad_field(node))
        hooked = hook_names(node)
        if hooked:
            fields.append(hook_field(hooked))
        key, name = self.keys[id(node)], self.names[id(node)]
        style = {"id": key, "tooltip": name, **self.value_style(node)}
        self.boxes[box].append((key, self.record(fields), style))
        if node._fn is not None:
            self.boxes[box].append((f"{key}.op", op_label(node),
                                    {"id": f"{key}.op", "tooltip": f"{op_label(node)} → {name}",
                                     **self.op_style(node)}))
            for index, parent in enumerate(node._parents):
                if parent is None:
                    self.boxes[""].append(input_stub(node, index, key))

    @staticmethod
    def stable(name: str) -> str:
        """The page id of a graphviz node name: "n5" for a value, "n5.op" for its op, "group:..."."""
        return "group:" + name.removeprefix("group-") if name.startswith("group-") else name

    def grad_field(self, node: Node) -> str:
        """"grad" and its summary; "(vanishing)"/"(exploding)" when coloured; "grad ?" not yet reached."""
        if is_constant(node):
            return "no grad"
        if self.overlay is not None and id(node) not in self.overlay.grads:
            return "grad ?"
        grad = self.grad(node)
        text = f"grad {grad_summary(grad)}"
        size = magnitude(grad)
        if self.scale is not None and size is not None and self.scale.health(size) != "ok":
            text += f" ({self.scale.health(size)})"
        return text

    def record(self, fields: list[str]) -> str:
        """A record label whose fields read left to right for any rankdir."""
        body = " | ".join(re.sub(r"([{}|<>])", r"\\\1", f) for f in fields)
        return "{ " + body + " }" if self.rankdir in ("LR", "RL") else body

    def value_style(self, node: Node) -> dict:
        style = {"shape": "record"}
        if is_constant(node):
            style.update(style="dashed,filled", fillcolor="#f0f0f0", fontcolor="#555555", color="#888888")
        elif id(node) in self.param_names:
            style.update(style="filled,bold", fillcolor="#fff2cc")
        if self.scale is not None:
            style.update(self.scale.style(magnitude(self.grad(node))))
        if hook_names(node):
            style.update(HOOKED)
        style.update(self.overlay_style(node))
        if id(node) in self.marked:
            style.update(color=FOCUS, penwidth="3" if node is self.highlight else "2")
        return style

    def op_style(self, node: Node) -> dict:
        style = {"shape": "ellipse", "fontsize": "10", "margin": "0.03,0.02", "height": "0.3",
                 "style": "filled", "fillcolor": "#eeeeee"}
        style.update(self.overlay_style(node, op=True))
        if id(node) in self.marked:
            style.update(color=FOCUS, penwidth="2")
        return style

    def overlay_style(self, node: Node, op: bool = False) -> dict:
        """A frame's marks: the node visited in red, the inputs it sends to in orange."""
        overlay = self.overlay
        if overlay is None:
            return {}
        if node is overlay.focus:
            return {"color": FOCUS, "penwidth": "3", "fontcolor": FOCUS if op else "black"}
        if id(node) in overlay.receivers and not op:
            return {"color": RECEIVER, "penwidth": "2.5"}
        if id(node) not in overlay.grads and not op:
            return {"fontcolor": "#999999", "color": "#bbbbbb"}
        return {}

    def group_nodes(self) -> None:
        """One summary node per collapsed group: its size, its ops, its gradient."""
        members = defaultdict(list)
        for node in self.nodes:
            if id(node) in self.collapse.group:
                members[self.collapse.group[id(node)]].append(node)
        for name, nodes in sorted(members.items(), key=lambda item: item[1][-1]._order):  # oldest first
            counts = Counter(n._fn.name() for n in nodes if n._fn is not None)
            params = [n for n in nodes if id(n) in self.param_names]
            lines = [name, f"{len(nodes):,} values, {sum(counts.values()):,} ops",
                     ", ".join(f"{count:,} {op}" for op, count in counts.most_common(4))]
            size = _norm(magnitude(self.grad(n)) for n in (params or nodes))
            if params:
                lines.append(f"{len(params)} parameters, ‖grad‖ {fmt(size)}")
            style = {"shape": "box3d", "style": "filled", "fillcolor": "#e8eef7"}
            if self.scale is not None:
                style.update(self.scale.style(size))
            outer = box_chain(name)[:-1] if name != REST else []
            style.update(id="group:" + name, tooltip=name)
            self.boxes[outer[-1] if outer else ""].append((_group_id(name), "\\n".join(lines), style))

    def box_of(self, key: int) -> str:
        module = self.modules.get(key)
        return box_chain(module)[-1] if module else ""

    # ------------------------------------------------------------------ edges

    def edges(self) -> list[tuple[str, str, dict]]:
        """Input -> op -> output for each shown op; edges touching a collapsed
        group are merged, with their count as the label."""
        shown, merged = [], Counter()
        group, keys = self.collapse.group, self.keys
        place = {}  # what stands for each node drawn here: its record, or its group
        for node in self.nodes:
            name = group.get(id(node))
            place[id(node)] = keys[id(node)] if name is None else _group_id(name)
        for node in self.nodes:
            if node._fn is None:
                continue
            key, folded = keys[id(node)], id(node) in group
            head = place[id(node)] if folded else f"{key}.op"
            if not folded:
                shown.append((head, key, self.edge_style(node)))
            for index, parent in enumerate(node._parents):
                if parent is None:
                    if not folded:
                        shown.append((f"{key}.in{index}", head, {"style": "dashed"}))
                    continue
                tail = place.get(id(parent))
                if tail is None or tail == head:
                    continue  # outside the part drawn (a module's own view), or inside one group
                if folded or id(parent) in group:
                    merged[tail, head] += 1
                else:
                    shown.append((tail, head, self.edge_style(parent, (id(node), index))))
        labelled = len(merged) <= LABELLED_MERGED_EDGES  # many labels make dot's layout huge
        for (tail, head), count in merged.items():
            text = f"×{count:,}" if count > 1 else ""
            style = {"label": text if labelled else "", "tooltip": text, "color": "#7f7f7f"}
            shown.append((tail, head, style))
        return shown

    def edge_style(self, source: Node, key: tuple | None = None) -> dict:
        style = {}
        if self.scale is not None:
            style.update(self.scale.edge_style(magnitude(self.grad(source))))
        if self.overlay is not None and key in self.overlay.edge_notes:
            style.update(label=self.overlay.edge_notes[key], fontcolor=FOCUS, color=FOCUS,
                         penwidth="2", fontsize="10")
        return style


def hook_field(names: list[str]) -> str:
    """"⚓ hook: clip" (or "⚓ 3 hooks: a, b, …"): the gradient hooks that will change this node's grad."""
    shown = ", ".join(names[:2]) + (", …" if len(names) > 2 else "")
    return f"⚓ hook: {shown}" if len(names) == 1 else f"⚓ {len(names)} hooks: {shown}"


def op_label(node: Node) -> str:
    """The op's name; a constant power shows its exponent ("**2")."""
    if node._fn is ops.PowConstant:
        return f"**{fmt((node._ctx or node).saved_tensors[1])}"
    return node._fn.name()


def op_titles(nodes: list[Node], modules: dict[int, str], titles: dict[str, str]) -> dict[str, str]:
    """"0: linear, 48 parameters": a module's ops before its parameter count (from ``module_titles``)."""
    ops_of: dict[str, Counter] = defaultdict(Counter)
    for node in nodes:
        if node._fn is not None and id(node) in modules:
            ops_of[modules[id(node)]][node._fn.name()] += 1
    return {module: title.replace(": ", f": {', '.join(sorted(ops_of[module]))}, ", 1)
            if ops_of[module] else title for module, title in titles.items()}


def input_stub(node: Node, index: int, key: str) -> tuple[str, str, dict]:
    """A node for an input that is raw data, not a node (an ndarray batch passed to a layer)."""
    saved = (node._ctx or node).saved_tensors
    item = saved[index] if index < len(saved) else None
    text = "input (not a node)"
    if isinstance(item, np.ndarray):
        text += f"\\n{tuple(item.shape)} {item.dtype}"
    style = {"shape": "box", "style": "dashed,filled", "fillcolor": "#f0f0f0", "fontcolor": "#555555",
             "id": f"{key}.in{index}", "tooltip": "constant input"}
    return f"{key}.in{index}", text, style


def path_to_root(nodes: list[Node], start: Node) -> set[int]:
    """``start`` and every node on a path from it to the root (``nodes`` come consumers first)."""
    on_path = {id(start)}
    for node in reversed(nodes):
        if any(p is not None and id(p) in on_path for p in node._parents):
            on_path.add(id(node))
    if id(start) not in {id(n) for n in nodes}:
        raise ValueError("highlight= must be a node of the graph being drawn")
    return on_path


def natural_key(name: str) -> list:
    """Sort "layers.10" after "layers.9": digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def emit_boxes(dot: graphviz.Digraph, boxes: dict[str, list], titles: dict[str, str] | None = None) -> None:
    """Write node statements, each module's inside its (nested) cluster box, in numeric order."""
    children = defaultdict(set)
    for box in boxes:
        chain = [""] + box_chain(box) if box else [""]
        for outer, inner in pairwise(chain):
            children[outer].add(inner)

    def emit(graph: graphviz.Digraph, box: str) -> None:
        for name, label, attrs in boxes.get(box, ()):
            graph.node(name, label, **attrs)
        for child in sorted(children[box], key=natural_key):
            with graph.subgraph(name=f"cluster_{child}") as sub:
                sub.attr(label=(titles or {}).get(child, child), id=f"module:{child}", style="rounded,dashed",
                         color="#4a6fa5", fontcolor="#4a6fa5")
                emit(sub, child)

    emit(dot, "")


def _group_id(name: str) -> str:
    return f"group-{name}"


def _norm(sizes) -> float | None:
    known = [s for s in sizes if s is not None]
    return math.sqrt(sum(s * s for s in known)) if known else None


class Scale:
    """Gradient magnitudes to colours on a log scale, from the smallest healthy one to the largest.

    "Vanishing" is relative to the largest gradient that has not exploded."""

    def __init__(self, sizes: list[float | None]) -> None:
        finite = [s for s in sizes if s is not None and math.isfinite(s) and s <= EXPLODING]
        self.largest = max(finite, default=0.0)
        healthy = [s for s in finite if self.health(s) == "ok"]
        self.low, self.high = min(healthy, default=1.0), max(healthy, default=1.0)

    def health(self, size: float) -> str:
        return health(size, self.largest)

    def position(self, size: float) -> float:
        """Where ``size`` sits between low (0) and high (1) on a log scale."""
        span = math.log10(self.high) - math.log10(self.low)
        return 1.0 if span == 0 else min(1.0, max(0.0, (math.log10(size) - math.log10(self.low)) / span))

    def colour(self, size: float) -> str:
        return SCALE[round(self.position(size) * (len(SCALE) - 1))]

    def style(self, size: float | None) -> dict:
        """Fill for a node: the scale's colour, or the vanishing/exploding marks."""
        if size is None:
            return {}
        state = self.health(size)
        if state == "vanishing":
            return dict(VANISHING_STYLE)
        if state == "exploding":
            return dict(EXPLODING_STYLE)
        t = self.position(size)
        fontcolor = "white" if t > 0.6 else "black"
        return {"style": "filled", "fillcolor": self.colour(size), "fontcolor": fontcolor}

    def edge_style(self, size: float | None) -> dict:
        """Edges carry the colour of the gradient of the value at their input end, thicker when larger."""
        if size is None:
            return {}
        state = self.health(size)
        if state != "ok":
            colour = VANISHING_STYLE["color"] if state == "vanishing" else EXPLODING_STYLE["fillcolor"]
            return {"color": colour, "style": "dashed"}
        t = self.position(size)
        return {"color": self.colour(size) if t > 0.15 else "#a0a0a0", "penwidth": f"{1 + 2 * t:.2f}"}


class Legend:
    """What the colours mean, in a box of its own."""

    ENTRIES = ("low", "high", "vanishing", "exploding")

    def __init__(self, scale: Scale) -> None:
        self.scale = scale

    def draw(self, dot: graphviz.Digraph) -> None:
        scale = self.scale
        labels = {
            "low": (f"small |grad| ≈ {fmt(scale.low)}", scale.style(scale.low)),
            "high": (f"large |grad| ≈ {fmt(scale.high)}", scale.style(scale.high)),
            "vanishing": (f"vanishing: |grad| ≤ {fmt(VANISHING)} × largest", VANISHING_STYLE),
            "exploding": (f"exploding: nan/inf or |grad| > {fmt(EXPLODING)}", EXPLODING_STYLE),
        }
        with dot.subgraph(name="cluster_legend") as box:
            box.attr(label="gradient magnitude (log scale)", style="rounded", color="#999999", fontsize="10")
            for entry in self.ENTRIES:
                text, style = labels[entry]
                box.node(f"legend-{entry}", text, shape="box", fontsize="10", **{"style": "filled", **style})
            for first, second in pairwise(self.ENTRIES):
                box.edge(f"legend-{first}", f"legend-{second}", style="invis")
