"""Structural rules as pure functions of the step graph."""

from __future__ import annotations

from checker.analysis import (
    exits_from_final,
    final_unreachable_from,
    places_without_prover,
    structural_findings,
    unreachable_steps,
)
from tests.conftest import model

SHAPE = """
strategy: shape
state:
  x: {type: int, init: 0}
provers:
  ok: x < 10
steps: [a, b, c, island, done]
initial: a
final: [done]
transitions:
  - from: a
    to: b
    when: [ok]
    emit:
      - place(side="buy", qty=1)
  - from: b
    to: c
    emit:
      - place(side="sell", qty=1)
  - from: c
    to: c
  - from: done
    to: a
  - from: island
    to: done
limits:
  lim: x <= 0
"""


def test_each_rule_finds_exactly_its_offenders() -> None:
    m = model(SHAPE)
    g = m.graph
    assert unreachable_steps(g, m.initial) == ["island", "done"]
    assert [t.index for t in exits_from_final(g, m.final)] == [3]
    assert [t.index for t in places_without_prover(g)] == [1]
    assert final_unreachable_from(g, m.final) == ["a", "b", "c"]


def test_findings_are_errors_at_the_offending_lines() -> None:
    found = {(f.rule, f.line) for f in structural_findings(model(SHAPE))}
    assert found == {
        ("unreachable-step", 7),
        ("final-step-exit", 22),
        ("place-without-prover", 16),
        ("final-unreachable", 7),
    }


def test_self_loop_on_a_final_step_is_allowed_only_without_actions() -> None:
    quiet = SHAPE.replace("  - from: done\n    to: a\n", "  - from: done\n    to: done\n")
    assert exits_from_final(model(quiet).graph, ("done",)) == []
    loud = quiet.replace(
        "    to: done\n  - from: island",
        "    to: done\n    emit:\n      - cancel_all()\n  - from: island",
    )
    assert [t.index for t in exits_from_final(model(loud).graph, ("done",))] == [3]


def test_graph_edges_carry_transitions_in_file_order() -> None:
    m = model(SHAPE)
    assert [t.index for t in m.graph.edges["a", "b"]["transitions"]] == [0]
    assert m.graph.number_of_nodes() == 5
