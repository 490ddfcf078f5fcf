"""Losses and activations: closed forms, gradients (first and second order), stability, checks."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
import nn.functional as F
from autograd import Tensor, Value, gradcheck

rng = np.random.default_rng(0)
N, C = 6, 4
logits = rng.standard_normal((N, C))
classes = rng.integers(0, C, N)
scores = rng.standard_normal((N, 1))
bits = rng.integers(0, 2, (N, 1)).astype(np.float64)
probabilities = rng.uniform(0.1, 0.9, (N, 1))
signs = 2 * bits - 1


def log_softmax_reference(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# (loss function, input, target, per-element closed form)
CASES = {
    "mse": (F.mse_loss, scores, bits, lambda x, y: (x - y) ** 2),
    "bce": (
        F.binary_cross_entropy, probabilities, bits, lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p))
    ),
    "bce_with_logits": (
        F.binary_cross_entropy_with_logits, scores, bits,
        lambda x, y: -(y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-x)))),
    ),
    "hinge": (F.hinge_loss, scores, signs, lambda x, y: np.maximum(0, 1 - y * x)),
    "cross_entropy": (
        F.cross_entropy, logits, classes, lambda z, t: -log_softmax_reference(z)[np.arange(N), t]
    ),
    "nll": (F.nll_loss, log_softmax_reference(logits), classes, lambda lp, t: -lp[np.arange(N), t]),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_matches_its_closed_form(name, reduction):
    loss, x, y, formula = CASES[name]
    per_element = formula(x, y)
    expected = {"mean": per_element.mean(), "sum": per_element.sum(), "none": per_element}[reduction]
    np.testing.assert_allclose(loss(Tensor(x), y, reduction=reduction).data, expected, rtol=1e-10)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_loss_gradient_matches_central_differences(name, reduction):
    loss, x, y, _ = CASES[name]
    gradcheck(lambda x: loss(x, y, reduction=reduction), Tensor(x))


@pytest.mark.parametrize("name", ["mse", "bce", "bce_with_logits", "cross_entropy"])
def test_fused_loss_second_derivative_matches_central_differences(name):
    loss, x, y, _ = CASES[name]
    gradcheck(lambda x: loss(x, y), Tensor(x), order=2, atol=1e-4)


@pytest.mark.parametrize("name", ["mse", "bce", "bce_with_logits", "hinge", "cross_entropy"])
def test_fused_loss_is_a_single_graph_node(name):
    loss, x, y, _ = CASES[name]
    out = loss(Tensor(x, requires_grad=True), y)
    assert out._parents[0].is_leaf


@pytest.mark.parametrize("name", CASES)
def test_float32_stays_float32(name):
    loss, x, y, _ = CASES[name]
    x = Tensor(x.astype(np.float32), requires_grad=True)
    out = loss(x, y)
    out.backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_mse_gradient_is_two_residuals_over_n():
    x = Tensor(scores, requires_grad=True)
    F.mse_loss(x, bits).backward()
    np.testing.assert_allclose(x.grad, 2 * (scores - bits) / N)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = Tensor(logits, requires_grad=True)
    F.cross_entropy(x, classes).backward()
    onehot = np.eye(C)[classes]
    np.testing.assert_allclose(x.grad, (np.exp(log_softmax_reference(logits)) - onehot) / N)


def test_cross_entropy_equals_nll_of_log_softmax():
    x = Tensor(logits)
    assert F.cross_entropy(x, classes).item() == pytest.approx(F.nll_loss(F.log_softmax(x), classes).item())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_losses_and_gradients(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=dtype)
    cases = [
        (F.cross_entropy, z, np.array([1, 0])),
        (F.binary_cross_entropy_with_logits, z[:, :1], np.array([[0.0], [1.0]])),
        (F.hinge_loss, z[:, :1], np.array([[-1.0], [1.0]])),
        (F.mse_loss, z[:, :1], np.zeros((2, 1))),
    ]
    for loss, x, y in cases:
        x = Tensor(x, requires_grad=True)
        out = loss(x, y)
        out.backward()
        assert np.isfinite(out.data).all() and np.isfinite(x.grad).all(), loss.__name__
    expected_ce = np.mean([2e4, 2e4])  # each row: logsumexp - picked logit
    assert F.cross_entropy(Tensor(z), np.array([1, 0])).item() == pytest.approx(expected_ce)


def test_softmax_and_log_softmax_are_stable_for_extreme_logits():
    z = Tensor(np.array([[1e4, 0.0, -1e4]]))
    np.testing.assert_allclose(F.softmax(z).data, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(F.log_softmax(z).data, [[0.0, -1e4, -2e4]])


def test_binary_cross_entropy_clamps_log_at_minus_100():
    out = F.binary_cross_entropy(Tensor(np.array([0.0, 1.0])), np.array([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(out.data, [100.0, 100.0])


def test_binary_cross_entropy_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), np.array([1.0]))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_targets_are_validated(loss):
    x = Tensor(logits)
    with pytest.raises(TypeError, match="integer class indices, got dtype float64"):
        loss(x, classes.astype(float))
    with pytest.raises(ValueError, match=f"target class {C} is out of range for {C} classes"):
        loss(x, np.full(N, C))
    with pytest.raises(ValueError, match="target class -1 is out of range"):
        loss(x, np.full(N, -1))
    with pytest.raises(ValueError, match=rf"target must have shape \({N},\)"):
        loss(x, classes.reshape(-1, 1))
    with pytest.raises(ValueError, match=r"input must be 2-D \(batch, classes\)"):
        loss(Tensor(logits[0]), classes[:1])


def test_targets_may_be_tensors():
    x = Tensor(logits)
    assert F.cross_entropy(x, Tensor(classes)).item() == F.cross_entropy(x, classes).item()
    assert F.mse_loss(Tensor(scores), Tensor(bits)).item() == F.mse_loss(Tensor(scores), bits).item()


def test_mismatched_shapes_are_an_error_not_a_broadcast():
    with pytest.raises(ValueError, match=r"target shape \(6,\) does not match input shape \(6, 1\)"):
        F.mse_loss(Tensor(scores), bits.reshape(-1))


def test_hinge_rejects_zero_one_labels():
    with pytest.raises(ValueError, match="targets -1 or \\+1"):
        F.hinge_loss(Tensor(scores), bits)


def test_unknown_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(Tensor(scores), bits, reduction="avg")


@pytest.mark.parametrize("loss, y", [(F.mse_loss, bits), (F.hinge_loss, signs)])
def test_value_lists_give_the_same_loss_and_gradients_as_tensors(loss, y):
    values = [Value(float(v)) for v in scores[:, 0]]
    scalar_loss = loss(values, y[:, 0])
    scalar_loss.backward()
    x = Tensor(scores, requires_grad=True)
    tensor_loss = loss(x, y)
    tensor_loss.backward()
    assert scalar_loss.data == pytest.approx(tensor_loss.item())
    np.testing.assert_allclose([v.grad for v in values], x.grad[:, 0])


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=5), st.integers(0, 4))
def test_cross_entropy_is_non_negative_and_zero_only_for_a_sure_answer(row, pick):
    target = np.array([pick % len(row)])
    loss = F.cross_entropy(Tensor(np.array([row])), target).item()
    assert loss >= 0
    assert np.isclose(loss, -log_softmax_reference(np.array([row]))[0, target[0]])


MODULES = {
    "mse": nn.MSELoss, "bce": nn.BCELoss, "bce_with_logits": nn.BCEWithLogitsLoss,
    "hinge": nn.HingeLoss, "cross_entropy": nn.CrossEntropyLoss, "nll": nn.NLLLoss,
}


@pytest.mark.parametrize("name", CASES)
def test_loss_module_equals_its_function(name):
    loss, x, y, _ = CASES[name]
    module = MODULES[name](reduction="sum")
    assert module(Tensor(x), y).item() == loss(Tensor(x), y, reduction="sum").item()


def test_linear_function_matches_the_formula():
    w, b = Tensor(rng.standard_normal((2, 3))), Tensor(rng.standard_normal(2))
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(F.linear(x, w, b).data, x @ w.data.T + b.data)
    np.testing.assert_allclose(F.linear(x, w).data, x @ w.data.T)


TORCH_LOSSES = {
    "mse": "mse_loss", "bce": "binary_cross_entropy", "bce_with_logits": "binary_cross_entropy_with_logits",
    "cross_entropy": "cross_entropy", "nll": "nll_loss",
}


@pytest.mark.parametrize("name", TORCH_LOSSES)
def test_losses_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    loss, x, y, _ = CASES[name]
    ours = Tensor(x, requires_grad=True)
    our_loss = loss(ours, y)
    our_loss.backward()
    theirs = torch.tensor(x, requires_grad=True)
    their_loss = getattr(torch.nn.functional, TORCH_LOSSES[name])(theirs, torch.tensor(y))
    their_loss.backward()
    assert our_loss.item() == pytest.approx(their_loss.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10)


# ---------------------------------------------- arrays, dim=, names (issue 13)


def test_every_function_takes_arrays_and_lists_like_linear():
    x = [[-1.0, 0.5], [2.0, -3.0]]
    for function in (F.relu, F.sigmoid, F.tanh, F.leaky_relu, F.softplus, F.softmax, F.log_softmax):
        out = function(np.array(x))
        assert isinstance(out, Tensor)
        np.testing.assert_allclose(function(x).data, function(Tensor(np.array(x, np.float32))).data)
    assert isinstance(F.dropout(np.ones((2, 2))), Tensor)
    assert F.cross_entropy(np.array([[1.0, 2.0], [0.5, 0.0]]), np.array([1, 0])).shape == ()
    assert F.nll_loss([[-0.1, -2.0]], [0]).item() == pytest.approx(0.1)
    assert F.mse_loss(np.array([1.0, 2.0]), [1.0, 4.0]).item() == pytest.approx(2.0)


def test_activation_functions_match_their_formulas():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    np.testing.assert_allclose(F.relu(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(F.sigmoid(x).data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(F.tanh(x).data, np.tanh(x))
    np.testing.assert_allclose(F.leaky_relu(x, 0.2).data, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(F.softplus(x).data, np.log1p(np.exp(x)))
    np.testing.assert_allclose(F.softplus(x, beta=2.0).data, np.log1p(np.exp(2 * x)) / 2)
    assert F.relu(Value(-1.0)).data == 0.0  # scalars run their own method


def test_softmax_takes_dim_or_axis_and_refuses_two_different_ones():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    by_dim, by_axis = F.softmax(x, dim=0).data, F.softmax(x, axis=0).data
    np.testing.assert_array_equal(by_dim, by_axis)
    np.testing.assert_allclose(by_dim.sum(axis=0), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(F.log_softmax(x, axis=-1).data, F.log_softmax(x).data)
    np.testing.assert_array_equal(F.softmax(x, 0, axis=0).data, by_dim)
    with pytest.raises(TypeError, match="got dim=0 and axis=1"):
        F.softmax(x, dim=0, axis=1)


def test_dropout_function_follows_the_seed_and_training_flag():
    x = np.ones((50, 50))
    nn.manual_seed(5)
    first = F.dropout(x, 0.3).data
    nn.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.3).data, first)
    assert set(np.unique(first)) == {0.0, 1 / 0.7}
    np.testing.assert_array_equal(F.dropout(x, 0.3, training=False).data, x)
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0 * x)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_public_namespaces_hold_no_internals():
    assert sorted(dir(F)) == sorted(F.__all__)
    assert not {"np", "Any", "Sequence", "Node", "spread"} & set(dir(F))
    for name in F.__all__:
        assert callable(getattr(F, name))


# ------------------------------------------------ targets that require grad


@pytest.mark.parametrize("name", ["mse", "bce", "bce_with_logits", "hinge"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_a_target_that_requires_grad_gets_its_gradient(name, reduction):
    loss, x0, y0, _ = CASES[name]
    x = Tensor(x0, requires_grad=True)
    if name == "hinge":  # labels are +-1 only: check dl/dy = -x where the hinge is on
        y = Tensor(y0, requires_grad=True)
        out = loss(x, y, reduction=reduction)
        (out if reduction != "none" else out.sum()).backward()
        count = x.size if reduction == "mean" else 1
        np.testing.assert_allclose(y.grad, -x0 * (1 - y0 * x0 > 0) / count)
        return
    y = Tensor(np.clip(y0, 0.2, 0.7), requires_grad=True)  # soft labels: every y is a smooth point
    gradcheck(lambda x, y: loss(x, y, reduction=reduction), x, y)


def test_a_float64_target_gets_a_float64_gradient_from_a_float32_loss():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = Tensor(np.array([0.0, 5.0]), requires_grad=True)
    out = F.mse_loss(x, y)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    np.testing.assert_allclose(y.grad, [-1.0, 3.0])


def test_a_target_without_grad_stays_a_constant():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([0.0, 5.0]))
    F.mse_loss(x, y).backward()
    assert y.grad is None
