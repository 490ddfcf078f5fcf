"""Layers: Linear, containers (Sequential, ModuleList, MLP) and activations.

Shapes, names and defaults follow PyTorch: ``Linear`` holds ``weight``
(out, in) and ``bias`` (out,), initialised U(-1/sqrt(in), 1/sqrt(in)) from the
generator ``nn.manual_seed`` seeds, and runs as the engine's fused
``Linear`` op (one graph node per layer). Every layer takes Tensors, arrays
or lists; the activations are those of ``nn.functional``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from autograd import Tensor
from autograd.functions import Linear as LinearOp

from . import functional as F
from .module import Module, Parameter, generator


class Linear(Module):
    """y = x @ W.T + b, with W of shape (out_features, in_features).

    The dtype rule (Keras's autocast): the output has the layer's dtype
    (``dtype``, float32 by default) whatever the input's. Arrays, lists and
    Tensors of another dtype are cast to it on the way in; the gradient of
    such a Tensor comes back in the Tensor's own dtype. ``model.double()``
    changes the layer's dtype.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.float32
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = _uniform((out_features, in_features), bound, dtype)
        self.bias = _uniform((out_features,), bound, dtype) if bias else None

    def forward(self, x: Any) -> Tensor:
        weight, bias = self.weight, self.bias
        if type(x) is not Tensor or x.data.dtype is not weight.data.dtype:
            x = F.autocast(x, weight.data.dtype)
        try:
            return LinearOp.apply(x, weight) if bias is None else LinearOp.apply(x, weight, bias)
        except (ValueError, IndexError) as error:  # checked only on failure: a test costs every call
            if np.shape(x)[-1:] != (self.in_features,):
                raise ValueError(
                    f"{self!r} expects {self.in_features} features in the last axis, got input of shape "
                    f"{np.shape(x)}"
                ) from error
            raise

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


def _uniform(shape: tuple[int, ...], bound: float, dtype: Any) -> Parameter:
    return Parameter(generator().uniform(-bound, bound, shape).astype(dtype))


class Sequential(Module):
    """Modules applied in order; children are named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module.forward(x) if module._hooks is None else module(x)  # module(x), one lookup less
        return x

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        return Sequential(*modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules, registered as "0", "1", ... (no forward of its own)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


# ---------------------------------------------------------------- activations


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Any:
        return F.relu(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Any:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """tanh x."""

    def forward(self, x: Any) -> Any:
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + e**-x)."""

    def forward(self, x: Any) -> Any:
        return F.sigmoid(x)


class Softmax(Module):
    """e**x / sum(e**x) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p).

    In eval mode it is the identity, so expected activations match in both.
    The masks come from the generator ``nn.manual_seed`` seeds.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Axes start_dim..end_dim merged into one (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        return F._tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Sequential):
    """Linear layers with an activation between them (none after the last).

    ``MLP(2, [16, 16, 1])`` is ``Sequential(Linear(2, 16), ReLU(), Linear(16,
    16), ReLU(), Linear(16, 1))``, with the same state-dict keys.
    """

    def __init__(
        self, in_features: int, sizes: Iterable[int], activation: str = "relu", dtype: Any = np.float32
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        sizes = [in_features, *sizes]
        layers: list[Module] = []
        for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
            layers += [Linear(fan_in, fan_out, dtype=dtype), ACTIVATIONS[activation]()]
        super().__init__(*layers[:-1])
