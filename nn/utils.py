"""Gradient clipping, as ``torch.nn.utils``: call between ``backward()`` and ``optimizer.step()``.

Both change the gradients in place, for Tensor and Value parameters alike;
parameters without a gradient are skipped.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from autograd import Tensor, Value
from autograd.graph import Node

from .module import Param

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def __dir__() -> list[str]:
    return list(__all__)


def clip_grad_norm_(parameters: Param | Iterable[Param], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their total norm is at most ``max_norm``; return that norm.

    total = ||(||g_1||, ..., ||g_n||)|| in ``norm_type`` (inf: the largest
    |g|); every g is multiplied by min(1, max_norm / (total + 1e-6)). A NaN
    or inf total raises when ``error_if_nonfinite``, else scales by it as
    PyTorch does.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    norms = np.array([_norm(g, norm_type) for _, g in grads])
    total = norms.max() if norm_type == np.inf else np.linalg.norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for p, g in grads:
        if isinstance(p, Value):  # a float gradient is rebound; an array is scaled in place
            p.grad = p.grad * coefficient
        else:
            g *= np.asarray(coefficient, dtype=g.dtype)
    return Tensor(np.asarray(total, dtype=np.result_type(*[np.asarray(g).dtype for _, g in grads])))


def clip_grad_value_(parameters: Param | Iterable[Param], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value]."""
    for p, g in _grads(parameters):
        if isinstance(p, Value):  # as above
            p.grad = min(max(p.grad, -clip_value), clip_value)
        else:
            np.clip(g, -clip_value, clip_value, out=g)


def _grads(parameters: Param | Iterable[Param]) -> list[tuple[Param, Any]]:
    """(parameter, gradient array or float) for each parameter that has a gradient."""
    params = [parameters] if isinstance(parameters, Node) else list(parameters)
    pairs = []
    for p in params:
        g = p.grad
        if g is None:
            continue
        pairs.append((p, g.data if isinstance(g, Node) else g))
    return pairs


def _norm(g: Any, norm_type: float) -> float:
    flat = np.abs(np.asarray(g, dtype=np.float64)).ravel()
    if flat.size == 0:
        return 0.0
    return flat.max() if norm_type == np.inf else np.linalg.norm(flat, norm_type)
