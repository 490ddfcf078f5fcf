"""Rendering with Graphviz's dot when it is on PATH, with graphviz-pure when it is not.

The ``without_dot`` fixture leaves only graphviz-pure to find: PATH holds a
folder with nothing but a link to it, and pip's program folders are not searched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import graphviz
import pytest

import autograd
from autograd import Value, draw_dot
from autograd.viz import GraphvizNotInstalled, backward_frames, save
from autograd.viz import render as rendering
from autograd.viz.core import graph_nodes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a stand-in program")


def graphviz_pure() -> str:
    """Where graphviz-pure is (installed with chaingrad); skips on platforms without it."""
    search = os.pathsep.join([os.environ["PATH"], *rendering.scripts_dirs()])
    found = shutil.which("graphviz-pure", path=search)
    if found is None:
        pytest.skip("graphviz-pure is not installed (it has no wheel for this platform)")
    return found


def only_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, programs: dict[str, str]) -> None:
    """PATH becomes a folder holding just ``programs`` (name -> target); pip's folders are not searched."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, target in programs.items():
        (folder / name).symlink_to(target)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(rendering, "scripts_dirs", lambda: [])


@pytest.fixture
def without_dot(tmp_path, monkeypatch):
    only_on_path(tmp_path, monkeypatch, {"graphviz-pure": graphviz_pure()})


def small_graph() -> Value:
    """tanh(a b + a**2) after backward: records, ops, a constant exponent."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b + a**2).tanh()
    out.backward()
    return out


def test_without_dot_graphviz_pure_is_the_program(without_dot):
    assert Path(rendering.find_program()).name == "graphviz-pure"


def test_without_dot_svg_has_one_node_per_value_and_op(without_dot, tmp_path):
    graph = small_graph()
    root = ET.parse(save(graph, tmp_path / "graph.svg")).getroot()
    drawn = sum(1 for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node")
    nodes = graph_nodes(graph)
    assert drawn == len(nodes) + sum(n._fn is not None for n in nodes)


def test_without_dot_png_is_written(without_dot, tmp_path):
    assert save(small_graph(), tmp_path / "graph.png").read_bytes().startswith(PNG_MAGIC)


def test_without_dot_pdf_is_a_clear_error_and_writes_nothing(without_dot, tmp_path):
    with pytest.raises(GraphvizNotInstalled, match=r"'pdf' pictures need Graphviz's `dot`.*\.svg or \.png"):
        save(small_graph(), tmp_path / "graph.pdf")
    assert not (tmp_path / "graph.pdf").exists()


def test_without_dot_jupyter_shows_the_graph_inline(without_dot):
    graph = draw_dot(small_graph())
    assert isinstance(graph, graphviz.Digraph)
    bundle = graph._repr_mimebundle_(include=["image/svg+xml", "image/png"])
    assert "<svg" in bundle["image/svg+xml"] and "tanh" in bundle["image/svg+xml"]
    assert bundle["image/png"].startswith(PNG_MAGIC)


def test_without_dot_pipe_gives_bytes_or_text_as_graphviz_does(without_dot):
    graph = draw_dot(small_graph())
    assert graph.pipe().lstrip().startswith(b"<")  # the graph's own format, svg
    assert graph.pipe(format="png").startswith(PNG_MAGIC)
    assert "<svg" in graph.pipe(format="svg", encoding="utf-8")


def test_without_dot_backward_frames_show_inline(without_dot):
    frame = list(backward_frames(small_graph()))[1]
    assert "<svg" in frame.draw()._repr_mimebundle_()["image/svg+xml"]


def test_without_dot_digraph_render_points_to_save(without_dot, tmp_path):
    with pytest.raises(GraphvizNotInstalled, match=r"autograd\.viz\.save"):
        draw_dot(small_graph()).render(tmp_path / "graph", format="svg")


@POSIX_ONLY
def test_dot_is_used_first_when_both_are_there(tmp_path, monkeypatch):
    fake_dot = tmp_path / "fake-dot"
    fake_dot.write_text("#!/bin/sh\ncat > /dev/null\necho \"fake dot $@\"\n")
    fake_dot.chmod(0o755)
    only_on_path(tmp_path, monkeypatch, {"graphviz-pure": graphviz_pure(), "dot": str(fake_dot)})
    assert draw_dot(small_graph()).pipe(format="pdf") == b"fake dot -Kdot -Tpdf\n"


def test_with_neither_program_the_error_says_what_to_install(tmp_path, monkeypatch):
    only_on_path(tmp_path, monkeypatch, {})
    with pytest.raises(GraphvizNotInstalled, match=r"pip install graphviz-pure.*apt-get install graphviz"):
        draw_dot(small_graph())._repr_mimebundle_()


def test_a_failing_program_raises_with_its_message(without_dot):
    with pytest.raises(graphviz.CalledProcessError, match="syntax error"):
        rendering.render("digraph { a -> ", "svg")


def test_failed_save_leaves_the_old_file_and_no_partial_file(without_dot, tmp_path, monkeypatch):
    target = tmp_path / "graph.svg"
    target.write_text("old picture")

    def interrupted(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        save(small_graph(), target)
    assert target.read_text() == "old picture"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["graph.svg"]


def test_save_replaces_an_existing_file(without_dot, tmp_path):
    target = tmp_path / "graph.svg"
    target.write_text("old picture")
    save(small_graph(), target)
    assert "<svg" in target.read_text()


def test_a_python_without_dot_on_path_still_draws(tmp_path):
    """For real, in a fresh interpreter: PATH names no folder with dot; pip's own folder is searched."""
    graphviz_pure()
    script = textwrap.dedent("""
        from pathlib import Path
        from autograd import Value
        from autograd.viz import save
        from autograd.viz.render import find_program
        a = Value(2.0, label="a")
        save((a * a).tanh(), "graph.png")
        print(Path(find_program()).name, Path("graph.png").read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n")
    """)
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": str(Path(autograd.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    if done.stdout.split()[0] == "dot":
        pytest.skip("this Python's own program folder holds a dot (conda's graphviz)")
    assert done.stdout.split() == ["graphviz-pure", "True"]


def test_threads_saving_one_path_leave_one_whole_picture(without_dot, tmp_path):
    graph, target = draw_dot(small_graph()), tmp_path / "graph.svg"
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: save(graph, target), range(4)))
    assert ET.parse(target).getroot().tag.endswith("svg")
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["graph.svg"]
