"""Losses and activations as functions (PyTorch's ``torch.nn.functional``).

The common losses are single fused graph nodes: ``forward`` computes the loss
with NumPy, ``backward`` is its derivative (``2 (yhat - y) / n``, ``(softmax
- onehot) / n``, ...) written with arithmetic and node methods, so it also
runs on Tensors under ``create_graph=True``. Targets are constants (ndarrays
or Tensors); no gradient flows to them. ``mse_loss`` and ``hinge_loss`` also
take lists of Values, for the scalar nets of ``nn.scalar``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Function, Tensor, Value
from autograd.functions import Linear as LinearOp
from autograd.functions import stable_sigmoid
from autograd.graph import Node

REDUCTIONS = ("mean", "sum", "none")
ScalarInput = Value | Sequence[Value]


# ----------------------------------------------------------------- activations


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """e**x / sum(e**x) along ``dim``, shifted by the max so 1e4 does not overflow."""
    return x.softmax(axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``: log-probabilities, stable for extreme logits."""
    return x.log_softmax(axis=dim)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias in one node (weight is (out, in), as in PyTorch)."""
    return LinearOp.apply(x, weight) if bias is None else LinearOp.apply(x, weight, bias)


# -------------------------------------------------- pointwise losses, fused


class PointwiseLoss(Function):
    """A loss l(x, y) per element, then reduced; one node.

    Subclasses give ``pointwise`` (NumPy, forward only) and ``derivative``
    (dl/dx, written so it runs on arrays and on nodes), less a constant
    ``scale`` that multiplies g instead of every element. Backward is
    derivative * scale * g, with g spread over the elements by the reduction.
    """

    scale = 1.0

    @staticmethod
    def pointwise(x: np.ndarray, y: np.ndarray, **options: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def derivative(x: Any, y: np.ndarray, **options: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, y, *, reduction="mean", **options):
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.count, ctx.options = reduction, x.size, options
        return reduce_array(cls.pointwise(x, y, **options), reduction)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        return cls.derivative(x, y, **ctx.options) * spread(g, ctx.reduction, ctx.count, cls.scale), None


def reduce_array(losses: np.ndarray, reduction: str) -> np.ndarray:
    """Per-element losses reduced as asked: their mean, their sum, or unchanged."""
    if reduction == "none":
        return losses
    total = np.add.reduce(losses, axis=None)  # a NumPy scalar: ndarray.sum, mean and /= cost more
    return np.array(total / losses.size if reduction == "mean" else total)


def spread(g: Any, reduction: str, count: int, scale: float = 1.0) -> Any:
    """The upstream gradient per element, times ``scale``: g / n for a mean, g for a sum or none."""
    if reduction == "mean":
        return g * (scale / count)
    return g * scale if scale != 1.0 else g


class MSE(PointwiseLoss):
    """(x - y)**2;  dx = 2 (x - y)."""

    symbol = "mse_loss"
    scale = 2.0

    @staticmethod
    def pointwise(x, y):
        diff = x - y
        return diff * diff

    @staticmethod
    def derivative(x, y):
        return x - y


class BCE(PointwiseLoss):
    """-(y log x + (1 - y) log(1 - x)), logs clamped at -100;  dx = (x - y) / (x (1 - x))."""

    symbol = "binary_cross_entropy"

    @staticmethod
    def pointwise(x, y):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        return -(y * log_x + (1 - y) * log_1mx)

    @staticmethod
    def derivative(x, y):
        return (x - y) / ((1 - x) * x).clip(min=1e-12)


class BCEWithLogits(PointwiseLoss):
    """softplus(x) - x y = BCE(sigmoid(x), y), stable for any x;  dx = sigmoid(x) - y."""

    symbol = "bce_with_logits"

    @staticmethod
    def pointwise(x, y):
        return np.logaddexp(0, x) - x * y

    @staticmethod
    def derivative(x, y):
        return (x.sigmoid() if isinstance(x, Node) else stable_sigmoid(x)) - y


class Hinge(PointwiseLoss):
    """max(0, margin - y x) for y in {-1, +1} (the SVM loss);  dx = -y where margin > y x."""

    symbol = "hinge_loss"

    @staticmethod
    def pointwise(x, y, margin=1.0):
        return np.maximum(margin - y * x, 0)

    @staticmethod
    def derivative(x, y, margin=1.0):
        return -y * (margin - y * x > 0)


# ---------------------------------------------------------- cross entropy


class CrossEntropy(Function):
    """-log softmax(x)[target] per row;  dx = (softmax(x) - onehot(target)) g."""

    symbol = "cross_entropy"

    @staticmethod
    def forward(ctx, logits, target, *, reduction="mean"):
        shifted = logits - logits.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        totals = exps.sum(axis=1, keepdims=True)
        rows = np.arange(len(target))
        losses = np.log(totals[:, 0]) - shifted[rows, target]
        ctx.save_for_backward(logits)
        ctx.probs, ctx.target, ctx.reduction = exps / totals, target, reduction
        return reduce_array(losses, reduction)

    @staticmethod
    def backward(ctx, g):
        (logits,) = ctx.saved_tensors
        probs = logits.softmax(axis=1) if isinstance(logits, Node) else ctx.probs
        onehot = np.zeros(probs.shape, dtype=probs.dtype)
        onehot[np.arange(len(ctx.target)), ctx.target] = 1
        if ctx.reduction == "none":
            return (probs - onehot) * g.reshape(-1, 1), None
        return (probs - onehot) * spread(g, ctx.reduction, len(ctx.target)), None


# ------------------------------------------------------------------- losses


def mse_loss(input: Tensor | ScalarInput, target: Any, reduction: str = "mean") -> Tensor | Value:
    """Mean squared error: mean((input - target)**2) (or its sum, or per element)."""
    if _is_scalar_input(input):
        return _scalar_loss(input, target, lambda x, y: (x - y) ** 2, reduction)
    return MSE.apply(input, _float_target(input, target, "mse_loss"), reduction=check_reduction(reduction))


def binary_cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]; logs clamped at -100."""
    y = _float_target(input, target, "binary_cross_entropy")
    data = input.data
    if data.size and (data.min() < 0 or data.max() > 1):
        raise ValueError(
            "binary_cross_entropy expects probabilities in [0, 1]; apply sigmoid first, "
            "or use binary_cross_entropy_with_logits on the raw scores"
        )
    return BCE.apply(input, y, reduction=check_reduction(reduction))


def binary_cross_entropy_with_logits(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """BCE of sigmoid(input), computed as softplus(x) - x y: no inf or nan for any logit."""
    y = _float_target(input, target, "binary_cross_entropy_with_logits")
    return BCEWithLogits.apply(input, y, reduction=check_reduction(reduction))


def hinge_loss(
    input: Tensor | ScalarInput, target: Any, margin: float = 1.0, reduction: str = "mean"
) -> Tensor | Value:
    """The SVM max-margin loss max(0, margin - y x) for labels y in {-1, +1}."""
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.size and not np.isin(labels, (-1, 1)).all():
        raise ValueError("hinge_loss expects targets -1 or +1; convert 0/1 labels with 2 * y - 1")
    if _is_scalar_input(input):
        return _scalar_loss(input, target, lambda x, y: (margin - y * x).relu(), reduction)
    y = _float_target(input, labels, "hinge_loss")
    return Hinge.apply(input, y, reduction=check_reduction(reduction), margin=margin)


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(input)[target] for logits (N, C) and class indices (N,), in one stable node."""
    labels = _class_target(input, target, "cross_entropy")
    return CrossEntropy.apply(input, labels, reduction=check_reduction(reduction))


def nll_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-input[target] per row, for log-probabilities (N, C) (e.g. from log_softmax)."""
    labels = _class_target(input, target, "nll_loss")
    picked = input[np.arange(len(labels)), labels]
    losses = -picked
    reduction = check_reduction(reduction)
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


# ------------------------------------------------------------------ checks


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _float_target(input: Tensor, target: Any, who: str) -> np.ndarray:
    """The target as an array of the input's dtype and shape (no silent broadcasting)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: input must be a Tensor, got {type(input).__name__}")
    y = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=input.dtype)
    if y.shape != input.shape:
        raise ValueError(
            f"{who}: target shape {y.shape} does not match input shape {input.shape}; "
            "reshape one of them (e.g. y.reshape(-1, 1) for a one-column output)"
        )
    return y


def _class_target(input: Tensor, target: Any, who: str) -> np.ndarray:
    """Class indices (N,) of integer dtype, each in [0, C), for input (N, C)."""
    if not isinstance(input, Tensor) or input.ndim != 2:
        shape = getattr(input, "shape", type(input).__name__)
        raise ValueError(f"{who}: input must be a 2-D Tensor (batch, classes), got {shape}")
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{who}: target must hold integer class indices, got dtype {labels.dtype} "
            "(convert with y.astype(int); one-hot targets need y.argmax(axis=1))"
        )
    n, classes = input.shape
    if labels.shape != (n,):
        raise ValueError(
            f"{who}: target must have shape ({n},) for input of shape {input.shape}, got {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(
            f"{who}: target class {bad} is out of range for {classes} classes (valid: 0..{classes - 1})"
        )
    return labels


def _is_scalar_input(input: Any) -> bool:
    if isinstance(input, (list, tuple)):
        return all(isinstance(x, Value) for x in input)
    return isinstance(input, Value)


def _scalar_loss(input: ScalarInput, target: Any, loss: Any, reduction: str) -> Any:
    """A loss over Values: ``loss(x, y)`` per element, reduced with Value arithmetic."""
    inputs = [input] if isinstance(input, Value) else list(input)
    targets = np.asarray(target, dtype=float).reshape(-1).tolist()
    if len(targets) != len(inputs):
        raise ValueError(f"{len(inputs)} outputs but {len(targets)} targets")
    losses = [loss(x, y) for x, y in zip(inputs, targets, strict=True)]
    if check_reduction(reduction) == "none":
        return losses if isinstance(input, (list, tuple)) else losses[0]
    total = sum(losses[1:], losses[0])
    return total * (1.0 / len(losses)) if reduction == "mean" else total
