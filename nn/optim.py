"""Optimizers (SGD, RMSprop, Adam, AdamW) and learning-rate schedules, as in PyTorch.

Each optimizer writes its update once, as ``update(p, g, state)`` on NumPy
arrays, changing ``p`` in place. A Tensor parameter passes its own ``.data``
and ``.grad``; the Value parameters of a scalar net are packed into one array
per step and written back, so both engines share the same equations.
Parameters whose gradient is None are skipped (PyTorch's rule).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Tensor, Value
from autograd.graph import Node

from .module import Param, zero_grads


class Optimizer:
    """Holds the parameters, per-parameter state and the hyper-parameters.

    ``state[i]`` belongs to the i-th Tensor parameter; the last entry, when
    there are Value parameters, to all of them together. Adam keeps a
    ``step`` count there for its bias correction.
    """

    def __init__(self, params: Iterable[Param], lr: float) -> None:
        params, name = list(params), type(self).__name__
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        for p in params:
            if not isinstance(p, (Tensor, Value)):
                raise TypeError(f"{name}: parameters must be Tensors or Values, not {type(p).__name__}")
            if isinstance(p, Tensor) and not p.requires_grad:
                raise ValueError(f"{name}: a Tensor parameter (shape {p.shape}) does not require grad")
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.params = params
        self.tensors = [p for p in params if isinstance(p, Tensor)]
        self.values = [p for p in params if isinstance(p, Value)]
        self.lr = lr
        self.state: list[dict[str, Any]] = [{} for _ in range(len(self.tensors) + bool(self.values))]

    def zero_grad(self) -> None:
        """Clear the gradients (None for Tensors, 0.0 for Values)."""
        zero_grads(self.params)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        update = self.update
        for p, state in zip(self.tensors, self.state, strict=False):
            g = p.grad
            if g is not None:
                update(p.data, g if type(g) is np.ndarray else _raw(g), state)
        if self.values:
            data = np.array([p.data for p in self.values])
            grads = np.array([float(p.grad) for p in self.values])
            self.update(data, grads, self.state[-1])
            for p, x in zip(self.values, data.tolist(), strict=True):
                p.data = x

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        """Change ``p`` in place given its gradient ``g``; subclasses give the equations."""
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, Any]:
        """The settings ``state_dict`` records (lr and the subclass's own)."""
        return {"lr": self.lr}

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and per-parameter state (copies)."""
        return {
            "hyperparameters": self.hyperparameters(),
            "state": _copy_states(self.state),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved; the parameter shapes must match."""
        states = state_dict["state"]
        if len(states) != len(self.state):
            raise ValueError(f"optimizer state has {len(states)} entries; this one needs {len(self.state)}")
        for i, (own, new) in enumerate(zip(self._shapes(), states, strict=True)):
            for key, value in new.items():
                if isinstance(value, np.ndarray) and value.shape != own:
                    raise ValueError(f"optimizer state {i} {key!r}: shape {value.shape}, parameter {own}")
        self.state = _copy_states(states)
        for key, value in state_dict["hyperparameters"].items():
            setattr(self, key, value)

    def _shapes(self) -> list[tuple[int, ...]]:
        return [p.shape for p in self.tensors] + [(len(self.values),)] * bool(self.values)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({settings})"


def _copy_states(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-parameter states with their arrays copied (checkpoints must not alias live buffers)."""
    return [{k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in s.items()} for s in states]


def _raw(grad: Any) -> np.ndarray:
    """A gradient as an array (it is a Tensor after backward(create_graph=True))."""
    return grad.data if isinstance(grad, Node) else grad


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as torch.optim.SGD.

    g += wd p;  b = g at the first step, then b = mu b + (1 - dampening) g;
    g = g + mu b (nesterov) or b;  p -= lr g.
    """

    def __init__(self, params: Iterable[Param], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov

    def update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g

    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Divide by a running RMS of the gradient, as torch.optim.RMSprop.

    g += wd p;  v = alpha v + (1 - alpha) g**2;  s = sqrt(v - gbar**2) when
    centered (gbar the running mean of g), else sqrt(v);  with momentum
    b = mu b + g / (s + eps), p -= lr b;  else p -= lr g / (s + eps).
    """

    def __init__(self, params: Iterable[Param], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        square_avg = _buffer(state, "square_avg", p)
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * g * g
        if self.centered:
            grad_avg = _buffer(state, "grad_avg", p)
            grad_avg *= self.alpha
            grad_avg += (1 - self.alpha) * g
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += self.eps
        if self.momentum > 0:
            buf = _buffer(state, "momentum_buffer", p)
            buf *= self.momentum
            buf += g / avg
            p -= self.lr * buf
        else:
            p -= self.lr * g / avg

    def hyperparameters(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": self.centered}


class Adam(Optimizer):
    """Adaptive moments with bias correction, as torch.optim.Adam.

    g += wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2;
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps).
    """

    decoupled = False

    def __init__(self, params: Iterable[Param], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def update(self, p, g, state):
        if self.weight_decay:
            if self.decoupled:
                p *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        beta1, beta2 = self.betas
        m, v = _buffer(state, "exp_avg", p), _buffer(state, "exp_avg_sq", p)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        t = state["step"] = state.get("step", 0) + 1
        denom = np.sqrt(v)
        denom *= 1 / math.sqrt(1 - beta2**t)
        denom += self.eps
        p -= (self.lr / (1 - beta1**t)) * m / denom

    def hyperparameters(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): p *= 1 - lr wd, then Adam."""

    decoupled = True

    def __init__(self, params: Iterable[Param], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


def _buffer(state: dict[str, Any], name: str, like: np.ndarray) -> np.ndarray:
    """The state array ``name``, zeros shaped like the parameter at first use."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = np.zeros_like(like)
    return buf


# ------------------------------------------------------------------ schedules


class LRScheduler:
    """Sets ``optimizer.lr`` from the epoch count; call ``step()`` once per epoch."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        return self.optimizer.lr


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size, self.gamma = step_size, gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max, self.eta_min = T_max, eta_min

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
