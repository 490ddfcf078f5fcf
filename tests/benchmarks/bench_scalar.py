"""The scalar engine against micrograd (issue 3): one process, interleaved, medians.

Measured, chaingrad and micrograd in turn, round after round:
1. micrograd's demo.ipynb training step: MLP(2, [16, 16, 1]) on 100 two-moons
   points, SVM max-margin loss + 1e-4 L2, zero_grad, backward, SGD update.
2. A graph of a million scalar ops (a ``y = y * c + d`` chain, then a wide sum
   of ``relu(a * b)``), forward build and backward timed separately.
Both with the collector as it is by default and with it off on both sides
(``gc.disable()`` around the run, ``gc.collect()`` before each, untimed: it
reclaims micrograd's cyclic graphs; ours are freed by reference counting, in
the demo step's timing). Then
3. bytes held per recorded op of a 100,000-op ``y * c`` / ``y + c`` chain (tracemalloc).
micrograd's backward recurses, so all runs in a thread with a 512 MB stack.

    python tests/benchmarks/bench_scalar.py [--quick]
"""
from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from micrograd.engine import Value as MicroValue  # noqa: E402
from micrograd.nn import MLP as MicroMLP  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

import tests.benchmarks as bench  # noqa: E402
from autograd import Value  # noqa: E402
from nn.scalar import MLP as ScalarMLP  # noqa: E402

OURS, THEIRS = "chaingrad", "micrograd"
ALPHA, LEARNING_RATE = 1e-4, 1.0
FULL = dict(demo_rounds=9, graph_ops=1_000_000, graph_rounds=3, memory_ops=100_000)
QUICK = dict(demo_rounds=2, graph_ops=20_000, graph_rounds=3, memory_ops=20_000)


def main(quick: bool) -> bool:
    config = QUICK if quick else FULL
    X, y = moons()
    ours, theirs = matching_models()
    graph = GraphPlan(config["graph_ops"])
    verify(ours, theirs, X, y)

    demo_sides = {OURS: bench.per_call(lambda: demo_step(ours, X, y)),
                  THEIRS: bench.per_call(lambda: demo_step(theirs, X, y))}
    graph_sides = {OURS: lambda: graph.run(Value), THEIRS: lambda: graph.run(MicroValue)}
    results = {}
    for gc_enabled, mode in ((True, "default"), (False, "off")):
        results["demo step", mode] = bench.interleave(demo_sides, config["demo_rounds"], gc_enabled)
        big = bench.interleave(graph_sides, config["graph_rounds"], gc_enabled, warmup=0)
        results[f"{graph.n_ops:,}-op graph", mode] = big
    memory = {OURS: bytes_per_op(Value, config["memory_ops"]),
              THEIRS: bytes_per_op(MicroValue, config["memory_ops"])}

    report(results, memory, config)
    return bench.print_checks(checks(results, memory, graph))


# ------------------------------------------------------------------ demo step


def moons() -> tuple[list[list[float]], list[int]]:
    """micrograd's demo data: 100 two-moons points, labels in {-1, 1}, as Python numbers."""
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    return X.tolist(), (y * 2 - 1).tolist()


def matching_models() -> tuple[ScalarMLP, MicroMLP]:
    """Our MLP(2, [16, 16, 1]) and micrograd's, with identical weights."""
    random.seed(1337)
    theirs = MicroMLP(2, [16, 16, 1])
    ours = ScalarMLP(2, [16, 16, 1])
    for mine, other in zip(ours.parameters(), theirs.parameters(), strict=True):
        mine.data = float(other.data)
    return ours, theirs


def demo_step(model: Any, X: list[list[float]], y: list[int]) -> float:
    """One step of micrograd's demo: SVM max-margin loss + L2, backward, SGD; the loss."""
    node = type(model.parameters()[0])
    scores = [model([node(a) for a in row]) for row in X]
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= LEARNING_RATE * p.grad
    return total_loss.data


# -------------------------------------------------------------- million ops


class GraphPlan:
    """The same random scalar graph for any Value class: 40% chain ops, 60% wide ops.

    ``y = y * c + d`` (2 ops a step) then ``y = y + relu(a * b)`` (3 ops a
    step), with c, d, a, b drawn from 1,000 leaves in (-1, 1).
    """

    def __init__(self, n_ops: int, n_leaves: int = 1000, seed: int = 0) -> None:
        rng = random.Random(seed)
        steps = n_ops // 5
        self.n_ops = 5 * steps
        self.leaf_values = [rng.uniform(-1.0, 1.0) for _ in range(n_leaves)]
        self.chain = [(rng.randrange(n_leaves), rng.randrange(n_leaves)) for _ in range(steps)]
        self.wide = [(rng.randrange(n_leaves), rng.randrange(n_leaves)) for _ in range(steps)]

    def build(self, leaves: list) -> Any:
        y = leaves[0]
        for c, d in self.chain:
            y = y * leaves[c] + leaves[d]
        for a, b in self.wide:
            y = y + (leaves[a] * leaves[b]).relu()
        return y

    def run(self, node: type) -> bench.Phases:
        """Forward build and backward of the graph over fresh leaves, timed apart."""
        leaves = [node(v) for v in self.leaf_values]
        start = time.perf_counter()
        root = self.build(leaves)
        built = time.perf_counter()
        root.backward()
        done = time.perf_counter()
        return {"forward": built - start, "backward": done - built, "forward+backward": done - start}

    def gradients(self, node: type) -> list[float]:
        """The root's value and every leaf's gradient, for comparing engines."""
        leaves = [node(v) for v in self.leaf_values]
        root = self.build(leaves)
        root.backward()
        return [root.data] + [leaf.grad for leaf in leaves]


def verify(ours: ScalarMLP, theirs: MicroMLP, X: list, y: list) -> None:
    """Both engines compute the same demo loss, updated weights and graph gradients."""
    losses = demo_step(ours, X, y), demo_step(theirs, X, y)
    assert math.isclose(*losses, rel_tol=1e-9), f"demo losses differ: {losses}"
    for mine, other in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert math.isclose(mine.data, other.data, rel_tol=1e-9, abs_tol=1e-12), (mine, other)
    small = GraphPlan(5_000)
    for mine, other in zip(small.gradients(Value), small.gradients(MicroValue), strict=True):
        assert math.isclose(mine, other, rel_tol=1e-9, abs_tol=1e-12), (mine, other)


# ------------------------------------------------------------------- memory


def bytes_per_op(node: type, n_ops: int) -> float:
    """Bytes the graph of ``y = y * c`` / ``y = y + c`` (c a number) holds per op."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        y = node(1.0)
        for _ in range(n_ops // 2):
            y = y * 1.0001
            y = y + 1.0001
        return (tracemalloc.get_traced_memory()[0] - before) / n_ops
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------- report


def report(results: dict, memory: dict, config: dict) -> None:
    spread = bench.spread
    rows = [[name, mode, phase, spread(s[OURS][phase]), spread(s[THEIRS][phase]),
             spread(speedups(s, phase), bench.format_ratio)]
            for (name, mode), s in results.items() for phase in s[OURS]]
    rounds = f"demo {config['demo_rounds']} rounds, graph {config['graph_rounds']}"
    header = ["measurement", "gc", "phase", OURS, THEIRS, "speed-up"]
    bench.print_table(f"Time: median [IQR] of interleaved rounds ({rounds})", header, rows)
    bench.print_table(
        f"Memory held per recorded op ({config['memory_ops']:,}-op chain, tracemalloc)",
        ["engine", "bytes/op"], [[side, f"{memory[side]:.0f}"] for side in (OURS, THEIRS)],
    )


def speedups(samples: dict, phase: str) -> list[float]:
    """How many times faster we are, round by round: micrograd's time over ours."""
    return bench.paired_ratios(samples[THEIRS][phase], samples[OURS][phase])


def checks(results: dict, memory: dict, graph: GraphPlan) -> list[bench.Check]:
    """This round's floors (issues 11 and 12); the million-op graph rows are shown by ``report``."""
    return [
        bench.Check("demo step, gc default", speedups(results["demo step", "default"], "step"), 15),
        bench.Check("demo step, gc off", speedups(results["demo step", "off"], "step"), 3),
        bench.Check("memory per op, ours / micrograd", [memory[OURS] / memory[THEIRS]], 1 / 3,
                    at_least=False),
    ]


def run_with_big_stack(quick: bool) -> bool:
    """``main`` in a thread whose stack holds micrograd's recursion over a million nodes."""
    sys.setrecursionlimit(10_000_000)
    threading.stack_size(512 * 1024 * 1024)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(main(quick)))
    worker.start()
    worker.join()
    return bool(outcome and outcome[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 demo rounds, 20,000-op graphs")
    sys.exit(0 if run_with_big_stack(parser.parse_args().quick) else 1)
