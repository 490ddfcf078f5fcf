"""The scalar engine: micrograd compatibility, long chains, special points (IEEE, as PyTorch)."""
from __future__ import annotations

import math

import pytest
from graphviz import Digraph

from autograd import Value, no_grad


def test_micrograd_readme_example_gives_the_same_values_and_gradients():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = Value(0.5)
    y = x
    factor = 1.00001
    for _ in range(100_000):
        y = y * factor
    y.backward()
    assert y.data == pytest.approx(0.5 * factor**100_000, rel=1e-9)
    assert x.grad == pytest.approx(factor**100_000, rel=1e-9)


def test_node_used_several_times_accumulates_every_contribution():
    a = Value(3.0)
    b = a * a + a  # db/da = 2a + 1
    c = b + b * a  # dc/da = (2a + 1)(1 + a) + b
    c.backward()
    assert a.grad == pytest.approx((2 * 3 + 1) * (1 + 3) + (3 * 3 + 3))
    assert b.grad == pytest.approx(1 + 3)


def test_grad_is_zero_before_backward():
    a = Value(1.0)
    b = a * 2
    assert a.grad == 0.0 and b.grad == 0.0


def test_numbers_work_on_either_side_of_every_operator():
    a = Value(2.0)
    results = [a + 1, 1 + a, a - 1, 1 - a, a * 3, 3 * a, a / 4, 4 / a, a**3, 3**a, -a]
    expected = [3.0, 3.0, 1.0, -1.0, 6.0, 6.0, 0.5, 2.0, 8.0, 9.0, -2.0]
    assert [r.data for r in results] == pytest.approx(expected)


def test_value_exponent_differentiates_both_base_and_exponent():
    a, b = Value(2.0), Value(3.0)
    (a**b).backward()
    assert a.grad == pytest.approx(3 * 2.0**2)
    assert b.grad == pytest.approx(2.0**3 * math.log(2.0))


def test_label_data_and_grad_attributes_are_plain_python():
    a = Value(3, label="a")
    assert a.label == "a" and type(a.data) is float and type(a.grad) is float


# ------------------------------------------------------- special points


@pytest.mark.parametrize("make, expected", [
    (lambda: Value(-1.0).log(), math.nan),
    (lambda: Value(0.0).log(), -math.inf),
    (lambda: Value(-4.0).sqrt(), math.nan),
    (lambda: Value(-8.0) ** 0.5, math.nan),
    (lambda: Value(0.0) ** -1, math.inf),
    (lambda: Value(1.0) / Value(0.0), math.inf),
    (lambda: Value(-1.0) / 0, -math.inf),
    (lambda: Value(0.0) / Value(0.0), math.nan),
    (lambda: Value(1000.0).exp(), math.inf),
    (lambda: Value(1e200) ** 2, math.inf),
    (lambda: Value(math.nan).relu(), math.nan),
])
def test_forward_at_a_special_point_gives_the_ieee_value_as_pytorch_does(make, expected):
    out = make()
    assert out.data == expected or (math.isnan(out.data) and math.isnan(expected))


@pytest.mark.parametrize("f, x, expected", [
    (lambda x: x.sqrt(), 0.0, math.inf),
    (lambda x: x**0, 0.0, 0.0),
    (lambda x: x**0.5, 0.0, math.inf),
    (lambda x: x**-1, 1e-200, -math.inf),
    (lambda x: 1 / x, 1e-200, -math.inf),
    (lambda x: 0.0**x, 0.0, 0.0),
    (lambda x: 0.0**x, 2.0, 0.0),
    (lambda x: x.log(), 0.0, math.inf),
    (lambda x: x.relu(), math.nan, 1.0),
    (lambda x: x.abs(), 0.0, 0.0),
    (lambda x: x.softplus(), -40.0, 4.248354255291589e-18),
])
def test_backward_at_a_special_point_never_raises_and_gives_pytorchs_value(f, x, expected):
    leaf = Value(x)
    f(leaf).backward()
    assert leaf.grad == pytest.approx(expected, rel=1e-12) or (math.isnan(leaf.grad) and math.isnan(expected))


def test_value_exponent_at_a_negative_base_gives_nan_for_the_exponent_derivative():
    base, exponent = Value(-2.0), Value(2.0)
    (base**exponent).backward()
    assert base.grad == -4.0 and math.isnan(exponent.grad)


def test_zero_to_the_zero_has_zero_gradients_in_base_and_exponent():
    base, exponent = Value(0.0), Value(0.0)
    out = base**exponent
    out.backward()
    assert out.data == 1.0 and base.grad == 0.0 and exponent.grad == 0.0


def test_relu_selects_so_an_infinite_upstream_gradient_stays_out_of_the_inactive_side():
    x = Value(-1.0)
    (x.relu() * math.inf).backward()
    assert x.grad == 0.0


@pytest.mark.parametrize("data", ["a", None, [1.0], 1 + 2j])
def test_non_number_is_a_type_error(data):
    with pytest.raises(TypeError):
        Value(data)


def test_a_value_computed_under_no_grad_refuses_backward_with_a_clear_error():
    x = Value(2.0)
    with no_grad():
        y = x * 3
    assert not y.requires_grad and y._prev == ()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_backward_with_grad_none_means_one():
    x = Value(3.0)
    (x * x).backward(None)
    assert x.grad == 6.0


# ------------------------------------------------- micrograd notebook's draw_dot


def trace(root):
    # micrograd's trace_graph.ipynb, unchanged: builds a set of all nodes and edges in a graph
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def micrograd_draw_dot(root):
    # micrograd's trace_graph.ipynb, unchanged apart from the name
    dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(name=uid, label="{ data %.4f | grad %.4f }" % (n.data, n.grad), shape="record")  # noqa: UP031
        if n._op:
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def test_micrograd_notebook_draw_dot_runs_on_our_value():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    nodes, edges = trace(o)
    assert {x1, x2, w1, w2, b, n, o} <= nodes
    assert len(nodes) == 10 and len(edges) == 9
    source = micrograd_draw_dot(o).source
    assert "tanh" in source and "grad 0.5000" in source  # do/dn = 1 - tanh(0.8814)**2


def test_leaves_have_no_op_and_results_name_theirs():
    a = Value(1.0)
    assert a._op == "" and a._prev == ()
    b = a + 2
    assert isinstance(b._op, str) and b._op
    assert a in b._prev


def test_second_order_is_right_when_nodes_share_one_float_object():
    """create_graph finds saved inputs by role, not by identity: shared floats are harmless."""
    one = 1.0
    a, b = Value(one), Value(one)  # float(one) is one: both leaves hold the very same object
    assert a.data is b.data
    (a * b * b).backward(create_graph=True)
    ga, gb = a.grad, b.grad
    a.grad = b.grad = 0.0
    gb.backward()  # d(2ab)/da = 2b, d(2ab)/db = 2a
    assert (ga.data, gb.data, a.grad, b.grad) == (1.0, 2.0, 2.0, 2.0)
    c = Value(-0.5)
    r = c.relu()  # its 0.0 output is the interpreter's shared zero
    (r * 0.0 + c * c).backward(create_graph=True)
    gc = c.grad
    c.grad = 0.0
    gc.backward()
    assert (gc.data, c.grad) == (-1.0, 2.0)
