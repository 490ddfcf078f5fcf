"""Callbacks for ``nn.fit``, Keras's set on the ``Callback`` base of the training loop.

``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``, ``TerminateOnNaN``,
``ReduceLROnPlateau``, ``LearningRateScheduler`` and ``LambdaCallback``
behave as their Keras namesakes (``self.model.stop_training = True`` ends a
fit). ``GradientMonitor`` is the training-time twin of ``draw_dot(...,
color_by_grad=True)``: each epoch it records every layer's gradient norm, so a
plot shows where a deep net stops learning, and it warns once per layer whose
gradients vanish or explode (the same test as the picture's).
"""
from __future__ import annotations

import csv
import inspect
import math
import os
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograd.viz.core import EXPLODING, health, magnitude
from autograd.viz.modules import module_of_parameter

from .module import save
from .training import Callback, History, format_figure

VANISHING_RATIO = 1e-4  # a layer whose gradient norm is this far below the largest layer's has vanished
RISING, FALLING = ("accuracy", "acc"), ("loss", "mse", "mae")  # how mode="auto" reads a figure's name


class Monitor:
    """One logged figure watched for improvement: ``mode`` "min", "max" or "auto" (from the name).

    ``improved(value)`` is True when ``value`` beats the best so far by more
    than ``min_delta`` (Keras's rule), and then records it as the best.
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            name = monitor.removeprefix("val_")
            if name not in RISING + FALLING:
                raise ValueError(f"cannot tell whether {monitor!r} should rise or fall; "
                                 "pass mode='max' or mode='min'")
            mode = "max" if name in RISING else "min"
        self.name, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best = value
        return better

    def check(self, owner: Callback) -> None:
        """Refuse, before training, a figure that fit will not log (it would never be watched)."""
        names = owner.params.get("metrics", [])
        if self.name not in names:
            hint = " (pass validation_data= or validation_split=)" if self.name.startswith("val_") else ""
            raise ValueError(f"{type(owner).__name__} monitors {self.name!r}, which fit does not log{hint}; "
                             f"it logs {names}")


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (Keras's EarlyStopping).

    An improvement beats the best value so far by more than ``min_delta`` in
    the direction of ``mode`` ("auto": up for accuracy, down otherwise).
    ``restore_best_weights`` puts back the weights of the best epoch when
    training ends. ``stopped_epoch`` and ``best_epoch`` count from 0.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False, verbose: int = 0) -> None:
        self.monitor = Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights, self.verbose = patience, restore_best_weights, verbose

    def on_train_begin(self, model: Any, optimizer: Any) -> None:
        self.monitor.check(self)
        self.monitor.reset()
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, None, None, None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        improved = self.monitor.improved(logs[self.monitor.name])
        if improved or self.best_epoch is None:  # the first epoch is the best yet, even if its figure is NaN
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
        self.wait = 0 if improved else self.wait + 1
        if not improved and self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, history: History) -> None:
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model's weights with ``nn.save`` after each epoch (``nn.load`` reads them back).

    ``path`` may hold fields of the epoch's logs and ``{epoch}`` (counted from
    1, as Keras): ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``. With
    ``save_best_only`` it saves only when ``monitor`` improves. Each save goes
    to a temporary file in the same folder, renamed over ``path`` when
    complete: a failure half way leaves the previous checkpoint intact.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0) -> None:
        self.path, self.save_best_only, self.verbose = os.fspath(path), save_best_only, verbose
        self.monitor = Monitor(monitor, mode)

    def on_train_begin(self, model: Any, optimizer: Any) -> None:
        """Check, before training, that the path can be filled from the logs and its folder exists."""
        if self.save_best_only:
            self.monitor.check(self)
        self.monitor.reset()
        names = self.params.get("metrics", [])
        try:
            folder = Path(self.path.format(epoch=1, **dict.fromkeys(names, 0.0))).parent
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"ModelCheckpoint path {self.path!r} names {error} that fit does not log; "
                             f"it logs epoch and {names}") from None
        if not folder.is_dir():
            raise FileNotFoundError(f"ModelCheckpoint: folder {folder} does not exist")

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.save_best_only and not self.monitor.improved(logs[self.monitor.name]):
            return
        path = self.path.format(epoch=epoch + 1, **logs)
        atomic_write(path, lambda temporary: save(self.model, temporary))
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved the model to {path}")


def atomic_write(path: str | os.PathLike, write: Callable[[str], Any]) -> None:
    """``write(temporary)`` into a new file beside ``path``, then rename it over ``path`` (atomic)."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: ``epoch`` then the figures, by name.

    The file is started afresh at the start of training (or continued when
    ``append``), and each row is flushed as its epoch ends.
    """

    def __init__(self, path: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        self.path, self.separator, self.append = Path(path), separator, append

    def on_train_begin(self, model: Any, optimizer: Any) -> None:
        self.columns: list[str] | None = None
        if not self.append or not self.path.exists():
            self.path.write_text("")
        elif self.path.stat().st_size:
            with self.path.open(newline="") as f:
                self.columns = next(csv.reader(f, delimiter=self.separator), None)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        with self.path.open("a", newline="") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if self.columns is None:
                self.columns = ["epoch", *logs]
                writer.writerow(self.columns)
            row = {"epoch": epoch, **logs}
            writer.writerow([row.get(name, "") for name in self.columns])


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite (its epoch is still recorded)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


def learning_rate(optimizer: Any) -> float:
    """The optimizer's learning rate (its first parameter group's, when it has groups)."""
    groups = getattr(optimizer, "param_groups", None)
    return groups[0]["lr"] if groups else optimizer.lr


def set_learning_rate(optimizer: Any, change: Callable[[float], float]) -> None:
    """Replace each learning rate ``lr`` of the optimizer (every parameter group's) by ``change(lr)``."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for group in groups:
            group["lr"] = change(group["lr"])
    else:
        optimizer.lr = change(optimizer.lr)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has stalled ``patience`` epochs (Keras).

    An improvement beats the best by more than ``min_delta``; after a
    reduction, ``cooldown`` epochs pass before counting again; the rate never
    goes below ``min_lr``. Each epoch's logs gain ``learning_rate``.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, mode: str = "auto",
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, verbose: int = 0) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau factor must be in (0, 1), got {factor}")
        self.monitor = Monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr
        self.verbose = verbose

    def on_train_begin(self, model: Any, optimizer: Any) -> None:
        self.monitor.check(self)
        self.monitor.reset()
        self.wait, self.cooling = 0, 0

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        logs["learning_rate"] = learning_rate(self.optimizer)
        if self.cooling:
            self.cooling -= 1
            self.wait = 0
        if self.monitor.improved(logs[self.monitor.name]):
            self.wait = 0
        elif not self.cooling:
            self.wait += 1
            if self.wait >= self.patience and learning_rate(self.optimizer) > self.min_lr:
                set_learning_rate(self.optimizer, lambda lr: max(lr * self.factor, self.min_lr))
                self.wait, self.cooling = 0, self.cooldown
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{format_figure(learning_rate(self.optimizer))}")


class LearningRateScheduler(Callback):
    """Set the learning rate to ``schedule(epoch, lr)`` at the start of each epoch (epochs from 0).

    A ``schedule(epoch)`` of one argument works too. Each epoch's logs gain
    ``learning_rate``.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        self.schedule, self.verbose = schedule, verbose
        try:
            self.takes_lr = len(inspect.signature(schedule).parameters) >= 2
        except (TypeError, ValueError):  # a builtin without a signature: Keras's two arguments
            self.takes_lr = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        current = learning_rate(self.optimizer)
        lr = self.schedule(epoch, current) if self.takes_lr else self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr!r} at epoch {epoch}; "
                             "it must return a finite number >= 0")
        set_learning_rate(self.optimizer, lambda _: float(lr))
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {format_figure(lr)}")

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        logs["learning_rate"] = learning_rate(self.optimizer)


HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_after_backward", "on_batch_end",
         "on_epoch_end", "on_train_end")


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Each keyword is one of the hook names and takes that hook's arguments.
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, function in hooks.items():
            if name not in HOOKS:
                raise TypeError(f"LambdaCallback got an unknown hook {name!r}; hooks: {', '.join(HOOKS)}")
            if not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {type(function).__name__}")
            setattr(self, name, function)


class GradientMonitor(Callback):
    """Per layer, the mean gradient norm over each epoch's batches: ``history[layer][epoch]``.

    ``per="module"`` groups parameters by module ("0.weight" and "0.bias" are
    layer "0", as in ``draw_dot``'s boxes); ``per="parameter"`` keeps each.
    A layer has vanished when its norm <= ``vanishing`` x the largest layer's
    norm that epoch, exploded when its norm is nan/inf or > ``exploding``;
    each layer warns once (``RuntimeWarning``).
    """

    def __init__(
        self, per: str = "module", vanishing: float = VANISHING_RATIO, exploding: float = EXPLODING
    ) -> None:
        if per not in ("module", "parameter"):
            raise ValueError(f"per must be 'module' or 'parameter', got {per!r}")
        self.per, self.vanishing, self.exploding = per, vanishing, exploding
        self.history: dict[str, list[float]] = {}
        self.warned: dict[str, str] = {}  # layer -> "vanishing" or "exploding", once
        self._layers: dict[str, list[Any]] = {}
        self._batches: dict[str, list[float]] = defaultdict(list)

    def on_train_begin(self, model: Any, optimizer: Any) -> None:
        self._layers = defaultdict(list)
        for name, param in model.named_parameters():
            layer = module_of_parameter(name) or name if self.per == "module" else name
            self._layers[layer].append(param)
        self.history = {layer: [] for layer in self._layers}

    def on_after_backward(self, model: Any) -> None:
        for layer, params in self._layers.items():
            sizes = [magnitude(p.grad) for p in params]
            self._batches[layer].append(math.sqrt(sum(s * s for s in sizes if s is not None)))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        for layer, norms in self._batches.items():
            self.history[layer].append(sum(norms) / len(norms))
        self._batches.clear()
        self.check(epoch)

    def on_train_end(self, history: History) -> None:
        self._batches.clear()

    def check(self, epoch: int) -> None:
        """Warn once per layer whose latest norm vanished or exploded."""
        latest = {layer: norms[-1] for layer, norms in self.history.items() if norms}
        largest = max((n for n in latest.values() if n <= self.exploding), default=0.0)  # nan fails <=
        for layer, norm in latest.items():
            state = health(norm, largest, self.vanishing, self.exploding)
            if state != "ok" and layer not in self.warned:
                self.warned[layer] = state
                verb = "vanished" if state == "vanishing" else "exploded"
                warnings.warn(
                    f"GradientMonitor: gradients of layer {layer!r} {verb} at epoch {epoch}: norm {norm:.3g} "
                    f"(largest layer {largest:.3g}; thresholds {self.vanishing:g} x largest, "
                    f"{self.exploding:g})",
                    RuntimeWarning, stacklevel=2,
                )

    def plot(self, path: str | Path | None = None) -> Any:
        """Gradient norm per layer over the epochs, log-scale y; saved to ``path`` if given.

        Returns the matplotlib Figure (made without pyplot, so no window opens).
        """
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        figure = Figure(figsize=(7.5, 4.5), layout="constrained")
        axes = figure.add_subplot()
        for layer, norms in self.history.items():
            state = self.warned.get(layer)
            axes.plot(range(len(norms)), [n if n > 0 else math.nan for n in norms], marker="o", markersize=3,
                      linestyle="--" if state else "-", label=f"{layer} ({state})" if state else layer)
        axes.set(yscale="log", xlabel="epoch", ylabel="gradient norm (mean over batches)",
                 title="Gradient norm per layer (dashed: warned)")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(title="layer", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
        axes.grid(True, which="both", alpha=0.3)
        if path is not None:
            figure.savefig(path, dpi=120)
        return figure
