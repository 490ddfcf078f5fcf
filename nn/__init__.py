"""chaingrad's nn: modules, layers, losses, optimizers, data and a training loop.

PyTorch's names and shapes (``nn.Linear``, ``nn.optim.Adam``,
``nn.functional.cross_entropy``) on the ``autograd`` engine, a Keras-style
``nn.fit`` on top, and micrograd's scalar network in ``nn.scalar``.
"""
from ._version import __version__ as __version__  # noqa: I001 (first: stops if `autograd` is not chaingrad's)
from . import data, functional, optim, scalar, utils
from .layers import (
    MLP,
    Dropout,
    Flatten,
    LeakyReLU,
    Linear,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, MSELoss, NLLLoss
from .module import Module, Parameter, load, manual_seed, save
from .summary import summary
from .torch_bridge import from_torch, to_torch
from .training import Callback, History, evaluate, fit, predict

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "Callback", "CrossEntropyLoss", "Dropout", "Flatten", "HingeLoss",
    "History", "LeakyReLU", "Linear", "MLP", "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "data", "evaluate", "fit", "from_torch", "functional",
    "load", "manual_seed", "optim", "predict", "save", "scalar", "summary", "to_torch", "utils",
]


def __dir__() -> list[str]:
    """The public names only (no submodules that are implementation)."""
    return sorted({*__all__, "callbacks"})


def __getattr__(name: str):
    """``nn.callbacks`` on first use (it imports the training loop's Callback)."""
    if name == "callbacks":
        import importlib

        return importlib.import_module(".callbacks", __name__)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
