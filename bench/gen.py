"""Generate realistic sequencer models of a chosen size whose limits all hold.

The generated strategy trades several assets around a ring of steps::

    risk_check -> step_01 -> step_02 -> ... -> risk_check      (+ a final step `halted`)

- ``risk_check`` halts for good (cancelling everything) once the session loss reaches
  ``max_loss``; otherwise its default transition starts a new session and resets the
  order counter ``orders_sent``.
- Every ring step ends with an unguarded default transition to the next step; one of
  them (half-way round) books the tick's ``pnl_change`` into ``pnl``.
- The other transitions are spread round-robin over the ring steps, cycling through
  these actions (a guarded one may skip a step, never past ``risk_check``):

  ``place``  quote on a *maker* asset: ``when: [spread_ok, rate_ok, room_<a>]`` with
             the prover ``room_<a>: pos_<a> + open_<a> + quote_<a> <= max_pos_<a>``;
  ``fill``   a maker's resting order fills: ``pos += fill``, ``open -= fill``, where
             the input ``fill_<a>`` is bounded by an assumption ``fill_<a> <= open_<a>``;
  ``take``   a *taker* asset (one without resting orders) buys at once, guarded by
             ``room_<a>: pos_<a> + quote_<a> <= max_pos_<a>``;
  ``hedge``  sells ``hedge_<a>`` when the position leaves its band (and cancels the
             asset's resting orders);
  ``pull``   a reset: a wide spread cancels every resting order.

State: ``pnl``, ``orders_sent``, then ``pos_<a>``/``open_<a>`` pairs for maker assets
and, when the variable count is odd, one taker asset with ``pos_<a>`` alone.

Limits, all true: ``position_<a>: pos_<a> <= max_pos_<a>`` and ``worst_case_<a>: pos_<a>
+ open_<a> <= max_pos_<a>`` for each maker (``position_<a>`` is not inductive alone: a
fill can push a position at its cap over it unless ``worst_case_<a>`` holds too),
``position_<a>`` for the taker, ``order_rate: orders_sent <= max_orders``, and
``loss_bounded: pnl > -(max_loss + max_move)``, which needs an invariant stronger than
itself that depends on the step (as ``loss_bounded`` in ``models/perp_market_maker.yaml``).

Run ``python bench/gen.py STEPS VARS TRANSITIONS`` to print one model.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

ASSETS = ("btc", "eth", "sol", "xrp", "ada", "doge", "avax", "dot", "link", "ltc", "atom")
"""Asset names, used in order (with a numeric suffix beyond the list)."""

VERBS = ("scan", "quote", "match", "hedge", "rebalance", "settle", "audit", "fund")
"""Names for ring steps (with their index appended)."""

FIXED_VARS = 2
"""``pnl`` and ``orders_sent``."""


@dataclass(frozen=True)
class Size:
    """The size of a generated model: steps (the final step ``halted`` included), state
    variables and transitions."""

    steps: int
    variables: int
    transitions: int

    @property
    def label(self) -> str:
        return f"gen-{self.steps}s-{self.variables}v-{self.transitions}t"


@dataclass(frozen=True)
class Asset:
    """One traded asset; a maker keeps resting orders (``open_<name>``), a taker not."""

    name: str
    maker: bool
    scale: int

    @property
    def cap(self) -> int:
        return 100 * self.scale

    @property
    def quote(self) -> int:
        return 10 * self.scale

    @property
    def band(self) -> int:
        return 50 * self.scale

    @property
    def hedge(self) -> int:
        return 5 * self.scale


def assets_for(variables: int) -> list[Asset]:
    """Maker assets (two variables each) and at most one taker, filling ``variables``."""
    makers, taker = divmod(variables - FIXED_VARS, 2)
    names = [ASSETS[i] if i < len(ASSETS) else f"asset{i}" for i in range(makers + taker)]
    return [Asset(name, i < makers, 1 + i % 3) for i, name in enumerate(names)]


def actions_for(assets: list[Asset]) -> list[tuple[str, Asset | None]]:
    """The cycle of guarded actions: every action of every asset, then one ``pull``."""
    cycle: list[tuple[str, Asset | None]] = []
    for kind in ("place", "fill", "take", "hedge"):
        for a in assets:
            if (
                (kind in ("place", "fill") and a.maker)
                or (kind == "take" and not a.maker)
                or kind == "hedge"
            ):
                cycle.append((kind, a))
    if any(a.maker for a in assets):
        cycle.append(("pull", None))
    return cycle


def generate(size: Size) -> str:
    """The YAML text of a model of ``size`` whose limits all hold.

    Raises
    ------
    ValueError
        When the size cannot hold the model's skeleton: at least 3 steps, 4 variables,
        and enough transitions for the ring, the halt and every action of every asset
        once.
    """
    ring = size.steps - 1
    assets = assets_for(size.variables)
    cycle = actions_for(assets)
    guarded = size.transitions - ring - 1
    if ring < 2 or size.variables < FIXED_VARS + 2 or guarded < len(cycle):
        raise ValueError(
            f"{size.label} is too small: need at least 3 steps, 4 variables and "
            f"{ring + 1 + len(cycle)} transitions"
        )
    makers = [a for a in assets if a.maker]
    steps = ["risk_check"] + [f"{VERBS[k % len(VERBS)]}_{k:02d}" for k in range(1, ring)]
    booking = ring // 2

    out = [
        f"strategy: {size.label}",
        "about: >",
        f"  Generated benchmark model: trades {len(assets)} asset(s) around a ring of "
        f"{ring} steps,",
        "  quoting, filling, hedging and pulling quotes, and halts for good once the",
        "  session loss reaches its limit. Every limit holds.",
        "",
        "params:",
        "  max_loss: 1000",
        "  max_move: 250",
        "  min_spread: 0.5",
        "  max_spread: 20",
        f"  max_orders: {len(makers) + 2}",
    ]
    for a in assets:
        out += [
            f"  max_pos_{a.name}: {a.cap}",
            f"  quote_{a.name}: {a.quote}",
            f"  band_{a.name}: {a.band}",
            f"  hedge_{a.name}: {a.hedge}",
        ]

    out += ["", "state:", "  pnl: {type: real, init: 0}", "  orders_sent: {type: int, init: 0}"]
    for a in assets:
        out.append(f"  pos_{a.name}: {{type: int, init: 0}}")
        if a.maker:
            out.append(f"  open_{a.name}: {{type: int, init: 0}}")

    out += [
        "",
        "inputs:",
        "  spread: {type: real, range: [0, 100]}",
        "  pnl_change: {type: real, range: [-max_move, max_move]}",
    ]
    out += [f"  fill_{a.name}: {{type: int, range: [0, quote_{a.name}]}}" for a in makers]

    if makers:
        out += ["", "assume:"]
        out += [f"  fills_need_orders_{a.name}: fill_{a.name} <= open_{a.name}" for a in makers]

    out += [
        "",
        "provers:",
        "  within_loss: pnl > -max_loss",
        "  spread_ok: spread >= min_spread",
        "  wide_spread: spread > max_spread",
        "  rate_ok: orders_sent < max_orders",
    ]
    for a in assets:
        open_part = f" + open_{a.name}" if a.maker else ""
        out += [
            f"  room_{a.name}: pos_{a.name}{open_part} + quote_{a.name} <= max_pos_{a.name}",
            f"  over_band_{a.name}: pos_{a.name} > band_{a.name}",
        ]

    out += [
        "",
        f"steps: [{', '.join([*steps, 'halted'])}]",
        "initial: risk_check",
        "final: [halted]",
        "",
        "transitions:",
    ]
    halt = [
        "  - from: risk_check",
        "    to: halted",
        "    when: not within_loss",
        "    emit:",
        "      - cancel_all()",
    ]
    if makers:
        halt.append("    do: {" + ", ".join(f"open_{a.name}: 0" for a in makers) + "}")
    by_step: list[list[list[str]]] = [[] for _ in range(ring)]
    by_step[0].append(halt)
    used: list[set[int]] = [set() for _ in range(ring)]
    turn = 0
    for i in range(guarded):
        k = i % ring
        free = [
            j % len(cycle) for j in range(turn, turn + len(cycle)) if j % len(cycle) not in used[k]
        ]
        if not free:
            raise ValueError(
                f"{size.label}: more guarded transitions per step than actions "
                f"({len(cycle)}); a step would repeat a transition"
            )
        used[k].add(free[0])
        turn = free[0] + 1
        kind, asset = cycle[free[0]]
        jump = 2 if i % 7 == 3 else 1
        by_step[k].append(_action(kind, asset, steps[min(k + jump, ring) % ring], steps[k], makers))
    for k in range(ring):
        default = [f"  - from: {steps[k]}", f"    to: {steps[(k + 1) % ring]}"]
        if k == 0:
            default.append("    do: {orders_sent: 0}")
        elif k == booking:
            default.append("    do: {pnl: pnl + pnl_change}")
        by_step[k].append(default)
    for block in by_step:
        for lines in block:
            out += lines

    out += [
        "",
        "limits:",
        "  loss_bounded: pnl > -(max_loss + max_move)",
        "  order_rate: orders_sent <= max_orders",
    ]
    for a in assets:
        out.append(f"  position_{a.name}: pos_{a.name} <= max_pos_{a.name}")
        if a.maker:
            out.append(f"  worst_case_{a.name}: pos_{a.name} + open_{a.name} <= max_pos_{a.name}")
    return "\n".join(out) + "\n"


def _action(
    kind: str, asset: Asset | None, target: str, source: str, makers: list[Asset]
) -> list[str]:
    """The YAML lines of one guarded transition."""
    head = [f"  - from: {source}", f"    to: {target}"]
    if kind == "pull":
        return [
            *head,
            "    when: [wide_spread]",
            "    emit:",
            "      - cancel_all()",
            "    do: {" + ", ".join(f"open_{a.name}: 0" for a in makers) + "}",
        ]
    assert asset is not None
    n = asset.name
    if kind == "place":
        return [
            *head,
            f"    when: [spread_ok, rate_ok, room_{n}]",
            "    emit:",
            f'      - place(side="buy", qty=quote_{n})',
            f"    do: {{open_{n}: open_{n} + quote_{n}, orders_sent: orders_sent + 1}}",
        ]
    if kind == "fill":
        return [
            *head,
            f"    when: fill_{n} > 0",
            f"    do: {{pos_{n}: pos_{n} + fill_{n}, open_{n}: open_{n} - fill_{n}}}",
        ]
    if kind == "take":
        return [
            *head,
            f"    when: [spread_ok, room_{n}]",
            "    emit:",
            f'      - place(side="buy", qty=quote_{n})',
            f"    do: {{pos_{n}: pos_{n} + quote_{n}}}",
        ]
    cancel = ['      - cancel(side="buy")'] if asset.maker else []
    reset = f", open_{n}: 0" if asset.maker else ""
    return [
        *head,
        f"    when: [over_band_{n}]",
        "    emit:",
        *cancel,
        f'      - place(side="sell", qty=hedge_{n})',
        f"    do: {{pos_{n}: pos_{n} - hedge_{n}{reset}}}",
    ]


def main() -> None:
    """Print the model of the size given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("steps", type=int)
    parser.add_argument("variables", type=int)
    parser.add_argument("transitions", type=int)
    args = parser.parse_args()
    try:
        print(generate(Size(args.steps, args.variables, args.transitions)), end="")
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
