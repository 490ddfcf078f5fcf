"""How fast could an engine be? Bare-minimum engines beside ours, for the hardest targets.

Two floors, each a few lines of plain Python with none of the engine's
features (no Function classes, contexts, checks, create_graph, modules):

1. The million-op graph's backward (issue 3 asks >= 3x micrograd, collector
   off). Nodes keep their local derivatives as floats, so backward calls no
   function per node. "walk" finds the nodes reachable from the root and
   sorts them by creation number, as any graph engine must; "tape" walks a
   global list of every node in reverse creation order, with no search at
   all (which needs the list to hold every node, so nothing is freed);
   "flat tape" drops node objects too: nodes are indices into global lists
   of data, gradients and (out, a, da, b, db) entries.
2. One training step of MLP 2-16-16-1, tanh, MSE, batch 64 (issue 4 asks
   <= 1.3x hand-written NumPy): fused linear, tanh and MSE nodes, a walk
   and sort, a plain SGD loop.

    python tests/benchmarks/bench_floor.py [--quick]
"""
from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nn  # noqa: E402
import tests.benchmarks as bench  # noqa: E402
from autograd import Tensor, Value  # noqa: E402
from tests.benchmarks.bench_scalar import GraphPlan, MicroValue  # noqa: E402
from tests.benchmarks.bench_tensor import CONFIGS, EngineMLP, NumpyMLP, initial_weights  # noqa: E402

_creation = itertools.count().__next__


class BareNode:
    """A scalar node with its local derivatives as numbers: backward is a loop, not calls."""

    __slots__ = ("data", "grad", "parents", "partials", "order", "mark")

    def __init__(self, data: float, parents: tuple = (), partials: tuple = ()) -> None:
        self.data, self.grad, self.parents, self.partials = data, 0.0, parents, partials
        self.order, self.mark = _creation(), None
        if parents:
            TAPE.append(self)

    def __add__(self, other: BareNode) -> BareNode:
        return BareNode(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: BareNode) -> BareNode:
        return BareNode(self.data * other.data, (self, other), (other.data, self.data))

    def relu(self) -> BareNode:
        positive = self.data > 0
        return BareNode(self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,))


TAPE: list[BareNode] = []


def propagate(nodes: list[BareNode]) -> None:
    for node in nodes:
        g = node.grad
        for parent, partial in zip(node.parents, node.partials, strict=False):
            parent.grad += partial * g


def walk_backward(root: BareNode) -> None:
    """Reachable nodes by a marking walk, sorted by descending creation number, then the chain rule."""
    token, nodes = object(), [root]
    for node in nodes:
        for parent in node.parents:
            if parent.parents and parent.mark is not token:
                parent.mark = token
                nodes.append(parent)
    nodes.sort(key=lambda n: n.order, reverse=True)
    root.grad = 1.0
    propagate(nodes)


def tape_backward(root: BareNode) -> None:
    """Every node ever recorded, newest first: no search, but nothing can be freed."""
    root.grad = 1.0
    propagate(reversed(TAPE))


class FlatNode:
    """A node as an index into global lists: the tape holds (out, a, da, b, db) tuples, no objects."""

    __slots__ = ("i",)
    data: list[float] = []
    tape: list[tuple] = []

    def __init__(self, data: float, entry: tuple | None = None) -> None:
        self.i = len(FlatNode.data)
        FlatNode.data.append(data)
        if entry:
            FlatNode.tape.append((self.i, *entry))

    def __add__(self, other: FlatNode) -> FlatNode:
        return FlatNode(self.data[self.i] + self.data[other.i], (self.i, 1.0, other.i, 1.0))

    def __mul__(self, other: FlatNode) -> FlatNode:
        a, b = self.data[self.i], self.data[other.i]
        return FlatNode(a * b, (self.i, b, other.i, a))

    def relu(self) -> FlatNode:
        x = self.data[self.i]
        return FlatNode(x if x > 0 else 0.0, (self.i, 1.0 if x > 0 else 0.0, self.i, 0.0))


def flat_backward(root: FlatNode) -> None:
    """The chain rule over the flat tape, newest entry first: the least work CPython can do."""
    grads = [0.0] * len(FlatNode.data)
    grads[root.i] = 1.0
    for out, a, da, b, db in reversed(FlatNode.tape):
        g = grads[out]
        grads[a] += da * g
        grads[b] += db * g


def scalar_sides(plan: GraphPlan) -> dict[str, Any]:
    """Each side builds the plan's graph untimed and times its backward alone."""
    def side(node: type, backward: Any) -> Any:
        def run() -> bench.Phases:
            TAPE.clear()
            FlatNode.data, FlatNode.tape = [], []
            root = plan.build([node(v) for v in plan.leaf_values])
            start = time.perf_counter()
            backward(root)
            return {"backward": time.perf_counter() - start}
        return run
    return {"micrograd": side(MicroValue, MicroValue.backward), "chaingrad": side(Value, Value.backward),
            "bare walk": side(BareNode, walk_backward), "bare tape": side(BareNode, tape_backward),
            "flat tape": side(FlatNode, flat_backward)}


# ------------------------------------------------------------- tensor step


class BareMLP:
    """MLP 2-16-16-1, tanh, MSE as fused graph nodes with nothing else: the Python floor of an engine."""

    def __init__(self, weights: list[np.ndarray], x: np.ndarray, target: np.ndarray) -> None:
        self.params = [self.node(w.copy()) for w in weights]
        self.x, self.target = x, target

    @staticmethod
    def node(data: Any, backward: Any = None, parents: tuple = ()) -> dict:
        return {"data": data, "grad": None, "backward": backward, "parents": parents, "order": _creation()}

    def linear(self, x: dict | np.ndarray, w: dict, b: dict) -> dict:
        xd = x["data"] if isinstance(x, dict) else x
        out = xd @ w["data"].T
        out += b["data"]

        def backward(g: np.ndarray) -> tuple:
            return (g @ w["data"] if isinstance(x, dict) else None), g.T @ xd, g.sum(axis=0)
        return self.node(out, backward, (x if isinstance(x, dict) else None, w, b))

    def tanh(self, x: dict) -> dict:
        out = np.tanh(x["data"])
        return self.node(out, lambda g: (g * (1 - out * out),), (x,))

    def mse(self, x: dict) -> dict:
        diff = x["data"] - self.target
        return self.node((diff * diff).mean(), lambda g: (diff * (2 * g / diff.size),), (x,))

    def step(self) -> None:
        w1, b1, w2, b2, w3, b3 = self.params
        for p in self.params:
            p["grad"] = None
        hidden = self.tanh(self.linear(self.tanh(self.linear(self.x, w1, b1)), w2, b2))
        loss = self.mse(self.linear(hidden, w3, b3))
        nodes, seen = [loss], {id(loss)}
        for node in nodes:
            for parent in node["parents"]:
                if parent is not None and parent["backward"] is not None and id(parent) not in seen:
                    seen.add(id(parent))
                    nodes.append(parent)
        nodes.sort(key=lambda n: n["order"], reverse=True)
        loss["grad"] = np.float32(1.0)
        for node in nodes:
            for parent, g in zip(node["parents"], node["backward"](node["grad"]), strict=True):
                if parent is not None and g is not None:
                    parent["grad"] = g if parent["grad"] is None else parent["grad"] + g
        for p in self.params:
            p["data"] -= 0.01 * p["grad"]


def tensor_sides() -> dict[str, Any]:
    config = CONFIGS[0]
    rng = np.random.default_rng(0)
    weights = initial_weights(config.sizes, rng)
    x = rng.standard_normal((config.batch, config.sizes[0]), dtype=np.float32)
    target = rng.standard_normal((config.batch, config.sizes[-1]), dtype=np.float32)
    steps = {"hand NumPy": NumpyMLP(weights, config, x, target).step,
             "bare engine": BareMLP(weights, x, target).step,
             "chaingrad": EngineMLP(nn, nn.optim, weights, config, Tensor(x), target).step}
    return {name: bench.per_call(step, config.steps_per_round) for name, step in steps.items()}


# ------------------------------------------------------------------ report


def report(title: str, samples: bench.Samples, phase: str, reference: str, faster: bool) -> None:
    """Each side's time, and its ratio to ``reference`` (reference / side when ``faster``)."""
    rows = []
    for side, phases in samples.items():
        mine, theirs = phases[phase], samples[reference][phase]
        ratios = bench.paired_ratios(theirs, mine) if faster else bench.paired_ratios(mine, theirs)
        rows.append([side, bench.spread(mine), bench.spread(ratios, bench.format_ratio)])
    label = f"{reference} / side" if faster else f"side / {reference}"
    bench.print_table(title, ["side", "time", label], rows)


def main(quick: bool) -> None:
    plan = GraphPlan(100_000 if quick else 1_000_000)
    rounds = 2 if quick else 3
    scalar = bench.interleave(scalar_sides(plan), rounds, gc_enabled=False)
    report(f"{plan.n_ops:,}-op graph, backward alone, collector off ({rounds} rounds)", scalar,
           "backward", "micrograd", faster=True)
    with threadpool_limits(limits=1):
        rounds = 15 if quick else 101
        tensor = bench.interleave(tensor_sides(), rounds)
    report(f"(a) MLP 2-16-16-1 tanh MSE, batch 64, one step ({rounds} rounds)", tensor,
           "step", "hand NumPy", faster=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-op graph and 15 tensor rounds")
    quick = parser.parse_args().quick
    sys.setrecursionlimit(10_000_000)  # micrograd's backward recurses
    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=main, args=(quick,))
    worker.start()
    worker.join()
