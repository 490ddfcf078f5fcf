"""The README's "Debugging gradients" examples run as written and say what they claim."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def debugging_blocks() -> dict[str, str]:
    """Each ``### `` subsection of "Debugging gradients" and its Python code."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Debugging gradients", 1)[1].split("\n## ", 1)[0]
    blocks = {}
    for part in section.split("\n### ")[1:]:
        title, body = part.split("\n", 1)
        blocks[title.strip()] = "\n".join(re.findall(r"```python\n(.*?)```", body, re.S))
    return blocks


BLOCKS = debugging_blocks()


def run(title: str, namespace: dict) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(BLOCKS[title], f"README: {title}", "exec"), namespace)  # noqa: S102
    return output.getvalue()


def test_the_section_has_the_four_tools():
    assert list(BLOCKS) == ["Anomaly mode", "Hooks", "Checking each op", "Forward mode"]


def test_anomaly_example_names_sqrt_and_the_element():
    pytest.importorskip("graphviz")
    printed = run("Anomaly mode", {})
    assert "Sqrt" in printed and "inf" in printed and "(1,)" in printed


def test_the_following_examples_run_and_print_what_their_comments_say():
    namespace: dict = {}
    exec("from autograd import Tensor", namespace)  # noqa: S102 (the section's first example imports it)
    assert "dL/dh = [ 4. -8. 12.]" in run("Hooks", namespace)
    assert namespace["x"].grad.tolist() == [1.0, -1.0, 1.0]  # 4 x = [4, -8, 12] clipped by the leaf's hook
    run("Checking each op", namespace)
    run("Forward mode", namespace)
    x = namespace["x"].data
    d_x_tanh_x = np.tanh(x) + x * (1 - np.tanh(x) ** 2)  # d/dx (x tanh x), times v = e_0
    np.testing.assert_allclose(namespace["Jv"].data, d_x_tanh_x * [1.0, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(namespace["Hv"].data, 12 * x**2 * [1.0, 0.0, 0.0], rtol=1e-6)
