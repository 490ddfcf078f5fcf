"""Shared checks for the nn tests: parameter gradients against central differences."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograd import Tensor, no_grad


def numerical_param_grad(loss: Callable[[], Tensor], param: Tensor, eps: float = 1e-6) -> np.ndarray:
    """d loss / d param by central differences, nudging ``param.data`` in place."""
    grad = np.zeros(param.shape)
    for idx in np.ndindex(*param.shape):
        old = param.data[idx]
        with no_grad():
            param.data[idx] = old + eps
            plus = loss().item()
            param.data[idx] = old - eps
            minus = loss().item()
        param.data[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def assert_param_grads_match(loss: Callable[[], Tensor], params: list[Tensor]) -> None:
    """Backprop's gradient of every parameter equals the numerical one (float64 models)."""
    for p in params:
        p.grad = None
    loss().backward()
    for p in params:
        np.testing.assert_allclose(p.grad, numerical_param_grad(loss, p), rtol=1e-5, atol=1e-7)
