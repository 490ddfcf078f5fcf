"""Quickstart: a Tensor MLP learns two moons in a few seconds; boundary and graph written.

The headline demo (``python -m demos``). ``nn.MLP(2, [16, 16, 1])`` on 300
noisy points (a fifth held out), binary cross-entropy on the logits, Adam,
``nn.fit`` with a progress bar. Then the learned decision boundary as a PNG,
and the graph of one small batch's forward pass and loss, after its backward
pass: an SVG (parameters named, each layer boxed) and the explorer page
(moons_explorer.html: zoom, click a weight for its numbers and its path to
the loss, step through the backward pass).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from autograd import Tensor
from autograd.viz import save_html
from autograd.viz.render import find_program
from demos._common import plot_decision_boundary, save_figure, save_graph


def run(output_dir: Path, quick: bool = False) -> dict:
    """Fit the MLP; report train and held-out accuracy; write moons_boundary.png, moons_graph.svg and
    moons_explorer.html."""
    X, y = nn.data.make_moons(n_samples=300, noise=0.2, seed=0)
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_size=0.2, seed=0)
    nn.manual_seed(0)
    model = nn.MLP(2, [16, 16, 1])
    print(f"{model}\n  {model.num_parameters()} parameters; {len(X_train)} training points, "
          f"{len(X_test)} held out")
    loss = nn.functional.binary_cross_entropy_with_logits
    history = nn.fit(model, X_train, y_train, loss=loss, optimizer=nn.optim.Adam(model.parameters(), lr=0.02),
                     epochs=60 if quick else 100, batch_size=32, validation_data=(X_test, y_test), seed=0)
    train_accuracy, test_accuracy = history.history["accuracy"][-1], history.history["val_accuracy"][-1]
    print(f"  training accuracy {train_accuracy:.1%}, held-out accuracy {test_accuracy:.1%}")
    batch_loss = loss(model(Tensor(X[:4])), y[:4].reshape(-1, 1))
    batch_loss.backward()
    files = [
        plot_boundary(model, X, y, test_accuracy, output_dir / "moons_boundary.png"),
        save_graph(batch_loss, output_dir / "moons_graph", params=model),
    ]
    if find_program():
        files.append(save_html(batch_loss, output_dir / "moons_explorer.html", params=model,
                               color_by_grad=True, title="nn.MLP(2, [16, 16, 1]): one batch's loss"))
        print(f"  wrote {files[-1]}: open it in a browser")
    return {"train_accuracy": train_accuracy, "test_accuracy": test_accuracy, "files": files}


def plot_boundary(model: nn.Module, X: np.ndarray, y: np.ndarray, accuracy: float, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    plot_decision_boundary(ax, lambda points: nn.predict(model, points).reshape(-1), X, y)
    ax.set_title(f"nn.MLP(2, [16, 16, 1]) on two moons: {accuracy:.1%} held-out accuracy", fontsize=10)
    return save_figure(fig, path)
