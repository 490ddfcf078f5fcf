"""Module: registration by assignment, dotted names, modes, repr, state dicts, save/load."""
import numpy as np
import pytest

import nn
from autograd import Tensor, Value


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.constant = Tensor([1.0, 2.0])  # a plain tensor is not a parameter

    def forward(self, x):
        return self.layers[1](self.layers[0](x).relu()) * self.scale


def make_mlp(seed=0):
    nn.manual_seed(seed)
    return nn.MLP(2, [4, 3])


def test_attributes_register_with_dotted_names_in_assignment_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["scale", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_sequential_children_are_numbered_as_in_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert isinstance(model[1], nn.ReLU) and len(model) == 3


def test_reassigning_an_attribute_unregisters_the_old_parameter():
    net = Net()
    net.scale = 2.0
    assert "scale" not in dict(net.named_parameters())


def test_shared_parameter_is_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, layer)
    assert len(model.parameters()) == 2


def test_subclass_without_super_init_still_registers():
    class Bare(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(3))

    assert [n for n, _ in Bare().named_parameters()] == ["w"]


def test_lists_of_values_and_modules_register_item_by_item():
    class Scalar(nn.Module):
        def __init__(self):
            self.w = [Value(1.0), Value(2.0)]
            self.parts = [nn.Linear(1, 1)]

    names = [n for n, _ in Scalar().named_parameters()]
    assert names == ["w.0", "w.1", "parts.0.weight", "parts.0.bias"]


def test_calling_a_module_runs_the_forward_of_its_own_class():
    class Double(nn.Module):
        def forward(self, x):
            return 2 * x

    class Quadruple(Double):
        def forward(self, x):
            return 2 * super().forward(x)

    class Logged(Double):
        def __call__(self, x):
            self.seen = x
            return self.forward(x)

    assert Double()(3) == 6 and Quadruple()(3) == 12
    logged = Logged()
    assert logged(5) == 10 and logged.seen == 5


def test_num_parameters_counts_every_number():
    assert make_mlp().num_parameters() == 2 * 4 + 4 + 4 * 3 + 3


def test_zero_grad_sets_none_for_tensors_and_zero_for_values():
    model = make_mlp()
    model(np.ones((1, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    neuron = nn.scalar.Neuron(2)
    neuron([1.0, 2.0]).backward()
    neuron.zero_grad()
    assert all(p.grad == 0.0 for p in neuron.parameters())


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_repr_prints_the_tree_like_pytorch():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        ")"
    )


def test_repr_collapses_runs_of_identical_children():
    text = repr(nn.scalar.Layer(2, 5))
    assert "(neurons.0-4): 5 x Neuron(2, relu)" in text


def test_state_dict_holds_copies():
    model = make_mlp()
    state = model.state_dict()
    state["0.weight"][...] = 0
    assert np.any(model[0].weight.data != 0)


def test_state_dict_round_trip_restores_outputs():
    source, target = make_mlp(0), make_mlp(1)
    x = np.random.default_rng(0).standard_normal((5, 2))
    assert not np.allclose(source(x).data, target(x).data)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_state_dict_round_trip_for_a_scalar_net():
    nn.manual_seed(0)
    source = nn.scalar.MLP(2, [3, 1])
    nn.manual_seed(1)
    target = nn.scalar.MLP(2, [3, 1])
    target.load_state_dict(source.state_dict())
    assert target([0.5, -1.0]).data == source([0.5, -1.0]).data


def test_load_state_dict_lists_missing_and_unexpected_keys():
    model = make_mlp()
    state = model.state_dict()
    state["extra.weight"] = state.pop("2.bias")
    with pytest.raises(ValueError, match=r"missing key\(s\): \['2.bias'\]") as info:
        model.load_state_dict(state)
    assert "unexpected key(s): ['extra.weight']" in str(info.value)


def test_load_state_dict_names_shape_mismatches_and_changes_nothing():
    model = make_mlp()
    before = model.state_dict()
    state = make_mlp(1).state_dict()
    state["0.weight"] = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"0.weight: checkpoint shape \(5, 2\), model shape \(4, 2\)"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_non_strict_load_skips_and_reports_missing_keys():
    model = make_mlp()
    state = make_mlp(1).state_dict()
    del state["2.bias"]
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == []
    np.testing.assert_array_equal(model[0].weight.data, state["0.weight"])


def test_save_and_load_round_trip_through_npz(tmp_path):
    source, target = make_mlp(0), make_mlp(1)
    path = tmp_path / "model.npz"
    nn.save(source, path)
    assert nn.load(target, path) is target
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value)
    assert target[0].weight.dtype == np.float32


def test_state_dict_keys_and_shapes_match_the_torch_model():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    ours_shapes = {k: v.shape for k, v in ours.state_dict().items()}
    assert ours_shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-6)
