"""Module forward hooks against torch.nn: signatures, order, replacements, kwargs, always_call, handles."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd.hooks import RemovableHandle

torch = pytest.importorskip("torch")


def scaling_modules():
    """The same module in both libraries: forward(x, scale=1.0) -> x * scale."""

    class Ours(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    class Theirs(torch.nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    return [
        (Ours(), lambda v: Tensor(np.array(v))),
        (Theirs(), lambda v: torch.tensor(v, dtype=torch.float64)),
    ]


def plain(x):
    """Tensors of either library (and tuples/dicts of them) as plain floats, for comparing logs."""
    if isinstance(x, (tuple, list)):
        return tuple(plain(v) for v in x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (Tensor, torch.Tensor)):
        return float(np.asarray(x.data if isinstance(x, Tensor) else x.detach()))
    return x


def run_both(script):
    """``script(module, make)`` on both libraries; returns both results as plain values."""
    return [plain(script(module, make)) for module, make in scaling_modules()]


def test_order_prepend_replacements_and_kwargs_match_torch():
    def script(module, make):
        log = []
        module.register_forward_hook(lambda m, args, out: log.append(("post", args, out)) or out * 2)
        module.register_forward_hook(lambda m, args, out: log.append(("post-first", args, out)), prepend=True)
        module.register_forward_pre_hook(lambda m, args: log.append(("pre", args)) or args[0] + 1)
        module.register_forward_pre_hook(lambda m, args: log.append(("pre-first", args)), prepend=True)

        def with_kwargs(m, args, kwargs):
            log.append(("pre-kw", args, kwargs))
            return args, {"scale": kwargs["scale"] * 10}

        module.register_forward_pre_hook(with_kwargs, with_kwargs=True)
        module.register_forward_hook(
            lambda m, args, kwargs, out: log.append(("post-kw", args, kwargs, out)), with_kwargs=True
        )
        out = module(make(1.0), scale=3.0)
        return log, out

    ours, theirs = run_both(script)
    assert ours == theirs
    assert ours[1] == 120.0  # (1 + 1) * 30, doubled by the hook


def test_a_pre_hooks_single_result_becomes_the_only_argument_as_in_torch():
    def script(module, make):
        module.register_forward_pre_hook(lambda m, args: args[0] * 5)
        return module(make(1.0))

    assert run_both(script) == [5.0, 5.0]


def test_a_with_kwargs_pre_hook_must_return_args_and_kwargs():
    for module, make in scaling_modules():
        module.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match=r"tuple of \(new_args, new_kwargs\)"):
            module(make(1.0))


def test_always_call_hooks_run_when_forward_raises_and_the_error_still_propagates():
    class Ours(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    class Theirs(torch.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    logs = []
    for module in (Ours(), Theirs()):
        log = []
        always = lambda m, args, out, log=log: log.append(("always", out))  # noqa: E731
        module.register_forward_hook(always, always_call=True)
        module.register_forward_hook(lambda m, args, out, log=log: log.append(("not always", out)))
        with pytest.raises(ValueError, match="boom"):
            module(1.0)
        logs.append(log)
    assert logs[0] == logs[1] == [("always", None)]


def test_an_always_call_hooks_own_error_is_a_warning_when_forward_failed():
    class Failing(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    module = Failing()
    module.register_forward_hook(lambda m, args, out: 1 / 0, always_call=True)
    with pytest.warns(UserWarning, match="always_call=True"), pytest.raises(ValueError, match="boom"):
        module(1.0)


def test_removing_a_hook_forgets_its_options_and_module_and_tensor_hooks_share_one_handle_class():
    module, make = scaling_modules()[0]
    double = lambda m, args, kwargs, out: out * 2  # noqa: E731
    handle = module.register_forward_hook(double, with_kwargs=True, always_call=True)
    assert isinstance(handle, RemovableHandle) and nn.module.RemovableHandle is RemovableHandle
    assert plain(module(make(1.0))) == 2.0
    handle.remove()
    handle.remove()
    assert not module._hooks.with_kwargs and not module._hooks.always_call
    assert plain(module(make(1.0))) == 1.0
    tensor_handle = Tensor([1.0], requires_grad=True).register_hook(lambda g: g)
    assert type(tensor_handle) is RemovableHandle
    tensor_handle.remove()
