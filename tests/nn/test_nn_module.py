"""Module: registration by assignment, dotted names, modes, repr, state dicts, save/load."""
import copy

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


# ------------------------------------------------ containers read live (issue 11)


def test_modules_appended_to_a_list_after_assignment_are_registered_and_trained():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for _ in range(2):
                self.blocks.append(nn.Linear(2, 2))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    model = Stack()
    names = ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert list(model.state_dict()) == names
    before = model.blocks[1].weight.data.copy()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    model(np.ones((1, 2))).sum().backward()
    opt.step()
    assert not np.array_equal(model.blocks[1].weight.data, before)
    assert [name for name, _ in model.named_children()] == ["blocks.0", "blocks.1"]


def test_dicts_tuples_and_nested_lists_of_modules_register_with_their_keys():
    class Holder(nn.Module):
        def __init__(self):
            self.heads = {"a": nn.Linear(1, 1, bias=False)}
            self.pair = (nn.Linear(1, 1, bias=False), 3)  # items that are not modules are skipped
            self.grid = [[nn.Parameter(np.zeros(1))]]

    holder = Holder()
    holder.heads["b"] = nn.Linear(1, 1, bias=False)
    assert list(holder.state_dict()) == ["grid.0.0", "heads.a.weight", "heads.b.weight", "pair.0.weight"]


# ------------------------------------------------------- which forward runs


def test_forward_patched_on_the_instance_runs():
    layer = nn.ReLU()
    layer.forward = lambda x: "patched"
    assert layer(Tensor([1.0])) == "patched"


def test_forward_patched_on_the_class_after_definition_runs():
    class Doubler(nn.Module):
        def forward(self, x):
            return 2 * x

    Doubler.forward = lambda self, x: 3 * x
    assert Doubler()(2) == 6


def test_multiple_inheritance_runs_the_forward_the_mro_finds():
    class Base(nn.Module):
        def forward(self, x):
            return "base"

    class Mixin:
        def forward(self, x):
            return "mixin"

    class Both(Mixin, Base):
        pass

    assert Both()(1) == "mixin" == Both().forward(1)


# ------------------------------------------------------------------- hooks


def test_forward_pre_hook_can_replace_the_arguments_and_a_single_result_is_wrapped():
    layer = nn.Linear(2, 1, dtype=np.float64)
    seen = []
    layer.register_forward_pre_hook(lambda module, args: seen.append((module, args)))
    handle = layer.register_forward_pre_hook(lambda module, args: args[0] * 0)
    out = layer(np.ones((1, 2)))
    assert seen[0][0] is layer and seen[0][1][0].shape == (1, 2)
    np.testing.assert_array_equal(out.data, layer.bias.data.reshape(1, 1))
    handle.remove()
    assert not np.array_equal(layer(np.ones((1, 2))).data, out.data)


def test_forward_hook_sees_args_and_output_and_can_replace_the_output():
    relu = nn.ReLU()
    calls = []

    def hook(module, args, output):
        calls.append((module, args, output))
        return output * 10

    with relu.register_forward_hook(hook):
        out = relu(Tensor([-1.0, 2.0]))
        np.testing.assert_array_equal(out.data, [0.0, 20.0])
    assert calls[0][0] is relu and calls[0][1][0].shape == (2,)
    np.testing.assert_array_equal(relu(Tensor([2.0])).data, [2.0])  # removed on leaving the with
    assert len(calls) == 1


def test_hooks_belong_to_one_instance_and_run_in_registration_order():
    a, b = nn.ReLU(), nn.ReLU()
    order = []
    a.register_forward_hook(lambda m, args, out: order.append(1))
    a.register_forward_hook(lambda m, args, out: order.append(2))
    b(Tensor([1.0]))
    a(Tensor([1.0]))
    assert order == [1, 2]
    with pytest.raises(TypeError, match="callable"):
        a.register_forward_hook("not a function")


# ------------------------------------------------------- apply, float, double


def test_apply_visits_children_before_the_parent():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    visited = []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    assert visited == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_double_and_float_cast_parameters_and_gradients_in_place():
    model = make_mlp()
    params = model.parameters()
    model(np.ones((1, 2))).sum().backward()
    assert model.double() is model
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert model.parameters()[0] is params[0]  # the same Parameter objects: optimizers keep them
    assert model(np.ones((1, 2))).dtype == np.float64
    assert all(p.dtype == np.float32 for p in model.float().parameters())


# --------------------------------------------------------- files (issue 11)


def test_save_is_atomic_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    good = make_mlp(0)
    nn.save(good, path)
    calls = []
    real_write = np.lib.format.write_array

    def failing_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        nn.save(make_mlp(1), path)
    monkeypatch.undo()
    restored = nn.load(make_mlp(2), path)
    for name, value in good.state_dict().items():
        np.testing.assert_array_equal(restored.state_dict()[name], value)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind


@pytest.mark.parametrize("name", ["file", "allow_pickle", "args", "kwds"])
def test_parameters_named_like_savez_keywords_round_trip(tmp_path, name):
    class Odd(nn.Module):
        pass

    source, target = Odd(), Odd()
    source.register_parameter(name, nn.Parameter(np.arange(3.0)))
    source.register_parameter("other", nn.Parameter(np.ones(2)))
    target.register_parameter(name, nn.Parameter(np.zeros(3)))
    target.register_parameter("other", nn.Parameter(np.zeros(2)))
    nn.save(source, tmp_path / "odd.npz")
    nn.load(target, tmp_path / "odd.npz")
    np.testing.assert_array_equal(getattr(target, name).data, np.arange(3.0))
    np.testing.assert_array_equal(target.other.data, np.ones(2))


def test_load_state_dict_with_a_bad_dtype_changes_nothing():
    model = make_mlp()
    before = model.state_dict()
    state = make_mlp(1).state_dict()
    state["2.bias"] = state["2.bias"].astype(complex)  # the last entry: earlier ones would be loaded first
    state["0.bias"] = np.array(["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="2.bias: checkpoint dtype complex128") as info:
        model.load_state_dict(state)
    assert "0.bias: checkpoint dtype <U1" in str(info.value)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_accepts_tensors_as_values():
    source, target = make_mlp(0), make_mlp(1)
    target.load_state_dict({k: Tensor(v) for k, v in source.state_dict().items()})
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)


def test_load_refuses_a_npy_file_and_garbage_with_a_clear_error(tmp_path):
    np.save(tmp_path / "weights.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"single array \(\.npy\), not a checkpoint"):
        nn.load(make_mlp(), tmp_path / "weights.npy")
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="is not an .npz checkpoint written by nn.save"):
        nn.load(make_mlp(), tmp_path / "junk.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="is not an .npz checkpoint"):
        nn.load(make_mlp(), tmp_path / "empty.npz")


def test_a_module_listed_twice_or_holding_itself_is_visited_once():
    class Loop(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)
            self.again = [self.layer, self]

    loop = Loop()
    assert [name for name, _ in loop.named_modules()] == ["", "layer"]
    assert len(loop.parameters()) == 2


def test_load_refuses_an_archive_of_pickled_objects(tmp_path):
    np.savez(tmp_path / "objects.npz", **{"0.weight": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="is not an .npz checkpoint written by nn.save"):
        nn.load(make_mlp(), tmp_path / "objects.npz")
    with pytest.raises(FileNotFoundError):
        nn.load(make_mlp(), tmp_path / "missing.npz")


def test_public_namespaces_list_only_public_names():
    for namespace in (nn, nn.data, nn.utils, nn.optim.lr_scheduler):
        listed = set(dir(namespace))
        assert not {"np", "Any", "annotations", "math"} & listed, namespace.__name__
        assert all(hasattr(namespace, name) for name in listed)
    assert {"Linear", "fit", "to_torch", "utils", "callbacks"} <= set(dir(nn))
    assert "module" not in dir(nn) and "layers" not in dir(nn)


def test_a_parameter_is_a_marked_tensor_that_isinstance_recognises():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    assert type(p) is Tensor and p.requires_grad  # one type in every graph (see nn.Parameter)
    assert isinstance(p, nn.Parameter) and isinstance(copy.deepcopy(p), nn.Parameter)
    assert not isinstance(Tensor(np.ones(3)), nn.Parameter)
    assert not isinstance(p.detach(), nn.Parameter) and not isinstance(p * 2, nn.Parameter)
    assert not isinstance(np.ones(3), nn.Parameter)
    assert repr(p).startswith("Parameter containing:\nTensor(")
    layer = nn.Linear(2, 3)
    assert all(isinstance(q, nn.Parameter) for q in layer.parameters())
    layer.extra = Tensor(np.ones(2), requires_grad=True)  # a plain tensor is not registered
    assert len(layer.parameters()) == 2
