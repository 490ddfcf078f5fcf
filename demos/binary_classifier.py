"""Binary classifier: the Keras-style Sequential on scikit-learn's breast-cancer set, via nn.fit.

``Sequential(Linear 64, ReLU, Linear 64, ReLU, Linear 1, Sigmoid)``, Adam and
binary cross-entropy, on 569 real tumour measurements (30 features each),
standardized with the training split's mean and spread. The picture is the
training curve: loss and accuracy on the training and held-out data per epoch.
(Held-out accuracy depends on which 114 tumours are held out: 95.6-98.2% over
eight random splits; this one gives 98.2%.)
"""
from __future__ import annotations

from pathlib import Path

import nn
from demos._common import plot_history, split, standardize


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train with ``nn.fit`` on 80% of the data; report accuracy on the other 20%."""
    X, y = nn.data.load_breast_cancer()
    (X_train, y_train), (X_test, y_test) = split(X, y, test_fraction=0.2, seed=2)
    X_train, X_test = standardize(X_train, X_test)
    nn.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(X.shape[1], 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 1), nn.Sigmoid(),
    )
    print(f"  {len(X_train)} training and {len(X_test)} test tumours, {X.shape[1]} features\n{model}")
    history = nn.fit(model, X_train, y_train, loss=nn.functional.binary_cross_entropy,
                     optimizer=nn.optim.Adam(model.parameters(), lr=1e-3),
                     epochs=10 if quick else 20, batch_size=32, metrics=("accuracy",),
                     validation_data=(X_test, y_test), seed=0, progress=False)
    test = nn.evaluate(model, X_test, y_test, loss=nn.functional.binary_cross_entropy,
                       metrics=("accuracy",))
    print(f"  test accuracy {test['accuracy']:.1%}, test loss {test['loss']:.4f}")
    figure = plot_history(history, output_dir / "binary_classifier.png",
                          "breast cancer: Sequential(30-64-64-1), Adam, binary cross-entropy")
    return {"test_accuracy": test["accuracy"], "files": [figure]}
