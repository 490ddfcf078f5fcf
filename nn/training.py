"""A Keras-style training loop on top of the PyTorch-style pieces.

``fit`` runs the loop a user would write (forward, loss, ``zero_grad``,
``backward``, ``step``) over ``DataLoader`` batches and records per-epoch
figures in a ``History``; ``evaluate`` and ``predict`` run the model in eval
mode without recording a graph. Callbacks (``nn.callbacks``) hook into the
loop with Keras's hook names; everything fit is given is checked before the
first step, so a mistake never costs a trained epoch.

Accuracy of a one-column output: for losses on raw scores
(``bce_with_logits``, ``hinge``) the output is a logit, so it predicts the
positive class where output > 0; for other losses it is a probability, and
the threshold is 0.5. Several columns predict their argmax.
"""
from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple, TextIO

import numpy as np

from autograd import Tensor, Value, no_grad

from . import functional as F
from . import optim
from .data import DataLoader
from .module import Module, generator

Metric = Callable[[np.ndarray, np.ndarray], float]
Metrics = str | Metric | Sequence[str | Metric] | None
OptimizerSpec = str | type[optim.Optimizer] | optim.Optimizer

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
CLASSIFICATION_LOSSES = (*CLASS_INDEX_LOSSES, *SCORE_LOSSES, F.binary_cross_entropy)
OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "rmsprop": optim.RMSprop, "adamw": optim.AdamW}


class Callback:
    """Hooks into ``fit`` with Keras's names; override the ones you need (each is a no-op here).

    Before ``on_train_begin`` fit sets ``self.model``, ``self.optimizer`` and
    ``self.params`` (``epochs``, ``steps`` per epoch, ``verbose`` and
    ``metrics``: the names the epoch logs will hold). Setting
    ``self.model.stop_training = True`` ends training after the current
    batch: that epoch's figures (over the batches run) are still logged and
    recorded, then ``on_train_end`` runs.
    """

    model: Any = None
    optimizer: Any = None
    params: dict[str, Any] = {}

    def on_train_begin(self, model: Module, optimizer: optim.Optimizer) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Before each epoch's first batch (epochs count from 0)."""

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before each batch's forward pass (batches count from 0 in each epoch)."""

    def on_after_backward(self, model: Module) -> None:
        """After ``loss.backward()``, before ``optimizer.step()``: gradients are fresh."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After each step; ``logs["loss"]`` is that batch's loss, ``logs["size"]`` its sample count."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        """After each epoch; ``logs`` holds that epoch's figures (loss, metrics, val_*)."""

    def on_train_end(self, history: History) -> None:
        """After the last epoch (also after a stop)."""


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
    """A loss and what it implies: integer class targets? one-column threshold? how batches add up?"""

    function: Callable[..., Tensor]
    class_indices: bool
    threshold: float
    classification: bool
    reduction: str  # "mean" or "sum": how a batch's value combines into the epoch's


# ------------------------------------------------------------------- the loop


def fit(
    model: Module,
    X: Any,
    y: Any,
    loss: str | Callable[..., Tensor] = "mse",
    optimizer: OptimizerSpec = "adam",
    epochs: int = 1,
    batch_size: int | None = 32,
    metrics: Metrics = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    shuffle: bool = True,
    seed: int | None = None,
    verbose: int | str = "auto",
    callbacks: Sequence[Callback] = (),
    progress: bool | None = None,
) -> History:
    """Train ``model`` on (X, y) for ``epochs`` passes of mini-batches; returns a History.

    ``loss``: a name (see ``LOSSES``), a function or a loss Module.
    ``optimizer``: a name or an optimizer class (made with its defaults over
    ``model.parameters()``), or an optimizer instance. ``batch_size=None`` is
    full-batch gradient descent. ``metrics``: a name, a function
    ``f(output, target) -> float`` or a list of them; by default accuracy for
    classification losses and nothing for regression. ``validation_split``
    holds out the last fraction of (X, y), taken before shuffling (as Keras);
    give it or ``validation_data``, not both. Shuffling draws from the
    ``nn.manual_seed`` generator unless ``seed`` is given.

    ``verbose``: 0 silent; 1 ("auto") a progress bar per epoch that leaves one
    line behind (in a terminal or Jupyter; elsewhere, as 2); 2 one plain line
    per epoch. ``progress=False``/``True`` is the older spelling of 0/1.

    Before the first step fit runs the model on one sample and the loss on
    every target (eval mode, no graph), so data that does not fit the model,
    the loss or the metrics fails before any weight has changed.

    The figures, per epoch: ``loss`` is the loss as the user chose it, over the
    epoch's samples: the sample-weighted mean of the batches' losses for
    ``reduction="mean"`` (a short last batch counts for its size), their sum for
    ``reduction="sum"``; the weights change during the epoch, so it is the
    average of figures taken along the way, as in Keras. Metrics are computed
    on all of the epoch's outputs. ``val_*`` figures come from ``evaluate`` on
    the validation set after the epoch, with the final weights of that epoch.
    """
    verbose = resolve_verbose(verbose, progress)
    check_count("epochs", epochs, minimum=0)
    check_batch_size(batch_size)
    spec = resolve_loss(loss)
    opt = resolve_optimizer(optimizer, model)
    measures = resolve_metrics(metrics, spec)
    X, y = prepare(model, X, y, spec)
    X, y, validation = split_validation(model, X, y, spec, validation_data, validation_split)
    sets = [(X, y, "y")] + ([(*validation, "validation y")] if validation else [])
    check_targets(model, spec, measures, sets)
    if shuffle and seed is None:
        seed = int(generator().integers(2**63))
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    names = ["loss", *measures]
    names += [f"val_{name}" for name in names] if validation else []
    callbacks = start_callbacks(callbacks, model, opt, {
        "epochs": epochs, "steps": len(loader), "verbose": verbose, "metrics": names})
    history, log = History(), ProgressLog(verbose, epochs, len(loader))
    for epoch in range(epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        logs = train_epoch(model, loader, spec, opt, measures, callbacks, log.batch_bar(epoch))
        if validation:
            scores = measure(model, *validation, spec, measures)
            logs.update({f"val_{name}": value for name, value in scores.items()})
        log.epoch_end(epoch, logs)
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        history.append(epoch, logs)
        if model.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end(history)
    return history


def train_epoch(model: Module, loader: DataLoader, spec: LossSpec, optimizer: optim.Optimizer,
                measures: dict[str, Metric], callbacks: Sequence[Callback] = (),
                bar: Any = None) -> dict[str, float]:
    """One pass over the batches in train mode: the epoch's loss (see ``fit``) and metrics.

    Stops after the batch where a callback sets ``model.stop_training``; the
    figures are then those of the batches run. The bar is closed however the pass ends.
    """
    model.train()
    total, outputs, targets = 0.0, [], []
    try:
        for batch, (xb, yb) in enumerate(loader):
            for callback in callbacks:
                callback.on_batch_begin(batch)
            output = model(Tensor(xb))
            batch_loss = spec.function(output, yb)
            optimizer.zero_grad()
            batch_loss.backward()
            for callback in callbacks:
                callback.on_after_backward(model)
            optimizer.step()
            value = batch_loss.item()
            total += value if spec.reduction == "sum" else value * len(xb)
            outputs.append(output.data)
            targets.append(yb)
            if bar is not None:
                bar.set_postfix_str(f"loss {format_figure(epoch_loss(total, outputs, spec))}", refresh=False)
                bar.update()
            for callback in callbacks:
                callback.on_batch_end(batch, {"loss": value, "size": len(xb)})
            if getattr(model, "stop_training", False):
                break
    finally:
        if bar is not None:
            bar.close()
    output = np.concatenate(outputs)
    return {"loss": epoch_loss(total, outputs, spec), **score(measures, output, np.concatenate(targets))}


def epoch_loss(total: float, outputs: list[np.ndarray], spec: LossSpec) -> float:
    """The summed batch losses as the epoch's figure: the sum itself, or per sample for "mean"."""
    return total if spec.reduction == "sum" else total / sum(len(o) for o in outputs)


def evaluate(model: Module, X: Any, y: Any, loss: str | Callable[..., Tensor] = "mse",
             metrics: Metrics = None, batch_size: int | None = None) -> dict[str, float]:
    """The loss (reduced over all of X as the loss says) and metrics of ``model`` on (X, y).

    Runs in eval mode without a graph; metrics default as in ``fit``.
    """
    spec = resolve_loss(loss)
    X, y = prepare(model, X, y, spec)
    return measure(model, X, y, spec, resolve_metrics(metrics, spec), batch_size)


def measure(model: Module, X: np.ndarray, y: np.ndarray, spec: LossSpec, measures: dict[str, Metric],
            batch_size: int | None = None) -> dict[str, float]:
    """``evaluate`` on prepared arrays: the loss of all outputs at once, then the metrics."""
    output = predict(model, X, batch_size)
    with no_grad():
        value = spec.function(Tensor(output), y).item()
    return {"loss": value, **score(measures, output, y)}


def predict(model: Module, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for X as an array, in eval mode and under ``no_grad``."""
    check_batch_size(batch_size)
    X = np.asarray(X, dtype=model_dtype(model))
    with evaluation(model), no_grad():
        if not len(X):  # no batches: the model's answer for no samples, shaped (0, ...)
            return model(Tensor(X)).data
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


def start_callbacks(callbacks: Sequence[Callback], model: Module, optimizer: optim.Optimizer,
                    params: dict[str, Any]) -> list[Callback]:
    """Give each callback the model, optimizer and run settings, then call ``on_train_begin``."""
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks must be nn.Callback instances, got {type(callback).__name__}")
    model.stop_training = False
    for callback in callbacks:
        callback.model, callback.optimizer, callback.params = model, optimizer, params
        callback.on_train_begin(model, optimizer)
    return callbacks


# ------------------------------------------------------------------ progress


BAR_FORMAT = "{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


class ProgressLog:
    """What fit prints to stdout, by Keras's ``verbose``: 0 nothing, 2 one line per epoch.

    1 shows a live bar of the epoch's batches (tqdm's, a widget in Jupyter),
    then replaces it with the epoch's line; it falls back to 2 when stdout is
    neither a terminal nor a notebook, so a log file gets plain lines.
    Lines wider than the terminal wrap between figures (never cut off).
    """

    def __init__(self, verbose: int, epochs: int, steps: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.bar = bar_class(self.stream) if verbose == 1 else None
        self.width = shutil.get_terminal_size().columns if self.bar is not None else None
        self.start = 0.0

    def batch_bar(self, epoch: int) -> Any:
        """A bar over this epoch's batches when live (fit updates and closes it), else None."""
        self.start = time.perf_counter()
        if self.bar is None:
            return None
        return self.bar(total=self.steps, desc=self.title(epoch), unit="batch", leave=False, file=self.stream,
                    dynamic_ncols=True, bar_format=BAR_FORMAT)

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """The epoch's line: ``Epoch 3/10  loss 0.2345  accuracy 0.9560  ...  0.4s``.

        In a terminal the time is left out when only it would not fit.
        """
        if not self.verbose:
            return
        parts = [self.title(epoch), *(f"{name} {format_figure(value)}" for name, value in logs.items())]
        line = wrap([*parts, f"{time.perf_counter() - self.start:.1f}s"], "  ", self.width)
        if "\n" in line and "\n" not in wrap(parts, "  ", self.width):
            line = wrap(parts, "  ", self.width)
        print(line, file=self.stream, flush=True)

    def title(self, epoch: int) -> str:
        return f"Epoch {epoch + 1:>{len(str(self.epochs))}}/{self.epochs}"


def wrap(parts: list[str], separator: str, width: int | None) -> str:
    """``parts`` joined by ``separator``; given a width, continued on indented lines instead of cut off."""
    lines = [parts[0]]
    for part in parts[1:]:
        if width is not None and len(lines[-1]) + len(separator) + len(part) > width - 1:
            lines.append(" " * (len(parts[0]) + len(separator)) + part)
        else:
            lines[-1] += separator + part
    return "\n".join(lines)


def format_figure(value: float) -> str:
    """Four decimals, or four significant digits in e-notation for very small or large values."""
    if value != 0 and math.isfinite(value) and not 1e-3 <= abs(value) < 1e5:
        return f"{value:.4e}"
    return f"{value:.4f}"


def bar_class(stream: TextIO) -> type | None:
    """tqdm.auto's choice, made when fit runs: the Jupyter widget in a notebook kernel (with
    ipywidgets), the text bar on a terminal, else None (plain lines; tqdm.auto would warn)."""
    if in_notebook():
        from tqdm import notebook

        if notebook.IProgress is not None:
            return notebook.tqdm
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from tqdm import tqdm

        return tqdm
    return None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (the test tqdm.autonotebook makes)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in shell.config


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
    """A loss name, function or Module, with the targets, outputs and reduction it implies.

    The reduction is read from a loss Module's options or a ``functools.partial``'s
    keywords; any other function is taken to average over the batch.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)} or pass a function")
        loss = LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"loss must be a name or a callable, got {type(loss).__name__}")
    kind = getattr(type(loss), "function", loss)  # a loss Module names its function
    options = getattr(loss, "options", None) or getattr(loss, "keywords", None) or {}
    if isinstance(loss, partial):
        kind = loss.func
    reduction = options.get("reduction", "mean")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"fit needs a loss reduced to one number (reduction 'mean' or 'sum'), "
                         f"got reduction={reduction!r}")
    return LossSpec(loss, kind in CLASS_INDEX_LOSSES, 0.0 if kind in SCORE_LOSSES else 0.5,
                    kind in CLASSIFICATION_LOSSES, reduction)


def resolve_optimizer(optimizer: OptimizerSpec, model: Module) -> optim.Optimizer:
    """An optimizer instance, or a name or class made with its defaults on the model's parameters.

    An instance must hold some of the model's parameters: one made for another
    model would train nothing.
    """
    if isinstance(optimizer, type) and issubclass(optimizer, optim.Optimizer):
        return optimizer(model.parameters())
    if isinstance(optimizer, optim.Optimizer):
        own = {id(p) for p in model.parameters()}
        if not any(id(p) in own for p in optimizer_parameters(optimizer)):
            raise ValueError(
                f"the optimizer holds none of {type(model).__name__}'s parameters, so fit would train "
                f"nothing; make it over this model: {type(optimizer).__name__}(model.parameters(), ...)"
            )
        return optimizer
    if optimizer not in OPTIMIZERS:
        choices = sorted(OPTIMIZERS)
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {choices}, a class or an instance")
    return OPTIMIZERS[optimizer](model.parameters())


def optimizer_parameters(optimizer: optim.Optimizer) -> list[Any]:
    """Every parameter an optimizer steps (over its ``param_groups`` when it has them)."""
    groups = getattr(optimizer, "param_groups", None)
    if groups is None:
        return list(optimizer.params)
    return [p for group in groups for p in group["params"]]


def resolve_metrics(metrics: Metrics, spec: LossSpec) -> dict[str, Metric]:
    """Metric names or functions ``f(output, target) -> float``, keyed by name.

    ``None`` follows the loss: accuracy for a classification loss, else none.
    """
    if metrics is None:
        metrics = ("accuracy",) if spec.classification else ()
    elif isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
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


def resolve_verbose(verbose: int | str, progress: bool | None) -> int:
    """Keras's 0/1/2 ("auto" is 1); ``progress`` (the older flag) maps False/True to 0/1."""
    if progress is not None:
        if verbose != "auto":
            raise ValueError("give verbose= or progress= (its older spelling), not both")
        verbose = 1 if progress else 0
    if verbose == "auto":
        verbose = 1
    if verbose not in (0, 1, 2) or isinstance(verbose, (float, bool)):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch), "
                         f"got {verbose!r}")
    return int(verbose)


def check_count(name: str, value: Any, minimum: int) -> None:
    """An int (not a bool) >= minimum, or a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_batch_size(batch_size: Any) -> None:
    if batch_size is not None:
        try:
            check_count("batch_size", batch_size, minimum=1)
        except ValueError as error:
            raise ValueError(f"{error} (or None for one batch of everything)") from None


def model_dtype(model: Module) -> np.dtype:
    """The dtype of the model's Tensor parameters (inputs are cast to it), float32 by default."""
    params = model.parameters()
    if any(isinstance(p, Value) for p in params):  # the model's kind decides: fit runs Tensor models
        raise TypeError(
            f"fit, evaluate and predict run Tensor models, but {type(model).__name__} is made of Values; "
            "train an nn.scalar network with a plain loop over the samples"
        )
    return next((p.dtype for p in params), np.dtype(np.float32))


def prepare(model: Module, X: Any, y: Any, spec: LossSpec) -> tuple[np.ndarray, np.ndarray]:
    """X in the model's dtype; y as class indices (N,) or as float columns (N, k)."""
    dtype = model_dtype(model)
    X, y = np.asarray(X, dtype=dtype), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y) or not len(X):
        raise ValueError(f"X and y need one row per sample, at least one: X has shape {X.shape}, y {y.shape}")
    if spec.class_indices:
        return X, y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    y = y.astype(dtype)
    return X, y.reshape(-1, 1) if y.ndim == 1 else y


def split_validation(
    model: Module, X: np.ndarray, y: np.ndarray, spec: LossSpec, data: tuple[Any, Any] | None, split: float
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Training arrays and the validation set: ``data`` prepared, or the last ``split`` of (X, y).

    The validation set must look like the training set (sample and target shapes).
    """
    if data is not None and split:
        raise ValueError("give validation_data or validation_split, not both")
    if not 0 <= split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {split!r}")
    if split:
        cut = math.floor(len(X) * (1 - split))
        if cut in (0, len(X)):
            raise ValueError(f"validation_split={split} of {len(X)} samples leaves an empty training or "
                             "validation set; give more data or another fraction")
        return X[:cut], y[:cut], (X[cut:], y[cut:])
    if data is None:
        return X, y, None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError("validation_data must be a pair (X_val, y_val)")
    X_val, y_val = prepare(model, *data, spec)
    for name, train, val in (("X", X, X_val), ("y", y, y_val)):
        if train.shape[1:] != val.shape[1:]:
            raise ValueError(f"validation {name} has samples of shape {val.shape[1:]}, but training {name} "
                             f"has {train.shape[1:]}")
    return X, y, (X_val, y_val)


def check_targets(model: Module, spec: LossSpec, measures: dict[str, Metric],
                  sets: list[tuple[np.ndarray, np.ndarray, str]]) -> None:
    """Before any step: the loss and accuracy accept every set's targets.

    The model's output for one sample (eval mode, no graph), repeated for
    every target, goes through the loss itself, so its own checks (class
    range, dtype, shape) run on all targets before training changes a weight.
    """
    output = predict(model, sets[0][0][:1])
    for _, target, name in sets:
        outputs = np.repeat(output, len(target), axis=0)
        try:
            with no_grad():
                spec.function(Tensor(outputs), target)
            if "accuracy" in measures:
                measures["accuracy"](outputs, target)
        except (TypeError, ValueError) as error:
            message = f"{name} does not fit the model's output {output.shape[1:]} and the loss: {error}"
            raise type(error)(message) from error
