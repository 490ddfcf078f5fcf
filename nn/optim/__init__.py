"""Optimizers and learning-rate schedules, as ``torch.optim``.

``nn.optim.SGD RMSprop Adam AdamW`` work on Tensor and Value parameters
alike; schedules live in ``nn.optim.lr_scheduler`` (also reachable here, as
``nn.optim.StepLR`` ...).
"""
from . import lr_scheduler
from .lr_scheduler import CosineAnnealingLR, LRScheduler, ReduceLROnPlateau, StepLR
from .optimizer import SGD, Adam, AdamW, Optimizer, RMSprop

__all__ = [
    "SGD", "Adam", "AdamW", "CosineAnnealingLR", "LRScheduler", "Optimizer", "RMSprop", "ReduceLROnPlateau",
    "StepLR", "lr_scheduler",
]


def __dir__() -> list[str]:
    """The public names only."""
    return list(__all__)
