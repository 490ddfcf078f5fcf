"""micrograd's network, one Value per weight: for teaching and for drawing.

``Neuron``, ``Layer`` and ``MLP`` read as in micrograd, but sit on the same
``Module`` base as the tensor layers, so ``parameters()``,
``named_parameters()`` ("layers.0.neurons.3.w.1"), ``zero_grad()`` and the
optimizers of ``nn.optim`` all work. Weights start U(-1, 1) from the generator
``nn.manual_seed`` seeds; biases start at 0.
"""
from __future__ import annotations

from collections.abc import Sequence

from autograd import Value
from autograd.value import affine

from .module import Module, generator

Scalar = Value | float


class Neuron(Module):
    """relu(w . x + b), or w . x + b when ``nonlin`` is False."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        super().__init__()
        self.w = [Value(generator().uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def forward(self, x: Sequence[Scalar]) -> Value:
        """micrograd's ``sum(wi * xi) + b`` as one ``affine`` node: the same value and
        gradients, with one node where micrograd builds 2n (see autograd.value.affine)."""
        act = affine(self.w, x, self.b)
        return act.relu() if self.nonlin else act

    def extra_repr(self) -> str:
        return f"{len(self.w)}, {'relu' if self.nonlin else 'linear'}"


class Layer(Module):
    """``nout`` neurons reading the same inputs; one Value out if nout == 1, else a list."""

    def __init__(self, nin: int, nout: int, **kwargs: bool) -> None:
        super().__init__()
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def forward(self, x: Sequence[Scalar]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out


class MLP(Module):
    """Layers of sizes ``nouts`` after ``nin`` inputs; ReLU everywhere but the last layer."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        super().__init__()
        sizes = [nin, *nouts]
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def forward(self, x: Sequence[Scalar]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x
