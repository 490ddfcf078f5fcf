"""Backprop step by step: one neuron's backward pass as frames, and the chain rule in words.

The neuron of micrograd's lecture, o = tanh(x1 w1 + x2 w2 + b). Each frame
shows one op visited in reverse topological order, with upstream gradient x
local derivative = contribution on its edges. The explorer page
(backprop_explorer.html) is the better teacher: step with the arrow keys on
one zoomable graph, click any node for its numbers and its local rule. The
frames replay the pass on their own bookkeeping, and the last one holds
exactly the gradients ``o.backward()`` then computes.
"""
from __future__ import annotations

from pathlib import Path

from autograd import Value
from autograd.viz import backward_frames, explain, save_html
from autograd.viz.render import find_program
from demos._common import save_graph


def neuron() -> tuple[Value, list[Value]]:
    """o = tanh(x1 w1 + x2 w2 + b) with the lecture's numbers (b chosen so that o is about 0.7071)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1w1 + x2w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [x1, w1, x2, w2, b]


def run(output_dir: Path, quick: bool = False) -> dict:
    """Print the derivation, write every frame and the explorer page, check them against backward()."""
    o, leaves = neuron()
    print(explain(o))
    frames = list(backward_frames(o))
    folder = output_dir / "frames"
    folder.mkdir(exist_ok=True)
    files = [save_graph(frame.draw(), folder / f"frame_{frame.index:03d}") for frame in frames]
    middle = frames[len(frames) // 2]
    files.append(save_graph(middle.draw(), output_dir / "backprop_step", file_format="png"))
    if find_program():
        files.append(save_html(o, output_dir / "backprop_explorer.html", title="o = tanh(x1 w1 + x2 w2 + b)"))
        print(f"  wrote {files[-1]}: open it in a browser, press → to step, click a node for its rule")
    replayed = [frames[-1].grads[id(leaf)] for leaf in leaves]
    o.backward()
    matches = all(abs(r - leaf.grad) < 1e-12 for r, leaf in zip(replayed, leaves, strict=True))
    print(f"  {len(frames)} frames; the last one's gradients equal o.backward()'s: {matches}")
    return {"frames": len(frames), "matches_backward": matches, "files": files}
