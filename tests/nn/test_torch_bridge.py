"""nn.to_torch / nn.from_torch: the same model in both libraries, same outputs and gradients."""
import numpy as np
import pytest

import nn
from autograd import Tensor

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


def every_layer_model():
    nn.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.LeakyReLU(0.2), nn.Dropout(0.25),
        nn.Linear(8, 5, bias=False), nn.Tanh(), nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 3),
        nn.Softmax(dim=1),
    )


def assert_same_outputs_and_gradients(ours, theirs, x):
    xt = torch.tensor(x, requires_grad=True)
    x_ours = Tensor(x, requires_grad=True)
    weights = rng.standard_normal((x.shape[0], 3)).astype(np.float32)
    out_ours, out_theirs = ours(x_ours), theirs(xt)
    np.testing.assert_allclose(out_ours.data, out_theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
    (out_ours * weights).sum().backward()
    (out_theirs * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(x_ours.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-6)
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, named[name].grad.numpy(), rtol=1e-6, atol=1e-6, err_msg=name)


def test_to_torch_gives_the_same_model_with_the_same_weights_outputs_and_gradients():
    ours = every_layer_model().eval()
    theirs = nn.to_torch(ours)
    assert isinstance(theirs, torch.nn.Sequential) and not theirs.training
    assert list(theirs.state_dict()) == list(ours.state_dict())
    for name, value in ours.state_dict().items():
        assert theirs.state_dict()[name].dtype == torch.float32
        np.testing.assert_array_equal(theirs.state_dict()[name].numpy(), value)
    assert_same_outputs_and_gradients(ours, theirs, rng.standard_normal((5, 2, 3)).astype(np.float32))


def test_from_torch_gives_the_same_model_back():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Dropout(0.5),
                                 torch.nn.Linear(8, 3)).eval()
    ours = nn.from_torch(theirs)
    assert isinstance(ours, nn.Sequential) and isinstance(ours[2], nn.Dropout) and ours[2].p == 0.5
    assert not any(m.training for m in ours.modules())
    assert_same_outputs_and_gradients(ours, theirs, rng.standard_normal((4, 6)).astype(np.float32))


def test_round_trip_keeps_the_configuration_and_copies_the_weights():
    ours = every_layer_model()
    back = nn.from_torch(nn.to_torch(ours))
    assert repr(back) == repr(ours)
    assert back[6].bias is None and back[4].negative_slope == 0.2 and back[0].start_dim == 1
    back[1].weight.data[...] = 0
    assert np.any(ours[1].weight.data != 0)  # a copy, not shared memory


def test_mlp_module_list_and_float64_convert():
    nn.manual_seed(1)
    mlp = nn.MLP(3, [4, 2], activation="tanh", dtype=np.float64)
    theirs = nn.to_torch(mlp)
    assert theirs[0].weight.dtype == torch.float64
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(mlp(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    pair = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    assert isinstance(nn.to_torch(pair), torch.nn.ModuleList)
    assert isinstance(nn.from_torch(nn.to_torch(pair))[1], nn.ReLU)


def test_unsupported_layers_are_named_in_the_error():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="no torch equivalent for Custom"):
        nn.to_torch(nn.Sequential(nn.Linear(2, 2), Custom()))
    with pytest.raises(TypeError, match=r"no chaingrad equivalent for torch.nn.Conv2d"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3)))
    with pytest.raises(ValueError, match="Softmax\\(\\) without dim"):
        nn.from_torch(torch.nn.Softmax())


def test_from_torch_does_not_draw_from_the_seeded_generator():
    theirs = torch.nn.Linear(2, 2)
    nn.manual_seed(3)
    expected = nn.Linear(2, 2).weight.data
    nn.manual_seed(3)
    nn.from_torch(theirs)
    np.testing.assert_array_equal(nn.Linear(2, 2).weight.data, expected)


def test_a_torch_state_dict_loads_directly():
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours[2].weight.data, theirs[2].weight.detach().numpy())
