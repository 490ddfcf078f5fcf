"""Stepping through backward (frames) and explain(): the numbers must be the chain rule's."""
from __future__ import annotations

import numpy as np
import pytest

from autograd import Function, Tensor, Value
from autograd import functions as ops
from autograd.viz import backward_frames, explain
from autograd.viz.core import derivative_rules, fmt, graph_nodes


def expression() -> tuple[Value, dict[str, Value]]:
    """L = (a * b + c) * f, micrograd's first example, before backward."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    out = d * f
    out.label = "L"
    return out, {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d}


def test_one_frame_per_op_plus_start_and_finish():
    out, _ = expression()
    frames = list(backward_frames(out))
    recorded = [n for n in graph_nodes(out) if n._fn is not None]
    assert len(frames) == len(recorded) + 2
    assert frames[0].node is None and frames[-1].node is None
    assert [f.index for f in frames] == list(range(len(frames)))


def test_frames_visit_each_op_after_all_its_consumers():
    x = Value(1.5, label="x")
    y = x * x
    out = y * 2.0 + y.tanh()
    visited = [f.node for f in backward_frames(out) if f.node is not None]
    for position, node in enumerate(visited):
        later = visited[position + 1:]
        assert not any(node in consumer._parents for consumer in later)


def test_frames_end_with_the_gradients_backward_gives():
    out, named = expression()
    final = list(backward_frames(out))[-1]
    out.backward()
    for node in named.values():
        assert final.grads[id(node)] == pytest.approx(node.grad)


def test_each_contribution_is_local_derivative_times_upstream():
    out, named = expression()
    frames = {f.node.label: f for f in backward_frames(out) if f.node is not None}
    (to_a, to_b) = frames["e"].contributions
    assert to_a.local == named["b"].data and to_b.local == named["a"].data
    assert to_a.upstream == pytest.approx(named["f"].data)  # dL/de = dL/dd = f
    assert to_a.value == pytest.approx(to_a.local * to_a.upstream)


def test_frame_picture_marks_the_visited_op_and_writes_the_product_on_edges():
    out, named = expression()
    frame = [f for f in backward_frames(out) if f.node is named["e"]][0]
    source = frame.draw().source
    contribution = frame.contributions[0]
    note = f"{fmt(contribution.upstream)} × {fmt(contribution.local)} = {fmt(contribution.value)}"
    assert note in source
    keys = {id(node): f"n{k}" for k, node in enumerate(graph_nodes(out))}
    assert "grad ?" not in source.split(f"{keys[id(named['a'])]} [")[1].split("\n")[0]
    assert f"{keys[id(named['e'])]}.op" in source and "penwidth=3" in source
    assert str(id(named["a"])) not in source  # no raw Python ids: they made poor tooltips


def test_frames_of_a_tensor_graph_match_its_gradients():
    w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True, label="w")
    x = Tensor(np.array([0.3, -0.7]), label="x")
    out = ((w @ x).tanh() ** 2).sum()
    final = list(backward_frames(out))[-1]
    out.backward()
    np.testing.assert_allclose(final.grads[id(w)], w.grad)


def test_explain_shows_formula_numbers_and_gradients():
    out, named = expression()
    text = explain(out)
    out.backward()
    assert "e = a * b    [Mul]" in text
    a, b, f = named["a"], named["b"], named["f"]
    upstream = named["e"].grad
    assert f"dL/da = g * b = {fmt(upstream)} × {fmt(b.data)} = {fmt(a.grad)}" in text
    assert f"dL/dd = g * f = 1 × {fmt(f.data)} = {fmt(named['d'].grad)}" in text
    assert f"dL/dc = {fmt(named['c'].grad)}" in text.splitlines()[-1]


def test_explain_accumulates_a_value_used_twice():
    x = Value(3.0, label="x")
    out = x * x
    out.label = "y"
    text = explain(out)
    assert "dy/dx = g * x = 1 × 3 = 3" in text  # Mul's "g * b", in the inputs' names
    assert "dy/dx += g * x = 1 × 3 = 3  ->  dy/dx = 6" in text


def test_explain_brackets_compound_names_and_states_a_labelled_sum_once():
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1w1", "x2w2"
    s = x1w1 + x2w2
    s.label = "x1w1 + x2w2"
    o = (s * 2.0).tanh()
    o.label = "o"
    text = explain(o)
    assert "do/d(x1w1 + x2w2) = g * in1" in text
    assert "\nx1w1 + x2w2    [Add]" in text and "x1w1 + x2w2 = x1w1 + x2w2" not in text


def test_explain_names_unlabelled_leaves_by_role_without_clashing_with_labels():
    a, b = Value(2.0, label="a"), Value(3.0, label="in1")
    c = (b * a) * 3.0
    c.label = "c"
    text = explain(c)
    assert "c = v1 * in2    [Mul]" in text  # the constant 3 is a leaf: "in", and "in1" is taken
    assert "dc/din1 = g * a = 3 × 2 = 6" in text  # a label "a" never meets Mul's letters
    assert "with a = " not in text


def test_explain_latex_is_one_align_block_with_partials():
    out, _ = expression()
    tex = explain(out, latex=True)
    lines = tex.splitlines()
    assert lines[0] == r"\begin{align*}" and lines[-1] == r"\end{align*}"
    chain = r"\frac{\partial L}{\partial a} &= \frac{\partial L}{\partial e}\,\frac{\partial e}{\partial a}"
    assert chain in tex
    assert r"e &= a \cdot b" in tex


def test_derivative_rules_come_from_the_op_tables_rule():
    assert derivative_rules(ops.Mul) == ("a * b", ["da = g * b", "db = g * a"])
    assert derivative_rules(ops.Tanh) == ("tanh(a)", ["da = g * (1 - out ** 2)"])
    op, rules = derivative_rules(ops.Maximum)
    assert op == "maximum(a, b)"
    assert rules == [f"da = {ops.Maximum.rule[0]}", f"db = {ops.Maximum.rule[1]}"]


def test_a_function_without_rule_shows_its_docstring_first_line_unparsed():
    class Twice(Function):
        """2 * a;  da = 2 * g."""

        @staticmethod
        def forward(ctx, a):
            return 2 * a

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    assert derivative_rules(Twice) == ("2 * a;  da = 2 * g.", [])
    out = Twice.apply(Value(3.0, label="x"))
    assert "[Twice: 2 * a;  da = 2 * g.]" in explain(out)
    assert "Twice.backward(g) = 1 × 2 = 2" in explain(out)


def test_explain_names_the_output_in_rules_that_use_it():
    x = Value(0.5, label="x")
    y = x.tanh()
    y.label = "y"
    assert f"dy/dx = g * (1 - y ** 2) = 1 × {fmt(1 - y.data ** 2)} = " in explain(y)


def test_frame_captions_name_nodes_as_the_picture_does():
    w = Tensor(np.array([[1.0, -2.0]]), requires_grad=True)
    out = (w * 3.0).tanh().sum()
    for frame in list(backward_frames(out, params={"layer.w": w}))[1:-1]:
        name = frame.caption.split(" at ")[1].split(" (")[0]
        assert f'label="{{ {name} |' in frame.draw().source
    assert "layer.w" in list(backward_frames(out, params={"layer.w": w}))[-1].draw().source


def test_explain_a_tensor_graph_gives_gradient_norms():
    w = Tensor(np.array([[3.0, 4.0]]), requires_grad=True, label="w")
    out = (w * 1.0).sum()
    out.label = "s"
    text = explain(out)
    assert "ds/dw = g * const = ‖g‖ 1.414" in text  # the 1.0 is raw data; all ones: norm sqrt(2)
