"""Seeing the graph: pictures of values, ops, gradients and how they flow.

``save_html`` writes the explorer, one self-contained interactive page
(``show`` puts it in Jupyter); ``draw_dot`` draws the graph behind a Value or
Tensor (graphviz), ``save`` writes it to a file; ``backward_frames``/``save_frames``/``save_backward_html``
step through one backward pass; ``explain`` writes the chain rule out in words.
Everything here only reads the graph: values and gradients stay as they were.
"""
from .draw import GraphvizNotInstalled, draw_dot, save
from .explain import explain
from .explorer import Explorer, save_html, show
from .steps import BackwardFrame, backward_frames, save_backward_html, save_frames

__all__ = [
    "BackwardFrame", "Explorer", "GraphvizNotInstalled", "backward_frames", "draw_dot", "explain", "save",
    "save_backward_html", "save_frames", "save_html", "show",
]
