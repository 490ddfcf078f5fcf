"""Gradients you can trust: central differences, gradcheck, functional grad.

``numerical_grad`` differentiates by central differences,
(f(x + eps) - f(x - eps)) / 2 eps, one element at a time. ``gradcheck``
compares it with backprop, in full (every element) or along random directions
(cheap for large inputs, as JAX's ``check_grads``), and at ``order=2``
checks second derivatives through ``create_graph``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .functions import Identity
from .graph import Node, backward, enable_grad, no_grad
from .tensor import Tensor
from .value import Value

# isinstance(x, Node) below tells a node from the caller's raw float or array (arguments, f's result):
# dispatch on user input. Engine-specific behaviour asks the node (wrap, as_data, zeros, ones).
Argnums = int | Sequence[int]


class GradcheckError(AssertionError):
    """Backprop and numerical gradients disagree; says where and by how much.

    From ``check_graph`` it also carries the op's ``node`` and its 1-based
    ``position`` in forward order (None from ``gradcheck``).
    """

    def __init__(self, message: str, input_index: int, element: Any,
                 analytic: float, numerical: float, node: Node | None = None,
                 position: int | None = None) -> None:
        super().__init__(message)
        self.input_index, self.element = input_index, element
        self.analytic, self.numerical = analytic, numerical
        self.node, self.position = node, position


# ---------------------------------------------------------------- functional


def value_and_grad(f: Callable, argnums: Argnums = 0, create_graph: bool = False) -> Callable:
    """``f``'s value and its gradient with respect to the arguments ``argnums``.

    Arguments may be Values, Tensors, floats or arrays; gradients come back in
    the same kind (float for a float, array for an array). Nothing else's
    ``.grad`` changes. With ``create_graph`` the gradients are nodes, so
    ``grad(grad(f))`` gives second derivatives. Like ``torch.func.grad`` it
    differentiates ``f`` even inside an outer ``no_grad``.
    """
    picked = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args: Any) -> tuple[Any, Any]:
        args = list(args)
        with enable_grad():  # a transform of f: an outer no_grad does not apply (as torch.func)
            for i in picked:
                args[i] = _differentiable(args[i])
            out = f(*args)
        _check_scalar(out, "value_and_grad")
        inputs = tuple(args[i] for i in picked)
        seed = out.ones()
        found = backward(out, seed, create_graph=create_graph, inputs=inputs)
        grads = tuple(_result(x, g) for x, g in zip(inputs, found, strict=True))
        value = out if create_graph else _plain(out)
        return value, grads[0] if isinstance(argnums, int) else grads

    return wrapped


def grad(f: Callable, argnums: Argnums = 0, create_graph: bool = False) -> Callable:
    """The gradient of scalar ``f`` with respect to ``argnums`` (see value_and_grad)."""
    with_value = value_and_grad(f, argnums, create_graph)
    return lambda *args: with_value(*args)[1]


def _differentiable(x: Any) -> Node:
    """A node to differentiate with respect to: a boundary for the pass."""
    if isinstance(x, Tensor) and not x.requires_grad:  # a Tensor constant (a Value one takes Identity)
        return Tensor(x.data, requires_grad=True)  # a constant: a fresh leaf (wrap() would not need grad)
    if isinstance(x, Node):
        return Identity.apply(x)  # a new node on the graph: the pass stops there
    if isinstance(x, (int, float)):
        return Value(x)
    return Tensor(np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32)), requires_grad=True)


def _result(node: Node, found: Any) -> Any:
    """The gradient the pass found for an input; zeros where none reached it."""
    return node.zeros() if found is None else found


def _plain(out: Node) -> Any:
    return out.as_data(out.data)


def _check_scalar(out: Any, who: str) -> None:
    if not isinstance(out, Node):
        raise TypeError(f"{who}: f must return a Value or a Tensor, got {type(out).__name__}")
    if np.size(out.data) != 1:
        raise ValueError(f"{who}: f must return one element, got shape {np.shape(out.data)}")


# ----------------------------------------------------------------- numerical


def numerical_grad(f: Callable, *inputs: Any, eps: float = 1e-6) -> tuple[Any, ...]:
    """Central differences of scalar ``f`` at ``inputs``, one gradient per input.

    d f / d x_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). Inputs are
    copied, never changed; run it in float64 for trustworthy digits.
    """
    base = [_copy_input(x) for x in inputs]
    grads = []
    for k, x in enumerate(base):
        g = np.zeros(np.shape(x.data), dtype=np.float64)
        for idx in np.ndindex(*g.shape):
            g[idx] = _central(f, base, k, idx, eps)
        grads.append(x.as_data(g))  # a float for a Value
    return tuple(grads)


def _central(f: Callable, base: list, k: int, idx: Any, eps: float) -> float:
    plus, x_plus = _shifted(base, k, idx, eps)
    minus, x_minus = _shifted(base, k, idx, -eps)
    # The step actually taken: at |x| >> eps, x + eps rounds, and dividing by 2 eps would be wrong.
    return (_evaluate(f, plus) - _evaluate(f, minus)) / (x_plus - x_minus)


def _one_sided(f: Callable, base: list, k: int, idx: Any, eps: float) -> tuple[float, float]:
    """The left and right differences of ``f`` in element ``idx`` of input ``k``.

    (f(x) - f(x - eps e_i)) / eps and (f(x + eps e_i) - f(x)) / eps: they
    differ where a kink (relu at 0, a tie in max) lies within eps of x.
    """
    here = _evaluate(f, base)
    _, x = _shifted(base, k, idx, 0.0)
    plus, x_plus = _shifted(base, k, idx, eps)
    minus, x_minus = _shifted(base, k, idx, -eps)
    return (here - _evaluate(f, minus)) / (x - x_minus), (_evaluate(f, plus) - here) / (x_plus - x)


def _directional(f: Callable, base: list, direction: list, eps: float) -> float:
    def along(step: float) -> list:
        return [
            x.wrap(x.data + step * d) for x, d in zip(base, direction, strict=True)
        ]

    return (_evaluate(f, along(eps)) - _evaluate(f, along(-eps))) / (2 * eps)


def _shifted(base: list, k: int, idx: Any, step: float) -> tuple[list, float]:
    """The inputs with element ``idx`` of input ``k`` moved by ``step``, and its new value."""
    inputs = list(base)
    data = np.array(base[k].data, dtype=np.float64)  # a copy; 0-d for a Value (idx is then ())
    data[idx] += step
    inputs[k] = base[k].wrap(data)
    return inputs, float(data[idx])


def _evaluate(f: Callable, inputs: list) -> float:
    with no_grad():
        out = f(*inputs)
    return _to_float(out)


def _to_float(out: Any) -> float:
    data = out.data if isinstance(out, Node) else out  # f may return a plain number
    if np.size(data) != 1:
        raise ValueError(f"f must return one element, got shape {np.shape(data)}")
    return float(np.reshape(data, ()))


def _copy_input(x: Any) -> Node:
    """A float64 leaf holding the input's value (Values and numbers as Values, the rest as Tensors)."""
    data = x.data if isinstance(x, Node) else x  # the user's input: a node, a number or an array
    if isinstance(data, (int, float)):  # a Value's float is one
        return Value(float(data))
    return Tensor(np.asarray(data).astype(np.float64), requires_grad=True)


# ----------------------------------------------------------------- gradcheck


def gradcheck(
    f: Callable,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    mode: str = "full",
    directions: int = 3,
    order: int = 1,
    seed: int = 0,
) -> bool:
    """True if backprop matches central differences; else raises ``GradcheckError``.

    ``f`` maps the inputs to a Value or Tensor; a non-scalar result is checked
    through a fixed random projection ``sum(u * f)``. Inputs are checked as
    float64 copies. ``mode="full"`` compares every element (small inputs);
    ``mode="directional"`` compares <v, grad> with the numerical derivative
    along ``directions`` random v (large inputs). ``order=2`` checks the second
    derivative: the gradient of <w, grad f> computed with ``create_graph``.
    A mismatch is |analytic - numerical| > atol + rtol * |numerical|.
    """
    if mode not in ("full", "directional"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'directional', got {mode!r}")
    rng = np.random.default_rng(seed)
    base = [_copy_input(x) for x in inputs]
    scalar_f = _projected(f, base, rng)
    for _ in range(order - 1):
        scalar_f = _directional_derivative(scalar_f, base, rng)
    analytic = _analytic(scalar_f, base)
    _check_shapes(analytic, base)
    if mode == "full":
        numerical = numerical_grad(scalar_f, *base, eps=eps)
        _compare_full(analytic, numerical, atol, rtol, order)
    else:
        for _ in range(directions):
            direction = [_random_like(x, rng) for x in base]
            expected = _directional(scalar_f, base, direction, eps)
            got = sum(float(np.sum(np.asarray(a) * d)) for a, d in zip(analytic, direction, strict=True))
            _check_close(got, expected, atol, rtol, "direction", "<v, grad>", order)
    return True


def _projected(f: Callable, base: list, rng: np.random.Generator) -> Callable:
    """f itself if it returns one element, else sum(u * f) for a fixed random u."""
    with no_grad():
        sample = f(*base)
    if not isinstance(sample, Node):
        raise TypeError(f"gradcheck: f must return a Value or a Tensor, got {type(sample).__name__}")
    _check_finite_output(sample, "f")
    if np.size(sample.data) == 1:
        return f
    u = rng.standard_normal(sample.shape)
    return lambda *xs: (f(*xs) * u).sum()


def _check_finite_output(out: Node, what: str) -> None:
    """``what`` (f, an op) must be finite at the inputs: no derivative is checked at a NaN or infinity."""
    data = np.asarray(out.data, dtype=np.float64)
    bad = ~np.isfinite(data)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise GradcheckError(
            f"gradcheck: {what} is non-finite at the inputs (output element {idx} is {data[idx]}); "
            f"check a point inside {what}'s domain",
            -1, idx, float("nan"), float("nan"),
        )


def _directional_derivative(f: Callable, base: list, rng: np.random.Generator) -> Callable:
    """x -> <w, grad f(x)>, differentiable (built with create_graph)."""
    weights = [_random_like(x, rng) for x in base]

    def first(*xs: Any) -> Node:
        grads = grad(f, argnums=tuple(range(len(xs))), create_graph=True)(*xs)
        total = None
        for g, w in zip(grads, weights, strict=True):
            if isinstance(g, Node):  # else zeros: no path from this input
                term = (g * w).sum() if np.ndim(g.data) else g * w  # a Value has no sum()
                total = term if total is None else total + term
        return total if total is not None else f(*xs) * 0.0

    return first


def _analytic(f: Callable, base: list) -> list:
    grads = grad(f, argnums=tuple(range(len(base))))(*base)
    return [g.data if isinstance(g, Node) else g for g in grads]


def _check_shapes(analytic: list, base: list) -> None:
    """Each gradient must have its input's exact shape (broadcasts summed back)."""
    for k, (g, x) in enumerate(zip(analytic, base, strict=True)):
        if np.shape(g) != np.shape(x.data):
            raise GradcheckError(
                f"gradcheck: the gradient of input {k} has shape {np.shape(g)}, but the input has "
                f"shape {np.shape(x.data)} (sum a broadcast gradient back to the input's shape)",
                k, None, float("nan"), float("nan"),
            )


def _random_like(x: Node, rng: np.random.Generator) -> Any:
    return x.as_data(rng.standard_normal(np.shape(x.data)))  # the base copies are float64


def _compare_full(analytic: list, numerical: tuple, atol: float, rtol: float, order: int) -> None:
    """Raise for the worst element; a non-finite value on either side fails first."""
    worst = None
    for k, (a, n) in enumerate(zip(analytic, numerical, strict=True)):
        a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
        bad = ~(np.isfinite(a) & np.isfinite(n))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            where, what = f"input {k}", f"element {idx}"
            _check_close(float(a[idx]), float(n[idx]), atol, rtol, where, what, order, k, idx)
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and (worst is None or excess.max() > worst[0]):
            idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))
            worst = (excess.max(), k, idx, float(a[idx]), float(n[idx]))
    if worst is not None and worst[0] > 0:
        _, k, idx, a, n = worst
        _check_close(a, n, atol, rtol, f"input {k}", f"element {idx}", order, k, idx)


def _check_close(analytic: float, numerical: float, atol: float, rtol: float,
                 where: str, what: str, order: int, k: int = -1, idx: Any = None) -> None:
    kind = "gradient" if order == 1 else f"order-{order} derivative"
    if not (np.isfinite(analytic) and np.isfinite(numerical)):
        raise GradcheckError(
            f"gradcheck: non-finite {kind} at {where}, {what}: analytic {analytic:.10g}, "
            f"numerical {numerical:.10g}; a NaN or infinity cannot be checked (is the input "
            f"outside f's domain, or at a point where f is not differentiable?)",
            k, idx, analytic, numerical,
        )
    error = abs(analytic - numerical)
    if error <= atol + rtol * abs(numerical):
        return
    relative = error / max(abs(numerical), 1e-300)
    raise GradcheckError(
        f"gradcheck: {kind} mismatch at {where}, {what}: analytic {analytic:.10g} vs "
        f"numerical {numerical:.10g} (absolute error {error:.3g}, relative error "
        f"{relative:.3g}; atol={atol}, rtol={rtol})",
        k, idx, analytic, numerical,
    )
