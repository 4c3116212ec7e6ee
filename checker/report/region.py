"""``seqprove params``: the region found, in the terminal and as a plot."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.table import Table

from checker.model import Value
from checker.params import Region

GRID = 120  # cells per axis of the plot


def print_region(region: Region, console: Console) -> None:
    """The box, the safe region, each unsafe piece with its counterexample's values,
    and what is undecided."""
    box = ", ".join(f"{n} in {r}" for n, r in region.ranges.items())
    console.print(f"[bold]{region.file}[/bold]  {region.strategy}  ({region.seconds:.2f} s)")
    console.print(f"free params: {box}")
    table = Table(show_lines=False)
    for column in ("piece", "where", "limit broken", "counterexample"):
        table.add_column(column, overflow="fold")
    table.add_row("[green]safe[/green]", region.safe, "-", "every limit proved there")
    for piece in region.unsafe:
        values = ", ".join(f"{k}={v}" for k, v in piece.values.items())
        how = "" if piece.exact else " (this value alone: the projection failed)"
        if piece.repeated:
            how += f" (a loop of a verified run taken {piece.repeated} more time(s))"
        table.add_row(
            "[red]unsafe[/red]",
            piece.condition,
            piece.limit,
            f"{piece.counterexample.length} tick(s) at {values}{how}",
        )
    if not region.exact:
        why = "; ".join(f"{r.name}: {r.reason}" for r in region.unknown)
        table.add_row("[yellow]undecided[/yellow]", region.undecided, "-", why)
    console.print(table)
    if region.exact:
        console.print(
            f"exact: every value of the box is proved safe or has a counterexample "
            f"({region.rounds} round(s))"
        )
    else:
        console.print(
            "not exact: the safe region shown is proved (a sound under-approximation), "
            f"and the part undecided is neither proved nor refuted ({region.rounds} round(s))"
        )


def plot_region(region: Region, path: Path) -> None:
    """A PNG of the region over the first two free params, the others at their lower
    bounds: each cell coloured safe, unsafe or undecided.

    Raises
    ------
    ValueError
        With fewer than two free params, or one of the two unbounded.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    names = list(region.box)
    if len(names) < 2:
        raise ValueError("the plot needs two free params")
    x, y = names[0], names[1]
    for name in (x, y):
        low, high = region.box[name]
        if low is None or high is None:
            raise ValueError(f"'{name}' is unbounded: bound it with --within")
    fixed: dict[str, Value] = {}  # the other free params: at their lower bounds
    for name, (low, high) in list(region.box.items())[2:]:
        fixed[name] = low if low is not None else high if high is not None else 0
    integer = {n: region.symbols[n].is_integer for n in names}

    def axis(name: str) -> list[Fraction]:
        ends = region.box[name]
        assert ends[0] is not None and ends[1] is not None
        low, high = Fraction(ends[0]), Fraction(ends[1])
        if integer[name] and high - low + 1 <= GRID:
            return [low + i for i in range(int(high - low) + 1)]
        points = [low + (high - low) * Fraction(i, GRID - 1) for i in range(GRID)]
        return [Fraction(round(p)) for p in points] if integer[name] else points

    xs, ys = axis(x), axis(y)
    code = {"safe": 0, "unsafe": 1, "undecided": 2, "outside": 2}
    cells = [[code[region.classify({x: vx, y: vy, **fixed})] for vx in xs] for vy in ys]
    figure, ax = plt.subplots(figsize=(6, 5))
    colours = ListedColormap(["#4caf50", "#e53935", "#fdd835"])
    ax.imshow(
        cells,
        origin="lower",
        aspect="auto",
        cmap=colours,
        vmin=0,
        vmax=2,
        extent=(float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])),
        interpolation="nearest",
    )
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    rest = ", ".join(f"{n}={v}" for n, v in fixed.items())
    ax.set_title(f"{region.strategy}: safe (green), unsafe (red), undecided (yellow)"
                 + (f"\n{rest}" if rest else ""), fontsize=9)  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
