"""Digits: a Tensor MLP reads scikit-learn's 1,797 real 8x8 handwritten digits.

``nn.MLP(64, [256, 10])`` with cross-entropy and Adam, mini-batches through
``nn.fit``, 25% of the images held out. The pictures are the training curve
and a grid of the test digits it still gets wrong, each with its true and
predicted label. Training takes about a second, so quick mode is the full run.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import nn
from demos._common import plot_history, save_figure, split, standardize

EPOCHS = 30


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train, time the training, report test accuracy, plot the curve and the mistakes."""
    images, labels = nn.data.load_digits()
    (raw_train, y_train), (raw_test, y_test) = split(images, labels, test_fraction=0.25, seed=0)
    X_train, X_test = standardize(raw_train, raw_test)
    nn.manual_seed(0)
    model = nn.MLP(64, [256, 10])
    print(f"  {len(X_train)} training and {len(X_test)} test images; {model.num_parameters()} parameters")
    start = time.perf_counter()
    history = nn.fit(model, X_train, y_train, loss=nn.functional.cross_entropy,
                     optimizer=nn.optim.Adam(model.parameters(), lr=1e-3),
                     epochs=EPOCHS, batch_size=32, metrics=("accuracy",),
                     validation_data=(X_test, y_test), seed=0, progress=False)
    seconds = time.perf_counter() - start
    predicted = nn.predict(model, X_test).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    print(f"  trained in {seconds:.1f} s; test accuracy {accuracy:.2%} "
          f"({int(np.sum(predicted != y_test))} of {len(y_test)} wrong)")
    files = [
        plot_history(history, output_dir / "digits_training.png", "8x8 digits: MLP 64-256-10, Adam"),
        plot_mistakes(raw_test, y_test, predicted, output_dir / "digits_mistakes.png"),
    ]
    return {"test_accuracy": accuracy, "train_seconds": seconds, "files": files}


def plot_mistakes(raw_test: np.ndarray, y_test: np.ndarray, predicted: np.ndarray, path: Path) -> Path:
    """Up to 16 misclassified test digits, raw pixels, titled 'true -> predicted'."""
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(predicted != y_test)[:16]
    rows = max(1, -(-len(wrong) // 8))
    columns = max(1, -(-len(wrong) // rows))  # rows as full as they can be: 9 digits as 5 + 4
    fig, axes = plt.subplots(rows, columns, figsize=(columns, 1.3 * rows + 0.3), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, index in zip(axes.ravel(), wrong, strict=False):
        ax.imshow(raw_test[index].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{y_test[index]} -> {predicted[index]}", fontsize=9)
    fig.suptitle(f"the {len(wrong)} test digits it gets wrong (true -> predicted)")
    return save_figure(fig, path)
