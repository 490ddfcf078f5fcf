"""Every demo in quick mode: it reaches its "must reach" figure and writes its pictures.

Each test runs one demo into a temporary folder through the same registry the
command line uses, then checks the figures it returns (issue 7's table) and
that every file it lists exists and is a real PNG or SVG (or, without
graphviz's ``dot``, the ``.dot`` source).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import demos
from autograd.viz.render import find_program
from demos.__main__ import main

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_quick(name: str, tmp_path: Path) -> dict:
    figures = demos.run(name, tmp_path, quick=True)
    assert figures["files"], f"{name} wrote no files"
    for path in figures["files"]:
        assert_picture(Path(path))
    return figures


def assert_picture(path: Path) -> None:
    """A PNG starts with its magic bytes; graphs are SVG (or an HTML page of SVGs) when dot
    exists, else their graphviz source."""
    assert path.is_file() and path.stat().st_size > 0, f"{path} was not written"
    content = path.read_bytes()
    if path.suffix == ".png":
        assert content[:8] == PNG_MAGIC, f"{path} is not a PNG"
    elif find_program():
        assert path.suffix in (".svg", ".html") and b"<svg" in content, f"{path} holds no SVG"
    else:
        assert path.suffix == ".dot" and content.lstrip().startswith(b"digraph"), f"{path} is no graph source"


def test_linear_regression_lands_on_least_squares_for_all_three_batch_sizes(tmp_path):
    figures = run_quick("linear_regression", tmp_path)
    exact = figures["least_squares"]
    for variant in ("batch", "stochastic", "mini-batch"):
        for coefficient in ("intercept", "slope"):
            assert abs(figures[variant][coefficient] - exact[coefficient]) < 0.15, (variant, coefficient)


def test_gradient_check_agrees_to_one_part_in_a_million_for_every_parameter(tmp_path):
    figures = run_quick("gradient_check", tmp_path)
    assert set(figures["per_parameter"]) == {"W1", "b1", "W2", "b2"}
    assert figures["max_relative_error"] < 1e-6


def test_xor_puts_all_four_points_on_the_right_side_of_one_half(tmp_path):
    figures = run_quick("xor", tmp_path)
    assert np.array_equal(figures["predictions"] > 0.5, figures["targets"] > 0.5)
    assert figures["mse"] < 0.01


def test_and_gate_is_solved_and_the_exercises_are_compared(tmp_path):
    figures = run_quick("and_gate", tmp_path)
    assert figures["and_solved"]
    assert len(figures["solved"]) == 4 and all(figures["solved"].values())  # every exercise solved too


def test_scalar_moons_reaches_full_training_accuracy(tmp_path):
    figures = run_quick("moons", tmp_path)
    assert figures["train_accuracy"] == 1.0


def test_binary_classifier_scores_at_least_95_percent_on_held_out_tumours(tmp_path):
    assert run_quick("binary_classifier", tmp_path)["test_accuracy"] >= 0.95


def test_iris_models_score_at_least_95_percent_on_held_out_flowers(tmp_path):
    figures = run_quick("iris", tmp_path)
    for name, accuracy in figures["test_accuracy"].items():
        assert accuracy >= 0.95, name
        assert figures["confusion"][name].sum() == 45  # 30% of 150 flowers


def test_digits_reaches_97_percent_on_held_out_images_in_under_10_seconds(tmp_path):
    figures = run_quick("digits", tmp_path)  # training takes ~1 s: quick mode is the full run
    assert figures["test_accuracy"] >= 0.97
    assert figures["train_seconds"] < 10


def test_optimizers_end_visibly_apart_from_plain_sgd(tmp_path):
    figures = run_quick("optimizers", tmp_path)
    valley, network = figures["rosenbrock_final"], figures["network_final"]
    assert set(valley) == set(network) == {"SGD", "momentum 0.9", "RMSprop", "Adam"}
    for name in ("momentum 0.9", "RMSprop", "Adam"):
        assert valley[name] < valley["SGD"] / 10, name  # far further along the valley
        assert network[name] < network["SGD"], name


def test_backprop_steps_writes_every_frame_and_replays_backward_exactly(tmp_path):
    figures = run_quick("backprop_steps", tmp_path)
    assert figures["frames"] == 7  # start, one per op (5), done
    assert figures["matches_backward"]
    assert len(list((tmp_path / "backprop_steps" / "frames").iterdir())) == figures["frames"]


def test_command_line_lists_every_demo(capsys):
    main(["--list"])
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(demos.DEMOS)


def test_headline_demo_runs_from_the_command_line_and_says_where_files_are(tmp_path, capsys):
    main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    folder = tmp_path / demos.HEADLINE
    assert str(folder) in out
    assert (folder / "moons_boundary.png").read_bytes()[:8] == PNG_MAGIC
    assert any(folder.glob("moons_graph.*"))
    assert "train accuracy" in out or "training accuracy" in out


def test_unknown_demo_name_is_a_clear_error_and_writes_nothing(tmp_path):
    with pytest.raises(KeyError, match="no demo named 'nope'"):
        demos.run("nope", tmp_path)
    assert not any(tmp_path.iterdir())


def test_without_graphviz_the_graph_source_is_written_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda program, path=None: None)
    figures = demos.run("backprop_steps", tmp_path, quick=True)
    assert figures["files"] and all(Path(path).suffix == ".dot" for path in figures["files"])
    assert all(Path(path).read_text().startswith("digraph") for path in figures["files"])
    assert "`dot` is not installed" in capsys.readouterr().out
