"""The shared graph core, checked on both node types: grad mode, accumulation, custom Functions."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

from autograd import (
    Function,
    Tensor,
    Value,
    enable_grad,
    grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from autograd.testing import assert_gradients_match, tensors, values


def scalar(x: float):
    return Value(x)


def tensor(x: float):
    return Tensor(np.array([x, 2 * x]), requires_grad=True)


def total(node):
    """A one-element result to call backward on, for either engine."""
    return node.sum() if isinstance(node, Tensor) else node


def grad_of(node):
    return np.asarray(node.grad, dtype=float)


def retained(node):
    """An intermediate whose .grad survives backward: always for a Value, on request for a Tensor."""
    if isinstance(node, Tensor):
        node.retain_grad()
    return node


ENGINES = pytest.mark.parametrize("leaf", [scalar, tensor], ids=["Value", "Tensor"])


# ---------------------------------------------------------------- grad mode


@ENGINES
def test_no_grad_records_nothing(leaf):
    x = leaf(1.5)
    with no_grad():
        y = (x * x).exp() + 1
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert y.is_leaf and y._parents == ()


@ENGINES
def test_enable_grad_inside_no_grad_records_again(leaf):
    x = leaf(1.5)
    with no_grad():
        with enable_grad():
            y = x * x
        z = x * x
    total(y).backward()
    np.testing.assert_allclose(grad_of(x), 2 * np.asarray(x.data))
    assert z.is_leaf


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("inside")
    assert is_grad_enabled()


def test_set_grad_enabled_called_alone_switches_recording_as_in_pytorch():
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled()
        assert (Value(1.0) * 2).is_leaf
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_block_restores_the_mode_from_before_the_call():
    with no_grad():
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


@pytest.mark.parametrize("decorate", [no_grad, no_grad()], ids=["@no_grad", "@no_grad()"])
def test_no_grad_decorates_a_function(decorate):
    @decorate
    def square(v):
        """Doc kept."""
        return v * v

    assert square(Value(3.0)).is_leaf and square.__doc__ == "Doc kept."
    assert is_grad_enabled()


def test_no_grad_on_a_generator_function_holds_while_the_generator_runs():
    @no_grad()
    def squares(v):
        for _ in range(2):
            sent = yield v * v
            assert sent == "next"
        return "done"

    generator = squares(Value(3.0))
    assert is_grad_enabled()
    assert next(generator).is_leaf
    assert is_grad_enabled() and not (Value(1.0) * 2).is_leaf
    assert generator.send("next").is_leaf
    with pytest.raises(StopIteration, match="done"):
        generator.send("next")


def test_enable_grad_decorates_a_function_called_under_no_grad():
    @enable_grad()
    def square(v):
        return v * v

    with no_grad():
        assert not square(Value(3.0)).is_leaf


def test_one_no_grad_object_can_be_entered_again_and_nested():
    block = no_grad()
    with block:
        with block:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with block:
        assert not is_grad_enabled()
    assert is_grad_enabled()


# ------------------------------------------------------------- accumulation


@ENGINES
def test_second_backward_adds_the_same_gradient_to_leaves_only(leaf):
    x = leaf(0.7)
    y = retained((x * 3).tanh())
    z = total(y * y + x)
    z.backward()
    first_x, first_y = grad_of(x).copy(), grad_of(y).copy()
    z.backward()
    np.testing.assert_allclose(grad_of(x), 2 * first_x)
    np.testing.assert_allclose(grad_of(y), first_y)


@ENGINES
def test_backward_from_a_different_root_starts_intermediates_afresh(leaf):
    x = leaf(0.3)
    y = retained(x * 2)
    total(y * y).backward()
    total(y * 5).backward()
    np.testing.assert_allclose(grad_of(y), 5.0)
    np.testing.assert_allclose(grad_of(x), 2 * (2 * 2 * np.asarray(x.data)) + 10.0)


# ---------------------------------------------------------- custom Functions


class Cube(Function):
    """a**3;  da = 3 g a**2 (written once, for numbers and for nodes)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * g * a * a


class ScaledProduct(Function):
    """k a b with a keyword constant k;  da = k g b, db = k g a."""

    @staticmethod
    def forward(ctx, a, b, *, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        return k * a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return ctx.k * g * b, ctx.k * g * a


class Exponential(Function):
    """e**a;  da = g e**a, with the output saved (so create_graph must see it as the node)."""

    @staticmethod
    def forward(ctx, a):
        out = math.exp(a) if isinstance(a, float) else np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


@ENGINES
def test_custom_function_that_saves_its_output_has_second_derivatives(leaf):
    x = leaf(0.5)
    total(Exponential.apply(x)).backward(create_graph=True)
    first = x.grad
    x.grad = 0.0 if isinstance(x, Value) else None
    total(first).backward()
    np.testing.assert_allclose(grad_of(x), np.exp(np.asarray(x.data)), rtol=1e-12)


@given(x=values())
def test_custom_function_on_values_takes_part_in_backward_and_gradcheck(x):
    y = Cube.apply(x) + x
    y.backward()
    assert y.data == pytest.approx(x.data**3 + x.data)
    assert x.grad == pytest.approx(3 * x.data**2 + 1)
    assert_gradients_match(lambda v: Cube.apply(v.tanh()), x)


@given(x=tensors())
def test_custom_function_on_tensors_takes_part_in_backward_and_gradcheck(x):
    assert_gradients_match(lambda t: Cube.apply(t.tanh()) * t, x)


@given(a=values(), b=values())
def test_custom_function_with_two_inputs_and_a_keyword_parameter(a, b):
    assert_gradients_match(lambda p, q: ScaledProduct.apply(p, q * q, k=0.5), a, b)


@given(x=values())
def test_custom_function_under_create_graph_gives_second_derivatives(x):
    y = Cube.apply(x)
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value)
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(6 * x.data)


@given(x=tensors())
def test_custom_function_on_tensors_passes_the_order_2_gradcheck(x):
    assert_gradients_match(lambda t: Cube.apply(t).sum(), x, order=2)


def test_custom_function_mixes_numbers_with_values():
    a = Value(2.0)
    y = ScaledProduct.apply(a, 3.0, k=2.0)
    y.backward()
    assert y.data == 12.0 and a.grad == 6.0


def test_custom_function_needs_a_node_input():
    with pytest.raises(TypeError, match="Cube"):
        Cube.apply(2.0)


@pytest.mark.parametrize("make_input", [lambda: Value(0.4), lambda: Tensor(np.array([0.4, -1.0]))])
def test_custom_function_output_is_a_constant_under_no_grad(make_input):
    x = make_input()
    with no_grad():
        y = Cube.apply(x)
    assert y.is_leaf
    assert math.isclose(float(np.sum(y.data)), float(np.sum(np.asarray(x.data) ** 3)))


def test_gradcheck_accepts_a_custom_function_on_both_engines():
    assert gradcheck(lambda v: Cube.apply(v), Value(0.3))
    assert gradcheck(lambda t: Cube.apply(t), Tensor(np.array([[0.3, -2.0]]), requires_grad=True))


# ------------------------------------------------------- errors that name the problem


class TwoGradients(Function):
    """x, whose backward wrongly returns a gradient for an input it does not have."""

    @staticmethod
    def forward(ctx, a):
        return a + 0.0

    @staticmethod
    def backward(ctx, g):
        return g, g


class WrongShapeGradient(Function):
    """sum(a) whose backward returns the output's shape instead of the input's."""

    @staticmethod
    def forward(ctx, a):
        ctx.shape = a.shape
        return a.sum()

    @staticmethod
    def backward(ctx, g):
        return g.reshape(1)


class ListGradients(Function):
    """a * b whose backward returns a list, not a tuple."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return [g * b, g * a]


@ENGINES
def test_a_wrong_number_of_gradients_names_the_function(leaf):
    y = TwoGradients.apply(leaf(0.4))
    with pytest.raises(ValueError, match=r"TwoGradients.backward returned 2 gradients for 1 inputs"):
        total(y).backward()


def test_a_wrong_gradient_shape_for_an_intermediate_input_names_the_function():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = WrongShapeGradient.apply(x * 2.0)  # the intermediate x * 2 broadcasts a (1,) silently
    with pytest.raises(ValueError, match=r"WrongShapeGradient.backward.*shape \(1,\) for input 0.*\(3,\)"):
        y.backward()


@ENGINES
def test_a_backward_may_return_a_list(leaf):
    a, b = leaf(2.0), leaf(3.0)
    total(ListGradients.apply(a, b)).backward()
    np.testing.assert_allclose(grad_of(a), np.asarray(b.data))
    np.testing.assert_allclose(grad_of(b), np.asarray(a.data))


def test_value_backward_with_none_seeds_one():
    x = Value(3.0)
    (x * x).backward(None)
    assert x.grad == 6.0


def test_value_backward_with_a_value_seed_uses_its_number_without_create_graph():
    x = Value(3.0)
    (x * x).backward(Value(0.5))
    assert type(x.grad) is float and x.grad == 3.0


@pytest.mark.parametrize("seed", ["1", [1.0], np.ones(2)])
def test_value_backward_refuses_a_seed_that_is_not_a_number(seed):
    with pytest.raises(TypeError, match="grad must be a number"):
        (Value(3.0) * 2).backward(seed)


# ------------------------------------------------------------ re-entrant passes


class Recomputed(Function):
    """tanh(a) whose backward recomputes the forward and runs a pass of its own (checkpointing)."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.tanh(a)

    @staticmethod
    def backward(ctx, g):
        x = Tensor(ctx.a, requires_grad=True)
        with enable_grad():
            y = x.tanh()
        y.backward(g)
        return x.grad


class TouchesLeaf(Function):
    """a, whose backward also runs a pass into a leaf the outer graph uses."""

    leaf: Tensor

    @staticmethod
    def forward(ctx, a):
        return a + 0.0

    @staticmethod
    def backward(ctx, g):
        with enable_grad():  # a backward runs with recording off unless create_graph
            (TouchesLeaf.leaf * TouchesLeaf.leaf).sum().backward()
        return g


def test_a_backward_that_runs_its_own_pass_gives_the_exact_gradient():
    w = Tensor(np.array([0.3, -0.8]), requires_grad=True)
    (Recomputed.apply(w * 2.0) * 3.0).sum().backward()
    np.testing.assert_allclose(w.grad, 6 * (1 - np.tanh(2 * w.data) ** 2), rtol=1e-12)


def test_a_nested_pass_into_a_shared_leaf_adds_to_the_outer_pass():
    w = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    TouchesLeaf.leaf = w
    (TouchesLeaf.apply(w) * 3.0).sum().backward()
    np.testing.assert_allclose(w.grad, 3.0 + 2 * w.data)


def test_grad_inside_a_backward_leaves_the_outer_pass_alone():
    class ViaGrad(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.a = a
            return a * a

        @staticmethod
        def backward(ctx, g):
            return g * grad(lambda t: (t * t).sum())(ctx.a)

    w = Tensor(np.array([1.5, -0.5]), requires_grad=True)
    (ViaGrad.apply(w) + w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * w.data + 1)


@ENGINES
def test_grad_of_an_input_f_does_not_use_is_zero(leaf):
    x = leaf(0.5)
    g = grad(lambda a, b: total(b * 2.0), argnums=0)(x, leaf(1.0))
    np.testing.assert_array_equal(np.asarray(g, dtype=float), np.zeros(np.shape(x.data)))


def test_backward_steps_write_nothing_and_add_up_to_backward():
    from autograd.graph import backward_steps

    a, b = Value(2.0), Value(-3.0)
    y = a * b
    z = y + y
    steps = list(backward_steps(z, 1.0))
    assert (a.grad, b.grad, y.grad, z.grad) == (0.0, 0.0, 0.0, 0.0)
    assert [node for node, _, _ in steps] == [z, y]
    assert steps[1][1] == 2.0 and steps[1][2] == [(a, -6.0), (b, 4.0)]
    z.backward()
    assert (a.grad, b.grad) == (-6.0, 4.0)


def test_functional_grad_leaves_every_grad_as_it_was():
    x, w = Value(3.0), Value(0.5)
    w.grad = 7.0
    h = x * w
    h.grad = 9.0
    gx = grad(lambda x: x * w * x)(x)
    assert gx == 3.0 and (w.grad, h.grad, x.grad) == (7.0, 9.0, 0.0)


class _ModeSeen(Function):
    """Identity whose backward notes whether ops would be recorded while it runs."""

    seen: list = []

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        _ModeSeen.seen.append(is_grad_enabled())
        return g


@pytest.mark.parametrize("make", [scalar, tensor])
@pytest.mark.parametrize("create_graph", [False, True])
def test_user_code_in_backward_records_only_under_create_graph(make, create_graph):
    """A first-order pass keeps grad mode on for chaingrad's own formulas (they run on arrays and
    record nothing); a user's Function and a hook still run with it off, as in PyTorch."""
    x = make(0.5)
    hooked = []
    y = _ModeSeen.apply(x * 2.0)
    handle = y.register_hook(lambda g: hooked.append(is_grad_enabled()))
    _ModeSeen.seen = []
    try:
        total(y * 3.0).backward(create_graph=create_graph)
    finally:
        handle.remove()  # the registry keeps a hooked node alive until its hooks are removed
    assert _ModeSeen.seen == [create_graph] and hooked == [create_graph]
    assert is_grad_enabled()
