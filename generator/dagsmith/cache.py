"""What a run may reuse from the last successful one: the local cache and the record.

What is known is kept under a tool key (dagsmith's version and code, black's
version and mode): a new version starts from nothing. It lives in two places:

- the local, uncommitted cache (`.dagsmith/cache/TOOL_KEY`), as black keeps
  its own: it remembers what `check` learned too;
- the record, committed beside the outputs (`generated_dags/.dagsmith-record`),
  which `generate` rewrites with them: a fresh clone (every CI job) checks
  without parsing or rendering. Tool versions stay out of the outputs'
  headers: an upgrade that changes no body changes the record's tool line.

What is known:

- outputs: `inputs body` digest pairs that these tools produced. An existing
  output whose header records the spec's current inputs, whose body still has
  its recorded digest, and whose pair is known, is exactly what rendering
  would give: it is reused.
- specs: per spec file, a key over its text and its defaults files, and the
  targets its documents gave, each with the key of its template as it was.
  A file whose key and whose targets' template keys are unchanged is not
  even parsed.
- closures: for each template, the sources it is made of, so that its key is
  computed without Jinja2 when nothing changed.
- templates: the digest of the whole template set that a successful run
  checked (local cache only): when it is unchanged, the templates are not
  checked again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .header import HEADER_PREFIX, actual_body_digest, recorded_digests
from .keys import short_hash
from .model import Output

Closures = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Target:
    """What one spec document yields: enough to reuse its output unparsed."""

    dag_id: str
    template: str
    namespace: str
    spec: str
    output: str
    inputs: str
    template_key: str  # the template as it was: keys.template_key


@dataclass(frozen=True)
class Generated:
    """One spec document's target and the output file it yields."""

    target: Target
    output: Output


@dataclass(frozen=True, order=True)
class Made:
    """A fact about the current tools: these inputs gave a body of this digest."""

    inputs: str
    body: str


@dataclass(frozen=True)
class SpecEntry:
    """A spec file's key when it was last read, and the targets it yielded."""

    key: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class State:
    """What a run may reuse: see the module's docstring."""

    outputs: frozenset[Made] = frozenset()
    specs: Mapping[str, SpecEntry] = field(default_factory=dict)
    closures: Closures = field(default_factory=dict)
    templates: str = ""


def reusable(content: bytes, inputs: str, state: State) -> bool:
    """Whether an existing output is exactly what these inputs give with these tools."""
    recorded = recorded_digests(content)
    if recorded is None or recorded[0] != inputs:
        return False
    body = recorded[1]
    return actual_body_digest(content) == body and Made(inputs, body) in state.outputs


def settled(
    keys: Mapping[str, str],
    template_keys: Mapping[str, str],
    state: State,
    existing: Mapping[str, bytes],
) -> dict[str, tuple[Target, ...]]:
    """The spec files that need no parsing: unchanged, made with unchanged
    templates, and with every output reusable."""
    found = {}
    for path, current in keys.items():
        entry = state.specs.get(path)
        if entry is None or not entry.targets or entry.key != current:
            continue
        targets = entry.targets
        if all(
            t.template_key == template_keys.get(t.template)
            and (output := existing.get(t.output)) is not None
            and reusable(output, t.inputs, state)
            for t in targets
        ):
            found[path] = targets
    return found


def next_state(
    keys: Mapping[str, str],
    files: Iterable[Generated],
    closures: Closures,
    templates: str,
) -> State:
    """What a successful run that produced these files knows."""
    by_spec: dict[str, list[Target]] = {}
    entries = set()
    for file in files:
        by_spec.setdefault(file.target.spec, []).append(file.target)
        if recorded := recorded_digests(file.output.content):
            entries.add(Made(*recorded))
    specs = {path: SpecEntry(keys[path], tuple(f)) for path, f in by_spec.items()}
    return State(frozenset(entries), specs, dict(closures), templates)


def combine(keys: Mapping[str, str], *states: State) -> State:
    """What several caches know together: every output pair (each is a fact
    about these tools), for each spec file the entry whose key is current, the
    closures, and the first known template digest."""
    outputs = frozenset().union(*(state.outputs for state in states))
    specs: dict[str, SpecEntry] = {}
    closures: dict[str, tuple[str, ...]] = {}
    for state in states:
        for path, entry in state.specs.items():
            known = specs.get(path)
            if known is None or (known.key != keys.get(path) == entry.key):
                specs[path] = entry
        closures = {**state.closures, **closures}
    templates = next((s.templates for s in states if s.templates), "")
    return State(outputs, specs, closures, templates)


def to_json(state: State) -> str:
    """The local cache as text."""
    specs = {
        path: {"key": entry.key, "targets": [vars(t) for t in entry.targets]}
        for path, entry in sorted(state.specs.items())
    }
    # One line: without `indent`, json's C encoder writes it, ten times faster.
    return json.dumps(
        {
            "outputs": [[m.inputs, m.body] for m in sorted(state.outputs)],
            "specs": specs,
            "closures": {k: list(v) for k, v in sorted(state.closures.items())},
            "templates": state.templates,
        }
    )


def from_json(text: str) -> State:
    """The local cache from text; nothing when there is none, or not what to_json wrote."""
    if not text:
        return State()
    try:
        data: Any = json.loads(text)
        specs = {
            path: SpecEntry(entry["key"], tuple(Target(**t) for t in entry["targets"]))
            for path, entry in data["specs"].items()
        }
        closures = {k: tuple(v) for k, v in data["closures"].items()}
        outputs = frozenset(Made(inputs, body) for inputs, body in data["outputs"])
        return State(outputs, specs, closures, data["templates"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return State()


RECORD_HEAD = (
    f"{HEADER_PREFIX}the specs: the tool and digests behind this folder. DO NOT EDIT.\n"
    "# `dagsmith check` trusts an output listed here on a fresh clone; "
    "`dagsmith generate` rewrites this file.\n"
)
_TARGET_FIELDS = [f.name for f in fields(Target) if f.name != "spec"]


@dataclass(frozen=True)
class Record:
    """What a committed record says: the tool key, what it knows, and the
    packs whose templates made the outputs (name: (distribution, version))."""

    tool: str = ""
    state: State = State()
    packs: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def to_record(record: Record) -> bytes:
    """The record of an output folder: JSON lines, the tool's, one per pack,
    template and output, then a check line.

    A line per output keeps diffs and merges small; the check line (a digest
    of the lines above) makes a hand edit show.
    """
    state = record.state
    bodies = {made.inputs: made.body for made in state.outputs}
    lines = [json.dumps(["tool", record.tool])]
    lines += [
        json.dumps(["pack", name, *record.packs[name]]) for name in sorted(record.packs)
    ]
    lines += [
        json.dumps(["template", name, *closure])
        for name, closure in sorted(state.closures.items())
    ]
    for path, entry in sorted(state.specs.items()):
        for t in entry.targets:
            values = [getattr(t, name) for name in _TARGET_FIELDS]
            row = ["spec", path, entry.key, *values, bodies[t.inputs]]
            lines.append(json.dumps(row))
    text = "".join(f"{line}\n" for line in lines)
    check = json.dumps(["check", short_hash(text, length=32)])
    return f"{RECORD_HEAD}{text}{check}\n".encode()


def from_record(content: bytes) -> Record:
    """What a record says; nothing when it is not one, or was edited by hand."""
    try:
        text = content.decode("utf-8").removeprefix(RECORD_HEAD)
        body, _, last = text.rstrip("\n").rpartition("\n")
        if json.loads(last) != ["check", short_hash(body + "\n", length=32)]:
            return Record()
        rows: list[Any] = [json.loads(line) for line in body.splitlines()]
        kind, tool = rows[0]
        packs = {r[1]: (str(r[2]), str(r[3])) for r in rows if r[0] == "pack"}
        closures = {r[1]: tuple(r[2:]) for r in rows[1:] if r[0] == "template"}
        table: dict[str, tuple[str, list[Target]]] = {}
        outputs = set()
        for _, path, key, *values, body_digest in (r for r in rows if r[0] == "spec"):
            target = Target(spec=path, **dict(zip(_TARGET_FIELDS, values, strict=True)))
            table.setdefault(path, (key, []))[1].append(target)
            outputs.add(Made(target.inputs, body_digest))
    except (ValueError, TypeError, IndexError, UnicodeDecodeError):
        return Record()
    if kind != "tool":
        return Record()
    specs = {
        path: SpecEntry(key, tuple(targets)) for path, (key, targets) in table.items()
    }
    return Record(str(tool), State(frozenset(outputs), specs, closures), packs)
