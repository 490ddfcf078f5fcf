"""The explorer page without a browser: self-contained, every node tagged, payload equal to the graph."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from autograd.viz import Explorer, save_backward_html, save_html, show
from autograd.viz.core import fmt, graph_nodes, magnitude
from autograd.viz.render import find_program
from autograd.viz.steps import backward_steps

pytestmark = pytest.mark.skipif(find_program() is None, reason="neither dot nor graphviz-pure is installed")


def payload(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="payload">(.*?)</script>', page, re.S)
    return json.loads(found[1])


def neuron() -> Value:
    x1, w1, b = Value(2.0, label="x1"), Value(-3.0, label="w1"), Value(6.88, label="b")
    o = (x1 * w1 + x1 * x1 + b).tanh()
    o.label = "o"
    o.backward()
    return o


def tensor_model_loss():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)  # an ndarray, not a Tensor
    loss = nn.functional.mse_loss(model(x), np.zeros((5, 2), dtype=np.float32))
    loss.backward()
    return model, loss


def scalar_mlp_loss(samples: int):
    nn.manual_seed(0)
    model = nn.scalar.MLP(2, [6, 6, 1])
    rows = np.random.default_rng(0).normal(size=(samples, 2))
    loss = sum(((model(list(map(float, r))) - 1.0) ** 2 for r in rows), Value(0.0))
    loss.backward()
    return model, loss


def test_page_fetches_nothing(tmp_path):
    model, loss = tensor_model_loss()
    page = save_html(loss, tmp_path / "page.html", params=model).read_text()
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    assert "%3" not in page  # graphviz's anonymous graph name made poor tooltips


@pytest.mark.parametrize("make", [neuron, lambda: tensor_model_loss()[1]])
def test_every_value_and_op_is_one_svg_element_with_data_node(make, tmp_path):
    root = make()
    svg = payload(save_html(root, tmp_path / "page.html").read_text())["views"][0]["svg"]
    tagged = re.findall(r'<g id="[^"]*" class="node" data-node="([^"]+)"', svg)
    nodes = graph_nodes(root)
    expected = {f"n{k}" for k in range(len(nodes))} | {f"n{k}.op" for k, n in enumerate(nodes) if n._fn}
    expected |= {f"n{k}.in{i}" for k, n in enumerate(nodes) for i, p in enumerate(n._parents) if p is None}
    assert sorted(tagged) == sorted(expected)


def test_payload_numbers_equal_the_graph(tmp_path):
    model, loss = tensor_model_loss()
    data = payload(save_html(loss, tmp_path / "page.html", params=model).read_text())
    named = dict(model.named_parameters())
    computed = {id(c.parent): c.total for step in backward_steps(loss) for c in step.contributions}
    computed[id(loss)] = np.ones(())
    for k, node in enumerate(graph_nodes(loss)):
        entry = data["nodes"][f"n{k}"]
        array = np.asarray(node.data, dtype=np.float64)
        assert entry["data"]["shape"] == list(array.shape)
        if array.size > 1:
            assert entry["data"]["mean"] == fmt(array.mean())
            assert entry["data"]["norm"] == fmt(magnitude(array))
        grad = node.grad if node.grad is not None else computed.get(id(node))  # freed: the pass's
        if grad is not None and np.size(grad) > 1:
            assert entry["grad"]["norm"] == fmt(magnitude(grad))
        elif grad is not None:
            assert entry["grad"]["value"] == fmt(np.asarray(grad).item())
        else:
            assert entry["grad"] is None and not node.requires_grad
    weight = [v for v in data["nodes"].values() if v["name"] == "2.weight"][0]
    assert weight["kind"] == "parameter" and weight["module"] == "2"
    assert weight["grad"]["max"] == fmt(named["2.weight"].grad.max())


def test_an_ndarray_input_is_drawn_as_an_input(tmp_path):
    model, loss = tensor_model_loss()
    data = payload(save_html(loss, tmp_path / "page.html", params=model).read_text())
    svg = data["views"][0]["svg"]
    first_linear = [k for k, v in data["nodes"].items() if v.get("expression", "").startswith("linear(")]
    assert any(f'data-node="{k}.in0"' in svg for k in first_linear)
    assert "input (not a node)" in svg and "(5, 3) float32" in svg


def test_steps_are_the_backward_pass_and_end_with_its_gradients(tmp_path):
    root = neuron()
    data = payload(save_html(root, tmp_path / "page.html").read_text())
    assert len(data["steps"]) == len(list(backward_steps(root)))
    totals = {sent["to"]: sent["total"] for step in data["steps"] for sent in step["sent"]}
    for k, node in enumerate(graph_nodes(root)):
        if k:
            assert totals[f"n{k}"] == fmt(node.grad)


def test_module_boxes_are_named_by_their_layer(tmp_path):
    model, loss = tensor_model_loss()
    svg = payload(save_html(loss, tmp_path / "page.html", params=model).read_text())["views"][0]["svg"]
    assert "0: Linear(3→4)" in svg and "2: Linear(4→2)" in svg
    assert 'data-module="0"' in svg and 'data-module="2"' in svg


def test_a_large_graph_opens_folded_with_module_layouts_up_to_a_budget(tmp_path):
    model, loss = scalar_mlp_loss(40)
    page = save_html(loss, tmp_path / "big.html", params=model, max_nodes=80, module_views=5)
    data = payload(page.read_text())
    assert data["stats"]["folded"] and data["steps"] is None
    modules = [v for v in data["views"] if v["id"] != "main"]
    assert len(modules) == 5 and all('data-node="' in v["svg"] for v in modules)
    assert "were not laid out" in " ".join(data["notes"])
    main = data["views"][0]["svg"]
    assert len(re.findall(r'class="node" data-node="n\d+"', main)) <= 80


def test_highlight_marks_the_node(tmp_path):
    root = neuron()
    w1 = next(n for n in graph_nodes(root) if getattr(n, "label", "") == "w1")
    data = payload(save_html(root, tmp_path / "page.html", highlight=w1).read_text())
    assert data["nodes"][data["highlight"]]["name"] == "w1"
    with pytest.raises(ValueError, match="highlight"):
        save_html(root, tmp_path / "other.html", highlight=Value(1.0))


def test_show_is_an_iframe_per_page_for_jupyter():
    first, second = show(neuron()), show(neuron())
    assert isinstance(first, Explorer)
    html = first._repr_html_()
    assert html.startswith("<iframe srcdoc=") and "&lt;svg" in html and "<svg" not in html
    assert second._repr_html_().startswith("<iframe")


def test_save_backward_html_is_the_explorer(tmp_path):
    page = save_backward_html(neuron(), tmp_path / "steps.html").read_text()
    assert 'id="step-slider"' in page and 'id="details"' in page


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_html(neuron(), tmp_path / "page.html")
    assert list(tmp_path.iterdir()) == []


def test_bad_options_are_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="rankdir"):
        save_html(neuron(), tmp_path / "page.html", rankdir="up")
    with pytest.raises(ValueError, match="max_nodes"):
        save_html(neuron(), tmp_path / "page.html", max_nodes=2)
    with pytest.raises(ValueError, match="module_views"):
        save_html(neuron(), tmp_path / "page.html", module_views=-1)
    assert not (tmp_path / "page.html").exists()


def test_labels_cannot_end_the_script_or_the_page(tmp_path):
    x = Value(1.0, label="</script><!-- __PAYLOAD__")
    out = x * 2.0
    out.label = "__TITLE__"
    out.backward()
    page = save_html(out, tmp_path / "page.html").read_text()
    assert page.count("</script>") == 2  # the payload's end and the code's end
    names = {v["name"] for v in payload(page)["nodes"].values()}
    assert {"</script><!-- __PAYLOAD__", "__TITLE__"} <= names


def test_a_tensor_root_with_many_elements_has_no_steps_and_says_why(tmp_path):
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    out = w * 2
    data = payload(save_html(out, tmp_path / "page.html").read_text())
    assert data["steps"] is None and "grad=" in " ".join(data["notes"])
