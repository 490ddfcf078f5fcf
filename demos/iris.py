"""Iris: softmax regression and a small MLP on Fisher's 150 flowers, with confusion matrices.

Softmax regression is one Linear layer trained with cross-entropy (the
log-softmax is inside the loss); the MLP adds a hidden layer. Both train with
``nn.fit`` on 70% of the flowers and are scored on the other 30%; the picture
shows each model's confusion matrix on the test flowers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from demos._common import confusion_matrix, plot_confusion, save_figure, split, standardize

SPECIES = ("setosa", "versicolor", "virginica")


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train both models; print test accuracy and the confusion matrices; plot them."""
    X, y = nn.data.load_iris()
    (X_train, y_train), (X_test, y_test) = split(X, y, test_fraction=0.3, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    models = {
        "softmax regression": lambda: nn.Linear(4, 3),
        "MLP 4-16-3": lambda: nn.MLP(4, [16, 3]),
    }
    results, matrices = {}, {}
    for name, build in models.items():
        nn.manual_seed(0)
        model = build()
        nn.fit(model, X_train, y_train, loss=nn.functional.cross_entropy,
               optimizer=nn.optim.Adam(model.parameters(), lr=0.02),
               epochs=60 if quick else 100, batch_size=16, seed=0, progress=False)
        predicted = nn.predict(model, X_test).argmax(axis=1)
        results[name] = float(np.mean(predicted == y_test))
        matrices[name] = confusion_matrix(y_test, predicted, len(SPECIES))
        print(f"  {name}: test accuracy {results[name]:.1%}\n{_indent(matrices[name])}")
    figure = plot_matrices(matrices, results, output_dir / "iris_confusion.png")
    return {"test_accuracy": results, "confusion": matrices, "files": [figure]}


def _indent(matrix: np.ndarray) -> str:
    return "\n".join("    " + line for line in str(matrix).splitlines())


def plot_matrices(matrices: dict[str, np.ndarray], accuracy: dict[str, float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 3.8))
    for ax, (name, matrix) in zip(axes, matrices.items(), strict=True):
        plot_confusion(ax, matrix, SPECIES, f"{name}: {accuracy[name]:.1%} on test")
    return save_figure(fig, path)
