"""Threads: grad mode belongs to each thread, and concurrent backward passes add up exactly."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from autograd import Tensor, Value, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled

THREADS, PASSES = 4, 50


@pytest.fixture(autouse=True)
def frequent_thread_switches():
    """Switch threads every few bytecodes, so a lost update would show in a small test."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def run_in_threads(work, n: int = THREADS) -> list:
    """Run ``work(i)`` in n threads started together; return results, re-raise the first error."""
    start, results, errors = threading.Barrier(n), [None] * n, []

    def body(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except BaseException as error:  # noqa: BLE001 (re-raised in the main thread)
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_a_new_thread_records_even_while_another_is_in_no_grad():
    inside, done = threading.Event(), threading.Event()

    def other() -> None:
        with no_grad():
            inside.set()
            done.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    try:
        assert is_grad_enabled()
        x = Value(2.0)
        y = x * x
        assert not y.is_leaf
    finally:
        done.set()
        thread.join()


def test_no_grad_in_this_thread_does_not_reach_a_new_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join()
        assert not is_grad_enabled()
    assert seen == [True]


def test_grad_mode_stays_on_in_every_thread_while_others_run_backward():
    def work(i: int) -> list[bool]:
        recorded = []
        for _ in range(10 * PASSES):
            x = Value(1.0 + i)
            (x * x).backward()
            recorded.append(not (x * x).is_leaf)
        return recorded

    assert run_in_threads(work) == [[True] * 10 * PASSES] * THREADS
    assert is_grad_enabled()
    assert run_in_threads(lambda i: is_grad_enabled()) == [True] * THREADS
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_threads_in_no_grad_and_enable_grad_each_see_their_own_mode():
    def work(i: int) -> list[bool]:
        recorded = []
        block = no_grad() if i % 2 else enable_grad()
        with block:
            for _ in range(PASSES):
                y = Value(1.0) * 2.0
                recorded.append(not y.is_leaf)
        return recorded

    results = run_in_threads(work)
    for i, recorded in enumerate(results):
        assert recorded == [i % 2 == 0] * PASSES


def test_concurrent_value_backward_into_a_shared_leaf_adds_up_exactly():
    w = Value(0.5)

    def work(i: int) -> None:
        for _ in range(PASSES):
            ((w * 3.0 + 1.0) * 2.0).backward()  # d/dw = 6

    run_in_threads(work)
    assert w.grad == 6.0 * THREADS * PASSES


def test_concurrent_tensor_backward_into_a_shared_leaf_adds_up_exactly():
    w = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)

    def work(i: int) -> None:
        for _ in range(PASSES):
            (w * w).sum().backward()  # d/dw = 2 w

    run_in_threads(work)
    np.testing.assert_array_equal(w.grad, 2 * w.data * THREADS * PASSES)


def test_concurrent_backward_through_one_shared_graph_adds_up_exactly():
    w = Tensor(np.array([0.3, 0.7]), requires_grad=True)
    loss = (w.tanh() * w).sum()

    def work(i: int) -> None:
        for _ in range(PASSES):
            loss.backward()

    run_in_threads(work)
    one = (1 - np.tanh(w.data) ** 2) * w.data + np.tanh(w.data)
    np.testing.assert_allclose(w.grad, one * THREADS * PASSES, rtol=1e-12)


def test_functional_grad_in_threads_leaves_a_shared_parameter_alone():
    w = Value(2.0)
    w.grad = 7.0

    def work(i: int) -> list[float]:
        return [grad(lambda x: x * x * w)(float(i + 1)) for _ in range(PASSES)]

    results = run_in_threads(work)
    for i, grads in enumerate(results):
        assert grads == [2.0 * (i + 1) * 2.0] * PASSES
    assert w.grad == 7.0


def test_a_thread_that_ends_with_recording_off_leaves_the_others_recording():
    thread = threading.Thread(target=lambda: set_grad_enabled(False))
    thread.start()
    thread.join()
    assert is_grad_enabled()
    assert not (Value(1.0) * 2).is_leaf
    assert run_in_threads(lambda i: not (Value(1.0) * 2).is_leaf) == [True] * THREADS
