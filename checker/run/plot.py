"""The plot of a run: one PNG, drawn with matplotlib on its Agg canvas (no display).

Its panels share the x axis, from the top:

- **steps**: a lane per step of the model, filled where the model was in that step, so
  that a mode change reads as the fill moving from one lane to another, however many
  there are (each lane's label counts how often the model entered the step);
- per book (each instrument; the one venue of a model without instruments) two panels:
  the **mid price** with the strategy's buy and sell fills marked at their prices, and
  the **position** as a step line over the band its limits prove, with the open buy
  quantity and, below zero, the open sell quantity;
- the **PnL** (the venue's, summed over the books) with the **loss limit** drawn: the
  value of the PnL at which a limit of the model breaks (:func:`loss_limits`).

The x axis is the data's ``time`` column when it has one: ISO-8601 times as dates (UTC
when they carry a zone), numbers as they are written (their unit is not known); ticks
otherwise. On a time axis a stretch without rows (longer than three times the usual
interval and than two pixels) is a gap: the lines break and the stretch is shaded.
Lines are drawn from at most a few thousand points (the lowest and highest of each
slice of ticks); fills, breaches, the final step and the limits are all drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from checker.model import Model, decimal_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from checker.run.report import Band, RunReport

PNL_SOURCE = "venue.pnl_change"
"""The input source whose reads add up to the venue's PnL."""

WIDTH_IN, DPI = 12.0, 100
"""The figure's width in inches and its resolution: 1200 pixels across."""

POINTS = 2400
"""Above this many ticks a line is drawn from the lowest and highest point of each of
``POINTS // 2`` slices: two points per pixel column, the same picture."""

GAP_FACTOR = 3
"""A step of the time axis this many times its median step (and two pixels wide) is a gap."""

BUY, SELL = "tab:green", "tab:red"


@dataclass(frozen=True)
class LossLimit:
    """A limit that bounds the PnL: the model keeps a state variable that adds up the
    venue's PnL changes (``do: {pnl: pnl + pnl_change}``), and a limit bounds that
    variable alone. ``low``/``high`` are the bounds it puts on the venue's PnL (None:
    none that side), ``name`` and ``text`` the limit's."""

    name: str
    text: str
    variable: str
    low: Fraction | None
    high: Fraction | None


def loss_limits(model: Model) -> list[LossLimit]:
    """The limits of ``model`` that bound its PnL, solved for the PnL with sympy.

    A state variable ``v`` follows the PnL when every update of it in a ``do`` is
    ``v + c * p`` for one rational ``c`` and an input ``p`` read from the venue's
    ``pnl_change``: the reads add up to the PnL, so ``v = init + c * PnL``. A limit whose
    only variable is ``v`` is solved for the PnL by putting ``init + c * x`` for ``v``
    (the limit ``pnl > -(max_loss + max_tick_pnl)`` gives ``PnL > -5250``)."""
    from checker.run.report import exact_bound, region_where

    flows = {v.symbol for v in model.inputs if v.source == PNL_SOURCE}
    x = sympy.Symbol("x", real=True)
    found: list[LossLimit] = []
    for var in model.state:
        rate = _pnl_rate(model, var.name, var.symbol, flows)
        if rate is None or not isinstance(var.init, Fraction | int) or isinstance(var.init, bool):
            continue
        start = sympy.Rational(Fraction(var.init).numerator, Fraction(var.init).denominator)
        for limit in model.limits:
            if limit.expr.free_symbols != {var.symbol}:
                continue
            region = region_where(limit.expr.xreplace({var.symbol: start + rate * x}), x)
            if region is None or region is sympy.S.EmptySet:
                continue
            low, high = exact_bound(region.inf), exact_bound(region.sup)
            if low is not None or high is not None:
                found.append(LossLimit(limit.name, limit.text, var.name, low, high))
    return found


def _pnl_rate(
    model: Model, name: str, symbol: sympy.Symbol, flows: set[sympy.Symbol]
) -> sympy.Rational | None:
    """``c`` when every update of state variable ``name`` is ``name + c * p`` for an
    input ``p`` of the venue's PnL changes (the same ``c`` throughout), else None."""
    rates = set()
    for transition in model.transitions:
        for target, expr in transition.do:
            if target != name:
                continue
            change = sympy.expand(expr - symbol)
            read = change.free_symbols
            if len(read) != 1 or not read <= flows:
                return None
            (flow,) = read
            rate = change.coeff(flow)
            if not isinstance(rate, sympy.Rational) or rate == 0:
                return None
            if sympy.expand(change - rate * flow) != 0:
                return None
            rates.add(rate)
    if len(rates) != 1:
        return None
    return next(iter(rates))


@dataclass(frozen=True)
class XAxis:
    """Where each tick is drawn: ``x`` one value per tick (matplotlib date numbers for
    ``kind == "time"``, the data's numbers for ``"number"``, the tick for ``"tick"``)."""

    x: np.ndarray[Any, np.dtype[np.float64]]
    kind: str
    label: str

    def gaps(self) -> list[tuple[float, float]]:
        """The stretches without rows: steps longer than :data:`GAP_FACTOR` times the
        median step and than two pixels of the figure (none on a tick axis)."""
        if self.kind == "tick" or len(self.x) < 3:
            return []
        steps = np.diff(self.x)
        positive = steps[steps > 0]
        if len(positive) == 0:
            return []
        span = float(self.x[-1] - self.x[0])
        least = max(GAP_FACTOR * float(np.median(positive)), 2 * span / (WIDTH_IN * DPI))
        at = np.flatnonzero(steps > least)
        return [(float(self.x[i]), float(self.x[i + 1])) for i in at]


def x_axis(times: Sequence[str | None], ticks: Sequence[int]) -> XAxis:
    """The x axis of a run whose ticks had ``times`` (the ``time`` cells as the data
    wrote them; tick 0, before the first row, has none and is drawn at the first row's
    time). Ticks when there is no time column or its cells cannot be read."""
    import pandas as pd

    by_tick = XAxis(np.asarray(ticks, dtype=np.float64), "tick", "tick")
    cells = list(times)
    if cells and cells[0] is None and len(cells) > 1:
        cells[0] = cells[1]
    if not cells or any(c is None for c in cells):
        return by_tick
    texts = pd.Series([str(c).strip() for c in cells])
    numbers = pd.to_numeric(texts, errors="coerce")
    if numbers.notna().all():
        return XAxis(
            numbers.to_numpy(dtype=np.float64),
            "number",
            "time (the data's numbers; their unit is not known)",
        )
    try:
        moments = pd.to_datetime(texts, utc=True, format="ISO8601")
        zoned = datetime.fromisoformat(texts.iloc[0]).tzinfo is not None
    except (ValueError, TypeError):
        return by_tick
    from matplotlib import dates

    naive = moments.dt.tz_convert(None).to_numpy()
    label = "time (UTC)" if zoned else "time (as written: no zone)"
    days = dates.date2num(naive)  # type: ignore[no-untyped-call]
    return XAxis(np.asarray(days, dtype=np.float64), "time", label)


def _broken(
    x: np.ndarray[Any, np.dtype[np.float64]],
    ys: list[np.ndarray[Any, np.dtype[np.float64]]],
    gaps: list[tuple[float, float]],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], list[np.ndarray[Any, np.dtype[np.float64]]]]:
    """``x`` and ``ys`` with a NaN point where each gap starts, so that lines (step
    lines too) end at the last row before it."""
    if not gaps:
        return x, ys
    starts = [a for a, _ in gaps]
    after = np.searchsorted(x, starts, side="right")
    return np.insert(x, after, starts), [np.insert(y, after, np.nan) for y in ys]


def _thin(
    x: np.ndarray[Any, np.dtype[np.float64]], y: np.ndarray[Any, np.dtype[np.float64]]
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """At most about :data:`POINTS` points of a line: in each slice of ticks its lowest
    and its highest point, in the order they come (a NaN, a break, is kept)."""
    n = len(x)
    if n <= POINTS:
        return x, y
    size = -(-n // (POINTS // 2))
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    keep[np.isnan(y)] = True
    filled = np.where(np.isnan(y), np.nanmean(y) if np.isfinite(y).any() else 0.0, y)
    pad = (-n) % size
    blocks = np.pad(filled, (0, pad), mode="edge").reshape(-1, size)
    starts = np.arange(blocks.shape[0]) * size
    keep[np.minimum(starts + blocks.argmin(axis=1), n - 1)] = True
    keep[np.minimum(starts + blocks.argmax(axis=1), n - 1)] = True
    return x[keep], y[keep]


def _line(
    ax: Axes,
    x: np.ndarray[Any, np.dtype[np.float64]],
    y: np.ndarray[Any, np.dtype[np.float64]],
    gaps: list[tuple[float, float]],
    *,
    step: bool = False,
    **style: Any,
) -> None:
    bx, (by,) = _broken(x, [y], gaps)
    tx, ty = _thin(bx, by)
    if step:
        ax.step(tx, ty, where="post", **style)
    else:
        ax.plot(tx, ty, **style)


def _spans(ax: Axes, spans: Sequence[tuple[float, float]], **style: Any) -> None:
    """Shade the x ranges ``spans`` over the panel's full height, as one collection."""
    if not spans:
        return
    xs: list[float] = []
    where: list[bool] = []
    for a, b in spans:
        xs += [a, b, float("nan")]
        where += [True, True, False]
    ax.fill_between(xs, 0, 1, where=where, transform=ax.get_xaxis_transform(), linewidth=0, **style)


def _book_band(model: Model, name: str) -> Band | None:
    """The band of book ``name``'s position: its instrument's (:func:`band`), or the
    ``venue`` section's ``position_limit`` for the venue of a model without instruments."""
    from checker.run.report import Band, band

    if name:
        return band(model, name)
    limit = model.venue.position_limit
    if limit is None:
        return None
    return Band(-limit, limit, f"[{decimal_text(-limit)}, {decimal_text(limit)}]")


def _book_note(data: str, name: str) -> str:
    """How the data file says book ``name`` was made, when it is not plain quotes."""
    from checker.run.meta import MetaError, read_meta

    try:
        meta = read_meta(Path(data))
    except (MetaError, OSError):
        return ""
    origin = None if meta is None else meta.book(name)
    if origin is None or (origin.kind == "quotes" and origin.granularity == "tick"):
        return ""
    return f"book from {origin.kind} ({origin.granularity})"


def figure(report: RunReport) -> Figure:
    """The figure of ``report``'s run (:mod:`checker.run.plot` says what it shows)."""
    from matplotlib import dates
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

    model, stats = report.model, report.stats
    ticks = [t for t, _ in stats.pnl]
    axis = x_axis(stats.times, ticks)
    x = axis.x
    gaps = axis.gaps()
    names = [i.name for i in model.instruments] or [""]
    steps = list(model.steps)
    lane_height = 0.35 + 0.22 * len(steps)
    heights = [lane_height] + [2.1, 1.5] * len(names) + [1.9]
    fig = Figure(figsize=(WIDTH_IN, sum(heights) + 0.9), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(heights), 1, sharex=True, gridspec_kw={"height_ratios": heights})
    lanes, pnl_ax = axes[0], axes[-1]
    at = f" at tick {report.outcome.tick}" if report.outcome.reason != "data-end" else ""
    lanes.set_title(
        f"{model.strategy} over {Path(report.data).name}: {report.outcome.reason}{at}",
        loc="left",
    )
    _draw_steps(lanes, report, x, steps)
    for k, name in enumerate(names):
        _draw_book(axes[1 + 2 * k], axes[2 + 2 * k], report, name, x, gaps)
    _draw_pnl(pnl_ax, report, x, gaps)
    for ax in axes:
        _spans(ax, gaps, color="0.85", alpha=0.6, zorder=0)
        _marks(ax, report, x, ticks, labelled=ax is pnl_ax)
    if gaps:
        pnl_ax.fill_between(
            [],
            [],
            color="0.85",
            label=f"no rows ({len(gaps):,} gap{'' if len(gaps) == 1 else 's'})",
        )
    for ax in axes[1:]:
        legend = ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small")
        for handle in legend.legend_handles:
            if isinstance(handle, PathCollection):  # fills: markers as big as when they are few
                handle.set_sizes([24.0])
    pnl_ax.set_xlabel(axis.label)
    if axis.kind == "time":
        locator = dates.AutoDateLocator()  # type: ignore[no-untyped-call]
        pnl_ax.xaxis.set_major_locator(locator)
        concise = dates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
        pnl_ax.xaxis.set_major_formatter(concise)
    elif axis.kind == "number":
        pnl_ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    if len(x) > 1 and x[-1] > x[0]:
        margin = 0.005 * float(x[-1] - x[0])
        pnl_ax.set_xlim(float(x[0]) - margin, float(x[-1]) + margin)
    return fig


def _draw_steps(ax: Axes, report: RunReport, x: np.ndarray[Any, Any], steps: list[str]) -> None:
    """A lane per step, filled where the model was in it (runs closer than a pixel are
    drawn as one, and none narrower than three pixels, so that a step held for one tick
    shows); each lane's label counts the entries into its step."""
    from matplotlib import colormaps

    recorded = report.stats.steps
    if len(recorded) != len(x) or not recorded:
        return
    codes = np.array([steps.index(s) if s in steps else -1 for s in recorded])
    changes = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    first = np.concatenate(([0], changes))
    last = np.concatenate((changes, [len(codes)]))
    usual = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    ends = np.append(x, x[-1] + usual)
    span = float(ends[-1] - ends[0]) or 1.0
    pixel = span / (WIDTH_IN * DPI)
    palette = colormaps["tab10"]
    labels = []
    for row, step in enumerate(steps):
        mine = codes[first] == row
        starts, stops = ends[first[mine]], ends[last[mine]]
        labels.append(f"{step} ({int(mine.sum()):,})")
        if not len(starts):
            continue
        cut = np.flatnonzero(starts[1:] - stops[:-1] > pixel)
        left = starts[np.concatenate(([0], cut + 1))]
        right = stops[np.concatenate((cut, [len(starts) - 1]))]
        widths = np.maximum(right - left, 3 * pixel)
        color = "tab:red" if step in report.model.final else palette(row % 10)
        ax.broken_barh(list(zip(left, widths, strict=True)), (row - 0.4, 0.8), color=color)
    ax.set_yticks(range(len(steps)), labels, fontsize="small")
    ax.set_ylim(len(steps) - 0.5, -0.5)
    ax.set_ylabel("step (entries)", fontsize="small")


def _draw_book(
    price_ax: Axes,
    book_ax: Axes,
    report: RunReport,
    name: str,
    x: np.ndarray[Any, Any],
    gaps: list[tuple[float, float]],
) -> None:
    """Book ``name``'s two panels: the mid with the fills, and the position over its
    band with the open orders."""
    points = report.stats.books.get(name, [])
    if len(points) != len(x):
        return
    title = name or "venue"
    mids = np.array([np.nan if p[1] is None else float(p[1]) for p in points])
    _line(price_ax, x, mids, gaps, linewidth=0.7, color="tab:blue", label="mid", zorder=5)
    fills = [f for f in report.stats.fill_log if f.instrument == name]
    tick_x = dict(zip([p[0] for p in points], x, strict=True))
    size = 24.0 if len(fills) <= 200 else max(5.0, 24.0 * (200 / len(fills)) ** 0.5)
    for side, marker, color in (("buy", "^", BUY), ("sell", "v", SELL)):
        mine = [f for f in fills if f.side == side and f.tick in tick_x]
        price_ax.scatter(
            [tick_x[f.tick] for f in mine],
            [float(f.price) for f in mine],
            marker=marker,
            s=size,
            color=color,
            alpha=0.9 if len(fills) <= 200 else 0.6,
            linewidths=0,
            label=f"{side} fills ({len(mine):,})",
            zorder=4,
        )
    price_ax.set_ylabel(f"{title} price", fontsize="small")
    note = _book_note(report.data, name)
    if note:
        price_ax.text(0.995, 0.96, note, transform=price_ax.transAxes, ha="right", va="top",
                      fontsize="small", color="0.3")  # fmt: skip
    position = np.array([float(p[2]) for p in points])
    buys = np.array([float(p[3]) for p in points])
    sells = np.array([-float(p[4]) for p in points])
    _line(book_ax, x, buys, gaps, step=True, linewidth=0.6, color="tab:blue",
          label="open buy", zorder=3)  # fmt: skip
    _line(book_ax, x, sells, gaps, step=True, linewidth=0.6, color="tab:red",
          label="open sell (below 0)", zorder=3)  # fmt: skip
    _line(book_ax, x, position, gaps, step=True, linewidth=1.2, color="tab:purple",
          label="position", zorder=4)  # fmt: skip
    allowed = _book_band(report.model, name)
    if allowed is not None and (allowed.low is not None or allowed.high is not None):
        bottom, top = book_ax.get_ylim()
        low = float(allowed.low) if allowed.low is not None else bottom
        high = float(allowed.high) if allowed.high is not None else top
        book_ax.axhspan(low, high, color="tab:green", alpha=0.1, label=f"band {allowed.text}")
        for bound in (allowed.low, allowed.high):
            if bound is not None:
                book_ax.axhline(float(bound), color="tab:green", linewidth=0.6, zorder=1)
    bottom, top = book_ax.get_ylim()
    book_ax.set_ylim(bottom - 0.05 * (top - bottom), top + 0.05 * (top - bottom))
    book_ax.set_ylabel(f"{title} position", fontsize="small")


def _draw_pnl(
    ax: Axes, report: RunReport, x: np.ndarray[Any, Any], gaps: list[tuple[float, float]]
) -> None:
    """The PnL, a line at zero and the loss limits (the legend says when there is none)."""
    pnl = np.array([float(e) for _, e in report.stats.pnl])
    _line(ax, x, pnl, gaps, linewidth=0.8, color="tab:orange", label="PnL", zorder=3)
    ax.axhline(0, color="grey", linewidth=0.5)
    limits = loss_limits(report.model)
    for limit in limits:
        for bound, what in ((limit.low, "loss limit"), (limit.high, "PnL limit")):
            if bound is None:
                continue
            ax.axhline(float(bound), color="darkred", linestyle="--", linewidth=1.0,
                       label=f"{what} {decimal_text(bound)} ({limit.name})", zorder=2)  # fmt: skip
            bottom, top = ax.get_ylim()
            margin = 0.05 * max(top - bottom, abs(float(bound)) or 1.0)
            ax.set_ylim(min(bottom, float(bound) - margin), max(top, float(bound) + margin))
    if not limits:
        ax.plot([], [], " ", label="no loss limit")
    ax.set_ylabel("PnL", fontsize="small")


def _marks(
    ax: Axes, report: RunReport, x: np.ndarray[Any, Any], ticks: list[int], *, labelled: bool
) -> None:
    """Dashed red lines at the breaches, and a line where the model entered a final step
    (named in the legend of the ``labelled`` panel)."""
    where = dict(zip(ticks, x, strict=True))
    kinds = (
        ("assumption breach", report.stats.breaches),
        ("limit breach", report.stats.limit_breaches),
    )
    for what, breaches in kinds:
        for n, breach in enumerate(breaches):
            if breach["tick"] in where:
                ax.axvline(where[breach["tick"]], color="tab:red", linestyle="--",
                           linewidth=0.9, label=what if n == 0 and labelled else None)  # fmt: skip
    final = report.model.final
    for tick, step in zip(ticks, report.stats.steps, strict=False):
        if step in final:
            ax.axvline(where[tick], color="black", linestyle=":", linewidth=1.0,
                       label=f"entered {step}" if labelled else None)  # fmt: skip
            break


def plot(report: RunReport, path: Path) -> None:
    """Write the plot of ``report``'s run to ``path`` (a PNG; its folder is made)."""
    fig = figure(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
