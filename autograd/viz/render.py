"""Turning a graph's source into a picture: Graphviz's ``dot`` when installed, else ``graphviz-pure``.

``draw_dot`` builds a graph without any program; laying it out needs one. pip
installs ``graphviz-pure`` with chaingrad (a self-contained port of ``dot``:
SVG and PNG, no PDF), so pictures work after ``pip install`` alone; a system
Graphviz on PATH is used first. ``Digraph`` is the ``graphviz.Digraph`` that
``draw_dot`` returns: its ``pipe``, and so its inline display in Jupyter,
render the same way.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import graphviz

PROGRAMS = ("dot", "graphviz-pure")  # in order of preference


class GraphvizNotInstalled(RuntimeError):
    """No program to render with: neither Graphviz's ``dot`` nor ``graphviz-pure`` was found,
    or the format needs ``dot`` (PDF)."""


NOTHING_FOUND = (
    "rendering a picture needs Graphviz's `dot` program or `graphviz-pure`, and neither was found "
    "(searched PATH and {scripts}). chaingrad's install brings graphviz-pure: `pip install graphviz-pure` "
    "restores it. Or install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), `brew install "
    "graphviz` (macOS) or `conda install -c conda-forge graphviz`. Building the graph (draw_dot) works "
    "without either."
)
NEEDS_DOT = (
    "{format!r} pictures need Graphviz's `dot` program, which was not found on PATH; graphviz-pure, used "
    "in its place, writes svg and png but not {format}. Save as .svg or .png, or install Graphviz: "
    "`sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install -c conda-forge graphviz`."
)


def render(source: str, file_format: str, engine: str = "dot", encoding: str = "utf-8") -> bytes:
    """The picture of graphviz ``source`` in ``file_format`` (svg, png, pdf, ...), as bytes.

    Runs ``program -K<engine> -T<format>`` with the source on stdin, where
    program is ``find_program()``. Warnings the program prints are dropped; a
    failure raises ``graphviz.CalledProcessError`` with its message.
    """
    program = find_program()
    if program is None:
        raise GraphvizNotInstalled(NOTHING_FOUND.format(scripts=", ".join(scripts_dirs())))
    command = [program, f"-K{engine}", f"-T{file_format}"]
    done = subprocess.run(command, input=source.encode(encoding), capture_output=True, check=False)
    if done.returncode != 0:
        if Path(program).stem != "dot" and b"not recognized" in done.stderr:
            raise GraphvizNotInstalled(NEEDS_DOT.format(format=file_format))
        raise graphviz.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return done.stdout


def find_program() -> str | None:
    """The path of ``dot`` if it is on PATH, else of ``graphviz-pure``; None if neither is there.

    Besides PATH, the folders pip installs programs into for this Python are
    searched, so a Jupyter kernel started from an unactivated virtual
    environment still finds the graphviz-pure installed with chaingrad.
    """
    path = os.pathsep.join([os.environ.get("PATH", ""), *scripts_dirs()])
    for name in PROGRAMS:
        found = shutil.which(name, path=path)
        if found is not None:
            return found
    return None


def scripts_dirs() -> list[str]:
    """Where pip puts the programs of this Python's packages (the environment's, then the user's)."""
    schemes = (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user"))
    return list(dict.fromkeys(sysconfig.get_path("scripts", scheme) for scheme in schemes))


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders through ``render``: ``pipe()`` and the inline
    picture in Jupyter work with ``dot`` or with graphviz-pure.

    ``render()`` and ``view()`` are graphviz's own and need ``dot``; without it
    they say to use ``autograd.viz.save(graph, "graph.svg")``.
    """

    def pipe(self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
             neato_no_op: bool | int | None = None, quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """``graphviz.Digraph.pipe``; ``renderer``, ``formatter`` and ``neato_no_op`` need ``dot``."""
        if renderer is not None or formatter is not None or neato_no_op:
            return super().pipe(format=format, renderer=renderer, formatter=formatter,
                                neato_no_op=neato_no_op, quiet=quiet, engine=engine, encoding=encoding)
        picture = render(self.source, format or self.format, engine or self.engine, self.encoding)
        return picture if encoding is None else picture.decode(encoding)

    def render(self, *args: Any, **kwargs: Any) -> str:
        """``graphviz.Digraph.render``: it runs ``dot`` itself, so it needs Graphviz."""
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as missing:
            raise GraphvizNotInstalled(
                "Digraph.render() and view() run Graphviz's `dot`, which was not found on PATH. "
                "autograd.viz.save(graph, 'graph.svg') (or .png) writes the picture without it."
            ) from missing
