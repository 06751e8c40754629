"""Python expressions as data, written as source: what `dagcode` builds a DAG from.

A value is a plain literal (str, int, float, bool, None, list, tuple, dict)
or one of the nodes below, nested in any way. `Writer` turns values into
source text and collects the imports the text needs, so a generated module
names every class and function it uses in an explicit `from … import …`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .literals import to_literal

# A dotted name: `package.module.Name`, each part an identifier.
DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def is_dotted(value: object) -> bool:
    """Whether a value is a dotted import path such as `airflow.sdk.DAG`."""
    return (
        isinstance(value, str)
        and DOTTED.fullmatch(value) is not None
        and not any(keyword.iskeyword(part) for part in value.split("."))
    )


@dataclass(frozen=True)
class Ref:
    """A name imported from a module: `from module import name`; a module
    itself (`import name`) when module is empty."""

    module: str
    name: str

    @classmethod
    def of(cls, dotted: str) -> Ref:
        """The name a dotted path imports: `a.b.C` is C from a.b."""
        module, _, name = dotted.rpartition(".")
        return cls(module, name)


@dataclass(frozen=True)
class Var:
    """A variable of the generated module (a task, a group, the DAG)."""

    name: str


@dataclass(frozen=True)
class Call:
    """`func(*args, **kwargs)`, keyword arguments in their given order, and
    `**star` (a mapping of keys that are not identifiers) last."""

    func: object
    args: tuple[object, ...] = ()
    kwargs: tuple[tuple[str, object], ...] = ()
    star: object = None

    def arguments(self) -> list[tuple[str, object]]:
        """Each argument as (what comes before its value, the value)."""
        found: list[tuple[str, object]] = [("", a) for a in self.args]
        found += [(f"{k}=", v) for k, v in self.kwargs]
        return found + ([("**", self.star)] if self.star is not None else [])


@dataclass(frozen=True)
class Attr:
    """`value.name`."""

    value: object
    name: str


@dataclass(frozen=True)
class Item:
    """`value[key]`."""

    value: object
    key: object


@dataclass(frozen=True)
class Op:
    """`(left OP right)` for `&`, `|` and `>>`."""

    left: object
    op: str
    right: object


@dataclass
class Writer:
    """Writes values as source, and remembers the imports they need.

    A name imported from two modules gets an alias for the second one, so
    the module never shadows what it imports.
    """

    reserved: set[str] = field(default_factory=set)
    imports: dict[Ref, str] = field(default_factory=dict)

    def __call__(self, value: object) -> str:
        """The source of a value."""
        if isinstance(value, Ref):
            return self.name_of(value)
        if isinstance(value, Var):
            return value.name
        if isinstance(value, Call):
            arguments = [f"{before}{self(v)}" for before, v in value.arguments()]
            return f"{self(value.func)}({', '.join(arguments)})"
        if isinstance(value, Attr):
            return f"{self(value.value)}.{value.name}"
        if isinstance(value, Item):
            return f"{self(value.value)}[{self(value.key)}]"
        if isinstance(value, Op):
            return f"({self(value.left)} {value.op} {self(value.right)})"
        if isinstance(value, Mapping):
            items = [f"{self(k)}: {self(v)}" for k, v in value.items()]
            return "{" + ", ".join(items) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(map(self, value)) + "]"
        if isinstance(value, tuple):
            inner = ", ".join(map(self, value))
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return to_literal(value)

    def name_of(self, ref: Ref) -> str:
        """The local name of an imported name, choosing an alias on a clash."""
        if ref not in self.imports:
            taken = self.reserved | set(self.imports.values())
            name, n = ref.name, 1
            while name in taken:
                n += 1
                name = f"{ref.name}_{n}"
            self.imports[ref] = name
        return self.imports[ref]

    def import_lines(self) -> list[str]:
        """`from module import name` lines, sorted, one module per line."""
        by_module: dict[str, list[str]] = {}
        plain = []
        for ref, local in self.imports.items():
            shown = ref.name if local == ref.name else f"{ref.name} as {local}"
            if ref.module:
                by_module.setdefault(ref.module, []).append(shown)
            else:
                plain.append(f"import {shown}")
        return sorted(plain) + [
            f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(by_module.items())
        ]


def identifier_for(text: str, taken: Iterable[str]) -> str:
    """A valid, unused Python identifier made from text (a task_id, say)."""
    name = re.sub(r"\W", "_", text) or "_"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    used = set(taken)
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    return candidate
