"""Activations, layers and losses as functions (PyTorch's ``torch.nn.functional``).

Every function takes what ``nn.Linear`` takes: Tensors, Values (where the
op exists for scalars), NumPy arrays or nested lists (made into Tensors, no
gradient). Axes are PyTorch's ``dim=`` or NumPy's ``axis=``. The common
losses are single fused graph nodes, entries of the op table
(``autograd/functions.py``: ``MSE``, ``BCE``, ``BCEWithLogits``, ``Hinge``,
``CrossEntropy``), which hold their forward and derivative; this module checks
the arguments and calls them. A target that requires grad gets its
gradient too (as in PyTorch); class-index targets never do. ``mse_loss`` and
``hinge_loss`` also take lists of Values, for the scalar nets of ``nn.scalar``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Tensor, Value
from autograd.functions import BCE, MSE, BCEWithLogits, CrossEntropy, Hinge, cast, data_of
from autograd.functions import Linear as LinearOp
from autograd.graph import Node

from .module import generator

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout", "hinge_loss",
    "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu", "sigmoid", "softmax", "softplus",
    "tanh",
]

REDUCTIONS = ("mean", "sum", "none")
ScalarInput = Value | Sequence[Value]


def __dir__() -> list[str]:
    """The public functions only (``dir(nn.functional)`` as a user sees it)."""
    return list(__all__)


# ----------------------------------------------------------------- activations


def relu(input: Any) -> Any:
    """max(x, 0)."""
    return (input if isinstance(input, Node) else Tensor(input)).relu()


def leaky_relu(input: Any, negative_slope: float = 0.01) -> Any:
    """x if x > 0 else negative_slope * x."""
    return _node(input).leaky_relu(negative_slope)


def sigmoid(input: Any) -> Any:
    """1 / (1 + e**-x)."""
    return (input if isinstance(input, Node) else Tensor(input)).sigmoid()


def tanh(input: Any) -> Any:
    """tanh x."""
    return (input if isinstance(input, Node) else Tensor(input)).tanh()


def softplus(input: Any, beta: float = 1.0) -> Any:
    """log(1 + e**(beta x)) / beta, stable for any x."""
    x = _node(input)
    return x.softplus() if beta == 1 else (x * beta).softplus() * (1 / beta)


def softmax(input: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """e**x / sum(e**x) along ``dim`` (or ``axis``; default the last), stable for 1e4 logits."""
    return _tensor(input).softmax(axis=_axis(dim, axis, "softmax"))


def log_softmax(input: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (or ``axis``; default the last): stable log-probabilities."""
    return _tensor(input).log_softmax(axis=_axis(dim, axis, "log_softmax"))


def dropout(input: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p); the identity when not training.

    The mask comes from the generator ``nn.manual_seed`` seeds.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _tensor(input)
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros(x.shape, dtype=x.dtype)
    keep = generator().random(x.shape) >= p
    return x * (keep * (1 / (1 - p))).astype(x.dtype)


def linear(input: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias in one node (weight is (out, in), as in PyTorch); x is cast to weight's dtype."""
    x = autocast(input, weight.data.dtype)
    return LinearOp.apply(x, weight) if bias is None else LinearOp.apply(x, weight, bias)


# ------------------------------------------------------------ inputs and dtypes
# The isinstance tests in this file dispatch on what the caller passed (a node or raw numbers, a
# Tensor or a Value or a list of Values for the scalar losses), not on an engine's internals.


def _node(x: Any) -> Any:
    """A Tensor or Value as it is; arrays and lists as a Tensor (no gradient).

    (relu, sigmoid and tanh spell this out inline: they are on the training hot path.)
    """
    return x if isinstance(x, Node) else Tensor(x)


def _tensor(x: Any) -> Tensor:
    """A Tensor as it is; arrays and lists as a Tensor (no gradient)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Value):
        raise TypeError("this function needs a Tensor (or an array); it has no form for a scalar Value")
    return Tensor(x)


def _axis(dim: int | None, axis: int | None, who: str) -> int:
    """PyTorch's ``dim`` or NumPy's ``axis`` (one of them), -1 when neither is given."""
    if axis is None:
        return -1 if dim is None else dim
    if dim is not None and dim != axis:
        raise TypeError(f"{who}: got dim={dim} and axis={axis}; pass one of them")
    return axis


def autocast(x: Any, dtype: np.dtype) -> Any:
    """``x`` in a layer's ``dtype`` (the layer dtype rule, Keras's autocast).

    Arrays and lists become arrays of ``dtype``; a Tensor of another dtype is
    cast inside the graph, so its gradient comes back in its own dtype. The
    result of a layer therefore has the layer's dtype whatever it is given.
    """
    if isinstance(x, Tensor):
        if x.data.dtype is dtype or x.data.dtype == dtype:
            return x
        _check_real(x.data.dtype)
        return cast(x, dtype) if x.requires_grad else Tensor(x.data.astype(dtype))
    array = np.asarray(x)
    if array.dtype is not dtype:
        _check_real(array.dtype)
        array = array.astype(dtype)
    return array


def _check_real(dtype: np.dtype) -> None:
    if dtype.kind not in "biuf":
        raise TypeError(f"a layer needs real numbers, got dtype {dtype}")


# ------------------------------------------------------------------- losses


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor | Value:
    """Mean squared error: mean((input - target)**2) (or its sum, or per element)."""
    if _is_scalar_input(input):
        return _scalar_loss(input, target, lambda x, y: (x - y) ** 2, reduction)
    x = _tensor(input)
    return MSE.apply(x, _float_target(x, target, "mse_loss"), reduction=check_reduction(reduction))


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]; logs clamped at -100."""
    x = _tensor(input)
    y = _float_target(x, target, "binary_cross_entropy")
    data = x.data
    if data.size and not (data.min() >= 0 and data.max() <= 1):  # NaN fails too
        raise ValueError(
            "binary_cross_entropy expects probabilities in [0, 1]; apply sigmoid first, "
            "or use binary_cross_entropy_with_logits on the raw scores"
        )
    return BCE.apply(x, y, reduction=check_reduction(reduction))


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """BCE of sigmoid(input), computed as softplus(x) - x y: no inf or nan for any logit."""
    x = _tensor(input)
    y = _float_target(x, target, "binary_cross_entropy_with_logits")
    return BCEWithLogits.apply(x, y, reduction=check_reduction(reduction))


def hinge_loss(input: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Tensor | Value:
    """The SVM max-margin loss max(0, margin - y x) for labels y in {-1, +1}."""
    labels = np.asarray(data_of(target))
    if labels.size and not np.isin(labels, (-1, 1)).all():
        raise ValueError("hinge_loss expects targets -1 or +1; convert 0/1 labels with 2 * y - 1")
    if _is_scalar_input(input):
        return _scalar_loss(input, labels, lambda x, y: (margin - y * x).relu(), reduction)
    x = _tensor(input)
    y = _float_target(x, target, "hinge_loss")
    return Hinge.apply(x, y, reduction=check_reduction(reduction), margin=margin)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(input)[target] for logits (N, C) and class indices (N,), in one stable node."""
    x = _tensor(input)
    labels = _class_target(x, target, "cross_entropy")
    return CrossEntropy.apply(x, labels, reduction=check_reduction(reduction))


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-input[target] per row, for log-probabilities (N, C) (e.g. from log_softmax)."""
    x = _tensor(input)
    labels = _class_target(x, target, "nll_loss")
    losses = -x[np.arange(len(labels)), labels]
    reduction = check_reduction(reduction)
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


# ------------------------------------------------------------------ checks


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _float_target(input: Tensor, target: Any, who: str) -> Any:
    """The target in the input's dtype and shape (no silent broadcasting).

    An array (or list, or a Tensor without grad) becomes an array; a Tensor
    that requires grad stays in the graph (cast if its dtype differs), so
    it gets its gradient.
    """
    dtype = input.data.dtype
    if type(target) is np.ndarray and target.dtype is dtype:  # the usual batch of targets, as it is
        y = target
    elif isinstance(target, Tensor) and target.requires_grad:
        y = cast(target, dtype)
    else:
        y = np.asarray(data_of(target), dtype=dtype)
    if y.shape != input.data.shape:
        raise ValueError(
            f"{who}: target shape {y.shape} does not match input shape {input.shape}; "
            "reshape one of them (e.g. y.reshape(-1, 1) for a one-column output)"
        )
    return y


def _class_target(input: Tensor, target: Any, who: str) -> np.ndarray:
    """Class indices (N,) of integer dtype, each in [0, C), for input (N, C)."""
    if input.ndim != 2:
        raise ValueError(f"{who}: input must be 2-D (batch, classes), got shape {input.shape}")
    labels = np.asarray(data_of(target))
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
    if type(input) is Tensor:
        return False
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
