"""Reference-style version-2 models, written by hand the way the desk's models are: real
inputs (prices), params, provers, IOC hedges, cancels that race fills, order checks and
final steps. Used by the two-semantics tests beside the files of ``models/`` that declare
instruments, and by the tests of the ``stuck`` finder."""

from __future__ import annotations

PERP_MM = """
strategy: perp-mm-v2
about: quotes both sides at the touch, hedges with an IOC beyond a band, halts clean
instruments:
  perp: {qty: int, contract_size: 0.001}
params:
  max_position: 10
  quote_size: 2
  hedge_band: 4
  hedge_size: 3
  max_order: 3
  max_loss: 50
  max_tick_pnl: 5
  min_spread: 0.5
state:
  pnl: {type: real, init: 0}
inputs:
  bid: {type: real, range: [1, 20]}
  ask: {type: real, range: [1, 20]}
  pnl_change: {type: real, range: [-max_tick_pnl, max_tick_pnl]}
assume:
  sane_book: 0 < bid < ask
provers:
  spread_ok: ask - bid >= min_spread
  room_to_buy: perp.position + perp.open_buy + quote_size <= max_position
  room_to_sell: perp.position - perp.open_sell - quote_size >= -max_position
  within_loss: pnl > -max_loss
  long_over: perp.position > hedge_band
  short_over: perp.position < -hedge_band
steps: [observe, quoting, hedging, halted]
initial: observe
final: [halted]
transitions:
  - from: observe
    to: halted
    when: not within_loss
    emit:
      - cancel_all()
  - from: observe
    to: quoting
    when: [within_loss, spread_ok, room_to_buy, room_to_sell]
    emit:
      - place(side="buy", qty=quote_size, price=bid)
      - place(side="sell", qty=quote_size, price=ask)
  - from: quoting
    to: hedging
    emit:
      - cancel_all()
    do: {pnl: pnl + pnl_change}
  - from: hedging
    to: observe
    when: [long_over]
    emit:
      - place(side="sell", qty=hedge_size)
  - from: hedging
    to: observe
    when: [short_over]
    emit:
      - place(side="buy", qty=hedge_size)
  - from: hedging
    to: observe
orders:
  max_clip: qty <= max_order
  passive_quotes: price <= ask if side == "buy" else price >= bid
limits:
  position_limit: abs(perp.position) <= max_position
  worst_case_long: perp.position + perp.open_buy <= max_position
  worst_case_short: perp.position - perp.open_sell >= -max_position
  loss_bounded: pnl > -(max_loss + max_tick_pnl)
"""

BASIS = """
strategy: basis-v2
about: buys spot (coin amounts) with an IOC and sells the future against it, unwinds
instruments:
  spot: {qty: real, position: 0.5}
  fut: {qty: int}
params:
  lot: 0.5
  contracts: 1
  max_spot: 2.5
  max_fut: 3
  entry_basis: 2
state:
  legs: {type: int, init: 0}
  phase: {type: enum, values: [flat, entering, hedged], init: flat}
inputs:
  spot_px: {type: real, range: [50, 60]}
  fut_px: {type: real, range: [50, 65]}
assume:
  spot_fills_small: spot.bought <= lot
provers:
  wide: fut_px - spot_px >= entry_basis
  room_spot: spot.position + spot.open_buy + lot <= max_spot
  room_fut: fut.position - fut.open_sell - contracts >= -max_fut
  unhedged: spot.position > 0.5 and fut.position == 0
steps: [idle, enter, hedge, unwind, done]
initial: idle
final: [done]
transitions:
  - from: idle
    to: enter
    when: [wide, room_spot, room_fut]
    emit:
      - place(instrument=spot, side="buy", qty=lot)
      - place(instrument=fut, side="sell", qty=contracts, price=fut_px)
    do: {phase: entering, legs: legs + 1}
  - from: idle
    to: done
    when: legs >= 3
    emit:
      - cancel_all()
  - from: enter
    to: hedge
    emit:
      - cancel(instrument=fut, side="sell")
    do: {phase: hedged}
  - from: hedge
    to: unwind
    when: [unhedged]
    emit:
      - place(instrument=spot, side="sell", qty=spot.position - 0.5, price=spot_px, tif="ioc")
  - from: hedge
    to: idle
    do: {phase: flat}
  - from: unwind
    to: idle
    emit:
      - cancel_all(instrument=spot)
    do: {phase: flat}
orders:
  collar: price >= spot_px - 1 if instrument == spot else price <= fut_px
  spot_lots: instrument != spot or qty <= lot
limits:
  spot_bounded: spot.position + spot.open_buy <= max_spot
  fut_bounded: fut.position - fut.open_sell >= -max_fut
  legs_bounded: legs <= 3
"""

THROTTLE = """
strategy: throttle-v2
about: at most a few orders per window; the side follows the inventory
instruments:
  perp: {qty: int, position: -1}
params:
  per_window: 2
  clip: 1
  band: 3
state:
  sent: {type: int, init: 0}
  window: {type: int, init: 0}
inputs:
  px: {type: int, range: [90, 110]}
  new_window: {type: bool}
provers:
  budget_left: sent + 1 <= per_window
  inside: abs(perp.position) <= band
steps: [run]
initial: run
transitions:
  - from: run
    to: run
    when: new_window
    emit:
      - cancel(side="buy" if perp.open_buy > 0 else "sell")
    do: {sent: 0, window: window + 1}
  - from: run
    to: run
    when: [budget_left, inside]
    emit:
      - place(side="buy" if perp.position < 0 else "sell", qty=clip, price=px)
    do: {sent: sent + 1}
orders:
  clip_only: qty == clip
  toward_flat: side == "buy" or perp.position >= 0
limits:
  throttled: sent <= per_window
  band_kept: abs(perp.position) <= band + per_window * clip + 2
"""

REFERENCE = {"perp_mm": PERP_MM, "basis": BASIS, "throttle": THROTTLE}
