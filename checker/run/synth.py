"""Reproducible synthetic BTC-perpetual market data for stress-testing strategies.

``synthesize(scenario, ticks, seed)`` builds one row per tick, one tick being one second of a
BTC perpetual that starts at a mid of 60,000 USD; ``write_table`` saves it as CSV or Parquet.

Price process. The latent mid follows geometric Brownian motion with jumps, in its Euler
form: each second multiplies the mid by ``1 + mu + sigma * Z + J``, where ``Z`` is standard
normal, ``sigma = 6e-5 * vol`` (6e-5 per second is about 34 % a year; ``vol`` is the
scenario's volatility multiplier), ``mu`` the scenario's drift per second, and ``J`` a jump:
with probability ``lam`` per second (compound Poisson at one jump per second at most), a
normal jump of mean ``jump_mean`` and deviation ``jump_sd``. Only IEEE basic arithmetic is
used on the path (no ``exp``/``log``/``pow``), so a seed gives the same data on every
machine with the same numpy. All random streams are drawn whatever columns are asked for,
and the same seed shares its streams across scenarios (a crash starts from the calm path).

The book. The spread is ``1 + floor(e * (U1 + U2))`` ticks of 0.5 USD with
``e = 0.6 + 0.4 * (vol - 1) + 0.5 * (1 / liq - 1)``: one tick 94 % of the time when calm,
wider with volatility and when liquidity ``liq`` (1 normally, towards 0 when the book
empties) falls. The bid is the latent mid less half the spread rounded to the tick, the ask
the bid plus the spread. Touch sizes are ``floor(20000 * liq**2 * (0.25 + 1.5 U))``
contracts (of 10 USD), volume ``floor(1000 * vol**1.5 * liq**2 * 4 U1 U2)`` contracts;
:func:`in_contracts` converts them to a model's contracts (``data synth --model``).

Scenarios (``n`` ticks; ``U`` uniform draws of the seed's scenario stream):

- ``calm``: ``vol = 1``, no drift, jumps once an hour on average (``jump_sd`` 0.2 %).
- ``trend``: ``vol = 1.25``, a drift of +/- 4 to 10 % over the run (sign and size drawn),
  jumps twice an hour of mean 0.1 % in the drift's direction.
- ``crash``: calm until a start drawn in 30-45 % of the run; then for 4-8 % of the run
  (``L`` seconds) a drift summing to -20 to -28 % plus about 8 jumps of mean -0.5 % (sd
  1 %), at ``vol = 6`` and ``liq = 0.3`` (spreads of about 4 ticks, depth down to a tenth):
  a fall of about 18-32 % from the peak. Afterwards ``vol`` decays as
  ``1 + 3 / (1 + s / (2 L))`` (``s`` seconds since the fall) and liquidity recovers alike.
  The kill switch is pressed 30-100 % of ``L`` after the start (at the latest on the last
  row) and stays pressed.
- ``vol-spike``: calm, then at 45-50 % of the run ``vol`` jumps to 5-10 and decays as
  ``1 + (m - 1) / (1 + s / h)`` with ``h`` 10-15 % of the run; jumps scale with ``vol`` and
  ``liq = 1 / (1 + 0.15 (vol - 1))``.
- ``liquidity-drought``: calm prices, but from 25-35 % of the run for 30-40 % of it (ramps
  of 2 % of the run either side) ``liq`` is 0.02: spreads of about 25 ticks, touch sizes of
  a few contracts and volume near zero.

Calibrated scenarios (``CALIBRATED_SCENARIOS``, fitted to real crash days by
``bench/calibrate.py``; their constants are ``CALIBRATED``). ``crash-2020-03`` and
``crash-2021-05`` are the Binance BTCUSDT 1-minute windows of 2020-03-13 00:27-02:49 (143
minutes) and 2021-05-19 10:03-14:32 (270 minutes), a run of ``60 * minutes`` ticks being
one such window (a shorter or longer run stretches nothing: the minutes keep their law and
the fall ends at the same fraction of the run). They replace the price process and the book
above (the other columns follow from ``vol`` as above, and the kill switch is never pressed:
these are markets, not a desk):

- each minute's return is ``mu + s * Zbar``: ``Zbar`` the sum of its 60 normal draws over
  ``sqrt(60)`` (the seconds share the minute's ``s``, so a second's return is ``mu / 60 +
  s * z / sqrt(60)``), ``s = sqrt(h) * k * w`` with ``w = sqrt((nu - 2) / chi2)``, ``chi2``
  a sum of ``nu`` squared normals of the minute (so that ``s * Zbar`` is Student-t with
  ``nu`` degrees of freedom: heavy tails), and ``h`` a GARCH(1,1) variance, ``h' = omega +
  alpha x**2 + beta h`` (``x`` the minute's innovation, ``omega = (1 - alpha - beta) sd**2``,
  ``h`` starting at ``sd**2``): volatility clusters. ``k`` scales the run's innovations to
  the day's variance ``sd**2`` exactly (the fitted level, whatever the draws);
- ``mu`` is the ``fall`` drift up to ``low_at`` of the run and the ``rebound`` drift after;
- the volume of a minute is ``FLOW * (volume_a + volume_b * |return| / sd) * G`` contracts a
  second on average (drawn as above, ``4 U1 U2`` times it), ``G`` a gamma noise of mean 1
  and shape ``volume_k``: it surges with the move, 3.5-12x its median in the worst minute;
- the mean spread is ``spread_calm_bp + spread_wide_bp * m / (m + spread_half_move_bp) +
  spread_per_move * m`` bp, ``m`` the minute's expected ``|move|`` (``0.8 s`` in bp), drawn
  as above (``e`` ticks for that mean); touch sizes thin as it widens (``liq**2`` is 0.6
  over ``e``, at most 1).

The two streams these use (the ``chi2`` draws and the gamma noise) are children ``1000`` and
``1001`` of the seed's ``SeedSequence``, apart from the twelve above and the legs'. Only
basic arithmetic and ``sqrt`` are used on the path.

Strategy inputs (the scales follow the reference models in ``models/``):

- ``edge`` (USD per option contract): ``-2 + 6 M (1 + 0.5 (vol - 1)) + 0.45 * mid_move
  + 60 * (iv - iv 300 s ago)`` with ``M`` a 60-second moving average of white noise
  (unit variance) and ``iv = 35 + 8 (vol - 1)`` vol points: the pricer's theo moves before
  the quote (delta 0.45, vega 60 USD). Calm stays well inside [-1000, 1000] and is above
  ``min_edge`` = 5 about an eighth of the time; a crash or a vol spike leaves the range.
- ``basis_bps``: ``50 + 12 M' vol + 0.2 * (30-minute return in bps)`` (``M'``, like
  ``M''`` below, a 300-second moving average of noise): above ``entry_basis_bps`` = 40
  most of the time when calm; a crash turns it negative.
- ``expired``: true on the last ``max(1, n // 100)`` rows only.
- ``kill_switch``: false except after it is pressed in ``crash``.
- ``margin_ratio`` (%): a long account at 3.5x leverage with a 20 % ratio at the start,
  ``20 x / max(1 + 3.5 (x - 1), 0.01) * (1 + 0.2 (vol - 1)) + M''`` (``x`` the mid over the
  first mid), at least 0. About 20-25 % when calm; a crash takes it past ``halt_at`` (80)
  and past 1000 if the fall wipes out the equity; a vol spike lifts it to 35-60 %.
- ``signal_long`` / ``signal_short``: the quoted mid moved more than +8 / -8 bps over the
  last 60 rows (never both).
- ``now`` (ms since the session start): ``1000 * tick`` plus a jitter of 0-249 ms.
- ``mid_move`` (USD): change of the quoted mid ``(bid + ask) / 2`` since the previous row
  (0 on the first).

``time`` is ISO-8601 UTC text, from 2026-01-01T00:00:00Z, one row a second.

``low``/``high`` bracket the quoted mid path since the previous row: the smaller and larger
of the two quoted mids, widened by a random intra-second excursion, rounded out to the
0.5 tick. Prices are exact multiples of 0.5 and other reals exact hundredths
(``fractions.Fraction``).

Legs (a model with instruments). ``synthesize(..., legs=("spot", "future"))`` also writes
each leg's venue columns, ``spot.bid``, ``spot.ask``, ... The first leg's are the book
above. Leg ``k >= 1`` is a dated leg over the first: its latent mid is the first's times
``1 + b_k / 10000``, with ``b_1`` the ``basis_bps`` series (so that column is the basis
between the first two legs) and ``b_k`` for ``k >= 2`` a series of the same law from its
own noise; its spread, touch sizes, volume and trading range are drawn as above from its
own streams (the streams of the columns above are unchanged).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from checker.run import CALIBRATED_SCENARIOS, SCENARIOS, TIME_COLUMN
from checker.run import VENUE_COLUMNS as RUN_VENUE_COLUMNS
from checker.run.meta import META_KEY, DataMeta, meta_text, sidecar, write_sidecar

Kind = Literal["text", "int", "real", "bool"]
Cell = str | int | Fraction | bool
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class Column:
    """One column this module can produce; ``scale`` is a real column's decimal places."""

    name: str
    kind: Kind
    doc: str
    scale: int = 0


@dataclass(frozen=True)
class Table:
    """Rows of cells: ``str`` for text, ``int``, ``Fraction`` for real, ``bool``."""

    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


VENUE_COLUMNS: tuple[str, ...] = (TIME_COLUMN, *RUN_VENUE_COLUMNS)
COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column("time", "text", "ISO-8601 UTC time of the row, one second apart"),
        Column("bid", "real", "best bid, USD (0.5 tick)", 1),
        Column("ask", "real", "best ask, USD (0.5 tick)", 1),
        Column("bid_size", "int", "contracts (10 USD) at the best bid"),
        Column("ask_size", "int", "contracts (10 USD) at the best ask"),
        Column("low", "real", "lowest price since the previous row, USD", 1),
        Column("high", "real", "highest price since the previous row, USD", 1),
        Column("volume", "int", "contracts traded since the previous row"),
        Column("edge", "real", "option theo minus our quote, USD per contract", 2),
        Column("basis_bps", "real", "dated future over spot basis, bps", 2),
        Column("expired", "bool", "the dated future has expired"),
        Column("kill_switch", "bool", "the desk's kill switch is pressed"),
        Column("margin_ratio", "real", "maintenance margin over equity, %", 2),
        Column("signal_long", "bool", "momentum signal asks to buy"),
        Column("signal_short", "bool", "momentum signal asks to sell"),
        Column("now", "int", "exchange time, ms since the session start"),
        Column("mid_move", "real", "quoted mid change since the previous row, USD", 2),
    )
}

P0, S0, DEPTH, FLOW, LAM0 = 60_000.0, 6e-5, 20_000.0, 1_000.0, 1 / 3600
START = np.datetime64("2026-01-01T00:00:00", "s")

CALIBRATED: dict[str, dict[str, float]] = {
    # Fitted by bench/calibrate.py (`make bench-calibrate`) on the Binance spot BTCUSDT
    # 1-minute klines of ../shared/data/market/binance_klines_1m (2020-03-13 00:27-02:49 and
    # 2021-05-19 10:03-14:32 UTC) and, for the spread, Coinbase BTCUSD's minute quote bars of
    # 2017-09-04 (lean_minute); three significant digits. See the docstring above.
    "crash-2020-03": {
        "minutes": 143,
        "low_at": 0.768,
        "fall": -0.00211,
        "rebound": 0.00854,
        "alpha": 0.24,
        "beta": 0.73,
        "nu": 8,
        "sd": 0.0172,
        "volume_a": 0.715,
        "volume_b": 0.778,
        "volume_k": 4.51,
        "spread_calm_bp": 0.469,
        "spread_wide_bp": 6.44,
        "spread_half_move_bp": 2,
        "spread_per_move": 0.0349,
    },
    "crash-2021-05": {
        "minutes": 270,
        "low_at": 0.691,
        "fall": -0.0016,
        "rebound": 0.00195,
        "alpha": 0.28,
        "beta": 0.71,
        "nu": 5,
        "sd": 0.0116,
        "volume_a": 1.15,
        "volume_b": 0.617,
        "volume_k": 1.43,
        "spread_calm_bp": 0.469,
        "spread_wide_bp": 6.44,
        "spread_half_move_bp": 2,
        "spread_per_move": 0.0349,
    },
}
"""The constants of the calibrated scenarios (see the docstring); ``minutes`` is the length
of the real window, ``--ticks 60 * minutes`` the run to compare with it."""
ALL_SCENARIOS: tuple[str, ...] = (*SCENARIOS, *CALIBRATED_SCENARIOS)


@dataclass
class _Regime:
    vol: Floats  # volatility multiplier of S0
    mu: Floats  # drift per second
    lam: Floats  # jump probability per second
    jump_mean: Floats
    jump_sd: Floats
    liq: Floats  # liquidity, 1 normal, towards 0 when the book empties
    kill_at: int | None = None
    spread: Floats | None = None  # the spread's scale e in ticks, when not from vol and liq
    activity: Floats | None = None  # mean contracts traded a second, when not from vol and liq


def _regime(scenario: str, n: int, u: Floats) -> _Regime:
    t = np.arange(n, dtype=np.float64)
    r = _Regime(
        np.ones(n), np.zeros(n), np.full(n, LAM0), np.zeros(n), np.full(n, 0.002), np.ones(n)
    )
    if scenario == "trend":
        drift = (1 if u[0] < 0.5 else -1) * (0.04 + 0.06 * u[1])
        r.vol[:], r.mu[:], r.lam[:] = 1.25, drift / n, 2 * LAM0
        r.jump_mean[:] = 0.001 if drift > 0 else -0.001
    elif scenario == "crash":
        start, length = int(n * (0.30 + 0.15 * u[2])), max(1, int(n * (0.04 + 0.04 * u[3])))
        end = start + length
        fall, after = slice(start, end), t[end:] - end
        r.vol[fall], r.liq[fall], r.mu[fall] = 6.0, 0.3, -(0.20 + 0.08 * u[4]) / length
        r.lam[fall], r.jump_mean[fall], r.jump_sd[fall] = min(0.5, 8 / length), -0.005, 0.01
        r.vol[end:] = 1 + 3 / (1 + after / (2 * length))
        r.liq[end:] = 1 - 0.7 / (1 + after / (2 * length))
        r.lam[end:], r.jump_sd[end:] = LAM0 * r.vol[end:], 0.004
        r.kill_at = min(n - 1, start + 1 + int(length * (0.3 + 0.7 * u[5])))
    elif scenario == "vol-spike":
        start, peak, half = int(n * (0.45 + 0.05 * u[2])), 5 + 5 * u[3], n * (0.10 + 0.05 * u[4])
        r.vol[start:] = 1 + (peak - 1) / (1 + (t[start:] - start) / half)
        r.lam[:], r.jump_sd[:], r.liq[:] = LAM0 * r.vol, 0.003, 1 / (1 + 0.15 * (r.vol - 1))
    elif scenario == "liquidity-drought":
        start, length, ramp = n * (0.25 + 0.1 * u[2]), n * (0.3 + 0.1 * u[3]), max(1.0, n / 50)
        knots = [start - ramp, start, start + length, start + length + ramp]
        r.liq[:] = np.interp(t, knots, [1.0, 0.02, 0.02, 1.0])
    return r


def _calibrated(c: dict[str, float], z: Floats, seed: int) -> tuple[_Regime, Floats, Floats]:
    """The regime and the returns a second of a calibrated scenario (see the docstring).

    Each minute's innovation is ``sqrt(h) w Zbar``: ``Zbar`` the sum of the minute's normal
    draws ``z`` over ``sqrt(60)``, ``w = sqrt((nu - 2) / chi2)`` with ``chi2`` a sum of
    ``nu`` squared normals, so that it is Student-t of variance ``h``; ``h`` follows the
    GARCH(1,1) recursion from its long-run level. Only basic arithmetic and ``sqrt``."""
    n = len(z)
    minutes = -(-n // 60)
    nu = int(c["nu"])
    own = [
        np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1000 + i,))) for i in range(2)
    ]
    chi2 = (own[0].standard_normal((minutes, nu)) ** 2).sum(axis=1)
    w = np.sqrt((nu - 2) / chi2)
    padded = np.zeros(minutes * 60)
    padded[:n] = z
    zbar = padded.reshape(minutes, 60).sum(axis=1) / np.sqrt(60.0)
    var = c["sd"] * c["sd"]
    omega, alpha, beta = (1 - c["alpha"] - c["beta"]) * var, c["alpha"], c["beta"]
    h = np.empty(minutes)
    level = var
    for m in range(minutes):
        h[m] = level
        x = np.sqrt(level) * w[m] * zbar[m]
        level = omega + alpha * x * x + beta * level
    low = int(c["low_at"] * (minutes - 1))
    drift = np.where(np.arange(minutes) <= low, c["fall"], c["rebound"])
    innovation = np.sqrt(h) * w * zbar
    scale = c["sd"] / np.sqrt(np.mean(innovation * innovation))  # the day's variance, exactly
    sigma = np.sqrt(h) * scale * w  # the minute's standard deviation
    move = np.abs(drift + sigma * zbar) / c["sd"]  # the minute's |return| over its sd
    noise = own[1].standard_gamma(c["volume_k"], minutes) / c["volume_k"]
    per_second = np.repeat(np.arange(minutes), 60)[:n]
    ret = drift[per_second] / 60 + sigma[per_second] * z / np.sqrt(60.0)
    vol = (np.sqrt(h) * scale)[per_second] / (np.sqrt(60.0) * S0)
    regime = _Regime(
        vol=vol,
        mu=drift[per_second] / 60,
        lam=np.zeros(n),
        jump_mean=np.zeros(n),
        jump_sd=np.zeros(n),
        liq=np.ones(n),
        activity=FLOW * ((c["volume_a"] + c["volume_b"] * move) * noise)[per_second],
    )
    expected = np.sqrt(2 / np.pi) * sigma * 1e4  # the minute's expected |move|, bp
    return regime, ret, expected[per_second]


def _spread_scale(
    c: dict[str, float], g: _Regime, mid: NDArray[np.floating[Any]], move_bp: Floats
) -> None:
    """Set the spread scale ``e`` (ticks) of a calibrated scenario for a mean spread of
    ``calm + wide * m / (m + half) + per_move * m`` bp, ``m`` the minute's expected |move|
    in bp; the touch sizes thin as it widens (``liq**2`` is the calm scale 0.6 over ``e``,
    at most 1)."""
    widening = c["spread_wide_bp"] * move_bp / (move_bp + c["spread_half_move_bp"])
    widening += c["spread_per_move"] * move_bp
    target = (c["spread_calm_bp"] + widening) * 1e-4 * mid / 0.5
    g.spread = np.maximum(target - 0.5, 0.0)
    g.liq = np.sqrt(np.minimum(1.0, 0.6 / np.maximum(g.spread, 0.6)))


def _moving_noise(z: Floats, window: int) -> Floats:
    """Moving average of unit white noise over ``window`` rows, rescaled to unit variance."""
    c = np.cumsum(z)
    lagged = np.concatenate((np.zeros(window), c[:-window]))[: len(z)]
    counts = np.minimum(np.arange(1, len(z) + 1), window).astype(np.float64)
    out: Floats = (c - lagged) / np.sqrt(counts)
    return out


def _lag(x: Floats | Ints, k: int) -> NDArray[np.int64] | Floats:
    """``x`` shifted ``k`` rows later, the first ``k`` rows holding ``x[0]``."""
    return np.concatenate((np.full(min(k, len(x)), x[0]), x[: max(0, len(x) - k)]))


def _cents(x: Floats) -> Ints:
    return np.rint(x * 100).astype(np.int64)


def _book(
    mid: NDArray[np.floating[Any]],
    g: _Regime,
    u_spread: Floats,
    u_depth: Floats,
    u_flow: Floats,
    u_range: Floats,
) -> dict[str, tuple[NDArray[Any], int]]:
    """The venue columns of a book quoted around the latent ``mid``."""
    e = 0.6 + 0.4 * (g.vol - 1) + 0.5 * (1 / g.liq - 1) if g.spread is None else g.spread
    spread = 1 + np.floor(e * u_spread.sum(axis=1)).astype(np.int64)
    bid2 = np.rint(mid * 2 - spread / 2).astype(np.int64)  # prices in half dollars
    ask2 = bid2 + spread
    mid4 = bid2 + ask2  # quoted mid in quarter dollars
    prev4 = _lag(mid4, 1)
    excursion = (0.8 * S0 * g.vol * mid)[:, None] * u_range  # USD beyond the two quoted mids
    low2 = np.floor(np.minimum(prev4, mid4) / 2 - 2 * excursion[:, 0]).astype(np.int64)
    high2 = np.ceil(np.maximum(prev4, mid4) / 2 + 2 * excursion[:, 1]).astype(np.int64)
    sizes = np.floor((DEPTH * g.liq * g.liq)[:, None] * (0.25 + 1.5 * u_depth)).astype(np.int64)
    activity = FLOW * g.vol * np.sqrt(g.vol) * g.liq * g.liq if g.activity is None else g.activity
    volume = np.floor(activity * 4 * u_flow[:, 0] * u_flow[:, 1]).astype(np.int64)
    return {
        "bid": (bid2, 2),
        "ask": (ask2, 2),
        "bid_size": (sizes[:, 0], 0),
        "ask_size": (sizes[:, 1], 0),
        "low": (low2, 2),
        "high": (high2, 2),
        "volume": (volume, 0),
    }


def _generate(
    scenario: str, n: int, seed: int, legs: int = 1
) -> dict[str, tuple[NDArray[Any], int]]:
    """Every column as (array, denominator): reals are integer arrays over the denominator.
    Leg ``k >= 1``'s venue columns are ``#k.bid``, ...; the first leg's are ``bid``, ..."""
    streams = np.random.default_rng(seed).spawn(12 + 5 * (legs - 1))
    u_scn = streams[0].random(8)
    z, u_jump, z_jump = (
        streams[1].standard_normal(n),
        streams[2].random(n),
        streams[3].standard_normal(n),
    )
    u_spread, u_depth, u_flow, u_range = (s.random((n, 2)) for s in streams[4:8])
    m_edge, m_basis, m_margin = (
        _moving_noise(s.standard_normal(n), w)
        for s, w in zip(streams[8:11], (60, 300, 300), strict=True)
    )
    u_clock = streams[11].random(n)

    if scenario in CALIBRATED:
        g, ret, move_bp = _calibrated(CALIBRATED[scenario], z, seed)
        ret[0] = 0.0
        mid = P0 * np.cumprod(np.maximum(1 + ret, 0.5))
        _spread_scale(CALIBRATED[scenario], g, mid, move_bp)
    else:
        g = _regime(scenario, n, u_scn)
        ret = g.mu + S0 * g.vol * z
        ret += np.where(u_jump < g.lam, g.jump_mean + g.jump_sd * z_jump, 0.0)
        ret[0] = 0.0
        mid = P0 * np.cumprod(np.maximum(1 + ret, 0.5))

    book = _book(mid, g, u_spread, u_depth, u_flow, u_range)
    mid4 = book["bid"][0] + book["ask"][0]  # quoted mid in quarter dollars
    prev4 = _lag(mid4, 1)

    move4 = mid4 - prev4
    iv = 35 + 8 * (g.vol - 1)
    edge = -2 + 6 * m_edge * (1 + 0.5 * (g.vol - 1)) + 0.45 * move4 / 4 + 60 * (iv - _lag(iv, 300))
    x = mid4 / mid4[0]
    basis = 50 + 12 * m_basis * g.vol + 0.2 * (mid4 / _lag(mid4, 1800) - 1) * 1e4
    equity = np.maximum(1 + 3.5 * (x - 1), 0.01)
    margin = np.maximum(20 * x / equity * (1 + 0.2 * (g.vol - 1)) + m_margin, 0.0)
    momentum = mid4 - _lag(mid4, 60)
    rows = np.arange(n)
    kill = rows >= (n if g.kill_at is None else g.kill_at)
    ret30 = (mid4 / _lag(mid4, 1800) - 1) * 1e4
    for k in range(1, legs):
        own = streams[12 + 5 * (k - 1) : 12 + 5 * k]
        leg_basis = basis
        if k >= 2:
            noise = _moving_noise(own[4].standard_normal(n), 300)
            leg_basis = 50 + 12 * noise * g.vol + 0.2 * ret30
        draws = [s.random((n, 2)) for s in own[:4]]
        for name, values in _book(mid * (1 + leg_basis / 1e4), g, *draws).items():
            book[f"#{k}.{name}"] = values
    return {
        "time": (np.datetime_as_string(START + rows.astype("timedelta64[s]"), timezone="UTC"), 0),
        **book,
        "edge": (_cents(edge), 100),
        "basis_bps": (_cents(basis), 100),
        "expired": (rows >= n - max(1, n // 100), 0),
        "kill_switch": (kill, 0),
        "margin_ratio": (_cents(margin), 100),
        "signal_long": (momentum > mid4 * 8e-4, 0),
        "signal_short": (momentum < -mid4 * 8e-4, 0),
        "now": (rows * 1000 + np.floor(250 * u_clock).astype(np.int64), 0),
        "mid_move": (move4, 4),
    }


def _cells(values: NDArray[Any], denominator: int, kind: Kind) -> list[Cell]:
    if kind != "real":
        cells: list[Cell] = values.tolist()
        return cells
    distinct, index = np.unique(values, return_inverse=True)  # few distinct prices: build once
    fractions = [Fraction(v, denominator) for v in distinct.tolist()]
    return [fractions[i] for i in index.tolist()]


def leg_columns(legs: Sequence[str]) -> tuple[str, ...]:
    """The venue columns of ``legs``: ``spot.bid``, ..., ``future.bid``, ..."""
    return tuple(f"{leg}.{c}" for leg in legs for c in RUN_VENUE_COLUMNS)


def column(name: str) -> Column:
    """The column ``name`` is: one of ``COLUMNS``, or a venue column of a leg (``spot.bid``).

    Raises
    ------
    KeyError
        When it is neither.
    """
    if name in COLUMNS:
        return COLUMNS[name]
    leg, _, venue = name.rpartition(".")
    if not leg or venue not in RUN_VENUE_COLUMNS:
        raise KeyError(name)
    base = COLUMNS[venue]
    return Column(name, base.kind, f"{leg}: {base.doc}", base.scale)


def synthesize(
    scenario: str,
    ticks: int,
    seed: int,
    columns: Sequence[str] | None = None,
    legs: Sequence[str] = (),
) -> Table:
    """``ticks`` rows of ``scenario`` from ``seed``: all of ``COLUMNS``, or those asked for.
    With ``legs`` (instrument names), their venue columns (:func:`leg_columns`) follow
    ``time``, and all of ``COLUMNS`` means every column but the plain venue ones.

    The columns come in ``COLUMNS`` order (the legs' after ``time``, in leg order) whatever
    the order asked; a column's values do not depend on which other columns are asked for.
    """
    if scenario not in ALL_SCENARIOS:
        known = ", ".join(ALL_SCENARIOS)
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {known}")
    if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks < 1:
        raise ValueError(f"ticks must be a positive integer, not {ticks!r}")
    if isinstance(columns, str):
        raise ValueError(f"columns must be a sequence of column names, not the string {columns!r}")
    if isinstance(legs, str) or len(set(legs)) != len(legs):
        raise ValueError(f"legs must be distinct instrument names, not {legs!r}")
    of_legs = leg_columns(legs)
    if columns is not None:
        unknown = sorted(set(columns) - COLUMNS.keys() - set(of_legs))
        if unknown:
            known = ", ".join([*COLUMNS, *of_legs])
            raise ValueError(f"unknown column(s) {', '.join(unknown)}; known columns: {known}")
    order = [TIME_COLUMN, *of_legs, *(c for c in COLUMNS if c != TIME_COLUMN)]
    if columns is None and legs:
        order = [c for c in order if c not in RUN_VENUE_COLUMNS]
    names = tuple(dict.fromkeys(c for c in order if columns is None or c in columns))
    data = _generate(scenario, ticks, seed, max(1, len(legs)))
    keys = {
        f"{leg}.{c}": f"#{k}.{c}" if k else c
        for k, leg in enumerate(legs)
        for c in RUN_VENUE_COLUMNS
    }
    cells = [_cells(*data[keys.get(name, name)], column(name).kind) for name in names]
    return Table(names, list(zip(*cells, strict=True)) if cells else [()] * ticks)


def _scaled(values: Sequence[Cell], column: Column) -> list[int]:
    """A real column as integer counts of 10**-scale (exact, or ValueError)."""
    unit, out = 10**column.scale, []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | Fraction):
            raise ValueError(f"column {column.name}: {value!r} is not a real number")
        units, rest = divmod(value.numerator * unit, value.denominator)
        if rest:
            raise ValueError(f"column {column.name}: {value} has more than {column.scale} decimals")
        out.append(units)
    return out


def _decimal_text(units: int, scale: int) -> str:
    if scale == 0:
        return str(units)
    digits = str(abs(units)).rjust(scale + 1, "0")
    return f"{'-' if units < 0 else ''}{digits[:-scale]}.{digits[-scale:]}"


def _texts(values: Sequence[Cell], column: Column) -> list[str]:
    if column.kind == "real":
        return [_decimal_text(units, column.scale) for units in _scaled(values, column)]
    if column.kind == "bool":
        return ["true" if value else "false" for value in values]
    return [str(value) for value in values]


def _arrow_column(values: Sequence[Cell], column: Column) -> Any:
    import pyarrow as pa

    if column.kind != "real":
        kinds = {"text": pa.string(), "int": pa.int64(), "bool": pa.bool_()}
        return pa.array(values, type=kinds[column.kind])
    scaled = _scaled(values, column)
    if any(abs(v) >= 10**18 for v in scaled):
        raise ValueError(f"column {column.name}: a value has more than 18 digits")
    # decimal128 is a 16-byte little-endian two's complement integer: low word, sign word.
    units = np.array(scaled, dtype="<i8")
    words = np.stack((units, units >> 63), axis=1).astype("<i8")
    kind = pa.decimal128(18, column.scale)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(words.tobytes())])


TEN_USD = Fraction(10)
"""What one synthetic contract is worth: touch sizes and volume are counted in contracts
of 10 USD until :func:`in_contracts` converts them to a model's."""

SIZE_COLUMNS = ("bid_size", "ask_size", "volume")


def in_contracts(table: Table, sizes: Mapping[str, Fraction]) -> Table:
    """``table`` with each book's quantities (``bid_size``, ``ask_size``, ``volume``)
    counted in contracts of ``sizes[prefix]`` of the base asset instead of contracts of 10
    USD: ``floor(n * 10 / mid / size)``, with ``mid`` the row's quoted mid of that book and
    the result rounded down to whole contracts (a venue fills whole contracts of an ``int``
    instrument, and fewer is the cautious side). ``prefix`` is ``""`` for the plain
    columns, ``"I."`` for instrument ``I``'s."""
    at = {name: i for i, name in enumerate(table.columns)}
    rows = [list(r) for r in table.rows]
    for prefix, size in sizes.items():
        bid, ask = at.get(f"{prefix}bid"), at.get(f"{prefix}ask")
        targets = [at[f"{prefix}{c}"] for c in SIZE_COLUMNS if f"{prefix}{c}" in at]
        if bid is None or ask is None or not targets:
            continue
        for row in rows:
            mid = (Fraction(row[bid]) + Fraction(row[ask])) / 2
            for i in targets:
                count = row[i]
                assert isinstance(count, int)
                row[i] = math.floor(count * TEN_USD / mid / size)
    return Table(table.columns, [tuple(r) for r in rows])


def write_table(table: Table, path: Path, meta: DataMeta | None = None) -> None:
    """Write ``table`` to ``path``: ``.csv`` (header, exact decimals) or ``.parquet``."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"cannot write {path}: the suffix must be .csv or .parquet")
    columns, unknown = [], []
    for name in table.columns:
        try:
            columns.append(column(name))
        except KeyError:
            unknown.append(name)
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}")
    values = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(columns)
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(table.columns)
            texts = [_texts(v, c) for v, c in zip(values, columns, strict=True)]
            writer.writerows(zip(*texts, strict=True) if texts else [()] * len(table.rows))
        if meta is not None:
            write_sidecar(path, meta)
        else:
            sidecar(path).unlink(missing_ok=True)  # no metadata left from an earlier file
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_arrow_column(v, c) for v, c in zip(values, columns, strict=True)]
    fields = [
        pa.field(c.name, a.type, nullable=False, metadata={"doc": c.doc})
        for c, a in zip(columns, arrays, strict=True)
    ]
    stored = None if meta is None else {META_KEY: meta_text(meta)}
    schema = pa.schema(fields, metadata=stored)
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)
