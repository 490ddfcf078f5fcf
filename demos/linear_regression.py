"""Linear regression: y = 4 + 3x + noise fitted by batch, stochastic and mini-batch gradient descent.

The model is two Tensors and one line of forward pass, b + w * x; the engine
finds the gradient of the mean squared error. The three variants are the same
loop with a different batch size (``nn.data.DataLoader``), and all three land
on the least-squares solution that ``numpy.linalg.lstsq`` computes directly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from autograd import Tensor
from demos._common import plot_losses, print_table, save_figure

# name: (batch size, learning rate, epochs, epochs in quick mode)
VARIANTS = {
    "batch": (100, 0.1, 400, 400),
    "mini-batch": (10, 0.05, 60, 40),
    "stochastic": (1, 0.002, 40, 40),  # 100 small steps an epoch, a smaller total than mini-batch's
}


def run(output_dir: Path, quick: bool = False) -> dict:
    """Fit the line three ways; plot the lines over the data and the three loss curves."""
    x, y = nn.data.linear_data(n=100, seed=42)
    x, y = x.reshape(-1), y.reshape(-1)
    exact = least_squares(x, y)
    print(f"  least squares: intercept {exact[0]:.4f}, slope {exact[1]:.4f}")
    fits, curves, rows = {}, {}, []
    for name, (batch_size, lr, epochs, quick_epochs) in VARIANTS.items():
        epochs = quick_epochs if quick else epochs
        (intercept, slope), curves[name] = fit_line(x, y, batch_size, lr, epochs)
        fits[name] = {"intercept": intercept, "slope": slope}
        rows.append((name, batch_size, lr, epochs, intercept, slope, curves[name][-1]))
    print_table(("variant", "batch", "lr", "epochs", "intercept", "slope", "final MSE"), rows)
    floor = mse(x, y, *exact)
    excess = {name: [loss - floor for loss in losses] for name, losses in curves.items()}
    figure = plot_fits(x, y, exact, fits, excess, output_dir / "linear_regression.png")
    return {"least_squares": {"intercept": exact[0], "slope": exact[1]}, **fits, "files": [figure]}


def fit_line(x: np.ndarray, y: np.ndarray, batch_size: int, lr: float,
             epochs: int) -> tuple[tuple[float, float], list[float]]:
    """Gradient descent on MSE(b + w x, y); returns (b, w) and the full-data MSE after each epoch."""
    intercept = Tensor(0.0, requires_grad=True)
    slope = Tensor(0.0, requires_grad=True)
    optimizer = nn.optim.SGD([intercept, slope], lr=lr)
    batches = nn.data.DataLoader(x, y, batch_size=batch_size, shuffle=True, seed=0)
    history = []
    for _ in range(epochs):
        for xb, yb in batches:
            loss = ((intercept + slope * xb - yb) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        history.append(mse(x, y, intercept.item(), slope.item()))
    return (intercept.item(), slope.item()), history


def mse(x: np.ndarray, y: np.ndarray, intercept: float, slope: float) -> float:
    """The full-data mean squared error of the line b + w x, in float64 (float32 rounding
    would show as spikes on a log scale once the excess over the minimum is ~1e-7)."""
    residual = intercept + slope * x.astype(np.float64) - y.astype(np.float64)
    return float(np.mean(residual**2))


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The exact minimiser of the MSE: solve [1 x] (b, w) = y in the least-squares sense."""
    (intercept, slope), *_ = np.linalg.lstsq(np.c_[np.ones_like(x), x], y, rcond=None)
    return float(intercept), float(slope)


def plot_fits(x: np.ndarray, y: np.ndarray, exact: tuple[float, float], fits: dict,
              curves: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(x, y, s=12, color="gray", alpha=0.7, label="data")
    line_x = np.array([x.min(), x.max()])
    left.plot(line_x, exact[0] + exact[1] * line_x, "k--", lw=3, alpha=0.5, label="least squares")
    for name, fit in fits.items():
        left.plot(line_x, fit["intercept"] + fit["slope"] * line_x, lw=1.5,
                  label=f"{name}: {fit['intercept']:.2f} + {fit['slope']:.2f}x")
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.set_title("y = 4 + 3x + noise, three ways")
    left.legend(fontsize=8)
    plot_losses(right, curves)
    for line, style in zip(right.get_lines(), ("-", "--", ":"), strict=False):
        line.set_linestyle(style)
        line.set_linewidth(1.8)
    right.legend()
    right.set_xscale("log")
    right.set_ylabel("MSE - least-squares MSE")
    right.set_title("how far above the minimum, after each epoch")
    return save_figure(fig, path)
