"""Jacobians by passes: forward mode costs one pass per input, reverse one per output; Newton with H v.

Forward mode (``jvp``) pushes one tangent forward per pass, beside the values,
so it builds the Jacobian column by column: f: R^n -> R takes n passes and
g: R -> R^n takes one. Reverse mode (``vjp``) pulls one cotangent back per
pass and builds it row by row: one pass for f, n for g. The demo counts the
passes and times them as n grows. Then ``autograd.hvp`` (H v without building
H) drives Newton-CG on an L2-regularised logistic regression, against
gradient descent.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from autograd import Tensor, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from demos._common import print_table, save_figure

SIZES = (1, 4, 16, 64, 256)
QUICK_SIZES = (1, 4, 16)


def problem(shape: str, n: int) -> tuple[Callable, np.ndarray]:
    """``(f, x)``: R^n -> R is sum(tanh(x) * x); R -> R^n is tanh(c t) for n slopes c."""
    if shape == "R^n -> R":
        return (lambda x: (x.tanh() * x).sum()), np.linspace(-1.0, 1.0, n)
    slopes = Tensor(np.linspace(-1.0, 1.0, n))
    return (lambda t: (slopes * t).tanh()), np.array([0.5])


def reverse_jacobian(f: Callable, x: np.ndarray) -> tuple[np.ndarray, int]:
    """J row by row: one forward, then one ``vjp_fn`` call (a reverse pass) per output element."""
    out, vjp_fn = vjp(f, x)
    rows = []
    for k in range(out.size):
        seed = np.zeros(out.shape)
        seed.flat[k] = 1.0
        rows.append(vjp_fn(seed)[0])
    return np.stack(rows).reshape(np.shape(out) + x.shape), len(rows)


def forward_jacobian(f: Callable, x: np.ndarray) -> tuple[np.ndarray, int]:
    """J column by column: one ``jvp`` (a forward pass carrying one tangent) per input element."""
    columns = []
    for k in range(x.size):
        tangent = np.zeros(x.shape)
        tangent.flat[k] = 1.0
        out, column = jvp(f, (x,), (tangent,))
        columns.append(np.reshape(column, -1))
    J = np.stack(columns, axis=-1).reshape(np.shape(out) + x.shape)
    return J, len(columns)


MODES = {"reverse mode (vjp)": reverse_jacobian, "forward mode (jvp)": forward_jacobian}


def run(output_dir: Path, quick: bool = False) -> dict:
    """Count and time the passes for both shapes of problem; then Newton-CG vs gradient descent."""
    sizes = QUICK_SIZES if quick else SIZES
    passes, seconds, rows = {}, {}, []
    for mode, jacobian_by_passes in MODES.items():
        for shape in ("R^n -> R", "R -> R^n"):
            key = f"{mode}, {shape}"
            passes[key], seconds[key] = [], []
            for n in sizes:
                count, elapsed = measure(jacobian_by_passes, shape, n, repeats=3 if quick else 5)
                passes[key].append(count)
                seconds[key].append(elapsed)
                rows.append((mode, shape, n, count, f"{elapsed * 1e3:.2f} ms"))
    print_table(("mode", "problem", "n", "passes", "time for J"), rows)
    newton = newton_vs_gradient_descent(quick)
    files = [plot_cost(sizes, passes, seconds, output_dir / "forward_reverse_cost.png"),
             plot_newton(newton, output_dir / "forward_reverse_newton.png")]
    return {"sizes": list(sizes), "passes": passes, "seconds": seconds, **newton, "files": files}


def measure(jacobian_by_passes: Callable, shape: str, n: int, repeats: int) -> tuple[int, float]:
    """Passes and best time to build J for size n; J is checked against ``autograd.jacobian``."""
    f, x = problem(shape, n)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        J, count = jacobian_by_passes(f, x)
        best = min(best, time.perf_counter() - start)
    if not np.allclose(J, jacobian(f)(x), rtol=1e-12, atol=1e-14):
        raise AssertionError(f"the Jacobian by passes disagrees with autograd.jacobian for {shape}, n={n}")
    return count, best


# ------------------------------------------------------------------ Newton-CG


def logistic_problem(seed: int = 0, samples: int = 200, features: int = 6) -> Callable:
    """mean(log(1 + exp(-y x.w))) + lam/2 |w|^2 on noisy linearly generated labels y in {-1, 1}."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, features)) * np.linspace(0.5, 3.0, features)  # ill-conditioned
    y = np.sign(X @ rng.standard_normal(features) + 0.5 * rng.standard_normal(samples))
    margin_scale = Tensor(-y[:, None] * X)

    def loss(w: Tensor) -> Tensor:
        return (margin_scale @ w).softplus().mean() + 0.5e-2 * (w * w).sum()

    return loss


def conjugate_gradient(multiply: Callable, b: np.ndarray, iterations: int, tol: float = 1e-12) -> np.ndarray:
    """Solve H p = b using only products H v (H symmetric positive definite)."""
    p, r = np.zeros_like(b), b.copy()
    d, rr = r.copy(), r @ r
    for _ in range(iterations):
        if np.sqrt(rr) < tol:
            break
        Hd = multiply(d)
        alpha = rr / (d @ Hd)
        p, r = p + alpha * d, r - alpha * Hd
        rr, rr_old = r @ r, rr
        d = r + (rr / rr_old) * d
    return p


def newton_vs_gradient_descent(quick: bool) -> dict:
    """Newton-CG (H v by ``hvp``) and gradient descent (step 1/L) from w = 0; |grad| per iteration."""
    loss = logistic_problem()
    w0 = np.zeros(6)
    H0 = hessian(loss)(w0)  # 6 x 6: small enough to build, for the step size and the check
    step = 1.0 / np.linalg.eigvalsh(H0).max()
    hvp_calls = 0

    def multiply(w: np.ndarray) -> Callable:
        def product(v: np.ndarray) -> np.ndarray:
            nonlocal hvp_calls
            hvp_calls += 1
            return hvp(loss, (w,), (v,))[1][0]
        return product

    newton, w = [], w0
    for _ in range(12):
        value, g = value_and_grad(loss)(w)
        newton.append(float(np.linalg.norm(g)))
        if newton[-1] < 1e-13:
            break
        w = w + conjugate_gradient(multiply(w), -g, iterations=len(w))
    descent, v = [], w0
    for _ in range(200 if quick else 2000):
        value_d, g = value_and_grad(loss)(v)
        descent.append(float(np.linalg.norm(g)))
        v = v - step * g
    exact = w0
    for _ in range(len(newton) - 1):  # exact Newton with the full Hessian: the same iterates
        exact = exact - np.linalg.solve(hessian(loss)(exact), value_and_grad(loss)(exact)[1])
    print(f"  Newton-CG: |grad| = {newton[-1]:.1e} after {len(newton) - 1} steps ({hvp_calls} "
          f"Hessian-vector products, no Hessian built); gradient descent: {descent[-1]:.1e} after "
          f"{len(descent)} steps; loss {float(value):.6f} vs {float(value_d):.6f}")
    return {"newton_grad_norms": newton, "descent_grad_norms": descent, "hvp_calls": hvp_calls,
            "newton_vs_exact_newton": float(np.abs(w - exact).max())}


# ------------------------------------------------------------------- pictures


def plot_cost(sizes: tuple, passes: dict, seconds: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    for key in passes:  # the modes' pass counts coincide on opposite problems: reverse drawn wide beneath
        style = dict(lw=5, alpha=0.45, marker="o", ms=9) if key.startswith("reverse") else dict(
            lw=1.5, ls="--", marker="s", ms=4)
        left.plot(sizes, passes[key], label=key, **style)
        right.plot(sizes, np.array(seconds[key]) * 1e3, label=key, **style)
    for ax, ylabel in ((left, "passes to build J"), (right, "time to build J (ms)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    left.set_title("Passes: forward one per input, reverse one per output", fontsize=10)
    right.set_title("Time follows the passes")
    return save_figure(fig, path)


def plot_newton(newton: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    ax.semilogy(newton["newton_grad_norms"], "o-", label="Newton-CG (H v by autograd.hvp)")
    ax.semilogy(newton["descent_grad_norms"], label="gradient descent, step 1/L")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("iteration")
    ax.set_ylabel("|gradient|")
    ax.set_title("Logistic regression: Newton converges quadratically")
    ax.legend()
    return save_figure(fig, path)
