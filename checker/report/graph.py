"""The step graph as Graphviz DOT or a Mermaid flowchart, provers on the edges: one edge
per transition, each with its own label."""

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


def _loops(t: Transition, step: str) -> bool:
    return t.source == t.target == step


def _looped(model: Model) -> tuple[str, ...]:
    """The steps with two or more self-loops. Graphviz, in a left-to-right layout, and
    Mermaid draw the loops of one step on top of each other (Mermaid shows only one, and
    Graphviz runs each loop through the label of the loop inside it), so each of them
    is drawn through a node of its own that holds its label."""
    return tuple(s for s in model.steps if sum(_loops(t, s) for t in model.transitions) >= 2)


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
    looped = _looped(model)
    for t in model.transitions:
        source, label = _dot_quote(t.source), _dot_quote(edge_label(t))
        if t.source in looped and t.target == t.source:
            # a node of its own for the label, beside the step (same rank); the loop
            # runs out to it and back
            node = _dot_quote(f"{t.source}@{t.index}")
            lines.append(f"  {node} [shape=plain, fontsize=10, label={label}];")
            lines.append(f"  {source} -> {node} [dir=none];")
            lines.append(f"  {node} -> {source};")
        else:
            lines.append(f"  {source} -> {_dot_quote(t.target)} [label={label}];")
    for step in looped:
        around = " ".join(
            _dot_quote(f"{step}@{t.index}") + ";" for t in model.transitions if _loops(t, step)
        )
        lines.append(f"  {{ rank=same; {_dot_quote(step)}; {around} }}")
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
    looped = _looped(model)
    for t in model.transitions:
        label = _mermaid_text(edge_label(t))
        if t.source in looped and t.target == t.source:  # through a node holding the label
            source = ids[t.source]
            lines.append(f'  {source} --- t{t.index}["{label}"]:::loop --> {source}')
        else:
            lines.append(f'  {ids[t.source]} -->|"{label}"| {ids[t.target]}')
    if looped:
        lines.append("  classDef loop fill:none,stroke:none")
    return "\n".join(lines) + "\n"
