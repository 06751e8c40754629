"""Safe, strict YAML with the position of every key and value.

PyYAML's SafeLoader builds plain data and refuses tags that construct Python
objects. On top of it this module refuses what YAML would silently guess:
duplicate keys, merge keys (`<<`), YAML 1.1 booleans such as `no`, octal
numbers such as `010` and base-60 numbers such as `12:30`; and it refuses
aliases that expand past a budget (billion laughs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Position, Problem
from .model import Document, ValuePath

# More values than any hand-written spec has; reached only by alias bombs.
NODE_BUDGET = 100_000
MAX_DEPTH = 100
MAX_NUMBER_LENGTH = 4300  # digits: Python's limit for reading an int back

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_NUMBER_TAGS = {_INT_TAG, "tag:yaml.org,2002:float"}


# libyaml's parser when PyYAML was built with it: about ten times faster, same nodes.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type, misc]
    """The safe loader; a class of our own so nothing we change leaks into PyYAML's."""


@dataclass
class _Walk:
    """State of one walk over a document's node tree."""

    loader: _Loader
    path: str
    problems: list[Problem] = field(default_factory=list)
    positions: dict[ValuePath, Position] = field(default_factory=dict)
    key_positions: dict[ValuePath, Position] = field(default_factory=dict)
    visited: int = 0

    def at(self, node: yaml.Node) -> Position:
        mark = node.start_mark
        return Position(self.path, mark.line + 1, mark.column + 1)


class _TooBig(Exception):
    """The document expands past NODE_BUDGET values or MAX_DEPTH levels."""

    def __init__(self, where: Position) -> None:
        self.where = where


def _children(
    walk: _Walk, node: yaml.Node
) -> Iterator[tuple[Any, yaml.Node, yaml.Node | None]]:
    """(key, value node, key node) for every child of a collection node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            yield walk.loader.construct_object(
                key_node, deep=True
            ), value_node, key_node
    elif isinstance(node, yaml.SequenceNode):
        for index, value_node in enumerate(node.value):
            yield index, value_node, None


def _check(walk: _Walk, node: yaml.Node, depth: int = 0) -> None:
    """Find duplicate keys and ambiguous scalars before anything is constructed."""
    walk.visited += 1
    if walk.visited > NODE_BUDGET or depth > MAX_DEPTH:
        raise _TooBig(walk.at(node))
    if isinstance(node, yaml.ScalarNode):
        _check_scalar(walk, node)
        return
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                walk.problems.append(
                    Problem(
                        walk.at(key_node),
                        "merge keys (<<) are refused: they are YAML 1.1 only and hide where "
                        "values come from; use _defaults.yaml or write the keys out",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = walk.loader.construct_object(key_node)
            if key in seen:
                first = walk.at(seen[key])
                walk.problems.append(
                    Problem(
                        walk.at(key_node),
                        f"duplicate key {key!r} (first at line {first.line}); "
                        "YAML would silently keep only the last one",
                    )
                )
            seen.setdefault(key, key_node)
    for _, child, key_node in _children(walk, node):
        if key_node is not None:
            _check(walk, key_node, depth + 1)
        _check(walk, child, depth + 1)


def _check_scalar(walk: _Walk, node: yaml.ScalarNode) -> None:
    if (
        node.style
    ):  # quoted or block scalars are always strings (plain: None, or "" in C)
        return
    text = node.value
    if node.tag == _BOOL_TAG and text.lower() not in ("true", "false"):
        walk.problems.append(
            Problem(
                walk.at(node),
                f"{text!r} is read by YAML 1.1 as the boolean "
                f"{text.lower() in ('yes', 'on')}; "
                f"write true or false, or quote it ('{text}') for a string",
            )
        )
    elif (
        node.tag == _INT_TAG
        and len(text.lstrip("+-").replace("_", "")) > MAX_NUMBER_LENGTH
    ):
        walk.problems.append(
            Problem(
                walk.at(node),
                "integer too long: Python reads back at most 4,300 digits",
            )
        )
    elif node.tag == _INT_TAG and re.fullmatch(r"[-+]?0[0-7_]+", text):
        walk.problems.append(
            Problem(
                walk.at(node),
                f"{text!r} is read by YAML 1.1 as an octal number; "
                f"write it without the leading 0, or quote it ('{text}') for a string",
            )
        )
    elif node.tag in _NUMBER_TAGS and ":" in text:
        walk.problems.append(
            Problem(
                walk.at(node),
                f"{text!r} is read by YAML 1.1 as a base-60 number; "
                f"quote it ('{text}') for a string",
            )
        )


def _record(walk: _Walk, node: yaml.Node, value_path: ValuePath) -> None:
    """Remember where each value (and each key) of the constructed data was written."""
    walk.positions[value_path] = walk.at(node)
    for key, child, key_node in _children(walk, node):
        child_path = (*value_path, key)
        _record(walk, child, child_path)
        if key_node is not None:
            walk.key_positions[child_path] = walk.at(key_node)
            if isinstance(child, yaml.CollectionNode) and not child.flow_style:
                # A block mapping or list starts on the line after its key; its key is
                # where a reader looks for it.
                walk.positions[child_path] = walk.key_positions[child_path]


def _error_position(path: str, text: str, error: yaml.YAMLError) -> Position:
    if isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        return Position(path, before.count("\n") + 1, len(before) - before.rfind("\n"))
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return Position(path)
    return Position(path, mark.line + 1, mark.column + 1)


def _error_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [error.context, error.problem]
        text = "; ".join(p for p in parts if p)
        if isinstance(error, yaml.constructor.ConstructorError) and "tag" in (
            error.problem or ""
        ):
            text += (
                " (dagsmith reads plain data only: no tags that build Python objects)"
            )
        return f"invalid YAML: {text}"
    if isinstance(error, yaml.reader.ReaderError):
        return (
            f"invalid YAML: character {error.character!r} is not allowed in a YAML file"
        )
    return f"invalid YAML: {error}"


def parse_documents(text: str, path: str) -> tuple[list[Document], list[Problem]]:
    """Every non-empty document of a YAML text, with positions; or the problems."""
    documents: list[Document] = []
    problems: list[Problem] = []
    try:
        loader = _Loader(text)
    except yaml.YAMLError as error:  # the reader refuses control characters up front
        return [], [Problem(_error_position(path, text, error), _error_message(error))]
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            walk = _Walk(loader, path)
            _check(walk, node)
            if walk.problems:
                problems.extend(walk.problems)
            else:
                data = loader.construct_document(node)
                _record(walk, node, ())
                documents.append(
                    Document(path, index, data, walk.positions, walk.key_positions)
                )
            index += 1
    except _TooBig as error:
        problems.append(
            Problem(
                error.where,
                f"document too large: more than {NODE_BUDGET} values or {MAX_DEPTH} levels "
                "(aliases that expand without end are refused)",
            )
        )
    except yaml.YAMLError as error:
        problems.append(
            Problem(_error_position(path, text, error), _error_message(error))
        )
    except RecursionError:
        problems.append(
            Problem(Position(path), f"document nested deeper than {MAX_DEPTH} levels")
        )
    finally:
        loader.dispose()
    return [d for d in documents if d.data is not None], problems
