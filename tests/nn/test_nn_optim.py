"""Optimizers: a few steps on a known quadratic against the published update equations.

f(p) = sum(a p**2 / 2 + b p) has gradient a p + b; each reference below
applies its algorithm's equations to that gradient with plain NumPy.
"""
import math

import numpy as np
import pytest

import nn
from autograd import Tensor, Value

A = np.array([1.0, 4.0, 0.5])
B = np.array([-1.0, 2.0, 0.3])
P0 = np.array([1.0, -2.0, 3.0])
STEPS = 5


def quadratic(p, a=A, b=B):
    return (p * p * (a / 2)).sum() + (p * b).sum()


def run(optimizer, kwargs, steps=STEPS):
    p = nn.Parameter(P0.copy())
    opt = optimizer([p], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        quadratic(p).backward()
        opt.step()
    return p.data


def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf = P0.copy(), None
    for _ in range(STEPS):
        g = A * p + B + weight_decay * p
        if momentum:
            buf = g if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def rmsprop_reference(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    p, square, mean, buf = P0.copy(), 0 * P0, 0 * P0, 0 * P0
    for _ in range(STEPS):
        g = A * p + B + weight_decay * p
        square = alpha * square + (1 - alpha) * g**2
        mean = alpha * mean + (1 - alpha) * g
        rms = np.sqrt(square - mean**2 if centered else square) + eps
        if momentum:
            buf = momentum * buf + g / rms
            p = p - lr * buf
        else:
            p = p - lr * g / rms
    return p


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    p, m, v = P0.copy(), 0 * P0, 0 * P0
    for t in range(1, STEPS + 1):
        g = A * p + B
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g**2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


CASES = [
    (nn.optim.SGD, dict(lr=0.1), sgd_reference),
    (nn.optim.SGD, dict(lr=0.1, momentum=0.9), sgd_reference),
    (nn.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1), sgd_reference),
    (nn.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), sgd_reference),
    (nn.optim.RMSprop, dict(lr=0.01), rmsprop_reference),
    (nn.optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1), rmsprop_reference),
    (nn.optim.Adam, dict(lr=0.1), adam_reference),
    (nn.optim.Adam, dict(lr=0.1, weight_decay=0.1, betas=(0.8, 0.9)), adam_reference),
    (nn.optim.AdamW, dict(lr=0.1), lambda **kw: adam_reference(weight_decay=0.01, decoupled=True, **kw)),
    (nn.optim.AdamW, dict(lr=0.1, weight_decay=0.5), lambda **kw: adam_reference(decoupled=True, **kw)),
]
IDS = [f"{opt.__name__}-{'-'.join(kw)}" for opt, kw, _ in CASES]


@pytest.mark.parametrize("optimizer, kwargs, reference", CASES, ids=IDS)
def test_steps_follow_the_published_equations(optimizer, kwargs, reference):
    np.testing.assert_allclose(run(optimizer, kwargs), reference(**kwargs), rtol=1e-12)


@pytest.mark.parametrize("optimizer, kwargs, reference", CASES, ids=IDS)
def test_steps_match_torch_optim(optimizer, kwargs, reference):
    torch = pytest.importorskip("torch")
    p = torch.tensor(P0.copy(), requires_grad=True)
    opt = getattr(torch.optim, optimizer.__name__)([p], **kwargs)
    for _ in range(STEPS):
        opt.zero_grad()
        quadratic(p, torch.tensor(A), torch.tensor(B)).backward()
        opt.step()
    np.testing.assert_allclose(run(optimizer, kwargs), p.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("optimizer", [nn.optim.SGD, nn.optim.RMSprop, nn.optim.Adam, nn.optim.AdamW])
def test_defaults_are_pytorchs(optimizer):
    torch = pytest.importorskip("torch")
    ours = optimizer([nn.Parameter(np.zeros(1))]).hyperparameters()
    theirs = getattr(torch.optim, optimizer.__name__)([torch.zeros(1, requires_grad=True)]).defaults
    assert {k: theirs[k] for k in ours} == ours


@pytest.mark.parametrize("optimizer, kwargs, reference", CASES, ids=IDS)
def test_value_parameters_take_the_same_steps_as_tensors(optimizer, kwargs, reference):
    values = [Value(x) for x in P0]
    opt = optimizer(values, **kwargs)
    for _ in range(STEPS):
        opt.zero_grad()
        sum(a * v * v / 2 + b * v for a, v, b in zip(A, values, B, strict=True)).backward()
        opt.step()
    np.testing.assert_allclose([v.data for v in values], run(optimizer, kwargs), rtol=1e-12)


def test_step_updates_the_parameter_array_in_place():
    p = nn.Parameter(P0.copy())
    array = p.data
    opt = nn.optim.Adam([p], lr=0.1)
    quadratic(p).backward()
    opt.step()
    assert p.data is array and not np.array_equal(array, P0)


def test_parameters_without_a_gradient_are_skipped():
    used, unused = nn.Parameter(P0.copy()), nn.Parameter(P0.copy())
    opt = nn.optim.Adam([used, unused], lr=0.1, weight_decay=0.1)
    for _ in range(STEPS):
        opt.zero_grad()
        quadratic(used).backward()
        opt.step()
    np.testing.assert_array_equal(unused.data, P0)
    np.testing.assert_allclose(used.data, adam_reference(lr=0.1, weight_decay=0.1))


def test_float32_parameters_stay_float32():
    p = nn.Parameter(P0.astype(np.float32))
    opt = nn.optim.Adam([p], lr=0.1)
    quadratic(p).backward()
    opt.step()
    assert p.data.dtype == np.float32 and opt.state[0]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("optimizer, kwargs, reference", CASES[1::2], ids=IDS[1::2])
def test_state_dict_round_trip_resumes_exactly(optimizer, kwargs, reference):
    p = nn.Parameter(P0.copy())
    opt = optimizer([p], **kwargs)
    for step in range(STEPS):
        if step == 2:  # restart from a checkpoint into a fresh optimizer
            saved = opt.state_dict()
            opt = optimizer([p], lr=123.0)
            opt.load_state_dict(saved)
        opt.zero_grad()
        quadratic(p).backward()
        opt.step()
    np.testing.assert_allclose(p.data, reference(**kwargs), rtol=1e-12)


def test_load_state_dict_rejects_other_shapes():
    opt = nn.optim.Adam([nn.Parameter(P0.copy())])
    opt.state[0]["exp_avg"] = np.zeros(3)
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"'exp_avg': shape \(3,\), parameter \(2,\)"):
        nn.optim.Adam([nn.Parameter(np.zeros(2))]).load_state_dict(saved)


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([])
    with pytest.raises(ValueError, match="nesterov"):
        nn.optim.SGD([nn.Parameter(P0)], nesterov=True)
    with pytest.raises(ValueError, match="does not require grad"):
        nn.optim.SGD([Tensor(P0)])


def test_zero_grad_clears_tensor_and_value_gradients():
    p, v = nn.Parameter(P0.copy()), Value(2.0)
    quadratic(p).backward()
    (v * v).backward()
    opt = nn.optim.SGD([p, v])
    opt.zero_grad()
    assert p.grad is None and v.grad == 0.0


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    opt = nn.optim.SGD([nn.Parameter(P0)], lr=1.0)
    schedule = nn.optim.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        schedule.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_schedule_matches_torch():
    torch = pytest.importorskip("torch")
    opt = nn.optim.SGD([nn.Parameter(P0)], lr=0.1)
    schedule = nn.optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    their_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=10, eta_min=0.01)
    for _ in range(10):
        theirs.step()
        schedule.step()
        their_schedule.step()
        assert opt.lr == pytest.approx(their_schedule.get_last_lr()[0], rel=1e-12)
    assert opt.lr == pytest.approx(0.01) and math.isclose(schedule.get_last_lr(), 0.01)
