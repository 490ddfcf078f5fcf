"""Every op in the table carries its rule as data: one text per input (what explain and pictures print)."""

import inspect

import pytest

from autograd import Tensor, Value, concatenate, graph
from autograd import functions as ops
from autograd.viz import explain
from autograd.viz.explain import variadic_rule

# Bases that hold shared code and are never recorded themselves: their subclasses carry the rule.
ABSTRACT = {ops.FromInput, ops.FromOutput, ops.ScaleBy, ops.Select, ops.PointwiseLoss}
TABLE = sorted((c for c in vars(ops).values()
                if isinstance(c, type) and issubclass(c, graph.Function) and c.__module__ == ops.__name__
                and c not in ABSTRACT), key=lambda c: c.__name__)


def inputs_of(fn: type) -> tuple[int, bool]:
    """How many positional inputs ``fn.forward`` takes after ctx, and whether it takes any number more."""
    params = list(inspect.signature(fn.forward).parameters.values())[1:]
    fixed = sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)
    return fixed, any(p.kind is p.VAR_POSITIONAL for p in params)


@pytest.mark.parametrize("fn", TABLE, ids=lambda c: c.__name__)
def test_every_op_in_the_table_has_one_rule_per_input(fn):
    fixed, variadic = inputs_of(fn)
    assert fn.rule, f"{fn.__name__} has no rule"
    assert all(isinstance(text, str) for text in fn.rule)
    if not variadic:
        assert len(fn.rule) == fixed, f"{fn.__name__}: {len(fn.rule)} rules for {fixed} inputs"
        return
    for n in (fixed + 2, fixed + 4):  # any number of inputs (in runs of 1 or 2): the rule covers each
        expanded = [variadic_rule(fn.rule, n, k) for k in range(n)]
        assert None not in expanded and all(expanded), f"{fn.__name__} over {n} inputs: {expanded}"


def test_the_abstract_bases_are_never_recorded_themselves():
    for base in ABSTRACT:
        assert not any(type(v) is base for v in vars(ops).values())
        assert any(issubclass(c, base) for c in TABLE)


def test_concatenate_explains_each_inputs_slice_instead_of_its_backward_call():
    a = Tensor([1.0, 2.0], requires_grad=True, label="a")
    b = Tensor([3.0], requires_grad=True, label="b")
    text = explain(concatenate([a, b]).sum())
    assert "Concatenate.backward" not in text
    assert text.count(ops.Concatenate.rule[0]) == 2


def test_affine_explains_each_weight_and_input_by_its_position():
    w, x, b = [Value(0.5), Value(-2.0)], [Value(1.5, label="x1"), Value(3.0, label="x2")], Value(0.25)
    out = ops.Affine.apply(b, *w, *x)
    text = explain(out)
    assert "Affine.backward" not in text
    for rule in ("g * x_1", "g * x_2", "g * w_1", "g * w_2"):
        assert rule in text


def test_variadic_rule_refuses_a_count_its_runs_do_not_divide():
    assert variadic_rule(ops.Affine.rule, 4, 0) is None  # b plus two runs needs an odd count
    assert variadic_rule(ops.Affine.rule, 5, 4) == "g * w_2"
    assert variadic_rule(ops.Mul.rule, 3, 0) is None
