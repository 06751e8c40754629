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

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import __version__, load
from .format import mode_key
from .header import actual_body_digest, recorded_digests
from .inputs import short_hash
from .load import SpecSource, SpecSources
from .model import Output, TemplateSet


@dataclass(frozen=True)
class Target:
    """What one spec document yields: enough to reuse its output unparsed."""

    dag_id: str
    template: str
    namespace: str
    spec: str
    output: str
    inputs: str


@dataclass(frozen=True)
class State:
    """The local cache: reusable outputs and the targets of unchanged spec files."""

    outputs: frozenset[str] = frozenset()
    specs: Mapping[str, tuple[str, tuple[Target, ...]]] = field(default_factory=dict)


def tool_key() -> str:
    """What, besides the inputs, shapes an output: dagsmith's code and black's version."""
    return _hash(f"dagsmith {__version__} {code_digest()}; {mode_key()}")


@cache
def code_digest() -> str:
    """dagsmith's own source: a checkout between two releases renders differently too.

    Reading it costs about a millisecond.
    """
    return hashlib.sha256(b"\0".join(load.read_own_code())).hexdigest()


def _hash(*parts: str) -> str:
    return short_hash(*parts, length=32)  # keys of the cache: longer, never shown


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


def templates_fingerprint(templates: TemplateSet) -> str:
    """A digest of every template, partial and contract."""
    parts = [
        f"{name}\0{text}" for name, text in sorted(templates.jinja_sources.items())
    ]
    for name, template in sorted(templates.templates.items()):
        parts.append(f"{name}\0{template.kind}\0{template.source}")
        if template.contract is not None:
            parts.append(repr(template.contract.data))
    return _hash(templates.root, *parts)


def spec_key(source: SpecSource, sources: SpecSources, fingerprint: str) -> str:
    """A digest of all that a spec file's targets depend on."""
    chain = [f"{d.path}\0{d.text}" for d in sources.chain(source)]
    return _hash(source.path, source.text or "", *chain, fingerprint)


def spec_keys(sources: SpecSources, fingerprint: str) -> dict[str, str]:
    """The key of every spec file."""
    return {s.path: spec_key(s, sources, fingerprint) for s in sources.specs}


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


def next_state(
    keys: Mapping[str, str], targets: Iterable[Target], outputs: Iterable[Output]
) -> State:
    """The cache after a successful run that produced these targets and outputs."""
    by_spec: dict[str, list[Target]] = {}
    for target in targets:
        by_spec.setdefault(target.spec, []).append(target)
    specs = {path: (keys[path], tuple(found)) for path, found in by_spec.items()}
    entries = {output_entry(*d) for o in outputs if (d := recorded_digests(o.content))}
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
    """The cache from text; an empty one when it is not what to_json wrote."""
    try:
        data: Any = json.loads(text)
        specs = {
            path: (entry["key"], tuple(Target(*fields) for fields in entry["targets"]))
            for path, entry in data["specs"].items()
        }
        return State(frozenset(data["outputs"]), specs)
    except (ValueError, KeyError, TypeError, AttributeError):
        return State()
