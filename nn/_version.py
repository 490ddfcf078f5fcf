"""nn's version, which is autograd's; importing it first stops early if `autograd` is another package.

HIPS autograd (``pip install autograd``) has the same import name as chaingrad's
engine: installed together, one shadows the other or overwrites its files.
"""
from __future__ import annotations

import autograd

CLASH = (
    "the `autograd` package Python found ({where}) is not chaingrad's: another project, most likely "
    "HIPS autograd (`pip install autograd`), uses the same import name, and the two cannot live in one "
    "environment. Install chaingrad in an environment of its own (python -m venv .venv), or remove the "
    "other one (pip uninstall autograd) and reinstall chaingrad (pip install --force-reinstall chaingrad), "
    "since both write into the same folder."
)

BROKEN = (
    "chaingrad's `autograd` package in {where} has lost its __init__.py, as happens when "
    "`pip uninstall autograd` removes HIPS autograd installed over it: reinstall chaingrad "
    "(pip install --force-reinstall chaingrad)."
)

if getattr(autograd, "__file__", None) is None:
    raise ImportError(BROKEN.format(where=", ".join(autograd.__path__)))
if not hasattr(autograd, "Tensor") or not hasattr(autograd, "__version__"):
    raise ImportError(CLASH.format(where=autograd.__file__))

__version__: str = autograd.__version__
