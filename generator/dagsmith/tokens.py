"""The old dag_creator's templates: `#DAG_ID` and `#MASTER_DICT` filled with
the exact literals of a spec's dag_id and master_dict, and such a template
laid out as black writes it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Position, Problem
from .layout import Holes
from .literals import to_literal
from .model import Spec, Template
from .pystrings import IN_STRING, inside_strings

LEGACY_TOKENS = re.compile(r"#(DAG_ID|MASTER_DICT)\b")
HOLES = {
    "DAG_ID": "__dagsmith_hole_DAG_ID__",
    "MASTER_DICT": "__dagsmith_hole_MASTER_DICT__",
}


def check_legacy_source(template: Template) -> list[Problem]:
    """Missing #DAG_ID/#MASTER_DICT tokens, and tokens inside a Python string."""
    found = list(LEGACY_TOKENS.finditer(template.source))
    missing = {"DAG_ID", "MASTER_DICT"} - {m.group(1) for m in found}
    problems = [
        Problem(Position(template.path), f"legacy template has no #{token} token")
        for token in sorted(missing)
    ]
    skeleton = LEGACY_TOKENS.sub(lambda m: "_" * len(m.group(0)), template.source)
    for offset in inside_strings(skeleton, [m.start() + 1 for m in found]):
        line = template.source.count("\n", 0, offset) + 1
        problems.append(
            Problem(
                Position(template.path, line),
                IN_STRING + ": dagsmith writes values as literals, quotes included",
            )
        )
    return problems


def render_legacy(spec: Spec, template: Template) -> str:
    """The old dag_creator's substitution, with exact literals for the two tokens."""
    return fill_tokens(template.source, spec.dag_id, spec.master_dict)


def fill_tokens(source: str, dag_id: str, master_dict: Mapping[Any, Any]) -> str:
    """A legacy template's source with its tokens replaced by exact literals."""
    holes = Holes()
    values = {"DAG_ID": to_literal(dag_id), "MASTER_DICT": holes.hold(master_dict)}
    return holes.fill(LEGACY_TOKENS.sub(lambda match: values[match.group(1)], source))


def in_black_layout(source: str) -> str | None:
    """The template as black writes it, its tokens kept; None if black cannot.

    Each token stands in as a name of its own length, so that black splits
    lines as it will once the token is a value; the names go back to tokens.
    """
    from .format import format_source

    stand_ins: dict[str, str] = {}
    for token in ("DAG_ID", "MASTER_DICT"):
        free = [f"{c}{token}" for c in "_QXZ" if f"{c}{token}" not in source]
        if not free:
            return None
        stand_ins[token] = free[0]
    skeleton = LEGACY_TOKENS.sub(lambda m: stand_ins[m.group(1)], source)
    formatted = format_source(skeleton, Position("template"))
    if isinstance(formatted, Problem):
        return None
    back = {name: f"#{token}" for token, name in stand_ins.items()}
    found = re.compile("|".join(rf"\b{name}\b" for name in back))
    text = found.sub(lambda m: back[m.group(0)], formatted)
    same_tokens = sorted(LEGACY_TOKENS.findall(text)) == sorted(
        LEGACY_TOKENS.findall(source)
    )
    return text if same_tokens else None


@dataclass(frozen=True)
class TokenValues:
    """What fills one DAG's tokens, and the file it is said against."""

    file: str
    dag_id: str
    master_dict: Mapping[Any, Any]


def laid_out_template(source: str, dags: Iterable[TokenValues]) -> str | None:
    """The template in black's layout, when every DAG renders to the very
    bytes it renders to from the old text; None otherwise."""
    from .format import format_source

    laid = in_black_layout(source)
    if laid is None or laid == source:
        return None
    for dag in dags:
        where = Position(dag.file)
        before = format_source(fill_tokens(source, dag.dag_id, dag.master_dict), where)
        after = format_source(fill_tokens(laid, dag.dag_id, dag.master_dict), where)
        if isinstance(before, Problem) or before != after:
            return None
    return laid
