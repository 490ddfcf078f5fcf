"""chaingrad's demos: the classic lessons of gradient descent and backprop, on the engine.

Each demo is a module with ``run(output_dir, quick=False) -> dict``: it writes
only the forward pass, lets the engine do the rest, prints what it did, writes
its pictures into ``output_dir`` and returns the figures it reached (the tests
check them). ``python -m demos --list`` shows them all. The demos live in the
repository, not in the installed package: run them from its root.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import ModuleType

import nn  # noqa: F401  (first: it stops with a clear ImportError if `autograd` is another package)

DEMOS = (
    "quickstart", "linear_regression", "gradient_check", "xor", "and_gate", "moons",
    "binary_classifier", "iris", "digits", "optimizers", "backprop_steps", "forward_reverse",
)
HEADLINE = "quickstart"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "output"
EXTRA = ("matplotlib", "sklearn", "threadpoolctl")  # what `pip install "chaingrad[demos]"` brings


class DemosExtraMissing(ModuleNotFoundError):
    """A demo needs a package of the demos extra that is not installed."""


def load(name: str) -> ModuleType:
    """The module of demo ``name``; a clear error listing the demos if there is none."""
    check_name(name)
    try:
        return importlib.import_module(f"demos.{name}")
    except ModuleNotFoundError as missing:
        if (missing.name or "").partition(".")[0] not in EXTRA:
            raise
        raise DemosExtraMissing(
            f"the demos need {missing.name}, which is not installed: from the repository root, "
            'run pip install -e ".[demos]" (or pip install "chaingrad[demos]")', name=missing.name
        ) from missing


def summary(name: str) -> str:
    """The first line of the demo's docstring: what it shows (read without running the demo)."""
    check_name(name)
    source = Path(importlib.util.find_spec(f"demos.{name}").origin).read_text(encoding="utf-8")
    return (ast.get_docstring(ast.parse(source)) or "").strip().splitlines()[0]


def check_name(name: str) -> None:
    """A clear error listing the demos if there is no demo ``name``."""
    if name not in DEMOS:
        raise KeyError(f"no demo named {name!r}; the demos are: {', '.join(DEMOS)}")


def run(name: str, output_dir: Path = DEFAULT_OUTPUT, quick: bool = False) -> dict:
    """Run demo ``name``, writing into ``output_dir/name``; returns the figures it reached."""
    demo = load(name)
    folder = Path(output_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"== {name}: {summary(name)}")
    start = time.perf_counter()
    with one_blas_thread():
        figures = demo.run(folder, quick=quick)
    print(f"   done in {time.perf_counter() - start:.1f} s; pictures in {folder}\n")
    return figures


def one_blas_thread() -> AbstractContextManager:
    """Limit NumPy's BLAS to one thread while a demo runs (when threadpoolctl is installed).

    The demos multiply small matrices; on a few shared cores, BLAS threads
    spinning against each other made digits' training 10x slower (0.8 s vs 8-11 s).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
