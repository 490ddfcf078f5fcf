"""Seeing the graph: pictures of values, ops, gradients and how they flow.

``draw_dot`` draws the graph behind a Value or Tensor (graphviz), ``save``
writes it to a file; ``backward_frames``/``save_frames``/``save_backward_html``
step through one backward pass; ``explain`` writes the chain rule out in words.
Everything here only reads the graph: values and gradients stay as they were.
"""
from .draw import GraphvizNotInstalled, draw_dot, save
from .explain import explain
from .steps import BackwardFrame, backward_frames, save_backward_html, save_frames

__all__ = [
    "BackwardFrame", "GraphvizNotInstalled", "backward_frames", "draw_dot", "explain", "save",
    "save_backward_html", "save_frames",
]
