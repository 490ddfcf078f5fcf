"""AND and the classic exercises: hidden size 3 vs 5, ReLU vs tanh, and a 3-class softmax output.

A 2-3-1 network (ReLU hidden layer, sigmoid output, MSE loss) learns the AND
gate; then the exercises every course sets after it, each a one-line change to
the model: more hidden units, another activation, and the same inputs sorted
into three classes (how many inputs are on) with a softmax and cross-entropy.
Every variant trains with ``nn.fit``; one plot compares their loss curves.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from demos._common import plot_losses, print_table, save_figure

EPOCHS = 300


def gate_net(hidden: int, activation: type[nn.Module], outputs: int = 1) -> nn.Module:
    """2 inputs -> ``hidden`` units -> ``outputs``; one sigmoid output, or raw logits for several."""
    head = [nn.Sigmoid()] if outputs == 1 else []
    return nn.Sequential(nn.Linear(2, hidden), activation(), nn.Linear(hidden, outputs), *head)


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train the AND net and the variants; print their predictions; plot all loss curves."""
    X, y = nn.data.and_gate()
    ones = X.sum(axis=1).astype(np.int64)  # 0, 1 or 2 inputs on: the 3-class exercise
    variants = {  # name: (hidden units, activation, outputs, targets, loss)
        "AND 2-3-1 ReLU": (3, nn.ReLU, 1, y, nn.functional.mse_loss),
        "AND 2-5-1 ReLU": (5, nn.ReLU, 1, y, nn.functional.mse_loss),
        "AND 2-3-1 tanh": (3, nn.Tanh, 1, y, nn.functional.mse_loss),
        "count 2-5-3 softmax": (5, nn.ReLU, 3, ones, nn.functional.cross_entropy),
    }
    curves, rows, solved = {}, [], {}
    for name, (hidden, activation, width, target, loss) in variants.items():
        nn.manual_seed(0)
        model = gate_net(hidden, activation, width)
        history = nn.fit(model, X, target, loss=loss, optimizer=nn.optim.Adam(model.parameters(), lr=0.05),
                         epochs=EPOCHS, batch_size=len(X), seed=0, progress=False)
        curves[name] = history.history["loss"]
        predicted = predict(model, X)
        solved[name] = bool(np.array_equal(predicted, target.reshape(-1)))
        rows.append((name, curves[name][-1], " ".join(f"{p:g}" for p in predicted)))
    print_table(("variant", "final loss", "prediction for (0,0) (0,1) (1,0) (1,1)"), rows)
    figure = plot_comparison(curves, output_dir / "and_gate_exercises.png")
    return {"and_solved": solved["AND 2-3-1 ReLU"], "solved": solved,
            "final_loss": {name: c[-1] for name, c in curves.items()}, "files": [figure]}


def predict(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """The class each input gets: output > 0.5 for one sigmoid, argmax for several logits."""
    out = nn.predict(model, X)
    return (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)


def plot_comparison(curves: dict[str, list[float]], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    plot_losses(ax, curves)
    ax.set_ylabel("loss (MSE; cross-entropy for softmax)")
    ax.set_title("AND and its exercises: loss per epoch (Adam, lr 0.05)")
    return save_figure(fig, path)
