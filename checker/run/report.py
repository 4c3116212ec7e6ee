"""The end-of-run report (terminal and JSON) and its plot (PNG, with matplotlib)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from checker.model import Model, decimal_text
from checker.run.executor import Outcome, Stats


@dataclass(frozen=True)
class RunReport:
    model: Model
    data: str
    outcome: Outcome
    stats: Stats
    state: dict[str, Any]
    journal: str | None
    plot: str | None
    admitted_by: str
    seconds: float

    @property
    def pnl(self) -> Fraction:
        return self.stats.series[-1][3] if self.stats.series else Fraction(0)

    @property
    def max_position(self) -> Fraction:
        largest = Fraction(0)
        for _, _, position, _ in self.stats.series:
            largest = max(largest, Fraction(-position if position < 0 else position))
        return largest

    def to_json(self) -> dict[str, Any]:
        limit = self.model.venue.position_limit
        return {
            "model": self.model.file,
            "strategy": self.model.strategy,
            "data": self.data,
            "journal": self.journal,
            "plot": self.plot,
            "admitted_by": self.admitted_by,
            "outcome": self.outcome.to_json(),
            "exit_code": self.outcome.exit_code,
            "ticks": self.stats.ticks,
            "actions": self.stats.actions,
            "orders": self.stats.orders,
            "fills": self.stats.fills,
            "rejected_actions": self.stats.rejected,
            "pnl": _money(self.pnl),
            "max_abs_position": decimal_text(self.max_position),
            "position_limit": None if limit is None else decimal_text(limit),
            "denials": dict(sorted(self.stats.denials.items())),
            "assumption_breaches": self.stats.breaches,
            "limit_breaches": self.stats.limit_breaches,
            "final_state": self.state,
            "seconds": round(self.seconds, 3),
        }


def _money(value: Fraction) -> str:
    return f"{float(value):.2f}"


def print_run(report: RunReport, console: Console) -> None:
    data = report.to_json()
    unproven = report.admitted_by.startswith("UNPROVEN")
    table = Table(
        title=f"{report.model.file}  {report.model.strategy}",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    rows: list[tuple[str, str]] = [
        ("admitted by", report.admitted_by),
        ("outcome", f"{report.outcome.reason} at tick {report.outcome.tick}"),
        ("ticks", str(data["ticks"])),
        ("orders / fills", f"{data['orders']} / {data['fills']}"),
        ("PnL", data["pnl"]),
    ]
    limit = data["position_limit"]
    band = f" (limit {limit})" if limit is not None else ""
    rows.append(("max |position|", f"{data['max_abs_position']}{band}"))
    denials = ", ".join(f"{k} x{v}" for k, v in data["denials"].items()) or "none"
    rows.append(("prover denials", denials))
    rows.append(("assumption breaches", str(len(data["assumption_breaches"]))))
    if data["rejected_actions"]:
        rows.append(("actions the venue rejected", str(data["rejected_actions"])))
    if report.journal:
        rows.append(("journal", report.journal))
    if report.plot:
        rows.append(("plot", report.plot))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if unproven:
        console.print("[bold red]WARNING: this model was run without a proof of its limits[/]")
    style = {"data-end": "green", "final": "green", "assumption": "yellow", "limit": "bold red"}
    console.print(f"[{style[report.outcome.reason]}]{report.outcome.message}[/]")


def plot(report: RunReport, path: Path) -> None:
    """Price, the venue position with the limit band, and PnL, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = report.stats.series
    ticks = [t for t, *_ in series]
    mids = [float(m) if m is not None else float("nan") for _, m, _, _ in series]
    positions = [float(p) for _, _, p, _ in series]
    pnl = [float(e) for *_, e in series]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, sharex=True, figsize=(10, 7.5))
    ax1.plot(ticks, mids, linewidth=0.8, color="tab:blue")
    ax1.set_ylabel("mid price")
    ax1.set_title(f"{report.model.strategy} over {Path(report.data).name}: {report.outcome.reason}")
    ax2.step(ticks, positions, where="post", linewidth=0.8, color="tab:purple")
    limit = report.model.venue.position_limit
    if limit is not None:
        ax2.axhspan(-float(limit), float(limit), color="tab:green", alpha=0.12, label="limit")
        ax2.axhline(float(limit), color="tab:green", linewidth=0.6)
        ax2.axhline(-float(limit), color="tab:green", linewidth=0.6)
        ax2.legend(loc="upper left")
    ax2.set_ylabel("venue position")
    ax3.plot(ticks, pnl, linewidth=0.8, color="tab:orange")
    ax3.axhline(0, color="grey", linewidth=0.5)
    ax3.set_ylabel("PnL")
    ax3.set_xlabel("tick")
    for breach in report.stats.breaches + report.stats.limit_breaches:
        for ax in (ax1, ax2, ax3):
            ax.axvline(breach["tick"], color="tab:red", linestyle="--", linewidth=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
