"""Module and Parameter: the containers every layer and network is built from.

A Module registers Parameters (and Values, for the scalar nets in
``nn.scalar``) and sub-modules when they are assigned as attributes, so
``named_parameters()`` yields PyTorch's dotted names (``"0.weight"``,
``"layers.1.bias"``) and ``state_dict()`` maps one-to-one onto the equivalent
torch model. ``save``/``load`` store a state dict as ``.npz`` (no pickle).
"""
from __future__ import annotations

import functools
import os
import secrets
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, Value
from autograd.graph import Node
from autograd.hooks import RemovableHandle

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the one generator behind all of nn's randomness, so a run repeats bit for bit.

    Weight init, Dropout masks, ``nn.scalar`` weights and the shuffling of a
    ``DataLoader`` made without ``seed`` (``nn.fit``'s included) all draw from it.
    """
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The generator ``manual_seed`` set: draw every random number of nn from it, at the time of use."""
    return _generator


class _ParameterType(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_parameter", False)


class Parameter(metaclass=_ParameterType):
    """A Tensor a Module trains: ``requires_grad=True`` and registered on assignment.

    ``Parameter(data)`` returns a ``Tensor`` marked as a parameter, not an
    instance of a subclass, and ``isinstance(p, nn.Parameter)`` is True for
    it, as in PyTorch. Why not a subclass: the interpreter keeps an
    attribute read fast only while it sees one type at that place in the
    code, and every graph edge between a weight and an activation would
    show it two (2% of a small MLP's training step).
    """

    def __new__(cls, data: Any, requires_grad: bool = True, dtype: Any = None, label: str = "") -> Tensor:
        tensor = Tensor(data, requires_grad=requires_grad, dtype=dtype, label=label)
        tensor._parameter = True
        return tensor


Param = Parameter | Value


def is_parameter(x: Any) -> bool:
    """Parameters are nn.Parameter tensors and (in scalar nets) Values."""
    return isinstance(x, (Parameter, Value))  # the attribute's type is the rule (a plain Tensor is not one)


def zero_grads(params: Iterable[Param]) -> None:
    """Clear gradients: None for a Tensor (nothing allocated), 0.0 for a Value."""
    for p in params:
        p.grad = p._cleared_grad  # the node type's cleared gradient


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and networks: subclass it and write ``forward``.

    Assigning a Parameter, a Value or a Module as an attribute registers it
    under the attribute's name. A list, tuple or dict attribute is registered
    too, and read live: the Modules and parameters it holds at any time (also
    those appended later, or nested in inner lists) count, named ``name.0``,
    ``name.1``, ... or ``name.key`` (so micrograd-style ``self.w = [Value(..)
    for ...]`` and ``self.layers = []; self.layers.append(Linear(..))`` both
    train and save). Calling ``super().__init__()`` is good manners but not
    required. ``module(x)`` runs the hooks, if any, around ``forward``, found
    on the instance and by the class's MRO at call time.
    """

    training = True
    _hooks: _HookTable | None = None  # an instance gets its own table at its first hook

    def __init__(self) -> None:
        self.__dict__.setdefault("_parameters", {})
        self.__dict__.setdefault("_modules", {})
        self.__dict__.setdefault("_hooks", None)  # on the instance: read on every call, found at once
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    @property
    def __call__(self) -> Callable[..., Any]:
        """``module(x)``: the ``forward`` this instance sees now, wrapped in its hooks if it has any.

        A property, so the call itself goes straight to ``forward`` (no
        ``*args`` repacking: ``module(x)`` is on every training step's hot
        path), while the forward found is the instance's own or the one its
        class's MRO gives at call time, patched or not.
        """
        if self._hooks is None:
            return self.forward
        return functools.partial(self._hooks.call, self)

    # ----------------------------------------------------------------- hooks

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Run ``hook(module, args)`` before each forward; a non-None result replaces ``args``.

        A result that is not a tuple becomes the single argument. With
        ``with_kwargs`` it is ``hook(module, args, kwargs)`` returning None or
        ``(new_args, new_kwargs)``; ``prepend`` runs it before the hooks
        already registered. Returns a handle whose ``remove()`` unregisters it.
        """
        return self._hook_table().add("pre", hook, prepend, with_kwargs)

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after each forward; a non-None result replaces the output.

        ``args`` are those forward got (after the pre-hooks). With
        ``with_kwargs`` it is ``hook(module, args, kwargs, output)``;
        ``prepend`` runs it first; ``always_call`` runs it even when forward
        (or an earlier hook) raised, with the output so far (None), before the
        error propagates. Returns a handle whose ``remove()`` unregisters it.
        """
        return self._hook_table().add("post", hook, prepend, with_kwargs, always_call)

    def _hook_table(self) -> _HookTable:
        if self.__dict__.get("_hooks") is None:
            object.__setattr__(self, "_hooks", _HookTable())
        return self._hooks

    # ------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.setdefault("_parameters", {})
        modules = self.__dict__.setdefault("_modules", {})
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, _CONTAINERS):  # read live: items added later count too
            params[name] = modules[name] = value
        elif is_parameter(value):
            params[name] = value
        elif isinstance(value, Module):
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
        """Direct sub-modules with their names (container items as ``name.i`` or ``name.key``)."""
        for name, item in self._modules.items():
            for local, x in _expand(name, item):
                if isinstance(x, Module):
                    yield local, x

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "", memo: set[int] | None = None) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, depth first, with dotted names; each module once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self) -> Iterator[tuple[str, Param]]:
        """Every parameter with its dotted name, each shared parameter once."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, item in module._parameters.items():
                for local, p in _expand(name, item):
                    if is_parameter(p) and id(p) not in seen:
                        seen.add(id(p))
                        yield (f"{prefix}.{local}" if prefix else local), p

    def parameters(self) -> list[Param]:
        """The parameters, in ``named_parameters`` order (a list, reusable)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(int(np.size(p.data)) for p in self.parameters())

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

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module, then on this one (PyTorch's order); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def float(self) -> Module:
        """Cast every Tensor parameter (and its gradient) to float32 in place; returns self."""
        return self._cast(np.float32)

    def double(self) -> Module:
        """Cast every Tensor parameter (and its gradient) to float64 in place; returns self."""
        return self._cast(np.float64)

    def _cast(self, dtype: Any) -> Module:
        for p in self.parameters():
            if isinstance(p, Tensor) and p.data.dtype != dtype:  # a Value's float has no dtype to cast
                p.data = p.data.astype(dtype)
                if p.grad is not None:
                    p.grad = np.asarray(_raw(p.grad), dtype=dtype)
                p._bump_version()
        return self

    # ------------------------------------------------------------ state dicts

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter name -> a copy of its data (a 0-d array for a Value)."""
        return {name: np.array(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy ``state`` into the parameters, all or nothing.

        Every entry is checked before any parameter changes: a ``ValueError``
        lists the missing and unexpected keys (when ``strict``), every shape
        mismatch and every value that does not cast to its parameter's dtype
        (NumPy's ``same_kind`` rule: float64 into float32 yes, complex or text no).
        """
        own = dict(self.named_parameters())
        arrays = {k: _as_state_array(v) for k, v in state.items() if k in own}
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        problems = [problem for k, array in arrays.items() if (problem := _mismatch(k, array, own[k]))]
        if strict and missing:
            problems.append(f"missing key(s): {missing}")
        if strict and unexpected:
            problems.append(f"unexpected key(s): {unexpected}")
        if problems:
            raise ValueError(f"load_state_dict for {type(self).__name__} failed:\n  " + "\n  ".join(problems))
        for name, array in arrays.items():
            _assign(own[name], array)
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


_CONTAINERS = (list, tuple, dict)


class _HookTable:
    """A module's forward pre-hooks and hooks, in order, their options, and the call that runs them."""

    def __init__(self) -> None:
        self.pre: dict[int, Callable[..., Any]] = {}
        self.post: dict[int, Callable[..., Any]] = {}
        self.with_kwargs: dict[int, bool] = {}
        self.always_call: dict[int, bool] = {}

    def add(
        self, kind: str, hook: Callable[..., Any], prepend: bool, with_kwargs: bool, always_call: bool = False
    ) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a forward hook must be callable, got {type(hook).__name__}")
        table = self.pre if kind == "pre" else self.post
        handle = RemovableHandle(table, extra=(self.with_kwargs, self.always_call))
        if prepend:  # in place: the handles of the hooks already there hold this very dict
            rest = list(table.items())
            table.clear()
            table[handle.id] = hook
            table.update(rest)
        else:
            table[handle.id] = hook
        if with_kwargs:
            self.with_kwargs[handle.id] = True
        if always_call:
            self.always_call[handle.id] = True
        return handle

    def call(self, module: Module, *args: Any, **kwargs: Any) -> Any:
        """PyTorch's ``Module._call_impl``: pre-hooks, forward, hooks (``always_call`` ones even on error)."""
        args, kwargs = self._before(module, args, kwargs)
        output, called = None, set()
        try:
            output = module.forward(*args, **kwargs)
            for key, hook in list(self.post.items()):
                called.add(key)
                output = self._run_hook(key, hook, module, args, kwargs, output)
        except Exception:
            self._after_error(module, args, kwargs, output, called)
            raise
        return output

    def _before(self, module: Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        for key, hook in list(self.pre.items()):
            if key in self.with_kwargs:
                result = hook(module, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result!r}."
                        )
                    args, kwargs = result
            else:
                result = hook(module, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs

    def _run_hook(self, key: int, hook: Callable[..., Any], module: Module, args: tuple, kwargs: dict,
                  output: Any) -> Any:
        """One forward hook; its non-None result replaces the output."""
        result = hook(module, args, kwargs, output) if key in self.with_kwargs else hook(module, args, output)
        return output if result is None else result

    def _after_error(self, module: Module, args: tuple, kwargs: dict, output: Any, called: set) -> None:
        """The ``always_call`` hooks not run yet; their own errors become warnings (the first error wins)."""
        for key, hook in list(self.post.items()):
            if key not in self.always_call or key in called:
                continue
            try:
                output = self._run_hook(key, hook, module, args, kwargs, output)
            except Exception as error:  # noqa: BLE001 (PyTorch silences it: forward's error is raised)
                warnings.warn(
                    f"module forward hook with ``always_call=True`` raised an exception that was silenced "
                    f"as another error was raised in forward: {error}",
                    stacklevel=3,
                )


def _expand(name: str, item: Any) -> Iterator[tuple[str, Any]]:
    """A registered item, or each element of a registered container (nested ones too) as ``name.i``."""
    if isinstance(item, dict):
        for key, x in item.items():
            yield from _expand(f"{name}.{key}", x)
    elif isinstance(item, (list, tuple)):
        for i, x in enumerate(item):
            yield from _expand(f"{name}.{i}", x)
    else:
        yield name, item


def _raw(x: Any) -> Any:
    """The array inside a Tensor (a gradient is one after ``create_graph=True``), else ``x``."""
    return x.data if isinstance(x, Node) else x


def _as_state_array(value: Any) -> np.ndarray:
    """A state-dict entry as an ndarray (from an array, a number, a Tensor or a torch tensor)."""
    value = _raw(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _mismatch(name: str, array: np.ndarray, p: Param) -> str:
    """Why ``array`` cannot be loaded into ``p``, or "" when it can."""
    target = np.asarray(p.data)
    if array.shape != target.shape:
        return f"{name}: checkpoint shape {array.shape}, model shape {target.shape}"
    if array.dtype.kind not in "biuf" or not np.can_cast(array.dtype, target.dtype, "same_kind"):
        return f"{name}: checkpoint dtype {array.dtype} does not cast to the parameter's {target.dtype}"
    return ""


def _assign(p: Param, array: np.ndarray) -> None:
    """Overwrite a parameter's numbers in place, keeping its dtype (checked by ``_mismatch``)."""
    if isinstance(p, Value):  # a float is rebound; an array is written in place (views, optimizer state)
        p.data = float(array)
    else:
        np.copyto(p.data, array, casting="same_kind")
        p._bump_version()


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
    """Write ``model.state_dict()`` to ``path`` as an ``.npz`` archive (exactly that path), atomically.

    The archive is written to a temporary file in the same folder, flushed to
    disk, then renamed over ``path``: an interrupted save leaves the previous
    file whole. Any parameter name works (``file``, ``allow_pickle`` too).
    """
    state = model.state_dict()
    path = os.path.abspath(path)
    temp = f"{path}.{secrets.token_hex(4)}.tmp"  # same folder: os.replace is then a rename
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, state)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def _write_npz(f: Any, arrays: dict[str, np.ndarray]) -> None:
    """The ``.npz`` format ``np.load`` reads: a zip of ``name.npy`` files (no keyword collisions)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


def load(model: Module, path: str | os.PathLike, strict: bool = True) -> Module:
    """Load parameters saved by ``save`` into ``model`` (no pickle), all or nothing; returns the model."""
    model.load_state_dict(_read_npz(os.fspath(path)), strict=strict)
    return model


def _read_npz(path: str) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, or a ValueError saying why it is not a checkpoint."""
    try:
        archive = np.load(path, allow_pickle=False)
        if isinstance(archive, np.lib.npyio.NpzFile):
            with archive:
                return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, FileNotFoundError):
            raise
        reason = f"nn.load: {path!r} is not an .npz checkpoint written by nn.save ({error})"
        raise ValueError(reason) from None
    raise ValueError(
        f"nn.load: {path!r} holds a single array (.npy), not a checkpoint; "
        "nn.save writes the state dict as .npz"
    )
