"""Loss Modules: ``nn.MSELoss()(output, target)`` and friends, as in PyTorch.

Each holds its options (``reduction``, ``margin``) and calls the function of
the same name in ``nn.functional``, which does the work; ``function`` names it
(``nn.fit`` reads it to know which targets and outputs a loss expects).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import functional as F
from .module import Module


class Loss(Module):
    """A loss function with its options bound; ``forward(input, target)``."""

    function: Callable[..., Any]

    def __init__(self, reduction: str = "mean", **options: Any) -> None:
        super().__init__()
        self.options = {"reduction": F.check_reduction(reduction), **options}

    def forward(self, input: Any, target: Any) -> Any:
        return type(self).function(input, target, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class MSELoss(Loss):
    """mean((input - target)**2)."""

    function = F.mse_loss


class BCELoss(Loss):
    """Binary cross-entropy of probabilities in [0, 1]."""

    function = F.binary_cross_entropy


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits."""

    function = F.binary_cross_entropy_with_logits


class CrossEntropyLoss(Loss):
    """Cross-entropy of logits (N, C) against class indices (N,)."""

    function = F.cross_entropy


class NLLLoss(Loss):
    """Negative log-likelihood of log-probabilities (N, C) against class indices (N,)."""

    function = F.nll_loss


class HingeLoss(Loss):
    """The SVM max-margin loss max(0, margin - y x) for labels in {-1, +1}."""

    function = F.hinge_loss

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction, margin=margin)
