"""The same model in PyTorch and back: ``nn.to_torch(model)`` and ``nn.from_torch(module)``.

chaingrad stays a one-machine NumPy library; for GPUs and many machines, move
a model to torch (same layers, same state-dict keys, same weights, copied),
train it there (e.g. with ``torch.nn.parallel.DistributedDataParallel``) and
bring it back. torch is imported only when one of these is called.
Supported: Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, Dropout,
Flatten, Sequential (and MLP, a Sequential), ModuleList.
"""
from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from . import layers
from .module import Module, Parameter

__all__ = ["from_torch", "to_torch"]

# Layers without weights: the class (same name in torch.nn) -> the attributes its
# constructor takes, spelled the same in both libraries.
_SIMPLE = {
    layers.ReLU: (),
    layers.Tanh: (),
    layers.Sigmoid: (),
    layers.LeakyReLU: ("negative_slope",),
    layers.Softmax: ("dim",),
    layers.Dropout: ("p",),
    layers.Flatten: ("start_dim", "end_dim"),
}
_SUPPORTED = "Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Softmax, Dropout, Flatten, Sequential, MLP, ModuleList"


def to_torch(model: Module) -> Any:
    """The equivalent ``torch.nn`` module, with copies of the weights (same dtype) and the same mode."""
    torch = _torch()
    converted = _to_torch(torch, model)
    converted.train(model.training)
    for ours, theirs in zip(model.modules(), converted.modules(), strict=True):
        theirs.training = ours.training
    return converted


def _to_torch(torch: Any, model: Module) -> Any:
    if isinstance(model, layers.Linear):
        layer = torch.nn.Linear(model.in_features, model.out_features, bias=model.bias is not None,
                                dtype=_torch_dtype(torch, model.weight.dtype))
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(model.weight.data.copy()))
            if model.bias is not None:
                layer.bias.copy_(torch.from_numpy(model.bias.data.copy()))
        return layer
    if isinstance(model, layers.Sequential):  # MLP included: torch has no MLP of this form
        return torch.nn.Sequential(*[_to_torch(torch, m) for m in model])
    if isinstance(model, layers.ModuleList):
        return torch.nn.ModuleList([_to_torch(torch, m) for m in model])
    if type(model) in _SIMPLE:
        return getattr(torch.nn, type(model).__name__)(**{k: getattr(model, k) for k in _SIMPLE[type(model)]})
    raise TypeError(
        f"nn.to_torch: no torch equivalent for {type(model).__name__} (supported: {_SUPPORTED}); "
        "for a model of your own, build the torch twin and load model.state_dict() into it"
    )


def from_torch(module: Any) -> Module:
    """The equivalent chaingrad model, with copies of the weights (same dtype) and the same mode."""
    torch = _torch()
    converted = _from_torch(torch, module)
    for theirs, ours in zip(module.modules(), converted.modules(), strict=True):
        ours.training = theirs.training
    return converted


def _from_torch(torch: Any, module: Any) -> Module:
    tnn = torch.nn
    if type(module) is tnn.Linear:
        layer = layers.Linear.__new__(layers.Linear)  # no random init: the seeded stream stays untouched
        Module.__init__(layer)
        layer.in_features, layer.out_features = module.in_features, module.out_features
        layer.weight = Parameter(_array(module.weight))
        layer.bias = None if module.bias is None else Parameter(_array(module.bias))
        return layer
    if type(module) is tnn.Sequential:
        return layers.Sequential(*[_from_torch(torch, m) for m in module])
    if type(module) is tnn.ModuleList:
        return layers.ModuleList([_from_torch(torch, m) for m in module])
    if type(module) is tnn.Softmax and module.dim is None:
        raise ValueError("nn.from_torch: torch.nn.Softmax() without dim; give it dim=-1 (or the axis meant)")
    for ours, keys in _SIMPLE.items():
        if type(module) is getattr(tnn, ours.__name__):
            return ours(**{key: getattr(module, key) for key in keys})
    raise TypeError(
        f"nn.from_torch: no chaingrad equivalent for torch.nn.{type(module).__name__} "
        f"(supported: {_SUPPORTED})"
    )


def _array(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    return torch.from_numpy(np.zeros(0, dtype=dtype)).dtype


def _torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        raise ImportError("nn.to_torch / nn.from_torch need PyTorch: pip install torch") from error
