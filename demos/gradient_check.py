"""Gradient check: backprop vs central differences on a 2-layer net, parameter by parameter.

Every from-scratch course checks its hand-written backward pass this way; here
the backward pass is the engine's, and the check shows it agrees to about 1e-9
in float64. A sweep over the step size eps shows why the numerical side needs
care: too large and the Taylor error dominates, too small and round-off does.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from autograd import Tensor, gradcheck, numerical_grad
from demos._common import print_table, save_figure

EPS = 1e-6
EPS_SWEEP = np.logspace(-1, -11, 21)


def run(output_dir: Path, quick: bool = False) -> dict:
    """Check every parameter of a tanh net with a softmax cross-entropy loss; plot the eps sweep."""
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((8, 4))
    targets = rng.integers(0, 3, size=8)
    params = {
        "W1": rng.standard_normal((5, 4)) * 0.5, "b1": rng.standard_normal(5) * 0.1,
        "W2": rng.standard_normal((3, 5)) * 0.5, "b2": rng.standard_normal(3) * 0.1,
    }

    def loss(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor) -> Tensor:
        """Cross-entropy of softmax(tanh(x W1^T + b1) W2^T + b2): the only code written by hand."""
        hidden = (Tensor(inputs) @ W1.T + b1).tanh()
        log_probs = (hidden @ W2.T + b2).log_softmax(axis=1)
        return -log_probs[np.arange(len(targets)), targets].mean()

    leaves = [Tensor(value, requires_grad=True) for value in params.values()]
    loss(*leaves).backward()
    analytic = [leaf.grad for leaf in leaves]
    numerical = numerical_grad(loss, *params.values(), eps=EPS)

    print(f"  float64, central differences with eps = {EPS:g}; "
          "relative error = |backprop - numerical| / max(|backprop|, |numerical|)")
    rows, worst = [], 0.0
    for (name, value), a, n in zip(params.items(), analytic, numerical, strict=True):
        error = relative_error(a, n)
        worst = max(worst, error)
        rows.append((name, str(value.shape), float(np.abs(a).max()), float(np.abs(a - n).max()), error))
    print_table(("parameter", "shape", "max |grad|", "max |diff|", "max rel. error"), rows)
    print(f"  worst relative error: {worst:.2e} (must be < 1e-6); "
          f"autograd.gradcheck agrees: {gradcheck(loss, *params.values())}")

    sweep = eps_sweep(loss, list(params.values()), analytic, EPS_SWEEP[::4] if quick else EPS_SWEEP)
    figure = plot_sweep(sweep, output_dir / "gradient_check_eps.png")
    return {"max_relative_error": worst, "per_parameter": {row[0]: row[-1] for row in rows},
            "files": [figure]}


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> float:
    """max over elements of |a - n| / max(|a|, |n|), with 0/0 counted as 0."""
    scale = np.maximum(np.abs(analytic), np.abs(numerical))
    errors = np.abs(analytic - numerical) / np.where(scale > 0, scale, 1.0)
    return float(errors.max())


def eps_sweep(loss, params: list, analytic: list, steps: np.ndarray) -> dict[float, float]:
    """The worst relative error over all parameters, for each step size eps."""
    return {
        float(eps): max(relative_error(a, n)
                        for a, n in zip(analytic, numerical_grad(loss, *params, eps=float(eps)), strict=True))
        for eps in steps
    }


def plot_sweep(sweep: dict[float, float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.loglog(list(sweep), list(sweep.values()), "o-", label="worst relative error")
    ax.axhline(1e-6, color="tab:red", linestyle="--", label="pass line 1e-6")
    ax.axvline(EPS, color="gray", linestyle=":", label=f"eps used = {EPS:g}")
    ax.invert_xaxis()
    ax.set_xlabel("step size eps of the central difference")
    ax.set_ylabel("backprop vs numerical (relative)")
    ax.set_title("Gradient check in float64: Taylor error vs round-off")
    ax.legend(loc="upper center")
    return save_figure(fig, path)
