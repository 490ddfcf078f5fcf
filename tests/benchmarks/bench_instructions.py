"""Instructions per training step, counted by valgrind: a figure that does not move with machine load.

Timing ratios on a shared 2-core machine wander by 5-30% from run to run, so
a change worth 2% cannot be seen in ``bench_tensor.py``. The CPU instructions
a step executes can: this script runs each side of ``bench_tensor.py``'s MLPs
under ``valgrind --tool=callgrind`` twice (N steps, then 0 steps, the same
start-up) and reports the difference / N. Instructions are not time (an
interpreted line costs more cycles per instruction than a vectorized loop),
so the verdicts stay in ``bench_tensor.py``; use this one to compare two
versions of the code (A/B), e.g. a commit before and after a change.

    python tests/benchmarks/bench_instructions.py [--config a|b|c] [--steps N]

Needs ``valgrind`` (``apt-get install valgrind``); one (a) run takes about a
minute. Torch is never imported (its import alone is billions of instructions).
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIDES = ("hand NumPy", "chaingrad")


def run_steps(config_letter: str, side: str, steps: int) -> None:
    """The measured program: build one side of ``bench_tensor``, take two warm-up steps, then ``steps``."""
    sys.modules["torch"] = None  # bench_tensor then skips its PyTorch column
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from threadpoolctl import threadpool_limits

    import nn
    import tests.benchmarks.bench_tensor as bt
    from autograd import Tensor

    config = bt.CONFIGS["abc".index(config_letter)]
    rng = np.random.default_rng(0)
    weights = bt.initial_weights(config.sizes, rng)
    x = rng.standard_normal((config.batch, config.sizes[0]), dtype=np.float32)
    if config.loss == "mse_loss":
        target = rng.standard_normal((config.batch, config.sizes[-1]), dtype=np.float32)
    else:
        target = rng.integers(0, config.sizes[-1], config.batch)
    mlp = (bt.NumpyMLP(weights, config, x, target) if side == SIDES[0]
           else bt.EngineMLP(nn, nn.optim, weights, config, Tensor(x), target))
    gc.disable()  # the collector's runs depend on what happened before: not counted
    with threadpool_limits(limits=1):  # idle BLAS threads spin, and valgrind would count them
        for _ in range(2 + steps):
            mlp.step()


def instructions(config_letter: str, side: str, steps: int) -> int:
    """Instructions executed by ``run_steps`` under callgrind (no hash or address randomization)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               __file__, "--run", side, "--config", config_letter, "--steps", str(steps)]
    if shutil.which("setarch"):
        command = ["setarch", "-R", *command]
    one_thread = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, **one_thread, "PYTHONHASHSEED": "0"}  # no BLAS worker threads spinning in the count
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"valgrind failed for {side}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_step(config_letter: str, side: str, steps: int) -> float:
    return (instructions(config_letter, side, steps) - instructions(config_letter, side, 0)) / steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices="abc", default="a")
    parser.add_argument("--steps", type=int, default=None, help="steps counted (300 for (a), else 20)")
    parser.add_argument("--run", choices=SIDES, help=argparse.SUPPRESS)  # inside valgrind
    args = parser.parse_args()
    steps = args.steps if args.steps is not None else 300 if args.config == "a" else 20
    if args.run:
        run_steps(args.config, args.run, steps)
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    counts = {side: per_step(args.config, side, steps) for side in SIDES}
    print(f"({args.config}) instructions per step, {steps} steps counted:")
    for side, count in counts.items():
        print(f"  {side:<11} {count:>14,.0f}")
    print(f"  ratio       {counts['chaingrad'] / counts['hand NumPy']:>14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
