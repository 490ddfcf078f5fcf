"""Optimizers: a few steps on a known quadratic against the published update equations.

f(p) = sum(a p**2 / 2 + b p) has gradient a p + b; each reference below
applies its algorithm's equations to that gradient with plain NumPy.
"""
import math
import re

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
    ours = optimizer([nn.Parameter(np.zeros(1))]).defaults
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
    assert p.data.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32


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
    p = nn.Parameter(P0.copy())
    opt = nn.optim.Adam([p])
    opt.state[p] = {"exp_avg": np.zeros(3)}
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"'exp_avg': shape \(3,\), parameter \(2,\)"):
        nn.optim.Adam([nn.Parameter(np.zeros(2))]).load_state_dict(saved)


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([])
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
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
    assert opt.lr == pytest.approx(0.01) and math.isclose(schedule.get_last_lr()[0], 0.01)


# ------------------------------------------------------ param_groups (issue 13)


def test_param_groups_hold_params_and_settings_and_a_group_lr_change_changes_the_step():
    p, q = nn.Parameter(P0.copy()), nn.Parameter(P0.copy())
    opt = nn.optim.SGD([{"params": [p]}, {"params": q, "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["params"] == [p] and opt.param_groups[1]["momentum"] == 0.0
    opt.param_groups[0]["lr"] = 0.2
    quadratic(p).backward()
    quadratic(q).backward()
    opt.step()
    np.testing.assert_allclose(p.data, P0 - 0.2 * (A * P0 + B))
    np.testing.assert_allclose(q.data, P0 - 0.5 * (A * P0 + B))


def test_the_lr_attribute_reads_the_first_group_and_sets_all():
    opt = nn.optim.Adam([{"params": [nn.Parameter(P0)]}, {"params": [nn.Parameter(P0)], "lr": 1.0}])
    assert opt.lr == 1e-3
    opt.lr = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]


def test_state_dict_has_pytorchs_layout_and_loads_into_torch():
    torch = pytest.importorskip("torch")
    p = nn.Parameter(P0.copy())
    opt = nn.optim.Adam([p], lr=0.1)
    quadratic(p).backward()
    opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0] and saved["state"][0]["step"] == 1
    t = torch.tensor(P0, requires_grad=True)
    theirs = torch.optim.Adam([t], lr=0.1)
    theirs.load_state_dict({
        "state": {0: {k: torch.tensor(v, dtype=torch.float64 if k != "step" else torch.float32)
                      for k, v in saved["state"][0].items()}},
        "param_groups": saved["param_groups"],
    })
    t.data = torch.tensor(p.data)
    opt.zero_grad()
    quadratic(p).backward()
    opt.step()
    quadratic(t, torch.tensor(A), torch.tensor(B)).backward()
    theirs.step()
    np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12)


# ------------------------------------------------------ refusals (issue 11)


def test_a_parameter_listed_twice_warns_and_is_stepped_once():
    p = nn.Parameter(P0.copy())
    with pytest.warns(UserWarning, match="same parameter more than once"):
        opt = nn.optim.SGD([p, p], lr=0.1)
    quadratic(p).backward()
    opt.step()
    np.testing.assert_allclose(p.data, P0 - 0.1 * (A * P0 + B))


def test_a_parameter_in_two_groups_is_an_error():
    p = nn.Parameter(P0.copy())
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        nn.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda p: nn.optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: nn.optim.SGD(p, lr=float("nan")), "Invalid learning rate: nan"),
    (lambda p: nn.optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: nn.optim.SGD(p, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (lambda p: nn.optim.SGD(p, nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    (lambda p: nn.optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: nn.optim.Adam(p, betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (lambda p: nn.optim.AdamW(p, betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
    (lambda p: nn.optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: nn.optim.AdamW(p, weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
    (lambda p: nn.optim.RMSprop(p, alpha=-0.9), "Invalid alpha value: -0.9"),
    (lambda p: nn.optim.RMSprop(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: nn.optim.RMSprop(p, momentum=-1.0), "Invalid momentum value: -1.0"),
    (lambda p: nn.optim.SGD([{"params": p, "lr": -1.0}]), "Invalid learning rate: -1.0"),
])
def test_hyperparameters_outside_their_domain_are_refused_with_pytorchs_message(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make([nn.Parameter(P0.copy())])


def test_a_gradient_of_the_wrong_shape_is_refused_not_broadcast():
    p = nn.Parameter(np.zeros((2, 3)))
    opt = nn.optim.SGD([p], lr=0.1)
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) for a parameter of shape \(2, 3\)"):
        opt.step()
    np.testing.assert_array_equal(p.data, 0.0)


def test_step_reports_each_in_place_write_to_the_version_counter():
    p, q = nn.Parameter(P0.copy()), nn.Parameter(P0.copy())
    opt = nn.optim.Adam([p, q], lr=0.1)
    quadratic(p).backward()
    before = p._version, q._version
    opt.step()
    assert p._version > before[0]
    assert q._version == before[1]  # q has no gradient: not written, not bumped


def test_a_step_that_fails_half_way_still_reports_what_it_wrote():
    p, q = nn.Parameter(P0.copy()), nn.Parameter(np.zeros((2, 3)))
    loss = quadratic(p)
    loss.backward()
    q.grad = np.ones(3)  # the wrong shape: the step stops at q, after writing p
    with pytest.raises(ValueError, match="gradient of shape"):
        nn.optim.SGD([p, q], lr=0.1).step()
    with pytest.raises(RuntimeError, match="written in place"):
        loss.backward()


def test_optim_namespace_lists_only_its_public_names():
    assert not {"np", "Any", "math", "warnings"} & set(dir(nn.optim))
    assert nn.optim.lr_scheduler.StepLR is nn.optim.StepLR


# ---------------------------------------------------------------- amsgrad


def test_amsgrad_keeps_the_largest_second_moment():
    p = nn.Parameter(P0.copy())
    opt = nn.optim.Adam([p], lr=0.1, amsgrad=True)
    seen = np.zeros_like(P0)
    for _ in range(STEPS):
        opt.zero_grad()
        quadratic(p).backward()
        opt.step()
        assert np.all(opt.state[p]["max_exp_avg_sq"] >= seen)
        assert np.all(opt.state[p]["max_exp_avg_sq"] >= opt.state[p]["exp_avg_sq"])
        seen = opt.state[p]["max_exp_avg_sq"].copy()


# ------------------------------------------------------------- schedules vs torch


def torch_pair(torch, lr=0.1, groups=1):
    ours = nn.optim.SGD([{"params": [nn.Parameter(P0.copy())], "lr": lr * (i + 1)} for i in range(groups)])
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr * (i + 1)}
                              for i in range(groups)])
    return ours, theirs


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.001}),
])
def test_epoch_schedules_match_torch_over_several_periods_and_groups(name, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = torch_pair(torch, groups=2)
    mine = getattr(nn.optim.lr_scheduler, name)(ours, **kwargs)
    their = getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs)
    assert mine.get_last_lr() == their.get_last_lr()
    for epoch in range(13):
        if epoch == 6:  # a change by hand carries on in both
            ours.param_groups[0]["lr"] *= 0.3
            theirs.param_groups[0]["lr"] *= 0.3
        theirs.step()
        mine.step()
        their.step()
        np.testing.assert_allclose(mine.get_last_lr(), their.get_last_lr(), rtol=1e-14)
        assert [g["lr"] for g in ours.param_groups] == mine.get_last_lr()


@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"threshold_mode": "abs", "threshold": 0.1, "cooldown": 2, "patience": 0, "min_lr": 0.02},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = torch_pair(torch)
    mine = nn.optim.lr_scheduler.ReduceLROnPlateau(ours, **kwargs)
    their = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.899, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 2.0] * 2
    for metric in metrics:
        mine.step(metric)
        their.step(metric)
        assert mine.get_last_lr() == their.get_last_lr()


def test_schedule_state_dict_round_trips():
    opt = nn.optim.SGD([nn.Parameter(P0)], lr=1.0)
    schedule = nn.optim.StepLR(opt, step_size=1, gamma=0.5)
    schedule.step()
    copy = nn.optim.StepLR(nn.optim.SGD([nn.Parameter(P0)], lr=1.0), step_size=7)
    copy.load_state_dict(schedule.state_dict())
    assert copy.last_epoch == 1 and copy.step_size == 1 and copy.get_last_lr() == [0.5]


# ------------------------------------------------------------ gradient clipping


def grads_of(values):
    params = [nn.Parameter(np.zeros_like(v)) for v in values]
    for p, v in zip(params, values, strict=True):
        p.grad = np.array(v)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    values = [np.array([[3.0, -4.0], [1.0, 0.5]], np.float32), np.array([-2.0, 7.0], np.float32)]
    params = grads_of(values)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    theirs = [torch.zeros(v.shape, requires_grad=True) for v in values]
    for t, v in zip(theirs, values, strict=True):
        t.grad = torch.tensor(v)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    for p, t in zip(params, theirs, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-6)
        assert p.grad.dtype == np.float32


def test_clip_grad_norm_refuses_a_non_finite_norm_when_asked_and_skips_missing_grads():
    params = grads_of([np.array([np.inf, 1.0])]) + [nn.Parameter(np.zeros(2))]
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_(params[1:], 1.0).item() == 0.0


def test_clip_grad_value_clips_tensors_and_values():
    (p,) = grads_of([np.array([-3.0, 0.2, 9.0])])
    v = Value(1.0)
    v.grad = -5.0
    nn.utils.clip_grad_value_([p, v], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, 0.2, 1.0])
    assert v.grad == -1.0


def test_parameters_in_a_set_are_refused_for_their_unstable_order():
    with pytest.raises(TypeError, match="not a set"):
        nn.optim.SGD({nn.Parameter(P0.copy())})
