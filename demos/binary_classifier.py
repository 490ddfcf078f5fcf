"""Binary classifier: the seeds' Keras program line for line on chaingrad, on real tumour data.

Keras's ``Sequential([Dense(64, relu), Dense(64, relu), Dense(1, sigmoid)])``,
``compile(optimizer="adam", loss="binary_crossentropy")``, ``fit(epochs=10,
batch_size=32)`` and ``evaluate`` become ``nn.Sequential(Linear 64, ReLU,
Linear 64, ReLU, Linear 1, Sigmoid)``, ``nn.fit(..., optimizer=nn.optim.Adam,
loss="binary_crossentropy", epochs=10, batch_size=32)`` and ``nn.evaluate``,
with ``nn.summary``, ``EarlyStopping`` and a ``CSVLogger``. The data: 569
breast-cancer tumours (30 features), 20% held out for the test, standardized
with the training split's mean and spread; fit holds out the last 20% of the
training split to watch for over-fitting. The picture is the training curve.
"""
from __future__ import annotations

from pathlib import Path

import nn
from demos._common import plot_history, split, standardize
from nn.callbacks import CSVLogger, EarlyStopping


def run(output_dir: Path, quick: bool = False) -> dict:
    """Train with ``nn.fit`` on 80% of the data; report accuracy on the other 20%."""
    X, y = nn.data.load_breast_cancer()
    (X_train, y_train), (X_test, y_test) = split(X, y, test_fraction=0.2, seed=2)
    X_train, X_test = standardize(X_train, X_test)
    print(f"  {len(X_train)} training and {len(X_test)} test tumours, {X.shape[1]} features")
    nn.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(X.shape[1], 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
        nn.Linear(64, 1), nn.Sigmoid(),
    )
    nn.summary(model, (1, X.shape[1]))
    log = output_dir / "binary_classifier_log.csv"
    stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = nn.fit(model, X_train, y_train, loss="binary_crossentropy", optimizer=nn.optim.Adam,
                     metrics="accuracy", epochs=10 if quick else 40, batch_size=32, validation_split=0.2,
                     callbacks=[stop, CSVLogger(log)])
    title = "breast cancer: Sequential(30-64-64-1), Adam, binary cross-entropy"
    if stop.stopped_epoch is not None:
        print(f"  stopped early after epoch {stop.stopped_epoch + 1}; kept the weights of epoch "
              f"{stop.best_epoch + 1}")
        title += (f"\nEarlyStopping: stopped after epoch {stop.stopped_epoch + 1}, kept epoch "
                  f"{stop.best_epoch + 1}")
    test = nn.evaluate(model, X_test, y_test, loss="binary_crossentropy", metrics="accuracy")
    print(f"  test accuracy {test['accuracy']:.1%}, test loss {test['loss']:.4f}; per-epoch log in {log}")
    figure = plot_history(history, output_dir / "binary_classifier.png", title)
    return {"test_accuracy": test["accuracy"], "epochs": len(history.epoch), "log": log, "files": [figure]}
