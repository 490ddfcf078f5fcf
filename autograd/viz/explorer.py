"""The graph explorer: one self-contained HTML page per graph, for a browser or Jupyter.

``save_html`` lays the graph out with graphviz (the ``Painter`` of ``draw_dot``),
tags every node of the SVG with ``data-node`` (a stable id: ``n0`` is the root,
``n5.op`` the op that made ``n5``) and embeds a JSON payload: each node's
numbers, gradient and local rule, and the backward pass as steps (from
``steps.backward_steps``). The page's own script pans, zooms, searches, folds,
highlights paths and steps through the pass; nothing is fetched from anywhere.
A graph too large for one layout opens with its modules folded; each module's
own layout is computed at save time, up to a budget, and opened on demand.
"""
from __future__ import annotations

import copy
import html
import json
import os
import re
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..graph import Node
from ..hooks import hook_names
from .core import derivative_rules, fmt, grad_summary, magnitude, raw
from .draw import Overlay, Painter, Scale, check_options, pipe
from .explain import expression, grouped, local_rule
from .modules import REST, Collapse, box_chain, plan_collapse
from .page import PAGE

PAGE_MAX_NODES = 250  # values in one layout; above it modules fold (dot takes seconds past ~1000 nodes)
MODULE_VIEWS = 64  # module layouts computed at save time at most (each is one run of dot)
MAX_STEPS = 2000  # the step-through is offered for graphs with at most this many ops
OUTSIDE = "outside this module"
MAX_SPELLED_INPUTS = 8  # an op with more inputs is not written out as an expression
DEFAULTS = ("op output", "ok")  # left out of the payload (the page assumes them): 50,000 nodes add up


def save_html(root: Node, path: str | Path, params: Any = None, **options: Any) -> Path:
    """Write the explorer page for the graph behind ``root`` to ``path`` (one file, no network).

    ``params``: a model or ``dict(model.named_parameters())``, as in ``draw_dot``.
    Options: ``grad`` (the seed of the step-through, for a non-scalar root),
    ``highlight`` (a node to mark, with its path to the root), ``rankdir``,
    ``max_nodes`` (values laid out in one view before modules fold),
    ``module_views`` (how many folded modules get their own layout), ``title``,
    ``color_by_grad`` (gradient colours on at first; a checkbox toggles them).
    Open the file in a browser. The file is written atomically.
    """
    return write_atomically(Path(path), explorer_html(root, params, **options))


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it: never half a page."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a page is for sharing
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


@dataclass
class Explorer:
    """The page, ready to display: Jupyter calls ``_repr_html_`` (an iframe, so several
    pages on one notebook never share ids or scripts); ``save(path)`` writes it."""

    html: str
    height: int = 640

    def _repr_html_(self) -> str:
        source = html.escape(self.html, quote=True)
        return (f'<iframe srcdoc="{source}" style="width:100%;height:{self.height}px;'
                'border:1px solid #ccc" sandbox="allow-scripts"></iframe>')

    def save(self, path: str | Path) -> Path:
        return write_atomically(Path(path), self.html)


def show(root: Node, params: Any = None, height: int = 640, **options: Any) -> Explorer:
    """The explorer page of ``save_html`` inline in Jupyter: ``show(loss)`` as a cell's last line."""
    return Explorer(explorer_html(root, params, **options), height)


def explorer_html(
    root: Node, params: Any = None, *, grad: Any = None, highlight: Node | None = None, rankdir: str = "LR",
    max_nodes: int = PAGE_MAX_NODES, module_views: int = MODULE_VIEWS, title: str | None = None,
    color_by_grad: bool = False,
) -> str:
    """The page as a string (see ``save_html``)."""
    check_options(rankdir, max_nodes)
    if not isinstance(module_views, int) or module_views < 0:
        raise ValueError(f"module_views must be an int >= 0, got {module_views!r}")
    started = time.perf_counter()
    painter = Painter(root, rankdir, True, params, False, max_nodes, highlight=highlight)
    folded = bool(painter.collapse.group)
    steps, why, grads = step_payload(root, grad, painter, folded)
    if steps:  # show what the pass computed, freed intermediate gradients too
        painter.overlay = Overlay(grads={id(n): grads.get(id(n), n.grad) for n in painter.nodes})
    views = [view("main", "whole graph", painter)]
    notes = []
    if folded:
        built, skipped = module_layouts(painter, module_views)
        views += built
        if skipped:
            notes.append(f"{len(skipped)} module(s) were not laid out at save time (budget: module_views="
                         f"{module_views}): {', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}. "
                         "Raise module_views= to lay out more.")
    nodes, ops = node_payload(painter)
    if why:
        notes.append(why)
    payload = {
        "title": title or f"Graph of {painter.names[id(root)]}",
        "root": painter.keys[id(root)],
        "nodes": nodes,
        "ops": ops,
        "groups": group_payload(painter),
        "views": views,
        "steps": steps,
        "highlight": painter.keys.get(id(highlight)) if highlight is not None else None,
        "notes": notes,
        "colour": color_by_grad,
        "stats": {"values": len(painter.nodes), "ops": sum(n._fn is not None for n in painter.nodes),
                  "folded": folded, "seconds": round(time.perf_counter() - started, 2)},
    }
    data = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/").replace("<!--", "<\\u0021--")  # nothing may end the <script> early
    parts = {"TITLE": html.escape(payload["title"]), "PAYLOAD": data}
    return re.sub(r"__(TITLE|PAYLOAD)__", lambda match: parts[match[1]], PAGE)


# ---------------------------------------------------------------------- views


def view(key: str, title: str, painter: Painter) -> dict:
    """One layout: the SVG from graphviz, each node tagged with ``data-node``."""
    return views([(key, title, painter)])[0]


def views(wanted: list[tuple[str, str, Painter]]) -> list[dict]:
    """Layouts of several painters; the ``dot`` runs overlap (each is its own process)."""
    graphs = [painter.paint(graphviz.Digraph(name="graph", format="svg")) for _, _, painter in wanted]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        svgs = list(pool.map(lambda graph: pipe(graph, "svg").decode("utf-8"), graphs))
    return [{"id": key, "title": title, "svg": tag_svg(svg)} for (key, title, _), svg in zip(wanted, svgs,
                                                                                          strict=True)]


NODE_G = re.compile(r'<g id="([^"]+)" class="(node|edge|cluster)">')


def tag_svg(svg: str) -> str:
    """The bare ``<svg>`` element, with ``data-node`` on nodes, ``data-from``/``data-to`` on
    edges and ``data-module`` on module boxes (from the ids ``Painter`` gave them)."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<title>[^<]*</title>", "", svg)  # graphviz's names (%3, raw ids) make poor tooltips

    def tag(match: re.Match) -> str:
        key, kind = html.unescape(match[1]), match[2]
        if kind == "node":
            extra = f' data-node="{html.escape(key)}"'
        elif kind == "edge" and key.startswith("e:"):
            tail, _, head = key[2:].partition("->")
            extra = f' data-from="{html.escape(tail)}" data-to="{html.escape(head)}"'
        elif kind == "cluster" and key.startswith("module:"):
            extra = f' data-module="{html.escape(key.removeprefix("module:"))}"'
        else:
            extra = ""
        return f'<g id="{match[1]}" class="{kind}"{extra}>'

    return NODE_G.sub(tag, svg)


def module_layouts(painter: Painter, budget: int) -> tuple[list[dict], list[str]]:
    """A layout per folded module, in forward order, ``budget`` at most; names of the rest."""
    members: dict[str, list[Node]] = {}
    for node in reversed(painter.nodes):  # oldest first: modules in the order the forward pass ran them
        name = painter.collapse.group.get(id(node))
        if name is not None and name != REST:
            members.setdefault(name, []).append(node)
    order = list(members)
    wanted = [("module:" + name, name, module_painter(painter, name, members[name]))
              for name in order[:budget]]
    return views(wanted), order[budget:]


def module_painter(painter: Painter, name: str, members: list[Node]) -> Painter:
    """A painter for one module alone: its nodes (inner modules folded if they do not fit),
    and one summary node for whatever outside feeds it."""
    inside = {id(n) for n in members}
    outside = {id(p): p for n in members for p in n._parents if p is not None and id(p) not in inside}
    nodes = sorted([*members, *outside.values()], key=lambda n: n._order, reverse=True)
    level = len(box_chain(name)) + 1
    inner = {key: module for key, module in painter.modules.items()
             if key in inside and len(box_chain(module)) >= level}
    plan = plan_collapse(members, inner, painter.max_nodes - 2, min_level=level)
    group = {**plan.group, **{key: OUTSIDE for key in outside}}
    sub = copy.copy(painter)
    sub.nodes = nodes  # edges from nodes not listed here are left out
    sub.collapse = Collapse(group, plan.note)
    sub.boxes = type(painter.boxes)(list)
    return sub


# -------------------------------------------------------------------- payload


def node_payload(painter: Painter) -> tuple[dict[str, dict], dict[str, dict]]:
    """Per node: name, kind, data, grad, module, inputs, colour by gradient, and for an op
    its expression, its rule per input in the inputs' names and the key of its entry in the
    op table (formula and rules from the op's ``rule``, as ``derivative_rules`` gives them)."""
    scale = Scale([magnitude(painter.grad(n)) for n in painter.nodes])
    nodes, ops = {}, {}
    for node in painter.nodes:
        key = painter.keys[id(node)]
        size = magnitude(painter.grad(node))
        entry = {
            "name": painter.names[id(node)],
            "kind": kind_of(node, painter),
            "data": numbers(node.data),
            "grad": (numbers(painter.grad(node)) or {"missing": True}) if node.requires_grad else None,
            "inputs": [painter.keys[id(p)] if p is not None else f"{key}.in{i}"
                       for i, p in enumerate(node._parents)],
            "module": painter.modules.get(id(node)),
            "group": painter.collapse.group.get(id(node)),
            "colour": scale.style(size).get("fillcolor") if size is not None else None,
            "health": scale.health(size) if size is not None else None,
            "hooks": hook_names(node),
        }
        if node._fn is not None:
            fn = node._fn.__name__
            if fn not in ops:
                ops[fn] = op_payload(node._fn)
            if len(node._parents) <= MAX_SPELLED_INPUTS:
                entry["expression"] = expression(node, painter.names)
                entry["local"] = [f"d/d{grouped(painter.names[id(p)])} = {local_rule(node, i, painter.names)}"
                                  for i, p in enumerate(node._parents) if p is not None]
            else:  # a neuron's dot of 30 weights and inputs: the inputs row lists them
                entry["expression"] = f"{node._fn.name()}({len(node._parents)} inputs)"
            entry["fn"] = fn
        nodes[key] = {k: v for k, v in entry.items() if (v or k == "grad") and v not in DEFAULTS}
    return nodes, ops


def kind_of(node: Node, painter: Painter) -> str:
    if id(node) in painter.param_names:
        return "parameter"
    if node._fn is not None:
        return "op output"
    return "leaf" if node.requires_grad else "constant"


def op_payload(fn: type) -> dict:
    """An op's name, formula and local rules (the op table's ``rule``, as ``explain`` reads them)."""
    formula, rules = derivative_rules(fn)
    rules = rules or ["(no rule given)"]
    return {"op": fn.name(), "function": fn.__name__, "formula": formula, "rules": rules}


def numbers(x: Any) -> dict | None:
    """A number as {"value"}, an array as shape, dtype, min/mean/max/norm (text, 4 digits)."""
    x = raw(x)
    if x is None:
        return None
    if isinstance(x, (int, float)):
        return {"value": fmt(x)}
    array = np.asarray(x)
    entry = {"shape": list(array.shape), "dtype": str(array.dtype)}
    if array.size == 1:
        entry["value"] = fmt(array.item())
    elif array.size:
        with np.errstate(all="ignore"):
            values = array.astype(np.float64)
            entry.update(min=fmt(values.min()), mean=fmt(values.mean()), max=fmt(values.max()),
                         norm=fmt(magnitude(values)))
    return entry


def group_payload(painter: Painter) -> dict[str, dict]:
    """Per folded group: its size and the ops in it."""
    members: dict[str, list[Node]] = {}
    for node in painter.nodes:
        name = painter.collapse.group.get(id(node))
        if name is not None:
            members.setdefault(name, []).append(node)
    groups = {}
    for name, nodes in members.items():
        ops = Counter(n._fn.name() for n in nodes if n._fn is not None)
        params = [magnitude(n.grad) for n in nodes if id(n) in painter.param_names]
        groups["group:" + name] = {"name": painter.titles.get(name, name), "module": name,
                                   "values": len(nodes), "ops": dict(ops.most_common(6)),
                                   "grad_norm": fmt(_norm(params))}
    return groups


def _norm(sizes: list) -> float:
    return float(np.sqrt(sum(s * s for s in sizes if s is not None)))


def step_payload(root: Node, grad: Any, painter: Painter, folded: bool) -> tuple[list | None, str, dict]:
    """The backward pass as steps (``backward_steps``): per op visited, the gradient arriving and
    what it sends to each input; or None and why not. Also every gradient the pass computes
    (a Tensor intermediate's is freed after ``backward``, but the page can show it)."""
    from .steps import backward_steps, seed_gradient

    ops = sum(n._fn is not None for n in painter.nodes)
    if folded or ops > MAX_STEPS:
        return None, (f"The backward step-through is offered for graphs laid out in full (at most "
                      f"{MAX_STEPS} ops, {painter.max_nodes} values); this one has {ops:,} ops."), {}
    try:
        walk = list(backward_steps(root, grad))
    except ValueError as error:
        return None, f"No step-through: {error}.", {}
    steps, grads = [], {id(root): seed_gradient(root, grad)}
    for step in walk:
        sent = []
        for c in step.contributions:
            product = (f"{fmt(c.upstream)} × {fmt(c.local)} = {fmt(c.value)}" if c.local is not None
                       else grad_summary(c.value))
            sent.append({"to": painter.keys[id(c.parent)], "index": c.index,
                         "rule": local_rule(step.node, c.index, painter.names), "product": product,
                         "total": grad_summary(c.total), "first": c.first})
            grads[id(c.parent)] = c.total
        steps.append({"node": painter.keys[id(step.node)], "upstream": grad_summary(step.upstream),
                      "sent": sent})
    return steps, "", grads
