"""Optimizers: SGD, momentum, RMSprop and Adam on the Rosenbrock valley and on one network.

Rosenbrock's f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 has a long curved valley
with its minimum at (1, 1): plain SGD crawls along the floor, momentum
overshoots and then runs, the adaptive methods rescale each coordinate. The
same four ``nn.optim`` optimizers then train one small network on two moons.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from autograd import Tensor
from demos._common import plot_losses, print_table, save_figure

START = (-1.5, 2.0)
OPTIMIZERS = {  # name: (class, keyword arguments on Rosenbrock, on the network)
    "SGD": (nn.optim.SGD, dict(lr=5e-4), dict(lr=0.05)),
    "momentum 0.9": (nn.optim.SGD, dict(lr=5e-4, momentum=0.9), dict(lr=0.05, momentum=0.9)),
    "RMSprop": (nn.optim.RMSprop, dict(lr=1e-2), dict(lr=1e-2)),
    "Adam": (nn.optim.Adam, dict(lr=5e-2), dict(lr=1e-2)),
}


def rosenbrock(point: Tensor) -> Tensor:
    """(1 - x)^2 + 100 (y - x^2)^2: the forward pass, the only formula written here."""
    x, y = point[0], point[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def run(output_dir: Path, quick: bool = False) -> dict:
    """Run each optimizer on Rosenbrock and on a moons MLP; plot paths and loss curves."""
    steps, epochs = (1000, 20) if quick else (1000, 40)
    paths, valley_losses, network_losses, rows = {}, {}, {}, []
    for name, (optimizer, valley_args, network_args) in OPTIMIZERS.items():
        paths[name], valley_losses[name] = descend(optimizer, valley_args, steps)
        network_losses[name] = train_network(optimizer, network_args, epochs)
        end = paths[name][-1]
        rows.append((name, f"({end[0]:+.3f}, {end[1]:+.3f})", valley_losses[name][-1],
                     network_losses[name][-1]))
    print_table(("optimizer", f"point after {steps} steps", "f there", f"network loss, epoch {epochs}"),
                rows)
    files = [
        plot_valley(paths, valley_losses, output_dir / "optimizers_rosenbrock.png"),
        plot_network(network_losses, output_dir / "optimizers_network.png"),
    ]
    return {"rosenbrock_final": {name: losses[-1] for name, losses in valley_losses.items()},
            "network_final": {name: losses[-1] for name, losses in network_losses.items()},
            "files": files}


def descend(optimizer: type, options: dict, steps: int) -> tuple[np.ndarray, list[float]]:
    """Minimise Rosenbrock from START; returns the path of points and f at each of them."""
    point = Tensor(np.array(START), requires_grad=True)
    opt = optimizer([point], **options)
    path, losses = [point.data.copy()], []
    for _ in range(steps):
        loss = rosenbrock(point)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        path.append(point.data.copy())
    return np.array(path), losses


def train_network(optimizer: type, options: dict, epochs: int) -> list[float]:
    """The per-epoch training loss of a 2-16-16-1 MLP on two moons, same seed for every optimizer."""
    X, y = nn.data.make_moons(n_samples=200, noise=0.15, seed=0)
    nn.manual_seed(0)
    model = nn.MLP(2, [16, 16, 1])
    history = nn.fit(model, X, y, loss=nn.functional.binary_cross_entropy_with_logits,
                     optimizer=optimizer(model.parameters(), **options), epochs=epochs,
                     batch_size=32, seed=0, progress=False)
    return history.history["loss"]


def plot_valley(paths: dict[str, np.ndarray], losses: dict[str, list[float]], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    gx, gy = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    heights = (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2
    left.contourf(gx, gy, np.log10(heights + 1e-3), levels=20, cmap="Blues_r", alpha=0.5)
    left.contour(gx, gy, heights, levels=np.logspace(-1, 3.5, 12), colors="gray", linewidths=0.4)
    every = max(len(next(iter(paths.values()))) // 20, 1)
    for order, ((name, points), marker) in enumerate(zip(paths.items(), "os^D", strict=True)):
        # the first (slowest) path is drawn last and widest: the faster ones retrace its start
        left.plot(points[:, 0], points[:, 1], lw=3 if order == 0 else 1.2, marker=marker,
                  markersize=6 if order == 0 else 4, markevery=every, label=name, zorder=10 - order,
                  alpha=1 if order == 0 else 0.8)
        left.plot(*points[-1], marker="X", color=left.get_lines()[-1].get_color(), markersize=10,
                  markeredgecolor="black", zorder=20)
    left.plot(*START, "ko", label="start")
    left.plot(1, 1, "r*", markersize=12, label="minimum (1, 1)")
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.set_title(f"paths on the Rosenbrock valley (a mark every {every} steps, X: the end)", fontsize=10)
    left.legend(fontsize=8, loc="upper center")
    plot_losses(right, losses, xlabel="step")
    right.set_ylabel("f(x, y)")
    right.set_title("f along each path")
    return save_figure(fig, path)


def plot_network(losses: dict[str, list[float]], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    plot_losses(ax, losses)
    ax.set_title("MLP 2-16-16-1 on two moons: training loss")
    return save_figure(fig, path)
