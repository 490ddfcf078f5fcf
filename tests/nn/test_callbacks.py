"""nn.callbacks: each Keras callback's behaviour inside nn.fit, and GradientMonitor's neighbours."""

import csv
import math

import numpy as np
import pytest

import nn
import nn.functional as F
from nn.callbacks import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    set_learning_rate,
)


def xor_model():
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())


class Script(nn.Callback):
    """Overwrites a logged figure with scripted values, so the callbacks after it see them."""

    def __init__(self, name, values):
        self.name, self.values = name, values

    def on_epoch_end(self, epoch, logs):
        logs[self.name] = self.values[epoch]


class Snapshots(nn.Callback):
    """The model's weights at the end of each epoch."""

    def __init__(self):
        self.states = []

    def on_epoch_end(self, epoch, logs):
        self.states.append(self.model.state_dict())


def train(callbacks, epochs=10, lr=0.1, **options):
    model = xor_model()
    X, y = nn.data.xor()
    optimizer = nn.optim.SGD(model.parameters(), lr=lr)
    history = nn.fit(model, X, y, loss="bce", optimizer=optimizer, epochs=epochs, batch_size=2, verbose=0,
                     callbacks=callbacks, **options)
    return model, history


def assert_weights_equal(model, state):
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)


# ------------------------------------------------------------- EarlyStopping


def test_early_stopping_stops_after_patience_epochs_without_improvement_and_keeps_history():
    stop = EarlyStopping(monitor="loss", patience=2)
    _, history = train([Script("loss", [5, 4, 4.5, 4.2, 3, 2, 1, 0, 0, 0]), stop])
    assert history.epoch == [0, 1, 2, 3]
    assert history.history["loss"] == [5, 4, 4.5, 4.2]
    assert all(len(values) == 4 for values in history.history.values())
    assert (stop.stopped_epoch, stop.best_epoch) == (3, 1)


def test_early_stopping_counts_changes_below_min_delta_as_no_improvement():
    stop = EarlyStopping(monitor="loss", patience=1, min_delta=0.1)
    _, history = train([Script("loss", [5, 4.95, 4.0, 3.0]), stop])
    assert history.epoch == [0, 1]


def test_early_stopping_on_accuracy_watches_it_rise():
    stop = EarlyStopping(monitor="accuracy", patience=1)
    _, history = train([Script("accuracy", [0.5, 0.75, 0.75, 1.0]), stop])
    assert history.epoch == [0, 1, 2] and stop.best_epoch == 1
    mode_min = EarlyStopping(monitor="accuracy", patience=1, mode="min")
    assert train([Script("accuracy", [0.5, 0.75, 0.75]), mode_min])[1].epoch == [0, 1]


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    snapshots = Snapshots()
    stop = EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    model, history = train([Script("loss", [3, 1, 2, 2, 2]), snapshots, stop])
    assert history.epoch == [0, 1, 2, 3] and stop.best_epoch == 1
    assert_weights_equal(model, snapshots.states[1])
    assert not np.array_equal(snapshots.states[1]["0.weight"], snapshots.states[3]["0.weight"])


def test_early_stopping_restores_the_best_weights_also_when_training_runs_out():
    snapshots = Snapshots()
    stop = EarlyStopping("loss", patience=5, restore_best_weights=True)
    model, _ = train([Script("loss", [3, 1, 2]), snapshots, stop], epochs=3)
    assert_weights_equal(model, snapshots.states[1])


def test_a_monitored_figure_fit_does_not_log_is_refused_before_training():
    model = xor_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match="monitors 'val_loss'.*pass validation_data= or validation_split="):
        nn.fit(model, *nn.data.xor(), loss="bce", verbose=0, callbacks=[EarlyStopping()])
    assert_weights_equal(model, before)
    with pytest.raises(ValueError, match="cannot tell whether 'f1' should rise or fall"):
        EarlyStopping(monitor="f1")
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")


def test_early_stopping_on_validation_loss_with_a_split():
    _, history = train([EarlyStopping(patience=0)], epochs=50, lr=0.0, validation_split=0.5)
    assert history.epoch == [0, 1]  # nothing changes, so the second epoch is no improvement


# ---------------------------------------------------------- ModelCheckpoint


def test_checkpoint_saves_every_epoch_to_a_path_named_by_its_logs(tmp_path):
    snapshots = Snapshots()
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}.npz")
    model, history = train([snapshots, checkpoint], epochs=3)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"ckpt-{e + 1:02d}-{history.history['loss'][e]:.3f}.npz" for e in range(3)]
    for epoch, name in enumerate(files):
        assert_weights_equal(nn.load(xor_model(), tmp_path / name), snapshots.states[epoch])


def test_checkpoint_with_save_best_only_keeps_the_best_epoch(tmp_path):
    snapshots = Snapshots()
    path = tmp_path / "best.npz"
    train([Script("loss", [3, 1, 2, 1.5]), snapshots, ModelCheckpoint(path, "loss", save_best_only=True)],
          epochs=4)
    assert_weights_equal(nn.load(xor_model(), path), snapshots.states[1])
    assert [p.name for p in tmp_path.iterdir()] == ["best.npz"]


def test_a_checkpoint_failing_half_way_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    model, _ = train([ModelCheckpoint(path, "loss")], epochs=1)
    previous = path.read_bytes()

    def broken_save(model, target):
        with open(target, "wb") as f:
            f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(nn.callbacks, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        train([ModelCheckpoint(path, "loss")], epochs=1)
    assert path.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind
    assert_weights_equal(nn.load(xor_model(), path), model.state_dict())


def test_a_checkpoint_path_that_cannot_be_written_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="names 'val_loss' that fit does not log"):
        train([ModelCheckpoint(tmp_path / "{val_loss:.2f}.npz", monitor="loss")])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train([ModelCheckpoint(tmp_path / "missing" / "model.npz", monitor="loss")])
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------- CSVLogger


def test_csv_logger_writes_one_row_per_epoch_with_the_history_figures(tmp_path):
    path = tmp_path / "log.csv"
    _, history = train([CSVLogger(path)], epochs=3, validation_split=0.5)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    for name, values in history.history.items():
        assert [float(row[name]) for row in rows] == values


def test_csv_logger_starts_afresh_or_appends(tmp_path):
    path = tmp_path / "log.csv"
    train([CSVLogger(path)], epochs=2)
    train([CSVLogger(path)], epochs=2)
    assert len(path.read_text().splitlines()) == 3
    train([CSVLogger(path, append=True)], epochs=2)
    lines = path.read_text().splitlines()
    assert len(lines) == 5 and lines.count(lines[0]) == 1


# ----------------------------------------------------------- TerminateOnNaN


def test_terminate_on_nan_stops_after_the_first_nan_batch_and_records_its_epoch(capsys):
    calls = []

    def poisoned(output, target):
        calls.append(1)
        loss = F.binary_cross_entropy(output, target)
        return loss * float("nan") if len(calls) == 6 else loss

    model = xor_model()
    history = nn.fit(model, *nn.data.xor(), loss=poisoned, epochs=5, batch_size=1, verbose=0,
                     callbacks=[TerminateOnNaN()])
    assert len(calls) == 6  # fit's check before training, 4 batches, then the first of epoch 1
    assert history.epoch == [0, 1] and math.isnan(history.history["loss"][1])
    assert "Batch 0: invalid loss nan" in capsys.readouterr().out


# -------------------------------------------------------- learning rates


def test_reduce_lr_on_plateau_multiplies_the_rate_after_patience_epochs():
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_lr=0.02)
    model, history = train([Script("loss", [1.0] * 7), reduce], epochs=7, lr=0.1)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert reduce.optimizer.lr == pytest.approx(0.02)  # never below min_lr


def test_reduce_lr_on_plateau_waits_out_its_cooldown_and_resets_on_improvement():
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2)
    _, history = train([Script("loss", [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]), reduce], epochs=7, lr=0.1)
    # reduced after epochs 1 and 3 (2 is cooldown), not 4 (cooldown) nor 5 (improved), again after 6
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025])
    assert reduce.optimizer.lr == pytest.approx(0.0125)


def test_learning_rates_change_in_every_parameter_group_when_there_are_groups():
    class Grouped:
        def __init__(self):
            self.param_groups = [{"lr": 0.1, "params": []}, {"lr": 0.01, "params": []}]

    optimizer = Grouped()
    set_learning_rate(optimizer, lambda lr: lr / 2)
    assert [group["lr"] for group in optimizer.param_groups] == [0.05, 0.005]
    assert nn.callbacks.learning_rate(optimizer) == 0.05


def test_learning_rate_scheduler_sets_the_rate_the_steps_use():
    scheduler = LearningRateScheduler(lambda epoch, lr: 0.0 if epoch >= 1 else lr)
    snapshots = Snapshots()
    _, history = train([scheduler, snapshots], epochs=3, lr=0.1)
    assert history.history["learning_rate"] == [0.1, 0.0, 0.0]
    weights = [state["0.weight"] for state in snapshots.states]
    unchanged = [np.array_equal(a, b) for a, b in zip(weights, weights[1:], strict=False)]
    assert unchanged == [True, True]  # lr 0 from epoch 1 on: no step changes a weight after epoch 0
    one_argument = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    assert train([one_argument], epochs=2)[1].history["learning_rate"] == [0.1, 0.05]


def test_learning_rate_scheduler_refuses_a_schedule_returning_no_rate():
    with pytest.raises(ValueError, match="returned None at epoch 0"):
        train([LearningRateScheduler(lambda epoch, lr: None)])
    with pytest.raises(ValueError, match="returned -1"):
        train([LearningRateScheduler(lambda epoch: -1)])


def test_reduce_lr_on_plateau_needs_a_factor_below_one():
    with pytest.raises(ValueError, match="factor must be in"):
        ReduceLROnPlateau(factor=1.0)


# ---------------------------------------------------------- LambdaCallback


def test_lambda_callback_runs_the_given_functions_at_their_hooks():
    seen = []
    callback = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))),
                              on_train_end=lambda history: seen.append(len(history.epoch)))
    train([callback], epochs=2)
    assert seen == [(0, ["accuracy", "loss"]), (1, ["accuracy", "loss"]), 2]
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)


def test_stop_training_set_mid_epoch_finishes_and_records_that_epoch():
    def stop(batch, logs):
        seen.append(batch)
        if len(seen) == 6:
            model.stop_training = True

    seen = []
    model = xor_model()
    history = nn.fit(model, *nn.data.xor(), loss="bce", epochs=5, batch_size=1, verbose=0,
                     callbacks=[LambdaCallback(on_batch_end=stop)])
    assert history.epoch == [0, 1] and seen == [0, 1, 2, 3, 0, 1]
    assert all(len(values) == 2 for values in history.history.values())
