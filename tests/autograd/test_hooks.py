"""Gradient hooks (``register_hook``) on both engines, against PyTorch's order and values."""
from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from autograd import Tensor, Value, grad, hooks, no_grad
from autograd.graph import backward, backward_steps
from autograd.viz import draw_dot
from autograd.viz.draw import Painter
from autograd.viz.explorer import node_payload

ENGINES = ["value", "tensor"]


def leaf(engine: str, x: float | list):
    return Value(x) if engine == "value" else Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def number(g):
    """A gradient as plain numbers, whatever library made it."""
    if hasattr(g, "detach"):  # torch
        g = g.detach().numpy()
    return np.asarray(g.data if isinstance(g, (Value, Tensor)) else g, dtype=np.float64)


def logging_hook(log: list, name: str, factor: float | None = None):
    """A hook that records (name, grad) and scales the gradient by ``factor`` (None: keeps it)."""

    def hook(g):
        log.append((name, number(g).tolist()))
        return None if factor is None else g * factor

    return hook


def torch_leaf(x):
    torch = pytest.importorskip("torch")
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def two_leaf_graph(a, w):
    """b = a * w, c = exp(b), d = c * a: ``a`` has two consumers, ``w`` one."""
    b = a * w
    c = b.exp()
    d = c * a
    return {"a": a, "w": w, "b": b, "c": c, "d": d}


@pytest.fixture(autouse=True)
def no_hooks_left_behind():
    """Each test starts and ends with an empty registry (a leftover hook would slow every pass)."""
    yield
    if hooks.any_hooks():
        gc.collect()  # only cycles left: collect them, then look again
    left = hooks.any_hooks()
    hooks.registry.clear()
    assert not left


# ------------------------------------------------------------ order and values


def tied_leaves_graph(a, w, c):
    """a and w both last feed b = w * a: leaves readied together run in the op's input order."""
    b = w * a
    d = (b * c + a * w).exp()
    return {"a": a, "w": w, "c": c, "b": b, "d": d}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("build", "leaves", "expected"),
    [(two_leaf_graph, (0.5, -1.5), "dcbaw"), (tied_leaves_graph, (0.5, -1.5, 0.25), "dcbwa")],
)
def test_hooks_fire_in_torchs_order_and_replacements_flow_on(engine, build, leaves, expected):
    """Ops in backward order, each leaf right after its last consumer; every result vs torch."""
    ours = build(*(leaf(engine, v) for v in leaves))
    theirs = build(*(torch_leaf(v) for v in leaves))
    for nodes in (ours, theirs):
        nodes["log"] = []
        for i, name in enumerate(sorted(k for k in nodes if k != "log")):
            nodes[name].register_hook(logging_hook(nodes["log"], name, factor=i + 2.0))
        nodes["d"].backward()
    assert [name for name, _ in ours["log"]] == [name for name, _ in theirs["log"]]
    assert [value for _, value in ours["log"]] == pytest.approx([value for _, value in theirs["log"]])
    assert "".join(name for name, _ in ours["log"]) == expected
    for name in "aw":
        np.testing.assert_allclose(number(ours[name].grad), number(theirs[name].grad), rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_several_hooks_run_in_registration_order_each_given_the_previous_result(engine):
    x = leaf(engine, 3.0)
    y = x * 2.0
    log = []
    y.register_hook(logging_hook(log, "first", 10.0))
    y.register_hook(lambda g: None)  # None keeps the gradient
    y.register_hook(logging_hook(log, "third", 0.5))
    (y * 1.0).backward()
    assert log == [("first", 1.0), ("third", 10.0)]
    assert number(x.grad) == 10.0  # 1 * 10 * 0.5 * dy/dx


@pytest.mark.parametrize("engine", ENGINES)
def test_intermediate_hook_gets_its_total_gradient_once(engine):
    """y feeds z twice: the hook sees the sum of both contributions, once (torch: 13 for y*y + y)."""
    x = leaf(engine, 2.0)
    y = x * 3.0
    log = []
    y.register_hook(logging_hook(log, "y"))
    (y * y + y).backward()
    assert log == [("y", 13.0)]
    assert number(x.grad) == 39.0


@pytest.mark.parametrize("engine", ENGINES)
def test_leaf_hook_runs_once_per_pass_on_the_pass_total_and_the_result_accumulates(engine):
    x = leaf(engine, [1.0, 2.0] if engine == "tensor" else 1.0)
    log = []
    x.register_hook(logging_hook(log, "x", 2.0))
    for _ in range(2):
        y = x * x + x
        (y.sum() if engine == "tensor" else y).backward()
    expected = [3.0, 5.0] if engine == "tensor" else 3.0
    assert log == [("x", expected), ("x", expected)]  # the pass's total, not the accumulated .grad
    np.testing.assert_array_equal(number(x.grad), 4 * np.asarray(expected))


@pytest.mark.parametrize("engine", ENGINES)
def test_hook_on_the_root_sees_the_seed(engine):
    x = leaf(engine, 1.5)
    y = x * 4.0
    log = []
    y.register_hook(logging_hook(log, "y", 3.0))
    y.backward(2.0 if engine == "value" else np.array(2.0))
    assert log == [("y", 2.0)]
    assert number(x.grad) == 24.0


@pytest.mark.parametrize("engine", ENGINES)
def test_hook_on_a_leaf_root_changes_what_it_accumulates(engine):
    """torch: x.register_hook(g * 5); x.backward(2) gives x.grad == 10."""
    x = leaf(engine, 1.0)
    x.register_hook(lambda g: g * 5)
    x.backward(2.0 if engine == "value" else np.array(2.0))
    assert number(x.grad) == 10.0


def test_retain_grad_keeps_the_hooked_gradient_whether_registered_before_or_after():
    torch = pytest.importorskip("torch")
    for retain_first in (True, False):
        results = []
        for make in (lambda v: Tensor(np.array(v), requires_grad=True),
                     lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)):
            x = make([1.0, 2.0])
            y = x * 3.0
            if retain_first:
                y.retain_grad()
            y.register_hook(lambda g: g * 10.0)
            if not retain_first:
                y.retain_grad()
            y.sum().backward()
            results.append((number(y.grad), number(x.grad)))
        (our_y, our_x), (torch_y, torch_x) = results
        np.testing.assert_array_equal(our_y, torch_y)
        np.testing.assert_array_equal(our_x, torch_x)
        np.testing.assert_array_equal(our_y, [10.0, 10.0])


def test_a_value_keeps_the_hooked_gradient_as_a_retained_tensor_does():
    x = Value(1.0)
    y = x * 3.0
    y.register_hook(lambda g: g * 10.0)
    (y * 2.0).backward()
    assert y.grad == 20.0 and x.grad == 60.0


def test_a_tensor_without_retain_grad_still_drops_its_gradient():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x * 3.0
    y.register_hook(lambda g: g * 10.0)
    y.sum().backward()
    assert y.grad is None
    np.testing.assert_array_equal(x.grad, [30.0])


# ------------------------------------------------------------ create_graph


@pytest.mark.parametrize("engine", ENGINES)
def test_second_order_flows_through_a_hook_under_create_graph(engine):
    """The hook gets a node and returns one (g * y): the first and the second derivative vs torch."""
    torch = pytest.importorskip("torch")
    x = leaf(engine, 2.0)
    y = x**3
    seen = []
    with y.register_hook(lambda g: seen.append(type(g)) or g * y):  # it refers to y: remove it when done
        y.backward(create_graph=True)
        first = x.grad
        assert seen == [type(x)] and isinstance(first, type(x))
        x.grad = None
        first.backward()

    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ty = tx**3
    ty.register_hook(lambda g: g * ty)
    (tfirst,) = torch.autograd.grad(ty, tx, create_graph=True)
    tfirst.backward()
    assert number(first) == pytest.approx(tfirst.item())  # 96
    assert number(x.grad) == pytest.approx(tx.grad.item())  # 1248: y's hook runs in the second pass too


@pytest.mark.parametrize("engine", ENGINES)
def test_leaf_hook_under_create_graph_returns_a_differentiable_gradient(engine):
    """x.register_hook(g * x); (x**3).backward(create_graph=True), then x.grad.backward(): vs torch."""
    torch = pytest.importorskip("torch")
    results = []
    for x in (leaf(engine, 2.0), torch_leaf(2.0)):
        with x.register_hook(lambda g, x=x: g * x):
            (x**3).backward(create_graph=True)
            first = x.grad
            x.grad = None
            first.backward()  # the hook runs again on this pass: 9 x^2 * x
        results.append((number(first), number(x.grad), isinstance(first, (Value, Tensor, torch.Tensor))))
    assert results[0] == results[1] == (24.0, 72.0, True)


@pytest.mark.parametrize("engine", ENGINES)
def test_under_create_graph_a_raw_replacement_becomes_a_constant_node(engine):
    x = leaf(engine, 2.0)
    y = x**2
    y.register_hook(lambda g: 5.0 if engine == "value" else np.array(5.0))
    y.backward(create_graph=True)
    assert isinstance(x.grad, type(x)) and number(x.grad) == 20.0
    g = x.grad
    x.grad = None
    g.backward()
    assert number(x.grad) == 10.0  # d(5 * 2x)/dx: the replacement is a constant


# ------------------------------------------------------------ autograd.grad


def test_grad_runs_the_inputs_and_ops_hooks_but_not_other_leaves():
    """torch.autograd.grad(y * z, [x]) with hooks on x, y = x * x and a leaf z: x and y fire, z not."""
    torch = pytest.importorskip("torch")
    results = []
    for make in (lambda v: Tensor(np.array(v), requires_grad=True),
                 lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)):
        log = []
        x, z = make(2.0), make(3.0)
        y = x * x
        y.register_hook(logging_hook(log, "y", 10.0))
        x.register_hook(logging_hook(log, "x", 100.0))
        z.register_hook(logging_hook(log, "z", 1000.0))
        if isinstance(x, Tensor):
            (found,) = backward(y * z, np.array(1.0), inputs=(x,))
        else:
            (found,) = torch.autograd.grad(y * z, [x])
        results.append((log, number(found), x.grad, z.grad))
    (log, found, x_grad, z_grad), (torch_log, torch_found, _, _) = results
    assert log == torch_log == [("y", 3.0), ("x", 120.0)]
    assert found == torch_found == 12000.0
    assert x_grad is None and z_grad is None


@pytest.mark.parametrize("engine", ENGINES)
def test_functional_grad_returns_the_hooked_gradient_of_its_argument(engine):
    def f(x):
        x.register_hook(lambda g: g * 2.0)
        y = x * x
        y.register_hook(lambda g: g + 1.0)
        return y * 3.0 if engine == "value" else (y * 3.0).sum()

    arg = 1.5 if engine == "value" else np.array([1.5, -1.0])
    expected = 2.0 * (3.0 + 1.0) * 2.0 * np.asarray(arg)  # x hook(y hook(3) * 2x)
    np.testing.assert_allclose(grad(f)(arg), expected)


def test_grad_at_an_intermediate_input_returns_its_hooked_gradient():
    x = Tensor(np.array(2.0), requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * 10.0)
    (found,) = backward(y * 3.0, np.array(1.0), inputs=(y,))
    assert found == 30.0


# ------------------------------------------------------------ errors


def test_a_tensor_that_needs_no_gradient_refuses_a_hook_as_torch_does():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        Tensor([1.0]).register_hook(lambda g: g)


def test_a_value_computed_under_no_grad_refuses_a_hook():
    with no_grad():
        constant = Value(1.0) * 2.0
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        constant.register_hook(lambda g: g)


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="register_hook needs a function"):
        Value(1.0).register_hook(3.0)


@pytest.mark.parametrize("on_leaf", [False, True])
def test_a_hook_that_changes_the_shape_is_an_error_naming_it(on_leaf):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2.0

    def summing(g):
        return g.sum(keepdims=True)

    (x if on_leaf else y).register_hook(summing)
    with pytest.raises(RuntimeError, match=r"hook 'summing' has changed the size of value.*\(1,\).*\(2,\)"):
        y.sum().backward()
    assert x.grad is None  # nothing half-accumulated


@pytest.mark.parametrize(("engine", "bad"), [("tensor", [1.0]), ("value", "1.0")])
def test_a_hook_returning_no_gradient_is_a_type_error(engine, bad):
    x = leaf(engine, 1.0)
    x.register_hook(lambda g: bad)
    with pytest.raises(TypeError, match="hook '<lambda>' returned"):
        (x * 2.0).backward()


def test_a_hooks_result_takes_the_tensors_dtype():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    x.register_hook(lambda g: g.astype(np.float64) * 2)
    (x * 3.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_a_failing_hook_leaves_hooked_leaves_as_they_were():
    x = Tensor(np.array([1.0]), requires_grad=True)
    x.grad = np.array([5.0])
    x.register_hook(lambda g: g * 2)
    y = x * 2.0
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0])


# ------------------------------------------------------------ handles


@pytest.mark.parametrize("engine", ENGINES)
def test_removed_hooks_no_longer_run_and_handles_work_as_with_blocks(engine):
    x = leaf(engine, 1.0)
    log = []
    handle = x.register_hook(logging_hook(log, "x", 2.0))
    with x.register_hook(logging_hook(log, "with", 3.0)):
        (x * 1.0).backward()
    handle.remove()
    handle.remove()  # twice is harmless
    (x * 1.0).backward()
    assert log == [("x", 1.0), ("with", 2.0)]
    assert number(x.grad) == 7.0  # 6 from the hooked pass, 1 from the plain one


@pytest.mark.parametrize("engine", ENGINES)
def test_removal_during_a_pass_follows_torch(engine):
    """torch: a later node's hook removed by an earlier one does not run; a sibling removed by the
    first hook of the same node still runs this pass; a hook removing itself runs once."""
    x = leaf(engine, 1.0)
    y = x * 2.0
    z = y * 3.0
    log, handles = [], {}

    def on_z(g):
        log.append("z")
        handles["x"].remove()

    def first_on_y(g):
        log.append("y1")
        handles["y2"].remove()
        handles["y1"].remove()

    handles["x"] = x.register_hook(lambda g: log.append("x"))
    z.register_hook(on_z)
    handles["y1"] = y.register_hook(first_on_y)
    handles["y2"] = y.register_hook(lambda g: log.append("y2"))
    z.backward()
    z.backward()
    assert log == ["z", "y1", "y2", "z"]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_same_hook_registered_twice_runs_twice(engine):
    x = leaf(engine, 1.0)
    double = lambda g: g * 2  # noqa: E731
    first = x.register_hook(double)
    x.register_hook(double)
    (x * 1.0).backward()
    assert number(x.grad) == 4.0
    first.remove()
    x.grad = None if engine == "tensor" else 0.0
    (x * 1.0).backward()
    assert number(x.grad) == 2.0


# ------------------------------------------------------------ the registry


@pytest.mark.parametrize("engine", ENGINES)
def test_after_the_last_remove_the_registry_is_empty_and_backward_agrees(engine):
    x = leaf(engine, 0.7)
    handle = (x * 2.0).register_hook(lambda g: g)  # the intermediate dies at once
    y = (x * x).tanh()
    y.register_hook(lambda g: g).remove()
    handle.remove()
    assert not hooks.registry
    y.backward()
    assert number(x.grad) == pytest.approx(2 * 0.7 * (1 - np.tanh(0.49) ** 2))


def test_hooks_on_graphs_nobody_holds_are_forgotten():
    """Hooks registered each step and never removed (PyTorch's habit) do not keep old graphs alive."""
    w = Tensor(np.ones(3), requires_grad=True)
    for _ in range(100):
        y = w * 2.0
        y.register_hook(lambda g: g)
        y.sum().backward()
    assert len(hooks.registry) <= 40  # pruned as it grows, not 100 graphs
    del y
    gc.collect()
    assert not hooks.any_hooks()  # the next pass takes the plain path


def test_hooks_in_two_threads_on_different_graphs_see_their_own_gradients():
    def work(i: int) -> list:
        x = Tensor(np.full(4, float(i + 1)), requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(float(g[0])) or g * (i + 1))
        for _ in range(30):
            y = x * x
            y.register_hook(lambda g: g + i)
            y.sum().backward()
        return [seen, x.grad.tolist()]

    results = [None, None]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, work(i))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (seen, total) in enumerate(results):
        x = i + 1.0
        assert seen == [(1 + i) * 2 * x] * 30
        assert total == [30 * (1 + i) * 2 * x * (i + 1)] * 4


# ------------------------------------------------------------ pictures


def test_draw_dot_marks_hooked_nodes_with_their_hook_names_and_a_border():
    x = Value(2.0, label="x")
    y = x * 3.0
    y.label = "y"

    def clip(g):
        return max(min(g, 1.0), -1.0)

    with y.register_hook(clip), x.register_hook(clip), x.register_hook(lambda g: g):
        source = draw_dot(y.tanh()).source
        payload, _ = node_payload(Painter(y.tanh(), "LR", True, None, False, 150))
    assert "hook: clip" in source and r"2 hooks: clip, \<lambda\>" in source  # escaped for the record
    assert source.count("#7b3294") == 2  # the two hooked records, nothing else
    assert sorted(n["hooks"] for n in payload.values() if "hooks" in n) == [["clip"], ["clip", "<lambda>"]]
    assert "hook" not in draw_dot(y.tanh()).source  # removed: the picture is plain again


def test_the_step_through_shows_what_flows_after_an_ops_hook():
    x = Value(2.0)
    y = x * 3.0
    z = y * 1.0
    with y.register_hook(lambda g: g * 10.0):
        steps = {id(node): (node_grad, sent) for node, node_grad, sent in backward_steps(z, 1.0)}
    node_grad, sent = steps[id(y)]
    assert node_grad == 10.0 and sent[0] == (x, 30.0)


def test_a_value_hook_may_return_a_number_or_a_value_and_grad_stays_a_float():
    x = Value(1.0)
    y = x * 2.0
    y.register_hook(lambda g: Value(3.0))  # a node in a first-order pass: its number is used
    x.register_hook(lambda g: int(g) + 1)
    (y * 1.0).backward()
    assert type(y.grad) is float and y.grad == 3.0
    assert type(x.grad) is float and x.grad == 7.0
