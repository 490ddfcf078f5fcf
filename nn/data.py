"""Batches and small datasets for teaching.

``DataLoader`` cuts NumPy arrays into (xb, yb) batches: batch, stochastic
(batch_size=1) and mini-batch gradient descent are the same loop with a
different batch size. Shuffling without a ``seed`` draws from the generator
``nn.manual_seed`` seeds; the dataset generators take a ``seed``. Features
come as float32; classification labels as int64 of shape (N,) (scikit-learn's
convention), regression and logic-gate targets as float32 columns (N, 1).
The scikit-learn wrappers import it only when called.
"""
from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Iterator
from typing import Any

import numpy as np

from .module import generator

__all__ = [
    "DataLoader", "and_gate", "linear_data", "load_breast_cancer", "load_digits", "load_iris", "make_blobs",
    "make_circles", "make_moons", "train_test_split", "xor",
]

Dataset = tuple[np.ndarray, np.ndarray]


def __dir__() -> list[str]:
    return list(__all__)


class DataLoader:
    """Iterate over (X[i:j], y[i:j]) batches, reshuffled each epoch when ``shuffle``.

    ``X`` and ``y`` are arrays (or lists) with one sample per row; or ``X``
    is a list of ``(x, y)`` tuples (PyTorch's dataset of pairs) and ``y`` is
    left out. ``batch_size=None`` means one batch of everything. Without a
    ``seed``, each epoch's order comes from ``nn.manual_seed``'s generator (so
    a seeded run repeats); with one, from a generator of its own.
    ``drop_last`` drops a short final batch. Without ``y`` it yields the X
    batches alone.
    """

    def __init__(self, X: Any, y: Any = None, batch_size: int | None = 1, shuffle: bool = False,
                 seed: int | None = None, drop_last: bool = False) -> None:
        if y is None and _is_pairs(X):
            X, y = _unzip(X)
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        if self.X.ndim == 0:
            raise ValueError("DataLoader: X must hold one sample per row, got a single number")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"DataLoader: X has {len(self.X)} samples but y has {len(self.y)}")
        self.batch_size = _check_batch_size(batch_size) or max(len(self.X), 1)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.X) / self.batch_size
        return math.floor(n) if self.drop_last else math.ceil(n)

    def __iter__(self) -> Iterator[Any]:
        order = None
        if self.shuffle:
            order = (self.rng or generator()).permutation(len(self.X))
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = start + self.batch_size
            index = slice(start, stop) if order is None else order[start:stop]
            xb = self.X[index]
            yield xb if self.y is None else (xb, self.y[index])


def _check_batch_size(batch_size: Any) -> int | None:
    """A positive integer (or None); True, 0, 2.5 or "32" is an error."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool):
        raise TypeError(f"DataLoader: batch_size must be a positive integer or None, got {batch_size}")
    try:
        size = operator.index(batch_size)
    except TypeError:
        raise TypeError(
            f"DataLoader: batch_size must be a positive integer or None, got {type(batch_size).__name__} "
            f"{batch_size!r}"
        ) from None
    if size < 1:
        raise ValueError(f"DataLoader: batch_size must be >= 1 or None, got {size}")
    return size


def _is_pairs(X: Any) -> bool:
    """A list (or tuple) of 2-tuples: PyTorch's dataset of (x, y) samples (lists of lists are rows)."""
    return isinstance(X, (list, tuple)) and len(X) > 0 and all(type(s) is tuple and len(s) == 2 for s in X)


def _unzip(pairs: Any) -> tuple[np.ndarray, np.ndarray]:
    """A list of (x, y) tuples as the arrays X (samples stacked) and y."""
    xs, ys = zip(*pairs, strict=True)
    try:
        return np.stack([np.asarray(x) for x in xs]), np.stack([np.asarray(y) for y in ys])
    except ValueError as error:
        raise ValueError(f"DataLoader: the samples' x (or y) parts differ in shape: {error}") from None


def train_test_split(
    X: Any, y: Any, test_size: float = 0.25, seed: int | None = None
) -> tuple[np.ndarray, ...]:
    """A shuffled split: X_train, X_test, y_train, y_test (scikit-learn's order)."""
    X, y = np.asarray(X), np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(math.ceil(test_size * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


# ------------------------------------------------------------- small tables


def xor() -> Dataset:
    """The four points of XOR: X (4, 2), y (4, 1) = x1 xor x2; no line separates them."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return X, (X[:, :1] != X[:, 1:]).astype(np.float32)


def and_gate() -> Dataset:
    """The four points of AND: X (4, 2), y (4, 1) = x1 and x2; linearly separable."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return X, (X[:, :1] * X[:, 1:]).astype(np.float32)


def linear_data(n: int = 100, seed: int | None = None, noise: float = 1.0) -> Dataset:
    """y = 4 + 3x + Gaussian noise, x uniform in [0, 2): columns (n, 1), the classic regression set."""
    rng = np.random.default_rng(seed)
    x = 2 * rng.random((n, 1))
    y = 4 + 3 * x + noise * rng.standard_normal((n, 1))
    return x.astype(np.float32), y.astype(np.float32)


# ------------------------------------------------ scikit-learn, when present


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None) -> Dataset:
    """Two interleaving half circles (binary labels 0/1), micrograd's demo set."""
    return _classes(_sklearn("datasets", "make_moons").make_moons(n_samples, noise=noise, random_state=seed))


def make_circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> Dataset:
    """A small circle inside a large one (binary labels 0/1)."""
    sk = _sklearn("datasets", "make_circles")
    return _classes(sk.make_circles(n_samples, noise=noise, factor=factor, random_state=seed))


def make_blobs(n_samples: int = 100, centers: int = 3, n_features: int = 2, cluster_std: float = 1.0,
               seed: int | None = None) -> Dataset:
    """Gaussian clusters, one per class (labels 0..centers-1)."""
    sk = _sklearn("datasets", "make_blobs")
    return _classes(sk.make_blobs(n_samples, n_features=n_features, centers=centers,
                                  cluster_std=cluster_std, random_state=seed))


def load_iris() -> Dataset:
    """Fisher's iris: 150 flowers, 4 measurements, 3 species."""
    return _classes(_sklearn("datasets", "load_iris").load_iris(return_X_y=True))


def load_digits() -> Dataset:
    """1797 handwritten digits as 8x8 images flattened to 64 features (0..16), 10 classes."""
    return _classes(_sklearn("datasets", "load_digits").load_digits(return_X_y=True))


def load_breast_cancer() -> Dataset:
    """569 tumours, 30 features, benign (1) or malignant (0)."""
    return _classes(_sklearn("datasets", "load_breast_cancer").load_breast_cancer(return_X_y=True))


def _classes(data: tuple) -> Dataset:
    X, y = data[0], data[1]
    return np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


def _sklearn(submodule: str, who: str) -> Any:
    """``sklearn.<submodule>``, or an ImportError that says how to get it."""
    try:
        return importlib.import_module(f"sklearn.{submodule}")
    except ImportError as error:
        raise ImportError(
            f"nn.data.{who} needs scikit-learn: pip install scikit-learn (or pip install 'chaingrad[demos]')"
        ) from error
