"""Step through one backward pass: the chain rule one op at a time, as frames.

``backward_steps`` reads the engine's one walk (``graph.backward_steps``,
which writes nothing into the nodes) and records, per op in backward order,
local derivative x upstream gradient = contribution per input, with each
input's running total. Frames draw each
step; ``save_frames`` writes them as numbered files; the explorer page
(``save_html``, alias ``save_backward_html``) steps through them on one zoomable graph.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .. import graph
from ..graph import Node, no_grad
from .core import fmt, grad_summary, graph_nodes, node_names, parameter_names, raw
from .draw import DEFAULT_MAX_NODES, Overlay, Painter, pipe
from .render import Digraph


@dataclass
class Contribution:
    """What one op sends to one input: ``upstream * local = value``; ``total`` after adding it.

    ``local`` is the op's local derivative d(output)/d(input) for scalar
    graphs; for tensors it is a Jacobian, so it is left as None."""

    parent: Node
    index: int
    local: float | None
    upstream: Any
    value: Any
    total: Any
    first: bool  # the first contribution this input received


@dataclass
class Step:
    """One op visited: its output node, the gradient arriving at it, what it sends on."""

    node: Node
    upstream: Any
    contributions: list[Contribution]


def seed_gradient(root: Node, grad: Any = None) -> Any:
    """d root / d root: 1.0 for a Value, ones for a one-element Tensor (as ``backward``)."""
    if grad is not None:
        return raw(grad)
    if isinstance(root.data, float):
        return 1.0
    if root.data.size != 1:
        raise ValueError(f"a backward pass from a tensor of shape {root.data.shape} needs grad= of its shape")
    return np.ones_like(root.data)


def backward_steps(root: Node, grad: Any = None) -> Iterator[Step]:
    """The steps of ``root.backward(grad)`` as ``Step`` objects, from ``graph.backward_steps``.

    The engine's one walk computes every contribution (nothing is written to a
    node); this only keeps the running total per input. For a Value op the
    local derivative shown (``upstream × local``) is ``backward(ctx, 1.0)``:
    a second call of the op's backward, for that display only.
    """
    if not isinstance(root, Node):
        raise TypeError(f"expected a Value or a Tensor, got {type(root).__name__}")
    totals = {id(root): seed_gradient(root, grad)}
    for node, upstream, sent in _walk_leaving_marks(root, totals[id(root)]):
        locals_ = _local_derivatives(node) if isinstance(node.data, float) else None
        contributions = []
        for index, (parent, value) in enumerate(sent):
            if parent is None or value is None or not parent.requires_grad:
                continue
            old = totals.get(id(parent))
            totals[id(parent)] = value if old is None else old + value
            local = locals_[index] if locals_ is not None else None
            contributions.append(
                Contribution(parent, index, local, upstream, value, totals[id(parent)], first=old is None))
        yield Step(node, upstream, contributions)


def _walk_leaving_marks(root: Node, seed: Any) -> list[tuple]:
    """``graph.backward_steps`` with each node's ``_mark`` (the walk's visited token) put
    back afterwards, so that looking at a graph leaves every attribute as it was."""
    marks = [(node, node._mark) for node in graph_nodes(root)]
    try:
        return list(graph.backward_steps(root, seed))
    finally:
        for node, mark in marks:
            node._mark = mark


def _local_derivatives(node: Node) -> tuple:
    """d(node)/d(input) per input of a Value op: its backward with upstream 1 (display only)."""
    with no_grad():
        grads = node._fn.backward(node._ctx or node, 1.0)
    return grads if type(grads) is tuple else tuple(grads) if type(grads) is list else (grads,)


@dataclass
class BackwardFrame:
    """One picture of the pass: ``node`` is the op output visited (None on the first
    and last frames), ``grads`` every gradient known so far, ``caption`` the words."""

    root: Node
    params: dict | None
    index: int
    node: Node | None
    grads: dict[int, Any]
    contributions: list[Contribution]
    caption: str

    def draw(self, rankdir: str = "LR", color_by_grad: bool = False, max_nodes: int = DEFAULT_MAX_NODES,
             format: str = "svg") -> graphviz.Digraph:
        """This frame as a ``graphviz.Digraph``: the visited node in red, the inputs
        it sends to in orange, ``upstream × local = contribution`` on the edges."""
        overlay = Overlay(
            grads=self.grads, focus=self.node, caption=self.caption,
            receivers={id(c.parent) for c in self.contributions},
            edge_notes={(id(self.node), c.index): edge_note(c) for c in self.contributions},
        )
        painter = Painter(self.root, rankdir, True, self.params, color_by_grad, max_nodes, overlay)
        return painter.paint(Digraph(format=format))


def edge_note(c: Contribution) -> str:
    """``upstream × local = contribution`` for numbers, the contribution's size for arrays."""
    if c.local is None:
        return f"sends {grad_summary(c.value)}"
    return f"{fmt(c.upstream)} × {fmt(c.local)} = {fmt(c.value)}"


def backward_frames(root: Node, grad: Any = None, params: dict | None = None) -> Iterator[BackwardFrame]:
    """Frames of one backward pass: the seed, one per op visited (reverse
    topological order), and the finished gradients. Nothing in the graph changes.
    ``params`` names parameters, as in ``draw_dot``."""
    names = node_names(graph_nodes(root), parameter_names(params))
    steps = list(backward_steps(root, grad))
    total = len(steps)
    grads = {id(root): seed_gradient(root, grad)}
    yield BackwardFrame(root, params, 0, None, dict(grads), [],
                        f"Start: d{names[id(root)]}/d{names[id(root)]} = {grad_summary(grads[id(root)])}")
    for number, step in enumerate(steps, start=1):
        for c in step.contributions:
            grads[id(c.parent)] = c.total
        caption = (
            f"Step {number} of {total}: at {names[id(step.node)]} ({step.node._fn.name()}), "
            f"upstream gradient {grad_summary(step.upstream)}; each input gets "
            + ("upstream × local derivative = contribution" if isinstance(step.node.data, float)
               else "its share of the gradient")
        )
        yield BackwardFrame(root, params, number, step.node, dict(grads), step.contributions, caption)
    yield BackwardFrame(root, params, total + 1, None, dict(grads), [],
                        f"Done: every gradient of {names[id(root)]} is filled in")


def save_frames(root: Node, folder: str | Path, format: str = "svg", params: dict | None = None,
                **draw_options: Any) -> list[Path]:
    """Write the frames as ``frame_000.svg``, ``frame_001.svg`` ... (or png/pdf) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame in backward_frames(root, params=params):
        path = folder / f"frame_{frame.index:03d}.{format}"
        path.write_bytes(pipe(frame.draw(**draw_options), format))
        paths.append(path)
    return paths


def save_backward_html(root: Node, path: str | Path, params: dict | None = None, **options: Any) -> Path:
    """The explorer page (``save_html``), which steps through the backward pass on the zoomable graph:
    arrows or the slider move one op at a time. Kept as the name of the older slider page."""
    from .explorer import save_html

    return save_html(root, path, params, **options)
