"""draw_dot's source: records, op nodes, edges, module boxes, colours, collapsing; and that it reads only."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

import nn
from autograd import Tensor, Value, draw_dot
from autograd.viz import GraphvizNotInstalled, backward_frames, explain, save
from autograd.viz.core import fmt, graph_nodes
from autograd.viz.draw import SCALE, Scale
from autograd.viz.modules import box_chain, infer_modules, module_of_parameter

NAME = r'"(?:[^"\\]|\\.)*"|[^\s\[\]]+'


def parse(dot) -> tuple[dict, list, dict]:
    """Nodes ``{name: attributes}``, edges ``[(tail, head, attributes)]`` and
    ``{node: innermost cluster}`` from a Digraph's source."""
    nodes, edges, cluster_of, stack = {}, [], {}, []
    for line in dot.source.splitlines():
        line = line.strip()
        if line.startswith("subgraph"):
            stack.append(line.split()[1].strip('"').removeprefix("cluster_"))
        elif line == "}":
            if stack:
                stack.pop()
        elif edge := re.match(rf"^({NAME}) -> ({NAME})(?: \[(.*)\])?$", line):
            edges.append((edge[1].strip('"'), edge[2].strip('"'), attributes(edge[3] or "")))
        elif node := re.match(rf"^({NAME}) \[(.*)\]$", line):
            name = node[1].strip('"')
            if name not in ("node", "edge", "graph"):
                nodes[name] = attributes(node[2])
                cluster_of[name] = stack[-1] if stack else None
    return nodes, edges, cluster_of


def attributes(text: str) -> dict:
    return {k: v.strip('"') for k, v in re.findall(rf"(\w+)=({NAME})", text)}


def micrograd_example() -> Value:
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    out = (d * f).tanh()
    out.label = "L"
    out.backward()
    return out


def tensor_model_loss():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3), label="x")
    loss = nn.functional.mse_loss(model(x), np.zeros((5, 2), dtype=np.float32))
    loss.backward()
    return model, loss


def scalar_mlp_loss(samples: int = 3):
    nn.manual_seed(0)
    model = nn.scalar.MLP(2, [6, 6, 1])
    rows = [[0.5 * i, 1.0 - i] for i in range(samples)]
    loss = sum(((model(row) - 1.0) ** 2 for row in rows), Value(0.0))
    loss.backward()
    return model, loss


def name_of(root, node) -> str:
    """The graphviz name draw_dot gives ``node``: "n{k}", its place in ``graph_nodes(root)``."""
    return f"n{[id(n) for n in graph_nodes(root)].index(id(node))}"


def records(nodes: dict) -> dict:
    return {name: n for name, n in nodes.items() if n.get("shape") == "record"}


def test_every_value_and_op_appears_with_label_data_and_grad():
    out = micrograd_example()
    nodes, _, _ = parse(draw_dot(out))
    graph = graph_nodes(out)
    for node in graph:
        label = nodes[name_of(out, node)]["label"]
        assert node.label in label
        assert f"data {fmt(node.data)}" in label and f"grad {fmt(node.grad)}" in label
    ops = {name: n["label"] for name, n in nodes.items() if name.endswith(".op")}
    assert sorted(ops.values()) == sorted(n._fn.name() for n in graph if n._fn is not None)
    assert len(records(nodes)) == len(graph)


def test_edge_count_equals_the_graph_edges_even_for_repeated_inputs():
    x = Value(3.0, label="x")
    out = x * x + 2.0 * x
    out.backward()
    _, edges, _ = parse(draw_dot(out))
    graph = graph_nodes(out)
    uses = sum(p is not None for n in graph for p in n._parents)
    ops = sum(n._fn is not None for n in graph)
    assert len(edges) == uses + ops
    assert sum(1 for tail, head, _ in edges if tail == name_of(out, x) and head.endswith(".op")) == 3


def test_edges_point_from_inputs_to_op_to_output():
    out = micrograd_example()
    _, edges, _ = parse(draw_dot(out))
    for node in graph_nodes(out):
        if node._fn is not None:
            key = name_of(out, node)
            assert (f"{key}.op", key) in [(t, h) for t, h, _ in edges]
            for parent in node._parents:
                assert (name_of(out, parent), f"{key}.op") in [(t, h) for t, h, _ in edges]


def test_rankdir_keeps_record_fields_side_by_side():
    out = micrograd_example()
    lr, _, _ = parse(draw_dot(out, rankdir="LR"))
    tb, _, _ = parse(draw_dot(out, rankdir="TB"))
    key = name_of(out, out)
    assert key == "n0"  # the root
    assert lr[key]["label"].startswith("{") and not tb[key]["label"].startswith("{")
    assert 'rankdir=TB' in draw_dot(out, rankdir="TB").source


def test_show_grad_false_leaves_the_gradient_out():
    nodes, _, _ = parse(draw_dot(micrograd_example(), show_grad=False))
    assert not any("grad" in n["label"] for n in records(nodes).values())


def test_tensor_records_show_name_shape_dtype_and_gradient_norm():
    model, loss = tensor_model_loss()
    nodes, _, _ = parse(draw_dot(loss, params=dict(model.named_parameters())))
    weight = model[0].weight
    label = nodes[name_of(loss, weight)]["label"]
    assert "0.weight" in label and "(4, 3)" in label and str(weight.dtype) in label
    assert f"‖g‖ {fmt(np.linalg.norm(weight.grad))}" in label


def test_constants_are_drawn_and_look_different():
    model, loss = tensor_model_loss()
    nodes, _, _ = parse(draw_dot(loss))
    (x,) = [n for n in graph_nodes(loss) if getattr(n, "label", "") == "x"]
    drawn = nodes[name_of(loss, x)]
    assert "x (const)" in drawn["label"] and "no grad" in drawn["label"]
    assert "dashed" in drawn["style"]


def test_parameters_and_the_ops_that_use_them_sit_in_their_module_box():
    model, loss = tensor_model_loss()
    nodes, _, cluster_of = parse(draw_dot(loss, params=dict(model.named_parameters())))
    for index in ("0", "2"):
        layer = model[int(index)]
        assert cluster_of[name_of(loss, layer.weight)] == index == cluster_of[name_of(loss, layer.bias)]
    linear_ops = [name for name, n in nodes.items() if name.endswith(".op") and n["label"] == "linear"]
    boxed_ops = {cluster_of[name] for name in linear_ops}
    assert boxed_ops == {"0", "2"}
    relu = [name for name, n in nodes.items() if n["label"] == "ReLU"]
    assert [cluster_of[name] for name in relu] == [None]


def test_module_boxes_nest_by_dotted_name():
    model, loss = scalar_mlp_loss(samples=1)
    dot = draw_dot(loss, params=dict(model.named_parameters()), max_nodes=5000)
    _, _, cluster_of = parse(dot)
    source = dot.source
    weight = model.layers[1].neurons[2].w[0]
    assert cluster_of[name_of(loss, weight)] == "layers.1.neurons.2"
    outer = source.index('subgraph "cluster_layers.1" {')
    assert outer < source.index('subgraph "cluster_layers.1.neurons.2" {')


@pytest.mark.parametrize("name, module", [
    ("0.weight", "0"), ("layers.1.bias", "layers.1"), ("layers.0.neurons.3.w.1", "layers.0.neurons.3"),
    ("w", ""), ("w.0", ""), ("encoder.fc.weight", "encoder.fc"),
])
def test_module_of_a_parameter_drops_indices_and_the_attribute(name, module):
    assert module_of_parameter(name) == module


def test_list_containers_get_no_box():
    assert box_chain("layers.0.neurons.3") == ["layers.0", "layers.0.neurons.3"]
    assert box_chain("encoder.fc") == ["encoder", "encoder.fc"]


@pytest.mark.parametrize("max_nodes", [10, 40, 120])
def test_collapsing_keeps_the_picture_within_max_nodes(max_nodes):
    model, loss = scalar_mlp_loss(samples=20)
    assert len(graph_nodes(loss)) > 2 * max_nodes
    for params in (dict(model.named_parameters()), None):
        dot = draw_dot(loss, params=params, max_nodes=max_nodes, color_by_grad=True)
        nodes, edges, _ = parse(dot)
        values = [name for name in nodes if not name.endswith(".op") and not name.startswith("legend-")]
        assert len(values) <= max_nodes  # records, summaries and the note; op nodes ride with their value
        assert len(edges) <= 3 * max_nodes
        assert "collapsed" in nodes["collapsed-note"]["label"]
        assert all(tail in nodes and head in nodes for tail, head, _ in edges)


def test_collapsing_with_params_summarises_per_module():
    model, loss = scalar_mlp_loss(samples=20)
    nodes, _, cluster_of = parse(draw_dot(loss, params=dict(model.named_parameters()), max_nodes=80))
    summaries = [name for name in nodes if name.startswith("group-layers.")]
    assert summaries, "expected one summary node per module"
    neuron = nodes.get("group-layers.0.neurons.0") or nodes["group-layers.0"]
    assert "values" in neuron["label"] and "parameters" in neuron["label"]


def test_a_graph_with_fewer_values_than_max_nodes_is_not_collapsed():
    x = Value(0.5, label="x")
    out = x
    for _ in range(46):
        out = (out * 0.9).tanh()  # 1 + 46 * 3 = 139 values and 92 ops: 231 nodes, 139 values
    assert len(graph_nodes(out)) == 139
    nodes, _, _ = parse(draw_dot(out, max_nodes=150))
    assert "collapsed-note" not in nodes


def test_one_summary_node_is_singular_in_the_note():
    model, loss = scalar_mlp_loss(samples=20)
    nodes, _, _ = parse(draw_dot(loss, params=dict(model.named_parameters()), max_nodes=10))
    note = nodes["collapsed-note"]["label"].replace("\\n", " ")
    count = int(re.search(r"into (\d+) summary node", note)[1])
    assert ("summary nodes" in note) == (count != 1)


def test_neuron_boxes_come_in_numeric_order():
    nn.manual_seed(0)
    model = nn.scalar.MLP(2, [12, 1])
    loss = model([0.5, -1.0])
    loss.backward()
    source = draw_dot(loss, params=model, max_nodes=400).source
    order = [int(m) for m in re.findall(r"subgraph \"?cluster_layers\.0\.neurons\.(\d+)", source)]
    assert order == list(range(12))


def test_module_boxes_show_the_layer_when_given_the_model():
    model, loss = tensor_model_loss()
    source = draw_dot(loss, params=model).source
    assert 'label="0: Linear(3→4)"' in source and 'label="2: Linear(4→2)"' in source
    source = draw_dot(loss, params=dict(model.named_parameters())).source
    assert 'label="0: linear, 16 parameters"' in source  # a dict names no layer type: the ops stand in


def test_without_params_a_scalar_mlp_folds_per_unit_and_layer():
    model, loss = scalar_mlp_loss(samples=20)
    nodes, _, _ = parse(draw_dot(loss, max_nodes=40))
    groups = [name for name in nodes if name.startswith("group-")]
    assert "group-rest of the graph" not in groups or len(groups) > 1
    assert any(name.startswith("group-layer1.unit") or name.startswith("group-layer1") for name in groups)


def test_units_are_found_by_shared_weights_and_numbered_by_layer():
    model, loss = scalar_mlp_loss(samples=4)  # MLP(2, [6, 6, 1])
    modules, titles = infer_modules(graph_nodes(loss))
    for depth, layer in enumerate(model.layers, start=1):
        for number, neuron in enumerate(layer.neurons):
            assert {modules[id(p)] for p in neuron.parameters()} == {f"layer{depth}.unit{number}"}
    assert titles["layer1"].startswith("layer 1 (6 units") and titles["layer3"].startswith("layer 3 (1 unit,")
    assert id(loss) not in modules  # the loss is no unit: it reads no weights


def test_small_graphs_are_not_collapsed():
    nodes, _, _ = parse(draw_dot(micrograd_example(), max_nodes=20))
    assert "collapsed-note" not in nodes


def gradient_extremes() -> tuple[Value, Value, Value, Value]:
    tiny, fine, huge = Value(1.0, label="tiny"), Value(1.0, label="fine"), Value(1.0, label="huge")
    out = tiny * 1e-12 + fine * 3.0 + huge * 1e9
    out.backward()
    return out, tiny, fine, huge


def test_color_by_grad_marks_vanishing_and_exploding_gradients_with_a_legend():
    out, tiny, fine, huge = gradient_extremes()
    nodes, _, _ = parse(draw_dot(out, color_by_grad=True))
    tiny, huge, fine = (nodes[name_of(out, node)] for node in (tiny, huge, fine))
    assert "(vanishing)" in tiny["label"] and "dashed" in tiny["style"]
    assert "(exploding)" in huge["label"]
    assert fine["fillcolor"] in SCALE
    assert {"legend-vanishing", "legend-exploding", "legend-low", "legend-high"} <= set(nodes)


def test_nan_gradients_count_as_exploding():
    x = Value(1.0, label="x")
    out = x * 2.0
    out.backward()
    x.grad = math.nan
    nodes, _, _ = parse(draw_dot(out, color_by_grad=True))
    assert "(exploding)" in nodes[name_of(out, x)]["label"]


def test_colour_scale_is_logarithmic():
    scale = Scale([1e-3, 1.0, 1e3])
    assert scale.colour(1e-3) == SCALE[0] and scale.colour(1e3) == SCALE[-1]
    assert scale.colour(1.0) == SCALE[len(SCALE) // 2]


def snapshot(root) -> list:
    return [(n.data.copy() if isinstance(n.data, np.ndarray) else n.data,
             None if n.grad is None else np.copy(n.grad), n._mark) for n in graph_nodes(root)]


def same(before: list, after: list) -> bool:
    return all(
        np.array_equal(d1, d2) and (g1 is None) == (g2 is None) and (g1 is None or np.array_equal(g1, g2))
        and m1 is m2
        for (d1, g1, m1), (d2, g2, m2) in zip(before, after, strict=True)
    )


@pytest.mark.parametrize("make", [micrograd_example, lambda: tensor_model_loss()[1]])
def test_drawing_explaining_and_stepping_change_nothing(make):
    root = make()
    before = snapshot(root)
    draw_dot(root, color_by_grad=True, max_nodes=8)
    draw_dot(root)
    explain(root)
    list(frame.draw() for frame in backward_frames(root))
    assert same(before, snapshot(root))


def test_formatting_uses_four_significant_digits():
    assert [fmt(x) for x in (3.14159, -2.0, 0.5, 1234567.0, 1e-8, 0.0)] == [
        "3.142", "-2", "0.5", "1.235e6", "1e-8", "0"]
    assert fmt(math.inf) == "inf" and fmt(math.nan) == "nan"


def test_bad_arguments_are_named_in_the_error():
    out = micrograd_example()
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(out, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(out, max_nodes=3)
    with pytest.raises(TypeError, match="params"):
        draw_dot(out, params=[out])
    with pytest.raises(TypeError, match="Value or a Tensor"):
        draw_dot(3.0)


def test_save_without_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("autograd.viz.render.scripts_dirs", lambda: [])  # where pip put graphviz-pure
    with pytest.raises(GraphvizNotInstalled, match="apt-get install graphviz"):
        save(micrograd_example(), tmp_path / "graph.svg")


def test_save_needs_a_known_suffix(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        save(micrograd_example(), tmp_path / "graph.gif")
