"""Our gradients against other engines: micrograd for Value, PyTorch for Tensor (when installed)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor, Value, maximum
from autograd.testing import floats, tensors

# The ops micrograd's Value has, written so both engines run the same expression.
MICROGRAD_OPS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1),
    lambda a, b: a**2 - 3 * b,
    lambda a, b: (a * b).relu() + 0.5 * a,
    lambda a, b: -a + 2 / (b**2 + 1),
]


def build(value_type, leaf_data, steps):
    """A random expression DAG: each step applies an op to two earlier nodes (shared freely)."""
    leaves = [value_type(x) for x in leaf_data]
    nodes = list(leaves)
    for op, i, j in steps:
        nodes.append(MICROGRAD_OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    out = nodes[-1]
    for node in nodes[len(leaves) : -1]:
        out = out + node * 0.1
    return leaves, out


@settings(max_examples=30)
@given(
    leaf_data=st.lists(floats(-2, 2), min_size=1, max_size=4),
    steps=st.lists(st.tuples(st.integers(0, len(MICROGRAD_OPS) - 1), st.integers(0, 99),
                             st.integers(0, 99)), min_size=1, max_size=6),
)
def test_random_expression_gradients_equal_micrograds(leaf_data, steps):
    micrograd = pytest.importorskip("micrograd.engine")
    ours, our_out = build(Value, leaf_data, steps)
    theirs, their_out = build(micrograd.Value, leaf_data, steps)
    our_out.backward()
    their_out.backward()
    assert our_out.data == pytest.approx(their_out.data, rel=1e-12, abs=1e-12)
    assert [v.grad for v in ours] == pytest.approx([v.grad for v in theirs], rel=1e-10, abs=1e-10)


# ---------------------------------------------------------------- PyTorch

TORCH_CASES = {
    "matmul_softmax": (((3, 4), (4,)), lambda x, w, m: (x @ w).softmax(0)[1] * 2,
                       lambda x, w, m: (x @ w).softmax(0)[1] * 2),
    "batched_matmul_logsumexp": (((2, 3, 4), (4, 2)), lambda x, w, m: (x @ w).logsumexp(axis=1),
                                 lambda x, w, m: (x @ w).logsumexp(dim=1)),
    "log_softmax_pick": (((4, 5), (5,)),
                         lambda x, w, m: (x * w).log_softmax(axis=1)[m.arange(4), [0, 3, 3, 1]],
                         lambda x, w, m: (x * w).log_softmax(dim=1)[m.arange(4), [0, 3, 3, 1]]),
    "var_and_mean": (((3, 4), (1, 4)), lambda x, w, m: (x * w).var(axis=0) + x.mean(axis=1).sum(),
                     lambda x, w, m: (x * w).var(dim=0, unbiased=False) + x.mean(dim=1).sum()),
    "broadcast_ops": (((3, 1), (4,)), lambda x, w, m: ((x + 4) ** w).sigmoid() / (w.abs() + 1) - x.relu(),
                      lambda x, w, m: ((x + 4) ** w).sigmoid() / (w.abs() + 1) - x.relu()),
    "tanh_softplus_clip": (((5,), (5,)), lambda x, w, m: (x.tanh() * w.softplus()).clip(-0.5, 0.5),
                           lambda x, w, m: (x.tanh() * torch_softplus(w)).clamp(-0.5, 0.5)),
}


def torch_softplus(t):
    import torch

    return torch.nn.functional.softplus(t)


@pytest.mark.parametrize("case", TORCH_CASES.values(), ids=TORCH_CASES.keys())
@settings(max_examples=10)
@given(data=st.data())
def test_tensor_gradients_equal_torchs(case, data):
    torch = pytest.importorskip("torch")
    shapes, ours, theirs = case
    arrays = [data.draw(tensors(shape=shape)).data for shape in shapes]
    our_inputs = [Tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_out, torch_out = ours(*our_inputs, np), theirs(*torch_inputs, torch)
    seed = np.random.default_rng(0).standard_normal(our_out.shape)
    our_out.backward(seed)
    torch_out.backward(torch.tensor(seed))
    np.testing.assert_allclose(our_out.data, torch_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours_in, torch_in in zip(our_inputs, torch_inputs, strict=True):
        np.testing.assert_allclose(ours_in.grad, torch_in.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_tie_breaking_of_max_min_and_maximum_equals_torchs():
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])
    other = np.array([[1.0, 0.0, 3.0], [2.0, 5.0, -1.0]])
    x, y = Tensor(data, requires_grad=True), Tensor(other, requires_grad=True)
    tx, ty = torch.tensor(data, requires_grad=True), torch.tensor(other, requires_grad=True)
    (x.max(axis=1).sum() + x.min() * 2 + maximum(x, y).sum()).backward()
    (tx.amax(dim=1).sum() + tx.amin() * 2 + torch.maximum(tx, ty).sum()).backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())


def test_repeated_index_accumulation_equals_torchs():
    torch = pytest.importorskip("torch")
    data, index = np.arange(12.0).reshape(4, 3), np.array([3, 0, 3, 3])
    x, tx = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (x[index, 1:] * x[index, :2]).sum().backward()
    (tx[index, 1:] * tx[index, :2]).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
