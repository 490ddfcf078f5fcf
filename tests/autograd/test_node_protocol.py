"""Code outside the engines asks the node (wrap, as_data, zeros, its cleared grad), not its type."""

import importlib

import numpy as np

import nn
from autograd import Tensor, Value, grad, jacobian, numerical_grad

layer_table = importlib.import_module("nn.summary")  # the module (nn.summary is also its function)


def test_grad_of_an_unused_value_argument_is_the_float_zero():
    assert grad(lambda x, y: x * x, argnums=(0, 1))(Value(2.0), 3.0) == (4.0, 0.0)
    g = grad(lambda x, y: x * x, argnums=1)(Value(2.0), Value(3.0))
    assert type(g) is float and g == 0.0


def test_grad_of_an_unused_tensor_argument_is_zeros_of_its_shape_and_dtype():
    g = grad(lambda x, y: (x * x).sum(), argnums=1)(Tensor([2.0]), Tensor(np.ones(2, np.float32)))
    assert type(g) is np.ndarray and g.dtype == np.float32 and g.tolist() == [0.0, 0.0]


def test_numerical_grad_gives_a_float_for_a_value_and_an_array_for_a_tensor():
    (gv,) = numerical_grad(lambda v: v * v * 2.5, Value(2.0))
    (gt,) = numerical_grad(lambda t: (t * t).sum(), Tensor([1.0, -3.0]))
    assert type(gv) is float and abs(gv - 10.0) < 1e-6
    assert isinstance(gt, np.ndarray) and np.allclose(gt, [2.0, -6.0])


def test_jacobian_of_a_one_element_tensor_output_is_its_gradient_row():
    x = np.array([1.0, 2.0])
    J = jacobian(lambda t: (t * t).sum())(x)
    assert type(J) is np.ndarray and J.tolist() == [2.0, 4.0]


def test_zero_grad_sets_each_node_types_cleared_gradient():
    net, scalar = nn.Linear(2, 1), nn.scalar.Neuron(2)
    net(Tensor(np.ones((1, 2), np.float32))).sum().backward()
    scalar([1.0, 2.0]).backward()
    net.zero_grad()
    scalar.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert all(type(p.grad) is float and p.grad == 0.0 for p in scalar.parameters())


def test_clip_grad_norm_of_value_gradients_made_with_create_graph_is_a_float_norm():
    w = Value(3.0)
    (w * w).backward(create_graph=True)  # w.grad is the Value 6.0
    total = nn.utils.clip_grad_norm_([w], max_norm=1.0)
    assert total.dtype == np.float64 and abs(total.item() - 6.0) < 1e-12
    assert abs(float(w.grad) - 6.0 / (6.0 + 1e-6)) < 1e-9


def test_parameter_counts_and_bytes_come_from_the_data():
    scalar = nn.scalar.MLP(2, [3, 1])
    assert scalar.num_parameters() == 2 * 3 + 3 + 3 + 1
    assert layer_table.nbytes(Value(1.0)) == 8 and layer_table.size(Value(1.0)) == 1
    p = nn.Parameter(np.zeros((2, 3), np.float32))
    assert layer_table.nbytes(p) == 24 and layer_table.size(p) == 6
