"""Moons, micrograd's demo: a scalar MLP(2, [16, 16, 1]) of Values with the SVM loss.

Every weight is one ``Value``, as in micrograd's notebook, and the training
loop is the notebook's: a max-margin (hinge) loss with L2 regularisation,
full-batch SGD with the learning rate decaying from 1.0, until every training
point is on its side. Each neuron's weighted sum is one ``dot`` node (same
values and gradients as micrograd's chain of 2n nodes, built ~5x faster).
The pictures are the decision boundary and the graph of one neuron.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from autograd import Value
from demos._common import plot_decision_boundary, save_figure, save_graph

ALPHA = 1e-4  # L2 regularisation strength


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train until every training point is on its side; plot the boundary and draw one neuron."""
    points, steps = (60, 100) if quick else (100, 100)
    X, y = nn.data.make_moons(n_samples=points, noise=0.1, seed=1)
    y = 2.0 * y - 1.0  # labels -1 / +1 for the hinge loss
    nn.manual_seed(1)
    model = nn.scalar.MLP(2, [16, 16, 1])
    print(f"  {model.num_parameters()} Value parameters, {points} points, full-batch SGD")
    accuracy = train(model, X, y, steps)
    print(f"  final training accuracy {accuracy:.0%}")
    files = [
        plot_boundary(model, X, y, accuracy, output_dir / "moons_boundary.png", 25 if quick else 40),
        draw_neuron(model, X[0], output_dir / "moons_neuron"),
    ]
    return {"train_accuracy": accuracy, "files": files}


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, steps: int) -> float:
    """micrograd's loop: full-batch SGD, lr = 1.0 - 0.9 k / 100, stopping at 100%; returns the accuracy."""
    optimizer = nn.optim.SGD(model.parameters(), lr=1.0)
    for step in range(steps):
        loss, accuracy = svm_loss(model, X, y)
        if step % 10 == 0 or accuracy == 1.0:
            print(f"  step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")
        if accuracy == 1.0:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = 1.0 - 0.9 * step / 100
        optimizer.step()
    return accuracy


def svm_loss(model: nn.Module, X: np.ndarray, y: np.ndarray) -> tuple[Value, float]:
    """mean(max(0, 1 - y_i * score_i)) + ALPHA * sum(p^2), and the fraction with y_i * score_i > 0."""
    scores = [model(list(x)) for x in X]
    data_loss = nn.functional.hinge_loss(scores, y)
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    accuracy = float(np.mean([(yi > 0) == (score.data > 0) for yi, score in zip(y, scores, strict=True)]))
    return data_loss + reg_loss, accuracy


def draw_neuron(model: nn.Module, point: np.ndarray, path: Path) -> Path:
    """The graph of the first first-layer neuron that fires on ``point``, after its backward pass.

    One neuron is small enough to draw every node of; a firing one (ReLU
    output > 0) shows non-zero gradients flowing back to its weights.
    """
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(point)]
    firing = [n for n in model.layers[0].neurons if n(inputs).data > 0] or model.layers[0].neurons
    neuron = firing[0]
    out = neuron(inputs)
    out.label = "relu(w . x + b)"
    model.zero_grad()
    out.backward()
    return save_graph(out, path, params=neuron)


def plot_boundary(model: nn.Module, X: np.ndarray, y: np.ndarray, accuracy: float,
                  path: Path, steps: int) -> Path:
    import matplotlib.pyplot as plt

    def score(points: np.ndarray) -> np.ndarray:
        return np.array([model(list(p)).data for p in points])

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    plot_decision_boundary(ax, score, X, (y > 0).astype(int), steps=steps)
    ax.set_title(f"scalar MLP(2, [16, 16, 1]), hinge loss: {accuracy:.0%} train acc.", fontsize=10)
    return save_figure(fig, path)
