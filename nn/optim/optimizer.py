"""Optimizers (SGD, RMSprop, Adam, AdamW), as in PyTorch, on parameter groups.

``param_groups`` is PyTorch's list of dicts: each holds ``"params"`` and its
own hyper-parameters (``"lr"``, ...), read at every step, so changing a
group's ``lr`` changes the next step (schedulers do exactly that). Each
optimizer writes its update once, as ``update(p, g, state, group)`` on NumPy
arrays, changing ``p`` in place. A Tensor parameter passes its own ``.data``
and ``.grad``; the Value parameters of a group (scalar nets) are packed into
one array per step and written back, so both engines share the same
equations. Tensor parameters whose gradient is None are skipped (PyTorch's
rule).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from autograd import Tensor, Value
from autograd.graph import mark_written

from ..module import Param, zero_grads

ParamGroups = Iterable[Param] | Iterable[dict[str, Any]]


class Optimizer:
    """Holds the parameter groups, the per-parameter ``state`` and the update rule.

    ``state[p]`` belongs to Tensor parameter ``p``; ``state[(v1, v2, ...)]``
    to the Values of one group together. Adam keeps a ``step`` count there
    for its bias correction.
    """

    def __init__(self, params: ParamGroups, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Any, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = _as_list(params, type(self).__name__)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group: its ``"params"`` and any hyper-parameters that differ from the defaults."""
        name = type(self).__name__
        params = _as_list(group["params"], name)
        for p in params:
            if not isinstance(p, (Tensor, Value)):
                raise TypeError(f"{name}: parameters must be Tensors or Values, not {type(p).__name__}")
            if isinstance(p, Tensor) and not p.requires_grad:
                raise ValueError(f"{name}: a Tensor parameter (shape {p.shape}) does not require grad")
        unique = list({id(p): p for p in params}.values())
        if len(unique) != len(params):
            warnings.warn(
                f"{name}: a parameter group lists the same parameter more than once; "
                "each is stepped once (PyTorch warns here too and will make it an error)",
                UserWarning, stacklevel=3,
            )
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in unique):
            raise ValueError("some parameters appear in more than one parameter group")
        full = {**self.defaults, **group, "params": unique}
        self.check(full)
        self.param_groups.append(full)

    def check(self, group: dict[str, Any]) -> None:
        """Refuse hyper-parameters outside their domain (PyTorch's messages)."""
        _at_least_zero(group, "lr", "learning rate")
        _at_least_zero(group, "weight_decay", "weight_decay value")

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    def parameters(self) -> list[Param]:
        """Every parameter of every group, in order."""
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self) -> None:
        """Clear the gradients (None for Tensors, 0.0 for Values)."""
        for group in self.param_groups:
            zero_grads(group["params"])

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        update, state, written = self.update, self.state, []
        try:
            for group in self.param_groups:
                self._step_group(group, update, state, written)
        finally:
            mark_written(written)  # backward refuses graphs that saved the old data

    def _step_group(
        self, group: dict[str, Any], update: Callable, state: dict, written: list[Tensor]
    ) -> None:
        """Update the group's parameters that have a gradient; the Tensors updated go into ``written``."""
        values = []
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if type(g) is not np.ndarray:
                if isinstance(p, Value):
                    values.append(p)
                    continue
                g = g.data if isinstance(g, Tensor) else np.asarray(g)  # create_graph gives a Tensor
            data = p.data
            if g.shape != data.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: a gradient of shape {g.shape} for a parameter of "
                    f"shape {data.shape}; assign .grad an array of the parameter's shape"
                )
            try:
                own = state[p]
            except KeyError:  # the first step
                own = state[p] = {}
            update(data, g, own, group)
            written.append(p)
        if values:
            self._step_values(values, group)

    def _step_values(self, values: list[Value], group: dict[str, Any]) -> None:
        """The Values of a group as one array: updated by the same equations, written back."""
        data = np.array([p.data for p in values])
        grads = np.array([float(p.grad) for p in values])
        self.update(data, grads, self.state.setdefault(tuple(values), {}), group)
        for p, x in zip(values, data.tolist(), strict=True):
            p.data = x

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Change ``p`` in place given its gradient ``g``; subclasses give the equations."""
        raise NotImplementedError

    # ------------------------------------------------------------ state dicts

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are numbered across groups in order; the packed state of a
        group's Values is under the tuple of their numbers. Arrays are copies.
        """
        index = {id(p): i for i, p in enumerate(self.parameters())}
        groups = [{**group, "params": [index[id(p)] for p in group["params"]]} for group in self.param_groups]
        state = {}
        for key, own in self.state.items():
            ids = [id(p) for p in key] if isinstance(key, tuple) else [id(key)]
            if all(i in index for i in ids):
                number = tuple(index[i] for i in ids) if isinstance(key, tuple) else index[ids[0]]
                state[number] = _copy_state(own)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved, all or nothing: groups and shapes must match."""
        groups, saved = state_dict["param_groups"], state_dict["state"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(
                "loaded state dict has groups of sizes "
                f"{[len(g['params']) for g in groups]}; this optimizer's are "
                f"{[len(g['params']) for g in self.param_groups]}"
            )
        params = self.parameters()
        state = {}
        for number, own in saved.items():
            key = tuple(params[i] for i in number) if isinstance(number, tuple) else params[number]
            shape = (len(key),) if isinstance(key, tuple) else key.shape
            for name, value in own.items():
                if isinstance(value, np.ndarray) and value.shape != shape:
                    raise ValueError(
                        f"optimizer state {number} {name!r}: shape {value.shape}, parameter {shape}"
                    )
            state[key] = _copy_state(own)
        for own, group in zip(self.param_groups, groups, strict=True):
            own.update({k: v for k, v in group.items() if k != "params"})
        self.state = state

    def __repr__(self) -> str:
        rows = []
        for i, group in enumerate(self.param_groups):
            settings = "".join(f"\n    {k}: {v}" for k, v in group.items() if k != "params")
            rows.append(f"Parameter Group {i}{settings}")
        return f"{type(self).__name__} (\n" + "\n".join(rows) + "\n)"


def _as_list(params: Any, who: str) -> list[Any]:
    """A single parameter or an ordered collection of them (or of groups) as a list."""
    if isinstance(params, (Tensor, Value)):
        return [params]
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{who}: parameters must be given in an ordered collection (a list), not a set")
    return list(params)


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """A state with its arrays copied (checkpoints must not alias live buffers)."""
    return {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}


def _at_least_zero(group: dict[str, Any], key: str, what: str) -> None:
    if not 0.0 <= group[key]:  # NaN fails too
        raise ValueError(f"Invalid {what}: {group[key]}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, as torch.optim.SGD.

    g += wd p;  b = g at the first step, then b = mu b + (1 - dampening) g;
    g = g + mu b (nesterov) or b;  p -= lr g.
    """

    def __init__(self, params: ParamGroups, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def check(self, group):
        super().check(group)
        _at_least_zero(group, "momentum", "momentum value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def update(self, p, g, state, group):
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class RMSprop(Optimizer):
    """Divide by a running RMS of the gradient, as torch.optim.RMSprop.

    g += wd p;  v = alpha v + (1 - alpha) g**2;  s = sqrt(v - gbar**2) when
    centered (gbar the running mean of g), else sqrt(v);  with momentum
    b = mu b + g / (s + eps), p -= lr b;  else p -= lr g / (s + eps).
    """

    def __init__(self, params: ParamGroups, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum, "centered": centered})

    def check(self, group):
        super().check(group)
        _at_least_zero(group, "eps", "epsilon value")
        _at_least_zero(group, "momentum", "momentum value")
        _at_least_zero(group, "alpha", "alpha value")

    def update(self, p, g, state, group):
        alpha, weight_decay = group["alpha"], group["weight_decay"]
        if weight_decay:
            g = g + weight_decay * p
        square_avg = _buffer(state, "square_avg", p)
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = _buffer(state, "grad_avg", p)
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = _buffer(state, "momentum_buffer", p)
            buf *= group["momentum"]
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * g / avg


class Adam(Optimizer):
    """Adaptive moments with bias correction, as torch.optim.Adam.

    g += wd p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2
    (amsgrad: v = max of every v so far);
    p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps).
    """

    decoupled = False

    def __init__(self, params: ParamGroups, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad})

    def check(self, group):
        super().check(group)
        _at_least_zero(group, "eps", "epsilon value")
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")

    def update(self, p, g, state, group):
        lr, weight_decay = group["lr"], group["weight_decay"]
        if weight_decay:
            if self.decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        beta1, beta2 = group["betas"]
        m, v = _buffer(state, "exp_avg", p), _buffer(state, "exp_avg_sq", p)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v = np.maximum(_buffer(state, "max_exp_avg_sq", p), v, out=state["max_exp_avg_sq"])
        t = state["step"] = state.get("step", 0) + 1
        denom = np.sqrt(v)
        denom *= 1 / math.sqrt(1 - beta2**t)
        denom += group["eps"]
        p -= (lr / (1 - beta1**t)) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): p *= 1 - lr wd, then Adam."""

    decoupled = True

    def __init__(self, params: ParamGroups, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def _buffer(state: dict[str, Any], name: str, like: np.ndarray) -> np.ndarray:
    """The state array ``name``, zeros shaped like the parameter at first use."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = np.zeros_like(like)
    return buf
