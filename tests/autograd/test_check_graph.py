"""check_graph: each recorded op's backward against central differences of its own forward."""
from __future__ import annotations

import numpy as np
import pytest
from test_gradcheck import WrongSquare
from test_op_table import BINARY_OPS, UNARY_OPS, VALUE_BINARY, VALUE_UNARY

import nn
from autograd import (
    Function,
    GradcheckError,
    Tensor,
    Value,
    check_graph,
    concatenate,
    maximum,
    minimum,
    no_grad,
    stack,
    where,
)
from autograd.check import FULL_LIMIT, recorded

rng = np.random.default_rng(0)


def function(name: str, forward, backward, **attributes) -> type[Function]:
    """A custom Function class named ``name`` with the given forward(ctx, *inputs) and backward(ctx, g)."""
    methods = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type(name, (Function,), {**methods, **attributes})


def _save_both_and_multiply(ctx, a, b):
    ctx.save_for_backward(a, b)
    return a * b


WrongSignProduct = function(  # a * b with the wrong sign on b's gradient
    "WrongSignProduct", _save_both_and_multiply,
    lambda ctx, g: (g * ctx.saved_tensors[1], -g * ctx.saved_tensors[0]),
)


class Scale(Function):
    """a * k for a keyword constant k: passes only if check_graph re-runs forward with k."""

    @staticmethod
    def forward(ctx, a, *, k=1.0):
        ctx.k = k
        return a * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k


def chain(x, n: int, broken_at: int | None = None, broken=WrongSquare):  # WrongSquare: 3 a g, not 2 a g
    """n one-op steps from x (each step exactly one recorded op); step ``broken_at`` is the broken op."""
    steps = [lambda h: h.tanh(), lambda h: h * 0.9, lambda h: h + 0.1, lambda h: h.sigmoid()]
    h = x
    for i in range(n):
        h = broken.apply(h) if i == broken_at else steps[i % len(steps)](h)
    return h


# ------------------------------------------------- a broken op among many


@pytest.mark.parametrize("make", [lambda: Tensor(rng.standard_normal((3, 4)), requires_grad=True),
                                  lambda: Value(0.4)], ids=["tensor", "value"])
def test_broken_function_among_200_ops_is_named_with_its_position_and_values(make):
    x = make()
    out = chain(x, 200, broken_at=136)
    root = out.sum() if isinstance(out, Tensor) else out * 1.0
    with pytest.raises(GradcheckError) as info:
        check_graph(root)
    err = info.value
    assert err.position == 137 and err.node._fn is WrongSquare
    assert "op 137 of 201 in forward order, WrongSquare" in str(err)
    assert err.input_index == 0
    assert err.analytic == pytest.approx(1.5 * err.numerical, rel=1e-6)
    assert f"analytic {err.analytic:.10g} vs numerical {err.numerical:.10g}" in str(err)


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_wrong_sign_in_one_input_names_that_input(engine):
    if engine == "tensor":
        a, b = (Tensor(rng.standard_normal(5), requires_grad=True) for _ in range(2))
    else:
        a, b = Value(0.3), Value(-1.2)
    h = chain(a, 120)
    out = WrongSignProduct.apply(h, chain(b, 80))
    root = chain(out, 3)
    with pytest.raises(GradcheckError) as info:
        check_graph(root.sum() if engine == "tensor" else root)
    err = info.value
    assert err.node is out and err.input_index == 1
    assert err.position == 201  # 120 + 80 ops before it
    assert err.analytic == pytest.approx(-err.numerical, rel=1e-6)
    assert "WrongSignProduct" in str(err) and "input 1" in str(err)


def test_first_broken_op_in_forward_order_is_the_one_named():
    x = Tensor(rng.standard_normal(4), requires_grad=True)
    first = WrongSquare.apply(x.tanh())
    second = WrongSquare.apply(first.sin())
    with pytest.raises(GradcheckError) as info:
        check_graph(second.sum())
    assert info.value.node is first and info.value.position == 2


def test_broken_op_on_a_large_input_is_found_along_random_directions():
    x = Tensor(rng.standard_normal((20, 10)), requires_grad=True)
    assert x.size > FULL_LIMIT
    with pytest.raises(GradcheckError, match="WrongSquare.*a random direction"):
        check_graph(WrongSquare.apply(x.tanh()).sum())


def test_correct_graph_returns_true_and_leaves_gradients_alone():
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    loss = chain(x, 50).sum()
    loss.backward()
    before = x.grad.copy()
    assert check_graph(loss) is True
    np.testing.assert_array_equal(x.grad, before)


# ------------------------------------------------------------ every built-in op


def _smooth_point(op, arity: int, shape=(3, 2)):
    """Inputs in the op's smooth domain; where_sqrt's x > 0 (at x <= 0 sqrt's own derivative is
    infinite, which check_graph reports for that op although where's selection hides it downstream)."""
    low = 0.1 if op.name == "where_sqrt" else -2
    drawn = [rng.uniform(low, 2, shape) for _ in range(arity)]
    shifted = op.shift(*drawn)
    return [np.asarray(x) for x in (shifted if arity > 1 else (shifted,))]


@pytest.mark.parametrize("op", UNARY_OPS, ids=lambda op: op.name)
def test_every_unary_op_of_the_table_passes_on_tensors(op):
    (x,) = _smooth_point(op, 1)
    t = Tensor(x, requires_grad=True)
    assert check_graph((op.f(t) * Tensor(rng.standard_normal(x.shape))).sum())


@pytest.mark.parametrize("op", BINARY_OPS, ids=lambda op: op.name)
def test_every_binary_op_of_the_table_passes_on_broadcast_tensors(op):
    a, b = (Tensor(x, requires_grad=True) for x in _smooth_point(op, 2))
    assert check_graph(op.f(a, b[:1]).sum())


@pytest.mark.parametrize("op", VALUE_UNARY + VALUE_BINARY, ids=lambda op: op.name)
def test_every_op_of_the_table_passes_on_values(op):
    arity = 2 if op in VALUE_BINARY else 1
    xs = [Value(float(x)) for x in _smooth_point(op, arity, shape=())]
    assert check_graph(op.f(*xs) * 1.5)


def test_reductions_movement_softmax_and_joining_ops_pass_with_their_axes():
    a = Tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    b = Tensor(rng.standard_normal((4, 5)), requires_grad=True)
    parts = [
        a.sum(axis=(0, -1)), a.mean(axis=1)[0], a.var(axis=-1, ddof=1)[:, 0], a.max(axis=0)[:, 1],
        a.min(axis=(1, 2)), a.logsumexp(axis=-1)[0], a.softmax(axis=1)[0, :, 0],
        a.log_softmax(axis=0)[1, :, 1],
        a.transpose(2, 0, 1).reshape(2, 12)[0], (a[..., 0] @ b).sum(axis=0), a.clip(-0.5, 0.5).flatten(),
        a[0, :1].squeeze().unsqueeze(0), a.astype(np.float32)[0, :, 0].astype(np.float64),
    ]
    out = sum((p * rng.standard_normal(p.shape)).sum() for p in parts)
    out = out + stack([a[0, 0], b[0, :2]]).exp().sum() + concatenate([a[0, 0], b[0]]).tanh().sum()
    out = out + where(a.data > 0, a, a * 2).sum() + maximum(a, 0.1).sum() + minimum(a, b[:1, :2]).sum()
    assert check_graph(out)


def test_nn_model_with_linear_relu_and_cross_entropy_passes():
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))
    x = Tensor(rng.standard_normal((8, 4)).astype(np.float32))
    loss = nn.functional.cross_entropy(model(x), rng.integers(0, 3, 8))
    assert check_graph(loss)


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "hinge_loss"])
def test_fused_losses_pass_with_their_reduction(loss):
    x = Tensor(rng.uniform(0.1, 0.9, (4, 3)), requires_grad=True)
    y = Tensor(rng.choice([-1.0, 1.0], (4, 3)) if loss == "hinge_loss" else rng.uniform(0, 1, (4, 3)),
               requires_grad=loss != "hinge_loss")
    for reduction in ("mean", "sum"):
        assert check_graph(getattr(nn.functional, loss)(x * 1.0, y, reduction=reduction))


def test_nll_loss_after_log_softmax_passes():
    logits = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    targets = rng.integers(0, 4, 5)
    assert check_graph(nn.functional.nll_loss(logits.log_softmax(axis=-1), targets, reduction="sum"))


# ------------------------------------------------------------------ params


def test_params_are_respected_softmax_axis_leaky_slope_pow_constant():
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = rng.standard_normal((3, 4))
    soft = x.softmax(axis=0)  # not the default axis -1
    leaky = x.leaky_relu(0.3)
    powered = x**3
    assert recorded(soft)[1] == {"axis": 0}
    assert recorded(leaky)[1] == {"slope": 0.3}
    assert recorded(powered)[1] == {"exponent": 3}
    assert check_graph(((soft + leaky + powered) * w).sum())


def test_a_custom_functions_keyword_params_are_used_on_both_engines():
    t = Tensor(rng.standard_normal(3), requires_grad=True)
    assert check_graph(Scale.apply(t, k=3.0).sum())
    assert check_graph(Scale.apply(Value(0.5), k=3.0) * 2)


def test_value_leaky_relu_slope_and_pow_constant_are_respected():
    a, b = Value(-0.7), Value(1.3)
    assert check_graph(a.leaky_relu(0.25) * b.leaky_relu(0.25) + a**3 + b**-1.5 + (a * b) ** 2)


def test_ops_without_params_keep_none_on_their_context():
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    assert not hasattr((x * 2).exp()._ctx, "params")


# -------------------------------------------------------------------- kinks


def test_kinks_relu_abs_clip_leaky_and_ties_are_not_false_alarms():
    x = Tensor(np.array([-1.0, 0.0, 0.5, 0.0, 2.0, 0.5]), requires_grad=True)
    tied = x.max() + x.min() + x.reshape(2, 3).max(axis=1).sum() + maximum(x, x[::-1]).sum()
    kinked = x.relu().sum() + x.abs().sum() + x.clip(0.0, 2.0).sum() + x.leaky_relu(0.2).sum()
    assert check_graph(tied + kinked + x.relu().relu().sum())


def test_kinks_on_values_and_a_large_tensor_are_not_false_alarms():
    assert check_graph(Value(0.0).relu() + Value(0.0).abs() + Value(0.0).leaky_relu(0.1))
    zeros_and_more = np.maximum(rng.standard_normal((20, 10)), 0)  # about half exactly 0
    t = Tensor(zeros_and_more, requires_grad=True)
    assert check_graph((t.relu() * rng.standard_normal(t.shape)).sum())


def test_hinge_loss_at_its_margin_is_not_a_false_alarm():
    x = Tensor(np.array([1.0, -1.0, 0.5]), requires_grad=True)
    y = Tensor(np.array([1.0, -1.0, 1.0]))
    assert check_graph(nn.functional.hinge_loss(x, y))


def test_a_wrong_gradient_at_a_kink_outside_the_one_sided_range_is_caught():
    # right derivative at 0 is 1, left 0: 2 is neither
    bad_relu = function("BadRelu", lambda ctx, a: np.maximum(a, 0), lambda ctx, g: 2 * g)
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="BadRelu"):
        check_graph(bad_relu.apply(x).sum())


# ------------------------------------------------------------------- float32


def test_float32_graph_is_checked_in_float64():
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    loss = (chain(x, 40) * x.softmax(axis=-1)).sum()
    assert loss.dtype == np.float32
    assert check_graph(loss, atol=1e-9, rtol=1e-7)  # float32 differences could never be this close


def test_broken_op_in_a_float32_graph_is_named():
    x = Tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)
    with pytest.raises(GradcheckError, match="op 11 of 21 in forward order, WrongSquare"):
        check_graph(chain(x, 20, broken_at=10).sum())


# ----------------------------------------------------------- non-finite, bad input


def test_non_finite_output_of_an_op_is_reported():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        loss = (x * 1.0).log().sum()
    with pytest.raises(GradcheckError, match=r"op 2 of 3 in forward order, Log 'log' .*non-finite.*-inf"):
        check_graph(loss)


def test_non_finite_derivative_is_reported():
    with pytest.raises(GradcheckError, match=r"Sqrt.*non-finite gradient"):
        check_graph(Value(0.0).sqrt() * 2)


def test_input_written_in_place_since_the_op_is_refused():
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    loss = (w.tanh() * 2).sum()
    with no_grad():
        w[0] = 5.0
    with pytest.raises(RuntimeError, match="op 1 of 3 .*input 0 was written in place"):
        check_graph(loss)


def test_a_tensor_whose_data_was_replaced_is_checked_at_the_data_the_op_recorded():
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    loss = (w.tanh() * 2).sum()
    w.data = np.full(3, 50.0)  # a new array: the op's recorded one is intact
    assert check_graph(loss)


def test_value_changed_since_the_op_is_refused():
    a = Value(0.5)
    out = a.tanh() * 2
    a.data = 0.9  # an optimizer step
    with pytest.raises(RuntimeError, match="Tanh.*re-run at the inputs it recorded gives"):
        check_graph(out)


def test_wrong_number_or_shape_of_gradients_is_named():
    two_for_one = function("TwoForOne", lambda ctx, a: a * 2, lambda ctx, g: (g * 2, g))
    wrong_shape = function("WrongShape", lambda ctx, a: a * 2, lambda ctx, g: (g * 2).sum())
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    with pytest.raises(GradcheckError, match="TwoForOne.*2 gradients for 1 inputs"):
        check_graph(two_for_one.apply(x).sum())
    with pytest.raises(GradcheckError, match=r"WrongShape.*input 0 has shape \(\)"):
        check_graph(wrong_shape.apply(x).sum())


def test_a_leaf_or_a_non_node_root_is_refused():
    with pytest.raises(ValueError, match="no op is recorded"):
        check_graph(Tensor([1.0], requires_grad=True))
    with no_grad():
        constant = Value(1.0) * 2
    with pytest.raises(ValueError, match="no op is recorded"):
        check_graph(constant)
    with pytest.raises(TypeError, match="Value or a Tensor"):
        check_graph(3.0)


def test_error_message_names_op_label_shape_input_element_and_both_values():
    x = Tensor(rng.standard_normal((2, 2)), requires_grad=True)
    h = x.tanh()
    h.label = "hidden"
    bad = WrongSquare.apply(h)
    bad.label = "square"
    with pytest.raises(GradcheckError) as info:
        check_graph(bad.sum())
    message = str(info.value)
    assert message.startswith(
        "check_graph: op 2 of 3 in forward order, WrongSquare (label 'square', output shape (2, 2)): "
        "gradient mismatch at input 0, element ("
    )
    assert "atol=1e-05, rtol=0.001" in message and "J^T v" in message
    assert info.value.element in [(i, j) for i in range(2) for j in range(2)]


def test_a_domain_border_uses_the_defined_side_on_small_and_large_inputs():
    small = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    large = Tensor(np.abs(rng.standard_normal((20, 10))) * (rng.random((20, 10)) > 0.5), requires_grad=True)
    assert check_graph((small**2.5).sum() + (large**2.5).sum())
    assert check_graph(Value(0.0) ** 2.5 * 1.0)
    # x**1.5 at 0: the one-sided difference is eps**0.5 (unbounded curvature), so a smaller step
    with pytest.raises(GradcheckError, match="PowConstant"):
        check_graph(Value(0.0) ** 1.5 * 1.0)
    assert check_graph(Value(0.0) ** 1.5 * 1.0, eps=1e-12)


def test_an_elementwise_op_is_checked_at_every_element_of_a_large_broadcast_input():
    unscaled_product = function(  # b's gradient forgets to sum over the broadcast: only row 0 counts
        "UnscaledProduct", _save_both_and_multiply,
        lambda ctx, g: (g * ctx.saved_tensors[1], (g * ctx.saved_tensors[0])[:1]), kind="elementwise",
    )
    a = Tensor(rng.standard_normal((30, 8)), requires_grad=True)
    b = Tensor(rng.standard_normal((1, 8)), requires_grad=True)
    ties = maximum(a, a * 1.0).sum() + a.relu().relu().sum() + (a * b).sum()
    assert check_graph(ties)
    with pytest.raises(GradcheckError, match=r"UnscaledProduct.*input 1, element \(0, \d\)") as info:
        check_graph(unscaled_product.apply(a, b).sum())
    assert info.value.input_index == 1
