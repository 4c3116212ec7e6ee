"""Structural rules of ``LANGUAGE.md``, as pure functions of the model's step graph.

Each rule returns the offending items; :func:`structural_findings` words them as
findings located at the item's line.
"""

from __future__ import annotations

import networkx as nx

from checker.model import Model, Transition
from checker.results import Finding, Severity


def unreachable_steps(graph: nx.DiGraph[str], initial: str) -> list[str]:
    """Steps that no path of transitions reaches from ``initial``.

    Parameters
    ----------
    graph
        The step graph (a node per step, an edge per pair of steps joined by a
        transition).
    initial
        The step every run starts in.

    Returns
    -------
    list of str
        The unreachable steps, in the graph's node order.
    """
    reached = nx.descendants(graph, initial) | {initial}
    return [s for s in graph.nodes if s not in reached]


def exits_from_final(graph: nx.DiGraph[str], final: tuple[str, ...]) -> list[Transition]:
    """Transitions leaving a final step, except a self-loop that emits nothing."""
    found: list[Transition] = []
    for step in final:
        for _, target, data in graph.out_edges(step, data=True):
            for t in data["transitions"]:
                if target != step or t.emit:
                    found.append(t)
    return sorted(found, key=lambda t: t.index)


def places_without_prover(graph: nx.DiGraph[str]) -> list[Transition]:
    """Transitions that emit ``place`` without at least one prover in their ``when``."""
    found = [
        t
        for _, _, data in graph.edges(data=True)
        for t in data["transitions"]
        if any(a.name == "place" for a in t.emit) and not t.provers
    ]
    return sorted(found, key=lambda t: t.index)


def final_unreachable_from(graph: nx.DiGraph[str], final: tuple[str, ...]) -> list[str]:
    """Steps from which no final step can be reached (empty when none is declared)."""
    if not final:
        return []
    reaches: set[str] = set(final)
    for step in final:
        reaches |= nx.ancestors(graph, step)
    return [s for s in graph.nodes if s not in reaches]


def structural_findings(model: Model) -> list[Finding]:
    """Every structural rule the model breaks, each an error at its line."""
    g = model.graph
    findings = [
        Finding(
            "unreachable-step",
            Severity.ERROR,
            f"step '{s}' is not reachable from the initial step '{model.initial}'",
            model.step_lines[s],
            model.step_columns[s],
        )
        for s in unreachable_steps(g, model.initial)
    ]
    findings += [
        Finding(
            "final-step-exit",
            Severity.ERROR,
            f"transition {t.label} leaves the final step '{t.source}'"
            + (" and emits actions" if t.target == t.source else "")
            + "; a final step may only loop back to itself without emitting",
            t.line,
            t.column,
        )
        for t in exits_from_final(g, model.final)
    ]
    findings += [
        Finding(
            "place-without-prover",
            Severity.ERROR,
            f"transition {t.label} emits place() but its `when` names no prover; "
            "list a prover (a name from `provers`) as an item of `when`",
            t.line,
            t.column,
        )
        for t in places_without_prover(g)
    ]
    findings += [
        Finding(
            "final-unreachable",
            Severity.ERROR,
            f"no final step ({', '.join(model.final)}) can be reached from step '{s}'",
            model.step_lines[s],
            model.step_columns[s],
        )
        for s in final_unreachable_from(g, model.final)
    ]
    return findings
