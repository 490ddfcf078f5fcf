"""XOR: a 2-4-1 sigmoid network learns the function no single neuron can.

The four points of XOR are not linearly separable, so it takes a hidden layer.
Written as the plain PyTorch-style loop (forward, loss, zero_grad, backward,
step); the picture shows the learned surface and the loss, and the graph of
the last training step (forward, loss and gradients) is drawn with its
parameters named.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from autograd import Tensor
from demos._common import plot_losses, print_table, save_figure, save_graph


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train on the four XOR points, MSE loss, Adam, 1000 full-batch steps (a second; quick or not)."""
    X, y = nn.data.xor()
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for epoch in range(1, 1001):
        loss = nn.functional.mse_loss(model(Tensor(X)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if epoch % 200 == 0:
            print(f"  epoch {epoch:4d}  MSE {losses[-1]:.5f}")
    predictions, targets = nn.predict(model, X).reshape(-1), y.reshape(-1)
    rows = zip(X, targets, predictions, strict=True)
    print_table(("x1", "x2", "target", "prediction"),
                [(int(a), int(b), int(t), float(p)) for (a, b), t, p in rows])
    files = [
        plot_surface(model, X, y, losses, output_dir / "xor.png"),
        save_graph(loss, output_dir / "xor_graph", params=dict(model.named_parameters())),
    ]
    mse = float(np.mean((predictions - targets) ** 2))
    return {"mse": mse, "predictions": predictions, "targets": targets, "files": files}


def plot_surface(model: nn.Module, X: np.ndarray, y: np.ndarray, losses: list[float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    grid = np.linspace(-0.25, 1.25, 121)
    gx, gy = np.meshgrid(grid, grid)
    surface = nn.predict(model, np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    shading = left.contourf(gx, gy, surface, levels=np.linspace(0, 1, 11), cmap="coolwarm", alpha=0.8)
    left.contour(gx, gy, surface, levels=[0.5], colors="k", linewidths=1)
    fig.colorbar(shading, ax=left, label="network output")
    for point, target in zip(X, y.reshape(-1), strict=True):
        left.scatter(*point, s=80, color="tab:red" if target else "tab:blue", edgecolors="k")
        inward = 1 if point[0] < 0.5 else -1
        left.annotate(f"XOR = {int(target)}", point, textcoords="offset points", xytext=(8 * inward, 8),
                      ha="left" if inward > 0 else "right")
    left.set_xlabel("$x_1$")
    left.set_ylabel("$x_2$")
    left.set_title("learned XOR (black line: output 0.5)")
    plot_losses(right, {"MSE": losses})
    right.set_title("training loss")
    return save_figure(fig, path)
