"""Layers over the recording functions: how a mode costs nothing while it is off.

The engine records through four names looked up at each call: ``value._make``,
``Value._apply``, ``Tensor._apply`` and ``graph.walk`` (the entry points). A
mode (anomaly mode, forward mode) is a ``Layer``: for each entry point it
cares about, a factory that wraps the function below it. ``install`` and
``remove`` rebuild every chain from the plain functions up, in install order,
so modes compose whatever the order they are switched on and off in; with no
layer installed every entry point is its plain function again (``is``), so
the engine runs the very same code as if no mode existed. The swap is
process-wide, as the modes' own flags.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType

from . import graph, value
from .tensor import Tensor
from .value import Value

__all__ = ["ENTRY_POINTS", "EntryPoint", "Layer", "install", "layers", "remove"]


class EntryPoint:
    """A recording function looked up by name at each call: ``owner.name``, a global or a classmethod."""

    __slots__ = ("owner", "name")

    def __init__(self, owner: ModuleType | type, name: str) -> None:
        self.owner, self.name = owner, name

    def current(self) -> object:
        """What is installed now (for a class, its classmethod object as stored)."""
        return vars(self.owner)[self.name]

    def put(self, function: object) -> None:
        setattr(self.owner, self.name, function)

    def __repr__(self) -> str:
        return f"{self.owner.__name__.rsplit('.', 1)[-1]}.{self.name}"


MAKE = EntryPoint(value, "_make")
VALUE_APPLY = EntryPoint(Value, "_apply")
TENSOR_APPLY = EntryPoint(Tensor, "_apply")
WALK = EntryPoint(graph, "walk")
ENTRY_POINTS = (MAKE, VALUE_APPLY, TENSOR_APPLY, WALK)

Wrapper = Callable[[Callable], Callable]  # inner -> the function installed above it (same signature)


class Layer:
    """A mode's wrappers: entry point -> factory ``inner -> wrapper``.

    For a classmethod the factory gets and returns a plain function taking
    ``cls`` first; the chain is made a classmethod again when installed.
    """

    __slots__ = ("name", "wrappers")

    def __init__(self, name: str, wrappers: dict[EntryPoint, Wrapper]) -> None:
        self.name, self.wrappers = name, wrappers

    def __repr__(self) -> str:
        return f"Layer({self.name!r})"


_lock = threading.Lock()
_stack: list[Layer] = []  # bottom first: the last installed wraps all the others
_counts: dict[Layer, int] = {}  # how many times each installed layer was installed and not yet removed
_plain: dict[EntryPoint, object] = {}  # what each wrapped entry point held before its first wrapper
_installed: dict[EntryPoint, object] = {}  # the chain top put there, to see a swap made behind our back


def install(layer: Layer) -> None:
    """Put ``layer`` on top of the stack (or count it once more if it is there) and rebuild the chains.

    Refused (RuntimeError, nothing installed) if an entry point was swapped
    by hand since the last rebuild: ops recorded since skipped the layers.
    """
    with _lock:
        if layer in _counts:
            _counts[layer] += 1
            return
        error = _swapped_error(layer)
        if error is None:
            _stack.append(layer)
            _counts[layer] = 1
        _rebuild()
    if error is not None:
        raise error


def remove(layer: Layer) -> None:
    """Undo one ``install(layer)``; at the last, take it off the stack and rebuild the chains.

    Always removes; then raises RuntimeError if an entry point had been
    swapped by hand while layers were installed (the results may lack them).
    """
    with _lock:
        if _counts.get(layer, 0) > 1:
            _counts[layer] -= 1
            return
        if layer not in _counts:
            raise ValueError(f"recording: {layer!r} is not installed; remove only what install() put on")
        error = _swapped_error(layer)
        del _counts[layer]
        _stack.remove(layer)
        _rebuild()
    if error is not None:
        raise error


def layers() -> tuple[Layer, ...]:
    """The installed layers, bottom (called last, next to the plain functions) first."""
    return tuple(_stack)


def _rebuild() -> None:
    """Each entry point = its installed layers' wrappers, in stack order, around its plain function."""
    for entry in ENTRY_POINTS:
        factories = [layer.wrappers[entry] for layer in _stack if entry in layer.wrappers]
        if not factories:
            if entry in _plain:
                entry.put(_plain.pop(entry))
                del _installed[entry]
            continue
        plain = _plain.setdefault(entry, entry.current())
        method = isinstance(plain, classmethod)
        function = plain.__func__ if method else plain
        for wrap in factories:
            function = wrap(function)
        top = classmethod(function) if method else function
        entry.put(top)
        _installed[entry] = top


def _swapped_error(layer: Layer) -> RuntimeError | None:
    """The error for entry points someone else swapped since the last rebuild (None if none was)."""
    swapped = [repr(entry) for entry, top in _installed.items() if entry.current() is not top]
    if not swapped:
        return None
    modes = " and ".join(dict.fromkeys(on.name for on in (*_stack, layer)))
    return RuntimeError(
        f"recording: {', '.join(swapped)} was swapped by hand while {modes} was on, so the ops "
        f"recorded since may have skipped it (no tangent, no check); the recording functions are "
        f"rebuilt now. Swap them only with autograd.recording.install and remove"
    )
