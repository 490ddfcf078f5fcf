"""GradientMonitor: per-layer gradient norms during nn.fit, warnings for vanishing/exploding, a plot."""
from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pytest

import nn
from nn.callbacks import GradientMonitor

EPOCHS = 3


def deep_sigmoid_net() -> nn.Sequential:
    nn.manual_seed(0)
    layers = []
    for i in range(8):
        layers += [nn.Linear(8 if i == 0 else 16, 16), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(16, 1))


def data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    return X, (X[:, :1] > 0).astype(np.float32)


def train(model, monitor: GradientMonitor) -> None:
    nn.fit(model, *data(), loss="mse", optimizer="sgd", epochs=EPOCHS, batch_size=32, metrics=(),
           progress=False, callbacks=[monitor])


@pytest.fixture(scope="module")
def trained() -> tuple[GradientMonitor, list]:
    monitor = GradientMonitor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(deep_sigmoid_net(), monitor)
    return monitor, caught


def test_one_norm_per_layer_and_epoch(trained):
    monitor, _ = trained
    assert list(monitor.history) == [str(i) for i in range(0, 17, 2)]
    assert all(len(norms) == EPOCHS for norms in monitor.history.values())


def test_gradient_norms_shrink_toward_the_input_of_a_deep_sigmoid_net(trained):
    monitor, _ = trained
    first_epoch = [norms[0] for norms in monitor.history.values()]
    assert all(inner < outer for inner, outer in pairwise(first_epoch))


def test_vanishing_layers_warn_once_each(trained):
    monitor, caught = trained
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert any("'0' vanished" in m for m in messages)
    assert sum("'0' vanished" in m for m in messages) == 1
    assert monitor.warned["0"] == "vanishing" and "16" not in monitor.warned


def test_exploding_gradients_warn():
    monitor = GradientMonitor(exploding=1e-3)
    model = nn.Sequential(nn.Linear(8, 1))
    with pytest.warns(RuntimeWarning, match="'0' exploded"):
        train(model, monitor)


def test_per_parameter_keeps_each_parameter(trained):
    monitor = GradientMonitor(per="parameter")
    model = nn.Sequential(nn.Linear(8, 4), nn.Sigmoid(), nn.Linear(4, 1))
    train(model, monitor)
    assert list(monitor.history) == [name for name, _ in model.named_parameters()]


def test_plot_is_log_scale_and_saved(trained, tmp_path):
    monitor, _ = trained
    figure = monitor.plot(tmp_path / "norms.png")
    assert figure.axes[0].get_yscale() == "log"
    assert (tmp_path / "norms.png").read_bytes().startswith(b"\x89PNG")


def test_unknown_grouping_is_an_error():
    with pytest.raises(ValueError, match="per"):
        GradientMonitor(per="layer")
