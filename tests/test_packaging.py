"""The package as users get it: one version, type markers, the installed copy under test in CI,
a clear stop when `autograd` is another package (HIPS autograd), and the demos' command line."""
from __future__ import annotations

import importlib.metadata
import importlib.resources
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import autograd
import demos
import nn

SOURCE_ROOTS = list(dict.fromkeys(Path(m.__file__).parents[1] for m in (autograd, nn, demos)))
INSTALLED = os.environ.get("CHAINGRAD_TEST_INSTALLED") == "1"  # set by .ci/run for the wheel's run


def python(code: str, cwd: Path, *first_on_path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter importing from ``first_on_path``, then chaingrad's folders."""
    path = os.pathsep.join(str(p) for p in [*first_on_path, *SOURCE_ROOTS])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)


def test_nn_version_is_autograds_version_object():
    assert isinstance(autograd.__version__, str) and autograd.__version__.count(".") == 2
    assert nn.__version__ is autograd.__version__


def test_both_packages_carry_the_typed_marker():
    for package in ("autograd", "nn"):
        assert importlib.resources.files(package).joinpath("py.typed").is_file(), package


@pytest.mark.skipif(not INSTALLED, reason="checks the installed wheel (CI sets CHAINGRAD_TEST_INSTALLED=1)")
def test_the_code_under_test_is_the_installed_wheel():
    site = Path(sysconfig.get_path("purelib")).resolve()
    for module in (autograd, nn, autograd.viz):
        assert Path(module.__file__).resolve().is_relative_to(site), module.__file__
    meta = importlib.metadata.metadata("chaingrad")
    assert meta["Version"] == autograd.__version__
    assert meta["License-Expression"] == "MIT"
    files = {str(f).replace("\\", "/") for f in importlib.metadata.files("chaingrad")}
    assert {"autograd/py.typed", "nn/py.typed", "autograd/viz/render.py"} <= files
    assert any(f.endswith("licenses/LICENSE") for f in files)


@pytest.fixture
def foreign_autograd(tmp_path) -> Path:
    """A folder holding an `autograd` package that is not chaingrad's (as HIPS autograd is)."""
    package = tmp_path / "foreign" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Efficiently computes derivatives of NumPy code."""\n'
                                         "def grad(fun):\n    return fun\n")
    return package.parent


def test_import_nn_beside_a_foreign_autograd_names_the_clash_and_the_fix(foreign_autograd, tmp_path):
    done = python("import nn", tmp_path, foreign_autograd)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:") and str(foreign_autograd / "autograd") in last
    assert "HIPS autograd" in last and "environment of its own" in last and "pip uninstall autograd" in last


def test_import_nn_with_autograd_left_without_its_init_says_to_reinstall(tmp_path):
    """`pip uninstall autograd` after HIPS autograd overwrote chaingrad's files leaves this."""
    (tmp_path / "site" / "autograd").mkdir(parents=True)
    (tmp_path / "site" / "nn").symlink_to(Path(nn.__file__).parent, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}  # -S: no site-packages, no other autograd
    done = subprocess.run([sys.executable, "-S", "-c", "import nn"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError:") and "lost its __init__.py" in last
    assert "pip install --force-reinstall chaingrad" in last


def test_demos_beside_a_foreign_autograd_name_the_clash(foreign_autograd, tmp_path):
    done = python("from demos.__main__ import main; main(['--list'])", tmp_path, foreign_autograd)
    assert done.returncode != 0
    assert "HIPS autograd" in done.stderr.strip().splitlines()[-1]


def test_demos_list_works_without_the_demos_extra(tmp_path):
    done = python("import sys; sys.modules.update(matplotlib=None, sklearn=None)\n"
                  "from demos.__main__ import main; main(['--list'])", tmp_path)
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert listed == list(demos.DEMOS)


def test_a_demo_without_the_demos_extra_says_what_to_install(tmp_path):
    done = python("import sys; sys.modules.update(matplotlib=None, sklearn=None)\n"
                  "from demos.__main__ import main; main(['xor'])", tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert 'pip install "chaingrad[demos]"' in done.stderr and "matplotlib" in done.stderr


def test_demos_help_is_plain_text(capsys):
    from demos.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "python -m demos" in text and "`" not in text
