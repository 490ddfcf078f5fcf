"""DataLoader batching and shuffling; the teaching datasets."""
import numpy as np
import pytest

import nn
from nn.data import DataLoader

X = np.arange(20.0).reshape(10, 2)
Y = np.arange(10)


def test_batches_cover_the_data_in_order_without_shuffle():
    batches = list(DataLoader(X, Y, batch_size=4))
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), Y)
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)


def test_len_counts_batches_with_and_without_drop_last():
    assert len(DataLoader(X, Y, batch_size=4)) == 3
    assert len(DataLoader(X, Y, batch_size=4, drop_last=True)) == 2
    assert [len(yb) for _, yb in DataLoader(X, Y, batch_size=4, drop_last=True)] == [4, 4]


def test_batch_stochastic_and_mini_batch_are_batch_sizes():
    assert len(DataLoader(X, Y, batch_size=None)) == 1
    assert len(DataLoader(X, Y, batch_size=1)) == 10
    assert len(DataLoader(X, Y, batch_size=3)) == 4


def test_shuffle_is_a_seeded_permutation_that_changes_each_epoch():
    loader = DataLoader(X, Y, batch_size=3, shuffle=True, seed=0)
    first = np.concatenate([yb for _, yb in loader])
    second = np.concatenate([yb for _, yb in loader])
    assert sorted(first) == list(Y) and not np.array_equal(first, second)
    again = DataLoader(X, Y, batch_size=3, shuffle=True, seed=0)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in again]), first)


def test_shuffled_pairs_stay_together():
    for xb, yb in DataLoader(X, Y, batch_size=4, shuffle=True, seed=1):
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)


def test_loader_without_targets_yields_inputs():
    assert [xb.shape for xb in DataLoader(X, batch_size=5)] == [(5, 2), (5, 2)]


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        DataLoader(X, Y[:9])


def test_logic_gate_tables():
    X, y = nn.data.xor()
    np.testing.assert_array_equal(y[:, 0], [0, 1, 1, 0])
    X, y = nn.data.and_gate()
    np.testing.assert_array_equal(y[:, 0], [0, 0, 0, 1])
    assert X.dtype == y.dtype == np.float32


def test_linear_data_follows_four_plus_three_x():
    x, y = nn.data.linear_data(n=2000, seed=0)
    assert x.shape == y.shape == (2000, 1) and 0 <= x.min() and x.max() < 2
    slope, intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    assert slope == pytest.approx(3, abs=0.15) and intercept == pytest.approx(4, abs=0.15)
    np.testing.assert_array_equal(nn.data.linear_data(seed=5)[1], nn.data.linear_data(seed=5)[1])


@pytest.mark.parametrize("make, classes", [(nn.data.make_moons, 2), (nn.data.make_circles, 2),
                                           (lambda **kw: nn.data.make_blobs(centers=4, **kw), 4)])
def test_generators_are_seeded_and_labelled(make, classes):
    pytest.importorskip("sklearn")
    X, y = make(n_samples=60, seed=3)
    assert X.shape == (60, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(y) == set(range(classes))
    np.testing.assert_array_equal(make(n_samples=60, seed=3)[0], X)


def test_real_datasets_load_as_float_features_and_int_labels():
    pytest.importorskip("sklearn")
    X, y = nn.data.load_iris()
    assert X.shape == (150, 4) and set(y) == {0, 1, 2}


def test_missing_scikit_learn_is_explained(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="make_moons needs scikit-learn: pip install"):
        nn.data.make_moons()


def test_train_test_split_partitions_the_rows():
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, Y, test_size=0.3, seed=0)
    assert len(X_test) == 3 and len(X_train) == 7
    assert sorted(np.concatenate([y_train, y_test])) == list(Y)
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)


# ------------------------------------------------------------ issue 11 / 13


@pytest.mark.parametrize("size, error", [(0, ValueError), (-2, ValueError), (True, TypeError),
                                         (False, TypeError), (2.5, TypeError), ("4", TypeError)])
def test_batch_sizes_that_are_not_positive_integers_are_refused(size, error):
    with pytest.raises(error, match="batch_size must be"):
        DataLoader(X, Y, batch_size=size)


def test_numpy_integer_batch_size_is_accepted():
    assert len(DataLoader(X, Y, batch_size=np.int64(5))) == 2


def test_a_list_of_xy_pairs_is_a_dataset():
    pairs = [(X[i], Y[i]) for i in range(len(X))]
    expected = DataLoader(X, Y, batch_size=4)
    for (xb, yb), (xe, ye) in zip(DataLoader(pairs, batch_size=4), expected, strict=True):
        np.testing.assert_array_equal(xb, xe)
        np.testing.assert_array_equal(yb, ye)
    with pytest.raises(ValueError, match="differ in shape"):
        DataLoader([(np.zeros(2), 0), (np.zeros(3), 1)])


def test_lists_of_rows_stay_features():
    assert [xb.shape for xb in DataLoader([[0, 1], [1, 0], [1, 1]], batch_size=2)] == [(2, 2), (1, 2)]


def test_shuffling_without_a_seed_follows_manual_seed():
    def epochs():
        loader = DataLoader(X, Y, batch_size=3, shuffle=True)
        return [np.concatenate([yb for _, yb in loader]) for _ in range(2)]

    nn.manual_seed(7)
    first = epochs()
    nn.manual_seed(7)
    second = epochs()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # still a new order each epoch


def test_manual_seed_makes_a_whole_training_run_bit_identical():
    X_moons = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    y_moons = (X_moons[:, :1] * X_moons[:, 1:] > 0).astype(np.float32)

    def run():
        nn.manual_seed(123)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1))
        opt = nn.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(3):
            for xb, yb in DataLoader(X_moons, y_moons, batch_size=8, shuffle=True):
                opt.zero_grad()
                nn.functional.binary_cross_entropy_with_logits(model(xb), yb).backward()
                opt.step()
        return [p.data.copy() for p in model.parameters()]

    for a, b in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(a, b)
