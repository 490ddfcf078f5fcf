"""explain(root): the chain rule of a small graph written out node by node.

For each op, from the output back: the op and its local derivative formula
(the op table's ``rule`` text, in the inputs' names),
the numbers substituted (upstream x local = contribution) and the gradient
accumulated so far. Plain text for the terminal, LaTeX (align*) for the classroom.
"""
from __future__ import annotations

import re
from typing import Any

from .. import functions as ops
from ..graph import Node
from .core import derivative_rules, fmt, grad_summary, graph_nodes, node_names, parameter_names, summary
from .steps import Contribution, Step, backward_steps

INFIX = {"+": "+", "-": "-", "*": r"\cdot", "/": "/", "@": "@", "**": "^"}
LATEX_FUNCTIONS = {"exp": r"\exp", "log": r"\ln", "tanh": r"\tanh", "sqrt": r"\sqrt"}


def explain(root: Node, latex: bool = False, grad: Any = None, params: dict | None = None) -> str:
    """The backward pass from ``root`` in words (or LaTeX), reading but never changing the graph.

    Each contribution reads: d(root)/d(input) += upstream x local = value,
    with the op's rule from the op table (e.g. Mul's ``rule[0]``, "g * b").
    """
    names = node_names(graph_nodes(root), parameter_names(params))
    writer = (LatexWriter if latex else TextWriter)(names, names[id(root)])
    lines = writer.start(root)
    leaves = {}
    for step in backward_steps(root, grad):
        lines += writer.step(step)
        leaves.update({id(c.parent): c for c in step.contributions if c.parent._fn is None})
    lines += writer.finish(list(leaves.values()))
    return "\n".join(lines)


def rule_for(node: Node, index: int) -> str:
    """The rule an op uses for its ``index``-th input: "g * b" for Mul's first input;
    "Twice.backward(g)" for an op without ``rule`` (see ``derivative_rules``)."""
    _, rules = derivative_rules(node._fn)
    if len(rules) == len(node._parents):
        return rules[index].partition(" = ")[2].strip()
    rule = variadic_rule(node._fn.rule, len(node._parents), index)
    return rule if rule is not None else f"{node._fn.__name__}.backward(g)"


def variadic_rule(rule: tuple[str, ...], n: int, index: int) -> str | None:
    """The ``index``-th of ``n`` inputs' rule for an op that takes any number of inputs.

    One entry is every input's rule (Concatenate). Otherwise an entry naming
    ``_i`` stands for a run of inputs, all runs as long, the others for one
    input each: Affine's ("g", "g * x_i", "g * w_i") over (b, w_1, w_2, x_1,
    x_2) gives w_2 "g * x_2". None when ``rule`` does not fit ``n`` inputs.
    """
    if len(rule) == 1:
        return rule[0]
    runs = sum("_i" in text for text in rule)
    if not runs or (n - len(rule) + runs) % runs:
        return None
    length = (n - len(rule) + runs) // runs
    for text in rule:
        size = length if "_i" in text else 1
        if index < size:
            return re.sub(r"_i\b", f"_{index + 1}", text)
        index -= size
    return None


def local_rule(node: Node, index: int, names: dict[int, str]) -> str:
    """The rule for the ``index``-th input in the inputs' own names: Mul's "g * b" for
    ``x1 * w1`` reads "g * w1" (so a label "a" or "b" never meets the formula's letters),
    and "out" reads as the op's own name (Tanh's "g * (1 - out ** 2)" -> "g * (1 - o ** 2)")."""
    rule = rule_for(node, index)
    _, rules = derivative_rules(node._fn)
    if len(rules) != len(node._parents):
        return rule
    letters = {r.partition(" = ")[0].strip()[1:]: p for r, p in zip(rules, node._parents, strict=True)}

    def name(match: re.Match) -> str:
        if match[1] == "out":
            return grouped(names[id(node)])
        if match[1] not in letters:
            return match[0]
        parent = letters[match[1]]
        return grouped(names[id(parent)]) if parent is not None else "const"  # raw data, not a node

    return re.sub(r"\b([a-z]|out)\b", name, rule)


def grouped(name: str) -> str:
    """A name as one symbol: "x1w1 + x2w2" in brackets, "x1" as it is."""
    return f"({name})" if re.search(r"[^\w.]", name) else name


def heading(node: Node, names: dict[int, str]) -> str:
    """"n = x1w1 + b", or just the expression when the node's label already is it."""
    text = expression(node, names)
    return text if names[id(node)] == text else f"{names[id(node)]} = {text}"


def op_note(node: Node) -> str:
    """The op's class and, for an op without per-input rules, what ``derivative_rules`` shows."""
    formula, rules = derivative_rules(node._fn)
    n = len(node._parents)
    if len(rules) == n or (rules and variadic_rule(node._fn.rule, n, 0) is not None):
        return node._fn.__name__  # each input's line shows its rule, in the inputs' names
    return f"{node._fn.__name__}: {formula}"


def expression(node: Node, names: dict[int, str]) -> str:
    """The op as an expression of its inputs' names: "e * f", "tanh(n)", "x ** 2"."""
    args = [names[id(p)] if p is not None else "const" for p in node._parents]
    symbol = node._fn.name()
    if node._fn is ops.PowConstant:
        return f"{grouped(args[0])} ** {fmt((node._ctx or node).saved_tensors[1])}"
    if symbol in INFIX and len(args) == 2:
        return f"{grouped(args[0])} {symbol} {grouped(args[1])}"
    return f"{symbol}({', '.join(args)})"


class TextWriter:
    """Plain text, one block per op."""

    def __init__(self, names: dict[int, str], root_name: str) -> None:
        self.names, self.root = names, root_name

    def d(self, node: Node) -> str:
        return f"d{grouped(self.root)}/d{grouped(self.names[id(node)])}"

    def start(self, root: Node) -> list[str]:
        return [
            f"Backward pass from {self.root} = {summary(root.data)}, from the output back. "
            "g is the gradient arriving at an op's output (upstream); each input gets "
            "upstream × local derivative = contribution.",
            f"{self.d(root)} = 1",
        ]

    def step(self, step: Step) -> list[str]:
        node = step.node
        lines = ["", f"{heading(node, self.names)}    [{op_note(node)}]",
                 f"  g = {self.d(node)} = {grad_summary(step.upstream)}"]
        for c in step.contributions:
            lines.append("  " + self.contribution(node, c))
        return lines

    def contribution(self, node: Node, c: Contribution) -> str:
        formula = local_rule(node, c.index, self.names)
        if c.local is None:
            numbers = grad_summary(c.value)
        else:
            numbers = f"{fmt(c.upstream)} × {fmt(c.local)} = {fmt(c.value)}"
        target = self.d(c.parent)
        if c.first:
            return f"{target} = {formula} = {numbers}"
        return f"{target} += {formula} = {numbers}  ->  {target} = {grad_summary(c.total)}"

    def finish(self, leaves: list[Contribution]) -> list[str]:
        parts = [f"{self.d(c.parent)} = {grad_summary(c.total)}" for c in leaves]
        return ["", "Gradients of the inputs: " + (", ".join(parts) if parts else "none")]


class LatexWriter(TextWriter):
    """An ``align*`` block: the op, then d root/d input += upstream x local per input."""

    def tex(self, node: Node) -> str:
        return tex_name(self.names[id(node)])

    def d(self, node: Node) -> str:
        return rf"\frac{{\partial {tex_name(self.root)}}}{{\partial {self.tex(node)}}}"

    def start(self, root: Node) -> list[str]:
        return [r"\begin{align*}", rf"{self.d(root)} &= 1 \\"]

    def step(self, step: Step) -> list[str]:
        node = step.node
        lines = [rf"{self.tex(node)} &= {tex_expression(node, self.names)} "
                 rf"&& \text{{{tex_text(op_note(node))}}} \\"]
        return lines + [self.contribution(node, c) for c in step.contributions]

    def contribution(self, node: Node, c: Contribution) -> str:
        relation = "=" if c.first else r"\mathrel{+}="
        local = rf"\frac{{\partial {self.tex(node)}}}{{\partial {self.tex(c.parent)}}}"
        if c.local is None:
            numbers = tex_number_text(grad_summary(c.value))
        else:
            product = rf"{tex_number(c.upstream)} \times {tex_number(c.local)}"
            numbers = f"{product} = {tex_number(c.value, bare=True)}"
        total = "" if c.first else rf" \quad \text{{(total {tex_number_text(grad_summary(c.total))})}}"
        return rf"{self.d(c.parent)} &{relation} {self.d(node)}\,{local} = {numbers}{total} \\"

    def finish(self, leaves: list[Contribution]) -> list[str]:
        return [r"\end{align*}"]


def tex_name(name: str) -> str:
    """A name in math mode: one letter as is, longer names upright."""
    if re.fullmatch(r"[A-Za-z]", name):
        return name
    if re.fullmatch(r"-?[0-9.e]+", name):
        return tex_number(float(name), bare=True)
    return rf"\mathrm{{{tex_text(name)}}}"


def tex_text(text: str) -> str:
    """Escape LaTeX's special characters in ordinary text."""
    return re.sub(r"([_%&#$^{}~\\])", lambda m: {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}
                  .get(m.group(1), "\\" + m.group(1)), text)


def tex_number(x: Any, bare: bool = False) -> str:
    """4 significant digits; 1.5e-8 as 1.5 \\times 10^{-8}; negatives in parentheses unless ``bare``."""
    text = fmt(x)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{exponent}}}"
    return f"({text})" if text.startswith("-") and not bare else text


def tex_number_text(text: str) -> str:
    return tex_text(text).replace("‖g‖", r"$\|g\|$")


def tex_expression(node: Node, names: dict[int, str]) -> str:
    """The op in math notation: e \\cdot f, x^{2}, \\tanh(n), \\operatorname{relu}(x)."""
    args = [tex_name(names[id(p)]) if p is not None else r"\mathrm{const}" for p in node._parents]
    symbol = node._fn.name()
    if node._fn is ops.PowConstant:
        return rf"{args[0]}^{{{fmt((node._ctx or node).saved_tensors[1])}}}"
    if symbol in INFIX and len(args) == 2:
        return f"{args[0]}^{{{args[1]}}}" if symbol == "**" else f"{args[0]} {INFIX[symbol]} {args[1]}"
    function = LATEX_FUNCTIONS.get(symbol, rf"\operatorname{{{tex_text(symbol)}}}")
    return rf"{function}\left({', '.join(args)}\right)"
