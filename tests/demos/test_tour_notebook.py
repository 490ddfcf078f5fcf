"""The tour notebook runs top to bottom, so it never rots.

Executed with nbclient in the ``python3`` kernel; skipped when nbclient or the
kernel is not installed (both are in the ``dev`` extra).
"""
from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

TOUR = Path(__file__).resolve().parents[2] / "demos" / "tour.ipynb"
REPO = TOUR.parents[1]


def python3_kernel_available() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return False
    return True


@pytest.mark.skipif(not python3_kernel_available(), reason="no python3 Jupyter kernel installed")
def test_tour_notebook_runs_every_cell_without_error():
    notebook = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(REPO)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert any("image/svg+xml" in out.get("data", {}) or "image/png" in out.get("data", {})
               for out in outputs), "the notebook showed no picture"
