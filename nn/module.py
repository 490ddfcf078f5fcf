"""Module and Parameter: the containers every layer and network is built from.

A Module registers Parameters (and Values, for the scalar nets in
``nn.scalar``) and sub-modules when they are assigned as attributes, so
``named_parameters()`` yields PyTorch's dotted names (``"0.weight"``,
``"layers.1.bias"``) and ``state_dict()`` maps one-to-one onto the equivalent
torch model. ``save``/``load`` store a state dict as ``.npz`` (no pickle).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, Value

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind weight init, Dropout masks and nn.scalar weights."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The generator ``manual_seed`` set (layers draw their random numbers here)."""
    return _generator


class Parameter(Tensor):
    """A Tensor a Module trains: ``requires_grad=True`` and registered on assignment."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None, label: str = "") -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, label=label)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


Param = Parameter | Value


def is_parameter(x: Any) -> bool:
    """Parameters are nn.Parameter tensors and (in scalar nets) Values."""
    return isinstance(x, (Parameter, Value))


def zero_grads(params: Iterable[Param]) -> None:
    """Clear gradients: None for a Tensor (nothing allocated), 0.0 for a Value."""
    for p in params:
        p.grad = 0.0 if isinstance(p, Value) else None


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and networks: subclass it and write ``forward``.

    Assigning a Parameter, a Value, a Module, or a list of them, as an
    attribute registers it under the attribute's name; list items get the
    names ``name.0``, ``name.1``, ... (so micrograd-style ``self.w = [Value(..)
    for ...]`` works). Calling ``super().__init__()`` is good manners but not
    required.
    """

    training = True

    def __init__(self) -> None:
        self.__dict__.setdefault("_parameters", {})
        self.__dict__.setdefault("_modules", {})
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass's ``forward`` becomes its ``__call__``: ``module(x)`` costs one call, not two."""
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls) and "__call__" not in vars(cls):
            cls.__call__ = cls.forward

    # ------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.setdefault("_parameters", {})
        modules = self.__dict__.setdefault("_modules", {})
        params.pop(name, None)
        modules.pop(name, None)
        if _all_are(value, is_parameter):
            params[name] = value
        elif _all_are(value, lambda x: isinstance(x, Module)):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` under ``name`` (which may be a number, as in Sequential)."""
        if not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module, got {type(module).__name__}")
        setattr(self, name, module)

    def register_parameter(self, name: str, param: Param) -> None:
        """Register ``param`` under ``name``."""
        if not is_parameter(param):
            raise TypeError(
                f"register_parameter({name!r}): expected an nn.Parameter or a Value, "
                f"got {type(param).__name__}"
            )
        setattr(self, name, param)

    # ------------------------------------------------------------- traversal

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names (list items as ``name.i``)."""
        for name, item in self._modules.items():
            yield from _expand(name, item)

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first, with dotted names."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Param]]:
        """Every parameter with its dotted name, each shared parameter once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, item in module._parameters.items():
                for local, p in _expand(name, item):
                    if id(p) not in seen:
                        seen.add(id(p))
                        yield (f"{prefix}.{local}" if prefix else local), p

    def parameters(self) -> list[Param]:
        """The parameters, in ``named_parameters`` order (a list, reusable)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(1 if isinstance(p, Value) else p.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Clear every parameter's gradient (None for Tensors, 0.0 for Values)."""
        zero_grads(self.parameters())

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout active) for this module and all below it."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout off); the same as ``train(False)``."""
        return self.train(False)

    # ------------------------------------------------------------ state dicts

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter name -> a copy of its data (a 0-d array for a Value)."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy ``state`` into the parameters, all or nothing.

        Raises ``ValueError`` listing missing and unexpected keys (when
        ``strict``) and every shape mismatch (always), before changing anything.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        mismatched = [
            f"{k}: checkpoint shape {np.shape(state[k])}, model shape {np.shape(own[k].data)}"
            for k in own
            if k in state and np.shape(state[k]) != np.shape(own[k].data)
        ]
        problems = list(mismatched)
        if strict and missing:
            problems.append(f"missing key(s): {missing}")
        if strict and unexpected:
            problems.append(f"unexpected key(s): {unexpected}")
        if problems:
            raise ValueError(f"load_state_dict for {type(self).__name__} failed:\n  " + "\n  ".join(problems))
        for name, p in own.items():
            if name in state:
                _assign(p, state[name])
        return LoadResult(missing, unexpected)

    # ------------------------------------------------------------------ repr

    def extra_repr(self) -> str:
        """The text inside this module's parentheses (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): {_indent(body)}" for name, body in _collapse(list(self.named_children()))]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _all_are(value: Any, test: Any) -> bool:
    """True for an item passing ``test`` or a non-empty list/tuple of such items."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(test(x) for x in value)
    return test(value)


def _expand(name: str, item: Any) -> Iterator[tuple[str, Any]]:
    """A registered item, or each element of a registered list as ``name.i``."""
    if isinstance(item, (list, tuple)):
        for i, x in enumerate(item):
            yield f"{name}.{i}", x
    else:
        yield name, item


def _assign(p: Param, data: Any) -> None:
    """Overwrite a parameter's numbers in place, keeping its dtype."""
    if isinstance(p, Value):
        p.data = float(np.asarray(data)) * 1.0
    else:
        np.copyto(p.data, np.asarray(data), casting="same_kind")


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _collapse(children: list[tuple[str, Module]]) -> list[tuple[str, str]]:
    """Runs of identical children shown once, as PyTorch does: ``(0-15): 16 x Neuron(..)``."""
    rows: list[tuple[str, str]] = []
    start = 0
    while start < len(children):
        body = repr(children[start][1])
        end = start
        while end + 1 < len(children) and repr(children[end + 1][1]) == body:
            end += 1
        if end - start >= 2 and _same_list(children[start][0], children[end][0]):
            last = children[end][0].rsplit(".", 1)[-1]
            rows.append((f"{children[start][0]}-{last}", f"{end - start + 1} x {body}"))
        else:
            rows.extend((name, repr(module)) for name, module in children[start : end + 1])
        start = end + 1
    return rows


def _same_list(first: str, last: str) -> bool:
    """True when two child names are items of one list (``neurons.0`` and ``neurons.15``)."""
    return first.rpartition(".")[0] == last.rpartition(".")[0]


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model.state_dict()`` to ``path`` as an ``.npz`` archive (exactly that path)."""
    with open(path, "wb") as f:
        np.savez(f, **model.state_dict())


def load(model: Module, path: str | os.PathLike, strict: bool = True) -> Module:
    """Load parameters saved by ``save`` into ``model`` (no pickle); returns the model."""
    with np.load(path, allow_pickle=False) as archive:
        state = {name: archive[name] for name in archive.files}
    model.load_state_dict(state, strict=strict)
    return model
