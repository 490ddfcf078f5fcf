"""check_graph: every recorded op's backward against central differences of its own forward.

``gradcheck`` tests a whole function and says which input is wrong; a graph
of 200 ops with one broken custom ``Function`` needs the op. ``check_graph``
walks the graph behind a root in forward order and checks each op alone, at
the inputs it recorded, with gradcheck's machinery (``numerical_grad``, its
comparison and its ``GradcheckError``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import functions as ops
from .gradcheck import (
    GradcheckError,
    _check_close,
    _check_finite_output,
    _check_shapes,
    _compare_full,
    _directional,
    _evaluate,
    _one_sided,
    numerical_grad,
)
from .graph import Context, Node, _driver, topological_order
from .tensor import Tensor
from .value import Value

FULL_LIMIT = 100  # inputs up to this many elements are checked element by element, larger along directions
DIRECTIONS = 3  # random directions per larger input


def check_graph(root: Node, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """True if every op behind ``root`` has a backward that matches its forward; else ``GradcheckError``.

    Per op y = f(x_1..x_n), in forward order, at the inputs it recorded (cast
    to float64: a float32 graph is checked at float64 precision, as gradcheck
    checks float64 copies): with a random v shaped like y, backward gives
    J_k^T v for each input needing a gradient; numerically it is the gradient
    of s(x) = <v, f(x)>, by central differences (s(x + eps e_i) - s(x - eps e_i)) / 2 eps
    per element (inputs up to ``FULL_LIMIT`` elements) or along ``DIRECTIONS``
    random directions d, <J_k^T v, d> vs (s(x + eps d) - s(x - eps d)) / 2 eps.
    An elementwise op (``kind``) has every element checked at once, in three
    forward runs whatever its size: each output moves with one input element.
    Why J^T v and not the full Jacobian: one backward per op instead of one per
    output element, and a random v leaves no wrong entry of J unseen (a
    cancellation has probability zero). A mismatch is
    |analytic - numerical| > atol + rtol |numerical| (gradcheck's rule); the
    error names the first op that fails (class, op name, label, "op k of N"),
    the input, the element and both values, and carries ``err.node``.

    Kinks are not false alarms: where the element's left and right one-sided
    differences disagree (relu at 0, a tie in max, |x| at 0), f is not
    differentiable there and the analytic value passes when it lies between
    them (PyTorch's choices do: relu'(0) = 0, a tie shares g). At a domain
    border, where one side is NaN (0 ** 2.5 at 0), the defined side is used
    (its error is O(eps f''): where f'' is unbounded, as x ** 1.5 at 0, it
    can exceed atol; a smaller eps then shows the derivative).
    A directional check that meets a kink or a NaN redoes that input element
    by element. Other NaN and infinity are reported: in an op's output, in its
    backward (sqrt at 0), or on both sides of its differences.

    An op must be re-run on the data it recorded: a Tensor input written in
    place since (``t[i] = x``, an optimizer step) or an output that re-running
    forward does not reproduce (a Value's ``.data`` set, random numbers drawn
    inside forward) is a RuntimeError. Check right after the forward pass.
    """
    if not isinstance(root, Node):
        raise TypeError(f"check_graph: root must be a Value or a Tensor, got {type(root).__name__}")
    with _driver:  # the order marks nodes: not while a backward pass walks them
        recorded = topological_order(root, clear=False)[::-1]
    if not recorded:
        raise ValueError(
            "check_graph: no op is recorded behind the root (a leaf, or computed under no_grad); "
            "pass the result of a computation made with gradients on"
        )
    rng = np.random.default_rng(seed)
    for position, node in enumerate(recorded, 1):
        header = _describe(node, position, len(recorded))
        try:
            with np.errstate(all="ignore"):  # NaN and inf are reported by the checks, not warned
                _check_op(node, eps, atol, rtol, rng)
        except GradcheckError as err:
            message = str(err).removeprefix("gradcheck: ")
            if "analytic" in message:  # a comparison of values, not of counts or shapes
                message += (
                    "; the values are <v, d output / d input> for a random v shaped like the op's output: "
                    "backward's J^T v vs central differences of <v, forward>"
                )
            raise GradcheckError(
                f"check_graph: {header}: {message}", err.input_index, err.element, err.analytic,
                err.numerical, node=node, position=position,
            ) from None
        except _NotReproduced as err:
            raise RuntimeError(f"check_graph: {header}: {err}") from None
    return True


class _NotReproduced(Exception):
    """The op's recorded inputs are gone: written in place, or forward does not give its output again."""


def _describe(node: Node, position: int, count: int) -> str:
    """The op's place and names: "op 7 of 200 in forward order, Mul '*' (label 'h', output shape (4, 3))"."""
    fn = node._fn
    name = f" {fn.name()!r}" if fn.name() != fn.__name__ else ""
    details = [f"label {node.label!r}"] if node.label else []
    if isinstance(node, Tensor):  # a Value has no shape to name
        details.append(f"output shape {node.data.shape}")
    where = f" ({', '.join(details)})" if details else ""
    return f"op {position} of {count} in forward order, {fn.__name__}{name}{where}"


# ------------------------------------------------------------ one op


def recorded(node: Node) -> tuple[list, dict, Callable[[list], tuple[Any, Any]]]:
    """What check_graph needs of an op node: its inputs' data when recorded, its params, its forward.

    A Tensor op keeps its input arrays (``_inputs``) and, when
    ``apply`` got any, the params (``params``, e.g. axis=); a user Function on
    Values keeps its Context too. A built-in Value op is its own context: its
    inputs are its parents' floats and it reruns the op's ``scalar``, whose
    only params are pow's exponent and leaky_relu's slope, read from what it saved.
    Returns (inputs, params, run) with ``run(inputs) -> (output, ctx for backward)``
    (a built-in Value op's params go into ``run`` positionally: ``{}`` here).
    """
    fn, ctx, needs = node._fn, node._ctx, node.needs_input_grad
    if ctx is None:
        inputs, params = [p.data for p in node._parents], _scalar_params(node)

        def run_scalar(xs: list) -> tuple[Any, Any]:
            out, saved = fn.scalar(*xs, *params)
            fresh = Context()
            fresh.saved_tensors, fresh.needs_input_grad = saved, needs
            return out, fresh

        return inputs, {}, run_scalar
    inputs = list(getattr(node, "_inputs", None) or [p.data for p in node._parents])
    params = getattr(ctx, "params", {})
    if fn is ops.Cast:  # a cast down would round the differences: checked as the identity it is in calculus
        params = {**params, "dtype": np.float64}

    def run(xs: list) -> tuple[Any, Any]:
        fresh = Context()
        fresh.needs_input_grad = needs
        return fn.forward(fresh, *xs, **params), fresh

    return inputs, params, run


def _scalar_params(node: Node) -> tuple:
    """A built-in Value op's params beyond its inputs, from its saved items (a Value has no room for more)."""
    fn, saved = node._fn, node.saved_tensors
    if fn is ops.PowConstant:
        return (saved[1],)
    if fn is ops.LeakyRelu and saved[0] != 1.0:  # the factor is the slope where a <= 0 (else not needed)
        return (saved[0],)
    return ()


def _check_op(node: Node, eps: float, atol: float, rtol: float, rng: np.random.Generator) -> None:
    inputs, _, run = recorded(node)
    _check_unwritten(node)
    _check_reproduced(node, run(inputs)[0])
    inputs = [_float64(x) for x in inputs]
    out, ctx = run(inputs)
    _check_finite_output(_as_node(node, out), "the op")
    v = _as_node(node, rng.standard_normal(np.shape(out))).data  # a float for a Value op
    grads = node._fn.backward(ctx, v)
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    if len(grads) != len(inputs):
        raise GradcheckError(
            f"gradcheck: backward returned {len(grads)} gradients for {len(inputs)} inputs", -1, None,
            float("nan"), float("nan"),
        )
    for k, needed in enumerate(node.needs_input_grad):
        if needed:
            _check_input(node, run, inputs, k, grads[k], v, eps, atol, rtol, rng)


def _check_unwritten(node: Node) -> None:
    for k, parent in enumerate(node._parents):
        if parent is not None and parent._version > node._order:
            raise _NotReproduced(
                f"input {k} was written in place after the op was recorded (t[...] = x, an optimizer "
                f"step), so the data it recorded is gone; run check_graph right after the forward pass"
            )


def _check_reproduced(node: Node, again: Any) -> None:
    """Forward re-run at the recorded inputs must give the recorded output (to rounding)."""
    recorded_out = np.asarray(node.data, dtype=np.float64)
    again = np.asarray(again, dtype=np.float64)
    tolerance = 1e3 * np.finfo(np.asarray(node.data).dtype).eps
    if again.shape == recorded_out.shape:
        with np.errstate(invalid="ignore"):
            close = np.isclose(again, recorded_out, rtol=tolerance, atol=tolerance, equal_nan=True)
        if close.all():
            return
        idx = tuple(int(i) for i in np.argwhere(~close)[0])
        seen = f"{again[idx]:.10g} at output element {idx} where it recorded {recorded_out[idx]:.10g}"
    else:
        seen = f"shape {again.shape} where it recorded shape {recorded_out.shape}"
    raise _NotReproduced(
        f"its forward re-run at the inputs it recorded gives {seen}: an input changed since the op "
        f"was recorded (a Value's .data set, an array written in place), or forward is not "
        f"deterministic (draw random numbers outside and pass them in); run check_graph right "
        f"after the forward pass"
    )


def _float64(x: Any) -> Any:
    """Floating arrays as float64 copies (a float32 graph is checked in float64); the rest as is."""
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f":
        return np.array(x, dtype=np.float64)
    return x


def _as_node(node: Node, data: Any) -> Node:
    """``data`` as a float64 node of ``node``'s kind (``node.wrap`` would keep a float32 op's dtype)."""
    return Value(float(data)) if isinstance(node, Value) else Tensor(np.asarray(data, dtype=np.float64))


def _check_input(node: Node, run: Callable, inputs: list, k: int, grad: Any, v: Any,
                 eps: float, atol: float, rtol: float, rng: np.random.Generator) -> None:
    """Input k: the analytic J_k^T v against the numerical gradient of s = <v, f>, by element or direction."""
    base = _as_node(node, inputs[k])

    def projected(x: Node) -> float:
        xs = list(inputs)
        xs[k] = x.data
        return float(np.sum(v * np.asarray(run(xs)[0], dtype=np.float64)))

    analytic = _analytic(grad, base)
    _check_shapes_at(k, analytic, base)
    if node._fn.kind == "elementwise" and np.ndim(base.data):
        return _check_elementwise(run, inputs, k, v, analytic, eps, atol, rtol)
    if np.size(base.data) <= FULL_LIMIT:
        return _check_elements(projected, base, k, analytic, eps, atol, rtol)
    for _ in range(DIRECTIONS):
        d = rng.standard_normal(base.data.shape)
        expected = _directional(projected, [base], [d], eps)
        got = float(np.sum(analytic * d))
        if abs(got - expected) > atol + rtol * abs(expected) or not np.isfinite(got + expected):
            if not np.isfinite(got + expected) or _kink_along(projected, base, d, eps, atol, rtol):
                return _check_elements(projected, base, k, analytic, eps, atol, rtol)  # names the element
            _check_close(got, expected, atol, rtol, f"input {k}", "a random direction d, <d, J^T v>", 1, k)
    return None


def _analytic(grad: Any, base: Node) -> Any:
    """The gradient backward gave, as float64 (zeros where it gave None: the numerical side decides)."""
    if grad is None:
        return np.zeros_like(np.asarray(base.data, dtype=np.float64))
    return np.asarray(grad.data if isinstance(grad, Node) else grad, dtype=np.float64)


def _check_shapes_at(k: int, analytic: Any, base: Node) -> None:
    try:
        _check_shapes([analytic], [base])
    except GradcheckError as err:
        message = str(err).replace("input 0", f"input {k}")
        raise GradcheckError(message, k, None, float("nan"), float("nan")) from None


def _check_elements(f: Callable, base: Node, k: int, analytic: Any, eps: float, atol: float,
                    rtol: float) -> None:
    """Every element by gradcheck's central differences, one at a time (see ``_settle`` for kinks)."""
    numerical = np.asarray(numerical_grad(f, base, eps=eps)[0], dtype=np.float64)

    def sides(idx: tuple) -> tuple[float, float, float, float]:
        left, right = _one_sided(f, [base], 0, idx, eps)
        return left, right, min(left, right), max(left, right)

    _settle(analytic, numerical, sides, atol, rtol)
    _compare_input(k, analytic, numerical, atol, rtol)


def _check_elementwise(run: Callable, inputs: list, k: int, v: np.ndarray, analytic: np.ndarray,
                       eps: float, atol: float, rtol: float) -> None:
    """An elementwise op: every element of input k moved at once, three forward runs for any size.

    Each output element depends on one element of input k (its broadcast
    source), so moving them all moves each output by its own element's step;
    summing back to input k's shape gives every element's differences.
    """
    x, shape = inputs[k], np.shape(inputs[k])

    def moved(step: float) -> tuple[np.ndarray, np.ndarray]:
        xs = list(inputs)
        xs[k] = x + step
        out = v * np.asarray(run(xs)[0], dtype=np.float64)
        return out, np.broadcast_to((x + step) - x, out.shape)  # the step taken, after rounding

    here, _ = moved(0.0)
    (plus, up), (minus, down) = moved(eps), moved(-eps)
    numerical = ops.sum_to((plus - minus) / (up - down), shape)
    left, right = (here - minus) / -down, (plus - here) / up
    low, high = ops.sum_to(np.fmin(left, right), shape), ops.sum_to(np.fmax(left, right), shape)
    left, right = ops.sum_to(left, shape), ops.sum_to(right, shape)
    _settle(analytic, numerical, lambda idx: (left[idx], right[idx], low[idx], high[idx]), atol, rtol)
    _compare_input(k, analytic, numerical, atol, rtol)


def _settle(analytic: np.ndarray, numerical: np.ndarray, sides: Callable, atol: float, rtol: float) -> None:
    """Where the central difference cannot judge an element, the one-sided ones decide (in place).

    ``sides(idx)`` gives the left and right differences and the lowest and
    highest derivative between them. At a kink (they differ) the analytic
    value passes when it lies in between; at a domain border (one side NaN:
    0 ** 2.5 at 0) the defined side is the numerical value.
    """
    with np.errstate(invalid="ignore"):
        excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
        doubtful = (excess > 0) | (~np.isfinite(numerical) & np.isfinite(analytic))
    for idx in map(tuple, np.argwhere(doubtful)):
        left, right, low, high = sides(idx)
        defined = [s for s in (left, right) if np.isfinite(s)]
        if len(defined) == 1:
            numerical[idx] = defined[0]  # a domain border: only one side is defined
            continue
        slack = atol + rtol * max(abs(low), abs(high))
        if len(defined) == 2 and high - low > slack and low - slack <= analytic[idx] <= high + slack:
            numerical[idx] = analytic[idx]  # a kink: f is not differentiable here, and backward picked a side


def _compare_input(k: int, analytic: np.ndarray, numerical: np.ndarray, atol: float, rtol: float) -> None:
    """gradcheck's comparison and message for input k alone (the others empty, so k keeps its index)."""
    analytic_all, numerical_all = [np.zeros(0)] * (k + 1), [np.zeros(0)] * (k + 1)
    analytic_all[k], numerical_all[k] = analytic, numerical
    _compare_full(analytic_all, numerical_all, atol, rtol, 1)


def _kink_along(f: Callable, base: Node, d: np.ndarray, eps: float, atol: float, rtol: float) -> bool:
    """Whether the one-sided differences of f along d disagree (a kink within eps of the point)."""
    here = _evaluate(f, [base])
    right = (_evaluate(f, [base.wrap(base.data + eps * d)]) - here) / eps
    left = (here - _evaluate(f, [base.wrap(base.data - eps * d)])) / eps
    return abs(right - left) > atol + rtol * max(abs(left), abs(right))
