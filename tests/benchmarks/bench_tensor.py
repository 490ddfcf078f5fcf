"""The tensor engine against hand-written NumPy and PyTorch (issue 4): one training step.

Three sides, interleaved round after round in one process, float32, one
thread each (threadpoolctl for NumPy's BLAS, ``torch.set_num_threads(1)``):
NumPy with a hand-derived backward (the floor), chaingrad's nn as a user
writes it (``nn.Sequential``, ``nn.functional`` loss, ``nn.optim.SGD``), and
PyTorch CPU when importable. The input batch needs no gradient. All sides
start from the same weights and are checked to compute the same loss and
update before timing. Each round times several steps in a row; the table
shows the medians per step, with the interquartile range. For the largest
config it also compares the tracemalloc peak of one step (NumPy vs chaingrad).

    python tests/benchmarks/bench_tensor.py [--quick]
"""
from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nn  # noqa: E402
import tests.benchmarks as bench  # noqa: E402
from autograd import Tensor  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

try:
    import resource  # Unix only: the page-fault column is 0 elsewhere
except ImportError:
    resource = None

NUMPY, OURS, TORCH = "hand NumPy", "chaingrad", "PyTorch"
LEARNING_RATE = 0.01


@dataclass
class Config:
    """One network and batch, with the issue's targets for it."""

    name: str
    sizes: list[int]
    activation: str  # "Tanh" or "ReLU", the layer's name in both nn packages
    loss: str  # "mse_loss" or "cross_entropy", the function's name in both
    batch: int
    steps_per_round: int
    max_vs_numpy: float
    min_torch_speedup: float
    max_peak_vs_numpy: float | None = None


CONFIGS = [
    Config("(a) 2-16-16-1 tanh MSE, batch 64", [2, 16, 16, 1], "Tanh", "mse_loss", 64, 100, 1.5, 1.0),
    Config("(b) 784-256-128-10 ReLU CE, batch 128", [784, 256, 128, 10], "ReLU", "cross_entropy", 128, 10,
           1.06, 1.0),
    Config("(c) 784-256-128-10 ReLU CE, batch 1024", [784, 256, 128, 10], "ReLU", "cross_entropy", 1024, 2,
           1.03, 1.0, max_peak_vs_numpy=1.3),
]


def main(quick: bool) -> bool:
    if torch is not None:
        torch.set_num_threads(1)
    rounds = 15 if quick else 101
    checks = []
    with threadpool_limits(limits=1):
        for config in CONFIGS:
            steps = make_steps(config)
            gc.freeze()  # the collector skips what exists now (torch's ~1e6 objects): ~1 ms, not ~100 ms
            sides = {side: timed_with_faults(step, config.steps_per_round) for side, step in steps.items()}
            samples = bench.interleave(sides, rounds)
            report(config, samples, rounds)
            checks += config_checks(config, samples, steps)
    return bench.print_checks(checks)


# ------------------------------------------------------------------ the sides


def make_steps(config: Config) -> dict[str, Callable[[], Any]]:
    """One training step per side, from identical weights, checked to agree."""
    rng = np.random.default_rng(0)
    weights = initial_weights(config.sizes, rng)
    x = rng.standard_normal((config.batch, config.sizes[0]), dtype=np.float32)
    if config.loss == "mse_loss":
        target = rng.standard_normal((config.batch, config.sizes[-1]), dtype=np.float32)
    else:
        target = rng.integers(0, config.sizes[-1], config.batch)
    sides = {NUMPY: NumpyMLP(weights, config, x, target),
             OURS: EngineMLP(nn, nn.optim, weights, config, Tensor(x), target)}
    if torch is not None:
        sides[TORCH] = EngineMLP(torch.nn, torch.optim, weights, config,
                                 torch.from_numpy(x), torch.from_numpy(target))
    assert_same_step(sides)
    return {name: side.step for name, side in sides.items()}


def initial_weights(sizes: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """W (out, in) and b (out,) per layer, U(-1/sqrt(in), 1/sqrt(in)) as PyTorch draws them."""
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
        bound = fan_in**-0.5
        for shape in ((fan_out, fan_in), (fan_out,)):
            weights.append(rng.uniform(-bound, bound, shape).astype(np.float32))
    return weights


class NumpyMLP:
    """The floor: forward, hand-derived backward and SGD in plain NumPy, as tutorials write it."""

    def __init__(self, weights: list[np.ndarray], config: Config, x: np.ndarray, target: np.ndarray) -> None:
        self.weights = [w.copy() for w in weights]
        self.tanh = config.activation == "Tanh"
        self.loss = mse if config.loss == "mse_loss" else softmax_cross_entropy
        self.x, self.target = x, target

    def step(self) -> np.float32:
        x = self.x
        layers = list(zip(self.weights[::2], self.weights[1::2], strict=True))
        hidden = [x]
        for W, b in layers[:-1]:
            z = hidden[-1] @ W.T + b
            hidden.append(np.tanh(z) if self.tanh else np.maximum(z, 0))
        W, b = layers[-1]
        loss, g = self.loss(hidden[-1] @ W.T + b, self.target)
        for (W, b), h in zip(reversed(layers), reversed(hidden), strict=True):
            grad_W, grad_b = g.T @ h, g.sum(axis=0)
            if h is not x:
                g = g @ W
                g *= (1 - h * h) if self.tanh else (h > 0)
            W -= LEARNING_RATE * grad_W
            b -= LEARNING_RATE * grad_b
        return loss

    def parameters(self) -> list[np.ndarray]:
        return self.weights


def mse(out: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mean((out - y)**2) and its gradient 2 (out - y) / n."""
    diff = out - target
    return (diff * diff).mean(), diff * (2 / diff.size)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mean(-log softmax(logits)[label]) and its gradient (softmax - onehot) / n."""
    rows = np.arange(len(labels))
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = (np.log(total[:, 0]) - shifted[rows, labels]).mean()
    g = exp / total
    g[rows, labels] -= 1
    g /= len(labels)
    return loss, g


class EngineMLP:
    """The code a user writes, for chaingrad's ``nn`` or ``torch.nn`` (same names in both)."""

    def __init__(
        self, package: Any, optim: Any, weights: list[np.ndarray], config: Config, x: Any, target: Any
    ) -> None:
        layers = []
        for fan_in, fan_out in zip(config.sizes, config.sizes[1:], strict=False):
            layers += [package.Linear(fan_in, fan_out), getattr(package, config.activation)()]
        self.model = package.Sequential(*layers[:-1])
        for p, w in zip(self.model.parameters(), weights, strict=True):
            as_array(p)[...] = w
        self.optimizer = optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        self.loss = getattr(package.functional, config.loss)
        self.x, self.target = x, target

    def step(self) -> Any:
        self.optimizer.zero_grad()
        loss = self.loss(self.model(self.x), self.target)
        loss.backward()
        self.optimizer.step()
        return loss

    def parameters(self) -> list[np.ndarray]:
        return [as_array(p) for p in self.model.parameters()]


def as_array(p: Any) -> np.ndarray:
    """A parameter's data as a writable ndarray sharing its memory (either engine)."""
    return p.data if isinstance(p.data, np.ndarray) else p.detach().numpy()


def assert_same_step(sides: dict[str, Any]) -> None:
    """One step on every side gives the same loss and the same updated weights."""
    losses = {name: side.step().item() for name, side in sides.items()}
    reference = sides[NUMPY].parameters()
    for name, side in sides.items():
        np.testing.assert_allclose(losses[name], losses[NUMPY], rtol=1e-4, err_msg=f"{name} loss")
        for i, (mine, floor) in enumerate(zip(side.parameters(), reference, strict=True)):
            np.testing.assert_allclose(mine, floor, rtol=1e-4, atol=1e-6, err_msg=f"{name} parameter {i}")


# -------------------------------------------------------------- measurements


def peak_bytes(step: Callable[[], Any]) -> int:
    """The tracemalloc peak of one step, after a warm-up step."""
    step()
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def timed_with_faults(step: Callable[[], Any], repeat: int) -> Callable[[], bench.Phases]:
    """A side for ``bench.interleave``: seconds per step, and the minor page faults per step beside them.

    A step whose arrays the C allocator hands back to the system at its end
    (glibc trims the heap's top once enough of it is free) faults every page
    in again at the next step: kernel time that shows in the step's time.
    """
    def run() -> bench.Phases:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0
        seconds = bench.timed(step, repeat)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0
        return {"step": seconds, "faults": (after - before) / repeat}
    return run


def report(config: Config, samples: dict, rounds: int) -> None:
    rows = [[side, bench.spread(samples[side]["step"]), versus_numpy(samples, side),
             f"{bench.median(samples[side]['faults']):.0f}"] for side in samples]
    title = f"{config.name}: time per step, median [IQR] of {rounds} rounds x {config.steps_per_round} steps"
    bench.print_table(title, ["side", "time", f"/ {NUMPY}", "page faults / step"], rows)


def versus_numpy(samples: dict, side: str) -> str:
    return "-" if side == NUMPY else bench.spread(ratios(samples, side, NUMPY), bench.format_ratio)


def ratios(samples: dict, side: str, other: str) -> list[float]:
    """``side``'s step time over ``other``'s, round by round."""
    return bench.paired_ratios(samples[side]["step"], samples[other]["step"])


def config_checks(config: Config, samples: dict, steps: dict[str, Callable]) -> list[bench.Check]:
    short = config.name[:3]  # "(a)"
    slowdown = ratios(samples, OURS, NUMPY)
    checks = [bench.Check(f"{short} {OURS} / {NUMPY}", slowdown, config.max_vs_numpy, at_least=False)]
    if TORCH in samples:
        speedup = ratios(samples, TORCH, OURS)
        checks.append(bench.Check(f"{short} {TORCH} / {OURS}", speedup, config.min_torch_speedup))
    if config.max_peak_vs_numpy is not None:
        peaks = {side: peak_bytes(steps[side]) for side in (NUMPY, OURS)}
        print("peak memory of one step: " + ", ".join(f"{s} {b / 1e6:.2f} MB" for s, b in peaks.items()))
        memory = [peaks[OURS] / peaks[NUMPY]]
        name = f"{short} peak memory {OURS} / {NUMPY}"
        checks.append(bench.Check(name, memory, config.max_peak_vs_numpy, at_least=False))
    return checks


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 rounds instead of 101")
    sys.exit(0 if main(parser.parse_args().quick) else 1)
