"""What every demo shares: saving pictures, drawing graphs, plotting boundaries.

Demos write only their forward pass and training loop; this file keeps the
matplotlib and graphviz plumbing out of them. Pictures are PNGs drawn with the
Agg backend (no display needed); graphs are SVGs rendered by ``dot`` when it is
installed, else their ``.dot`` source with a note saying how to render it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import graphviz
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograd import no_grad  # noqa: E402

DPI = 90
CLASS_COLORS = ("tab:blue", "tab:red", "tab:green")


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path``, close it, and say where it went."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"  wrote {path}")
    return path


def save_graph(graph_or_root: Any, path: Path, file_format: str = "svg", **draw_options: Any) -> Path:
    """Write a graph picture: ``path.svg`` (or .png) if ``dot`` or graphviz-pure exists, else ``path.dot``.

    ``graph_or_root`` is a ``graphviz.Digraph`` or a Value/Tensor to draw with
    ``draw_dot(root, **draw_options)``; ``path`` has no suffix.
    """
    from autograd.viz import draw_dot, save
    from autograd.viz.render import find_program

    graph = graph_or_root if isinstance(graph_or_root, graphviz.Digraph) else draw_dot(
        graph_or_root, **draw_options)
    if find_program() is None:
        written = path.with_suffix(".dot")
        written.write_text(graph.source)
        print(f"  wrote {written} (`dot` is not installed, nor graphviz-pure: pip install graphviz-pure)")
        return written
    written = save(graph, path.with_suffix(f".{file_format}"))
    print(f"  wrote {written}")
    return written


def plot_losses(ax: plt.Axes, curves: dict[str, Sequence[float]], xlabel: str = "epoch",
                log: bool = True) -> None:
    """One line per named loss curve, on a log scale by default."""
    for name, losses in curves.items():
        ax.plot(np.arange(1, len(losses) + 1), losses, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    ax.legend()


def plot_decision_boundary(ax: plt.Axes, score: Callable[[np.ndarray], np.ndarray],
                           X: np.ndarray, y: np.ndarray, threshold: float = 0.0,
                           steps: int = 200) -> None:
    """Shade where ``score(points) > threshold`` over a grid around ``X``; scatter the data on top.

    ``score`` maps an (n, 2) array of points to n numbers (a logit, a margin or
    a probability, with ``threshold`` the boundary between the two classes).
    """
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, steps)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, steps)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with no_grad():
        scores = np.asarray(score(np.c_[grid_x.ravel(), grid_y.ravel()])).reshape(grid_x.shape)
    ax.contourf(grid_x, grid_y, scores, levels=[-np.inf, threshold, np.inf],
                colors=CLASS_COLORS[:2], alpha=0.25)
    ax.contour(grid_x, grid_y, scores, levels=[threshold], colors="k", linewidths=1)
    scatter_classes(ax, X, y)


def scatter_classes(ax: plt.Axes, X: np.ndarray, y: np.ndarray) -> None:
    """The 2-d points of each class in its own colour, with a legend."""
    for label in np.unique(y):
        mine = y == label
        ax.scatter(X[mine, 0], X[mine, 1], s=18, edgecolors="k", linewidths=0.4,
                   color=CLASS_COLORS[int(label) % len(CLASS_COLORS)], label=f"class {label:g}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="lower left")


def plot_confusion(ax: plt.Axes, matrix: np.ndarray, class_names: Sequence[str], title: str) -> None:
    """A confusion matrix (rows: true class, columns: predicted) with the counts written in."""
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=30)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for (row, col), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=color)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """counts[i, j] = how many examples of class i were predicted as j."""
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (true.astype(int), predicted.astype(int)), 1)
    return counts


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under a header, each column as wide as its widest cell."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for k, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    return str(value)


def split(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[tuple, tuple]:
    """A stratified train/test split: each class is split in the same proportion."""
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y)
    return (X_train, y_train), (X_test, y_test)


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x - mean) / std with the training set's mean and std, applied to both.

    A feature constant in the training set (a blank pixel) is only centred:
    dividing by its zero spread would blow up any test value that differs.
    """
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def plot_history(history: Any, path: Path, title: str) -> Path:
    """Loss and accuracy per epoch from an ``nn.fit`` History, training and held-out side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        epochs = np.arange(1, len(history.history[metric]) + 1)
        ax.plot(epochs, history.history[metric], label="training")
        ax.plot(epochs, history.history[f"val_{metric}"], label="held-out")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.suptitle(title)
    return save_figure(fig, path)
