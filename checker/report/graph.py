"""The step graph as Graphviz DOT or a Mermaid flowchart, provers on the edges."""

from __future__ import annotations

from checker.model import Model, Transition


def edge_label(t: Transition) -> str:
    """``line N: [prover, ...] other conditions / actions``: provers in brackets first."""
    parts = [f"line {t.line}:"]
    if t.provers:
        parts.append("[" + ", ".join(t.provers) + "]")
    others = [c.text for c in t.when if not c.name]
    if others:
        parts.append(" and ".join(others))
    if t.emit:
        parts.append("/ " + "; ".join(a.text for a in t.emit))
    return " ".join(parts).removesuffix(":")


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(model: Model) -> str:
    lines = [
        f"digraph {_dot_quote(model.strategy)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "@start" [shape=point, label=""];',
        f'  "@start" -> {_dot_quote(model.initial)};',
    ]
    for step in model.steps:
        extra = ", peripheries=2" if step in model.final else ""
        lines.append(f"  {_dot_quote(step)} [label={_dot_quote(step)}{extra}];")
    for t in model.transitions:
        lines.append(
            f"  {_dot_quote(t.source)} -> {_dot_quote(t.target)} "
            f"[label={_dot_quote(edge_label(t))}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
    )


def to_mermaid(model: Model) -> str:
    ids = {step: f"s{i}" for i, step in enumerate(model.steps)}
    lines = ["flowchart LR", "  start((start))"]
    for step in model.steps:
        shape = ('(["', '"])') if step in model.final else ('["', '"]')
        lines.append(f"  {ids[step]}{shape[0]}{_mermaid_text(step)}{shape[1]}")
    lines.append(f"  start --> {ids[model.initial]}")
    for t in model.transitions:
        lines.append(f'  {ids[t.source]} -->|"{_mermaid_text(edge_label(t))}"| {ids[t.target]}')
    return "\n".join(lines) + "\n"
