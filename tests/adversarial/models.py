"""A Hypothesis strategy for small, valid, adversarial model files (YAML text).

Every generated file keeps the structural rules of LANGUAGE.md (every step reachable,
a final step is left only by a self-loop that emits nothing, ``place`` only with a
prover in ``when``, a final step reachable from every step) and has inputs with small
finite domains, so that exploring every input vector at every tick is complete.

The files are built to stress what the verifier gets wrong most easily: several
transitions per step (priority by file order), steps where nothing is enabled
(stutter), assumptions that read the state and leave some reachable configurations
with no admissible inputs (dead ends: runs end there), limits broken at tick 0, deep
ones and true ones, and one expression written many equivalent ways (``a <= b``,
``not a > b``, ``b >= a``, ``x - -1``, chained comparisons, ``min``/``max``/``abs``,
``a if c else b``, redundant parentheses, reordered ``and``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

Draw = Callable[..., object]

ENUM_STATE = ("idle", "busy", "done")
ENUM_INPUT = ("calm", "storm")


@dataclass(frozen=True)
class GenModel:
    """A generated model: every section but ``limits`` as YAML text, and the limits as
    (name, expression) in file order, so the same model can be written with a subset
    of its limits or with them reordered."""

    head: str
    limits: tuple[tuple[str, str], ...]

    def text(self, limits: tuple[tuple[str, str], ...] | None = None) -> str:
        chosen = self.limits if limits is None else limits
        body = "".join(f"  {name}: {_scalar(expr)}\n" for name, expr in chosen)
        return self.head + "limits:\n" + body

    def alone(self, name: str) -> str:
        return self.text(tuple(lim for lim in self.limits if lim[0] == name))


def _scalar(text: str) -> str:
    """An expression as a YAML scalar: plain where YAML reads it as text unchanged."""
    if text[:1] in "[{&*!|>'\"%@`#,?:-" or ": " in text or " #" in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


@dataclass
class _Names:
    """What the model declares, so that expressions only use names in scope."""

    ints: list[str]  # int state variables
    has_flag: bool
    has_mode: bool
    has_real: bool
    int_inputs: list[tuple[str, int, int]]
    has_b: bool
    has_sig: bool
    params: dict[str, int]
    clock: bool = False  # a state variable t that every transition increments
    feed: str | None = None  # a variable most transitions set from an input

    @property
    def readable(self) -> list[str]:
        return self.ints + ["t"] * self.clock


def _paren(draw: Draw, text: str) -> str:
    """Redundant parentheses, now and then."""
    return f"({text})" if draw(st.integers(0, 5)) == 0 else text


def _const(draw: Draw, low: int = -2, high: int = 3) -> str:
    return str(draw(st.integers(low, high)))


def _int_atom(draw: Draw, n: _Names, with_inputs: bool) -> str:
    names = list(n.readable) + list(n.params)
    if with_inputs:
        names += [name for name, _, _ in n.int_inputs]
    choice = draw(st.integers(0, 3))
    if choice == 0 or not names:
        return _const(draw)
    return draw(st.sampled_from(names))


def _neg(value: str) -> str:
    return value[1:] if value.startswith("-") else f"-{value}"


def _plus_const(draw: Draw, a: str, c: int) -> str:
    """``a + c`` in one of several equivalent spellings."""
    forms = [f"{a} + {c}", f"{c} + {a}", f"{a} - {_neg(str(c))}"]
    if c >= 0:
        forms += [f"{a} - -{c}", f"{a} - ({-c})"]
    else:
        forms += [f"{a} - {-c}", f"{a} + ({c})"]
    return str(draw(st.sampled_from(forms)))


def _int_term(draw: Draw, n: _Names, with_inputs: bool, depth: int = 1) -> str:
    a = _int_atom(draw, n, with_inputs)
    if depth <= 0:
        return a
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        return a
    b = _int_atom(draw, n, with_inputs)
    if kind == 3:
        return _plus_const(draw, a, draw(st.integers(-2, 2)))
    if kind == 4:
        return str(draw(st.sampled_from([f"{a} + {b}", f"{b} + {a}", f"{a} - {_neg(b)}"])))
    if kind == 5:
        return f"{a} - {b}" if draw(st.booleans()) else f"-{b} + {a}"
    if kind == 6:
        c = draw(st.integers(-1, 2))
        return str(draw(st.sampled_from([f"{c} * {a}", f"{a} * {c}"])))
    if kind == 7:
        return str(draw(st.sampled_from([f"abs({a})", f"max({a}, -{a})", f"max(-{a}, {a})"])))
    if kind == 8:
        if draw(st.booleans()):
            return str(
                draw(
                    st.sampled_from(
                        [f"min({a}, {b})", f"min({b}, {a})", f"({a} if {a} <= {b} else {b})"]
                    )
                )
            )
        return str(
            draw(
                st.sampled_from(
                    [f"max({a}, {b})", f"max({b}, {a})", f"({b} if {a} <= {b} else {a})"]
                )
            )
        )
    cond = _compare(draw, n, with_inputs, depth=0)
    return f"({a} if {cond} else {b})"


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _relation(draw: Draw, a: str, op: str, b: str) -> str:
    """``a op b`` in one of several equivalent spellings."""
    forms = [
        f"{a} {op} {b}",
        f"{b} {_FLIP[op]} {a}",
        f"not {_paren_always(a)} {_NEGATE[op]} {b}",
        f"not ({b} {_NEGATE[_FLIP[op]]} {a})",
    ]
    return _paren(draw, str(draw(st.sampled_from(forms))))


def _paren_always(text: str) -> str:
    return text if text.isidentifier() or text.lstrip("-").isdigit() else f"({text})"


def _compare(draw: Draw, n: _Names, with_inputs: bool, depth: int = 1) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 5 or (not n.has_flag and not n.has_mode and not with_inputs):
        a = _int_term(draw, n, with_inputs, depth)
        b = _int_atom(draw, n, with_inputs) if draw(st.booleans()) else _const(draw)
        op = draw(st.sampled_from(sorted(_FLIP)))
        if kind == 5:  # a range, chained or not
            lo = draw(st.integers(-2, 1))
            hi = lo + draw(st.integers(0, 3))
            return str(
                draw(
                    st.sampled_from(
                        [
                            f"{lo} <= {a} <= {hi}",
                            f"{hi} >= {a} >= {lo}",
                            f"{a} >= {lo} and {a} <= {hi}",
                            f"{_paren_always(a)} <= {hi} and {lo} <= {a}",
                        ]
                    )
                )
            )
        return _relation(draw, a, op, b)
    if kind == 6 and n.has_flag:
        return str(draw(st.sampled_from(["flag", "not flag", "not not flag"])))
    if kind == 7 and n.has_mode:
        value = draw(st.sampled_from(ENUM_STATE))
        op = draw(st.sampled_from(["==", "!="]))
        return str(draw(st.sampled_from([f"mode {op} {value}", f"{value} {op} mode"])))
    if kind == 8 and n.has_real:
        c = draw(st.sampled_from(["0", "1", "0.5", "-0.5", "1.25", "2"]))
        op = draw(st.sampled_from(sorted(_FLIP)))
        a = draw(st.sampled_from(["r", "2 * r", "r / 2", "r - 0.5"]))
        return _relation(draw, a, op, c)
    if with_inputs and n.has_b and draw(st.booleans()):
        return str(draw(st.sampled_from(["b", "not b"])))
    if with_inputs and n.has_sig:
        value = draw(st.sampled_from(ENUM_INPUT))
        return f"sig {draw(st.sampled_from(['==', '!=']))} {value}"
    a = _int_term(draw, n, with_inputs, depth)
    return _relation(draw, a, draw(st.sampled_from(sorted(_FLIP))), _const(draw))


def _condition(draw: Draw, n: _Names, with_inputs: bool) -> str:
    """A boolean expression: a comparison, or two joined by ``and`` / ``or`` (in either
    order, ``not (a or b)`` written as ``not a and not b`` too)."""
    a = _compare(draw, n, with_inputs)
    kind = draw(st.integers(0, 5))
    if kind <= 2:
        return a
    b = _compare(draw, n, with_inputs, depth=0)
    if kind == 3:
        return str(draw(st.sampled_from([f"{a} and {b}", f"{b} and {a}", f"({a}) and ({b})"])))
    if kind == 4:
        return str(draw(st.sampled_from([f"{a} or {b}", f"{b} or {a}"])))
    return str(draw(st.sampled_from([f"not ({a} or {b})", f"not ({a}) and not ({b})"])))


def _dead_end_assumption(draw: Draw, n: _Names) -> tuple[str, str, int]:
    """An assumption that reads the state and can leave no admissible inputs, with the
    variable it bounds and about where (so a limit can be drawn next to it)."""
    x = draw(st.sampled_from(n.ints))
    kind = draw(st.integers(0, 5))
    if n.int_inputs and kind <= 2:
        i, lo, hi = draw(st.sampled_from(n.int_inputs))
        k = draw(st.integers(0, 3))
        m = draw(st.integers(-2, 1))
        text, bound = draw(
            st.sampled_from(
                [
                    (f"{x} + {i} <= {k}", k - lo),
                    (f"{i} <= {k} - {x}", k - lo),
                    (f"not {x} + {i} > {k}", k - lo),
                    (f"{i} >= {x}", hi),
                    (f"{x} <= {i}", hi),
                    (f"{i} <= {x}", lo),
                    (f"{i} - {x} >= {m}", hi - m),
                ]
            )
        )
        return str(text), x, int(bound)
    k = draw(st.integers(0, 3))
    guard = str(draw(st.sampled_from([f"{x} < {k + 1}", f"{x} <= {k}", f"not {x} > {k}"])))
    if n.has_mode and kind == 3:
        guard = f"mode != {draw(st.sampled_from(ENUM_STATE))}"
    if n.has_flag and kind == 4:
        guard = "not flag"
    if n.int_inputs and draw(st.booleans()):
        i, lo, hi = draw(st.sampled_from(n.int_inputs))
        guard = f"{guard} or {i} > {hi}" if draw(st.booleans()) else f"{i} < {lo} or {guard}"
    return guard, x, k


def _feed(draw: Draw, n: _Names, var: str) -> str:
    """``var`` set from an input."""
    i = draw(st.sampled_from([name for name, _, _ in n.int_inputs]))
    return str(draw(st.sampled_from([i, f"{var} + {i}", f"max({var}, {i})", f"{i} + 0"])))


def _assignment(draw: Draw, n: _Names, var: str) -> str:
    if var in n.ints:
        kind = draw(st.integers(0, 6))
        if kind == 6 and n.int_inputs:
            kind = 2  # fed by an input: the way into a dead end the assumptions set
        if kind <= 1:
            return _plus_const(draw, var, draw(st.sampled_from([1, 1, -1, 2])))
        if kind == 2 and n.int_inputs:
            i = draw(st.sampled_from([name for name, _, _ in n.int_inputs]))
            forms = [
                f"{var} + {i}",
                f"{i} + {var}",
                f"{var} - -{i}",
                i,
                f"{i} - 1",
                f"max({var}, {i})",
            ]
            return str(draw(st.sampled_from(forms)))
        if kind == 3:
            return _const(draw, -1, 2)
        return _int_term(draw, n, True)
    if var == "flag":
        return str(
            draw(
                st.sampled_from(
                    [
                        "not flag",
                        "true",
                        "false",
                        "b" if n.has_b else "not flag",
                        _compare(draw, n, True, depth=0),
                    ]
                )
            )
        )
    if var == "mode":
        value = draw(st.sampled_from(ENUM_STATE))
        if draw(st.booleans()):
            other = draw(st.sampled_from(ENUM_STATE))
            return f"{value} if {_compare(draw, n, True, depth=0)} else {other}"
        return value
    assert var == "r"
    forms = ["r + 0.5", "r - 0.25", "r / 2", "0.5 + r / 2", "r + 1"]
    forms += [f"r + {i} / 2" for i, _, _ in n.int_inputs]
    forms += [f"{x} / 4" for x in n.ints]
    return str(draw(st.sampled_from(forms)))


@st.composite
def gen_models(draw: Draw, dead_ends: bool = True) -> GenModel:
    """A small valid model. ``dead_ends`` makes state-reading assumptions likely.

    Many models have a clock: a variable ``t`` that every transition increments, often
    with an assumption bounding it and an unguarded last transition in every step, so
    that every run ends in a dead end after a few ticks; about half set a trap (see
    below). Both are shapes that make a bounded search that only sees runs able to go
    on deeper miss what it should find."""
    ints = ["x"] + (["y"] if draw(st.booleans()) else [])
    # a trap: x fed by an input, an assumption that makes x past k a dead end, a limit
    # broken right there, and a clock whose limit breaks deeper (a search that only sees
    # runs able to go on deeper misses the first)
    trap = dead_ends and draw(st.booleans())
    trap_k = draw(st.integers(0, 2)) if trap else 0
    int_inputs: list[tuple[str, int, int]] = []
    for name in ("i", "j")[: draw(st.integers(1 if trap else 0, 2))]:
        lo = draw(st.integers(-2, 0))
        hi = 3 if trap and name == "i" else lo + draw(st.integers(0, 5 + lo))
        int_inputs.append((name, lo, hi))
    n = _Names(
        ints=ints,
        has_flag=draw(st.booleans()),
        has_mode=draw(st.booleans()),
        has_real=draw(st.integers(0, 3)) == 0,
        int_inputs=int_inputs,
        has_b=draw(st.booleans()),
        has_sig=draw(st.integers(0, 3)) == 0,
        params={"cap": draw(st.integers(0, 3))} if draw(st.booleans()) else {},
        clock=trap or (dead_ends and draw(st.booleans())),
        feed="x" if trap else None,
    )
    lines = ["strategy: adversarial"]
    if n.params:
        lines += ["params:"] + [f"  {k}: {v}" for k, v in n.params.items()]
    lines.append("state:")
    inits = {"t": 0}
    if n.clock:
        lines.append("  t: {type: int, init: 0}")
    for x in ints:
        inits[x] = draw(st.integers(-1, trap_k if trap and x == "x" else 2))
        lines.append(f"  {x}: {{type: int, init: {inits[x]}}}")
    if n.has_flag:
        lines.append(f"  flag: {{type: bool, init: {draw(st.sampled_from(['false', 'true']))}}}")
    if n.has_mode:
        values = ", ".join(ENUM_STATE)
        init = draw(st.sampled_from(ENUM_STATE))
        lines.append(f"  mode: {{type: enum, values: [{values}], init: {init}}}")
    if n.has_real:
        lines.append(f"  r: {{type: real, init: {draw(st.sampled_from(['0', '0.5', '-1.25']))}}}")
    declared = [f"  {i}: {{type: int, range: [{lo}, {hi}]}}" for i, lo, hi in int_inputs]
    if n.has_b:
        declared.append("  b: {type: bool}")
    if n.has_sig:
        declared.append(f"  sig: {{type: enum, values: [{', '.join(ENUM_INPUT)}]}}")
    if declared:
        lines += ["inputs:", *declared]
    assumptions = []
    near: list[tuple[str, int]] = []  # (variable, value) where an assumption cuts runs
    if trap:
        k = trap_k
        assumptions.append(str(draw(st.sampled_from([f"x <= {k}", f"not x > {k}", f"{k} >= x"]))))
        limit = _relation(draw, "x", "<=", str(k))
        clock_limit = _relation(draw, "t", "<=", str(draw(st.integers(0, 4))))
    if n.clock and draw(st.integers(0, 2)) > (1 if trap else 0):  # else t grows for ever
        k = draw(st.integers(0, 4))
        assumptions.append(
            draw(
                st.sampled_from(
                    [
                        f"0 <= t <= {k}",
                        f"t >= 0 and t <= {k}",
                        f"not (t > {k} or t < 0)",
                        f"{k} >= t >= 0",
                        f"t <= {k}",
                        f"t < {k + 1}",
                        f"not t > {k}",
                    ]
                )
            )
        )
        near.append(("t", k + 1))
    elif n.clock:
        near.append(("t", draw(st.integers(1, 5))))  # a limit t <= c breaks at tick c + 1
    if dead_ends and draw(st.integers(0, 9)) < (3 if trap else 9):
        text, var, bound = _dead_end_assumption(draw, n)
        assumptions.append(text)
        near.append((var, bound))
    if draw(st.integers(0, 5)) == 0:
        assumptions.append(_compare(draw, n, True, depth=0))
    assume = ["assume:"] * bool(assumptions)
    assume += [f"  a{k}: {_scalar(a)}" for k, a in enumerate(assumptions)]
    rest = []
    provers = [_compare(draw, n, True) for _ in range(draw(st.integers(0, 2)))]
    if provers:
        rest += ["provers:"] + [f"  p{k}: {_scalar(p)}" for k, p in enumerate(provers)]

    steps = [f"s{k}" for k in range(draw(st.integers(1, 4)))]
    final = steps[-1] if len(steps) >= 2 and draw(st.booleans()) else None
    rest.append(f"steps: [{', '.join(steps)}]")
    rest.append("initial: s0")
    if final:
        rest.append(f"final: [{final}]")
    variables = ints + ["flag"] * n.has_flag + ["mode"] * n.has_mode + ["r"] * n.has_real

    transitions: list[tuple[str, str]] = []
    for k, step in enumerate(steps):
        if step == final:
            targets = [step] * draw(st.integers(1 if n.clock else 0, 2))
        else:
            targets = [draw(st.sampled_from(steps)) for _ in range(draw(st.integers(0, 3)))]
            if k + 1 < len(steps):  # the chain that makes every step reachable
                targets.insert(draw(st.integers(0, len(targets))), steps[k + 1])
            if not targets:
                targets = [step]
        transitions += [(step, t) for t in targets]
    # transitions of different steps interleaved: only the order within a step matters
    order = draw(st.permutations(range(len(transitions))))
    ordered = sorted(range(len(transitions)), key=lambda i: (transitions[i][0], order[i]))
    rest.append("transitions:")
    for position, index in enumerate(ordered):
        source, target = transitions[index]
        last = position + 1 == len(ordered) or transitions[ordered[position + 1]][0] != source
        rest += _transition(
            draw,
            n,
            source,
            target,
            target == source == final,
            provers,
            variables,
            always=n.clock and last and draw(st.integers(0, 4)) > 0,
        )

    # limits next to where runs end (broken in a dead end, or just before), limits a
    # drifting variable breaks after a few ticks, the rest at random; in random order
    exprs = [limit, clock_limit] if trap else []
    for var, value in near:
        if draw(st.booleans()):
            op = draw(st.sampled_from(["<=", "<", "!="]))
            exprs.append(_relation(draw, var, op, str(value + draw(st.integers(-2, 1)))))
    for var in n.readable:
        if len(exprs) < 3 and draw(st.integers(0, 2)) == 0:
            up = draw(st.integers(1, 4))
            exprs.append(
                str(
                    draw(
                        st.sampled_from(
                            [
                                _relation(draw, var, "<=", str(inits[var] + up)),
                                _relation(draw, var, ">=", str(inits[var] - up)),
                                _relation(draw, var, "!=", str(inits[var] + up)),
                                _relation(draw, f"abs({var})", "<=", str(abs(inits[var]) + up)),
                            ]
                        )
                    )
                )
            )
    exprs += [
        _condition(draw, n, False)
        for _ in range(draw(st.integers(max(0, 2 - len(exprs)), 4 - len(exprs))))
    ]
    exprs = list(draw(st.permutations(exprs)))
    head = "\n".join([*lines, *assume, *rest]) + "\n"
    if assumptions and _vacuous(head, exprs) and draw(st.integers(0, 19)) != 7:
        head = "\n".join([*lines, *rest]) + "\n"  # keep few models with no run at all
    # most limits hold in the initial configuration (a limit broken there is easy)
    broken = _broken_initially(head, exprs)
    exprs = [
        f"not ({e})" if k in broken and draw(st.booleans()) else e for k, e in enumerate(exprs)
    ]
    return GenModel(head, tuple((f"L{k}", e) for k, e in enumerate(exprs)))


def _broken_initially(head: str, exprs: list[str]) -> set[int]:
    from tests.adversarial.ast_oracle import AstSemantics

    limits = tuple((f"L{k}", e) for k, e in enumerate(exprs))
    sem = AstSemantics(GenModel(head, limits).text())
    broken = set(sem.broken(sem.initial()))
    return {k for k in range(len(exprs)) if f"L{k}" in broken}


def _vacuous(head: str, exprs: list[str]) -> bool:
    """Whether no inputs are admissible in the initial configuration."""
    from tests.adversarial.ast_oracle import AstSemantics

    limits = tuple((f"L{k}", e) for k, e in enumerate(exprs))
    sem = AstSemantics(GenModel(head, limits).text())
    start = sem.initial()
    return not any(sem.admissible(start, v) for v in sem.vectors())


def _transition(
    draw: Draw,
    n: _Names,
    source: str,
    target: str,
    in_final: bool,
    provers: list[str],
    variables: list[str],
    always: bool = False,
) -> list[str]:
    """One transition; ``always`` leaves out ``when`` (the step never stutters)."""
    lines = [f"  - from: {source}", f"    to: {target}"]
    when: list[str] = []
    kind = 0 if always else draw(st.integers(0, 4))
    if kind >= 1:
        when.append(_condition(draw, n, True))
    if kind >= 3:
        when.append(_compare(draw, n, True, depth=0))
    if provers and not always and draw(st.integers(0, 2)) == 0:
        when.insert(draw(st.integers(0, len(when))), f"p{draw(st.integers(0, len(provers) - 1))}")
    if len(when) == 1 and draw(st.booleans()):
        lines.append(f"    when: {_scalar(when[0])}")
    elif when:
        lines += ["    when:"] + [f"      - {_scalar(w)}" for w in when]
    if not in_final:
        named_prover = any(w.startswith("p") and w[1:].isdigit() for w in when)
        kind = draw(st.integers(0, 5))
        if kind == 0:
            lines += ["    emit:", "      - cancel_all()"]
        elif kind == 1 and named_prover:
            side = draw(st.sampled_from(['"buy"', '"sell"']))
            lines += ["    emit:", f"      - place(side={side}, qty=1)"]
    chosen = [v for v in variables if draw(st.integers(0, 2)) == 0]
    if n.feed and n.feed not in chosen and draw(st.integers(0, 2)) > 0:
        chosen.append(n.feed)
    assigned = [
        (v, _feed(draw, n, v) if v == n.feed and draw(st.booleans()) else _assignment(draw, n, v))
        for v in chosen
    ]
    if n.clock:
        tick = str(draw(st.sampled_from(["t + 1", "1 + t", "t - -1", "(t + 1)"])))
        assigned.insert(draw(st.integers(0, len(assigned))), ("t", tick))
    if assigned:
        lines.append("    do:")
        lines += [f"      {v}: {_scalar(e)}" for v, e in assigned]
    return lines
