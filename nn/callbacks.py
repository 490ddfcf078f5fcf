"""Callbacks for ``nn.fit``: ``GradientMonitor`` watches gradient flow per layer.

The training-time twin of ``draw_dot(..., color_by_grad=True)``: each epoch it
records every layer's gradient norm, so a plot shows where a deep net stops
learning, and it warns once per layer whose gradients vanish or explode
(the same test as the picture's, from ``autograd.viz.core``).
"""
from __future__ import annotations

import math
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from autograd.viz.core import EXPLODING, health, magnitude
from autograd.viz.modules import module_of_parameter

from .training import Callback, History

VANISHING_RATIO = 1e-4  # a layer whose gradient norm is this far below the largest layer's has vanished


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
