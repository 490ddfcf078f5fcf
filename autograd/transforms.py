"""Function transforms: vjp, jvp, jacobian, hessian and hvp, with JAX's names and torch.func's results.

Each transform runs ``f`` once on fresh boundary nodes (the arguments it
differentiates) and then pulls cotangents back through the recorded graph
with ``graph.backward(..., inputs=...)``, the one reverse driver; the graph is
kept, so a ``vjp_fn`` can be called again. ``jacobian`` is jacrev: one reverse
pass per output element. ``hessian`` and ``hvp`` are reverse-over-reverse
(``create_graph``). ``jvp`` is forward mode: no reverse pass, the tangents
travel beside the values while ``f`` runs (``forward.py``).

What comes back is what went in: when every argument (and cotangent or
tangent) is a plain float or array, results are floats and ndarrays; when any
is a Value or Tensor, results are Values and Tensors, differentiable (part of
the graph) whenever an argument needs a gradient, so transforms nest.
Floats become Values and arrays become Tensors before ``f`` sees them, as in
``autograd.grad``. Integer arguments are refused, as in JAX.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import forward
from .gradcheck import _differentiable, value_and_grad
from .graph import Node, backward, enable_grad
from .tensor import Tensor, stack
from .value import Value

# isinstance(x, Node) below tells a node from the caller's raw float or array (arguments, f's result,
# seeds): dispatch on user input. Engine-specific behaviour asks the node (wrap, as_data, zeros, ones).
Argnums = int | Sequence[int]


# ------------------------------------------------------------------- reverse


def vjp(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """``(f(*primals), vjp_fn)`` with ``vjp_fn(v) = v^T J``, one gradient per primal.

    For out = f(x_1, ..., x_n), ``vjp_fn(v)`` returns the tuple
    (sum(v * d out / d x_1), ..., sum(v * d out / d x_n)) by one reverse pass
    (one per output if ``f`` returns a tuple; then ``v`` is a tuple too). ``v``
    has the output's shape. ``f`` runs once; ``vjp_fn`` may be called many
    times. Results are differentiable when primals or ``v`` are nodes, so
    ``vjp`` of ``vjp`` gives second derivatives (``torch.func.vjp``).
    """
    call = _Call(f, primals, tuple(range(len(primals))), "vjp")

    def vjp_fn(cotangents: Any) -> tuple[Any, ...]:
        return call.pull(call.outputs, _cotangents(cotangents, call.outputs, call.tupled))

    return call.result(), vjp_fn


def jacobian(f: Callable, argnums: Argnums = 0) -> Callable:
    """``jacobian(f)(*args)``: J[i..., j...] = d out[i...] / d x[j...] (reverse mode, jacrev).

    The result has shape ``out.shape + x.shape``; a tuple ``argnums`` gives a
    tuple with one Jacobian per argument, and a tuple output a tuple over the
    outputs (of tuples over ``argnums``), as ``torch.func.jacrev``. Costs one
    reverse pass per output element: cheap for few outputs, many inputs.
    """

    def jac(*args: Any) -> Any:
        call = _Call(f, args, _argnums(argnums, len(args), "jacobian"), "jacobian")
        per_output = tuple(_jacobian_of(out, call) for out in call.outputs)
        per_output = tuple(js if isinstance(argnums, Sequence) else js[0] for js in per_output)
        return per_output if call.tupled else per_output[0]

    return jac


def hessian(f: Callable, argnums: Argnums = 0) -> Callable:
    """``hessian(f)(*args)``: H[i..., j...] = d^2 f / dx[i...] dx[j...], the jacobian of the jacobian.

    For scalar ``f`` the result has shape ``x.shape + x.shape``; with a tuple
    ``argnums``, ``H[a][b]`` is the block d^2 f / dx_a dx_b (JAX's and
    torch.func's nesting). The inner jacobian runs with ``create_graph``, so
    this is reverse-over-reverse.
    """
    return jacobian(jacobian(f, argnums), argnums)


def hvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, tuple[Any, ...]]:
    """``(f(*primals), H v)`` for scalar ``f``, without building the Hessian H.

    H v = d/dx <grad f(x), v>: one pass with ``create_graph`` gives grad f as
    nodes, a second pass pulls ``v`` back through it (reverse-over-reverse; H
    is symmetric, so v^T H = H v). Costs about two gradients, whatever the
    size of x. ``primals`` and ``tangents`` are tuples of matching shapes; the
    result has one entry per primal.
    """
    primals, tangents = _tuple(primals, "primals", "hvp"), _tuple(tangents, "tangents", "hvp")
    seeds = _tangents(tangents, primals, "hvp")
    everything = tuple(range(len(primals)))
    value_and_gradient = value_and_grad(f, everything, create_graph=True)

    def value_then_gradient(*args: Any) -> tuple[Node, ...]:
        value, grads = value_and_gradient(*args)  # zeros (numbers) for an input with no path
        return (value, *(g if isinstance(g, Node) else x.wrap(g) for g, x in zip(grads, args, strict=True)))

    call = _Call(value_then_gradient, primals, everything, "hvp")
    value, grads = call.outputs[0], call.outputs[1:]
    return _returned(value, value, call.plain, call.graph), call.pull(grads, seeds)


# ------------------------------------------------------------------- forward


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J v)``, forward mode: J v = sum_k d f / d x_k  v_k, in one run of ``f``.

    Each op, as it is recorded, also computes its output's tangent from its
    inputs' (``forward.py``; no reverse pass), so the cost is one pass per
    direction ``v``: cheap for few inputs, many outputs. ``primals`` and
    ``tangents`` are tuples of matching shapes (``torch.func.jvp``); a tuple
    output gives a tuple of tangents. Tangents are nodes (differentiable)
    when any primal or tangent needs a gradient or an outer jvp is running,
    so jvp nests and ``grad`` of a jvp works.
    """
    primals, tangents = _tuple(primals, "primals", "jvp"), _tuple(tangents, "tangents", "jvp")
    _tangents(tangents, primals, "jvp")
    given = (*primals, *tangents)
    nested = forward.is_tracing()
    differentiable = nested or any(_needs_grad(a) for a in given)
    plain = not nested and not any(isinstance(a, Node) for a in given)
    with forward.trace(differentiable) as trace, enable_grad():
        args = [_differentiable(_differentiable_input(p, i, "jvp")) for i, p in enumerate(primals)]
        for x, t in zip(args, tangents, strict=True):
            trace.tangents[x] = _seed_tangent(x, t, differentiable)
        out = f(*args)
    tupled = isinstance(out, tuple)
    outputs = out if tupled else (out,)
    for o in outputs:
        if not isinstance(o, Node):
            raise TypeError(f"jvp: f must return a Value or a Tensor (or a tuple of them), got "
                            f"{type(o).__name__}; compute the result from the arguments f receives")
    values = tuple(_returned(o, o, plain, differentiable) for o in outputs)
    derivatives = tuple(_returned(trace.tangents.get(o), o, plain, differentiable) for o in outputs)
    return (values, derivatives) if tupled else (values[0], derivatives[0])


def _seed_tangent(x: Node, t: Any, differentiable: bool) -> Any:
    """A primal's tangent in its boundary node's kind and dtype: a node, or raw numbers."""
    if differentiable:
        if not isinstance(t, Node):
            return x.wrap(t)
        return t.astype(x.dtype) if isinstance(t, Tensor) and t.dtype != x.dtype else t  # Tensor-only dtypes
    return x.as_data(t.data if isinstance(t, Node) else t)


# ----------------------------------------------------------------- one call


class _Call:
    """``f`` run once on boundary nodes for the arguments ``argnums``; the rest pass as given."""

    def __init__(self, f: Callable, args: tuple, argnums: tuple[int, ...], who: str) -> None:
        args = list(args)
        self.plain = not any(isinstance(a, Node) for a in args)
        self.graph = any(_needs_grad(a) for a in args)
        with enable_grad():  # a transform of f: an outer no_grad does not apply (as torch.func)
            for i in argnums:
                args[i] = _differentiable(_differentiable_input(args[i], i, who))
            out = f(*args)
        self.inputs = tuple(args[i] for i in argnums)
        self.tupled = isinstance(out, tuple)
        self.outputs = out if self.tupled else (out,)
        for o in self.outputs:
            if not isinstance(o, Node):
                raise TypeError(
                    f"{who}: f must return a Value or a Tensor (or a tuple of them), got "
                    f"{type(o).__name__}; compute the result from the arguments f receives"
                )

    def pull(self, outputs: tuple, seeds: tuple) -> tuple[Any, ...]:
        """sum_k seed_k^T d out_k / d inputs, one per input; node seeds make the results nodes."""
        graph = self.graph or any(_needs_grad(s) for s in seeds)
        plain = self.plain and not any(isinstance(s, Node) for s in seeds)
        total = _pull_all(outputs, seeds, self.inputs, graph)
        return tuple(_returned(g, x, plain, graph) for g, x in zip(total, self.inputs, strict=True))

    def result(self) -> Any:
        """f's output in the caller's kind: plain, a node in the graph, or a constant node."""
        outs = tuple(_returned(o, o, self.plain, self.graph) for o in self.outputs)
        return outs if self.tupled else outs[0]


def _jacobian_of(out: Node, call: _Call) -> tuple[Any, ...]:
    """d out / d each input: one reverse pass per element of ``out``, rows stacked."""
    rows = []
    for k in range(np.size(out.data)):
        seed = out.as_data(_basis(np.asarray(out.data), k))  # 1.0 for a Value
        rows.append(_pull(out, seed, call.inputs, call.graph))
    return tuple(
        _stacked([row[j] for row in rows], out, x, call.plain, call.graph)
        for j, x in enumerate(call.inputs)
    )


def _basis(data: np.ndarray, k: int) -> np.ndarray:
    seed = np.zeros(data.shape, dtype=data.dtype)
    seed.flat[k] = 1
    return seed


def _stacked(rows: list, out: Node, x: Node, plain: bool, graph: bool) -> Any:
    """The rows (one gradient per output element) as one array of shape out.shape + x.shape."""
    out_shape = np.shape(out.data)
    rows = [_returned(r, x, plain, graph) for r in rows]
    if not out_shape:  # one output element: its row is the Jacobian, in x's kind
        return rows[0]
    if plain or not graph:
        data = [r.data if isinstance(r, Node) else r for r in rows]
        full = np.stack(data).reshape(out_shape + np.shape(x.data)) if rows else np.zeros(
            out_shape + np.shape(x.data), dtype=x.data.dtype)
        return full if plain else Tensor(full)
    if isinstance(x, Value):  # engine-specific: Value rows cannot be stacked into a Tensor
        raise TypeError("jacobian: a Value argument with a Tensor output has no Tensor Jacobian; "
                        "pass the argument as a 0-d array or Tensor")
    if not rows:
        return Tensor(np.zeros(out_shape + x.shape, dtype=x.dtype))
    return stack(rows).reshape(out_shape + x.shape)


# --------------------------------------------------------------- the pass


def _pull_all(outputs: tuple, seeds: tuple, inputs: tuple[Node, ...], graph: bool) -> list:
    """sum_k seed_k^T d out_k / d inputs: one reverse pass per output, summed per input."""
    total: list = [None] * len(inputs)
    for out, seed in zip(outputs, seeds, strict=True):
        for k, g in enumerate(_pull(out, _seed_for(seed, out, graph), inputs, graph)):
            if g is not None:
                total[k] = g if total[k] is None else total[k] + g
    return total


def _pull(out: Node, seed: Any, inputs: tuple[Node, ...], graph: bool) -> list:
    """seed^T d out / d inputs by one reverse pass that stops at ``inputs``; None where none arrives."""
    if out._fn is None and not any(out is x for x in inputs):
        return [None] * len(inputs)  # a constant output: nothing flows back, and nothing is written
    for x in inputs:
        x.grad = None
    found = backward(out, seed, create_graph=graph, inputs=inputs)
    # graph.backward returns the inputs' gradients (the redesigned core) or leaves them on .grad
    return list(found or (x.grad for x in inputs))


def _returned(g: Any, like: Node, plain: bool, graph: bool) -> Any:
    """A gradient (or output) in the caller's kind; zeros of ``like``'s shape where it is None."""
    if g is None:
        g = like.zeros()
    if plain:
        return like.as_data(g.data if isinstance(g, Node) else g)
    if isinstance(g, Node):
        return g if graph else g.wrap(g.data)
    return like.wrap(g)


# --------------------------------------------------------- checking inputs


def _differentiable_input(x: Any, position: int, who: str) -> Any:
    """``x`` itself if it can be differentiated with respect to; else a clear error."""
    if isinstance(x, Node):
        kind = np.asarray(x.data).dtype.kind  # "f" for a Value's float
    elif isinstance(x, (bool, int, np.integer, np.bool_)):
        kind = "i"
    else:
        try:
            kind = np.asarray(x).dtype.kind
        except (TypeError, ValueError):
            kind = "O"
    if kind == "f":
        return x
    if kind in "iub":
        scalar = not isinstance(x, Node) and np.ndim(x) == 0
        raise TypeError(
            f"{who}: argument {position} is an integer ({x!r}); derivatives need floats: pass "
            f"{float(x) if scalar else 'it as float64'} (JAX refuses integer inputs too)"
        )
    raise TypeError(
        f"{who}: argument {position} is {type(x).__name__} (dtype kind {kind!r}); differentiate "
        f"with respect to floats, float arrays, Values or floating-point Tensors"
    )


def _argnums(argnums: Argnums, count: int, who: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of positions in range, negatives counted from the end."""
    picked = (argnums,) if not isinstance(argnums, Sequence) else tuple(argnums)
    if not picked or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in picked):
        raise TypeError(f"{who}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    for i in picked:
        if not -count <= i < count:
            raise ValueError(
                f"{who}: argnums={argnums!r} is out of range: f was called with {count} positional "
                f"argument{'s' if count != 1 else ''}"
            )
    positions = tuple(int(i) % count for i in picked)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{who}: argnums={argnums!r} names an argument twice")
    return positions


def _tuple(items: Any, name: str, who: str) -> tuple:
    if not isinstance(items, (tuple, list)):
        raise TypeError(f"{who}: {name} must be a tuple (one entry per argument of f), got "
                        f"{type(items).__name__}; write ({name[:-1]},) for one argument")
    return tuple(items)


def _tangents(tangents: tuple, primals: tuple, who: str) -> tuple:
    """One tangent per primal, each of its primal's shape."""
    if len(tangents) != len(primals):
        raise ValueError(f"{who}: got {len(tangents)} tangents for {len(primals)} primals; "
                         f"give one per primal")
    for k, (t, p) in enumerate(zip(tangents, primals, strict=True)):
        if _shape(t) != _shape(p):
            raise ValueError(f"{who}: tangent {k} has shape {_shape(t)}, but primal {k} has shape "
                             f"{_shape(p)}; a tangent has its primal's shape")
    return tangents


def _cotangents(cotangents: Any, outputs: tuple, tupled: bool) -> tuple:
    """One seed per output, each of its output's shape."""
    given = _tuple(cotangents, "cotangents", "vjp_fn") if tupled else (cotangents,)
    if len(given) != len(outputs):
        raise ValueError(f"vjp_fn: got {len(given)} cotangents for f's {len(outputs)} outputs")
    for k, (c, out) in enumerate(zip(given, outputs, strict=True)):
        if _shape(c) != _shape(out):
            where = f"cotangent {k}" if tupled else "the cotangent"
            raise ValueError(f"vjp_fn: {where} has shape {_shape(c)}, but f's output has shape "
                             f"{_shape(out)}; pass one of the output's shape")
    return given


def _seed_for(seed: Any, out: Node, graph: bool) -> Any:
    """A seed for a pass from ``out``: a node in a differentiable pass, else numbers of out's dtype."""
    if isinstance(seed, Node):
        if graph:
            return seed
        seed = seed.data
    return out.as_data(seed)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x.data if isinstance(x, Node) else x))


def _needs_grad(x: Any) -> bool:
    return isinstance(x, Node) and x.requires_grad
