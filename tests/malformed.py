"""A malformed-input campaign for model files.

Files are made from the reference models in ``models/`` by structured mutations (keys
deleted, duplicated, renamed or retyped; numbers at and beyond their bounds; forbidden
expression constructs; YAML tags, anchors and alias bombs; other encodings, line endings
and truncations; deep nesting; non-ASCII names), each drawn from a seeded generator so a
campaign is reproducible from its seed. Each file is checked through the command line
(``seqprove verify FILE --json``, in this process) within a time bound:

- where the loader refuses the file, the run exits 3 and reports located errors;
- where the loader accepts it, the run exits 0, 1 or 2 with a verdict per limit;
- never a traceback, an internal error (exit 4) or a hang.

``python -m tests.malformed --files 1000 --seed 1`` runs a campaign and prints its
figures; ``tests/test_malformed.py`` runs a short one with the tests and a long one
behind ``@pytest.mark.slow`` (``make malformed``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = sorted((ROOT / "models").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "models" / "v1").glob("*.yaml")
)
FILE_SECONDS = 20.0
"""Time bound per file: loading and verifying it (with ``--timeout 1`` per limit)."""

Path_ = tuple[str | int, ...]


# -- mutations ----------------------------------------------------------------------------


def _rt() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096
    return yaml


def _load(text: str) -> Any:
    return _rt().load(text)


def _dump(data: Any) -> str:
    out = io.StringIO()
    _rt().dump(data, out)
    return out.getvalue()


def _paths(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every (path, value) below ``data``, the root left out."""
    items: Iterator[tuple[str | int, Any]]
    if isinstance(data, dict):
        items = iter(list(data.items()))
    elif isinstance(data, list):
        items = iter(list(enumerate(data)))
    else:
        return
    for key, value in items:
        yield (*path, key), value
        yield from _paths(value, (*path, key))


def _parent(data: Any, path: Path_) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def _expression_paths(data: Any) -> list[Path_]:
    """Paths of values that are expressions: assumptions, provers, limits, `when` items,
    `do` right sides, inits, range bounds."""
    found: list[Path_] = []
    for path, value in _paths(data):
        if isinstance(value, dict | list) or not path:
            continue
        head = path[0]
        if (
            (head in ("assume", "provers", "limits") and len(path) == 2)
            or (head == "transitions" and len(path) >= 3 and path[2] in ("when", "do"))
            or (head == "state" and path[-1] == "init")
            or (head == "inputs" and len(path) == 4 and path[2] == "range")
        ):
            found.append(path)
    return found


def _number_paths(data: Any) -> list[Path_]:
    """Paths where a number is written: params, inits, range bounds, venue entries."""
    found = [p for p, v in _paths(data) if p[0] == "params" and not isinstance(v, dict)]
    found += [p for p in _expression_paths(data) if p[0] in ("state", "inputs")]
    found += [p for p, _ in _paths(data) if p[0] == "venue" and len(p) == 2]
    return found


def _set(data: Any, path: Path_, value: Any) -> str:
    _parent(data, path)[path[-1]] = value
    return _dump(data)


NUMBER_EXTREMES = [
    "1e999999999",
    "9" * 4301,
    "1" + "0" * 5000,
    "1.5e+5000",
    "-1e-5000",
    "0x" + "f" * 1500,
    "9" * 1000,
    "9" * 1000 + "e1000",
    "1e1000",
    "1e-1000",
    "1e400",
    "1e-400",
    "-0",
    "00012",
    "+5",
    "1_000",
    ".inf",
    "-.inf",
    ".nan",
    "0.1e1",
    "'1e99999999'",
    '"' + "9" * 4301 + '"',
    "'1e1000 * 1e1000 * 1e1000'",
]

CONSTRUCTS = [
    "({e}) ** 2",
    "({e}).real",
    "({e})[0]",
    "__import__('os').system('true')",
    "lambda: ({e})",
    "[v for v in ({e})]",
    "({e}) // 2",
    "({e}) % 2",
    "(v := ({e}))",
    "f'{{({e})}}'",
    "({e}) + 1j",
    "({e}) @ 2",
    "({e}) if True",
    "({e}) +",
    "",
    "not",
    "'buy'",
    "None",
    "...",
    "({e}) << 1",
    "({e}) is None",
    "({e}) in ({e})",
    "1e999999999 + ({e})",
    "9" * 4301 + " + ({e})",
    "min()",
    "abs(1, 2)",
    "max(({e}))",
    "place(side='buy', qty=1)",
    "({e}) +\r 1e-400",
    "({e}) +\u2028 1e-400",
    "({e})\x85+ 0",
    "({e}) # \u00e9",
    "({e})\x00",
    "\uff43\uff41\uff50 + ({e})",
    "\ufb01 == ({e})",
    "({e}) and \u0430",
    "1e1000 * 1e1000 * 1e1000 * ({e})",
    "(" * 250 + "({e})" + ")" * 250,
    "-" * 5000 + "1",
    "not " * 300 + "({e})",
    " + ".join(["1"] * 3000),
    " else ".join(f"{i} if ({{e}}) else" for i in range(150)).removesuffix(" else") + " else 0",
    "abs(" * 99 + "1" + ")" * 99,
    "({e}) and undefined_name_x",
    "min(" + ", ".join(str(i) for i in range(4000)) + ")",
    "1 if " + " and ".join(["({e})"] * 400) + " else 0",
    "yield 1",
    "await x",
    "{{1: 2}}",
    "*({e})",
]

TAGS = [
    "!!python/object/apply:os.system",
    "!!python/name:os.system",
    "!!str",
    "!!int",
    "!!float",
    "!!binary",
    "!custom",
    "!",
    "!<tag:yaml.org,2002:str>",
]

RETYPES: list[Any] = [
    [],
    {},
    "text",
    42,
    1.5,
    True,
    None,
    [1, [2, [3]]],
    {"a": {"b": 1}},
    "{a: 1}",
    "[1, 2",
]

NON_ASCII = ["\uff43\uff41\uff50", "\ufb01", "p\u043e\u0455", "\u00e9t\u00e9", "x\u200b", "\u03b4"]


def _name_in(text: str, rng: random.Random) -> str:
    words = [w for w in text.replace("(", " ").replace(")", " ").split() if w.isidentifier()]
    return rng.choice(words) if words else "x"


def delete_key(text: str, rng: random.Random) -> str:
    data = _load(text)
    path, _ = rng.choice([p for p in _paths(data) if isinstance(_parent(data, p[0]), dict)])
    del _parent(data, path)[path[-1]]
    return _dump(data)


def duplicate_key(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if ":" in line and not line.lstrip().startswith("#")]
    i = rng.choice(keyed)
    return "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])


def rename_key(text: str, rng: random.Random) -> str:
    data = _load(text)
    maps = [(p, v) for p, v in _paths(data) if isinstance(v, dict) and v]
    _, mapping = rng.choice([((), data), *maps])
    key = rng.choice(list(mapping))
    new = rng.choice([key + "s", key[:-1], key.upper(), "unknown", "x-y", "1abc", "if", "abs"])
    value = mapping.pop(key)
    mapping[new] = value
    return _dump(data)


def retype(text: str, rng: random.Random) -> str:
    data = _load(text)
    path, _ = rng.choice(list(_paths(data)))
    return _set(data, path, rng.choice(RETYPES))


def number_extreme(text: str, rng: random.Random) -> str:
    data = _load(text)
    path = rng.choice(_number_paths(data))
    marker = "NUMBER_EXTREME_MARKER"
    return _set(data, path, marker).replace(marker, rng.choice(NUMBER_EXTREMES))


def forbidden_construct(text: str, rng: random.Random) -> str:
    data = _load(text)
    path = rng.choice(_expression_paths(data))
    original = str(_parent(data, path)[path[-1]])
    construct = rng.choice(CONSTRUCTS).replace("{e}", original.replace("{", "{{"))
    construct = construct.replace("{{", "{").replace("}}", "}")
    # a double-quoted YAML scalar holds any character, escaped
    marker = "CONSTRUCT_MARKER"
    quoted = json.dumps(construct)
    return _set(data, path, marker).replace(marker, quoted)


def tag(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    keyed = [
        i
        for i, line in enumerate(lines)
        if ": " in line
        and not line.lstrip().startswith(("#", "- "))
        and line.split(": ", 1)[1].strip()
    ]
    i = rng.choice(keyed)
    key, value = lines[i].split(": ", 1)
    lines[i] = f"{key}: {rng.choice(TAGS)} {value}"
    return "".join(lines)


def anchors(text: str, rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # a billion laughs under a key of its own
        levels = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for n in range(1, 10):
            refs = ", ".join([f"*l{n - 1}"] * 9)
            levels.append(f"  l{n}: &l{n} [{refs}]")
        return text + "bomb:\n" + "\n".join(levels) + "\n"
    if kind == 1:  # an alias to an anchor never defined
        return text.replace("initial: ", "initial: *nowhere\nx_initial: ", 1)
    if kind == 2:  # an anchor reused: valid YAML, still a model
        data = _load(text)
        return _dump(data).replace("steps: [", "steps: &steps [", 1) + "x_steps: *steps\n"
    return text.replace("params:", "params: &p", 1).replace("state:", "extra: *p\nstate:", 1)


def encoding(text: str, rng: random.Random) -> bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return text.encode("utf-16")
    if kind == 1:
        return text.encode("utf-16-be")
    if kind == 2:
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if kind == 3:
        return text.encode("utf-32")
    if kind == 4:
        return text.replace("about:", "about: caf\u00e9", 1).encode("latin-1", errors="replace")
    raw = text.encode("utf-8")
    at = rng.randrange(len(raw))
    bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xf8\x88\x80\x80\x80"])
    return raw[:at] + bad + raw[at:]


def line_endings(text: str, rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return text.replace("\n", "\r")
    if kind == 1:
        return text.replace("\n", "\r\n")
    if kind == 2:
        return "".join(line + rng.choice(["\n", "\r\n", "\r"]) for line in text.split("\n"))
    breaks = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"]
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines[i] = lines[i] + rng.choice(breaks)
    return "\n".join(lines)


def truncate(text: str, rng: random.Random) -> bytes:
    raw = text.encode("utf-8")
    return raw[: rng.randrange(len(raw) + 1)]


def deep_nesting(text: str, rng: random.Random) -> str:
    depth = rng.choice([63, 65, 100, 1000, 20000])
    kind = rng.randrange(3)
    if kind == 0:
        value = "[" * depth + "1" + "]" * depth
    elif kind == 1:
        value = "{a: " * depth + "1" + "}" * depth
    else:
        value = "\n".join("  " * i + "- " for i in range(min(depth, 200))) + "1"
        return text + "deep:\n" + value + "\n"
    return text.replace("about:", f"nested: {value}\nabout:", 1)


def non_ascii_name(text: str, rng: random.Random) -> str:
    data = _load(text)
    if rng.random() < 0.5:
        path = rng.choice(_expression_paths(data))
        original = str(_parent(data, path)[path[-1]])
        name = _name_in(original, rng)
        odd = rng.choice(NON_ASCII)
        replaced = original.replace(name, odd, 1) if name in original else f"{original} + {odd}"
        return _set(data, path, replaced)
    section = rng.choice([s for s in ("params", "state", "limits", "provers") if s in data])
    key = rng.choice(list(data[section]))
    data[section][rng.choice(NON_ASCII)] = data[section].pop(key)
    return _dump(data)


def flow_comma(text: str, rng: random.Random) -> str:
    data = _load(text)
    name = rng.choice(list(data["state"]))
    spec = data["state"][name]
    init = spec.get("init", 0) if isinstance(spec, dict) else 0
    kind = spec.get("type", "int") if isinstance(spec, dict) else "int"
    marker = "FLOW_MARKER"
    data["state"][name] = marker
    extra = f", values: {list(spec['values'])}" if kind == "enum" else ""
    flow = f"{{type: {kind}, init: {init}{extra}, doc: a, b}}".replace("'", "")
    return _dump(data).replace(marker, flow)


def byte_noise(text: str, rng: random.Random) -> bytes:
    raw = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(raw))
        raw[at : at + 1] = rng.choice(
            [b"\x00", b"\x1b", b"\x7f", b"\t", b":", b"{", b"'", b'"', b"&"]
        )
    return bytes(raw)


def documents(text: str, rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            "---\n",
            "...\n",
            "~\n",
            "[]\n",
            "- a\n- b\n",
            text + "---\n" + text,
            "%YAML 1.1\n---\n" + text,
            "%TAG ! tag:x,2000:\n---\n" + text,
            " " * 1_000_001,
            text + "x_many: [" + "1, " * 300_000 + "]\n",
            text.replace(
                "limits:",
                "limits:\n" + "".join(f"  x{i}: 1 + 1 + 1 >= 0\n" for i in range(3000)),
                1,
            ),
        ]
    )


Mutation = Callable[[str, random.Random], str | bytes]

MUTATIONS: dict[str, Mutation] = {
    "delete-key": delete_key,
    "duplicate-key": duplicate_key,
    "rename-key": rename_key,
    "retype": retype,
    "number-extreme": number_extreme,
    "forbidden-construct": forbidden_construct,
    "tag": tag,
    "anchors": anchors,
    "encoding": encoding,
    "line-endings": line_endings,
    "truncate": truncate,
    "deep-nesting": deep_nesting,
    "non-ascii-name": non_ascii_name,
    "flow-comma": flow_comma,
    "byte-noise": byte_noise,
    "documents": documents,
}


@dataclass(frozen=True)
class Case:
    """One malformed file: its name, the mutation and model it came from, its bytes."""

    name: str
    mutation: str
    model: str
    data: bytes


def cases(count: int, seed: int, start: int = 0) -> list[Case]:
    """Cases ``start`` to ``start + count - 1`` of the campaign of ``seed``: the
    mutations taken in turn, the model and the mutation's choices drawn from a generator
    seeded by the seed and the case's number (so a case does not depend on the others)."""
    names = list(MUTATIONS)
    texts = {p.name: p.read_text(encoding="utf-8") for p in REFERENCE}
    made = []
    for i in range(start, start + count):
        rng = random.Random(f"{seed}:{i}")
        mutation = names[i % len(names)]
        model = rng.choice(sorted(texts))
        out = MUTATIONS[mutation](texts[model], rng)
        data = out if isinstance(out, bytes) else out.encode("utf-8")
        made.append(Case(f"{i:04d}-{mutation}.yaml", mutation, model, data))
    return made


# -- checking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one file gave: ``located`` (refused with located errors, exit 3), ``valid``
    (a verdict, exit 0-2), or a defect: ``traceback``, ``internal``, ``hang``,
    ``unlocated``, ``wrong-exit``."""

    case: str
    mutation: str
    kind: str
    detail: str = ""
    seconds: float = 0.0


DEFECTS = ("traceback", "internal", "hang", "unlocated", "wrong-exit")


def _bounded(call: Callable[[], Any], seconds: float) -> tuple[bool, Any, BaseException | None]:
    """``call()`` in a thread: (finished in time, its value, the exception it raised)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # reported as the file's outcome
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive(), box.get("value"), box.get("error")


def _cli(args: Sequence[str]) -> tuple[int, str, str]:
    from checker.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def check(path: Path, proofs: Path, mutation: str = "", seconds: float = FILE_SECONDS) -> Outcome:
    """Load ``path`` to decide whether it is valid, then verify it through the command
    line, and classify what happened."""
    from checker.errors import ModelError
    from checker.lang.loader import load_model

    started = time.monotonic()
    done, _, error = _bounded(lambda: load_model(path), seconds)
    if not done:
        return Outcome(path.name, mutation, "hang", "load_model", seconds)
    if error is not None and not isinstance(error, ModelError):
        return Outcome(
            path.name, mutation, "traceback", f"load_model: {type(error).__name__}: {error}"[:300]
        )
    valid = error is None
    args = ["verify", str(path), "--json", "--timeout", "1", "--proofs", str(proofs)]
    done, result, error = _bounded(lambda: _cli(args), seconds)
    took = time.monotonic() - started
    if not done:
        return Outcome(path.name, mutation, "hang", "verify", took)
    if error is not None:
        return Outcome(
            path.name, mutation, "traceback", f"verify: {type(error).__name__}: {error}"[:300], took
        )
    code, out, err = result
    if "Traceback" in out + err:
        return Outcome(path.name, mutation, "traceback", err[-300:], took)
    if code == 4:
        return Outcome(path.name, mutation, "internal", (err or out)[-300:], took)
    try:
        (entry,) = json.loads(out)["models"]
    except (ValueError, KeyError, TypeError) as exc:
        return Outcome(
            path.name, mutation, "wrong-exit", f"no JSON report ({exc}): {err[-200:]}", took
        )
    if entry.get("internal_error"):
        return Outcome(path.name, mutation, "internal", entry["internal_error"][:300], took)
    if not valid:
        errors = entry.get("errors") or []
        located = errors and all(
            e["line"] >= 1 and e["column"] >= 1 and e["message"] for e in errors
        )
        if code != 3:
            return Outcome(
                path.name, mutation, "wrong-exit", f"refused by the loader, exit {code}", took
            )
        if not located:
            return Outcome(path.name, mutation, "unlocated", json.dumps(errors)[:300], took)
        return Outcome(path.name, mutation, "located", errors[0]["message"][:120], took)
    if code not in (0, 1, 2) or not entry.get("limits"):
        return Outcome(path.name, mutation, "wrong-exit", f"loaded, exit {code}", took)
    return Outcome(path.name, mutation, "valid", f"exit {code}", took)


@dataclass
class Figures:
    """The campaign's counts, and every defect found."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(o.kind for o in self.outcomes)

    @property
    def defects(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind in DEFECTS]

    def summary(self) -> str:
        c = self.counts
        slowest = max((o.seconds for o in self.outcomes), default=0.0)
        lines = [
            f"malformed-input campaign: {len(self.outcomes)} files, "
            f"{c['located']} located errors, {c['valid']} valid, "
            f"tracebacks={c['traceback']}, hangs={c['hang']}, internal errors={c['internal']}, "
            f"unlocated={c['unlocated']}, wrong exit={c['wrong-exit']} "
            f"(slowest file {slowest:.1f} s)"
        ]
        by_mutation = Counter((o.mutation, o.kind) for o in self.outcomes)
        for mutation in MUTATIONS:
            kinds = {k: n for (m, k), n in by_mutation.items() if m == mutation}
            if kinds:
                shown = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
                lines.append(f"  {mutation}: {shown}")
        lines += [f"  DEFECT {o.kind} {o.case}: {o.detail}" for o in self.defects]
        return "\n".join(lines)


def run_chunk(seed: int, start: int, count: int, folder: str) -> list[Outcome]:
    """Write and check cases ``start`` to ``start + count - 1`` in ``folder`` (with a
    result cache of its own there, so identical valid models are verified once)."""
    import checker.cli

    root = Path(folder)
    checker.cli.DEFAULT_CACHE = root / "cache"  # type: ignore[misc]
    found = []
    for case in cases(count, seed, start):
        path = root / case.name
        path.write_bytes(case.data)
        found.append(check(path, root / "proofs", case.mutation))
    return found


def campaign(files: int, seed: int, folder: Path, jobs: int = 1) -> Figures:
    """Run ``files`` cases of the campaign of ``seed`` in ``folder``, over ``jobs``
    processes."""
    if jobs <= 1:
        return Figures(run_chunk(seed, 0, files, str(folder)))
    size = -(-files // jobs)
    parts = [(i * size, min(size, files - i * size)) for i in range(jobs) if i * size < files]
    figures = Figures()
    with ProcessPoolExecutor(jobs) as pool:
        futures = []
        for n, (start, count) in enumerate(parts):
            sub = folder / f"part{n}"
            sub.mkdir(parents=True, exist_ok=True)
            futures.append(pool.submit(run_chunk, seed, start, count, str(sub)))
        for future in futures:
            figures.outcomes += future.result()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        figures = campaign(args.files, args.seed, Path(folder), args.jobs)
    print(figures.summary())
    return 1 if figures.defects else 0


if __name__ == "__main__":
    sys.exit(main())
