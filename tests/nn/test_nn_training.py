"""fit / evaluate / predict, the callback protocol, and end-to-end training runs."""

import io
import sys
from functools import partial

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


# ------------------------------------------------------------ fit's defaults


def test_default_metrics_follow_the_loss():
    x, target = nn.data.linear_data(n=20, seed=0)
    nn.manual_seed(0)
    regression = nn.fit(nn.Linear(1, 1), x, target, epochs=2, verbose=0)  # mse on real numbers
    assert set(regression.history) == {"loss"}
    X, y = nn.data.xor()
    for loss in ("bce", nn.BCELoss(), F.binary_cross_entropy):
        assert set(nn.fit(xor_model(), X, y, loss=loss, verbose=0).history) == {"loss", "accuracy"}
    labels = np.array([0, 1, 1, 0])
    classes = nn.fit(nn.Linear(2, 2), X, labels, loss="cross_entropy", verbose=0)
    assert set(classes.history) == {"loss", "accuracy"}
    assert set(nn.evaluate(nn.Linear(1, 1), x, target)) == {"loss"}


def test_metrics_may_be_a_plain_string_or_one_function():
    X, y = nn.data.xor()
    assert set(nn.fit(xor_model(), X, y, metrics="accuracy", verbose=0).history) == {"loss", "accuracy"}

    def worst(output, target):
        return float(np.max(np.abs(output - target)))

    history = nn.fit(xor_model(), X, y, metrics=worst, verbose=0)
    assert set(history.history) == {"loss", "worst"}


def test_optimizer_class_is_made_with_its_defaults_over_the_models_parameters():
    model = xor_model()
    recorder = Recorder()
    nn.fit(model, *nn.data.xor(), optimizer=nn.optim.Adam, verbose=0, callbacks=[recorder])
    opt = recorder.optimizer
    assert type(opt) is nn.optim.Adam and opt.lr == 1e-3
    assert [id(p) for p in nn.training.optimizer_parameters(opt)] == [id(p) for p in model.parameters()]


def test_an_optimizer_over_another_models_parameters_is_refused_before_training():
    model, other = xor_model(), xor_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match="holds none of Sequential's parameters.*train nothing"):
        nn.fit(model, *nn.data.xor(), optimizer=nn.optim.SGD(other.parameters(), lr=0.1), verbose=0)
    assert_same_weights(model, before)


@pytest.mark.parametrize("batch_size", [0, -1, True, False, 2.5, "32"])
def test_batch_size_must_be_a_positive_integer_or_none(batch_size):
    X, y = nn.data.xor()
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        nn.fit(xor_model(), X, y, batch_size=batch_size, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        nn.predict(xor_model(), X, batch_size=batch_size)


def test_epochs_and_verbose_are_checked():
    X, y = nn.data.xor()
    with pytest.raises(ValueError, match="epochs must be an integer >= 0"):
        nn.fit(xor_model(), X, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="verbose must be 0"):
        nn.fit(xor_model(), X, y, verbose=3)
    assert nn.fit(xor_model(), X, y, epochs=0, verbose=0).epoch == []


def test_shuffling_draws_from_manual_seed_so_runs_are_bit_identical():
    X = np.random.default_rng(0).standard_normal((60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def run():
        nn.manual_seed(7)
        model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.Tanh(), nn.Linear(8, 2))
        history = nn.fit(model, X, y, loss="cross_entropy", epochs=3, batch_size=8, verbose=0)
        return history.history, model.state_dict()

    (first, weights), (second, again) = run(), run()
    assert first == second
    for name in weights:
        np.testing.assert_array_equal(weights[name], again[name])


# ------------------------------------------------------------- what History reports


def test_loss_with_reduction_sum_is_the_sum_over_the_epochs_samples():
    X, y = nn.data.xor()
    model = xor_model()
    expected = float(np.sum((model(X).data - y) ** 2))
    frozen = nn.optim.SGD(model.parameters(), lr=0.0)
    for loss in (nn.MSELoss(reduction="sum"), partial(F.mse_loss, reduction="sum")):
        history = nn.fit(model, X, y, loss=loss, optimizer=frozen, batch_size=3, shuffle=False, verbose=0)
        assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    mean = nn.fit(model, X, y, loss="mse", optimizer=frozen, batch_size=3, shuffle=False, verbose=0)
    assert mean.history["loss"][0] == pytest.approx(expected / 4, rel=1e-6)  # the short batch weighs 1 of 4


def test_a_loss_without_reduction_is_refused():
    with pytest.raises(ValueError, match="reduced to one number.*'none'"):
        nn.fit(xor_model(), *nn.data.xor(), loss=nn.MSELoss(reduction="none"), verbose=0)


# ------------------------------------------------------------- validation


def frozen_fit(model, X, y, **options):
    return nn.fit(model, X, y, loss="bce", optimizer=nn.optim.SGD(model.parameters(), lr=0.0), verbose=0,
                  **options)


def test_validation_split_holds_out_the_last_fraction_before_shuffling():
    X = np.random.default_rng(0).standard_normal((10, 2)).astype(np.float32)
    y = (np.arange(10) % 2).astype(np.float32)
    model = xor_model()
    split = frozen_fit(model, X, y, validation_split=0.3, epochs=2, seed=1)
    given = frozen_fit(model, X[:7], y[:7], validation_data=(X[7:], y[7:]), epochs=2, seed=1)
    assert split.history == given.history
    scores = nn.evaluate(model, X[7:], y[7:], loss="bce")
    assert split.history["val_loss"][0] == pytest.approx(scores["loss"])
    assert split.history["val_accuracy"][0] == scores["accuracy"]


def test_validation_given_both_ways_or_too_small_is_an_error():
    X, y = nn.data.xor()
    with pytest.raises(ValueError, match="validation_data or validation_split, not both"):
        nn.fit(xor_model(), X, y, validation_data=(X, y), validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="leaves an empty training or validation set"):
        nn.fit(xor_model(), X, y, validation_split=0.8, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\)"):
        nn.fit(xor_model(), X, y, validation_split=1.0, verbose=0)


@pytest.mark.parametrize("case", ["features", "columns", "class range", "sample count", "not a pair"])
def test_a_wrong_validation_set_is_refused_before_any_step(case):
    X, y = nn.data.xor()
    labels = np.array([0, 1, 1, 0])
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    loss, target, validation, match = {
        "features": ("cross_entropy", labels, (np.ones((4, 3)), labels), r"X has samples of shape \(3,\)"),
        "columns": ("mse", np.ones((4, 2)), (X, np.ones((4, 1))), r"y has samples of shape \(1,\)"),
        "class range": ("cross_entropy", labels, (X, np.array([0, 1, 2, 0])), "validation y .*class 2 is"),
        "sample count": ("cross_entropy", labels, (X, labels[:3]), "X has shape"),
        "not a pair": ("cross_entropy", labels, (X, labels, labels), "must be a pair"),
    }[case]
    before = model.state_dict()
    with pytest.raises(ValueError, match=match):
        nn.fit(model, X, target, loss=loss, validation_data=validation, verbose=0)
    assert_same_weights(model, before)


def test_training_labels_out_of_range_are_refused_before_any_step():
    nn.manual_seed(0)
    model = nn.Linear(2, 3)
    before = model.state_dict()
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="class 3 is out of range for 3 classes"):
        nn.fit(model, X, np.array([0, 1, 2, 0, 3]), loss="cross_entropy", batch_size=1, verbose=0)
    assert_same_weights(model, before)


# ------------------------------------------------------------- what fit prints


def test_verbose_0_prints_nothing(capsys):
    nn.fit(xor_model(), *nn.data.xor(), epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("options", [{"verbose": 1}, {"verbose": 2}, {"progress": True}])
def test_output_that_is_not_a_terminal_gets_one_plain_line_per_epoch(capsys, options):
    X, y = nn.data.xor()
    nn.fit(xor_model(), X, y, epochs=3, batch_size=1, validation_data=(X, y), metrics="accuracy", **options)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "\r" not in out and err == ""
    assert len(lines) == 3
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"Epoch {epoch}/3  loss ") and line.endswith("s")
        for name in ("accuracy", "val_loss", "val_accuracy"):
            assert f"  {name} " in line


def test_progress_false_is_verbose_0(capsys):
    nn.fit(xor_model(), *nn.data.xor(), epochs=2, progress=False)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="not both"):
        nn.fit(xor_model(), *nn.data.xor(), verbose=2, progress=False)


def test_empty_data_is_refused_and_predict_of_no_samples_is_empty():
    with pytest.raises(ValueError, match="at least one"):
        nn.fit(xor_model(), np.zeros((0, 2)), np.zeros((0, 1)), verbose=0)
    assert nn.predict(xor_model(), np.zeros((0, 2))).shape == (0, 1)


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("columns", [80, 50])
def test_in_a_terminal_a_live_bar_per_epoch_leaves_a_line_that_fits_the_width(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    X, y = nn.data.xor()
    nn.fit(xor_model(), X, y, epochs=12, batch_size=1, validation_data=(X, y), metrics="accuracy")
    assert "\r" in terminal.getvalue()  # the bar was drawn, then overwritten
    screen = render(terminal.getvalue())
    epochs = [line for line in screen if line.startswith("Epoch")]
    assert [line[:11] for line in epochs] == [f"Epoch {e:>2}/12" for e in range(1, 13)]
    assert all(len(line) < columns for line in screen)
    assert "\n".join(screen).count(" val_accuracy ") == 12  # every figure shown, none cut off
    assert len(screen) == 12 if columns == 80 else len(screen) > 12  # at 50 columns, wrapped


def test_verbose_2_in_a_terminal_writes_plain_lines_only(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    nn.fit(xor_model(), *nn.data.xor(), epochs=3, batch_size=1, verbose=2)
    assert "\r" not in terminal.getvalue() and len(terminal.getvalue().splitlines()) == 3


def render(output):
    """What a terminal shows: each line's text after its last carriage return (the bar's redraws)."""
    shown = [line.rsplit("\r", 1)[-1].rstrip() for line in output.split("\n")]
    return [line for line in shown if line]


def test_figures_are_printed_with_four_decimals_or_in_e_notation():
    from nn.training import format_figure, wrap

    assert [format_figure(v) for v in (0.25, 0.0, 12.0, 1e-5, 3e7, float("nan"))] == [
        "0.2500", "0.0000", "12.0000", "1.0000e-05", "3.0000e+07", "nan"]
    assert wrap(["Epoch 1/2", "aaaa", "bbbb"], "  ", 20) == "Epoch 1/2  aaaa\n           bbbb"
    assert wrap(["Epoch 1/2", "aaaa", "bbbb"], "  ", None) == "Epoch 1/2  aaaa  bbbb"


def test_the_bar_is_tqdms_widget_in_jupyter_its_text_bar_in_a_terminal_and_none_elsewhere(monkeypatch):
    from nn import training

    assert training.bar_class(io.StringIO()) is None
    assert training.bar_class(Terminal()).__module__ == "tqdm.std"
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(training, "in_notebook", lambda: True)
    assert training.bar_class(io.StringIO()).__module__ == "tqdm.notebook"
