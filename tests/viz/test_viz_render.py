"""Rendering with the real ``dot``: files are produced and valid (skipped when dot is absent)."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd import Tensor, Value
from autograd.viz import backward_frames, save, save_backward_html, save_frames
from autograd.viz.core import graph_nodes

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot program is not installed")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_graph() -> Value:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + a).tanh()
    out.label = "out"
    out.backward()
    return out


def test_svg_is_valid_xml_with_one_node_per_value_and_op(tmp_path):
    graph = small_graph()
    root = ET.parse(save(graph, tmp_path / "graph.svg")).getroot()
    assert root.tag.endswith("svg")
    drawn = sum(1 for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node")
    nodes = graph_nodes(graph)
    assert drawn == len(nodes) + sum(n._fn is not None for n in nodes)


def test_png_and_pdf_files_have_their_magic_bytes(tmp_path):
    graph = small_graph()
    assert save(graph, tmp_path / "graph.png").read_bytes().startswith(PNG_MAGIC)
    assert save(graph, tmp_path / "graph.pdf").read_bytes().startswith(b"%PDF")


def test_tensor_graph_with_colours_renders(tmp_path):
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    out = (Tensor(np.ones((4, 3))) @ w).sigmoid().sum()
    out.backward()
    path = save(out, tmp_path / "tensor.svg", params={"layer.weight": w}, color_by_grad=True)
    assert "layer.weight" in "".join(ET.parse(path).getroot().itertext())


def test_frames_are_written_as_numbered_files(tmp_path):
    graph = small_graph()
    paths = save_frames(graph, tmp_path / "frames", format="png")
    assert [p.name for p in paths] == [f"frame_{i:03d}.png" for i in range(len(list(backward_frames(graph))))]
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in paths)


def test_backward_html_is_the_explorer_page_with_one_step_per_op(tmp_path):
    graph = small_graph()
    page = save_backward_html(graph, tmp_path / "backward.html").read_text()
    assert page.count("<svg") == 1 and 'id="step-slider"' in page
    steps = len(list(backward_frames(graph))) - 2  # frames add the start and the end
    assert page.count('"sent":') == steps
    assert "<script src" not in page and "<link" not in page


def test_svg_tooltips_name_the_values_not_python_ids(tmp_path):
    graph = small_graph()
    svg = save(graph, tmp_path / "graph.svg").read_text()
    assert "%3" not in svg and str(id(graph)) not in svg
    assert 'xlink:title="out"' in svg and 'xlink:title="a"' in svg
