"""fit / evaluate / predict, the callback protocol, and end-to-end training runs."""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor
from nn.training import accuracy


def assert_same_weights(model, state):
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)


def xor_model():
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())


# ---------------------------------------------------------------- end to end


def test_xor_2_4_1_sigmoid_net_reaches_mse_below_001_with_a_plain_loop():
    model = xor_model()
    X, y = nn.data.xor()
    opt = nn.optim.SGD(model.parameters(), lr=5.0, momentum=0.9)
    for _ in range(500):
        loss = F.mse_loss(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.01
    np.testing.assert_array_equal(model(X).data > 0.5, y > 0.5)


def test_xor_with_fit_reaches_mse_below_001():
    model = xor_model()
    X, y = nn.data.xor()
    opt = nn.optim.SGD(model.parameters(), lr=5.0, momentum=0.9)
    history = nn.fit(model, X, y, loss="mse", optimizer=opt, epochs=500, batch_size=None, metrics="accuracy",
                     verbose=0)
    assert history.history["loss"][-1] < 0.01 and history.history["accuracy"][-1] == 1.0


def test_tensor_mlp_classifies_held_out_blobs_above_95_percent():
    pytest.importorskip("sklearn")
    X, y = nn.data.make_blobs(400, centers=3, cluster_std=1.0, seed=0)
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, seed=0)
    nn.manual_seed(0)
    model = nn.MLP(2, [16, 3])
    opt = nn.optim.Adam(model.parameters(), lr=0.02)
    nn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=opt, epochs=20, batch_size=32, seed=0,
           verbose=0)
    assert nn.evaluate(model, X_test, y_test, loss="cross_entropy")["accuracy"] > 0.95


def test_scalar_mlp_separates_the_moons_like_micrograd():
    """micrograd's demo: 100 moons, MLP(2, [16, 16, 1]), SVM loss, SGD with a decaying rate."""
    pytest.importorskip("sklearn")
    nn.manual_seed(0)
    X, y = nn.data.make_moons(100, noise=0.1, seed=1)
    y = 2 * y - 1
    model = nn.scalar.MLP(2, [16, 16, 1])
    opt = nn.optim.SGD(model.parameters(), lr=1.0, weight_decay=2e-4)  # micrograd's 1e-4 * sum(p**2)
    rows = X.tolist()
    for step in range(60):
        scores = [model(row) for row in rows]
        correct = np.mean([(s.data > 0) == (label > 0) for s, label in zip(scores, y, strict=True)])
        if correct == 1.0:
            break
        loss = F.hinge_loss(scores, y)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * step / 100
        opt.step()
    assert correct == 1.0


def test_linear_regression_fit_recovers_slope_and_intercept():
    x, y = nn.data.linear_data(n=200, seed=0)
    nn.manual_seed(0)
    model = nn.Linear(1, 1)
    nn.fit(model, x, y, loss="mse", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=300,
           batch_size=None, metrics=(), verbose=0)
    slope, intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    assert model.weight.item() == pytest.approx(slope, abs=0.05)
    assert model.bias.item() == pytest.approx(intercept, abs=0.05)


# --------------------------------------------------------------------- fit


class Recorder(nn.Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, model, optimizer):
        self.calls.append(("begin", type(optimizer).__name__, self.model is model, self.params["steps"]))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch begin", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("batch", batch))

    def on_after_backward(self, model):
        self.calls.append(("backward", all(p.grad is not None for p in model.parameters())))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch end", batch, sorted(logs)))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch", epoch, sorted(logs)))

    def on_train_end(self, history):
        self.calls.append(("end", len(history.epoch)))


def test_callbacks_are_called_in_keras_order_with_fresh_gradients():
    X, y = nn.data.xor()
    recorder = Recorder()
    nn.fit(xor_model(), X, y, optimizer="sgd", epochs=2, batch_size=2, validation_data=(X, y),
           metrics="accuracy", verbose=0, callbacks=[recorder])
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    batch = [("backward", True)]
    assert recorder.calls == [
        ("begin", "SGD", True, 2),
        ("epoch begin", 0), ("batch", 0), *batch, ("batch end", 0, ["loss", "size"]),
        ("batch", 1), *batch, ("batch end", 1, ["loss", "size"]), ("epoch", 0, keys),
        ("epoch begin", 1), ("batch", 0), *batch, ("batch end", 0, ["loss", "size"]),
        ("batch", 1), *batch, ("batch end", 1, ["loss", "size"]), ("epoch", 1, keys),
        ("end", 2),
    ]


def test_base_callback_methods_do_nothing():
    callback = nn.Callback()
    assert callback.on_train_begin(None, None) is None and callback.on_epoch_end(0, {}) is None
    assert callback.on_batch_begin(0) is None and callback.on_batch_end(0, {}) is None


def test_callbacks_must_be_callback_instances():
    with pytest.raises(TypeError, match="nn.Callback instances, got function"):
        nn.fit(xor_model(), *nn.data.xor(), verbose=0, callbacks=[lambda: None])


def test_history_keeps_per_epoch_figures_like_keras():
    X, y = nn.data.xor()
    history = nn.fit(xor_model(), X, y, epochs=3, validation_data=(X, y), metrics=("accuracy", "mae"),
                     verbose=0)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae"}
    assert all(len(v) == 3 for v in history.history.values())


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    X, y = nn.data.xor()
    model = xor_model()
    expected = np.mean([F.mse_loss(model(X[i : i + 1]), y[i : i + 1]).item() for i in range(3)] +
                       [F.mse_loss(model(X[3:]), y[3:]).item()])
    history = nn.fit(model, X, y, optimizer=nn.optim.SGD(model.parameters(), lr=0.0), batch_size=3,
                     shuffle=False, progress=False, metrics=())
    assert history.history["loss"][0] == pytest.approx(expected)


def test_fit_is_deterministic_given_seeds():
    X, y = nn.data.xor()
    fit = lambda: nn.fit(xor_model(), X, y, epochs=3, batch_size=2, seed=4, verbose=0)
    assert fit().history == fit().history


def test_fit_accepts_loss_modules_and_functions():
    X, y = nn.data.xor()
    for loss in (nn.BCELoss(), F.binary_cross_entropy, "binary_crossentropy"):
        history = nn.fit(xor_model(), X, y, loss=loss, epochs=1, verbose=0)
        assert history.history["loss"][0] > 0


def test_unknown_names_are_errors_listing_the_choices():
    X, y = nn.data.xor()
    with pytest.raises(ValueError, match="unknown loss 'l2'.*'mse'"):
        nn.fit(xor_model(), X, y, loss="l2", verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'"):
        nn.fit(xor_model(), X, y, optimizer="adagrad", verbose=0)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        nn.fit(xor_model(), X, y, metrics=("f1",), verbose=0)


def test_accuracy_asked_for_on_regression_targets_explains_itself_before_training():
    x, y = nn.data.linear_data(n=10, seed=0)
    nn.manual_seed(0)
    model = nn.Linear(1, 1)
    before = model.state_dict()
    with pytest.raises(ValueError, match="pass metrics=\\(\\)"):
        nn.fit(model, x, y, metrics="accuracy", verbose=0)
    assert_same_weights(model, before)


# ------------------------------------------------------ evaluate, predict


def test_evaluate_reports_loss_and_accuracy_of_the_whole_set():
    model = xor_model()
    X, y = nn.data.xor()
    scores = nn.evaluate(model, X, y, loss="mse", metrics="accuracy")
    output = model(X).data
    assert scores["loss"] == pytest.approx(np.mean((output - y) ** 2))
    assert scores["accuracy"] == np.mean((output > 0.5) == y)


def test_predict_runs_in_eval_mode_without_a_graph_and_restores_the_mode():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 50), nn.Dropout(0.5), nn.Linear(50, 2))
    X = np.random.default_rng(0).standard_normal((7, 3))
    first, second = nn.predict(model, X), nn.predict(model, X, batch_size=3)
    assert isinstance(first, np.ndarray) and first.shape == (7, 2)
    np.testing.assert_allclose(first, second, rtol=1e-6)  # no dropout noise
    assert all(m.training for m in model.modules())


def test_accuracy_rules_for_probabilities_logits_signs_and_classes():
    labels = np.array([0, 1, 1, 0])
    assert accuracy(np.array([[0.2], [0.7], [0.4], [0.1]]), labels) == 0.75
    assert accuracy(np.array([[-2.0], [0.3], [1.0], [-0.1]]), labels, threshold=0.0) == 1.0
    assert accuracy(np.array([0.5, -0.5]), np.array([1, -1]), threshold=0.0) == 1.0
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([[0, 1], [0, 1]])) == 0.5


def test_logit_losses_threshold_accuracy_at_zero():
    nn.manual_seed(0)
    model = nn.Linear(2, 1)
    X, y = nn.data.and_gate()
    output = model(X).data
    for loss in ("bce_with_logits", nn.BCEWithLogitsLoss()):
        assert nn.evaluate(model, X, y, loss=loss)["accuracy"] == np.mean((output > 0) == y)
    labels = 2 * y - 1
    expected = np.mean(np.where(output > 0, 1, -1) == labels)
    assert nn.evaluate(model, X, labels, loss="hinge")["accuracy"] == expected


def test_scalar_networks_are_refused_with_a_pointer_to_the_plain_loop():
    with pytest.raises(TypeError, match="made of Values; train an nn.scalar network with a plain loop"):
        nn.predict(nn.scalar.MLP(2, [1]), np.zeros((1, 2)))


def test_predict_casts_inputs_to_the_model_dtype():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    assert nn.predict(model, np.ones((2, 2, 2))).dtype == np.float32
    assert model(Tensor(np.ones((2, 2, 2), dtype=np.float32))).shape == (2, 1)
