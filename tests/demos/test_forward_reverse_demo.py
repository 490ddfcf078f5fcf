"""The forward_reverse demo in quick mode: both modes' pass counts and Newton-CG's convergence."""
from __future__ import annotations

import pytest

import demos

pytest.importorskip("matplotlib")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_forward_needs_a_pass_per_input_reverse_per_output_and_newton_cg_beats_gradient_descent(tmp_path):
    figures = demos.run("forward_reverse", tmp_path, quick=True)
    sizes = figures["sizes"]
    assert figures["passes"]["reverse mode (vjp), R^n -> R"] == [1] * len(sizes)
    assert figures["passes"]["reverse mode (vjp), R -> R^n"] == sizes
    assert figures["passes"]["forward mode (jvp), R^n -> R"] == sizes
    assert figures["passes"]["forward mode (jvp), R -> R^n"] == [1] * len(sizes)
    newton, descent = figures["newton_grad_norms"], figures["descent_grad_norms"]
    assert newton[-1] < 1e-12 and len(newton) <= 12
    assert descent[-1] > 1e3 * newton[-1]
    assert figures["hvp_calls"] > 0 and figures["newton_vs_exact_newton"] < 1e-6
    for path in figures["files"]:
        assert path.read_bytes()[:8] == PNG_MAGIC
