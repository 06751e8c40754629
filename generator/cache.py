"""What a run may reuse from the last successful one, kept in a local cache.

Two tables, in one file per tool key (dagsmith's version and code, black's
version and mode), as black keeps its cache: tool versions never enter the committed
files, and a new version starts from an empty cache.

- outputs: `inputs body` digest pairs that these tools produced. An existing
  output whose header records the spec's current inputs, whose body still has
  its recorded digest, and whose pair is here, is exactly what rendering would
  give: it is reused.
- specs: per spec file, a key over its text, its defaults files and every
  template file, and the targets (dag_id, template, namespace, output, inputs)
  its documents gave. A file whose key is unchanged is not even parsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .header import actual_body_digest, recorded_digests
from .model import Generated, Target


@dataclass(frozen=True)
class State:
    """The local cache: reusable outputs and the targets of unchanged spec files."""

    outputs: frozenset[str] = frozenset()
    specs: Mapping[str, tuple[str, tuple[Target, ...]]] = field(default_factory=dict)


def output_entry(inputs: str, body: str) -> str:
    """An outputs line: these inputs gave this body with the current tools."""
    return f"{inputs} {body}"


def reusable(content: bytes, inputs: str, state: State) -> bool:
    """Whether an existing output is exactly what these inputs give with these tools."""
    recorded = recorded_digests(content)
    if recorded is None or recorded[0] != inputs:
        return False
    return (
        actual_body_digest(content) == recorded[1]
        and output_entry(*recorded) in state.outputs
    )


def settled(
    keys: Mapping[str, str], state: State, existing: Mapping[str, bytes]
) -> dict[str, tuple[Target, ...]]:
    """The spec files that need no parsing: unchanged, with every output reusable."""
    found = {}
    for path, current in keys.items():
        key, targets = state.specs.get(path, ("", ()))
        if not targets or key != current:
            continue
        outputs = [existing.get(t.output) for t in targets]
        if all(
            o is not None and reusable(o, t.inputs, state)
            for o, t in zip(outputs, targets, strict=True)
        ):
            found[path] = targets
    return found


def next_state(keys: Mapping[str, str], files: Iterable[Generated]) -> State:
    """The cache after a successful run that produced these files."""
    by_spec: dict[str, list[Target]] = {}
    entries = set()
    for file in files:
        by_spec.setdefault(file.target.spec, []).append(file.target)
        if recorded := recorded_digests(file.output.content):
            entries.add(output_entry(*recorded))
    specs = {path: (keys[path], tuple(found)) for path, found in by_spec.items()}
    return State(frozenset(entries), specs)


def to_json(state: State) -> str:
    """The cache as text."""
    specs = {
        path: {"key": key, "targets": [list(vars(t).values()) for t in targets]}
        for path, (key, targets) in sorted(state.specs.items())
    }
    # One line: without `indent`, json's C encoder writes it, ten times faster.
    return json.dumps({"outputs": sorted(state.outputs), "specs": specs})


def from_json(text: str) -> State:
    """The cache from text; an empty one when it is none, or not what to_json wrote."""
    if not text:
        return State()
    try:
        data: Any = json.loads(text)
        specs = {
            path: (entry["key"], tuple(Target(*fields) for fields in entry["targets"]))
            for path, entry in data["specs"].items()
        }
        return State(frozenset(data["outputs"]), specs)
    except (ValueError, KeyError, TypeError, AttributeError):
        return State()
