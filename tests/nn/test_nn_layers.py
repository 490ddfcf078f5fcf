"""Layers: outputs against their formulas, gradients against central differences."""
import math

import numpy as np
import pytest
from nn_checks import assert_param_grads_match

import nn
from autograd import Tensor, gradcheck

rng = np.random.default_rng(0)


def float64_linear(fan_in, fan_out, bias=True):
    nn.manual_seed(0)
    return nn.Linear(fan_in, fan_out, bias=bias, dtype=np.float64)


def test_linear_computes_x_times_weight_transposed_plus_bias():
    layer = float64_linear(3, 2)
    x = rng.standard_normal((4, 3))
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(Tensor(x)).data, expected)


def test_linear_shapes_and_dtype_follow_pytorch():
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    assert layer(rng.standard_normal((2, 5))).dtype == np.float32  # float64 input data is cast


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Linear(64, 200)
    bound = 1 / math.sqrt(64)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound  # spread over the whole interval


def test_manual_seed_makes_init_reproducible():
    nn.manual_seed(3)
    first = nn.Linear(3, 3).weight.data.copy()
    nn.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.data, first)


def test_linear_without_bias_has_only_a_weight():
    layer = float64_linear(3, 2, bias=False)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T)


def test_linear_gradients_match_central_differences():
    layer = float64_linear(3, 2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    weights = rng.standard_normal((4, 2))
    assert_param_grads_match(lambda: (layer(x) * weights).sum(), layer.parameters())
    gradcheck(lambda x: layer(x), x)


def test_linear_is_one_graph_node_and_skips_the_input_gradient():
    layer = float64_linear(3, 2)
    out = layer(rng.standard_normal((4, 3)))
    assert out._fn.__name__ == "Linear"
    assert out._parents[0] is None


def test_linear_rejects_the_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"expects 3 features .* shape \(4, 2\)"):
        nn.Linear(3, 2)(np.zeros((4, 2)))


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
]


@pytest.mark.parametrize("module, formula", ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_activation_matches_its_formula_and_gradient(module, formula):
    x = rng.standard_normal((3, 4)) + 0.05  # away from ReLU's kink at 0
    np.testing.assert_allclose(module(Tensor(x)).data, formula(x), rtol=1e-12)
    gradcheck(module, Tensor(x))


def test_dropout_zeroes_and_rescales_in_training_only():
    nn.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = Tensor(np.ones((200, 50)))
    out = layer(x).data
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.02
    layer.eval()
    assert layer(x) is x


def test_dropout_gradient_uses_the_same_mask():
    nn.manual_seed(0)
    x = Tensor(np.ones((10, 10)), requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


def test_dropout_rejects_a_probability_of_one():
    with pytest.raises(ValueError, match="Dropout probability"):
        nn.Dropout(1.0)


def test_flatten_keeps_the_batch_axis():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (2, 12)
    out.sum().backward()
    assert x.grad.shape == (2, 3, 4)


def test_mlp_is_linear_layers_with_activations_between():
    model = nn.MLP(2, [8, 8, 1], activation="tanh")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_mlp_gradients_match_central_differences():
    nn.manual_seed(0)
    model = nn.MLP(3, [4, 2], dtype=np.float64)
    x = rng.standard_normal((5, 3))
    assert_param_grads_match(lambda: (model(x) ** 2).sum(), model.parameters())


def test_mlp_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.MLP(2, [3], activation="swish")


def test_sequential_slicing_and_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.append(nn.Linear(3, 1))
    assert len(model) == 3 and len(model[:2]) == 2
    assert model(np.zeros((4, 2))).shape == (4, 1)


def test_module_list_registers_its_items():
    layers = nn.ModuleList([nn.Linear(1, 1)]).extend([nn.Linear(1, 1)])
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_scalar_mlp_matches_the_same_tensor_computation():
    nn.manual_seed(0)
    model = nn.scalar.MLP(2, [3, 1])
    x = [0.5, -1.5]
    weights = lambda neuron: np.array([w.data for w in neuron.w])
    hidden = [max(weights(n) @ x + n.b.data, 0) for n in model.layers[0].neurons]
    out = model.layers[1].neurons[0]
    expected = weights(out) @ hidden + out.b.data
    assert model(x).data == pytest.approx(expected)
    assert len(model.parameters()) == 3 * 3 + 4


def test_scalar_layer_returns_a_list_for_several_outputs():
    outs = nn.scalar.Layer(2, 3)([1.0, 2.0])
    assert isinstance(outs, list) and len(outs) == 3


def test_scalar_weights_start_in_minus_one_to_one_and_biases_at_zero():
    neuron = nn.scalar.Neuron(100)
    assert all(-1 <= w.data <= 1 for w in neuron.w) and neuron.b.data == 0


# ------------------------------------------------ what layers accept (issue 13)


@pytest.mark.parametrize(
    "layer", [nn.ReLU(), nn.LeakyReLU(0.1), nn.Tanh(), nn.Sigmoid(), nn.Softmax(dim=1), nn.Dropout(0.5),
              nn.Flatten(), nn.Linear(2, 3), nn.MLP(2, [3, 1])],
    ids=lambda layer: type(layer).__name__,
)
def test_every_layer_takes_arrays_and_lists_and_returns_a_tensor(layer):
    x = [[-1.0, 0.5], [2.0, -3.0]]
    has_dtype = bool(layer.parameters())  # weights fix the output dtype; else the input's is kept
    for given, dtype in ((x, np.float32), (np.array(x), np.float64), (Tensor(x), np.float32)):
        out = layer(given)
        assert isinstance(out, Tensor) and out.dtype == (np.float32 if has_dtype else dtype)


def test_dropout_masks_repeat_under_manual_seed():
    layer, x = nn.Dropout(0.5), np.ones((20, 20), dtype=np.float32)
    nn.manual_seed(11)
    first = layer(x).data
    nn.manual_seed(11)
    np.testing.assert_array_equal(layer(x).data, first)


# ------------------------------------------------------ the dtype rule (issue 11)


def test_linear_output_has_the_layer_dtype_for_any_input():
    layer = nn.Linear(2, 1)
    for x in ([[1, 2]], np.array([[1, 2]]), np.array([[1.0, 2.0]]), np.array([[1, 2]], np.float16),
              Tensor(np.array([[1.0, 2.0]]))):
        assert layer(x).dtype == np.float32
    assert nn.Linear(2, 1, dtype=np.float64)(np.array([[1, 2]], np.float32)).dtype == np.float64


def test_a_tensor_input_of_another_dtype_gets_its_gradient_in_its_own_dtype():
    layer = nn.Linear(3, 2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)  # float64
    out = layer(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, np.ones((4, 2)) @ layer.weight.data, rtol=1e-6)
    assert layer.weight.grad.dtype == np.float32


def test_linear_refuses_complex_input():
    with pytest.raises(TypeError, match="real numbers, got dtype complex128"):
        nn.Linear(2, 1)(np.ones((1, 2), dtype=complex))
