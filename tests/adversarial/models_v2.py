"""A Hypothesis strategy for small, valid, adversarial version-2 model files: one or two
instruments and the book the checker keeps (``LANGUAGE-2.md``).

Every generated file keeps the structural rules (every step reachable, a final step is
left only by a self-loop that emits nothing, ``place`` only with a prover in ``when``, a
final step reachable from every step) and stays finite for the exhaustive oracle: the
declared inputs have small domains, quantities are small (and, on a ``real``
instrument, multiples of one half, the grid the oracle enumerates fills on), and runs
are explored to a bounded depth.

The files are built to stress what the new semantics gets wrong most easily:

- fills split between working and pending orders, booked before the transition
  (guards and ``do`` read ``I.position``, ``I.open_buy``, ``I.bought`` of this tick);
- ``place`` in all its forms: ``gtc`` with a price, ``ioc`` with one, market orders
  (no price); ``side`` constant or chosen by an expression; ``qty`` a constant, a param
  or an expression that is not positive in some configuration (``positive_qty``);
- ``cancel(side=...)``, ``cancel_all()`` with and without ``instrument=``, so that
  cancels race fills;
- assumptions over fills, limits over the book (worst-case exposure, position bands),
  order checks (a clip on ``qty``, a collar on ``price`` against an input, checks
  reading ``side``, ``instrument`` and ``tif``), final steps entered with and without a
  cancel (``final-step-orders``).

:func:`gen_stuck_models` draws models with (or without) a planted stuck configuration,
for the ``stuck`` finder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

Draw = Callable[..., object]

KEEP = ("keep", "0 <= 1")
"""The limit a file with an order check alone keeps (a file needs one)."""


@dataclass(frozen=True)
class GenModelV2:
    """A generated version-2 model: every section but ``orders`` and ``limits`` as YAML
    text, and the order checks and limits as (name, expression) in file order, so the
    same model can be written with a subset of them or reordered."""

    head: str
    orders: tuple[tuple[str, str], ...]
    limits: tuple[tuple[str, str], ...]

    def text(
        self,
        limits: tuple[tuple[str, str], ...] | None = None,
        orders: tuple[tuple[str, str], ...] | None = None,
    ) -> str:
        chosen = self.limits if limits is None else limits
        checks = self.orders if orders is None else orders
        text = self.head
        if checks:
            text += "orders:\n" + "".join(f"  {n}: {_scalar(e)}\n" for n, e in checks)
        return text + "limits:\n" + "".join(f"  {n}: {_scalar(e)}\n" for n, e in chosen)

    @property
    def names(self) -> list[str]:
        """The limits and order checks, in file order (limits first)."""
        return [n for n, _ in self.limits] + [n for n, _ in self.orders]

    def alone(self, name: str) -> str:
        """The file with ``name`` (a limit or an order check) as its only limit or order
        check; the built-in checks stay, since they are not the file's to drop."""
        limits = tuple(x for x in self.limits if x[0] == name)
        if limits:
            return self.text(limits, ())
        return self.text((KEEP,), tuple(x for x in self.orders if x[0] == name))

    def shuffled(self, order: list[int]) -> str:
        """The file with its limits and order checks in another order (``order`` is a
        permutation of ``range(len(limits) + len(orders))`` over both)."""
        both = list(self.limits) + list(self.orders)
        names = {n for n, _ in self.limits}
        ranked = [both[k] for k in order]
        return self.text(
            tuple(x for x in ranked if x[0] in names), tuple(x for x in ranked if x[0] not in names)
        )


def _scalar(text: str) -> str:
    """An expression as a YAML scalar: plain where YAML reads it as text unchanged."""
    if text[:1] in "[{&*!|>'\"%@`#,?:-" or ": " in text or " #" in text:
        return "'" + text.replace("'", "''") + "'"
    return text


@dataclass
class _Names:
    instruments: list[tuple[str, bool]]  # (name, real qty)
    params: dict[str, str]
    ints: list[str]  # declared int state
    flag: bool
    clock: bool
    price: tuple[int, int]  # the range of the int input px
    has_b: bool

    def real(self, instrument: str) -> bool:
        return dict(self.instruments)[instrument]

    @property
    def any_real(self) -> bool:
        return any(real for _, real in self.instruments)


def _q(real: bool, value: int) -> str:
    """A quantity of ``value`` halves on a real instrument, ``value`` units on an int one."""
    if not real:
        return str(value)
    text = f"{value / 2:g}"
    return text if "." in text else text + ".0"


def _book_atom(draw: Draw, n: _Names, with_inputs: bool) -> str:
    i, _ = draw(st.sampled_from(n.instruments))
    parts = ["position", "open_buy", "open_sell"] + ["bought", "sold"] * with_inputs
    return f"{i}.{draw(st.sampled_from(parts))}"


def _num_atom(draw: Draw, n: _Names, with_inputs: bool) -> str:
    kind = draw(st.integers(0, 5))
    if kind <= 2:
        return _book_atom(draw, n, with_inputs)
    if kind == 3 and n.ints:
        return str(draw(st.sampled_from(n.ints + ["t"] * n.clock)))
    if kind == 4 and with_inputs:
        return "px"
    if kind == 5 and n.params:
        return str(draw(st.sampled_from(sorted(n.params))))
    return str(draw(st.integers(-1, 2)))


def _num_term(draw: Draw, n: _Names, with_inputs: bool) -> str:
    a = _num_atom(draw, n, with_inputs)
    kind = draw(st.integers(0, 6))
    if kind <= 2:
        return a
    b = _num_atom(draw, n, with_inputs)
    if kind == 3:
        return f"{a} + {b}"
    if kind == 4:
        return f"{a} - {b}"
    if kind == 5:
        return f"abs({a})"
    return str(draw(st.sampled_from([f"min({a}, {b})", f"max({a}, {b})"])))


def _compare(draw: Draw, n: _Names, with_inputs: bool) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 6 and n.flag:
        return str(draw(st.sampled_from(["flag", "not flag"])))
    if kind == 7 and with_inputs and n.has_b:
        return str(draw(st.sampled_from(["b", "not b"])))
    a = _num_term(draw, n, with_inputs)
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
    c = draw(st.integers(-1, 3))
    if draw(st.integers(0, 3)) == 0:
        return f"not {a} {op} {c}" if a.isidentifier() or "." in a else f"not ({a} {op} {c})"
    return f"{a} {op} {c}"


def _condition(draw: Draw, n: _Names, with_inputs: bool) -> str:
    a = _compare(draw, n, with_inputs)
    kind = draw(st.integers(0, 4))
    if kind <= 2:
        return a
    b = _compare(draw, n, with_inputs)
    return f"{a} and {b}" if kind == 3 else f"{a} or {b}"


def _side(draw: Draw, n: _Names, instrument: str) -> str:
    kind = draw(st.integers(0, 5))
    if kind <= 1:
        return '"buy"'
    if kind <= 3:
        return '"sell"'
    if kind == 4:
        return f'"sell" if {instrument}.position > 0 else "buy"'
    lo, hi = n.price
    return f'"buy" if px <= {draw(st.integers(lo, hi))} else "sell"'


def _qty(draw: Draw, n: _Names, instrument: str) -> str:
    """A quantity: mostly positive, sometimes an expression that is not positive in
    some configuration."""
    real = n.real(instrument)
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        return _q(real, draw(st.integers(1, 2)))
    if kind == 4:
        return "rclip" if real else "clip"
    if kind == 5:
        return f"{instrument}.{draw(st.sampled_from(['bought', 'sold']))}"
    if kind == 6:
        return f"abs({instrument}.position)"
    if kind == 7:
        return f"{'rcap' if real else 'cap'} - {instrument}.position - {instrument}.open_buy"
    if kind == 8 and not real:
        return str(draw(st.sampled_from(["px - 1", "px", "clip - px"])))
    if kind == 8:
        return f"rclip - {instrument}.open_sell"
    return _q(real, draw(st.integers(0, 1))) if draw(st.booleans()) else _q(real, 1)


def _place(draw: Draw, n: _Names, instrument: str) -> str:
    args = []
    if len(n.instruments) > 1 or draw(st.booleans()):
        named = draw(st.booleans())
        args.append(f"instrument={instrument}" if named else f'instrument="{instrument}"')
    args.append(f"side={_side(draw, n, instrument)}")
    args.append(f"qty={_qty(draw, n, instrument)}")
    kind = draw(st.integers(0, 5))
    if kind <= 3:  # with a price: gtc (said or not) or ioc
        price = draw(st.sampled_from(["px", "px + 1", "px - 1", "2", "px + 0.5"]))
        args.append(f"price={price}")
        if kind == 1:
            args.append('tif="gtc"')
        elif kind == 2:
            args.append('tif="ioc"')
    elif kind == 4:
        args.append('tif="ioc"')  # a market order, said to be ioc
    order = draw(st.permutations(args))
    return f"place({', '.join(order)})"


def _cancel(draw: Draw, n: _Names, instrument: str) -> str:
    kind = draw(st.integers(0, 4))
    target = f"instrument={instrument}"
    if kind <= 1:
        chosen = f'"buy" if {instrument}.open_sell == 0 else "sell"'
        side = draw(st.sampled_from(['"buy"', '"sell"', chosen]))
        if len(n.instruments) > 1 or draw(st.booleans()):
            return f"cancel({target}, side={side})"
        return f"cancel(side={side})"
    if kind == 2:
        return f"cancel_all({target})"
    return "cancel_all()"


def _emit(draw: Draw, n: _Names, places: bool) -> list[str]:
    actions = []
    for _ in range(draw(st.integers(1, 3))):
        instrument, _ = draw(st.sampled_from(n.instruments))
        if places and draw(st.integers(0, 2)) > 0:
            actions.append(_place(draw, n, instrument))
        else:
            actions.append(_cancel(draw, n, instrument))
    return actions


def _assignment(draw: Draw, n: _Names, var: str) -> str:
    if var == "flag":
        return str(draw(st.sampled_from(["not flag", "true", "false", _compare(draw, n, True)])))
    if var == "t":
        return "t + 1"
    i, real = draw(st.sampled_from(n.instruments))
    forms = [f"{var} + 1", f"{var} - 1", "0", "px"]
    if not real:
        forms += [f"{i}.position", f"{var} + {i}.bought", f"{i}.sold", f"{i}.open_buy"]
    return str(draw(st.sampled_from(forms)))


def _provers(draw: Draw, n: _Names) -> dict[str, str]:
    found: dict[str, str] = {}
    for i, real in n.instruments:
        cap = "rcap" if real else "cap"
        clip = "rclip" if real else "clip"
        found[f"room_{i}"] = f"{i}.position + {i}.open_buy + {clip} <= {cap}"
        found[f"flat_{i}"] = f"abs({i}.position) <= {'rband' if real else 'band'}"
        found[f"long_{i}"] = f"{i}.position > 0"
        if draw(st.booleans()):
            found[f"hit_{i}"] = f"{i}.bought > 0 or {i}.sold > 0"
    found["calm"] = f"px >= {n.price[0]}" if draw(st.booleans()) else f"px <= {n.price[1] - 1}"
    if draw(st.booleans()):
        found["cond"] = _condition(draw, n, True)
    return found


def _assumptions(draw: Draw, n: _Names) -> list[str]:
    found = []
    for i, real in n.instruments:
        kind = draw(st.integers(0, 6))
        if kind == 0:
            found.append(f"{i}.bought <= {_q(real, 1)}")
        elif kind == 1:
            found.append(f"{i}.bought + {i}.sold <= {_q(real, 2)}")
        elif kind == 2:
            found.append(f"{i}.sold == 0 or px > {n.price[0]}")
        elif kind == 3:
            found.append(f"{i}.bought <= {i}.open_buy")  # what the semantics says anyway
    if n.clock and draw(st.booleans()):
        found.append(f"t <= {draw(st.integers(1, 4))}")  # runs end there (dead ends)
    if draw(st.integers(0, 5)) == 0:
        found.append(_compare(draw, n, True))
    return found


def _order_check(draw: Draw, n: _Names) -> str:
    hi = n.price[1]
    i, real = draw(st.sampled_from(n.instruments))
    kind = draw(st.integers(0, 8))
    if kind == 0:
        return f"qty <= {_q(n.any_real, draw(st.integers(1, 3)))}"
    if kind == 1:
        return str(draw(st.sampled_from(["qty > 0", "qty >= 1", "0 < qty"])))
    if kind == 2:
        c = draw(st.integers(0, 1))
        return f'price <= px + {c} if side == "buy" else price >= px - {c}'
    if kind == 3:
        return str(draw(st.sampled_from(["price >= 0", f"price <= {hi}", "price != px"])))
    if kind == 4:
        forms = ['tif == "gtc" or qty <= 1', 'tif != "ioc" or side == "sell"']
        return str(draw(st.sampled_from(forms)))
    if kind == 5:
        other = n.instruments[-1][0]
        return str(
            draw(
                st.sampled_from(
                    [
                        f"instrument == {other} or qty <= 1",
                        f'instrument != "{other}" or side == "buy"',
                    ]
                )
            )
        )
    if kind == 6:
        return f'side == "buy" or {i}.position > 0'
    if kind == 7:
        cap = "rcap" if real else "cap"
        return f'side == "sell" or {i}.position + {i}.open_buy + qty <= {cap}'
    return f"qty <= {i}.open_buy + {_q(n.any_real, 2)}"


def _limit(draw: Draw, n: _Names) -> str:
    i, real = draw(st.sampled_from(n.instruments))
    c = _q(real, draw(st.integers(1, 4)))
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return f"{i}.position + {i}.open_buy <= {c}"
    if kind == 1:
        return f"{i}.position - {i}.open_sell >= -{c}"
    if kind == 2:
        return f"abs({i}.position) <= {c}"
    if kind == 3:
        return f"-{c} <= {i}.position <= {c}"
    if kind == 4:
        return f"{i}.open_buy + {i}.open_sell <= {c}"
    if kind == 5 and (n.ints or n.clock):
        var = draw(st.sampled_from(n.ints + ["t"] * n.clock))
        return f"{var} <= {draw(st.integers(0, 3))}"
    if kind == 6:
        return f"{i}.position != {c}"
    return _condition(draw, n, False)


@st.composite
def gen_v2_models(draw: Draw) -> GenModelV2:
    """A small valid version-2 model (see the module's docstring)."""
    instruments = [("perp", draw(st.integers(0, 4)) == 4)]
    if draw(st.integers(0, 2)) == 0:
        instruments.append(("fut", draw(st.booleans())))
    lo = draw(st.integers(0, 1))
    n = _Names(
        instruments=instruments,
        params={},
        ints=["n"] if draw(st.booleans()) else [],
        flag=draw(st.integers(0, 2)) == 0,
        clock=draw(st.booleans()),
        price=(lo, lo + draw(st.integers(0, 2))),
        has_b=draw(st.integers(0, 3)) == 0,
    )
    n.params = {"clip": str(draw(st.integers(1, 2))), "cap": str(draw(st.integers(1, 4)))}
    n.params["band"] = str(draw(st.integers(0, 2)))
    if n.any_real:
        n.params["rclip"] = _q(True, draw(st.integers(1, 2)))
        n.params["rcap"] = _q(True, draw(st.integers(2, 5)))
        n.params["rband"] = _q(True, draw(st.integers(0, 3)))
    lines = ["strategy: adversarial-v2", "instruments:"]
    for name, real in instruments:
        spec = ["qty: real" if real else "qty: int"] if real or draw(st.booleans()) else []
        position = draw(st.integers(-1, 1))
        if draw(st.integers(0, 5)) == 5:  # an expression over params
            param = (
                ("rband" if real else "band")
                if position >= 0
                else "-" + ("rclip" if real else "clip")
            )
            spec.append(f"position: {_scalar(param)}")
        elif position or draw(st.booleans()):
            spec.append(f"position: {_q(real, position)}")
        lines.append(f"  {name}: {{{', '.join(spec)}}}")
    lines += ["params:"] + [f"  {k}: {v}" for k, v in n.params.items()]
    lines.append("state:")
    if n.clock:
        lines.append("  t: {type: int, init: 0}")
    for x in n.ints:
        lines.append(f"  {x}: {{type: int, init: {draw(st.integers(-1, 1))}}}")
    if n.flag:
        lines.append(f"  flag: {{type: bool, init: {draw(st.sampled_from(['false', 'true']))}}}")
    if not (n.clock or n.ints or n.flag):
        lines.append("  n: {type: int, init: 0}")
        n.ints = ["n"]
    lines += ["inputs:", f"  px: {{type: int, range: [{n.price[0]}, {n.price[1]}]}}"]
    if n.has_b:
        lines.append("  b: {type: bool}")
    assumptions = _assumptions(draw, n)
    if assumptions:
        lines += ["assume:"] + [f"  a{k}: {_scalar(a)}" for k, a in enumerate(assumptions)]
    provers = _provers(draw, n)
    lines += ["provers:"] + [f"  {k}: {_scalar(v)}" for k, v in provers.items()]

    steps = [f"s{k}" for k in range(draw(st.integers(1, 3)))]
    final = "done" if draw(st.integers(0, 3)) > 0 else None
    all_steps = steps + [final] * bool(final)
    lines.append(f"steps: [{', '.join(all_steps)}]")
    lines.append("initial: s0")
    if final:
        lines.append(f"final: [{final}]")
    variables = list(n.ints) + ["flag"] * n.flag

    edges: list[tuple[str, str]] = []
    for k, step in enumerate(steps):
        targets = [draw(st.sampled_from(steps)) for _ in range(draw(st.integers(0, 2)))]
        if k + 1 < len(steps):  # the chain that makes every step reachable
            targets.insert(draw(st.integers(0, len(targets))), steps[k + 1])
        elif final:
            targets.insert(draw(st.integers(0, len(targets))), final)
        if final and k + 1 < len(steps) and draw(st.integers(0, 3)) == 0:
            targets.append(final)
        if not targets:
            targets = [step]
        edges += [(step, t) for t in targets]
    if final and draw(st.booleans()):
        edges.append((final, final))
    rest = ["transitions:"]
    one_line = draw(st.integers(0, 7)) == 7  # one positive_qty check for all that place
    for position, (source, target) in enumerate(edges):
        last = position + 1 == len(edges) or edges[position + 1][0] != source
        force = position == 0  # the first transition of s0 places: something trades
        rest += _transition(
            draw, n, source, target, source == final, provers, variables, last, force, one_line
        )
    if one_line:
        rest = [f"transitions: [{', '.join(line[4:] for line in rest[1:])}]"]
    orders = [(f"o{k}", _order_check(draw, n)) for k in range(draw(st.integers(0, 3)))]
    limits = [(f"L{k}", _limit(draw, n)) for k in range(draw(st.integers(1, 3)))]
    gm = GenModelV2("\n".join([*lines, *rest]) + "\n", tuple(orders), tuple(limits))
    if assumptions and _vacuous(gm) and draw(st.integers(0, 19)) != 7:
        # keep few models with no run at all: drop the assumptions
        cut = lines.index("assume:")
        kept = lines[:cut] + lines[cut + 1 + len(assumptions) :]
        gm = GenModelV2("\n".join([*kept, *rest]) + "\n", tuple(orders), tuple(limits))
    return gm


def _vacuous(gm: GenModelV2) -> bool:
    """Whether no inputs are admissible in the initial configuration."""
    from tests.adversarial.ast_oracle import AstSemantics

    sem = AstSemantics(gm.text())
    start = sem.initial()
    return not any(sem.admissible(start, v) for v in sem.vectors(start))


def _transition(
    draw: Draw,
    n: _Names,
    source: str,
    target: str,
    in_final: bool,
    provers: dict[str, str],
    variables: list[str],
    last: bool,
    force: bool = False,
    flowing: bool = False,
) -> list[str]:
    """One transition: a block mapping, or now and then (always with ``flowing``) one
    flow mapping on a line of its own."""
    lines = [f"  - from: {source}", f"    to: {target}"]
    places = not in_final and (force or draw(st.integers(0, 2)) > 0)
    when: list[str] = []
    if places:
        names = sorted(provers)
        # mostly a prover that can hold at the start: room to buy, a calm market
        likely = [k for k in names if k.startswith(("room", "calm", "flat"))]
        when.append(draw(st.sampled_from(likely if draw(st.booleans()) else names)))
        if draw(st.integers(0, 3)) == 0:
            when.append(draw(st.sampled_from(names)))
    if not (last and draw(st.booleans())):
        kind = draw(st.integers(0, 3))
        if kind >= 2:
            when.append(_condition(draw, n, True))
    when = list(dict.fromkeys(when))
    if len(when) == 1 and not places and draw(st.booleans()):
        lines.append(f"    when: {_scalar(when[0])}")
    elif when:
        lines += ["    when:"] + [f"      - {_scalar(w)}" for w in when]
    emit: list[str] = []
    if places:
        emit = _emit(draw, n, True)
        if not any(a.startswith("place(") for a in emit):
            instrument, _ = draw(st.sampled_from(n.instruments))
            emit.append(_place(draw, n, instrument))
    elif not in_final and draw(st.integers(0, 2)) == 0:
        emit = _emit(draw, n, False)
    if not in_final and target == "done" and draw(st.booleans()):
        emit.append("cancel_all()")  # a clean halt (or not, and final-step-orders tells)
    if emit:
        lines += ["    emit:"] + [f"      - {_scalar(a)}" for a in emit]
    chosen = [v for v in variables if draw(st.integers(0, 2)) == 0]
    assigned = [(v, _assignment(draw, n, v)) for v in chosen]
    if n.clock:
        assigned.append(("t", "t + 1"))
    if assigned:
        lines.append("    do:")
        lines += [f"      {v}: {_scalar(e)}" for v, e in assigned]
    flow = _flow(source, target, when, emit, assigned)
    return ["  - " + flow] if flowing or draw(st.integers(0, 5)) == 5 else lines


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _flow(
    source: str, target: str, when: list[str], emit: list[str], do: list[tuple[str, str]]
) -> str:
    """A transition as one flow mapping (every expression quoted: flow context splits
    at commas)."""
    parts = [f"from: {source}", f"to: {target}"]
    if when:
        parts.append(f"when: [{', '.join(_quoted(w) for w in when)}]")
    if emit:
        parts.append(f"emit: [{', '.join(_quoted(a) for a in emit)}]")
    if do:
        parts.append(f"do: {{{', '.join(f'{v}: {_quoted(e)}' for v, e in do)}}}")
    return "{" + ", ".join(parts) + "}"


@st.composite
def gen_stuck_models(draw: Draw, planted: bool) -> str:
    """A small version-2 model (YAML text) with a planted stuck configuration, or
    (``planted`` false) the same shape with a way out: from every reachable
    configuration some market moves lead, within a few ticks, to an order or a final
    step. Three shapes:

    - ``band``: quoting needs ``abs(perp.position) <= band``, and only one side is ever
      quoted, so once the fills push the position out of the band nothing brings it
      back (the way out: a hedge that places on the other side);
    - ``latch``: a market move sets ``halted``, quoting needs ``not halted`` and nothing
      clears it (the way out: another market move clears it);
    - ``budget``: each quote spends one of a budget of orders that is never refilled
      (the way out: a new window refills it, now and then only after the market has
      moved the same way on 4 ticks, longer than the finder's lookahead).

    Some have a final step whose way in is closed once stuck (planted) or always open
    to some market move (not planted)."""
    shape = draw(st.sampled_from(["band", "latch", "budget"]))
    side = draw(st.sampled_from(["buy", "sell"]))
    other = "sell" if side == "buy" else "buy"
    hi = draw(st.integers(1, 2))
    band = draw(st.integers(0, 2))
    budget = draw(st.integers(1, 2))
    clip = draw(st.integers(1, 2))
    final = draw(st.booleans())
    rest = draw(st.booleans())  # a step between two quotes, where the quote is cancelled
    slow = draw(st.booleans())  # (budget, not planted) a way out longer than 4 ticks
    lines = [
        f"strategy: stuck-{shape}-{'planted' if planted else 'free'}",
        "instruments:",
        f"  perp: {{qty: int, position: {draw(st.integers(-1, 1)) if shape != 'band' else 0}}}",
        "params:",
        f"  band: {band}",
        f"  budget: {budget}",
        f"  clip: {clip}",
        "state:",
        "  halted: {type: bool, init: false}",
        "  sent: {type: int, init: 0}",
        "  waited: {type: int, init: 0}",
        "inputs:",
        f"  px: {{type: int, range: [0, {hi}]}}",
    ]
    if draw(st.booleans()):
        lines += ["assume:", "  small_fills: perp.bought + perp.sold <= clip"]
    lines += [
        "provers:",
        "  inside: abs(perp.position) <= band",
        "  outside: abs(perp.position) > band",
        "  live: not halted",
        "  budget_left: sent < budget",
        "  calm: px >= 0",
    ]
    quote = {"band": "inside", "latch": "live", "budget": "budget_left"}[shape]
    steps = ["quote"] + ["rest"] * rest + ["done"] * final
    lines += [f"steps: [{', '.join(steps)}]", "initial: quote"]
    if final:
        lines.append("final: [done]")
    lines.append("transitions:")
    after_quote = "rest" if rest else "quote"
    do = {"band": "", "latch": f"halted: px == {hi}", "budget": "sent: sent + 1"}[shape]
    # the way out first: tried before the quote
    if not planted and shape == "band":
        lines += [
            "  - from: quote",
            f"    to: {after_quote}",
            "    when: [outside]",
            "    emit:",
            f'      - place(side="{other}", qty=abs(perp.position) - band, price=px)',
        ]
    if not planted and shape == "latch":
        lines += ["  - from: quote", "    to: quote", "    when: halted and px == 0"]
        lines += ["    do: {halted: false}"]
    if not planted and shape == "budget" and slow:
        # the way out is longer than the finder looks ahead: px at hi on 4 ticks, counted
        lines += ["  - from: quote", "    to: quote", "    when: waited >= 4"]
        lines += ["    do: {sent: 0, waited: 0}"]
        lines += ["  - from: quote", "    to: quote", f"    when: sent >= budget and px == {hi}"]
        lines += ["    do: {waited: waited + 1}"]
    elif not planted and shape == "budget":
        lines += ["  - from: quote", "    to: quote", f"    when: px == {hi}", "    do: {sent: 0}"]
    lines += [
        "  - from: quote",
        f"    to: {after_quote}",
        f"    when: [{quote}, calm]",
        "    emit:",
        f'      - place(side="{side}", qty=clip, price=px)',
    ]
    if do:
        lines.append(f"    do: {{{do}}}")
    if rest:
        lines += ["  - from: rest", "    to: quote", "    emit:", "      - cancel_all()"]
    if final:
        # planted: the way in is closed once stuck (the position only grows, or sent
        # only grows); free: some market move opens it from anywhere
        if not planted:
            gate = f"px == {hi}"
        elif shape == "band":
            gate = "perp.position < -5" if side == "buy" else "perp.position > 5"
        else:
            gate = "sent < 0"
        lines += [
            "  - from: quote",
            "    to: done",
            f"    when: {gate}",
            "    emit:",
            "      - cancel_all()",
            "  - from: done",
            "    to: done",
        ]
    lines += ["limits:", f"  within: abs(perp.position) <= {band + 10}"]
    return "\n".join(lines) + "\n"
