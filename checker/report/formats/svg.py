"""The step graph as inline SVG for the HTML page, in a layered layout."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from checker.model import Model, Transition
from checker.report.graph import edge_label

_CHAR, _BOX_H, _GAP_X, _ROW, _TOP = 7.8, 32.0, 180.0, 84.0, 40.0
_LABEL_CHAR = 6.2
"""The width of a character of an edge label (11px), to keep labels inside the view."""
Box = tuple[float, float, float]
"""A step's box: centre x, centre y, width."""


def _layers(model: Model) -> list[list[str]]:
    """Steps by breadth-first distance from the initial step, unreachable ones last,
    each layer in file order."""
    order = {s: i for i, s in enumerate(model.steps)}
    layers = [
        sorted(found, key=order.__getitem__)
        for found in nx.bfs_layers(model.graph, [model.initial])
    ]
    rest = [s for s in model.steps if not any(s in layer for layer in layers)]
    return [*layers, rest] if rest else layers


def _border(box: Box, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the ray from the box's centre toward a point leaves the box."""
    x, y, w = box
    dx, dy = toward[0] - x, toward[1] - y
    t = min(w / 2 / abs(dx) if dx else math.inf, _BOX_H / 2 / abs(dy) if dy else math.inf)
    return (x + dx * t, y + dy * t) if math.isfinite(t) else (x, y)


_LOOP_STEP = 22.0
"""How much higher each further self-loop of a step rises than the one inside it."""


@dataclass(frozen=True)
class _Layout:
    """Where the steps of a step graph are drawn, and how edges run between them."""

    boxes: Mapping[str, Box]
    layer: Mapping[str, int]
    loops: Mapping[str, int]
    """The number of self-loops (transitions from a step to itself) of each step."""
    middle: float

    def loop(self, step: str, k: int) -> tuple[str, float, float, str]:
        """The path of the ``k``-th self-loop of ``step`` and where its label goes. The
        loops nest above the box, each one ``_LOOP_STEP`` higher and wider than the one
        inside it. A step's only loop has its label centred above it; when there are
        several, each label is level with its own loop's top, right of the outermost
        loop, so that no loop crosses a label and no two labels share a place."""
        x, y = self.boxes[step][0], self.boxes[step][1] - _BOX_H / 2
        lift, reach, foot = 46 + _LOOP_STEP * k, 40 + 14 * k, 12 + 5 * k
        controls = f"{x - reach:.1f},{y - lift:.1f} {x + reach:.1f},{y - lift:.1f}"
        path = f"M{x - foot:.1f},{y:.1f} C{controls} {x + foot:.1f},{y:.1f}"
        top = y - 0.75 * lift  # where a cubic with both controls at one height peaks
        if self.loops[step] == 1:
            return path, x, top - 6, "middle"
        outermost = 40 + 14 * (self.loops[step] - 1)
        return path, x + outermost / 2 + 8, top + 4, "start"

    def edge(self, u: str, v: str) -> tuple[str, float, float, str]:
        """The path of edge ``u -> v`` between two steps, and where its label goes and
        how it is anchored: a straight line to a later layer, an arc sideways within a
        layer (right going down, left going up), and an arc back to an earlier layer over
        the top or under the bottom of the layers between, on the side nearer the source.
        Self-loops are drawn by :meth:`loop`."""
        (xu, yu, _), (xv, yv, _) = self.boxes[u], self.boxes[v]
        if self.layer[v] > self.layer[u]:
            (x0, y0), (x1, y1) = _border(self.boxes[u], (xv, yv)), _border(self.boxes[v], (xu, yu))
            path = f"M{x0:.1f},{y0:.1f} L{x1:.1f},{y1:.1f}"
            return path, (x0 + x1) / 2, (y0 + y1) / 2 - 6, "middle"
        if self.layer[v] == self.layer[u]:
            side = 1 if yv > yu else -1
            cx, cy = xu + side * (40 + abs(yv - yu) / 4), (yu + yv) / 2
            (x0, y0), (x1, y1) = _border(self.boxes[u], (cx, cy)), _border(self.boxes[v], (cx, cy))
            path = f"M{x0:.1f},{y0:.1f} Q{cx:.1f},{cy:.1f} {x1:.1f},{y1:.1f}"
            return path, (x0 + 2 * cx + x1) / 4 + side * 6, cy + 4, "start" if side > 0 else "end"
        span = [s for s in self.boxes if self.layer[v] <= self.layer[s] <= self.layer[u]]
        sign = -1 if yu < self.middle or (yu == self.middle and yv < self.middle) else 1
        clear = _BOX_H / 2 + 14 + 8 * min(self.layer[u] - self.layer[v], 4)
        if sign < 0 and any(self.loops.get(s, 0) for s in span):  # over the loops
            clear += 40 + _LOOP_STEP * (max(self.loops.get(s, 0) for s in span) - 1)
        ys = [self.boxes[s][1] for s in span]
        peak = (min(ys) if sign < 0 else max(ys)) + sign * clear
        y0, y1 = yu + sign * _BOX_H / 2, yv + sign * _BOX_H / 2
        cx, cy = (xu + xv) / 2, 2 * peak - (y0 + y1) / 2  # the curve's middle is the peak
        path = f"M{xu:.1f},{y0:.1f} Q{cx:.1f},{cy:.1f} {xv:.1f},{y1:.1f}"
        return path, cx, peak + (-6 if sign < 0 else 14), "middle"


def _short_label(transitions: tuple[Transition, ...]) -> str:
    """``line N [provers]`` for one transition, ``lines N, M`` for several; cut to fit
    between two layers."""
    if len(transitions) > 1:
        text = "lines " + ", ".join(str(t.line) for t in transitions)
    else:
        (t,) = transitions
        text = f"line {t.line}" + (f" [{', '.join(t.provers)}]" if t.provers else "")
    return text if len(text) <= 25 else text[:24] + "\u2026"


def _rect(box: Box, inset: float) -> str:
    x, y, w = box
    size = f'width="{w - 2 * inset:.1f}" height="{_BOX_H - 2 * inset:.1f}"'
    return f'<rect x="{x - w / 2 + inset:.1f}" y="{y - _BOX_H / 2 + inset:.1f}" {size} rx="7"/>'


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "middle") -> str:
    place = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
    return f'<text {place} class="{cls}">{html.escape(text)}</text>'


def step_graph_svg(model: Model, ident: str = "0") -> str:
    """The step graph as inline SVG in a layered layout: the initial step leftmost, each
    step one layer right of its nearest predecessor; a transition's line and provers on
    its edge (its whole label in the tooltip), final steps with a double border.
    ``ident`` keeps the arrow marker's id unique among the graphs of one page."""
    layers = _layers(model)
    layer = {s: i for i, steps in enumerate(layers) for s in steps}
    tallest = max(len(steps) for steps in layers)
    boxes: dict[str, Box] = {}
    x = 90.0
    for steps in layers:
        column = max(len(s) * _CHAR + 24 for s in steps)
        for row, s in enumerate(steps):
            y = _TOP + (row + (tallest - len(steps)) / 2) * _ROW
            boxes[s] = (x + column / 2, y, len(s) * _CHAR + 24)
        x += column + _GAP_X
    arrow = f'marker-end="url(#arrow-{ident})"'
    x0, y0, w0 = boxes[model.initial]
    body = [
        f'<defs><marker id="arrow-{ident}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>",
        f'<circle cx="{x0 - w0 / 2 - 36:.1f}" cy="{y0:.1f}" r="5"/>',
        f'<path d="M{x0 - w0 / 2 - 31:.1f},{y0:.1f} L{x0 - w0 / 2:.1f},{y0:.1f}" {arrow}/>',
    ]
    loops = {
        s: len(model.graph.edges[s, s]["transitions"]) for s in nx.nodes_with_selfloops(model.graph)
    }
    layout = _Layout(boxes, layer, loops, _TOP + (tallest - 1) * _ROW / 2)
    heights = [_TOP - _BOX_H, _TOP + (tallest - 1) * _ROW + _BOX_H]
    rights = [x - _GAP_X + 84]  # the last column and a margin
    for u, v, data in model.graph.edges(data=True):
        if u == v:  # each self-loop its own loop and label: they would hide each other
            drawn = [(layout.loop(u, k), (t,)) for k, t in enumerate(data["transitions"])]
        else:
            drawn = [(layout.edge(u, v), data["transitions"])]
        for (path, lx, ly, anchor), transitions in drawn:
            text = _short_label(transitions)
            heights.append(ly)
            rights.append(lx + len(text) * _LABEL_CHAR * {"start": 1, "middle": 0.5}.get(anchor, 0))
            tip = html.escape("\n".join(edge_label(t) for t in transitions))
            label = _text(lx, ly, text, "label", anchor)
            body.append(f'<g><title>{tip}</title><path d="{path}" {arrow}/>{label}</g>')
    for s, box in boxes.items():
        body += [_rect(box, 0), *([_rect(box, 3)] if s in model.final else [])]
        body.append(_text(box[0], box[1] + 4.5, s))
    top, width, height = min(heights) - 16, max(rights) + 16, max(heights) - min(heights) + 28
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 {top:.0f} {width:.0f} {height:.0f}" role="img" '
        f'aria-label="step graph of {html.escape(model.strategy)}">{"".join(body)}</svg>'
    )
