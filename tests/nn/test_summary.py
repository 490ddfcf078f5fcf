"""nn.summary: the layer table's counts, shapes and graph sizes, and that it leaves the model as it was."""

import numpy as np
import pytest

import nn
from nn.summary import recording


def seeds_model():
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1),
                         nn.Sigmoid())


class Net(nn.Module):
    """Nested modules, a frozen parameter of its own and a layer used twice (shared weights)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Sequential(nn.Linear(8, 8), nn.ReLU()))
        self.head = nn.Linear(8, 3)
        self.tied = self.encoder[2][0]  # the same Linear registered twice
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32), requires_grad=False)

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


def total_size(model):
    return sum(1 if isinstance(p, nn.scalar.Value) else p.size for p in model.parameters())


MODELS = {
    "sequential": (seeds_model, (1, 30)),
    "mlp": (lambda: nn.MLP(3, [5, 5, 2]), (4, 3)),
    "nested": (Net, (2, 4)),
    "scalar": (lambda: nn.scalar.MLP(2, [4, 3, 1]), (2,)),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("depth", [0, 1, 2, None])
def test_parameter_counts_add_up_to_the_models_parameters(name, depth):
    make, shape = MODELS[name]
    nn.manual_seed(0)
    model = make()
    made = nn.summary(model, shape, depth=depth, print_fn=None)
    assert made.total_params == total_size(model) == sum(row.params for row in made.rows)
    assert made.total_params == model.num_parameters()


def test_the_seeds_model_table_shows_each_layer_like_keras(capsys):
    made = nn.summary(seeds_model(), (1, 30))
    assert [(row.name, row.type, row.output_shape, row.params) for row in made.rows] == [
        ("Sequential", "Sequential", "(1, 1)", 0),
        ("0", "Linear", "(1, 64)", 30 * 64 + 64), ("1", "ReLU", "(1, 64)", 0),
        ("2", "Linear", "(1, 64)", 64 * 64 + 64), ("3", "ReLU", "(1, 64)", 0),
        ("4", "Linear", "(1, 1)", 65), ("5", "Sigmoid", "(1, 1)", 0),
    ]
    assert (made.total_params, made.trainable_params, made.param_bytes) == (6209, 6209, 6209 * 4)
    assert made.graph_nodes == 6  # one fused node per layer
    printed = capsys.readouterr().out
    assert printed == str(made) + "\n"
    assert "0 (Linear)" in printed and "Total params: 6,209 (24.25 KB)" in printed
    assert "Non-trainable params: 0 (0.00 B)" in printed


def test_nested_modules_fold_below_depth_and_shared_parameters_count_once():
    nn.manual_seed(0)
    model = Net()
    rows = {row.name: row for row in nn.summary(model, np.zeros((5, 4)), depth=None, print_fn=None).rows}
    assert list(rows) == ["Net", "encoder", "encoder.0", "encoder.1", "encoder.2", "encoder.2.0",
                          "encoder.2.1", "head"]  # "tied" is encoder.2.0 again: listed once
    assert rows["encoder.2.0"].params == 72 and rows["encoder.2.0"].output_shape == "(5, 8)"
    assert rows["Net"].params == 3 and rows["Net"].trainable == "no" and rows["head"].trainable == "yes"
    folded = {row.name: row for row in nn.summary(model, (5, 4), depth=1, print_fn=None).rows}
    assert list(folded) == ["Net", "encoder", "head"]
    assert folded["encoder"].params == 40 + 72 and folded["encoder"].trainable == "yes"


def test_frozen_parameters_are_counted_as_non_trainable():
    made = nn.summary(Net(), (1, 4), print_fn=None)
    assert made.total_params - made.trainable_params == 3
    assert made.param_bytes - made.trainable_bytes == 12
    assert "Non-trainable params: 3 (12.00 B)" in str(made)


def test_scalar_networks_report_the_graph_nodes_of_one_forward_pass():
    nn.manual_seed(0)
    model = nn.scalar.MLP(2, [16, 16, 1])
    made = nn.summary(model, [0.5, -1.0], print_fn=None)
    assert made.graph_nodes == 16 * 2 + 16 * 2 + 1  # a dot and a relu per hidden neuron, a dot out
    assert [row.output_shape for row in made.rows] == ["()", "(16,)", "(16,)", "()"]
    assert made.param_bytes == 8 * 337
    assert "Graph nodes recorded by one forward pass: 65" in str(made)


def test_summary_leaves_classes_weights_modes_and_the_generator_as_they_were():
    model = Net()
    model.encoder.train(False)
    modes = [m.training for m in model.modules()]
    attributes = [dict(vars(m)) for m in model.modules()]
    classes = {cls: dict(vars(cls)) for cls in (Net, nn.Sequential, nn.Linear, nn.Tanh, nn.ReLU)}
    before = model.state_dict()
    nn.manual_seed(5)
    nn.summary(model, (3, 4), print_fn=None)
    after_summary = nn.module.generator().random()
    nn.manual_seed(5)
    assert after_summary == nn.module.generator().random()
    assert {cls: dict(vars(cls)) for cls in classes} == classes
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert [m.training for m in model.modules()] == modes and not model.encoder.training
    assert [dict(vars(m)) for m in model.modules()] == attributes  # no hook table or wrapper left behind


def test_hooks_are_removed_even_when_the_forward_fails():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("no")

    model = nn.Sequential(nn.Linear(2, 2), Broken())
    before = [dict(vars(m)) for m in model.modules()]
    with pytest.raises(RuntimeError, match="no"):
        nn.summary(model, (1, 2), print_fn=None)
    assert [dict(vars(m)) for m in model.modules()] == before


def test_recording_keeps_the_first_output_of_each_module():
    layer = nn.Linear(2, 3)
    with recording([layer]) as outputs:
        layer(np.ones((1, 2), dtype=np.float32))
        layer(np.ones((4, 2), dtype=np.float32))
    assert outputs[id(layer)].shape == (1, 3)
    assert layer(np.ones((2, 2), dtype=np.float32)).shape == (2, 3)


def test_bad_depth_is_refused():
    with pytest.raises(ValueError, match="depth must be >= 0"):
        nn.summary(seeds_model(), (1, 30), depth=-1)
