"""A Keras-style training loop on top of the PyTorch-style pieces.

``fit`` runs the loop a user would write (forward, loss, ``zero_grad``,
``backward``, ``step``) over ``DataLoader`` batches and records per-epoch
figures in a ``History``; ``evaluate`` and ``predict`` run the model in eval
mode without recording a graph. Callbacks hook into the loop at four points.

Accuracy of a one-column output: for losses on raw scores
(``bce_with_logits``, ``hinge``) the output is a logit, so it predicts the
positive class where output > 0; for other losses it is a probability, and
the threshold is 0.5. Several columns predict their argmax.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from tqdm import tqdm

from autograd import Tensor, Value, no_grad

from . import functional as F
from . import optim
from .data import DataLoader
from .module import Module

Metric = Callable[[np.ndarray, np.ndarray], float]

LOSSES: dict[str, Callable[..., Tensor]] = {
    "mse": F.mse_loss,
    "binary_crossentropy": F.binary_cross_entropy,
    "bce": F.binary_cross_entropy,
    "bce_with_logits": F.binary_cross_entropy_with_logits,
    "cross_entropy": F.cross_entropy,
    "sparse_categorical_crossentropy": F.cross_entropy,
    "nll": F.nll_loss,
    "hinge": F.hinge_loss,
}
CLASS_INDEX_LOSSES = (F.cross_entropy, F.nll_loss)
SCORE_LOSSES = (F.binary_cross_entropy_with_logits, F.hinge_loss)
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "rmsprop": optim.RMSprop, "adamw": optim.AdamW}


class Callback:
    """Hooks into ``fit``; override the ones you need (each is a no-op here)."""

    def on_train_begin(self, model: Module, optimizer: optim.Optimizer) -> None:
        """Before the first epoch."""

    def on_after_backward(self, model: Module) -> None:
        """After ``loss.backward()``, before ``optimizer.step()``: gradients are fresh."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        """After each epoch; ``logs`` holds that epoch's figures (loss, metrics, val_*)."""

    def on_train_end(self, history: History) -> None:
        """After the last epoch."""


class History:
    """Per-epoch figures of a ``fit``: ``history.history["loss"][epoch]``, as in Keras."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(value)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items())
        return f"History(epochs={len(self.epoch)}, last: {last})"


class LossSpec(NamedTuple):
    """A loss and what it implies: integer class targets? threshold for one-column accuracy?"""

    function: Callable[..., Tensor]
    class_indices: bool
    threshold: float


# ------------------------------------------------------------------- the loop


def fit(
    model: Module,
    X: Any,
    y: Any,
    loss: str | Callable[..., Tensor] = "mse",
    optimizer: str | optim.Optimizer = "adam",
    epochs: int = 1,
    batch_size: int | None = 32,
    metrics: Sequence[str | Metric] = ("accuracy",),
    validation_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``model`` on (X, y) for ``epochs`` passes of mini-batches; returns a History.

    ``loss`` is a name (see ``LOSSES``), a function or a loss Module, averaging
    over the batch; ``optimizer`` a name (made with its defaults) or an
    optimizer. ``batch_size=None`` is full-batch gradient descent.
    """
    spec = resolve_loss(loss)
    opt = resolve_optimizer(optimizer, model)
    X, y = prepare(model, X, y, spec)
    measures = resolve_metrics(metrics, spec)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    history = History()
    for callback in callbacks:
        callback.on_train_begin(model, opt)
    bar = tqdm(range(epochs), desc="fit", unit="epoch", disable=not progress)
    for epoch in bar:
        logs = train_epoch(model, loader, spec.function, opt, measures, callbacks)
        if validation_data is not None:
            scores = evaluate(model, *validation_data, loss=loss, metrics=metrics)
            logs.update({f"val_{name}": value for name, value in scores.items()})
        history.append(epoch, logs)
        bar.set_postfix({name: f"{value:.4g}" for name, value in logs.items()})
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
    for callback in callbacks:
        callback.on_train_end(history)
    return history


def train_epoch(model: Module, loader: DataLoader, loss: Callable[..., Tensor], optimizer: optim.Optimizer,
                measures: dict[str, Metric], callbacks: Sequence[Callback] = ()) -> dict[str, float]:
    """One pass over the batches in train mode; the epoch's mean loss and metrics."""
    model.train()
    total, outputs, targets = 0.0, [], []
    for xb, yb in loader:
        output = model(Tensor(xb))
        batch_loss = loss(output, yb)
        optimizer.zero_grad()
        batch_loss.backward()
        for callback in callbacks:
            callback.on_after_backward(model)
        optimizer.step()
        total += batch_loss.item() * len(xb)
        outputs.append(output.data)
        targets.append(yb)
    output = np.concatenate(outputs)
    return {"loss": total / len(output), **score(measures, output, np.concatenate(targets))}


def evaluate(model: Module, X: Any, y: Any, loss: str | Callable[..., Tensor] = "mse",
             metrics: Sequence[str | Metric] = ("accuracy",),
             batch_size: int | None = None) -> dict[str, float]:
    """The loss and metrics of ``model`` on (X, y), in eval mode without a graph."""
    spec = resolve_loss(loss)
    X, y = prepare(model, X, y, spec)
    output = predict(model, X, batch_size)
    with no_grad():
        value = spec.function(Tensor(output), y).item()
    return {"loss": value, **score(resolve_metrics(metrics, spec), output, y)}


def predict(model: Module, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for X as an array, in eval mode and under ``no_grad``."""
    X = np.asarray(X, dtype=model_dtype(model))
    with evaluation(model), no_grad():
        return np.concatenate([model(Tensor(xb)).data for xb in DataLoader(X, batch_size=batch_size)])


@contextmanager
def evaluation(model: Module) -> Iterator[None]:
    """Eval mode inside the block; every module's own mode restored after it."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


# ------------------------------------------------------------------- metrics


def accuracy(output: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of correct predictions: argmax of several columns, or output > threshold for one.

    One-column targets are labels 0/1 (or -1/+1, for the hinge loss).
    """
    output, target = np.asarray(output), np.asarray(target)
    if output.ndim == 2 and output.shape[1] > 1:
        labels = target.argmax(axis=1) if target.ndim == 2 else target
        return float(np.mean(output.argmax(axis=1) == labels))
    positive, labels = output.reshape(-1) > threshold, target.reshape(-1)
    if np.isin(labels, (0, 1)).all():
        return float(np.mean(positive == labels))
    if np.isin(labels, (-1, 1)).all():
        return float(np.mean(np.where(positive, 1, -1) == labels))
    raise ValueError(
        "accuracy needs class labels (0/1 or -1/+1 for a one-column output); "
        "for regression pass metrics=() or metrics=('mse',)"
    )


def mean_squared_error(output: np.ndarray, target: np.ndarray) -> float:
    """mean((output - target)**2)."""
    return float(np.mean((output - np.reshape(target, output.shape)) ** 2))


def mean_absolute_error(output: np.ndarray, target: np.ndarray) -> float:
    """mean(|output - target|)."""
    return float(np.mean(np.abs(output - np.reshape(target, output.shape))))


METRICS: dict[str, Metric] = {"accuracy": accuracy, "mse": mean_squared_error, "mae": mean_absolute_error}


def score(measures: dict[str, Metric], output: np.ndarray, target: np.ndarray) -> dict[str, float]:
    return {name: metric(output, target) for name, metric in measures.items()}


# ------------------------------------------------------------------ resolving


def resolve_loss(loss: str | Callable[..., Tensor]) -> LossSpec:
    """A loss name, function or Module, with the targets and outputs it implies."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)} or pass a function")
        loss = LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a callable, got {type(loss).__name__}")
    kind = getattr(type(loss), "function", loss)  # a loss Module names its function
    return LossSpec(loss, kind in CLASS_INDEX_LOSSES, 0.0 if kind in SCORE_LOSSES else 0.5)


def resolve_optimizer(optimizer: str | optim.Optimizer, model: Module) -> optim.Optimizer:
    """An optimizer instance, or a name made with PyTorch's defaults on the model's parameters."""
    if isinstance(optimizer, optim.Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        choices = sorted(OPTIMIZERS)
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {choices} or pass an instance")
    return OPTIMIZERS[optimizer](model.parameters())


def resolve_metrics(metrics: Sequence[str | Metric], spec: LossSpec) -> dict[str, Metric]:
    """Metric names or functions ``f(output, target) -> float``, keyed by name."""
    resolved = {}
    for metric in metrics:
        if callable(metric):
            resolved[getattr(metric, "__name__", "metric")] = metric
        elif metric in METRICS:
            resolved[metric] = METRICS[metric]
            if metric == "accuracy":
                resolved[metric] = partial(accuracy, threshold=spec.threshold)
        else:
            raise ValueError(f"unknown metric {metric!r}; choose from {sorted(METRICS)} or pass a function")
    return resolved


def model_dtype(model: Module) -> np.dtype:
    """The dtype of the model's Tensor parameters (inputs are cast to it), float32 by default."""
    params = model.parameters()
    if any(isinstance(p, Value) for p in params):
        raise TypeError(
            f"fit, evaluate and predict run Tensor models, but {type(model).__name__} is made of Values; "
            "train an nn.scalar network with a plain loop over the samples"
        )
    return next((p.dtype for p in params), np.dtype(np.float32))


def prepare(model: Module, X: Any, y: Any, spec: LossSpec) -> tuple[np.ndarray, np.ndarray]:
    """X in the model's dtype; y as class indices (N,) or as float columns (N, k)."""
    dtype = model_dtype(model)
    X, y = np.asarray(X, dtype=dtype), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if spec.class_indices:
        return X, y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    y = y.astype(dtype)
    return X, y.reshape(-1, 1) if y.ndim == 1 else y

