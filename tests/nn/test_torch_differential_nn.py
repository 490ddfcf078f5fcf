"""Every loss and optimizer of nn against PyTorch: values, first and second derivatives, at the edges.

Losses: every reduction, float32 and float64, inputs at their special points
(logits of +-1e4, probabilities of exactly 0 and 1, ties, zeros) and targets
that require grad. Optimizers: several steps from the same gradients, every
option, parameter groups and an lr changed between steps. Skipped without torch.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import nn.functional as F
from autograd import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = {np.float32: torch.float32, np.float64: torch.float64}
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}


def hinge_reference(x, y, reduction):
    """relu(1 - y x): at the kink the gradient is relu's, 0 (as nn.scalar's Value path gives)."""
    losses = torch.relu(1.0 - y * x)
    return losses if reduction == "none" else getattr(losses, reduction)()


# name: (ours, theirs, kind of target); kinds: "float" (any real), "prob" (in [0, 1]), "sign", "class"
LOSSES = {
    "mse_loss": (F.mse_loss, TF.mse_loss, "float"),
    "binary_cross_entropy": (F.binary_cross_entropy, TF.binary_cross_entropy, "prob"),
    "binary_cross_entropy_with_logits": (
        F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, "prob"),
    "hinge_loss": (F.hinge_loss, hinge_reference, "sign"),
    "cross_entropy": (F.cross_entropy, TF.cross_entropy, "class"),
    "nll_loss": (F.nll_loss, TF.nll_loss, "class"),
}

# inputs at special points, per loss: (input, target)
EDGES = {
    "mse_loss": [([[0.0, 1e4], [-1e4, 3.0]], [[0.0, -1e4], [-1e4, 3.0]])],  # zero residuals and huge ones
    "binary_cross_entropy": [([[0.0, 1.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]),  # log(0): clamped at -100
                             ([[1e-30, 0.5], [1 - 1e-7, 0.25]], [[0.5, 0.5], [1.0, 0.0]])],
    "binary_cross_entropy_with_logits": [([[1e4, -1e4], [0.0, 1e4]], [[1.0, 0.0], [0.5, 0.0]])],
    "hinge_loss": [([[1.0, -1.0], [0.0, 1e4]], [[1.0, -1.0], [1.0, -1.0]])],  # on the kink and far out
    "cross_entropy": [([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0], [-1e4, -1e4, -1e4]], [1, 2, 0])],
    "nll_loss": [([[-1e4, 0.0, -0.5], [-0.0, -1e-30, -20.0]], [0, 2])],
}


def run_both(name, x, y, reduction, dtype, target_grad):
    ours, theirs, kind = LOSSES[name]
    target_grad = target_grad and kind not in ("class", "sign")
    x_ours = Tensor(np.array(x, dtype=dtype), requires_grad=True)
    x_theirs = torch.tensor(np.array(x, dtype=dtype), requires_grad=True)
    if kind == "class":
        y_ours, y_theirs = np.array(y), torch.tensor(np.array(y))
    else:
        y_ours = Tensor(np.array(y, dtype=dtype), requires_grad=target_grad)
        y_theirs = torch.tensor(np.array(y, dtype=dtype), requires_grad=target_grad)
    out_ours = ours(x_ours, y_ours, reduction=reduction)
    out_theirs = theirs(x_theirs, y_theirs, reduction=reduction)
    weights = np.linspace(0.5, 1.5, out_ours.size).reshape(out_ours.shape).astype(dtype)
    (out_ours * weights).sum().backward()
    (out_theirs * torch.from_numpy(weights)).sum().backward()
    pairs = [(out_ours.data, out_theirs), (x_ours.grad, x_theirs.grad)]
    if target_grad:
        pairs.append((y_ours.grad, y_theirs.grad))
    return pairs


def assert_pairs_equal(pairs, dtype):
    for i, (mine, theirs) in enumerate(pairs):
        expected = theirs.detach().numpy()
        assert np.asarray(mine).dtype == expected.dtype, f"item {i}"
        tol = TOLERANCE[dtype]
        np.testing.assert_allclose(mine, expected, rtol=tol, atol=tol, err_msg=f"item {i}")


def random_case(name, dtype, seed=0):
    rng = np.random.default_rng(seed)
    kind = LOSSES[name][2]
    if kind == "class":
        x = rng.standard_normal((5, 4))
        if name == "nll_loss":
            x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        return x, rng.integers(0, 4, 5)
    x = rng.uniform(0.05, 0.95, (4, 3)) if name == "binary_cross_entropy" else rng.standard_normal((4, 3)) * 3
    y = {"float": rng.standard_normal((4, 3)), "prob": rng.uniform(0, 1, (4, 3)),
         "sign": rng.choice([-1.0, 1.0], (4, 3))}[kind]
    return x, y


@pytest.mark.parametrize("dtype", list(DTYPES), ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_value_and_gradients_match_torch_on_random_inputs(name, reduction, dtype):
    x, y = random_case(name, dtype)
    assert_pairs_equal(run_both(name, x, y, reduction, dtype, target_grad=True), dtype)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", LOSSES)
def test_loss_value_and_gradients_match_torch_at_special_points(name, reduction, dtype):
    for x, y in EDGES[name]:
        pairs = run_both(name, x, y, reduction, dtype, target_grad=True)
        for mine, theirs in pairs:  # infinities (dBCE/dy at p = 0 or 1) must agree exactly
            expected = theirs.detach().numpy()
            np.testing.assert_array_equal(np.isinf(mine), np.isinf(expected))
            np.testing.assert_array_equal(np.isnan(mine), np.isnan(expected))
        finite = [(np.where(np.isfinite(m), m, 0), torch.nan_to_num(t, posinf=0.0, neginf=0.0))
                  for m, t in pairs]
        assert_pairs_equal(finite, dtype)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_torch_on_a_batch_of_many_short_rows(reduction, dtype):
    """64 rows of 10 classes (the shape whose softmax reductions run by columns), extreme rows included."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 10)) * 4
    x[0], x[1, 3], x[2], x[3, ::3] = 1e4, -1e4, 0.0, -1e4
    labels = rng.integers(0, 10, 64)
    assert_pairs_equal(run_both("cross_entropy", x, labels, reduction, dtype, target_grad=False), dtype)


EDGE_FLOATS = st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e4, -1e4, 30.0, -30.0, 1e-8])


@settings(deadline=None, max_examples=25)
@given(st.lists(st.one_of(EDGE_FLOATS, st.floats(-50, 50)), min_size=6, max_size=6),
       st.lists(st.floats(0, 1), min_size=6, max_size=6), st.sampled_from(REDUCTIONS))
def test_logit_losses_match_torch_on_drawn_edge_values(logits, probs, reduction):
    x = np.array(logits).reshape(2, 3)
    y = np.array(probs).reshape(2, 3)
    for name, target in (("binary_cross_entropy_with_logits", y), ("cross_entropy", [0, 2]), ("mse_loss", y)):
        assert_pairs_equal(run_both(name, x, target, reduction, np.float64, True), np.float64)


# nll and hinge are (piecewise) linear: no second derivative to compare
@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_second_derivatives_match_torch(name, reduction):
    """The Hessian-vector product d/dx <dL/dx, v> (and d/dy of it, for a target that requires grad)."""
    ours, theirs, kind = LOSSES[name]
    x, y = random_case(name, np.float64, seed=1)
    v = np.random.default_rng(2).standard_normal(np.shape(x))
    smooth_target = kind not in ("class", "sign")
    x_ours, x_theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours = Tensor(y, requires_grad=True) if smooth_target else y
    y_theirs = torch.tensor(y, requires_grad=smooth_target)
    loss = ours(x_ours, y_ours, reduction=reduction)
    loss.backward(create_graph=True)
    first = x_ours.grad
    x_ours.grad = None
    if smooth_target:
        y_ours.grad = None
    (first * v).sum().backward()
    (g,) = torch.autograd.grad(theirs(x_theirs, y_theirs, reduction=reduction), x_theirs, create_graph=True)
    (g * torch.from_numpy(v)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    if smooth_target:
        np.testing.assert_allclose(y_ours.grad, y_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------- optimizers

OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01, "alpha": 0.5}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "betas": (0.0, 0.5)}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-4, "weight_decay": 0.0}),
]
STEPS = 6


def optimizer_ids(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr")


@pytest.mark.parametrize("dtype", list(DTYPES), ids=["float32", "float64"])
@pytest.mark.parametrize("case", OPTIMIZERS, ids=[optimizer_ids(c) for c in OPTIMIZERS])
def test_optimizer_steps_match_torch_with_groups_and_an_lr_change(case, dtype):
    name, kwargs = case
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(4).astype(dtype)]
    grads = [[rng.standard_normal(s.shape).astype(dtype) for s in starts] for _ in range(STEPS)]
    grads[2][1][:] = 0  # a zero gradient: state keeps moving, the step may be 0
    ours_params = [nn.Parameter(s.copy()) for s in starts]
    theirs_params = [torch.tensor(s.copy(), requires_grad=True) for s in starts]

    def groups(params):
        return [{"params": [params[0]]}, {"params": [params[1]], "lr": kwargs["lr"] * 3}]

    ours = getattr(nn.optim, name)(groups(ours_params), **kwargs)
    theirs = getattr(torch.optim, name)(groups(theirs_params), **kwargs)
    for step in range(STEPS):
        if step == 3:
            ours.param_groups[0]["lr"] *= 0.5
            theirs.param_groups[0]["lr"] *= 0.5
        for p, t, g in zip(ours_params, theirs_params, grads[step], strict=True):
            p.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
        ours.step()
        theirs.step()
    for p, t in zip(ours_params, theirs_params, strict=True):
        assert p.data.dtype == dtype
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=TOLERANCE[dtype] / 10, atol=1e-7)
